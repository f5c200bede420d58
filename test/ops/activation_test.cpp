// The activation family: sigmoid.
#define BOOST_TEST_MODULE ops_activation
#include <cmath>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/laws.hpp"

namespace bdata = boost::unit_test::data;
using ctgrad::test::lx;

static_assert(ctgrad::value(ctgrad::sigmoid(lx), lx = 0.0) == 0.5);
static_assert(ctgrad::gradient(ctgrad::sigmoid(lx), lx = 0.0)[lx] == 0.25);
static_assert(ctgrad::value(ctgrad::sigmoid(lx), lx = 800.0) == 1.0);
static_assert(ctgrad::value(ctgrad::sigmoid(lx), lx = -800.0) == 0.0);

namespace {
// The reference is whatever math::sigmoid computes at run time: test it against the formula.
double reference(double t) {
    return ctgrad::math::sigmoid(t);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(sigmoid_op)
// Not beyond x = 15 on the positive side: there the derivative s(1 - s), computed from the output
// s as every reverse-mode library does, has relative error about eps / (1 - s) (1e-3 at x = 30),
// and a finite difference of it says nothing. saturated_derivative checks that region.
BOOST_DATA_TEST_CASE(laws, bdata::make({-30.0, -5.0, -1.0, 0.0, 0.5, 2.0, 15.0}), x) {
    ctgrad::test::check_unary_laws<ctgrad::ops::sigmoid_op>(reference, x);
    BOOST_TEST(reference(x) == 1.0 / (1.0 + std::exp(-x)), boost::test_tools::tolerance(1e-15));
}
BOOST_DATA_TEST_CASE(saturated_derivative, bdata::make({20.0, 30.0, 36.0}), x) {
    // s'(x) = e^-x / (1 + e^-x)^2; from s(1 - s) it is right to eps / e^-x relative.
    const double exact = std::exp(-x) / ((1.0 + std::exp(-x)) * (1.0 + std::exp(-x)));
    const auto g = ctgrad::gradient(ctgrad::sigmoid(lx), lx = x);
    BOOST_TEST(g[lx] == exact, boost::test_tools::tolerance(4e-16 / std::exp(-x)));
}
BOOST_DATA_TEST_CASE(saturates_without_nan, bdata::make({-800.0, -50.0, 50.0, 800.0}), x) {
    const auto g = ctgrad::gradient(ctgrad::sigmoid(lx), lx = x);
    BOOST_TEST(!std::isnan(g.value));
    BOOST_TEST(!std::isnan(g[lx]));
    BOOST_TEST(g[lx] >= 0.0);
    BOOST_TEST(g[lx] < 1e-20);
}
BOOST_AUTO_TEST_SUITE_END()
