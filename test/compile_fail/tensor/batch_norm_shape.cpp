// Running estimates whose size is not the number of features (columns) of the batch.
// expect: ctgrad::batch_norm, batch_norm2d: the running mean and variance (and batch_norm2d's gamma and beta) must be vectors [C]
// expect: tensor_op_shape_mismatch<ctgrad::ops::batch_norm_op<
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 8, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 8>>;
#else
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 3>>;
#endif
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, 3>>;
[[maybe_unused]] constexpr auto y = ctgrad::batch_normalize(X, M, V);
