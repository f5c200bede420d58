// The same check guards gradient (and hessian).
// expect: a variable of the expression is not bound
// expect: variable_is_not_bound<'w', '2'>
#include <ctgrad/ctgrad.hpp>

constexpr auto w1 = ctgrad::var<"w1">;
constexpr auto w2 = ctgrad::var<"w2">;

#ifndef CTGRAD_CF_CONTROL
auto g = ctgrad::gradient(ctgrad::tanh(w1 * w2), w1 = 1.0);
#else
auto g = ctgrad::gradient(ctgrad::tanh(w1 * w2), w1 = 1.0, w2 = 2.0);
#endif
