// An outside reviewer's optimizer check against PyTorch (torch.optim 1.13, float64;
// test/io/data/make_pytorch_optim.py), through the public API only (README.md "Optimizers",
// nn/optim.hpp's documented formulas): parameters of odd sizes (7×3×1×1, 7, 13×5, 5), six
// steps of fixed gradients, for SGD with weight decay (decoupled and coupled coincide without
// momentum), SGD with elementwise clipping (torch.nn.utils.clip_grad_value_), momentum,
// Nesterov momentum, Adam with a cosine schedule and AdamW (β, ε not the defaults) with a step
// decay schedule. The schedules' rates are checked against PyTorch's schedulers, and the
// parameters after six steps against PyTorch's to 1e-14 relative.
#define BOOST_TEST_MODULE nn_review_optim_pytorch
#include <algorithm>
#include <cmath>
#include <string>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/nn.hpp>

#include "io/weights_test_support.hpp"

namespace io = ctgrad::io;
namespace nn = ctgrad::nn;
using weights_test::data_dir;

namespace {

constexpr std::size_t steps = 6;
constexpr auto net = nn::sequential(nn::conv2d<"c", 3, 7, 1, 1, 0, double>{}, nn::flatten,
                                    nn::dense<"fc", 13, 5, double>{});
using pack = nn::parameters_of<decltype(net)>;

pack initial() {
    pack p;
    io::load_npz(data_dir() / "optim_init.npz", p);
    return p;
}

/// The gradient of step t, read through a name map that prefixes "g<t>.".
pack gradient(std::size_t t) {
    pack g;
    const std::string prefix = "g" + std::to_string(t) + ".";
    io::load_npz(
        data_dir() / "optim_grads.npz", g,
        [&](std::string_view n, std::size_t) {
            return io::mapped_name{prefix + std::string(n), false};
        },
        io::unused_tensors::ignore);
    return g;
}

std::vector<double> rates(const char* file) {
    return io::read_npy(data_dir() / file).values;
}

/// Runs `steps` steps of opt from the initial parameters, setting the rate from lr(t) first
/// when given, and compares with PyTorch's parameters in `file`.
template <class Opt, class Lr>
void run_and_compare(const char* file, Opt& opt, Lr lr) {
    pack p = initial();
    const pack start = p;
    for (std::size_t t = 0; t < steps; ++t) {
        lr(opt, t);
        opt.step(p, gradient(t));
    }
    pack want;
    io::load_npz(data_dir() / file, want);
    std::size_t n = 0;
    double moved = 0;
    p.for_each([&](auto v, const auto& got) {
        const auto& w = want[v];
        double diff = 0, scale = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            diff = std::max(diff, std::abs(got.data()[i] - w.data()[i]));
            scale = std::max(scale, std::abs(w.data()[i]));
            moved = std::max(moved, std::abs(got.data()[i] - start[v].data()[i]));
        }
        BOOST_TEST(diff <= 1e-14 * scale, file << ": tensor " << n << " differs by " << diff
                                               << " (scale " << scale << ")");
        ++n;
    });
    BOOST_TEST(n == 4u);
    BOOST_TEST(moved > 1e-3);  // the steps did something
}

const auto keep = [](auto&, std::size_t) {};

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_with_weight_decay) {
    nn::sgd<pack> opt({.lr = 0.05, .weight_decay = 0.1});
    run_and_compare("optim_sgd_wd.npz", opt, keep);
}

BOOST_AUTO_TEST_CASE(sgd_with_elementwise_clipping) {
    nn::sgd<pack> opt({.lr = 0.05, .clip_value = 0.3});
    run_and_compare("optim_sgd_clip_value.npz", opt, keep);
}

BOOST_AUTO_TEST_CASE(momentum_and_nesterov) {
    nn::momentum<pack> heavy({.lr = 0.05, .mu = 0.9});
    run_and_compare("optim_momentum.npz", heavy, keep);
    nn::momentum<pack> nesterov({.lr = 0.05, .mu = 0.8, .nesterov = true});
    run_and_compare("optim_nesterov.npz", nesterov, keep);
}

BOOST_AUTO_TEST_CASE(adam_with_a_cosine_schedule) {
    const std::vector<double> torch_lr = rates("optim_adam_cosine_lr.npy");
    BOOST_TEST_REQUIRE(torch_lr.size() == steps);
    const nn::cosine sched{0.01, 0.001, 4};
    // the schedule is PyTorch's CosineAnnealingLR up to its period (T_max = 4) ...
    for (std::size_t t = 0; t <= 4; ++t) {
        BOOST_TEST(std::abs(sched(t) - torch_lr[t]) <= 1e-15, "t = " << t);
    }
    // ... and, as documented, stays at lr_min after it (PyTorch's rises again: 0.0023 at 5)
    BOOST_TEST(sched(5) == 0.001);
    BOOST_TEST(torch_lr[5] > 0.002);
    nn::adam<pack> opt({.lr = 0.01});
    run_and_compare("optim_adam_cosine.npz", opt,
                    [&](auto& o, std::size_t t) { o.lr = torch_lr[t]; });
}

BOOST_AUTO_TEST_CASE(adamw_with_a_step_decay_schedule) {
    const std::vector<double> torch_lr = rates("optim_adamw_step_lr.npy");
    BOOST_TEST_REQUIRE(torch_lr.size() == steps);
    const nn::step_decay sched{0.02, 0.5, 2};
    for (std::size_t t = 0; t < steps; ++t) {
        BOOST_TEST(sched(t) == torch_lr[t], "t = " << t);
    }
    nn::adamw<pack> opt({{.lr = 0.02, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6}, 0.05});
    run_and_compare("optim_adamw_step.npz", opt, [&](auto& o, std::size_t t) { o.lr = sched(t); });
}
