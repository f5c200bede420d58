// Jacobians of small vector functions (bench/jacobian/cases.hpp): every iteration computes the
// residuals AND the full Jacobian. Names `<case>_jacobian/<impl>`, impls `ctgrad`, `hand`,
// `runtime_graph`, and `ceres` (ceres::AutoDiffCostFunction, Jets) when meson found Ceres.
#include <cmath>    // std::abs
#include <cstddef>  // std::size_t

#include <benchmark/benchmark.h>

#include "../tools/bench_main.hpp"
#include "cases.hpp"

namespace {

using namespace jacobian_cases;

/// a and b agree to 1e-10, relative to the larger of them and of `scale`.
bool agree(double a, double b, double scale) {
    const double m = std::abs(a) > std::abs(b) ? std::abs(a) : std::abs(b);
    return std::abs(a - b) <= 1e-10 * (m > scale ? m : scale);
}

bool same(const snavely_out& a, const snavely_out& b) {
    bool ok = agree(a.residual[0], b.residual[0], 1.0) && agree(a.residual[1], b.residual[1], 1.0);
    for (std::size_t k = 0; k < a.camera_jacobian.size(); ++k)
        ok = ok && agree(a.camera_jacobian[k], b.camera_jacobian[k], 1.0);
    for (std::size_t k = 0; k < a.point_jacobian.size(); ++k)
        ok = ok && agree(a.point_jacobian[k], b.point_jacobian[k], 1.0);
    return ok;
}

bool same(const rat43_out& a, const rat43_out& b) {
    bool ok = agree(a.residual, b.residual, 1.0);
    for (std::size_t k = 0; k < a.jacobian.size(); ++k)
        ok = ok && agree(a.jacobian[k], b.jacobian[k], 1.0);
    return ok;
}

/// Checks `impl` against `hand` (a mismatch reports an error instead of a time), then times it.
/// The inputs' address escapes and every iteration clobbers memory, so the compiler reads them
/// again each time (see bench/scalar/scalar_bench.cpp).
template <class In, class Out, class Impl, class Hand>
void run(benchmark::State& state, const In& inputs, Impl impl, Hand hand) {
    In in = inputs;
    Out expected, got;
    hand(in, expected);
    impl(in, got);
    if (!same(got, expected)) {
        state.SkipWithError("residual or Jacobian differs from hand");
        return;
    }
    benchmark::DoNotOptimize(&in);
    for (auto _ : state) {
        benchmark::ClobberMemory();
        Out out;
        impl(in, out);
        benchmark::DoNotOptimize(out);
    }
}

void snavely(benchmark::State& state, void (*impl)(const snavely_in&, snavely_out&)) {
    run<snavely_in, snavely_out>(state, snavely_inputs, impl, &snavely_hand);
}

void rat43(benchmark::State& state, void (*impl)(const rat43_in&, rat43_out&)) {
    run<rat43_in, rat43_out>(state, rat43_inputs, impl, &rat43_hand);
}

BENCHMARK_CAPTURE(snavely, ctgrad, &snavely_ctgrad)->Name("snavely_jacobian/ctgrad");
BENCHMARK_CAPTURE(snavely, hand, &snavely_hand)->Name("snavely_jacobian/hand");
BENCHMARK_CAPTURE(snavely, runtime_graph, &snavely_runtime_graph)
    ->Name("snavely_jacobian/runtime_graph");
BENCHMARK_CAPTURE(rat43, ctgrad, &rat43_ctgrad)->Name("rat43_jacobian/ctgrad");
BENCHMARK_CAPTURE(rat43, hand, &rat43_hand)->Name("rat43_jacobian/hand");
BENCHMARK_CAPTURE(rat43, runtime_graph, &rat43_runtime_graph)->Name("rat43_jacobian/runtime_graph");

#ifdef CTGRAD_HAVE_CERES
// The cost function is made once, outside the loop, as a solver holds it.
void snavely_ceres_bench(benchmark::State& state) {
    const auto cost = snavely_ceres_cost(snavely_inputs);
    run<snavely_in, snavely_out>(
        state, snavely_inputs,
        [&](const snavely_in& in, snavely_out& out) { snavely_ceres(*cost, in, out); },
        &snavely_hand);
}

void rat43_ceres_bench(benchmark::State& state) {
    const auto cost = rat43_ceres_cost(rat43_inputs);
    run<rat43_in, rat43_out>(
        state, rat43_inputs,
        [&](const rat43_in& in, rat43_out& out) { rat43_ceres(*cost, in, out); }, &rat43_hand);
}

BENCHMARK(snavely_ceres_bench)->Name("snavely_jacobian/ceres");
BENCHMARK(rat43_ceres_bench)->Name("rat43_jacobian/ceres");
#endif

}  // namespace

CTGRAD_BENCHMARK_MAIN();
