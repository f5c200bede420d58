// Special functions: erf, erfc.
#define BOOST_TEST_MODULE ops_special
#include <cmath>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;

static_assert(ctgrad::value(ctgrad::erf(lx), lx = 0.0) == 0.0);
static_assert(ctgrad::value(ctgrad::erfc(lx), lx = 0.0) == 1.0);
static_assert(ctgrad::gradient(ctgrad::erf(lx), lx = 0.0)[lx] == 2.0 / 1.7724538509055160273);

BOOST_AUTO_TEST_SUITE(erf_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-6.0, -2.0, -0.5, 0.0, 1e-9, 0.8, 3.0, 6.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::erf_op>([](double t) { return std::erf(t); }, x);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(erfc_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-6.0, -2.0, -0.5, 0.0, 0.8, 3.0, 10.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::erfc_op>([](double t) { return std::erfc(t); }, x);
}
BOOST_AUTO_TEST_SUITE_END()
