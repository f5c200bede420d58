/// @file
/// Tensor operations that are not elementwise: matmul, transpose, the reductions sum and mean
/// (whole and per row), softmax, log_softmax and the losses. Every scalar function of ctgrad
/// (`exp`, `tanh`, `relu`, `+`, `*`, ...) applies to tensors elementwise with broadcasting
/// (see tensor/shape.hpp); the ops here have their own forward kernel and vector-Jacobian
/// products.
///
/// The contract of a tensor op (what the sweeps in tensor/program.hpp call):
/// - `static constexpr bool tensor_op = true;` and `name`;
/// - `template <class... ArgShapes> using result = shape<...>;` the result shape, with a
///   static_assert that names the op and the shapes when they do not fit;
/// - `forward<Out, ArgShapes...>(S* out, const S*... args)`;
/// - `vjp<I, Mode, Out, ArgShapes...>(S* d_arg, const S* d_out, const S* out, const S*...
///   args)`: assigns (`kernels::mode::assign`) or adds (`accumulate`) d_out's contribution to
///   the adjoint of argument I (`has_vjp<I>` false: the op gives none, as for labels);
/// - optionally `template <class... ArgShapes> static constexpr std::size_t saved` and
///   `forward_saving<Out, ArgShapes...>(S* out, const S*... args)`: what the forward kernel
///   keeps for its vjp. A gradient sweep that differentiates through the op gives it `saved`
///   more numbers after its result and calls forward_saving, which writes them (and the same
///   result as forward); the vjp reads them after `out`'s Out::count elements (prod keeps its
///   prefix products).
/// - optionally `static constexpr bool shares_vjp_pair = true;` and `vjp_pair<Mode0, Mode1, Out,
///   ArgShapes...>(S* d_arg0, S* d_arg1, const S* d_out, const S* out, const S*... args)`: the
///   vjps of arguments 0 and 1 in one call, which a sweep that needs both (neither an in-place
///   update) makes instead of the two (tensor/engine.hpp, backward_kernel); the convolution
///   shares its unpooled ∂Y between ∂X and ∂K this way.
/// Reductions over all elements (`sum`, `mean`) are marked `reduce_all` instead: the sweep
/// fuses them with the elementwise expression they reduce.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/ops/arithmetic.hpp>
#include <ctgrad/ops/exp_log.hpp>
#include <ctgrad/ops/power.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/shape.hpp>

namespace ctgrad {
namespace detail {

template <class Op, class... Shapes>
constexpr bool shape_error() {
    static_cast<void>(sizeof(tensor_op_shape_mismatch<Op, Shapes...>));
    return false;
}

template <class T>
constexpr T row_max(const T* x, std::size_t n) {
    T m = x[0];
    for (std::size_t c = 1; c < n; ++c) m = x[c] > m ? x[c] : m;
    return m;
}

/// log Σ exp(x_c) of one row, stably (max subtracted).
template <class T>
constexpr T row_log_sum_exp(const T* x, std::size_t n) {
    const T m = row_max(x, n);
    T s = T(0);
    for (std::size_t c = 0; c < n; ++c) s += math::vec::exp(x[c] - m);
    return m + math::vec::log(s);
}

template <kernels::mode Mode, class T>
constexpr void put(T& dst, T v) {
    if constexpr (Mode == kernels::mode::accumulate) {
        dst += v;
    } else {
        dst = v;
    }
}

}  // namespace detail

namespace ops {

/// Sum (Mean = false) or mean (Mean = true) of all elements of a tensor; of a scalar, itself.
/// d/dx_i = 1 or 1/n. Fused with the elementwise expression it reduces: `sum(square(a - y))` is
/// one loop forward and one back.
template <bool Mean>
struct reduce_all_op {
    static constexpr std::string_view name = Mean ? "mean" : "sum";
    static constexpr bool tensor_op = true;
    static constexpr bool reduce_all = true;
    static constexpr bool mean = Mean;
    template <class A>
    using result = shape<>;
    // As a scalar op (the sum or mean of one number), so scalar expressions may use it too.
    static constexpr auto value(auto x) { return x; }
    static constexpr auto partial(arg_t<0>, auto x, auto) { return decltype(x)(1); }
};

using sum_op = reduce_all_op<false>;
using mean_op = reduce_all_op<true>;

/// A·B for A [M, K] and B [K, N]: [M, N]. dA = dC·Bᵀ, dB = Aᵀ·dC, by the size-specialised
/// kernels (no transpose is formed).
struct matmul_op {
    static constexpr std::string_view name = "matmul";
    static constexpr bool tensor_op = true;

    template <class A, class B>
    static constexpr auto result_of() {
        if constexpr (A::rank == 2 && B::rank == 2 && A::dims[1] == B::dims[0]) {
            return shape<A::dims[0], B::dims[1]>{};
        } else {
            static_assert(A::rank == 2 && B::rank == 2 && A::dims[1] == B::dims[0],
                          "ctgrad::matmul: the arguments must be matrices [M, K] and [K, N] (the "
                          "inner dimensions equal); the shapes are named in "
                          "'tensor_op_shape_mismatch<ctgrad::ops::matmul_op, ...>' below");
            static_cast<void>(detail::shape_error<matmul_op, A, B>());
            return shape<1, 1>{};
        }
    }
    template <class A, class B>
    using result = decltype(result_of<A, B>());

    template <class Out, class A, class B, class S>
    static constexpr void forward(S* out, const S* a, const S* b) {
        kernels::matmul<A::dims[0], A::dims[1], B::dims[1]>(a, b, out);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    /// An SGD step may add −lr·dB straight into B (program::sgd_step), as hand-written
    /// training code does; the vjp of A, which reads B, runs first.
    template <std::size_t I>
    static constexpr bool updates_in_place = I == 1;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class B, class S>
    static constexpr void vjp(S* d, const S* dout, const S*, const S* a, const S* b,
                              S alpha = S(1)) {
        constexpr std::size_t M = A::dims[0], K = A::dims[1], N = B::dims[1];
        if constexpr (I == 0) {
            kernels::matmul_nt<M, N, K, Mode>(dout, b, d, alpha);  // dA [M, K] = dC [M, N]·Bᵀ
        } else {
            kernels::matmul_tn<K, M, N, Mode>(a, dout, d, alpha);  // dB [K, N] = Aᵀ·dC
        }
    }
};

/// The transpose of a matrix [M, N]: [N, M].
struct transpose_op {
    static constexpr std::string_view name = "transpose";
    static constexpr bool tensor_op = true;

    template <class A>
    static constexpr auto result_of() {
        if constexpr (A::rank == 2) {
            return shape<A::dims[1], A::dims[0]>{};
        } else {
            static_assert(A::rank == 2,
                          "ctgrad::transpose: the argument must be a matrix; its shape is named "
                          "in 'tensor_op_shape_mismatch<ctgrad::ops::transpose_op, ...>' below");
            static_cast<void>(detail::shape_error<transpose_op, A>());
            return shape<1, 1>{};
        }
    }
    template <class A>
    using result = decltype(result_of<A>());

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        constexpr std::size_t M = A::dims[0], N = A::dims[1];
        for (std::size_t i = 0; i < M; ++i) {
            for (std::size_t j = 0; j < N; ++j) out[j * M + i] = a[i * N + j];
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S* d, const S* dout, const S*, const S*) {
        constexpr std::size_t M = A::dims[0], N = A::dims[1];
        for (std::size_t i = 0; i < M; ++i) {
            for (std::size_t j = 0; j < N; ++j) detail::put<Mode>(d[i * N + j], dout[j * M + i]);
        }
    }
};

/// Per-row reductions of a matrix [N, C] (a vector [C] is one row): [N, 1], so that the
/// result broadcasts back over the rows (`X - row_mean(X)`).
template <bool Mean>
struct row_reduce_op {
    static constexpr std::string_view name = Mean ? "row_mean" : "row_sum";
    static constexpr bool tensor_op = true;

    template <class A>
    static constexpr auto result_of() {
        if constexpr (A::rank == 1 || A::rank == 2) {
            return shape<A::rows, 1>{};
        } else {
            static_assert(A::rank == 1 || A::rank == 2,
                          "ctgrad::row_sum/row_mean: the argument must be a vector or a matrix; "
                          "its shape is named in 'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<row_reduce_op, A>());
            return shape<1, 1>{};
        }
    }
    template <class A>
    using result = decltype(result_of<A>());

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            S s = S(0);
            for (std::size_t c = 0; c < A::cols; ++c) s += a[r * A::cols + c];
            out[r] = Mean ? s / S(A::cols) : s;
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S* d, const S* dout, const S*, const S*) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S g = Mean ? dout[r] / S(A::cols) : dout[r];
            for (std::size_t c = 0; c < A::cols; ++c) detail::put<Mode>(d[r * A::cols + c], g);
        }
    }
};

template <class Op, class A>
constexpr auto rowwise_result() {
    if constexpr (A::rank == 1 || A::rank == 2) {
        return A{};
    } else {
        static_assert(A::rank == 1 || A::rank == 2,
                      "ctgrad::softmax/log_softmax: the argument must be a vector or a matrix "
                      "(one distribution per row); its shape is named in "
                      "'tensor_op_shape_mismatch<...>' below");
        static_cast<void>(detail::shape_error<Op, A>());
        return shape<1>{};
    }
}

/// softmax of each row: y_c = exp(x_c - max) / Σ exp(x_j - max). dx = y ⊙ (dy − Σ dy ⊙ y).
struct softmax_op {
    static constexpr std::string_view name = "softmax";
    static constexpr bool tensor_op = true;
    template <class A>
    using result = decltype(rowwise_result<softmax_op, A>());

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S* x = a + r * A::cols;
            S* y = out + r * A::cols;
            const S m = detail::row_max(x, A::cols);
            S s = S(0);
            for (std::size_t c = 0; c < A::cols; ++c) s += (y[c] = math::vec::exp(x[c] - m));
            const S inv = S(1) / s;
            for (std::size_t c = 0; c < A::cols; ++c) y[c] *= inv;
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S* d, const S* dout, const S* out, const S*) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S* y = out + r * A::cols;
            const S* dy = dout + r * A::cols;
            S dot = S(0);
            for (std::size_t c = 0; c < A::cols; ++c) dot += dy[c] * y[c];
            for (std::size_t c = 0; c < A::cols; ++c) {
                detail::put<Mode>(d[r * A::cols + c], y[c] * (dy[c] - dot));
            }
        }
    }
};

/// log_softmax of each row: x_c − log Σ exp(x_j), stably. dx = dy − softmax(x)·Σ dy.
struct log_softmax_op {
    static constexpr std::string_view name = "log_softmax";
    static constexpr bool tensor_op = true;
    template <class A>
    using result = decltype(rowwise_result<log_softmax_op, A>());

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S* x = a + r * A::cols;
            const S lse = detail::row_log_sum_exp(x, A::cols);
            for (std::size_t c = 0; c < A::cols; ++c) out[r * A::cols + c] = x[c] - lse;
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S* d, const S* dout, const S* out, const S*) {
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S* y = out + r * A::cols;
            const S* dy = dout + r * A::cols;
            S total = S(0);
            for (std::size_t c = 0; c < A::cols; ++c) total += dy[c];
            for (std::size_t c = 0; c < A::cols; ++c) {
                detail::put<Mode>(d[r * A::cols + c], dy[c] - math::vec::exp(y[c]) * total);
            }
        }
    }
};

/// Softmax cross-entropy of logits [N, C] against targets [N, C] (one-hot rows, or any
/// distributions), averaged over the N rows: (1/N) Σ_r Σ_c t_rc (lse_r − x_rc), with
/// lse_r = log Σ_c exp(x_rc) computed stably. d/dx = (softmax(x)·Σ_c t − t)/N, without
/// forming log(softmax) (no log(0)); d/dt = (lse − x)/N.
///
/// A gradient sweep calls forward_saving, which keeps each e_rc = exp(x_rc − m_r) (m_r the row's
/// largest logit), each row's sum s_r and lse_r for the vjps: the exps are computed once per
/// step, in one loop over all N·C elements (vectorised), instead of one row at a time in the
/// forward and twice more in the vjp. The same operations per element in the same order as
/// forward and the vjps computing them anew, so the same numbers bit for bit.
struct softmax_cross_entropy_op {
    static constexpr std::string_view name = "softmax_cross_entropy";
    static constexpr bool tensor_op = true;

    template <class A, class B>
    static constexpr auto result_of() {
        if constexpr (std::is_same_v<A, B> && (A::rank == 1 || A::rank == 2)) {
            return shape<>{};
        } else {
            static_assert(std::is_same_v<A, B> && (A::rank == 1 || A::rank == 2),
                          "ctgrad::softmax_cross_entropy: logits and targets must have the same "
                          "shape [N, C] (or [C]); the shapes are named in "
                          "'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<softmax_cross_entropy_op, A, B>());
            return shape<>{};
        }
    }
    template <class A, class B>
    using result = decltype(result_of<A, B>());

    /// Where forward_saving's numbers start: 64 bytes or more after the value (as prod_op's).
    static constexpr std::size_t saved_at = 16;

    /// What forward_saving keeps after the value: e (N·C), then s (N), then lse (N).
    template <class A, class B>
    static constexpr std::size_t saved = saved_at - 1 + A::count + 2 * A::rows;

    /// The loss, Σ_r Σ_c t_rc (lse_r − x_rc) / N in that order, with lse_r = lse(r, x_r): the
    /// one sum of both forwards (forward computes each lse_r here, forward_saving reads it from
    /// its saved numbers), so they give the same value bit for bit.
    template <class A, class S, class Lse>
    static constexpr S loss(const S* x, const S* t, Lse lse) {
        S total = S(0);
        for (std::size_t r = 0; r < A::rows; ++r) {
            const S* xr = x + r * A::cols;
            const S* tr = t + r * A::cols;
            const S l = lse(r, xr);
            for (std::size_t c = 0; c < A::cols; ++c) {
                // a zero target adds nothing, also against a masked logit of −inf (0·inf)
                if (tr[c] != S(0)) total += tr[c] * (l - xr[c]);
            }
        }
        return total / S(A::rows);
    }

    template <class Out, class A, class B, class S>
    static constexpr void forward(S* out, const S* x, const S* t) {
        out[0] = loss<A>(
            x, t, [](std::size_t, const S* xr) { return detail::row_log_sum_exp(xr, A::cols); });
    }

    /// forward's value, keeping e, s and lse (see saved): the shifted logits x_rc − m_r, then
    /// their exps in one loop over the N·C elements, then each row's sum (c in order, as
    /// row_log_sum_exp adds them) and m_r + log s_r.
    template <class Out, class A, class B, class S>
    static constexpr void forward_saving(S* __restrict out, const S* __restrict x,
                                         const S* __restrict t) {
        constexpr std::size_t R = A::rows, C = A::cols;
        S* const e = out + saved_at;
        S* const s = e + A::count;
        S* const lse = s + R;
        for (std::size_t r = 0; r < R; ++r) {
            const S m = detail::row_max(x + r * C, C);
            lse[r] = m;
            for (std::size_t c = 0; c < C; ++c) e[r * C + c] = x[r * C + c] - m;
        }
        for (std::size_t i = 0; i < A::count; ++i) e[i] = math::vec::exp(e[i]);
        for (std::size_t r = 0; r < R; ++r) {
            S sum = S(0);
            for (std::size_t c = 0; c < C; ++c) sum += e[r * C + c];
            s[r] = sum;
        }
        for (std::size_t r = 0; r < R; ++r) lse[r] = lse[r] + math::vec::log(s[r]);
        out[0] = loss<A>(x, t, [lse](std::size_t r, const S*) { return lse[r]; });
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    /// From what forward_saving kept: d/dx_rc = k_r·e_rc − scale·t_rc with k_r =
    /// scale·(Σ_c t_rc)/s_r, d/dt_rc = scale·(lse_r − x_rc), scale = dout/N.
    template <std::size_t I, kernels::mode Mode, class Out, class A, class B, class S>
    static constexpr void vjp(S* __restrict d, const S* dout, const S* __restrict out,
                              const S* __restrict x, const S* __restrict t) {
        constexpr std::size_t R = A::rows, C = A::cols;
        const S* const e = out + saved_at;
        const S* const s = e + A::count;
        const S* const lse = s + R;
        const S scale = dout[0] / S(R);
        for (std::size_t r = 0; r < R; ++r) {
            const S* tr = t + r * C;
            S* dr = d + r * C;
            if constexpr (I == 0) {
                S tsum = S(0);
                for (std::size_t c = 0; c < C; ++c) tsum += tr[c];
                const S k = scale * tsum / s[r];
                const S* er = e + r * C;
                for (std::size_t c = 0; c < C; ++c) {
                    detail::put<Mode>(dr[c], k * er[c] - scale * tr[c]);
                }
            } else {
                const S* xr = x + r * C;
                for (std::size_t c = 0; c < C; ++c) {
                    detail::put<Mode>(dr[c], scale * (lse[r] - xr[c]));
                }
            }
        }
    }
};

/// The product of all elements (of a scalar: itself). d/dx_i = Π_{j≠i} x_j, computed without
/// division (prefix and suffix products, in independent lanes), so it is exact where some x_j
/// are zero. The gradient sweep's forward pass keeps the prefix products (`saved`), so that the
/// vjp is one more pass, as in a hand-written loop: two passes for value and gradient. (The
/// kernels' pointers are `__restrict`: the sweeps never pass overlapping buffers.)
struct prod_op {
    static constexpr std::string_view name = "prod";
    static constexpr bool tensor_op = true;
    template <class A>
    using result = shape<>;

    /// Lane l takes the elements i ≡ l mod L: 16 lanes (vectors, independent chains), 8 below
    /// 64 elements, where combining the lanes (chains of L dependent multiplications) costs more
    /// than the elements, 1 below 16.
    template <class A>
    static constexpr std::size_t lanes = A::count >= 64   ? 16
                                         : A::count >= 16 ? 8
                                                          : 1;

    /// Where forward_saving's prefix products start: 64 bytes or more after the value, so that
    /// they are as aligned as the workspace's buffers (64 bytes).
    static constexpr std::size_t prefix_at = 16;

    /// What forward_saving keeps after the value: each element's exclusive prefix product
    /// within its lane (from out[prefix_at]), then for each lane the product of the others.
    template <class A>
    static constexpr std::size_t saved = prefix_at - 1 + A::count + lanes<A>;

    /// The product (the lanes' products multiplied in order); with Save, also the prefix
    /// products and the products of the other lanes, whose running prefix over the lanes is
    /// the product itself (the same multiplications, so the same value).
    template <class A, bool Save, class S>
    static constexpr void product(S* __restrict out, const S* __restrict a) {
        constexpr std::size_t L = lanes<A>, full = A::count - A::count % L;
        S* const pre = out + (Save ? prefix_at : 0);  // (without Save, out holds one number)
        S run[L];
        for (std::size_t l = 0; l < L; ++l) run[l] = S(1);
        for (std::size_t i = 0; i < full; i += L) {
#pragma GCC unroll 16
            for (std::size_t l = 0; l < L; ++l) {
                if constexpr (Save) pre[i + l] = run[l];
                run[l] *= a[i + l];
            }
        }
        for (std::size_t i = full; i < A::count; ++i) {
            if constexpr (Save) pre[i] = run[i - full];
            run[i - full] *= a[i];
        }
        if constexpr (Save) {
            S* other = pre + A::count;
            S before = S(1);
            for (std::size_t l = 0; l < L; ++l) {
                other[l] = before;
                before *= run[l];
            }
            S after = S(1);
            for (std::size_t l = L; l-- > 0;) {
                other[l] *= after;
                after *= run[l];
            }
            out[0] = before;
        } else {
            S p = run[0];
            for (std::size_t l = 1; l < L; ++l) p *= run[l];
            out[0] = p;
        }
    }

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        product<A, false>(out, a);
    }

    template <class Out, class A, class S>
    static constexpr void forward_saving(S* out, const S* a) {
        product<A, true>(out, a);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    /// d[i] = dout·Π_{j≠i} a[j] from what forward_saving kept: the prefix product of i in its
    /// lane times dout·(the product of the other lanes) and the suffix product of i in its
    /// lane (multiplied in going backward).
    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S* __restrict d, const S* dout, const S* __restrict out,
                              const S* __restrict a) {
        constexpr std::size_t L = lanes<A>, full = A::count - A::count % L;
        const S* pre = out + prefix_at;
        const S* others = pre + A::count;
        S other[L];
        for (std::size_t l = 0; l < L; ++l) other[l] = dout[0] * others[l];
        for (std::size_t i = A::count; i-- > full;) {
            detail::put<Mode>(d[i], pre[i] * other[i - full]);
            other[i - full] *= a[i];
        }
        for (std::size_t b = full / L; b-- > 0;) {
#pragma GCC unroll 16
            for (std::size_t l = 0; l < L; ++l) {
                detail::put<Mode>(d[b * L + l], pre[b * L + l] * other[l]);
                other[l] *= a[b * L + l];
            }
        }
    }
};

/// The largest element of a tensor, *without a derivative*: the sweeps treat it as a constant.
/// Only for expressions whose value does not depend on it, such as the shift of a stable
/// log-sum-exp (see log_sum_exp), where its exact derivative is zero anyway.
struct stop_gradient_max_op {
    static constexpr std::string_view name = "stop_gradient_max";
    static constexpr bool tensor_op = true;
    template <class A>
    using result = shape<>;

    template <class Out, class A, class S>
    static constexpr void forward(S* out, const S* a) {
        constexpr std::size_t L = A::count >= 8 ? 8 : 1;
        S m[L];
        for (std::size_t l = 0; l < L; ++l) m[l] = a[l];
        constexpr std::size_t full = A::count - A::count % L;
        for (std::size_t i = 0; i < full; i += L) {
            for (std::size_t l = 0; l < L; ++l) m[l] = a[i + l] > m[l] ? a[i + l] : m[l];
        }
        if constexpr (full < A::count) {
            for (std::size_t i = full; i < A::count; ++i) m[0] = a[i] > m[0] ? a[i] : m[0];
        }
        for (std::size_t l = 1; l < L; ++l) m[0] = m[l] > m[0] ? m[l] : m[0];
        out[0] = m[0];
    }

    template <std::size_t I>
    static constexpr bool has_vjp = false;

    template <std::size_t I, kernels::mode Mode, class Out, class A, class S>
    static constexpr void vjp(S*, const S*, const S*, const S*) {}
};

}  // namespace ops

// --- the functions a user writes ---

/// The sum of all elements of a tensor expression: a scalar.
template <expression A>
constexpr auto sum(A a) {
    return make_node<ops::sum_op>(std::move(a));
}

/// The mean of all elements of a tensor expression: a scalar.
template <expression A>
constexpr auto mean(A a) {
    return make_node<ops::mean_op>(std::move(a));
}

/// The product of all elements of a tensor expression: a scalar (see ops::prod_op).
template <expression A>
constexpr auto prod(A a) {
    return make_node<ops::prod_op>(std::move(a));
}

/// log Σ exp(x) over all elements, computed stably as m + log Σ exp(x − m) with m the largest
/// element (whose derivative through this formula is exactly zero, so it is not differentiated).
/// d/dx_i = exp(x_i − m)/Σ = softmax(x)_i, from the stored exponentials.
template <expression A>
constexpr auto log_sum_exp(A a) {
    const auto m = make_node<ops::stop_gradient_max_op>(a);
    return m + log(sum(exp(std::move(a) - m)));
}

/// The matrix product of [M, K] and [K, N] expressions: [M, N].
template <expression A, expression B>
constexpr auto matmul(A a, B b) {
    return make_node<ops::matmul_op>(std::move(a), std::move(b));
}

/// The transpose of a matrix expression.
template <expression A>
constexpr auto transpose(A a) {
    return make_node<ops::transpose_op>(std::move(a));
}

/// The sum of each row of a matrix [N, C]: [N, 1].
template <expression A>
constexpr auto row_sum(A a) {
    return make_node<ops::row_reduce_op<false>>(std::move(a));
}

/// The mean of each row of a matrix [N, C]: [N, 1].
template <expression A>
constexpr auto row_mean(A a) {
    return make_node<ops::row_reduce_op<true>>(std::move(a));
}

/// softmax of each row of [N, C] (or of a vector [C]).
template <expression A>
constexpr auto softmax(A a) {
    return make_node<ops::softmax_op>(std::move(a));
}

/// log_softmax of each row of [N, C] (or of a vector [C]), computed stably.
template <expression A>
constexpr auto log_softmax(A a) {
    return make_node<ops::log_softmax_op>(std::move(a));
}

/// Softmax cross-entropy of logits [N, C] against target distributions [N, C] (one-hot rows),
/// the mean over the N rows; stable (log-sum-exp), with the fused gradient (softmax − t)/N.
template <expression A, expression B>
constexpr auto softmax_cross_entropy(A logits, B targets) {
    return make_node<ops::softmax_cross_entropy_op>(std::move(logits), std::move(targets));
}

namespace detail {
template <class E>
inline constexpr std::size_t batch_of = shape_of_t<E>::rank == 2 ? shape_of_t<E>::dims[0] : 1;
}  // namespace detail

/// Mean squared error as in the notes: 1/(2n)·Σ‖y − a‖², n the batch size: the first dimension
/// of the shape a and y broadcast to (1 for a vector or scalar), so a prediction row against a
/// batch of targets is averaged over the batch either way round. Shapes of a and y must broadcast.
template <expression A, expression B>
constexpr auto mse(A a, B y) {
    auto d = std::move(y) - std::move(a);
    constexpr auto n = static_cast<std::intmax_t>(detail::batch_of<decltype(d)>);
    return lit<1, 2 * n> * sum(square(std::move(d)));
}

/// Binary cross-entropy of probabilities p in [0, 1] against targets y in [0, 1], the mean
/// over all elements: −mean(y·log p + (1 − y)·log(1 − p)), each term 0 where its factor y or
/// 1 − y is 0 (xlogy), so a saturated p that agrees with its target (sigmoid(40) = 1 against
/// 1) costs 0 with a finite gradient; a saturated p that disagrees gives +inf, as the formula.
template <expression P, expression Y>
constexpr auto binary_cross_entropy(P p, Y y) {
    return -mean(xlogy(y, p) + xlogy(lit<1> - y, lit<1> - p));
}

}  // namespace ctgrad
