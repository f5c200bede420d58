// ad/hessian (see hessian_test.cpp): whole expressions (run-time constants, exact literals, DAG
// reuse, three variables, bindings) and a Black–Scholes call price's Greeks.
#include <cmath>
#include <functional>
#include <numbers>

#include <boost/test/unit_test.hpp>

#include "hessian_check.hpp"

using namespace hessian_check;

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
