/// @file The cases of bench/tensor/infer_bench.cpp and bench/tensor/infer_instructions.cpp:
/// the Fashion-MNIST MLP of examples/fashion_mnist.cpp (784 -> 100 ReLU -> 10 logits, float),
/// its parameters and images (the same every run), and the hand-written forward passes.
#pragma once

#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <ctgrad/ctgrad.hpp>

namespace infer_cases {

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

inline const fixture& data() {
    static const fixture f;
    return f;
}

/// The hand-written forward pass of B samples: z = x W1 + b1, relu, logits = h W2 + b2. Each
/// row of W1 is read once for all B samples (their hidden rows, B x 100 floats, stay in the L1
/// cache), and the inner loops run over the outputs, so that they vectorise. Always inlined into
/// the two compiled copies below.
template <std::size_t B>
[[gnu::always_inline]] inline void hand_body(const params_t& p, const float* x, float* logits) {
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

/// g++'s -O2 vectorises a loop only when it needs no scalar remainder (its "very cheap" cost
/// model): the loops over 100 outputs take 25 SSE2 vectors but would stay scalar with 16-lane
/// AVX-512 vectors, so the copies are compiled with the cost model of -O3, as someone writing
/// these loops for speed would ask for.
#if defined(__GNUC__) && !defined(__clang__)
#define HAND_VECTORISE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define HAND_VECTORISE
#endif

template <std::size_t B>
[[gnu::noinline]] HAND_VECTORISE void hand_target(const params_t& p, const float* x,
                                                  float* logits) {
    hand_body<B>(p, x, logits);
}

#if defined(__x86_64__) && !defined(__AVX512F__)
template <std::size_t B>
[[gnu::noinline]] HAND_VECTORISE __attribute__((target("avx512f,avx2,fma"))) void hand_avx512(
    const params_t& p, const float* x, float* logits) {
    hand_body<B>(p, x, logits);
}
#endif

/// The hand loops compiled for AVX-512 when the processor has it (chosen once), as ctgrad's
/// matrix kernels are, else for the build's target.
template <std::size_t B>
void hand_forward(const params_t& p, const float* x, float* logits) {
#if defined(__x86_64__) && !defined(__AVX512F__)
    static const bool avx512 = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
    }();
    if (avx512) return hand_avx512<B>(p, x, logits);
#endif
    hand_target<B>(p, x, logits);
}

/// The layers written by hand around ctgrad's matrix kernels: z = x W1 (kernel), then bias and
/// ReLU in one loop, logits = h W2 (kernel) and its bias. No workspace but two arrays on the
/// stack.
template <std::size_t B>
void hand_kernels_forward(const params_t& p, const float* x, float* logits) {
    alignas(64) float h[B * hidden];
    ctgrad::kernels::matmul<B, pixels, hidden>(x, p[fc1::W].data(), h);
    const float* b1 = p[fc1::b].data();
    for (std::size_t r = 0; r < B; ++r) {
        for (std::size_t j = 0; j < hidden; ++j) {
            const float z = h[r * hidden + j] + b1[j];
            h[r * hidden + j] = z > 0.0f ? z : 0.0f;
        }
    }
    ctgrad::kernels::matmul<B, hidden, classes>(h, p[fc2::W].data(), logits);
    const float* b2 = p[fc2::b].data();
    for (std::size_t r = 0; r < B; ++r) {
        for (std::size_t c = 0; c < classes; ++c) logits[r * classes + c] += b2[c];
    }
}

/// The logits in double precision, by the plain loops: the reference every impl is checked
/// against.
template <std::size_t B>
std::vector<float> reference() {
    const auto& p = *data().params;
    const float* x = data().images.data();
    std::vector<float> out(B * classes);
    for (std::size_t r = 0; r < B; ++r) {
        std::vector<double> h(hidden);
        for (std::size_t j = 0; j < hidden; ++j) {
            double z = p[fc1::b].data()[j];
            for (std::size_t i = 0; i < pixels; ++i) {
                z += double(x[r * pixels + i]) * p[fc1::W].data()[i * hidden + j];
            }
            h[j] = z > 0 ? z : 0;
        }
        for (std::size_t c = 0; c < classes; ++c) {
            double z = p[fc2::b].data()[c];
            for (std::size_t j = 0; j < hidden; ++j) z += h[j] * p[fc2::W].data()[j * classes + c];
            out[r * classes + c] = float(z);
        }
    }
    return out;
}

}  // namespace infer_cases
