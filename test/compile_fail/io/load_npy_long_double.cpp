// Reading a .npy file into a long double tensor: .npy files hold float16/32/64 only.
// expect: ctgrad::io::load_npy: reads into float and double tensors only
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>

#ifndef CTGRAD_CF_CONTROL
using T = long double;
#else
using T = float;
#endif

void load(ctgrad::tensor<T, 2, 3>& t) {
    ctgrad::io::load_npy("a.npy", t);
}
