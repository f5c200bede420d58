/// @file The `runtime_graph` impl of the mlp cases (bench/tensor/mlp_bench.cpp): each step
/// written as a careful user of the define-by-run baseline (bench/baseline/tensor_graph.hpp,
/// namespace ctgrad_baseline::tg) writes it. Same interface as mlp_hand::trainer:
/// `T step(Case::params& p, const Case::data& d, T lr)` does one SGD step and returns the loss
/// before the update.
///
/// - The parameters are leaves (requires_grad) that live across steps: created once, from the
///   first p the trainer sees, and from then on their values live in the leaves. The data X, Y
///   are leaves without requires_grad (so X's matmul never computes dX), rebound with
///   `set_values` only when step is passed another data object (never, in the benchmark).
/// - A step rebuilds the graph from the leaves, as define-by-run does: one node per op
///   (matmul, add with the bias broadcast over rows, the activation, the loss), then
///   `tg::backward(loss)` and `tg::sgd_step` on the parameter leaves, which updates them in
///   place. The graph is released when the step returns (the loss handle goes out of scope).
/// - The loss is the library's: `sum(square(Z − Y))` for the sum of squared errors (there is
///   no fused sum-of-squares op; three nodes), `softmax_cross_entropy(Z, Y)` for the classifier
///   (fused, mean over the batch, its softmax saved by the forward pass).
/// - The matmul sizes the case needs are registered in the constructor, so every product runs
///   ctgrad's kernels (`tg::fallback_matmuls()` stays 0).
///
/// **Parameters outside the library.** The interface passes the parameters in as
/// `Case::params` (ctgrad tensors) and expects them updated when step returns, while this
/// library keeps its parameters in its leaves. The leaves are the source of truth: after the
/// update, step copies their values into p (one copy of each parameter tensor per step, the
/// cost any binding of external parameters into such a library has; copying them in as well
/// would double it for nothing). A step passed another params object than the one bound (the
/// first step, or a caller switching parameter sets) reads its values into the leaves first.
/// The contract that follows: between steps, p belongs to the trainer, as the parameters of an
/// optimizer do; a caller that edits p or d in place (the next batch written into the same
/// buffer), or passes a new object where a destroyed one was (the trainer compares addresses),
/// calls `rebind()` before the next step.
/// Measured (g++ -O2, one core of a 2.1 GHz EPYC VM): copying the parameters out takes 0.8 µs
/// of a 105 µs step of mlp_step_32x100x200x10 (22 k parameters), 2.9 µs of 600 µs for
/// mlp_step_64x784x100x10 (80 k) and 1.1 µs of 195 µs for deep_mlp_step_d20w32 (21 k), under
/// 1 %; the same steps without the copy time within the run-to-run noise of these.
#pragma once

#include <algorithm>  // std::copy
#include <cstddef>    // std::size_t
#include <span>       // std::span
#include <utility>    // std::move
#include <vector>     // std::vector (the parameter leaves)

#include "../baseline/tensor_graph.hpp"
#include "mlp_cases.hpp"

namespace mlp_runtime_graph {

using std::size_t;
namespace tg = ctgrad_baseline::tg;

namespace detail {

/// A leaf holding a copy of t (rank 2: [rows, cols]; rank 1: [n]).
template <class Tensor>
tg::tensor<typename Tensor::value_type> to_leaf(const Tensor& t, bool requires_grad) {
    using T = typename Tensor::value_type;
    static_assert(Tensor::rank == 1 || Tensor::rank == 2);
    std::vector<T> values(t.begin(), t.end());
    if constexpr (Tensor::rank == 2) {
        return tg::leaf(std::move(values), Tensor::shape[0], Tensor::shape[1], requires_grad);
    } else {
        return tg::vector_leaf(std::move(values), requires_grad);
    }
}

template <class Tensor>
void copy_in(const tg::tensor<typename Tensor::value_type>& leaf, const Tensor& t) {
    leaf.set_values(std::span<const typename Tensor::value_type>(t.data(), t.size()));
}

template <class Tensor>
void copy_out(const tg::tensor<typename Tensor::value_type>& leaf, Tensor& t) {
    const auto v = leaf.values();
    std::copy(v.begin(), v.end(), t.begin());
}

}  // namespace detail

/// The trainer of a case (two-layer or deep): owns the parameter and data leaves.
template <class Case>
class trainer {
public:
    using T = typename Case::value_type;
    using params = typename Case::params;
    using data = typename Case::data;

    trainer() {
        if constexpr (Case::deep) {
            tg::register_matmul<T, Case::batch, Case::width, Case::width>();
        } else {
            tg::register_matmul<T, Case::batch, Case::in, Case::hidden>();
            tg::register_matmul<T, Case::batch, Case::hidden, Case::out>();
        }
    }

    T step(params& p, const data& d, T lr) {
        bind(p, d);
        const tg::tensor<T> loss = loss_of(forward());
        tg::backward(loss);
        tg::sgd_step(params_, lr);
        copy_params_out(p);  // p holds the updated parameters (see the file comment)
        return loss.item();
    }

    /// Copies the leaves' current values into p.
    void copy_params_out(params& p) const {
        size_t k = 0;
        p.visit([&](auto& t) { detail::copy_out(params_[k++], t); });
    }

    /// Makes the next step read its params and data objects into the leaves again (after a
    /// caller edited them in place).
    void rebind() {
        bound_params_ = nullptr;
        bound_data_ = nullptr;
    }

private:
    void bind(const params& p, const data& d) {
        if (&p != bound_params_) {
            if (params_.empty()) {
                p.visit([&](const auto& t) { params_.push_back(detail::to_leaf(t, true)); });
            } else {
                size_t k = 0;
                p.visit([&](const auto& t) { detail::copy_in(params_[k++], t); });
            }
            bound_params_ = &p;
        }
        if (&d != bound_data_) {
            if (x_.node_ptr() == nullptr) {
                x_ = detail::to_leaf(d.x, false);
                y_ = detail::to_leaf(d.y, false);
            } else {
                detail::copy_in(x_, d.x);
                detail::copy_in(y_, d.y);
            }
            bound_data_ = &d;
        }
    }

    /// The network's output Z (before the loss). params_ is in params::visit order: w1, b1,
    /// w2, b2, or w[0], b[0], w[1], b[1], ...
    tg::tensor<T> forward() const {
        if constexpr (Case::deep) {
            tg::tensor<T> a = x_;
            for (size_t l = 0; l < Case::depth; ++l) {
                a = tg::tanh(tg::add(tg::matmul(a, params_[2 * l]), params_[2 * l + 1]));
            }
            return a;
        } else {
            const tg::tensor<T> a1 = tg::relu(tg::add(tg::matmul(x_, params_[0]), params_[1]));
            return tg::add(tg::matmul(a1, params_[2]), params_[3]);
        }
    }

    tg::tensor<T> loss_of(const tg::tensor<T>& z) const {
        if constexpr (Case::loss == mlp_cases::loss_kind::softmax_cross_entropy) {
            return tg::softmax_cross_entropy(z, y_);
        } else {
            return tg::sum(tg::square(tg::sub(z, y_)));
        }
    }

    std::vector<tg::tensor<T>> params_;
    tg::tensor<T> x_;
    tg::tensor<T> y_;
    const params* bound_params_ = nullptr;
    const data* bound_data_ = nullptr;
};

}  // namespace mlp_runtime_graph
