// A dropout layer that would drop everything (p = 2/2).
// expect: ctgrad::dropout: the drop probability p = PNum/PDen must be in [0, 1)
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
#ifndef CTGRAD_CF_CONTROL
constexpr std::size_t dropped = 2;
#else
constexpr std::size_t dropped = 1;
#endif
constexpr auto net = nn::sequential(nn::dense<"fc", 7, 13>{}, nn::dropout<"d", dropped, 2>{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 7>>;
[[maybe_unused]] constexpr auto out = net(X);
