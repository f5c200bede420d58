// nn::conv2d<"c2", 8, ...> after a layer that gives 6 channels.
// expect: ctgrad::nn::conv2d<Name, InC, ...>: the input must be images [N, InC, H, W]
// expect: conv2d_layer_input_is_not_images_with_these_channels<ctgrad::shape<4, 6, 14, 14>, 8>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t in = 8;
#else
constexpr std::size_t in = 6;
#endif
constexpr auto net = nn::sequential(nn::conv2d<"c1", 1, 6, 5, 1, 2>{}, nn::max_pool2d<2>{},
                                    nn::conv2d<"c2", in, 16, 5>{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 1, 28, 28>>;
[[maybe_unused]] constexpr auto y = net(X);
