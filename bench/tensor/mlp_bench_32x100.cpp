// The `mlp_step_32x100x200x10/<impl>` benchmarks (bench/tensor/mlp_bench.hpp).
#include "mlp_bench.hpp"

CTGRAD_MLP_BENCH_CASE("mlp_step_32x100x200x10", mlp_step_32x100x200x10);
