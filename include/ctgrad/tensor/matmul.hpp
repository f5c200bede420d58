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
/// AVX-512F; other compilers, or `-DCTGRAD_KERNELS_PORTABLE`, get a plain-array fallback with
/// the same blocking. MR × NR is 6 × 2W with 16 vector registers (AVX2: 6 × 16 floats, the BLIS
/// Haswell/Zen block, 12 accumulators), 8 × 3W with 32.
///
/// **Instruction set:** a header-only library is compiled with its user's flags, and plain
/// `-O2` on x86-64 targets SSE2, a quarter of what an AVX-512 core does. So an x86-64 build
/// with GCC or Clang that targets less than AVX-512F also compiles the micro-kernel and the
/// panel copy (the only code that touches vectors) for AVX2 + FMA and for AVX-512F, with the
/// `target` attribute, and `active_isa()` picks the best one the processor has, once per
/// process; `CTGRAD_KERNELS_ISA=target|avx2|avx512` in the environment holds it lower,
/// `-DCTGRAD_KERNELS_NO_DISPATCH` compiles the target's kernels only. Only the matrix products
/// are chosen at run time; the tensor engine's elementwise loops get what the compiler targets.
///
/// **Blocking** (the BLIS loop order): the sum over k is split into nearly equal blocks so that a
/// KC×NR panel of B stays in L1 (KC·NR·sizeof(T) <= 16 KiB); within a k block the columns go in
/// blocks of at most 128 KiB of B, the rows in blocks of at most 96 KiB of A (MC rows × KC, kept
/// in L2 while every panel of the column block meets them), then the NR-column panels, then the
/// MR-row blocks. `matmul_nt` copies each KC×NR panel of Bᵀ into a buffer on the stack (W×W
/// tiles transposed in registers), once per k block for all the rows (with a single block of
/// rows each panel just before its use); `matmul` and `matmul_tn` copy B's panels too from 64
/// blocks of MR rows on (384 with AVX2) when A is larger than 96 KiB, and read them in place
/// otherwise; the last N % NR columns of any B are copied zero-padded to whole vectors where
/// they need padding: nothing is allocated and no transposed matrix is formed.
/// `matmul_tn` (A(i, k) = a[k·M + i], one cache line per k) with A larger than 96 KiB copies
/// each MR-row micro-panel of a row block once into a contiguous
/// stream (1.3× faster for dW = Xᵀ·dD of X [256, 784], dD [256, 100] on a Zen 3 EPYC, AVX2).
/// The last M % MR rows use a micro-kernel with that many rows, the last N % NR columns one with
/// as few vectors as hold them; on 16-register ISAs, where those columns fit half a vector (N =
/// 100 floats with AVX2: 6 panels of 16 and 4 columns), a block of 2·MR rows × W/2 lanes
/// (12 chains of multiply-adds instead of 6, no padding lanes), and where A's rows are
/// contiguous for each k (`matmul_tn`) the column-vector kernel: vectors of W rows down the
/// columns of C, 3W rows × those columns (AVX2: 24 × 4, every lane used; 8% fewer instructions
/// for the split's dW terms [196, 128]·[128, 100]). Only the product's columns are
/// stored: every size works, 1 and primes included. Products of at most 64 multiply-adds run the
/// plain loop at run time too. The sum over k runs in a different order than a naive loop (and
/// may use FMA), so results differ from it by rounding; each C(i, j) is one chain of multiply-adds
/// over k in order within each k block, so the result does not depend on the copies, the row
/// and column blocks or the register block's shape (only on K's split into k blocks).
///
/// **Few rows** (M below the register block's MR: one-sample inference, x [1, 784]·W [784, 100]):
/// every element of B is used once per row whatever the blocking, so `matmul` and `matmul_tn`
/// take the row kernel instead: B is read in place, row after row, in one pass (no panel copy,
/// no k blocks), with all the columns of a chunk (as many vectors as the registers hold for M
/// rows: N = 100 floats with AVX-512 is 6 vectors and 4 columns) in accumulators for the whole
/// sum; the N % W columns left use narrower registers (8, 4, 2, 1 lanes), so nothing outside B
/// and C is read or written; too few chains of multiply-adds to hide their latency get 2 or 4
/// partial sums over alternate k; a B larger than the L1 cache is prefetched 2 KiB ahead. For
/// x [1, 784]·W [784, 100] in float this is 3.8× fewer instructions than the blocked kernels
/// (AVX2, callgrind) and bounded by the L2 cache's bandwidth (W is 314 KB). One row times a
/// vector-aligned B of that kind whose rows are not a whole number of vectors reads B as one
/// flat array of aligned vectors instead (`flat_body`: no load splits a cache line; 1.35×
/// faster for the 784 × 100 layer with AVX-512).
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::uintptr_t
#include <cstdio>       // std::fprintf
#include <cstdlib>      // std::getenv
#include <cstring>      // std::memcpy, std::strcmp
#include <type_traits>  // std::integral_constant, std::is_constant_evaluated, std::type_identity_t
#include <utility>      // std::index_sequence

#if defined(__GNUC__) || defined(__clang__)
#define CTGRAD_KERNELS_NOINLINE [[gnu::noinline]]
#else
#define CTGRAD_KERNELS_NOINLINE
#endif

/// Asserts that the iterations of the loop that follows do not depend on each other through memory
/// the compiler cannot tell apart, so that GCC vectorises the loop without checking for overlap at
/// run time (which its -O2 cost model does not do). Clang checks at run time; its counterpart
/// (`clang loop vectorize(assume_safety)`) would also demand vectorisation, and warn where a loop
/// cannot be (a call of exp). Used by tensor/engine.hpp and tensor/conv.hpp.
#ifndef CTGRAD_IVDEP
#if defined(__GNUC__) && !defined(__clang__)
#define CTGRAD_IVDEP _Pragma("GCC ivdep")
#else
#define CTGRAD_IVDEP
#endif
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

/// The instruction sets the run-time kernels are compiled for. `target` is whatever the
/// compiler targets (SSE2 at plain `-O2` on x86-64, AVX-512 with `-march=native` on a machine
/// that has it); `avx2` (AVX2 and FMA, 32-byte vectors) and `avx512` (AVX-512F, 64-byte vectors,
/// 32 registers) are extra copies of the kernels that an x86-64 build compiled for less carries
/// and picks at run time when the processor has them (see `active_isa`).
enum class isa : unsigned char { target, avx2, avx512 };

namespace detail {

/// Bytes in one vector register of the target: 64 with AVX-512F, 32 with AVX/AVX2, 16
/// otherwise (SSE2, NEON, ...). Override with -DCTGRAD_KERNELS_VECTOR_BYTES=n (a power of two,
/// at least the size of T; e.g. 32 where 512-bit instructions lower the clock); an override
/// also turns the run-time choice off.
#if defined(CTGRAD_KERNELS_VECTOR_BYTES)
inline constexpr std::size_t vector_bytes = CTGRAD_KERNELS_VECTOR_BYTES;
#elif defined(__AVX512F__)
inline constexpr std::size_t vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t vector_bytes = 32;
#else
inline constexpr std::size_t vector_bytes = 16;
#endif

/// Vector registers of the target available for the accumulators of a block of C.
#if defined(__AVX512F__) || defined(__aarch64__)
inline constexpr std::size_t vector_registers = 32;
#else
inline constexpr std::size_t vector_registers = 16;
#endif

/// Whether this build carries the AVX2 and AVX-512 copies of the kernels and chooses among them
/// at run time: on x86-64 with GCC or Clang, unless the target already has AVX-512F, the
/// vector width is overridden, or -DCTGRAD_KERNELS_NO_DISPATCH is given.
#if CTGRAD_KERNELS_VECTOR_EXT && defined(__x86_64__) && !defined(__AVX512F__) && \
    !defined(CTGRAD_KERNELS_VECTOR_BYTES) && !defined(CTGRAD_KERNELS_NO_DISPATCH)
#define CTGRAD_KERNELS_DISPATCH 1
#else
#define CTGRAD_KERNELS_DISPATCH 0
#endif

/// Vector width and register count of each instruction set.
template <isa I>
struct isa_traits {
    static constexpr std::size_t bytes = vector_bytes;
    static constexpr std::size_t registers = vector_registers;
};
template <>
struct isa_traits<isa::avx2> {
    static constexpr std::size_t bytes = 32;
    static constexpr std::size_t registers = 16;
};
template <>
struct isa_traits<isa::avx512> {
    static constexpr std::size_t bytes = 64;
    static constexpr std::size_t registers = 32;
};

/// The largest panel of B (KC rows × NR columns) one k block uses, so that it stays in a 32 KiB
/// L1 data cache with the rows of A and C it meets. Override with -DCTGRAD_KERNELS_PANEL_BYTES=n.
#if defined(CTGRAD_KERNELS_PANEL_BYTES)
inline constexpr std::size_t panel_bytes = CTGRAD_KERNELS_PANEL_BYTES;
#else
inline constexpr std::size_t panel_bytes = 16 * 1024;
#endif

/// Products with at most this many multiply-adds run the plain loop at run time.
inline constexpr std::size_t tiny_product = 64;

/// Lanes of T in one vector of instruction set I.
template <class T, isa I>
inline constexpr std::size_t lanes_on = isa_traits<I>::bytes >= sizeof(T)
                                            ? isa_traits<I>::bytes / sizeof(T)
                                            : 1;

/// Lanes of T in one vector of the target (the width the tensor engine's loops are laid out
/// for).
template <class T>
inline constexpr std::size_t lanes = lanes_on<T, isa::target>;

#if CTGRAD_KERNELS_VECTOR_EXT
/// -DCTGRAD_NO_FORCED_INLINE (Clang at -O0 only; ignored when optimising and by GCC): the
/// kernels' helpers (this macro, CTGRAD_CONV_INLINE of tensor/conv_kernels.hpp) and the tensor
/// engine's loops and math/vector.hpp's functions (CTGRAD_ALWAYS_INLINE, CTGRAD_VEC_INLINE) are
/// plain `inline`. At -O0 nothing else inlines, so forced inlining clones every helper into
/// every caller, once per instruction set: in the sanitizer build of run.sh (clang++ -O0,
/// ASan+UBSan) that made clang's back end 3/4 of the kernel tests' compile time. Without it each
/// helper is compiled once per template instance, at the baseline instruction set: the
/// AVX2/AVX-512 copies then run the same loads, stores and index arithmetic (what the
/// sanitizers check) but through the helpers' baseline instructions, so without FMA (rounding
/// as on the target copy). Not for speed: optimised builds inline as before.
#if defined(CTGRAD_NO_FORCED_INLINE) && defined(__clang__) && !defined(__OPTIMIZE__)
#define CTGRAD_KERNELS_INLINE inline
#else
#define CTGRAD_KERNELS_INLINE [[gnu::always_inline]] inline
#endif

template <class T, std::size_t W>
struct vector {
    typedef T type __attribute__((vector_size(W * sizeof(T))));
};
/// W lanes of T. The helpers below take them by reference and are always inlined into the
/// micro-kernel and the panel copy of each instruction set: no vector is passed by value, whose
/// calling convention would depend on the instruction set (GCC's and Clang's -Wpsabi).
template <class T, std::size_t W>
using vec = typename vector<T, W>::type;

#if defined(__clang__)
/// clang++: through a vector type of the element's alignment that may alias T, not memcpy. The
/// same instructions at -O2 (vmovups; identical objects of bench/tensor/mlp_instructions.cpp),
/// but with AddressSanitizer clang keeps a 16/32-byte memcpy as a call of __asan_memcpy (a range
/// check and a copy out of line: 30 % of the sanitizer build's CNN example), where this is one
/// instrumented access. GCC keeps the memcpy (its code unchanged).
template <class T, std::size_t W>
struct unaligned_vector {
    typedef T type __attribute__((vector_size(W * sizeof(T)), aligned(alignof(T)), may_alias));
};
template <std::size_t W, class T>
CTGRAD_KERNELS_INLINE void load(vec<T, W>& v, const T* p) {
    v = *reinterpret_cast<const typename unaligned_vector<T, W>::type*>(p);
}
template <std::size_t W, class T>
CTGRAD_KERNELS_INLINE void store(T* p, const vec<T, W>& v) {
    *reinterpret_cast<typename unaligned_vector<T, W>::type*>(p) = v;
}
#else
template <std::size_t W, class T>
CTGRAD_KERNELS_INLINE void load(vec<T, W>& v, const T* p) {
    __builtin_memcpy(&v, p, sizeof v);
}
template <std::size_t W, class T>
CTGRAD_KERNELS_INLINE void store(T* p, const vec<T, W>& v) {
    __builtin_memcpy(p, &v, sizeof v);
}
#endif
#if defined(__clang__) || __GNUC__ >= 12  // __builtin_shufflevector
#define CTGRAD_KERNELS_SHUFFLE 1
/// Lanes Half·W/2 ... of a and b interleaved: (a[h], b[h], a[h + 1], b[h + 1], ...).
template <std::size_t Half, class V, std::size_t... L>
CTGRAD_KERNELS_INLINE void interleave(V& out, const V& a, const V& b, std::index_sequence<L...>) {
    constexpr std::size_t W = sizeof...(L);
    out = __builtin_shufflevector(a, b, (L % 2 != 0 ? W : 0) + Half * (W / 2) + L / 2 ...);
}

/// Transposes the W×W tile x[row][lane] in place: log2(W) rounds of interleaving row i with
/// row i + W/2 (the perfect shuffle applied log2(W) times is the transpose).
template <std::size_t W, class T>
CTGRAD_KERNELS_INLINE void transpose(vec<T, W> (&x)[W]) {
    constexpr auto idx = std::make_index_sequence<W>{};
    for (std::size_t round = 1; round < W; round *= 2) {
        vec<T, W> y[W];
#pragma GCC unroll 16
        for (std::size_t i = 0; i < W / 2; ++i) {
            interleave<0>(y[2 * i], x[i], x[i + W / 2], idx);
            interleave<1>(y[2 * i + 1], x[i], x[i + W / 2], idx);
        }
#pragma GCC unroll 16
        for (std::size_t i = 0; i < W; ++i) x[i] = y[i];
    }
}
#else
#define CTGRAD_KERNELS_SHUFFLE 0
#endif
#else
#define CTGRAD_KERNELS_INLINE inline
#define CTGRAD_KERNELS_SHUFFLE 0
/// The portable stand-in for a vector register: W lanes, lane-wise arithmetic.
template <class T, std::size_t W>
struct vec {
    T lane[W];
    friend vec operator*(vec v, T s) {
        for (std::size_t l = 0; l < W; ++l) v.lane[l] *= s;
        return v;
    }
    friend vec operator+(vec v, vec w) {
        for (std::size_t l = 0; l < W; ++l) v.lane[l] += w.lane[l];
        return v;
    }
    vec& operator+=(vec w) { return *this = *this + w; }
};
template <std::size_t W, class T>
inline void load(vec<T, W>& v, const T* p) {
    for (std::size_t l = 0; l < W; ++l) v.lane[l] = p[l];
}
template <std::size_t W, class T>
inline void store(T* p, const vec<T, W>& v) {
    for (std::size_t l = 0; l < W; ++l) p[l] = v.lane[l];
}
#endif

/// The shape of the register block of C: MR rows × NV vectors. MR·NV accumulators, NV vectors of
/// B and one broadcast of A (plus a product temporary without FMA) fit the register file:
/// 16 registers -> 6 × 2, 32 registers -> 8 × 3. (Measured on x86-64 with SSE2, AVX2 and
/// AVX-512: with 16 registers 4 × 3 is as fast under GCC, but Clang spills an accumulator.)
/// Override with -DCTGRAD_KERNELS_BLOCK_ROWS=r and -DCTGRAD_KERNELS_BLOCK_VECTORS=v (for every
/// instruction set).
template <isa I>
inline constexpr std::size_t block_vectors =
#if defined(CTGRAD_KERNELS_BLOCK_VECTORS)
    CTGRAD_KERNELS_BLOCK_VECTORS;
#else
    isa_traits<I>::registers >= 32 ? 3 : 2;
#endif
template <isa I>
inline constexpr std::size_t block_rows =
#if defined(CTGRAD_KERNELS_BLOCK_ROWS)
    CTGRAD_KERNELS_BLOCK_ROWS;
#else
    isa_traits<I>::registers >= 32 ? 8 : 6;
#endif

/// Where A(i, k) is: a[i·RowStride + k·KStride].
template <std::size_t RowStride, std::size_t KStride>
struct a_layout {
    static constexpr std::size_t row = RowStride;
    static constexpr std::size_t k = KStride;
};

/// The micro-kernel: C[0:MR, 0:nc] (row stride ldc) = α·Σ_{k<kc} A(i, k)·B(k, 0:nc), added to C
/// when load_c, for A(i, k) = a[i·ra + k·ka] and B(k, j) = b[k·ldb + j] (load_c is a run-time
/// flag: it only chooses how the MR·NV results are stored, once per call, so one compiled kernel
/// serves both and a TU compiles half as many). B is read NV vectors of W lanes wide: its
/// columns past nc, if any, must be readable (the zero padding of a copied panel); only the
/// first nc columns of C are written, (NV - 1)·W < nc <= NV·W. Always inlined into
/// `entry<I>::micro_kernel`, which is compiled for the instruction set.
template <class T, std::size_t W, std::size_t MR, std::size_t NV>
CTGRAD_KERNELS_INLINE void micro_kernel_body(std::size_t kc, const T* __restrict a, std::size_t ra,
                                             std::size_t ka, const T* __restrict b, std::size_t ldb,
                                             T* __restrict c, std::size_t ldc, std::size_t nc,
                                             T alpha, bool load_c) {
    vec<T, W> acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = vec<T, W>{};
    }
    // A's rows through one pointer per group of G rows (row i at ag[i / G][(i % G)·ra]): above 6
    // rows groups of 3, base + index·scale addressing with the indexes ra and 2·ra, where one
    // pointer and an index per row ran out of integer registers for 12 rows (the narrow tail:
    // 3 reloads from the stack per k); up to 6 rows one pointer (one add per k)
    constexpr std::size_t G = MR <= 6 ? MR : 3, groups = (MR + G - 1) / G;
    const T* ag[groups];
#pragma GCC unroll 8
    for (std::size_t g = 0; g < groups; ++g) ag[g] = a + G * g * ra;
    for (std::size_t k = 0; k < kc; ++k) {
        vec<T, W> bk[NV];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) load<W>(bk[v], b + k * ldb + v * W);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
            // vector × scalar: the scalar in every lane (not a built vector {s, s, ...}, which
            // GCC assembles lane by lane in the AVX-512 copy compiled from generic code).
            const T ai = ag[i / G][i % G * ra];
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[i][v] += bk[v] * ai;
        }
#pragma GCC unroll 8
        for (std::size_t g = 0; g < groups; ++g) ag[g] += ka;
    }
    // whole vectors but the last of each row; that one whole when nc = NV·W, else its first
    // nc - (NV - 1)·W lanes through a tile on the stack (one loop for all MR rows)
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v + 1 < NV; ++v) {
            vec<T, W> r = acc[i][v] * alpha;
            if (load_c) {
                vec<T, W> old;
                load<W>(old, c + i * ldc + v * W);
                r += old;
            }
            store<W>(c + i * ldc + v * W, r);
        }
    }
    constexpr std::size_t last = (NV - 1) * W;
    if (nc == NV * W) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
            vec<T, W> r = acc[i][NV - 1] * alpha;
            if (load_c) {
                vec<T, W> old;
                load<W>(old, c + i * ldc + last);
                r += old;
            }
            store<W>(c + i * ldc + last, r);
        }
    } else {
        T part[MR][W];
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) store<W>(part[i], acc[i][NV - 1] * alpha);
        const std::size_t tail = nc - last;
        for (std::size_t i = 0; i < MR; ++i) {
            T* ci = c + i * ldc + last;
            // fewer than W numbers: a plain loop (vectorised, it is masked code many times its
            // size for the compiler to build, once per micro-kernel and instruction set)
#if defined(__clang__)
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
#endif
            for (std::size_t l = 0; l < tail; ++l) ci[l] = load_c ? ci[l] + part[i][l] : part[i][l];
        }
    }
}

/// The column-vector kernel, for the NT < W columns left of a product whose A has its rows
/// contiguous for each k (A(i, k) = a[i + k·ka]: Aᵀ·B, the weight gradient): C[0:R·W, 0:NT]
/// (+)= α·Σ_{k<kc} A(0:R·W, k)·B(k, 0:NT), B(k, j) = b[k·ldb + j] read in place. The vectors run
/// down the columns of C: per k, R loads of A, NT broadcasts of B and R·NT multiply-adds on whole
/// vectors (AVX2, 4 columns: 24 rows × 4, 12 chains, every lane used), where a block of rows ×
/// vectors of columns would use half of each vector. Each C(i, j) is still one chain of
/// multiply-adds over k in order (in lane i % W of acc[i / W][j]), so the result is the same as
/// the other kernels'. The NT columns are transposed into rows of C at the end (W×NT tiles through
/// the stack). Always inlined into `entry<I>::colvec_kernel`.
template <class T, std::size_t W, std::size_t R, std::size_t NT>
CTGRAD_KERNELS_INLINE void colvec_kernel_body(std::size_t kc, const T* __restrict a, std::size_t ka,
                                              const T* __restrict b, std::size_t ldb,
                                              T* __restrict c, std::size_t ldc, T alpha,
                                              bool load_c) {
    vec<T, W> acc[R][NT];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NT; ++j) acc[r][j] = vec<T, W>{};
    }
    for (std::size_t k = 0; k < kc; ++k) {
        vec<T, W> av[R];
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) load<W>(av[r], a + k * ka + r * W);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NT; ++j) {
            const T bj = b[k * ldb + j];
#pragma GCC unroll 8
            for (std::size_t r = 0; r < R; ++r) acc[r][j] += av[r] * bj;
        }
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
        T part[NT][W];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NT; ++j) store<W>(part[j], acc[r][j] * alpha);
        for (std::size_t l = 0; l < W; ++l) {
            T* ci = c + (r * W + l) * ldc;
#pragma GCC unroll 16
            for (std::size_t j = 0; j < NT; ++j) {
                ci[j] = load_c ? ci[j] + part[j][l] : part[j][l];
            }
        }
    }
}

/// Copies the kc×cols block op(B)(k, j) of B into panel (row stride NR) and zero-fills its
/// columns cols..pad: op(B)(k, j) = b[k·ldb + j], or b[j·ldb + k] when Trans (then W×W tiles
/// are transposed in registers where __builtin_shufflevector exists). Always inlined into
/// `entry<I>::copy_panel`.
template <class T, std::size_t W, bool Trans>
CTGRAD_KERNELS_INLINE void copy_panel_body(const T* __restrict b, std::size_t ldb, std::size_t kc,
                                           std::size_t cols, std::size_t pad, T* __restrict panel,
                                           std::size_t NR) {
    if constexpr (Trans) {
        std::size_t j = 0;
#if CTGRAD_KERNELS_SHUFFLE
        const std::size_t tiled_k = kc - kc % W;
        for (; j + W <= cols; j += W) {
            const T* src = b + j * ldb;
            for (std::size_t k = 0; k < tiled_k; k += W) {
                vec<T, W> tile[W];
#pragma GCC unroll 16
                for (std::size_t r = 0; r < W; ++r) load<W>(tile[r], src + r * ldb + k);
                transpose<W, T>(tile);
#pragma GCC unroll 16
                for (std::size_t r = 0; r < W; ++r) store<W>(panel + (k + r) * NR + j, tile[r]);
            }
            for (std::size_t k = tiled_k; k < kc; ++k) {
                for (std::size_t r = 0; r < W; ++r) panel[k * NR + j + r] = src[r * ldb + k];
            }
        }
#endif
        for (; j < cols; ++j) {
            for (std::size_t k = 0; k < kc; ++k) panel[k * NR + j] = b[j * ldb + k];
        }
    } else if (cols == NR && NR % W == 0) {  // a full panel: whole vectors
        for (std::size_t k = 0; k < kc; ++k) {
#pragma GCC unroll 4
            for (std::size_t j = 0; j < NR; j += W) {
                vec<T, W> v;
                load<W>(v, b + k * ldb + j);
                store<W>(panel + k * NR + j, v);
            }
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

/// One register of w lanes of T: a vector, or T itself for w = 1.
template <class T, std::size_t w>
struct lanes_of {
    using type = vec<T, w>;
};
template <class T>
struct lanes_of<T, 1> {
    using type = T;
};

/// The accumulators of the last Tail < W columns of a row chunk, from column Off: one register of
/// w lanes if Tail has the bit w, then w/2, ..., 1 (so 100 = 6·16 + 4 columns of float with
/// AVX-512 end in one 4-lane register, and nothing past the last column is read or written).
/// U·MR registers per width, as the full vectors have (U partial sums over k, MR rows).
template <class T, std::size_t w, std::size_t Tail, std::size_t Off, std::size_t MR, std::size_t U>
struct row_tail {
    static constexpr bool here = (Tail & w) != 0;
    using lane = typename lanes_of<T, w>::type;
    using next = row_tail<T, w / 2, Tail, Off + (here ? w : 0), MR, U>;
    static constexpr std::size_t columns = Tail;                                // of the whole tail
    static constexpr std::size_t registers = (here ? 1 : 0) + next::registers;  // per row
    lane acc[U][here ? MR : 1];
    next rest;

    CTGRAD_KERNELS_INLINE void zero() {
        if constexpr (here) {
#pragma GCC unroll 4
            for (std::size_t u = 0; u < U; ++u) {
#pragma GCC unroll 16
                for (std::size_t i = 0; i < MR; ++i) acc[u][i] = lane{};
            }
        }
        rest.zero();
    }
    /// acc[u][i] += B(k, Off..)·ai[i] for the row bk = b + k·ldb.
    CTGRAD_KERNELS_INLINE void step(std::size_t u, const T* __restrict bk, const T (&ai)[MR]) {
        if constexpr (here) {
            lane bv;
            std::memcpy(&bv, bk + Off, sizeof bv);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < MR; ++i) acc[u][i] += bv * ai[i];
        }
        rest.step(u, bk, ai);
    }
    /// C(i, Off..) (+)= α·Σᵤ acc[u][i].
    template <bool LoadC>
    CTGRAD_KERNELS_INLINE void finish(T* __restrict c, std::size_t ldc, T alpha) {
        if constexpr (here) {
#pragma GCC unroll 16
            for (std::size_t i = 0; i < MR; ++i) {
                lane r = acc[0][i];
#pragma GCC unroll 4
                for (std::size_t u = 1; u < U; ++u) r += acc[u][i];
                r = r * alpha;
                if constexpr (LoadC) {
                    lane old;
                    std::memcpy(&old, c + i * ldc + Off, sizeof old);
                    r += old;
                }
                std::memcpy(c + i * ldc + Off, &r, sizeof r);
            }
        }
        rest.template finish<LoadC>(c, ldc, alpha);
    }
};
template <class T, std::size_t Tail, std::size_t Off, std::size_t MR, std::size_t U>
struct row_tail<T, 0, Tail, Off, MR, U> {
    static constexpr std::size_t columns = Tail;
    static constexpr std::size_t registers = 0;
    CTGRAD_KERNELS_INLINE void zero() {}
    CTGRAD_KERNELS_INLINE void step(std::size_t, const T* __restrict, const T (&)[MR]) {}
    template <bool LoadC>
    CTGRAD_KERNELS_INLINE void finish(T* __restrict, std::size_t, T) {}
};

/// Vector registers the row kernel gives its accumulators (the rest hold B's row, A's
/// broadcasts and products).
template <std::size_t Registers>
inline constexpr std::size_t row_budget = Registers >= 32 ? 20 : 10;

/// How far ahead (in bytes of B) the row kernel prefetches B into L1 when B does not fit there:
/// the hardware's own prefetchers keep fewer lines in flight from L2 than the multiply-adds
/// could consume (measured on an AVX-512 Xeon, x [1, 784]·W [784, 100] in float: 3.6 µs
/// without, 3.1 µs at 1.5–3 KiB ahead). Override with -DCTGRAD_KERNELS_PREFETCH_BYTES=n (0: no
/// prefetch).
#if defined(CTGRAD_KERNELS_PREFETCH_BYTES)
inline constexpr std::size_t prefetch_bytes = CTGRAD_KERNELS_PREFETCH_BYTES;
#else
inline constexpr std::size_t prefetch_bytes = 2048;
#endif

/// One k of the row kernel: acc[i][v] += B(k, v·W..)·A(i, k) and the tail's registers; with
/// Ahead > 0, the same columns of row k + Ahead prefetched (one prefetch per cache line).
template <class T, std::size_t W, std::size_t MR, std::size_t NV, std::size_t Ahead, std::size_t NA,
          class Tail>
CTGRAD_KERNELS_INLINE void row_step(vec<T, W> (&acc)[MR][NA], Tail& rest, std::size_t u,
                                    std::size_t k, const T* __restrict a, std::size_t ra,
                                    std::size_t ka, const T* __restrict b, std::size_t ldb) {
    const T* bk = b + k * ldb;
    if constexpr (Ahead > 0) {
        constexpr std::size_t line = 64 / sizeof(T) > 0 ? 64 / sizeof(T) : 1;
        constexpr std::size_t row = NV * W + Tail::columns;
#pragma GCC unroll 32
        for (std::size_t j = 0; j < row; j += line) __builtin_prefetch(bk + Ahead * ldb + j);
    }
    T ai[MR];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) ai[i] = a[i * ra + k * ka];
#pragma GCC unroll 32
    for (std::size_t v = 0; v < NV; ++v) {
        vec<T, W> bv;
        load<W>(bv, bk + v * W);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) acc[i][v] += bv * ai[i];
    }
    rest.step(u, bk, ai);
}

/// The row kernel, for products with fewer rows than a register block (one-sample inference:
/// x [1, K]·W [K, N]): C[0:MR, 0:NC] (+)= α·Σ_{k<K} A(i, k)·B(k, 0:NC), for A(i, k) =
/// a[i·ra + k·ka] and B(k, j) = b[k·ldb + j], with every column of the chunk in registers for
/// the whole sum: NC / W vectors of W lanes and the NC % W columns left in narrower registers
/// (row_tail), so B is read in place, once, row after row (no panel copy, no k blocks: with MR
/// rows each element of B is used MR times in one pass), and nothing outside [0, NC) is read or
/// written. When MR·(registers) is below 8 chains of dependent multiply-adds, U partial sums
/// over alternate k hide the FMA latency; they are added at the end. Prefetch: B larger than
/// the L1 cache is prefetched prefetch_bytes ahead (never past row K - 1).
template <class T, std::size_t W, std::size_t MR, std::size_t K, std::size_t NC, bool Prefetch,
          bool LoadC>
CTGRAD_KERNELS_INLINE void row_kernel_body(const T* __restrict a, std::size_t ra, std::size_t ka,
                                           const T* __restrict b, std::size_t ldb, T* __restrict c,
                                           std::size_t ldc, T alpha) {
    constexpr std::size_t NV = NC / W;
    using tail_t = row_tail<T, W / 2, NC % W, NV * W, MR, 1>;
    constexpr std::size_t chains = MR * (NV + tail_t::registers);
    constexpr std::size_t U = chains >= 8 ? 1 : chains >= 4 ? 2 : 4;
    constexpr std::size_t row_bytes = NC * sizeof(T);
    constexpr std::size_t ahead =
        Prefetch && prefetch_bytes > 0 ? (prefetch_bytes + row_bytes - 1) / row_bytes : 0;
    constexpr std::size_t k_prefetched = K > ahead ? K - ahead : 0;  // row k + ahead exists
    using V = vec<T, W>;
    V acc[U][MR][NV > 0 ? NV : 1];
    row_tail<T, W / 2, NC % W, NV * W, MR, U> rest;
#pragma GCC unroll 4
    for (std::size_t u = 0; u < U; ++u) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 32
            for (std::size_t v = 0; v < NV; ++v) acc[u][i][v] = V{};
        }
    }
    rest.zero();
    constexpr std::size_t k1 = ahead > 0 ? k_prefetched - k_prefetched % U : 0;
    constexpr std::size_t k2 = K - K % U;
    for (std::size_t k = 0; k < k1; k += U) {
#pragma GCC unroll 4
        for (std::size_t u = 0; u < U; ++u) {
            row_step<T, W, MR, NV, ahead>(acc[u], rest, u, k + u, a, ra, ka, b, ldb);
        }
    }
    for (std::size_t k = k1; k < k2; k += U) {
#pragma GCC unroll 4
        for (std::size_t u = 0; u < U; ++u) {
            row_step<T, W, MR, NV, 0>(acc[u], rest, u, k + u, a, ra, ka, b, ldb);
        }
    }
#pragma GCC unroll 4
    for (std::size_t k = k2; k < K; ++k) {
        row_step<T, W, MR, NV, 0>(acc[0], rest, 0, k, a, ra, ka, b, ldb);
    }
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 32
        for (std::size_t v = 0; v < NV; ++v) {
            V r = acc[0][i][v];
#pragma GCC unroll 4
            for (std::size_t u = 1; u < U; ++u) r += acc[u][i][v];
            r = r * alpha;
            if constexpr (LoadC) {
                V old;
                load<W>(old, c + i * ldc + v * W);
                r += old;
            }
            store<W>(c + i * ldc + v * W, r);
        }
    }
    rest.template finish<LoadC>(c, ldc, alpha);
}

#if CTGRAD_KERNELS_SHUFFLE
/// The flat stream of one row (M = 1) times a large, vector-aligned B [K, N] whose rows are not
/// a whole number of vectors: B is read as one contiguous array of K·N numbers in whole W-lane
/// vectors, so no load splits a cache line (a row kernel's vectors of a 100-float row start at
/// 16-byte steps, and 3 of 4 of them cross a line). The lanes repeat their columns every
/// P = W / gcd(N, W) rows, V = P·N / W vectors (N = 100, W = 16: 4 rows, 25 vectors); vector v
/// of a period multiplies lanes of rows r = (v·W + l) / N, so its A factor is one broadcast, or
/// a blend of two or three where it crosses a row boundary (a shuffle of the period's P
/// numbers of A). The V accumulators are stored once and their P row phases added per column.
template <class T, std::size_t W, std::size_t N>
struct flat_period {
    static constexpr std::size_t gcd(std::size_t x, std::size_t y) {
        return y == 0 ? x : gcd(y, x % y);
    }
    static constexpr std::size_t P = W / gcd(N, W);
    static constexpr std::size_t V = P * N / W;
};

/// acc += B(k.., v·W..)·A for vector v of a period (Count numbers of B from row k: the last
/// vector of the last rows reads only as far as B goes, its other lanes zero).
template <class T, std::size_t W, std::size_t N, std::size_t Rows, std::size_t Count, std::size_t v,
          std::size_t... L>
CTGRAD_KERNELS_INLINE void flat_vector(vec<T, W>& acc, const vec<T, W>& xs, const T* __restrict bk,
                                       std::index_sequence<L...>) {
    vec<T, W> bv{};
    if constexpr ((v + 1) * W <= Count) {
        load<W>(bv, bk + v * W);
    } else {
        __builtin_memcpy(&bv, bk + v * W, (Count - v * W) * sizeof(T));
    }
    acc += bv * __builtin_shufflevector(xs, xs, ((v * W + L) / N < Rows ? (v * W + L) / N : 0)...);
}

/// acc[v] += B(k + r, ·)·A(0, k + r) over the Rows <= P rows from row k (Rows < P: the last
/// rows of B).
template <class T, std::size_t W, std::size_t N, std::size_t Rows, std::size_t VA,
          std::size_t... Vs>
CTGRAD_KERNELS_INLINE void flat_step(vec<T, W> (&acc)[VA], const T* __restrict a, std::size_t ka,
                                     const T* __restrict bk, std::index_sequence<Vs...>) {
    vec<T, W> xs{};
#pragma GCC unroll 16
    for (std::size_t p = 0; p < Rows; ++p) xs[p] = a[p * ka];
    (flat_vector<T, W, N, Rows, Rows * N, Vs>(acc[Vs], xs, bk, std::make_index_sequence<W>{}), ...);
}

/// c[0, 0:N] (+)= α·Σ_k A(0, k)·B(k, 0:N) by the flat stream (flat_period).
template <class T, std::size_t W, std::size_t K, std::size_t N, bool LoadC>
CTGRAD_KERNELS_INLINE void flat_body(const T* __restrict a, std::size_t ka, const T* __restrict b,
                                     T* __restrict c, T alpha) {
    using fp = flat_period<T, W, N>;
    vec<T, W> acc[fp::V];
#pragma GCC unroll 32
    for (std::size_t v = 0; v < fp::V; ++v) acc[v] = vec<T, W>{};
    constexpr std::size_t whole = K / fp::P * fp::P;
    for (std::size_t k = 0; k < whole; k += fp::P) {
        flat_step<T, W, N, fp::P>(acc, a + k * ka, ka, b + k * N,
                                  std::make_index_sequence<fp::V>{});
    }
    if constexpr (K % fp::P != 0) {
        constexpr std::size_t rows = K % fp::P;
        flat_step<T, W, N, rows>(acc, a + whole * ka, ka, b + whole * N,
                                 std::make_index_sequence<(rows * N + W - 1) / W>{});
    }
    alignas(64) T sums[fp::V * W];
#pragma GCC unroll 32
    for (std::size_t v = 0; v < fp::V; ++v) store<W>(sums + v * W, acc[v]);
    for (std::size_t j = 0; j < N; ++j) {
        T s = sums[j];
#pragma GCC unroll 16
        for (std::size_t p = 1; p < fp::P; ++p) s += sums[p * N + j];
        s *= alpha;
        if constexpr (LoadC) {
            c[j] += s;
        } else {
            c[j] = s;
        }
    }
}

/// Whether the one-row product [1, K]·[K, N] takes the flat stream: B larger than half an L1
/// (the case where its loads, not the multiply-adds, bound the time), rows not a whole number of
/// vectors, and the V accumulators leaving registers for B and the broadcasts.
template <class T, std::size_t W, std::size_t Registers, std::size_t K, std::size_t N>
inline constexpr bool flat_fits = (W > 1) && (N % W != 0) && (K >= flat_period<T, W, N>::P) &&
                                  (K * N * sizeof(T) > panel_bytes) &&
                                  (flat_period<T, W, N>::V + 6 <= Registers);
#endif

/// The row kernel over all N columns of C [MR, N] = A·B (B [K, N] read in place): chunks of as
/// many vectors as the register budget holds for MR rows (N = 100 floats with AVX-512 and
/// MR = 1: one chunk of 6 vectors and 4 columns), each one pass over K; one row whose B streams
/// better flat takes flat_body.
template <class T, std::size_t W, std::size_t Registers, std::size_t MR, std::size_t K,
          std::size_t N, bool LoadC>
CTGRAD_KERNELS_INLINE void rows_body(const T* __restrict a, std::size_t ra, std::size_t ka,
                                     const T* __restrict b, T* __restrict c, T alpha) {
#if CTGRAD_KERNELS_SHUFFLE
    if constexpr (MR == 1 && flat_fits<T, W, Registers, K, N>) {
        // Only from a vector-aligned B (tensors are): from elsewhere most of its vectors would
        // split a line, and the flat stream is then slower than the row kernel (measured:
        // 1 × 784 × 100 float, AVX-512: flat 2.6 µs aligned, 4.1 µs off by 16 bytes; row
        // kernel 3.5–3.6 µs either way).
        if (reinterpret_cast<std::uintptr_t>(b) % (W * sizeof(T)) == 0) {
            return flat_body<T, W, K, N, LoadC>(a, ka, b, c, alpha);
        }
    }
#endif
    constexpr std::size_t per_row = row_budget<Registers> / MR;
    constexpr std::size_t CW = (per_row > 0 ? per_row : 1) * W;
    constexpr std::size_t full = N / CW;
    constexpr bool prefetch = K * N * sizeof(T) > panel_bytes;  // larger than half an L1
    for (std::size_t j0 = 0; j0 < full * CW; j0 += CW) {
        row_kernel_body<T, W, MR, K, CW, prefetch, LoadC>(a, ra, ka, b + j0, N, c + j0, N, alpha);
    }
    if constexpr (N % CW != 0) {
        constexpr std::size_t j0 = full * CW;
        row_kernel_body<T, W, MR, K, N % CW, prefetch, LoadC>(a, ra, ka, b + j0, N, c + j0, N,
                                                              alpha);
    }
}

/// The two compiled functions of one instruction set: the micro-kernel and the panel copy, not
/// inlined (their strides are run-time values, so one compiled micro-kernel per (T, MR, NV)
/// serves every product size, assigning or accumulating), compiled for I. Everything above them
/// is always inlined into them; everything below only computes addresses and calls them.
#define CTGRAD_KERNELS_ENTRY(ISA, ATTRIBUTES)                                                      \
    template <>                                                                                    \
    struct entry<ISA> {                                                                            \
        template <class T, std::size_t MR, std::size_t NV, std::size_t WL = lanes_on<T, ISA>>      \
        ATTRIBUTES static void micro_kernel(std::size_t kc, const T* __restrict a, std::size_t ra, \
                                            std::size_t ka, const T* __restrict b,                 \
                                            std::size_t ldb, T* __restrict c, std::size_t ldc,     \
                                            std::size_t nc, T alpha, bool load_c) {                \
            micro_kernel_body<T, WL, MR, NV>(kc, a, ra, ka, b, ldb, c, ldc, nc, alpha, load_c);    \
        }                                                                                          \
        template <class T, bool Trans>                                                             \
        ATTRIBUTES static void copy_panel(const T* __restrict b, std::size_t ldb, std::size_t kc,  \
                                          std::size_t cols, std::size_t pad, T* __restrict panel,  \
                                          std::size_t NR) {                                        \
            copy_panel_body<T, lanes_on<T, ISA>, Trans>(b, ldb, kc, cols, pad, panel, NR);         \
        }                                                                                          \
        template <class T, std::size_t R, std::size_t NT, std::size_t WL = lanes_on<T, ISA>>       \
        ATTRIBUTES static void colvec_kernel(std::size_t kc, const T* __restrict a,                \
                                             std::size_t ka, const T* __restrict b,                \
                                             std::size_t ldb, T* __restrict c, std::size_t ldc,    \
                                             T alpha, bool load_c) {                               \
            colvec_kernel_body<T, WL, R, NT>(kc, a, ka, b, ldb, c, ldc, alpha, load_c);            \
        }                                                                                          \
        template <class T, std::size_t MR, std::size_t K, std::size_t N, bool LoadC>               \
        ATTRIBUTES static void rows(const T* __restrict a, std::size_t ra, std::size_t ka,         \
                                    const T* __restrict b, T* __restrict c, T alpha) {             \
            rows_body<T, lanes_on<T, ISA>, isa_traits<ISA>::registers, MR, K, N, LoadC>(           \
                a, ra, ka, b, c, alpha);                                                           \
        }                                                                                          \
    };

template <isa I>
struct entry;
CTGRAD_KERNELS_ENTRY(isa::target, CTGRAD_KERNELS_NOINLINE)
#if CTGRAD_KERNELS_DISPATCH
CTGRAD_KERNELS_ENTRY(isa::avx2, __attribute__((noinline, target("avx2,fma"))))
CTGRAD_KERNELS_ENTRY(isa::avx512, __attribute__((noinline, target("avx512f,avx2,fma"))))
#endif
#undef CTGRAD_KERNELS_ENTRY

/// The sizes of one product as run-time values: C [m, n] (+)= α·A·op(B) summed over k, A(i, k) at
/// a[i·ra + k·ka].
struct product_dims {
    std::size_t m, k, n, ra, ka;
};

/// Bytes of packed B one k block keeps (nc_max columns × KC rows, NR-column panels): read by
/// every block of rows, from L2. Override with -DCTGRAD_KERNELS_B_BLOCK_BYTES=n.
#if defined(CTGRAD_KERNELS_B_BLOCK_BYTES)
inline constexpr std::size_t b_block_bytes = CTGRAD_KERNELS_B_BLOCK_BYTES;
#else
inline constexpr std::size_t b_block_bytes = 128 * 1024;
#endif
/// Blocks of MR rows from which `blocked` copies the full panels of an untransposed B too (fewer
/// read them in place). Override with -DCTGRAD_KERNELS_COPY_B_BLOCKS=n.
#if defined(CTGRAD_KERNELS_COPY_B_BLOCKS)
inline constexpr std::size_t copy_b_blocks = CTGRAD_KERNELS_COPY_B_BLOCKS;
#else
inline constexpr std::size_t copy_b_blocks = 64;
#endif
/// Bytes of A one block of rows (MC rows × KC) spans, kept in L2 while every column panel of the
/// B block is multiplied by it (Zen 3: 512 KiB L2 per core). Override with
/// -DCTGRAD_KERNELS_A_BLOCK_BYTES=n.
#if defined(CTGRAD_KERNELS_A_BLOCK_BYTES)
inline constexpr std::size_t a_block_bytes = CTGRAD_KERNELS_A_BLOCK_BYTES;
#else
inline constexpr std::size_t a_block_bytes = 96 * 1024;
#endif

/// The register block of the last N % NR columns of a product on I. Where they fit half a
/// vector (N = 100 floats with AVX2: 6 panels of 16 and 4 columns) and the registers hold twice
/// the rows, a block of 2·MR rows × one vector of W/2 lanes (AVX2: 12 × 4 floats in xmm
/// registers, 12 chains of multiply-adds, 13 loads per k), instead of MR rows × one W-lane
/// vector (6 × 8: half of its lanes zero padding, 6 chains, too few to hide the FMA latency).
/// With 32 registers (AVX-512) the narrow tail is not used: unmeasured there.
template <class T, isa I, std::size_t N>
struct tail_block {
    static constexpr std::size_t W = lanes_on<T, I>, MR = block_rows<I>;
    static constexpr std::size_t rest = N % (block_vectors<I> * W);
    static constexpr bool narrow = isa_traits<I>::registers < 32 && rest > 0 &&
                                   2 * rest <= W&& W / 2 * sizeof(T) >= 16 &&
                                   2 * MR + 2 <= isa_traits<I>::registers;
    static constexpr std::size_t lanes = narrow ? W / 2 : W;
    static constexpr std::size_t rows = narrow ? 2 * MR : MR;
    static constexpr std::size_t vectors = (rest + lanes - 1) / lanes;
};

/// The micro-kernels of one product, chosen from its compile-time sizes: blocks of block_rows
/// rows (`full`) and of the M % block_rows rows left (`rows_left`) over panels of block_vectors
/// vectors; blocks of tail_rows rows (`cols_left`) and of the M % tail_rows rows left
/// (`both_left`) over the N % NR columns left, in as few vectors of tail_lanes lanes as hold them
/// (tail_block); null where the product has no such block. A table of addresses, so that the
/// k-block loop nest (`blocked`) is one compiled function per instruction set and layout of B,
/// whatever the product's sizes, while every micro-kernel keeps its register block a
/// compile-time shape.
template <class T>
struct micro_set {
    using fn = void (*)(std::size_t, const T*, std::size_t, std::size_t, const T*, std::size_t, T*,
                        std::size_t, std::size_t, T, bool);
    using colvec_fn = void (*)(std::size_t, const T*, std::size_t, const T*, std::size_t, T*,
                               std::size_t, T, bool);
    fn full, rows_left, cols_left, both_left;
    std::size_t tail_rows, tail_lanes;
    /// The column-vector kernel of the N % NR columns left, for an A whose rows are contiguous
    /// (ra = 1), over colvec_rows rows a call; null where the narrow tail is not used.
    colvec_fn colvec;
    std::size_t colvec_rows;
    /// The column-vector kernel of half a vector (one vector of W/2 rows) for the W/2 rows every
    /// row block leaves after colvec's blocks (colvec_half_of), or null. Where set, colvec and it
    /// take every row of the columns left, which they read in place: B's tail is not copied.
    colvec_fn colvec_half;
    /// Where M % block_rows is 2 (and M > block_rows): the kernel of (block_rows + 2) / 2 rows
    /// over full panels, so that the last block_rows + 2 rows of A read in place take two
    /// blocks of 4 rows (8 chains of multiply-adds each) instead of 6 and 2 (whose 4 chains
    /// wait on the FMA latency: the split's forward product 128×784×100, 128 = 21·6 + 2); null
    /// otherwise.
    fn pair_left;
};

/// Vectors of rows R of the column-vector kernel for NT columns of W lanes: R·NT accumulators,
/// R vectors of A and one broadcast of B in 16 registers, at most 4, R·W a multiple of Rows (the
/// narrow tail's rows, which take the rows left); 0 if none.
template <std::size_t NT, std::size_t W, std::size_t Rows>
inline constexpr std::size_t colvec_vectors = [] {
    for (std::size_t r = 4; r > 0; --r) {
        if (r * (NT + 1) + 1 <= 16 && r * W % Rows == 0) return r;
    }
    return std::size_t{0};
}();

/// &entry<I>::micro_kernel<T, MR, NV, WL>, or null for an empty block.
template <class T, isa I, std::size_t MR, std::size_t NV, std::size_t WL = lanes_on<T, I>>
constexpr typename micro_set<T>::fn micro_kernel_for() {
    if constexpr (MR == 0 || NV == 0) {
        return nullptr;
    } else {
        return &entry<I>::template micro_kernel<T, MR, NV, WL>;
    }
}

/// Rows of A in one row block of `blocked` (at most a_block_bytes of A × kc_max rows of the sum),
/// a multiple of twice block_rows (so that every row block but the last is whole blocks of the
/// narrow tail's rows too).
template <class T, isa I>
inline constexpr std::size_t row_block = [] {
    constexpr std::size_t NR = block_vectors<I> * lanes_on<T, I>, MR2 = 2 * block_rows<I>;
    constexpr std::size_t kc =
        panel_bytes / (NR * sizeof(T)) > 0 ? panel_bytes / (NR * sizeof(T)) : 1;
    constexpr std::size_t mc = a_block_bytes / (kc * sizeof(T)) / MR2 * MR2;
    return mc > 0 ? mc : MR2;
}();

/// Vectors of rows of the column-vector kernel for the columns left of a product with M rows
/// and N columns on I, or 0 where it is not used. The narrow tail's (colvec_vectors). And, with
/// 16 registers of 32 bytes (AVX2), a tail wider than half a vector but narrower than a panel
/// (N = 10 floats: the head's dW2 = A1ᵀ·dZ2, 100×128×10), which the row blocks run in two
/// vectors of W lanes, 6 of 16 lanes padding: one vector of W rows × its NT columns (NT + 2
/// registers; AVX2, 10 columns: 8 × 10, 10 multiply-adds per k on whole vectors instead of 12
/// for 6 rows). There the rows a row block leaves after the column-vector kernel's blocks
/// (mc % W) take the tail's blocks of tail_rows and then its kernel of M % tail_rows rows, so it
/// is used only where every row block leaves either a multiple of tail_rows or M % tail_rows.
template <class T, isa I, std::size_t M, std::size_t N>
inline constexpr std::size_t colvec_rows_of = [] {
    using tail = tail_block<T, I, N>;
    if constexpr (tail::narrow) {
        return colvec_vectors<tail::rest, tail::W, tail::rows>;
    } else if constexpr (tail::rest > tail::W / 2 && tail::rest < block_vectors<I> * tail::W &&
                         tail::rest + 2 <= 16 && isa_traits<I>::registers < 32 &&
                         tail::W * sizeof(T) == 32 && M >= tail::W) {
        constexpr std::size_t CR = tail::W, TR = tail::rows, mc = row_block<T, I>;
        const auto fits = [](std::size_t rows) {
            const std::size_t left = rows % CR % TR;
            return left == 0 || left == M % TR;
        };
        const bool ok = fits(M < mc ? M : mc) && (M <= mc || fits(M % mc));
        return ok ? std::size_t{1} : std::size_t{0};
    } else {
        return std::size_t{0};
    }
}();

/// Whether, for a product with M rows and N columns on I, the column-vector kernel of one vector
/// of W lanes (colvec_rows_of: a tail wider than half a vector) leaves exactly W/2 rows in some
/// row blocks and none in the others (AVX2, N = 10 floats: dW2 = A1ᵀ·dZ2, 100×128×10, row
/// blocks of 96 and 4 rows). Those W/2 rows then take the column-vector kernel of W/2 lanes
/// (4 × 10: 10 multiply-adds per k on xmm registers, B in place), instead of the tail's block of
/// 4 rows × two vectors of W lanes, which read B's tail from a zero-padded copy (its 6 last
/// columns padding): the copy is no longer made.
template <class T, isa I, std::size_t M, std::size_t N>
inline constexpr bool colvec_half_of = [] {
    using tail = tail_block<T, I, N>;
    if constexpr (tail::narrow || colvec_rows_of<T, I, M, N> != 1 || tail::W % 2 != 0) {
        return false;
    } else {
        constexpr std::size_t W = tail::W, mc = row_block<T, I>;
        const auto fits = [](std::size_t rows) { return rows % W == 0 || rows % W == W / 2; };
        return mc % W == 0 && fits(M < mc ? M : mc) && (M <= mc || fits(M % mc)) &&
               (M < mc ? M : mc) % W + (M > mc ? M % mc % W : 0) > 0;
    }
}();

/// &entry<I>::colvec_kernel for the columns left of a product with M rows and N columns
/// (colvec_rows_of), or null.
template <class T, isa I, std::size_t M, std::size_t N>
constexpr typename micro_set<T>::colvec_fn colvec_for() {
    using tail = tail_block<T, I, N>;
    constexpr std::size_t R = colvec_rows_of<T, I, M, N>;
    if constexpr (R == 0 || M < R * tail::W) {
        return nullptr;
    } else {
        return &entry<I>::template colvec_kernel<T, R, tail::rest>;
    }
}

/// &entry<I>::colvec_kernel of W/2 lanes for the W/2 rows a row block leaves (colvec_half_of),
/// or null.
template <class T, isa I, std::size_t M, std::size_t N>
constexpr typename micro_set<T>::colvec_fn colvec_half_for() {
    using tail = tail_block<T, I, N>;
    if constexpr (colvec_half_of<T, I, M, N>) {
        return &entry<I>::template colvec_kernel<T, 1, tail::rest, tail::W / 2>;
    } else {
        return nullptr;
    }
}

/// The micro-kernels of the products with M rows and N columns on I.
template <class T, isa I, std::size_t M, std::size_t N>
inline constexpr micro_set<T> micro_set_for = [] {
    constexpr std::size_t MR = block_rows<I>, NV = block_vectors<I>, W = lanes_on<T, I>;
    using tail = tail_block<T, I, N>;
    constexpr std::size_t TR = tail::rows, TL = tail::lanes, TV = tail::vectors;
    constexpr std::size_t nv = N >= NV * W ? NV : 0;
    constexpr std::size_t PR = M % MR == 2 && M > MR && MR % 2 == 0 ? (MR + 2) / 2 : 0;
    return micro_set<T>{micro_kernel_for < T,
                        I,
                        M >= MR ? MR : 0,
                        nv > (),
                        micro_kernel_for<T, I, M % MR, nv>(),
                        micro_kernel_for < T,
                        I,
                        M >= TR ? TR : 0,
                        TV,
                        TL > (),
                        micro_kernel_for<T, I, M % TR, TV, TL>(),
                        TR,
                        TL,
                        colvec_for<T, I, M, N>(),
                        colvec_rows_of<T, I, M, N> * W,
                        colvec_half_for<T, I, M, N>(),
                        micro_kernel_for<T, I, PR, nv>()};
}();

/// Copies the rows i0..i0+mr (mr <= MR) of A(i, k) = a[i·ra + k·ka], k < kc, into the
/// micro-panel p: p[k·MR + i], so that the micro-kernel reads its MR numbers of A per k from one
/// contiguous stream (ra = 1, ka = MR). Used where A's rows are strided along k (the weight
/// gradient Xᵀ·dD: A(i, k) = x[k·in + i], one cache line per k): mr contiguous numbers per k.
template <class T, std::size_t MR>
inline void pack_a_panel(const T* __restrict a, std::size_t ra, std::size_t ka, std::size_t kc,
                         std::size_t mr, T* __restrict p) {
    if (ra == 1 && mr == MR) {
        for (std::size_t k = 0; k < kc; ++k) std::memcpy(p + k * MR, a + k * ka, MR * sizeof(T));
    } else {
        for (std::size_t k = 0; k < kc; ++k) {
            for (std::size_t i = 0; i < mr; ++i) p[k * MR + i] = a[i * ra + k * ka];
        }
    }
}

/// C (+)= α·A·op(B) with the kernels of I, for op(B)(k, j) = b[k·n + j] (TransB false) or
/// b[j·k + k'] (TransB true: every panel is copied, transposed). The loops, outermost first (the
/// BLIS order, k first so that each C(i, j) sums its k blocks in order):
///  - the sum over k in nearly equal blocks of at most kc_max rows, so that a kc × NR panel of B
///    is at most panel_bytes (in L1 while the blocks of rows meet it);
///  - the columns in blocks of at most b_block_bytes; the panels of a transposed B, the
///    n % NR columns left of any B where they need zero padding, and with at least
///    copy_b_blocks blocks of MR rows every panel, copied once per k block and column block
///    for every block of rows (aligned, contiguous, in L1; with a single block of rows each
///    panel just before its use); fewer rows read the full panels of an untransposed B in place
///    (copying them measured 0.76–0.89× on a Zen 3 EPYC for 4 blocks of rows, 32×100×200 and
///    64×784×100, 0.94–0.97× for 21 and 33, the split's 128×784×100 and its dW terms, 1.1× for
///    131, dW of 784×256×100);
///  - the rows in blocks of at most a_block_bytes (MC rows × kc), which stay in L2 while every
///    panel of the column block meets them; where A's rows are strided along k (matmul_tn), each
///    MR-row micro-panel is copied once per row block into a contiguous stream;
///  - the panels of the column block; the MR-row blocks of the row block (then the m % MR rows
///    left), each one micro-kernel call; for the narrow tail of an A with contiguous rows the
///    column-vector kernel's blocks of rows first.
/// The first k block assigns C unless acc, the others add. Each C(i, j) is one chain of
/// multiply-adds over k in order within each k block, whatever the copies, panels and blocks, so
/// the result does not depend on them. Not inlined, sizes and acc run-time values: one compiled
/// loop nest per instruction set and layout of B serves every product (its micro-kernels, ks,
/// are compiled per register block).
template <class T, isa I, bool TransB>
CTGRAD_KERNELS_NOINLINE void blocked(const product_dims& d, const micro_set<T>& ks,
                                     const T* __restrict a, const T* __restrict b, T* __restrict c,
                                     T alpha, bool acc) {
    constexpr std::size_t W = lanes_on<T, I>;
    constexpr std::size_t MR = block_rows<I>;
    constexpr std::size_t NR = block_vectors<I> * W;
    constexpr std::size_t kc_max =
        panel_bytes / (NR * sizeof(T)) > 0 ? panel_bytes / (NR * sizeof(T)) : 1;
    constexpr std::size_t panel_size = kc_max * NR;  // numbers in one packed panel
    constexpr std::size_t panels_max =
        b_block_bytes / (panel_size * sizeof(T)) > 0 ? b_block_bytes / (panel_size * sizeof(T)) : 1;
    constexpr std::size_t nc_max = panels_max * NR;
    constexpr std::size_t mc_max = row_block<T, I>;
    const std::size_t M = d.m, K = d.k, N = d.n, ra = d.ra, ka = d.ka;
    const std::size_t k_blocks = (K + kc_max - 1) / kc_max;
    const std::size_t kc_big = (K + k_blocks - 1) / k_blocks;
    const std::size_t n_big = K - (kc_big - 1) * k_blocks;  // blocks of kc_big rows
    // copies only for an A larger than a row block (the 32×100×200 layer's dW, A 12.8 KB and
    // K = 32, measured 0.95× with them: mlp_step_32x100x200x10, Zen 3)
    const bool big_a = M * K * sizeof(T) > a_block_bytes;
    const bool copy_a = big_a && ka != 1 && ra == 1 && N > NR;
    const bool copy_b =
        TransB || (big_a && M >= copy_b_blocks * MR);  // strided along k, several panels
    alignas(64) T panels[panels_max * panel_size];
    alignas(64) T a_panels[mc_max * kc_max];
    std::size_t k0 = 0;
    for (std::size_t blk = 0; blk < k_blocks; ++blk) {
        const std::size_t kc = blk < n_big ? kc_big : kc_big - 1;
        const bool load_c = acc || blk > 0;
        for (std::size_t jc = 0; jc < N; jc += nc_max) {
            const std::size_t nc = N - jc < nc_max ? N - jc : nc_max;
            const std::size_t n_panels = (nc + NR - 1) / NR;
            // the panels of this column block: where each is, its row stride; panel p copied
            // (if it is) by prepare(p): before the rows, or, with a single block of rows, just
            // before its use (then it is in L1, where copying all first left the first ones in
            // L2: matmul_nt 32×200×100, the 32×100×200 layer's dX)
            const T* bp[panels_max];
            std::size_t ldb[panels_max];
            const auto prepare = [&](std::size_t p) {
                const std::size_t j = jc + p * NR, cols = N - j < NR ? N - j : NR;
                const std::size_t lanes = cols == NR ? W : ks.tail_lanes;
                const std::size_t pad = (cols + lanes - 1) / lanes * lanes;
                // read in place: the full panels unless copied, a tail that needs no padding or
                // that the column-vector kernels take whole (A's rows contiguous)
                const bool whole_colvec = ks.colvec_half != nullptr && ra == 1;
                if (!TransB && (cols == NR ? !copy_b : pad == cols || whole_colvec)) {
                    bp[p] = b + k0 * N + j;
                    ldb[p] = N;
                    return;
                }
                T* dst = panels + p * panel_size;
                if constexpr (TransB) {
                    entry<I>::template copy_panel<T, true>(b + j * K + k0, K, kc, cols, pad, dst,
                                                           NR);
                } else {
                    entry<I>::template copy_panel<T, false>(b + k0 * N + j, N, kc, cols, pad, dst,
                                                            NR);
                }
                bp[p] = dst;
                ldb[p] = NR;
            };
            const bool lazy = M <= mc_max;
            if (!lazy) {
                for (std::size_t p = 0; p < n_panels; ++p) prepare(p);
            }
            for (std::size_t ic = 0; ic < M; ic += mc_max) {
                const std::size_t mc = M - ic < mc_max ? M - ic : mc_max;
                const T* a0 = a + ic * ra + k0 * ka;
                if (copy_a) {
                    for (std::size_t i0 = 0; i0 < mc; i0 += MR) {
                        pack_a_panel<T, MR>(a0 + i0 * ra, ra, ka, kc, mc - i0 < MR ? mc - i0 : MR,
                                            a_panels + i0 * kc);
                    }
                }
                for (std::size_t p = 0; p < n_panels; ++p) {
                    if (lazy) prepare(p);
                    const std::size_t j = jc + p * NR, cols = N - j < NR ? N - j : NR;
                    const bool tail = cols < NR;
                    const auto whole = tail ? ks.cols_left : ks.full;
                    const auto left = tail ? ks.both_left : ks.rows_left;
                    const std::size_t mr = tail ? ks.tail_rows : MR;
                    // the block of rows from ic + i0 (i0 a multiple of mr) starts at
                    // ap + i0·a_step, A(ic + i0 + i, k0 + k) at [i·a_ra + k·a_ka]: the copied
                    // micro-panels, or A in place (for a narrow tail's 2·MR rows too)
                    const bool packed = copy_a && mr == MR;
                    const T* ap = packed ? a_panels : a0;
                    const std::size_t a_ra = packed ? 1 : ra, a_ka = packed ? MR : ka;
                    const std::size_t a_step = packed ? kc : ra;
                    T* cj = c + ic * N + j;
                    std::size_t i0 = 0;
                    if (tail && ks.colvec != nullptr && ra == 1) {
                        // A's rows contiguous: the column-vector kernel, B's columns in place
                        // when not transposed
                        const T* bt = TransB ? bp[p] : b + k0 * N + j;
                        const std::size_t ldt = TransB ? ldb[p] : N;
                        for (; i0 + ks.colvec_rows <= mc; i0 += ks.colvec_rows) {
                            ks.colvec(kc, a0 + i0, ka, bt, ldt, cj + i0 * N, N, alpha, load_c);
                        }
                        if (ks.colvec_half != nullptr && mc - i0 == ks.colvec_rows / 2) {
                            ks.colvec_half(kc, a0 + i0, ka, bt, ldt, cj + i0 * N, N, alpha, load_c);
                            i0 = mc;
                        }
                    }
                    std::size_t full_rows = mc - (mc - i0) % mr;
                    // the last mr + 2 rows as two blocks of (mr + 2) / 2 (A in place only: a
                    // block would straddle two copied micro-panels)
                    const bool pair = !tail && !packed && ks.pair_left != nullptr &&
                                      mc - full_rows == 2 && full_rows >= i0 + mr;
                    if (pair) full_rows -= mr;
                    for (; i0 < full_rows; i0 += mr) {
                        whole(kc, ap + i0 * a_step, a_ra, a_ka, bp[p], ldb[p], cj + i0 * N, N, cols,
                              alpha, load_c);
                    }
                    if (pair) {
                        const std::size_t h = (mr + 2) / 2;
                        for (std::size_t r = full_rows; r < mc; r += h) {
                            ks.pair_left(kc, ap + r * a_step, a_ra, a_ka, bp[p], ldb[p], cj + r * N,
                                         N, cols, alpha, load_c);
                        }
                    } else if (full_rows < mc) {
                        left(kc, ap + full_rows * a_step, a_ra, a_ka, bp[p], ldb[p],
                             cj + full_rows * N, N, cols, alpha, load_c);
                    }
                }
            }
        }
        k0 += kc;
    }
}

/// C (+)= α·A·op(B) with the kernels of I: the row kernel for fewer rows than a register block,
/// the k blocks otherwise; Acc: add to C (otherwise assign).
template <class T, isa I, class ALay, std::size_t M, std::size_t K, std::size_t N, bool TransB,
          bool Acc>
inline void gemm(const T* __restrict a, const T* __restrict b, T* __restrict c, T alpha) {
    if constexpr (!TransB && M < block_rows<I>) {
        // Fewer rows than a register block: every element of B is used once per row anyway, so
        // the row kernel reads B in place, in one pass, with no panel copy and no k blocks.
        entry<I>::template rows<T, M, K, N, Acc>(a, ALay::row, ALay::k, b, c, alpha);
    } else {
        static constexpr product_dims dims{M, K, N, ALay::row, ALay::k};
        blocked<T, I, TransB>(dims, micro_set_for<T, I, M, N>, a, b, c, alpha, Acc);
    }
}

/// Whether the processor has the instructions of i and this build carries kernels for it.
inline bool cpu_runs(isa i) noexcept {
#if CTGRAD_KERNELS_DISPATCH
    __builtin_cpu_init();
    switch (i) {
    case isa::avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
    case isa::avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case isa::target:
        return true;
    }
#endif
    return i == isa::target;
}

/// The choice of `active_isa`: the best instruction set cpu_runs that is not above the one
/// $CTGRAD_KERNELS_ISA names (if set).
inline isa choose_isa() noexcept {
    isa limit = isa::avx512;
    if (const char* want = std::getenv("CTGRAD_KERNELS_ISA"); want != nullptr && *want != '\0') {
        if (std::strcmp(want, "target") == 0) {
            limit = isa::target;
        } else if (std::strcmp(want, "avx2") == 0) {
            limit = isa::avx2;
        } else if (std::strcmp(want, "avx512") != 0) {
            std::fprintf(stderr,
                         "ctgrad: CTGRAD_KERNELS_ISA=%s is not one of target, avx2, avx512; "
                         "ignored\n",
                         want);
        }
    }
    for (isa i : {isa::avx512, isa::avx2}) {
        if (static_cast<int>(i) <= static_cast<int>(limit) && cpu_runs(i)) return i;
    }
    return isa::target;
}

/// Whether this build carries the AVX2 and AVX-512 copies of the kernels (x86-64 without
/// -mavx512f, vector extensions, no CTGRAD_KERNELS_VECTOR_BYTES or CTGRAD_KERNELS_NO_DISPATCH).
inline constexpr bool dispatches = CTGRAD_KERNELS_DISPATCH != 0;

/// f(std::integral_constant<isa, I>{}) for the copy I of the kernels that instruction set i
/// runs: the one run-time switch of every kernel family (matrix products here, convolutions in
/// tensor/conv_kernels.hpp), so each has its compiled copies named by I only.
template <class F>
inline void on_isa(isa i, F&& f) {
    if constexpr (dispatches) {
        if (i == isa::avx512) return f(std::integral_constant<isa, isa::avx512>{});
        if (i == isa::avx2) return f(std::integral_constant<isa, isa::avx2>{});
    }
    static_cast<void>(i);
    f(std::integral_constant<isa, isa::target>{});
}

/// gemm with the kernels of i (which must be `supported`).
template <class T, class ALay, std::size_t M, std::size_t K, std::size_t N, bool TransB, bool Acc>
inline void gemm_on(isa i, const T* __restrict a, const T* __restrict b, T* __restrict c, T alpha) {
    on_isa(i, [&](auto I) {
        gemm<T, decltype(I)::value, ALay, M, K, N, TransB, Acc>(a, b, c, alpha);
    });
}

}  // namespace detail

/// The instruction set the run-time kernels use in this process, chosen once, at the first
/// call: the best of `isa::avx512`, `isa::avx2` and `isa::target` that is `supported`, but not
/// above the one the environment variable `CTGRAD_KERNELS_ISA` names if it is set (`target`,
/// `avx2` or `avx512`; any other value is ignored with a message on stderr). With FMA (the AVX2
/// and AVX-512 kernels) products round differently from the SSE2 ones, within the usual bound
/// of a sum of K products; `CTGRAD_KERNELS_ISA=target` gives the results of the build's target
/// on every machine.
inline isa active_isa() noexcept {
    static const isa chosen = detail::choose_isa();
    return chosen;
}

/// Whether the kernels of i can run in this process: this build carries them (the AVX2 and
/// AVX-512 ones: x86-64 builds with GCC or Clang that target less than AVX-512F) and the
/// processor has the instructions (GCC's and Clang's `__builtin_cpu_supports`, which also check
/// that the operating system saves the registers). `isa::target` always can.
inline bool supported(isa i) noexcept {
    return detail::cpu_runs(i);
}

/// A short name of i as this build compiles it: "avx512f", "avx2+fma", or for `isa::target`
/// the widest vector unit the compiler targets ("avx512f", "avx2", "avx", "sse2", "neon" or
/// "portable").
inline const char* isa_name(isa i) noexcept {
    switch (i) {
    case isa::avx512:
        return "avx512f";
    case isa::avx2:
        return "avx2+fma";
    case isa::target:
        break;
    }
#if !CTGRAD_KERNELS_VECTOR_EXT
    return "portable";
#elif defined(__AVX512F__)
    return "avx512f";
#elif defined(__AVX2__)
    return "avx2";
#elif defined(__AVX__)
    return "avx";
#elif defined(__SSE2__)
    return "sse2";
#elif defined(__ARM_NEON)
    return "neon";
#else
    return "generic";
#endif
}

namespace detail {

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
        detail::gemm_on<T, detail::a_layout<K, 1>, M, K, N, false, acc>(active_isa(), a, b, c,
                                                                        alpha);
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
        detail::gemm_on<T, detail::a_layout<1, M>, M, K, N, false, acc>(active_isa(), a, b, c,
                                                                        alpha);
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
        detail::gemm_on<T, detail::a_layout<K, 1>, M, K, N, true, acc>(active_isa(), a, b, c,
                                                                       alpha);
    }
}

}  // namespace ctgrad::kernels

#undef CTGRAD_KERNELS_VECTOR_EXT
#undef CTGRAD_KERNELS_NOINLINE
#undef CTGRAD_KERNELS_SHUFFLE
#undef CTGRAD_KERNELS_INLINE
#undef CTGRAD_KERNELS_DISPATCH
