// Test support: the laws every differentiable op must obey, checked at sample points.
//  1. the reverse sweep's partial matches a central finite difference of value;
//  2. the symbolic derivative d(f, x) evaluates to the reverse sweep's partial;
//  3. the Hessian's diagonal matches a finite difference of the gradient;
//  4. the forward value equals the reference (std::) function bit for bit.
// Each family test calls these for each op over points inside its domain and near its edges.
#pragma once

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "finite_difference.hpp"

namespace ctgrad::test {

inline constexpr auto lx = ctgrad::var<"x">;
inline constexpr auto ly = ctgrad::var<"y">;

/// Checks the laws for a unary op at x; `reference` is the plain std:: formula.
/// `lower` is the lower edge of the op's domain (finite differences stay inside it).
template <class Op, class Ref>
void check_unary_laws(Ref reference, double x, double lower = -1e308, double fd_tol = 1e-6) {
    const double step = fd_step(x, lower);
    const auto f = make_node<Op>(lx);
    const auto g = ctgrad::gradient(f, lx = x);
    BOOST_TEST_CONTEXT(Op::name << " at x = " << x) {
        BOOST_TEST(ctgrad::value(f, lx = x) == reference(x));
        BOOST_TEST(g.value == reference(x));
        const double fd =
            central_difference([&](double t) { return ctgrad::value(f, lx = t); }, x, step);
        BOOST_TEST(fd_agrees(g[lx], fd, g.value, step, fd_tol),
                   "reverse partial " << g[lx] << " vs central difference " << fd);
        const double sym = ctgrad::value(ctgrad::d(f, lx), lx = x);
        BOOST_TEST(close(sym, g[lx], 1e-13), "symbolic " << sym << " vs reverse " << g[lx]);
        const auto h = ctgrad::hessian(f, lx = x);
        const double fd2 =
            central_difference([&](double t) { return ctgrad::gradient(f, lx = t)[lx]; }, x, step);
        BOOST_TEST(fd_agrees(h(lx, lx), fd2, g[lx], step, fd_tol * 10),
                   "hessian " << h(lx, lx) << " vs fd of gradient " << fd2);
    }
}

/// Checks the laws for a binary op at (a, b).
template <class Op, class Ref>
void check_binary_laws(Ref reference, double a, double b, double fd_tol = 1e-6) {
    const auto f = make_node<Op>(lx, ly);
    const auto g = ctgrad::gradient(f, lx = a, ly = b);
    BOOST_TEST_CONTEXT(Op::name << " at (" << a << ", " << b << ")") {
        BOOST_TEST(g.value == reference(a, b));
        const double ha = fd_step(a);
        const double hb = fd_step(b);
        const double fdx =
            central_difference([&](double t) { return ctgrad::value(f, lx = t, ly = b); }, a, ha);
        const double fdy =
            central_difference([&](double t) { return ctgrad::value(f, lx = a, ly = t); }, b, hb);
        BOOST_TEST(fd_agrees(g[lx], fdx, g.value, ha, fd_tol), "d/dx " << g[lx] << " vs " << fdx);
        BOOST_TEST(fd_agrees(g[ly], fdy, g.value, hb, fd_tol), "d/dy " << g[ly] << " vs " << fdy);
        BOOST_TEST(close(ctgrad::value(ctgrad::d(f, lx), lx = a, ly = b), g[lx], 1e-13));
        BOOST_TEST(close(ctgrad::value(ctgrad::d(f, ly), lx = a, ly = b), g[ly], 1e-13));
        const auto h = ctgrad::hessian(f, lx = a, ly = b);
        const double fxy = central_difference(
            [&](double t) { return ctgrad::gradient(f, lx = a, ly = t)[lx]; }, b, hb);
        const double fyx = central_difference(
            [&](double t) { return ctgrad::gradient(f, lx = t, ly = b)[ly]; }, a, ha);
        BOOST_TEST(fd_agrees(h(lx, ly), fxy, g[lx], hb, fd_tol * 10),
                   "h(x,y) " << h(lx, ly) << " vs " << fxy);
        BOOST_TEST(fd_agrees(h(ly, lx), fyx, g[ly], ha, fd_tol * 10),
                   "h(y,x) " << h(ly, lx) << " vs " << fyx);
    }
}

}  // namespace ctgrad::test
