// jvp and hvp: directional derivatives against the gradient and the Hessian, central finite
// differences along the direction, and the symbolic path; constexpr results by static_assert.
#define BOOST_TEST_MODULE ad_directional
#include <array>
#include <cmath>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using namespace ctgrad::literals;
using ctgrad::along;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::near;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

// --- constant expressions: DESIGN.md's call shapes ---

// f = x²y: ∇f = (2xy, x²), H = [[2y, 2x], [2x, 0]].
constexpr auto t_poly = ctgrad::jvp(x * x * y, along(x = 1.0, y = 0.0), x = 2.0, y = 3.0);
static_assert(t_poly.value == 12.0 && t_poly.tangent == 12.0);
static_assert(ctgrad::jvp(x * x * y, along(x = 1.0, y = 2.0), x = 2.0, y = 3.0).tangent ==
              12.0 + 2.0 * 4.0);
// A variable not named in along does not move.
static_assert(ctgrad::jvp(x * x * y, along(y = 1.0), x = 2.0, y = 3.0).tangent == 4.0);
static_assert(ctgrad::jvp(x * x * y, along(), x = 2.0, y = 3.0).tangent == 0.0);
// along may name a bound variable the expression does not contain.
static_assert(ctgrad::jvp(x * x, along(x = 1.0, z = 5.0), x = 2.0, z = 1.0).tangent == 4.0);

constexpr auto hv_poly = ctgrad::hvp(x * x * y, along(x = 1.0, y = 2.0), x = 2.0, y = 3.0);
static_assert(hv_poly[x] == 6.0 + 2.0 * 4.0 && hv_poly[y] == 4.0);
static_assert(hv_poly[z] == 0.0);
static_assert(hv_poly.value == 12.0 && hv_poly.gradient[x] == 12.0 && hv_poly.gradient[y] == 4.0);

// Transcendental functions in constant evaluation (clang++ too), against the symbolic path.
constexpr auto f_mix = ctgrad::sin(x * y) + ctgrad::exp(x) * ctgrad::tanh(y) +
                       ctgrad::erfc(0.5 * x) + ctgrad::log1p(x * y) + ctgrad::pow(x, y);
constexpr auto t_mix = ctgrad::jvp(f_mix, along(x = 0.25, y = -1.0), x = 0.7, y = 1.3);
static_assert(near(t_mix.tangent,
                   0.25 * ctgrad::value(ctgrad::d(f_mix, x), x = 0.7, y = 1.3) -
                       ctgrad::value(ctgrad::d(f_mix, y), x = 0.7, y = 1.3),
                   1e-14));
static_assert(t_mix.value == ctgrad::value(f_mix, x = 0.7, y = 1.3));
constexpr auto hv_mix = ctgrad::hvp(f_mix, along(x = 0.25, y = -1.0), x = 0.7, y = 1.3);
constexpr auto h_mix = ctgrad::hessian(f_mix, x = 0.7, y = 1.3);
static_assert(near(hv_mix[x], 0.25 * h_mix(x, x) - h_mix(x, y), 1e-14));
static_assert(near(hv_mix[y], 0.25 * h_mix(y, x) - h_mix(y, y), 1e-14));

// The tangent's type follows the bound numbers.
static_assert(std::is_same_v<
              decltype(ctgrad::jvp(x * y, along(x = 1.0f), x = 1.0f, y = 2.0f).tangent), float>);

/// Checks jvp and hvp of f (of x, y, z) at p along v: against the gradient and the Hessian,
/// central differences of value and gradient along v, and the symbolic path.
template <class F>
void check_directional(const F& f, std::array<double, 3> p, std::array<double, 3> v) {
    BOOST_TEST_CONTEXT("at (" << p[0] << ", " << p[1] << ", " << p[2] << ") along (" << v[0] << ", "
                              << v[1] << ", " << v[2] << ")") {
        const auto dir = along(x = v[0], y = v[1], z = v[2]);
        const auto t = ctgrad::jvp(f, dir, x = p[0], y = p[1], z = p[2]);
        const auto hv = ctgrad::hvp(f, dir, x = p[0], y = p[1], z = p[2]);
        const auto g = ctgrad::gradient(f, x = p[0], y = p[1], z = p[2]);
        const auto h = ctgrad::hessian(f, x = p[0], y = p[1], z = p[2]);
        BOOST_TEST(t.value == g.value);
        BOOST_TEST(hv.value == g.value);
        BOOST_TEST(close(hv.gradient[x], g[x], 1e-15));
        BOOST_TEST(close(t.tangent, g[x] * v[0] + g[y] * v[1] + g[z] * v[2], 1e-13));
        const std::array<double, 3> hvx{h(x, x) * v[0] + h(x, y) * v[1] + h(x, z) * v[2],
                                        h(y, x) * v[0] + h(y, y) * v[1] + h(y, z) * v[2],
                                        h(z, x) * v[0] + h(z, y) * v[1] + h(z, z) * v[2]};
        BOOST_TEST(close(hv[x], hvx[0], 1e-12), hv[x] << " vs " << hvx[0]);
        BOOST_TEST(close(hv[y], hvx[1], 1e-12), hv[y] << " vs " << hvx[1]);
        BOOST_TEST(close(hv[z], hvx[2], 1e-12), hv[z] << " vs " << hvx[2]);
        // Central differences along v: of the value (jvp) and of the gradient (hvp).
        const double step = 1e-5;
        const auto at = [&](double s) {
            return std::array{p[0] + s * v[0], p[1] + s * v[1], p[2] + s * v[2]};
        };
        const auto up = at(step);
        const auto down = at(-step);
        const double fd = ctgrad::test::central_difference(
            [&](double s) {
                const auto q = at(s);
                return ctgrad::value(f, x = q[0], y = q[1], z = q[2]);
            },
            0.0, step);
        BOOST_TEST(fd_agrees(t.tangent, fd, t.value, step, 1e-6), t.tangent << " vs " << fd);
        const auto gu = ctgrad::gradient(f, x = up[0], y = up[1], z = up[2]);
        const auto gd = ctgrad::gradient(f, x = down[0], y = down[1], z = down[2]);
        BOOST_TEST(fd_agrees(hv[x], (gu[x] - gd[x]) / (2 * step), g[x], step, 1e-5));
        BOOST_TEST(fd_agrees(hv[y], (gu[y] - gd[y]) / (2 * step), g[y], step, 1e-5));
        BOOST_TEST(fd_agrees(hv[z], (gu[z] - gd[z]) / (2 * step), g[z], step, 1e-5));
        // The symbolic path: d(f, u) along v.
        const auto sym = [&](const auto& e) {
            return ctgrad::value(e, x = p[0], y = p[1], z = p[2]);
        };
        const double dx = sym(ctgrad::d(f, x));
        const double dy = sym(ctgrad::d(f, y));
        const double dz = sym(ctgrad::d(f, z));
        BOOST_TEST(close(t.tangent, dx * v[0] + dy * v[1] + dz * v[2], 1e-12));
        const double sxx = sym(ctgrad::d(ctgrad::d(f, x), x));
        const double sxy = sym(ctgrad::d(ctgrad::d(f, x), y));
        const double sxz = sym(ctgrad::d(ctgrad::d(f, x), z));
        BOOST_TEST(close(hv[x], sxx * v[0] + sxy * v[1] + sxz * v[2], 1e-11));
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(smooth_functions) {
    const auto f = x * y * z + ctgrad::exp(x * z) + ctgrad::sin(y) * z * z +
                   ctgrad::sigmoid(x - y) * ctgrad::sqrt(y * y + 1.0) + ctgrad::erf(z * 0.5_c);
    check_directional(f, {0.3, 1.1, -0.7}, {1.0, 0.0, 0.0});
    check_directional(f, {0.3, 1.1, -0.7}, {0.5, -2.0, 1.5});
    check_directional(f, {-1.2, 0.4, 2.0}, {0.0, 1.0, 1.0});
}

BOOST_AUTO_TEST_CASE(piecewise_and_constants) {
    const auto g = ctgrad::relu(x * y - 0.1) * z + ctgrad::abs(x - z) * y +
                   ctgrad::max(x, y) * ctgrad::min(y, z) + 2.0 * ctgrad::pow(x, 3) * y;
    check_directional(g, {0.6, 1.1, -0.7}, {1.0, 2.0, -1.0});
    check_directional(g, {-0.5, 0.3, 0.9}, {0.3, 0.0, 1.0});
}

BOOST_AUTO_TEST_CASE(unit_directions_give_the_gradient_and_the_hessian_columns) {
    const auto f = ctgrad::tanh(x * y) * z + ctgrad::log(x + y + z);
    const auto g = ctgrad::gradient(f, x = 0.4, y = 0.8, z = 1.2);
    const auto h = ctgrad::hessian(f, x = 0.4, y = 0.8, z = 1.2);
    const auto tx = ctgrad::jvp(f, along(x = 1.0), x = 0.4, y = 0.8, z = 1.2);
    BOOST_TEST(close(tx.tangent, g[x], 1e-15));
    const auto hz = ctgrad::hvp(f, along(z = 1.0), x = 0.4, y = 0.8, z = 1.2);
    BOOST_TEST(close(hz[x], h(x, z), 1e-14));
    BOOST_TEST(close(hz[y], h(y, z), 1e-14));
    BOOST_TEST(close(hz[z], h(z, z), 1e-14));
}

BOOST_AUTO_TEST_CASE(direction_by_reference) {
    double vx = 1.0;
    const auto dir = along(x = std::cref(vx));
    vx = 3.0;
    BOOST_TEST(ctgrad::jvp(x * x, dir, x = 2.0).tangent == 12.0);
}
