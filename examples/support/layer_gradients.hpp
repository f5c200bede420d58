/// @file
/// What examples/06_vanishing_gradient.cpp and examples/07_residual_gradient.cpp share (not part
/// of the library): their regression task, the per-layer gradient norms ‖∂C/∂W_l‖ of a deep
/// network and their table, and the SGD loop that prints the average loss of each sixth of the
/// steps.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <random>
#include <utility>

#include <ctgrad/ctgrad.hpp>

namespace example {

/// A fixed regression task: y = sin(x0 + x1·x2) + 0.5·x3·x4 over x uniform in [−1, 1]^Inputs,
/// one batch per step drawn from a seeded generator (the same batches for every network).
template <std::size_t Batch, std::size_t Inputs>
struct regression_task {
    static_assert(Inputs >= 5, "the target reads x0 .. x4");
    std::mt19937 gen{2026};
    std::uniform_real_distribution<float> u{-1.0f, 1.0f};
    std::unique_ptr<ctgrad::tensor<float, Batch, Inputs>> x =
        std::make_unique<ctgrad::tensor<float, Batch, Inputs>>();
    std::unique_ptr<ctgrad::tensor<float, Batch, 1>> y =
        std::make_unique<ctgrad::tensor<float, Batch, 1>>();

    void next() {
        for (std::size_t r = 0; r < Batch; ++r) {
            for (std::size_t k = 0; k < Inputs; ++k) (*x)(r, k) = u(gen);
            const auto& v = *x;
            (*y)(r, 0) = std::sin(v(r, 0) + v(r, 1) * v(r, 2)) + 0.5f * v(r, 3) * v(r, 4);
        }
    }
};

/// ‖∂C/∂W_l‖ (Frobenius, in double) of the weights of Hidden<0>, ..., Hidden<Depth − 1> in the
/// gradient g.
template <template <std::size_t> class Hidden, std::size_t Depth, class G>
std::array<double, Depth> layer_gradient_norms(const G& g) {
    std::array<double, Depth> norms{};
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        ((norms[L] =
              [&] {
                  double s = 0;
                  for (float e : g[Hidden<L>::W]) s += double(e) * double(e);
                  return std::sqrt(s);
              }()),
         ...);
    }
    (std::make_index_sequence<Depth>{});
    return norms;
}

/// Prints the norms (layer 0 first) and the first layer's relative to the last, then the head of
/// the training-loss line that train_in_sixths continues.
template <std::size_t Depth>
void print_layer_norms(const char* name, const std::array<double, Depth>& norms, float lr) {
    std::printf("\n%s\n  |dC/dW| per layer at initialization (layer 0 first):\n   ", name);
    for (double n : norms) std::printf(" %.1e", n);
    std::printf("\n  first/last: %.1e\n  training loss (SGD, lr %.2f):",
                norms[0] / norms[Depth - 1], double(lr));
}

struct training_losses {
    double first = 0;  // the first step's loss
    double last = 0;   // the average over the last sixth of the steps
};

/// Runs `steps` steps, `step()` taking one (it draws a batch, updates the parameters and returns
/// the batch's loss before the update); prints the average loss of each sixth of the steps (one
/// batch is noisy).
template <class Step>
training_losses train_in_sixths(int steps, Step step) {
    training_losses t;
    const int block = steps >= 6 ? steps / 6 : 1;
    double sum = 0;
    for (int i = 0; i < steps; ++i) {
        const double loss = step();
        sum += loss;
        if (i == 0) t.first = loss;
        if ((i + 1) % block == 0) {
            std::printf(" %.4f", sum / block);
            t.last = sum / block;
            sum = 0;
        }
    }
    return t;
}

}  // namespace example
