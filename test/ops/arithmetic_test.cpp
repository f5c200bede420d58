// The arithmetic family: + - * / and unary -, with numbers mixed in.
#define BOOST_TEST_MODULE ops_arithmetic
#include <cmath>
#include <limits>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;
using ctgrad::test::ly;
using namespace ctgrad::literals;

static_assert(ctgrad::gradient(lx / ly, lx = 1.0, ly = 2.0)[ly] == -0.25);
static_assert(ctgrad::gradient(-lx, lx = 1.0)[lx] == -1.0);
static_assert(ctgrad::gradient(lx - ly, lx = 1.0, ly = 2.0)[ly] == -1.0);
// Division by zero is IEEE also in a constant expression.
static_assert(ctgrad::value(1_c / lx, lx = 0.0) == std::numeric_limits<double>::infinity());
static_assert(ctgrad::value(1_c / lx, lx = -0.0) == -std::numeric_limits<double>::infinity());
// Exact literals: -2_c is a literal, 0.5_c is 1/2, 1e-3_c is 1/1000.
static_assert(std::is_same_v<decltype(-2_c), ctgrad::literal<-2>>);
static_assert(std::is_same_v<decltype(0.5_c), ctgrad::literal<1, 2>>);
static_assert(std::is_same_v<decltype(1e-3_c), ctgrad::literal<1, 1000>>);
static_assert(std::is_same_v<decltype(2.50e1_c), ctgrad::literal<25>>);
static_assert(
    std::is_same_v<std::remove_cv_t<decltype(ctgrad::lit<6, -4>)>, ctgrad::literal<-3, 2>>);
static_assert(ctgrad::literal<1, 10>::as<double>() == 0.1);

BOOST_AUTO_TEST_SUITE(add_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-3.0, 0.0, 2.5}) * bdata::make({-1e5, 1.0}), a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::add_op>([](double u, double v) { return u + v; },
                                                         a, b);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sub_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-3.0, 0.0, 2.5}) * bdata::make({-1e5, 1.0}), a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::sub_op>([](double u, double v) { return u - v; },
                                                         a, b);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mul_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-3.0, 0.0, 2.5}) * bdata::make({-1e5, 1.0}), a, b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::mul_op>([](double u, double v) { return u * v; },
                                                         a, b);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(div_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-3.0, 0.0, 2.5}) * bdata::make({-1e5, -0.5, 1.0, 7.0}), a,
                     b) {
    ctgrad::test::check_binary_laws<ctgrad::ops::div_op>([](double u, double v) { return u / v; },
                                                         a, b);
}
BOOST_AUTO_TEST_CASE(division_by_zero_is_ieee) {
    const auto g = ctgrad::gradient(lx / ly, lx = 1.0, ly = 0.0);
    BOOST_TEST(std::isinf(g.value));
    BOOST_TEST(std::isnan(ctgrad::value(lx / ly, lx = 0.0, ly = 0.0)));
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reciprocal_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-1e5, -3.0, -0.1, 0.5, 7.0}), a) {
    ctgrad::test::check_unary_laws<ctgrad::ops::reciprocal_op>([](double u) { return 1.0 / u; }, a);
}
BOOST_AUTO_TEST_CASE(one_over_e_builds_the_reciprocal_with_the_same_value) {
    using ctgrad::literals::operator""_c;
    const auto r = 1_c / (lx + 1.0);
    static_assert(std::is_same_v<typename decltype(r)::op, ctgrad::ops::reciprocal_op>);
    for (double a : {-2.5, 0.25, 3.0, 1e10}) {
        BOOST_TEST(ctgrad::value(r, lx = a) == 1.0 / (a + 1.0));  // bit for bit
    }
    BOOST_TEST(ctgrad::to_string(r) == "1 / (x + 1)");
    BOOST_TEST(ctgrad::to_string(2.0 / (1_c / lx)) == "2 / (1 / x)");
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(neg_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-3.0, 0.0, 2.5}), a) {
    ctgrad::test::check_unary_laws<ctgrad::ops::neg_op>([](double u) { return -u; }, a);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(numbers_mix_in_on_either_side) {
    BOOST_TEST(ctgrad::value(2 * lx + 1.5, lx = 2.0) == 5.5);
    BOOST_TEST(ctgrad::value(1.5 - lx / 4.0f, lx = 2.0) == 1.0);
    BOOST_TEST(ctgrad::gradient(3 / lx, lx = 2.0)[lx] == -0.75);
    BOOST_TEST(ctgrad::gradient(2 * lx + 1.5, lx = 2.0)[lx] == 2.0);
}
