// The piecewise family: relu, abs, min, max and their subgradient conventions.
#define BOOST_TEST_MODULE ops_piecewise
#include <cmath>
#include <limits>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;
using ctgrad::test::ly;

// The conventions, at compile time: relu'(0) = 0, abs'(0) = 0, ties go to the first argument.
static_assert(ctgrad::gradient(ctgrad::relu(lx), lx = 0.0)[lx] == 0.0);
static_assert(ctgrad::gradient(ctgrad::relu(lx), lx = 2.0)[lx] == 1.0);
static_assert(ctgrad::gradient(ctgrad::abs(lx), lx = 0.0)[lx] == 0.0);
static_assert(ctgrad::gradient(ctgrad::abs(lx), lx = -3.0)[lx] == -1.0);
static_assert(ctgrad::gradient(ctgrad::max(lx, ly), lx = 1.0, ly = 1.0)[lx] == 1.0);
static_assert(ctgrad::gradient(ctgrad::max(lx, ly), lx = 1.0, ly = 1.0)[ly] == 0.0);
static_assert(ctgrad::gradient(ctgrad::min(lx, ly), lx = 1.0, ly = 1.0)[lx] == 1.0);
static_assert(ctgrad::gradient(ctgrad::min(lx, ly), lx = 1.0, ly = 1.0)[ly] == 0.0);
static_assert(ctgrad::value(ctgrad::abs(lx), lx = -0.0) == 0.0);

BOOST_AUTO_TEST_SUITE(relu_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-5.0, -0.5, 1e-3, 2.0, 1e10}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::relu_op>([](double t) { return t > 0 ? t : 0.0; },
                                                         x);
}
BOOST_AUTO_TEST_CASE(subgradient_at_zero_is_zero) {
    const auto g = ctgrad::gradient(ctgrad::relu(lx), lx = 0.0);
    BOOST_TEST(g.value == 0.0);
    BOOST_TEST(g[lx] == 0.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::relu(lx), lx), lx = 0.0) == 0.0);
    BOOST_TEST(std::isnan(ctgrad::value(ctgrad::relu(lx), lx = std::nan(""))));
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(abs_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-5.0, -1e-3, 1e-3, 2.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::abs_op>([](double t) { return std::fabs(t); }, x);
}
BOOST_AUTO_TEST_CASE(subgradient_at_zero_is_zero) {
    BOOST_TEST(ctgrad::gradient(ctgrad::abs(lx), lx = 0.0)[lx] == 0.0);
    BOOST_TEST(ctgrad::gradient(ctgrad::abs(lx), lx = -0.0)[lx] == 0.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::abs(lx), lx), lx = 0.0) == 0.0);
    BOOST_TEST(!std::signbit(ctgrad::value(ctgrad::abs(lx), lx = -0.0)));
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(max_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-2.0, 0.5, 3.0}) * bdata::make({-1.0, 1.0, 2.5}), a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::max_op>(
        [](double u, double v) { return u >= v ? u : v; }, a, b);
}
BOOST_AUTO_TEST_CASE(tie_sends_the_gradient_to_the_first_argument) {
    const auto g = ctgrad::gradient(ctgrad::max(lx, ly), lx = 2.0, ly = 2.0);
    BOOST_TEST(g[lx] == 1.0);
    BOOST_TEST(g[ly] == 0.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::max(lx, ly), lx), lx = 2.0, ly = 2.0) == 1.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::max(lx, ly), ly), lx = 2.0, ly = 2.0) == 0.0);
    // With a number: max(x, 0.0) is relu except at the tie, where x (the first) gets it.
    BOOST_TEST(ctgrad::gradient(ctgrad::max(lx, 0.0), lx = 0.0)[lx] == 1.0);
    BOOST_TEST(ctgrad::gradient(ctgrad::max(0.0, lx), lx = 0.0)[lx] == 0.0);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(min_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-2.0, 0.5, 3.0}) * bdata::make({-1.0, 1.0, 2.5}), a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::min_op>(
        [](double u, double v) { return u <= v ? u : v; }, a, b);
}
BOOST_AUTO_TEST_CASE(tie_sends_the_gradient_to_the_first_argument) {
    const auto g = ctgrad::gradient(ctgrad::min(lx, ly), lx = -1.0, ly = -1.0);
    BOOST_TEST(g[lx] == 1.0);
    BOOST_TEST(g[ly] == 0.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::min(lx, ly), lx), lx = -1.0, ly = -1.0) == 1.0);
    BOOST_TEST(ctgrad::value(ctgrad::d(ctgrad::min(lx, ly), ly), lx = -1.0, ly = -1.0) == 0.0);
}
BOOST_AUTO_TEST_SUITE_END()
