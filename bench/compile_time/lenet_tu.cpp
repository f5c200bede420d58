// The LeNet-style TU of issue 14's compile-time target: the network as a type, a compiled
// gradient program and its SGD step, and inference, instantiated for batch 64 (float).
// Measured with `/usr/bin/time -v g++ -std=c++20 -O2 -Iinclude -c bench/compile_time/lenet_tu.cpp`
// (and clang++): see bench/README.md, "LeNet-style convolutional network (issue 14)".
#include <cstddef>
#include <functional>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;

using c1 = nn::conv2d<"c1", 1, 6, 5, 1, 2>;
using c2 = nn::conv2d<"c2", 6, 16, 5>;
using fc1 = nn::dense<"fc1", 400, 120>;
using fc2 = nn::dense<"fc2", 120, 84>;
using fc3 = nn::dense<"fc3", 84, 10>;
constexpr auto net =
    nn::sequential(c1{}, nn::relu, nn::max_pool2d<2>{}, c2{}, nn::relu, nn::max_pool2d<2>{},
                   nn::flatten, fc1{}, nn::relu, fc2{}, nn::relu, fc3{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 64, 1, 28, 28>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 64, 10>>;
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
using pack = nn::parameters_of<decltype(net)>;

float train_step(pack& p, const ctgrad::tensor<float, 64, 1, 28, 28>& x,
                 const ctgrad::tensor<float, 64, 10>& y, float lr) {
    static ctgrad::program prog(loss, p.wrt());
    const auto g = prog.gradient(p, X = x, Y = y);
    nn::sgd_step(p, g, lr);
    return g.value;
}

float train_step_fused(pack& p, const ctgrad::tensor<float, 64, 1, 28, 28>& x,
                       const ctgrad::tensor<float, 64, 10>& y, float lr) {
    static ctgrad::program<decltype(loss), typename pack::wrt_type> prog(loss);
    return prog.sgd_step(lr, X = x, Y = y, c1::W = std::ref(p[c1::W]), c1::b = std::ref(p[c1::b]),
                         c2::W = std::ref(p[c2::W]), c2::b = std::ref(p[c2::b]),
                         fc1::W = std::ref(p[fc1::W]), fc1::b = std::ref(p[fc1::b]),
                         fc2::W = std::ref(p[fc2::W]), fc2::b = std::ref(p[fc2::b]),
                         fc3::W = std::ref(p[fc3::W]), fc3::b = std::ref(p[fc3::b]));
}
