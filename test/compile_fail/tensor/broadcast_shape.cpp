// Adding a bias of the wrong length to a matrix: [4, 3] + [2].
// expect: the shapes of the arguments of an elementwise operation do not broadcast
// expect: elementwise_shapes_do_not_broadcast<ctgrad::ops::add_op, ctgrad::shape<4, 3>, ctgrad::shape<2>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto b = ctgrad::var<"b", ctgrad::tensor<float, 2>>;
#else
constexpr auto b = ctgrad::var<"b", ctgrad::tensor<float, 3>>;
#endif
[[maybe_unused]] constexpr auto z = X + b;
