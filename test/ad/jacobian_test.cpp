// outputs(...) and jacobian(...): DESIGN.md's call shapes in constant expressions, forward and
// reverse accumulation against each other, every row against `gradient` of that output alone,
// and every entry against central finite differences.
#define BOOST_TEST_MODULE ad_jacobian
#include <array>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using namespace ctgrad::literals;
using ctgrad::accumulation;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::near;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;
constexpr auto w = ctgrad::var<"w">;

// --- constant expressions: DESIGN.md's call shapes ---

constexpr auto F = ctgrad::outputs(x * y, ctgrad::sin(x) + y);
constexpr auto J = ctgrad::jacobian(F, x = 1.0, y = 2.0);
static_assert(decltype(F)::size == 2);
static_assert(J.outputs == 2 && J.inputs == 2);
static_assert(J.value[0] == 2.0 && J(0, x) == 2.0 && J(0, y) == 1.0);
static_assert(J.value[1] == ctgrad::value(ctgrad::sin(x) + y, x = 1.0, y = 2.0));
static_assert(J(1, x) == ctgrad::gradient(ctgrad::sin(x) + y, x = 1.0, y = 2.0)[x]);
static_assert(J(1, y) == 1.0);
static_assert(J(0, z) == 0.0);  // a variable F does not contain

// Both accumulations, forced, give the same numbers (here exactly: same operations).
constexpr auto Jf = ctgrad::jacobian<accumulation::forward>(F, x = 1.0, y = 2.0);
constexpr auto Jr = ctgrad::jacobian<accumulation::reverse>(F, x = 1.0, y = 2.0);
static_assert(Jf.rows == Jr.rows && Jf.value == Jr.value);

// Transcendental functions in constant evaluation (clang++ too): three outputs sharing
// subexpressions, rows against `gradient` of each output alone.
constexpr auto shared = ctgrad::exp(x * y) * ctgrad::tanh(z);
constexpr auto f0 = shared + ctgrad::log1p(x * x);
constexpr auto f1 = shared * z - ctgrad::sqrt(y * y + 1_c);
constexpr auto f2 = ctgrad::pow(x, y) / (1_c + z * z);
constexpr auto G = ctgrad::outputs(f0, f1, f2);
constexpr auto JG = ctgrad::jacobian(G, x = 0.7, y = 1.3, z = -0.4);
constexpr auto JGf = ctgrad::jacobian<accumulation::reverse>(G, x = 0.7, y = 1.3, z = -0.4);
constexpr auto g0 = ctgrad::gradient(f0, x = 0.7, y = 1.3, z = -0.4);
constexpr auto g1 = ctgrad::gradient(f1, x = 0.7, y = 1.3, z = -0.4);
constexpr auto g2 = ctgrad::gradient(f2, x = 0.7, y = 1.3, z = -0.4);
static_assert(JG.value[0] == g0.value && JG.value[1] == g1.value && JG.value[2] == g2.value);
static_assert(near(JG(0, x), g0[x], 1e-15) && near(JG(0, y), g0[y], 1e-15) &&
              near(JG(0, z), g0[z], 1e-15));
static_assert(near(JG(1, x), g1[x], 1e-15) && near(JG(1, y), g1[y], 1e-15) &&
              near(JG(1, z), g1[z], 1e-15));
static_assert(near(JG(2, x), g2[x], 1e-15) && near(JG(2, y), g2[y], 1e-15) &&
              near(JG(2, z), g2[z], 1e-15));
static_assert(near(JGf(1, z), g1[z], 1e-14) && near(JGf(2, y), g2[y], 1e-14));

// The outputs share one plan: the common subexpression is one entry.
static_assert(ctgrad::ad::plan<decltype(G)::root_type>::size <
              ctgrad::ad::plan<decltype(f0)>::size + ctgrad::ad::plan<decltype(f1)>::size +
                  ctgrad::ad::plan<decltype(f2)>::size);

// wrt(...): the columns in the listed order; variables not listed are data; a listed variable
// the function does not contain has a zero column.
constexpr auto Jw = ctgrad::jacobian(G, ctgrad::wrt(z, w, x), x = 0.7, y = 1.3, z = -0.4);
static_assert(Jw.inputs == 3);
static_assert(Jw.rows[1][0] == JG(1, z) && Jw.rows[1][1] == 0.0 && Jw.rows[1][2] == JG(1, x));
static_assert(Jw(2, y) == 0.0 && Jw(2, x) == JG(2, x));

// Edge cases: an output that is a variable, a constant output, the same output twice, one
// output (a gradient).
constexpr auto E = ctgrad::outputs(x, 3_c, x* y, x* y);
constexpr auto JE = ctgrad::jacobian(E, x = 2.0, y = 5.0);
static_assert(JE.value[0] == 2.0 && JE(0, x) == 1.0 && JE(0, y) == 0.0);
static_assert(JE.value[1] == 3.0 && JE(1, x) == 0.0 && JE(1, y) == 0.0);
static_assert(JE(2, x) == 5.0 && JE(3, x) == 5.0 && JE(2, y) == 2.0 && JE(3, y) == 2.0);
constexpr auto JEf = ctgrad::jacobian<accumulation::reverse>(E, x = 2.0, y = 5.0);
static_assert(JEf.rows == JE.rows && JEf.value == JE.value);
constexpr auto J1 = ctgrad::jacobian(ctgrad::outputs(x * x * y), x = 3.0, y = 2.0);
static_assert(J1.value[0] == 18.0 && J1(0, x) == 12.0 && J1(0, y) == 9.0);

// --- run time: finite differences, both accumulations, row-by-row gradients ---

/// Checks the Jacobian of V (outputs of x, y, z, w) at p: forward against reverse, every entry
/// against a central difference of that output, and every row against `gradient` of the output
/// alone (`rows[i](p)` gives the i-th output's gradient as an array).
template <class V, class Row>
void check(const V& v, const std::array<double, 4>& p, Row row) {
    BOOST_TEST_CONTEXT("at (" << p[0] << ", " << p[1] << ", " << p[2] << ", " << p[3] << ")") {
        const auto jr = ctgrad::jacobian<accumulation::reverse>(
            v, ctgrad::wrt(x, y, z, w), x = p[0], y = p[1], z = p[2], w = p[3]);
        const auto jf = ctgrad::jacobian<accumulation::forward>(
            v, ctgrad::wrt(x, y, z, w), x = p[0], y = p[1], z = p[2], w = p[3]);
        const auto ja =
            ctgrad::jacobian(v, ctgrad::wrt(x, y, z, w), x = p[0], y = p[1], z = p[2], w = p[3]);
        constexpr std::size_t m = V::size;
        for (std::size_t i = 0; i < m; ++i) {
            const std::array<double, 5> g = row(i, p);  // value, then the gradient
            BOOST_TEST(jr.value[i] == g[0]);
            BOOST_TEST(jf.value[i] == g[0]);
            for (std::size_t k = 0; k < 4; ++k) {
                BOOST_TEST_CONTEXT("output " << i << ", variable " << k) {
                    BOOST_TEST(close(jr.rows[i][k], g[k + 1], 1e-15),
                               jr.rows[i][k] << " vs " << g[k + 1]);
                    BOOST_TEST(close(jf.rows[i][k], jr.rows[i][k], 1e-13),
                               jf.rows[i][k] << " vs " << jr.rows[i][k]);
                    // automatic: reverse when there are at least twice as many inputs as outputs
                    BOOST_TEST(ja.rows[i][k] == (4 >= 2 * m ? jr : jf).rows[i][k]);
                    const auto at = [&](double t) {
                        auto q = p;
                        q[k] = t;
                        return ctgrad::jacobian(v, x = q[0], y = q[1], z = q[2], w = q[3]).value[i];
                    };
                    const double h = ctgrad::test::fd_step(p[k]);
                    const double fd = ctgrad::test::central_difference(at, p[k], h);
                    BOOST_TEST(fd_agrees(jr.rows[i][k], fd, g[0], h, 1e-6),
                               jr.rows[i][k] << " vs " << fd);
                }
            }
        }
    }
}

template <class E>
std::array<double, 5> gradient_row(const E& e, const std::array<double, 4>& p) {
    const auto g = ctgrad::gradient(e, x = p[0], y = p[1], z = p[2], w = p[3]);
    return {g.value, g[x], g[y], g[z], g[w]};
}

}  // namespace

BOOST_AUTO_TEST_CASE(smooth_vector_function) {
    const auto s = ctgrad::sin(x * y) + ctgrad::exp(z * 0.25_c);
    const auto a = s * w + ctgrad::tanh(x - z);
    const auto b = s / (1_c + w * w) + ctgrad::erf(y * 0.5_c);
    const auto c = ctgrad::sqrt(x * x + y * y + 1_c) * ctgrad::sigmoid(z * w);
    const auto V = ctgrad::outputs(a, b, c);
    const auto row = [&](std::size_t i, const std::array<double, 4>& p) {
        return i == 0 ? gradient_row(a, p) : i == 1 ? gradient_row(b, p) : gradient_row(c, p);
    };
    check(V, {0.3, 1.1, -0.7, 0.5}, row);
    check(V, {-1.2, 0.4, 2.0, -1.5}, row);
}

BOOST_AUTO_TEST_CASE(more_outputs_than_inputs_and_run_time_constants) {
    // Six outputs of four inputs (forward accumulation by default), with run-time constants.
    const double k = 1.7;
    const auto o0 = x * y * k;
    const auto o1 = ctgrad::log(x * x + 2.0) - z;
    const auto o2 = ctgrad::cos(w * y) * k;
    const auto o3 = ctgrad::pow(y * y + 1_c, z);
    const auto o4 = ctgrad::relu(x - w) + ctgrad::abs(z);
    const auto o5 = x + y + z + w;
    const auto V = ctgrad::outputs(o0, o1, o2, o3, o4, o5);
    const auto row = [&](std::size_t i, const std::array<double, 4>& p) {
        switch (i) {
        case 0:
            return gradient_row(o0, p);
        case 1:
            return gradient_row(o1, p);
        case 2:
            return gradient_row(o2, p);
        case 3:
            return gradient_row(o3, p);
        case 4:
            return gradient_row(o4, p);
        default:
            return gradient_row(o5, p);
        }
    };
    check(V, {0.9, -0.6, 1.3, 0.2}, row);
    check(V, {-0.4, 2.1, -0.8, -1.1}, row);
}

BOOST_AUTO_TEST_CASE(float_numbers) {
    const auto V = ctgrad::outputs(x * y, ctgrad::exp(x) - y);
    const auto j = ctgrad::jacobian(V, x = 0.5f, y = 2.0f);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(j.value[0])>, float>);
    BOOST_TEST(j(0, x) == 2.0f);
    BOOST_TEST(close(j(1, x), std::exp(0.5), 1e-6));
    BOOST_TEST(j(1, y) == -1.0f);
}

BOOST_AUTO_TEST_CASE(reverse_sweeps_keep_outputs_apart) {
    // d sqrt(x)/dx is infinite at x = 0. Output 1 does not depend on x, so its row is 0 there,
    // not 0 * inf = NaN, whether the reverse sweeps run one by one (constant evaluation) or
    // fused on SIMD lanes (run time: two double lanes, four float lanes).
    constexpr auto V = ctgrad::outputs(ctgrad::sqrt(x) * y, y * z);
    constexpr auto jc = ctgrad::jacobian<accumulation::reverse>(V, x = 0.0, y = 2.0, z = 3.0);
    static_assert(jc(1, x) == 0.0 && jc(1, y) == 3.0 && jc(1, z) == 2.0 && jc(0, y) == 0.0);
    const auto j = ctgrad::jacobian<accumulation::reverse>(V, x = 0.0, y = 2.0, z = 3.0);
    BOOST_TEST(std::isinf(j(0, x)));
    BOOST_TEST(j(0, y) == 0.0);
    BOOST_TEST(j(1, x) == 0.0);
    BOOST_TEST(j(1, y) == 3.0);
    BOOST_TEST(j(1, z) == 2.0);

    const auto W = ctgrad::outputs(ctgrad::sqrt(x) * y, y * z, ctgrad::exp(z) * w, x + w);
    const auto j4 = ctgrad::jacobian<accumulation::reverse>(W, x = 0.0, y = 2.0, z = 3.0, w = 0.5);
    BOOST_TEST(std::isinf(j4(0, x)));
    BOOST_TEST(j4(1, x) == 0.0);
    BOOST_TEST(j4(2, x) == 0.0);
    BOOST_TEST(j4(3, x) == 1.0);
    BOOST_TEST(j4(2, z) == std::exp(3.0) * 0.5);
    const auto j4f =
        ctgrad::jacobian<accumulation::reverse>(W, x = 0.0f, y = 2.0f, z = 3.0f, w = 0.5f);
    BOOST_TEST(j4f(1, x) == 0.0f);
    BOOST_TEST(j4f(3, w) == 1.0f);
    BOOST_TEST(j4f(2, w) == std::exp(3.0f));
}

BOOST_AUTO_TEST_CASE(fused_reverse_sweeps_agree_with_gradients) {
    // Two and four outputs of four inputs (reverse by default at two, forced at four): the
    // fused run-time sweep against each output's own gradient.
    const auto a = ctgrad::sin(x * y) * z + w;
    const auto b = ctgrad::exp(z * 0.25_c) / (1_c + w * w) + x;
    const auto c = ctgrad::tanh(x - z) * y;
    const auto d = ctgrad::sqrt(x * x + w * w + 1_c);
    const std::array<double, 4> p{0.4, -1.3, 0.8, 2.2};
    const auto row = [&](std::size_t i, const std::array<double, 4>& q) {
        return i == 0   ? gradient_row(a, q)
               : i == 1 ? gradient_row(b, q)
               : i == 2 ? gradient_row(c, q)
                        : gradient_row(d, q);
    };
    check(ctgrad::outputs(a, b), p, row);
    check(ctgrad::outputs(a, b, c, d), p, row);
}
