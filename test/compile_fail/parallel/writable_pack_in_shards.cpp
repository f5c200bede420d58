// A writable nn::state pack whose variables the loss writes (batch norm in training mode updates
// its running estimates) passed to a data_parallel: every shard would write them at once. The
// check is per variable: the same pack with the inference-mode loss, which only reads them,
// compiles (the control).
// expect: ctgrad::parallel::data_parallel: a variable that the network writes
// expect: nn::state pack
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace nn = ctgrad::nn;

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 4, 2>>;
constexpr auto net =
    nn::sequential(nn::dense<"fc", 3, 2, float>{}, nn::batch_norm<"bn", 2, float>{});
#ifndef CTGRAD_CF_CONTROL
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
#else
constexpr auto loss = ctgrad::softmax_cross_entropy(net.inference(X), Y);
#endif

float f(ctgrad::parallel::thread_pool& pool, const ctgrad::tensor<float, 8, 3>& x,
        const ctgrad::tensor<float, 8, 2>& y, const nn::parameters_of<decltype(net)>& params,
        nn::state_of<decltype(net)>& state) {
    auto dp = ctgrad::parallel::make_data_parallel<2>(pool, loss, params.wrt());
    return dp.gradient(params, state, ctgrad::parallel::rows(X, x), ctgrad::parallel::rows(Y, y))
        .value;
}
