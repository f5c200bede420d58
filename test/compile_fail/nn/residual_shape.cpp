// nn::residual around a block that changes the number of channels (3 -> 5).
// expect: ctgrad::nn::residual(block): the block must keep the shape of its input
// expect: residual_block_changes_the_shape<ctgrad::shape<2, 3, 8, 8>, ctgrad::shape<2, 5, 8, 8>
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t out = 5;
#else
constexpr std::size_t out = 3;
#endif
constexpr auto block = nn::residual(nn::sequential(nn::conv2d<"r", 3, out, 3, 1, 1>{}, nn::relu));
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 8, 8>>;
[[maybe_unused]] constexpr auto y = block(X);
