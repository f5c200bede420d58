// The LeNet step of issue 14 (bench/tensor/lenet_cases.hpp) with ctgrad and with the tensor
// runtime graph (bench/baseline/tensor_graph.hpp + tensor_graph_conv.hpp, the same kernels);
// one-sample inference; and the convolution kernels alone, in GFLOP/s
// (`conv<1|2>_<forward|grad_kernel|grad_image>_64/ctgrad`, counter `GFLOPS`). LibTorch and dlib
// are in lenet_libtorch.cpp and lenet_dlib.cpp (their own TUs), linked into the same binary.
#include <benchmark/benchmark.h>

#include <cstring>
#include <functional>
#include <memory>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "../baseline/tensor_graph.hpp"
#include "../baseline/tensor_graph_conv.hpp"
#include "../tools/bench_main.hpp"
#include "lenet_cases.hpp"
#include "lenet_net.hpp"

namespace {

using namespace lenet_cases;
using namespace lenet_net;
namespace nn = ctgrad::nn;
using ctgrad::tensor;

// --- ctgrad ---

template <size_t B>
constexpr auto X = ctgrad::var<"X", tensor<float, B, 1, side, side>>;
constexpr auto Y = ctgrad::var<"Y", tensor<float, batch, classes>>;

struct ctgrad_lenet {
    nn::parameters_of<decltype(net)> p;
    std::unique_ptr<tensor<float, batch, 1, side, side>> x =
        std::make_unique<tensor<float, batch, 1, side, side>>();
    std::unique_ptr<tensor<float, batch, classes>> y =
        std::make_unique<tensor<float, batch, classes>>();
    ctgrad::program<decltype(ctgrad::softmax_cross_entropy(net(X<batch>), Y)),
                    typename nn::parameters_of<decltype(net)>::wrt_type>
        prog{ctgrad::softmax_cross_entropy(net(X<batch>), Y)};

    ctgrad_lenet(const params& q, const data& d) {
        load(q, p);
        copy(d.x, *x), copy(d.y, *y);
    }

    /// One SGD step through program::sgd_step (the parameters bound writable: dW added in
    /// place where the engine can), returning the loss before it.
    float step() {
        return prog.sgd_step(lr, X<batch> = *x, Y = *y, c1::W = std::ref(p[c1::W]),
                             c1::b = std::ref(p[c1::b]), c2::W = std::ref(p[c2::W]),
                             c2::b = std::ref(p[c2::b]), fc1::W = std::ref(p[fc1::W]),
                             fc1::b = std::ref(p[fc1::b]), fc2::W = std::ref(p[fc2::W]),
                             fc2::b = std::ref(p[fc2::b]), fc3::W = std::ref(p[fc3::W]),
                             fc3::b = std::ref(p[fc3::b]));
    }
};

void lenet_step_ctgrad(benchmark::State& state) {
    const params q = make_params();
    const data d = make_data();
    auto t = std::make_unique<ctgrad_lenet>(q, d);
    float loss = 0;
    for (auto _ : state) {
        loss = t->step();
        benchmark::DoNotOptimize(loss);
    }
    state.counters["loss"] = loss;
    state.counters["GFLOPS"] =
        benchmark::Counter(step_flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(lenet_step_ctgrad)->Name("lenet_step_64/ctgrad")->Unit(benchmark::kMillisecond);

void lenet_infer_ctgrad(benchmark::State& state) {
    const params q = make_params();
    const data d = make_data();
    auto t = std::make_unique<ctgrad_lenet>(q, d);
    static ctgrad::program infer(net(X<1>));
    const auto x1 = ctgrad::view<1, 1, side, side>(d.x.data());
    for (auto _ : state) {
        const auto z = infer.value(t->p, X<1> = x1);
        benchmark::DoNotOptimize(z.data());
    }
}
BENCHMARK(lenet_infer_ctgrad)->Name("lenet_infer_1/ctgrad")->Unit(benchmark::kMicrosecond);

// --- the convolution kernels alone ---

/// Fused: the op relu(conv2d) + 2 × 2 max pooling builds (bias, relu, pooling in the store loop;
/// its vjps unpool first); the FLOPs counted are the convolution's alone.
template <size_t C, size_t H, size_t O, size_t P, int Which, bool Fused = false>
void conv_kernel(benchmark::State& state) {
    constexpr size_t K = 5, OH = H + 2 * P - K + 1, YH = Fused ? OH / 2 : OH;
    using op = ctgrad::ops::conv2d_op<1, P, Fused, Fused ? 2 : 0>;
    using XS = ctgrad::shape<batch, C, H, H>;
    using KS = ctgrad::shape<O, C, K, K>;
    using BS = ctgrad::shape<O>;
    using YS = ctgrad::shape<batch, O, YH, YH>;
    std::vector<float> x(XS::count, 0.5f), k(KS::count, 0.1f), b(O, 0.0f),
        y(YS::count + op::template saved<XS, KS, BS>, 0.0f), dy(YS::count, 0.01f), dx(XS::count),
        dk(KS::count);
    for (size_t e = 0; e < x.size(); ++e) x[e] = float(e % 7) * 0.25f - 0.7f;  // mixed signs
    op::template forward_saving<YS, XS, KS, BS>(y.data(), x.data(), k.data(), b.data());
    for (auto _ : state) {
        if constexpr (Which == 0) {
            op::template forward_saving<YS, XS, KS, BS>(y.data(), x.data(), k.data(), b.data());
        } else if constexpr (Which == 1) {
            op::template vjp<1, ctgrad::kernels::mode::assign, YS, XS, KS, BS>(
                dk.data(), dy.data(), y.data(), x.data(), k.data(), b.data());
        } else if constexpr (Which == 2) {
            op::template vjp<0, ctgrad::kernels::mode::assign, YS, XS, KS, BS>(
                dx.data(), dy.data(), y.data(), x.data(), k.data(), b.data());
        } else {  // ∂X and ∂K in one call, as a training step runs them (vjp_pair)
            op::template vjp_pair<ctgrad::kernels::mode::assign, ctgrad::kernels::mode::assign, YS,
                                  XS, KS, BS>(dx.data(), dk.data(), dy.data(), y.data(), x.data(),
                                              k.data(), b.data());
        }
        benchmark::ClobberMemory();
    }
    state.counters["GFLOPS"] = benchmark::Counter(2.0 * batch * O * C * K * K * OH * OH,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(conv_kernel<1, 28, 6, 2, 0>)->Name("conv1_forward_64/ctgrad");
BENCHMARK(conv_kernel<1, 28, 6, 2, 1>)->Name("conv1_grad_kernel_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 0>)->Name("conv2_forward_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 1>)->Name("conv2_grad_kernel_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 2>)->Name("conv2_grad_image_64/ctgrad");
BENCHMARK(conv_kernel<1, 28, 6, 2, 0, true>)->Name("conv1_relu_pool_forward_64/ctgrad");
BENCHMARK(conv_kernel<1, 28, 6, 2, 1, true>)->Name("conv1_relu_pool_grad_kernel_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 0, true>)->Name("conv2_relu_pool_forward_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 1, true>)->Name("conv2_relu_pool_grad_kernel_64/ctgrad");
BENCHMARK(conv_kernel<6, 14, 16, 0, 2, true>)->Name("conv2_relu_pool_grad_image_64/ctgrad");
// (FLOPs of one convolution counted: ∂X and ∂K together are twice the GFLOPS shown)
BENCHMARK(conv_kernel<6, 14, 16, 0, 3, true>)->Name("conv2_relu_pool_grad_pair_64/ctgrad");

// --- runtime graph ---

namespace tg = ctgrad_baseline::tg;

struct graph_lenet {
    std::vector<tg::tensor<float>> p;
    tg::tensor<float> x, y;
    tg::conv_geometry g1{batch, 1, 28, 28, 6, 5, 1, 2}, g2{batch, 6, 14, 14, 16, 5, 1, 0};
    tg::pool_geometry p1{batch, 6, 28, 28, 2}, p2{batch, 16, 10, 10, 2};

    graph_lenet(const params& q, const data& d) {
        tg::register_conv2d<float, batch, 1, 28, 28, 6, 5, 1, 2>();
        tg::register_conv2d<float, batch, 6, 14, 14, 16, 5, 1, 0>();
        tg::register_max_pool2d<float, batch, 6, 28, 28, 2>();
        tg::register_max_pool2d<float, batch, 16, 10, 10, 2>();
        tg::register_matmul<float, batch, 400, 120>();
        tg::register_matmul<float, batch, 120, 84>();
        tg::register_matmul<float, batch, 84, 10>();
        p = {tg::leaf(q.c1w, 6, 25),   tg::vector_leaf(q.c1b),    tg::leaf(q.c2w, 16, 150),
             tg::vector_leaf(q.c2b),   tg::leaf(q.f1w, 400, 120), tg::vector_leaf(q.f1b),
             tg::leaf(q.f2w, 120, 84), tg::vector_leaf(q.f2b),    tg::leaf(q.f3w, 84, 10),
             tg::vector_leaf(q.f3b)};
        x = tg::leaf(d.x, batch, side * side, false);
        y = tg::leaf(d.y, batch, classes, false);
    }

    float step() {
        auto a = tg::max_pool2d(tg::relu(tg::conv2d(x, p[0], p[1], g1)), p1);
        a = tg::max_pool2d(tg::relu(tg::conv2d(a, p[2], p[3], g2)), p2);
        a = tg::relu(tg::add(tg::matmul(a, p[4]), p[5]));
        a = tg::relu(tg::add(tg::matmul(a, p[6]), p[7]));
        const auto z = tg::add(tg::matmul(a, p[8]), p[9]);
        const auto loss = tg::softmax_cross_entropy(z, y);
        tg::backward(loss);
        tg::sgd_step(p, lr);
        return loss.item();
    }
};

void lenet_step_runtime_graph(benchmark::State& state) {
    const params q = make_params();
    const data d = make_data();
    graph_lenet t(q, d);
    float loss = 0;
    for (auto _ : state) {
        loss = t.step();
        benchmark::DoNotOptimize(loss);
    }
    state.counters["loss"] = loss;
    if (tg::fallback_matmuls() != 0) state.SkipWithError("a matmul ran the fallback loop");
}
BENCHMARK(lenet_step_runtime_graph)
    ->Name("lenet_step_64/runtime_graph")
    ->Unit(benchmark::kMillisecond);

}  // namespace

CTGRAD_BENCHMARK_MAIN();
