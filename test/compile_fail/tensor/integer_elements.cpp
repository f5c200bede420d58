// A tensor of integers.
// expect: the element type must be float, double or long double
#include <ctgrad/tensor/tensor.hpp>

#ifndef CTGRAD_CF_CONTROL
ctgrad::tensor<int, 3> t{};
#else
ctgrad::tensor<float, 3> t{};
#endif
