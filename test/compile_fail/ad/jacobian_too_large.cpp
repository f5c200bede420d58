// A Jacobian is returned by value, in arrays: more than jacobian_max_entries numbers (here
// 300 x 300 = 90000) is refused, naming m and n.
// expect: ctgrad::jacobian: the Jacobian has more than jacobian_max_entries
// expect: jacobian_is_too_large<300, 300>
#include <ctgrad/ctgrad.hpp>

#ifndef CTGRAD_CF_CONTROL
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 300>>;
#else
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 200>>;
#endif

double f(const decltype(X)::kind& x) {
    return ctgrad::jacobian(ctgrad::tanh(X), X = x).value[0];
}
