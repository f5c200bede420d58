// main of the MLP training-step benchmarks: the cases are registered by mlp_bench_32x100.cpp,
// mlp_bench_64x784.cpp and mlp_bench_deep.cpp (bench/tensor/mlp_bench.hpp has the impls and
// what is checked before timing), one TU each.
#include <benchmark/benchmark.h>

#include "../tools/bench_main.hpp"
#include "kernel_context.hpp"

CTGRAD_BENCHMARK_MAIN();
