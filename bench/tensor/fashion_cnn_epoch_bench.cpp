// One training epoch of the LeNet-style CNN on Fashion-MNIST (fashion_cnn_epoch.hpp):
// `fashion_cnn_epoch/<impl>` for impl ctgrad (program::sgd_step, parameters bound writable, as
// lenet_step_64/ctgrad), runtime_graph (the tensor graph of bench/baseline with its conv and
// pooling nodes on ctgrad's kernels, as lenet_step_64/runtime_graph) and, in
// fashion_cnn_epoch_libtorch.cpp when built with LibTorch, libtorch and libtorch_no_onednn.
// One iteration = one epoch from the same initial parameters (each impl is constructed from
// them before every iteration, outside the timing).
//
//   OPENBLAS_NUM_THREADS=1 fashion_cnn_epoch_bench --benchmark_min_time=0.01
//       --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
//
// (a min_time below one epoch's time makes every repetition one epoch). items_per_second is
// samples per second (60000 per epoch), GFLOPS the epoch's convolution and dense FLOPs per
// second, epoch_loss the epoch's training loss. Check: every impl's epoch loss against
// ctgrad's (one untimed epoch per process) within 1e-3 relative (the same maths in float; they
// differ by the order of the sums only: measured below 1e-5), and the first step's loss
// against ctgrad's within 1e-5; a mismatch, or a runtime-graph product that missed ctgrad's
// kernels, reports an error instead of a time. Without the data set every benchmark reports
// "dataset-fashion-mnist not installed".
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "../baseline/tensor_graph.hpp"
#include "../baseline/tensor_graph_conv.hpp"
#include "../tools/bench_main.hpp"
#include "fashion_cnn_epoch.hpp"
#include "lenet_net.hpp"

namespace {

using namespace fashion_cnn_epoch;
using namespace lenet_net;
namespace nn = ctgrad::nn;
using ctgrad::tensor;

// --- ctgrad ---

template <size_t B>
constexpr auto X = ctgrad::var<"X", tensor<float, B, 1, side, side>>;
template <size_t B>
constexpr auto Y = ctgrad::var<"Y", tensor<float, B, classes>>;
template <size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);
template <size_t B>
using program_t = ctgrad::program<std::remove_cvref_t<decltype(loss<B>)>, pack::wrt_type>;

struct ctgrad_epoch {
    pack p;
    program_t<batch> full{loss<batch>};
    program_t<rest> last{loss<rest>};

    explicit ctgrad_epoch(const params& q) { load(q, p); }

    /// One SGD step of B rows through program::sgd_step (the parameters bound writable).
    template <size_t B, class Prog>
    float step(Prog& prog, const float* x, const float* y) {
        return prog.sgd_step(
            lr, X<B> = ctgrad::view<B, 1, side, side>(x), Y<B> = ctgrad::view<B, classes>(y),
            c1::W = std::ref(p[c1::W]), c1::b = std::ref(p[c1::b]), c2::W = std::ref(p[c2::W]),
            c2::b = std::ref(p[c2::b]), fc1::W = std::ref(p[fc1::W]), fc1::b = std::ref(p[fc1::b]),
            fc2::W = std::ref(p[fc2::W]), fc2::b = std::ref(p[fc2::b]),
            fc3::W = std::ref(p[fc3::W]), fc3::b = std::ref(p[fc3::b]));
    }
    float step_full(const float* x, const float* y, const std::int64_t*) {
        return step<batch>(full, x, y);
    }
    float step_rest(const float* x, const float* y, const std::int64_t*) {
        return step<rest>(last, x, y);
    }
};

// --- runtime graph ---

namespace tg = ctgrad_baseline::tg;

struct graph_epoch {
    std::vector<tg::tensor<float>> p;
    tg::tensor<float> x, y, xr, yr;

    explicit graph_epoch(const params& q) {
        register_geometry<batch>();
        register_geometry<rest>();
        p = {tg::leaf(q.c1w, 6, 25),   tg::vector_leaf(q.c1b),    tg::leaf(q.c2w, 16, 150),
             tg::vector_leaf(q.c2b),   tg::leaf(q.f1w, 400, 120), tg::vector_leaf(q.f1b),
             tg::leaf(q.f2w, 120, 84), tg::vector_leaf(q.f2b),    tg::leaf(q.f3w, 84, 10),
             tg::vector_leaf(q.f3b)};
        x = tg::leaf(std::vector<float>(batch * pixels), batch, pixels, false);
        y = tg::leaf(std::vector<float>(batch * classes), batch, classes, false);
        xr = tg::leaf(std::vector<float>(rest * pixels), rest, pixels, false);
        yr = tg::leaf(std::vector<float>(rest * classes), rest, classes, false);
    }

    template <size_t B>
    static void register_geometry() {
        tg::register_conv2d<float, B, 1, 28, 28, 6, 5, 1, 2>();
        tg::register_conv2d<float, B, 6, 14, 14, 16, 5, 1, 0>();
        tg::register_max_pool2d<float, B, 6, 28, 28, 2>();
        tg::register_max_pool2d<float, B, 16, 10, 10, 2>();
        tg::register_matmul<float, B, 400, 120>();
        tg::register_matmul<float, B, 120, 84>();
        tg::register_matmul<float, B, 84, 10>();
    }

    float step(size_t n, const tg::tensor<float>& in, const tg::tensor<float>& target) {
        const tg::conv_geometry g1{n, 1, 28, 28, 6, 5, 1, 2}, g2{n, 6, 14, 14, 16, 5, 1, 0};
        const tg::pool_geometry p1{n, 6, 28, 28, 2}, p2{n, 16, 10, 10, 2};
        auto a = tg::max_pool2d(tg::relu(tg::conv2d(in, p[0], p[1], g1)), p1);
        a = tg::max_pool2d(tg::relu(tg::conv2d(a, p[2], p[3], g2)), p2);
        a = tg::relu(tg::add(tg::matmul(a, p[4]), p[5]));
        a = tg::relu(tg::add(tg::matmul(a, p[6]), p[7]));
        const auto z = tg::add(tg::matmul(a, p[8]), p[9]);
        const auto l = tg::softmax_cross_entropy(z, target);
        tg::backward(l);
        tg::sgd_step(p, lr);
        return l.item();
    }
    float step_full(const float* xs, const float* ys, const std::int64_t*) {
        x.set_values(std::span<const float>(xs, batch * pixels));
        y.set_values(std::span<const float>(ys, batch * classes));
        return step(batch, x, y);
    }
    float step_rest(const float* xs, const float* ys, const std::int64_t*) {
        xr.set_values(std::span<const float>(xs, rest * pixels));
        yr.set_values(std::span<const float>(ys, rest * classes));
        return step(rest, xr, yr);
    }
};

void fashion_cnn_epoch_ctgrad(benchmark::State& state) {
    run_benchmark<ctgrad_epoch>(state);
}
BENCHMARK(fashion_cnn_epoch_ctgrad)->Name("fashion_cnn_epoch/ctgrad")->Unit(benchmark::kSecond);

void fashion_cnn_epoch_runtime_graph(benchmark::State& state) {
    tg::reset_fallback_matmuls();
    run_benchmark<graph_epoch>(state);
    if (tg::fallback_matmuls() != 0) state.SkipWithError("a matmul ran the fallback loop");
}
BENCHMARK(fashion_cnn_epoch_runtime_graph)
    ->Name("fashion_cnn_epoch/runtime_graph")
    ->Unit(benchmark::kSecond);

}  // namespace

namespace fashion_cnn_epoch {

/// ctgrad's epoch from the initial parameters, once per process (untimed): what the other
/// impls are checked against.
const epoch_result& ctgrad_reference(const dataset& data) {
    static const epoch_result ref = [&] {
        auto impl = std::make_unique<ctgrad_epoch>(make_params());
        staging s;
        return run_epoch(*impl, data, s);
    }();
    return ref;
}

}  // namespace fashion_cnn_epoch

CTGRAD_BENCHMARK_MAIN();
