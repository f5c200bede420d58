// A variable bound to writable memory (std::ref: here dropout's step counter, which the forward
// pass increments) passed to a data_parallel: every shard would write it at once.
// expect: ctgrad::parallel::data_parallel: a variable that the network writes
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/threads.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, 3, 2>>;
constexpr auto S = ctgrad::dropout_counter<"step">;

float f(ctgrad::parallel::thread_pool& pool, const ctgrad::tensor<float, 8, 3>& x,
        const ctgrad::tensor<float, 3, 2>& w, ctgrad::tensor<float, 1>& step) {
#ifndef CTGRAD_CF_CONTROL
    auto dp = ctgrad::parallel::make_data_parallel<2>(
        pool, ctgrad::sum(ctgrad::dropout<1, 1, 2>(ctgrad::matmul(X, W), S)), ctgrad::wrt(W));
    return dp.gradient(ctgrad::parallel::rows(X, x), W = w, S = std::ref(step)).value;
#else
    static_cast<void>(step);
    static_cast<void>(S);
    auto dp = ctgrad::parallel::make_data_parallel<2>(pool, ctgrad::sum(ctgrad::matmul(X, W)),
                                                      ctgrad::wrt(W));
    return dp.gradient(ctgrad::parallel::rows(X, x), W = w).value;
#endif
}
