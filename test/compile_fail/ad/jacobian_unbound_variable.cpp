// A variable of one of the outputs is not bound: the static_assert says so and the diagnostic
// type spells the variable's name.
// expect: a variable of the expression is not bound
// expect: variable_is_not_bound<'z'>
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

#ifndef CTGRAD_CF_CONTROL
auto j = ctgrad::jacobian(ctgrad::outputs(x * y, y* z), x = 1.0, y = 2.0);
#else
auto j = ctgrad::jacobian(ctgrad::outputs(x * y, y* z), x = 1.0, y = 2.0, z = 3.0);
#endif
