// hessian by forward-over-reverse: every entry against central finite differences of the
// gradient and against the symbolic second derivative value(d(d(f, x), y)), for every op
// family, run-time constants, exact literals, DAG reuse and a Black–Scholes call price (Greeks
// against their closed forms); constexpr results checked by static_assert (g++ and clang++).
#define BOOST_TEST_MODULE ad_hessian
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <numbers>
#include <type_traits>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using namespace ctgrad::literals;
using ctgrad::test::central_difference;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::fd_step;
using ctgrad::test::near;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

// --- constant expressions (both compilers: ctgrad::math's constexpr implementations) ---

// x²y + x/y at (2, 4): f_xx = 2y, f_xy = 2x - 1/y², f_yy = 2x/y³.
constexpr auto h_poly = ctgrad::hessian(x * x * y + x / y, x = 2.0, y = 4.0);
static_assert(h_poly.value == 16.5);
static_assert(h_poly.gradient[x] == 16.25 && h_poly.gradient[y] == 4.0 - 2.0 / 16.0);
static_assert(h_poly(x, x) == 8.0);
static_assert(h_poly(x, y) == 4.0 - 1.0 / 16.0 && h_poly(y, x) == h_poly(x, y));
static_assert(h_poly(y, y) == 4.0 / 64.0);
// A variable the expression does not contain: 0 (bound or not).
static_assert(h_poly(x, z) == 0.0 && h_poly(z, z) == 0.0);
static_assert(decltype(h_poly)::n == 2);

// Transcendental functions in constant evaluation, against the symbolic second derivative.
constexpr auto f_mix = ctgrad::sin(x * y) + ctgrad::exp(x) * ctgrad::tanh(y) +
                       ctgrad::erf(0.5 * x) + ctgrad::log(x + y * y) + ctgrad::sqrt(x * y);
constexpr auto h_mix = ctgrad::hessian(f_mix, x = 0.7, y = 1.3);
static_assert(near(h_mix(x, x), ctgrad::value(ctgrad::d(ctgrad::d(f_mix, x), x), x = 0.7, y = 1.3),
                   1e-13));
static_assert(near(h_mix(x, y), ctgrad::value(ctgrad::d(ctgrad::d(f_mix, x), y), x = 0.7, y = 1.3),
                   1e-13));
static_assert(near(h_mix(y, y), ctgrad::value(ctgrad::d(ctgrad::d(f_mix, y), y), x = 0.7, y = 1.3),
                   1e-13));
static_assert(h_mix.value == ctgrad::value(f_mix, x = 0.7, y = 1.3));
// exp'' = exp, exactly (the tangent of exp is the value times the tangent).
static_assert(ctgrad::hessian(ctgrad::exp(x), x = 0.0)(x, x) == 1.0);
// pow(x, 3) at 0 (no log of the base), pow(x, 2.0) at 0, and a constant exponent 0.
static_assert(ctgrad::hessian(ctgrad::pow(x, 3), x = 0.0)(x, x) == 0.0);
static_assert(ctgrad::hessian(ctgrad::pow(x, 2.0), x = 0.0)(x, x) == 2.0);
static_assert(ctgrad::hessian(ctgrad::pow(x, 0.0), x = 0.0)(x, x) == 0.0);
static_assert(ctgrad::hessian(ctgrad::pow(x, 3), x = -2.0)(x, x) == -12.0);
// Piecewise ops away from their kinks, and the conventions at them.
static_assert(ctgrad::hessian(ctgrad::relu(x) * x, x = 2.0)(x, x) == 2.0);
static_assert(ctgrad::hessian(ctgrad::relu(x) * x, x = -2.0)(x, x) == 0.0);
static_assert(ctgrad::hessian(ctgrad::abs(x) * x, x = -3.0)(x, x) == -2.0);
static_assert(ctgrad::hessian(ctgrad::max(x * x, y), x = 1.0, y = 1.0)(x, x) == 2.0);  // tie: a
static_assert(ctgrad::hessian(ctgrad::min(x * x, y* y* y), x = 1.0, y = 1.0)(y, y) == 0.0);
// float and long double follow the bound numbers, as for gradient.
static_assert(std::is_same_v<decltype(ctgrad::hessian(x * y, x = 1.0f, y = 2.0f).value), float>);
static_assert(ctgrad::hessian(x * x * y, x = 1.0L, y = 2.0L)(x, x) == 4.0L);

// --- run time: finite differences and the symbolic path ---

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

}  // namespace

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

BOOST_AUTO_TEST_SUITE(expressions)

BOOST_AUTO_TEST_CASE(run_time_constants) {
    check_points(2.0 * x * y + 3.0 * x * x + x * 2.0 * ctgrad::exp(0.5 * y));
    // Two subexpressions of one type holding different numbers.
    const auto h = ctgrad::hessian(x * x * 2.0 + x * x * 3.0, x = 1.0);
    BOOST_TEST(h(x, x) == 10.0);
}

BOOST_AUTO_TEST_CASE(exact_literals) {
    check_points(0.5_c * x * x * y + 3_c * y * y + ctgrad::exp(0.25_c * x * y));
}

BOOST_AUTO_TEST_CASE(dag_reuse) {
    const auto t = x * y + ctgrad::sin(x);
    const auto u = t * t + ctgrad::exp(0.5 * t);
    const auto w = u * t + ctgrad::tanh(u) * y;
    check_points(w, 1e-11);
}

BOOST_AUTO_TEST_CASE(three_variables) {
    const auto f = x * y * z + ctgrad::exp(x * z) + ctgrad::sin(y) * z * z;
    const double a = 0.3, b = 1.1, c = -0.7;
    const auto h = ctgrad::hessian(f, x = a, y = b, z = c);
    // Closed form.
    BOOST_TEST(close(h(x, x), c * c * std::exp(a * c), 1e-14));
    BOOST_TEST(close(h(x, y), c, 1e-15));
    BOOST_TEST(close(h(x, z), b + std::exp(a * c) * (1 + a * c), 1e-14));
    BOOST_TEST(close(h(y, y), -std::sin(b) * c * c, 1e-14));
    BOOST_TEST(close(h(y, z), a + 2 * c * std::cos(b), 1e-14));
    BOOST_TEST(close(h(z, z), a * a * std::exp(a * c) + 2 * std::sin(b), 1e-14));
    BOOST_TEST(h(z, x) == h(x, z));
}

BOOST_AUTO_TEST_CASE(bindings_by_reference_and_extra) {
    double a = 1.5;
    const auto h = ctgrad::hessian(x * x * x, x = std::cref(a), y = 2.0);
    BOOST_TEST(h(x, x) == 9.0);
    BOOST_TEST(h(x, y) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// --- Black–Scholes: C = S N(d1) - K e^(-rT) N(d2) with the Abramowitz–Stegun 26.2.17 CDF ---

constexpr auto S = ctgrad::var<"S">;
constexpr auto K = ctgrad::var<"K">;
constexpr auto r = ctgrad::var<"r">;
constexpr auto sigma = ctgrad::var<"sigma">;
constexpr auto T = ctgrad::var<"T">;

constexpr double as_p = 0.2316419;
constexpr double as_b[5] = {0.319381530, -0.356563782, 1.781477937, -1.821255978, 1.330274429};

/// N(u) for u >= 0, written as users write it (|error| < 7.5e-8).
auto normal_cdf(auto u) {
    auto k = 1.0 / (1.0 + as_p * u);
    auto pdf = 0.3989422804014327 * ctgrad::exp(-0.5 * u * u);
    return 1.0 - pdf * k * (as_b[0] + k * (as_b[1] + k * (as_b[2] + k * (as_b[3] + k * as_b[4]))));
}

auto call_price() {
    auto vol = sigma * ctgrad::sqrt(T);
    auto d1 = (ctgrad::log(S / K) + (r + 0.5 * sigma * sigma) * T) / vol;
    auto d2 = d1 - vol;
    return S * normal_cdf(d1) - K * ctgrad::exp(-r * T) * normal_cdf(d2);
}

double phi(double u) {
    return std::exp(-0.5 * u * u) / std::sqrt(2 * std::numbers::pi);
}

}  // namespace

BOOST_AUTO_TEST_CASE(black_scholes_greeks) {
    const double s = 100.0, k = 95.0, rr = 0.03, v = 0.2, t = 0.75;
    const auto c = call_price();
    const auto h = ctgrad::hessian(c, S = s, K = k, r = rr, sigma = v, T = t);
    const auto g = ctgrad::gradient(c, S = s, K = k, r = rr, sigma = v, T = t);
    BOOST_TEST(h.value == g.value);
    const double sq = std::sqrt(t);
    const double d1 = (std::log(s / k) + (rr + 0.5 * v * v) * t) / (v * sq);
    const double d2 = d1 - v * sq;
    // Closed forms of the exact-CDF model. The polynomial CDF's derivatives differ from them by
    // its approximation error: 1.2e-4 relative at most here (gamma 0.0201948 vs 0.0201967).
    const double gamma = phi(d1) / (s * v * sq);
    const double vanna = -phi(d1) * d2 / v;
    const double volga = s * phi(d1) * sq * d1 * d2 / v;
    BOOST_TEST(close(h(S, S), gamma, 3e-4), "gamma " << h(S, S) << " vs " << gamma);
    BOOST_TEST(close(h(S, sigma), vanna, 3e-4), "vanna " << h(S, sigma) << " vs " << vanna);
    BOOST_TEST(close(h(sigma, sigma), volga, 3e-4), "volga " << h(sigma, sigma) << " vs " << volga);
    // With the exact CDF N(u) = erfc(-u/sqrt 2)/2 the Greeks are the closed forms to rounding.
    {
        const auto N = [](auto u) {
            return 0.5_c * ctgrad::erfc(u * (-0.5 * std::numbers::sqrt2));
        };
        const auto vol = sigma * ctgrad::sqrt(T);
        const auto e1 = (ctgrad::log(S / K) + (r + 0.5_c * (sigma * sigma)) * T) / vol;
        const auto e2 = e1 - vol;
        const auto exact = S * N(e1) - K * ctgrad::exp(-(r * T)) * N(e2);
        const auto he = ctgrad::hessian(exact, S = s, K = k, r = rr, sigma = v, T = t);
        BOOST_TEST(close(he(S, S), gamma, 1e-12), "gamma " << he(S, S) << " vs " << gamma);
        BOOST_TEST(close(he(S, sigma), vanna, 1e-12), "vanna " << he(S, sigma) << " vs " << vanna);
        BOOST_TEST(close(he(sigma, sigma), volga, 1e-12),
                   "volga " << he(sigma, sigma) << " vs " << volga);
        // delta = N(d1), vega = S phi(d1) sqrt T.
        BOOST_TEST(close(he.gradient[S], 0.5 * std::erfc(-d1 / std::numbers::sqrt2), 1e-14));
        BOOST_TEST(close(he.gradient[sigma], s * phi(d1) * sq, 1e-13));
    }
    // Every entry against a central difference of the gradient.
    const auto as_array = [](const auto& gr) {
        return std::array{gr[S], gr[K], gr[r], gr[sigma], gr[T]};
    };
    const auto row = [&](auto u) {
        return std::array{h(u, S), h(u, K), h(u, r), h(u, sigma), h(u, T)};
    };
    const std::array<std::array<double, 5>, 5> hm{row(S), row(K), row(r), row(sigma), row(T)};
    const std::array<double, 5> p0{s, k, rr, v, t};
    const auto grad_at = [&](std::size_t j, double dv) {
        auto p = p0;
        p[j] += dv;
        return as_array(ctgrad::gradient(c, S = p[0], K = p[1], r = p[2], sigma = p[3], T = p[4]));
    };
    const auto g0 = as_array(g);
    for (std::size_t j = 0; j < 5; ++j) {
        const double step = fd_step(p0[j]) * 1e-2;
        const auto up = grad_at(j, step);
        const auto down = grad_at(j, -step);
        for (std::size_t i = 0; i < 5; ++i) {
            const double fd = (up[i] - down[i]) / (2 * step);
            BOOST_TEST_CONTEXT("H(" << i << ", " << j << ")") {
                BOOST_TEST(fd_agrees(hm[i][j], fd, g0[i], step, 1e-5), hm[i][j] << " vs " << fd);
                BOOST_TEST(hm[i][j] == hm[j][i]);
            }
        }
    }
}
