// The two-layer regression network of the notes (/work/shared/notes/001, program 3): N = 32
// samples of D = 100 inputs, H = 200 ReLU hidden units, O = 10 outputs, loss = the sum of
// squared errors Σ(y − pred)², weights from a standard normal (np.random.randn), biases zero,
// plain SGD on one fixed random batch. Data and weights come from a seeded std::mt19937_64.
//
//   04_regression [--steps N] [--lr R] [--seed S] [--help]
//
// At step 0 ctgrad's gradient is checked against the four backprop equations written out by
// hand (notes 003: δ² = ∂C/∂pred, δ¹ = (δ² W2ᵀ) ⊙ relu'(z¹), ∂C/∂b = Σ_rows δ, ∂C/∂W = aᵀ δ):
// the largest relative difference is printed and must be below 1e-4. Then the loss is printed
// every few steps; the exit status is 1 unless it fell by a factor of 100 or more.
//
// Two things in the notes' numpy listing are wrong and a gradient check catches them: it
// computes `dW2 = h_relu.T.dot(db2)` and `dh_relu = db2.dot(W2.T)` from db2 (the bias gradient,
// summed over the batch) instead of from dpred. The first does not even run ([200, 32]·[10]
// does not match); the second runs, broadcasting the summed row to every sample, and gives a
// wrong dW1: it is computed below as well, and its difference from the true gradient printed.
//
// The listing's learning rate, 1e-2, diverges with these weights: unscaled normal weights make
// the loss ~3e6 at step 0 and the gradient's entries thousands, so the first steps move
// weights of size 1 by tens and the loss is NaN within 15 steps (try --lr 1e-2). The default,
// 1e-6, is the rate of the well-known numpy/PyTorch tutorial version of this network (J.
// Johnson's pytorch-examples, N = 64, D = 1000, H = 100); with it the loss falls from 2.7e6 to 0.24 in 500 steps (seed 1). Everything is double,
// as in numpy: ctgrad's gradient then equals the hand-written one to the last bit here.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>

#include "support/cli.hpp"

namespace nn = ctgrad::nn;

constexpr std::size_t N = 32, D = 100, H = 200, O = 10;
using T = double;

using fc1 = nn::dense<"fc1", D, H, T>;  // W1 [D, H], b1 [H]
using fc2 = nn::dense<"fc2", H, O, T>;  // W2 [H, O], b2 [O]
constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, N, D>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<T, N, O>>;
constexpr auto loss = ctgrad::sum(ctgrad::square(Y - net(X)));  // np.sum(np.square(y - pred))

namespace {

struct options {
    long steps = 500;
    double lr = 1e-6;
    unsigned long seed = 1;
};

options parse(int argc, char** argv) {
    options o;
    example::command_line("usage: 04_regression [options]")
        .add("--steps", "N", "SGD steps (default 500)", o.steps)
        .add("--lr", "R", "learning rate (default 1e-6)", o.lr)
        .add("--seed", "S", "data and initial weights (default 1)", o.seed)
        .parse(argc, argv);
    return o;
}

/// The gradient of the loss written out with the four backprop equations, as in the listing
/// (with dpred where the listing has db2). `broken_dW1` is what the listing's
/// `dh_relu = db2.dot(W2.T)` leads to.
struct by_hand {
    std::vector<T> dW1 = std::vector<T>(D * H), db1 = std::vector<T>(H);
    std::vector<T> dW2 = std::vector<T>(H * O), db2 = std::vector<T>(O);
    std::vector<T> broken_dW1 = std::vector<T>(D * H);
};

template <class P>
by_hand backprop(const P& params, const ctgrad::tensor<T, N, D>& x,
                 const ctgrad::tensor<T, N, O>& y) {
    const auto& W1 = params[fc1::W];
    const auto& b1 = params[fc1::b];
    const auto& W2 = params[fc2::W];
    const auto& b2 = params[fc2::b];
    std::vector<T> h(N * H), h_relu(N * H), dpred(N * O), dh(N * H), broken_dh(N * H);
    for (std::size_t n = 0; n < N; ++n) {  // forward: h = X·W1 + b1, h_relu = max(h, 0)
        for (std::size_t j = 0; j < H; ++j) {
            T s = b1(j);
            for (std::size_t k = 0; k < D; ++k) s += x(n, k) * W1(k, j);
            h[n * H + j] = s;
            h_relu[n * H + j] = std::max(s, T(0));
        }
    }
    for (std::size_t n = 0; n < N; ++n) {  // pred = h_relu·W2 + b2; δ² = dpred = 2(pred − y)
        for (std::size_t o = 0; o < O; ++o) {
            T s = b2(o);
            for (std::size_t j = 0; j < H; ++j) s += h_relu[n * H + j] * W2(j, o);
            dpred[n * O + o] = 2 * (s - y(n, o));
        }
    }
    by_hand g;
    for (std::size_t n = 0; n < N; ++n) {  // ∂C/∂b2 = Σ_rows δ², ∂C/∂W2 = h_reluᵀ δ²
        for (std::size_t o = 0; o < O; ++o) {
            g.db2[o] += dpred[n * O + o];
            for (std::size_t j = 0; j < H; ++j)
                g.dW2[j * O + o] += h_relu[n * H + j] * dpred[n * O + o];
        }
    }
    for (std::size_t n = 0; n < N; ++n) {  // δ¹ = (δ² W2ᵀ) ⊙ relu'(h); the listing uses db2
        for (std::size_t j = 0; j < H; ++j) {
            T s = 0, broken = 0;
            for (std::size_t o = 0; o < O; ++o) {
                s += dpred[n * O + o] * W2(j, o);
                broken += g.db2[o] * W2(j, o);
            }
            dh[n * H + j] = h[n * H + j] > 0 ? s : T(0);
            broken_dh[n * H + j] = h[n * H + j] > 0 ? broken : T(0);
        }
    }
    for (std::size_t n = 0; n < N; ++n) {  // ∂C/∂b1 = Σ_rows δ¹, ∂C/∂W1 = Xᵀ δ¹
        for (std::size_t j = 0; j < H; ++j) {
            g.db1[j] += dh[n * H + j];
            for (std::size_t k = 0; k < D; ++k) {
                g.dW1[k * H + j] += x(n, k) * dh[n * H + j];
                g.broken_dW1[k * H + j] += x(n, k) * broken_dh[n * H + j];
            }
        }
    }
    return g;
}

/// The largest elementwise relative difference |a − b| / max(|a|, |b|). Entries that are tiny
/// next to the largest of the tensor (a sum that cancels) would make any rounding look huge,
/// so the denominator is at least 1e-8 times the tensor's largest magnitude.
double max_relative_difference(const T* a, const std::vector<T>& b) {
    T scale = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
        scale = std::max({scale, std::abs(a[i]), std::abs(b[i])});
    double worst = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const T den = std::max({std::abs(a[i]), std::abs(b[i]), T(1e-8) * scale});
        if (den > 0) worst = std::max(worst, double(std::abs(a[i] - b[i]) / den));
    }
    return worst;
}

/// ‖a − b‖ / ‖b‖: how far a whole gradient is from the reference b.
double norm_relative_difference(const T* a, const std::vector<T>& b) {
    double diff = 0, ref = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff += double(a[i] - b[i]) * double(a[i] - b[i]);
        ref += double(b[i]) * double(b[i]);
    }
    return std::sqrt(diff / ref);
}

}  // namespace

int main(int argc, char** argv) try {
    const options opt = parse(argc, argv);
    std::mt19937_64 gen(opt.seed);
    std::normal_distribution<T> randn(0, 1);
    auto x = std::make_unique<ctgrad::tensor<T, N, D>>();
    auto y = std::make_unique<ctgrad::tensor<T, N, O>>();
    for (auto& e : *x) e = randn(gen);
    for (auto& e : *y) e = randn(gen);
    nn::parameters_of<decltype(net)> params;  // W1, b1, W2, b2
    for (auto& e : params[fc1::W]) e = randn(gen);
    for (auto& e : params[fc2::W]) e = randn(gen);  // the biases start at zero

    ctgrad::program prog(loss, params.wrt());
    std::printf(
        "two-layer regression: N=%zu D=%zu H=%zu O=%zu, ReLU, sum of squared errors, "
        "SGD lr %g, %ld steps\n",
        N, D, H, O, opt.lr, opt.steps);

    // Step 0: ctgrad's gradient against the backprop equations by hand.
    const by_hand hand = backprop(params, *x, *y);
    {
        const auto g = prog.gradient(params, X = *x, Y = *y);
        const double r[] = {max_relative_difference(g[fc1::W].data(), hand.dW1),
                            max_relative_difference(g[fc1::b].data(), hand.db1),
                            max_relative_difference(g[fc2::W].data(), hand.dW2),
                            max_relative_difference(g[fc2::b].data(), hand.db2)};
        std::printf(
            "gradient check at step 0 (ctgrad vs the four equations by hand), largest "
            "relative difference:\n  dW1 %.2e  db1 %.2e  dW2 %.2e  db2 %.2e\n",
            r[0], r[1], r[2], r[3]);
        std::printf(
            "  (the listing's dh_relu = db2.dot(W2.T) would give a dW1 with ‖error‖ / ‖dW1‖ "
            "= %.2f)\n",
            norm_relative_difference(hand.broken_dW1.data(), hand.dW1));
        if (*std::max_element(std::begin(r), std::end(r)) > 1e-4) {
            std::printf("gradient check FAILED\n");
            return 1;
        }
    }

    double first = 0, last = 0;
    const long every = std::max(1L, opt.steps / 10);
    for (long t = 0; t < opt.steps; ++t) {
        const auto g = prog.gradient(params, X = *x, Y = *y);
        if (t == 0) first = g.value;
        last = g.value;
        if (t % every == 0 || t + 1 == opt.steps) std::printf("step %4ld  loss %.6g\n", t, g.value);
        nn::sgd_step(params, g, opt.lr);
    }
    const bool fell = std::isfinite(last) && last * 100 <= first;
    std::printf("loss %.6g -> %.6g (%s)\n", first, last,
                fell ? "fell by 100x or more" : "did NOT fall by 100x");
    return fell ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "04_regression: %s\n", e.what());
    return 2;
}
