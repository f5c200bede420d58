// Training-mode batch normalisation with its running estimates bound read-only: the forward
// pass updates them, so they must be bound with std::ref.
// expect: ctgrad::batch_norm (training mode) updates its running mean and variance during the forward pass: bind them writable
#include <ctgrad/ctgrad.hpp>

#include <functional>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 3>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, 3>>;

float f(const ctgrad::tensor<float, 4, 3>& x, ctgrad::tensor<float, 3>& m,
        ctgrad::tensor<float, 3>& v) {
#ifndef CTGRAD_CF_CONTROL
    return ctgrad::value(ctgrad::sum(ctgrad::batch_normalize(X, M, V)), X = x, M = m, V = v);
#else
    return ctgrad::value(ctgrad::sum(ctgrad::batch_normalize(X, M, V)), X = x, M = std::ref(m),
                         V = std::ref(v));
#endif
}
