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
// tensors made once; only when meson finds LibTorch), `libtorch_addmv` (one sample only: the
// same layers as matrix-vector products, torch::addmv over W transposed and made contiguous
// once — what a careful user may write for one sample; measured 5-10% faster than addmm here).
// Every impl is checked against a plain double-precision loop before it is timed.
//
//   infer_1/w1_read   not an impl: the time to read W1's 784 x 100 floats once (a sum with 8
//                     independent vector accumulators, no multiply), the floor of any one-sample
//                     kernel that streams W1 from where it sits between calls (L2 here).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include "infer_cases.hpp"

#ifdef CTGRAD_HAVE_LIBTORCH
#include "../tools/bench_main.hpp"
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

/// Sum of n floats (n a multiple of 128) with 8 independent vector accumulators: only loads and
/// adds, the read stream of the first layer's weights without the multiply.
using v16 = float __attribute__((vector_size(64)));
[[gnu::always_inline]] inline void add_load(v16& a, const float* q) {
    v16 v;
    __builtin_memcpy(&v, q, sizeof v);
    a += v;
}

[[gnu::always_inline]] inline float read_sum_body(const float* p, std::size_t n) {
    // eight named accumulators (an array of them stayed in memory at -O2)
    v16 a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
    for (std::size_t i = 0; i < n; i += 128) {
        add_load(a0, p + i);
        add_load(a1, p + i + 16);
        add_load(a2, p + i + 32);
        add_load(a3, p + i + 48);
        add_load(a4, p + i + 64);
        add_load(a5, p + i + 80);
        add_load(a6, p + i + 96);
        add_load(a7, p + i + 112);
    }
    const v16 s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    float t = 0;
    for (std::size_t l = 0; l < 16; ++l) t += s[l];
    return t;
}

[[gnu::noinline]] float read_sum_target(const float* p, std::size_t n) {
    return read_sum_body(p, n);
}

#if defined(__x86_64__) && !defined(__AVX512F__)
[[gnu::noinline]] __attribute__((target("avx512f"))) float read_sum_avx512(const float* p,
                                                                           std::size_t n) {
    return read_sum_body(p, n);
}
#endif

/// The W1 read floor (see the header), compiled for AVX-512 when the processor has it, as the
/// kernels are.
void bench_w1_read(benchmark::State& state) {
    const auto& p = *data().params;
    const float* w = p[fc1::W].data();
    constexpr std::size_t n = pixels * hidden / 128 * 128;  // 78 336 of the 78 400 floats
#if defined(__x86_64__) && !defined(__AVX512F__)
    __builtin_cpu_init();
    const auto read = __builtin_cpu_supports("avx512f") ? read_sum_avx512 : read_sum_target;
#else
    const auto read = read_sum_target;
#endif
    for (auto _ : state) {
        benchmark::DoNotOptimize(w);
        float s = read(w, n);
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(float)));
}

#ifdef CTGRAD_HAVE_LIBTORCH
/// A copy of a parameter tensor (rows, cols; cols 0: a vector) as a LibTorch float tensor.
torch::Tensor torch_copy(const float* data, std::size_t rows, std::size_t cols = 0) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    if (cols == 0) return torch::from_blob(const_cast<float*>(data), {long(rows)}, opts).clone();
    return torch::from_blob(const_cast<float*>(data), {long(rows), long(cols)}, opts).clone();
}

/// Times forward() (logits of B samples, one LibTorch thread, under torch::InferenceMode) after
/// checking its logits against the reference.
template <std::size_t B, class Forward>
void bench_torch(benchmark::State& state, const Forward& forward) {
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

template <std::size_t B>
void bench_libtorch(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    const auto& d = data();
    const torch::InferenceMode guard;
    const auto& p = *d.params;
    const torch::Tensor W1 = torch_copy(p[fc1::W].data(), pixels, hidden);
    const torch::Tensor b1 = torch_copy(p[fc1::b].data(), hidden);
    const torch::Tensor W2 = torch_copy(p[fc2::W].data(), hidden, classes);
    const torch::Tensor b2 = torch_copy(p[fc2::b].data(), classes);
    const torch::Tensor x =
        torch::from_blob(const_cast<float*>(d.images.data()), {long(B), long(pixels)},
                         torch::TensorOptions().dtype(torch::kFloat32));
    bench_torch<B>(state, [&] { return torch::addmm(b2, torch::addmm(b1, x, W1).relu_(), W2); });
}

/// One sample through matrix-vector products: h = relu(b1 + W1ᵀ·x), logits = b2 + W2ᵀ·h, with
/// W1ᵀ [100, 784] and W2ᵀ [10, 100] made contiguous once (the layout of torch::nn::Linear's
/// weight), torch::addmv and relu_ under torch::InferenceMode, one thread.
void bench_libtorch_addmv(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    const auto& d = data();
    const torch::InferenceMode guard;
    const auto& p = *d.params;
    const torch::Tensor W1t = torch_copy(p[fc1::W].data(), pixels, hidden).t().contiguous();
    const torch::Tensor b1 = torch_copy(p[fc1::b].data(), hidden);
    const torch::Tensor W2t = torch_copy(p[fc2::W].data(), hidden, classes).t().contiguous();
    const torch::Tensor b2 = torch_copy(p[fc2::b].data(), classes);
    const torch::Tensor x = torch::from_blob(const_cast<float*>(d.images.data()), {long(pixels)},
                                             torch::TensorOptions().dtype(torch::kFloat32));
    bench_torch<1>(state, [&] { return torch::addmv(b2, W2t, torch::addmv(b1, W1t, x).relu_()); });
}
#endif

BENCHMARK(bench_w1_read)->Name("infer_1/w1_read");
BENCHMARK(bench_ctgrad<1>)->Name("infer_1/ctgrad");
BENCHMARK(bench_hand<1>)->Name("infer_1/hand");
BENCHMARK(bench_hand_kernels<1>)->Name("infer_1/hand_kernels");
BENCHMARK(bench_ctgrad<64>)->Name("infer_64/ctgrad");
BENCHMARK(bench_hand<64>)->Name("infer_64/hand");
BENCHMARK(bench_hand_kernels<64>)->Name("infer_64/hand_kernels");
#ifdef CTGRAD_HAVE_LIBTORCH
BENCHMARK(bench_libtorch<1>)->Name("infer_1/libtorch");
BENCHMARK(bench_libtorch_addmv)->Name("infer_1/libtorch_addmv");
BENCHMARK(bench_libtorch<64>)->Name("infer_64/libtorch");
#endif

}  // namespace

CTGRAD_BENCHMARK_MAIN();
