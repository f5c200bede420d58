// hessian (and jvp/hvp) of an expression over a tensor variable.
// expect: ctgrad::hessian/jvp/hvp: the expression must be a scalar function of scalar variables
// expect: second_order_needs_scalar_variables<'X'>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 2>>;
constexpr auto y = ctgrad::var<"y">;

double f(const ctgrad::tensor<double, 2, 2>& x) {
#ifndef CTGRAD_CF_CONTROL
    return ctgrad::hessian(ctgrad::sum(ctgrad::square(X)) * y, X = x, y = 2.0).value;
#else
    return ctgrad::hessian(y * y, X = x, y = 2.0).value + x(0, 0);
#endif
}
