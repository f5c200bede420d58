/// @file
/// Convolutional ops on images [N, C, H, W] (PyTorch's layout): `conv2d<Stride, Padding>(X, K)`
/// and `conv2d<Stride, Padding>(X, K, b)` for kernels [O, C, KH, KW] and a bias [O] (one per
/// output channel), `max_pool2d<Window, Stride = Window>`, `avg_pool2d<Window, Stride = Window>`
/// and `flatten` ([N, C, H, W] to [N, C·H·W], as `torch.flatten(x, 1)`).
///
/// The convolution is PyTorch's cross-correlation with zero padding P and stride S,
///
///     Y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v K[o, c, u, v] · X[n, c, S·i + u − P, S·j + v − P]
///
/// (X read as 0 outside the image), of size OH = ⌊(H + 2P − KH)/S⌋ + 1 by OW, so that weights
/// move between PyTorch and ctgrad unchanged. Its kernels are specialised on every size:
///
/// - training (the gradient sweep's forward pass and the vjps) lowers each image to a matrix
///   product with the engine's size-specialised GEMM kernels (tensor/matmul.hpp, chosen at run
///   time for the processor): the patches of image n, col [C·KH·KW, OH·OW] ("im2col"), then
///   Y_n = K·col + b (K seen as [O, C·KH·KW]; the bias written first and the product added to
///   it), ∂K += ∂Y_n·colᵀ and ∂col = Kᵀ·∂Y_n, scattered back into ∂X_n ("col2im"). The one
///   image's col is the `saved` memory the engine gives the op after its value, so the workspace
///   stays a compile-time constant and nothing is allocated;
/// - the value-only forward (inference, `value`) runs the same way with its scratch on the
///   stack when that is at most 256 KiB, and otherwise (and in constant evaluation) a direct
///   convolution whose inner loop runs along an output row;
/// - at run time, a convolution with stride 1 and a kernel at most 8 wide runs the direct
///   vectorised kernels of tensor/conv_kernels.hpp instead of im2col + GEMM (no col matrix:
///   padded images with whole-vector rows, register blocks, the same run-time instruction-set
///   choice);
/// - `relu(conv2d(...))` and `max_pool2d<W>([relu](conv2d(...)))` (windows that partition the
///   output) become one op, conv2d_op<S, P, Relu, W>: bias, relu and pooling in the store loop,
///   only the pooled value and each window's kept position remembered (see conv2d_op).
///
/// Max pooling keeps, in training, the position of each window's maximum (the first maximum in
/// row-major window order on a tie, as PyTorch), so its vjp is a scatter; average pooling
/// spreads ∂Y/(Window²) over each window. Windows must tile the image: (H − Window) % Stride ==
/// 0 (and likewise W), a compile error otherwise.
#pragma once

#include <array>        // std::array
#include <bit>          // std::bit_cast
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uintptr_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v, std::is_constant_evaluated
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/tensor/conv_kernels.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/shape.hpp>

/// (CTGRAD_IVDEP: tensor/matmul.hpp.)

namespace ctgrad {
namespace conv_detail {

/// The patches of one image x [C, H, W] as col [C·KH·KW, OH·OW]: row (c, u, v), column (i, j)
/// holds x[c, S·i + u − P, S·j + v − P], 0 in the padding.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t KH, std::size_t KW,
          std::size_t S, std::size_t P, std::size_t OH, std::size_t OW, class T>
constexpr void im2col(const T* __restrict x, T* __restrict col) {
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            for (std::size_t v = 0; v < KW; ++v) {
                T* row = col + ((c * KH + u) * KW + v) * (OH * OW);
                // the output columns j whose input column S·j + v − P is inside [0, W)
                const std::size_t j0 = v >= P ? 0 : (P - v + S - 1) / S;
                const std::size_t j1 = W + P > v ? (W + P - v + S - 1) / S : 0;
                const std::size_t jend = j1 < OW ? j1 : OW;
                for (std::size_t i = 0; i < OH; ++i) {
                    T* r = row + i * OW;
                    const std::size_t ih = S * i + u;  // + P offset: ih − P is the input row
                    if (ih < P || ih - P >= H || j0 >= jend) {
                        for (std::size_t j = 0; j < OW; ++j) r[j] = T(0);
                        continue;
                    }
                    const T* xr = x + (c * H + (ih - P)) * W;
                    for (std::size_t j = 0; j < j0; ++j) r[j] = T(0);
                    if constexpr (S == 1) {
                        // j ≥ j0 makes j + v − P ≥ 0 (kept in that order: no pointer before xr)
                        for (std::size_t j = j0; j < jend; ++j) r[j] = xr[j + v - P];
                    } else {
                        for (std::size_t j = j0; j < jend; ++j) r[j] = xr[S * j + v - P];
                    }
                    for (std::size_t j = jend; j < OW; ++j) r[j] = T(0);
                }
            }
        }
    }
}

/// dst[0..L) = src[0..L), straight-line for short L: as a loop GCC turns each such copy into a
/// call of memcpy (loop distribution), which for 5 or 28 numbers costs more than the copy.
template <std::size_t L, class T>
constexpr void copy_short(T* __restrict dst, const T* __restrict src) {
    if constexpr (L <= 64) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((dst[I] = src[I]), ...);
        }
        (std::make_index_sequence<L>{});
    } else {
        for (std::size_t i = 0; i < L; ++i) dst[i] = src[i];
    }
}

/// x [C, H, W] into the interior of xp [C, H + 2P, W + 2P], whose border the caller zeroed.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t P, class T>
constexpr void pad_into(const T* __restrict x, T* __restrict xp) {
    constexpr std::size_t Hp = H + 2 * P, Wp = W + 2 * P;
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t i = 0; i < H; ++i) {
            const T* src = x + (c * H + i) * W;
            copy_short<W>(xp + (c * Hp + i + P) * Wp + P, src);
        }
    }
}

/// im2col and im2row of an image already padded, xp [C, Hp, Wp]: no bounds to check, and every
/// copy has a compile-time length (OW positions, or KW taps), which the compiler inlines.
template <std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t KH, std::size_t KW,
          std::size_t S, std::size_t OH, std::size_t OW, class T>
constexpr void im2col_padded(const T* __restrict xp, T* __restrict col) {
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            for (std::size_t v = 0; v < KW; ++v) {
                T* row = col + ((c * KH + u) * KW + v) * (OH * OW);
                for (std::size_t i = 0; i < OH; ++i) {
                    const T* src = xp + (c * Hp + S * i + u) * Wp + v;
                    T* dst = row + i * OW;
                    if constexpr (S == 1) {
                        copy_short<OW>(dst, src);
                    } else {
                        for (std::size_t j = 0; j < OW; ++j) dst[j] = src[S * j];
                    }
                }
            }
        }
    }
}

template <std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t KH, std::size_t KW,
          std::size_t S, std::size_t OH, std::size_t OW, class T>
constexpr void im2row_padded(const T* __restrict xp, T* __restrict rows) {
    constexpr std::size_t R = C * KH * KW;
    for (std::size_t i = 0; i < OH; ++i) {
        for (std::size_t j = 0; j < OW; ++j) {
            T* r = rows + (i * OW + j) * R;
            for (std::size_t c = 0; c < C; ++c) {
                for (std::size_t u = 0; u < KH; ++u) {
                    const T* src = xp + (c * Hp + S * i + u) * Wp + S * j;
                    copy_short<KW>(r + (c * KH + u) * KW, src);
                }
            }
        }
    }
}

/// The adjoint of im2col: dx [C, H, W] += the entries of dcol [C·KH·KW, OH·OW] at the positions
/// im2col read them from (the padding's are dropped).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t KH, std::size_t KW,
          std::size_t S, std::size_t P, std::size_t OH, std::size_t OW, class T>
constexpr void col2im_add(const T* __restrict dcol, T* __restrict dx) {
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            for (std::size_t v = 0; v < KW; ++v) {
                const T* row = dcol + ((c * KH + u) * KW + v) * (OH * OW);
                const std::size_t j0 = v >= P ? 0 : (P - v + S - 1) / S;
                const std::size_t j1 = W + P > v ? (W + P - v + S - 1) / S : 0;
                const std::size_t jend = j1 < OW ? j1 : OW;
                for (std::size_t i = 0; i < OH; ++i) {
                    const std::size_t ih = S * i + u;
                    if (ih < P || ih - P >= H) continue;
                    const T* r = row + i * OW;
                    T* xr = dx + (c * H + (ih - P)) * W;
                    if constexpr (S == 1) {
                        for (std::size_t j = j0; j < jend; ++j) xr[j + v - P] += r[j];
                    } else {
                        for (std::size_t j = j0; j < jend; ++j) xr[S * j + v - P] += r[j];
                    }
                }
            }
        }
    }
}

/// The direct convolution of one image (the value-only forward): y [O, OH, OW] = b + K ⋆ x.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t O, std::size_t KH,
          std::size_t KW, std::size_t S, std::size_t P, std::size_t OH, std::size_t OW, bool Bias,
          class T>
constexpr void direct(const T* __restrict x, const T* __restrict k, const T* __restrict b,
                      T* __restrict y) {
    for (std::size_t o = 0; o < O; ++o) {
        T* yo = y + o * OH * OW;
        const T b0 = Bias ? b[o] : T(0);
        for (std::size_t e = 0; e < OH * OW; ++e) yo[e] = b0;
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t u = 0; u < KH; ++u) {
                for (std::size_t v = 0; v < KW; ++v) {
                    const T w = k[((o * C + c) * KH + u) * KW + v];
                    const std::size_t j0 = v >= P ? 0 : (P - v + S - 1) / S;
                    const std::size_t j1 = W + P > v ? (W + P - v + S - 1) / S : 0;
                    const std::size_t jend = j1 < OW ? j1 : OW;
                    for (std::size_t i = 0; i < OH; ++i) {
                        const std::size_t ih = S * i + u;
                        if (ih < P || ih - P >= H) continue;
                        const T* xr = x + (c * H + (ih - P)) * W;
                        T* yr = yo + i * OW;
                        if constexpr (S == 1) {
                            for (std::size_t j = j0; j < jend; ++j) yr[j] += w * xr[j + v - P];
                        } else {
                            for (std::size_t j = j0; j < jend; ++j) yr[j] += w * xr[S * j + v - P];
                        }
                    }
                }
            }
        }
    }
}

/// One output of the convolution of one image x [C, H, W] with one output channel's kernel
/// k [C, KH, KW] at (i, j), without bias (the value-only forward of the pooled form when its
/// scratch is too large for the stack, and in constant evaluation).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t KH, std::size_t KW,
          std::size_t S, std::size_t P, class T>
constexpr T point(const T* x, const T* k, std::size_t i, std::size_t j) {
    T s = T(0);
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t u = 0; u < KH; ++u) {
            const std::size_t ih = S * i + u;
            if (ih < P || ih - P >= H) continue;
            for (std::size_t v = 0; v < KW; ++v) {
                const std::size_t iw = S * j + v;
                if (iw < P || iw - P >= W) continue;
                s += k[(c * KH + u) * KW + v] * x[(c * H + (ih - P)) * W + (iw - P)];
            }
        }
    }
    return s;
}

}  // namespace conv_detail

/// Diagnostic types: left incomplete and instantiated next to the static_asserts of the
/// convolutional ops, so that the compiler prints the sizes involved.
template <std::size_t KernelH, std::size_t KernelW, std::size_t PaddedH, std::size_t PaddedW>
struct conv2d_kernel_larger_than_padded_image;
template <std::size_t ImageChannels, std::size_t KernelChannels>
struct conv2d_channels_differ;
template <std::size_t OutChannels, class BiasShape>
struct conv2d_bias_is_not_one_per_output_channel;
template <std::size_t Window, std::size_t Stride, std::size_t H, std::size_t W>
struct pooling_window_does_not_tile_the_image;

namespace ops {

/// conv2d<Stride, Padding>: see the file comment. Arguments: X [N, C, H, W], K [O, C, KH, KW]
/// and optionally b [O].
///
/// Relu and Pool are the fused forms the expression builds by itself: `relu(conv2d(...))` is
/// conv2d_op<S, P, true> (the bias and max(·, 0) applied in the loop that stores the product)
/// and `max_pool2d<W>(relu(conv2d(...)))` (or without the relu) is conv2d_op<S, P, Relu, W> when
/// the W × W windows partition the convolution's output: its value is the pooled image and it
/// keeps, per pooled number, the position of the window's first maximum (or −1 when the relu
/// sends no gradient through it), so that no [N, O, OH, OW] intermediate, no separate relu or
/// pooling pass and no extra adjoint exist. Values and gradients are those of the composition
/// (ties and relu'(0) = 0 included): the maximum is taken of b + y as the composition does. On
/// the GEMM path (stride > 1, kernels wider than 8) the bias is added after the whole sum,
/// where the unfused convolution adds it to the first block of it: equal up to rounding there,
/// so a near-tie can pick another window position than the unfused composition.
template <std::size_t S, std::size_t P, bool Relu = false, std::size_t Pool = 0>
struct conv2d_op {
    static constexpr std::string_view name =
        Pool != 0 ? (Relu ? "conv2d_relu_max_pool2d" : "conv2d_max_pool2d")
                  : (Relu ? "conv2d_relu" : "conv2d");
    static constexpr bool tensor_op = true;
    static_assert(S >= 1, "ctgrad::conv2d: the stride must be at least 1");
    /// Whether the op applies something after the product (otherwise the product is stored
    /// straight into the result, as a plain convolution).
    static constexpr bool fused = Relu || Pool != 0;

    /// The rewrites: relu of a plain convolution, max pooling of a plain or relu'd one (called
    /// by ctgrad::relu and ctgrad::max_pool2d on a node of this op).
    template <class A>
    static constexpr auto fuse_relu(A a) requires(!Relu && Pool == 0) {
        return refuse<conv2d_op<S, P, true, 0>>(a, std::make_index_sequence<A::arity>{});
    }
    template <std::size_t Win, std::size_t St, class A>
    static constexpr auto fuse_max_pool(A a) requires(Pool == 0 && Win == St && Win >= 1 &&
                                                      detail::shape_of_t<A>::rank == 4 &&
                                                      detail::shape_of_t<A>::dims[2] % Win == 0 &&
                                                      detail::shape_of_t<A>::dims[3] % Win == 0) {
        return refuse<conv2d_op<S, P, Relu, Win>>(a, std::make_index_sequence<A::arity>{});
    }
    template <class Op, class A, std::size_t... I>
    static constexpr auto refuse(const A& a, std::index_sequence<I...>) {
        return make_node<Op>(a.template child<I>()...);
    }

    template <class X, class K, class... B>
    static constexpr auto result_of() {
        if constexpr (X::rank != 4 || K::rank != 4) {
            static_assert(X::rank == 4 && K::rank == 4,
                          "ctgrad::conv2d: the image must be [N, C, H, W] and the kernel [O, C, "
                          "KH, KW]; the shapes are named in 'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<conv2d_op, X, K, B...>());
            return shape<1, 1, 1, 1>{};
        } else if constexpr (X::dims[1] != K::dims[1]) {
            static_assert(X::dims[1] == K::dims[1],
                          "ctgrad::conv2d: the kernel [O, C, KH, KW] must have as many input "
                          "channels C as the image [N, C, H, W]; the two counts are named in "
                          "'conv2d_channels_differ<image, kernel>' below");
            static_cast<void>(sizeof(conv2d_channels_differ<X::dims[1], K::dims[1]>));
            return shape<1, 1, 1, 1>{};
        } else if constexpr (K::dims[2] > X::dims[2] + 2 * P || K::dims[3] > X::dims[3] + 2 * P) {
            static_assert(K::dims[2] <= X::dims[2] + 2 * P && K::dims[3] <= X::dims[3] + 2 * P,
                          "ctgrad::conv2d: the kernel is larger than the padded image (KH <= H + "
                          "2·Padding and KW <= W + 2·Padding); the sizes are named in "
                          "'conv2d_kernel_larger_than_padded_image<KH, KW, H + 2P, W + 2P>' below");
            static_cast<void>(sizeof(
                conv2d_kernel_larger_than_padded_image<K::dims[2], K::dims[3], X::dims[2] + 2 * P,
                                                       X::dims[3] + 2 * P>));
            return shape<1, 1, 1, 1>{};
        } else if constexpr (sizeof...(B) > 1 || (sizeof...(B) == 1 &&
                                                  !(std::is_same_v<B, shape<K::dims[0]>> && ...))) {
            static_assert(sizeof...(B) == 0,
                          "ctgrad::conv2d: the bias must be a vector [O], one number per output "
                          "channel; the sizes are named in "
                          "'conv2d_bias_is_not_one_per_output_channel<O, shape>' below");
            static_cast<void>(sizeof(conv2d_bias_is_not_one_per_output_channel<K::dims[0], B...>));
            return shape<1, 1, 1, 1>{};
        } else {
            constexpr std::size_t OH = (X::dims[2] + 2 * P - K::dims[2]) / S + 1,
                                  OW = (X::dims[3] + 2 * P - K::dims[3]) / S + 1;
            if constexpr (Pool != 0) {
                return shape<X::dims[0], K::dims[0], OH / Pool, OW / Pool>{};
            } else {
                return shape<X::dims[0], K::dims[0], OH, OW>{};
            }
        }
    }
    template <class X, class K, class... B>
    using result = decltype(result_of<X, K, B...>());

    /// The sizes of one call, named.
    template <class X, class K>
    struct dims {
        static constexpr std::size_t N = X::dims[0], C = X::dims[1], H = X::dims[2], W = X::dims[3];
        static constexpr std::size_t O = K::dims[0], KH = K::dims[2], KW = K::dims[3];
        static constexpr std::size_t OH = (H + 2 * P - KH) / S + 1, OW = (W + 2 * P - KW) / S + 1;
        static constexpr std::size_t R = C * KH * KW, Q = OH * OW;  // col is [R, Q]
        static constexpr std::size_t Hp = H + 2 * P, Wp = W + 2 * P;
        static constexpr std::size_t padded = P == 0 ? 0 : C * Hp * Wp;
    };

    /// The patches of image n into col (Rows: as colᵀ [Q, R]), through the padded copy at xp.
    template <class d, bool Rows, class T>
    static constexpr void patches(const T* x, std::size_t n, T* col, T* xp) {
        const T* img = x + n * d::C * d::H * d::W;
        if constexpr (P != 0) {
            conv_detail::pad_into<d::C, d::H, d::W, P>(img, xp);
            img = xp;
        }
        if constexpr (Rows) {
            conv_detail::im2row_padded<d::C, d::Hp, d::Wp, d::KH, d::KW, S, d::OH, d::OW>(img, col);
        } else {
            conv_detail::im2col_padded<d::C, d::Hp, d::Wp, d::KH, d::KW, S, d::OH, d::OW>(img, col);
        }
    }

    /// Zeroes the padded image's scratch (its border stays 0; pad_into writes the interior).
    template <class d, class T>
    static constexpr void clear_padded(T* xp) {
        for (std::size_t e = 0; e < d::padded; ++e) xp[e] = T(0);
    }

    /// Where the numbers training keeps after the value are: with pooling, the position of each
    /// window's maximum (one per pooled number); when fused, one image's convolution output
    /// [O, OH·OW] (the forward's product, then the vjps' ∂Y of one image); one image's col, and
    /// with padding one padded image [C, H + 2P, W + 2P].
    ///
    /// At run time a convolution with stride 1 and a kernel at most
    /// conv_kernels::max_kernel_width wide runs the direct kernels (tensor/conv_kernels.hpp)
    /// instead: then the scratch after `where` is one image's y [O, OH, OWs] or padded ∂Y, and
    /// one padded image (their layouts in `geo`); constant evaluation always lowers to GEMMs.
    template <class X, class K>
    struct layout {
        using d = dims<X, K>;
        using geo = conv_kernels::geometry<d::C, d::H, d::W, d::O, d::KH, d::KW, P>;
        /// (and the partial sums of ∂K, 16 numbers per kernel weight, at most 2^18 numbers:
        /// wider layers would spend megabytes of workspace on them and lower to GEMMs instead)
        static constexpr bool direct =
            conv_kernels::available && S == 1 && d::KW <= conv_kernels::max_kernel_width &&
            conv_kernels::partial_sums<d::O * d::R> <= (std::size_t{1} << 18);
        static constexpr std::size_t where =
            Pool != 0 ? d::N * d::O * (d::OH / Pool) * (d::OW / Pool) : 0;
        static constexpr std::size_t y = fused ? d::O * d::Q : 0;
        static constexpr std::size_t gemm = y + d::R * d::Q + d::padded;
        /// (the channels-last unpooling's scratch: [OH/2 · OW/2, Os] twice)
        static constexpr std::size_t cl_scratch =
            geo::dx_channels_last || geo::dk_channels_last ? geo::OH * geo::OW * geo::Os / 2 : 0;
        static constexpr std::size_t dy0 =
            geo::y_size > geo::dyp_size ? geo::y_size : geo::dyp_size;
        static constexpr std::size_t dy1 =
            geo::dk_flat && dy0 < geo::dyf_size ? geo::dyf_size : dy0;  // (∂K's flat dY)
        static constexpr std::size_t dy = dy1 > cl_scratch ? dy1 : cl_scratch;
        /// the partial sums of ∂K of the direct kernels
        /// (channels-last, geo::dk_channels_last: ∂K [C, KH, KW, Os] and dY [OH, OW, Os]; with
        /// geo::dk_shifted, then the shifted copies of the image, 64-byte aligned)
        static constexpr std::size_t kacc_dk =
            geo::dk_channels_last
                ? geo::dkc_size + geo::dyc_size
                : conv_kernels::partial_sums<d::O * d::R> +
                      (geo::dk_flat && geo::xf_size > geo::xs_size  ? geo::xf_size + geo::lanes
                       : geo::dk_shifted || geo::dk_flat_or_shifted ? geo::xs_size + geo::lanes
                                                                    : 0);
        /// (and the channels-last ∂X's, dx_cl: the kernel [C, KH, KW, Os] and the padded
        /// channels-last dY, 64-byte aligned)
        static constexpr bool dx_cl = geo::dx_channels_last && conv_kernels::has_pool2;
        static constexpr std::size_t kacc_dx =
            dx_cl ? geo::dkc_size + geo::dycp_size + geo::lanes : 0;
        /// (vjp_pair, when ∂K runs channels-last too: ∂K's partial sums beside them)
        static constexpr bool pair = dx_cl && geo::dk_channels_last && Pool == 2;
        static constexpr std::size_t kacc_pair = pair ? kacc_dx + geo::dkc_size : 0;
        static constexpr std::size_t kacc0 = kacc_dk > kacc_dx ? kacc_dk : kacc_dx;
        static constexpr std::size_t kacc = kacc0 > kacc_pair ? kacc0 : kacc_pair;
        static constexpr std::size_t total =
            where + (direct && dy + geo::xp_size + kacc > gemm ? dy + geo::xp_size + kacc : gemm);
    };

    /// What training keeps after the value (see layout).
    template <class X, class K, class... B>
    static constexpr std::size_t saved = layout<X, K>::total;

    /// The largest scratch (in bytes) the value-only forward takes on the stack to run the GEMM
    /// path; above it, and in constant evaluation, it runs the direct convolution.
    static constexpr std::size_t stack_scratch_bytes = 256 * 1024;

    template <class Out, class X, class K, class... B, class T, class... Bp>
    static constexpr void forward(T* out, const T* x, const T* k, const Bp*... b) {
        using d = dims<X, K>;
        constexpr bool bias = sizeof...(B) == 1;
        [[maybe_unused]] const T* bp = nullptr;
        ((bp = b), ...);
        constexpr std::size_t ys = Pool != 0 ? d::O * d::Q : 0;
        constexpr std::size_t scratch = ys + d::R * d::Q + d::padded;
        using L = layout<X, K>;
        constexpr std::size_t direct_scratch = L::geo::y_size + L::geo::xp_size;
        if constexpr (L::direct && direct_scratch * sizeof(T) <= stack_scratch_bytes) {
            if (!std::is_constant_evaluated()) {
                std::array<T, direct_scratch> buf;
                direct_forward<d, typename L::geo, bias, false>(
                    out, x, k, bp, static_cast<T*>(nullptr), buf.data(),
                    buf.data() + L::geo::y_size);
                return;
            }
        } else if constexpr (scratch * sizeof(T) <= stack_scratch_bytes) {
            if (!std::is_constant_evaluated()) {
                std::array<T, scratch> buf;  // uninitialised: every number is written first
                lowered<d, bias, false, false>(out, x, k, bp, static_cast<T*>(nullptr), buf.data(),
                                               buf.data() + ys);
                return;
            }
        }
        if constexpr (Pool == 0) {
            for (std::size_t n = 0; n < d::N; ++n) {
                T* yn = out + n * d::O * d::Q;
                conv_detail::direct<d::C, d::H, d::W, d::O, d::KH, d::KW, S, P, d::OH, d::OW, bias>(
                    x + n * d::C * d::H * d::W, k, bp, yn);
                if constexpr (Relu) {
                    for (std::size_t e = 0; e < d::O * d::Q; ++e) yn[e] = relu_of(yn[e]);
                }
            }
        } else {  // each pooled number from its window's dot products
            constexpr std::size_t PH = d::OH / Pool, PW = d::OW / Pool, taps = d::R;
            for (std::size_t n = 0; n < d::N; ++n) {
                const T* xn = x + n * d::C * d::H * d::W;
                for (std::size_t o = 0; o < d::O; ++o) {
                    const T bo = bias ? bp[o] : T(0);
                    for (std::size_t pi = 0; pi < PH; ++pi) {
                        for (std::size_t pj = 0; pj < PW; ++pj) {
                            T m = T(0);
                            for (std::size_t u = 0; u < Pool; ++u) {
                                for (std::size_t v = 0; v < Pool; ++v) {
                                    T e = conv_detail::point<d::C, d::H, d::W, d::KH, d::KW, S, P>(
                                        xn, k + o * taps, Pool * pi + u, Pool * pj + v);
                                    if constexpr (bias) e += bo;
                                    m = (u == 0 && v == 0) || e > m ? e : m;
                                }
                            }
                            out[((n * d::O + o) * PH + pi) * PW + pj] = Relu ? relu_of(m) : m;
                        }
                    }
                }
            }
        }
    }

    template <class Out, class X, class K, class... B, class T, class... Bp>
    static constexpr void forward_saving(T* out, const T* x, const T* k, const Bp*... b) {
        using d = dims<X, K>;
        using L = layout<X, K>;
        [[maybe_unused]] const T* bp = nullptr;
        ((bp = b), ...);
        T* where = out + Out::count;
        if constexpr (L::direct) {
            if (!std::is_constant_evaluated()) {
                direct_forward<d, typename L::geo, sizeof...(B) == 1, true>(
                    out, x, k, bp, where, where + L::where, where + L::where + L::dy);
                return;
            }
        }
        // (with the direct kernels, only constant evaluation gets here)
        lowered<d, sizeof...(B) == 1, true, L::direct>(out, x, k, bp, where, where + L::where,
                                                       where + L::where + L::y);
    }

    /// x [C, H, W] into the interior of xp [C, Hp, Wxs] (geometry g), whose border is zero.
    template <class d, class g, class T>
    static void pad_direct(const T* __restrict x, T* __restrict xp) {
        for (std::size_t c = 0; c < d::C; ++c) {
            for (std::size_t i = 0; i < d::H; ++i) {
                conv_detail::copy_short<d::W>(xp + (c * g::Hp + i + P) * g::Wxs + P,
                                              x + (c * d::H + i) * d::W);
            }
        }
    }

    /// The forward through the direct kernels: per image, the padded copy xp, y = K ⋆ xp
    /// [O, OH, OWs], then the bias (and relu) into the result or the pooled maxima (and, Save,
    /// their positions); with 2 × 2 pooling (and __builtin_shufflevector) the convolution and
    /// the pooling in one kernel (conv_kernels::forward_pool2), y never stored.
    template <class d, class g, bool Bias, bool Save, class T>
    static void direct_forward(T* out, const T* x, const T* k, const T* bias, T* where, T* y,
                               T* xp) {
        for (std::size_t e = 0; e < g::xp_size; ++e) xp[e] = T(0);
        // The forward kernel writes whole vectors of each y row, the pooling reads whole pairs
        // of them (up to OWs columns): the columns between must hold numbers, not garbage.
        for (std::size_t e = 0; e < g::y_size; ++e) y[e] = T(0);
        constexpr std::size_t per =
            Pool != 0 ? d::O * (d::OH / Pool) * (d::OW / Pool) : d::O * d::Q;
        if constexpr (Pool == 2 && conv_kernels::has_pool2) {
            // the convolution and the pooling in one kernel (AVX-512: y kept in registers; with
            // the kernel channels-last, kc [C, KH, KW, Os], in y's place, when g says so)
            const T* kk = k;
            if constexpr (g::fwd_channels_last) {
                if (conv_kernels::forward_pool2_channels_last<g>()) {
                    for (std::size_t e = 0; e < g::dkc_size; ++e) y[e] = T(0);
                    for (std::size_t o = 0; o < d::O; ++o) {
                        for (std::size_t t = 0; t < d::C * d::KH * d::KW; ++t) {
                            y[t * g::Os + o] = k[o * d::C * d::KH * d::KW + t];
                        }
                    }
                    kk = y;
                }
            }
            for (std::size_t n = 0; n < d::N; ++n) {
                pad_direct<d, g>(x + n * d::C * d::H * d::W, xp);
                conv_kernels::forward_pool2<g, T, d::C, d::O, d::KH, d::KW, Relu, Bias, Save>(
                    xp, kk, bias, y, out + n * per, Save ? where + n * per : where);
            }
        } else {
            for (std::size_t n = 0; n < d::N; ++n) {
                pad_direct<d, g>(x + n * d::C * d::H * d::W, xp);
                conv_kernels::forward<g, T, d::C, d::O, d::KH, d::KW>(xp, k, y);
                T* on = out + n * per;
                if constexpr (Pool != 0) {
                    pool_epilogue<d, Bias, Save, g::OWs>(y, bias, on,
                                                         Save ? where + n * per : where);
                } else {
                    bias_relu<d, Bias, g::OWs>(y, bias, on);
                }
            }
        }
    }

    /// dst [O, OH, OW] = b + y, relu'd when Relu, for y rows Stride numbers apart (y = dst with
    /// Stride = OW: in place; each number read before it is written, so no iteration depends on
    /// another).
    template <class d, bool Bias, std::size_t Stride, class T>
    static constexpr void bias_relu(const T* y, const T* bias, T* dst) {
        for (std::size_t o = 0; o < d::O; ++o) {
            const T bo = Bias ? bias[o] : T(0);
            for (std::size_t i = 0; i < d::OH; ++i) {
                const T* r = y + (o * d::OH + i) * Stride;
                T* out = dst + (o * d::OH + i) * d::OW;
                // (vectorised: GCC assumes otherwise that out may overlap r, and its -O2 cost
                // model checks for no overlap at run time)
                CTGRAD_IVDEP
                for (std::size_t j = 0; j < d::OW; ++j) {
                    const T v = Bias ? r[j] + bo : r[j];
                    out[j] = Relu ? relu_of(v) : v;
                }
            }
        }
    }

    /// C (+)= A·B for A [M, K] (TransA: Aᵀ, A stored [K, M]), B [K, N], C [M, N]: the matrix
    /// kernels, or with Plain the plain loop they run in constant evaluation. A convolution on
    /// the direct kernels lowers to products only in constant evaluation: Plain keeps the
    /// run-time matrix kernels of those shapes (every instruction set's copy) out of the
    /// program, which would never call them.
    template <bool Plain, std::size_t M, std::size_t K, std::size_t N,
              kernels::mode Mode = kernels::mode::assign, bool TransA = false, class T>
    static constexpr void product(const T* a, const T* b, T* c) {
        constexpr bool acc = Mode == kernels::mode::accumulate;
        if constexpr (Plain) {
            kernels::detail::simple<M, K, N, acc>(a, TransA ? 1 : K, TransA ? M : 1, b, N, 1, c,
                                                  T(1));
        } else if constexpr (TransA) {
            kernels::matmul_tn<M, K, N, Mode>(a, b, c);
        } else {
            kernels::matmul<M, K, N, Mode>(a, b, c);
        }
    }

    /// max(v, 0) as ops::relu_op (NaN kept).
    template <class T>
    static constexpr T relu_of(T v) {
        return v <= T(0) ? T(0) : v;
    }

    /// The forward of every image: col_n (scratch col [R·Q + padded]), its product with K and
    /// what follows it: the bias (and relu) into the result, or with pooling the product into y
    /// [O·Q] first and the pooled maxima (and their positions, Save) into the result. Plain:
    /// the products by the plain loop (see `product`).
    template <class d, bool Bias, bool Save, bool Plain, class T>
    static constexpr void lowered(T* out, const T* x, const T* k, const T* bias, T* where, T* y,
                                  T* col) {
        T* xp = col + d::R * d::Q;
        clear_padded<d>(xp);
        constexpr std::size_t per =
            Pool != 0 ? d::O * (d::OH / Pool) * (d::OW / Pool) : d::O * d::Q;
        for (std::size_t n = 0; n < d::N; ++n) {
            patches<d, false>(x, n, col, xp);
            T* yn = out + n * per;
            if constexpr (!fused) {
                if constexpr (Bias) {
                    for (std::size_t o = 0; o < d::O; ++o) {
                        for (std::size_t q = 0; q < d::Q; ++q) yn[o * d::Q + q] = bias[o];
                    }
                    product<Plain, d::O, d::R, d::Q, kernels::mode::accumulate>(k, col, yn);
                } else {
                    product<Plain, d::O, d::R, d::Q>(k, col, yn);
                }
            } else if constexpr (Pool == 0) {
                product<Plain, d::O, d::R, d::Q>(k, col, yn);
                bias_relu<d, Bias, d::OW>(yn, bias, yn);
            } else {
                product<Plain, d::O, d::R, d::Q>(k, col, y);
                pool_epilogue<d, Bias, Save>(y, bias, yn, Save ? where + n * per : where);
            }
        }
    }

    /// The pooled maxima of b + y for one image y [O, OH, OW] (first maximum in row-major window
    /// order), relu'd when Relu, into out [O, PH, PW]; Save: the maximum's position u·Pool + v
    /// into where, or −1 when relu'(maximum) = 0 (no gradient flows).
    template <class d, bool Bias, bool Save, std::size_t OW = d::OW, class T>
    static constexpr void pool_epilogue(const T* y, const T* bias, T* out, T* where) {
        constexpr std::size_t PH = d::OH / Pool, PW = d::OW / Pool;
        for (std::size_t o = 0; o < d::O; ++o) {
            const T bo = Bias ? bias[o] : T(0);
            const T* yo = y + o * d::OH * OW;
            for (std::size_t pi = 0; pi < PH; ++pi) {
                for (std::size_t pj = 0; pj < PW; ++pj) {
                    const T* w = yo + Pool * pi * OW + Pool * pj;
                    T m = Bias ? w[0] + bo : w[0];
                    T at = T(0);
                    for (std::size_t u = 0; u < Pool; ++u) {
                        for (std::size_t v = 0; v < Pool; ++v) {
                            const T e = Bias ? w[u * OW + v] + bo : w[u * OW + v];
                            at = e > m ? static_cast<T>(u * Pool + v) : at;
                            m = e > m ? e : m;
                        }
                    }
                    const std::size_t q = (o * PH + pi) * PW + pj;
                    out[q] = Relu ? relu_of(m) : m;
                    if constexpr (Save) where[q] = !Relu || m > T(0) ? at : T(-1);
                }
            }
        }
    }

    /// v where keep, +0 elsewhere (for float and double without a branch: GCC turns `keep ? v : 0`
    /// in unfold's loops into a jump, mispredicted at the random kept positions of a pooling —
    /// 16% of the LeNet step in conv2's ∂K; NaN and ∞ kept as they are)
    template <class T>
    static constexpr T kept(bool keep, T v) {
        if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
            using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
            return std::bit_cast<T>(static_cast<U>(std::bit_cast<U>(v) & (U(0) - U(keep))));
        } else {
            return keep ? v : T(0);
        }
    }

    /// ∂Y of one image [O, OH, OW] from the fused op's adjoint g and value v (and positions):
    /// g where v > 0 (relu), or g at each window's kept position and 0 elsewhere (pooling).
    /// Into dy [O, OH, OW], or with Geo into the padded layout of the direct kernels (Geo::dy_at;
    /// also the plain convolution's ∂Y, copied), or with Geo and ChannelsLast into the
    /// channels-last layout [OH, OW, Geo::Os] of their ∂K (the channels O .. Os not written).
    template <class d, class T, class Geo = void, bool ChannelsLast = false>
    static constexpr void unfold(const T* g, const T* v, const T* where, T* dy) {
        constexpr auto at = [](std::size_t o, std::size_t i, std::size_t j) {
            if constexpr (std::is_void_v<Geo>) {
                return (o * d::OH + i) * d::OW + j;
            } else if constexpr (ChannelsLast) {
                return Geo::dyc_at(o, i, j);
            } else {
                return Geo::dy_at(o, i, j);
            }
        };
        if constexpr (Pool == 0) {
            for (std::size_t o = 0; o < d::O; ++o) {
                for (std::size_t i = 0; i < d::OH; ++i) {
                    const std::size_t e = (o * d::OH + i) * d::OW;
                    for (std::size_t j = 0; j < d::OW; ++j) {
                        if constexpr (Relu) {
                            dy[at(o, i, j)] = kept(v[e + j] > T(0), g[e + j]);
                        } else {
                            dy[at(o, i, j)] = g[e + j];
                        }
                    }
                }
            }
        } else {
            constexpr std::size_t PH = d::OH / Pool, PW = d::OW / Pool;
            for (std::size_t o = 0; o < d::O; ++o) {
                for (std::size_t pi = 0; pi < PH; ++pi) {
                    const T* gr = g + (o * PH + pi) * PW;
                    const T* wr = where + (o * PH + pi) * PW;
                    for (std::size_t u = 0; u < Pool; ++u) {
                        for (std::size_t pj = 0; pj < PW; ++pj) {
                            for (std::size_t v = 0; v < Pool; ++v) {
                                dy[at(o, Pool * pi + u, Pool * pj + v)] =
                                    kept(wr[pj] == static_cast<T>(u * Pool + v), gr[pj]);
                            }
                        }
                    }
                }
            }
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    /// The engine calls vjp_pair for ∂X and ∂K when a sweep needs both (tensor/engine.hpp,
    /// backward_kernel).
    static constexpr bool shares_vjp_pair = true;

    /// ∂X (into dx, in Mode0) and ∂K (into dk, in Mode1), as vjp<0> and vjp<1> one after the
    /// other; when both run channels-last behind the fused 2 × 2 pooling (layout::pair: LeNet's
    /// conv2) in one pass over the batch, ∂Y of each image unpooled once into the padded
    /// channels-last layout and read by both kernels while it is in L1 (the same numbers, summed
    /// in the same order, as the two calls).
    template <kernels::mode Mode0, kernels::mode Mode1, class Out, class X, class K, class... B,
              class T, class... Bp>
    static constexpr void vjp_pair(T* dx, T* dk, const T* dout, const T* out, const T* x,
                                   const T* k, const Bp*... b) {
        using d = dims<X, K>;
        using L = layout<X, K>;
        if constexpr (L::direct && L::pair && conv_kernels::has_pool2) {
            if (!std::is_constant_evaluated()) {
                using g = typename L::geo;
                using gc = conv_kernels::padded_dyc<g>;
                constexpr std::size_t per = Out::count / d::N;
                constexpr std::size_t img = d::C * d::H * d::W;
                T* where = const_cast<T*>(out) + Out::count;
                T* ybuf = where + L::where;
                T* xp = ybuf + L::dy;
                T* kc = xp + g::xp_size;
                T* acc = kc + g::dkc_size;
                T* dyc = acc + g::dkc_size;
                dyc += (64 - reinterpret_cast<std::uintptr_t>(dyc) % 64) % 64 / sizeof(T);
                for (std::size_t e = 0; e < 2 * g::dkc_size; ++e) kc[e] = T(0);
                for (std::size_t e = 0; e < g::dycp_size; ++e) dyc[e] = T(0);
                for (std::size_t e = 0; e < g::xp_size; ++e) xp[e] = T(0);
                for (std::size_t o = 0; o < d::O; ++o) {
                    for (std::size_t c = 0; c < d::C; ++c) {
                        for (std::size_t r = 0; r < d::KH * d::KW; ++r) {
                            kc[(c * d::KH * d::KW + r) * g::Os + o] =
                                k[(o * d::C + c) * d::KH * d::KW + r];
                        }
                    }
                }
                for (std::size_t n = 0; n < d::N; ++n) {
                    conv_kernels::unpool2_cl<gc, T, d::O>(dout + n * per, where + n * per, dyc,
                                                          ybuf);
                    conv_kernels::grad_image_cl<g, T, Mode0 == kernels::mode::accumulate, d::C,
                                                d::H, d::W, d::KH, d::KW, P>(dyc, kc, dx + n * img);
                    pad_direct<d, g>(x + n * img, xp);
                    conv_kernels::grad_kernel_cl<gc, T, d::C, d::O, d::KH, d::KW>(xp, dyc, acc);
                }
                for (std::size_t o = 0; o < d::O; ++o) {
                    for (std::size_t r = 0; r < d::R; ++r) {
                        detail::put<Mode1>(dk[o * d::R + r], acc[r * g::Os + o]);
                    }
                }
                return;
            }
        }
        vjp<0, Mode0, Out, X, K, B...>(dx, dout, out, x, k, b...);
        vjp<1, Mode1, Out, X, K, B...>(dk, dout, out, x, k, b...);
    }

    template <std::size_t I, kernels::mode Mode, class Out, class X, class K, class... B, class T,
              class... Bp>
    static constexpr void vjp(T* dst, const T* dout, const T* out, const T* x, const T* k,
                              const Bp*...) {
        using d = dims<X, K>;
        using L = layout<X, K>;
        constexpr std::size_t per = Out::count / d::N;
        // the scratch after the value (saved): the sweep's own writable memory
        T* where = const_cast<T*>(out) + Out::count;
        T* ybuf = where + L::where;
        T* col = ybuf + L::y;
        // ∂Y of image n: the adjoint itself, or unfolded through the relu and pooling
        auto dy = [&](std::size_t n) -> const T* {
            if constexpr (!fused) {
                return dout + n * per;
            } else {
                unfold<d>(dout + n * per, out + n * per, where + n * per, ybuf);
                return ybuf;
            }
        };
        if constexpr (L::direct && I != 2) {
            if (!std::is_constant_evaluated()) {
                using g = typename L::geo;
                // ∂Y of image n into the padded layout, whose border stays 0
                auto unfold_direct = [&](std::size_t n) {
                    if constexpr (Pool == 2 && conv_kernels::has_pool2) {
                        conv_kernels::unpool2<g, T, d::O>(dout + n * per, where + n * per, ybuf,
                                                          n + 1 < d::N ? per : 0);
                    } else {
                        unfold<d, T, g>(dout + n * per, out + n * per, where + n * per, ybuf);
                    }
                };
                T* xp = ybuf + L::dy;
                if constexpr (I == 0 && L::dx_cl) {
                    // ∂X channels-last: the kernel as [C, KH, KW, Os] and ∂Y of each image into
                    // the padded channels-last layout (its padding and lanes O .. Os stay 0)
                    using gc = conv_kernels::padded_dyc<g>;
                    T* kc = xp + g::xp_size;
                    T* dyc = kc + g::dkc_size;
                    dyc += (64 - reinterpret_cast<std::uintptr_t>(dyc) % 64) % 64 / sizeof(T);
                    for (std::size_t e = 0; e < g::dkc_size; ++e) kc[e] = T(0);
                    for (std::size_t e = 0; e < g::dycp_size; ++e) dyc[e] = T(0);
                    for (std::size_t o = 0; o < d::O; ++o) {
                        for (std::size_t c = 0; c < d::C; ++c) {
                            for (std::size_t r = 0; r < d::KH * d::KW; ++r) {
                                kc[(c * d::KH * d::KW + r) * g::Os + o] =
                                    k[(o * d::C + c) * d::KH * d::KW + r];
                            }
                        }
                    }
                    constexpr std::size_t img = d::C * d::H * d::W;
                    for (std::size_t n = 0; n < d::N; ++n) {
                        if constexpr (Pool == 2) {
                            conv_kernels::unpool2_cl<gc, T, d::O>(dout + n * per, where + n * per,
                                                                  dyc, ybuf);
                        } else {
                            unfold<d, T, gc, true>(dout + n * per, out + n * per, where + n * per,
                                                   dyc);
                        }
                        conv_kernels::grad_image_cl<g, T, Mode == kernels::mode::accumulate, d::C,
                                                    d::H, d::W, d::KH, d::KW, P>(dyc, kc,
                                                                                 dst + n * img);
                    }
                    return;
                }
                if constexpr (I == 0 || !g::dk_channels_last) {
                    for (std::size_t e = 0; e < g::dyp_size; ++e) ybuf[e] = T(0);
                }
                if constexpr (I == 0) {
                    constexpr std::size_t img = d::C * d::H * d::W;
                    for (std::size_t n = 0; n < d::N; ++n) {
                        unfold_direct(n);
                        conv_kernels::grad_image<g, T, Mode == kernels::mode::accumulate, d::C,
                                                 d::H, d::W, d::O, d::KH, d::KW, P>(ybuf, k,
                                                                                    dst + n * img);
                    }
                } else if constexpr (g::dk_channels_last) {
                    T* acc = xp + g::xp_size;
                    T* dyc = acc + g::dkc_size;
                    for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                    for (std::size_t e = 0; e < g::xp_size; ++e) xp[e] = T(0);
                    for (std::size_t n = 0; n < d::N; ++n) {
                        // ∂Y straight into the channels-last layout (rows and columns a
                        // floor-pooling drops stay 0)
                        if constexpr (Pool == 2 && conv_kernels::has_pool2) {
                            conv_kernels::unpool2_cl<g, T, d::O>(dout + n * per, where + n * per,
                                                                 dyc, ybuf);
                        } else {
                            unfold<d, T, g, true>(dout + n * per, out + n * per, where + n * per,
                                                  dyc);
                        }
                        pad_direct<d, g>(x + n * d::C * d::H * d::W, xp);
                        conv_kernels::grad_kernel_cl<g, T, d::C, d::O, d::KH, d::KW>(xp, dyc, acc);
                    }
                    for (std::size_t o = 0; o < d::O; ++o) {
                        for (std::size_t r = 0; r < d::R; ++r) {
                            detail::put<Mode>(dst[o * d::R + r], acc[r * g::Os + o]);
                        }
                    }
                } else if constexpr (g::dk_flat || g::dk_shifted) {
                    // the flat copies, or the shifted ones (with SSE2's vectors where both fit)
                    bool flat = false;
                    if constexpr (g::dk_flat) {
                        flat = !g::dk_flat_or_shifted || conv_kernels::flat_dk_active<T>();
                    }
                    if (flat) {
                        if constexpr (g::dk_flat) {
                            // ∂Y flat ([O, Qs]: rows of OW numbers, channels Qs apart; the
                            // numbers past each channel's and the rows a floor-pooling drops
                            // stay 0 from this clear) and the image's flat copies (on a 64-byte
                            // boundary; their padding stays 0)
                            T* acc = xp + g::xp_size;
                            T* xf = acc + conv_kernels::partial_sums<d::O * d::R>;
                            xf += (64 - reinterpret_cast<std::uintptr_t>(xf) % 64) % 64 / sizeof(T);
                            for (std::size_t e = 0; e < g::dyf_size; ++e) ybuf[e] = T(0);
                            for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                            for (std::size_t n = 0; n < d::N; ++n) {
                                if constexpr (Pool == 2 && conv_kernels::has_pool2) {
                                    conv_kernels::unpool2_flat<g, T, d::O>(dout + n * per,
                                                                           where + n * per, ybuf,
                                                                           n + 1 < d::N ? per : 0);
                                } else {
                                    unfold<d, T, conv_kernels::flat_dy<g>>(
                                        dout + n * per, out + n * per, where + n * per, ybuf);
                                }
                                conv_kernels::grad_kernel_flat<g, T, d::C, d::H, d::W, d::O, d::KH,
                                                               d::KW, P>(x + n * d::C * d::H * d::W,
                                                                         ybuf, xf, acc);
                            }
                            for (std::size_t e = 0; e < d::O * d::R; ++e) {
                                T s = T(0);
                                for (std::size_t l = 0; l < conv_kernels::lanes; ++l) {
                                    s += acc[e * conv_kernels::lanes + l];
                                }
                                detail::put<Mode>(dst[e], s);
                            }
                        }
                    } else if constexpr (g::dk_shifted || g::dk_flat_or_shifted) {
                        // ∂Y dense ([O, OH, OWs], its zero columns and dropped rows from the
                        // clear above) and the image's shifted copies (on a 64-byte boundary)
                        using gd = conv_kernels::dense_dy<g>;
                        T* acc = xp + g::xp_size;
                        T* xs = acc + conv_kernels::partial_sums<d::O * d::R>;
                        xs += (64 - reinterpret_cast<std::uintptr_t>(xs) % 64) % 64 / sizeof(T);
                        for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                        for (std::size_t n = 0; n < d::N; ++n) {
                            if constexpr (Pool == 2 && conv_kernels::has_pool2) {
                                conv_kernels::unpool2<gd, T, d::O>(dout + n * per, where + n * per,
                                                                   ybuf, n + 1 < d::N ? per : 0);
                            } else {
                                unfold<d, T, gd>(dout + n * per, out + n * per, where + n * per,
                                                 ybuf);
                            }
                            conv_kernels::grad_kernel_shifted<gd, T, d::C, d::H, d::W, d::O, d::KH,
                                                              d::KW, P>(x + n * d::C * d::H * d::W,
                                                                        ybuf, xs, acc);
                        }
                        for (std::size_t e = 0; e < d::O * d::R; ++e) {
                            T s = T(0);
                            for (std::size_t l = 0; l < conv_kernels::lanes; ++l) {
                                s += acc[e * conv_kernels::lanes + l];
                            }
                            detail::put<Mode>(dst[e], s);
                        }
                    }
                } else {
                    T* acc = xp + g::xp_size;
                    constexpr std::size_t lanes = conv_kernels::lanes;
                    for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                    for (std::size_t e = 0; e < g::xp_size; ++e) xp[e] = T(0);
                    for (std::size_t n = 0; n < d::N; ++n) {
                        unfold_direct(n);
                        pad_direct<d, g>(x + n * d::C * d::H * d::W, xp);
                        conv_kernels::grad_kernel<g, T, d::C, d::O, d::KH, d::KW>(xp, ybuf, acc);
                    }
                    for (std::size_t e = 0; e < d::O * d::R; ++e) {
                        T s = T(0);
                        for (std::size_t l = 0; l < lanes; ++l) s += acc[e * lanes + l];
                        detail::put<Mode>(dst[e], s);
                    }
                }
                return;
            }
        }
        if constexpr (I == 0) {  // ∂X_n = col2im(Kᵀ·∂Y_n)
            constexpr std::size_t img = d::C * d::H * d::W;
            if constexpr (Mode == kernels::mode::assign) {
                for (std::size_t e = 0; e < d::N * img; ++e) dst[e] = T(0);
            }
            for (std::size_t n = 0; n < d::N; ++n) {
                product<L::direct, d::R, d::O, d::Q, kernels::mode::assign, true>(k, dy(n), col);
                conv_detail::col2im_add<d::C, d::H, d::W, d::KH, d::KW, S, P, d::OH, d::OW>(
                    col, dst + n * img);
            }
        } else if constexpr (I == 1) {  // ∂K = Σ_n ∂Y_n·col_nᵀ, colᵀ built as rows (im2row)
            T* xp = col + d::R * d::Q;
            clear_padded<d>(xp);
            for (std::size_t n = 0; n < d::N; ++n) {
                patches<d, true>(x, n, col, xp);
                const T* g = dy(n);
                if (Mode == kernels::mode::assign && n == 0) {
                    product<L::direct, d::O, d::Q, d::R>(g, col, dst);
                } else {
                    product<L::direct, d::O, d::Q, d::R, kernels::mode::accumulate>(g, col, dst);
                }
            }
        } else {  // ∂b[o] = Σ_n Σ_q ∂Y[n, o, q]
            constexpr std::size_t plane = per / d::O;
            for (std::size_t o = 0; o < d::O; ++o) {
                T s = T(0);
                for (std::size_t n = 0; n < d::N; ++n) {
                    const std::size_t at = n * per + o * plane;
                    for (std::size_t q = 0; q < plane; ++q) {
                        if constexpr (!fused) {
                            s += dout[at + q];
                        } else if constexpr (Pool == 0) {
                            s += kept(out[at + q] > T(0), dout[at + q]);
                        } else {
                            s += kept(where[at + q] >= T(0), dout[at + q]);
                        }
                    }
                }
                detail::put<Mode>(dst[o], s);
            }
        }
    }
};

/// The output size of a pooling window sliding over n positions, and whether it tiles them.
template <std::size_t Win, std::size_t S, class X>
constexpr auto pool_result() {
    if constexpr (X::rank != 4) {
        static_assert(X::rank == 4,
                      "ctgrad::max_pool2d/avg_pool2d: the argument must be images [N, C, H, W]; "
                      "its shape is named in 'tensor_op_shape_mismatch<...>' below");
        static_cast<void>(sizeof(tensor_op_shape_mismatch<shape<Win, S>, X>));
        return shape<1, 1, 1, 1>{};
    } else if constexpr (Win > X::dims[2] || Win > X::dims[3] || (X::dims[2] - Win) % S != 0 ||
                         (X::dims[3] - Win) % S != 0) {
        static_assert(Win <= X::dims[2] && Win <= X::dims[3] && (X::dims[2] - Win) % S == 0 &&
                          (X::dims[3] - Win) % S == 0,
                      "ctgrad::max_pool2d/avg_pool2d: the window does not tile the image (it "
                      "must fit, and (H − Window) and (W − Window) must be multiples of the "
                      "stride); the sizes are named in "
                      "'pooling_window_does_not_tile_the_image<Window, Stride, H, W>' below");
        static_cast<void>(
            sizeof(pooling_window_does_not_tile_the_image<Win, S, X::dims[2], X::dims[3]>));
        return shape<1, 1, 1, 1>{};
    } else {
        return shape<X::dims[0], X::dims[1], (X::dims[2] - Win) / S + 1,
                     (X::dims[3] - Win) / S + 1>{};
    }
}

/// max_pool2d<Window, Stride>: the largest element of each window; the gradient goes to the
/// first maximum in row-major window order. Training keeps, per output, which position of its
/// window held the maximum (u·Window + v, a small number of type T, exact), so the vjp is a
/// scatter; when the windows partition the image (Stride = Window, no remainder) the vjp writes
/// every position of ∂X once, row by row (no separate zeroing pass).
template <std::size_t Win, std::size_t S>
struct max_pool2d_op {
    static constexpr std::string_view name = "max_pool2d";
    static constexpr bool tensor_op = true;
    static_assert(Win >= 1 && S >= 1, "ctgrad::max_pool2d: window and stride must be at least 1");

    template <class X>
    using result = decltype(pool_result<Win, S, X>());

    template <class X>
    static constexpr std::size_t saved = result<X>::count;

    template <class Out, class X>
    static constexpr bool partitions =
        Win == S&& Out::dims[2] * Win == X::dims[2] && Out::dims[3] * Win == X::dims[3];

    template <class Out, class X, bool Save, class T>
    static constexpr void pool(T* __restrict out, const T* __restrict x) {
        constexpr std::size_t H = X::dims[2], W = X::dims[3], OH = Out::dims[2], OW = Out::dims[3],
                              planes = X::dims[0] * X::dims[1];
        T* where = out + Out::count;
        for (std::size_t pl = 0; pl < planes; ++pl) {
            const T* xp = x + pl * H * W;
            T* op = out + pl * OH * OW;
            T* wp = where + pl * OH * OW;
            for (std::size_t i = 0; i < OH; ++i) {
                for (std::size_t j = 0; j < OW; ++j) {
                    T m = xp[(S * i) * W + S * j];
                    T at = T(0);
                    for (std::size_t u = 0; u < Win; ++u) {
                        for (std::size_t v = 0; v < Win; ++v) {
                            const T e = xp[(S * i + u) * W + S * j + v];
                            // strict: a tie keeps the first maximum (branch-free selects)
                            at = e > m ? static_cast<T>(u * Win + v) : at;
                            m = e > m ? e : m;
                        }
                    }
                    op[i * OW + j] = m;
                    if constexpr (Save) wp[i * OW + j] = at;
                }
            }
        }
    }

    template <class Out, class X, class T>
    static constexpr void forward(T* out, const T* x) {
        pool<Out, X, false>(out, x);
    }
    template <class Out, class X, class T>
    static constexpr void forward_saving(T* out, const T* x) {
        pool<Out, X, true>(out, x);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class T>
    static constexpr void vjp(T* __restrict d, const T* dout, const T* out, const T*) {
        constexpr std::size_t H = X::dims[2], W = X::dims[3], OH = Out::dims[2], OW = Out::dims[3],
                              planes = X::dims[0] * X::dims[1];
        const T* where = out + Out::count;
        if constexpr (Mode == kernels::mode::assign && partitions<Out, X>) {
            for (std::size_t pl = 0; pl < planes; ++pl) {
                T* dp = d + pl * H * W;
                const T* gp = dout + pl * OH * OW;
                const T* wp = where + pl * OH * OW;
                for (std::size_t i = 0; i < OH; ++i) {
                    for (std::size_t u = 0; u < Win; ++u) {
                        T* row = dp + (Win * i + u) * W;
                        for (std::size_t j = 0; j < OW; ++j) {
                            const T g = gp[i * OW + j], k = wp[i * OW + j];
                            for (std::size_t v = 0; v < Win; ++v) {
                                row[Win * j + v] = k == static_cast<T>(u * Win + v) ? g : T(0);
                            }
                        }
                    }
                }
            }
        } else {
            if constexpr (Mode == kernels::mode::assign) {
                for (std::size_t e = 0; e < X::count; ++e) d[e] = T(0);
            }
            for (std::size_t pl = 0; pl < planes; ++pl) {
                T* dp = d + pl * H * W;
                for (std::size_t q = 0; q < OH * OW; ++q) {
                    const auto k = static_cast<std::size_t>(where[pl * OH * OW + q]);
                    const std::size_t i = q / OW, j = q % OW;
                    dp[(S * i + k / Win) * W + S * j + k % Win] += dout[pl * OH * OW + q];
                }
            }
        }
    }
};

/// avg_pool2d<Window, Stride>: the mean of each window; ∂X gets ∂Y/Window² in every position of
/// the window.
template <std::size_t Win, std::size_t S>
struct avg_pool2d_op {
    static constexpr std::string_view name = "avg_pool2d";
    static constexpr bool tensor_op = true;
    static_assert(Win >= 1 && S >= 1, "ctgrad::avg_pool2d: window and stride must be at least 1");

    template <class X>
    using result = decltype(pool_result<Win, S, X>());

    template <class Out, class X, class T>
    static constexpr void forward(T* out, const T* x) {
        constexpr std::size_t H = X::dims[2], W = X::dims[3], OH = Out::dims[2], OW = Out::dims[3],
                              planes = X::dims[0] * X::dims[1];
        const T inv = T(1) / static_cast<T>(Win * Win);
        for (std::size_t pl = 0; pl < planes; ++pl) {
            const T* xp = x + pl * H * W;
            T* op = out + pl * OH * OW;
            for (std::size_t i = 0; i < OH; ++i) {
                for (std::size_t j = 0; j < OW; ++j) {
                    T s = T(0);
                    for (std::size_t u = 0; u < Win; ++u) {
                        for (std::size_t v = 0; v < Win; ++v) s += xp[(S * i + u) * W + S * j + v];
                    }
                    op[i * OW + j] = s * inv;
                }
            }
        }
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class T>
    static constexpr void vjp(T* d, const T* dout, const T*, const T*) {
        constexpr std::size_t H = X::dims[2], W = X::dims[3], OH = Out::dims[2], OW = Out::dims[3],
                              planes = X::dims[0] * X::dims[1];
        if constexpr (Mode == kernels::mode::assign) {
            for (std::size_t e = 0; e < X::count; ++e) d[e] = T(0);
        }
        const T inv = T(1) / static_cast<T>(Win * Win);
        for (std::size_t pl = 0; pl < planes; ++pl) {
            T* dp = d + pl * H * W;
            const T* gp = dout + pl * OH * OW;
            for (std::size_t i = 0; i < OH; ++i) {
                for (std::size_t j = 0; j < OW; ++j) {
                    const T g = gp[i * OW + j] * inv;
                    for (std::size_t u = 0; u < Win; ++u) {
                        for (std::size_t v = 0; v < Win; ++v) dp[(S * i + u) * W + S * j + v] += g;
                    }
                }
            }
        }
    }
};

/// flatten: [N, D1, D2, ...] to [N, D1·D2·...] (the same numbers in the same order).
struct flatten_op {
    static constexpr std::string_view name = "flatten";
    static constexpr bool tensor_op = true;

    template <class X>
    static constexpr auto result_of() {
        if constexpr (X::rank >= 2) {
            return shape<X::dims[0], X::count / X::dims[0]>{};
        } else {
            static_assert(X::rank >= 2,
                          "ctgrad::flatten: the argument must be a batch [N, ...] of rank 2 or "
                          "more; its shape is named in 'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<flatten_op, X>());
            return shape<1, 1>{};
        }
    }
    template <class X>
    using result = decltype(result_of<X>());

    template <class Out, class X, class T>
    static constexpr void forward(T* out, const T* x) {
        for (std::size_t e = 0; e < X::count; ++e) out[e] = x[e];
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class T>
    static constexpr void vjp(T* d, const T* dout, const T*, const T*) {
        for (std::size_t e = 0; e < X::count; ++e) detail::put<Mode>(d[e], dout[e]);
    }
};

/// Images [N, C, H, W] as rows of channels [N·H·W, C] (channels last), so that per-channel ops
/// written for [rows, C] (batch normalisation) apply to images; channels_first_op<Shape> moves
/// them back. Each is the other's vjp.
struct channels_last_op {
    static constexpr std::string_view name = "channels_last";
    static constexpr bool tensor_op = true;

    template <class X>
    static constexpr auto result_of() {
        if constexpr (X::rank == 4) {
            return shape<X::dims[0] * X::dims[2] * X::dims[3], X::dims[1]>{};
        } else {
            static_assert(X::rank == 4,
                          "ctgrad::channels_last: the argument must be images [N, C, H, W]; its "
                          "shape is named in 'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<channels_last_op, X>());
            return shape<1, 1>{};
        }
    }
    template <class X>
    using result = decltype(result_of<X>());

    /// dst[(n·HW + p)·C + c] = src[(n·C + c)·HW + p] (Forward) or the reverse move.
    template <std::size_t N, std::size_t C, std::size_t HW, bool Forward, kernels::mode Mode,
              class T>
    static constexpr void move(T* __restrict dst, const T* __restrict src) {
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                for (std::size_t p = 0; p < HW; ++p) {
                    const std::size_t first = (n * C + c) * HW + p, last = (n * HW + p) * C + c;
                    if constexpr (Forward) {
                        detail::put<Mode>(dst[last], src[first]);
                    } else {
                        detail::put<Mode>(dst[first], src[last]);
                    }
                }
            }
        }
    }

    template <class Out, class X, class T>
    static constexpr void forward(T* out, const T* x) {
        move<X::dims[0], X::dims[1], X::dims[2] * X::dims[3], true, kernels::mode::assign>(out, x);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class T>
    static constexpr void vjp(T* d, const T* dout, const T*, const T*) {
        move<X::dims[0], X::dims[1], X::dims[2] * X::dims[3], false, Mode>(d, dout);
    }
};

/// Rows of channels [N·H·W, C] back to images of shape Shape = [N, C, H, W].
template <class Shape>
struct channels_first_op {
    static constexpr std::string_view name = "channels_first";
    static constexpr bool tensor_op = true;

    template <class X>
    static constexpr auto result_of() {
        if constexpr (Shape::rank == 4 && X::rank == 2 &&
                      X::dims[0] == Shape::dims[0] * Shape::dims[2] * Shape::dims[3] &&
                      X::dims[1] == Shape::dims[1]) {
            return Shape{};
        } else {
            static_assert(Shape::rank == 4 && X::rank == 2,
                          "ctgrad::channels_first: the argument must be [N·H·W, C] for images "
                          "[N, C, H, W]; the shapes are named in "
                          "'tensor_op_shape_mismatch<...>' below");
            static_cast<void>(detail::shape_error<channels_first_op, X>());
            return Shape{};
        }
    }
    template <class X>
    using result = decltype(result_of<X>());

    template <class Out, class X, class T>
    static constexpr void forward(T* out, const T* x) {
        channels_last_op::move<Shape::dims[0], Shape::dims[1], Shape::dims[2] * Shape::dims[3],
                               false, kernels::mode::assign>(out, x);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = true;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class T>
    static constexpr void vjp(T* d, const T* dout, const T*, const T*) {
        channels_last_op::move<Shape::dims[0], Shape::dims[1], Shape::dims[2] * Shape::dims[3],
                               true, Mode>(d, dout);
    }
};

}  // namespace ops

// --- the functions a user writes ---

/// The 2-D convolution (PyTorch's cross-correlation) of images X [N, C, H, W] with kernels
/// K [O, C, KH, KW], stride `Stride` and zero padding `Padding` on every side: [N, O, OH, OW]
/// with OH = (H + 2·Padding − KH)/Stride + 1 (rounded down), OW likewise.
template <std::size_t Stride = 1, std::size_t Padding = 0, expression X, expression K>
constexpr auto conv2d(X x, K k) {
    return make_node<ops::conv2d_op<Stride, Padding>>(std::move(x), std::move(k));
}

/// The convolution plus a bias b [O], one number per output channel (added to every position).
template <std::size_t Stride = 1, std::size_t Padding = 0, expression X, expression K, expression B>
constexpr auto conv2d(X x, K k, B b) {
    return make_node<ops::conv2d_op<Stride, Padding>>(std::move(x), std::move(k), std::move(b));
}

/// The maximum of each Window × Window window of images [N, C, H, W], windows `Stride` apart:
/// [N, C, (H − Window)/Stride + 1, (W − Window)/Stride + 1]. The windows must tile the image.
/// Of a convolution (or of the relu of one) whose output the windows partition (Stride =
/// Window), the pooling is fused into it: see ops::conv2d_op.
template <std::size_t Window, std::size_t Stride = Window, expression X>
constexpr auto max_pool2d(X x) {
    if constexpr (requires { X::op::template fuse_max_pool<Window, Stride>(x); }) {
        return X::op::template fuse_max_pool<Window, Stride>(std::move(x));
    } else {
        return make_node<ops::max_pool2d_op<Window, Stride>>(std::move(x));
    }
}

/// The mean of each Window × Window window of images [N, C, H, W] (see max_pool2d).
template <std::size_t Window, std::size_t Stride = Window, expression X>
constexpr auto avg_pool2d(X x) {
    return make_node<ops::avg_pool2d_op<Window, Stride>>(std::move(x));
}

/// A batch [N, D1, D2, ...] as a matrix [N, D1·D2·...], as `torch.flatten(x, 1)`.
template <expression X>
constexpr auto flatten(X x) {
    return make_node<ops::flatten_op>(std::move(x));
}

/// Images [N, C, H, W] as a matrix [N·H·W, C] with one row per pixel (channels last).
template <expression X>
constexpr auto channels_last(X x) {
    return make_node<ops::channels_last_op>(std::move(x));
}

/// The inverse of channels_last: [N·H·W, C] back to images of shape `shape<N, C, H, W>`.
template <expression X, std::size_t... D>
constexpr auto channels_first(X x, shape<D...>) {
    return make_node<ops::channels_first_op<shape<D...>>>(std::move(x));
}

}  // namespace ctgrad
