// batch_norm2d of images whose channel count is not the size of gamma, beta and the running
// estimates.
// expect: ctgrad::batch_norm, batch_norm2d: the running mean and variance (and batch_norm2d's gamma and beta) must be vectors [C]
// expect: tensor_op_shape_mismatch<ctgrad::ops::batch_norm2d_op<
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 4, 4>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto G = ctgrad::var<"G", ctgrad::tensor<float, 4>>;
#else
constexpr auto G = ctgrad::var<"G", ctgrad::tensor<float, 3>>;
#endif
constexpr auto B = ctgrad::var<"B", ctgrad::tensor<float, 3>>;
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 3>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, 3>>;
[[maybe_unused]] constexpr auto y = ctgrad::batch_norm2d(X, G, B, M, V);
