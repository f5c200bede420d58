// A 7×7 kernel on a 4×4 image with padding 1 (6×6 padded): the kernel does not fit.
// expect: ctgrad::conv2d: the kernel is larger than the padded image
// expect: conv2d_kernel_larger_than_padded_image<7, 7, 6, 6>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 4, 4>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto K = ctgrad::var<"K", ctgrad::tensor<float, 5, 3, 7, 7>>;
#else
constexpr auto K = ctgrad::var<"K", ctgrad::tensor<float, 5, 3, 6, 6>>;
#endif
[[maybe_unused]] constexpr auto y = ctgrad::conv2d<1, 1>(X, K);
