/// @file The `blas` impl of the mlp cases (bench/tensor/mlp_bench.cpp): the hand-written steps of
/// mlp_hand.hpp, line for line, with every matrix product a call to OpenBLAS's `cblas_sgemm`
/// (`cblas_dgemm` in double, for the tests) instead of a ctgrad kernel. Compiled only when
/// `CTGRAD_HAVE_OPENBLAS` is defined (Debian: libopenblas-dev; `pkg-config openblas`).
///
/// The products are row-major (`CblasRowMajor`); Aᵀ·B and A·Bᵀ pass `CblasTrans` for the
/// transposed operand, so no transposed matrix is formed; the fused SGD update
/// W += (−lr)·Aᵀ·δ is one call with alpha = −lr and beta = 1, and an assigning product has
/// beta = 0 (BLAS then does not read C). The sizes are run-time arguments, as BLAS takes them.
///
/// Threads: OpenBLAS starts a thread pool sized to the machine. The benchmarks compare one
/// core with one core, so `use_one_thread()` sets it to 1 (`openblas_set_num_threads`); setting
/// `OPENBLAS_NUM_THREADS=1` in the environment before the program starts does the same.
#pragma once

#ifdef CTGRAD_HAVE_OPENBLAS

#include <cstddef>  // std::size_t

// Debian's openblas.pc points at the OpenBLAS variant's own cblas.h (which also declares
// openblas_set_num_threads); the generic <cblas.h> is the alternatives system's choice. Its
// openblas_config.h uses C99 `_Complex`, which clang -Wpedantic reports when the header is not
// on a system include path.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#include <cblas.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#include <ctgrad/tensor/matmul.hpp>  // ctgrad::kernels::mode

#include "mlp_hand.hpp"

namespace mlp_blas {

using ctgrad::kernels::mode;
using std::size_t;

/// Sets OpenBLAS to one thread (for the whole process).
inline void use_one_thread() {
    openblas_set_num_threads(1);
}

namespace detail {

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, float alpha,
                 const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                 size_t ldc) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
}

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, double alpha,
                 const double* a, size_t lda, const double* b, size_t ldb, double beta, double* c,
                 size_t ldc) {
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
}

template <mode Mode, class T>
inline constexpr T beta = Mode == mode::accumulate ? T(1) : T(0);

}  // namespace detail

/// The product policy of mlp_hand's trainers (same interface as mlp_hand::kernel_gemm):
/// C [M, N] (+)= α·op(A)·op(B), summed over K.
struct openblas_gemm {
    /// C (+)= α·A·B, A [M, K], B [K, N].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void nn(const T* a, const T* b, T* c, T alpha = T(1)) {
        detail::gemm(CblasNoTrans, CblasNoTrans, M, N, K, alpha, a, K, b, N, detail::beta<Mode, T>,
                     c, N);
    }
    /// C (+)= α·Aᵀ·B, A stored [K, M], B [K, N].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void tn(const T* a, const T* b, T* c, T alpha = T(1)) {
        detail::gemm(CblasTrans, CblasNoTrans, M, N, K, alpha, a, M, b, N, detail::beta<Mode, T>, c,
                     N);
    }
    /// C (+)= α·A·Bᵀ, A [M, K], B stored [N, K].
    template <size_t M, size_t K, size_t N, mode Mode = mode::assign, class T>
    static void nt(const T* a, const T* b, T* c, T alpha = T(1)) {
        detail::gemm(CblasNoTrans, CblasTrans, M, N, K, alpha, a, K, b, K, detail::beta<Mode, T>, c,
                     N);
    }
};

/// The hand-written trainer of a case with OpenBLAS products: `step(p, d, lr)` and
/// `gradient(p, d, g)` as in mlp_hand.
template <class Case>
using trainer = mlp_hand::trainer<Case, openblas_gemm>;

}  // namespace mlp_blas

#endif  // CTGRAD_HAVE_OPENBLAS
