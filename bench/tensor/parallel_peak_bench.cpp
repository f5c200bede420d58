// What two threads of this machine can do at the moment of a run, next to what the
// two-thread training step does (mlp_parallel_bench.cpp), in the same process and on the same
// pools (mlp_parallel::pool<1|2>()): with interleaved repetitions the ratio 1t/2t of each case
// below is the ceiling that the step's 1t/2t ratio can be read against, minute by minute (on a
// shared VM the second vCPU's availability moves; bench/README.md, issue 16).
//
//   fma_peak/1t, fma_peak/2t     a fixed amount of f32 FMA work per iteration: independent
//                                chains of acc = acc·a + b (16 with AVX-512's 32 registers, 12
//                                with AVX2's or SSE2's 16: all in registers, no spill; at least
//                                the 8 = latency × throughput of Zen 3's and Skylake's FMA
//                                units) on the widest vectors the kernels use
//                                (kernels::active_isa(): AVX-512F, AVX2+FMA, or the target's
//                                SSE2 multiply and add), the loop of bench/tools/fma_peak.cpp;
//                                1t does all of it on the calling thread, 2t half on each
//                                thread of the pool. time(1t)/time(2t) = the two-core FMA peak
//                                ratio (2.0 with two free cores). Counter GFLOP/s (by the wall
//                                time).
//   l2_stream/1t, l2_stream/2t   a fixed number of passes of the reduction's arithmetic,
//                                out[i] = (a[i] + b[i])·s, over 3 × 96 KB buffers of each
//                                thread's own (an L2-resident stream, as the shard reduction
//                                and the SGD update are: 2 × 318 KB read, 318 KB written per
//                                step); 1t does every pass, 2t half of them on each thread.
//                                Counter GB/s (bytes read and written, by the wall time).
//
// Time is the wall time (UseRealTime): the 2t cases' main-thread CPU time would hide the
// worker's part. Run with the step cases, interleaved:
//
//   build/bench/parallel_bench --benchmark_filter='mlp_step_256.*ctgrad_(1t|2t)$|fma_peak|l2_stream'
//       --benchmark_enable_random_interleaving=true --benchmark_repetitions=9
#include <cstddef>  // std::size_t
#include <vector>   // std::vector

#include <benchmark/benchmark.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CTGRAD_PEAK_X86 1
#else
#define CTGRAD_PEAK_X86 0
#endif

#include <ctgrad/parallel/threads.hpp>
#include <ctgrad/tensor/matmul.hpp>

#include "mlp_parallel.hpp"

namespace {

using std::size_t;

/// Vector FMAs per benchmark iteration: with AVX-512 about 0.7 ms of one core at ~177 GFLOP/s,
/// as long as the one-thread step (3.84 M FMAs: 240'000 iterations of 16 chains, 320'000 of 12).
constexpr long fma_count = 3'840'000;
/// Independent chains: as many accumulators as the register file holds next to the two
/// constants (16 registers: 12 accumulators + a + b + a spare; more spill to the stack, which
/// with 16 chains on AVX2 read ~54 GFLOP/s on the Zen 3 EPYC where the MLP step reached 61).
constexpr int chains_avx512 = 16, chains_16regs = 12;

#if CTGRAD_PEAK_X86
__attribute__((noinline, target("avx512f"))) float fma_avx512(long n, float a, float b) {
    constexpr int chains = chains_avx512;
    __m512 acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = _mm512_set1_ps(float(c));
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 16
        for (int c = 0; c < chains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], va, vb);
    }
    float s = 0;  // (not _mm512_reduce_add_ps: GCC 12 warns inside it at -O2)
    for (int c = 0; c < chains; ++c) {
        for (int l = 0; l < 16; ++l) s += acc[c][l];
    }
    return s;
}

__attribute__((noinline, target("avx2,fma"))) float fma_avx2(long n, float a, float b) {
    constexpr int chains = chains_16regs;
    __m256 acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = _mm256_set1_ps(float(c));
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 16
        for (int c = 0; c < chains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], va, vb);
    }
    float s = 0;
    for (int c = 0; c < chains; ++c) {
        for (int l = 0; l < 8; ++l) s += acc[c][l];
    }
    return s;
}
#endif

/// The build target's vectors (SSE2 at plain -O2): a multiply and an add per lane (ISO C++
/// does not contract them), counted as 2 FLOP as the FMA.
[[gnu::noinline]] float fma_target(long n, float a, float b) {
    constexpr int chains = chains_16regs;
    using vec = float __attribute__((vector_size(16)));
    vec acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = vec{} + float(c);
    const vec va = vec{} + a, vb = vec{} + b;
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 16
        for (int c = 0; c < chains; ++c) acc[c] = acc[c] * va + vb;
    }
    for (int c = 1; c < chains; ++c) acc[0] += acc[c];
    return acc[0][0] + acc[0][1] + acc[0][2] + acc[0][3];
}

/// Float lanes per vector FMA of the kernels' instruction set: the run-time choice, or for
/// `isa::target` the build's vector width (64 bytes with -march=native on AVX-512).
int fma_lanes() {
#if CTGRAD_PEAK_X86
    switch (ctgrad::kernels::active_isa()) {
    case ctgrad::kernels::isa::avx512:
        return 16;
    case ctgrad::kernels::isa::avx2:
        return 8;
    default:
        break;
    }
#if defined(__AVX512F__)
    return 16;
#elif defined(__AVX2__) && defined(__FMA__)
    return 8;
#endif
#endif
    return 4;
}

/// Chains of the loop fma_run takes (fma_count / chains iterations of it = fma_count FMAs).
int fma_chains() {
    return fma_lanes() == 16 ? chains_avx512 : chains_16regs;
}

/// n iterations of the loop of the kernels' instruction set.
float fma_run(long n) {
    const float a = 0.999999f, b = 1e-7f;
#if CTGRAD_PEAK_X86
    static const int lanes = fma_lanes();
    if (lanes == 16) return fma_avx512(n, a, b);
    if (lanes == 8) return fma_avx2(n, a, b);
#endif
    return fma_target(n, a, b);
}

template <size_t Threads>
void fma_peak(benchmark::State& state) {
    auto& pool = mlp_parallel::pool<Threads>();
    float sink[Threads] = {};
    const long iterations = fma_count / fma_chains();
    for (auto _ : state) {
        pool.run([&](size_t t, size_t n) {
            const long lo = long(t) * iterations / long(n);
            const long hi = long(t + 1) * iterations / long(n);
            sink[t] += fma_run(hi - lo);
        });
    }
    for (size_t t = 0; t < Threads; ++t) benchmark::DoNotOptimize(sink[t]);
    const double flop = 2.0 * fma_lanes() * fma_chains() * double(iterations);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flop * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

/// Elements of each of a thread's three buffers (96 KB of float each; 288 KB a thread).
constexpr size_t stream_elements = 96 * 1024 / sizeof(float);
/// Passes per benchmark iteration (about the step's length on one core).
constexpr size_t stream_passes = 256;

[[gnu::noinline]] void stream_pass(const float* __restrict a, const float* __restrict b,
                                   float* __restrict out, float s) {
    for (size_t i = 0; i < stream_elements; ++i) out[i] = (a[i] + b[i]) * s;
}

template <size_t Threads>
void l2_stream(benchmark::State& state) {
    auto& pool = mlp_parallel::pool<Threads>();
    // each thread's own buffers, allocated (and first touched) once, outside the timing
    std::vector<std::vector<float>> buf(3 * Threads, std::vector<float>(stream_elements, 1.0f));
    for (auto _ : state) {
        pool.run([&](size_t t, size_t n) {
            const size_t lo = t * stream_passes / n, hi = (t + 1) * stream_passes / n;
            for (size_t p = lo; p < hi; ++p) {
                stream_pass(buf[3 * t].data(), buf[3 * t + 1].data(), buf[3 * t + 2].data(), 0.5f);
            }
        });
        benchmark::ClobberMemory();
    }
    const double bytes = 3.0 * sizeof(float) * double(stream_elements) * double(stream_passes);
    state.counters["GB/s"] =
        benchmark::Counter(bytes * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_TEMPLATE(fma_peak, 1)->Name("fma_peak/1t")->UseRealTime();
BENCHMARK_TEMPLATE(fma_peak, 2)->Name("fma_peak/2t")->UseRealTime();
BENCHMARK_TEMPLATE(l2_stream, 1)->Name("l2_stream/1t")->UseRealTime();
BENCHMARK_TEMPLATE(l2_stream, 2)->Name("l2_stream/2t")->UseRealTime();
