// One-sample (and batch-64) inference of the Fashion-MNIST MLP of examples/fashion_mnist.cpp
// (784 -> 100 ReLU -> 10 logits, float): what an embedded caller pays per prediction.
//
//   infer_1/<impl>    one sample, ns per sample
//   infer_64/<impl>   a batch of 64, items_per_second = samples per second
//
// Impls: `ctgrad` (ctgrad::program::value of the network expression, its workspace made once),
// `hand` (the two layers as loops over row-major weights, the inner loop over the outputs so
// that it vectorises), `libtorch` (torch::addmm + relu_ under torch::InferenceMode, one
// intra-op thread, tensors made once; only when meson finds LibTorch). Every impl is checked
// against `hand` before it is timed.
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#ifdef CTGRAD_HAVE_LIBTORCH
#include "mlp_libtorch.hpp"
#endif

namespace {

namespace nn = ctgrad::nn;

constexpr std::size_t pixels = 784, hidden = 100, classes = 10;

using fc1 = nn::dense<"fc1", pixels, hidden>;
using fc2 = nn::dense<"fc2", hidden, classes>;
constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});

template <std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, pixels>>;

using params_t = nn::parameters_of<decltype(net)>;

/// He-initialised parameters (seed 1) and images with pixels in [0, 1), the same every run.
struct fixture {
    std::unique_ptr<params_t> params = std::make_unique<params_t>();
    std::vector<float> images = std::vector<float>(64 * pixels);

    fixture() {
        nn::init::he(*params, 1);
        std::mt19937 gen(7);
        for (float& p : images) p = float(gen()) * 0x1p-32f;
    }
};

const fixture& data() {
    static const fixture f;
    return f;
}

/// The hand-written forward pass of B samples: z = x W1 + b1, relu, logits = h W2 + b2. Each
/// row of W1 is read once for all B samples (their hidden rows, B x 100 floats, stay in the L1
/// cache), and the inner loops run over the outputs, so that they vectorise.
template <std::size_t B>
void hand_forward(const params_t& p, const float* x, float* logits) {
    const float* W1 = p[fc1::W].data();
    const float* b1 = p[fc1::b].data();
    const float* W2 = p[fc2::W].data();
    const float* b2 = p[fc2::b].data();
    alignas(64) float h[B][hidden];  // 25.6 KB for B = 64
    for (std::size_t r = 0; r < B; ++r) {
        for (std::size_t j = 0; j < hidden; ++j) h[r][j] = b1[j];
    }
    for (std::size_t i = 0; i < pixels; ++i) {
        const float* w = W1 + i * hidden;
        for (std::size_t r = 0; r < B; ++r) {
            const float xi = x[r * pixels + i];
            for (std::size_t j = 0; j < hidden; ++j) h[r][j] += xi * w[j];
        }
    }
    for (std::size_t r = 0; r < B; ++r) {
        float* out = logits + r * classes;
        for (std::size_t c = 0; c < classes; ++c) out[c] = b2[c];
        for (std::size_t j = 0; j < hidden; ++j) {
            const float hj = h[r][j] > 0.0f ? h[r][j] : 0.0f;
            for (std::size_t c = 0; c < classes; ++c) out[c] += hj * W2[j * classes + c];
        }
    }
}

template <std::size_t B>
std::vector<float> reference() {
    std::vector<float> out(B * classes);
    hand_forward<B>(*data().params, data().images.data(), out.data());
    return out;
}

/// The logits agree with hand's to float rounding (sums of 784 products in another order).
bool agree(const std::vector<float>& a, const std::vector<float>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(std::abs(a[i] - b[i]) <= 1e-4f * (1.0f + std::abs(b[i])))) return false;
    }
    return a.size() == b.size();
}

template <std::size_t B>
void bench_hand(benchmark::State& state) {
    const auto& d = data();
    std::vector<float> out(B * classes);
    for (auto _ : state) {
        benchmark::DoNotOptimize(d.images.data());
        hand_forward<B>(*d.params, d.images.data(), out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * B);
}

template <std::size_t B>
void bench_ctgrad(benchmark::State& state) {
    const auto& d = data();
    ctgrad::program prog(net(X<B>));
    const auto x = ctgrad::view<B, pixels>(d.images.data());
    {
        const auto logits = prog.value(*d.params, X<B> = x);
        std::vector<float> got(logits.data(), logits.data() + B * classes);
        if (!agree(got, reference<B>())) {
            state.SkipWithError("logits differ from hand");
            return;
        }
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(d.images.data());
        const auto logits = prog.value(*d.params, X<B> = x);
        benchmark::DoNotOptimize(logits.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * B);
}

#ifdef CTGRAD_HAVE_LIBTORCH
template <std::size_t B>
void bench_libtorch(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    const auto& d = data();
    const torch::InferenceMode guard;
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    const auto& p = *d.params;
    const torch::Tensor W1 =
        torch::from_blob(const_cast<float*>(p[fc1::W].data()), {long(pixels), long(hidden)}, opts)
            .clone();
    const torch::Tensor b1 =
        torch::from_blob(const_cast<float*>(p[fc1::b].data()), {long(hidden)}, opts).clone();
    const torch::Tensor W2 =
        torch::from_blob(const_cast<float*>(p[fc2::W].data()), {long(hidden), long(classes)}, opts)
            .clone();
    const torch::Tensor b2 =
        torch::from_blob(const_cast<float*>(p[fc2::b].data()), {long(classes)}, opts).clone();
    const torch::Tensor x =
        torch::from_blob(const_cast<float*>(d.images.data()), {long(B), long(pixels)}, opts);
    const auto forward = [&] { return torch::addmm(b2, torch::addmm(b1, x, W1).relu_(), W2); };
    {
        const torch::Tensor logits = forward().contiguous();
        std::vector<float> got(logits.data_ptr<float>(), logits.data_ptr<float>() + B * classes);
        if (!agree(got, reference<B>())) {
            state.SkipWithError("logits differ from hand");
            return;
        }
    }
    for (auto _ : state) {
        torch::Tensor logits = forward();
        benchmark::DoNotOptimize(logits.data_ptr<float>());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * B);
}
#endif

BENCHMARK(bench_ctgrad<1>)->Name("infer_1/ctgrad");
BENCHMARK(bench_hand<1>)->Name("infer_1/hand");
BENCHMARK(bench_ctgrad<64>)->Name("infer_64/ctgrad");
BENCHMARK(bench_hand<64>)->Name("infer_64/hand");
#ifdef CTGRAD_HAVE_LIBTORCH
BENCHMARK(bench_libtorch<1>)->Name("infer_1/libtorch");
BENCHMARK(bench_libtorch<64>)->Name("infer_64/libtorch");
#endif

}  // namespace

BENCHMARK_MAIN();
