// input_split::sgd_step adds W's update into W in place: W bound read-only is refused, naming
// what to do.
// expect: ctgrad::parallel::input_split::sgd_step: bind the input layer's weight W
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/input_split.hpp>

#include <functional>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, 3, 2>>;
constexpr auto Z = ctgrad::var<"Z", ctgrad::tensor<float, 4, 2>>;
constexpr auto b = ctgrad::var<"b", ctgrad::tensor<float, 2>>;

float f(ctgrad::parallel::thread_pool& pool, const ctgrad::tensor<float, 8, 3>& x,
        ctgrad::tensor<float, 3, 2>& w, ctgrad::tensor<float, 2>& c) {
    auto dp =
        ctgrad::parallel::make_input_split<2>(pool, ctgrad::parallel::input_layer(X, W, Z),
                                              ctgrad::sum(ctgrad::tanh(Z + b)), ctgrad::wrt(b));
#ifndef CTGRAD_CF_CONTROL
    return dp.sgd_step(0.1f, ctgrad::parallel::rows(X, x), W = w, b = std::ref(c));
#else
    return dp.sgd_step(0.1f, ctgrad::parallel::rows(X, x), W = std::ref(w), b = std::ref(c));
#endif
}
