// The worked examples of the backpropagation notes (../shared/notes/), each checked at run
// time (Boost.Test) and at compile time (static_assert).
#define BOOST_TEST_MODULE ad_worked_examples
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;
constexpr auto w0 = ctgrad::var<"w0">;
constexpr auto x0 = ctgrad::var<"x0">;
constexpr auto w1 = ctgrad::var<"w1">;
constexpr auto x1 = ctgrad::var<"x1">;
constexpr auto w2 = ctgrad::var<"w2">;

// Notes 000: the circuit f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4.
constexpr auto add_mul = (x + y) * z;
constexpr auto g_add_mul = ctgrad::gradient(add_mul, x = -2.0, y = 5.0, z = -4.0);
static_assert(g_add_mul.value == -12.0);
static_assert(g_add_mul[x] == -4.0 && g_add_mul[y] == -4.0 && g_add_mul[z] == 3.0);

// Notes 001: f = (x + y)(x + z) at x = -3, y = 2, z = 5: x fans out, its gradients add up.
constexpr auto shared = (x + y) * (x + z);
constexpr auto g_shared = ctgrad::gradient(shared, x = -3.0, y = 2.0, z = 5.0);
static_assert(g_shared.value == -2.0);
static_assert(g_shared[x] == 1.0 && g_shared[y] == 2.0 && g_shared[z] == -1.0);

// Notes 000: the sigmoid neuron 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), written gate by gate as
// in the notes, at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3.
constexpr auto neuron = 1_c / (1_c + ctgrad::exp(-(w0 * x0 + w1 * x1 + w2)));
constexpr auto g_neuron =
    ctgrad::gradient(neuron, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);

constexpr bool near(double a, double b, double tol) {
    return a - b <= tol && b - a <= tol;
}

static_assert(near(g_neuron.value, 0.731, 1e-3));
static_assert(near(g_neuron[w0], -0.196, 1e-3));
static_assert(near(g_neuron[x0], 0.393, 1e-3));
static_assert(near(g_neuron[w1], -0.393, 1e-3));
static_assert(near(g_neuron[x1], -0.590, 1e-3));
static_assert(near(g_neuron[w2], 0.196, 1e-3));

// The same neuron through the sigmoid op: the same numbers.
constexpr auto neuron_op = ctgrad::sigmoid(w0 * x0 + w1 * x1 + w2);
constexpr auto g_neuron_op =
    ctgrad::gradient(neuron_op, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);
static_assert(near(g_neuron_op[w0], g_neuron[w0], 1e-15));
static_assert(near(g_neuron_op[x1], g_neuron[x1], 1e-15));

}  // namespace

BOOST_AUTO_TEST_CASE(add_mul_circuit_matches_the_notes) {
    const auto g = ctgrad::gradient(add_mul, x = -2.0, y = 5.0, z = -4.0);
    BOOST_TEST(g.value == -12.0);
    BOOST_TEST(g[x] == -4.0);
    BOOST_TEST(g[y] == -4.0);
    BOOST_TEST(g[z] == 3.0);
}

BOOST_AUTO_TEST_CASE(fan_out_gradients_add_up) {
    const auto g = ctgrad::gradient(shared, x = -3.0, y = 2.0, z = 5.0);
    BOOST_TEST(g[x] == 1.0);
    BOOST_TEST(g[y] == 2.0);
    BOOST_TEST(g[z] == -1.0);
}

BOOST_AUTO_TEST_CASE(sigmoid_neuron_matches_the_notes) {
    const auto g = ctgrad::gradient(neuron, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);
    // ...the notes' numbers, given to three decimals...
    BOOST_TEST(std::abs(g.value - 0.731) < 1e-3);
    BOOST_TEST(std::abs(g[w0] - -0.196) < 1e-3);
    BOOST_TEST(std::abs(g[x0] - 0.393) < 1e-3);
    BOOST_TEST(std::abs(g[w1] - -0.393) < 1e-3);
    BOOST_TEST(std::abs(g[x1] - -0.590) < 1e-3);
    BOOST_TEST(std::abs(g[w2] - 0.196) < 1e-3);
    // ...and the exact chain rule: ds/ddot = s (1 - s), d dot/dw0 = x0, ...
    const double dot = 2.0 * -1.0 + -3.0 * -2.0 + -3.0;
    const double s = 1.0 / (1.0 + std::exp(-dot));
    const double ds = s * (1 - s);
    BOOST_TEST(g[w0] == ds * -1.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[x0] == ds * 2.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[w1] == ds * -2.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[x1] == ds * -3.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[w2] == ds, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(sigmoid_op_agrees_with_the_gate_circuit) {
    const auto a = ctgrad::gradient(neuron, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);
    const auto b =
        ctgrad::gradient(neuron_op, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);
    BOOST_TEST(a.value == b.value, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(a[w0] == b[w0], boost::test_tools::tolerance(1e-14));
    BOOST_TEST(a[x0] == b[x0], boost::test_tools::tolerance(1e-14));
    BOOST_TEST(a[w1] == b[w1], boost::test_tools::tolerance(1e-14));
    BOOST_TEST(a[x1] == b[x1], boost::test_tools::tolerance(1e-14));
    BOOST_TEST(a[w2] == b[w2], boost::test_tools::tolerance(1e-14));
}
