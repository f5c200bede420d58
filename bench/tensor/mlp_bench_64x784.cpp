// The `mlp_step_64x784x100x10/<impl>` benchmarks (bench/tensor/mlp_bench.hpp).
#include "mlp_bench.hpp"

CTGRAD_MLP_BENCH_CASE("mlp_step_64x784x100x10", mlp_step_64x784x100x10);
