// ad/hessian (see hessian_test.cpp): the op families, arithmetic, exp/log and powers.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include "hessian_check.hpp"

using namespace hessian_check;

BOOST_AUTO_TEST_SUITE(families)

BOOST_AUTO_TEST_CASE(arithmetic) {
    check_points(x * x * y + x / y - y / (x + 3.0) + (-x) * y * y + 1_c / (x * y));
}

BOOST_AUTO_TEST_CASE(exp_log) {
    check_points(ctgrad::exp(x * y) + ctgrad::log(x + y * y) + ctgrad::log1p(x * y) +
                 ctgrad::xlogy(x, y));
}

BOOST_AUTO_TEST_CASE(power) {
    check_points(ctgrad::pow(x, y) + ctgrad::sqrt(x * y) + ctgrad::square(x - y) +
                 ctgrad::pow(x, 3) + ctgrad::pow(2.0, x * y) + ctgrad::pow(x * y, 1.5));
}

BOOST_AUTO_TEST_CASE(power_at_zero) {
    // pow(x, y) at y = 0: f_xy = 1/x (the convention d/dx = 0 at y = 0 is about the value).
    const auto h = ctgrad::hessian(ctgrad::pow(x, y), x = 0.5, y = 0.0);
    BOOST_TEST(h(x, y) == 2.0);
    BOOST_TEST(h(x, x) == 0.0);
    BOOST_TEST(h.gradient[x] == 0.0);
    // pow(x, 2.0) at 0 and pow(x, 3) at a negative base (no NaN from the constant exponent).
    BOOST_TEST(ctgrad::hessian(ctgrad::pow(x, 2.0), x = 0.0)(x, x) == 2.0);
    BOOST_TEST(ctgrad::hessian(ctgrad::pow(x, 3), x = -2.0)(x, x) == -12.0);
    // pow(2.0, x): the constant base's log term only.
    BOOST_TEST(close(ctgrad::hessian(ctgrad::pow(2.0, x), x = 3.0)(x, x),
                     8.0 * std::log(2.0) * std::log(2.0), 1e-15));
    // A constant base 0 with a moving exponent: 0^x = 0 for x > 0, all derivatives 0.
    BOOST_TEST(ctgrad::hessian(ctgrad::pow(0.0, x), x = 2.0)(x, x) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
