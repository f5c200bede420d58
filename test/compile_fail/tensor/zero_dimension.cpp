// A tensor with a dimension of 0.
// expect: every dimension of a tensor must be at least 1
#include <ctgrad/tensor/tensor.hpp>

#ifndef CTGRAD_CF_CONTROL
ctgrad::tensor<float, 3, 0> t{};
#else
ctgrad::tensor<float, 3, 1> t{};
#endif
