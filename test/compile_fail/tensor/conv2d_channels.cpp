// Images with 3 channels convolved with kernels made for 4.
// expect: ctgrad::conv2d: the kernel [O, C, KH, KW] must have as many input channels C as the image
// expect: conv2d_channels_differ<3, 4>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 8, 8>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto K = ctgrad::var<"K", ctgrad::tensor<float, 5, 4, 3, 3>>;
#else
constexpr auto K = ctgrad::var<"K", ctgrad::tensor<float, 5, 3, 3, 3>>;
#endif
[[maybe_unused]] constexpr auto y = ctgrad::conv2d(X, K);
