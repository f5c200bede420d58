// Binding a tensor of another shape to a tensor variable.
// expect: a tensor variable can only be bound to a ctgrad::tensor or ctgrad::tensor_view of exactly its element type and shape
// expect: tensor_variable_bound_to_a_different_type<ctgrad::tensor<float, 4, 3>, ctgrad::tensor<float, 3, 4>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;

float f() {
#ifndef CTGRAD_CF_CONTROL
    ctgrad::tensor<float, 3, 4> x{};
#else
    ctgrad::tensor<float, 4, 3> x{};
#endif
    return ctgrad::value(ctgrad::sum(X), X = x);
}
