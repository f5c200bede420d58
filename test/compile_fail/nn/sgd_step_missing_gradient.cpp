// nn::sgd_step with a program's gradient that does not hold one of the pack's parameters (the
// program differentiates with respect to fc1.W only): the missing variable is named.
// expect: ctgrad: this gradient has no entry for the variable
// expect: gradient_has_no_entry_for_variable<'f', 'c', '1', '.', 'b'>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
using fc1 = nn::dense<"fc1", 4, 3>;
constexpr auto net = nn::sequential(fc1{}, nn::tanh);
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 4>>;
constexpr auto loss = ctgrad::sum(net(X));

void step(nn::parameters_of<decltype(net)>& p, const ctgrad::tensor<float, 2, 4>& x) {
#ifndef CTGRAD_CF_CONTROL
    ctgrad::program prog(loss, ctgrad::wrt(fc1::W));
#else
    ctgrad::program prog(loss, p.wrt());
#endif
    const auto g = prog.gradient(p, X = x);
    nn::sgd_step(p, g, 0.1f);
}
