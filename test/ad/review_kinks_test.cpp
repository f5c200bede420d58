// An outside reviewer's second-order cases at kinks and limits, written only against the public
// API (DESIGN.md, docs/ops.md, docs/jacobian.md): value, gradient, hessian, jvp, hvp and
// jacobian (automatic, forced forward and forced reverse) of functions of 4 variables that
// repeat their variables, at points where relu/abs sit at 0, max/min tie, sqrt is near 0, pow
// has a negative base with an integer exponent, and log1p/erf take tiny arguments.
//
// The independent reference is a hyper-dual number written here (value, two first-order parts
// and the mixed part ε1ε2), with ctgrad's documented conventions (relu'(0) = abs'(0) = 0, a tie
// in max/min goes to the first argument, pow's d/db = 0 at a = 0 < b, a direction along which
// an argument does not move contributes nothing). Each function is written once as a generic
// lambda and evaluated both as a ctgrad expression and on the hyper-dual numbers. Away from the
// kinks, first and second derivatives are also checked against central differences; at exact
// points (integer arithmetic only) the results are checked in static_assert, which both g++ and
// clang++ must fold.
// (Jacobians and constant evaluation in review_kinks_jacobian_test.cpp; the harness in
// review_kinks_case.hpp.)
#define BOOST_TEST_MODULE ad_review_kinks
#include <boost/test/unit_test.hpp>

#include "review_kinks_case.hpp"

BOOST_AUTO_TEST_CASE(piecewise_at_kinks_match_the_reference) {
    for (const point& p : kink_points) {
        check_scalar("max/min", f_max_min, p, false);
        check_scalar("relu/abs", f_relu_abs, p, false);
    }
}

BOOST_AUTO_TEST_CASE(piecewise_away_from_kinks_match_reference_and_differences) {
    const std::array<point, 3> pts = {
        {{1.3, 0.7, 2.1, -0.4}, {-0.8, 1.9, 0.3, 1.1}, {2.2, -1.4, -0.6, 0.9}}};
    for (const point& p : pts) {
        check_scalar("max/min", f_max_min, p, true);
        check_scalar("relu/abs", f_relu_abs, p, true);
    }
}

BOOST_AUTO_TEST_CASE(pow_with_negative_bases_and_integer_exponents) {
    // c < 0 with an integer exponent e: pow(c, e) is defined, its d/de is NaN (ln c), the
    // others must stay finite. a < 0 with constant exponents 3 and 2: no NaN at all.
    const std::array<point, 5> pts = {
        {{-2, 1.5, -3, 2}, {-1, -0.5, -2, 3}, {-2, 1, 2, 0}, {1.25, -1, 0, 2}, {0.5, 2, 0, 3}}};
    for (const point& p : pts) {
        check_scalar("pow", f_pow, p, p[2] > 0);
    }
    check_scalar("pow", f_pow, {0.7, 1.3, 1.8, 0.6}, true);
}
