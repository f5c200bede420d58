/// @file
/// Matrix products on raw row-major arrays whose sizes are template parameters: the kernels
/// behind ctgrad's tensor matmul, its forward pass C = A·B and its two backward products,
/// dW = Xᵀ·dD and dX = dD·Wᵀ, computed without forming a transposed matrix.
///
/// | call                          | computes        | a is stored | b is stored | c is   |
/// |-------------------------------|-----------------|-------------|-------------|--------|
/// | `matmul<M, K, N>(a, b, c)`    | C = α·A·B       | [M, K]      | [K, N]      | [M, N] |
/// | `matmul_tn<M, K, N>(a, b, c)` | C = α·Aᵀ·B      | [K, M]      | [K, N]      | [M, N] |
/// | `matmul_nt<M, K, N>(a, b, c)` | C = α·A·Bᵀ      | [M, K]      | [N, K]      | [M, N] |
///
/// In every case C is [M, N] and K is the length of the sum: C(i, j) = α·Σₖ A(i, k)·B(k, j)
/// with A(i, k) and B(k, j) read from wherever the stored layout keeps them. All arrays are
/// row-major and contiguous (element (r, s) of an [R, S] array is at index r·S + s); no
/// alignment is required. The fourth template argument is the `mode`: `mode::assign` (the
/// default) writes C = α·(product) and never reads C, so C may be uninitialised;
/// `mode::accumulate` adds, C += α·(product). α defaults to 1. For a dense layer D = X·W:
///
///     matmul<B, I, O>(x, w, d);                                 // D  = X·W
///     matmul_tn<I, B, O, mode::accumulate>(x, dd, dw);          // dW += Xᵀ·dD
///     matmul_nt<B, O, I>(dd, w, dx);                            // dX  = dD·Wᵀ
///     matmul_tn<I, B, O, mode::accumulate>(x, dd, w, -lr);      // W  -= lr·Xᵀ·dD (fused SGD)
///
/// **Aliasing:** c must not overlap a or b (the pointers are `__restrict`). a and b may
/// overlap each other, or be the same array (A·Aᵀ = `matmul_nt<M, K, M>(a, a, c)`).
///
/// **Constant evaluation:** every kernel is `constexpr`; inside constant evaluation it runs a
/// plain triple loop, so a small product can be checked in a `static_assert`.
///
/// **At run time** C is computed in blocks of MR rows × NR columns held in vector registers
/// (the micro-kernel: per k, NR/W vector loads of B, MR broadcasts of A, MR·NR/W multiply-adds,
/// which the compiler fuses into FMAs where the target has them). The vectors are GCC/Clang
/// vector extensions (`vector_size`) of W lanes: 16 bytes with SSE2/NEON, 32 with AVX, 64 with
/// AVX-512F, so plain `-O2` on x86-64 gets SSE2 and `-march=native` AVX2/AVX-512; other
/// compilers, or `-DCTGRAD_KERNELS_PORTABLE`, get a plain-array fallback with the same blocking.
/// MR × NR is 6 × 2W with 16 vector registers, 8 × 3W with 32. The sum over k is split into
/// nearly equal blocks so that a KC×NR panel of B stays in L1 (KC·NR·sizeof(T) <= 16 KiB).
/// B is read in place by `matmul` and `matmul_tn`; `matmul_nt` copies each KC×NR panel of Bᵀ
/// into a buffer on the stack (W×W tiles transposed in registers), and the last N % NR columns
/// are copied zero-padded to whole vectors: nothing is allocated and no transposed matrix is
/// formed. The last M % MR rows use a micro-kernel with that many rows, the last N % NR columns
/// one with as few vectors as hold them, and only those columns are stored: every size works,
/// 1 and primes included. Products of at most 64 multiply-adds run the plain loop at run time
/// too. The sum over k runs in a different order than a naive loop (and may use FMA), so
/// results differ from it by rounding.
#pragma once

#include <cstddef>      // std::size_t
#include <type_traits>  // std::is_constant_evaluated, std::type_identity_t
#include <utility>      // std::index_sequence

#if defined(__GNUC__) || defined(__clang__)
#define CTGRAD_KERNELS_NOINLINE [[gnu::noinline]]
#else
#define CTGRAD_KERNELS_NOINLINE
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !defined(CTGRAD_KERNELS_PORTABLE)
#define CTGRAD_KERNELS_VECTOR_EXT 1
#else
#define CTGRAD_KERNELS_VECTOR_EXT 0
#endif

namespace ctgrad::kernels {

/// How a kernel writes its result: `assign` overwrites C and never reads it; `accumulate` adds
/// to C. (The reverse sweep assigns an adjoint from its first contribution and accumulates the
/// rest; `static_cast<mode>(bool)` converts a flag.)
enum class mode : bool { assign = false, accumulate = true };

namespace detail {

/// Bytes in one vector register the kernels target: 64 with AVX-512F, 32 with AVX/AVX2, 16
/// otherwise (SSE2, NEON, ...). Override with -DCTGRAD_KERNELS_VECTOR_BYTES=n (a power of two,
/// at least the size of T; e.g. 32 where 512-bit instructions lower the clock).
#if defined(CTGRAD_KERNELS_VECTOR_BYTES)
inline constexpr std::size_t vector_bytes = CTGRAD_KERNELS_VECTOR_BYTES;
#elif defined(__AVX512F__)
inline constexpr std::size_t vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t vector_bytes = 32;
#else
inline constexpr std::size_t vector_bytes = 16;
#endif

/// Vector registers available for the accumulators of a block of C.
#if defined(__AVX512F__) || defined(__aarch64__)
inline constexpr std::size_t vector_registers = 32;
#else
inline constexpr std::size_t vector_registers = 16;
#endif

/// The largest panel of B (KC rows × NR columns) one k block uses, so that it stays in a 32 KiB
/// L1 data cache with the rows of A and C it meets. Override with -DCTGRAD_KERNELS_PANEL_BYTES=n.
#if defined(CTGRAD_KERNELS_PANEL_BYTES)
inline constexpr std::size_t panel_bytes = CTGRAD_KERNELS_PANEL_BYTES;
#else
inline constexpr std::size_t panel_bytes = 16 * 1024;
#endif

/// Products with at most this many multiply-adds run the plain loop at run time.
inline constexpr std::size_t tiny_product = 64;

/// Lanes of T in one vector.
template <class T>
inline constexpr std::size_t lanes = vector_bytes >= sizeof(T) ? vector_bytes / sizeof(T) : 1;

#if CTGRAD_KERNELS_VECTOR_EXT
template <class T>
struct vector {
    typedef T type __attribute__((vector_size(lanes<T> * sizeof(T))));
};
template <class T>
using vec = typename vector<T>::type;

template <class T>
inline vec<T> load(const T* p) {
    vec<T> v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
template <class T>
inline void store(T* p, vec<T> v) {
    __builtin_memcpy(p, &v, sizeof v);
}
template <class T, std::size_t... L>
inline vec<T> splat_lanes(T s, std::index_sequence<L...>) {
    return vec<T>{((void)L, s)...};
}
/// s in every lane (not `vec{} + s`: adding +0 is an instruction, and turns -0 into +0).
template <class T>
inline vec<T> splat(T s) {
    return splat_lanes(s, std::make_index_sequence<lanes<T>>{});
}

#if defined(__clang__) || __GNUC__ >= 12  // __builtin_shufflevector
#define CTGRAD_KERNELS_SHUFFLE 1
/// Lanes Half·W/2 ... of a and b interleaved: (a[h], b[h], a[h + 1], b[h + 1], ...).
template <std::size_t Half, class V, std::size_t... L>
inline V interleave(V a, V b, std::index_sequence<L...>) {
    constexpr std::size_t W = sizeof...(L);
    return __builtin_shufflevector(a, b, (L % 2 != 0 ? W : 0) + Half * (W / 2) + L / 2 ...);
}

/// Transposes the W×W tile x[row][lane] in place: log2(W) rounds of interleaving row i with
/// row i + W/2 (the perfect shuffle applied log2(W) times is the transpose).
template <class T>
inline void transpose(vec<T> (&x)[lanes<T>]) {
    constexpr std::size_t W = lanes<T>;
    constexpr auto idx = std::make_index_sequence<W>{};
    for (std::size_t round = 1; round < W; round *= 2) {
        vec<T> y[W];
#pragma GCC unroll 16
        for (std::size_t i = 0; i < W / 2; ++i) {
            y[2 * i] = interleave<0>(x[i], x[i + W / 2], idx);
            y[2 * i + 1] = interleave<1>(x[i], x[i + W / 2], idx);
        }
#pragma GCC unroll 16
        for (std::size_t i = 0; i < W; ++i) x[i] = y[i];
    }
}
#else
#define CTGRAD_KERNELS_SHUFFLE 0
#endif
#else
#define CTGRAD_KERNELS_SHUFFLE 0
/// The portable stand-in for a vector register: W lanes, lane-wise arithmetic.
template <class T>
struct vec {
    T lane[lanes<T>];
    friend vec operator*(vec v, vec s) {
        for (std::size_t l = 0; l < lanes<T>; ++l) v.lane[l] *= s.lane[l];
        return v;
    }
    friend vec operator+(vec v, vec w) {
        for (std::size_t l = 0; l < lanes<T>; ++l) v.lane[l] += w.lane[l];
        return v;
    }
    vec& operator+=(vec w) { return *this = *this + w; }
};
template <class T>
inline vec<T> load(const T* p) {
    vec<T> v;
    for (std::size_t l = 0; l < lanes<T>; ++l) v.lane[l] = p[l];
    return v;
}
template <class T>
inline void store(T* p, vec<T> v) {
    for (std::size_t l = 0; l < lanes<T>; ++l) p[l] = v.lane[l];
}
template <class T>
inline vec<T> splat(T s) {
    vec<T> v;
    for (std::size_t l = 0; l < lanes<T>; ++l) v.lane[l] = s;
    return v;
}
#endif

/// The shape of the register block of C: MR rows × NV vectors. MR·NV accumulators, NV vectors of
/// B and one broadcast of A (plus a product temporary without FMA) fit the register file:
/// 16 registers -> 6 × 2, 32 registers -> 8 × 3. (Measured on x86-64 with SSE2, AVX2 and
/// AVX-512: with 16 registers 4 × 3 is as fast under GCC, but Clang spills an accumulator.)
/// Override with -DCTGRAD_KERNELS_BLOCK_ROWS=r and -DCTGRAD_KERNELS_BLOCK_VECTORS=v.
#if defined(CTGRAD_KERNELS_BLOCK_VECTORS)
inline constexpr std::size_t block_vectors = CTGRAD_KERNELS_BLOCK_VECTORS;
#else
inline constexpr std::size_t block_vectors = vector_registers >= 32 ? 3 : 2;
#endif
#if defined(CTGRAD_KERNELS_BLOCK_ROWS)
inline constexpr std::size_t block_rows = CTGRAD_KERNELS_BLOCK_ROWS;
#else
inline constexpr std::size_t block_rows = vector_registers >= 32 ? 8 : 6;
#endif

/// Where A(i, k) is: a[i·RowStride + k·KStride].
template <std::size_t RowStride, std::size_t KStride>
struct a_layout {
    static constexpr std::size_t row = RowStride;
    static constexpr std::size_t k = KStride;
};

/// The micro-kernel: C[0:MR, 0:nc] (row stride ldc) = α·Σ_{k<kc} A(i, k)·B(k, 0:nc), added to C
/// when LoadC, for A(i, k) = a[i·ra + k·ka] and B(k, j) = b[k·ldb + j]. B is read NV vectors
/// wide: its columns past nc, if any, must be readable (the zero padding of a copied panel);
/// only the first nc columns of C are written, (NV - 1)·W < nc <= NV·W. The strides are run-time
/// values and the function is not inlined, so one compiled kernel per (T, MR, NV, LoadC) serves
/// every product size.
template <class T, std::size_t MR, std::size_t NV, bool LoadC>
CTGRAD_KERNELS_NOINLINE void micro_kernel(std::size_t kc, const T* __restrict a, std::size_t ra,
                                          std::size_t ka, const T* __restrict b, std::size_t ldb,
                                          T* __restrict c, std::size_t ldc, std::size_t nc,
                                          T alpha) {
    constexpr std::size_t W = lanes<T>;
    vec<T> acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = vec<T>{};
    }
    for (std::size_t k = 0; k < kc; ++k) {
        vec<T> bk[NV];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) bk[v] = load(b + k * ldb + v * W);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
            const vec<T> ai = splat(a[i * ra + k * ka]);
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[i][v] += bk[v] * ai;
        }
    }
    const vec<T> va = splat(alpha);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
        T* ci = c + i * ldc;
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) {
            vec<T> r = acc[i][v] * va;
            if ((v + 1) * W <= nc) {
                if constexpr (LoadC) r += load(ci + v * W);
                store(ci + v * W, r);
            } else {
                T part[W];
                store(part, r);
                for (std::size_t l = 0; l < W && v * W + l < nc; ++l) {
                    if constexpr (LoadC) {
                        ci[v * W + l] += part[l];
                    } else {
                        ci[v * W + l] = part[l];
                    }
                }
            }
        }
    }
}

/// Runs the micro-kernel over all M rows of one column panel of NV vectors (nc columns of C):
/// full blocks of block_rows rows, then one block of the M % block_rows rows left.
template <class T, class ALay, std::size_t M, std::size_t NV, bool LoadC>
inline void panel_rows(std::size_t kc, const T* a, const T* b, std::size_t ldb, T* c,
                       std::size_t ldc, std::size_t nc, T alpha) {
    constexpr std::size_t MR = block_rows;
    for (std::size_t i0 = 0; i0 + MR <= M; i0 += MR) {
        micro_kernel<T, MR, NV, LoadC>(kc, a + i0 * ALay::row, ALay::row, ALay::k, b, ldb,
                                       c + i0 * ldc, ldc, nc, alpha);
    }
    if constexpr (M % MR != 0) {
        constexpr std::size_t i0 = M - M % MR;
        micro_kernel<T, M % MR, NV, LoadC>(kc, a + i0 * ALay::row, ALay::row, ALay::k, b, ldb,
                                           c + i0 * ldc, ldc, nc, alpha);
    }
}

/// Copies the kc×cols block op(B)(k, j) of B into panel (row stride NR) and zero-fills its
/// columns cols..pad: op(B)(k, j) = b[k·ldb + j], or b[j·ldb + k] when Trans (then W×W tiles
/// are transposed in registers where __builtin_shufflevector exists).
template <class T, bool Trans>
CTGRAD_KERNELS_NOINLINE void copy_panel(const T* __restrict b, std::size_t ldb, std::size_t kc,
                                        std::size_t cols, std::size_t pad, T* __restrict panel,
                                        std::size_t NR) {
    if constexpr (Trans) {
        std::size_t j = 0;
#if CTGRAD_KERNELS_SHUFFLE
        constexpr std::size_t W = lanes<T>;
        const std::size_t tiled_k = kc - kc % W;
        for (; j + W <= cols; j += W) {
            const T* src = b + j * ldb;
            for (std::size_t k = 0; k < tiled_k; k += W) {
                vec<T> tile[W];
#pragma GCC unroll 16
                for (std::size_t r = 0; r < W; ++r) tile[r] = load(src + r * ldb + k);
                transpose<T>(tile);
#pragma GCC unroll 16
                for (std::size_t r = 0; r < W; ++r) store(panel + (k + r) * NR + j, tile[r]);
            }
            for (std::size_t k = tiled_k; k < kc; ++k) {
                for (std::size_t r = 0; r < W; ++r) panel[k * NR + j + r] = src[r * ldb + k];
            }
        }
#endif
        for (; j < cols; ++j) {
            for (std::size_t k = 0; k < kc; ++k) panel[k * NR + j] = b[j * ldb + k];
        }
    } else {
        for (std::size_t k = 0; k < kc; ++k) {
            for (std::size_t j = 0; j < cols; ++j) panel[k * NR + j] = b[k * ldb + j];
        }
    }
    for (std::size_t k = 0; k < kc; ++k) {
        for (std::size_t j = cols; j < pad; ++j) panel[k * NR + j] = T(0);
    }
}

/// The columns of C in panels of NR = NV·W: the full panels, then the N % NR columns left in a
/// panel of as few vectors as hold them. The sum over k in blocks of at most kc_max rows, so a
/// copied kc×NR panel of B is at most panel_bytes; the blocks are nearly equal (kc_big rows, the
/// last ones kc_big - 1).
template <class T, std::size_t K, std::size_t N>
struct blocking {
    static constexpr std::size_t W = lanes<T>;
    static constexpr std::size_t NV = block_vectors;
    static constexpr std::size_t NR = NV * W;
    static constexpr std::size_t full_panels = N / NR;
    static constexpr std::size_t rest = N % NR;
    static constexpr std::size_t rest_nv = (rest + W - 1) / W;
    static constexpr std::size_t kc_max = panel_bytes / (NR * sizeof(T)) > 0
                                              ? panel_bytes / (NR * sizeof(T))
                                              : 1;
    static constexpr std::size_t k_blocks = (K + kc_max - 1) / kc_max;
    static constexpr std::size_t kc_big = (K + k_blocks - 1) / k_blocks;
    static constexpr std::size_t n_big = K - (kc_big - 1) * k_blocks;  // blocks of kc_big rows
};

/// C (+)= α·A·op(B) over k0 <= k < k0 + kc, for A at ALay and op(B)(k, j) = b[k·N + j]
/// (TransB false: full panels are read in place) or b[j·K + k] (TransB true: every panel is
/// copied, transposed). LoadC: add to C (otherwise assign).
template <class T, class ALay, std::size_t M, std::size_t K, std::size_t N, bool TransB, bool LoadC>
inline void k_block(const T* a, const T* b, T* c, T alpha, std::size_t k0, std::size_t kc,
                    T* panel) {
    using bl = blocking<T, K, N>;
    constexpr std::size_t NR = bl::NR;
    const T* ak = a + k0 * ALay::k;
    for (std::size_t j0 = 0; j0 < bl::full_panels * NR; j0 += NR) {
        if constexpr (TransB) {
            copy_panel<T, true>(b + j0 * K + k0, K, kc, NR, NR, panel, NR);
            panel_rows<T, ALay, M, bl::NV, LoadC>(kc, ak, panel, NR, c + j0, N, NR, alpha);
        } else {
            panel_rows<T, ALay, M, bl::NV, LoadC>(kc, ak, b + k0 * N + j0, N, c + j0, N, NR, alpha);
        }
    }
    if constexpr (bl::rest != 0) {
        constexpr std::size_t j0 = bl::full_panels * NR;
        if constexpr (TransB) {
            copy_panel<T, true>(b + j0 * K + k0, K, kc, bl::rest, bl::rest_nv * bl::W, panel, NR);
        } else {
            copy_panel<T, false>(b + k0 * N + j0, N, kc, bl::rest, bl::rest_nv * bl::W, panel, NR);
        }
        panel_rows<T, ALay, M, bl::rest_nv, LoadC>(kc, ak, panel, NR, c + j0, N, bl::rest, alpha);
    }
}

/// C (+)= α·A·op(B): the k blocks, the first one assigning C unless Acc, the others adding.
template <class T, class ALay, std::size_t M, std::size_t K, std::size_t N, bool TransB, bool Acc>
inline void gemm(const T* __restrict a, const T* __restrict b, T* __restrict c, T alpha) {
    using bl = blocking<T, K, N>;
    constexpr bool copies = TransB || bl::rest != 0;
    alignas(64) T panel[copies ? bl::kc_big * bl::NR : 1];
    k_block<T, ALay, M, K, N, TransB, Acc>(a, b, c, alpha, 0, bl::kc_big, panel);
    std::size_t k0 = bl::kc_big;
    for (std::size_t blk = 1; blk < bl::k_blocks; ++blk) {
        const std::size_t kc = blk < bl::n_big ? bl::kc_big : bl::kc_big - 1;
        k_block<T, ALay, M, K, N, TransB, true>(a, b, c, alpha, k0, kc, panel);
        k0 += kc;
    }
}

/// The plain loop: constant evaluation, tiny products. A(i, k) = a[i·ra + k·ka],
/// B(k, j) = b[k·kb + j·cb].
template <std::size_t M, std::size_t K, std::size_t N, bool Acc, class T>
constexpr void simple(const T* a, std::size_t ra, std::size_t ka, const T* b, std::size_t kb,
                      std::size_t cb, T* c, T alpha) {
    for (std::size_t i = 0; i < M; ++i) {
        for (std::size_t j = 0; j < N; ++j) {
            T s = T(0);
            for (std::size_t k = 0; k < K; ++k) s += a[i * ra + k * ka] * b[k * kb + j * cb];
            if constexpr (Acc) {
                c[i * N + j] += alpha * s;
            } else {
                c[i * N + j] = alpha * s;
            }
        }
    }
}

template <std::size_t M, std::size_t K, std::size_t N>
inline constexpr bool sizes_ok = M > 0 && K > 0 && N > 0;

}  // namespace detail

/// C = α·A·B (`mode::assign`) or C += α·A·B (`mode::accumulate`), for A [M, K], B [K, N] and
/// C [M, N], all row-major. c must not overlap a or b.
template <std::size_t M, std::size_t K, std::size_t N, mode Mode = mode::assign, class T>
constexpr void matmul(const T* __restrict a, const T* __restrict b, T* __restrict c,
                      std::type_identity_t<T> alpha = T(1)) {
    static_assert(detail::sizes_ok<M, K, N>, "ctgrad::kernels::matmul: sizes must be positive");
    constexpr bool acc = Mode == mode::accumulate;
    if constexpr (M * K * N <= detail::tiny_product) {
        detail::simple<M, K, N, acc>(a, K, 1, b, N, 1, c, alpha);
    } else if (std::is_constant_evaluated()) {
        detail::simple<M, K, N, acc>(a, K, 1, b, N, 1, c, alpha);
    } else {
        detail::gemm<T, detail::a_layout<K, 1>, M, K, N, false, acc>(a, b, c, alpha);
    }
}

/// C = α·Aᵀ·B (`mode::assign`) or C += α·Aᵀ·B (`mode::accumulate`), for A stored [K, M] (its
/// transpose is never formed), B [K, N] and C [M, N], all row-major: the weight gradient
/// dW = Xᵀ·dD of D = X·W. c must not overlap a or b.
template <std::size_t M, std::size_t K, std::size_t N, mode Mode = mode::assign, class T>
constexpr void matmul_tn(const T* __restrict a, const T* __restrict b, T* __restrict c,
                         std::type_identity_t<T> alpha = T(1)) {
    static_assert(detail::sizes_ok<M, K, N>, "ctgrad::kernels::matmul_tn: sizes must be positive");
    constexpr bool acc = Mode == mode::accumulate;
    if constexpr (M * K * N <= detail::tiny_product) {
        detail::simple<M, K, N, acc>(a, 1, M, b, N, 1, c, alpha);
    } else if (std::is_constant_evaluated()) {
        detail::simple<M, K, N, acc>(a, 1, M, b, N, 1, c, alpha);
    } else {
        detail::gemm<T, detail::a_layout<1, M>, M, K, N, false, acc>(a, b, c, alpha);
    }
}

/// C = α·A·Bᵀ (`mode::assign`) or C += α·A·Bᵀ (`mode::accumulate`), for A [M, K], B stored
/// [N, K] (its transpose is never formed: panels of at most detail::panel_bytes are copied)
/// and C [M, N], all row-major: the input gradient dX = dD·Wᵀ of D = X·W. c must not overlap
/// a or b.
template <std::size_t M, std::size_t K, std::size_t N, mode Mode = mode::assign, class T>
constexpr void matmul_nt(const T* __restrict a, const T* __restrict b, T* __restrict c,
                         std::type_identity_t<T> alpha = T(1)) {
    static_assert(detail::sizes_ok<M, K, N>, "ctgrad::kernels::matmul_nt: sizes must be positive");
    constexpr bool acc = Mode == mode::accumulate;
    if constexpr (M * K * N <= detail::tiny_product) {
        detail::simple<M, K, N, acc>(a, K, 1, b, 1, K, c, alpha);
    } else if (std::is_constant_evaluated()) {
        detail::simple<M, K, N, acc>(a, K, 1, b, 1, K, c, alpha);
    } else {
        detail::gemm<T, detail::a_layout<K, 1>, M, K, N, true, acc>(a, b, c, alpha);
    }
}

}  // namespace ctgrad::kernels

#undef CTGRAD_KERNELS_VECTOR_EXT
#undef CTGRAD_KERNELS_NOINLINE
#undef CTGRAD_KERNELS_SHUFFLE
