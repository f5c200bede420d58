// A LeNet whose first dense layer expects 256 features where flatten gives 16·5·5 = 400.
// expect: ctgrad::nn::dense<Name, In, Out>: the input must be a batch [N, In] (after nn::flatten
// expect: dense_layer_input_does_not_have_In_features<ctgrad::shape<8, 400>, 256>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t features = 256;
#else
constexpr std::size_t features = 400;
#endif
constexpr auto net = nn::sequential(
    nn::conv2d<"c1", 1, 6, 5, 1, 2>{}, nn::relu, nn::max_pool2d<2>{}, nn::conv2d<"c2", 6, 16, 5>{},
    nn::relu, nn::max_pool2d<2>{}, nn::flatten, nn::dense<"fc1", features, 10>{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 8, 1, 28, 28>>;
[[maybe_unused]] constexpr auto logits = net(X);
