// A variable of the expression is not bound: the static_assert says so and the diagnostic
// type spells the variable's name.
// expect: a variable of the expression is not bound
// expect: variable_is_not_bound<'y'>
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

#ifndef CTGRAD_CF_CONTROL
double v = ctgrad::value(x * y, x = 1.0);
#else
double v = ctgrad::value(x * y, x = 1.0, y = 2.0);
#endif
