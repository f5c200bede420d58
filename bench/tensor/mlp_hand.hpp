/// @file The hand-written training steps of the mlp cases (bench/tensor/mlp_cases.hpp): the `hand`
/// impl of bench/tensor/mlp_bench.cpp, and through another product policy the `blas` impl
/// (mlp_blas.hpp).
///
/// The code a careful person writes from the four backprop equations (shared/notes/003_*), in
/// the batch form with samples in rows, Z_l = A_{l−1}·W_l + b_l, A_l = σ(Z_l), A_0 = X:
///
///     (1) δ_L = ∇_{A_L} L ⊙ σ'(Z_L)            output layer
///     (2) δ_l = (δ_{l+1}·W_{l+1}ᵀ) ⊙ σ'(Z_l)   a hidden layer, from the one above
///     (3) ∂L/∂b_l = Σ_rows δ_l                  the bias gradient
///     (4) ∂L/∂W_l = A_{l−1}ᵀ·δ_l                 the weight gradient
///
/// - Every matrix product is a size-specialised ctgrad::kernels call: the forward A·W with
///   `matmul`, (4) with `matmul_tn` (Aᵀ is never formed) and the δ·Wᵀ of (2) with `matmul_nt`.
/// - The bias and the activation are one loop after the forward product; σ' is taken from the
///   stored output (relu' = [A > 0], tanh' = 1 − A²), and σ' × upstream gradient and the bias
///   gradient's column sums (3) are one loop. The loss, its gradient and the output layer's
///   bias gradient are one loop too.
/// - `step` fuses SGD into the weight-gradient products: W_l += (−lr)·A_{l−1}ᵀ·δ_l is one
///   accumulating kernel call, and ∂L/∂W is never stored. The product δ_l·W_lᵀ that (2) needs
///   is taken first, so it uses W_l before its update.
/// - Nothing is allocated per step: the trainer object is the workspace, allocated once
///   (`std::make_unique`: it holds every activation of the batch).
///
/// Templated on the case, hence on the element type: the tests run the same code in double.
#pragma once

#include <array>        // std::array (per-layer activations)
#include <cmath>        // std::exp, std::log, std::tanh
#include <cstddef>      // std::size_t
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::conditional_t

#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/tensor.hpp>

#include "mlp_cases.hpp"

namespace mlp_hand {

using std::size_t;
namespace kn = ctgrad::kernels;
using kn::mode;

/// The matrix products, sizes at compile time: the ctgrad kernels (table in
/// ctgrad/tensor/matmul.hpp). C [M, N] = α·op(A)·op(B) summed over K; Mode assign or accumulate.
/// mlp_blas::openblas_gemm has the same interface.
struct kernel_gemm {
    /// C (+)= α·A·B, A [M, K], B [K, N].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void nn(const T* a, const T* b, T* c, T alpha = T(1)) {
        kn::matmul<M, K, N, Mode>(a, b, c, alpha);
    }
    /// C (+)= α·Aᵀ·B, A stored [K, M], B [K, N].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void tn(const T* a, const T* b, T* c, T alpha = T(1)) {
        kn::matmul_tn<M, K, N, Mode>(a, b, c, alpha);
    }
    /// C (+)= α·A·Bᵀ, A [M, K], B stored [N, K].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void nt(const T* a, const T* b, T* c, T alpha = T(1)) {
        kn::matmul_nt<M, K, N, Mode>(a, b, c, alpha);
    }
};

/// v −= lr·g, elementwise.
template <class T, size_t N>
void sgd(ctgrad::tensor<T, N>& v, const ctgrad::tensor<T, N>& g, T lr) {
    for (size_t j = 0; j < N; ++j) v(j) -= lr * g(j);
}

/// The two-layer cases (mlp_cases::two_layer): X → W1 + b1, ReLU → W2 + b2 → loss.
template <class Case, class Gemm = kernel_gemm>
class two_layer_trainer {
public:
    using T = typename Case::value_type;
    using params = typename Case::params;
    using data = typename Case::data;
    static constexpr size_t B = Case::batch;
    static constexpr size_t I = Case::in;
    static constexpr size_t H = Case::hidden;
    static constexpr size_t O = Case::out;

    /// One SGD step on p in place, p −= lr·∂L/∂p; returns the loss before the update.
    T step(params& p, const data& d, T lr) {
        const T loss = forward(p, d);  // a1_ = A1, dz2_ = δ2, db2_ = Σ_rows δ2
        Gemm::template nt<B, O, H>(dz2_.data(), p.w2.data(), dz1_.data());  // δ2·W2ᵀ, old W2
        Gemm::template tn<H, B, O, mode::accumulate>(a1_.data(), dz2_.data(), p.w2.data(), -lr);
        sgd(p.b2, db2_, lr);
        relu_backward();  // dz1_ = δ1, db1_ = Σ_rows δ1
        Gemm::template tn<I, B, H, mode::accumulate>(d.x.data(), dz1_.data(), p.w1.data(), -lr);
        sgd(p.b1, db1_, lr);
        return loss;
    }

    /// The loss at p, and its gradient in g (p unchanged).
    T gradient(const params& p, const data& d, params& g) {
        const T loss = forward(p, d);
        Gemm::template tn<H, B, O>(a1_.data(), dz2_.data(), g.w2.data());
        g.b2 = db2_;
        Gemm::template nt<B, O, H>(dz2_.data(), p.w2.data(), dz1_.data());
        relu_backward();
        Gemm::template tn<I, B, H>(d.x.data(), dz1_.data(), g.w1.data());
        g.b1 = db1_;
        return loss;
    }

private:
    /// A1 = relu(X·W1 + b1) into a1_, Z2 = A1·W2 + b2, the loss; δ2 = ∂L/∂Z2 into dz2_ and its
    /// column sums into db2_.
    T forward(const params& p, const data& d) {
        Gemm::template nn<B, I, H>(d.x.data(), p.w1.data(), a1_.data());
        for (size_t i = 0; i < B; ++i) {
            T* a = a1_.data() + i * H;
            for (size_t j = 0; j < H; ++j) {
                const T z = a[j] + p.b1(j);
                a[j] = z > T(0) ? z : T(0);
            }
        }
        Gemm::template nn<B, H, O>(a1_.data(), p.w2.data(), dz2_.data());  // Z2, then δ2 in place
        for (size_t o = 0; o < O; ++o) db2_(o) = T(0);
        T loss = T(0);
        if constexpr (Case::loss == mlp_cases::loss_kind::sum_squared_error) {
            for (size_t i = 0; i < B; ++i) {
                T* z = dz2_.data() + i * O;
                const T* y = d.y.data() + i * O;
                for (size_t o = 0; o < O; ++o) {
                    const T e = z[o] + p.b2(o) - y[o];
                    loss += e * e;
                    z[o] = T(2) * e;
                    db2_(o) += z[o];
                }
            }
        } else {
            // Per row: logits (+ b2) with their maximum m and Σ y·z; then e = exp(z − m) in place
            // and s = Σ e; loss += m + log s − Σ y·z (target rows sum to 1); δ2 = (e/s − y)/B.
            const T inv_b = T(1) / T(B);
            for (size_t i = 0; i < B; ++i) {
                T* z = dz2_.data() + i * O;
                const T* y = d.y.data() + i * O;
                T m = -std::numeric_limits<T>::infinity();
                T yz = T(0);
                for (size_t o = 0; o < O; ++o) {
                    z[o] += p.b2(o);
                    m = z[o] > m ? z[o] : m;
                    yz += y[o] * z[o];
                }
                T s = T(0);
                for (size_t o = 0; o < O; ++o) {
                    z[o] = std::exp(z[o] - m);
                    s += z[o];
                }
                loss += m + std::log(s) - yz;
                const T inv_s = T(1) / s;
                for (size_t o = 0; o < O; ++o) {
                    z[o] = (z[o] * inv_s - y[o]) * inv_b;
                    db2_(o) += z[o];
                }
            }
            loss *= inv_b;
        }
        return loss;
    }

    /// δ1 = (δ2·W2ᵀ) ⊙ [A1 > 0] in place in dz1_, and its column sums into db1_.
    void relu_backward() {
        for (size_t j = 0; j < H; ++j) db1_(j) = T(0);
        for (size_t i = 0; i < B; ++i) {
            T* dz = dz1_.data() + i * H;
            const T* a = a1_.data() + i * H;
            for (size_t j = 0; j < H; ++j) {
                const T v = a[j] > T(0) ? dz[j] : T(0);
                dz[j] = v;
                db1_(j) += v;
            }
        }
    }

    ctgrad::tensor<T, B, H> a1_;   // A1 = relu(Z1); relu'(Z1) = [A1 > 0]
    ctgrad::tensor<T, B, O> dz2_;  // Z2, then δ2 = ∂L/∂Z2
    ctgrad::tensor<T, B, H> dz1_;  // δ2·W2ᵀ, then δ1 = ∂L/∂Z1
    ctgrad::tensor<T, H> db1_;
    ctgrad::tensor<T, O> db2_;
};

/// The deep tanh cases (mlp_cases::deep_tanh): X → Depth × (W_l + b_l, tanh) → Σ (A − Y)².
template <class Case, class Gemm = kernel_gemm>
class deep_trainer {
public:
    using T = typename Case::value_type;
    using params = typename Case::params;
    using data = typename Case::data;
    static constexpr size_t B = Case::batch;
    static constexpr size_t W = Case::width;
    static constexpr size_t D = Case::depth;

    /// One SGD step on p in place, p −= lr·∂L/∂p; returns the loss before the update.
    T step(params& p, const data& d, T lr) {
        const T loss = forward(p, d);  // act_[l] = A_{l+1}, dz_ = δ_D, db_ = Σ_rows δ_D
        for (size_t l = D; l-- > 0;) {
            const T* below = l > 0 ? act_[l - 1].data() : d.x.data();  // A_l, the layer's input
            if (l > 0) Gemm::template nt<B, W, W>(dz_.data(), p.w[l].data(), da_.data());
            Gemm::template tn<W, B, W, mode::accumulate>(below, dz_.data(), p.w[l].data(), -lr);
            sgd(p.b[l], db_, lr);
            if (l > 0) tanh_backward(below);
        }
        return loss;
    }

    /// The loss at p, and its gradient in g (p unchanged).
    T gradient(const params& p, const data& d, params& g) {
        const T loss = forward(p, d);
        for (size_t l = D; l-- > 0;) {
            const T* below = l > 0 ? act_[l - 1].data() : d.x.data();
            Gemm::template tn<W, B, W>(below, dz_.data(), g.w[l].data());
            g.b[l] = db_;
            if (l > 0) {
                Gemm::template nt<B, W, W>(dz_.data(), p.w[l].data(), da_.data());
                tanh_backward(below);
            }
        }
        return loss;
    }

private:
    /// The activations into act_, the loss, δ_D = 2(A_D − Y) ⊙ (1 − A_D²) into dz_ and its
    /// column sums into db_.
    T forward(const params& p, const data& d) {
        const T* in = d.x.data();
        for (size_t l = 0; l < D; ++l) {
            T* a = act_[l].data();
            Gemm::template nn<B, W, W>(in, p.w[l].data(), a);
            for (size_t i = 0; i < B; ++i) {
                for (size_t j = 0; j < W; ++j) a[i * W + j] = std::tanh(a[i * W + j] + p.b[l](j));
            }
            in = a;
        }
        for (size_t j = 0; j < W; ++j) db_(j) = T(0);
        T loss = T(0);
        for (size_t i = 0; i < B; ++i) {
            const T* a = in + i * W;
            const T* y = d.y.data() + i * W;
            T* dz = dz_.data() + i * W;
            for (size_t j = 0; j < W; ++j) {
                const T e = a[j] - y[j];
                loss += e * e;
                dz[j] = T(2) * e * (T(1) - a[j] * a[j]);
                db_(j) += dz[j];
            }
        }
        return loss;
    }

    /// δ_l = (δ_{l+1}·W_{l+1}ᵀ) ⊙ (1 − A_l²): from da_ into dz_, column sums into db_.
    void tanh_backward(const T* act) {
        for (size_t j = 0; j < W; ++j) db_(j) = T(0);
        for (size_t i = 0; i < B; ++i) {
            const T* a = act + i * W;
            const T* da = da_.data() + i * W;
            T* dz = dz_.data() + i * W;
            for (size_t j = 0; j < W; ++j) {
                dz[j] = da[j] * (T(1) - a[j] * a[j]);
                db_(j) += dz[j];
            }
        }
    }

    std::array<ctgrad::tensor<T, B, W>, D> act_;  // act_[l] = A_{l+1} = tanh(Z_{l+1})
    ctgrad::tensor<T, B, W> dz_;                  // δ of the layer being processed
    ctgrad::tensor<T, B, W> da_;                  // δ·Wᵀ, the gradient of the layer's input
    ctgrad::tensor<T, W> db_;
};

/// The trainer of a case: deep_trainer or two_layer_trainer.
template <class Case, class Gemm = kernel_gemm>
using trainer =
    std::conditional_t<Case::deep, deep_trainer<Case, Gemm>, two_layer_trainer<Case, Gemm>>;

}  // namespace mlp_hand
