// An outside tester's scalar cases (ninth pass), through the public API only (DESIGN.md), other
// than those of review_scalar and review_kinks: a max-stabilised log-sum-exp of six inputs
// (gradient = softmax, Hessian = diag(p) − ppᵀ, the max's kink cancels), the half-angle form of
// atan2, tan(θ/2) = y / (√(x² + y²) + x) (gradient (−y, x) / (r(r + x))), x^x and 2^(x·y),
// a mix of abs/max/min/relu away from its kinks, a 12-input Rosenbrock chain (gradient and
// Hessian exact in static_assert), a doubly reused `auto` recurrence written three ways (run-time
// numbers, exact literals, a bound variable) that must agree; each derivative against a hand
// formula or symbolic `d`, and central differences.
#define BOOST_TEST_MODULE ad_review9_scalar
#include <array>
#include <cmath>
#include <cstddef>

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

// --- log-sum-exp of six inputs, stabilised by their max ----------------------------------------
constexpr auto u1 = ctgrad::var<"u1">;
constexpr auto u2 = ctgrad::var<"u2">;
constexpr auto u3 = ctgrad::var<"u3">;
constexpr auto u4 = ctgrad::var<"u4">;
constexpr auto u5 = ctgrad::var<"u5">;
constexpr auto u6 = ctgrad::var<"u6">;
constexpr auto m6 =
    ctgrad::max(ctgrad::max(ctgrad::max(u1, u2), ctgrad::max(u3, u4)), ctgrad::max(u5, u6));
constexpr auto lse =
    m6 + ctgrad::log(ctgrad::exp(u1 - m6) + ctgrad::exp(u2 - m6) + ctgrad::exp(u3 - m6) +
                     ctgrad::exp(u4 - m6) + ctgrad::exp(u5 - m6) + ctgrad::exp(u6 - m6));

template <class E>
constexpr auto grad6(const E& e, const std::array<double, 6>& a) {
    return ctgrad::gradient(e, u1 = a[0], u2 = a[1], u3 = a[2], u4 = a[3], u5 = a[4], u6 = a[5]);
}

// In constant evaluation: equal inputs give p = 1/6 each, whatever the max's tie rule does.
static_assert(near(grad6(lse, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5})[u1], 1.0 / 6, 1e-15));
static_assert(near(grad6(lse, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5})[u6], 1.0 / 6, 1e-15));
// a tie at the max between u2 and u5 (the kink): the gradient is still the softmax
constexpr auto g_tie = grad6(lse, {-1.0, 2.0, 0.0, 1.0, 2.0, -3.0});
static_assert(near(g_tie[u2], g_tie[u5], 1e-15));
static_assert(near(g_tie[u1] + g_tie[u2] + g_tie[u3] + g_tie[u4] + g_tie[u5] + g_tie[u6], 1.0,
                   1e-15));

// --- half-angle atan2: t = y / (r + x), r = √(x² + y²) ------------------------------------------
constexpr auto r_xy = ctgrad::sqrt(x * x + y * y);
constexpr auto half_angle = y / (r_xy + x);
// at (3, 4): r = 5, t = 4/8 = 0.5, ∇t = (−4, 3)/(5·8) (exact in binary: /40 is not, so near)
static_assert(ctgrad::value(half_angle, x = 3.0, y = 4.0) == 0.5);
static_assert(near(ctgrad::gradient(half_angle, x = 3.0, y = 4.0)[x], -4.0 / 40, 1e-15));
static_assert(near(ctgrad::gradient(half_angle, x = 3.0, y = 4.0)[y], 3.0 / 40, 1e-15));

// --- 12-input Rosenbrock chain: exact at dyadic points ------------------------------------------
constexpr auto v1 = ctgrad::var<"v1">;
constexpr auto v2 = ctgrad::var<"v2">;
constexpr auto v3 = ctgrad::var<"v3">;
constexpr auto v4 = ctgrad::var<"v4">;
constexpr auto v5 = ctgrad::var<"v5">;
constexpr auto v6 = ctgrad::var<"v6">;
constexpr auto v7 = ctgrad::var<"v7">;
constexpr auto v8 = ctgrad::var<"v8">;
constexpr auto v9 = ctgrad::var<"v9">;
constexpr auto v10 = ctgrad::var<"v10">;
constexpr auto v11 = ctgrad::var<"v11">;
constexpr auto v12 = ctgrad::var<"v12">;

constexpr auto rb(auto a, auto b) {
    return 100.0 * ctgrad::square(b - a * a) + ctgrad::square(1.0 - a);
}
constexpr auto rosen = rb(v1, v2) + rb(v2, v3) + rb(v3, v4) + rb(v4, v5) + rb(v5, v6) + rb(v6, v7) +
                       rb(v7, v8) + rb(v8, v9) + rb(v9, v10) + rb(v10, v11) + rb(v11, v12);
constexpr std::array<double, 12> rp = {0.5, -0.25, 1.5,  1.0,  0.75, -1.0,
                                       2.0, 0.125, -0.5, 1.25, 0.0,  -2.0};

constexpr auto rosen_gradient() {
    return ctgrad::gradient(rosen, v1 = rp[0], v2 = rp[1], v3 = rp[2], v4 = rp[3], v5 = rp[4],
                            v6 = rp[5], v7 = rp[6], v8 = rp[7], v9 = rp[8], v10 = rp[9],
                            v11 = rp[10], v12 = rp[11]);
}
constexpr auto rosen_hessian() {
    return ctgrad::hessian(rosen, v1 = rp[0], v2 = rp[1], v3 = rp[2], v4 = rp[3], v5 = rp[4],
                           v6 = rp[5], v7 = rp[6], v8 = rp[7], v9 = rp[8], v10 = rp[9],
                           v11 = rp[10], v12 = rp[11]);
}
constexpr double rosen_value_hand() {
    double s = 0;
    for (std::size_t i = 0; i + 1 < 12; ++i) {
        const double d = rp[i + 1] - rp[i] * rp[i];
        s += 100 * d * d + (1 - rp[i]) * (1 - rp[i]);
    }
    return s;
}
constexpr double rosen_d_hand(std::size_t i) {
    double g = 0;
    if (i + 1 < 12) g += -400 * rp[i] * (rp[i + 1] - rp[i] * rp[i]) - 2 * (1 - rp[i]);
    if (i > 0) g += 200 * (rp[i] - rp[i - 1] * rp[i - 1]);
    return g;
}
constexpr double rosen_h_hand(std::size_t i, std::size_t j) {
    if (i == j) {
        return (i + 1 < 12 ? 1200 * rp[i] * rp[i] - 400 * rp[i + 1] + 2 : 0.0) + (i > 0 ? 200 : 0);
    }
    if (j == i + 1) return -400 * rp[i];
    if (i == j + 1) return -400 * rp[j];
    return 0;
}
constexpr auto rg = rosen_gradient();
static_assert(rg.value == rosen_value_hand());
static_assert(rg[v1] == rosen_d_hand(0) && rg[v2] == rosen_d_hand(1) && rg[v3] == rosen_d_hand(2) &&
              rg[v4] == rosen_d_hand(3) && rg[v5] == rosen_d_hand(4) && rg[v6] == rosen_d_hand(5) &&
              rg[v7] == rosen_d_hand(6) && rg[v8] == rosen_d_hand(7) && rg[v9] == rosen_d_hand(8) &&
              rg[v10] == rosen_d_hand(9) && rg[v11] == rosen_d_hand(10) &&
              rg[v12] == rosen_d_hand(11));
constexpr auto rh = rosen_hessian();
static_assert(rh(v1, v1) == rosen_h_hand(0, 0) && rh(v1, v2) == rosen_h_hand(0, 1) &&
              rh(v2, v1) == rosen_h_hand(1, 0) && rh(v6, v6) == rosen_h_hand(5, 5) &&
              rh(v6, v7) == rosen_h_hand(5, 6) && rh(v11, v12) == rosen_h_hand(10, 11) &&
              rh(v12, v12) == rosen_h_hand(11, 11) && rh(v1, v3) == 0.0 && rh(v3, v12) == 0.0 &&
              rh(v7, v8) == rosen_h_hand(6, 7));
// the Jacobian of three residuals of the least-squares form: 10(v2 − v1²), 1 − v1, 10(v3 − v2²)
constexpr auto rosen_jacobian() {
    return ctgrad::jacobian(ctgrad::outputs(10.0 * (v2 - v1 * v1), 1.0 - v1, 10.0 * (v3 - v2 * v2)),
                            v1 = rp[0], v2 = rp[1], v3 = rp[2]);
}
constexpr auto rj = rosen_jacobian();
static_assert(rj(0, v1) == -20 * rp[0] && rj(0, v2) == 10.0 && rj(0, v3) == 0.0);
static_assert(rj(1, v1) == -1.0 && rj(1, v2) == 0.0 && rj(2, v2) == -20 * rp[1] &&
              rj(2, v3) == 10.0);

// --- a doubly reused recurrence, three ways ------------------------------------------------------
// s0 = x·y, s_{k+1} = s_k · (s_k − c) / 2 + x with c = 0.75: each level uses s_k twice.
constexpr auto c = ctgrad::var<"c">;
constexpr auto rec_numbers() {
    const auto s0 = x * y;
    const auto s1 = s0 * (s0 - 0.75) * 0.5 + x;
    const auto s2 = s1 * (s1 - 0.75) * 0.5 + x;
    const auto s3 = s2 * (s2 - 0.75) * 0.5 + x;
    const auto s4 = s3 * (s3 - 0.75) * 0.5 + x;
    return s4 * (s4 - 0.75) * 0.5 + x;
}
constexpr auto rec_literals() {
    const auto s0 = x * y;
    const auto s1 = s0 * (s0 - 0.75_c) * 0.5_c + x;
    const auto s2 = s1 * (s1 - 0.75_c) * 0.5_c + x;
    const auto s3 = s2 * (s2 - 0.75_c) * 0.5_c + x;
    const auto s4 = s3 * (s3 - 0.75_c) * 0.5_c + x;
    return s4 * (s4 - 0.75_c) * 0.5_c + x;
}
constexpr auto rec_variable() {
    const auto s0 = x * y;
    const auto s1 = s0 * (s0 - c) * 0.5_c + x;
    const auto s2 = s1 * (s1 - c) * 0.5_c + x;
    const auto s3 = s2 * (s2 - c) * 0.5_c + x;
    const auto s4 = s3 * (s3 - c) * 0.5_c + x;
    return s4 * (s4 - c) * 0.5_c + x;
}
struct rec_ref {
    double v, dx, dy;
};
constexpr rec_ref rec_hand(double a, double b) {
    double s = a * b, sx = b, sy = a;
    for (int k = 0; k < 5; ++k) {
        const double d = (2 * s - 0.75) * 0.5;
        sx = d * sx + 1;
        sy = d * sy;
        s = s * (s - 0.75) * 0.5 + a;
    }
    return {s, sx, sy};
}
// in constant evaluation
static_assert(near(ctgrad::gradient(rec_numbers(), x = 0.5, y = 1.5)[x], rec_hand(0.5, 1.5).dx,
                   1e-15));
static_assert(near(ctgrad::gradient(rec_literals(), x = 0.5, y = 1.5)[y], rec_hand(0.5, 1.5).dy,
                   1e-15));
static_assert(near(ctgrad::gradient(rec_variable(), x = 0.5, y = 1.5, c = 0.75).value,
                   rec_hand(0.5, 1.5).v, 1e-15));

// --- helpers -----------------------------------------------------------------------------------
double fd_x(auto f, double a, double b) {
    return central_difference([&](double t) { return ctgrad::value(f, x = t, y = b); }, a);
}
double fd_y(auto f, double a, double b) {
    return central_difference([&](double t) { return ctgrad::value(f, x = a, y = t); }, b);
}

}  // namespace

BOOST_AUTO_TEST_CASE(log_sum_exp_is_softmax_and_its_hessian) {
    const std::array<std::array<double, 6>, 4> points = {{{0.3, -1.2, 2.5, 0.0, 2.4, -7.0},
                                                          {-3.0, -3.1, -2.9, -3.05, -2.95, -3.2},
                                                          {40.0, 39.0, -40.0, 38.5, 0.0, 41.0},
                                                          {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}}};
    for (const auto& a : points) {
        double mx = a[0];
        for (double e : a) mx = std::max(mx, e);
        double s = 0;
        for (double e : a) s += std::exp(e - mx);
        std::array<double, 6> p{};
        for (std::size_t i = 0; i < 6; ++i) p[i] = std::exp(a[i] - mx) / s;
        const double v = mx + std::log(s);
        const auto g = grad6(lse, a);
        BOOST_TEST(close(g.value, v, 1e-15));
        const std::array<double, 6> gs = {g[u1], g[u2], g[u3], g[u4], g[u5], g[u6]};
        for (std::size_t i = 0; i < 6; ++i) {
            BOOST_TEST(std::abs(gs[i] - p[i]) <= 1e-15 + 1e-14 * p[i], "p" << i);
            std::array<double, 6> ap = a, am = a;
            const double h = fd_step(a[i]);
            ap[i] += h;
            am[i] -= h;
            const double fd = (grad6(lse, ap).value - grad6(lse, am).value) / (2 * h);
            BOOST_TEST(fd_agrees(gs[i], fd, v, h), "u" << i + 1 << ": " << gs[i] << " vs " << fd);
        }
        const auto H =
            ctgrad::hessian(lse, u1 = a[0], u2 = a[1], u3 = a[2], u4 = a[3], u5 = a[4], u6 = a[5]);
        const double h01 = H(u1, u2), h00 = H(u1, u1), h22 = H(u3, u3), h35 = H(u4, u6);
        BOOST_TEST(std::abs(h00 - (p[0] - p[0] * p[0])) <= 1e-14);
        BOOST_TEST(std::abs(h22 - (p[2] - p[2] * p[2])) <= 1e-14);
        BOOST_TEST(std::abs(h01 + p[0] * p[1]) <= 1e-14);
        BOOST_TEST(std::abs(h35 + p[3] * p[5]) <= 1e-14);
        // Hessian-vector product along v = (1, −1, 0.5, 0, 2, −0.25): (diag p − ppᵀ) v
        const std::array<double, 6> dir = {1, -1, 0.5, 0, 2, -0.25};
        double pv = 0;
        for (std::size_t i = 0; i < 6; ++i) pv += p[i] * dir[i];
        const auto hv = ctgrad::hvp(
            lse,
            along(u1 = dir[0], u2 = dir[1], u3 = dir[2], u4 = dir[3], u5 = dir[4], u6 = dir[5]),
            u1 = a[0], u2 = a[1], u3 = a[2], u4 = a[3], u5 = a[4], u6 = a[5]);
        const std::array<double, 6> hvs = {hv[u1], hv[u2], hv[u3], hv[u4], hv[u5], hv[u6]};
        for (std::size_t i = 0; i < 6; ++i) {
            BOOST_TEST(std::abs(hvs[i] - p[i] * (dir[i] - pv)) <= 1e-14, "hv" << i);
        }
        const auto t = ctgrad::jvp(
            lse,
            along(u1 = dir[0], u2 = dir[1], u3 = dir[2], u4 = dir[3], u5 = dir[4], u6 = dir[5]),
            u1 = a[0], u2 = a[1], u3 = a[2], u4 = a[3], u5 = a[4], u6 = a[5]);
        BOOST_TEST(std::abs(t.tangent - pv) <= 1e-14);
        BOOST_TEST(close(t.value, v, 1e-15));
    }
}

BOOST_AUTO_TEST_CASE(half_angle_atan2) {
    for (double a : {-2.0, -0.3, 0.4, 1.0, 7.5}) {
        for (double b : {-3.0, -0.7, 0.6, 2.2}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const double r = std::hypot(a, b), den = r * (r + a);
                const auto g = ctgrad::gradient(half_angle, x = a, y = b);
                BOOST_TEST(close(g.value, std::tan(std::atan2(b, a) / 2), 1e-12));
                BOOST_TEST(close(g[x], -b / den, 1e-12));
                BOOST_TEST(close(g[y], a / den, 1e-12));
                BOOST_TEST(fd_agrees(g[x], fd_x(half_angle, a, b), g.value, fd_step(a)));
                BOOST_TEST(fd_agrees(g[y], fd_y(half_angle, a, b), g.value, fd_step(b)));
                // symbolic d twice against the Hessian
                const auto h = ctgrad::hessian(half_angle, x = a, y = b);
                const auto dxy = ctgrad::d(ctgrad::d(half_angle, x), y);
                const auto dyy = ctgrad::d(ctgrad::d(half_angle, y), y);
                BOOST_TEST(close(ctgrad::value(dxy, x = a, y = b), h(x, y), 1e-10));
                BOOST_TEST(close(ctgrad::value(dyy, x = a, y = b), h(y, y), 1e-10));
                // ∂x∂y of −y/(r(r + x)) by hand: d/dy [−y/D], D = r² + r x, ∂D/∂y = 2y + x y / r
                const double dD = 2 * b + a * b / r;
                BOOST_TEST(close(h(x, y), -1 / den + b * dD / (den * den), 1e-10));
                // 2·atan(t) has gradient (−y, x)/r²: through t's gradient, 2/(1 + t²)·∇t
                const double k = 2 / (1 + g.value * g.value);
                BOOST_TEST(close(k * g[x], -b / (r * r), 1e-12));
                BOOST_TEST(close(k * g[y], a / (r * r), 1e-12));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(variable_exponents) {
    const auto selfpow = ctgrad::pow(x, x);
    const auto twopow = ctgrad::pow(2.0, x * y) * ctgrad::pow(ctgrad::sigmoid(y), x);
    for (double a : {0.2, 0.9, 1.6, 3.1}) {
        BOOST_TEST_CONTEXT("x = " << a) {
            const double v = std::pow(a, a), l = std::log(a) + 1;
            const auto g = ctgrad::gradient(selfpow, x = a);
            BOOST_TEST(close(g.value, v, 1e-15));
            BOOST_TEST(close(g[x], v * l, 1e-14));
            const auto h = ctgrad::hessian(selfpow, x = a);
            BOOST_TEST(close(h(x, x), v * (l * l + 1 / a), 1e-13));
            const double fxx = central_difference(
                [&](double t) { return ctgrad::gradient(selfpow, x = t)[x]; }, a, fd_step(a));
            BOOST_TEST(fd_agrees(h(x, x), fxx, g[x], fd_step(a), 1e-5));
            BOOST_TEST(
                close(ctgrad::hvp(selfpow, along(x = -0.5), x = a)[x], -0.5 * h(x, x), 1e-14));
        }
        for (double b : {-1.5, 0.25, 2.0}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const double s = 1 / (1 + std::exp(-b));
                const double v = std::pow(2.0, a * b) * std::pow(s, a);
                const auto g = ctgrad::gradient(twopow, x = a, y = b);
                BOOST_TEST(close(g.value, v, 1e-14));
                // log v = a b ln2 + a ln s: ∂x = b ln2 + ln s, ∂y = a ln2 + a (1 − s)
                BOOST_TEST(close(g[x], v * (b * std::log(2.0) + std::log(s)), 1e-13));
                BOOST_TEST(close(g[y], v * (a * std::log(2.0) + a * (1 - s)), 1e-13));
                BOOST_TEST(fd_agrees(g[x], fd_x(twopow, a, b), v, fd_step(a)));
                BOOST_TEST(fd_agrees(g[y], fd_y(twopow, a, b), v, fd_step(b)));
                // Hessian: v·(∇ℓ∇ℓᵀ + ∇²ℓ), ∇²ℓ = [[0, ln2 + 1 − s], [·, −a s (1 − s)]]
                const double lx = b * std::log(2.0) + std::log(s);
                const double ly = a * std::log(2.0) + a * (1 - s);
                const auto h = ctgrad::hessian(twopow, x = a, y = b);
                BOOST_TEST(close(h(x, x), v * lx * lx, 1e-12));
                BOOST_TEST(close(h(x, y), v * (lx * ly + std::log(2.0) + 1 - s), 1e-12));
                BOOST_TEST(close(h(y, y), v * (ly * ly - a * s * (1 - s)), 1e-12));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(kinks_away_from_the_kink) {
    // f = |x − y| · max(x, 2y) − min(sin x, cos y) + relu(x y − 0.3)
    const auto f = ctgrad::abs(x - y) * ctgrad::max(x, 2.0 * y) -
                   ctgrad::min(ctgrad::sin(x), ctgrad::cos(y)) + ctgrad::relu(x * y - 0.3);
    for (double a : {-1.7, -0.4, 0.35, 1.1, 2.6}) {
        for (double b : {-1.3, -0.23, 0.45, 1.9}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const double ab = std::abs(a - b), sg = a > b ? 1.0 : -1.0;
                const bool mx = a >= 2 * b;
                const double m = mx ? a : 2 * b;
                const bool mn = std::sin(a) <= std::cos(b);
                const bool rl = a * b - 0.3 > 0;
                const double dx =
                    sg * m + ab * (mx ? 1 : 0) - (mn ? std::cos(a) : 0) + (rl ? b : 0);
                const double dy =
                    -sg * m + ab * (mx ? 0 : 2) + (mn ? 0 : std::sin(b)) + (rl ? a : 0);
                const auto g = ctgrad::gradient(f, x = a, y = b);
                BOOST_TEST(close(g[x], dx, 1e-14));
                BOOST_TEST(close(g[y], dy, 1e-14));
                BOOST_TEST(fd_agrees(g[x], fd_x(f, a, b), g.value, fd_step(a)));
                BOOST_TEST(fd_agrees(g[y], fd_y(f, a, b), g.value, fd_step(b)));
                // second order: ∂x∂y = sg·(−sg)(mx ? 1 : 0)… written out: d/dy of dx
                const double hxy = sg * (mx ? 0 : 2) + (-sg) * (mx ? 1 : 0) + (rl ? 1 : 0);
                const double hxx = 2 * sg * (mx ? 1 : 0) + (mn ? std::sin(a) : 0);
                const double hyy = -2 * sg * (mx ? 0 : 2) + (mn ? 0 : std::cos(b));
                const auto h = ctgrad::hessian(f, x = a, y = b);
                BOOST_TEST(close(h(x, y), hxy, 1e-14));
                BOOST_TEST(close(h(x, x), hxx, 1e-14));
                BOOST_TEST(close(h(y, y), hyy, 1e-14));
                // and through symbolic d
                BOOST_TEST(close(ctgrad::value(ctgrad::d(f, x), x = a, y = b), dx, 1e-14));
                BOOST_TEST(close(ctgrad::value(ctgrad::d(f, y), x = a, y = b), dy, 1e-14));
                // a Jacobian with f and its pieces as outputs
                const auto J = ctgrad::jacobian(
                    ctgrad::outputs(f, ctgrad::abs(x - y), ctgrad::relu(x * y - 0.3)), x = a,
                    y = b);
                BOOST_TEST(close(J(0, x), dx, 1e-14));
                BOOST_TEST(J(1, y) == -sg);
                BOOST_TEST(J(2, x) == (rl ? b : 0.0));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(rosenbrock_twelve_inputs_at_run_time) {
    // other points (not dyadic): against the hand gradient and Hessian, and central differences
    std::array<double, 12> p = {0.31, -1.27, 0.93, 1.44, -0.52, 0.07,
                                2.13, -0.66, 0.81, 1.02, -1.91, 0.58};
    const auto grad = [&] {
        return ctgrad::gradient(rosen, v1 = p[0], v2 = p[1], v3 = p[2], v4 = p[3], v5 = p[4],
                                v6 = p[5], v7 = p[6], v8 = p[7], v9 = p[8], v10 = p[9], v11 = p[10],
                                v12 = p[11]);
    };
    const auto g = grad();
    const std::array<double, 12> gs = {g[v1], g[v2], g[v3], g[v4],  g[v5],  g[v6],
                                       g[v7], g[v8], g[v9], g[v10], g[v11], g[v12]};
    for (std::size_t i = 0; i < 12; ++i) {
        double want = 0;
        if (i + 1 < 12) want += -400 * p[i] * (p[i + 1] - p[i] * p[i]) - 2 * (1 - p[i]);
        if (i > 0) want += 200 * (p[i] - p[i - 1] * p[i - 1]);
        BOOST_TEST(close(gs[i], want, 1e-13), "v" << i + 1);
        const double p0 = p[i], h = fd_step(p0);
        p[i] = p0 + h;
        const double fp = grad().value;
        p[i] = p0 - h;
        const double fm = grad().value;
        p[i] = p0;
        BOOST_TEST(fd_agrees(gs[i], (fp - fm) / (2 * h), g.value, h), "v" << i + 1);
    }
    const auto H =
        ctgrad::hessian(rosen, v1 = p[0], v2 = p[1], v3 = p[2], v4 = p[3], v5 = p[4], v6 = p[5],
                        v7 = p[6], v8 = p[7], v9 = p[8], v10 = p[9], v11 = p[10], v12 = p[11]);
    BOOST_TEST(close(H(v4, v4), 1200 * p[3] * p[3] - 400 * p[4] + 2 + 200, 1e-13));
    BOOST_TEST(close(H(v4, v5), -400 * p[3], 1e-14));
    BOOST_TEST(close(H(v12, v12), 200.0, 1e-14));
    BOOST_TEST(H(v2, v9) == 0.0);
    // hvp along e_7 is the 7th column
    const auto hv = ctgrad::hvp(rosen, along(v7 = 1.0), v1 = p[0], v2 = p[1], v3 = p[2], v4 = p[3],
                                v5 = p[4], v6 = p[5], v7 = p[6], v8 = p[7], v9 = p[8], v10 = p[9],
                                v11 = p[10], v12 = p[11]);
    BOOST_TEST(close(hv[v6], H(v6, v7), 1e-14));
    BOOST_TEST(close(hv[v7], H(v7, v7), 1e-14));
    BOOST_TEST(close(hv[v8], H(v8, v7), 1e-14));
    BOOST_TEST(hv[v1] == 0.0);
}

BOOST_AUTO_TEST_CASE(reused_recurrence_three_ways_agree) {
    for (double a : {-0.9, 0.1, 0.55}) {
        for (double b : {-1.2, 0.3, 1.1}) {
            BOOST_TEST_CONTEXT("x = " << a << ", y = " << b) {
                const rec_ref ref = rec_hand(a, b);
                const auto gn = ctgrad::gradient(rec_numbers(), x = a, y = b);
                const auto gl = ctgrad::gradient(rec_literals(), x = a, y = b);
                const auto gv = ctgrad::gradient(rec_variable(), x = a, y = b, c = 0.75);
                BOOST_TEST(close(gn.value, ref.v, 1e-14));
                BOOST_TEST(close(gn[x], ref.dx, 1e-13));
                BOOST_TEST(close(gn[y], ref.dy, 1e-13));
                BOOST_TEST(close(gl[x], gn[x], 1e-14));
                BOOST_TEST(close(gl[y], gn[y], 1e-14));
                BOOST_TEST(close(gv[x], gn[x], 1e-14));
                BOOST_TEST(close(gv[y], gn[y], 1e-14));
                BOOST_TEST(fd_agrees(gn[x], fd_x(rec_numbers(), a, b), ref.v, fd_step(a)));
                BOOST_TEST(fd_agrees(gn[y], fd_y(rec_numbers(), a, b), ref.v, fd_step(b)));
                // ∂/∂c against a central difference in c
                const double hc = fd_step(0.75);
                const double fdc = central_difference(
                    [&](double t) { return ctgrad::value(rec_variable(), x = a, y = b, c = t); },
                    0.75, hc);
                BOOST_TEST(fd_agrees(gv[c], fdc, ref.v, hc));
                // the Hessians of the three forms agree and match differences of the gradient
                const auto hn = ctgrad::hessian(rec_numbers(), x = a, y = b);
                const auto hl = ctgrad::hessian(rec_literals(), x = a, y = b);
                BOOST_TEST(close(hn(x, y), hl(x, y), 1e-13));
                BOOST_TEST(close(hn(y, y), hl(y, y), 1e-13));
                const double fxy = central_difference(
                    [&](double t) { return ctgrad::gradient(rec_numbers(), x = a, y = t)[x]; }, b,
                    fd_step(b));
                BOOST_TEST(fd_agrees(hn(x, y), fxy, 1 + std::abs(gn[x]), fd_step(b), 1e-5));
            }
        }
    }
}
