// Image layers (nn/conv.hpp): conv2d, pooling, flatten, residual (identity and projection),
// batch_norm2d, dropout, the L1 penalty and He initialisation with the kernel's fan-in; a small
// conv net's gradient against central differences; a LeNet-style training step that does not
// allocate and that learns.
#define BOOST_TEST_MODULE nn_conv_layers
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <random>
#include <string_view>
#include <type_traits>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/conv.hpp"
#include "support/counting_new.hpp"
#include "support/tensor_fd.hpp"

namespace nn = ctgrad::nn;
namespace tt = boost::test_tools;
using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using ctgrad::test::fill_uniform;
using std::size_t;

namespace {

using c1 = nn::conv2d<"c1", 2, 3, 3, 1, 1, double>;
using c2 = nn::conv2d<"c2", 3, 4, 3, 2, 0, double>;
using fc = nn::dense<"fc", 4 * 2 * 2, 3, double>;
constexpr auto net =
    nn::sequential(c1{}, nn::tanh, nn::max_pool2d<2, 1>{}, c2{}, nn::relu, nn::flatten, fc{});
constexpr auto X = ctgrad::var<"X", tensor<double, 2, 2, 6, 6>>;
constexpr auto Y = ctgrad::var<"Y", tensor<double, 2, 3>>;

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_layer_names_shapes_and_parameters) {
    BOOST_TEST(decltype(c1::W)::name.view() == std::string_view("c1.W"));
    BOOST_TEST(decltype(c1::b)::name.view() == std::string_view("c1.b"));
    static_assert(std::is_same_v<typename decltype(c1::W)::kind, tensor<double, 3, 2, 3, 3>>);
    static_assert(std::is_same_v<typename decltype(c1::b)::kind, tensor<double, 3>>);
    using params = nn::parameters_t<decltype(net)>;
    static_assert(params::size == 6);
    static_assert(nn::parameters_of<decltype(net)>::count() ==
                  3 * 2 * 9 + 3 + 4 * 3 * 9 + 4 + 16 * 3 + 3);
    // the network's output shape: [2, 6, 6] -> c1 (pad 1) [3, 6, 6] -> pool 2/1 [3, 5, 5] ->
    // c2 (stride 2) [4, 2, 2] -> flatten [16] -> fc [3]
    using out = ctgrad::detail::shape_of_t<decltype(net(X))>;
    static_assert(std::is_same_v<out, ctgrad::shape<2, 3>>);
}

BOOST_AUTO_TEST_CASE(a_small_conv_net_against_central_differences) {
    nn::parameters_of<decltype(net)> p;
    nn::init::he(p, 3);
    std::mt19937 rng(4);
    tensor<double, 2, 2, 6, 6> x{};
    fill_uniform(x, rng, -1, 1);
    tensor<double, 2, 3> y{};
    y(0, 1) = 1, y(1, 2) = 1;
    // every parameter and the input
    p.bind([&](const auto&... b) {
        check_fd(ctgrad::softmax_cross_entropy(net(X), Y), b..., X = x, Y = y);
        return 0;
    });
}

BOOST_AUTO_TEST_CASE(he_initialisation_uses_the_kernel_fan_in) {
    static_assert(nn::init::fan_in<tensor<float, 16, 6, 5, 5>> == 150);
    static_assert(nn::init::fan_out<tensor<float, 16, 6, 5, 5>> == 400);
    static_assert(nn::init::fan_in<tensor<float, 400, 120>> == 400);
    using big = nn::conv2d<"big", 32, 64, 3>;
    nn::parameters_of<decltype(nn::sequential(big{}))> p;
    nn::init::he(p, 5);
    double s2 = 0;
    for (float w : p[big::W]) s2 += double(w) * double(w);
    const double var = s2 / double(p[big::W].size());
    BOOST_TEST(var == 2.0 / (32 * 9), tt::tolerance(0.05));  // N(0, 2/fan_in), 18432 samples
    for (float v : p[big::b]) BOOST_TEST(v == 0.0f);
}

// --- residual connections ---

namespace {
constexpr auto RX = ctgrad::var<"RX", tensor<double, 2, 3, 4, 4>>;
using r1 = nn::conv2d<"r1", 3, 3, 3, 1, 1, double>;
using r2 = nn::conv2d<"r2", 3, 3, 3, 1, 1, double>;
constexpr auto block = nn::sequential(r1{}, nn::relu, r2{});
constexpr auto res = nn::residual(block);
using down = nn::conv2d<"down", 3, 5, 3, 2, 1, double>;
using proj = nn::conv2d<"proj", 3, 5, 1, 2, 0, double>;
constexpr auto res_proj = nn::residual(nn::sequential(down{}, nn::tanh), proj{});
}  // namespace

BOOST_AUTO_TEST_CASE(residual_adds_the_input_to_the_block) {
    static_assert(nn::parameters_t<decltype(res)>::size == 4);
    static_assert(nn::parameters_t<decltype(res_proj)>::size == 4);
    nn::parameters_of<decltype(res)> p;
    nn::init::he(p, 8);
    std::mt19937 rng(9);
    tensor<double, 2, 3, 4, 4> x{};
    fill_uniform(x, rng, -1, 1);
    const auto y = p.bind([&](const auto&... b) { return ctgrad::value(res(RX), b..., RX = x); });
    const auto z = p.bind([&](const auto&... b) { return ctgrad::value(block(RX), b..., RX = x); });
    for (size_t e = 0; e < x.size(); ++e) {
        BOOST_TEST(y.data()[e] == x.data()[e] + z.data()[e], tt::tolerance(1e-14));
    }
    p.bind([&](const auto&... b) {
        check_fd(ctgrad::sum(ctgrad::square(res(RX))), b..., RX = x);
        return 0;
    });
    // the projection form: [2, 3, 4, 4] -> [2, 5, 2, 2]
    using out = ctgrad::detail::shape_of_t<decltype(res_proj(RX))>;
    static_assert(std::is_same_v<out, ctgrad::shape<2, 5, 2, 2>>);
    nn::parameters_of<decltype(res_proj)> q;
    nn::init::he(q, 10);
    q.bind([&](const auto&... b) {
        check_fd(ctgrad::sum(ctgrad::square(res_proj(RX))), b..., RX = x);
        return 0;
    });
}

// --- batch normalisation over channels ---

BOOST_AUTO_TEST_CASE(batch_norm2d_normalises_each_channel_over_batch_and_pixels) {
    using bn = nn::batch_norm2d<"bn", 3, double>;
    constexpr auto layer = nn::sequential(bn{});
    nn::parameters_of<decltype(layer)> p;
    p.reset();
    p[bn::gamma](1) = 2.0;
    p[bn::beta](2) = 0.5;
    nn::state_of<decltype(layer)> s;
    std::mt19937 rng(12);
    tensor<double, 2, 3, 4, 4> x{};
    fill_uniform(x, rng, -1, 3);
    const auto y = p.bind([&](const auto&... b) {
        return s.bind(
            [&](const auto&... st) { return ctgrad::value(layer(RX), b..., st..., RX = x); });
    });
    for (size_t c = 0; c < 3; ++c) {
        double mean = 0, var = 0;
        for (size_t n = 0; n < 2; ++n)
            for (size_t i = 0; i < 16; ++i) mean += x.data()[(n * 3 + c) * 16 + i];
        mean /= 32;
        for (size_t n = 0; n < 2; ++n)
            for (size_t i = 0; i < 16; ++i) {
                const double d = x.data()[(n * 3 + c) * 16 + i] - mean;
                var += d * d;
            }
        var /= 32;
        const double g = c == 1 ? 2.0 : 1.0, be = c == 2 ? 0.5 : 0.0;
        for (size_t n = 0; n < 2; ++n)
            for (size_t i = 0; i < 16; ++i) {
                const size_t e = (n * 3 + c) * 16 + i;
                BOOST_TEST(y.data()[e] == g * (x.data()[e] - mean) / std::sqrt(var + 1e-5) + be,
                           tt::tolerance(1e-12));
            }
        BOOST_TEST(s[bn::running_mean](c) == 0.1 * mean, tt::tolerance(1e-12));
    }
    constexpr auto R = ctgrad::var<"R", tensor<double, 2, 3, 4, 4>>;
    tensor<double, 2, 3, 4, 4> r{};
    fill_uniform(r, rng, -1, 1);
    p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            check_fd(ctgrad::sum(layer(RX) * R), wrt(bn::gamma, bn::beta, RX), b..., st..., RX = x,
                     R = r);
            return 0;
        });
    });
    // inference: the running estimates, an affine map per channel
    const auto yi = p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            return ctgrad::value(layer.inference(RX), b..., st..., RX = x);
        });
    });
    const double m0 = s[bn::running_mean](0), v0 = s[bn::running_var](0);
    BOOST_TEST(yi.data()[5] == (x.data()[5] - m0) / std::sqrt(v0 + 1e-5), tt::tolerance(1e-12));
}

// --- dropout ---

BOOST_AUTO_TEST_CASE(dropout_is_inverted_seeded_and_the_identity_at_inference) {
    using d1 = nn::dropout<"d1", 1, 4, double, 42>;  // p = 1/4
    constexpr auto layer = nn::sequential(d1{});
    constexpr auto DX = ctgrad::var<"DX", tensor<double, 50, 40>>;
    nn::state_of<decltype(layer)> s;
    BOOST_TEST(ctgrad::dropout_step(s[d1::step]) == 0u);
    tensor<double, 50, 40> x{};
    std::mt19937 rng(13);
    fill_uniform(x, rng, 0.5, 1.5);
    const auto run = [&] {
        return s.bind([&](const auto&... st) { return ctgrad::value(layer(DX), st..., DX = x); });
    };
    const auto y = run();
    BOOST_TEST(ctgrad::dropout_step(s[d1::step]) == 1u);
    size_t kept = 0;
    for (size_t e = 0; e < x.size(); ++e) {
        const bool k = y.data()[e] != 0.0;
        kept += k;
        if (k) BOOST_TEST(y.data()[e] == x.data()[e] * 4.0 / 3.0, tt::tolerance(1e-15));
    }
    BOOST_TEST(double(kept) / 2000.0 == 0.75, tt::tolerance(0.05));  // 2000 draws, sd 0.0097
    // the next step draws another mask; the same step (counter reset) the same mask
    const auto y2 = run();
    size_t same = 0;
    for (size_t e = 0; e < x.size(); ++e) same += (y2.data()[e] != 0.0) == (y.data()[e] != 0.0);
    BOOST_TEST(same < x.size());
    ctgrad::set_dropout_step(s[d1::step], 0);
    const auto y3 = run();
    for (size_t e = 0; e < x.size(); ++e) BOOST_TEST(y3.data()[e] == y.data()[e]);
    // the gradient is the scaled mask of the same step
    ctgrad::set_dropout_step(s[d1::step], 0);
    const auto g = s.bind([&](const auto&... st) {
        return ctgrad::gradient(ctgrad::sum(layer(DX)), wrt(DX), st..., DX = x);
    });
    for (size_t e = 0; e < x.size(); ++e) {
        BOOST_TEST(g[DX].data()[e] == (y.data()[e] != 0.0 ? 4.0 / 3.0 : 0.0));
    }
    // inference: the identity, the counter untouched
    const auto yi = ctgrad::value(layer.inference(DX), DX = x);
    for (size_t e = 0; e < x.size(); ++e) BOOST_TEST(yi.data()[e] == x.data()[e]);
}

// The step counter is an integer in the element's bits: it keeps counting (and the masks keep
// changing) past 2^24 steps, where a float count would stop (2^24 + 1 == 2^24 in float).
BOOST_AUTO_TEST_CASE(dropout_counter_keeps_counting_past_float_precision) {
    using d2 = nn::dropout<"d2", 1, 2, float, 7>;
    constexpr auto layer = nn::sequential(d2{});
    constexpr auto FX = ctgrad::var<"FX", tensor<float, 8, 16>>;
    nn::state_of<decltype(layer)> s;
    tensor<float, 8, 16> x{};
    for (auto& e : x) e = 1.0f;
    const auto run = [&] {
        return s.bind([&](const auto&... st) { return ctgrad::value(layer(FX), st..., FX = x); });
    };
    constexpr std::uint64_t big = std::uint64_t{1} << 24;
    ctgrad::set_dropout_step(s[d2::step], big);
    const auto a = run();
    BOOST_TEST(ctgrad::dropout_step(s[d2::step]) == big + 1);
    const auto b = run();
    BOOST_TEST(ctgrad::dropout_step(s[d2::step]) == big + 2);
    std::size_t same = 0;
    for (std::size_t e = 0; e < x.size(); ++e) same += (a.data()[e] == 0) == (b.data()[e] == 0);
    BOOST_TEST(same < x.size());  // two different masks (equal with probability 2^-128)
    // the same step gives the same mask again
    ctgrad::set_dropout_step(s[d2::step], big + 1);
    const auto b2 = run();
    for (std::size_t e = 0; e < x.size(); ++e) BOOST_TEST(b2.data()[e] == b.data()[e]);
    // a double counter holds 64 bits
    tensor<double, 1> c{};
    ctgrad::set_dropout_step(c, (std::uint64_t{1} << 53) + 1);
    BOOST_TEST(ctgrad::dropout_step(c) == (std::uint64_t{1} << 53) + 1);
}

// --- L1 penalty ---

BOOST_AUTO_TEST_CASE(l1_penalty_of_the_weight_tensors) {
    nn::parameters_of<decltype(net)> p;
    nn::init::he(p, 14);
    double want = 0;
    p.for_each([&](auto, auto& t) {
        if constexpr (std::remove_cvref_t<decltype(t)>::rank >= 2)
            for (double w : t) want += std::abs(w);
    });
    const auto g = p.bind(
        [&](const auto&... b) { return ctgrad::gradient(nn::l1<decltype(net)>(0.01), b...); });
    BOOST_TEST(g.value == 0.01 * want, tt::tolerance(1e-12));
    for (size_t e = 0; e < p[c2::W].size(); ++e) {
        const double w = p[c2::W].data()[e];
        BOOST_TEST(g[c2::W].data()[e] == (w > 0 ? 0.01 : w < 0 ? -0.01 : 0.0));
    }
    // biases are not penalised: the penalty's variables are the three weight tensors
    static_assert(decltype(g)::variables::size == 3);
}

// --- LeNet: a training step that does not allocate, and learns ---

namespace {
using l_c1 = nn::conv2d<"c1", 1, 6, 5, 1, 2>;
using l_c2 = nn::conv2d<"c2", 6, 16, 5>;
using l_f1 = nn::dense<"fc1", 400, 120>;
using l_f2 = nn::dense<"fc2", 120, 84>;
using l_f3 = nn::dense<"fc3", 84, 10>;
constexpr auto lenet =
    nn::sequential(l_c1{}, nn::relu, nn::max_pool2d<2>{}, l_c2{}, nn::relu, nn::max_pool2d<2>{},
                   nn::flatten, l_f1{}, nn::relu, l_f2{}, nn::relu, l_f3{});
constexpr auto LX = ctgrad::var<"LX", tensor<float, 8, 1, 28, 28>>;
constexpr auto LY = ctgrad::var<"LY", tensor<float, 8, 10>>;
}  // namespace

BOOST_AUTO_TEST_CASE(lenet_steps_do_not_allocate_and_learn) {
    auto x = std::make_unique<tensor<float, 8, 1, 28, 28>>();
    auto y = std::make_unique<tensor<float, 8, 10>>();
    for (size_t n = 0; n < 8; ++n) {  // class n: a bright square at a position of its own
        (*y)(n, n) = 1.0f;
        for (size_t i = 0; i < 6; ++i)
            for (size_t j = 0; j < 6; ++j) (*x)(n, 0, 2 + 3 * n / 2 + i, 20 - 2 * n + j) = 1.0f;
    }
    nn::parameters_of<decltype(lenet)> params;
    nn::init::he(params, 7);
    const auto loss = ctgrad::softmax_cross_entropy(lenet(LX), LY);
    ctgrad::program prog(loss, params.wrt());
    const size_t before = ctgrad::test::allocations.load();
    float first = 0, last = 0;
    for (int step = 0; step < 40; ++step) {
        const auto g = prog.gradient(params, LX = *x, LY = *y);
        (step == 0 ? first : last) = g.value;
        nn::sgd_step(params, g, 0.05f);
        static_cast<void>(prog.value(params, LX = *x, LY = *y));
    }
    BOOST_TEST(ctgrad::test::allocations.load() - before == 0u);
    BOOST_TEST(last < 0.5f * first);
}
