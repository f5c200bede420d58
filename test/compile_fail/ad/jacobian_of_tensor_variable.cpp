// jacobian of a function of a tensor variable is not available yet: the message names it.
// expect: ctgrad::jacobian: the function must be of scalar variables
// expect: jacobian_needs_scalar_variables<'X'>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 2>>;
constexpr auto y = ctgrad::var<"y">;

double f(const ctgrad::tensor<double, 2, 2>& x) {
#ifndef CTGRAD_CF_CONTROL
    return ctgrad::jacobian(ctgrad::outputs(ctgrad::sum(ctgrad::square(X)) * y, y), X = x, y = 2.0)
        .value[0];
#else
    return ctgrad::jacobian(ctgrad::outputs(y * y, y), X = x, y = 2.0).value[0] + x(0, 0);
#endif
}
