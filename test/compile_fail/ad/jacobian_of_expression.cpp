// jacobian takes a vector function made by outputs(...), not a bare scalar expression.
// expect: ctgrad::jacobian: the first argument must be a vector function made by ctgrad::outputs
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

#ifndef CTGRAD_CF_CONTROL
auto j = ctgrad::jacobian(x * y, x = 1.0, y = 2.0);
#else
auto j = ctgrad::jacobian(ctgrad::outputs(x * y), x = 1.0, y = 2.0);
#endif
