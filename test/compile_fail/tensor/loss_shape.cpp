// A loss whose logits and targets differ in shape: [4, 3] against [4, 2].
// expect: ctgrad::softmax_cross_entropy: logits and targets must have the same shape
// expect: tensor_op_shape_mismatch<ctgrad::ops::softmax_cross_entropy_op, ctgrad::shape<4, 3>, ctgrad::shape<4, 2>
#include <ctgrad/ctgrad.hpp>

constexpr auto Z = ctgrad::var<"Z", ctgrad::tensor<float, 4, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 4, 2>>;
#else
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 4, 3>>;
#endif
[[maybe_unused]] constexpr auto loss = ctgrad::softmax_cross_entropy(Z, Y);
