// The Jacobian of a function over tensors is taken by reverse accumulation only: forcing forward
// accumulation is refused, naming m.
// expect: ctgrad::jacobian: forward accumulation is not available for functions over tensors
// expect: forward_accumulation_of_a_tensor_function<4>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 2>>;
constexpr auto y = ctgrad::var<"y">;

double f(const ctgrad::tensor<double, 2, 2>& x) {
#ifndef CTGRAD_CF_CONTROL
    return ctgrad::jacobian<ctgrad::accumulation::forward>(ctgrad::square(X) * y, X = x, y = 2.0)
        .value[0];
#else
    return ctgrad::jacobian<ctgrad::accumulation::reverse>(ctgrad::square(X) * y, X = x, y = 2.0)
        .value[0];
#endif
}
