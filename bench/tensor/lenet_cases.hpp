/// @file The LeNet-style training step of issue 14 shared by the `lenet_step_64/<impl>`
/// benchmarks (lenet_bench.cpp: ctgrad and runtime_graph; lenet_libtorch.cpp; lenet_dlib.cpp):
/// conv 1→6 5×5 padding 2, ReLU, max-pool 2; conv 6→16 5×5, ReLU, max-pool 2; dense
/// 400→120→84→10 with ReLU; softmax cross-entropy (mean over the batch); one plain SGD step;
/// batch 64, float, one thread. The same He-initialised parameters and random images/labels
/// (seeded) for every impl.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace lenet_cases {

using std::size_t;
constexpr size_t batch = 64, classes = 10, side = 28;
constexpr float lr = 0.01f;

/// FLOPs of one step (multiply-adds counted as 2): the convolutions forward, their kernel
/// gradients, conv2's input gradient; the dense layers' three products each.
constexpr double conv1_flops = 2.0 * batch * 6 * 25 * 28 * 28;
constexpr double conv2_flops = 2.0 * batch * 16 * 150 * 10 * 10;
constexpr double dense_flops = 2.0 * batch * (400 * 120 + 120 * 84 + 84 * 10);
constexpr double step_flops = 2 * conv1_flops + 3 * conv2_flops + 3 * dense_flops;

/// Parameters in PyTorch's layouts: conv kernels [O, C, K, K], dense weights [In, Out] (ctgrad's
/// x·W; LibTorch and dlib get their own transposes where they need them).
struct params {
    std::vector<float> c1w = std::vector<float>(6 * 1 * 25), c1b = std::vector<float>(6);
    std::vector<float> c2w = std::vector<float>(16 * 6 * 25), c2b = std::vector<float>(16);
    std::vector<float> f1w = std::vector<float>(400 * 120), f1b = std::vector<float>(120);
    std::vector<float> f2w = std::vector<float>(120 * 84), f2b = std::vector<float>(84);
    std::vector<float> f3w = std::vector<float>(84 * 10), f3b = std::vector<float>(10);
};

struct data {
    std::vector<float> x = std::vector<float>(batch * side * side);
    std::vector<float> y = std::vector<float>(batch * classes);  // one-hot
    std::vector<unsigned long> labels = std::vector<unsigned long>(batch);
};

inline params make_params(std::uint64_t seed = 1) {
    params p;
    std::mt19937_64 gen(seed);
    auto he = [&](std::vector<float>& w, double fan_in) {
        std::normal_distribution<double> d(0.0, std::sqrt(2.0 / fan_in));
        for (float& e : w) e = static_cast<float>(d(gen));
    };
    he(p.c1w, 25);
    he(p.c2w, 150);
    he(p.f1w, 400);
    he(p.f2w, 120);
    he(p.f3w, 84);
    return p;
}

inline data make_data(std::uint64_t seed = 2) {
    data d;
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (float& e : d.x) e = u(gen);
    for (size_t r = 0; r < batch; ++r) {
        d.labels[r] = gen() % classes;
        d.y[r * classes + d.labels[r]] = 1.0f;
    }
    return d;
}

}  // namespace lenet_cases
