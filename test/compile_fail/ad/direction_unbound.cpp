// A direction that names a variable the call does not bind.
// expect: along(...) names a variable that the call does not bind
// expect: direction_names_an_unbound_variable<'z'>
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

#ifndef CTGRAD_CF_CONTROL
auto t = ctgrad::jvp(x * y, ctgrad::along(x = 1.0, z = 1.0), x = 1.0, y = 2.0);
#else
auto t = ctgrad::jvp(x * y, ctgrad::along(x = 1.0, z = 1.0), x = 1.0, y = 2.0, z = 0.0);
#endif
