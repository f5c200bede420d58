// A writable nn::state pack whose variables the rest of the network writes (batch norm in
// training mode updates its running estimates) passed to an input_split: every shard would
// write them at once. input_split checks the pack's bindings one by one (it expands packs), as
// data_parallel now does: the same pack with the inference-mode network, which only reads them,
// compiles.
// expect: ctgrad::parallel::input_split: a variable that the network writes
// expect: nn::state pack
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/input_split.hpp>

#include <functional>

namespace nn = ctgrad::nn;

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, 3, 2>>;
constexpr auto Z = ctgrad::var<"Z", ctgrad::tensor<float, 4, 2>>;
using bn = nn::batch_norm<"bn", 2, float>;
constexpr auto bnet = nn::sequential(bn{});
#ifndef CTGRAD_CF_CONTROL
constexpr auto loss = ctgrad::sum(ctgrad::tanh(bnet(Z)));
#else
constexpr auto loss = ctgrad::sum(ctgrad::tanh(bnet.inference(Z)));
#endif

float f(ctgrad::parallel::thread_pool& pool, const ctgrad::tensor<float, 8, 3>& x,
        ctgrad::tensor<float, 3, 2>& w, const nn::parameters_of<decltype(bnet)>& params,
        nn::state_of<decltype(bnet)>& state) {
    auto dp = ctgrad::parallel::make_input_split<2>(pool, ctgrad::parallel::input_layer(X, W, Z),
                                                    loss, params.wrt());
    return dp.gradient(ctgrad::parallel::rows(X, x), W = std::ref(w), params, state).value;
}
