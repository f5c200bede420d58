// The constexpr power family (math/power.hpp): sqrt (correctly rounded, so equal to std::sqrt
// bit for bit), cbrt and pow, called at run time against std:: over sweeps of their range
// (distance to std::, accuracy against std:: in long double), float and long double too; the
// run-time dispatch bit for bit; exact integral powers, std::pow's special cases and values
// in static_assert.
#define BOOST_TEST_MODULE math_power
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/math/power.hpp>

#include "support/ulp.hpp"

namespace cm = ctgrad::math;
namespace impl = ctgrad::math::detail;
using ctgrad::test::within_ulps;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
constexpr double denorm_min = std::numeric_limits<double>::denorm_min();
}  // namespace

// sqrt: correctly rounded.
static_assert(cm::sqrt(4.0) == 2.0 && cm::sqrt(0.25) == 0.5);
static_assert(cm::sqrt(2.0) == 1.4142135623730951);
static_assert(cm::sqrt(3.0) == 1.7320508075688772);
static_assert(cm::sqrt(0.5) == 0.7071067811865476);
static_assert(cm::sqrt(1e-300) == 1e-150);
static_assert(cm::sqrt(denorm_min) == 2.2227587494850775e-162);
static_assert(cm::sqrt(std::numeric_limits<double>::max()) == 1.3407807929942596e+154);
static_assert(cm::sqrt(2.0f) == 1.41421354f);
static_assert(cm::sqrt(16) == 4.0);
static_assert(cm::sqrt(-1.0) != cm::sqrt(-1.0));
static_assert(cm::sqrt(inf) == inf && cm::sqrt(0.0) == 0.0);
static_assert(ctgrad::detail::sign_bit(cm::sqrt(-0.0)));  // sqrt(-0) = -0

// cbrt
static_assert(cm::cbrt(27.0) == 3.0 && cm::cbrt(-8.0) == -2.0 && cm::cbrt(0.125) == 0.5);
static_assert(within_ulps(cm::cbrt(2.0), 1.2599210498948732, 1));
static_assert(cm::cbrt(-inf) == -inf);

// pow: exact integral powers, values, and std::pow's special cases (C Annex F).
static_assert(cm::pow(2.0, 2.0) == 4.0 && cm::pow(3.0, 2.0) == 9.0 && cm::pow(2.0, 10.0) == 1024.0);
static_assert(cm::pow(3.0, 33.0) == 5559060566555523.0);
static_assert(cm::pow(10.0, 22.0) == 1e22 && cm::pow(10.0, 308.0) == 1e308);
static_assert(cm::pow(2.0, -1074.0) == denorm_min && cm::pow(0.5, 3.0) == 0.125);
static_assert(cm::pow(-2.0, 3.0) == -8.0 && cm::pow(-2.0, -2.0) == 0.25);
static_assert(cm::pow(2, 3) == 8.0 && cm::pow(2.0f, 3) == 8.0 && cm::pow(1.5f, 2.0f) == 2.25f);
static_assert(within_ulps(cm::pow(2.0, 0.5), 1.4142135623730951, 1));
static_assert(within_ulps(cm::pow(10.0, -5.0), 1e-05, 1));
static_assert(within_ulps(cm::pow(1.0001, 10000.0), 2.7181459268249255, 1));
static_assert(within_ulps(cm::pow(0.5, -3.5), 11.313708498984761, 1));
static_assert(within_ulps(cm::pow(7.0, 1.0 / 3.0), 1.912931182772389, 1));
static_assert(cm::pow(qnan, 0.0) == 1.0 && cm::pow(1.0, qnan) == 1.0 && cm::pow(inf, -0.0) == 1.0);
static_assert(cm::pow(qnan, 1.0) != cm::pow(qnan, 1.0) && cm::pow(2.0, qnan) != cm::pow(2.0, qnan));
static_assert(cm::pow(-2.0, 0.5) != cm::pow(-2.0, 0.5));  // negative base, non-integer power
static_assert(cm::pow(0.0, -1.0) == inf && cm::pow(-0.0, -1.0) == -inf);
static_assert(cm::pow(-0.0, -2.0) == inf && cm::pow(-0.0, -0.5) == inf);
static_assert(cm::pow(0.0, 3.0) == 0.0 && ctgrad::detail::sign_bit(cm::pow(-0.0, 3.0)));
static_assert(cm::pow(-1.0, inf) == 1.0 && cm::pow(-1.0, -inf) == 1.0);
static_assert(cm::pow(0.5, inf) == 0.0 && cm::pow(0.5, -inf) == inf);
static_assert(cm::pow(2.0, inf) == inf && cm::pow(2.0, -inf) == 0.0);
static_assert(cm::pow(inf, -1.0) == 0.0 && cm::pow(inf, 0.5) == inf);
static_assert(cm::pow(-inf, 3.0) == -inf && cm::pow(-inf, 2.0) == inf);
static_assert(cm::pow(-inf, -3.0) == 0.0 && ctgrad::detail::sign_bit(cm::pow(-inf, -3.0)));
static_assert(cm::pow(2.0, 1024.0) == inf && cm::pow(2.0, -1080.0) == 0.0);
static_assert(cm::pow(-2.0, 1025.0) == -inf);
static_assert(cm::pow(1e300, 1e300) == inf && cm::pow(1e300, -1e300) == 0.0);
static_assert(cm::pow(2.0L, 100.0L) == 1267650600228229401496703205376.0L);
static_assert(cm::pow(-0.0L, -3.0L) == -std::numeric_limits<long double>::infinity());
static_assert(cm::pow(-1.0, 1e300) == 1.0 && cm::pow(-1.0, -3.0) == -1.0);

namespace {

std::vector<double> sqrt_points() {
    std::vector<double> p;
    ctgrad::test::add_logarithmic(p, -1074.0, 1023.99, 6000, false);
    ctgrad::test::add_linear(p, 0.0, 4.0, 4000);
    p.insert(p.end(), {0.0, -0.0, denorm_min, std::numeric_limits<double>::max(), 1.0, 2.0});
    return p;
}

std::vector<double> cbrt_points() {
    std::vector<double> p;
    ctgrad::test::add_logarithmic(p, -1074.0, 1023.99, 5000, true);
    ctgrad::test::add_linear(p, -10.0, 10.0, 5000);
    return p;
}

struct pow_point {
    double x;
    double y;
};

std::vector<pow_point> pow_points() {
    std::vector<pow_point> p;
    ctgrad::test::sample_source s(3);
    for (int i = 0; i < 4000; ++i) {  // moderate bases and exponents
        p.push_back({std::exp2(-60.0 + 120.0 * s.next()), -40.0 + 80.0 * s.next()});
    }
    for (int i = 0; i < 2000; ++i) {  // results over the whole range, overflow and underflow
        p.push_back({0.5 + 1.5 * s.next(), -1500.0 + 3000.0 * s.next()});
    }
    for (int i = 0; i < 2000; ++i) {  // every base, subnormal to max
        p.push_back({std::exp2(-1074.0 + 2097.9 * s.next()), -2.0 + 4.0 * s.next()});
    }
    for (int i = 0; i < 1000; ++i) {  // bases next to 1, huge exponents
        p.push_back({1.0 + (s.next() - 0.5) * 1e-10, (s.next() - 0.5) * 1e13});
    }
    for (int i = 0; i < 1000; ++i) {  // negative bases, integral exponents
        p.push_back({-10.0 + 9.9 * s.next(), std::round(-60.0 + 120.0 * s.next())});
    }
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqrt_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_correctly_rounded) {
    const auto p = sqrt_points();
    ctgrad::test::check_bit_identical(
        "sqrt_impl vs std::sqrt", p, [](double x) { return impl::sqrt_impl(x); },
        [](double x) { return std::sqrt(x); });
    std::vector<float> pf;
    ctgrad::test::add_logarithmic(pf, -149.0, 127.99, 5000, false);
    ctgrad::test::add_linear(pf, 0.0, 4.0, 5000);
    ctgrad::test::check_bit_identical(
        "sqrt_impl vs std::sqrt (float)", pf, [](float x) { return impl::sqrt_impl(x); },
        [](float x) { return std::sqrt(x); });
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -16440.0, 16383.0, 1000, false);
    ctgrad::test::add_linear(pl, 0.0, 4.0, 1000);
    ctgrad::test::check_long_double(
        "sqrt_impl (long double)", pl, [](long double x) { return impl::sqrt_impl(x); },
        [](long double x) { return std::sqrt(x); }, 0.0);
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::sqrt vs std::sqrt", sqrt_points(), [](double x) { return cm::sqrt(x); },
        [](double x) { return std::sqrt(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cbrt_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_the_exact_value) {
    const auto p = cbrt_points();
    // glibc's cbrt is itself up to 3 ulp off, hence the looser distance to std::.
    ctgrad::test::check_ulp_distance(
        "cbrt_impl vs std::cbrt", p, [](double x) { return impl::cbrt_impl(x); },
        [](double x) { return std::cbrt(x); }, 4);
    if constexpr (ctgrad::test::long_double_is_wider) {
        ctgrad::test::check_ulp_error(
            "cbrt_impl accuracy", p, [](double x) { return impl::cbrt_impl(x); },
            [](double x) { return std::cbrt(static_cast<long double>(x)); }, 1.0);
    }
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    std::vector<float> pf;
    ctgrad::test::add_logarithmic(pf, -149.0, 127.99, 5000, true);
    ctgrad::test::check_ulp_distance(
        "cbrt_impl vs std::cbrt (float)", pf, [](float x) { return impl::cbrt_impl(x); },
        [](float x) { return std::cbrt(x); }, 1);
    std::vector<long double> pl;
    ctgrad::test::add_logarithmic(pl, -16440.0, 16383.0, 2000, true);
    ctgrad::test::check_long_double(
        "cbrt_impl (long double)", pl, [](long double x) { return impl::cbrt_impl(x); },
        [](long double x) { return std::cbrt(x); }, 1.0);
}
BOOST_AUTO_TEST_CASE(exact_cubes_are_exact) {
    for (std::int64_t n = -200000; n <= 200000; n += 7) {
        const auto cube = static_cast<double>(n * n * n);
        BOOST_TEST(impl::cbrt_impl(cube) == static_cast<double>(n), "cbrt(" << n << "^3)");
    }
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    ctgrad::test::check_bit_identical(
        "math::cbrt vs std::cbrt", cbrt_points(), [](double x) { return cm::cbrt(x); },
        [](double x) { return std::cbrt(x); });
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pow_function)
BOOST_AUTO_TEST_CASE(constexpr_path_is_within_1_ulp_of_the_exact_value) {
    std::uint64_t distance = 0;
    double error = 0;
    pow_point at_distance{};
    pow_point at_error{};
    const auto points = pow_points();
    for (const pow_point& p : points) {
        const double ours = impl::pow_impl(p.x, p.y);
        const std::uint64_t d = ctgrad::test::ulp_distance(ours, std::pow(p.x, p.y));
        if (d > distance) {
            distance = d;
            at_distance = p;
        }
        if constexpr (ctgrad::test::long_double_is_wider) {
            const double e = ctgrad::test::ulp_error(
                ours, std::pow(static_cast<long double>(p.x), static_cast<long double>(p.y)));
            if (e > error) {
                error = e;
                at_error = p;
            }
        }
    }
    BOOST_TEST_MESSAGE("pow_impl vs std::pow: at most "
                       << distance << " ulp apart, error at most " << std::setprecision(3) << error
                       << " ulp over " << points.size() << " points");
    BOOST_TEST(distance <= 2u, "pow_impl vs std::pow: " << distance << " ulp apart at "
                                                        << std::setprecision(17) << at_distance.x
                                                        << ", " << at_distance.y);
    BOOST_TEST(error <= 1.0, "pow_impl accuracy: " << error << " ulp at " << std::setprecision(17)
                                                   << at_error.x << ", " << at_error.y);
}
BOOST_AUTO_TEST_CASE(float_and_long_double) {
    ctgrad::test::sample_source s(4);
    std::uint64_t distance = 0;
    for (int i = 0; i < 10000; ++i) {
        const auto x = static_cast<float>(std::exp2(-30.0 + 60.0 * s.next()));
        const auto y = static_cast<float>(-20.0 + 40.0 * s.next());
        const std::uint64_t d = ctgrad::test::ulp_distance(impl::pow_impl(x, y), std::pow(x, y));
        distance = d > distance ? d : distance;
        const long double xl = std::exp2(-1000.0L + 2000.0L * s.next());
        const long double yl = -10.0L + 20.0L * s.next();
        const long double a = impl::pow_impl(xl, yl);
        const long double b = std::pow(xl, yl);
        if (b != 0 && std::isfinite(b)) {
            BOOST_TEST(std::fabs((a - b) / b) <= std::numeric_limits<double>::epsilon(),
                       "pow_impl (long double) at " << xl << ", " << yl);
        }
    }
    BOOST_TEST_MESSAGE("pow_impl vs std::pow (float): at most " << distance << " ulp apart");
    BOOST_TEST(distance <= 1u);
}
BOOST_AUTO_TEST_CASE(representable_integral_powers_are_exact) {
    for (const std::int64_t base : {2, 3, 5, 7, 10, 11, -3, -6}) {
        std::int64_t power = 1;
        for (int n = 0; n <= 60; ++n) {
            const auto b = static_cast<double>(base);
            BOOST_TEST(impl::pow_impl(b, static_cast<double>(n)) == static_cast<double>(power),
                       base << "^" << n);
            if (std::abs(power) > (std::int64_t{1} << 53) / std::abs(base)) {
                break;  // the next power is not exactly representable
            }
            power *= base;
        }
    }
    for (int n = -1074; n <= 1023; ++n) {
        BOOST_TEST(impl::pow_impl(2.0, static_cast<double>(n)) == std::ldexp(1.0, n), "2^" << n);
    }
}
BOOST_AUTO_TEST_CASE(run_time_is_std_bit_for_bit) {
    std::size_t mismatches = 0;
    for (const pow_point& p : pow_points()) {
        const double a = cm::pow(p.x, p.y);
        const double b = std::pow(p.x, p.y);
        mismatches += std::bit_cast<std::uint64_t>(a) != std::bit_cast<std::uint64_t>(b) ? 1 : 0;
    }
    BOOST_TEST(mismatches == 0u);
    BOOST_TEST(cm::pow(2.5, 3) == std::pow(2.5, 3));
    BOOST_TEST(cm::pow(2.5f, 0.5) == std::pow(2.5f, 0.5));
}
BOOST_AUTO_TEST_SUITE_END()
