// One expression over a float tensor and a double tensor.
// expect: the tensor variables of one expression must have one element type
// expect: tensor_variables_have_different_element_types<float, double>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 2>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<double, 2, 2>>;
#else
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, 2, 2>>;
#endif

float f(const ctgrad::tensor<float, 2, 2>& x, const decltype(W)::kind& w) {
    return static_cast<float>(ctgrad::value(ctgrad::sum(ctgrad::matmul(X, W)), X = x, W = w));
}
