/// @file The LeNet-style network of lenet_cases.hpp in LibTorch, shared by the `libtorch` impls
/// of `lenet_step_64` (lenet_libtorch.cpp) and `fashion_cnn_epoch`
/// (fashion_cnn_epoch_libtorch.cpp): the parameters as leaf tensors, the logits with
/// torch::nn::functional conv2d / max_pool2d / linear, and the plain SGD update
/// p -= lr·p.grad() under NoGradGuard with the gradients released (optimizer.zero_grad()'s
/// set_to_none). Include only where CTGRAD_HAVE_LIBTORCH is defined.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lenet_cases.hpp"

namespace lenet_libtorch {

namespace F = torch::nn::functional;

inline torch::Tensor leaf(const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32)
        .clone()
        .requires_grad_(true);
}

/// The parameters `q` as leaves requiring gradients, dense weights as torch's [Out, In]
/// (F::linear computes x·Wᵀ + b).
inline std::vector<torch::Tensor> parameters(const lenet_cases::params& q) {
    return {leaf(q.c1w, {6, 1, 5, 5}),
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

/// The network's logits for images `in` [N, 1, 28, 28].
inline torch::Tensor logits(const std::vector<torch::Tensor>& p, const torch::Tensor& in) {
    auto a = F::max_pool2d(
        torch::relu(F::conv2d(in, p[0], F::Conv2dFuncOptions().bias(p[1]).padding(2))),
        F::MaxPool2dFuncOptions(2));
    a = F::max_pool2d(torch::relu(F::conv2d(a, p[2], F::Conv2dFuncOptions().bias(p[3]))),
                      F::MaxPool2dFuncOptions(2));
    a = a.flatten(1);
    a = torch::relu(F::linear(a, p[4], p[5]));
    a = torch::relu(F::linear(a, p[6], p[7]));
    return F::linear(a, p[8], p[9]);
}

/// p -= lr·p.grad() under NoGradGuard, the gradients released.
inline void sgd_step(std::vector<torch::Tensor>& p, float lr) {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& t : p) {
        t.sub_(t.grad(), lr);
        t.mutable_grad().reset();
    }
}

}  // namespace lenet_libtorch
