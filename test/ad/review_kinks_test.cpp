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
#define BOOST_TEST_MODULE ad_review_kinks
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace ref {

/// v + a ε1 + b ε2 + c ε1ε2 (ε1² = ε2² = 0): f of it gives f, two directional derivatives and
/// the mixed second one.
struct hd {
    double v = 0, a = 0, b = 0, c = 0;
};

/// d · t, 0 where t = 0 whatever d is (a direction along which nothing moves adds nothing).
inline double gm(double d, double t) { return t == 0 ? 0.0 : d * t; }

/// f(u) from f(v), f'(v), f''(v).
inline hd chain(const hd& u, double f, double f1, double f2) {
    return {f, gm(f1, u.a), gm(f1, u.b), gm(f1, u.c) + gm(f2, u.a * u.b)};
}

inline hd constant(double k) { return {k, 0, 0, 0}; }

inline hd operator+(const hd& p, const hd& q) { return {p.v + q.v, p.a + q.a, p.b + q.b, p.c + q.c}; }
inline hd operator-(const hd& p, const hd& q) { return {p.v - q.v, p.a - q.a, p.b - q.b, p.c - q.c}; }
inline hd operator-(const hd& p) { return {-p.v, -p.a, -p.b, -p.c}; }
inline hd operator*(const hd& p, const hd& q) {
    return {p.v * q.v, p.a * q.v + p.v * q.a, p.b * q.v + p.v * q.b,
            p.c * q.v + p.a * q.b + p.b * q.a + p.v * q.c};
}
inline hd recip(const hd& q) { return chain(q, 1 / q.v, -1 / (q.v * q.v), 2 / (q.v * q.v * q.v)); }
inline hd operator/(const hd& p, const hd& q) { return p * recip(q); }
inline hd operator+(double k, const hd& q) { return constant(k) + q; }
inline hd operator+(const hd& p, double k) { return p + constant(k); }
inline hd operator-(double k, const hd& q) { return constant(k) - q; }
inline hd operator-(const hd& p, double k) { return p - constant(k); }
inline hd operator*(double k, const hd& q) { return constant(k) * q; }
inline hd operator*(const hd& p, double k) { return p * constant(k); }
inline hd operator/(const hd& p, double k) { return p * constant(1 / k); }
inline hd operator/(double k, const hd& q) { return k * recip(q); }

inline hd exp(const hd& u) {
    const double e = std::exp(u.v);
    return chain(u, e, e, e);
}
inline hd log(const hd& u) { return chain(u, std::log(u.v), 1 / u.v, -1 / (u.v * u.v)); }
inline hd log1p(const hd& u) {
    const double d = 1 + u.v;
    return chain(u, std::log1p(u.v), 1 / d, -1 / (d * d));
}
inline hd sqrt(const hd& u) {
    const double s = std::sqrt(u.v);
    return chain(u, s, 0.5 / s, -0.25 / (s * s * s));
}
inline hd square(const hd& u) { return chain(u, u.v * u.v, 2 * u.v, 2); }
inline hd sin(const hd& u) { return chain(u, std::sin(u.v), std::cos(u.v), -std::sin(u.v)); }
inline hd cos(const hd& u) { return chain(u, std::cos(u.v), -std::sin(u.v), -std::cos(u.v)); }
inline hd tanh(const hd& u) {
    const double t = std::tanh(u.v);
    return chain(u, t, 1 - t * t, -2 * t * (1 - t * t));
}
inline hd sigmoid(const hd& u) {
    const double s = 1 / (1 + std::exp(-u.v));
    return chain(u, s, s * (1 - s), s * (1 - s) * (1 - 2 * s));
}
inline hd erf(const hd& u) {
    const double g = 2 / std::sqrt(M_PI) * std::exp(-u.v * u.v);
    return chain(u, std::erf(u.v), g, -2 * u.v * g);
}
inline hd erfc(const hd& u) {
    const double g = 2 / std::sqrt(M_PI) * std::exp(-u.v * u.v);
    return chain(u, std::erfc(u.v), -g, 2 * u.v * g);
}
inline hd relu(const hd& u) { return u.v > 0 ? u : constant(0); }
inline hd abs(const hd& u) { return u.v > 0 ? u : (u.v < 0 ? -u : constant(0)); }
inline hd max(const hd& p, const hd& q) { return p.v >= q.v ? p : q; }
inline hd min(const hd& p, const hd& q) { return p.v <= q.v ? p : q; }
inline hd max(const hd& p, double k) { return max(p, constant(k)); }
inline hd max(double k, const hd& q) { return max(constant(k), q); }
inline hd min(const hd& p, double k) { return min(p, constant(k)); }

/// p^q with ctgrad's conventions: d/dp = q p^(q-1) (0 where q = 0), d/dq = p^q ln p (0 where
/// p = 0 < q); the second partials from the same formulas.
inline hd pow(const hd& p, const hd& q) {
    const double y = std::pow(p.v, q.v);
    const bool p_moves = p.a != 0 || p.b != 0 || p.c != 0;
    const bool q_moves = q.a != 0 || q.b != 0 || q.c != 0;
    const double fp = q.v == 0 ? 0 : q.v * std::pow(p.v, q.v - 1);
    const double fpp = q.v == 0 ? 0 : q.v * (q.v - 1) * std::pow(p.v, q.v - 2);
    hd r{y, 0, 0, 0};
    if (p_moves) {
        r.a += gm(fp, p.a);
        r.b += gm(fp, p.b);
        r.c += gm(fp, p.c) + gm(fpp, p.a * p.b);
    }
    if (q_moves) {
        const double lnp = std::log(p.v);
        const double fq = (p.v == 0 && q.v > 0) ? 0 : y * lnp;
        const double fqq = (p.v == 0 && q.v > 0) ? 0 : y * lnp * lnp;
        r.a += gm(fq, q.a);
        r.b += gm(fq, q.b);
        r.c += gm(fq, q.c) + gm(fqq, q.a * q.b);
    }
    if (p_moves && q_moves) {
        // d/dq of q p^(q-1) = p^(q-1) + q p^(q-1) ln p; the ln term is 0 at p = 0 < q - 1 (the
        // limit, and pow's own d/db convention applied to p^(q-1)).
        const double pq1 = std::pow(p.v, q.v - 1);
        const double fpq = pq1 + ((p.v == 0 && q.v - 1 > 0) ? 0 : q.v * pq1 * std::log(p.v));
        r.c += gm(fpq, p.a * q.b + p.b * q.a);
    }
    return r;
}
inline hd pow(const hd& p, double k) { return pow(p, constant(k)); }
inline hd pow(double k, const hd& q) { return pow(constant(k), q); }

}  // namespace ref

namespace {

using namespace ctgrad::literals;
using ctgrad::along;
using ctgrad::test::close;

constexpr auto a = ctgrad::var<"a">;
constexpr auto b = ctgrad::var<"b">;
constexpr auto c = ctgrad::var<"c">;
constexpr auto e = ctgrad::var<"e">;

using point = std::array<double, 4>;
using grad4 = std::array<double, 4>;
using hess4 = std::array<std::array<double, 4>, 4>;

/// The reference value, gradient and Hessian of f at p, from hyper-dual numbers.
template <class F>
void reference(F f, const point& p, double& value, grad4& g, hess4& h) {
    for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
            std::array<ref::hd, 4> u;
            for (int k = 0; k < 4; ++k) {
                u[k] = {p[k], k == i ? 1.0 : 0.0, k == j ? 1.0 : 0.0, 0.0};
            }
            const ref::hd r = f(u[0], u[1], u[2], u[3]);
            value = r.v;
            g[i] = r.a;
            h[i][j] = r.c;
        }
    }
    // Where a first partial is NaN (pow(c, e) with c < 0: d/de = c^e ln c), ctgrad's Hessian has
    // NaN in that variable's whole row and column: the row is the derivative of the NaN partial,
    // and h(i, j) is the mean of the two mixed partials. The reference takes the same view.
    for (int i = 0; i < 4; ++i) {
        if (std::isnan(g[i])) {
            for (int j = 0; j < 4; ++j) {
                h[i][j] = h[j][i] = std::nan("");
            }
        }
    }
}

/// Same number, or both NaN, or within tol relative.
bool same(double got, double want, double tol) {
    if (std::isnan(want)) {
        return std::isnan(got);
    }
    return close(got, want, tol);
}

template <class Result>
grad4 gradient_of(const Result& g) {
    return {g[a], g[b], g[c], g[e]};
}

/// Checks value, gradient, Hessian, jvp and hvp of the expression f(a, b, c, e) against the
/// hyper-dual reference at p, and (when `fd`) the gradient and Hessian against central
/// differences of ctgrad's value and gradient.
template <class F>
void check_scalar(const char* name, F f, const point& p, bool fd) {
    BOOST_TEST_CONTEXT(name << " at (" << p[0] << ", " << p[1] << ", " << p[2] << ", " << p[3]
                            << ")") {
        constexpr double tol = 1e-13;
        double rv = 0;
        grad4 rg{};
        hess4 rh{};
        reference(f, p, rv, rg, rh);

        const auto expr = f(a, b, c, e);
        const auto bind = [&](auto fn) {
            return fn(a = p[0], b = p[1], c = p[2], e = p[3]);
        };
        const double v = bind([&](auto... bs) { return ctgrad::value(expr, bs...); });
        BOOST_TEST(same(v, rv, tol), "value " << v << " want " << rv);
        const grad4 g = bind([&](auto... bs) { return gradient_of(ctgrad::gradient(expr, bs...)); });
        const auto h = bind([&](auto... bs) { return ctgrad::hessian(expr, bs...); });
        const grad4 hg = gradient_of(h.gradient);
        const hess4 hm = {{{h(a, a), h(a, b), h(a, c), h(a, e)},
                           {h(b, a), h(b, b), h(b, c), h(b, e)},
                           {h(c, a), h(c, b), h(c, c), h(c, e)},
                           {h(e, a), h(e, b), h(e, c), h(e, e)}}};
        BOOST_TEST(same(h.value, rv, tol));
        for (int i = 0; i < 4; ++i) {
            BOOST_TEST(same(g[i], rg[i], tol), "gradient " << i << ": " << g[i] << " want " << rg[i]);
            BOOST_TEST(same(hg[i], rg[i], tol), "hessian.gradient " << i << ": " << hg[i]
                                                                     << " want " << rg[i]);
            for (int j = 0; j < 4; ++j) {
                BOOST_TEST(same(hm[i][j], rh[i][j], 1e-10),
                           "hessian(" << i << ", " << j << ") " << hm[i][j] << " want " << rh[i][j]);
            }
        }

        // Directions: each unit vector and a mixed one with a zero component.
        const std::array<grad4, 5> dirs = {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1},
                                            {0.5, -2, 0, 1.25}}};
        for (const grad4& d : dirs) {
            const auto t = bind([&](auto... bs) {
                return ctgrad::jvp(expr, along(a = d[0], b = d[1], c = d[2], e = d[3]), bs...);
            });
            const auto hv = bind([&](auto... bs) {
                return ctgrad::hvp(expr, along(a = d[0], b = d[1], c = d[2], e = d[3]), bs...);
            });
            // Reference: one hyper-dual pass with ε1 along d, ε2 along each unit vector.
            double want_t = 0;
            bool t_nan = false;
            for (int k = 0; k < 4; ++k) {
                if (d[k] != 0) {
                    t_nan = t_nan || std::isnan(rg[k]);
                    want_t += rg[k] * d[k];
                }
            }
            BOOST_TEST(same(t.value, rv, tol));
            if (!t_nan) {
                BOOST_TEST(same(t.tangent, want_t, 1e-12), "jvp " << t.tangent << " want " << want_t);
            }
            const grad4 hvv = {hv[a], hv[b], hv[c], hv[e]};
            for (int i = 0; i < 4; ++i) {
                std::array<ref::hd, 4> u;
                for (int k = 0; k < 4; ++k) {
                    u[k] = {p[k], d[k], k == i ? 1.0 : 0.0, 0.0};
                }
                // (Hv)_i is the derivative of the i-th partial along v: NaN where that partial is.
                const double want = std::isnan(rg[i]) ? std::nan("") : f(u[0], u[1], u[2], u[3]).c;
                BOOST_TEST(same(hvv[i], want, 1e-10), "hvp " << i << ": " << hvv[i] << " want " << want);
            }
        }

        if (fd) {
            for (int i = 0; i < 4; ++i) {
                const double step = 1e-6 * std::max(1.0, std::abs(p[i]));
                auto shifted = [&](double t) {
                    point q = p;
                    q[i] = t;
                    return q;
                };
                const auto val_at = [&](double t) {
                    const point q = shifted(t);
                    return ctgrad::value(expr, a = q[0], b = q[1], c = q[2], e = q[3]);
                };
                const double fdg = ctgrad::test::central_difference(val_at, p[i], step);
                BOOST_TEST((close(g[i], fdg, 1e-6) || std::abs(g[i] - fdg) < 1e-7),
                           "fd gradient " << i << ": " << g[i] << " vs " << fdg);
                const point qp = shifted(p[i] + step);
                const point qm = shifted(p[i] - step);
                const grad4 gp =
                    gradient_of(ctgrad::gradient(expr, a = qp[0], b = qp[1], c = qp[2], e = qp[3]));
                const grad4 gmn =
                    gradient_of(ctgrad::gradient(expr, a = qm[0], b = qm[1], c = qm[2], e = qm[3]));
                for (int j = 0; j < 4; ++j) {
                    const double fdh = (gp[j] - gmn[j]) / (2 * step);
                    BOOST_TEST((close(hm[j][i], fdh, 1e-5) || std::abs(hm[j][i] - fdh) < 1e-6),
                               "fd hessian(" << j << ", " << i << "): " << hm[j][i] << " vs " << fdh);
                }
            }
        }
    }
}

// The functions. Every one repeats variables and mixes a kink with smooth parts.
const auto f_max_min = [](auto a_, auto b_, auto c_, auto e_) {
    return max(a_, b_) * min(b_, c_) + square(max(a_ * b_, c_)) + min(e_, a_) * e_;
};
const auto f_relu_abs = [](auto a_, auto b_, auto c_, auto e_) {
    return relu(a_ * b_ - c_) * relu(a_ * b_ - c_) + abs(a_ - e_) * b_ + abs(c_) * square(c_) +
           relu(e_) * e_;
};
const auto f_pow = [](auto a_, auto b_, auto c_, auto e_) {
    return pow(a_, 3.0) * b_ + pow(a_ * b_, 2.0) + pow(c_, e_) + pow(2.0, a_ * e_) +
           pow(b_, -2.0);
};
const auto f_smooth_small = [](auto a_, auto b_, auto c_, auto e_) {
    return log1p(a_ * b_) * c_ + erf(a_ * e_) / (1.0 + square(b_)) + sqrt(square(c_) + 1e-12) +
           tanh(a_ - e_) * sigmoid(b_ * c_) + exp(a_ * 1e-8) * e_;
};
const auto f_sqrt_near_zero = [](auto a_, auto b_, auto c_, auto e_) {
    return sqrt(a_ * a_ + b_ * b_) + sqrt(c_) * e_ + erfc(e_ * c_) * a_;
};

const std::array<point, 7> kink_points = {{
    {1, 1, 1, 1},          // every tie
    {2, 1, 2, 2},          // a·b == c, a == e
    {-1, -1, 1, -1},       // negative ties
    {0, 0, 0, 0},          // everything at 0
    {1.5, -2, 0.5, 1.5},   // max/min decided, abs(a - e) at 0
    {0.5, 2, 1, 0.25},     // relu(a·b − c) at 0 from two variables
    {-0.0, 3, -0.0, 0.0},  // signed zeros
}};

}  // namespace

BOOST_AUTO_TEST_CASE(piecewise_at_kinks_match_the_reference) {
    for (const point& p : kink_points) {
        check_scalar("max/min", f_max_min, p, false);
        check_scalar("relu/abs", f_relu_abs, p, false);
    }
}

BOOST_AUTO_TEST_CASE(piecewise_away_from_kinks_match_reference_and_differences) {
    const std::array<point, 3> pts = {{{1.3, 0.7, 2.1, -0.4}, {-0.8, 1.9, 0.3, 1.1},
                                       {2.2, -1.4, -0.6, 0.9}}};
    for (const point& p : pts) {
        check_scalar("max/min", f_max_min, p, true);
        check_scalar("relu/abs", f_relu_abs, p, true);
    }
}

BOOST_AUTO_TEST_CASE(pow_with_negative_bases_and_integer_exponents) {
    // c < 0 with an integer exponent e: pow(c, e) is defined, its d/de is NaN (ln c), the
    // others must stay finite. a < 0 with constant exponents 3 and 2: no NaN at all.
    const std::array<point, 5> pts = {{{-2, 1.5, -3, 2}, {-1, -0.5, -2, 3}, {-2, 1, 2, 0},
                                       {1.25, -1, 0, 2}, {0.5, 2, 0, 3}}};
    for (const point& p : pts) {
        check_scalar("pow", f_pow, p, p[2] > 0);
    }
    check_scalar("pow", f_pow, {0.7, 1.3, 1.8, 0.6}, true);
}

BOOST_AUTO_TEST_CASE(small_arguments_and_sqrt_near_zero) {
    const std::array<point, 4> pts = {{{1e-9, 1e-7, 1e-8, 3e-9}, {1e-3, -2, 1e-6, 1e-4},
                                       {0.4, 0.3, 2e-10, -0.2}, {0.9, -0.7, 1.3, 0.6}}};
    for (const point& p : pts) {
        check_scalar("small", f_smooth_small, p, false);
        check_scalar("sqrt", f_sqrt_near_zero, p, false);
    }
    check_scalar("small", f_smooth_small, {0.9, -0.7, 1.3, 0.6}, true);
    check_scalar("sqrt", f_sqrt_near_zero, {0.9, -0.7, 1.3, 0.6}, true);
}

// --- Jacobians of the same functions: outputs(...) with m = 2, 3, 4 (the fused two-lane double
// sweep, one reverse sweep per output, forward), a repeated output, a variable, a constant, and
// a wrt(...) subset in another order; double and float. ----------------------------------------

namespace {

template <class J>
void check_rows(const char* what, const J& jac, const std::array<grad4, 4>& want_rows,
                const std::array<double, 4>& want_values, std::size_t m, double tol) {
    for (std::size_t i = 0; i < m; ++i) {
        BOOST_TEST_CONTEXT(what << " row " << i) {
            BOOST_TEST(same(double(jac.value[i]), want_values[i], tol),
                       "value " << jac.value[i] << " want " << want_values[i]);
            const grad4 got = {double(jac(i, a)), double(jac(i, b)), double(jac(i, c)),
                               double(jac(i, e))};
            for (int k = 0; k < 4; ++k) {
                BOOST_TEST(same(got[k], want_rows[i][k], tol),
                           "column " << k << ": " << got[k] << " want " << want_rows[i][k]);
            }
        }
    }
}

template <class F0, class F1>
void check_jacobians(F0 f0, F1 f1, const point& p) {
    BOOST_TEST_CONTEXT("at (" << p[0] << ", " << p[1] << ", " << p[2] << ", " << p[3] << ")") {
        double v0 = 0, v1 = 0;
        grad4 g0{}, g1{};
        hess4 h{};
        reference(f0, p, v0, g0, h);
        reference(f1, p, v1, g1, h);
        const grad4 unit_a = {1, 0, 0, 0};
        const grad4 zero = {0, 0, 0, 0};

        const auto e0 = f0(a, b, c, e);
        const auto e1 = f1(a, b, c, e);
        const auto F2 = ctgrad::outputs(e0, e1);
        const auto F4 = ctgrad::outputs(e1, a, 3_c, e0);  // variable, constant, repeated below
        const auto F3 = ctgrad::outputs(e0, e1, e0);
        const auto bind = [&](auto fn) { return fn(a = p[0], b = p[1], c = p[2], e = p[3]); };

        const std::array<grad4, 4> rows2 = {g0, g1, zero, zero};
        const std::array<double, 4> vals2 = {v0, v1, 0, 0};
        const std::array<grad4, 4> rows4 = {g1, unit_a, zero, g0};
        const std::array<double, 4> vals4 = {v1, p[0], 3, v0};
        const std::array<grad4, 4> rows3 = {g0, g1, g0, zero};
        const std::array<double, 4> vals3 = {v0, v1, v0, 0};
        using ctgrad::accumulation;

        bind([&](auto... bs) {
            check_rows("F2 automatic", ctgrad::jacobian(F2, bs...), rows2, vals2, 2, 1e-13);
            check_rows("F2 forward", ctgrad::jacobian<accumulation::forward>(F2, bs...), rows2,
                       vals2, 2, 1e-13);
            check_rows("F2 reverse", ctgrad::jacobian<accumulation::reverse>(F2, bs...), rows2,
                       vals2, 2, 1e-13);
            check_rows("F3 automatic", ctgrad::jacobian(F3, bs...), rows3, vals3, 3, 1e-13);
            check_rows("F3 forward", ctgrad::jacobian<accumulation::forward>(F3, bs...), rows3,
                       vals3, 3, 1e-13);
            check_rows("F4 automatic", ctgrad::jacobian(F4, bs...), rows4, vals4, 4, 1e-13);
            check_rows("F4 reverse", ctgrad::jacobian<accumulation::reverse>(F4, bs...), rows4,
                       vals4, 4, 1e-13);
            return 0;
        });
        // float bindings: a float Jacobian (four float outputs: one fused four-lane sweep).
        const auto pf = [&](int k) { return static_cast<float>(p[k]); };
        const auto J4f = ctgrad::jacobian<accumulation::reverse>(F4, a = pf(0), b = pf(1), c = pf(2),
                                                                  e = pf(3));
        // (float unless the functions hold a run-time double such as 3.0: the common type.)
        // The float point is the double point when p is exactly representable (all are here).
        check_rows("F4 float reverse", J4f, rows4, vals4, 4, 2e-6);
        const auto J4ff = ctgrad::jacobian<accumulation::forward>(F4, a = pf(0), b = pf(1),
                                                                  c = pf(2), e = pf(3));
        check_rows("F4 float forward", J4ff, rows4, vals4, 4, 2e-6);

        // wrt(e, a): two columns in that order, b and c bound as data.
        const auto Jw = ctgrad::jacobian(F2, ctgrad::wrt(e, a), a = p[0], b = p[1], c = p[2],
                                         e = p[3]);
        BOOST_TEST(Jw.inputs == 2u);
        for (std::size_t i = 0; i < 2; ++i) {
            const grad4& g = i == 0 ? g0 : g1;
            BOOST_TEST(same(Jw.rows[i][0], g[3], 1e-13));
            BOOST_TEST(same(Jw.rows[i][1], g[0], 1e-13));
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(jacobians_at_kinks_match_the_reference) {
    for (const point& p : kink_points) {
        check_jacobians(f_max_min, f_relu_abs, p);
    }
    const std::array<point, 3> pts = {{{-2, 1.5, -3, 2}, {1.25, -1, 0, 2}, {0.7, 1.3, 1.8, 0.6}}};
    for (const point& p : pts) {
        check_jacobians(f_pow, f_max_min, p);
    }
    check_jacobians(f_smooth_small, f_sqrt_near_zero, {1e-3, -2, 1e-6, 1e-4});
}

// --- Exact values in constant expressions (both compilers fold them) ------------------------

namespace {

// max/min with every tie at (1, 1, 1, 1): the convention picks a, b, a·b and e, so locally
// f = a·b + (a·b)² + e²: ∇f = (3, 3, 0, 2), H = [[2, 5, 0, 0], [5, 2, 0, 0], 0, [0, 0, 0, 2]].
constexpr auto tie_h = ctgrad::hessian(f_max_min(a, b, c, e), a = 1.0, b = 1.0, c = 1.0, e = 1.0);
static_assert(tie_h.value == 3.0);
static_assert(tie_h.gradient[a] == 3.0 && tie_h.gradient[b] == 3.0 && tie_h.gradient[c] == 0.0 &&
              tie_h.gradient[e] == 2.0);
static_assert(tie_h(a, a) == 2.0 && tie_h(a, b) == 5.0 && tie_h(b, a) == 5.0 && tie_h(b, b) == 2.0);
static_assert(tie_h(c, c) == 0.0 && tie_h(a, c) == 0.0 && tie_h(b, c) == 0.0 && tie_h(e, e) == 2.0);
static_assert(tie_h(a, e) == 0.0 && tie_h(c, e) == 0.0);
// The same point through jvp / hvp / jacobian.
static_assert(ctgrad::jvp(f_max_min(a, b, c, e), along(a = 1.0, b = -1.0, c = 2.0, e = 0.5),
                          a = 1.0, b = 1.0, c = 1.0, e = 1.0)
                  .tangent == 3.0 - 3.0 + 0.0 + 1.0);
constexpr auto tie_hv = ctgrad::hvp(f_max_min(a, b, c, e), along(a = 1.0, b = -1.0, c = 2.0, e = 0.5),
                                    a = 1.0, b = 1.0, c = 1.0, e = 1.0);
static_assert(tie_hv[a] == 2.0 - 5.0 && tie_hv[b] == 5.0 - 2.0 && tie_hv[c] == 0.0 &&
              tie_hv[e] == 1.0);
constexpr auto tie_J = ctgrad::jacobian(ctgrad::outputs(f_max_min(a, b, c, e), f_relu_abs(a, b, c, e)),
                                        a = 1.0, b = 1.0, c = 1.0, e = 1.0);
static_assert(tie_J(0, a) == 3.0 && tie_J(0, b) == 3.0 && tie_J(0, c) == 0.0 && tie_J(0, e) == 2.0);

// relu/abs at (2, 1, 2, 2): relu(a·b − c) = 0 and abs(a − e) = 0 contribute nothing; locally
// f = c³ + e²: ∇f = (0, 0, 12, 4), H = diag(0, 0, 12, 2).
constexpr auto kink_h = ctgrad::hessian(f_relu_abs(a, b, c, e), a = 2.0, b = 1.0, c = 2.0, e = 2.0);
static_assert(kink_h.value == 12.0);
static_assert(kink_h.gradient[a] == 0.0 && kink_h.gradient[b] == 0.0 &&
              kink_h.gradient[c] == 12.0 && kink_h.gradient[e] == 4.0);
static_assert(kink_h(a, a) == 0.0 && kink_h(a, b) == 0.0 && kink_h(b, b) == 0.0 &&
              kink_h(a, e) == 0.0 && kink_h(c, c) == 12.0 && kink_h(e, e) == 2.0);
constexpr auto kink_J = ctgrad::jacobian<ctgrad::accumulation::forward>(
    ctgrad::outputs(f_relu_abs(a, b, c, e), a * e), a = 2.0, b = 1.0, c = 2.0, e = 2.0);
static_assert(kink_J(0, a) == 0.0 && kink_J(0, c) == 12.0 && kink_J(0, e) == 4.0 &&
              kink_J(1, a) == 2.0 && kink_J(1, e) == 2.0);

// pow with a negative base and integer exponents at (a, b) = (−2, 1):
// f = a³b + (ab)² + b⁻² = −3, ∇f = (8, −2), H = [[−10, 4], [4, 14]].
constexpr auto pow_f = ctgrad::pow(a, 3.0) * b + ctgrad::pow(a * b, 2.0) + ctgrad::pow(b, -2.0);
constexpr auto pow_h = ctgrad::hessian(pow_f, a = -2.0, b = 1.0);
static_assert(pow_h.value == -3.0);
static_assert(pow_h.gradient[a] == 8.0 && pow_h.gradient[b] == -2.0);
static_assert(pow_h(a, a) == -10.0 && pow_h(a, b) == 4.0 && pow_h(b, b) == 14.0);
static_assert(ctgrad::hvp(pow_f, along(a = 1.0, b = 1.0), a = -2.0, b = 1.0)[b] == 18.0);

}  // namespace

// --- Transcendental functions in constant expressions (ctgrad's constexpr math, which Clang
// needs: it does not fold std:: math) against the run-time results (std::) and the hyper-dual
// reference -----------------------------------------------------------------------------------

namespace {

constexpr point smooth_at = {0.4, 0.3, 0.7, -0.2};
constexpr auto smooth_h = ctgrad::hessian(f_smooth_small(a, b, c, e), a = smooth_at[0],
                                          b = smooth_at[1], c = smooth_at[2], e = smooth_at[3]);
constexpr auto pow_J = ctgrad::jacobian(
    ctgrad::outputs(f_pow(a, b, c, e), f_sqrt_near_zero(a, b, c, e)), a = 0.7, b = 1.3, c = 1.8,
    e = 0.6);
constexpr auto pow_hv = ctgrad::hvp(f_pow(a, b, c, e), along(a = 1.0, b = -0.5, c = 0.0, e = 2.0),
                                    a = 0.7, b = 1.3, c = 1.8, e = 0.6);
static_assert(smooth_h.value > 0 && pow_J.value[0] > 0 && pow_hv.value > 0);

}  // namespace

BOOST_AUTO_TEST_CASE(constant_evaluation_agrees_with_run_time_and_reference) {
    double rv = 0;
    grad4 rg{};
    hess4 rh{};
    reference(f_smooth_small, smooth_at, rv, rg, rh);
    const hess4 ch = {{{smooth_h(a, a), smooth_h(a, b), smooth_h(a, c), smooth_h(a, e)},
                       {smooth_h(b, a), smooth_h(b, b), smooth_h(b, c), smooth_h(b, e)},
                       {smooth_h(c, a), smooth_h(c, b), smooth_h(c, c), smooth_h(c, e)},
                       {smooth_h(e, a), smooth_h(e, b), smooth_h(e, c), smooth_h(e, e)}}};
    BOOST_TEST(close(smooth_h.value, rv, 1e-14));
    for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
            BOOST_TEST(close(ch[i][j], rh[i][j], 1e-12), "h(" << i << ", " << j << ")");
        }
    }

    const point pp = {0.7, 1.3, 1.8, 0.6};
    double v0 = 0, v1 = 0;
    grad4 g0{}, g1{};
    reference(f_pow, pp, v0, g0, rh);
    reference(f_sqrt_near_zero, pp, v1, g1, rh);
    BOOST_TEST(close(pow_J.value[0], v0, 1e-14));
    BOOST_TEST(close(pow_J.value[1], v1, 1e-14));
    const grad4 j0 = {pow_J(0, a), pow_J(0, b), pow_J(0, c), pow_J(0, e)};
    const grad4 j1 = {pow_J(1, a), pow_J(1, b), pow_J(1, c), pow_J(1, e)};
    for (int k = 0; k < 4; ++k) {
        BOOST_TEST(close(j0[k], g0[k], 1e-13), "row 0 column " << k);
        BOOST_TEST(close(j1[k], g1[k], 1e-13), "row 1 column " << k);
    }
    // hvp at compile time equals hvp at run time
    const auto rt = ctgrad::hvp(f_pow(a, b, c, e), along(a = 1.0, b = -0.5, c = 0.0, e = 2.0),
                                a = 0.7, b = 1.3, c = 1.8, e = 0.6);
    BOOST_TEST(close(pow_hv[a], rt[a], 1e-13));
    BOOST_TEST(close(pow_hv[b], rt[b], 1e-13));
    BOOST_TEST(close(pow_hv[c], rt[c], 1e-13));
    BOOST_TEST(close(pow_hv[e], rt[e], 1e-13));
}
