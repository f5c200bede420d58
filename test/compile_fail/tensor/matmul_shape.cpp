// matmul of matrices whose inner dimensions differ: [3, 4]·[5, 2].
// expect: ctgrad::matmul: the arguments must be matrices [M, K] and [K, N]
// expect: tensor_op_shape_mismatch<ctgrad::ops::matmul_op, ctgrad::shape<3, 4>, ctgrad::shape<5, 2>
#include <ctgrad/ctgrad.hpp>

constexpr auto A = ctgrad::var<"A", ctgrad::tensor<float, 3, 4>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto B = ctgrad::var<"B", ctgrad::tensor<float, 5, 2>>;
#else
constexpr auto B = ctgrad::var<"B", ctgrad::tensor<float, 4, 2>>;
#endif
[[maybe_unused]] constexpr auto product = ctgrad::matmul(A, B);
