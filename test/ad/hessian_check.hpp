// The Hessian checks shared by the TUs of ad/hessian (hessian_test.cpp and
// hessian_families*_test.cpp: one executable in several TUs, so that the op families, each a set
// of hessian / gradient / symbolic instantiations, compile in parallel): the variables x, y, z,
// check_hessian and check_points.
#pragma once

#include <cmath>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace hessian_check {

using namespace ctgrad::literals;
using ctgrad::test::central_difference;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::fd_step;
using ctgrad::test::near;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

/// Checks every entry of the Hessian of f (a function of x and y) at (a, b): the value and the
/// gradient against gradient(), the symmetry, each entry against a central difference of the
/// gradient and against value(d(d(f, u), v)).
template <class F>
void check_hessian(const F& f, double a, double b, double sym_tol = 1e-12, double fd_tol = 1e-5) {
    BOOST_TEST_CONTEXT("at (" << a << ", " << b << ")") {
        const auto h = ctgrad::hessian(f, x = a, y = b);
        const auto g = ctgrad::gradient(f, x = a, y = b);
        BOOST_TEST(h.value == g.value);
        BOOST_TEST(close(h.gradient[x], g[x], 1e-15));
        BOOST_TEST(close(h.gradient[y], g[y], 1e-15));
        BOOST_TEST(h(x, y) == h(y, x));
        const double ha = fd_step(a);
        const double hb = fd_step(b);
        const double fxx = central_difference(
            [&](double t) { return ctgrad::gradient(f, x = t, y = b)[x]; }, a, ha);
        const double fxy = central_difference(
            [&](double t) { return ctgrad::gradient(f, x = a, y = t)[x]; }, b, hb);
        const double fyx = central_difference(
            [&](double t) { return ctgrad::gradient(f, x = t, y = b)[y]; }, a, ha);
        const double fyy = central_difference(
            [&](double t) { return ctgrad::gradient(f, x = a, y = t)[y]; }, b, hb);
        BOOST_TEST(fd_agrees(h(x, x), fxx, g[x], ha, fd_tol),
                   "h(x,x) " << h(x, x) << " vs " << fxx);
        BOOST_TEST(fd_agrees(h(x, y), fxy, g[x], hb, fd_tol),
                   "h(x,y) " << h(x, y) << " vs " << fxy);
        BOOST_TEST(fd_agrees(h(y, x), fyx, g[y], ha, fd_tol),
                   "h(y,x) " << h(y, x) << " vs " << fyx);
        BOOST_TEST(fd_agrees(h(y, y), fyy, g[y], hb, fd_tol),
                   "h(y,y) " << h(y, y) << " vs " << fyy);
        const double sxx = ctgrad::value(ctgrad::d(ctgrad::d(f, x), x), x = a, y = b);
        const double sxy = ctgrad::value(ctgrad::d(ctgrad::d(f, x), y), x = a, y = b);
        const double syy = ctgrad::value(ctgrad::d(ctgrad::d(f, y), y), x = a, y = b);
        BOOST_TEST(close(h(x, x), sxx, sym_tol), "h(x,x) " << h(x, x) << " vs symbolic " << sxx);
        BOOST_TEST(close(h(x, y), sxy, sym_tol), "h(x,y) " << h(x, y) << " vs symbolic " << sxy);
        BOOST_TEST(close(h(y, y), syy, sym_tol), "h(y,y) " << h(y, y) << " vs symbolic " << syy);
    }
}

template <class F>
void check_points(const F& f, double sym_tol = 1e-12) {
    for (const auto& [a, b] : {std::pair{0.7, 1.3}, std::pair{1.9, 0.4}, std::pair{2.5, 2.2}}) {
        check_hessian(f, a, b, sym_tol);
    }
}

}  // namespace hessian_check
