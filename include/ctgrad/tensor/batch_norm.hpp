/// @file
/// Batch normalisation (Ioffe & Szegedy 2015) of a mini-batch [N, C]: each column c (a feature)
/// is normalised with the mean and variance of that column over the N rows of the batch,
///
///     x̂_rc = (x_rc − μ_c) / √(σ²_c + ε),   μ_c = (1/N) Σ_r x_rc,   σ²_c = (1/N) Σ_r (x_rc − μ_c)²,
///
/// then scaled and shifted by learnable [C] vectors: y = γ ⊙ x̂ + β. In training mode the
/// statistics are the batch's, and the gradient flows through them too (closed form below); the
/// op also keeps running estimates for inference, like PyTorch's BatchNorm1d:
/// running_mean ← (1 − m)·running_mean + m·μ, running_var ← (1 − m)·running_var + m·σ²·N/(N − 1)
/// (the unbiased variance). In inference mode the running estimates stand in for the batch's and
/// the layer is a fixed affine map per feature, an ordinary elementwise expression.
///
/// This is ctgrad's one op with a side effect: every training-mode forward pass (value,
/// gradient, sgd_step of an expression containing it) updates the running statistics, which must
/// therefore be bound writable (`running_mean = std::ref(m)`, or an nn::state pack).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::intmax_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/math/power.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/shape.hpp>

namespace ctgrad {

/// The constants of a batch-normalisation layer, exact ratios so that a network stays a pure
/// type: ε = eps_num/eps_den added to the variance (default 1e-5) and the momentum m =
/// momentum_num/momentum_den of the running estimates (default 0.1), both as in PyTorch.
struct batch_norm_options {
    std::intmax_t eps_num = 1, eps_den = 100000;
    std::intmax_t momentum_num = 1, momentum_den = 10;
};

namespace detail {

/// The shape checks of the batch-norm ops (batch_norm_op [N, C], batch_norm2d_op [N, C, H, W]):
/// an input A of rank Rank whose features or channels are axis 1, per-channel arguments Vec...
/// that are vectors [C], and at least two values per channel in training mode. One readable
/// static_assert per problem, and the shapes named in 'tensor_op_shape_mismatch<Op, A, Vec...>'.
/// Returns A (the op's result shape).
template <class Op, std::size_t Rank, class A, class... Vec>
constexpr auto batch_norm_result() {
    if constexpr (A::rank != Rank) {
        static_assert(A::rank == Rank,
                      "ctgrad::batch_norm, batch_norm2d: the input must be a batch [N, C] "
                      "(batch_norm) or images [N, C, H, W] (batch_norm2d); the shapes are named "
                      "in 'tensor_op_shape_mismatch<...>' below");
        static_cast<void>(shape_error<Op, A, Vec...>());
    } else {
        constexpr std::size_t C = A::dims[1];
        constexpr bool vectors = (std::is_same_v<Vec, shape<C>> && ...);
        static_assert(vectors,
                      "ctgrad::batch_norm, batch_norm2d: the running mean and variance (and "
                      "batch_norm2d's gamma and beta) must be vectors [C] of the input's C "
                      "features or channels (axis 1); the shapes are named in "
                      "'tensor_op_shape_mismatch<...>' below");
        static_assert(!vectors || A::count / C >= 2,
                      "ctgrad::batch_norm, batch_norm2d: training mode needs at least two values "
                      "per feature or channel (a batch of at least two rows; N·H·W ≥ 2 for "
                      "images): the variance of one value is zero and every output would be 0; "
                      "use the inference form (nn::sequential_t::inference) for one sample");
        if constexpr (!vectors || A::count / C < 2) {
            static_cast<void>(shape_error<Op, A, Vec...>());
        }
    }
    return A{};
}

/// What the batch-norm ops share: the checks of their options O, ε, the batch moments of every
/// channel, and the update of the running estimates.
template <batch_norm_options O>
struct batch_norm_common {
    static_assert(O.eps_num > 0 && O.eps_den > 0,
                  "ctgrad::batch_norm_options: epsilon must be positive (it keeps a feature or "
                  "channel of equal values from dividing by zero)");
    static_assert(O.momentum_num >= 0 && O.momentum_den > 0 && O.momentum_num <= O.momentum_den,
                  "ctgrad::batch_norm_options: the momentum of the running estimates must be in "
                  "[0, 1]");

    template <class S>
    static constexpr S eps = S(O.eps_num) / S(O.eps_den);

    /// μ_c and σ²_c of every channel c of x [N, C, HW] (HW = 1 for a batch [N, C]), two passes:
    /// the variance from the centred values, which stays accurate when |μ| ≫ σ, unlike
    /// E[x²] − μ². Each sum adds image by image, pixel by pixel (so batch_norm2d of images and
    /// batch_norm of their channels-last rows add in the same order).
    template <std::size_t N, std::size_t C, std::size_t HW, class S>
    static constexpr void moments(const S* x, std::array<S, C>& mean, std::array<S, C>& var) {
        for (std::size_t c = 0; c < C; ++c) mean[c] = S(0), var[c] = S(0);
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const S* xc = x + (n * C + c) * HW;
                S m = mean[c];
                for (std::size_t p = 0; p < HW; ++p) m += xc[p];
                mean[c] = m;
            }
        }
        for (std::size_t c = 0; c < C; ++c) mean[c] /= S(N * HW);
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const S* xc = x + (n * C + c) * HW;
                const S mu = mean[c];
                S v = var[c];
                for (std::size_t p = 0; p < HW; ++p) {
                    const S d = xc[p] - mu;
                    v += d * d;
                }
                var[c] = v;
            }
        }
        for (std::size_t c = 0; c < C; ++c) var[c] /= S(N * HW);
    }

    /// 1/√(σ² + ε) of every channel into inv.
    template <std::size_t C, class S>
    static constexpr void inverse_deviations(const std::array<S, C>& var, S* inv) {
        for (std::size_t c = 0; c < C; ++c) inv[c] = S(1) / math::sqrt(var[c] + eps<S>);
    }

    /// running ← (1 − m)·running + m·batch, with the unbiased variance of Count values per
    /// channel (σ²·Count/(Count − 1)).
    template <std::size_t Count, std::size_t C, class S>
    static constexpr void update_running(const std::array<S, C>& mean, const std::array<S, C>& var,
                                         S* running_mean, S* running_var) {
        const S m = S(O.momentum_num) / S(O.momentum_den);
        const S unbiased = S(Count) / S(Count - 1);
        for (std::size_t c = 0; c < C; ++c) {
            running_mean[c] = (S(1) - m) * running_mean[c] + m * mean[c];
            running_var[c] = (S(1) - m) * running_var[c] + m * var[c] * unbiased;
        }
    }
};

}  // namespace detail

namespace ops {

/// x̂ = (x − μ)/√(σ² + ε) per column of x [N, C], with the batch's μ, σ² (see the file
/// comment), updating the running estimates (arguments 1 and 2, [C], not differentiated).
///
/// Backward, with inv = 1/√(σ² + ε) and dy the adjoint of x̂ (the mean and variance depend on
/// every row, so each dx_rc collects three terms):
///     dx_rc = inv/N · (N·dy_rc − Σ_r dy_rc − x̂_rc·Σ_r dy_rc·x̂_rc).
template <batch_norm_options O>
struct batch_norm_op : detail::batch_norm_common<O> {
    static constexpr std::string_view name = "batch_norm";
    static constexpr bool tensor_op = true;
    using common = detail::batch_norm_common<O>;

    template <class A, class M, class V>
    static constexpr auto result_of() {
        return detail::batch_norm_result<batch_norm_op, 2, A, M, V>();
    }
    template <class A, class M, class V>
    using result = decltype(result_of<A, M, V>());

    /// Arguments 1 and 2 (the running estimates) are written by the forward pass.
    template <std::size_t I>
    static constexpr bool writes_state = I == 1 || I == 2;

    /// What the gradient sweep's forward pass keeps after x̂ for the vjp: 1/√(σ² + ε) per column.
    template <class A, class M, class V>
    static constexpr std::size_t saved = A::cols;

    template <class Out, class A, class M, class V, class S>
    static constexpr void forward(S* out, const S* x, S* running_mean, S* running_var) {
        std::array<S, A::cols> inv{};
        normalize<A>(out, x, running_mean, running_var, inv.data());
    }

    template <class Out, class A, class M, class V, class S>
    static constexpr void forward_saving(S* out, const S* x, S* running_mean, S* running_var) {
        normalize<A>(out, x, running_mean, running_var, out + A::count);
    }

    /// x̂ into out, 1/√(σ² + ε) per column into inv, and the running estimates updated.
    template <class A, class S>
    static constexpr void normalize(S* out, const S* x, S* running_mean, S* running_var, S* inv) {
        constexpr std::size_t N = A::rows, C = A::cols;
        std::array<S, C> mean{}, var{};
        common::template moments<N, C, 1>(x, mean, var);
        common::inverse_deviations(var, inv);
        for (std::size_t r = 0; r < N; ++r) {
            for (std::size_t c = 0; c < C; ++c) out[r * C + c] = (x[r * C + c] - mean[c]) * inv[c];
        }
        common::template update_running<N>(mean, var, running_mean, running_var);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = I == 0;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class M, class V, class S>
    static constexpr void vjp(S* d, const S* dout, const S* out, const S*, const S*, const S*) {
        if constexpr (I == 0) {
            constexpr std::size_t N = A::rows, C = A::cols;
            const S* inv = out + A::count;  // kept by forward_saving
            std::array<S, C> sum_dy{}, sum_dy_xhat{};
            for (std::size_t r = 0; r < N; ++r) {
                for (std::size_t c = 0; c < C; ++c) {
                    sum_dy[c] += dout[r * C + c];
                    sum_dy_xhat[c] += dout[r * C + c] * out[r * C + c];
                }
            }
            std::array<S, C> k{};  // inv/N
            for (std::size_t c = 0; c < C; ++c) k[c] = inv[c] / S(N);
            for (std::size_t r = 0; r < N; ++r) {
                for (std::size_t c = 0; c < C; ++c) {
                    const std::size_t i = r * C + c;
                    detail::put<Mode>(
                        d[i], k[c] * (S(N) * dout[i] - sum_dy[c] - out[i] * sum_dy_xhat[c]));
                }
            }
        }
    }
};

}  // namespace ops

namespace detail {
template <class E>
constexpr bool is_vector_variable() {
    return is_variable_v<E> && shape_of_t<E>::rank == 1;
}
}  // namespace detail

/// The batch-normalised x [N, C] in training mode, x̂ (without scale and shift): each column
/// normalised by the batch's mean and variance, updating the running estimates, which must be
/// variables [C] bound writable (`running_mean = std::ref(m)`). See the file comment.
template <batch_norm_options O = batch_norm_options{}, expression A, class M, class V>
constexpr auto batch_normalize(A x, M running_mean, V running_var) {
    static_assert(detail::is_vector_variable<M>() && detail::is_vector_variable<V>(),
                  "ctgrad::batch_normalize: the running mean and variance must be tensor "
                  "variables [C] (the op writes them), not expressions");
    return make_node<ops::batch_norm_op<O>>(std::move(x), running_mean, running_var);
}

/// Batch normalisation in training mode: γ ⊙ x̂ + β with x̂ = batch_normalize(x, ...).
template <batch_norm_options O = batch_norm_options{}, expression A, expression G, expression B,
          class M, class V>
constexpr auto batch_norm(A x, G gamma, B beta, M running_mean, V running_var) {
    return std::move(gamma) * batch_normalize<O>(std::move(x), running_mean, running_var) +
           std::move(beta);
}

/// Batch normalisation in inference mode: γ ⊙ (x − running_mean)/√(running_var + ε) + β, the
/// running estimates read, not changed (they may be bound read-only). An elementwise
/// expression: the per-feature factor γ/√(running_var + ε) is a [C] entry computed once.
template <batch_norm_options O = batch_norm_options{}, expression A, expression G, expression B,
          expression M, expression V>
constexpr auto batch_norm_inference(A x, G gamma, B beta, M running_mean, V running_var) {
    return (std::move(x) - running_mean) *
               (std::move(gamma) / sqrt(std::move(running_var) + lit<O.eps_num, O.eps_den>)) +
           std::move(beta);
}

}  // namespace ctgrad
