// The gradient of an expression that is not a scalar.
// expect: ctgrad::gradient: the expression must be a scalar
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 2>>;

double f(const ctgrad::tensor<double, 2, 2>& x) {
#ifndef CTGRAD_CF_CONTROL
    return ctgrad::gradient(ctgrad::square(X), X = x).value;
#else
    return ctgrad::gradient(ctgrad::sum(ctgrad::square(X)), X = x).value;
#endif
}
