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
#include "lenet_libtorch_model.hpp"
#include "mlp_libtorch.hpp"  // mlp_libtorch::use_one_thread

namespace {

using namespace fashion_cnn_epoch;
namespace F = torch::nn::functional;

struct torch_epoch {
    std::vector<torch::Tensor> p;

    explicit torch_epoch(const params& q) : p(lenet_libtorch::parameters(q)) {}

    float step(int64_t n, const float* xs, const std::int64_t* labels) {
        const torch::Tensor x =
            torch::from_blob(const_cast<float*>(xs), {n, 1, 28, 28}, torch::kFloat32);
        const torch::Tensor target =
            torch::from_blob(const_cast<std::int64_t*>(labels), {n}, torch::kInt64);
        torch::Tensor loss = F::cross_entropy(lenet_libtorch::logits(p, x), target);
        loss.backward();
        lenet_libtorch::sgd_step(p, lr);
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
