#define BOOST_TEST_MODULE nn_layers
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;

namespace {
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 4, 3>>;
using fc1 = nn::dense<"fc1", 3, 5, double>;
using fc2 = nn::dense<"fc2", 5, 2, double>;
constexpr auto net = nn::sequential(fc1{}, nn::tanh, fc2{}, nn::leaky_relu<1, 10>);
}  // namespace

BOOST_AUTO_TEST_CASE(parameters_are_named_after_the_layer) {
    BOOST_TEST(decltype(fc1::W)::name.view() == std::string_view("fc1.W"));
    BOOST_TEST(decltype(fc2::b)::name.view() == std::string_view("fc2.b"));
    using params = nn::parameters_t<decltype(net)>;
    static_assert(params::size == 4);
    static_assert(std::is_same_v<ctgrad::detail::at_t<params, 0>, fc1::weight>);
    static_assert(std::is_same_v<ctgrad::detail::at_t<params, 3>, fc2::bias>);
}

BOOST_AUTO_TEST_CASE(sequential_is_the_composition) {
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 3);
    ctgrad::tensor<double, 4, 3> x{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.3 * double(i) - 1.0;
    const auto out = p.bind([&](const auto&... b) { return ctgrad::value(net(X), b..., X = x); });
    const auto& w1 = p[fc1::W];
    const auto& b1 = p[fc1::b];
    const auto& w2 = p[fc2::W];
    const auto& b2 = p[fc2::b];
    for (std::size_t r = 0; r < 4; ++r) {
        double h[5];
        for (std::size_t j = 0; j < 5; ++j) {
            double z = b1(j);
            for (std::size_t k = 0; k < 3; ++k) z += x(r, k) * w1(k, j);
            h[j] = std::tanh(z);
        }
        for (std::size_t o = 0; o < 2; ++o) {
            double z = b2(o);
            for (std::size_t j = 0; j < 5; ++j) z += h[j] * w2(j, o);
            const double expected = std::max(z, 0.1 * z);
            BOOST_TEST(out(r, o) == expected, boost::test_tools::tolerance(1e-12));
        }
    }
}

BOOST_AUTO_TEST_CASE(initializers_have_the_documented_scale) {
    using big = nn::dense<"big", 400, 300, double>;
    nn::parameters<big::parameters> p;
    nn::init::xavier(p, 11);
    double lim = std::sqrt(6.0 / 700.0), sum = 0, sq = 0, maxabs = 0;
    for (double w : p[big::W]) {
        sum += w;
        sq += w * w;
        maxabs = std::max(maxabs, std::abs(w));
    }
    const double n = 400.0 * 300.0;
    BOOST_TEST(maxabs <= lim);
    BOOST_TEST(std::abs(sum / n) < 0.01 * lim);
    BOOST_TEST(sq / n == lim * lim / 3.0, boost::test_tools::tolerance(0.02));
    for (double b : p[big::b]) BOOST_TEST(b == 0.0);

    nn::init::he(p, 11);
    sq = 0;
    for (double w : p[big::W]) sq += w * w;
    BOOST_TEST(sq / n == 2.0 / 400.0, boost::test_tools::tolerance(0.02));

    // the seed decides: same seed, same parameters; another seed, others
    nn::parameters<big::parameters> q, r;
    nn::init::he(q, 11);
    nn::init::he(r, 12);
    BOOST_TEST(q[big::W](7, 9) == p[big::W](7, 9));
    BOOST_TEST(r[big::W](7, 9) != p[big::W](7, 9));
}

BOOST_AUTO_TEST_CASE(sgd_step_moves_against_the_gradient) {
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 5);
    ctgrad::tensor<double, 4, 3> x{};
    ctgrad::tensor<double, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(double(i));
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = std::cos(double(i));
    const auto loss = ctgrad::mse(net(X), Y);
    ctgrad::program prog(loss, p.wrt());
    const auto before = p;
    const auto g = prog.gradient(p, X = x, Y = y);
    const double dw = g[fc2::W](1, 1);
    nn::sgd_step(p, g, 0.1);
    BOOST_TEST(p[fc2::W](1, 1) == before[fc2::W](1, 1) - 0.1 * dw);
    BOOST_TEST(prog.value(p, X = x, Y = y) < g.value);
}

BOOST_AUTO_TEST_CASE(fused_sgd_step_equals_gradient_then_update) {
    // program::sgd_step adds −lr·∂/∂W inside the weight-gradient product (no stored gradient)
    // and updates the biases by a loop; the result must be the plain step's.
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 9);
    ctgrad::tensor<double, 4, 3> x{};
    ctgrad::tensor<double, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(3.0 * double(i));
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = std::cos(2.0 * double(i));
    const auto loss = ctgrad::sum(ctgrad::square(net(X) - Y));
    ctgrad::program prog(loss, p.wrt());
    auto q = p;
    const auto g = prog.gradient(p, X = x, Y = y);
    const double value = g.value;
    nn::sgd_step(p, g, 0.05);
    auto& w1 = q[fc1::W];
    auto& b1 = q[fc1::b];
    auto& w2 = q[fc2::W];
    auto& b2 = q[fc2::b];
    const double before =
        prog.sgd_step(0.05, X = x, Y = y, fc1::W = std::ref(w1), fc1::b = std::ref(b1),
                      fc2::W = std::ref(w2), fc2::b = std::ref(b2));
    BOOST_TEST(before == value);
    p.for_each([&](auto v, const auto& t) {
        for (std::size_t i = 0; i < t.size(); ++i) {
            BOOST_TEST(q[v].data()[i] == t.data()[i], boost::test_tools::tolerance(1e-12));
        }
    });
    BOOST_TEST(prog.step_workspace_bytes < prog.workspace_bytes);  // no buffer for ∂/∂W
}
