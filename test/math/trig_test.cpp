// The constexpr trigonometric functions (math/trig.hpp): sin and cos of the constant-
// evaluation path, called at run time, against std:: over the whole double range (both
// argument reductions: Cody–Waite below 2^20 pi/2, Payne–Hanek above), next to multiples of
// pi/2 and at the hardest argument known for double; float and long double; the run-time
// dispatch bit for bit; values and IEEE edges in static_assert.
#define BOOST_TEST_MODULE math_trig
#include <cmath>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/math/trig.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
// The double closest to a multiple of pi/2 relative to its size (K. C. Ng, "Argument
// reduction for huge arguments: good to the last bit", 1992): x - n pi/2 is about 2^-61.
constexpr double hardest = 6381956970095103.0 * 0x1p797;
}  // namespace

// Values against correctly rounded literals (mpmath).
static_assert(cm::sin(0.0) == 0.0 && cm::cos(0.0) == 1.0);
static_assert(within_ulps(cm::sin(0.5), 0.479425538604203, 1));
static_assert(within_ulps(cm::cos(0.5), 0.8775825618903728, 1));
static_assert(within_ulps(cm::sin(1.0), 0.8414709848078965, 1));
static_assert(within_ulps(cm::cos(1.0), 0.5403023058681398, 1));
static_assert(within_ulps(cm::sin(3.0), 0.1411200080598672, 1));
static_assert(within_ulps(cm::cos(3.0), -0.9899924966004454, 1));
static_assert(within_ulps(cm::sin(100.0), -0.5063656411097588, 1));
static_assert(within_ulps(cm::cos(100.0), 0.8623188722876839, 1));
static_assert(within_ulps(cm::sin(1e6), -0.34999350217129294, 1));
static_assert(within_ulps(cm::cos(1e6), 0.9367521275331447, 1));
static_assert(within_ulps(cm::sin(1e22), -0.8522008497671888, 1));  // Payne–Hanek
static_assert(within_ulps(cm::cos(1e22), 0.523214785395139, 1));
static_assert(within_ulps(cm::sin(1e300), -0.8178819121159085, 1));
static_assert(within_ulps(cm::cos(1e300), -0.5753861119575491, 1));
static_assert(within_ulps(cm::cos(1.5707963267948966), 6.123233995736766e-17, 1));
static_assert(within_ulps(cm::sin(3.141592653589793), 1.2246467991473532e-16, 1));
static_assert(cm::sin(1.5707963267948966) == 1.0);
static_assert(within_ulps(cm::cos(hardest), -0x1.14ae72e6ba22fp-61, 1));
static_assert(within_ulps(cm::sin(0.5f), 0.47942555f, 1));
static_assert(cm::sin(1) == cm::sin(1.0));
static_assert(cm::sin(1e22L) < -0.85L && cm::sin(1e22L) > -0.86L);

// IEEE edges.
static_assert(ctgrad::detail::sign_bit(cm::sin(-0.0)));
static_assert(cm::sin(inf) != cm::sin(inf) && cm::cos(-inf) != cm::cos(-inf));
static_assert(cm::sin(qnan) != cm::sin(qnan) && cm::cos(qnan) != cm::cos(qnan));
static_assert(cm::sin(1e-300) == 1e-300 && cm::cos(1e-300) == 1.0);

namespace {

std::vector<double> trig_points() {
    std::vector<double> p;
    ctgrad::test::add_linear(p, -10.0, 10.0, 3000);
    ctgrad::test::add_linear(p, -1e5, 1e5, 2000);
    ctgrad::test::add_logarithmic(p, -60.0, 1023.99, 3000, true);  // up to max
    ctgrad::test::add_logarithmic(p, 19.0, 22.0, 500, true);       // where the reductions meet
    for (int k = 1; k <= 300; ++k) {                               // next to multiples of pi/2
        const double x = k * 1.5707963267948966;
        p.insert(p.end(), {x, std::nextafter(x, 0.0), std::nextafter(x, inf), -x});
    }
    // Not `hardest`: glibc 2.36 returns cos(hardest) 8 ulp off (see hardest_argument).
    p.insert(p.end(), {0.0, -0.0, 1e22, 1647099.3291652855, std::numeric_limits<double>::max()});
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sin_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = trig_points();
    ctgrad::test::check_ulp_distance(
        "sin_impl vs std::sin", p, [](double x) { return impl::sin_impl(x); },
        [](double x) { return std::sin(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "sin_impl accuracy", p, [](double x) { return impl::sin_impl(x); },
            [](double x) { return std::sin(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    std::vector<float> pf;
    ctgrad::test::add_linear(pf, -1e6, 1e6, 5000);
    ctgrad::test::add_logarithmic(pf, -30.0, 127.99, 5000, true);
    ctgrad::test::check_ulp_distance(
        "sin_impl vs std::sin (float)", pf, [](float x) { return impl::sin_impl(x); },
        [](float x) { return std::sin(x); }, 1);
    ctgrad::test::check_ulp_error(
        "sin_impl accuracy (float)", pf, [](float x) { return impl::sin_impl(x); },
        [](float x) { return std::sin(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -100.0, 100.0, 1000);
    ctgrad::test::add_logarithmic(pl, -30.0, 16383.0, 1000, true);
    ctgrad::test::check_long_double(
        "sin_impl (long double)", pl, [](long double x) { return impl::sin_impl(x); },
        [](long double x) { return std::sin(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::sin vs std::sin", trig_points(), [](double x) { return cm::sin(x); },
        [](double x) { return std::sin(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cos_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_std_and_of_the_exact_value) {
    const auto p = trig_points();
    ctgrad::test::check_ulp_distance(
        "cos_impl vs std::cos", p, [](double x) { return impl::cos_impl(x); },
        [](double x) { return std::cos(x); }, 1);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "cos_impl accuracy", p, [](double x) { return impl::cos_impl(x); },
            [](double x) { return std::cos(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    std::vector<float> pf;
    ctgrad::test::add_linear(pf, -1e6, 1e6, 5000);
    ctgrad::test::add_logarithmic(pf, -30.0, 127.99, 5000, true);
    ctgrad::test::check_ulp_distance(
        "cos_impl vs std::cos (float)", pf, [](float x) { return impl::cos_impl(x); },
        [](float x) { return std::cos(x); }, 1);
    ctgrad::test::check_ulp_error(
        "cos_impl accuracy (float)", pf, [](float x) { return impl::cos_impl(x); },
        [](float x) { return std::cos(static_cast<double>(x)); }, 1.0);
    std::vector<long double> pl;
    ctgrad::test::add_linear(pl, -100.0, 100.0, 1000);
    ctgrad::test::add_logarithmic(pl, -30.0, 16383.0, 1000, true);
    ctgrad::test::check_long_double(
        "cos_impl (long double)", pl, [](long double x) { return impl::cos_impl(x); },
        [](long double x) { return std::cos(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::cos vs std::cos", trig_points(), [](double x) { return cm::cos(x); },
        [](double x) { return std::cos(x); });
}
BOOST_AUTO_TEST_CASE(hardest_argument) {
    // cos(hardest) = -0x1.14ae72e6ba22ef4...p-61 (mpmath; std::cos in long double agrees).
    BOOST_TEST(impl::cos_impl(hardest) == -0x1.14ae72e6ba22fp-61);
    BOOST_TEST(impl::cos_impl(-hardest) == -0x1.14ae72e6ba22fp-61);
    BOOST_TEST(impl::sin_impl(hardest) == 1.0);
    BOOST_TEST(impl::sin_impl(-hardest) == -1.0);
}
BOOST_AUTO_TEST_SUITE_END()
