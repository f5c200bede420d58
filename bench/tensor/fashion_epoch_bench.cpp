// One training epoch on Fashion-MNIST: `fashion_mnist_epoch/<impl>` for impl ctgrad,
// runtime_graph and, when built with CTGRAD_HAVE_LIBTORCH, libtorch (one thread). The epoch is
// fashion_epoch.hpp's run_epoch: 784-100-10 ReLU MLP, softmax cross-entropy, plain SGD at a
// fixed learning rate, batches of 64 in a seeded shuffled order plus the last batch of 32, the
// gathering of every batch included. One iteration = one epoch from the same initial
// parameters (each impl is constructed from them before every iteration, outside the timing).
//
//   fashion_epoch_bench --benchmark_min_time=0.01 --benchmark_repetitions=5
//                       --benchmark_report_aggregates_only=true
//
// (a min_time below one epoch's time makes every repetition one epoch). Time is per epoch;
// items_per_second is samples per second (60000 per epoch); epoch_loss is the epoch's training
// loss (the mean of the per-sample losses the steps saw).
//
// Checks: the first step's loss against mlp_cases's plain double reference loss of the first
// batch (relative 1e-4, as mlp_bench), and the epoch loss and final parameters against those of
// the hand-written steps (mlp_hand.hpp, one untimed epoch per process). Every impl does the same
// maths in float, so they agree up to rounding: measured (g++ -O2 and -march=native) the epoch
// losses within 1e-8 relative, against 5e-4 for another shuffle seed, 4e-3 for other initial
// parameters and 1e-2 for a learning rate 10% off; the check allows 1e-4. param_diff (a counter)
// is the largest |p − p_hand| / max(1, |p_hand|) after the epoch. A mismatch reports an error
// instead of a time, and so do non-finite parameters or a runtime_graph product that missed
// ctgrad's kernels. Without the data set every benchmark reports "dataset-fashion-mnist not
// installed".
//
// With Adam (fashion_adam.hpp, issue 13): `fashion_adam_epoch_first/<impl>` (the first epoch)
// and `fashion_adam_epoch_late/<impl>` (an epoch after 3 untimed ones, each iteration the next
// epoch of one impl per process), impls ctgrad, runtime_graph, libtorch (torch::optim::Adam)
// and libtorch_ftz (the same with LibTorch's flush-denormal switch on). Checks: the first
// step's loss against the plain reference (as above), and every epoch's loss finite and, late,
// below the first epoch's.
#include <algorithm>    // std::max
#include <chrono>       // std::chrono::steady_clock (the reference epoch's time, printed)
#include <cmath>        // std::abs
#include <cstdint>      // int64_t
#include <cstdio>       // std::fprintf
#include <memory>       // std::make_unique
#include <string>       // std::string
#include <type_traits>  // std::is_same_v

#include <benchmark/benchmark.h>

#include "../tools/bench_main.hpp"
#include "fashion_adam.hpp"
#include "fashion_epoch.hpp"
#include "kernel_context.hpp"

namespace {

using namespace fashion_epoch;

/// The relative tolerance of the epoch-loss check (see the file comment).
constexpr double epoch_loss_tolerance = 1e-4;

/// What every impl is checked against: the hand-written steps' epoch, and the plain reference
/// loss of the first batch at the initial parameters.
struct reference {
    epoch_result hand;
    std::unique_ptr<params> hand_params;  // after the epoch
    double first_batch_loss = 0.0;
};

const reference& reference_for(const dataset& data, const params& p0) {
    static const reference ref = [&] {
        reference r;
        auto hand = std::make_unique<hand_impl>(p0);
        const auto start = std::chrono::steady_clock::now();
        r.hand = run_epoch(*hand, data);
        const std::chrono::duration<double, std::milli> took =
            std::chrono::steady_clock::now() - start;
        r.hand_params = std::make_unique<params>();
        hand->read_params(*r.hand_params);
        order_t order(shuffle_seed);
        order.shuffle();
        auto first = std::make_unique<full_case::data>();
        order.gather(0, data.images.data(), first->x);
        order.gather(0, data.one_hot.data(), first->y);
        r.first_batch_loss = full_case::reference_loss(p0, *first);
        std::fprintf(stderr,
                     "fashion_mnist_epoch: reference (hand, one untimed epoch of %.0f ms): "
                     "epoch loss %.9f, first batch loss %.9f (plain double reference %.9f)\n",
                     took.count(), r.hand.mean_loss, r.hand.first_loss, r.first_batch_loss);
        return r;
    }();
    return ref;
}

template <class Impl>
void fashion_mnist_epoch(benchmark::State& state) {
    std::string error;
    const dataset* data = training_set(error);
    if (data == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const auto p0 = full_case::make_params();
    const reference& ref = reference_for(*data, *p0);

    std::unique_ptr<Impl> impl;
    epoch_result r;
    for (auto _ : state) {
        state.PauseTiming();
        impl = std::make_unique<Impl>(*p0);  // fresh parameters, not timed
        state.ResumeTiming();
        r = run_epoch(*impl, *data);
        benchmark::DoNotOptimize(r);
    }

    const double first = ref.first_batch_loss;
    if (std::abs(r.first_loss - first) > 1e-4 * std::max(1.0, std::abs(first))) {
        state.SkipWithError("the first step's loss differs from the reference loss");
        return;
    }
    const double hand = ref.hand.mean_loss;
    if (!(std::abs(r.mean_loss - hand) <= epoch_loss_tolerance * std::abs(hand))) {
        state.SkipWithError("the epoch's training loss differs from the hand-written steps'");
        return;
    }
    auto p = std::make_unique<params>();
    impl->read_params(*p);
    if (!mlp_cases::all_finite(*p)) {
        state.SkipWithError("the parameters became non-finite");
        return;
    }
    if constexpr (std::is_same_v<Impl, runtime_graph_impl>) {
        if (tg::fallback_matmuls() != 0) {
            state.SkipWithError(
                "a runtime_graph product ran the fallback loop, not ctgrad's kernel");
            return;
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(train_n));
    state.counters["epoch_loss"] = r.mean_loss;
    state.counters["param_diff"] = mlp_cases::max_difference(*p, *ref.hand_params);
}

// --- Adam (fashion_adam.hpp) ---

template <class Impl>
void adam_epoch_first(benchmark::State& state) {
    std::string error;
    const dataset* data = training_set(error);
    if (data == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const auto p0 = full_case::make_params();
    const reference& ref = reference_for(*data, *p0);
    std::unique_ptr<Impl> impl;
    epoch_result r;
    for (auto _ : state) {
        state.PauseTiming();
        impl = std::make_unique<Impl>(*p0);
        order_t order(shuffle_seed);
        state.ResumeTiming();
        [[maybe_unused]] const typename fashion_adam::epoch_guard_of<Impl>::type guard;
        r = fashion_adam::run_adam_epoch(*impl, order, *data);
        benchmark::DoNotOptimize(r);
    }
    if (std::abs(r.first_loss - ref.first_batch_loss) >
        1e-4 * std::max(1.0, std::abs(ref.first_batch_loss))) {
        state.SkipWithError("the first step's loss differs from the reference loss");
        return;
    }
    if (!(r.mean_loss < 0.7)) {  // Adam's first epoch: 0.53 (examples/fashion_mnist)
        state.SkipWithError("the first epoch's training loss is not below 0.7");
        return;
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(train_n));
    state.counters["epoch_loss"] = r.mean_loss;
}

/// One impl per process that keeps training (see fashion_adam.hpp).
template <class Impl>
struct late_state {
    std::unique_ptr<Impl> impl;
    order_t order{shuffle_seed};
    int epochs = 0;
};

template <class Impl>
void adam_epoch_late(benchmark::State& state) {
    std::string error;
    const dataset* data = training_set(error);
    if (data == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    static late_state<Impl> s;
    if (!s.impl) {
        const auto p0 = full_case::make_params();
        s.impl = std::make_unique<Impl>(*p0);
        for (; s.epochs < fashion_adam::warm_epochs; ++s.epochs) {
            [[maybe_unused]] const typename fashion_adam::epoch_guard_of<Impl>::type guard;
            fashion_adam::run_adam_epoch(*s.impl, s.order, *data);
        }
    }
    epoch_result r;
    for (auto _ : state) {
        [[maybe_unused]] const typename fashion_adam::epoch_guard_of<Impl>::type guard;
        r = fashion_adam::run_adam_epoch(*s.impl, s.order, *data);
        ++s.epochs;
        benchmark::DoNotOptimize(r);
    }
    if (!(r.mean_loss < 0.4)) {  // after 3 epochs: 0.33 (examples/fashion_mnist)
        state.SkipWithError("a late epoch's training loss is not below 0.4");
        return;
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(train_n));
    state.counters["epoch_loss"] = r.mean_loss;
    state.counters["epoch"] = s.epochs;
}

}  // namespace

BENCHMARK_TEMPLATE(adam_epoch_first, fashion_adam::ctgrad_adam_impl)
    ->Name("fashion_adam_epoch_first/ctgrad")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_late, fashion_adam::ctgrad_adam_impl)
    ->Name("fashion_adam_epoch_late/ctgrad")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_first, fashion_adam::runtime_graph_adam_impl)
    ->Name("fashion_adam_epoch_first/runtime_graph")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_late, fashion_adam::runtime_graph_adam_impl)
    ->Name("fashion_adam_epoch_late/runtime_graph")
    ->Unit(benchmark::kMillisecond);
#ifdef CTGRAD_HAVE_LIBTORCH
BENCHMARK_TEMPLATE(adam_epoch_first, fashion_adam::libtorch_adam_impl<false>)
    ->Name("fashion_adam_epoch_first/libtorch")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_late, fashion_adam::libtorch_adam_impl<false>)
    ->Name("fashion_adam_epoch_late/libtorch")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_first, fashion_adam::libtorch_adam_impl<true>)
    ->Name("fashion_adam_epoch_first/libtorch_ftz")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(adam_epoch_late, fashion_adam::libtorch_adam_impl<true>)
    ->Name("fashion_adam_epoch_late/libtorch_ftz")
    ->Unit(benchmark::kMillisecond);
#endif

BENCHMARK_TEMPLATE(fashion_mnist_epoch, ctgrad_impl)
    ->Name("fashion_mnist_epoch/ctgrad")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(fashion_mnist_epoch, runtime_graph_impl)
    ->Name("fashion_mnist_epoch/runtime_graph")
    ->Unit(benchmark::kMillisecond);
#ifdef CTGRAD_HAVE_LIBTORCH
BENCHMARK_TEMPLATE(fashion_mnist_epoch, libtorch_impl)
    ->Name("fashion_mnist_epoch/libtorch")
    ->Unit(benchmark::kMillisecond);
#endif

CTGRAD_BENCHMARK_MAIN();
