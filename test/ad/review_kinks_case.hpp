// The harness of ad/review_kinks (review_kinks_test.cpp, review_kinks_jacobian_test.cpp): the
// hyper-dual reference, the checks and the functions; see review_kinks_test.cpp.
#pragma once
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
inline double gm(double d, double t) {
    return t == 0 ? 0.0 : d * t;
}

/// f(u) from f(v), f'(v), f''(v).
inline hd chain(const hd& u, double f, double f1, double f2) {
    return {f, gm(f1, u.a), gm(f1, u.b), gm(f1, u.c) + gm(f2, u.a * u.b)};
}

inline hd constant(double k) {
    return {k, 0, 0, 0};
}

inline hd operator+(const hd& p, const hd& q) {
    return {p.v + q.v, p.a + q.a, p.b + q.b, p.c + q.c};
}
inline hd operator-(const hd& p, const hd& q) {
    return {p.v - q.v, p.a - q.a, p.b - q.b, p.c - q.c};
}
inline hd operator-(const hd& p) {
    return {-p.v, -p.a, -p.b, -p.c};
}
inline hd operator*(const hd& p, const hd& q) {
    return {p.v * q.v, p.a * q.v + p.v * q.a, p.b * q.v + p.v * q.b,
            p.c * q.v + p.a * q.b + p.b * q.a + p.v * q.c};
}
inline hd recip(const hd& q) {
    return chain(q, 1 / q.v, -1 / (q.v * q.v), 2 / (q.v * q.v * q.v));
}
inline hd operator/(const hd& p, const hd& q) {
    return p * recip(q);
}
inline hd operator+(double k, const hd& q) {
    return constant(k) + q;
}
inline hd operator+(const hd& p, double k) {
    return p + constant(k);
}
inline hd operator-(double k, const hd& q) {
    return constant(k) - q;
}
inline hd operator-(const hd& p, double k) {
    return p - constant(k);
}
inline hd operator*(double k, const hd& q) {
    return constant(k) * q;
}
inline hd operator*(const hd& p, double k) {
    return p * constant(k);
}
inline hd operator/(const hd& p, double k) {
    return p * constant(1 / k);
}
inline hd operator/(double k, const hd& q) {
    return k * recip(q);
}

inline hd exp(const hd& u) {
    const double e = std::exp(u.v);
    return chain(u, e, e, e);
}
inline hd log(const hd& u) {
    return chain(u, std::log(u.v), 1 / u.v, -1 / (u.v * u.v));
}
inline hd log1p(const hd& u) {
    const double d = 1 + u.v;
    return chain(u, std::log1p(u.v), 1 / d, -1 / (d * d));
}
inline hd sqrt(const hd& u) {
    const double s = std::sqrt(u.v);
    return chain(u, s, 0.5 / s, -0.25 / (s * s * s));
}
inline hd square(const hd& u) {
    return chain(u, u.v * u.v, 2 * u.v, 2);
}
inline hd sin(const hd& u) {
    return chain(u, std::sin(u.v), std::cos(u.v), -std::sin(u.v));
}
inline hd cos(const hd& u) {
    return chain(u, std::cos(u.v), -std::sin(u.v), -std::cos(u.v));
}
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
inline hd relu(const hd& u) {
    return u.v > 0 ? u : constant(0);
}
inline hd abs(const hd& u) {
    return u.v > 0 ? u : (u.v < 0 ? -u : constant(0));
}
inline hd max(const hd& p, const hd& q) {
    return p.v >= q.v ? p : q;
}
inline hd min(const hd& p, const hd& q) {
    return p.v <= q.v ? p : q;
}
inline hd max(const hd& p, double k) {
    return max(p, constant(k));
}
inline hd max(double k, const hd& q) {
    return max(constant(k), q);
}
inline hd min(const hd& p, double k) {
    return min(p, constant(k));
}

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
inline hd pow(const hd& p, double k) {
    return pow(p, constant(k));
}
inline hd pow(double k, const hd& q) {
    return pow(constant(k), q);
}

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
        const auto bind = [&](auto fn) { return fn(a = p[0], b = p[1], c = p[2], e = p[3]); };
        const double v = bind([&](auto... bs) { return ctgrad::value(expr, bs...); });
        BOOST_TEST(same(v, rv, tol), "value " << v << " want " << rv);
        const grad4 g =
            bind([&](auto... bs) { return gradient_of(ctgrad::gradient(expr, bs...)); });
        const auto h = bind([&](auto... bs) { return ctgrad::hessian(expr, bs...); });
        const grad4 hg = gradient_of(h.gradient);
        const hess4 hm = {{{h(a, a), h(a, b), h(a, c), h(a, e)},
                           {h(b, a), h(b, b), h(b, c), h(b, e)},
                           {h(c, a), h(c, b), h(c, c), h(c, e)},
                           {h(e, a), h(e, b), h(e, c), h(e, e)}}};
        BOOST_TEST(same(h.value, rv, tol));
        for (int i = 0; i < 4; ++i) {
            BOOST_TEST(same(g[i], rg[i], tol),
                       "gradient " << i << ": " << g[i] << " want " << rg[i]);
            BOOST_TEST(same(hg[i], rg[i], tol),
                       "hessian.gradient " << i << ": " << hg[i] << " want " << rg[i]);
            for (int j = 0; j < 4; ++j) {
                BOOST_TEST(same(hm[i][j], rh[i][j], 1e-10), "hessian(" << i << ", " << j << ") "
                                                                       << hm[i][j] << " want "
                                                                       << rh[i][j]);
            }
        }

        // Directions: each unit vector and a mixed one with a zero component.
        const std::array<grad4, 5> dirs = {
            {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0.5, -2, 0, 1.25}}};
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
                BOOST_TEST(same(t.tangent, want_t, 1e-12),
                           "jvp " << t.tangent << " want " << want_t);
            }
            const grad4 hvv = {hv[a], hv[b], hv[c], hv[e]};
            for (int i = 0; i < 4; ++i) {
                std::array<ref::hd, 4> u;
                for (int k = 0; k < 4; ++k) {
                    u[k] = {p[k], d[k], k == i ? 1.0 : 0.0, 0.0};
                }
                // (Hv)_i is the derivative of the i-th partial along v: NaN where that partial is.
                const double want = std::isnan(rg[i]) ? std::nan("") : f(u[0], u[1], u[2], u[3]).c;
                BOOST_TEST(same(hvv[i], want, 1e-10),
                           "hvp " << i << ": " << hvv[i] << " want " << want);
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
                    BOOST_TEST(
                        (close(hm[j][i], fdh, 1e-5) || std::abs(hm[j][i] - fdh) < 1e-6),
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
    return pow(a_, 3.0) * b_ + pow(a_ * b_, 2.0) + pow(c_, e_) + pow(2.0, a_ * e_) + pow(b_, -2.0);
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
