// A variable listed twice in wrt(...): a forward Jacobian gave the second column zeros (and J(i, x)
// read it), a tensor gradient or program dropped the variable altogether and then said it was
// "not listed in wrt(...)". Refused where it is written, naming the variable.
// expect: ctgrad::wrt: a variable is listed twice
// expect: variable_is_listed_twice_in_wrt<'W'>
// errors: 2
#include <ctgrad/ctgrad.hpp>

constexpr auto W = ctgrad::var<"W", ctgrad::tensor<double, 2>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<double, 2>>;

double f(const ctgrad::tensor<double, 2>& w) {
#ifndef CTGRAD_CF_CONTROL
    const auto g = ctgrad::gradient(ctgrad::sum(W * W * V), ctgrad::wrt(W, V, W), W = w, V = w);
#else
    const auto g = ctgrad::gradient(ctgrad::sum(W * W * V), ctgrad::wrt(W, V), W = w, V = w);
#endif
    return g[W](0);
}
