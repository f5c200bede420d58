// ctgrad's functions take expressions: exp(1.0) is a plain number's exp, not an expression.
// expect: constraints not satisfied
// expect: expression
#include <ctgrad/ctgrad.hpp>

constexpr auto x = ctgrad::var<"x">;

#ifndef CTGRAD_CF_CONTROL
auto e = ctgrad::exp(1.0);
#else
auto e = ctgrad::exp(x);
#endif
