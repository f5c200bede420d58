// Compile-time cost of a network: DEPTH tanh layers of width 32 (batch 16), the loss
// Σ(A − Y)², compiled into a ctgrad::program and stepped once. Built by
// bench/compile_time/network_depth.sh with -DDEPTH=8, 16, 32, 64, 128.
#include <cstdio>
#include <memory>
#include <utility>

#include <ctgrad/ctgrad.hpp>

#ifndef DEPTH
#define DEPTH 20
#endif

constexpr std::size_t depth = DEPTH, width = 32, batch = 16;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, batch, width>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, batch, width>>;

template <std::size_t L>
using layer = ctgrad::nn::dense<ctgrad::indexed_name<"fc", L>, width, width>;

template <std::size_t... L>
constexpr auto make_net(std::index_sequence<L...>) {
    return ctgrad::nn::sequential(ctgrad::nn::sequential(layer<L>{}, ctgrad::nn::tanh)...);
}

constexpr auto net = make_net(std::make_index_sequence<depth>{});
constexpr auto loss = ctgrad::sum(ctgrad::square(net(X) - Y));

int main() {
    ctgrad::nn::parameters_of<decltype(net)> p;
    ctgrad::nn::init::xavier(p, 1);
    auto x = std::make_unique<ctgrad::tensor<float, batch, width>>();
    auto y = std::make_unique<ctgrad::tensor<float, batch, width>>();
    ctgrad::program prog(loss, p.wrt());
    const auto g = prog.gradient(p, X = *x, Y = *y);
    std::printf("depth %zu: loss %g, workspace %zu bytes\n", depth, double(g.value),
                prog.workspace_bytes);
}
