// Weights trained in PyTorch, run by ctgrad: loads the state_dict of a 784-16-10 ReLU MLP
// (fc1 = nn.Linear(784, 16), fc2 = nn.Linear(16, 10)) from a safetensors or .npz file through
// io::pytorch_names, classifies the inputs of a .npy file [4, 784] and, given PyTorch's logits
// (.npy [4, 10]), reports the largest difference; exits non-zero above 4e-6 of a row's largest
// logit (float32 sums in another order per kernel ISA: docs/io.md). The defaults are the files test/io/data/make_pytorch_mlp.py wrote.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/io/safetensors.hpp>

#include "support/cli.hpp"

namespace nn = ctgrad::nn;
namespace io = ctgrad::io;

constexpr std::size_t n = 4;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, n, 784>>;
constexpr auto net =
    nn::sequential(nn::dense<"fc1", 784, 16>{}, nn::relu, nn::dense<"fc2", 16, 10>{});

int main(int argc, char** argv) {
    const std::string dir = CTGRAD_EXAMPLE_DATA_DIR;
    std::string weights = dir + "/mlp.safetensors", inputs = dir + "/mlp_inputs.npy",
                expect = dir + "/mlp_logits.npy";
    example::command_line cli(
        "usage: load_pytorch [options]\n"
        "Loads a 784-16-10 MLP trained in PyTorch and compares ctgrad's logits with PyTorch's.");
    cli.add("--weights", "FILE",
            "the PyTorch state_dict, .safetensors or .npz (fc1.weight [16, 784], fc1.bias, "
            "fc2.weight [10, 16], fc2.bias; default " +
                dir + "/mlp.safetensors)",
            weights)
        .add("--inputs", "FILE",
             "a .npy of " + std::to_string(n) + " inputs [" + std::to_string(n) +
                 ", 784], float (default " + dir + "/mlp_inputs.npy)",
             inputs)
        .add("--expect", "FILE",
             "PyTorch's logits .npy [" + std::to_string(n) +
                 ", 10] to compare with, or "
                 "'none' (default " +
                 dir + "/mlp_logits.npy)",
             expect);
    try {
        cli.parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_pytorch: %s\n", e.what());
        return 2;
    }
    try {
        nn::parameters_of<decltype(net)> params;
        if (weights.ends_with(".npz")) {
            io::load_npz(weights, params, io::pytorch_names);
        } else {
            io::load_safetensors(weights, params, io::pytorch_names);
        }
        ctgrad::tensor<float, n, 784> x;
        io::load_npy(inputs, x);
        ctgrad::program eval(net(X));
        const auto logits = eval.value(params, X = x);
        for (std::size_t r = 0; r < n; ++r) {
            std::size_t best = 0;
            for (std::size_t c = 1; c < 10; ++c) best = logits(r, c) > logits(r, best) ? c : best;
            std::printf("input %zu: class %zu (logit %.6f)\n", r, best, double(logits(r, best)));
        }
        if (expect == "none") return 0;
        ctgrad::tensor<float, n, 10> want;
        io::load_npy(expect, want);
        double worst = 0;
        for (std::size_t r = 0; r < n; ++r) {
            double diff = 0, scale = 0;
            for (std::size_t c = 0; c < 10; ++c) {
                diff = std::max(diff, std::abs(double(logits(r, c)) - double(want(r, c))));
                scale = std::max(scale, std::abs(double(want(r, c))));
            }
            worst = std::max(worst, diff / scale);
        }
        std::printf("largest difference from PyTorch's logits: %.2e of a row's largest logit\n",
                    worst);
        return worst <= 4e-6 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
