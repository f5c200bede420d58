// Pooling with a window of 0.
// expect: ctgrad::max_pool2d: window and stride must be at least 1
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 9, 11>>;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t window = 0;
#else
constexpr std::size_t window = 3;
#endif
[[maybe_unused]] constexpr auto y = ctgrad::max_pool2d<window, 2>(X);
