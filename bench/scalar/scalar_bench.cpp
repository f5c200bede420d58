// Scalar cases: each iteration computes the value AND the full gradient with respect to every
// input. Benchmark names are `<case>/<impl>` (DESIGN.md); impls here: `ctgrad` (the function
// written once as an expression, its gradient generated at compile time), `hand` (the chain rule
// written out, bench/scalar/hand.hpp) and `runtime_graph` (the naive define-by-run baseline,
// bench/baseline/runtime_graph.hpp, which builds its graph and runs backward every iteration).
//
// The cases live in cases.hpp (shared with the instruction-count driver instructions.cpp).
#include <cmath>    // std::abs
#include <cstddef>  // std::size_t

#include <benchmark/benchmark.h>

#include "../tools/bench_main.hpp"
#include "cases.hpp"

namespace {

using namespace scalar_cases;

/// a and b agree to 1e-10, relative to the larger of them and of `scale`.
bool agree(double a, double b, double scale) {
    const double m = std::abs(a) > std::abs(b) ? std::abs(a) : std::abs(b);
    return std::abs(a - b) <= 1e-10 * (m > scale ? m : scale);
}

/// The benchmark of `Impl` on `Case`: first checks the impl against `hand` at the inputs (a
/// mismatch reports an error instead of a time), then times value + gradient.
///
/// The inputs' address escapes once and every iteration clobbers memory, so the compiler must
/// read the inputs again each time: it can neither fold the computation nor hoist it out of the
/// loop. The result is kept alive with DoNotOptimize. (Not `DoNotOptimize(double&)` on each
/// input: in Google Benchmark 1.7.1 that is an asm with a "+m,r" operand, and GCC 12 at -O2
/// hands the next computation garbage or another input's value through it; checked here.)
template <class Case, auto Impl>
void run(benchmark::State& state) {
    auto in = Case::inputs;
    const auto expected = Case::hand(in);
    const auto got = Impl(in);
    double scale = 0.0;
    for (const double g : expected.grad) {
        scale = scale > std::abs(g) ? scale : std::abs(g);
    }
    bool ok = agree(got.value, expected.value, 0.0);
    for (std::size_t i = 0; i < expected.grad.size(); ++i) {
        ok = ok && agree(got.grad[i], expected.grad[i], scale);
    }
    if (!ok) {
        state.SkipWithError("value or gradient differs from hand");
    }

    benchmark::DoNotOptimize(in.data());
    for (auto _ : state) {
        benchmark::ClobberMemory();
        const auto r = Impl(in);
        benchmark::DoNotOptimize(r);
    }
}

/// Registers `<case>/ctgrad`, `<case>/hand` and `<case>/runtime_graph`, in that order.
#define CTGRAD_BENCH_CASE(c)                                                  \
    BENCHMARK_TEMPLATE(run, c##_case, &c##_case::ctgrad)->Name(#c "/ctgrad"); \
    BENCHMARK_TEMPLATE(run, c##_case, &c##_case::hand)->Name(#c "/hand");     \
    BENCHMARK_TEMPLATE(run, c##_case, &c##_case::runtime_graph)->Name(#c "/runtime_graph")

CTGRAD_BENCH_CASE(add_mul);
CTGRAD_BENCH_CASE(shared_input);
CTGRAD_BENCH_CASE(sigmoid_neuron);
CTGRAD_BENCH_CASE(log_sum_exp8);
CTGRAD_BENCH_CASE(black_scholes);
CTGRAD_BENCH_CASE(tanh_chain20);
CTGRAD_BENCH_CASE(poly_reuse8);

}  // namespace

CTGRAD_BENCHMARK_MAIN();
