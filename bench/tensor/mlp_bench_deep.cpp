// The `deep_mlp_step_d20w32/<impl>` benchmarks (bench/tensor/mlp_bench.hpp).
#include "mlp_bench.hpp"

CTGRAD_MLP_BENCH_CASE("deep_mlp_step_d20w32", deep_mlp_step_d20w32);
