// Training-mode batch normalisation of a batch of one row, whose variance is zero.
// expect: ctgrad::batch_norm, batch_norm2d: training mode needs at least two values per feature or channel (a batch of at least two rows
#include <ctgrad/ctgrad.hpp>

#ifndef CTGRAD_CF_CONTROL
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 1, 3>>;
#else
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3>>;
#endif
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 3>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, 3>>;
[[maybe_unused]] constexpr auto y = ctgrad::batch_normalize(X, M, V);
