// The exp/log family: laws at points across the domain and near its edges, IEEE edge cases,
// compile-time values.
#define BOOST_TEST_MODULE ops_exp_log
#include <cmath>
#include <limits>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;
using ctgrad::test::ly;

static_assert(ctgrad::value(ctgrad::exp(lx), lx = 0.0) == 1.0);
static_assert(ctgrad::gradient(ctgrad::exp(lx), lx = 0.0)[lx] == 1.0);
static_assert(ctgrad::value(ctgrad::log(lx), lx = 1.0) == 0.0);
static_assert(ctgrad::gradient(ctgrad::log(lx), lx = 4.0)[lx] == 0.25);
static_assert(ctgrad::gradient(ctgrad::log1p(lx), lx = 1.0)[lx] == 0.5);
static_assert(ctgrad::value(ctgrad::exp(lx), lx = 710.0) ==
              std::numeric_limits<double>::infinity());
static_assert(ctgrad::value(ctgrad::log(lx), lx = 0.0) == -std::numeric_limits<double>::infinity());

BOOST_AUTO_TEST_SUITE(exp_op)
BOOST_DATA_TEST_CASE(laws,
                     bdata::make({-700.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 20.0, 700.0}),
                     x) {
    // At |x| = 700 the step (scaled by |x|) is 4e-3 and the central difference's truncation
    // error h^2/6 is 3e-6 relative: the tolerance allows for it.
    ctgrad::test::check_unary_laws<ctgrad::ops::exp_op>([](double t) { return std::exp(t); }, x,
                                                        -1e308, 1e-5);
}
BOOST_AUTO_TEST_CASE(overflows_to_inf_not_nan) {
    const auto g = ctgrad::gradient(ctgrad::exp(lx), lx = 710.0);
    BOOST_TEST(std::isinf(g.value));
    BOOST_TEST(std::isinf(g[lx]));
    BOOST_TEST(ctgrad::value(ctgrad::exp(lx), lx = -1000.0) == 0.0);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({1e-300, 1e-8, 0.01, 0.5, 1.0, 2.0, 1e8, 1e300}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::log_op>([](double t) { return std::log(t); }, x,
                                                        0.0);
}
BOOST_AUTO_TEST_CASE(edges_are_ieee) {
    const auto g0 = ctgrad::gradient(ctgrad::log(lx), lx = 0.0);
    BOOST_TEST((g0.value == -std::numeric_limits<double>::infinity()));
    BOOST_TEST((g0[lx] == std::numeric_limits<double>::infinity()));
    BOOST_TEST(std::isnan(ctgrad::value(ctgrad::log(lx), lx = -1.0)));
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log1p_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-0.999, -0.5, -1e-10, 0.0, 1e-10, 0.5, 3.0, 1e10}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::log1p_op>([](double t) { return std::log1p(t); }, x,
                                                          -1.0);
}
BOOST_AUTO_TEST_CASE(edge_at_minus_one) {
    BOOST_TEST(
        (ctgrad::value(ctgrad::log1p(lx), lx = -1.0) == -std::numeric_limits<double>::infinity()));
    BOOST_TEST(ctgrad::value(ctgrad::log1p(lx), lx = 1e-300) == 1e-300);  // accurate near 0
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(xlogy_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-2.0, -0.5, 0.25, 1.0, 3.0}) * bdata::make({0.1, 0.5, 2.0}),
                     a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::xlogy_op>(
        [](double s, double t) { return s * std::log(t); }, a, b);
}
BOOST_AUTO_TEST_CASE(zero_first_argument_is_a_zero_term) {
    // 0·log 0 and 0·log(negative) are 0, not NaN, and pass no derivative to b
    for (const double b : {0.0, -1.0, 0.5}) {
        const auto g = ctgrad::gradient(ctgrad::xlogy(lx, ly), lx = 0.0, ly = b);
        BOOST_TEST(g.value == 0.0);
        BOOST_TEST(g[ly] == 0.0);
    }
    BOOST_TEST(ctgrad::gradient(ctgrad::xlogy(lx, ly), lx = 0.0, ly = 2.0)[lx] == std::log(2.0));
}
static_assert(ctgrad::value(ctgrad::xlogy(lx, ly), lx = 0.0, ly = 0.0) == 0.0);
BOOST_AUTO_TEST_SUITE_END()
