// An outside reviewer's scalar cases, written only against the public API (DESIGN.md): functions
// the other suites do not use (pow with a variable exponent, 1 and 9 inputs, compositions four
// deep, same-type subexpressions holding different numbers at several levels, reused `auto`
// pieces), each derivative checked against hand-written formulas, central differences and, where
// the arithmetic is exact, in static_assert.
#define BOOST_TEST_MODULE ad_review_scalar
#include <array>
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using namespace ctgrad::literals;
using ctgrad::along;
using ctgrad::test::central_difference;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::fd_step;
using ctgrad::test::near;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

// --- same type, different numbers ------------------------------------------------------------
// x*2.0 and x*3.0 have one type: the plan must keep both numbers.
static_assert(ctgrad::value(x * 2.0 + x * 3.0, x = 1.5) == 7.5);
static_assert(ctgrad::gradient(x * 2.0 + x * 3.0, x = 1.5)[x] == 5.0);
static_assert(ctgrad::gradient((x * 2.0) * (x * 3.0), x = 1.5)[x] == 18.0);  // 12x
static_assert(ctgrad::gradient((x + 1.0) / (x + 4.0), x = 2.0)[x] == 3.0 / 36.0);
static_assert(ctgrad::hessian((x * 2.0) * (x * 3.0), x = 1.5)(x, x) == 12.0);
static_assert(ctgrad::hessian((x * 2.0) * (y * 3.0) + (x * 5.0) * (y * 7.0), x = 1.0,
                              y = 1.0)(x, y) == 41.0);
static_assert(ctgrad::jvp(x * 2.0 + y * 3.0, along(x = 1.0, y = 1.0), x = 1.0, y = 1.0).tangent ==
              5.0);
static_assert(ctgrad::hvp((x * 2.0) * (x * 3.0), along(x = 2.0), x = 1.0)[x] == 24.0);

// Nested: a = x*2, b = x*3 (one type), then c = a*b and e = (a + 1)*(b + 1) whose halves again
// share a type: f = c + e = 6x² + 6x² + 5x + 1, f' = 24x + 5, f'' = 24.
constexpr double nested_value(double t) {
    const auto a = x * 2.0;
    const auto b = x * 3.0;
    return ctgrad::value(a * b + (a + 1.0) * (b + 1.0), x = t);
}
constexpr auto nested_gradient(double t) {
    const auto a = x * 2.0;
    const auto b = x * 3.0;
    return ctgrad::gradient(a * b + (a + 1.0) * (b + 1.0), x = t);
}
constexpr auto nested_hessian(double t) {
    const auto a = x * 2.0;
    const auto b = x * 3.0;
    return ctgrad::hessian(a * b + (a + 1.0) * (b + 1.0), x = t);
}
static_assert(nested_value(0.5) == 12 * 0.25 + 2.5 + 1);
static_assert(nested_gradient(0.5)[x] == 24 * 0.5 + 5);
static_assert(nested_hessian(0.5)(x, x) == 24.0);

// Three levels of reused `auto` pieces holding plain numbers (a few copies; the plan stays small).
// t0 = 0.5x + y, t_{k+1} = t_k² + c_k·t_k with c = 2, 3, 4 (different numbers, one type per
// level).
struct poly3 {
    double v, dx, dy;
};
constexpr poly3 poly3_hand(double a, double b) {
    double t = 0.5 * a + b, dtx = 0.5, dty = 1.0;
    const double c[3] = {2.0, 3.0, 4.0};
    for (double ck : c) {
        const double d = 2 * t + ck;
        dtx *= d;
        dty *= d;
        t = t * t + ck * t;
    }
    return {t, dtx, dty};
}
constexpr auto poly3_expr() {
    const auto t0 = 0.5 * x + y;
    const auto t1 = t0 * t0 + 2.0 * t0;
    const auto t2 = t1 * t1 + 3.0 * t1;
    return t2 * t2 + 4.0 * t2;
}
constexpr auto g_poly3 = ctgrad::gradient(poly3_expr(), x = 0.25, y = -0.5);
static_assert(g_poly3.value == poly3_hand(0.25, -0.5).v);
static_assert(near(g_poly3[x], poly3_hand(0.25, -0.5).dx, 1e-14));
static_assert(near(g_poly3[y], poly3_hand(0.25, -0.5).dy, 1e-14));
static_assert(near(ctgrad::hessian(poly3_expr(), x = 0.25, y = -0.5)(x, y) * 0.5,
                   ctgrad::hessian(poly3_expr(), x = 0.25, y = -0.5)(x, x), 1e-14));

// One input: a rational function (exact in constant evaluation with both compilers).
// f = (x³ − 2x) / (1 + x²): f' = (x⁴ + 5x² − 2) / (1 + x²)².
constexpr auto rational = (x * x * x - 2.0 * x) / (1.0 + x * x);
static_assert(near(ctgrad::gradient(rational, x = 0.75)[x],
                   (0.75 * 0.75 * 0.75 * 0.75 + 5 * 0.5625 - 2) / ((1 + 0.5625) * (1 + 0.5625)),
                   1e-15));

// Nine inputs, polynomial: every partial in static_assert.
constexpr auto a1 = ctgrad::var<"a1">;
constexpr auto a2 = ctgrad::var<"a2">;
constexpr auto a3 = ctgrad::var<"a3">;
constexpr auto a4 = ctgrad::var<"a4">;
constexpr auto a5 = ctgrad::var<"a5">;
constexpr auto a6 = ctgrad::var<"a6">;
constexpr auto a7 = ctgrad::var<"a7">;
constexpr auto a8 = ctgrad::var<"a8">;
constexpr auto a9 = ctgrad::var<"a9">;
constexpr auto poly9 = a1 * a2 * a3 + a4 * a5 - a6 * a6 * a7 + a8 / a9 + 3.0 * a1 * a9;
constexpr auto g9 = ctgrad::gradient(poly9, a1 = 1.0, a2 = 2.0, a3 = 3.0, a4 = 4.0, a5 = 5.0,
                                     a6 = 6.0, a7 = 7.0, a8 = 8.0, a9 = 0.5);
static_assert(g9.value == 6.0 + 20.0 - 252.0 + 16.0 + 1.5);
static_assert(g9[a1] == 6.0 + 1.5 && g9[a2] == 3.0 && g9[a3] == 2.0 && g9[a4] == 5.0 &&
              g9[a5] == 4.0 && g9[a6] == -84.0 && g9[a7] == -36.0 && g9[a8] == 2.0 &&
              g9[a9] == -32.0 + 3.0);
constexpr auto h9 = ctgrad::hessian(poly9, a1 = 1.0, a2 = 2.0, a3 = 3.0, a4 = 4.0, a5 = 5.0,
                                    a6 = 6.0, a7 = 7.0, a8 = 8.0, a9 = 0.5);
static_assert(h9(a1, a2) == 3.0 && h9(a2, a3) == 1.0 && h9(a6, a6) == -14.0 &&
              h9(a6, a7) == -12.0 && h9(a8, a9) == -4.0 && h9(a9, a9) == 128.0 &&
              h9(a1, a9) == 3.0 && h9(a4, a6) == 0.0 && h9(a9, a8) == h9(a8, a9));

// pow with a variable exponent, in constant evaluation with both compilers: at x = 1 the value is
// 1 whatever the exponent and ∂/∂y = y·x^y·ln x = 0; ∂/∂x = y.
static_assert(ctgrad::gradient(ctgrad::pow(x, y), x = 1.0, y = 2.5)[x] == 2.5);
static_assert(ctgrad::gradient(ctgrad::pow(x, y), x = 1.0, y = 2.5)[y] == 0.0);

// ---- run time: the same cases at many points, against formulas and central differences -------

double fd_x(auto f, double a, double b) {
    return central_difference([&](double t) { return ctgrad::value(f, x = t, y = b); }, a);
}
double fd_y(auto f, double a, double b) {
    return central_difference([&](double t) { return ctgrad::value(f, x = a, y = t); }, b);
}

}  // namespace

BOOST_AUTO_TEST_CASE(pow_with_variable_exponent) {
    // f = pow(x, y) and g = pow(2 + sin x, x·y): against the formulas and central differences.
    const auto f = ctgrad::pow(x, y);
    const auto g = ctgrad::pow(2.0 + ctgrad::sin(x), x * y);
    for (double a : {0.3, 1.0, 1.7, 4.2}) {
        for (double b : {-1.5, -0.25, 0.5, 2.0, 3.0}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const auto gf = ctgrad::gradient(f, x = a, y = b);
                BOOST_TEST(close(gf.value, std::pow(a, b), 1e-15));
                BOOST_TEST(close(gf[x], b * std::pow(a, b - 1), 1e-14));
                BOOST_TEST((close(gf[y], std::pow(a, b) * std::log(a), 1e-14) ||
                            std::abs(gf[y]) < 1e-300));
                BOOST_TEST(fd_agrees(gf[x], fd_x(f, a, b), gf.value, fd_step(a)));
                BOOST_TEST(fd_agrees(gf[y], fd_y(f, a, b), gf.value, fd_step(b)));
                const double base = 2 + std::sin(a), e = a * b, v = std::pow(base, e);
                const auto gg = ctgrad::gradient(g, x = a, y = b);
                BOOST_TEST(close(gg.value, v, 1e-14));
                BOOST_TEST(close(gg[x], v * (b * std::log(base) + e * std::cos(a) / base), 1e-13));
                BOOST_TEST(close(gg[y], v * a * std::log(base), 1e-13));
                BOOST_TEST(fd_agrees(gg[x], fd_x(g, a, b), v, fd_step(a)));
                BOOST_TEST(fd_agrees(gg[y], fd_y(g, a, b), v, fd_step(b)));
                // Hessian of pow(x, y): against formulas.
                const auto h = ctgrad::hessian(f, x = a, y = b);
                const double la = std::log(a), p = std::pow(a, b);
                BOOST_TEST(close(h(x, x), b * (b - 1) * std::pow(a, b - 2), 1e-12));
                BOOST_TEST(close(h(x, y), std::pow(a, b - 1) * (1 + b * la), 1e-12));
                BOOST_TEST((close(h(y, y), p * la * la, 1e-12) || std::abs(la) < 1e-300));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(nested_compositions_four_deep) {
    // f = log1p(square(tanh(sigmoid(x·y) − cos(x)))) + sqrt(exp(−x²) + y²)
    const auto f =
        ctgrad::log1p(ctgrad::square(ctgrad::tanh(ctgrad::sigmoid(x * y) - ctgrad::cos(x)))) +
        ctgrad::sqrt(ctgrad::exp(-(x * x)) + y * y);
    for (double a : {-1.3, -0.2, 0.6, 2.1}) {
        for (double b : {-0.7, 0.4, 1.9}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const double s = 1 / (1 + std::exp(-a * b));
                const double u = s - std::cos(a), t = std::tanh(u);
                const double q = std::exp(-a * a) + b * b, r = std::sqrt(q);
                const double v = std::log1p(t * t) + r;
                const double dl = 2 * t / (1 + t * t) * (1 - t * t);  // d/du of log1p(tanh(u)²)
                const double dx =
                    dl * (s * (1 - s) * b + std::sin(a)) + (-2 * a * std::exp(-a * a)) / (2 * r);
                const double dy = dl * s * (1 - s) * a + b / r;
                const auto g = ctgrad::gradient(f, x = a, y = b);
                BOOST_TEST(close(g.value, v, 1e-14));
                BOOST_TEST(close(g[x], dx, 1e-12));
                BOOST_TEST(close(g[y], dy, 1e-12));
                BOOST_TEST(fd_agrees(g[x], fd_x(f, a, b), v, fd_step(a)));
                BOOST_TEST(fd_agrees(g[y], fd_y(f, a, b), v, fd_step(b)));
                // jvp and hvp against gradient and Hessian.
                const auto t1 = ctgrad::jvp(f, along(x = 0.3, y = -1.1), x = a, y = b);
                BOOST_TEST(close(t1.tangent, 0.3 * g[x] - 1.1 * g[y], 1e-13));
                const auto h = ctgrad::hessian(f, x = a, y = b);
                const auto hv = ctgrad::hvp(f, along(x = 0.3, y = -1.1), x = a, y = b);
                BOOST_TEST(close(hv[x], 0.3 * h(x, x) - 1.1 * h(x, y), 1e-12));
                BOOST_TEST(close(hv[y], 0.3 * h(y, x) - 1.1 * h(y, y), 1e-12));
                // Hessian against central differences of the gradient.
                const double hx = fd_step(a), hy = fd_step(b);
                const double fxx = central_difference(
                    [&](double p) { return ctgrad::gradient(f, x = p, y = b)[x]; }, a, hx);
                const double fxy = central_difference(
                    [&](double p) { return ctgrad::gradient(f, x = a, y = p)[x]; }, b, hy);
                const double fyy = central_difference(
                    [&](double p) { return ctgrad::gradient(f, x = a, y = p)[y]; }, b, hy);
                BOOST_TEST(fd_agrees(h(x, x), fxx, g[x], hx, 1e-5));
                BOOST_TEST(fd_agrees(h(x, y), fxy, g[x], hy, 1e-5));
                BOOST_TEST(fd_agrees(h(y, y), fyy, g[y], hy, 1e-5));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(same_type_different_numbers_in_transcendental_pieces) {
    // exp(x·0.5) and exp(x·1.5) share a type, so do sin(y·2.0) and sin(y·−1.0), and so do the
    // products of the two pairs.
    const auto p = ctgrad::exp(x * 0.5) * ctgrad::sin(y * 2.0);
    const auto q = ctgrad::exp(x * 1.5) * ctgrad::sin(y * -1.0);
    const auto f = p + q + p * q;
    for (double a : {-0.8, 0.1, 1.2}) {
        for (double b : {-2.0, 0.3, 0.9}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const double pv = std::exp(0.5 * a) * std::sin(2 * b);
                const double qv = std::exp(1.5 * a) * std::sin(-b);
                const double px = 0.5 * pv, qx = 1.5 * qv;
                const double py = std::exp(0.5 * a) * 2 * std::cos(2 * b);
                const double qy = -std::exp(1.5 * a) * std::cos(-b);
                const auto g = ctgrad::gradient(f, x = a, y = b);
                BOOST_TEST(close(g.value, pv + qv + pv * qv, 1e-14));
                BOOST_TEST(close(g[x], px + qx + px * qv + pv * qx, 1e-13));
                BOOST_TEST(close(g[y], py + qy + py * qv + pv * qy, 1e-13));
                BOOST_TEST(fd_agrees(g[x], fd_x(f, a, b), g.value, fd_step(a)));
                BOOST_TEST(fd_agrees(g[y], fd_y(f, a, b), g.value, fd_step(b)));
                const auto h = ctgrad::hessian(f, x = a, y = b);
                // ∂²/∂x² of p + q + pq = 0.25p + 2.25q + 4pq
                BOOST_TEST(close(h(x, x), 0.25 * pv + 2.25 * qv + 4 * pv * qv, 1e-12));
                BOOST_TEST(close(h.gradient[x], g[x], 1e-15));
                // symbolic d agrees too
                BOOST_TEST(close(ctgrad::value(ctgrad::d(f, x), x = a, y = b), g[x], 1e-13));
                BOOST_TEST(close(ctgrad::value(ctgrad::d(f, y), x = a, y = b), g[y], 1e-13));
                // as a Jacobian of two outputs with the same type
                const auto J = ctgrad::jacobian(ctgrad::outputs(p, q), x = a, y = b);
                BOOST_TEST(close(J.value[0], pv, 1e-15));
                BOOST_TEST(close(J.value[1], qv, 1e-15));
                BOOST_TEST(close(J(0, x), px, 1e-14));
                BOOST_TEST(close(J(1, x), qx, 1e-14));
                BOOST_TEST(close(J(0, y), py, 1e-14));
                BOOST_TEST(close(J(1, y), qy, 1e-14));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(reused_pieces_at_several_levels) {
    for (double a : {-1.0, 0.25, 0.8}) {
        for (double b : {-0.5, 0.0, 0.3}) {
            const auto e = poly3_expr();
            const poly3 ref = poly3_hand(a, b);
            const auto g = ctgrad::gradient(e, x = a, y = b);
            BOOST_TEST(close(g.value, ref.v, 1e-14));
            BOOST_TEST(close(g[x], ref.dx, 1e-13));
            BOOST_TEST(close(g[y], ref.dy, 1e-13));
            BOOST_TEST(fd_agrees(g[x], fd_x(e, a, b), ref.v, fd_step(a)));
            BOOST_TEST(fd_agrees(g[y], fd_y(e, a, b), ref.v, fd_step(b)));
            const auto h = ctgrad::hessian(e, x = a, y = b);
            const double hy = fd_step(b);
            const double fyy = central_difference(
                [&](double p) { return ctgrad::gradient(e, x = a, y = p)[y]; }, b, hy);
            BOOST_TEST(fd_agrees(h(y, y), fyy, 1 + std::abs(g[y]), hy, 1e-5));
            BOOST_TEST(close(h(x, x), 0.25 * h(y, y), 1e-13));  // t0 = 0.5x + y
        }
    }
}

BOOST_AUTO_TEST_CASE(one_input_and_nine_inputs) {
    // one input, transcendental: f = x·atan-free mix: sin(x)·exp(−x) / (1 + x²)
    const auto f1 = ctgrad::sin(x) * ctgrad::exp(-x) / (1.0 + x * x);
    for (double a : {-2.0, -0.1, 0.0, 0.7, 3.5}) {
        const double s = std::sin(a), c = std::cos(a), e = std::exp(-a), q = 1 + a * a;
        const double ref = ((c - s) * e * q - s * e * 2 * a) / (q * q);
        const auto g = ctgrad::gradient(f1, x = a);
        BOOST_TEST(close(g[x], ref, 1e-13));
        BOOST_TEST(fd_agrees(
            g[x], central_difference([&](double t) { return ctgrad::value(f1, x = t); }, a),
            g.value, fd_step(a)));
        const auto h = ctgrad::hessian(f1, x = a);
        const double fxx = central_difference(
            [&](double t) { return ctgrad::gradient(f1, x = t)[x]; }, a, fd_step(a));
        BOOST_TEST(fd_agrees(h(x, x), fxx, g[x], fd_step(a), 1e-5));
    }
    // nine inputs, transcendental: every partial against central differences, and a Jacobian of
    // (f, poly9) against both gradients.
    const auto f9 = ctgrad::log1p(a1 * a1 + a2 * a2) * ctgrad::tanh(a3 - a4) +
                    ctgrad::pow(a5, a6) / (1.0 + ctgrad::square(a7)) + ctgrad::max(a8, a9) -
                    ctgrad::min(a8 * a9, a1);
    std::array<double, 9> p = {0.3, -1.2, 0.9, 0.4, 1.7, 0.6, -0.8, 0.25, -0.35};
    const auto bind = [&](const auto& e) {
        return ctgrad::gradient(e, a1 = p[0], a2 = p[1], a3 = p[2], a4 = p[3], a5 = p[4], a6 = p[5],
                                a7 = p[6], a8 = p[7], a9 = p[8]);
    };
    const auto g = bind(f9);
    const std::array<double, 9> gs = {g[a1], g[a2], g[a3], g[a4], g[a5],
                                      g[a6], g[a7], g[a8], g[a9]};
    for (std::size_t i = 0; i < 9; ++i) {
        const double p0 = p[i], h = fd_step(p0);
        p[i] = p0 + h;
        const double fp = bind(f9).value;
        p[i] = p0 - h;
        const double fm = bind(f9).value;
        p[i] = p0;
        BOOST_TEST(fd_agrees(gs[i], (fp - fm) / (2 * h), g.value, h),
                   "a" << i + 1 << ": " << gs[i]);
    }
    const auto J =
        ctgrad::jacobian(ctgrad::outputs(f9, poly9), a1 = p[0], a2 = p[1], a3 = p[2], a4 = p[3],
                         a5 = p[4], a6 = p[5], a7 = p[6], a8 = p[7], a9 = p[8]);
    const auto g2 = bind(poly9);
    BOOST_TEST(J.value[0] == g.value);
    BOOST_TEST(close(J(0, a5), g[a5], 1e-15));
    BOOST_TEST(close(J(0, a9), g[a9], 1e-15));
    BOOST_TEST(close(J(1, a1), g2[a1], 1e-15));
    BOOST_TEST(close(J(1, a9), g2[a9], 1e-15));
}

BOOST_AUTO_TEST_CASE(xlogy_moves_where_its_first_argument_is_zero) {
    // f = xlogy(x, y) = x·log y is 0 at x = 0, but its derivatives there are not: ∂x = log y,
    // ∂x∂y = 1/y. jvp, hvp and hessian carry them (they were 0: the value's branch dropped the
    // tangents).
    const auto f = ctgrad::xlogy(x, y);
    for (double b : {0.5, 2.0, 7.0}) {
        BOOST_TEST_CONTEXT("y = " << b) {
            const auto g = ctgrad::gradient(f, x = 0.0, y = b);
            BOOST_TEST(g.value == 0.0);
            BOOST_TEST(close(g[x], std::log(b), 1e-15));
            BOOST_TEST(g[y] == 0.0);
            const auto t = ctgrad::jvp(f, along(x = 1.0, y = 0.5), x = 0.0, y = b);
            BOOST_TEST(t.value == 0.0);
            BOOST_TEST(close(t.tangent, std::log(b), 1e-15));
            const auto h = ctgrad::hessian(f, x = 0.0, y = b);
            BOOST_TEST(h(x, x) == 0.0);
            BOOST_TEST(close(h(x, y), 1 / b, 1e-15));
            BOOST_TEST(close(h(y, x), 1 / b, 1e-15));
            BOOST_TEST(h(y, y) == 0.0);  // −x/y² at x = 0
            const auto hv = ctgrad::hvp(f, along(x = 1.0), x = 0.0, y = b);
            BOOST_TEST(close(hv[y], 1 / b, 1e-15));
            BOOST_TEST(hv[x] == 0.0);
            // against central differences of the gradient (through x = 0)
            const double hb = fd_step(b);
            const double fxy = central_difference(
                [&](double p) { return ctgrad::gradient(f, x = 0.0, y = p)[x]; }, b, hb);
            const double fyx = central_difference(
                [&](double p) { return ctgrad::gradient(f, x = p, y = b)[y]; }, 0.0, fd_step(0.0));
            BOOST_TEST(fd_agrees(h(x, y), fxy, g[x], hb, 1e-5));
            BOOST_TEST(fd_agrees(h(y, x), fyx, 1.0, fd_step(0.0), 1e-5));
        }
    }
    // a constant first argument (a target of 0) at y = 0: everything 0, no NaN
    const auto c = ctgrad::xlogy(0.0, y) + y;
    const auto hc = ctgrad::hessian(c, y = 0.0);
    BOOST_TEST(hc.value == 0.0);
    BOOST_TEST(hc.gradient[y] == 1.0);
    BOOST_TEST(hc(y, y) == 0.0);
    BOOST_TEST(ctgrad::jvp(c, along(y = 1.0), y = 0.0).tangent == 1.0);
}

// the same in constant evaluation (both compilers: ctgrad's constexpr log)
static_assert(ctgrad::hessian(ctgrad::xlogy(x, y), x = 0.0, y = 2.0)(x, y) == 0.5);
static_assert(ctgrad::jvp(ctgrad::xlogy(x, y), along(x = 1.0), x = 0.0, y = 1.0).tangent == 0.0);
static_assert(ctgrad::hvp(ctgrad::xlogy(x, y), along(x = 1.0), x = 0.0, y = 4.0)[y] == 0.25);
