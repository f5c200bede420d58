// data_parallel::sgd_step updates the parameters in place: a parameter pack bound read-only is
// refused, naming what to do; the control passes the pack as std::ref(params), in the
// replicated form (each thread updates the slice it reduced) and in the split form.
// expect: ctgrad::parallel::data_parallel::sgd_step: bind every parameter of wrt(...)
// expect: std::ref(params)
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/threads.hpp>

#include <functional>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 64>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 4, 2>>;
constexpr auto net =
    nn::sequential(nn::dense<"fc1", 64, 8, float>{}, nn::relu, nn::dense<"fc2", 8, 2, float>{});
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);

float f(par::thread_pool& pool, const ctgrad::tensor<float, 8, 64>& x,
        const ctgrad::tensor<float, 8, 2>& y, nn::parameters_of<decltype(net)>& params) {
    auto rp = par::make_data_parallel<2, par::strategy::replicate>(pool, loss, params.wrt());
#ifndef CTGRAD_CF_CONTROL
    return rp.sgd_step(0.1f, params, par::rows(X, x), par::rows(Y, y));
#else
    auto dp = par::make_data_parallel<2>(pool, loss, params.wrt());
    static_assert(decltype(dp)::splits_input_layer);
    return rp.sgd_step(0.1f, std::ref(params), par::rows(X, x), par::rows(Y, y)) +
           dp.sgd_step(0.1f, std::ref(params), par::rows(X, x), par::rows(Y, y));
#endif
}
