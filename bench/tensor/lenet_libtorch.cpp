// The `libtorch` impl of the LeNet step (bench/tensor/lenet_cases.hpp), written as a LibTorch
// user writes it: torch::nn::functional conv2d / max_pool2d / linear with autograd, the fused
// cross_entropy, loss.backward(), then p -= lr·p.grad() under NoGradGuard and the gradients
// released (optimizer.zero_grad()'s set_to_none). One intra-op thread. Two settings:
// `lenet_step_64/libtorch` (as installed: oneDNN (MKLDNN) convolutions where ATen picks them) and
// `lenet_step_64/libtorch_no_onednn` (at::globalContext().setUserEnabledMkldnn(false): ATen's own
// im2col + BLAS convolutions). And one-sample inference under NoGradGuard,
// `lenet_infer_1/libtorch`. Compiled only with CTGRAD_HAVE_LIBTORCH (Debian: libtorch-dev).
#ifdef CTGRAD_HAVE_LIBTORCH

#include <benchmark/benchmark.h>

#include <vector>

#include <torch/torch.h>

#include "lenet_cases.hpp"
#include "lenet_libtorch_model.hpp"
#include "mlp_libtorch.hpp"  // mlp_libtorch::use_one_thread

namespace {

using namespace lenet_cases;
namespace F = torch::nn::functional;

struct torch_lenet {
    std::vector<torch::Tensor> p;
    torch::Tensor x, target;

    torch_lenet(const params& q, const data& d) : p(lenet_libtorch::parameters(q)) {
        x = torch::from_blob(const_cast<float*>(d.x.data()), {int64_t(batch), 1, 28, 28},
                             torch::kFloat32)
                .clone();
        std::vector<int64_t> l(d.labels.begin(), d.labels.end());
        target = torch::tensor(l, torch::kInt64);
    }

    torch::Tensor logits(const torch::Tensor& in) const { return lenet_libtorch::logits(p, in); }

    float step() {
        torch::Tensor loss = F::cross_entropy(logits(x), target);
        loss.backward();
        lenet_libtorch::sgd_step(p, lr);
        return loss.item<float>();
    }
};

template <bool OneDnn>
void lenet_step_libtorch(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    at::globalContext().setUserEnabledMkldnn(OneDnn);
    const params q = make_params();
    const data d = make_data();
    torch_lenet t(q, d);
    float loss = 0;
    for (auto _ : state) {
        loss = t.step();
        benchmark::DoNotOptimize(loss);
    }
    at::globalContext().setUserEnabledMkldnn(true);
    state.counters["loss"] = loss;
    state.counters["GFLOPS"] =
        benchmark::Counter(step_flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(lenet_step_libtorch<true>)->Name("lenet_step_64/libtorch")->Unit(benchmark::kMillisecond);
BENCHMARK(lenet_step_libtorch<false>)
    ->Name("lenet_step_64/libtorch_no_onednn")
    ->Unit(benchmark::kMillisecond);

void lenet_infer_libtorch(benchmark::State& state) {
    mlp_libtorch::use_one_thread();
    const params q = make_params();
    const data d = make_data();
    torch_lenet t(q, d);
    torch::NoGradGuard no_grad;
    const torch::Tensor x1 = t.x.slice(0, 0, 1).contiguous();
    for (auto _ : state) {
        torch::Tensor z = t.logits(x1);
        benchmark::DoNotOptimize(z.data_ptr<float>());
    }
}
BENCHMARK(lenet_infer_libtorch)->Name("lenet_infer_1/libtorch")->Unit(benchmark::kMicrosecond);

}  // namespace

#endif  // CTGRAD_HAVE_LIBTORCH
