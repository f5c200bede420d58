// `fashion_mnist_epoch/<impl>` on one and two threads: fashion_epoch.hpp's epoch (784-100-10
// ReLU MLP, plain SGD at 0.05, 937 batches of 64 and the last 32 samples, the gathering
// included) with
//
//   ctgrad_1t          fashion_epoch's ctgrad_impl: one program per batch size, program::sgd_step
//   ctgrad_2t          mlp_parallel::trainer: every batch in 2 shards (32 + 32, then 16 + 16)
//                      on 2 threads, gradients averaged in shard order, the SGD update of each
//                      slice on the thread that reduced it; the batch gathered by run_epoch, on
//                      the calling thread, as for every impl
//   ctgrad_2t_gather   the same, with each shard's rows gathered on its own thread
//                      (data_parallel::run's prepare): the same order, batches and steps
//
// Checked as fashion_epoch_bench.cpp checks its impls: the first step's loss against the plain
// double reference loss (1e-4), the epoch's training loss against one untimed epoch of the
// hand-written steps (1e-4); param_diff (a counter) is the largest |p − p_hand| / max(1,
// |p_hand|) after the epoch. The MPI epoch (mpirun -np 2) is bench/tensor/fashion_epoch_mpi.cpp.
#include <algorithm>    // std::max, std::copy_n
#include <cmath>        // std::abs
#include <cstdint>      // int64_t
#include <memory>       // std::make_unique
#include <string>       // std::string
#include <type_traits>  // std::is_same_v

#include <benchmark/benchmark.h>

#include "fashion_epoch.hpp"
#include "mlp_parallel.hpp"

namespace {

using namespace fashion_epoch;

using ctgrad_1t_impl = ctgrad_impl;
using ctgrad_2t_impl =
    two_trainers<mlp_parallel::trainer<full_case, 2, 2>, mlp_parallel::trainer<rest_case, 2, 2>>;

/// ctgrad_2t with the gathering on the threads too: each shard's thread copies its rows of the
/// batch (data_parallel::run's prepare) before computing its gradient; the same order, batches
/// and steps as run_epoch.
class ctgrad_2t_gather_impl {
public:
    explicit ctgrad_2t_gather_impl(const params& p0)
        : p_(std::make_unique<params>(p0)),
          full_(std::make_unique<full_case::data>()),
          rest_(std::make_unique<rest_case::data>()),
          full_trainer_(std::make_unique<full_trainer>()),
          rest_trainer_(std::make_unique<rest_trainer>()) {}

    epoch_result epoch(const dataset& data) {
        order_t order(shuffle_seed);
        order.shuffle();
        epoch_result r;
        double total = 0.0;
        for (size_t k = 0; k < order_t::full; ++k) {
            const double loss = full_trainer_->step(*p_, *full_, learning_rate, [&](size_t s) {
                gather<full_case::batch / 2>(order, k * batch, s, data, *full_);
            });
            if (k == 0) r.first_loss = loss;
            total += double(batch) * loss;
        }
        total += double(rest) * rest_trainer_->step(*p_, *rest_, learning_rate, [&](size_t s) {
            gather<rest / 2>(order, order_t::full * batch, s, data, *rest_);
        });
        r.mean_loss = total / double(train_n);
        return r;
    }

    void read_params(params& p) const { p = *p_; }

private:
    using full_trainer = mlp_parallel::trainer<full_case, 2, 2>;
    using rest_trainer = mlp_parallel::trainer<rest_case, 2, 2>;

    /// Rows [s·S, (s + 1)·S) of the batch that starts at position `first` of the order.
    template <size_t S, class Data>
    static void gather(const order_t& order, size_t first, size_t s, const dataset& data, Data& d) {
        for (size_t r = s * S; r < (s + 1) * S; ++r) {
            const size_t i = order[first + r];
            std::copy_n(data.images.data() + i * pixels, pixels, d.x.data() + r * pixels);
            std::copy_n(data.one_hot.data() + i * classes, classes, d.y.data() + r * classes);
        }
    }

    std::unique_ptr<params> p_;
    std::unique_ptr<full_case::data> full_;
    std::unique_ptr<rest_case::data> rest_;
    std::unique_ptr<full_trainer> full_trainer_;
    std::unique_ptr<rest_trainer> rest_trainer_;
};

template <class Impl>
epoch_result run_one_epoch(Impl& impl, const dataset& data) {
    if constexpr (requires { impl.epoch(data); }) {
        return impl.epoch(data);
    } else {
        return run_epoch(impl, data);
    }
}

struct reference {
    epoch_result hand;
    std::unique_ptr<params> hand_params;
    double first_batch_loss = 0.0;
};

const reference& reference_for(const dataset& data, const params& p0) {
    static const reference ref = [&] {
        reference r;
        auto hand = std::make_unique<hand_impl>(p0);
        r.hand = run_epoch(*hand, data);
        r.hand_params = std::make_unique<params>();
        hand->read_params(*r.hand_params);
        order_t order(shuffle_seed);
        order.shuffle();
        auto first = std::make_unique<full_case::data>();
        order.gather(0, data.images.data(), first->x);
        order.gather(0, data.one_hot.data(), first->y);
        r.first_batch_loss = full_case::reference_loss(p0, *first);
        return r;
    }();
    return ref;
}

/// The timed loop and the checks of `fashion_mnist_epoch/<impl>` and
/// `fashion_mnist_epoch_b256/<impl>`: each iteration constructs Impl from the initial parameters
/// (untimed) and times `run(impl, data)`, one epoch; then the first step's loss, the epoch loss
/// and the parameters are checked against `reference_of(data, p0)`'s hand-written steps.
template <class Impl, class ReferenceOf, class Run>
void timed_epochs(benchmark::State& state, ReferenceOf reference_of, Run run) {
    std::string error;
    const dataset* data = training_set(error);
    if (data == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const auto p0 = full_case::make_params();
    const reference& ref = reference_of(*data, *p0);
    std::unique_ptr<Impl> impl;
    epoch_result r;
    for (auto _ : state) {
        state.PauseTiming();
        impl = std::make_unique<Impl>(*p0);
        state.ResumeTiming();
        r = run(*impl, *data);
        benchmark::DoNotOptimize(r);
    }
    if (std::abs(r.first_loss - ref.first_batch_loss) >
        1e-4 * std::max(1.0, std::abs(ref.first_batch_loss))) {
        state.SkipWithError("the first step's loss differs from the reference loss");
        return;
    }
    if (!(std::abs(r.mean_loss - ref.hand.mean_loss) <= 1e-4 * std::abs(ref.hand.mean_loss))) {
        state.SkipWithError("the epoch's training loss differs from the hand-written steps'");
        return;
    }
    auto p = std::make_unique<params>();
    impl->read_params(*p);
    if (!mlp_cases::all_finite(*p)) {
        state.SkipWithError("the parameters became non-finite");
        return;
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(train_n));
    state.counters["epoch_loss"] = r.mean_loss;
    state.counters["param_diff"] = mlp_cases::max_difference(*p, *ref.hand_params);
}

template <class Impl>
void epoch(benchmark::State& state) {
    timed_epochs<Impl>(state, reference_for,
                       [](Impl& impl, const dataset& data) { return run_one_epoch(impl, data); });
}

// --- the epoch at a global batch of 256 (`fashion_mnist_epoch_b256/<impl>`) ---
//
// A user who scales a job out keeps the global batch and splits it over the workers: here
// 256 rows per step (234 batches and a last one of 96), 128 per thread. The same network and
// order seed; plain SGD at 0.2 (0.05 · 256/64, the linear scaling of the step size with the
// batch). Impls: ctgrad_1t, one program per batch size (program::sgd_step, the batch gathered
// on the calling thread); ctgrad_2t, 2 shards of 128 (48 for the last) on 2 threads, each
// shard's rows gathered on its own thread (data_parallel::run's prepare), the SGD update of
// each slice on the thread that reduced it. Checked against one untimed epoch of the
// hand-written steps at the same batch, as the batch-64 epoch is. Google Benchmark's
// items_per_second divides by the main thread's CPU time: for 2 threads read the wall time
// (the Time column), samples/s = 60000 / wall.

template <size_t B>
struct wide {
    using order = ctgrad::nn::batches<B, train_n>;
    static constexpr size_t rest = order::rest;
    using full_case = mlp_cases::classifier_mlp<float, B, pixels, hidden, classes>;
    using rest_case = mlp_cases::classifier_mlp<float, rest, pixels, hidden, classes>;
    static constexpr float lr = learning_rate * float(B) / float(batch);
    static_assert(std::is_same_v<typename full_case::params, params>);

    /// Rows [s·S, (s + 1)·S) of the batch at positions [first, first + rows) of the order.
    template <size_t S, class Data>
    static void gather_shard(const order& o, size_t first, size_t s, const dataset& data, Data& d) {
        for (size_t r = s * S; r < (s + 1) * S; ++r) {
            const size_t i = o[first + r];
            std::copy_n(data.images.data() + i * pixels, pixels, d.x.data() + r * pixels);
            std::copy_n(data.one_hot.data() + i * classes, classes, d.y.data() + r * classes);
        }
    }

    /// An epoch of trainers Full and Rest (`step(params&, const data&, lr)`, and with Shards
    /// > 1 `step(params&, const data&, lr, prepare)`), the shards' rows gathered on their
    /// threads when Shards > 1.
    template <class Full, class Rest, size_t Shards>
    class impl {
    public:
        explicit impl(const params& p0)
            : p_(std::make_unique<params>(p0)),
              full_(std::make_unique<typename full_case::data>()),
              rest_(std::make_unique<typename rest_case::data>()),
              full_trainer_(std::make_unique<Full>()),
              rest_trainer_(std::make_unique<Rest>()) {}

        epoch_result epoch(const dataset& data) {
            order o(shuffle_seed);
            o.shuffle();
            epoch_result r;
            double total = 0.0;
            for (size_t k = 0; k < order::full; ++k) {
                double loss;
                if constexpr (Shards == 1) {
                    o.gather(k, data.images.data(), full_->x);
                    o.gather(k, data.one_hot.data(), full_->y);
                    loss = full_trainer_->step(*p_, *full_, lr);
                } else {
                    loss = full_trainer_->step(*p_, *full_, lr, [&](size_t s) {
                        gather_shard<B / Shards>(o, k * B, s, data, *full_);
                    });
                }
                if (k == 0) r.first_loss = loss;
                total += double(B) * loss;
            }
            if constexpr (Shards == 1) {
                o.gather_rest(data.images.data(), rest_->x);
                o.gather_rest(data.one_hot.data(), rest_->y);
                total += double(rest) * rest_trainer_->step(*p_, *rest_, lr);
            } else {
                total += double(rest) * rest_trainer_->step(*p_, *rest_, lr, [&](size_t s) {
                    gather_shard<rest / Shards>(o, order::full * B, s, data, *rest_);
                });
            }
            r.mean_loss = total / double(train_n);
            return r;
        }

        void read_params(params& p) const { p = *p_; }

    private:
        std::unique_ptr<params> p_;
        std::unique_ptr<typename full_case::data> full_;
        std::unique_ptr<typename rest_case::data> rest_;
        std::unique_ptr<Full> full_trainer_;
        std::unique_ptr<Rest> rest_trainer_;
    };

    using ctgrad_1t = impl<mlp_ctgrad::trainer<full_case>, mlp_ctgrad::trainer<rest_case>, 1>;
    using ctgrad_2t =
        impl<mlp_parallel::trainer<full_case, 2, 2>, mlp_parallel::trainer<rest_case, 2, 2>, 2>;
    using ctgrad_2t_split = impl<mlp_parallel::split_trainer<full_case, 2, 2>,
                                 mlp_parallel::split_trainer<rest_case, 2, 2>, 2>;
    using hand = impl<mlp_hand::trainer<full_case>, mlp_hand::trainer<rest_case>, 1>;

    static const reference& reference_for(const dataset& data, const params& p0) {
        static const reference ref = [&] {
            reference r;
            auto h = std::make_unique<hand>(p0);
            r.hand = h->epoch(data);
            r.hand_params = std::make_unique<params>();
            h->read_params(*r.hand_params);
            order o(shuffle_seed);
            o.shuffle();
            auto first = std::make_unique<typename full_case::data>();
            o.gather(0, data.images.data(), first->x);
            o.gather(0, data.one_hot.data(), first->y);
            r.first_batch_loss = full_case::reference_loss(p0, *first);
            return r;
        }();
        return ref;
    }
};

template <class Impl, size_t B = 256>
void epoch_b256(benchmark::State& state) {
    timed_epochs<Impl>(state, wide<B>::reference_for,
                       [](Impl& impl, const dataset& data) { return impl.epoch(data); });
}

}  // namespace

BENCHMARK_TEMPLATE(epoch_b256, wide<256>::ctgrad_1t)
    ->Name("fashion_mnist_epoch_b256/ctgrad_1t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch_b256, wide<256>::ctgrad_2t)
    ->Name("fashion_mnist_epoch_b256/ctgrad_2t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch_b256, wide<256>::ctgrad_2t_split)
    ->Name("fashion_mnist_epoch_b256/ctgrad_2t_split")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch_b256, wide<64>::ctgrad_1t, 64)
    ->Name("fashion_mnist_epoch_b64/ctgrad_1t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch_b256, wide<64>::ctgrad_2t, 64)
    ->Name("fashion_mnist_epoch_b64/ctgrad_2t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch_b256, wide<64>::ctgrad_2t_split, 64)
    ->Name("fashion_mnist_epoch_b64/ctgrad_2t_split")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch, ctgrad_1t_impl)
    ->Name("fashion_mnist_epoch/ctgrad_1t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch, ctgrad_2t_impl)
    ->Name("fashion_mnist_epoch/ctgrad_2t")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(epoch, ctgrad_2t_gather_impl)
    ->Name("fashion_mnist_epoch/ctgrad_2t_gather")
    ->Unit(benchmark::kMillisecond);
