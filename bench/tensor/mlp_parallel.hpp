/// @file The two-layer training steps of mlp_cases.hpp on several threads with
/// ctgrad/parallel/threads.hpp: the batch split into Shards shards of Batch/Shards rows
/// (parallel::data_parallel: with the default strategy the first layer's weight gradient split
/// over the threads, as split_trainer below writes by hand; with strategy::replicate one
/// compiled program of the whole loss per shard), the shards on the threads of a pool,
/// the shard gradients averaged in shard order, each thread a slice of them, and the SGD
/// update p −= lr·g: by data_parallel::sgd_step, the call README.md shows (each thread updates
/// the slice it reduced; in the split form W1's update is added by the dW1 products
/// themselves, as input_split::sgd_step), or, with Then = true, by the user's update in
/// data_parallel::gradient_then (each thread p −= lr·g on the slice it reduced, W1 included).
/// Same interface as mlp_ctgrad::trainer (`step(params&, const data&, lr)`), for
/// mlp_parallel_bench.cpp and parallel_epoch_bench.cpp.
///
/// The pool of each thread count is made once per process (`pool<Threads>()`), shared by every
/// trainer of that count, as an application makes one pool.
#pragma once

#include <cstddef>      // std::size_t
#include <functional>   // std::ref
#include <type_traits>  // std::is_same_v, std::remove_const_t

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/input_split.hpp>
#include <ctgrad/parallel/threads.hpp>

#include "mlp_cases.hpp"

namespace mlp_parallel {

using std::size_t;

/// The process's pool of Threads threads.
template <size_t Threads>
ctgrad::parallel::thread_pool& pool() {
    static ctgrad::parallel::thread_pool p(Threads);
    return p;
}

/// The classifier and regression two-layer nets, Shards shards on Threads threads.
template <class Case, size_t Shards, size_t Threads,
          ctgrad::parallel::strategy How = ctgrad::parallel::strategy::automatic, bool Then = false>
struct trainer {
    static_assert(!Case::deep && Case::batch % Shards == 0);
    using T = typename Case::value_type;
    static constexpr size_t B = Case::batch / Shards, I = Case::in, H = Case::hidden, O = Case::out;

    static constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, B, I>>;
    static constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<T, B, O>>;
    static constexpr auto W1 = ctgrad::var<"W1", ctgrad::tensor<T, I, H>>;
    static constexpr auto b1 = ctgrad::var<"b1", ctgrad::tensor<T, H>>;
    static constexpr auto W2 = ctgrad::var<"W2", ctgrad::tensor<T, H, O>>;
    static constexpr auto b2 = ctgrad::var<"b2", ctgrad::tensor<T, O>>;

    static constexpr auto loss() {
        const auto z2 = ctgrad::matmul(ctgrad::relu(ctgrad::matmul(X, W1) + b1), W2) + b2;
        if constexpr (Case::loss == mlp_cases::loss_kind::sum_squared_error) {
            return ctgrad::sum(ctgrad::square(z2 - Y));
        } else {
            return ctgrad::softmax_cross_entropy(z2, Y);
        }
    }
    static constexpr ctgrad::parallel::reduction reduction =
        Case::loss == mlp_cases::loss_kind::sum_squared_error ? ctgrad::parallel::reduction::sum
                                                              : ctgrad::parallel::reduction::mean;

    decltype(ctgrad::parallel::make_data_parallel<Shards, How>(pool<Threads>(), loss(),
                                                               ctgrad::wrt(W1, b1, W2, b2))) dp =
        ctgrad::parallel::make_data_parallel<Shards, How>(pool<Threads>(), loss(),
                                                          ctgrad::wrt(W1, b1, W2, b2), reduction);

    template <class G, class P>
    static void update(P& p, const G& g, T lr) {
        ctgrad::parallel::detail::sgd_pass(p.data(), g.data(), p.size(), lr);
    }

    /// The parameter tensor of variable v.
    template <class V>
    static auto& parameter(typename Case::params& p, V) {
        if constexpr (std::is_same_v<V, std::remove_const_t<decltype(W1)>>) {
            return p.w1;
        } else if constexpr (std::is_same_v<V, std::remove_const_t<decltype(b1)>>) {
            return p.b1;
        } else if constexpr (std::is_same_v<V, std::remove_const_t<decltype(W2)>>) {
            return p.w2;
        } else {
            return p.b2;
        }
    }

    /// The step: the SGD update of each slice on the thread that reduced it.
    T step(typename Case::params& p, const typename Case::data& d, T lr) {
        return step(p, d, lr, [](size_t) {});
    }

    /// The step with prepare(k) run first on shard k's thread (gathering its rows into d).
    template <class Prepare>
    T step(typename Case::params& p, const typename Case::data& d, T lr, Prepare&& prepare) {
        if constexpr (!Then) {
            // data_parallel::sgd_step (README.md): the parameters bound writable
            return dp.sgd_step_with(prepare, lr, ctgrad::parallel::rows(X, d.x),
                                    ctgrad::parallel::rows(Y, d.y), W1 = std::ref(p.w1),
                                    b1 = std::ref(p.b1), W2 = std::ref(p.w2), b2 = std::ref(p.b2));
        } else {
            const auto& g = dp.run(
                prepare,
                [&](auto v, size_t first, size_t count) {
                    // p −= lr·g in vectorized blocks (a plain loop over a run-time count stays
                    // scalar at GCC's -O2: parallel::detail::sgd_pass)
                    ctgrad::parallel::detail::sgd_pass(parameter(p, v).data() + first,
                                                       dp.result()[v].data() + first, count, lr);
                },
                ctgrad::parallel::rows(X, d.x), ctgrad::parallel::rows(Y, d.y), W1 = p.w1,
                b1 = p.b1, W2 = p.w2, b2 = p.b2);
            return g.value;
        }
    }
};

/// trainer's data_parallel with the gradient computed by the threads and the SGD update run on
/// the calling thread after the job (`auto& g = dp.gradient(...); opt.step(params, g);`).
template <class Case, size_t Shards, size_t Threads>
struct after_trainer {
    using base = trainer<Case, Shards, Threads>;
    using T = typename base::T;
    base t;

    T step(typename Case::params& p, const typename Case::data& d, T lr) {
        const auto& g = t.dp.gradient(ctgrad::parallel::rows(base::X, d.x),
                                      ctgrad::parallel::rows(base::Y, d.y), base::W1 = p.w1,
                                      base::b1 = p.b1, base::W2 = p.w2, base::b2 = p.b2);
        base::update(p.w1, g[base::W1], lr);
        base::update(p.b1, g[base::b1], lr);
        base::update(p.w2, g[base::W2], lr);
        base::update(p.b2, g[base::b2], lr);
        return g.value;
    }
};

/// The same steps with the first layer's weight gradient split over the threads
/// (parallel::input_split): each shard runs the head (everything after X·W1) on its rows and
/// keeps dZ1; then each thread computes its half of W1's rows of dW1 = Xᵀ·dZ1 over the whole
/// batch and adds their update into W1 (dW1 is never stored, instead of written once per shard
/// and reduced).
template <class Case, size_t Shards, size_t Threads>
struct split_trainer {
    using base = trainer<Case, Shards, Threads>;
    using T = typename base::T;
    static constexpr size_t B = base::B, H = base::H;
    static constexpr auto Z1 = ctgrad::var<"Z1", ctgrad::tensor<T, B, H>>;

    static constexpr auto head() {
        const auto z2 = ctgrad::matmul(ctgrad::relu(Z1 + base::b1), base::W2) + base::b2;
        if constexpr (Case::loss == mlp_cases::loss_kind::sum_squared_error) {
            return ctgrad::sum(ctgrad::square(z2 - base::Y));
        } else {
            return ctgrad::softmax_cross_entropy(z2, base::Y);
        }
    }

    decltype(ctgrad::parallel::make_input_split<Shards>(
        pool<Threads>(), ctgrad::parallel::input_layer(base::X, base::W1, Z1), head(),
        ctgrad::wrt(base::b1, base::W2, base::b2))) dp =
        ctgrad::parallel::make_input_split<Shards>(
            pool<Threads>(), ctgrad::parallel::input_layer(base::X, base::W1, Z1), head(),
            ctgrad::wrt(base::b1, base::W2, base::b2), base::reduction);

    T step(typename Case::params& p, const typename Case::data& d, T lr) {
        return step(p, d, lr, [](size_t) {});
    }

    /// input_split::sgd_step: W1's update added by the dW1 products themselves (as
    /// program::sgd_step does on one thread), the other parameters updated by the threads
    /// that reduced their slices.
    template <class Prepare>
    T step(typename Case::params& p, const typename Case::data& d, T lr, Prepare&& prepare) {
        return dp.sgd_step_with(prepare, lr, ctgrad::parallel::rows(base::X, d.x),
                                ctgrad::parallel::rows(base::Y, d.y), base::W1 = std::ref(p.w1),
                                base::b1 = std::ref(p.b1), base::W2 = std::ref(p.w2),
                                base::b2 = std::ref(p.b2));
    }
};

}  // namespace mlp_parallel
