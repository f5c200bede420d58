/// @file
/// Batch normalisation of images [N, C, H, W] over their channels (PyTorch's BatchNorm2d), in
/// training mode, as one op on the NCHW layout: each channel c normalised with the mean and
/// variance of its N·H·W values, then scaled and shifted by γ_c and β_c,
///
///     y = γ_c·x̂ + β_c,   x̂ = (x − μ_c)/√(σ²_c + ε),
///
/// updating the running estimates as ctgrad::batch_norm does (tensor/batch_norm.hpp, with
/// N·H·W values per channel in place of N rows). It replaces the composition
/// channels_first(batch_norm(channels_last(x), γ, β, ...)), whose two transposes each way cost
/// about a tenth of the Fashion-MNIST CNN's training time, and gives the same bits: every sum
/// over a channel adds its values in the same order (image by image, pixel by pixel), and every
/// value is computed by the same operations (test nn/batch_norm2d checks bit equality with the
/// composition, and central differences).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/math/power.hpp>
#include <ctgrad/tensor/batch_norm.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/shape.hpp>

namespace ctgrad {
namespace ops {

/// y = γ ⊙ x̂ + β per channel of images x [N, C, H, W] (arguments: x, γ [C], β [C], running
/// mean [C], running variance [C]; the last two written by the forward pass, not
/// differentiated). The gradient sweep's forward pass keeps x̂ and 1/√(σ² + ε) per channel.
///
/// Backward, with inv = 1/√(σ² + ε), M = N·H·W values per channel and g = γ_c·dy the adjoint
/// of x̂: dx = inv/M · (M·g − Σg − x̂·Σ g·x̂), dγ_c = Σ dy·x̂, dβ_c = Σ dy (sums over the
/// channel's M values).
template <batch_norm_options O>
struct batch_norm2d_op : detail::batch_norm_common<O> {
    static constexpr std::string_view name = "batch_norm2d";
    static constexpr bool tensor_op = true;
    using common = detail::batch_norm_common<O>;

    template <class A, class G, class B, class M, class V>
    static constexpr auto result_of() {
        return detail::batch_norm_result<batch_norm2d_op, 4, A, G, B, M, V>();
    }
    template <class A, class G, class B, class M, class V>
    using result = decltype(result_of<A, G, B, M, V>());

    /// Arguments 3 and 4 (the running estimates) are written by the forward pass.
    template <std::size_t I>
    static constexpr bool writes_state = I == 3 || I == 4;

    /// x̂ [N, C, H, W] and 1/√(σ² + ε) [C], after the output.
    template <class A, class G, class B, class M, class V>
    static constexpr std::size_t saved = A::count + A::dims[1];

    /// y into out (and x̂ into xhat when Save), 1/√(σ² + ε) into inv, the running estimates
    /// updated.
    template <class A, bool Save, class S>
    static constexpr void normalize(S* out, S* xhat, S* inv, const S* x, const S* gamma,
                                    const S* beta, S* running_mean, S* running_var) {
        constexpr std::size_t N = A::dims[0], C = A::dims[1], HW = A::dims[2] * A::dims[3];
        std::array<S, C> mean{}, var{};
        common::template moments<N, C, HW>(x, mean, var);  // batch_norm's order (file comment)
        common::inverse_deviations(var, inv);
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const std::size_t first = (n * C + c) * HW;
                const S mu = mean[c], k = inv[c], g = gamma[c], b = beta[c];
                for (std::size_t p = 0; p < HW; ++p) {
                    const S h = (x[first + p] - mu) * k;
                    if constexpr (Save) xhat[first + p] = h;
                    const S gh = g * h;       // two statements: never contracted to an FMA, as
                    out[first + p] = gh + b;  // the composition's two elementwise ops are not
                }
            }
        }
        common::template update_running<N * HW>(mean, var, running_mean, running_var);
    }

    template <class Out, class A, class G, class B, class M, class V, class S>
    static constexpr void forward(S* out, const S* x, const S* gamma, const S* beta,
                                  S* running_mean, S* running_var) {
        std::array<S, A::dims[1]> inv{};
        normalize<A, false>(out, static_cast<S*>(nullptr), inv.data(), x, gamma, beta, running_mean,
                            running_var);
    }

    template <class Out, class A, class G, class B, class M, class V, class S>
    static constexpr void forward_saving(S* out, const S* x, const S* gamma, const S* beta,
                                         S* running_mean, S* running_var) {
        normalize<A, true>(out, out + A::count, out + 2 * A::count, x, gamma, beta, running_mean,
                           running_var);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = I <= 2;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class G, class B, class M,
              class V, class S>
    static constexpr void vjp(S* d, const S* dout, const S* out, const S*, const S* gamma, const S*,
                              const S*, const S*) {
        constexpr std::size_t N = A::dims[0], C = A::dims[1], HW = A::dims[2] * A::dims[3];
        const S* xhat = out + A::count;  // kept by forward_saving
        const S* inv = out + 2 * A::count;
        if constexpr (I == 0) {
            std::array<S, C> sum_g{}, sum_g_xhat{};
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t c = 0; c < C; ++c) {
                    const std::size_t first = (n * C + c) * HW;
                    const S gc = gamma[c];
                    S s = sum_g[c], sx = sum_g_xhat[c];
                    for (std::size_t p = 0; p < HW; ++p) {
                        const S g = dout[first + p] * gc;
                        s += g;
                        sx += g * xhat[first + p];
                    }
                    sum_g[c] = s;
                    sum_g_xhat[c] = sx;
                }
            }
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t c = 0; c < C; ++c) {
                    const std::size_t first = (n * C + c) * HW;
                    const S gc = gamma[c], k = inv[c] / S(N * HW), s = sum_g[c], sx = sum_g_xhat[c];
                    for (std::size_t p = 0; p < HW; ++p) {
                        const S g = dout[first + p] * gc;
                        detail::put<Mode>(d[first + p],
                                          k * (S(N * HW) * g - s - xhat[first + p] * sx));
                    }
                }
            }
        } else {
            // dγ_c = Σ dy·x̂ (I = 1), dβ_c = Σ dy (I = 2)
            std::array<S, C> sum{};
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t c = 0; c < C; ++c) {
                    const std::size_t first = (n * C + c) * HW;
                    S s = sum[c];
                    for (std::size_t p = 0; p < HW; ++p) {
                        if constexpr (I == 1) {
                            s += dout[first + p] * xhat[first + p];
                        } else {
                            s += dout[first + p];
                        }
                    }
                    sum[c] = s;
                }
            }
            for (std::size_t c = 0; c < C; ++c) detail::put<Mode>(d[c], sum[c]);
        }
    }
};

}  // namespace ops

/// Batch normalisation of images x [N, C, H, W] over their channels in training mode:
/// γ_c·(x − μ_c)/√(σ²_c + ε) + β_c with each channel's batch mean and variance over its N·H·W
/// values, updating the running estimates, which must be variables [C] bound writable
/// (`running_mean = std::ref(m)`, or an nn::state pack). One op on the NCHW layout (see the
/// file comment); nn::batch_norm2d is the layer.
template <batch_norm_options O = batch_norm_options{}, expression A, expression G, expression B,
          class M, class V>
constexpr auto batch_norm2d(A x, G gamma, B beta, M running_mean, V running_var) {
    static_assert(detail::is_vector_variable<M>() && detail::is_vector_variable<V>(),
                  "ctgrad::batch_norm2d: the running mean and variance must be tensor "
                  "variables [C] (the op writes them), not expressions");
    return make_node<ops::batch_norm2d_op<O>>(std::move(x), std::move(gamma), std::move(beta),
                                              running_mean, running_var);
}

}  // namespace ctgrad
