// data_parallel's strategy::split_input on a loss whose first layer is too small to split
// (W [32, 40]: fewer than 64 rows) is refused, naming the conditions; the control asks for
// the automatic strategy, which then replicates.
// expect: ctgrad::parallel::data_parallel<Shards, E, wrt, strategy::split_input>: the loss has no input layer to split
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 8, 32>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 8, 5>>;
constexpr auto net = nn::sequential(nn::dense<"a", 32, 40>{}, nn::relu, nn::dense<"b", 40, 5>{});

float f(par::thread_pool& pool, const nn::parameters_of<decltype(net)>& p,
        const ctgrad::tensor<float, 16, 32>& x, const ctgrad::tensor<float, 16, 5>& y) {
#ifndef CTGRAD_CF_CONTROL
    auto dp = par::make_data_parallel<2, par::strategy::split_input>(
        pool, ctgrad::softmax_cross_entropy(net(X), Y), p.wrt());
#else
    auto dp = par::make_data_parallel<2>(pool, ctgrad::softmax_cross_entropy(net(X), Y), p.wrt());
    static_assert(!decltype(dp)::splits_input_layer);
#endif
    return dp.gradient(p, par::rows(X, x), par::rows(Y, y)).value;
}
