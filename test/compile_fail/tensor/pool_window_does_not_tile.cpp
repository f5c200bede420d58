// A 2×2 window, stride 2, on 7×7 images: (7 − 2) is not a multiple of 2.
// expect: ctgrad::max_pool2d/avg_pool2d: the window does not tile the image
// expect: pooling_window_does_not_tile_the_image<2, 2, 7, 7>
#include <ctgrad/ctgrad.hpp>

#ifndef CTGRAD_CF_CONTROL
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 7, 7>>;
#else
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 8, 8>>;
#endif
[[maybe_unused]] constexpr auto y = ctgrad::max_pool2d<2>(X);
