// The second TU of ad/review_kinks (see review_kinks_test.cpp): tiny arguments and sqrt near 0,
// Jacobians of the same functions, exact results in static_assert and constant evaluation of
// transcendental functions.
#include <boost/test/unit_test.hpp>

#include "review_kinks_case.hpp"

BOOST_AUTO_TEST_CASE(small_arguments_and_sqrt_near_zero) {
    const std::array<point, 4> pts = {{{1e-9, 1e-7, 1e-8, 3e-9},
                                       {1e-3, -2, 1e-6, 1e-4},
                                       {0.4, 0.3, 2e-10, -0.2},
                                       {0.9, -0.7, 1.3, 0.6}}};
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
        const auto J4f =
            ctgrad::jacobian<accumulation::reverse>(F4, a = pf(0), b = pf(1), c = pf(2), e = pf(3));
        // (float unless the functions hold a run-time double such as 3.0: the common type.)
        // The float point is the double point when p is exactly representable (all are here).
        check_rows("F4 float reverse", J4f, rows4, vals4, 4, 2e-6);
        const auto J4ff =
            ctgrad::jacobian<accumulation::forward>(F4, a = pf(0), b = pf(1), c = pf(2), e = pf(3));
        check_rows("F4 float forward", J4ff, rows4, vals4, 4, 2e-6);

        // wrt(e, a): two columns in that order, b and c bound as data.
        const auto Jw =
            ctgrad::jacobian(F2, ctgrad::wrt(e, a), a = p[0], b = p[1], c = p[2], e = p[3]);
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
constexpr auto tie_hv =
    ctgrad::hvp(f_max_min(a, b, c, e), along(a = 1.0, b = -1.0, c = 2.0, e = 0.5), a = 1.0, b = 1.0,
                c = 1.0, e = 1.0);
static_assert(tie_hv[a] == 2.0 - 5.0 && tie_hv[b] == 5.0 - 2.0 && tie_hv[c] == 0.0 &&
              tie_hv[e] == 1.0);
constexpr auto tie_J =
    ctgrad::jacobian(ctgrad::outputs(f_max_min(a, b, c, e), f_relu_abs(a, b, c, e)), a = 1.0,
                     b = 1.0, c = 1.0, e = 1.0);
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
    ctgrad::outputs(f_relu_abs(a, b, c, e), a* e), a = 2.0, b = 1.0, c = 2.0, e = 2.0);
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
constexpr auto pow_J =
    ctgrad::jacobian(ctgrad::outputs(f_pow(a, b, c, e), f_sqrt_near_zero(a, b, c, e)), a = 0.7,
                     b = 1.3, c = 1.8, e = 0.6);
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
