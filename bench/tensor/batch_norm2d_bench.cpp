// Batch normalisation over the channels of images [64, 16, 28, 28] (the Fashion-MNIST CNN's
// bn1), one training step's forward and backward pass: loss Σ K ⊙ relu(bn(X)) and its gradient
// with respect to X, γ and β. `batch_norm2d_64x16x28x28/nchw`: ctgrad::batch_norm2d, one op on
// the NCHW layout; `/channels_last`: the composition it replaced,
// channels_first(batch_norm(channels_last(X))) (the same bits, test nn/batch_norm2d).
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <random>

#include <ctgrad/ctgrad.hpp>

#include "../tools/bench_main.hpp"

namespace {

constexpr std::size_t N = 64, C = 16, H = 28, W = 28;
using img = ctgrad::tensor<float, N, C, H, W>;
constexpr auto X = ctgrad::var<"X", img>;
constexpr auto K = ctgrad::var<"K", img>;
constexpr auto G = ctgrad::var<"G", ctgrad::tensor<float, C>>;
constexpr auto B = ctgrad::var<"B", ctgrad::tensor<float, C>>;
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, C>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, C>>;

struct data {
    std::unique_ptr<img> x = std::make_unique<img>(), k = std::make_unique<img>();
    ctgrad::tensor<float, C> g{}, b{}, m{}, v = ctgrad::tensor<float, C>::filled(1.0f);
    data() {
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1.0f, 2.0f);
        for (auto& e : *x) e = u(rng);
        for (auto& e : *k) e = u(rng) - 0.5f;
        for (auto& e : g) e = 1.0f + 0.1f * u(rng);
    }
};

template <class Loss>
void run(benchmark::State& state, const Loss& loss) {
    data d;
    ctgrad::program prog(loss, ctgrad::wrt(X, G, B));
    for (auto _ : state) {
        const auto grad = prog.gradient(X = *d.x, K = *d.k, G = d.g, B = d.b, M = std::ref(d.m),
                                        V = std::ref(d.v));
        benchmark::DoNotOptimize(grad.value);
    }
}

void nchw(benchmark::State& state) {
    run(state, ctgrad::sum(K * ctgrad::relu(ctgrad::batch_norm2d(X, G, B, M, V))));
}

void channels_last(benchmark::State& state) {
    run(state, ctgrad::sum(K * ctgrad::relu(ctgrad::channels_first(
                                   ctgrad::batch_norm(ctgrad::channels_last(X), G, B, M, V),
                                   ctgrad::shape<N, C, H, W>{}))));
}

}  // namespace

BENCHMARK(nchw)->Name("batch_norm2d_64x16x28x28/nchw")->Unit(benchmark::kMicrosecond);
BENCHMARK(channels_last)
    ->Name("batch_norm2d_64x16x28x28/channels_last")
    ->Unit(benchmark::kMicrosecond);

CTGRAD_BENCHMARK_MAIN();
