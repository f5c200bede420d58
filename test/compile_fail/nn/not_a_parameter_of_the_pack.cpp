// Asking a network's parameter pack for a layer that is not in the network.
// expect: ctgrad::nn::parameters: this pack has no such parameter
// expect: not_a_parameter_of_this_pack<'l', '2', '.', 'W'>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
using l1 = nn::dense<"l1", 7, 13>;
using l2 = nn::dense<"l2", 7, 13>;
constexpr auto net = nn::sequential(l1{}, nn::relu);

float first_weight() {
    nn::parameters_of<decltype(net)> p;
#ifndef CTGRAD_CF_CONTROL
    return p[l2::W](0, 0);
#else
    return p[l1::W](0, 0);
#endif
}
