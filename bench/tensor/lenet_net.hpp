/// @file The LeNet-style network of lenet_cases.hpp as a ctgrad type, shared by the ctgrad impls
/// of `lenet_step_64` (lenet_bench.cpp) and `fashion_cnn_epoch` (fashion_cnn_epoch_bench.cpp):
/// the layers, the network, and the copy of lenet_cases::params (PyTorch's layouts) into its
/// parameter pack.
#pragma once

#include <cstring>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "lenet_cases.hpp"

namespace lenet_net {

namespace nn = ctgrad::nn;

using c1 = nn::conv2d<"c1", 1, 6, 5, 1, 2>;
using c2 = nn::conv2d<"c2", 6, 16, 5>;
using fc1 = nn::dense<"fc1", 400, 120>;
using fc2 = nn::dense<"fc2", 120, 84>;
using fc3 = nn::dense<"fc3", 84, 10>;
constexpr auto net =
    nn::sequential(c1{}, nn::relu, nn::max_pool2d<2>{}, c2{}, nn::relu, nn::max_pool2d<2>{},
                   nn::flatten, fc1{}, nn::relu, fc2{}, nn::relu, fc3{});
using pack = nn::parameters_of<decltype(net)>;

template <class T>
void copy(const std::vector<float>& v, T& t) {
    std::memcpy(t.data(), v.data(), t.size() * sizeof(float));
}

/// The parameters `q` copied into the pack `p`.
inline void load(const lenet_cases::params& q, pack& p) {
    copy(q.c1w, p[c1::W]), copy(q.c1b, p[c1::b]), copy(q.c2w, p[c2::W]), copy(q.c2b, p[c2::b]);
    copy(q.f1w, p[fc1::W]), copy(q.f1b, p[fc1::b]), copy(q.f2w, p[fc2::W]);
    copy(q.f2b, p[fc2::b]), copy(q.f3w, p[fc3::W]), copy(q.f3b, p[fc3::b]);
}

}  // namespace lenet_net
