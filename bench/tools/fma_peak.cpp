// One core's f32 FMA throughput: independent chains of acc = acc·a + b on vectors of the
// widest width the compiler targets (GCC/Clang vector extensions: 64 bytes with AVX-512F, 32
// with AVX, 16 otherwise), so that the multiply-adds never wait on each other; 2 FLOP per lane
// per FMA. The best of 20 runs. As many chains as the registers hold with the two constants:
// 16 of AVX-512's 32 registers, 12 of AVX2's 16 (16 chains there, or 64-byte vectors on an
// AVX2 target, spill to the stack: 54 GFLOP/s instead of the core's peak on a Zen 3 EPYC);
// at least 8 = FMA latency × throughput (4 cycles × 2 per cycle on Zen 3 and Skylake).
//
//   g++ -std=c++20 -O2 -march=native -ffp-contract=fast bench/tools/fma_peak.cpp -o /tmp/fma_peak
//   /tmp/fma_peak
//
// The reference for "fraction of peak" in bench/README.md. (-ffp-contract=fast: in ISO C++
// mode GCC does not fuse a·b + c into an FMA on its own.)
#include <chrono>
#include <cstdio>

#if defined(__AVX512F__)
constexpr int vector_bytes = 64, chains = 16;
#elif defined(__AVX__)
constexpr int vector_bytes = 32, chains = 12;
#else
constexpr int vector_bytes = 16, chains = 12;
#endif
using vec = float __attribute__((vector_size(vector_bytes)));
constexpr int lanes = vector_bytes / sizeof(float);

[[gnu::noinline]] float run(long iterations, float a, float b) {
    vec acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = vec{} + float(c);
    const vec va = vec{} + a, vb = vec{} + b;
    for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
        for (int c = 0; c < chains; ++c) acc[c] = acc[c] * va + vb;
    }
    float s = 0;
    for (int c = 0; c < chains; ++c) {
        for (int l = 0; l < lanes; ++l) s += acc[c][l];
    }
    return s;
}

int main() {
    const long iterations = 20'000'000;
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 20; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        sink += run(iterations, 0.999999f, 1e-7f);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double gflops = 2.0 * lanes * chains * double(iterations) / s / 1e9;
        best = gflops > best ? gflops : best;
    }
    std::printf("f32 FMA peak, one thread: %.1f GFLOP/s (best of 20; checksum %g)\n", best,
                double(sink));
}
