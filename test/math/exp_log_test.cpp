// The constexpr exp/log family (math/exp_log.hpp): the constant-evaluation implementations,
// called at run time, against std:: over sweeps of their whole range (distance to std::, and
// accuracy against std:: in long double), float and long double too; the run-time dispatch
// bit for bit; values and IEEE edges in static_assert.
#define BOOST_TEST_MODULE math_exp_log
#include <cmath>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/math/exp_log.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// Values against correctly rounded literals (mpmath).
static_assert(cm::exp(0.0) == 1.0);
static_assert(cm::exp(1.0) == 2.718281828459045);
static_assert(within_ulps(cm::exp(-1.0), 0.36787944117144233, 1));
static_assert(within_ulps(cm::exp(0.5), 1.6487212707001282, 1));
static_assert(within_ulps(cm::exp(10.0), 22026.465794806718, 1));
static_assert(within_ulps(cm::exp(-10.0), 4.5399929762484854e-05, 1));
static_assert(within_ulps(cm::exp(700.0), 1.0142320547350045e+304, 1));
static_assert(within_ulps(cm::exp(-740.0), 4.2e-322, 1));  // subnormal
static_assert(within_ulps(cm::expm1(1e-10), 1.00000000005e-10, 1));
static_assert(within_ulps(cm::expm1(1.0), 1.7182818284590453, 1));
static_assert(within_ulps(cm::expm1(-1.0), -0.6321205588285577, 1));
static_assert(within_ulps(cm::expm1(0.1), 0.10517091807564763, 1));
static_assert(cm::log(1.0) == 0.0);
static_assert(within_ulps(cm::log(2.0), 0.6931471805599453, 1));
static_assert(within_ulps(cm::log(10.0), 2.302585092994046, 1));
static_assert(within_ulps(cm::log(0.1), -2.3025850929940455, 1));
static_assert(within_ulps(cm::log(1e300), 690.7755278982137, 1));
static_assert(within_ulps(cm::log(4.9406564584124654e-324), -744.4400719213812, 1));
static_assert(within_ulps(cm::log1p(1e-10), 9.999999999500001e-11, 1));
static_assert(within_ulps(cm::log1p(-0.5), -0.6931471805599453, 1));
static_assert(within_ulps(cm::log1p(1e10), 23.025850930040455, 1));
static_assert(within_ulps(cm::exp(1.0f), 2.71828183f, 1));
static_assert(within_ulps(cm::log(10.0f), 2.30258509f, 1));
static_assert(cm::exp(1.0L) > 2.7182818284590L && cm::exp(1.0L) < 2.7182818284591L);
static_assert(cm::exp(1) == cm::exp(1.0));  // integral arguments are double
static_assert(within_ulps(cm::log(8), 2.0794415416798357, 1));

// IEEE edges.
static_assert(cm::exp(710.0) == inf);
static_assert(cm::exp(709.78) < inf);
static_assert(cm::exp(-800.0) == 0.0);
static_assert(cm::exp(-745.0) > 0.0);  // gradual underflow
static_assert(cm::exp(inf) == inf && cm::exp(-inf) == 0.0);
static_assert(cm::exp(qnan) != cm::exp(qnan));
static_assert(cm::exp(89.0f) == std::numeric_limits<float>::infinity());
static_assert(cm::exp(11357.0L) == std::numeric_limits<long double>::infinity());
static_assert(!ctgrad::test::long_double_is_wider ||
              cm::exp(11356.0L) < std::numeric_limits<long double>::infinity());
static_assert(cm::expm1(1000.0) == inf && cm::expm1(-inf) == -1.0 && cm::expm1(-50.0) == -1.0);
static_assert(cm::log(0.0) == -inf && cm::log(-0.0) == -inf);
static_assert(cm::log(-1.0) != cm::log(-1.0));
static_assert(cm::log(inf) == inf);
static_assert(cm::log1p(-1.0) == -inf);
static_assert(cm::log1p(-2.0) != cm::log1p(-2.0));
static_assert(cm::log1p(1e-300) == 1e-300);
static_assert(cm::log1p(inf) == inf);

namespace {

std::vector<double> exp_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -745.2, 709.8, 4000);
    ctgrad::test::add_linear(p, -2.0, 2.0, 2000);
    ctgrad::test::add_logarithmic(p, -60.0, 3.0, 4000, true);  // tiny to 8, both signs
    p.insert(p.end(), {0.0, -0.0, 1.0, -1.0, 0.5 * 0.6931471805599453, 709.782712893384,
                       -745.1332191019411, -708.3964185322641, 1e-300, -1e-300});
    return p;
}

std::vector<double> expm1_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -40.0, 709.7, 3000);
    ctgrad::test::add_linear(p, -1.0, 1.0, 2000);
    ctgrad::test::add_logarithmic(p, -60.0, 5.0, 5000, true);
    p.insert(p.end(), {0.0, -0.0, 1e-300, 0.3465, -0.3466, 1.0397, -1.0398, 38.5, -38.5});
    return p;
}

std::vector<double> log_points() {
    std::vector<double> p;
    ctgrad::test::add_logarithmic(p, -1074.0, 1023.99, 5000, false);  // subnormal to max
    ctgrad::test::add_linear(p, 0.5, 2.0, 3000);
    ctgrad::test::add_linear(p, 1.0 - 1e-6, 1.0 + 1e-6, 2000);
    p.insert(p.end(), {1.0, 2.0, 0.5, std::numeric_limits<double>::denorm_min(),
                       std::numeric_limits<double>::min(), std::numeric_limits<double>::max()});
    return p;
}

std::vector<double> log1p_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -1.0, 3.0, 3000);
    ctgrad::test::add_logarithmic(p, -60.0, 1023.0, 4000, false);
    std::vector<double> negative;
    ctgrad::test::add_logarithmic(negative, -60.0, -0.0001, 3000, false);  // in (-1, 0)
    for (const double x : negative) {
        p.push_back(-x);
    }
    p.insert(p.end(), {0.0, -0.0, 0.4142, -0.2929, 1e-300, -0.999999999999});
    return p;
}

template <class T>
std::vector<T> narrowed(const std::vector<double>& points, double lo, double hi) {
    std::vector<T> out;
    for (const double x : points) {
        if (x >= lo && x <= hi) {
            out.push_back(static_cast<T>(x));
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exp_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = exp_points();
    ctgrad::test::check_ulp_distance(
        "exp_impl vs std::exp", p, [](double x) { return impl::exp_impl(x); },
        [](double x) { return std::exp(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "exp_impl accuracy", p, [](double x) { return impl::exp_impl(x); },
            [](double x) { return std::exp(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(exp_points(), -104.0, 89.0);
    ctgrad::test::check_ulp_distance(
        "exp_impl vs std::exp (float)", pf, [](float x) { return impl::exp_impl(x); },
        [](float x) { return std::exp(x); }, 1);
    ctgrad::test::check_ulp_error(
        "exp_impl accuracy (float)", pf, [](float x) { return impl::exp_impl(x); },
        [](float x) { return std::exp(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -11390.0, 11350.0, 1000);
    ctgrad::test::add_logarithmic(pl, -60.0, 3.0, 1000, true);
    ctgrad::test::check_long_double(
        "exp_impl (long double)", pl, [](long double x) { return impl::exp_impl(x); },
        [](long double x) { return std::exp(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    const auto p = exp_points();
    ctgrad::test::check_bit_identical(
        "math::exp vs std::exp", p, [](double x) { return cm::exp(x); },
        [](double x) { return std::exp(x); });
    const auto pf = narrowed<float>(p, -104.0, 89.0);
    ctgrad::test::check_bit_identical(
        "math::exp vs std::exp (float)", pf, [](float x) { return cm::exp(x); },
        [](float x) { return std::exp(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(expm1_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = expm1_points();
    ctgrad::test::check_ulp_distance(
        "expm1_impl vs std::expm1", p, [](double x) { return impl::expm1_impl(x); },
        [](double x) { return std::expm1(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "expm1_impl accuracy", p, [](double x) { return impl::expm1_impl(x); },
            [](double x) { return std::expm1(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(expm1_points(), -104.0, 88.0);
    ctgrad::test::check_ulp_distance(
        "expm1_impl vs std::expm1 (float)", pf, [](float x) { return impl::expm1_impl(x); },
        [](float x) { return std::expm1(x); }, 1);
    ctgrad::test::check_ulp_error(
        "expm1_impl accuracy (float)", pf, [](float x) { return impl::expm1_impl(x); },
        [](float x) { return std::expm1(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -70.0, 8.0, 2000, true);
    ctgrad::test::check_long_double(
        "expm1_impl (long double)", pl, [](long double x) { return impl::expm1_impl(x); },
        [](long double x) { return std::expm1(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::expm1 vs std::expm1", expm1_points(), [](double x) { return cm::expm1(x); },
        [](double x) { return std::expm1(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = log_points();
    ctgrad::test::check_ulp_distance(
        "log_impl vs std::log", p, [](double x) { return impl::log_impl(x); },
        [](double x) { return std::log(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "log_impl accuracy", p, [](double x) { return impl::log_impl(x); },
            [](double x) { return std::log(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(log_points(), 1e-45, 3e38);
    ctgrad::test::check_ulp_distance(
        "log_impl vs std::log (float)", pf, [](float x) { return impl::log_impl(x); },
        [](float x) { return std::log(x); }, 1);
    ctgrad::test::check_ulp_error(
        "log_impl accuracy (float)", pf, [](float x) { return impl::log_impl(x); },
        [](float x) { return std::log(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -16440.0, 16383.0, 1000, false);
    ctgrad::test::add_linear(pl, 0.5, 2.0, 1000);
    ctgrad::test::check_long_double(
        "log_impl (long double)", pl, [](long double x) { return impl::log_impl(x); },
        [](long double x) { return std::log(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::log vs std::log", log_points(), [](double x) { return cm::log(x); },
        [](double x) { return std::log(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log1p_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = log1p_points();
    ctgrad::test::check_ulp_distance(
        "log1p_impl vs std::log1p", p, [](double x) { return impl::log1p_impl(x); },
        [](double x) { return std::log1p(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "log1p_impl accuracy", p, [](double x) { return impl::log1p_impl(x); },
            [](double x) { return std::log1p(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(log1p_points(), -1.0, 3e38);
    ctgrad::test::check_ulp_distance(
        "log1p_impl vs std::log1p (float)", pf, [](float x) { return impl::log1p_impl(x); },
        [](float x) { return std::log1p(x); }, 1);
    ctgrad::test::check_ulp_error(
        "log1p_impl accuracy (float)", pf, [](float x) { return impl::log1p_impl(x); },
        [](float x) { return std::log1p(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -1.0, 3.0, 1000);
    ctgrad::test::add_logarithmic(pl, -70.0, 1000.0, 1000, false);
    ctgrad::test::check_long_double(
        "log1p_impl (long double)", pl, [](long double x) { return impl::log1p_impl(x); },
        [](long double x) { return std::log1p(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::log1p vs std::log1p", log1p_points(), [](double x) { return cm::log1p(x); },
        [](double x) { return std::log1p(x); });
}
BOOST_AUTO_TEST_SUITE_END()
