// The MLP training-step benchmarks (mlp_bench_*.cpp register one case each, mlp_bench.cpp has main;
// one TU per case keeps each under a minute to compile). Training steps: one iteration = forward
// pass, backward pass and the SGD update of every parameter in place, on the cases of
// mlp_cases.hpp. Benchmark names are `<case>/<impl>` (DESIGN.md):
//
//   mlp_step_32x100x200x10   regression, ReLU, sum of squared errors     (float)
//   mlp_step_64x784x100x10   classifier, ReLU, softmax cross-entropy     (float)
//   deep_mlp_step_d20w32     20 tanh layers of width 32, batch 16        (float)
//
// impls: `hand` (mlp_hand.hpp: the backprop equations written out, ctgrad's matmul kernels,
// fused elementwise loops, SGD fused into the weight-gradient products), `blas` (the same code
// with OpenBLAS cblas_sgemm, when built with CTGRAD_HAVE_OPENBLAS), `libtorch` (mlp_libtorch.hpp,
// autograd, when built with CTGRAD_HAVE_LIBTORCH), `ctgrad` (mlp_ctgrad.hpp: the network as an
// expression, a ctgrad::program) and `runtime_graph` (mlp_runtime_graph.hpp: the define-by-run
// baseline of bench/baseline/tensor_graph.hpp, the graph rebuilt every step).
// BLAS and LibTorch run on one thread, as the others do.
//
// Counters: items_per_second = samples per second (batch / step time); GFLOP/s counts the
// matrix products only, 2·M·K·N each: the forward products, and per layer the weight gradient
// and the input gradient, except none for the input of the first layer (Case::flops_per_step).
//
// Before it is timed, every impl's first step is checked: its loss against the plain reference
// loss (mlp_cases.hpp) and its updated parameters against one `hand` step. A mismatch reports
// an error instead of a time; so do non-finite parameters after the timed loop.
#pragma once

#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::isfinite
#include <cstddef>    // std::size_t
#include <cstdint>    // int64_t
#include <memory>     // std::unique_ptr, std::make_unique
#include <vector>     // std::vector

#include <benchmark/benchmark.h>

#include "mlp_blas.hpp"
#include "mlp_cases.hpp"
#include "mlp_ctgrad.hpp"
#include "mlp_hand.hpp"
#include "mlp_libtorch.hpp"
#include "mlp_runtime_graph.hpp"

namespace {

using namespace mlp_cases;
using std::size_t;

// --- impls: each owns its parameters; step() = one SGD step, returns the loss before it ---

/// A trainer of mlp_hand's interface (hand, blas) with its own copy of the parameters.
template <class Case, class Trainer>
class owning {
public:
    using T = typename Case::value_type;

    owning(const typename Case::params& p, const typename Case::data& d)
        : p_(std::make_unique<typename Case::params>(p)),
          d_(&d),
          trainer_(std::make_unique<Trainer>()) {}

    T step() { return trainer_->step(*p_, *d_, Case::learning_rate); }

    void read_params(typename Case::params& p) const { p = *p_; }

private:
    std::unique_ptr<typename Case::params> p_;
    const typename Case::data* d_;
    std::unique_ptr<Trainer> trainer_;
};

template <class Case>
using hand_impl = owning<Case, mlp_hand::trainer<Case>>;

template <class Case>
using ctgrad_impl = owning<Case, mlp_ctgrad::trainer<Case>>;

template <class Case>
using runtime_graph_impl = owning<Case, mlp_runtime_graph::trainer<Case>>;

#ifdef CTGRAD_HAVE_OPENBLAS
template <class Case>
class blas_impl : public owning<Case, mlp_blas::trainer<Case>> {
public:
    blas_impl(const typename Case::params& p, const typename Case::data& d)
        : owning<Case, mlp_blas::trainer<Case>>((mlp_blas::use_one_thread(), p), d) {}
};
#endif

#ifdef CTGRAD_HAVE_LIBTORCH
template <class Case>
class libtorch_impl {
public:
    using T = typename Case::value_type;

    libtorch_impl(const typename Case::params& p, const typename Case::data& d)
        : trainer_((mlp_libtorch::use_one_thread(), p), d) {}

    T step() { return trainer_.step(Case::learning_rate); }

    void read_params(typename Case::params& p) const { trainer_.read_params(p); }

private:
    mlp_libtorch::trainer<Case> trainer_;
};
#endif

// --- checks ---

// max_difference and all_finite: mlp_cases.hpp.

/// Times Impl's step on Case (see the file comment for the checks around it).
template <class Case, class Impl>
void run(benchmark::State& state) {
    using params = typename Case::params;
    const auto p0 = Case::make_params();
    const auto d = Case::make_data();

    // The expected first step: the reference loss, and the parameters after one hand step.
    const double loss0 = Case::reference_loss(*p0, *d);
    auto expected = std::make_unique<params>(*p0);
    auto hand = std::make_unique<mlp_hand::trainer<Case>>();
    hand->step(*expected, *d, Case::learning_rate);

    Impl impl(*p0, *d);
    const double loss = impl.step();
    auto got = std::make_unique<params>();
    impl.read_params(*got);
    // float: the products' rounding differs between impls (order of summation, FMA).
    if (std::abs(loss - loss0) > 1e-4 * std::max(1.0, std::abs(loss0))) {
        state.SkipWithError("the first step's loss differs from the reference loss");
        return;
    }
    if (max_difference(*got, *expected) > 1e-5) {
        state.SkipWithError("the first step's update differs from the hand step's");
        return;
    }

    for (auto _ : state) {
        benchmark::DoNotOptimize(impl.step());
        benchmark::ClobberMemory();
    }

    impl.read_params(*got);
    if (!all_finite(*got)) {
        state.SkipWithError("the parameters became non-finite: learning rate too large");
        return;
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(Case::batch));
    state.counters["GFLOP/s"] = benchmark::Counter(Case::flops_per_step * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

// Registers `<name>/<impl>`: ctgrad, runtime_graph, hand, and blas and libtorch where built.
#define CTGRAD_MLP_BENCH_IMPL(name, impl, Case) \
    BENCHMARK_TEMPLATE(run, Case, impl##_impl<Case>)->Name(name "/" #impl)

#ifdef CTGRAD_HAVE_OPENBLAS
#define CTGRAD_MLP_BENCH_BLAS(name, Case) CTGRAD_MLP_BENCH_IMPL(name, blas, Case)
#else
#define CTGRAD_MLP_BENCH_BLAS(name, Case) static_assert(true)
#endif

#ifdef CTGRAD_HAVE_LIBTORCH
#define CTGRAD_MLP_BENCH_LIBTORCH(name, Case) CTGRAD_MLP_BENCH_IMPL(name, libtorch, Case)
#else
#define CTGRAD_MLP_BENCH_LIBTORCH(name, Case) static_assert(true)
#endif

#define CTGRAD_MLP_BENCH_CASE(name, Case)             \
    CTGRAD_MLP_BENCH_IMPL(name, ctgrad, Case);        \
    CTGRAD_MLP_BENCH_IMPL(name, runtime_graph, Case); \
    CTGRAD_MLP_BENCH_IMPL(name, hand, Case);          \
    CTGRAD_MLP_BENCH_BLAS(name, Case);                \
    CTGRAD_MLP_BENCH_LIBTORCH(name, Case)
