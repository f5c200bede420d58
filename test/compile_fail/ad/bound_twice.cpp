// A variable bound twice in one call.
// expect: a variable is bound twice
// expect: variable_is_bound_twice<'x'>
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

#ifndef CTGRAD_CF_CONTROL
double v = ctgrad::value(x * y, x = 1.0, y = 2.0, x = 3.0);
#else
double v = ctgrad::value(x * y, x = 1.0, y = 2.0);
#endif
