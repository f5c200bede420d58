// The `libtorch` impls of one CNN epoch on Fashion-MNIST (fashion_cnn_epoch.hpp), written as a
// LibTorch user writes the loop: each batch wrapped by torch::from_blob (no copy), the network
// with torch::nn::functional conv2d / max_pool2d / linear and autograd, F::cross_entropy on the
// int64 labels, loss.backward(), then p -= lr·p.grad() under NoGradGuard and the gradients
// released (optimizer.zero_grad()'s set_to_none). One intra-op thread.
// `fashion_cnn_epoch/libtorch`: as installed (oneDNN convolutions where ATen picks them);
// `fashion_cnn_epoch/libtorch_no_onednn`: at::globalContext().setUserEnabledMkldnn(false).
// Compiled only with CTGRAD_HAVE_LIBTORCH (Debian: libtorch-dev).
#ifdef CTGRAD_HAVE_LIBTORCH

#include <benchmark/benchmark.h>

#include <vector>

#include <torch/torch.h>

#include "fashion_cnn_epoch.hpp"
#include "mlp_libtorch.hpp"  // mlp_libtorch::use_one_thread

namespace {

using namespace fashion_cnn_epoch;
namespace F = torch::nn::functional;

torch::Tensor leaf(const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32)
        .clone()
        .requires_grad_(true);
}

struct torch_epoch {
    std::vector<torch::Tensor> p;

    explicit torch_epoch(const params& q) {
        // dense weights as torch's [Out, In] (F::linear computes x·Wᵀ + b)
        p = {leaf(q.c1w, {6, 1, 5, 5}),
             leaf(q.c1b, {6}),
             leaf(q.c2w, {16, 6, 5, 5}),
             leaf(q.c2b, {16}),
             leaf(q.f1w, {400, 120}).detach().t().contiguous().requires_grad_(true),
             leaf(q.f1b, {120}),
             leaf(q.f2w, {120, 84}).detach().t().contiguous().requires_grad_(true),
             leaf(q.f2b, {84}),
             leaf(q.f3w, {84, 10}).detach().t().contiguous().requires_grad_(true),
             leaf(q.f3b, {10})};
    }

    float step(int64_t n, const float* xs, const std::int64_t* labels) {
        const torch::Tensor x =
            torch::from_blob(const_cast<float*>(xs), {n, 1, 28, 28}, torch::kFloat32);
        const torch::Tensor target =
            torch::from_blob(const_cast<std::int64_t*>(labels), {n}, torch::kInt64);
        auto a = F::max_pool2d(
            torch::relu(F::conv2d(x, p[0], F::Conv2dFuncOptions().bias(p[1]).padding(2))),
            F::MaxPool2dFuncOptions(2));
        a = F::max_pool2d(torch::relu(F::conv2d(a, p[2], F::Conv2dFuncOptions().bias(p[3]))),
                          F::MaxPool2dFuncOptions(2));
        a = a.flatten(1);
        a = torch::relu(F::linear(a, p[4], p[5]));
        a = torch::relu(F::linear(a, p[6], p[7]));
        torch::Tensor loss = F::cross_entropy(F::linear(a, p[8], p[9]), target);
        loss.backward();
        {
            torch::NoGradGuard no_grad;
            for (torch::Tensor& t : p) {
                t.sub_(t.grad(), lr);
                t.mutable_grad().reset();
            }
        }
        return loss.item<float>();
    }
    float step_full(const float* x, const float*, const std::int64_t* labels) {
        return step(int64_t(batch), x, labels);
    }
    float step_rest(const float* x, const float*, const std::int64_t* labels) {
        return step(int64_t(rest), x, labels);
    }
};

template <bool OneDnn>
void fashion_cnn_epoch_libtorch(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    at::globalContext().setUserEnabledMkldnn(OneDnn);
    run_benchmark<torch_epoch>(state, true);
    at::globalContext().setUserEnabledMkldnn(true);
}
BENCHMARK(fashion_cnn_epoch_libtorch<true>)
    ->Name("fashion_cnn_epoch/libtorch")
    ->Unit(benchmark::kSecond);
BENCHMARK(fashion_cnn_epoch_libtorch<false>)
    ->Name("fashion_cnn_epoch/libtorch_no_onednn")
    ->Unit(benchmark::kSecond);

}  // namespace

#endif  // CTGRAD_HAVE_LIBTORCH
