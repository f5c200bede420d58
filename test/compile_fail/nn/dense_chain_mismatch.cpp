// Three dense layers whose second expects 12 inputs where the first gives 13.
// expect: ctgrad::nn::dense<Name, In, Out>: the input must be a batch [N, In]
// expect: dense_layer_input_does_not_have_In_features<ctgrad::shape<4, 13>, 12>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t hidden = 12;
#else
constexpr std::size_t hidden = 13;
#endif
constexpr auto net =
    nn::sequential(nn::dense<"l1", 7, 13>{}, nn::sigmoid, nn::dense<"l2", hidden, 5>{}, nn::sigmoid,
                   nn::dense<"l3", 5, 3>{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 7>>;
[[maybe_unused]] constexpr auto out = net(X);
