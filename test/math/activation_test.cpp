// The constexpr sigmoid (math/activation.hpp): the constant-evaluation path, called at run
// time, against the run-time formula over a sweep of the whole range (both use the same
// stable form; they differ only through exp), its accuracy against the formula in long
// double, float and long double; saturation without NaN in static_assert.
#define BOOST_TEST_MODULE math_activation
#include <cmath>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/math/activation.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();

/// 1 / (1 + e^-x) in long double, stable on both sides.
long double exact_sigmoid(long double x) {
    return x >= 0 ? 1.0L / (1.0L + std::exp(-x)) : std::exp(x) / (1.0L + std::exp(x));
}
}  // namespace

// Values against correctly rounded literals (mpmath).
static_assert(cm::sigmoid(0.0) == 0.5);
static_assert(within_ulps(cm::sigmoid(1.0), 0.7310585786300049, 1));
static_assert(within_ulps(cm::sigmoid(-1.0), 0.2689414213699951, 1));
static_assert(within_ulps(cm::sigmoid(20.0), 0.9999999979388464, 1));
static_assert(within_ulps(cm::sigmoid(-30.0), 9.357622968839299e-14, 2));
static_assert(within_ulps(cm::sigmoid(-700.0), 9.85967654375977e-305, 2));
static_assert(cm::sigmoid(0.0f) == 0.5f && cm::sigmoid(0.0L) == 0.5L);
static_assert(cm::sigmoid(1) == cm::sigmoid(1.0));

// Saturation without NaN or overflow.
static_assert(cm::sigmoid(800.0) == 1.0 && cm::sigmoid(-800.0) == 0.0);
static_assert(cm::sigmoid(40.0) == 1.0 && cm::sigmoid(-720.0) > 0.0);  // gradual underflow
static_assert(cm::sigmoid(inf) == 1.0 && cm::sigmoid(-inf) == 0.0);
static_assert(cm::sigmoid(qnan) != cm::sigmoid(qnan));
static_assert(cm::sigmoid(200.0f) == 1.0f && cm::sigmoid(-200.0f) == 0.0f);
static_assert(cm::sigmoid(20000.0L) == 1.0L && cm::sigmoid(-20000.0L) == 0.0L);

namespace {

std::vector<double> sigmoid_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -750.0, 750.0, 3000);
    ctgrad::test::add_linear(p, -40.0, 40.0, 4000);
    ctgrad::test::add_logarithmic(p, -60.0, 6.0, 3000, true);
    p.insert(p.end(), {0.0, -0.0, 36.8, -36.8, 709.0, -709.0, 745.0, -745.0, 800.0, -800.0});
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigmoid_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_2_ulp_of_the_run_time_formula) {
    const auto p = sigmoid_points();
    ctgrad::test::check_ulp_distance(
        "sigmoid_impl vs run-time sigmoid", p, [](double x) { return impl::sigmoid_impl(x); },
        [](double x) { return cm::sigmoid(x); }, 2);
    // The formula itself (three roundings after exp) is about 2 ulp off at worst, in both
    // modes alike.
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "sigmoid_impl accuracy", p, [](double x) { return impl::sigmoid_impl(x); },
            [](double x) { return exact_sigmoid(x); }, 2.5);
        ctgrad::test::check_ulp_error(
            "run-time sigmoid accuracy", p, [](double x) { return cm::sigmoid(x); },
            [](double x) { return exact_sigmoid(x); }, 2.5);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    std::vector<float> pf;
    for (const double x : sigmoid_points()) {
        pf.push_back(static_cast<float>(x));
    }
    ctgrad::test::check_ulp_distance(
        "sigmoid_impl vs run-time sigmoid (float)", pf,
        [](float x) { return impl::sigmoid_impl(x); }, [](float x) { return cm::sigmoid(x); }, 2);
    ctgrad::test::check_ulp_error(
        "sigmoid_impl accuracy (float)", pf, [](float x) { return impl::sigmoid_impl(x); },
        [](float x) { return static_cast<double>(exact_sigmoid(x)); }, 2.5);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -11000.0, 100.0, 2000);
    ctgrad::test::check_long_double(
        "sigmoid_impl (long double)", pl, [](long double x) { return impl::sigmoid_impl(x); },
        [](long double x) { return exact_sigmoid(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_the_stable_formula_with_std_exp) {
    ctgrad::test::check_bit_identical(
        "math::sigmoid vs the formula", sigmoid_points(), [](double x) { return cm::sigmoid(x); },
        [](double x) {
            return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
        });
    for (const double x : sigmoid_points()) {
        BOOST_TEST(!std::isnan(cm::sigmoid(x)));
        BOOST_TEST(!std::isnan(impl::sigmoid_impl(x)));
    }
}
BOOST_AUTO_TEST_SUITE_END()
