// ad/hessian (see hessian_test.cpp): the op families, trigonometric, hyperbolic, special,
// activation and piecewise.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include "hessian_check.hpp"

using namespace hessian_check;

BOOST_AUTO_TEST_SUITE(families)

BOOST_AUTO_TEST_CASE(trig) {
    check_points(ctgrad::sin(x * y) * ctgrad::cos(x - y));
}

BOOST_AUTO_TEST_CASE(hyperbolic) {
    check_points(ctgrad::tanh(x * y + 0.5 * x) * y);
}

BOOST_AUTO_TEST_CASE(special) {
    check_points(ctgrad::erf(x * y) + ctgrad::erfc(x - y) * x);
}

BOOST_AUTO_TEST_CASE(activation) {
    check_points(ctgrad::sigmoid(x * y - x) * x);
}

BOOST_AUTO_TEST_CASE(piecewise_away_from_kinks) {
    const auto f = ctgrad::relu(x * y - 1.0) * x + ctgrad::abs(x - y) * x +
                   ctgrad::max(x * x, y) * y + ctgrad::min(x, y * y) * x;
    check_points(f);
    // relu on its flat side, abs on both sides.
    check_hessian(ctgrad::relu(x - y) * x * y, 0.5, 1.5);
    check_hessian(ctgrad::abs(x - y) * x * y, 0.5, 1.5);
}

BOOST_AUTO_TEST_SUITE_END()
