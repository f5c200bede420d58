// The matmul kernels (include/ctgrad/tensor/matmul.hpp) against the plain loops a careful person
// writes without blocking. Benchmark names are `<case>/<impl>` (DESIGN.md), impl `ctgrad` or
// `naive`; the case names the kernel and its template sizes M x K x N:
//
//   matmul_MxKxN     C = A·B,   A [M, K], B [K, N]   the forward product D = X·W
//   matmul_tn_MxKxN  C = Aᵀ·B,  A [K, M], B [K, N]   the weight gradient dW = Xᵀ·dD
//   matmul_nt_MxKxN  C = A·Bᵀ,  A [M, K], B [N, K]   the input gradient dX = dD·Wᵀ
//
// For each layer X [b, i]·W [i, o] of interest the three products are matmul_bxixo,
// matmul_tn_ixbxo and matmul_nt_bxoxi. Float unless the case ends in _f64. Every case reports
// GFLOP/s (2·M·K·N per call), and checks ctgrad against the naive loop before it is timed.
//
// The naive loops are i-k-j for A·B (the inner loop runs along rows of B and C), k-i-j for Aᵀ·B
// (rank-1 updates: both inner operands contiguous) and i-j-k dot products for A·Bᵀ (both
// operands contiguous along k); all with compile-time sizes and __restrict, as ctgrad has.
#include <cmath>    // std::abs
#include <cstddef>  // std::size_t
#include <random>   // std::mt19937, std::uniform_real_distribution
#include <vector>   // std::vector

#include <benchmark/benchmark.h>

#include <ctgrad/tensor/matmul.hpp>

#include "../tools/bench_main.hpp"
#include "kernel_context.hpp"

namespace {

namespace kn = ctgrad::kernels;
using std::size_t;

enum class kind { nn, tn, nt };

template <size_t M, size_t K, size_t N, class T>
void naive_nn(const T* __restrict a, const T* __restrict b, T* __restrict c) {
    for (size_t i = 0; i < M; ++i) {
        T* ci = c + i * N;
        for (size_t j = 0; j < N; ++j) ci[j] = T(0);
        for (size_t k = 0; k < K; ++k) {
            const T aik = a[i * K + k];
            const T* bk = b + k * N;
            for (size_t j = 0; j < N; ++j) ci[j] += aik * bk[j];
        }
    }
}

template <size_t M, size_t K, size_t N, class T>
void naive_tn(const T* __restrict a, const T* __restrict b, T* __restrict c) {
    for (size_t i = 0; i < M * N; ++i) c[i] = T(0);
    for (size_t k = 0; k < K; ++k) {
        const T* bk = b + k * N;
        for (size_t i = 0; i < M; ++i) {
            const T aki = a[k * M + i];
            T* ci = c + i * N;
            for (size_t j = 0; j < N; ++j) ci[j] += aki * bk[j];
        }
    }
}

template <size_t M, size_t K, size_t N, class T>
void naive_nt(const T* __restrict a, const T* __restrict b, T* __restrict c) {
    for (size_t i = 0; i < M; ++i) {
        for (size_t j = 0; j < N; ++j) {
            T s = T(0);
            for (size_t k = 0; k < K; ++k) s += a[i * K + k] * b[j * K + k];
            c[i * N + j] = s;
        }
    }
}

// Both impls are called out of line, as a layer calls a kernel: the pointers are opaque
// parameters, not the benchmark's own vectors (with those inlined, GCC 12 -O2 compiled the naive
// 64x784x100 loop to code 1.7x slower than out of line).
template <kind Kind, size_t M, size_t K, size_t N, class T>
[[gnu::noinline]] void call_ctgrad(const T* a, const T* b, T* c) {
    if constexpr (Kind == kind::nn) {
        kn::matmul<M, K, N>(a, b, c);
    } else if constexpr (Kind == kind::tn) {
        kn::matmul_tn<M, K, N>(a, b, c);
    } else {
        kn::matmul_nt<M, K, N>(a, b, c);
    }
}

template <kind Kind, size_t M, size_t K, size_t N, class T>
[[gnu::noinline]] void call_naive(const T* a, const T* b, T* c) {
    if constexpr (Kind == kind::nn) {
        naive_nn<M, K, N>(a, b, c);
    } else if constexpr (Kind == kind::tn) {
        naive_tn<M, K, N>(a, b, c);
    } else {
        naive_nt<M, K, N>(a, b, c);
    }
}

/// Times `Naive ? naive : ctgrad` on the product Kind of sizes M, K, N in T.
template <kind Kind, class T, size_t M, size_t K, size_t N, bool Naive>
void run(benchmark::State& state) {
    // Both operands hold M·K and K·N numbers whatever their layout.
    std::vector<T> a(M * K), b(K * N), c(M * N), ref(M * N);
    std::mt19937 gen(12345);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    for (T& x : a) x = T(dist(gen));
    for (T& x : b) x = T(dist(gen));

    call_naive<Kind, M, K, N>(a.data(), b.data(), ref.data());
    call_ctgrad<Kind, M, K, N>(a.data(), b.data(), c.data());
    // |a|, |b| <= 1: each sum of K products is off by at most ~K·eps·K from another order.
    const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-13) * double(K);
    for (size_t i = 0; i < M * N; ++i) {
        if (std::abs(double(c[i]) - double(ref[i])) > tol) {
            state.SkipWithError("ctgrad differs from the naive loop");
            return;
        }
    }

    // The arrays' addresses escape and every iteration clobbers memory: the product is computed
    // and stored each time. (Not DoNotOptimize on the pointer variables: in Google Benchmark
    // 1.7.1 that is a "+m,r" asm operand, and GCC 12 at -O3 hands the kernel a corrupted pointer
    // through it; checked here.)
    const T* pa = a.data();
    const T* pb = b.data();
    T* pc = c.data();
    benchmark::DoNotOptimize(static_cast<const T*>(pa));
    benchmark::DoNotOptimize(static_cast<const T*>(pb));
    benchmark::DoNotOptimize(static_cast<const T*>(pc));
    for (auto _ : state) {
        if constexpr (Naive) {
            call_naive<Kind, M, K, N>(pa, pb, pc);
        } else {
            call_ctgrad<Kind, M, K, N>(pa, pb, pc);
        }
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] = benchmark::Counter(
        double(state.iterations()) * 2.0 * double(M * K * N) * 1e-9, benchmark::Counter::kIsRate);
}

}  // namespace

// Registers `<name>/ctgrad` and `<name>/naive`.
#define CTGRAD_MATMUL_BENCH(name, knd, T, m, k, n)                               \
    BENCHMARK_TEMPLATE(run, kind::knd, T, m, k, n, false)->Name(name "/ctgrad"); \
    BENCHMARK_TEMPLATE(run, kind::knd, T, m, k, n, true)->Name(name "/naive")

// The three products of a layer X [b, i]·W [i, o].
#define CTGRAD_MATMUL_LAYER(b, i, o)                                        \
    CTGRAD_MATMUL_BENCH("matmul_" #b "x" #i "x" #o, nn, float, b, i, o);    \
    CTGRAD_MATMUL_BENCH("matmul_tn_" #i "x" #b "x" #o, tn, float, i, b, o); \
    CTGRAD_MATMUL_BENCH("matmul_nt_" #b "x" #o "x" #i, nt, float, b, o, i)

CTGRAD_MATMUL_LAYER(32, 100, 200);
CTGRAD_MATMUL_LAYER(32, 200, 10);
CTGRAD_MATMUL_LAYER(64, 784, 100);
CTGRAD_MATMUL_LAYER(64, 100, 10);
CTGRAD_MATMUL_LAYER(16, 32, 32);
CTGRAD_MATMUL_LAYER(2, 3, 1);

// The input layer of the batch-256 MLP step (mlp_step_256x784x100x10) and of each 128-row shard
// of its two-thread input split: the forward product and the weight gradient.
CTGRAD_MATMUL_BENCH("matmul_256x784x100", nn, float, 256, 784, 100);
CTGRAD_MATMUL_BENCH("matmul_tn_784x256x100", tn, float, 784, 256, 100);
CTGRAD_MATMUL_BENCH("matmul_128x784x100", nn, float, 128, 784, 100);
CTGRAD_MATMUL_BENCH("matmul_tn_784x128x100", tn, float, 784, 128, 100);

// Double, on the largest layer.
CTGRAD_MATMUL_BENCH("matmul_64x784x100_f64", nn, double, 64, 784, 100);
CTGRAD_MATMUL_BENCH("matmul_tn_784x64x100_f64", tn, double, 784, 64, 100);
CTGRAD_MATMUL_BENCH("matmul_nt_64x100x784_f64", nt, double, 64, 100, 784);

CTGRAD_BENCHMARK_MAIN();
