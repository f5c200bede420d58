// A rows(...) binding of another number of shards than the data_parallel has (8 rows are 2
// shards of 4; the data_parallel has 3).
// expect: ctgrad::parallel::data_parallel::gradient: a rows(...) binding does not hold exactly Shards shards of its variable's rows
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/threads.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, 3, 2>>;

float f(ctgrad::parallel::thread_pool& pool, const ctgrad::tensor<float, 8, 3>& x8,
        const ctgrad::tensor<float, 12, 3>& x12, const ctgrad::tensor<float, 3, 2>& w) {
    auto dp = ctgrad::parallel::make_data_parallel<3>(pool, ctgrad::sum(ctgrad::matmul(X, W)),
                                                      ctgrad::wrt(W));
#ifndef CTGRAD_CF_CONTROL
    static_cast<void>(x12);
    return dp.gradient(ctgrad::parallel::rows(X, x8), W = w).value;
#else
    static_cast<void>(x8);
    return dp.gradient(ctgrad::parallel::rows(X, x12), W = w).value;
#endif
}
