// The operators are constrained by concepts: an unrelated type is not captured.
// expect: expression_operands
#include <ctgrad/ctgrad.hpp>

#include <string>

constexpr auto x = ctgrad::var<"x">;

#ifndef CTGRAD_CF_CONTROL
auto e = x + std::string("1");
#else
auto e = x + 1.0;
#endif
