/// @file One training epoch of the LeNet-style CNN on Fashion-MNIST, shared by the
/// `fashion_cnn_epoch/<impl>` benchmarks (fashion_cnn_epoch_bench.cpp: ctgrad and runtime_graph;
/// fashion_cnn_epoch_libtorch.cpp: libtorch with and without oneDNN).
///
/// The network of the LeNet step (lenet_step_64, issue 14): conv 1→6 5×5 padding 2, ReLU,
/// max-pool 2; conv 6→16 5×5, ReLU, max-pool 2; dense 400→120→84→10 with ReLU; softmax
/// cross-entropy (mean over the batch); plain SGD at a fixed learning rate 0.01; float, one
/// thread. The epoch: the 60000 training images in a seeded shuffled order (nn::batches, seed 1),
/// 937 batches of 64 and the last 32 samples as a batch of their own (938 steps), each batch
/// gathered from the data set into one staging buffer (images [B, 1, 28, 28] in [0, 1], one-hot
/// targets [B, 10] and int64 labels [B]) that every impl reads in its own way (ctgrad: views
/// bound to its program; the runtime graph: set_values of its data leaves; LibTorch:
/// torch::from_blob). The same He-initialised parameters (seed 1, PyTorch's layouts) at the
/// start of every epoch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <ctgrad/io/idx.hpp>
#include <ctgrad/nn/data.hpp>

#include "fashion_mnist_train.hpp"
#include "lenet_cases.hpp"

namespace fashion_cnn_epoch {

using std::size_t;
constexpr size_t train_n = 60000, pixels = 784, side = 28, classes = 10, batch = 64;
using order_t = ctgrad::nn::batches<batch, train_n>;
constexpr size_t rest = order_t::rest;
static_assert(order_t::full == 937 && rest == 32);
constexpr float lr = 0.01f;
constexpr std::uint64_t shuffle_seed = 1;

/// Multiply-adds ×2 of one epoch (as lenet_cases: the convolutions forward, their kernel
/// gradients and conv2's input gradient; the dense layers' three products each).
constexpr double epoch_flops =
    double(train_n) * (2 * (2.0 * 6 * 25 * 28 * 28) + 3 * (2.0 * 16 * 150 * 10 * 10) +
                       3 * (2.0 * (400 * 120 + 120 * 84 + 84 * 10)));

/// The parameters (PyTorch's layouts: conv kernels [O, C, K, K], dense weights [In, Out]) and
/// their He-normal initialisation (zero biases) of the LeNet step.
using lenet_cases::make_params;
using lenet_cases::params;

/// The training set in memory (fashion_mnist_train.hpp), read once per process.
using fashion_mnist_train::dataset;
using fashion_mnist_train::training_set;

/// One batch gathered: what every impl's step reads.
struct staging {
    std::vector<float> x = std::vector<float>(batch * pixels);
    std::vector<float> y = std::vector<float>(batch * classes);
    std::vector<std::int64_t> labels = std::vector<std::int64_t>(batch);
};

struct epoch_result {
    double mean_loss = 0;   ///< Σ over the 938 steps of rows · loss, / 60000
    double first_loss = 0;  ///< the first step's loss (the initial parameters)
};

/// One epoch of Impl: `impl.step_full(x, y, labels)` and `impl.step_rest(x, y, labels)` each take
/// one SGD step on the rows of the staging buffer (64, then the last 32) and return the loss
/// before it.
template <class Impl>
epoch_result run_epoch(Impl& impl, const dataset& data, staging& s) {
    order_t order(shuffle_seed);
    order.shuffle();
    const auto gather = [&](size_t first, size_t rows) {
        for (size_t r = 0; r < rows; ++r) {
            const size_t i = order[first + r];
            std::copy_n(data.images.data() + i * pixels, pixels, s.x.data() + r * pixels);
            std::copy_n(data.one_hot.data() + i * classes, classes, s.y.data() + r * classes);
            s.labels[r] = data.labels[i];
        }
    };
    epoch_result out;
    double total = 0;
    for (size_t k = 0; k < order_t::full; ++k) {
        gather(k * batch, batch);
        const double loss = impl.step_full(s.x.data(), s.y.data(), s.labels.data());
        if (k == 0) out.first_loss = loss;
        total += double(batch) * loss;
    }
    gather(order_t::full * batch, rest);
    total += double(rest) * impl.step_rest(s.x.data(), s.y.data(), s.labels.data());
    out.mean_loss = total / double(train_n);
    return out;
}

/// ctgrad's epoch from the initial parameters, once per process (fashion_cnn_epoch_bench.cpp).
const epoch_result& ctgrad_reference(const dataset& data);

/// Runs `Impl` for one epoch per iteration and checks it against ctgrad's reference epoch.
template <class Impl>
void run_benchmark(benchmark::State& state, bool check = true) {
    std::string error;
    const dataset* data = training_set(error);
    if (data == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const params p0 = make_params();
    staging s;
    epoch_result r;
    for (auto _ : state) {
        state.PauseTiming();
        auto impl = std::make_unique<Impl>(p0);
        state.ResumeTiming();
        r = run_epoch(*impl, *data, s);
        benchmark::DoNotOptimize(r.mean_loss);
        state.PauseTiming();
        impl.reset();
        state.ResumeTiming();
    }
    state.counters["epoch_loss"] = r.mean_loss;
    state.counters["GFLOPS"] =
        benchmark::Counter(epoch_flops, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(train_n));
    if (!std::isfinite(r.mean_loss)) {
        state.SkipWithError("the epoch's loss is not finite");
        return;
    }
    if (check) {
        const epoch_result& ref = ctgrad_reference(*data);
        const double d = std::abs(r.mean_loss - ref.mean_loss) / std::abs(ref.mean_loss);
        const double d0 = std::abs(r.first_loss - ref.first_loss) / std::abs(ref.first_loss);
        state.counters["loss_diff"] = d;
        if (d > 1e-3 || d0 > 1e-5) {
            state.SkipWithError(("epoch loss " + std::to_string(r.mean_loss) + " (first step " +
                                 std::to_string(r.first_loss) + ") against ctgrad's " +
                                 std::to_string(ref.mean_loss) + " (" +
                                 std::to_string(ref.first_loss) + ")")
                                    .c_str());
        }
    }
}

}  // namespace fashion_cnn_epoch
