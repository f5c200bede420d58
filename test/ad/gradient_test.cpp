// value and gradient: scalar types, bindings, bit-for-bit equality with plain formulas.
#define BOOST_TEST_MODULE ad_gradient
#include <cmath>
#include <functional>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;

// The result type follows the bound numbers (ad::scalar_t).
static_assert(std::is_same_v<decltype(ctgrad::value(x * y, x = 1.0f, y = 2.0f)), float>);
static_assert(std::is_same_v<decltype(ctgrad::value(x * y, x = 1.0, y = 2.0f)), double>);
static_assert(std::is_same_v<decltype(ctgrad::value(x * y, x = 1.0L, y = 2.0)), long double>);
static_assert(std::is_same_v<decltype(ctgrad::value(x * 2.0, x = 1.0f)), double>);
static_assert(std::is_same_v<decltype(ctgrad::value(x * 2, x = 1.0f)), float>);
static_assert(
    std::is_same_v<decltype(ctgrad::value(x + y, x = 1, y = 2)), double>);  // ints: double
static_assert(std::is_same_v<decltype(ctgrad::value(1_c + 2_c)), double>);

// A variable the expression does not contain has partial derivative 0.
static_assert(ctgrad::gradient(x * x, x = 3.0)[y] == 0.0);
// Extra bindings are ignored.
static_assert(ctgrad::value(x * x, x = 3.0, y = 1.0, z = 2.0) == 9.0);
// Literals and integers.
static_assert(ctgrad::value(x / 2, x = 1) == 0.5);
static_assert(ctgrad::value(0.5_c * x, x = 3.0) == 1.5);
static_assert(ctgrad::value(-2_c * x, x = 3.0) == -6.0);
static_assert(ctgrad::gradient(x * 1e-3_c, x = 3.0)[x] == 1e-3);

// The classic DESIGN example, in a constant expression.
constexpr auto f_design = ctgrad::sigmoid(2.0 * x + ctgrad::exp(y)) * x;
constexpr auto g_design = ctgrad::gradient(f_design, x = 1.0, y = 0.5);
static_assert(g_design.value > 0 && g_design[x] > 0 && g_design[y] > 0);

template <class T>
void check_scalar_type() {
    const T a = T(0.75);
    const T b = T(-1.25);
    const auto f = ctgrad::tanh(x * y) + ctgrad::exp(x) / (1_c + y * y);
    const auto g = ctgrad::gradient(f, x = a, y = b);
    static_assert(std::is_same_v<std::remove_cv_t<decltype(g.value)>, T>);
    const T t = std::tanh(a * b);
    const T expected_value = t + std::exp(a) / (T(1) + b * b);
    BOOST_TEST(g.value == expected_value);  // bit for bit
    const T dx = (T(1) - t * t) * b + std::exp(a) / (T(1) + b * b);
    const T dy = (T(1) - t * t) * a - std::exp(a) * T(2) * b / ((T(1) + b * b) * (T(1) + b * b));
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-13);
    BOOST_TEST(g[x] == dx, boost::test_tools::tolerance(tol));
    BOOST_TEST(g[y] == dy, boost::test_tools::tolerance(tol));
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_bindings) {
    check_scalar_type<float>();
}
BOOST_AUTO_TEST_CASE(double_bindings) {
    check_scalar_type<double>();
}
BOOST_AUTO_TEST_CASE(long_double_bindings) {
    check_scalar_type<long double>();
}

BOOST_AUTO_TEST_CASE(value_is_bit_for_bit_the_plain_formula) {
    // Same formula on plain doubles, same order of operations: identical bits, for many points.
    const auto f = ctgrad::log1p(x * x) * ctgrad::sin(y) - ctgrad::sqrt(x * x + y * y) / 3.0 +
                   ctgrad::pow(ctgrad::abs(x), 1.5) * ctgrad::cos(x - y);
    for (int i = -20; i <= 20; ++i) {
        for (int j = -20; j <= 20; ++j) {
            const double a = i * 0.37;
            const double b = j * 0.53;
            const double plain = std::log1p(a * a) * std::sin(b) - std::sqrt(a * a + b * b) / 3.0 +
                                 std::pow(std::fabs(a), 1.5) * std::cos(a - b);
            BOOST_TEST(ctgrad::value(f, x = a, y = b) == plain);
            BOOST_TEST(ctgrad::gradient(f, x = a, y = b).value == plain);
        }
    }
}

BOOST_AUTO_TEST_CASE(bindings_by_reference_follow_the_referenced_number) {
    double a = 2.0;
    const auto f = x * x * y;
    BOOST_TEST(ctgrad::value(f, x = std::cref(a), y = 3.0) == 12.0);
    a = 3.0;
    BOOST_TEST(ctgrad::value(f, x = std::cref(a), y = 3.0) == 27.0);
    BOOST_TEST(ctgrad::gradient(f, x = std::ref(a), y = 3.0)[x] == 18.0);
}

BOOST_AUTO_TEST_CASE(variable_absent_from_the_expression_has_zero_partial) {
    const auto g = ctgrad::gradient(x * x, x = 3.0, y = 1.0);
    BOOST_TEST(g[x] == 6.0);
    BOOST_TEST(g[y] == 0.0);
    BOOST_TEST(g[z] == 0.0);
    BOOST_TEST(g.size() == 1u);
}

BOOST_AUTO_TEST_CASE(expression_that_is_one_variable) {
    const auto g = ctgrad::gradient(x, x = 4.0);
    BOOST_TEST(g.value == 4.0);
    BOOST_TEST(g[x] == 1.0);
}

BOOST_AUTO_TEST_CASE(expression_without_variables) {
    const auto g = ctgrad::gradient(ctgrad::exp(1_c) + 2.0);
    BOOST_TEST(g.value == std::exp(1.0) + 2.0);
    BOOST_TEST(g.size() == 0u);
}

BOOST_AUTO_TEST_CASE(deep_fan_out_accumulates) {
    // w and b are used 20 times each in a tanh recurrence.
    constexpr auto w = ctgrad::var<"w">;
    constexpr auto b = ctgrad::var<"b">;
    auto step = [w, b](auto t) { return ctgrad::tanh(w * t + b); };
    const auto f = step(step(step(step(step(step(step(step(step(step(x))))))))));
    const double x0 = 0.3, w0 = 0.9, b0 = 0.1;
    // Reference: forward and reverse by hand.
    double t[11];
    t[0] = x0;
    for (int k = 0; k < 10; ++k) {
        t[k + 1] = std::tanh(w0 * t[k] + b0);
    }
    double gt = 1.0, gw = 0.0, gb = 0.0;
    for (int k = 9; k >= 0; --k) {
        const double dz = gt * (1 - t[k + 1] * t[k + 1]);
        gw += dz * t[k];
        gb += dz;
        gt = dz * w0;
    }
    const auto g = ctgrad::gradient(f, x = x0, w = w0, b = b0);
    BOOST_TEST(g.value == t[10]);
    BOOST_TEST(g[x] == gt, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[w] == gw, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[b] == gb, boost::test_tools::tolerance(1e-14));
}
