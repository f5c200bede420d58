// Compile-time cost of a deep network as issue 12 states it: DEPTH dense tanh layers of width 32
// and a dense output layer of 10 classes with softmax cross-entropy (batch 16), compiled into a
// ctgrad::program (wrt the parameters), one gradient and one SGD step. Built by
// bench/compile_time/network_depth.sh (-DDEPTH=8, 16, 32, 64, 128; -DNET=tanh_network) or by
// hand: g++ -std=c++20 -O2 -DDEPTH=128 -Iinclude -c bench/compile_time/tanh_network.cpp.
// main() returns 0 when the loss is finite and the step lowered it on the same batch.
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include <ctgrad/ctgrad.hpp>

#ifndef DEPTH
#define DEPTH 16
#endif

constexpr std::size_t depth = DEPTH, width = 32, classes = 10, batch = 16;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, batch, width>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, batch, classes>>;

template <std::size_t L>
using hidden = ctgrad::nn::dense<ctgrad::indexed_name<"fc", L>, width, width>;
using out = ctgrad::nn::dense<"out", width, classes>;

template <std::size_t... L>
constexpr auto make_net(std::index_sequence<L...>) {
    return ctgrad::nn::sequential(ctgrad::nn::sequential(hidden<L>{}, ctgrad::nn::tanh)..., out{});
}

constexpr auto net = make_net(std::make_index_sequence<depth>{});
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);

int main() {
    ctgrad::nn::parameters_of<decltype(net)> p;
    ctgrad::nn::init::xavier(p, 1);
    auto x = std::make_unique<ctgrad::tensor<float, batch, width>>();
    auto y = std::make_unique<ctgrad::tensor<float, batch, classes>>();
    for (std::size_t i = 0; i < batch; ++i) {
        for (std::size_t k = 0; k < width; ++k) {
            (*x)(i, k) = std::sin(0.37f * static_cast<float>(i * width + k));
        }
        (*y)(i, i % classes) = 1.0f;
    }
    ctgrad::program prog(loss, p.wrt());
    const auto g = prog.gradient(p, X = *x, Y = *y);
    const float before = g.value;
    ctgrad::nn::sgd_step(p, g, 0.1f);
    const float after = prog.value(p, X = *x, Y = *y);
    std::printf("depth %zu: loss %g -> %g, workspace %zu bytes\n", depth, double(before),
                double(after), prog.workspace_bytes);
    return std::isfinite(before) && after < before ? 0 : 1;
}
