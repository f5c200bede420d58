// A convolution with stride 0.
// expect: ctgrad::conv2d: the stride must be at least 1
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 9, 11>>;
constexpr auto K = ctgrad::var<"K", ctgrad::tensor<float, 4, 3, 3, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t stride = 0;
#else
constexpr std::size_t stride = 2;
#endif
[[maybe_unused]] constexpr auto y = ctgrad::conv2d<stride, 1>(X, K);
