// A _c literal must be a decimal number.
// expect: a _c literal must be a decimal number
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad::literals;

#ifndef CTGRAD_CF_CONTROL
auto l = 0x10_c;
#else
auto l = 16_c;
#endif
