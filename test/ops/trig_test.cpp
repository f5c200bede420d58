// The trigonometric family: sin, cos.
#define BOOST_TEST_MODULE ops_trig
#include <cmath>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;

static_assert(ctgrad::value(ctgrad::sin(lx), lx = 0.0) == 0.0);
static_assert(ctgrad::gradient(ctgrad::sin(lx), lx = 0.0)[lx] == 1.0);
static_assert(ctgrad::value(ctgrad::cos(lx), lx = 0.0) == 1.0);
static_assert(ctgrad::gradient(ctgrad::cos(lx), lx = 0.0)[lx] == 0.0);

BOOST_AUTO_TEST_SUITE(sin_op)
BOOST_DATA_TEST_CASE(laws,
                     bdata::make({-30.0, -3.14159, -1.0, -1e-9, 0.0, 0.7, 1.5707963267948966, 3.0,
                                  100.0}),
                     x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::sin_op>([](double t) { return std::sin(t); }, x);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cos_op)
BOOST_DATA_TEST_CASE(
    laws, bdata::make({-30.0, -3.14159, -1.0, 0.0, 1e-9, 0.7, 1.5707963267948966, 3.0, 100.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::cos_op>([](double t) { return std::cos(t); }, x);
}
BOOST_AUTO_TEST_SUITE_END()
