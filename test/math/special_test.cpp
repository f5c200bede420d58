// The constexpr special functions (math/special.hpp): erf and erfc of the constant-evaluation
// path, called at run time, against std:: over sweeps of their range (distance to std::, and
// accuracy against std:: in long double, relative even in erfc's tail), float and long
// double; the run-time dispatch bit for bit; values and edges in static_assert.
#define BOOST_TEST_MODULE math_special
#include <cmath>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/math/special.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// Values against correctly rounded literals (mpmath).
static_assert(cm::erf(0.0) == 0.0 && ctgrad::detail::sign_bit(cm::erf(-0.0)));
static_assert(within_ulps(cm::erf(1e-10), 1.1283791670955126e-10, 1));
static_assert(within_ulps(cm::erf(0.5), 0.5204998778130465, 1));
static_assert(within_ulps(cm::erf(1.0), 0.8427007929497149, 1));
static_assert(within_ulps(cm::erf(2.0), 0.9953222650189527, 1));
static_assert(cm::erfc(0.0) == 1.0);
static_assert(within_ulps(cm::erfc(0.3), 0.6713732405408726, 2));
static_assert(within_ulps(cm::erfc(1.0), 0.15729920705028513, 2));
static_assert(within_ulps(cm::erfc(-1.0), 1.8427007929497148, 2));
static_assert(within_ulps(cm::erfc(5.0), 1.537459794428035e-12, 2));  // the tail, relatively
static_assert(within_ulps(cm::erfc(10.0), 2.088487583762545e-45, 3));
static_assert(within_ulps(cm::erfc(26.0), 5.663192408856143e-296, 3));
static_assert(within_ulps(cm::erf(0.5f), 0.520499877f, 1));
static_assert(within_ulps(cm::erfc(5.0f), 1.53745979e-12f, 1));
static_assert(cm::erf(1) == cm::erf(1.0));

// Edges.
static_assert(cm::erf(6.0) == 1.0 && cm::erf(-6.0) == -1.0);
static_assert(cm::erf(inf) == 1.0 && cm::erf(-inf) == -1.0 && cm::erf(qnan) != cm::erf(qnan));
static_assert(cm::erfc(30.0) == 0.0 && cm::erfc(-30.0) == 2.0 && cm::erfc(-6.0) == 2.0);
static_assert(cm::erfc(27.2) > 0.0);                                           // subnormal
static_assert(!ctgrad::test::long_double_is_wider || cm::erfc(30.0L) > 0.0L);  // 2.56e-393
static_assert(cm::erfc(inf) == 0.0 && cm::erfc(-inf) == 2.0 && cm::erfc(qnan) != cm::erfc(qnan));

namespace {

std::vector<double> erf_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -7.0, 7.0, 5000);
    ctgrad::test::add_logarithmic(p, -1074.0, 3.0, 2000, true);
    ctgrad::test::add_logarithmic(p, -30.0, 3.0, 3000, true);
    p.insert(p.end(), {0.0, -0.0, 0.84375, -0.84375, 1.25, -1.25, 2.857142857142857, 6.0, -6.0});
    return p;
}

std::vector<double> erfc_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -7.0, 28.0, 5000);
    ctgrad::test::add_logarithmic(p, -60.0, 4.8, 5000, true);
    p.insert(p.end(), {0.0, -0.0, 0.25, 0.84375, -0.84375, 1.25, -1.25, 2.857142857142857, 5.0,
                       26.5, 27.2, 28.0});
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

BOOST_AUTO_TEST_SUITE(erf_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_2_ulp_of_std_and_of_the_exact_value) {
    const auto p = erf_points();
    ctgrad::test::check_ulp_distance(
        "erf_impl vs std::erf", p, [](double x) { return impl::erf_impl(x); },
        [](double x) { return std::erf(x); }, 2);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "erf_impl accuracy", p, [](double x) { return impl::erf_impl(x); },
            [](double x) { return std::erf(static_cast<long double>(x)); }, 1.5);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(erf_points(), -7.0, 7.0);
    ctgrad::test::check_ulp_distance(
        "erf_impl vs std::erf (float)", pf, [](float x) { return impl::erf_impl(x); },
        [](float x) { return std::erf(x); }, 1);
    ctgrad::test::check_ulp_error(
        "erf_impl accuracy (float)", pf, [](float x) { return impl::erf_impl(x); },
        [](float x) { return std::erf(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -70.0, 3.0, 2000, true);
    ctgrad::test::check_long_double(
        "erf_impl (long double)", pl, [](long double x) { return impl::erf_impl(x); },
        [](long double x) { return std::erf(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::erf vs std::erf", erf_points(), [](double x) { return cm::erf(x); },
        [](double x) { return std::erf(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(erfc_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_4_ulp_of_std_and_3_of_the_exact_value) {
    const auto p = erfc_points();
    ctgrad::test::check_ulp_distance(
        "erfc_impl vs std::erfc", p, [](double x) { return impl::erfc_impl(x); },
        [](double x) { return std::erfc(x); }, 4);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "erfc_impl accuracy", p, [](double x) { return impl::erfc_impl(x); },
            [](double x) { return std::erfc(static_cast<long double>(x)); }, 3.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    const auto pf = narrowed<float>(erfc_points(), -7.0, 10.0);
    ctgrad::test::check_ulp_distance(
        "erfc_impl vs std::erfc (float)", pf, [](float x) { return impl::erfc_impl(x); },
        [](float x) { return std::erfc(x); }, 3);
    ctgrad::test::check_ulp_error(
        "erfc_impl accuracy (float)", pf, [](float x) { return impl::erfc_impl(x); },
        [](float x) { return std::erfc(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -7.0, 105.0, 2000);  // erfc(105) = 1e-4790 in long double
    ctgrad::test::check_long_double(
        "erfc_impl (long double)", pl, [](long double x) { return impl::erfc_impl(x); },
        [](long double x) { return std::erfc(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::erfc vs std::erfc", erfc_points(), [](double x) { return cm::erfc(x); },
        [](double x) { return std::erfc(x); });
}
BOOST_AUTO_TEST_SUITE_END()
