// outputs(...) takes scalar expressions: a tensor-valued output is refused, naming its position
// and rank.
// expect: ctgrad::outputs: every output must be a scalar expression
// expect: output_is_not_a_scalar<1, 2>
#include <ctgrad/ctgrad.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 2>>;
constexpr auto y = ctgrad::var<"y">;

#ifndef CTGRAD_CF_CONTROL
auto F = ctgrad::outputs(y * y, ctgrad::square(X) * y);
#else
auto F = ctgrad::outputs(y * y, ctgrad::sum(ctgrad::square(X)) * y);
#endif
