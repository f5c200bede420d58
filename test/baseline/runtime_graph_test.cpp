// The naive runtime-graph baseline (bench/baseline/runtime_graph.hpp): the notes' worked
// examples, every op against central finite differences, ctgrad's subgradient conventions,
// and the graph mechanics (fan-out, shared subgraphs, repeated backward, lifetime).
#define BOOST_TEST_MODULE baseline_runtime_graph
#include <cmath>   // std::exp, std::log, ...
#include <limits>  // std::numeric_limits
#include <memory>  // std::weak_ptr
#include <vector>  // std::vector

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "../../bench/baseline/runtime_graph.hpp"
#include "support/finite_difference.hpp"

namespace tt = boost::test_tools;
namespace bdata = boost::unit_test::data;
namespace rg = ctgrad_baseline;
using rg::var;

namespace {

constexpr double no_lower_bound = -std::numeric_limits<double>::infinity();

double step(double x, double lower) {
    return lower == no_lower_bound ? ctgrad::test::fd_step(x) : ctgrad::test::fd_step(x, lower);
}

/// The graph op `g` at x0 has the value of its double twin `f` and, after backward, the
/// gradient of f's central difference. `lower`: f is defined only above it.
template <class G, class F>
void check_unary(G g, F f, double x0, double lower = no_lower_bound) {
    const var x(x0);
    const var y = g(x);
    rg::backward(y);
    BOOST_TEST(ctgrad::test::close(y.value(), f(x0), 1e-15),
               "value at " << x0 << ": " << y.value() << " vs " << f(x0));
    const double h = step(x0, lower);
    const double fd = ctgrad::test::central_difference(f, x0, h);
    BOOST_TEST(ctgrad::test::fd_agrees(x.grad(), fd, f(x0), h),
               "derivative at " << x0 << ": " << x.grad() << " vs " << fd);
}

/// The binary graph op `g` at (a0, b0), in its three forms var-var, var-double and
/// double-var, against its double twin `f`: values, and each partial against a central
/// difference in that argument. `a_lower`: f is defined only for a above it.
template <class G, class F>
void check_binary(G g, F f, double a0, double b0, double a_lower = no_lower_bound) {
    const double y0 = f(a0, b0);
    const double ha = step(a0, a_lower);
    const double hb = ctgrad::test::fd_step(b0);
    const auto f_of_a = [&](double a) { return f(a, b0); };
    const auto f_of_b = [&](double b) { return f(a0, b); };
    const double fd_a = ctgrad::test::central_difference(f_of_a, a0, ha);
    const double fd_b = ctgrad::test::central_difference(f_of_b, b0, hb);

    {
        const var a(a0);
        const var b(b0);
        const var y = g(a, b);
        rg::backward(y);
        BOOST_TEST(ctgrad::test::close(y.value(), y0, 1e-15),
                   "var-var value at " << a0 << ", " << b0);
        BOOST_TEST(ctgrad::test::fd_agrees(a.grad(), fd_a, y0, ha),
                   "var-var d/da at " << a0 << ", " << b0 << ": " << a.grad() << " vs " << fd_a);
        BOOST_TEST(ctgrad::test::fd_agrees(b.grad(), fd_b, y0, hb),
                   "var-var d/db at " << a0 << ", " << b0 << ": " << b.grad() << " vs " << fd_b);
    }
    {
        const var a(a0);
        const var y = g(a, b0);
        rg::backward(y);
        BOOST_TEST(ctgrad::test::close(y.value(), y0, 1e-15), "var-double value");
        BOOST_TEST(ctgrad::test::fd_agrees(a.grad(), fd_a, y0, ha),
                   "var-double d/da at " << a0 << ", " << b0 << ": " << a.grad() << " vs " << fd_a);
    }
    {
        const var b(b0);
        const var y = g(a0, b);
        rg::backward(y);
        BOOST_TEST(ctgrad::test::close(y.value(), y0, 1e-15), "double-var value");
        BOOST_TEST(ctgrad::test::fd_agrees(b.grad(), fd_b, y0, hb),
                   "double-var d/db at " << a0 << ", " << b0 << ": " << b.grad() << " vs " << fd_b);
    }
}

// Sample points, chosen inside each op's domain and away from kinks.
const std::vector<double> anywhere = {-2.5, -0.7, 0.0, 0.3, 1.9, 6.0};
const std::vector<double> positive = {0.05, 0.5, 1.0, 3.7, 40.0};
const std::vector<double> above_minus_one = {-0.9, -0.3, 0.0, 0.5, 20.0};
const std::vector<double> nonzero = {-2.5, -0.7, -1e-3, 1e-3, 0.3, 1.9};
const std::vector<double> lhs = {-2.5, -0.7, 0.3, 1.9, 4.0};
const std::vector<double> rhs = {1.3, -3.1, 0.8, -0.4, 2.2};
const std::vector<double> positive_base = {0.3, 1.0, 1.9, 4.0, 0.05};

constexpr auto plus = [](const auto& a, const auto& b) { return a + b; };
constexpr auto minus = [](const auto& a, const auto& b) { return a - b; };
constexpr auto times = [](const auto& a, const auto& b) { return a * b; };
constexpr auto divide = [](const auto& a, const auto& b) { return a / b; };

}  // namespace

// --- the notes' worked examples ---

BOOST_AUTO_TEST_SUITE(worked_examples)

BOOST_AUTO_TEST_CASE(add_mul_circuit_matches_the_notes) {
    const var x(-2.0);
    const var y(5.0);
    const var z(-4.0);
    const var f = (x + y) * z;
    rg::backward(f);
    BOOST_TEST(f.value() == -12.0);
    BOOST_TEST(x.grad() == -4.0);
    BOOST_TEST(y.grad() == -4.0);
    BOOST_TEST(z.grad() == 3.0);
}

BOOST_AUTO_TEST_CASE(fan_out_gradients_add_up) {
    const var x(-3.0);
    const var y(2.0);
    const var z(5.0);
    const var f = (x + y) * (x + z);
    rg::backward(f);
    BOOST_TEST(f.value() == -2.0);
    BOOST_TEST(x.grad() == 1.0);
    BOOST_TEST(y.grad() == 2.0);
    BOOST_TEST(z.grad() == -1.0);
}

BOOST_AUTO_TEST_CASE(sigmoid_neuron_matches_the_notes) {
    const var w0(2.0);
    const var x0(-1.0);
    const var w1(-3.0);
    const var x1(-2.0);
    const var w2(-3.0);
    const var f = 1.0 / (1.0 + rg::exp(-(w0 * x0 + w1 * x1 + w2)));
    rg::backward(f);

    // The notes' numbers, given to three decimals.
    BOOST_TEST(std::abs(f.value() - 0.731) < 1e-3);
    BOOST_TEST(std::abs(w0.grad() - -0.196) < 1e-3);
    BOOST_TEST(std::abs(x0.grad() - 0.393) < 1e-3);
    BOOST_TEST(std::abs(w1.grad() - -0.393) < 1e-3);
    BOOST_TEST(std::abs(x1.grad() - -0.590) < 1e-3);
    BOOST_TEST(std::abs(w2.grad() - 0.196) < 1e-3);

    // The exact formula: s = sigmoid(1), ds = s(1 - s), d/dw_i = ds x_i, d/dx_i = ds w_i.
    const double s = 1.0 / (1.0 + std::exp(-1.0));
    const double ds = s * (1.0 - s);
    BOOST_TEST(f.value() == s, tt::tolerance(1e-14));
    BOOST_TEST(w0.grad() == ds * -1.0, tt::tolerance(1e-14));
    BOOST_TEST(x0.grad() == ds * 2.0, tt::tolerance(1e-14));
    BOOST_TEST(w1.grad() == ds * -2.0, tt::tolerance(1e-14));
    BOOST_TEST(x1.grad() == ds * -3.0, tt::tolerance(1e-14));
    BOOST_TEST(w2.grad() == ds, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(sigmoid_op_gives_the_same_neuron) {
    const var w0(2.0);
    const var x0(-1.0);
    const var w1(-3.0);
    const var x1(-2.0);
    const var w2(-3.0);
    const var f = rg::sigmoid(w0 * x0 + w1 * x1 + w2);
    rg::backward(f);
    const double s = 1.0 / (1.0 + std::exp(-1.0));
    const double ds = s * (1.0 - s);
    BOOST_TEST(f.value() == s, tt::tolerance(1e-14));
    BOOST_TEST(x1.grad() == ds * -3.0, tt::tolerance(1e-14));
    BOOST_TEST(w2.grad() == ds, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_SUITE_END()

// --- every op against central finite differences ---

BOOST_AUTO_TEST_SUITE(arithmetic_ops)

BOOST_DATA_TEST_CASE(add_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary(plus, plus, a, b);
}

BOOST_DATA_TEST_CASE(sub_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary(minus, minus, a, b);
}

BOOST_DATA_TEST_CASE(mul_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary(times, times, a, b);
}

BOOST_DATA_TEST_CASE(div_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary(divide, divide, a, b);
}

BOOST_DATA_TEST_CASE(neg_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return -v; }, [](double v) { return -v; }, x);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exp_log_ops)

BOOST_DATA_TEST_CASE(exp_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::exp(v); }, [](double v) { return std::exp(v); }, x);
}

BOOST_DATA_TEST_CASE(log_derivative_matches_central_difference, bdata::make(positive), x) {
    check_unary([](const var& v) { return rg::log(v); }, [](double v) { return std::log(v); }, x,
                0.0);
}

BOOST_DATA_TEST_CASE(log1p_derivative_matches_central_difference, bdata::make(above_minus_one), x) {
    check_unary([](const var& v) { return rg::log1p(v); }, [](double v) { return std::log1p(v); },
                x, -1.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(power_ops)

BOOST_DATA_TEST_CASE(sqrt_derivative_matches_central_difference, bdata::make(positive), x) {
    check_unary([](const var& v) { return rg::sqrt(v); }, [](double v) { return std::sqrt(v); }, x,
                0.0);
}

BOOST_DATA_TEST_CASE(square_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::square(v); }, [](double v) { return v * v; }, x);
}

BOOST_DATA_TEST_CASE(pow_partials_match_central_differences,
                     bdata::make(positive_base) ^ bdata::make(rhs), a, b) {
    check_binary([](const auto& u, const auto& v) { return rg::pow(u, v); },
                 [](double u, double v) { return std::pow(u, v); }, a, b, 0.0);
}

BOOST_DATA_TEST_CASE(pow_of_a_negative_base_to_an_integer_power, bdata::make({-2.5, -0.7, -1.3}),
                     a) {
    for (const double c : {2.0, 3.0, -1.0}) {
        check_unary([c](const var& v) { return rg::pow(v, c); },
                    [c](double v) { return std::pow(v, c); }, a);
    }
}

BOOST_AUTO_TEST_CASE(pow_exponent_partial_is_zero_at_a_zero_base) {
    const var a(0.0);
    const var b(2.5);
    const var y = rg::pow(a, b);
    rg::backward(y);
    BOOST_TEST(y.value() == 0.0);
    BOOST_TEST(a.grad() == 0.0);
    BOOST_TEST(b.grad() == 0.0);  // the limit along a = 0, not 0 * log 0 = NaN

    const var e(3.0);
    const var z = rg::pow(0.0, e);
    rg::backward(z);
    BOOST_TEST(e.grad() == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(trig_hyperbolic_ops)

BOOST_DATA_TEST_CASE(sin_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::sin(v); }, [](double v) { return std::sin(v); }, x);
}

BOOST_DATA_TEST_CASE(cos_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::cos(v); }, [](double v) { return std::cos(v); }, x);
}

BOOST_DATA_TEST_CASE(tanh_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::tanh(v); }, [](double v) { return std::tanh(v); }, x);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(activation_piecewise_ops)

BOOST_DATA_TEST_CASE(sigmoid_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::sigmoid(v); },
                [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, x);
}

BOOST_AUTO_TEST_CASE(sigmoid_saturates_without_nan) {
    for (const double x0 : {-800.0, 800.0}) {
        const var x(x0);
        const var y = rg::sigmoid(x);
        rg::backward(y);
        BOOST_TEST(y.value() == (x0 > 0 ? 1.0 : 0.0));
        BOOST_TEST(x.grad() == 0.0);
    }
}

BOOST_DATA_TEST_CASE(relu_derivative_matches_central_difference, bdata::make(nonzero), x) {
    check_unary([](const var& v) { return rg::relu(v); },
                [](double v) { return v > 0.0 ? v : 0.0; }, x);
}

BOOST_DATA_TEST_CASE(abs_derivative_matches_central_difference, bdata::make(nonzero), x) {
    check_unary([](const var& v) { return rg::abs(v); }, [](double v) { return std::fabs(v); }, x);
}

BOOST_DATA_TEST_CASE(max_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary([](const auto& u, const auto& v) { return rg::max(u, v); },
                 [](double u, double v) { return u >= v ? u : v; }, a, b);
}

BOOST_DATA_TEST_CASE(min_partials_match_central_differences, bdata::make(lhs) ^ bdata::make(rhs), a,
                     b) {
    check_binary([](const auto& u, const auto& v) { return rg::min(u, v); },
                 [](double u, double v) { return u <= v ? u : v; }, a, b);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(special_ops)

BOOST_DATA_TEST_CASE(erf_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::erf(v); }, [](double v) { return std::erf(v); }, x);
}

BOOST_DATA_TEST_CASE(erfc_derivative_matches_central_difference, bdata::make(anywhere), x) {
    check_unary([](const var& v) { return rg::erfc(v); }, [](double v) { return std::erfc(v); }, x);
}

BOOST_AUTO_TEST_SUITE_END()

// --- subgradient conventions (ctgrad's) ---

BOOST_AUTO_TEST_SUITE(subgradient_conventions)

BOOST_AUTO_TEST_CASE(relu_derivative_at_zero_is_zero) {
    const var x(0.0);
    const var y = rg::relu(x);
    rg::backward(y);
    BOOST_TEST(y.value() == 0.0);
    BOOST_TEST(x.grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(abs_derivative_at_zero_is_zero) {
    for (const double zero : {0.0, -0.0}) {
        const var x(zero);
        const var y = rg::abs(x);
        rg::backward(y);
        BOOST_TEST(y.value() == 0.0);
        BOOST_TEST(!std::signbit(y.value()));
        BOOST_TEST(x.grad() == 0.0);
    }
}

BOOST_AUTO_TEST_CASE(max_tie_sends_the_gradient_to_the_first_argument) {
    const var a(1.5);
    const var b(1.5);
    rg::backward(rg::max(a, b));
    BOOST_TEST(a.grad() == 1.0);
    BOOST_TEST(b.grad() == 0.0);

    const var c(1.5);
    rg::backward(rg::max(c, 1.5));
    BOOST_TEST(c.grad() == 1.0);  // the var is first
    rg::backward(rg::max(1.5, c));
    BOOST_TEST(c.grad() == 0.0);  // the number is first
}

BOOST_AUTO_TEST_CASE(min_tie_sends_the_gradient_to_the_first_argument) {
    const var a(-0.5);
    const var b(-0.5);
    rg::backward(rg::min(a, b));
    BOOST_TEST(a.grad() == 1.0);
    BOOST_TEST(b.grad() == 0.0);

    const var c(-0.5);
    rg::backward(rg::min(c, -0.5));
    BOOST_TEST(c.grad() == 1.0);
    rg::backward(rg::min(-0.5, c));
    BOOST_TEST(c.grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(max_of_a_variable_with_itself_passes_the_gradient_once) {
    const var x(2.0);
    rg::backward(rg::max(x, x));
    BOOST_TEST(x.grad() == 1.0);
    rg::backward(rg::min(x, x));
    BOOST_TEST(x.grad() == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()

// --- graph mechanics ---

BOOST_AUTO_TEST_SUITE(graph)

BOOST_AUTO_TEST_CASE(a_variable_used_many_times_accumulates) {
    const var x(0.7);
    var f(0.0);
    for (int i = 1; i <= 100; ++i) {
        f = f + static_cast<double>(i) * x;
    }
    rg::backward(f);
    BOOST_TEST(x.grad() == 5050.0);

    const var y(1.3);
    const var p = y * y * y;  // y used three times through two nodes
    rg::backward(p);
    BOOST_TEST(y.grad() == 3.0 * 1.3 * 1.3, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(self_operand_counts_twice) {
    const var x(1.75);
    rg::backward(x * x);
    BOOST_TEST(x.grad() == 3.5);
    rg::backward(x + x);
    BOOST_TEST(x.grad() == 2.0);
    rg::backward(x - x);
    BOOST_TEST(x.grad() == 0.0);
    rg::backward(x / x);
    BOOST_TEST(x.grad() == 0.0, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(shared_subgraphs_are_visited_once) {
    // t_{k+1} = t_k + t_k, 60 times: 2^60 paths from t_60 to x, 61 nodes. A sort that
    // revisited shared nodes would not finish.
    const var x(1.0);
    var t = x;
    for (int k = 0; k < 60; ++k) {
        t = t + t;
    }
    rg::backward(t);
    BOOST_TEST(t.value() == std::ldexp(1.0, 60));
    BOOST_TEST(x.grad() == std::ldexp(1.0, 60));
}

BOOST_AUTO_TEST_CASE(backward_twice_gives_the_same_gradient) {
    const var x(-0.4);
    const var y(1.1);
    const var f = rg::tanh(x * y + rg::exp(x)) * (x + y);
    rg::backward(f);
    const double gx = x.grad();
    const double gy = y.grad();
    rg::backward(f);
    BOOST_TEST(x.grad() == gx);
    BOOST_TEST(y.grad() == gy);
}

BOOST_AUTO_TEST_CASE(backward_from_an_intermediate_node) {
    const var x(3.0);
    const var y(-2.0);
    const var u = x * y;
    const var f = u * u;
    rg::backward(f);
    BOOST_TEST(u.grad() == 2.0 * -6.0);
    BOOST_TEST(x.grad() == 2.0 * -6.0 * -2.0);
    rg::backward(u);  // re-zeroes what it reaches
    BOOST_TEST(u.grad() == 1.0);
    BOOST_TEST(x.grad() == -2.0);
    BOOST_TEST(y.grad() == 3.0);
}

BOOST_AUTO_TEST_CASE(backward_of_a_leaf_is_one) {
    const var x(5.0);
    rg::backward(x);
    BOOST_TEST(x.grad() == 1.0);
}

BOOST_AUTO_TEST_CASE(a_long_chain_sorts_without_recursion) {
    const var x(0.5);
    var t = x;
    for (int k = 0; k < 5000; ++k) {
        t = t * 1.0001 + 0.0;
    }
    rg::backward(t);
    BOOST_TEST(x.grad() == std::pow(1.0001, 5000), tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(the_result_keeps_its_graph_alive_and_frees_it_after) {
    const var x(2.0);
    std::weak_ptr<rg::node> inner;
    {
        var f = [&] {
            const var t = rg::exp(x) * x;  // t goes out of scope here; f still needs it
            inner = t.node_ptr();
            return rg::log(t);
        }();
        BOOST_TEST(!inner.expired());
        rg::backward(f);
        BOOST_TEST(x.grad() == 1.0 + 1.0 / 2.0, tt::tolerance(1e-15));  // d/dx (x + log x)
    }
    BOOST_TEST(inner.expired());
}

BOOST_AUTO_TEST_SUITE_END()
