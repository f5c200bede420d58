// The constexpr hyperbolic functions (math/hyperbolic.hpp): tanh, sinh, cosh of the constant-
// evaluation path, called at run time, against std:: over sweeps of their range (distance to
// std::, accuracy against std:: in long double), float and long double; the run-time dispatch
// bit for bit; saturation, overflow and values in static_assert.
#define BOOST_TEST_MODULE math_hyperbolic
#include <cmath>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/math/hyperbolic.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// Values against correctly rounded literals (mpmath).
static_assert(cm::tanh(0.0) == 0.0 && ctgrad::detail::sign_bit(cm::tanh(-0.0)));
static_assert(within_ulps(cm::tanh(0.5), 0.46211715726000974, 1));
static_assert(within_ulps(cm::tanh(-0.25), -0.24491866240370913, 1));
static_assert(within_ulps(cm::tanh(1e-5), 9.999999999666668e-06, 1));
static_assert(within_ulps(cm::tanh(2.0), 0.9640275800758169, 1));
static_assert(within_ulps(cm::tanh(19.0), 0.9999999999999999, 1));
static_assert(within_ulps(cm::sinh(1.0), 1.1752011936438014, 1));
static_assert(within_ulps(cm::sinh(0.001), 0.001000000166666675, 1));
static_assert(within_ulps(cm::cosh(1.0), 1.5430806348152437, 1));
static_assert(within_ulps(cm::sinh(710.0), 1.1169973830808555e+308, 1));  // e^710 overflows
static_assert(within_ulps(cm::cosh(-710.0), 1.1169973830808555e+308, 1));
static_assert(within_ulps(cm::tanh(0.5f), 0.462117165f, 1));
static_assert(cm::tanh(1) == cm::tanh(1.0));

// Saturation and IEEE edges.
static_assert(cm::tanh(30.0) == 1.0 && cm::tanh(-30.0) == -1.0);
static_assert(cm::tanh(22.0) == 1.0 && cm::tanh(1000.0) == 1.0);
static_assert(cm::tanh(inf) == 1.0 && cm::tanh(-inf) == -1.0);
static_assert(cm::tanh(qnan) != cm::tanh(qnan));
static_assert(cm::tanh(30.0f) == 1.0f && cm::tanh(-30.0L) == -1.0L);
static_assert(cm::sinh(711.0) == inf && cm::sinh(-711.0) == -inf && cm::cosh(-711.0) == inf);
static_assert(cm::sinh(inf) == inf && cm::sinh(-inf) == -inf && cm::cosh(-inf) == inf);
static_assert(cm::sinh(90.0f) == std::numeric_limits<float>::infinity());
static_assert(cm::cosh(0.0) == 1.0 && ctgrad::detail::sign_bit(cm::sinh(-0.0)));

namespace {

std::vector<double> tanh_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -25.0, 25.0, 4000);
    ctgrad::test::add_logarithmic(p, -60.0, 5.0, 6000, true);
    p.insert(p.end(), {0.0, -0.0, 1.0, -1.0, 22.0, -22.0, 0.5493, 1e-300});
    return p;
}

std::vector<double> sinh_cosh_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -711.0, 711.0, 3000);
    ctgrad::test::add_linear(p, -2.0, 2.0, 2000);
    ctgrad::test::add_logarithmic(p, -60.0, 9.47, 5000, true);
    p.insert(p.end(), {0.0, -0.0, 22.0, -22.0, 709.78, 710.47, -710.47});
    return p;
}

template <class T>
std::vector<T> narrowed(const std::vector<double>& points, double bound) {
    std::vector<T> out;
    for (const double x : points) {
        if (std::fabs(x) <= bound) {
            out.push_back(static_cast<T>(x));
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tanh_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_the_exact_value) {
    const auto p = tanh_points();
    // glibc's tanh is itself up to about 2 ulp off below |x| = 1 (fdlibm's -t / (t + 2)).
    ctgrad::test::check_ulp_distance(
        "tanh_impl vs std::tanh", p, [](double x) { return impl::tanh_impl(x); },
        [](double x) { return std::tanh(x); }, 2);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "tanh_impl accuracy", p, [](double x) { return impl::tanh_impl(x); },
            [](double x) { return std::tanh(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(tanh_points(), 30.0);
    ctgrad::test::check_ulp_distance(
        "tanh_impl vs std::tanh (float)", pf, [](float x) { return impl::tanh_impl(x); },
        [](float x) { return std::tanh(x); }, 2);
    ctgrad::test::check_ulp_error(
        "tanh_impl accuracy (float)", pf, [](float x) { return impl::tanh_impl(x); },
        [](float x) { return std::tanh(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -70.0, 5.0, 2000, true);
    ctgrad::test::check_long_double(
        "tanh_impl (long double)", pl, [](long double x) { return impl::tanh_impl(x); },
        [](long double x) { return std::tanh(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::tanh vs std::tanh", tanh_points(), [](double x) { return cm::tanh(x); },
        [](double x) { return std::tanh(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sinh_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_2_ulp_of_the_exact_value) {
    const auto p = sinh_cosh_points();
    ctgrad::test::check_ulp_distance(
        "sinh_impl vs std::sinh", p, [](double x) { return impl::sinh_impl(x); },
        [](double x) { return std::sinh(x); }, 2);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "sinh_impl accuracy", p, [](double x) { return impl::sinh_impl(x); },
            [](double x) { return std::sinh(static_cast<long double>(x)); }, 2.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(sinh_cosh_points(), 89.5);
    ctgrad::test::check_ulp_distance(
        "sinh_impl vs std::sinh (float)", pf, [](float x) { return impl::sinh_impl(x); },
        [](float x) { return std::sinh(x); }, 2);
    ctgrad::test::check_ulp_error(
        "sinh_impl accuracy (float)", pf, [](float x) { return impl::sinh_impl(x); },
        [](float x) { return std::sinh(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -70.0, 13.4, 2000, true);
    ctgrad::test::check_long_double(
        "sinh_impl (long double)", pl, [](long double x) { return impl::sinh_impl(x); },
        [](long double x) { return std::sinh(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::sinh vs std::sinh", sinh_cosh_points(), [](double x) { return cm::sinh(x); },
        [](double x) { return std::sinh(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cosh_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_2_ulp_of_the_exact_value) {
    const auto p = sinh_cosh_points();
    ctgrad::test::check_ulp_distance(
        "cosh_impl vs std::cosh", p, [](double x) { return impl::cosh_impl(x); },
        [](double x) { return std::cosh(x); }, 2);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "cosh_impl accuracy", p, [](double x) { return impl::cosh_impl(x); },
            [](double x) { return std::cosh(static_cast<long double>(x)); }, 2.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(sinh_cosh_points(), 89.5);
    ctgrad::test::check_ulp_distance(
        "cosh_impl vs std::cosh (float)", pf, [](float x) { return impl::cosh_impl(x); },
        [](float x) { return std::cosh(x); }, 2);
    ctgrad::test::check_ulp_error(
        "cosh_impl accuracy (float)", pf, [](float x) { return impl::cosh_impl(x); },
        [](float x) { return std::cosh(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -70.0, 13.4, 2000, true);
    ctgrad::test::check_long_double(
        "cosh_impl (long double)", pl, [](long double x) { return impl::cosh_impl(x); },
        [](long double x) { return std::cosh(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::cosh vs std::cosh", sinh_cosh_points(), [](double x) { return cm::cosh(x); },
        [](double x) { return std::cosh(x); });
}
BOOST_AUTO_TEST_SUITE_END()
