// hessian by forward-over-reverse: every entry against central finite differences of the
// gradient and against the symbolic second derivative value(d(d(f, x), y)), for every op
// family, run-time constants, exact literals, DAG reuse and a Black–Scholes call price (Greeks
// against their closed forms); constexpr results checked by static_assert (g++ and clang++).
// One executable in four TUs (hessian_check.hpp holds the run-time checks): this one, constant
// evaluation; hessian_families_test.cpp and hessian_families2_test.cpp, the op families;
// hessian_expressions_test.cpp, whole expressions and the Black–Scholes Greeks.
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

#include "hessian_check.hpp"

using namespace hessian_check;

namespace {

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

}  // namespace
