// The power family: sqrt, square, pow.
#define BOOST_TEST_MODULE ops_power
#include <cmath>
#include <limits>
#include <tuple>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;
using ctgrad::test::ly;
using namespace ctgrad::literals;

static_assert(ctgrad::value(ctgrad::sqrt(lx), lx = 4.0) == 2.0);
static_assert(ctgrad::gradient(ctgrad::sqrt(lx), lx = 4.0)[lx] == 0.25);
static_assert(ctgrad::gradient(ctgrad::sqrt(lx), lx = 0.0)[lx] ==
              std::numeric_limits<double>::infinity());
static_assert(ctgrad::gradient(ctgrad::square(lx), lx = 3.0)[lx] == 6.0);
static_assert(ctgrad::gradient(ctgrad::pow(lx, 3), lx = 2.0)[lx] == 12.0);
static_assert(ctgrad::gradient(ctgrad::pow(lx, 3_c), lx = 2.0)[lx] == 12.0);

BOOST_AUTO_TEST_SUITE(sqrt_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({1e-300, 1e-10, 0.25, 1.0, 2.0, 1e10, 1e300}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::sqrt_op>([](double t) { return std::sqrt(t); }, x,
                                                         0.0);
}
BOOST_AUTO_TEST_CASE(derivative_at_zero_is_inf) {
    const auto g = ctgrad::gradient(ctgrad::sqrt(lx), lx = 0.0);
    BOOST_TEST(g.value == 0.0);
    BOOST_TEST((g[lx] == std::numeric_limits<double>::infinity()));
    BOOST_TEST(std::isnan(ctgrad::value(ctgrad::sqrt(lx), lx = -1.0)));
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(square_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-1e100, -3.0, -1e-9, 0.0, 0.5, 7.0, 1e100}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::square_op>([](double t) { return t * t; }, x);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pow_op)
BOOST_DATA_TEST_CASE(laws,
                     bdata::make({0.1, 0.5, 1.0, 2.0, 3.7}) *
                         bdata::make({-2.5, -1.0, 0.0, 0.5, 1.0, 3.0}),
                     a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::pow_op>(
        [](double u, double v) { return std::pow(u, v); }, a, b);
}
BOOST_AUTO_TEST_CASE(constant_exponent_and_constant_base) {
    BOOST_TEST(ctgrad::gradient(ctgrad::pow(lx, 2.0), lx = 0.0)[lx] == 0.0);  // 2 * 0^1
    BOOST_TEST(ctgrad::gradient(ctgrad::pow(lx, 3), lx = -2.0)[lx] == 12.0);
    BOOST_TEST(ctgrad::gradient(ctgrad::pow(2.0, lx), lx = 3.0)[lx] == 8.0 * std::log(2.0),
               boost::test_tools::tolerance(1e-15));
}
BOOST_AUTO_TEST_CASE(base_partial_of_a_zero_power_is_zero_not_nan) {
    // a^0 = 1 for every a: its derivative is 0, also at a = 0 where b a^(b-1) = 0 * inf.
    const auto g = ctgrad::gradient(ctgrad::pow(lx, ly), lx = 0.0, ly = 0.0);
    BOOST_TEST(g.value == 1.0);
    BOOST_TEST(g[lx] == 0.0);
    BOOST_TEST(ctgrad::gradient(ctgrad::pow(lx, 0.0), lx = 0.0)[lx] == 0.0);
    BOOST_TEST(ctgrad::gradient(ctgrad::pow(lx, 0.0), lx = -3.0)[lx] == 0.0);
}
static_assert(ctgrad::gradient(ctgrad::pow(lx, 0.0), lx = 0.0)[lx] == 0.0);
BOOST_AUTO_TEST_CASE(exponent_partial_at_zero_base_is_zero_not_nan) {
    const auto g = ctgrad::gradient(ctgrad::pow(lx, ly), lx = 0.0, ly = 2.0);
    BOOST_TEST(g.value == 0.0);
    BOOST_TEST(g[lx] == 0.0);
    BOOST_TEST(g[ly] == 0.0);
}
BOOST_AUTO_TEST_SUITE_END()
