/// @file
/// Direct (implicit-im2col) convolution kernels for stride 1, vectorised along the output rows
/// and compiled, like the matrix products (tensor/matmul.hpp), for the target and for AVX2 + FMA
/// and AVX-512F, the best the processor has chosen at run time (`kernels::active_isa()`).
///
/// Every kernel works on one image in zero-padded layouts whose row strides are whole 64-byte
/// vectors (`geometry`), so that every load is a full vector and no column needs a remainder
/// loop; the numbers a vector reads past a row's end are zeros of the padding (or land in
/// output columns that are never read):
///
/// - `forward`: y [O, OH, OWs] = K ⋆ xp for the padded image xp [C, Hp, Wxs]: per output row, a
///   register block of output channels × row vectors, one broadcast of K and one load of xp per
///   tap and vector (no col matrix);
/// - `forward_pool2`: the same fused with the 2 × 2 max pooling (bias, relu, kept positions), y
///   kept in registers: blocks of two y rows, in rows or (`geometry::fwd_channels_last`) with
///   vectors along the output channels; with 16 registers `forward` then `pool2`;
/// - `grad_kernel`: dK[o, c, u, v] += Σ_{i, j} dY[o, i, j]·xp[c, i + u, j + v] for dY in the
///   padded layout dyp [O, OH + 2(KH − 1), WYs] (rows starting one vector in, so that its loads
///   are aligned): a register block of output channels × kernel columns, summed along the rows
///   and reduced across lanes once per image;
/// - `grad_kernel_cl`: the same, channels-last, when the output channels fill more lanes than
///   dY's rows (`geometry::dk_channels_last`, LeNet's conv2: 16 channels, 10-wide rows): dY
///   [OH, OW, Os] and dK [C, KH, KW, Os], a register block of kernel taps × channel vectors,
///   one vector of dY and one broadcast weight (folded into the multiply-add) per tap;
/// - `grad_image`: the transposed convolution dX[c, h, w] (+)= Σ_{o, u, v} K[o, c, u, v]·
///   dY[o, h − u, w − v] (in padded-image coordinates, the padding's rows and columns dropped),
///   a register block of input channels × two rows, skipping the kernel rows that meet only
///   dyp's zero rows.
///
/// The blocks fit the register file: at most 24 accumulators with 32 vector registers, 12 with
/// 16. A convolution takes this path when its stride is 1 and its kernel at most 8 wide; the
/// others (and constant evaluation) lower to the GEMM kernels (tensor/conv.hpp).
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::int32_t, std::int64_t
#include <type_traits>  // std::conditional_t
#include <utility>      // std::index_sequence

#include <ctgrad/tensor/matmul.hpp>

#if (defined(__GNUC__) || defined(__clang__)) && !defined(CTGRAD_KERNELS_PORTABLE)
#define CTGRAD_CONV_DIRECT 1
#else
#define CTGRAD_CONV_DIRECT 0
#endif

#if CTGRAD_CONV_DIRECT && (defined(__clang__) || __GNUC__ >= 12)  // __builtin_shufflevector
#define CTGRAD_CONV_POOL2 1
#else
#define CTGRAD_CONV_POOL2 0
#endif

#if CTGRAD_CONV_DIRECT && defined(__x86_64__) && !defined(__AVX512F__) && \
    !defined(CTGRAD_KERNELS_VECTOR_BYTES) && !defined(CTGRAD_KERNELS_NO_DISPATCH)
#define CTGRAD_CONV_DISPATCH 1
#else
#define CTGRAD_CONV_DISPATCH 0
#endif

namespace ctgrad::conv_kernels {

/// Whether this build has the direct kernels (GCC or Clang vector extensions).
inline constexpr bool available = CTGRAD_CONV_DIRECT != 0;

/// The widest kernel row the direct kernels take.
inline constexpr std::size_t max_kernel_width = 8;

/// The widest vector the direct kernels take, in numbers (16 floats with AVX-512): every padded
/// row is a whole number of such vectors for every instruction set, and each entry of ∂K has
/// this many partial sums (one vector of any instruction set).
inline constexpr std::size_t lanes = 16;

/// The padded layouts of one image (row strides in multiples of 16 numbers: whole vectors of
/// every instruction set, for float and double).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t O, std::size_t KH,
          std::size_t KW, std::size_t P>
struct geometry {
    static constexpr std::size_t lanes = conv_kernels::lanes;
    static constexpr std::size_t round(std::size_t n) { return (n + lanes - 1) / lanes * lanes; }
    static constexpr std::size_t Hp = H + 2 * P, Wp = W + 2 * P;
    static constexpr std::size_t OH = Hp - KH + 1, OW = Wp - KW + 1;
    /// row stride of y: whole pairs of vectors (the 2 × 2 pooling reads two at a time)
    static constexpr std::size_t OWs = (OW + 2 * lanes - 1) / (2 * lanes) * (2 * lanes);
    static constexpr std::size_t Wps = round(Wp);  ///< padded-image columns computed by dX
    static constexpr std::size_t wide = OWs > Wps ? OWs : Wps;
    /// row stride of xp: whole vectors, so that the ∂K kernel's unshifted loads are aligned
    static constexpr std::size_t Wxs = round(wide + KW - 1);
    static constexpr std::size_t RY = OH + 2 * (KH - 1);  ///< rows of dyp
    /// the column of dyp where dY's rows start: one vector of zeros to their left (the ∂X
    /// kernel reads up to KW − 1 < lanes columns before it), so that ∂K's loads of dY are aligned
    static constexpr std::size_t DA = lanes;
    static constexpr std::size_t WYs = DA + wide + lanes;  ///< row stride of dyp
    static constexpr std::size_t xp_size = C * Hp * Wxs;
    static constexpr std::size_t y_size = O * OH * OWs;
    static constexpr std::size_t dyp_size = O * RY * WYs;
    /// dY[o, i, j] is dyp[o·RY·WYs + (i + KH − 1)·WYs + DA + j].
    static constexpr std::size_t dy_at(std::size_t o, std::size_t i, std::size_t j) {
        return (o * RY + i + KH - 1) * WYs + DA + j;
    }
    /// Whether ∂K runs channels-last (`grad_kernel_cl`): vectors along the output channels
    /// instead of along dY's rows, when they fill more lanes (LeNet's conv2: 16 channels fill
    /// a 16-float vector, its 10-wide rows only 10 of 16 lanes) and each dY number meets enough
    /// weights (C·KH·KW ≥ 16) to pay for transposing dY.
    static constexpr std::size_t Os = round(O);  ///< output channels, padded to whole vectors
    static constexpr bool dk_channels_last = O * round(OW) > OW* Os&& C* KH* KW >= 16;
    static constexpr std::size_t dyc_size = OH * OW * Os;      ///< dY [OH, OW, Os]
    static constexpr std::size_t dkc_size = C * KH * KW * Os;  ///< ∂K [C, KH, KW, Os]
    /// dY[o, i, j] in the channels-last layout dyc [OH, OW, Os].
    static constexpr std::size_t dyc_at(std::size_t o, std::size_t i, std::size_t j) {
        return (i * OW + j) * Os + o;
    }
    /// Whether ∂X runs channels-last (`grad_image_cl`): vectors along the output channels (the
    /// index the transposed convolution sums over) instead of along dX's rows, when they fill
    /// the lanes by a quarter better than a row of dY fills a padded row of dX (the row kernel
    /// multiplies KW − 1 columns of zeros per row and tap: LeNet's conv2, 10 useful columns of 16
    /// against 16 channels of 16) and each dX number meets enough taps (KH·KW ≥ 4) to pay for
    /// summing its vector across.
    static constexpr bool dx_channels_last = 4 * O * round(Wp) > 5 * OW* Os&& KH* KW >= 4;
    /// The padded channels-last dY of `grad_image_cl`: dycp [OH, OWc, Os], dY's rows with JA
    /// columns of zeros on each side (a block of up to JA + 1 pixels of dX reads that far past
    /// dY's columns).
    static constexpr std::size_t JA = 3, OWc = OW + 2 * JA;
    static constexpr std::size_t dycp_size = OH * OWc * Os;
    /// The shifted copies of the padded image that `grad_kernel_shifted` reads, one band of BH
    /// rows of dY at a time: xs [C, KW, XR, Wrs] with xs[c, v, r, j] = xp[c, i0 + r, j + v] for
    /// the band starting at dY row i0 (rows of Wrs numbers: whole vectors of every instruction
    /// set covering dY's rows; copies XSv apart: one cache line more than a copy, so that the
    /// copies of a row do not all fall into one set of the L1 cache).
    static constexpr std::size_t BH = OH < 14 ? OH : 14;
    static constexpr std::size_t XR = BH + KH - 1, Wrs = round(OW), XSv = XR * Wrs + lanes;
    static constexpr std::size_t xs_size = C * KW * XSv;
    /// The flat copies of `grad_kernel_flat`: dY dense and flat per output channel, dyf
    /// [O, Qs] (Qs: OH·OW rounded up to whole vectors, the rest zero), and per input channel
    /// and kernel column v one copy of the padded image with rows of OW numbers, xf [C, KW,
    /// XFs] with xf[c, v, r·OW + j] = xp[c, r, j + v]: tap (u, v) is then the run of Qs numbers
    /// at u·OW of copy v, and ∂K a product of flat runs, no lane idle (LeNet's conv1: 784
    /// numbers, 49 vectors of 16; its rows of 28 fill 28 of 32 lanes). Copies XFs apart: whole
    /// vectors and one cache line more than the numbers tap (KH − 1, v) reads.
    static constexpr std::size_t Qs = round(OH * OW);
    static constexpr std::size_t XFs = round((KH - 1) * OW + Qs) + lanes;
    static constexpr std::size_t xf_size = C * KW * XFs;
    /// dyf and the numbers the unpooling may write past its last row (less than 2·lanes).
    static constexpr std::size_t dyf_size = O * Qs + 2 * lanes;
    /// dY[o, i, j] in the flat layout dyf.
    static constexpr std::size_t dyf_at(std::size_t o, std::size_t i, std::size_t j) {
        return o * Qs + i * OW + j;
    }
    /// Whether the row-layout ∂K runs on the flat copies (`grad_kernel_flat`): when dY's rows
    /// would leave lanes idle in whole-vector rows (OW not a multiple of 16) and the copies stay
    /// small (≤ 32 KB of floats, in L1 beside dY: LeNet's conv1, 18 KB); otherwise the shifted
    /// copies, whose loads are all aligned.
    static constexpr bool dk_flat =
        !dk_channels_last && KW > 1 && OW % lanes != 0 && xf_size <= 8192;
    /// Whether the row-layout ∂K runs on the shifted copies (`grad_kernel_shifted`): building
    /// them costs one pass over the image per kernel column, where the kernel would otherwise
    /// read each shifted image vector (most of them split across two cache lines) once per
    /// kernel row and block of output channels; taken when they stay small (≤ 32 KB of floats,
    /// so that they stay in L1 beside dY and ∂K's partial sums: 11.5 KB for LeNet's
    /// conv1) and the flat copies are not taken.
    static constexpr bool dk_shifted = !dk_channels_last && KW > 1 && xs_size <= 8192 && !dk_flat;
    /// Whether a flat ∂K runs on the shifted copies instead with 4-number vectors (SSE2: no
    /// lanes idle in either, and the shifted kernel measured faster there; `flat_dk_active`).
    static constexpr bool dk_flat_or_shifted = dk_flat && xs_size <= 8192;
    /// Whether the forward fused with the 2 × 2 pooling runs channels-last (with 32 vector
    /// registers; detail::forward_pool2_cl_body): vectors along the output channels instead of
    /// along y's rows, when they fill more lanes (LeNet's conv2: 16 channels, 10-wide rows), the
    /// kernel channels-last fits where y would be (the caller's scratch) and a pooled row of
    /// the stack buffers stays ≤ 8 KB of floats.
    static constexpr bool fwd_channels_last = O * round(OW) > OW* Os&& dkc_size <= y_size&& OH >=
                                                  2 &&
                                              OW >= 2 && (OW / 2) * Os <= 2048;
};

namespace detail {

using kernels::isa;
using kernels::detail::isa_traits;
using kernels::detail::lanes_on;

/// The blocks of n rows of at most cap each, as equal as they go: their size.
constexpr std::size_t even_block(std::size_t n, std::size_t cap) {
    const std::size_t blocks = (n + cap - 1) / cap;
    return (n + blocks - 1) / blocks;
}

#if CTGRAD_CONV_DIRECT
// Plain inline with -DCTGRAD_NO_FORCED_INLINE in a Clang -O0 build (tensor/matmul.hpp).
#if defined(CTGRAD_NO_FORCED_INLINE) && defined(__clang__) && !defined(__OPTIMIZE__)
#define CTGRAD_CONV_INLINE inline
#else
#define CTGRAD_CONV_INLINE [[gnu::always_inline]] inline
#endif
using kernels::detail::load;
using kernels::detail::store;
using kernels::detail::vec;

/// Keeps v in a register: the compiler may no longer fold its load into each multiply-add
/// that uses it (GCC does, and then reads an unaligned vector, often split across two cache
/// lines, once per use instead of once). GCC only: Clang loads such a vector once, and checks
/// the operand against this helper's own (baseline) instruction set, refusing 32- and 64-byte
/// vectors.
template <class V>
CTGRAD_CONV_INLINE void in_register(V& v) {
#if defined(__x86_64__) && !defined(__clang__)
    __asm__("" : "+v"(v));
#else
    static_cast<void>(v);
#endif
}

/// Hides where p points from the optimiser: the weights a loop iteration reads through it are
/// then loaded (and broadcast) by their own multiply-adds, rather than carried from iteration
/// to iteration in scalar registers (GCC's predictive commoning of x[j + v] and x[j + 1 + v − 1]
/// spills 15 of them per iteration in the channels-last ∂K block).
template <class P>
CTGRAD_CONV_INLINE void opaque(P*& p) {
#if defined(__x86_64__)
    __asm__("" : "+r"(p));
#else
    static_cast<void>(p);
#endif
}

/// Accumulators a block may hold on instruction set I.
template <isa I>
inline constexpr std::size_t budget = isa_traits<I>::registers >= 32 ? 24 : 12;

/// y rows i, output channels o0 .. o0 + OB: JV vectors per row.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t O, std::size_t KH,
          std::size_t KW, std::size_t OB, std::size_t JV>
CTGRAD_CONV_INLINE void forward_block(const T* __restrict xp, const T* __restrict k,
                                      T* __restrict y, std::size_t i, std::size_t o0) {
    vec<T, Wl> acc[OB][JV];
#pragma GCC unroll 24
    for (std::size_t o = 0; o < OB; ++o) {
#pragma GCC unroll 8
        for (std::size_t jv = 0; jv < JV; ++jv) acc[o][jv] = vec<T, Wl>{};
    }
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            const T* xr = xp + (c * G::Hp + i + u) * G::Wxs;
            const T* kr = k + (o0 * C + c) * KH * KW + u * KW;
#pragma GCC unroll 8
            for (std::size_t v = 0; v < KW; ++v) {
                vec<T, Wl> xv[JV];
#pragma GCC unroll 8
                for (std::size_t jv = 0; jv < JV; ++jv) {
                    load<Wl>(xv[jv], xr + v + jv * Wl);
                    in_register(xv[jv]);
                }
#pragma GCC unroll 24
                for (std::size_t o = 0; o < OB; ++o) {
                    const T w = kr[o * C * KH * KW + v];
#pragma GCC unroll 8
                    for (std::size_t jv = 0; jv < JV; ++jv) acc[o][jv] += xv[jv] * w;
                }
            }
        }
    }
#pragma GCC unroll 24
    for (std::size_t o = 0; o < OB; ++o) {
        T* yr = y + ((o0 + o) * G::OH + i) * G::OWs;
#pragma GCC unroll 8
        for (std::size_t jv = 0; jv < JV; ++jv) store<Wl>(yr + jv * Wl, acc[o][jv]);
    }
}

template <class G, class T, isa I, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
CTGRAD_CONV_INLINE void forward_body(const T* __restrict xp, const T* __restrict k,
                                     T* __restrict y) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t JV = (G::OW + Wl - 1) / Wl;
    constexpr std::size_t cap = budget<I> / JV > 0 ? budget<I> / JV : 1;
    constexpr std::size_t OB = even_block(O, cap);
    for (std::size_t i = 0; i < G::OH; ++i) {
        std::size_t o0 = 0;
        for (; o0 + OB <= O; o0 += OB) {
            forward_block<G, T, Wl, C, O, KH, KW, OB, JV>(xp, k, y, i, o0);
        }
        if constexpr (O % OB != 0) {
            forward_block<G, T, Wl, C, O, KH, KW, O % OB, JV>(xp, k, y, i, O - O % OB);
        }
    }
}

/// dK[o0 .. o0 + OB, c, u, 0 .. KW) += Σ_{i, j} dY[o, i, j]·xp[c, i + u, j + v], as vectors of
/// partial sums (dk: `lanes` numbers per entry of ∂K, summed across at the end).
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB>
CTGRAD_CONV_INLINE void grad_kernel_block(const T* __restrict xp, const T* __restrict dyp,
                                          T* __restrict dk, std::size_t c, std::size_t u,
                                          std::size_t o0) {
    constexpr std::size_t JV = (G::OW + Wl - 1) / Wl;
    vec<T, Wl> acc[OB][KW];
#pragma GCC unroll 24
    for (std::size_t o = 0; o < OB; ++o) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < KW; ++v) acc[o][v] = vec<T, Wl>{};
    }
    for (std::size_t i = 0; i < G::OH; ++i) {
        const T* xr = xp + (c * G::Hp + i + u) * G::Wxs;
        for (std::size_t jv = 0; jv < JV; ++jv) {
            vec<T, Wl> g[OB];
#pragma GCC unroll 24
            for (std::size_t o = 0; o < OB; ++o) load<Wl>(g[o], dyp + G::dy_at(o0 + o, i, jv * Wl));
#pragma GCC unroll 8
            for (std::size_t v = 0; v < KW; ++v) {
                vec<T, Wl> xv;
                load<Wl>(xv, xr + jv * Wl + v);
                in_register(xv);
#pragma GCC unroll 24
                for (std::size_t o = 0; o < OB; ++o) acc[o][v] += g[o] * xv;
            }
        }
    }
#pragma GCC unroll 24
    for (std::size_t o = 0; o < OB; ++o) {
        T* d = dk + (((o0 + o) * C + c) * KH * KW + u * KW) * lanes;
#pragma GCC unroll 8
        for (std::size_t v = 0; v < KW; ++v) {
            vec<T, Wl> old;
            load<Wl>(old, d + v * lanes);
            old += acc[o][v];
            store<Wl>(d + v * lanes, old);
        }
    }
}

template <class G, class T, isa I, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
CTGRAD_CONV_INLINE void grad_kernel_body(const T* __restrict xp, const T* __restrict dyp,
                                         T* __restrict dk) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t cap = budget<I> / KW > 0 ? budget<I> / KW : 1;
    constexpr std::size_t OB = even_block(O, cap);
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            std::size_t o0 = 0;
            for (; o0 + OB <= O; o0 += OB) {
                grad_kernel_block<G, T, Wl, C, KH, KW, OB>(xp, dyp, dk, c, u, o0);
            }
            if constexpr (O % OB != 0) {
                grad_kernel_block<G, T, Wl, C, KH, KW, O % OB>(xp, dyp, dk, c, u, O - O % OB);
            }
        }
    }
}

/// dst[0 .. L) = src[0 .. L), straight-line (vectorised by the compiler for the caller's
/// instruction set).
template <class T, std::size_t... L>
CTGRAD_CONV_INLINE void copy_run(T* __restrict dst, const T* __restrict src,
                                 std::index_sequence<L...>) {
    ((dst[L] = src[L]), ...);
}

/// One image row x[c, i, 0 .. W) into its KW shifted copies xs + v·XSv: xs[j] = x[c, i, j + v − P]
/// for the columns j < Wrs where that is inside the row (the others are never written: zero).
template <class G, class T, std::size_t W, std::size_t P, std::size_t... V>
CTGRAD_CONV_INLINE void shift_row(const T* __restrict xr, T* __restrict xs,
                                  std::index_sequence<V...>) {
    (
        [&] {
            constexpr std::size_t to = V < P ? P - V : 0, from = V > P ? V - P : 0;
            constexpr std::size_t n = W - from < G::Wrs - to ? W - from : G::Wrs - to;
            copy_run(xs + V * G::XSv + to, xr + from, std::make_index_sequence<n>{});
        }(),
        ...);
}

/// The shifted copies (geometry::xs_size) of padded-image rows i0 .. i0 + rows + KH − 1 of one
/// image x [C, H, W], from x itself: rows of the padding as zeros, the image's through shift_row.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t H, std::size_t W,
          std::size_t KW, std::size_t P>
CTGRAD_CONV_INLINE void shift_band(const T* __restrict x, T* __restrict xs, std::size_t i0,
                                   std::size_t rows) {
    constexpr std::size_t JV = (G::OW + Wl - 1) / Wl;
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t r = 0; r < rows + G::XR - G::BH; ++r) {
            T* dst = xs + c * KW * G::XSv + r * G::Wrs;
            const std::size_t at = i0 + r;  // the padded image's row
            if (at >= P && at < P + H) {
                shift_row<G, T, W, P>(x + (c * H + at - P) * W, dst,
                                      std::make_index_sequence<KW>{});
            } else {
                for (std::size_t v = 0; v < KW; ++v) {
#pragma GCC unroll 8
                    for (std::size_t jv = 0; jv < JV; ++jv) {
                        store<Wl>(dst + v * G::XSv + jv * Wl, vec<T, Wl>{});
                    }
                }
            }
        }
    }
}

/// dK[o0 .. o0 + OB, c, taps t0 .. t0 + TB) += Σ_{i, j} dY[o, i0 + i, j]·xs[c, v, i + u, j]
/// (tap t = u·KW + v; i < rows of the band) as vectors of partial sums: the implicit-im2col
/// product of dY's rows and the shifted copies, every load aligned; OB + TB loads per OB·TB
/// multiply-adds.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB, std::size_t TB>
CTGRAD_CONV_INLINE void grad_kernel_shifted_block(const T* __restrict xs, const T* __restrict dyp,
                                                  T* __restrict dk, std::size_t c, std::size_t t0,
                                                  std::size_t o0, std::size_t i0,
                                                  std::size_t rows) {
    constexpr std::size_t JV = (G::OW + Wl - 1) / Wl;
    vec<T, Wl> acc[OB][TB];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OB; ++o) {
#pragma GCC unroll 8
        for (std::size_t t = 0; t < TB; ++t) acc[o][t] = vec<T, Wl>{};
    }
    const T* xt[TB];
#pragma GCC unroll 8
    for (std::size_t t = 0; t < TB; ++t) {
        const std::size_t u = (t0 + t) / KW, v = (t0 + t) % KW;
        xt[t] = xs + (c * KW + v) * G::XSv + u * G::Wrs;
    }
    for (std::size_t i = 0; i < rows; ++i) {
#pragma GCC unroll 1
        for (std::size_t jv = 0; jv < JV; ++jv) {
            vec<T, Wl> g[OB];
#pragma GCC unroll 8
            for (std::size_t o = 0; o < OB; ++o) {
                load<Wl>(g[o], dyp + G::dy_at(o0 + o, i0 + i, jv * Wl));
                in_register(g[o]);
            }
#pragma GCC unroll 8
            for (std::size_t t = 0; t < TB; ++t) {
                vec<T, Wl> xv;
                load<Wl>(xv, xt[t] + i * G::Wrs + jv * Wl);
                in_register(xv);
#pragma GCC unroll 8
                for (std::size_t o = 0; o < OB; ++o) acc[o][t] += g[o] * xv;
            }
        }
    }
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OB; ++o) {
        T* d = dk + (((o0 + o) * C + c) * KH * KW + t0) * lanes;
#pragma GCC unroll 8
        for (std::size_t t = 0; t < TB; ++t) {
            vec<T, Wl> old;
            load<Wl>(old, d + t * lanes);
            old += acc[o][t];
            store<Wl>(d + t * lanes, old);
        }
    }
}

/// Output channels a shifted ∂K block takes at most on instruction set I (its accumulators:
/// budget<I>, its other registers: OB vectors of dY and one of the image).
template <isa I>
inline constexpr std::size_t shifted_ob = isa_traits<I>::registers >= 32 ? 6 : 3;

/// The blocks of taps (TB a block, the last R % TB) for output channels o0 .. o0 + OB.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB, std::size_t TB>
CTGRAD_CONV_INLINE void grad_kernel_shifted_taps(const T* __restrict xs, const T* __restrict dyp,
                                                 T* __restrict dk, std::size_t c, std::size_t o0,
                                                 std::size_t i0, std::size_t rows) {
    constexpr std::size_t R = KH * KW;
    std::size_t t0 = 0;
    for (; t0 + TB <= R; t0 += TB) {
        grad_kernel_shifted_block<G, T, Wl, C, KH, KW, OB, TB>(xs, dyp, dk, c, t0, o0, i0, rows);
    }
    if constexpr (R % TB != 0) {
        grad_kernel_shifted_block<G, T, Wl, C, KH, KW, OB, R % TB>(xs, dyp, dk, c, R - R % TB, o0,
                                                                   i0, rows);
    }
}

/// The partial sums of dK [O, C, KH, KW] += Σ dY·xp of one image (as grad_kernel_body), from
/// shifted copies of x [C, H, W] (not padded) built into xs one band of G::BH rows of dY at a
/// time: register blocks of output channels × kernel taps.
template <class G, class T, isa I, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
CTGRAD_CONV_INLINE void grad_kernel_shifted_body(const T* __restrict x, const T* __restrict dyp,
                                                 T* __restrict xs, T* __restrict dk) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t OB = even_block(O, shifted_ob<I>);
    constexpr std::size_t TB = budget<I> / OB < KH * KW ? budget<I> / OB : KH * KW;
    // the next image in the batch (x is the first of N contiguous images; past the last one the
    // prefetches touch nothing: they do not fault)
    for (std::size_t e = 0; e < C * H * W; e += 64 / sizeof(T)) {
        __builtin_prefetch(x + C * H * W + e);
    }
    for (std::size_t i0 = 0; i0 < G::OH; i0 += G::BH) {
        const std::size_t rows = G::OH - i0 < G::BH ? G::OH - i0 : G::BH;
        shift_band<G, T, Wl, C, H, W, KW, P>(x, xs, i0, rows);
        for (std::size_t c = 0; c < C; ++c) {
            std::size_t o0 = 0;
            for (; o0 + OB <= O; o0 += OB) {
                grad_kernel_shifted_taps<G, T, Wl, C, KH, KW, OB, TB>(xs, dyp, dk, c, o0, i0, rows);
            }
            if constexpr (O % OB != 0) {
                grad_kernel_shifted_taps<G, T, Wl, C, KH, KW, O % OB, TB>(xs, dyp, dk, c,
                                                                          O - O % OB, i0, rows);
            }
        }
    }
}

// --- ∂K on flat copies (grad_kernel_flat; geometry::dk_flat) ---

/// dK[o0 .. o0 + OB, c, taps t0 .. t0 + TB) += Σ_q dyf[o, q]·xf[c, v, u·OW + q] (tap t = u·KW + v,
/// q < Qs) as vectors of partial sums: OB + TB loads per OB·TB multiply-adds, dY's aligned, the
/// image's at u·OW (aligned when u·OW is a multiple of the vector). The smaller operand is held
/// in registers and the other streamed through one (AVX-512, 6 × 4: 24 accumulators, 4 image
/// vectors, 1 of dY; AVX2, 3 × 4: 12, 3 and 1).
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB, std::size_t TB>
CTGRAD_CONV_INLINE void grad_kernel_flat_block(const T* __restrict xf, const T* __restrict dyf,
                                               T* __restrict dk, std::size_t c, std::size_t t0,
                                               std::size_t o0) {
    constexpr std::size_t QV = G::Qs / Wl;
    vec<T, Wl> acc[OB][TB];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OB; ++o) {
#pragma GCC unroll 8
        for (std::size_t t = 0; t < TB; ++t) acc[o][t] = vec<T, Wl>{};
    }
    const T* xt[TB];
#pragma GCC unroll 8
    for (std::size_t t = 0; t < TB; ++t) {
        const std::size_t u = (t0 + t) / KW, v = (t0 + t) % KW;
        xt[t] = xf + (c * KW + v) * G::XFs + u * G::OW;
    }
    const T* gp = dyf + o0 * G::Qs;
#pragma GCC unroll 1
    for (std::size_t q = 0; q < QV * Wl; q += Wl) {
        if constexpr (TB <= OB) {
            vec<T, Wl> xv[TB];
#pragma GCC unroll 8
            for (std::size_t t = 0; t < TB; ++t) {
                load<Wl>(xv[t], xt[t] + q);
                in_register(xv[t]);
            }
#pragma GCC unroll 8
            for (std::size_t o = 0; o < OB; ++o) {
                vec<T, Wl> g;
                load<Wl>(g, gp + o * G::Qs + q);
                in_register(g);
#pragma GCC unroll 8
                for (std::size_t t = 0; t < TB; ++t) acc[o][t] += g * xv[t];
            }
        } else {
            vec<T, Wl> g[OB];
#pragma GCC unroll 8
            for (std::size_t o = 0; o < OB; ++o) {
                load<Wl>(g[o], gp + o * G::Qs + q);
                in_register(g[o]);
            }
#pragma GCC unroll 8
            for (std::size_t t = 0; t < TB; ++t) {
                vec<T, Wl> xv;
                load<Wl>(xv, xt[t] + q);
                in_register(xv);
#pragma GCC unroll 8
                for (std::size_t o = 0; o < OB; ++o) acc[o][t] += g[o] * xv;
            }
        }
    }
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OB; ++o) {
        T* d = dk + (((o0 + o) * C + c) * KH * KW + t0) * lanes;
#pragma GCC unroll 8
        for (std::size_t t = 0; t < TB; ++t) {
            vec<T, Wl> old;
            load<Wl>(old, d + t * lanes);
            old += acc[o][t];
            store<Wl>(d + t * lanes, old);
        }
    }
}

/// The blocks of taps (TB a block, the last R % TB) for output channels o0 .. o0 + OB.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB, std::size_t TB>
CTGRAD_CONV_INLINE void grad_kernel_flat_taps(const T* __restrict xf, const T* __restrict dyf,
                                              T* __restrict dk, std::size_t c, std::size_t o0) {
    constexpr std::size_t R = KH * KW;
    std::size_t t0 = 0;
    for (; t0 + TB <= R; t0 += TB) {
        grad_kernel_flat_block<G, T, Wl, C, KH, KW, OB, TB>(xf, dyf, dk, c, t0, o0);
    }
    if constexpr (R % TB != 0) {
        grad_kernel_flat_block<G, T, Wl, C, KH, KW, OB, R % TB>(xf, dyf, dk, c, R - R % TB, o0);
    }
}

/// One image row x[c, h, 0 .. W) into its KW flat copies (dst: padded row h + P of copy 0 of
/// channel c): copy v gets x[c, h, s] at column s + P − v where that is inside 0 .. OW (the
/// other columns are never written: zero).
template <class G, class T, std::size_t W, std::size_t P, std::size_t... V>
CTGRAD_CONV_INLINE void flat_row(const T* __restrict xr, T* __restrict dst,
                                 std::index_sequence<V...>) {
    (
        [&] {
            constexpr std::size_t to = V < P ? P - V : 0, from = V > P ? V - P : 0;
            if constexpr (from < W && to < G::OW) {
                constexpr std::size_t n = W - from < G::OW - to ? W - from : G::OW - to;
                copy_run(dst + V * G::XFs + to, xr + from, std::make_index_sequence<n>{});
            }
        }(),
        ...);
}

/// The integer of T's width (the lane masks of flat_image).
template <class T>
using mask_int = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

/// Lane masks of the flat copies of a same-size convolution (W = OW, so that the image's rows
/// are rows of the copies): lane l of vector k of copy v all ones where column (k·Wl + l) % OW of
/// the copy holds an image number (0 ≤ column + v − P < W); periodic in k with `period`.
template <class G, class T, std::size_t Wl, std::size_t W, std::size_t P, std::size_t KW>
struct flat_masks {
    static constexpr std::size_t gcd(std::size_t a, std::size_t b) {
        return b == 0 ? a : gcd(b, a % b);
    }
    static constexpr std::size_t period = G::OW / gcd(G::OW, Wl);
    struct table {
        alignas(64) mask_int<T> m[KW * period * Wl];
    };
    static constexpr table masks = [] {
        table t{};
        for (std::size_t v = 0; v < KW; ++v) {
            for (std::size_t e = 0; e < period * Wl; ++e) {
                const std::size_t col = e % G::OW;
                t.m[v * period * Wl + e] = col + v >= P && col + v < W + P ? mask_int<T>(-1) : 0;
            }
        }
        return t;
    }();
};

/// The flat copies of channel c of x [C, H, W] when W = OW (a same-size convolution: LeNet's
/// conv1): copy v is the image's H·W numbers as one run starting at P·OW + P − v, the columns
/// that wrap into a neighbouring row masked to zero: per aligned vector of the copy one load,
/// one and, one store (rather than KW unaligned runs per image row); the first and last vectors,
/// which reach past the image, number by number (only their numbers inside the run). The
/// padding's rows around the run are never written (zero from the caller's clear).
template <class G, class T, std::size_t Wl, std::size_t H, std::size_t W, std::size_t P,
          std::size_t KW>
CTGRAD_CONV_INLINE void flat_image(const T* __restrict src, T* __restrict xf) {
    using M = flat_masks<G, T, Wl, W, P, KW>;
    using I = mask_int<T>;
    constexpr std::size_t n = H * W;
#pragma GCC unroll 1
    for (std::size_t v = 0; v < KW; ++v) {
        T* dst = xf + v * G::XFs;
        const std::size_t start = P * G::OW + P - v;  // ≥ 0: KW − 1 = 2P, so v − P ≤ P
        const std::size_t k0 = start / Wl, k1 = (start + n + Wl - 1) / Wl;
        const I* mv = M::masks.m + v * M::period * Wl;
        std::size_t km = k0 % M::period;
        for (std::size_t k = k0; k < k1; ++k) {
            const std::size_t at = k * Wl;
            if (at >= start && at + Wl <= start + n) {
                vec<T, Wl> xv;
                vec<I, Wl> mk;
                load<Wl>(xv, src + (at - start));
                load<Wl>(mk, mv + km * Wl);
                xv = (vec<T, Wl>)((vec<I, Wl>)xv & mk);
                store<Wl>(dst + at, xv);
            } else {  // (only the lanes in the run: the others are padding, zero)
                const std::size_t lo = at > start ? at : start;
                const std::size_t hi = at + Wl < start + n ? at + Wl : start + n;
                for (std::size_t pos = lo; pos < hi; ++pos) {
                    dst[pos] = mv[km * Wl + pos - at] != 0 ? src[pos - start] : T(0);
                }
            }
            km = km + 1 == M::period ? 0 : km + 1;
        }
    }
}

/// The partial sums of dK [O, C, KH, KW] += Σ dY·xp of one image (as grad_kernel_body) from
/// dY in the flat layout dyf (G::dyf_at) and the flat copies of x [C, H, W] (not padded) built
/// into xf (only the image's rows: the padding's stay zero from the caller's clear): register
/// blocks of output channels × kernel taps over the whole image.
template <class G, class T, isa I, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
CTGRAD_CONV_INLINE void grad_kernel_flat_body(const T* __restrict x, const T* __restrict dyf,
                                              T* __restrict xf, T* __restrict dk) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t OB = even_block(O, shifted_ob<I>);
    constexpr std::size_t TB = budget<I> / OB < KH * KW ? budget<I> / OB : KH * KW;
    // the next image in the batch (past the last one the prefetches touch nothing)
    for (std::size_t e = 0; e < C * H * W; e += 64 / sizeof(T)) {
        __builtin_prefetch(x + C * H * W + e);
    }
    if constexpr (W == G::OW && G::OW >= Wl && flat_masks<G, T, Wl, W, P, KW>::period <= 16) {
        for (std::size_t c = 0; c < C; ++c) {
            flat_image<G, T, Wl, H, W, P, KW>(x + c * H * W, xf + c * KW * G::XFs);
        }
    } else {
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t h = 0; h < H; ++h) {
                flat_row<G, T, W, P>(x + (c * H + h) * W, xf + c * KW * G::XFs + (h + P) * G::OW,
                                     std::make_index_sequence<KW>{});
            }
        }
    }
    for (std::size_t c = 0; c < C; ++c) {
        std::size_t o0 = 0;
        for (; o0 + OB <= O; o0 += OB) {
            grad_kernel_flat_taps<G, T, Wl, C, KH, KW, OB, TB>(xf, dyf, dk, c, o0);
        }
        if constexpr (O % OB != 0) {
            grad_kernel_flat_taps<G, T, Wl, C, KH, KW, O % OB, TB>(xf, dyf, dk, c, O - O % OB);
        }
    }
}

/// Accumulators the channels-last ∂K block may hold on instruction set I (its other operands:
/// one vector of dY per channel vector, the weights' broadcasts folded into the multiply-adds).
template <isa I>
inline constexpr std::size_t budget_cl = isa_traits<I>::registers >= 32 ? 26 : 12;

/// Channels-last ∂K of kernel rows u0 .. u0 + UB of input channel c: dk[c, u, v, 0 .. Os) +=
/// Σ_{i, j} dyc[i, j, 0 .. Os)·xp[c, i + u, j + v], OV vectors of output channels.
template <class G, class T, std::size_t Wl, std::size_t KH, std::size_t KW, std::size_t OV,
          std::size_t UB>
CTGRAD_CONV_INLINE void grad_kernel_cl_block(const T* __restrict xp, const T* __restrict dyc,
                                             T* __restrict dk, std::size_t c, std::size_t u0) {
    vec<T, Wl> acc[UB][KW][OV];
#pragma GCC unroll 8
    for (std::size_t u = 0; u < UB; ++u) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < KW; ++v) {
#pragma GCC unroll 4
            for (std::size_t ov = 0; ov < OV; ++ov) acc[u][v][ov] = vec<T, Wl>{};
        }
    }
    for (std::size_t i = 0; i < G::OH; ++i) {
        const T* xr = xp + (c * G::Hp + i + u0) * G::Wxs;
        const T* gr = dyc + G::dyc_at(0, i, 0);  // (dyc's or dycp's layout: padded_dyc)
        for (std::size_t j = 0; j < G::OW; ++j) {
            vec<T, Wl> g[OV];
#pragma GCC unroll 4
            for (std::size_t ov = 0; ov < OV; ++ov) load<Wl>(g[ov], gr + j * G::Os + ov * Wl);
            const T* xj = xr + j;
            opaque(xj);
#pragma GCC unroll 8
            for (std::size_t u = 0; u < UB; ++u) {
#pragma GCC unroll 8
                for (std::size_t v = 0; v < KW; ++v) {
                    const T w = xj[u * G::Wxs + v];
#pragma GCC unroll 4
                    for (std::size_t ov = 0; ov < OV; ++ov) acc[u][v][ov] += g[ov] * w;
                }
            }
        }
    }
#pragma GCC unroll 8
    for (std::size_t u = 0; u < UB; ++u) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < KW; ++v) {
            T* d = dk + ((c * KH + u0 + u) * KW + v) * G::Os;
#pragma GCC unroll 4
            for (std::size_t ov = 0; ov < OV; ++ov) {
                vec<T, Wl> old;
                load<Wl>(old, d + ov * Wl);
                old += acc[u][v][ov];
                store<Wl>(d + ov * Wl, old);
            }
        }
    }
}

/// dk [C, KH, KW, Os] += Σ dY·xp of one image, channels-last: dY in dyc [OH, OW, Os] (its
/// lanes for channels O .. Os zero).
template <class G, class T, isa I, std::size_t C, std::size_t KH, std::size_t KW>
CTGRAD_CONV_INLINE void grad_kernel_cl_body(const T* __restrict xp, const T* __restrict dyc,
                                            T* __restrict dk) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t OV = G::Os / Wl;
    constexpr std::size_t cap = budget_cl<I> / (OV * KW) > 0 ? budget_cl<I> / (OV * KW) : 1;
    constexpr std::size_t UB = even_block(KH, cap);
    for (std::size_t c = 0; c < C; ++c) {
        std::size_t u0 = 0;
        for (; u0 + UB <= KH; u0 += UB) {
            grad_kernel_cl_block<G, T, Wl, KH, KW, OV, UB>(xp, dyc, dk, c, u0);
        }
        if constexpr (KH % UB != 0) {
            grad_kernel_cl_block<G, T, Wl, KH, KW, OV, KH % UB>(xp, dyc, dk, c, KH - KH % UB);
        }
    }
}

/// Rows h .. h + HB (padded-image coordinates) of dX for channels c0 .. c0 + CB, JV vectors a
/// row, stored into rows [CB][HB][Wps] of buf.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t O, std::size_t KH,
          std::size_t KW, std::size_t CB, std::size_t HB, std::size_t JV>
CTGRAD_CONV_INLINE void grad_image_block(const T* __restrict dyp, const T* __restrict k,
                                         T* __restrict buf, std::size_t h, std::size_t c0) {
    vec<T, Wl> acc[CB][HB][JV];
#pragma GCC unroll 24
    for (std::size_t c = 0; c < CB; ++c) {
#pragma GCC unroll 2
        for (std::size_t r = 0; r < HB; ++r) {
#pragma GCC unroll 8
            for (std::size_t jv = 0; jv < JV; ++jv) acc[c][r][jv] = vec<T, Wl>{};
        }
    }
    // only the kernel rows u that meet a row of dY (0 ≤ h + r − u < OH for some r < HB): the
    // others would multiply dyp's zero rows
    const std::size_t u_lo = h + 1 > G::OH ? h + 1 - G::OH : 0;
    const std::size_t u_end = h + HB < KH ? h + HB : KH;
    for (std::size_t o = 0; o < O; ++o) {
        for (std::size_t u = u_lo; u < u_end; ++u) {
            const T* kr = k + (o * C + c0) * KH * KW + u * KW;
            // dY row h + r − u is dyp row h + r − u + KH − 1
            const T* gr = dyp + (o * G::RY + h + KH - 1 - u) * G::WYs + G::DA;
#pragma GCC unroll 8
            for (std::size_t v = 0; v < KW; ++v) {
                vec<T, Wl> g[HB][JV];
#pragma GCC unroll 2
                for (std::size_t r = 0; r < HB; ++r) {
#pragma GCC unroll 8
                    for (std::size_t jv = 0; jv < JV; ++jv) {
                        load<Wl>(g[r][jv], gr + r * G::WYs + jv * Wl - v);
                        in_register(g[r][jv]);
                    }
                }
#pragma GCC unroll 24
                for (std::size_t c = 0; c < CB; ++c) {
                    const T w = kr[c * KH * KW + v];
#pragma GCC unroll 2
                    for (std::size_t r = 0; r < HB; ++r) {
#pragma GCC unroll 8
                        for (std::size_t jv = 0; jv < JV; ++jv) acc[c][r][jv] += g[r][jv] * w;
                    }
                }
            }
        }
    }
#pragma GCC unroll 24
    for (std::size_t c = 0; c < CB; ++c) {
#pragma GCC unroll 2
        for (std::size_t r = 0; r < HB; ++r) {
#pragma GCC unroll 8
            for (std::size_t jv = 0; jv < JV; ++jv) {
                store<Wl>(buf + (c * HB + r) * G::Wps + jv * Wl, acc[c][r][jv]);
            }
        }
    }
}

/// dX rows of one channel block, copied out of buf (the padding's columns dropped).
template <class G, class T, bool Acc, std::size_t H, std::size_t W, std::size_t P, std::size_t CB,
          std::size_t HB>
CTGRAD_CONV_INLINE void put_rows(const T* __restrict buf, T* __restrict dx, std::size_t h,
                                 std::size_t c0) {
    for (std::size_t c = 0; c < CB; ++c) {
        for (std::size_t r = 0; r < HB; ++r) {
            const T* src = buf + (c * HB + r) * G::Wps + P;
            T* dst = dx + ((c0 + c) * H + h + r - P) * W;
            for (std::size_t w = 0; w < W; ++w) {
                if constexpr (Acc) {
                    dst[w] += src[w];
                } else {
                    dst[w] = src[w];
                }
            }
        }
    }
}

template <class G, class T, std::size_t Wl, bool Acc, std::size_t C, std::size_t H, std::size_t W,
          std::size_t O, std::size_t KH, std::size_t KW, std::size_t P, std::size_t CB,
          std::size_t JV>
CTGRAD_CONV_INLINE void grad_image_channels(const T* __restrict dyp, const T* __restrict k,
                                            T* __restrict dx, std::size_t c0) {
    alignas(64) T buf[CB * 2 * G::Wps];
    std::size_t h = P;
    for (; h + 2 <= P + H; h += 2) {
        grad_image_block<G, T, Wl, C, O, KH, KW, CB, 2, JV>(dyp, k, buf, h, c0);
        put_rows<G, T, Acc, H, W, P, CB, 2>(buf, dx, h, c0);
    }
    if constexpr (H % 2 != 0) {
        grad_image_block<G, T, Wl, C, O, KH, KW, CB, 1, JV>(dyp, k, buf, h, c0);
        put_rows<G, T, Acc, H, W, P, CB, 1>(buf, dx, h, c0);
    }
}

template <class G, class T, isa I, bool Acc, std::size_t C, std::size_t H, std::size_t W,
          std::size_t O, std::size_t KH, std::size_t KW, std::size_t P>
CTGRAD_CONV_INLINE void grad_image_body(const T* __restrict dyp, const T* __restrict k,
                                        T* __restrict dx) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t JV = (G::Wp + Wl - 1) / Wl;
    constexpr std::size_t cap = budget<I> / (2 * JV) > 0 ? budget<I> / (2 * JV) : 1;
    constexpr std::size_t CB = even_block(C, cap);
    std::size_t c0 = 0;
    for (; c0 + CB <= C; c0 += CB) {
        grad_image_channels<G, T, Wl, Acc, C, H, W, O, KH, KW, P, CB, JV>(dyp, k, dx, c0);
    }
    if constexpr (C % CB != 0) {
        grad_image_channels<G, T, Wl, Acc, C, H, W, O, KH, KW, P, C % CB, JV>(dyp, k, dx,
                                                                              C - C % CB);
    }
}

#if CTGRAD_CONV_POOL2
/// The even (Odd: odd) lanes of the 2W numbers a ++ b.
template <std::size_t Odd, class V, std::size_t... L>
CTGRAD_CONV_INLINE void deinterleave(V& out, const V& a, const V& b, std::index_sequence<L...>) {
    out = __builtin_shufflevector(a, b, (2 * L + Odd)...);
}
/// Lanes Half·W/2 ... of a and b interleaved.
template <std::size_t Half, class V, std::size_t... L>
CTGRAD_CONV_INLINE void interleave(V& out, const V& a, const V& b, std::index_sequence<L...>) {
    constexpr std::size_t W = sizeof...(L);
    out = __builtin_shufflevector(a, b, (L % 2 != 0 ? W : 0) + Half * (W / 2) + L / 2 ...);
}
/// r = m ? a : b lane by lane (m all ones or all zeros per lane).
template <class V, class M>
CTGRAD_CONV_INLINE void select(V& r, const M& m, const V& a, const V& b) {
    r = (V)((m & (M)a) | (~m & (M)b));
}

/// p[Off .. N) = lanes Off .. N of v, in pieces of 2^k lanes taken out of v by shuffles (a
/// vector stored whole and read back in pieces waits for the store: GCC's memcpy of N lanes).
template <std::size_t N, std::size_t Off, class T, class V>
CTGRAD_CONV_INLINE void store_lanes(T* __restrict p, const V& v) {
    if constexpr (Off < N) {
        constexpr std::size_t left = N - Off;
        constexpr std::size_t piece = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        if constexpr (piece == 1) {
            p[Off] = v[Off];
        } else if constexpr (piece == sizeof(V) / sizeof(T)) {
            store<piece>(p + Off, v);
        } else {
            [&]<std::size_t... L>(std::index_sequence<L...>) {
                const vec<T, piece> part = __builtin_shufflevector(v, v, (Off + L)...);
                store<piece>(p + Off, part);
            }
            (std::make_index_sequence<piece>{});
        }
        store_lanes<N, Off + piece>(p, v);
    }
}

/// The 2 × 2 window's maximum from its four candidates c0 … c3 (positions u·2 + v = the constants
/// zero … three), b added to each when Bias: m = the largest, at = where the first largest is,
/// relu'd when Relu (at = none where relu'(m) = 0). Shared by pool_window (row forms) and the
/// channels-last fused forward (whose candidates are four accumulators).
template <bool Relu, bool Bias, class V>
CTGRAD_CONV_INLINE void pool_candidates(V& m, V& at, const V& a0, const V& a1, const V& a2,
                                        const V& a3, const V& b, const V& zero, const V& one,
                                        const V& two, const V& three, const V& none) {
    // By reference: a vector passed by value changes the ABI where the ISA lacks its width
    // (clang++ -Wpsabi at -O0, where always_inline does not hide the call).
    V c0 = a0, c1 = a1, c2 = a2, c3 = a3;
    if constexpr (Bias) {
        c0 += b;
        c1 += b;
        c2 += b;
        c3 += b;
    }
    m = c0;
    at = zero;
    select(at, c1 > m, one, at);
    select(m, c1 > m, c1, m);
    select(at, c2 > m, two, at);
    select(m, c2 > m, c2, m);
    select(at, c3 > m, three, at);
    select(m, c3 > m, c3, m);
    if constexpr (Relu) {
        select(at, m > zero, at, none);
        select(m, m <= zero, zero, m);
    }
}

/// One 2 × 2 pooling window per lane: pool_candidates of row 0's vectors a0, b0 and row 1's a1,
/// b1, each pair deinterleaved into even and odd columns. Shared by pool2_body and the fused
/// forward_pool2 row kernels.
template <bool Relu, bool Bias, class V, std::size_t... L>
CTGRAD_CONV_INLINE void pool_window(V& m, V& at, const V& a0, const V& b0, const V& a1, const V& b1,
                                    const V& b, const V& zero, const V& one, const V& two,
                                    const V& three, const V& none, std::index_sequence<L...> idx) {
    V c0, c1, c2, c3;
    deinterleave<0>(c0, a0, b0, idx);
    deinterleave<1>(c1, a0, b0, idx);
    deinterleave<0>(c2, a1, b1, idx);
    deinterleave<1>(c3, a1, b1, idx);
    pool_candidates<Relu, Bias>(m, at, c0, c1, c2, c3, b, zero, one, two, three, none);
}

/// The 2 × 2 max pooling of b + y for one image (y [O, OH, OWs]): out [O, OH/2, OW/2] = the
/// maxima (relu'd when Relu), Save: where = the first maximum's position u·2 + v, or −1 where
/// relu'(maximum) = 0. W pooled numbers at a time from two pairs of vectors.
template <class G, class T, std::size_t Wl, std::size_t O, bool Relu, bool Bias, bool Save>
CTGRAD_CONV_INLINE void pool2_body(const T* __restrict y, const T* __restrict bias,
                                   T* __restrict out, T* __restrict where) {
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at "
                  "most 16 numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large");
    using V = vec<T, Wl>;
    constexpr auto idx = std::make_index_sequence<Wl>{};
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2, chunks = (PW + Wl - 1) / Wl;
    const V zero = V{}, one = V{} + T(1), two = V{} + T(2), three = V{} + T(3), none = V{} - T(1);
    constexpr std::size_t last = PW - (chunks - 1) * Wl;  // pooled columns of the last chunk
    for (std::size_t o = 0; o < O; ++o) {
        const V b = V{} + (Bias ? bias[o] : T(0));
        for (std::size_t pi = 0; pi < PH; ++pi) {
            const T* r0 = y + (o * G::OH + 2 * pi) * G::OWs;
            const T* r1 = r0 + G::OWs;
            for (std::size_t t = 0; t < chunks; ++t) {
                V a0, b0, a1, b1, m, at;
                load<Wl>(a0, r0 + 2 * t * Wl);
                load<Wl>(b0, r0 + 2 * t * Wl + Wl);
                load<Wl>(a1, r1 + 2 * t * Wl);
                load<Wl>(b1, r1 + 2 * t * Wl + Wl);
                pool_window<Relu, Bias>(m, at, a0, b0, a1, b1, b, zero, one, two, three, none, idx);
                // straight into out (and where), as forward_pool2_block does: a whole vector
                // where it stays inside the image (the lanes past the row land in later rows,
                // written after this one), the last chunk's lanes alone at the image's end
                // (through a stack row, these were read back as scalars after a vector store:
                // a store-forwarding stall per pooled row)
                const std::size_t at_out = (o * PH + pi) * PW + t * Wl;
                if (at_out + Wl <= O * PH * PW) {
                    store<Wl>(out + at_out, m);
                    if constexpr (Save) store<Wl>(where + at_out, at);
                } else {
                    store_lanes<last, 0>(out + at_out, m);
                    if constexpr (Save) store_lanes<last, 0>(where + at_out, at);
                }
            }
        }
    }
}

/// The channels-last forward fused with the 2 × 2 pooling (`forward_pool2` when
/// G::fwd_channels_last, with 32 vector registers), one block: pooled row pi, pooled columns q0 ..
/// q0 + QB, output channels ov·Wl .. (ov + 1)·Wl. Its accumulators are y rows 2pi and 2pi + 1 ×
/// the 2·QB y columns of those windows, each a vector of Wl output channels: per kernel tap one
/// vector of kc [C, KH, KW, Os] and one broadcast number of xp per multiply-add (folded into it),
/// every lane useful when O fills the vectors (LeNet's conv2: 16 channels, where a 10-wide row
/// fills 10 of 16 lanes); summed in the order of forward_block (the same numbers). The windows'
/// maxima (as pool2_body: bias, first maximum, relu) go to mrow / wrow [QB][Os] at q0.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t QB, bool Relu, bool Bias, bool Save>
CTGRAD_CONV_INLINE void forward_pool2_cl_block(const T* __restrict xp, const T* __restrict kc,
                                               const T* __restrict bpad, T* __restrict mrow,
                                               T* __restrict wrow, std::size_t pi, std::size_t q0,
                                               std::size_t ov) {
    using V = vec<T, Wl>;
    V acc[2][2 * QB];
#pragma GCC unroll 2
    for (std::size_t r = 0; r < 2; ++r) {
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 2 * QB; ++j) acc[r][j] = V{};
    }
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            const T* x0 = xp + (c * G::Hp + 2 * pi + u) * G::Wxs + 2 * q0;
            // (hidden: GCC would carry x[j + v] to the next v in scalar registers and spill)
            opaque(x0);
            const T* kr = kc + ((c * KH + u) * KW) * G::Os + ov * Wl;
#pragma GCC unroll 8
            for (std::size_t v = 0; v < KW; ++v) {
                V kv;
                load<Wl>(kv, kr + v * G::Os);
#pragma GCC unroll 2
                for (std::size_t r = 0; r < 2; ++r) {
#pragma GCC unroll 16
                    for (std::size_t j = 0; j < 2 * QB; ++j) {
                        acc[r][j] += kv * x0[r * G::Wxs + j + v];
                    }
                }
            }
        }
    }
    const V zero = V{}, one = V{} + T(1), two = V{} + T(2), three = V{} + T(3), none = V{} - T(1);
    V b;
    load<Wl>(b, bpad + ov * Wl);
#pragma GCC unroll 8
    for (std::size_t q = 0; q < QB; ++q) {
        V m, at;
        pool_candidates<Relu, Bias>(m, at, acc[0][2 * q], acc[0][2 * q + 1], acc[1][2 * q],
                                    acc[1][2 * q + 1], b, zero, one, two, three, none);
        store<Wl>(mrow + (q0 + q) * G::Os + ov * Wl, m);
        if constexpr (Save) store<Wl>(wrow + (q0 + q) * G::Os + ov * Wl, at);
    }
}

/// The channels-last forward of one image fused with the 2 × 2 pooling: each pooled row through
/// blocks of QB pooled columns (4·QB accumulators) per vector of output channels into mrow /
/// wrow [PW, Os] on the stack, then transposed into out [O, PH, PW] (and where).
template <class G, class T, isa I, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW,
          bool Relu, bool Bias, bool Save>
CTGRAD_CONV_INLINE void forward_pool2_cl_body(const T* __restrict xp, const T* __restrict kc,
                                              const T* __restrict bias, T* __restrict out,
                                              T* __restrict where) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2, OV = G::Os / Wl;
    constexpr std::size_t QB = even_block(PW, budget_cl<I> / 4 > 0 ? budget_cl<I> / 4 : 1);
    alignas(64) T bpad[G::Os] = {};
    if constexpr (Bias) {
        for (std::size_t o = 0; o < O; ++o) bpad[o] = bias[o];
    }
    alignas(64) T mrow[PW * G::Os], wrow[Save ? PW * G::Os : 1];
    for (std::size_t pi = 0; pi < PH; ++pi) {
        for (std::size_t ov = 0; ov < OV; ++ov) {
            std::size_t q0 = 0;
            for (; q0 + QB <= PW; q0 += QB) {
                forward_pool2_cl_block<G, T, Wl, C, KH, KW, QB, Relu, Bias, Save>(
                    xp, kc, bpad, mrow, wrow, pi, q0, ov);
            }
            if constexpr (PW % QB != 0) {
                forward_pool2_cl_block<G, T, Wl, C, KH, KW, PW % QB, Relu, Bias, Save>(
                    xp, kc, bpad, mrow, wrow, pi, PW - PW % QB, ov);
            }
        }
        for (std::size_t o = 0; o < O; ++o) {
            T* orow = out + (o * PH + pi) * PW;
#pragma GCC unroll 8
            for (std::size_t q = 0; q < PW; ++q) orow[q] = mrow[q * G::Os + o];
            if constexpr (Save) {
                T* wr = where + (o * PH + pi) * PW;
#pragma GCC unroll 8
                for (std::size_t q = 0; q < PW; ++q) wr[q] = wrow[q * G::Os + o];
            }
        }
    }
}

/// The forward fused with the 2 × 2 max pooling (`forward_pool2`), one block: pooled row pi,
/// pooled columns t·Wl .. t·Wl + Valid (chunk t) of output channels o0 .. o0 + OB. Its register
/// block is y rows 2pi and 2pi + 1 × the NV vectors of each that the chunk's windows cover (2,
/// or 1 when the pooled row ends in the first half of the chunk) × OB channels, summed in the
/// order of forward_block (the same numbers); then pooled in registers as pool2_body pools y
/// (bias, first maximum, relu) and stored straight into out [O, PH, PW] (and where): y never
/// goes through memory.
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t KH, std::size_t KW,
          std::size_t OB, std::size_t NV, std::size_t Valid, bool Relu, bool Bias, bool Save>
CTGRAD_CONV_INLINE void forward_pool2_block(const T* __restrict xp, const T* __restrict k,
                                            const T* __restrict bias, T* __restrict out,
                                            T* __restrict where, std::size_t pi, std::size_t t,
                                            std::size_t o0) {
    using V = vec<T, Wl>;
    constexpr auto idx = std::make_index_sequence<Wl>{};
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2;
    V acc[OB][2][NV];
#pragma GCC unroll 16
    for (std::size_t o = 0; o < OB; ++o) {
#pragma GCC unroll 2
        for (std::size_t r = 0; r < 2; ++r) {
#pragma GCC unroll 2
            for (std::size_t n = 0; n < NV; ++n) acc[o][r][n] = V{};
        }
    }
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            const T* x0 = xp + (c * G::Hp + 2 * pi + u) * G::Wxs + 2 * t * Wl;
            // (row 1 at u is row 0 at u + 1: hidden, or GCC carries the KW·NV vectors from one
            // u to the next and spills accumulators)
            opaque(x0);
            const T* kr = k + (o0 * C + c) * KH * KW + u * KW;
#pragma GCC unroll 8
            for (std::size_t v = 0; v < KW; ++v) {
                V xv[2][NV];
#pragma GCC unroll 2
                for (std::size_t r = 0; r < 2; ++r) {
#pragma GCC unroll 2
                    for (std::size_t n = 0; n < NV; ++n) {
                        load<Wl>(xv[r][n], x0 + r * G::Wxs + v + n * Wl);
                        in_register(xv[r][n]);
                    }
                }
#pragma GCC unroll 16
                for (std::size_t o = 0; o < OB; ++o) {
                    const T w = kr[o * C * KH * KW + v];
#pragma GCC unroll 2
                    for (std::size_t r = 0; r < 2; ++r) {
#pragma GCC unroll 2
                        for (std::size_t n = 0; n < NV; ++n) acc[o][r][n] += xv[r][n] * w;
                    }
                }
            }
        }
    }
    const V zero = V{}, one = V{} + T(1), two = V{} + T(2), three = V{} + T(3), none = V{} - T(1);
#pragma GCC unroll 16
    for (std::size_t o = 0; o < OB; ++o) {
        const V b = V{} + (Bias ? bias[o0 + o] : T(0));
        const V& a0 = acc[o][0][0];
        const V& a1 = acc[o][1][0];
        const V& b0 = acc[o][0][NV - 1];  // (NV = 1: lanes past the pooled row, never stored)
        const V& b1 = acc[o][1][NV - 1];
        V m, at;
        pool_window<Relu, Bias>(m, at, a0, b0, a1, b1, b, zero, one, two, three, none, idx);
        const std::size_t at_out = ((o0 + o) * PH + pi) * PW + t * Wl;
        if (Valid == Wl || pi * PW + t * Wl + Wl <= PH * PW) {
            // a whole vector: the lanes past the chunk land in later rows of the channel (written
            // after this one: pooled rows are the outer loop)
            store<Wl>(out + at_out, m);
            if constexpr (Save) store<Wl>(where + at_out, at);
        } else {
            store_lanes<Valid, 0>(out + at_out, m);
            if constexpr (Save) store_lanes<Valid, 0>(where + at_out, at);
        }
    }
}

/// The output channels of chunk t in blocks of OB (the last O % OB).
template <class G, class T, std::size_t Wl, std::size_t C, std::size_t O, std::size_t KH,
          std::size_t KW, std::size_t OB, std::size_t NV, std::size_t Valid, bool Relu, bool Bias,
          bool Save>
CTGRAD_CONV_INLINE void forward_pool2_chunk(const T* __restrict xp, const T* __restrict k,
                                            const T* __restrict bias, T* __restrict out,
                                            T* __restrict where, std::size_t pi, std::size_t t) {
    std::size_t o0 = 0;
    for (; o0 + OB <= O; o0 += OB) {
        forward_pool2_block<G, T, Wl, C, KH, KW, OB, NV, Valid, Relu, Bias, Save>(xp, k, bias, out,
                                                                                  where, pi, t, o0);
    }
    if constexpr (O % OB != 0) {
        forward_pool2_block<G, T, Wl, C, KH, KW, O % OB, NV, Valid, Relu, Bias, Save>(
            xp, k, bias, out, where, pi, t, O - O % OB);
    }
}

/// The forward of one image fused with the 2 × 2 max pooling: out [O, OH/2, OW/2] = the pooled
/// maxima of b + K ⋆ xp (relu'd when Relu; Save: where = their positions), the same numbers as
/// forward_body then pool2_body without y. Pooled rows one at a time, in chunks of Wl pooled
/// columns: the full chunks with two vectors per y row, the last with one when its windows end
/// in the first vector (LeNet's conv2: 5 pooled columns of 10 y columns).
///
/// Taken with 32 vector registers (AVX-512: two rows × two vectors × 6 channels fill 24
/// accumulators); with 16 the blocks get too small (LeNet's conv2 on AVX2: slower than the
/// separate kernels), and this runs forward_body into y then pool2_body, as before. With 32
/// registers and G::fwd_channels_last, k is the kernel channels-last, kc [C, KH, KW, Os]
/// (conv_kernels::forward_pool2_channels_last), and forward_pool2_cl_body runs.
template <class G, class T, isa I, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW,
          bool Relu, bool Bias, bool Save>
CTGRAD_CONV_INLINE void forward_pool2_body(const T* __restrict xp, const T* __restrict k,
                                           const T* __restrict bias, T* __restrict y,
                                           T* __restrict out, T* __restrict where) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at most 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2;
    if constexpr (isa_traits<I>::registers < 32) {
        forward_body<G, T, I, C, O, KH, KW>(xp, k, y);
        pool2_body<G, T, Wl, O, Relu, Bias, Save>(y, bias, out, where);
    } else if constexpr (G::fwd_channels_last) {
        forward_pool2_cl_body<G, T, I, C, O, KH, KW, Relu, Bias, Save>(xp, k, bias, out, where);
    } else if constexpr (PH > 0 && PW > 0) {
        constexpr std::size_t chunks = (PW + Wl - 1) / Wl;
        constexpr std::size_t last = PW - (chunks - 1) * Wl;  // pooled columns of the last chunk
        constexpr std::size_t NVL = 2 * last > Wl ? 2 : 1;
        constexpr std::size_t OBF = even_block(O, budget<I> / 4 > 0 ? budget<I> / 4 : 1);
        constexpr std::size_t OBL =
            even_block(O, budget<I> / (2 * NVL) > 0 ? budget<I> / (2 * NVL) : 1);
        for (std::size_t pi = 0; pi < PH; ++pi) {
            for (std::size_t t = 0; t + 1 < chunks; ++t) {
                forward_pool2_chunk<G, T, Wl, C, O, KH, KW, OBF, 2, Wl, Relu, Bias, Save>(
                    xp, k, bias, out, where, pi, t);
            }
            forward_pool2_chunk<G, T, Wl, C, O, KH, KW, OBL, NVL, last, Relu, Bias, Save>(
                xp, k, bias, out, where, pi, chunks - 1);
        }
    }
}

/// The vector 0, 1, ..., W − 1.
template <class T, class V, std::size_t... L>
CTGRAD_CONV_INLINE void lane_index(V& out, std::index_sequence<L...>) {
    out = V{static_cast<T>(L)...};
}

/// Chunk t of a pooled row (Wl numbers of g and where from `at`, the row's PW numbers starting
/// at at − t·Wl) for the unpooling: gv, wv loaded as vectors straight from g and where, except
/// where a vector would read past the image's `total` numbers and the `readable` ones after it
/// (there through the scratch rows grow, wrow: not everywhere, as a vector load of numbers just
/// stored one by one waits for the stores to retire); the lanes past the row's end masked out
/// (their where set to none = −1: no window position). Shared by unpool2_body and
/// unpool2_flat_body.
template <std::size_t PW, std::size_t total, std::size_t Wl, class T, class V>
CTGRAD_CONV_INLINE void load_pooled_chunk(V& gv, V& wv, const T* __restrict g,
                                          const T* __restrict where, std::size_t at, std::size_t t,
                                          std::size_t readable, const V& lane, const V& none,
                                          T* __restrict grow, T* __restrict wrow) {
    // (the scratch path is taken by the last image's last chunks only; with the hint GCC lays
    // the loop out for the vector loads: callgrind, bench/README.md "Leftovers, ninth pass")
    if (__builtin_expect(at + Wl <= total + readable, 1)) {
        load<Wl>(gv, g + at);
        load<Wl>(wv, where + at);
    } else {
        for (std::size_t j = 0; j < Wl; ++j) {
            const bool in = t * Wl + j < PW;
            grow[j] = in ? g[at + j] : T(0);
            wrow[j] = in ? where[at + j] : T(-1);
        }
        load<Wl>(gv, grow);
        load<Wl>(wv, wrow);
    }
    // (the mask kept in a register: GCC otherwise folds it into inserts of −1 into the last
    // lanes, one extract and insert per lane pair)
    auto inside = lane < V{} + static_cast<T>(PW - t * Wl);
    in_register(inside);
    select(wv, inside, wv, none);
}

/// ∂Y of one image through the 2 × 2 pooling into the interior of dyp (G::dy_at): g at each
/// window's kept position (where), 0 elsewhere; every interior number (and the padding columns
/// the vectors cover, with 0) is written. Each row of g and where is read as whole vectors
/// straight from them (the lanes past the row's end masked out: their where set to −1), except
/// where a vector would read past the image's end and the `readable` numbers after it (the
/// last image of a batch): there through a scratch row (not
/// everywhere: a vector load of numbers just stored one by one waits for the stores to retire).
template <class G, class T, std::size_t Wl, std::size_t O>
CTGRAD_CONV_INLINE void unpool2_body(const T* __restrict g, const T* __restrict where,
                                     T* __restrict dyp, std::size_t readable) {
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at "
                  "most 16 numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large");
    using V = vec<T, Wl>;
    constexpr auto idx = std::make_index_sequence<Wl>{};
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2, chunks = (PW + Wl - 1) / Wl;
    constexpr std::size_t total = O * PH * PW;
    const V zero = V{}, one = V{} + T(1), two = V{} + T(2), three = V{} + T(3), none = V{} - T(1);
    V lane;
    lane_index<T>(lane, idx);
    alignas(64) T grow[Wl], wrow[Wl];
    for (std::size_t o = 0; o < O; ++o) {
        for (std::size_t pi = 0; pi < PH; ++pi) {
            const std::size_t q = (o * PH + pi) * PW;
            T* d0 = dyp + G::dy_at(o, 2 * pi, 0);
            T* d1 = dyp + G::dy_at(o, 2 * pi + 1, 0);
            for (std::size_t t = 0; t < chunks; ++t) {
                const std::size_t at = q + t * Wl;
                V gv, wv, p, q2, lo, hi;
                load_pooled_chunk<PW, total, Wl>(gv, wv, g, where, at, t, readable, lane, none,
                                                 grow, wrow);
                select(p, wv == zero, gv, zero);
                select(q2, wv == one, gv, zero);
                interleave<0>(lo, p, q2, idx);
                interleave<1>(hi, p, q2, idx);
                store<Wl>(d0 + 2 * t * Wl, lo);
                store<Wl>(d0 + 2 * t * Wl + Wl, hi);
                select(p, wv == two, gv, zero);
                select(q2, wv == three, gv, zero);
                interleave<0>(lo, p, q2, idx);
                interleave<1>(hi, p, q2, idx);
                store<Wl>(d1 + 2 * t * Wl, lo);
                store<Wl>(d1 + 2 * t * Wl + Wl, hi);
            }
        }
    }
}

/// ∂Y of one image through the fused 2 × 2 pooling into the channels-last layout of G
/// (G::dyc_at: dyc or dycp): g at each window's kept position (where), 0 elsewhere, the
/// channels as vectors; every number of the pooled windows and the lanes of channels O .. Os
/// (with 0) are written, the rows and columns a floor-pooling drops not. g and where first
/// transposed to [PH·PW, Os] with scalar copies (whole, so that the vector loads after them do
/// not wait for the copies' stores), then per pooled position and vector of channels one select
/// and store per window position.
template <class G, class T, std::size_t Wl, std::size_t O>
CTGRAD_CONV_INLINE void unpool2_cl_body(const T* __restrict g, const T* __restrict where,
                                        T* __restrict dyc, T* __restrict scratch) {
    using V = vec<T, Wl>;
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2, Q = PH * PW, OV = G::Os / Wl;
    T* gt = scratch;              // [Q, Os]
    T* wt = scratch + Q * G::Os;  // [Q, Os]
    for (std::size_t q = 0; q < Q; ++q) {
        for (std::size_t o = 0; o < O; ++o) {
            gt[q * G::Os + o] = g[o * Q + q];
            wt[q * G::Os + o] = where[o * Q + q];
        }
        for (std::size_t o = O; o < G::Os; ++o) {
            gt[q * G::Os + o] = T(0);
            wt[q * G::Os + o] = T(-1);
        }
    }
    const V zero = V{};
    V pos[4];
#pragma GCC unroll 4
    for (std::size_t k = 0; k < 4; ++k) pos[k] = V{} + static_cast<T>(k);
    for (std::size_t pi = 0; pi < PH; ++pi) {
        for (std::size_t pj = 0; pj < PW; ++pj) {
            const std::size_t q = pi * PW + pj;
#pragma GCC unroll 4
            for (std::size_t ov = 0; ov < OV; ++ov) {
                V gv, wv;
                load<Wl>(gv, gt + q * G::Os + ov * Wl);
                load<Wl>(wv, wt + q * G::Os + ov * Wl);
#pragma GCC unroll 4
                for (std::size_t k = 0; k < 4; ++k) {
                    V d;
                    select(d, wv == pos[k], gv, zero);
                    store<Wl>(dyc + G::dyc_at(ov * Wl, 2 * pi + k / 2, 2 * pj + k % 2), d);
                }
            }
        }
    }
}

// --- unpooling into the flat layout of grad_kernel_flat ---

/// ∂Y of one image through the fused 2 × 2 pooling into the flat layout dyf (G::dyf_at), as
/// unpool2_body does into dyp: each dY row written as whole pairs of vectors from its first
/// column, the numbers past the row's end (zeros: masked lanes) landing in the next row or
/// channel, which is written after it (the chunks of a row pair last to first), past the last
/// row at most 2·Wl − 1 numbers (geometry::dyf_size); the rows a
/// floor-pooling drops are never written otherwise (zero from the caller's clear).
template <class G, class T, std::size_t Wl, std::size_t O>
CTGRAD_CONV_INLINE void unpool2_flat_body(const T* __restrict g, const T* __restrict where,
                                          T* __restrict dyf, std::size_t readable) {
    static_assert(Wl <= lanes,
                  "ctgrad: the direct convolution kernels take vectors of at "
                  "most 16 numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large");
    using V = vec<T, Wl>;
    constexpr auto idx = std::make_index_sequence<Wl>{};
    constexpr std::size_t PH = G::OH / 2, PW = G::OW / 2, chunks = (PW + Wl - 1) / Wl;
    constexpr std::size_t total = O * PH * PW;
    const V zero = V{}, none = V{} - T(1);
    V lane;
    lane_index<T>(lane, idx);
    alignas(64) T grow[Wl], wrow[Wl];
    for (std::size_t o = 0; o < O; ++o) {
        for (std::size_t pi = 0; pi < PH; ++pi) {
            const std::size_t q = (o * PH + pi) * PW;
            // the chunks last to first, both rows from one load of g and where: row 2·pi's
            // numbers past its end (from its last chunk, fewer than 2·Wl) are then overwritten by
            // row 2·pi + 1's first chunk, stored last
            for (std::size_t tr = 0; tr < chunks; ++tr) {
                const std::size_t t = chunks - 1 - tr;
                const std::size_t at = q + t * Wl;
                V gv, wv, p, q2, lo, hi;
                load_pooled_chunk<PW, total, Wl>(gv, wv, g, where, at, t, readable, lane, none,
                                                 grow, wrow);
#pragma GCC unroll 2
                for (std::size_t h = 0; h < 2; ++h) {
                    T* d = dyf + G::dyf_at(o, 2 * pi + h, 0);
                    const V first = V{} + static_cast<T>(2 * h), second = first + T(1);
                    select(p, wv == first, gv, zero);
                    select(q2, wv == second, gv, zero);
                    interleave<0>(lo, p, q2, idx);
                    interleave<1>(hi, p, q2, idx);
                    store<Wl>(d + 2 * t * Wl, lo);
                    store<Wl>(d + 2 * t * Wl + Wl, hi);
                }
            }
        }
    }
}

/// Lane L of one half of a fold (Second: the second halves): the first half of each segment of
/// S lanes of a, then of b.
template <std::size_t S, std::size_t Wl, bool Second>
constexpr std::size_t fold_lane(std::size_t L) {
    const std::size_t h = Wl / 2, within = L % h;
    return L / h * Wl + within / (S / 2) * S + (Second ? S / 2 : 0) + within % (S / 2);
}
template <std::size_t S, bool Second, class V, std::size_t... L>
CTGRAD_CONV_INLINE void fold_half(V& out, const V& a, const V& b, std::index_sequence<L...>) {
    out = __builtin_shufflevector(a, b, fold_lane<S, sizeof...(L), Second>(L)...);
}

/// x[0 .. N) whose segments of S lanes each hold partial sums of one number into x[0 .. N/2)
/// with segments of S/2 lanes (the numbers in order), down to one lane each: x[0] then holds
/// the Wl sums across the lanes of the Wl vectors x, in order (2 shuffles and an add per pair).
template <std::size_t S, std::size_t N, class V, std::size_t Wl>
CTGRAD_CONV_INLINE void fold_sums(V (&x)[Wl]) {
    constexpr auto idx = std::make_index_sequence<Wl>{};
#pragma GCC unroll 8
    for (std::size_t i = 0; i < N / 2; ++i) {
        V a, b;
        fold_half<S, false>(a, x[2 * i], x[2 * i + 1], idx);
        fold_half<S, true>(b, x[2 * i], x[2 * i + 1], idx);
        x[i] = a + b;
    }
    if constexpr (S > 2) fold_sums<S / 2, N / 2>(x);
}

/// Channels-last ∂X of dX row h, pixels w0 .. w0 + PB, channels c0 .. c0 + CB (unpadded
/// coordinates): the vectors of partial sums over the output channels, red[c][w] =
/// Σ_{u, v} kc[c0 + c, u, v]·dycp[h + P − u, w + P − v] (kernel rows u_lo .. u_end: those that
/// meet a row of dY; kernel columns those that meet a column of dY for some pixel of the block,
/// the others reading dycp's zero columns), Wl lanes each, red rows Wr vectors apart.
template <class G, class T, std::size_t Wl, std::size_t KH, std::size_t KW, std::size_t P,
          std::size_t Wr, std::size_t CB, std::size_t PB>
CTGRAD_CONV_INLINE void grad_image_cl_block(const T* __restrict dyc, const T* __restrict kc,
                                            T* __restrict red, std::size_t h, std::size_t w0,
                                            std::size_t c0, std::size_t u_lo, std::size_t u_end) {
    constexpr std::size_t OV = G::Os / Wl;
    vec<T, Wl> acc[CB][PB];
#pragma GCC unroll 8
    for (std::size_t c = 0; c < CB; ++c) {
#pragma GCC unroll 8
        for (std::size_t p = 0; p < PB; ++p) acc[c][p] = vec<T, Wl>{};
    }
    const std::size_t wp = w0 + P;  // the block's first column in the padded image
    const std::size_t v_lo = wp + 1 > G::OW ? wp + 1 - G::OW : 0;
    const std::size_t v_end = wp + PB < KW ? wp + PB : KW;
    for (std::size_t u = u_lo; u < u_end; ++u) {
        // pixel p, kernel column v: dY column wp + p − v, at gr + (p − v)·Os
        const T* gr = dyc + ((h + P - u) * G::OWc + G::JA + wp) * G::Os;
        const T* kr = kc + (c0 * KH + u) * KW * G::Os;
        for (std::size_t v = v_lo; v < v_end; ++v) {
            // (hidden: GCC otherwise carries pixel p's vector of dY to pixel p + 1 of the next
            // column, one register move per pixel on the multiply-adds' ports, for one load)
            const T* gv = gr - v * G::Os;
            opaque(gv);
            const T* kv = kr + v * G::Os;
#pragma GCC unroll 4
            for (std::size_t ov = 0; ov < OV; ++ov) {
                vec<T, Wl> g[PB];
#pragma GCC unroll 8
                for (std::size_t p = 0; p < PB; ++p) {
                    load<Wl>(g[p], gv + p * G::Os + ov * Wl);
                    in_register(g[p]);
                }
#pragma GCC unroll 8
                for (std::size_t c = 0; c < CB; ++c) {
                    vec<T, Wl> w;
                    load<Wl>(w, kv + c * KH * KW * G::Os + ov * Wl);
                    in_register(w);
#pragma GCC unroll 8
                    for (std::size_t p = 0; p < PB; ++p) acc[c][p] += w * g[p];
                }
            }
        }
    }
#pragma GCC unroll 8
    for (std::size_t c = 0; c < CB; ++c) {
#pragma GCC unroll 8
        for (std::size_t p = 0; p < PB; ++p) store<Wl>(red + (c * Wr + w0 + p) * Wl, acc[c][p]);
    }
}

/// Channels-last ∂X block sizes on instruction set I: CB channels × PB pixels of a row (at most
/// G::JA + 1).
template <isa I>
inline constexpr std::size_t dx_cl_pixels = isa_traits<I>::registers >= 32 ? 4 : 2;
inline constexpr std::size_t dx_cl_channels = 6;

/// dX rows of channels c0 .. c0 + CB: per row, the blocks of pixels into red [CB, Wr, Wl], then
/// each run of Wl pixels summed across (fold_sums) into dX, a whole vector where it stays inside
/// the channel's plane (its lanes past the row, from red's zero pixels, add 0 to the next row's
/// first numbers, or are stored there before that row is), the plane's last row through a
/// scratch vector.
template <class G, class T, std::size_t Wl, bool Acc, std::size_t H, std::size_t W, std::size_t KH,
          std::size_t KW, std::size_t P, std::size_t Wr, std::size_t CB, std::size_t PB>
CTGRAD_CONV_INLINE void grad_image_cl_channels(const T* __restrict dyc, const T* __restrict kc,
                                               T* __restrict red, T* __restrict dx,
                                               std::size_t c0) {
    using V = vec<T, Wl>;
    for (std::size_t h = 0; h < H; ++h) {
        const std::size_t u_lo = h + P + 1 > G::OH ? h + P + 1 - G::OH : 0;
        const std::size_t u_end = h + P + 1 < KH ? h + P + 1 : KH;
        std::size_t w0 = 0;
        for (; w0 + PB <= W; w0 += PB) {
            grad_image_cl_block<G, T, Wl, KH, KW, P, Wr, CB, PB>(dyc, kc, red, h, w0, c0, u_lo,
                                                                 u_end);
        }
        if constexpr (W % PB != 0) {
            grad_image_cl_block<G, T, Wl, KH, KW, P, Wr, CB, W % PB>(dyc, kc, red, h, w0, c0, u_lo,
                                                                     u_end);
        }
        for (std::size_t c = 0; c < CB; ++c) {
            T* plane = dx + (c0 + c) * H * W;
            for (std::size_t w = 0; w < W; w += Wl) {
                V x[Wl];
#pragma GCC unroll 16
                for (std::size_t l = 0; l < Wl; ++l) load<Wl>(x[l], red + (c * Wr + w + l) * Wl);
                fold_sums<Wl, Wl>(x);
                const std::size_t at = h * W + w;
                if (at + Wl <= H * W) {
                    if constexpr (Acc) {
                        V old;
                        load<Wl>(old, plane + at);
                        x[0] += old;
                    }
                    store<Wl>(plane + at, x[0]);
                } else {
                    alignas(64) T s[Wl];
                    store<Wl>(s, x[0]);
                    for (std::size_t l = 0; l < W - w; ++l) {
                        if constexpr (Acc) {
                            plane[at + l] += s[l];
                        } else {
                            plane[at + l] = s[l];
                        }
                    }
                }
            }
        }
    }
}

/// dX [C, H, W] of one image (Acc: +=) = the transposed convolution of dY, channels-last: dY in
/// dycp [OH, OWc, Os] (geometry::dycp_size; zero outside dY and in the lanes of channels
/// O .. Os), the kernel as kc [C, KH, KW, Os] (kc[c, u, v, o] = K[o, c, u, v], zero for o ≥ O).
template <class G, class T, isa I, bool Acc, std::size_t C, std::size_t H, std::size_t W,
          std::size_t KH, std::size_t KW, std::size_t P>
CTGRAD_CONV_INLINE void grad_image_cl_body(const T* __restrict dyc, const T* __restrict kc,
                                           T* __restrict dx) {
    constexpr std::size_t Wl = lanes_on<T, I>;
    static_assert(Wl <= lanes && Wl >= 2 && G::Os % Wl == 0,
                  "ctgrad: the direct convolution kernels take vectors of 2 to 16 "
                  "numbers; CTGRAD_KERNELS_VECTOR_BYTES is too large for them");
    constexpr std::size_t CB = even_block(C, dx_cl_channels);
    constexpr std::size_t PB = dx_cl_pixels<I> < W ? dx_cl_pixels<I> : W;
    static_assert(PB <= G::JA + 1, "ctgrad: a pixel block reads past dycp's zero columns");
    constexpr std::size_t Wr = (W + Wl - 1) / Wl * Wl;
    alignas(64) T red[CB * Wr * Wl];
    // the pixels past the row: zero (the blocks never write them)
    for (std::size_t c = 0; c < CB; ++c) {
        for (std::size_t e = (c * Wr + W) * Wl; e < (c + 1) * Wr * Wl; ++e) red[e] = T(0);
    }
    std::size_t c0 = 0;
    for (; c0 + CB <= C; c0 += CB) {
        grad_image_cl_channels<G, T, Wl, Acc, H, W, KH, KW, P, Wr, CB, PB>(dyc, kc, red, dx, c0);
    }
    if constexpr (C % CB != 0) {
        grad_image_cl_channels<G, T, Wl, Acc, H, W, KH, KW, P, Wr, C % CB, PB>(dyc, kc, red, dx,
                                                                               c0);
    }
}
#endif

/// The compiled kernels of one instruction set (not inlined: one function per convolution and
/// instruction set).
#define CTGRAD_CONV_ENTRY(ISA, ATTRIBUTES)                                                         \
    template <>                                                                                    \
    struct entry<ISA> {                                                                            \
        template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>  \
        ATTRIBUTES static void forward(const T* __restrict xp, const T* __restrict k,              \
                                       T* __restrict y) {                                          \
            forward_body<G, T, ISA, C, O, KH, KW>(xp, k, y);                                       \
        }                                                                                          \
        template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>  \
        ATTRIBUTES static void grad_kernel(const T* __restrict xp, const T* __restrict dyp,        \
                                           T* __restrict dk) {                                     \
            grad_kernel_body<G, T, ISA, C, O, KH, KW>(xp, dyp, dk);                                \
        }                                                                                          \
        template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,    \
                  std::size_t KH, std::size_t KW, std::size_t P>                                   \
        ATTRIBUTES static void grad_kernel_shifted(const T* __restrict x, const T* __restrict dyp, \
                                                   T* __restrict xs, T* __restrict dk) {           \
            grad_kernel_shifted_body<G, T, ISA, C, H, W, O, KH, KW, P>(x, dyp, xs, dk);            \
        }                                                                                          \
        template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,    \
                  std::size_t KH, std::size_t KW, std::size_t P>                                   \
        ATTRIBUTES static void grad_kernel_flat(const T* __restrict x, const T* __restrict dyf,    \
                                                T* __restrict xf, T* __restrict dk) {              \
            grad_kernel_flat_body<G, T, ISA, C, H, W, O, KH, KW, P>(x, dyf, xf, dk);               \
        }                                                                                          \
        template <class G, class T, std::size_t C, std::size_t KH, std::size_t KW>                 \
        ATTRIBUTES static void grad_kernel_cl(const T* __restrict xp, const T* __restrict dyc,     \
                                              T* __restrict dk) {                                  \
            grad_kernel_cl_body<G, T, ISA, C, KH, KW>(xp, dyc, dk);                                \
        }                                                                                          \
        template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W,         \
                  std::size_t O, std::size_t KH, std::size_t KW, std::size_t P>                    \
        ATTRIBUTES static void grad_image(const T* __restrict dyp, const T* __restrict k,          \
                                          T* __restrict dx) {                                      \
            grad_image_body<G, T, ISA, Acc, C, H, W, O, KH, KW, P>(dyp, k, dx);                    \
        }                                                                                          \
        CTGRAD_CONV_POOL2_ENTRY(ISA, ATTRIBUTES)                                                   \
    };

#if CTGRAD_CONV_POOL2
#define CTGRAD_CONV_POOL2_ENTRY(ISA, ATTRIBUTES)                                                   \
    template <class G, class T, std::size_t O, bool Relu, bool Bias, bool Save>                    \
    ATTRIBUTES static void pool2(const T* __restrict y, const T* __restrict bias,                  \
                                 T* __restrict out, T* __restrict where) {                         \
        pool2_body<G, T, lanes_on<T, ISA>, O, Relu, Bias, Save>(y, bias, out, where);              \
    }                                                                                              \
    template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW,      \
              bool Relu, bool Bias, bool Save>                                                     \
    ATTRIBUTES static void forward_pool2(const T* __restrict xp, const T* __restrict k,            \
                                         const T* __restrict bias, T* __restrict y,                \
                                         T* __restrict out, T* __restrict where) {                 \
        forward_pool2_body<G, T, ISA, C, O, KH, KW, Relu, Bias, Save>(xp, k, bias, y, out, where); \
    }                                                                                              \
    template <class G, class T, std::size_t O>                                                     \
    ATTRIBUTES static void unpool2(const T* __restrict g, const T* __restrict where,               \
                                   T* __restrict dyp, std::size_t readable) {                      \
        unpool2_body<G, T, lanes_on<T, ISA>, O>(g, where, dyp, readable);                          \
    }                                                                                              \
    template <class G, class T, std::size_t O>                                                     \
    ATTRIBUTES static void unpool2_flat(const T* __restrict g, const T* __restrict where,          \
                                        T* __restrict dyf, std::size_t readable) {                 \
        unpool2_flat_body<G, T, lanes_on<T, ISA>, O>(g, where, dyf, readable);                     \
    }                                                                                              \
    template <class G, class T, std::size_t O>                                                     \
    ATTRIBUTES static void unpool2_cl(const T* __restrict g, const T* __restrict where,            \
                                      T* __restrict dyc, T* __restrict scratch) {                  \
        unpool2_cl_body<G, T, lanes_on<T, ISA>, O>(g, where, dyc, scratch);                        \
    }                                                                                              \
    template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W,             \
              std::size_t KH, std::size_t KW, std::size_t P>                                       \
    ATTRIBUTES static void grad_image_cl(const T* __restrict dyc, const T* __restrict kc,          \
                                         T* __restrict dx) {                                       \
        grad_image_cl_body<G, T, ISA, Acc, C, H, W, KH, KW, P>(dyc, kc, dx);                       \
    }
#else
#define CTGRAD_CONV_POOL2_ENTRY(ISA, ATTRIBUTES)
#endif

template <isa I>
struct entry;
CTGRAD_CONV_ENTRY(isa::target, [[gnu::noinline]])
#if CTGRAD_CONV_DISPATCH
CTGRAD_CONV_ENTRY(isa::avx2, __attribute__((noinline, target("avx2,fma"))))
CTGRAD_CONV_ENTRY(isa::avx512, __attribute__((noinline, target("avx512f,avx2,fma"))))
#endif
#undef CTGRAD_CONV_ENTRY
#undef CTGRAD_CONV_POOL2_ENTRY
#undef CTGRAD_CONV_INLINE
#endif  // CTGRAD_CONV_DIRECT

}  // namespace detail

#if CTGRAD_CONV_DIRECT
static_assert(CTGRAD_CONV_DISPATCH == kernels::detail::dispatches,
              "ctgrad: the convolution and matrix kernels must be compiled for the same "
              "instruction sets");

/// y [O, OH, OWs] = K ⋆ xp of one image (no bias), xp [C, Hp, Wxs] zero outside the image.
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void forward(const T* __restrict xp, const T* __restrict k, T* __restrict y) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template forward<G, T, C, O, KH, KW>(xp, k, y);
    });
}

/// The partial sums of dK [O, C, KH, KW] (`lanes` numbers per entry, zeroed by the caller and
/// summed across by the caller) += Σ dY·xp of one image, dY in the padded layout dyp (zero
/// outside it).
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void grad_kernel(const T* __restrict xp, const T* __restrict dyp, T* __restrict dk) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_kernel<G, T, C, O, KH, KW>(xp, dyp, dk);
    });
}

/// The geometry G with dY dense in y's layout [O, OH, OWs] (the columns from OW on zero) instead
/// of dyp's: the layout `grad_kernel_shifted` reads (dyp's rows, one vector of zeros on each
/// side of dY, put the rows of all output channels into half the sets of the L1 cache).
template <class G>
struct dense_dy : G {
    static constexpr std::size_t dy_at(std::size_t o, std::size_t i, std::size_t j) {
        return (o * G::OH + i) * G::OWs + j;
    }
};

/// Whether the flat ∂K runs on the active instruction set (vectors of 8 numbers or more: AVX2 and
/// AVX-512; with SSE2's 4 a geometry::dk_flat_or_shifted shape takes the shifted copies).
template <class T>
bool flat_dk_active() {
    bool wide = true;
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        wide = kernels::detail::lanes_on<T, decltype(I)::value> >= 8;
    });
    return wide;
}

/// The geometry G with dY in the flat layout of `grad_kernel_flat` (G::dyf_at) instead of dyp's.
template <class G>
struct flat_dy : G {
    static constexpr std::size_t dy_at(std::size_t o, std::size_t i, std::size_t j) {
        return G::dyf_at(o, i, j);
    }
};

/// The geometry G with dY channels-last in the padded layout of `grad_image_cl`, dycp
/// [OH, OWc, Os] (dY's rows with G::JA columns of zeros on each side) instead of dyc's.
template <class G>
struct padded_dyc : G {
    static constexpr std::size_t dyc_at(std::size_t o, std::size_t i, std::size_t j) {
        return (i * G::OWc + j + G::JA) * G::Os + o;
    }
};

/// The same partial sums as grad_kernel for one image x [C, H, W] (not padded), from its shifted
/// copies built into xs (G::xs_size numbers, zeroed by the caller before the first image,
/// 64-byte aligned for speed; when G::dk_shifted), dY in the layout of G (dense_dy<geometry> in
/// the convolution).
template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_kernel_shifted(const T* __restrict x, const T* __restrict dyp, T* __restrict xs,
                         T* __restrict dk) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_kernel_shifted<G, T, C, H, W, O, KH, KW,
                                                                        P>(x, dyp, xs, dk);
    });
}

/// The same partial sums as grad_kernel for one image x [C, H, W] (not padded), from its flat
/// copies built into xf (G::xf_size numbers, zeroed by the caller before the first image, 64-byte
/// aligned; when G::dk_flat), dY in the flat layout dyf [O, Qs] (G::dyf_at, zero past each
/// channel's OH·OW numbers).
template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_kernel_flat(const T* __restrict x, const T* __restrict dyf, T* __restrict xf,
                      T* __restrict dk) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_kernel_flat<G, T, C, H, W, O, KH, KW, P>(
            x, dyf, xf, dk);
    });
}

/// dK [C, KH, KW, G::Os] (zeroed by the caller) += Σ dY·xp of one image, channels-last (when
/// G::dk_channels_last): dY in dyc [OH, OW, Os], its lanes of channels O .. Os zero.
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void grad_kernel_cl(const T* __restrict xp, const T* __restrict dyc, T* __restrict dk) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_kernel_cl<G, T, C, KH, KW>(xp, dyc, dk);
    });
}

/// dX [C, H, W] of one image = (Acc: +=) the transposed convolution of dY (padded layout dyp).
template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_image(const T* __restrict dyp, const T* __restrict k, T* __restrict dx) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_image<G, T, Acc, C, H, W, O, KH, KW, P>(
            dyp, k, dx);
    });
}
#endif

/// Whether `pool2` and `unpool2` exist (GCC 12 or later, or Clang: __builtin_shufflevector).
inline constexpr bool has_pool2 = CTGRAD_CONV_POOL2 != 0;

#if CTGRAD_CONV_POOL2
/// The fused 2 × 2 max pooling of b + y (y [O, OH, OWs]) into out [O, OH/2, OW/2] and (Save)
/// the kept positions (see detail::pool2_body).
template <class G, class T, std::size_t O, bool Relu, bool Bias, bool Save>
void pool2(const T* __restrict y, const T* __restrict bias, T* __restrict out,
           T* __restrict where) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template pool2<G, T, O, Relu, Bias, Save>(y, bias, out,
                                                                                     where);
    });
}

/// Whether forward_pool2 of geometry G takes the kernel channels-last, kc [C, KH, KW, Os] (lanes
/// O .. Os zero), on the instruction set this process runs: G::fwd_channels_last and 32 vector
/// registers.
template <class G>
bool forward_pool2_channels_last() {
    bool cl = false;
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        cl = G::fwd_channels_last &&
             kernels::detail::isa_traits<decltype(I)::value>::registers >= 32;
    });
    return cl;
}

/// out [O, OH/2, OW/2] = the 2 × 2 max pooling of b + K ⋆ xp of one image (relu'd when Relu;
/// Save: where = the kept positions), without y: the same numbers as `forward` then `pool2`
/// (see detail::forward_pool2_body; y [O, OH, OWs] is scratch, zero between OW and OWs, for
/// the instruction sets that run forward then pool2).
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW, bool Relu,
          bool Bias, bool Save>
void forward_pool2(const T* __restrict xp, const T* __restrict k, const T* __restrict bias,
                   T* __restrict y, T* __restrict out, T* __restrict where) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template forward_pool2<G, T, C, O, KH, KW, Relu, Bias,
                                                                  Save>(xp, k, bias, y, out, where);
    });
}

/// dX [C, H, W] of one image = (Acc: +=) the transposed convolution of dY, channels-last (when
/// G::dx_channels_last; see detail::grad_image_cl_body): dY in dycp [OH, OWc, Os] (zero outside
/// it), the kernel as kc [C, KH, KW, Os].
template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W, std::size_t KH,
          std::size_t KW, std::size_t P>
void grad_image_cl(const T* __restrict dyc, const T* __restrict kc, T* __restrict dx) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template grad_image_cl<G, T, Acc, C, H, W, KH, KW, P>(
            dyc, kc, dx);
    });
}

/// ∂Y of one image through the fused 2 × 2 pooling into the channels-last layout of G (dyc or
/// dycp, G::dyc_at; see detail::unpool2_cl_body), through scratch (2·(OH/2)·(OW/2)·Os numbers).
template <class G, class T, std::size_t O>
void unpool2_cl(const T* __restrict g, const T* __restrict where, T* __restrict dyc,
                T* __restrict scratch) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template unpool2_cl<G, T, O>(g, where, dyc, scratch);
    });
}

/// ∂Y of one image through the fused 2 × 2 pooling into the flat layout dyf of
/// grad_kernel_flat (G::dyf_size numbers, zeroed by the caller before the first image; see
/// detail::unpool2_flat_body); `readable` as for unpool2.
template <class G, class T, std::size_t O>
void unpool2_flat(const T* __restrict g, const T* __restrict where, T* __restrict dyf,
                  std::size_t readable = 0) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template unpool2_flat<G, T, O>(g, where, dyf, readable);
    });
}

/// ∂Y of one image through the fused 2 × 2 pooling into dyp (see detail::unpool2_body);
/// `readable` numbers of g and where after the image's may be read (the next image's: its lanes
/// are masked out), so that the last vectors of a row need no scratch row (whose vector load
/// waits for the numbers stored into it one by one: a fifth of unpool2's time in LeNet's conv1).
template <class G, class T, std::size_t O>
void unpool2(const T* __restrict g, const T* __restrict where, T* __restrict dyp,
             std::size_t readable = 0) {
    kernels::detail::on_isa(kernels::active_isa(), [&](auto I) {
        detail::entry<decltype(I)::value>::template unpool2<G, T, O>(g, where, dyp, readable);
    });
}
#endif

#if !CTGRAD_CONV_DIRECT
// Without vector extensions the direct kernels do not exist (`available` is false, and the
// convolution never calls them); these declarations keep the calls well-formed.
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void forward(const T*, const T*, T*) {}
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void grad_kernel(const T*, const T*, T*) {}
template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_kernel_shifted(const T*, const T*, T*, T*) {}
template <class G, class T, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_kernel_flat(const T*, const T*, T*, T*) {}
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW>
void grad_kernel_cl(const T*, const T*, T*) {}
template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t P>
void grad_image(const T*, const T*, T*) {}
#endif
#if !CTGRAD_CONV_POOL2
// Likewise without __builtin_shufflevector (`has_pool2` is false).
template <class G, class T, std::size_t O, bool Relu, bool Bias, bool Save>
void pool2(const T*, const T*, T*, T*) {}
template <class G, class T, std::size_t C, std::size_t O, std::size_t KH, std::size_t KW, bool Relu,
          bool Bias, bool Save>
void forward_pool2(const T*, const T*, const T*, T*, T*, T*) {}
template <class G, class T, std::size_t O>
void unpool2(const T*, const T*, T*, std::size_t = 0) {}
template <class G, class T, bool Acc, std::size_t C, std::size_t H, std::size_t W, std::size_t KH,
          std::size_t KW, std::size_t P>
void grad_image_cl(const T*, const T*, T*) {}
template <class G, class T, std::size_t O>
void unpool2_cl(const T*, const T*, T*, T*) {}
template <class G, class T, std::size_t O>
void unpool2_flat(const T*, const T*, T*, std::size_t = 0) {}
#endif

/// Numbers of the partial sums of a ∂K of Count entries.
template <std::size_t Count>
inline constexpr std::size_t partial_sums = Count* lanes;

}  // namespace ctgrad::conv_kernels

#undef CTGRAD_CONV_DISPATCH
#undef CTGRAD_CONV_POOL2
