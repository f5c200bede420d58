// An exact literal with a denominator of 0.
// expect: the denominator D is 0
#include <ctgrad/ctgrad.hpp>

#ifndef CTGRAD_CF_CONTROL
auto half = ctgrad::lit<1, 0>;
#else
auto half = ctgrad::lit<1, 2>;
#endif
