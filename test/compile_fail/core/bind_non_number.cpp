// A variable bound to something that is not a number.
// expect: a variable can only be bound to a number
// expect: variable_bound_to_a_non_number<'r', 'a', 't', 'e'>
#include <ctgrad/ctgrad.hpp>

#include <string>

constexpr auto rate = ctgrad::var<"rate">;

#ifndef CTGRAD_CF_CONTROL
auto b = (rate = std::string("0.5"));
#else
auto b = (rate = 0.5);
#endif
