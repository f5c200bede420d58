// One core's f32 FMA throughput: 16 independent chains of acc = acc·a + b on vectors of the
// widest width the compiler targets (GCC/Clang vector extensions, 64 bytes), so that the
// multiply-adds never wait on each other; 2 FLOP per lane per FMA. The best of 20 runs.
//
//   g++ -std=c++20 -O2 -march=native -ffp-contract=fast bench/tools/fma_peak.cpp -o /tmp/fma_peak
//   /tmp/fma_peak
//
// The reference for "fraction of peak" in bench/README.md. (-ffp-contract=fast: in ISO C++
// mode GCC does not fuse a·b + c into an FMA on its own.)
#include <chrono>
#include <cstdio>

using vec = float __attribute__((vector_size(64)));
constexpr int lanes = 64 / sizeof(float), chains = 16;

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
