// One-sample (and batch-64) inference of the Fashion-MNIST MLP of examples/fashion_mnist.cpp
// (784 -> 100 ReLU -> 10 logits, float): what an embedded caller pays per prediction.
//
//   infer_1/<impl>    one sample, ns per sample
//   infer_64/<impl>   a batch of 64, items_per_second = samples per second
//
// Impls: `ctgrad` (ctgrad::program::value of the network expression, its workspace made once),
// `hand` (the two layers as loops over row-major weights, the inner loop over the outputs so
// that it vectorises; compiled for AVX-512 with a target attribute and chosen at run time when
// the processor has it, as ctgrad's matrix kernels are, else for the build's target),
// `hand_kernels` (the same layers written by hand around ctgrad::kernels::matmul: the products
// by the library's kernels, bias and ReLU in one loop: what ctgrad's engine adds to its
// kernels), `libtorch` (torch::addmm + relu_ under torch::InferenceMode, one intra-op thread,
// tensors made once; only when meson finds LibTorch). Every impl is checked against a plain
// double-precision loop before it is timed.
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include "infer_cases.hpp"

#ifdef CTGRAD_HAVE_LIBTORCH
#include "mlp_libtorch.hpp"
#endif

namespace {

using namespace infer_cases;

/// The logits agree with the reference to float rounding (sums of 784 float products).
bool agree(const std::vector<float>& a, const std::vector<float>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(std::abs(a[i] - b[i]) <= 1e-4f * (1.0f + std::abs(b[i])))) return false;
    }
    return a.size() == b.size();
}

/// Times forward(params, images, logits) after checking its logits against the reference.
template <std::size_t B, class Forward>
void bench_loops(benchmark::State& state, Forward forward) {
    const auto& d = data();
    std::vector<float> out(B * classes);
    forward(*d.params, d.images.data(), out.data());
    if (!agree(out, reference<B>())) {
        state.SkipWithError("logits differ from the reference");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(d.images.data());
        forward(*d.params, d.images.data(), out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * B);
}

template <std::size_t B>
void bench_hand(benchmark::State& state) {
    bench_loops<B>(state, hand_forward<B>);
}

template <std::size_t B>
void bench_hand_kernels(benchmark::State& state) {
    bench_loops<B>(state, hand_kernels_forward<B>);
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
            state.SkipWithError("logits differ from the reference");
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
            state.SkipWithError("logits differ from the reference");
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
BENCHMARK(bench_hand_kernels<1>)->Name("infer_1/hand_kernels");
BENCHMARK(bench_ctgrad<64>)->Name("infer_64/ctgrad");
BENCHMARK(bench_hand<64>)->Name("infer_64/hand");
BENCHMARK(bench_hand_kernels<64>)->Name("infer_64/hand_kernels");
#ifdef CTGRAD_HAVE_LIBTORCH
BENCHMARK(bench_libtorch<1>)->Name("infer_1/libtorch");
BENCHMARK(bench_libtorch<64>)->Name("infer_64/libtorch");
#endif

}  // namespace

BENCHMARK_MAIN();
