// The training steps of mlp_cases.hpp written with ctgrad: the network is an expression type,
// compiled once into a ctgrad::program (its workspace allocated once); a step is one call of
// program::gradient (forward and backward, generated from the type) and the SGD update of
// every parameter, p -= lr·g, one loop per tensor. Same interface as mlp_hand::trainer.
#pragma once

#include <cstddef>     // std::size_t
#include <functional>  // std::ref
#include <utility>     // std::index_sequence

#include <ctgrad/ctgrad.hpp>

#include "mlp_cases.hpp"

namespace mlp_ctgrad {

using std::size_t;

template <class Case, bool Deep = Case::deep>
struct trainer;

/// The two-layer nets: relu(X·W1 + b1)·W2 + b2, then the case's loss.
template <class Case>
struct trainer<Case, false> {
    using T = typename Case::value_type;
    static constexpr size_t B = Case::batch, I = Case::in, H = Case::hidden, O = Case::out;

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

    ctgrad::program<
        decltype(loss()),
        ctgrad::wrt_t<std::remove_const_t<decltype(W1)>, std::remove_const_t<decltype(b1)>,
                      std::remove_const_t<decltype(W2)>, std::remove_const_t<decltype(b2)>>>
        prog{loss()};

    T step(typename Case::params& p, const typename Case::data& d, T lr) {
        return prog.sgd_step(lr, X = d.x, Y = d.y, W1 = std::ref(p.w1), b1 = std::ref(p.b1),
                             W2 = std::ref(p.w2), b2 = std::ref(p.b2));
    }
};

/// The deep tanh net: Depth × tanh(A·W_l + b_l), then Σ (A − Y)².
template <class Case>
struct trainer<Case, true> {
    using T = typename Case::value_type;
    static constexpr size_t B = Case::batch, Wd = Case::width, D = Case::depth;

    static constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, B, Wd>>;
    static constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<T, B, Wd>>;
    template <size_t L>
    static constexpr auto W = ctgrad::var<ctgrad::indexed_name<"W", L>, ctgrad::tensor<T, Wd, Wd>>;
    template <size_t L>
    static constexpr auto b = ctgrad::var<ctgrad::indexed_name<"b", L>, ctgrad::tensor<T, Wd>>;

    template <size_t L, class A>
    static constexpr auto layers(A a) {
        if constexpr (L == D) {
            return a;
        } else {
            return layers<L + 1>(ctgrad::tanh(ctgrad::matmul(a, W<L>) + b<L>));
        }
    }

    static constexpr auto loss() { return ctgrad::sum(ctgrad::square(layers<0>(X) - Y)); }

    template <size_t... L>
    static auto wrt_all(std::index_sequence<L...>) {
        return ctgrad::wrt(W<L>..., b<L>...);
    }

    ctgrad::program<decltype(loss()), decltype(wrt_all(std::make_index_sequence<D>{}))> prog{
        loss()};

    T step(typename Case::params& p, const typename Case::data& d, T lr) {
        return [&]<size_t... L>(std::index_sequence<L...>) {
            return prog.sgd_step(lr, X = d.x, Y = d.y, (W<L> = std::ref(p.w[L]))...,
                                 (b<L> = std::ref(p.b[L]))...);
        }
        (std::make_index_sequence<D>{});
    }
};

}  // namespace mlp_ctgrad
