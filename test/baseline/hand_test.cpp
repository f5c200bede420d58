// The hand-written gradients of the scalar benchmark cases (bench/scalar/hand.hpp): each against
// central finite differences of its own value and against the runtime-graph baseline running
// the case's formula, written once below for double and for the baseline's var.
#define BOOST_TEST_MODULE baseline_hand
#include <algorithm>  // std::max
#include <array>      // std::array
#include <cmath>      // std::abs, std::exp, std::log, ...
#include <cstddef>    // std::size_t
#include <numbers>    // std::numbers::sqrt2
#include <utility>    // std::index_sequence
#include <vector>     // std::vector

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "../../bench/baseline/runtime_graph.hpp"
#include "../../bench/scalar/hand.hpp"
#include "support/finite_difference.hpp"

namespace bdata = boost::unit_test::data;
namespace rg = ctgrad_baseline;

namespace {

// --- the cases' formulas, for T = double (values) and T = rg::var (reference gradients) ---

template <class T>
T add_mul(const T& x, const T& y, const T& z) {
    return (x + y) * z;
}

template <class T>
T shared_input(const T& x, const T& y, const T& z) {
    return (x + y) * (x + z);
}

template <class T>
T sigmoid_neuron(const T& w0, const T& x0, const T& w1, const T& x1, const T& w2) {
    using rg::exp;
    using std::exp;
    return 1.0 / (1.0 + exp(-(w0 * x0 + w1 * x1 + w2)));
}

template <class T>
T log_sum_exp8(const std::array<T, 8>& x) {
    using rg::exp;
    using rg::log;
    using std::exp;
    using std::log;
    T sum = exp(x[0]);
    for (std::size_t i = 1; i < 8; ++i) {
        sum = sum + exp(x[i]);
    }
    return log(sum);
}

template <class T>
T normal_cdf(const T& u) {
    using rg::erfc;
    using std::erfc;
    return 0.5 * erfc(-u / std::numbers::sqrt2);
}

template <class T>
T black_scholes(const T& s, const T& k, const T& sigma, const T& r, const T& t) {
    using rg::exp;
    using rg::log;
    using rg::sqrt;
    using std::exp;
    using std::log;
    using std::sqrt;
    const T d1 = (log(s / k) + (r + sigma * sigma / 2.0) * t) / (sigma * sqrt(t));
    const T d2 = d1 - sigma * sqrt(t);
    return s * normal_cdf(d1) - k * exp(-r * t) * normal_cdf(d2);
}

template <class T>
T tanh_chain20(const T& x, const T& w, const T& b) {
    using rg::tanh;
    using std::tanh;
    T t = x;
    for (int k = 0; k < 20; ++k) {
        t = tanh(w * t + b);
    }
    return t;
}

template <class T>
T poly_reuse8(const T& x, const T& y, const T& z) {
    constexpr std::array<double, 9> c = {1, -2, 3, -4, 5, -6, 7, -8, 9};
    const T u = x * y + z;
    T p = u * (c[8] / 10);
    for (std::size_t i = 7; i >= 1; --i) {
        p = u * (c[i] / 10 + p);
    }
    return c[0] / 10 + p;
}

// --- the check ---

template <std::size_t N, std::size_t... I>
std::array<rg::var, N> leaves(const std::array<double, N>& p, std::index_sequence<I...>) {
    return {rg::var(p[I])...};
}

/// a and b agree to `tol` relative to the larger of them and of the gradient's scale (so a
/// component that is tiny next to the others is not held to a relative bound of its own).
bool agree(double a, double b, double tol, double scale) {
    return std::abs(a - b) <= tol * std::max({std::abs(a), std::abs(b), scale});
}

/// At point p: hand's gradient matches the central differences of hand's value, and hand's
/// value and gradient match the baseline running `formula`.
template <std::size_t N, class Hand, class Formula>
void check_case(Hand hand_f, Formula formula, const std::array<double, N>& p) {
    const hand::result<N> r = hand_f(p);
    double scale = 0.0;
    for (const double g : r.grad) {
        scale = std::max(scale, std::abs(g));
    }

    for (std::size_t i = 0; i < N; ++i) {
        const double h = ctgrad::test::fd_step(p[i]);
        auto plus = p;
        auto minus = p;
        plus[i] += h;
        minus[i] -= h;
        const double fd = (hand_f(plus).value - hand_f(minus).value) / (2 * h);
        BOOST_TEST(ctgrad::test::fd_agrees(r.grad[i], fd, r.value, h),
                   "d/dp[" << i << "]: hand " << r.grad[i] << " vs central difference " << fd);
    }

    BOOST_TEST(agree(r.value, formula(p), 1e-14, 0.0),
               "value: hand " << r.value << " vs formula " << formula(p));

    const auto vars = leaves(p, std::make_index_sequence<N>{});
    const rg::var f = formula(vars);
    rg::backward(f);
    BOOST_TEST(agree(r.value, f.value(), 1e-14, 0.0),
               "value: hand " << r.value << " vs runtime graph " << f.value());
    for (std::size_t i = 0; i < N; ++i) {
        BOOST_TEST(
            agree(r.grad[i], vars[i].grad(), 1e-12, scale),
            "d/dp[" << i << "]: hand " << r.grad[i] << " vs runtime graph " << vars[i].grad());
    }
}

/// 0, 1, ..., n - 1: the sample indices of a table of points. (Not bdata::xrange, whose
/// iterator GCC 12 flags as maybe-uninitialized under -fsanitize.)
std::vector<std::size_t> indices(std::size_t n) {
    std::vector<std::size_t> is(n);
    for (std::size_t i = 0; i < n; ++i) {
        is[i] = i;
    }
    return is;
}

const std::vector<std::array<double, 3>> points3 = {
    {-2.0, 5.0, -4.0}, {-3.0, 2.0, 5.0}, {0.3, -0.7, 0.4}, {1.7, 0.2, -0.9}, {-0.05, 1.1, 0.6}};

const std::vector<std::array<double, 5>> neuron_points = {
    {2.0, -1.0, -3.0, -2.0, -3.0}, {0.5, 0.1, -0.2, 0.9, 0.0}, {-1.5, 2.0, 0.7, -0.3, 1.2}};

const std::vector<std::array<double, 8>> lse_points = {
    {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4},
    {1.0, -2.0, 3.0, -4.0, 0.5, 0.0, 2.5, -1.5},
    {10.0, 10.0, 9.5, -3.0, 0.0, 7.0, 10.2, 4.0}};

// (S, K, sigma, r, T)
const std::vector<std::array<double, 5>> black_scholes_points = {{100.0, 95.0, 0.2, 0.03, 0.75},
                                                                 {50.0, 60.0, 0.35, 0.01, 2.0},
                                                                 {120.0, 100.0, 0.15, 0.05, 0.25},
                                                                 {80.0, 80.0, 0.5, 0.0, 1.0}};

// (x, w, b)
const std::vector<std::array<double, 3>> tanh_points = {
    {0.5, 0.9, 0.1}, {-1.2, 1.3, -0.2}, {2.0, -0.6, 0.3}, {0.0, 0.5, 0.0}};

}  // namespace

BOOST_AUTO_TEST_SUITE(hand_gradients)

BOOST_DATA_TEST_CASE(add_mul_matches, bdata::make(indices(points3.size())), i) {
    check_case<3>([](const auto& p) { return hand::add_mul(p[0], p[1], p[2]); },
                  [](const auto& v) { return add_mul(v[0], v[1], v[2]); }, points3[i]);
}

BOOST_DATA_TEST_CASE(shared_input_matches, bdata::make(indices(points3.size())), i) {
    check_case<3>([](const auto& p) { return hand::shared_input(p[0], p[1], p[2]); },
                  [](const auto& v) { return shared_input(v[0], v[1], v[2]); }, points3[i]);
}

BOOST_DATA_TEST_CASE(sigmoid_neuron_matches, bdata::make(indices(neuron_points.size())), i) {
    check_case<5>([](const auto& p) { return hand::sigmoid_neuron(p[0], p[1], p[2], p[3], p[4]); },
                  [](const auto& v) { return sigmoid_neuron(v[0], v[1], v[2], v[3], v[4]); },
                  neuron_points[i]);
}

BOOST_DATA_TEST_CASE(log_sum_exp8_matches, bdata::make(indices(lse_points.size())), i) {
    check_case<8>([](const auto& p) { return hand::log_sum_exp8(p); },
                  [](const auto& v) { return log_sum_exp8(v); }, lse_points[i]);
}

BOOST_DATA_TEST_CASE(black_scholes_matches, bdata::make(indices(black_scholes_points.size())), i) {
    check_case<5>([](const auto& p) { return hand::black_scholes(p[0], p[1], p[2], p[3], p[4]); },
                  [](const auto& v) { return black_scholes(v[0], v[1], v[2], v[3], v[4]); },
                  black_scholes_points[i]);
}

BOOST_DATA_TEST_CASE(tanh_chain20_matches, bdata::make(indices(tanh_points.size())), i) {
    check_case<3>([](const auto& p) { return hand::tanh_chain20(p[0], p[1], p[2]); },
                  [](const auto& v) { return tanh_chain20(v[0], v[1], v[2]); }, tanh_points[i]);
}

BOOST_DATA_TEST_CASE(poly_reuse8_matches, bdata::make(indices(points3.size())), i) {
    check_case<3>([](const auto& p) { return hand::poly_reuse8(p[0], p[1], p[2]); },
                  [](const auto& v) { return poly_reuse8(v[0], v[1], v[2]); }, points3[i]);
}

BOOST_AUTO_TEST_CASE(black_scholes_delta_is_n_d1) {
    // A closed form the chain rule must reproduce: dC/dS = N(d1).
    const double s = 100.0, k = 95.0, sigma = 0.2, r = 0.03, t = 0.75;
    const double d1 = (std::log(s / k) + (r + sigma * sigma / 2) * t) / (sigma * std::sqrt(t));
    const auto g = hand::black_scholes(s, k, sigma, r, t);
    BOOST_TEST(g.grad[0] == normal_cdf(d1), boost::test_tools::tolerance(1e-13));
    // vega = S N'(d1) sqrt T
    const double vega = s * std::exp(-d1 * d1 / 2) / std::sqrt(2 * std::numbers::pi) * std::sqrt(t);
    BOOST_TEST(g.grad[2] == vega, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(poly_coefficients_are_the_cases) {
    for (std::size_t i = 0; i < 9; ++i) {
        const double c = (i % 2 == 0 ? 1.0 : -1.0) * static_cast<double>(i + 1) / 10;
        BOOST_TEST(hand::poly_coefficients[i] == c);
    }
}

BOOST_AUTO_TEST_SUITE_END()
