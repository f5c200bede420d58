// The hyperbolic family: tanh.
#define BOOST_TEST_MODULE ops_hyperbolic
#include <cmath>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;

static_assert(ctgrad::value(ctgrad::tanh(lx), lx = 0.0) == 0.0);
static_assert(ctgrad::gradient(ctgrad::tanh(lx), lx = 0.0)[lx] == 1.0);
static_assert(ctgrad::value(ctgrad::tanh(lx), lx = 30.0) == 1.0);
static_assert(ctgrad::gradient(ctgrad::tanh(lx), lx = -30.0)[lx] == 0.0);

BOOST_AUTO_TEST_SUITE(tanh_op)
BOOST_DATA_TEST_CASE(laws, bdata::make({-8.0, -3.0, -1.0, -1e-9, 0.0, 0.3, 1.0, 2.5, 8.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::tanh_op>([](double t) { return std::tanh(t); }, x);
}
BOOST_DATA_TEST_CASE(saturates_without_nan, bdata::make({-1000.0, -30.0, 30.0, 1000.0}), x) {
    const auto g = ctgrad::gradient(ctgrad::tanh(lx), lx = x);
    BOOST_TEST(std::abs(g.value) == 1.0);
    BOOST_TEST(g[lx] == 0.0);
    const auto h = ctgrad::hessian(ctgrad::tanh(lx), lx = x);
    BOOST_TEST(!std::isnan(h(lx, lx)));
}
BOOST_AUTO_TEST_SUITE_END()
