// What residual connections do to the gradient of a deep network (He et al. 2016), measured as
// examples/06_vanishing_gradient.cpp does for batch normalisation: two networks of the same
// depth (12 hidden layers of width 32, a sigmoid after each) on the same regression task, one
// a plain stack, the other with every hidden layer after the first wrapped in nn::residual
// (x + W·sigmoid(x) + b: the same weights, the skip added). For each, the per-layer norms ‖∂C/∂W_l‖ at
// initialization, then the loss while training with plain SGD.
//
//   07_residual_gradient [--steps N] [--lr R] [--help]
//
// What it shows: in the plain network the gradient shrinks by a roughly constant factor per
// layer (δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l), σ' ≤ 1/4), so the first layers get almost none
// of it; with the skip connections x^{l+1} = x^l + W^{l+1}σ(x^l) + b, so ∂C/∂x^l =
// ∂C/∂x^{l+1} + σ'(x^l) ⊙ (W^{l+1})ᵀ ∂C/∂x^{l+1}: the identity carries the gradient down
// unchanged and every layer gets one of the same order. Exits
// non-zero if the measured effect is not there (the first layer's gradient, relative to the
// last's, below 1e-5 in the plain network, above 1e-2 and 10^4 times larger with the skips; with
// enough steps, a training loss below half the plain network's).
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <utility>

#include <ctgrad/ctgrad.hpp>

#include "support/cli.hpp"
#include "support/layer_gradients.hpp"

namespace nn = ctgrad::nn;
using ctgrad::tensor;

constexpr std::size_t depth = 12, width = 32, batch = 64, inputs = 8;

template <std::size_t L>
using hidden = nn::dense<ctgrad::indexed_name<"fc", L>, L == 0 ? inputs : width, width>;
using out = nn::dense<"out", width, 1>;

/// Layer L ≥ 1 of the plain network: sigmoid then dense (layer 0 is the dense layer alone, the
/// output layer follows a last sigmoid), so the plain network is dense, sigmoid, dense, ...,
/// sigmoid, out: the usual stack.
template <std::size_t L>
constexpr auto plain_layer() {
    if constexpr (L == 0) {
        return hidden<0>{};
    } else {
        return nn::sequential(nn::sigmoid, hidden<L>{});
    }
}
/// The same layer with a skip connection, x + W·sigmoid(x) + b (the "pre-activation" residual
/// block of He et al.'s "Identity mappings in deep residual networks"); layer 0 changes the
/// width (8 → 32) and stays plain.
template <std::size_t L>
constexpr auto residual_layer() {
    if constexpr (L == 0) {
        return plain_layer<0>();
    } else {
        return nn::residual(plain_layer<L>());
    }
}

template <std::size_t... L>
constexpr auto plain_net(std::index_sequence<L...>) {
    return nn::sequential(plain_layer<L>()..., nn::sigmoid, out{});
}
template <std::size_t... L>
constexpr auto residual_net(std::index_sequence<L...>) {
    return nn::sequential(residual_layer<L>()..., nn::sigmoid, out{});
}

constexpr auto X = ctgrad::var<"X", tensor<float, batch, inputs>>;
constexpr auto Y = ctgrad::var<"Y", tensor<float, batch, 1>>;

using task = example::regression_task<batch, inputs>;

struct result {
    std::array<double, depth> norms{};
    double first_loss = 0, last_loss = 0;
};

template <class Net>
result run(const char* name, Net net, int steps, float lr) {
    nn::parameters_of<Net> params;
    nn::init::xavier(params, 1);
    ctgrad::program prog(ctgrad::mse(net(X), Y), params.wrt());
    task data;
    data.next();
    result r;
    r.norms = example::layer_gradient_norms<hidden, depth>(
        prog.gradient(params, X = *data.x, Y = *data.y));
    example::print_layer_norms(name, r.norms, lr);
    const auto losses = example::train_in_sixths(steps, [&] {
        data.next();
        const auto g = prog.gradient(params, X = *data.x, Y = *data.y);
        nn::sgd_step(params, g, lr);
        return double(g.value);
    });
    r.first_loss = losses.first;
    r.last_loss = losses.last;
    std::printf("\n");
    return r;
}

int main(int argc, char** argv) try {
    int steps = 600;
    float lr = 0.05f;
    example::command_line cli(
        "usage: 07_residual_gradient [options]\n"
        "Per-layer gradient norms and SGD training of a deep plain sigmoid network and of the\n"
        "same network with residual (skip) connections.");
    cli.add("--steps", "N", "SGD steps per network (default 600)", steps)
        .add("--lr", "R", "learning rate of both networks (default 0.05)", lr);
    cli.parse(argc, argv);
    if (steps < 1 || !(lr > 0)) throw std::invalid_argument("--steps and --lr must be positive");

    constexpr auto layers = std::make_index_sequence<depth>{};
    std::printf("%zu hidden layers of width %zu (sigmoid), batch %zu, quadratic cost, plain SGD\n",
                depth, width, batch);
    const result p = run("plain", plain_net(layers), steps, lr);
    const result r =
        run("residual (x + W sigmoid(x) + b from layer 1 on)", residual_net(layers), steps, lr);
    const double ratio_p = p.norms[0] / p.norms[depth - 1];
    const double ratio_r = r.norms[0] / r.norms[depth - 1];
    std::printf("\nfirst-layer gradient relative to the last: plain %.1e, residual %.1e (%.0fx)\n",
                ratio_p, ratio_r, ratio_r / ratio_p);
    // the effect, with a wide margin (measured: see the output)
    bool ok = std::isfinite(ratio_p) && std::isfinite(ratio_r) && ratio_p < 1e-5 &&
              ratio_r > 1e-2 && ratio_r > 1e4 * ratio_p;
    // and, given enough steps to tell, the residual network learns more
    if (steps >= 300) ok = ok && r.last_loss < 0.5 * p.last_loss;
    if (!ok) {
        std::printf(
            "unexpected: the plain network's gradient did not vanish, the residual one's did, "
            "or the residual network did not train better\n");
    }
    return ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "07_residual_gradient: %s\n", e.what());
    return 2;
}
