// A batch whose rows are not a whole number of the shard variable's rows, split with
// parallel::rows.
// expect: ctgrad::parallel::rows: the data's rows are not a whole number of shards of the variable's rows
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/threads.hpp>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;

void f(const ctgrad::tensor<float, 8, 3>& ok, const ctgrad::tensor<float, 10, 3>& bad) {
#ifndef CTGRAD_CF_CONTROL
    static_cast<void>(ctgrad::parallel::rows(X, bad));
#else
    static_cast<void>(bad);
    static_cast<void>(ctgrad::parallel::rows(X, ok));
#endif
}
