// d(f, x): simplification shown on types, evaluation against the reverse sweep, higher
// derivatives, and hessian against finite differences of gradients.
#define BOOST_TEST_MODULE ad_symbolic
#include <cmath>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
using X = std::remove_cvref_t<decltype(x)>;
using Y = std::remove_cvref_t<decltype(y)>;
template <class E>
using type = std::remove_cvref_t<E>;

// d(x * y, x) is y itself.
static_assert(std::is_same_v<type<decltype(ctgrad::d(x * y, x))>, Y>);
// d(3 x x, x) = 6 x: a literal times x.
static_assert(std::is_same_v<type<decltype(ctgrad::d(3_c * x * x, x))>,
                             ctgrad::node<ctgrad::ops::mul_op, ctgrad::literal<6>, X>>);
// d(x + y, x) = 1 and d(y, x) = 0 are literals.
static_assert(std::is_same_v<type<decltype(ctgrad::d(x + y, x))>, ctgrad::literal<1>>);
static_assert(std::is_same_v<type<decltype(ctgrad::d(y * y, x))>, ctgrad::literal<0>>);
// d(x - x, x) = 0 (x - x is pure, so e - e folds); d(0.5 x, x) = 1/2.
static_assert(std::is_same_v<type<decltype(ctgrad::d(x * x - x * x, x))>, ctgrad::literal<0>>);
static_assert(std::is_same_v<type<decltype(ctgrad::d(0.5_c * x, x))>, ctgrad::literal<1, 2>>);
// d(exp(x), x) is exp(x) itself: the same type, so CSE shares it with f.
static_assert(
    std::is_same_v<type<decltype(ctgrad::d(ctgrad::exp(x), x))>, type<decltype(ctgrad::exp(x))>>);
// Second derivative of x^3 (as x * x * x) is 6 x.
static_assert(ctgrad::value(ctgrad::d(ctgrad::d(x * x * x, x), x), x = 2.0) == 12.0);
// A run-time constant survives differentiation with its value.
static_assert(ctgrad::value(ctgrad::d(x * 2.5, x), x = 1.0) == 2.5);
// d(d(f, x), y) evaluated at compile time.
constexpr auto f = x * x * y + ctgrad::sin(x * y);
static_assert(ctgrad::value(ctgrad::d(ctgrad::d(x * x * y, x), y), x = 3.0, y = 1.0) == 6.0);
constexpr auto h = ctgrad::hessian(x * x * y + x / y, x = 2.0, y = 4.0);
static_assert(h(x, x) == 8.0 && h(x, y) == 4.0 - 1.0 / 16 && h(y, y) == 4.0 / 64);
static_assert(h(x, y) == h(y, x));

}  // namespace

BOOST_AUTO_TEST_CASE(symbolic_derivative_evaluates_to_the_reverse_sweep) {
    const auto dfx = ctgrad::d(f, x);
    const auto dfy = ctgrad::d(f, y);
    for (double a = -2.0; a <= 2.0; a += 0.25) {
        for (double b = -1.5; b <= 1.5; b += 0.5) {
            const auto g = ctgrad::gradient(f, x = a, y = b);
            BOOST_TEST(ctgrad::value(dfx, x = a, y = b) == g[x],
                       boost::test_tools::tolerance(1e-14));
            BOOST_TEST(ctgrad::value(dfy, x = a, y = b) == g[y],
                       boost::test_tools::tolerance(1e-14));
        }
    }
}

BOOST_AUTO_TEST_CASE(hessian_matches_finite_differences_of_the_gradient) {
    const auto fn = ctgrad::exp(x * y) / (1_c + x * x) + ctgrad::tanh(y) * ctgrad::log(x);
    for (double a : {0.5, 1.0, 1.7}) {
        for (double b : {-0.8, 0.2, 1.1}) {
            const auto hh = ctgrad::hessian(fn, x = a, y = b);
            const double fxx = ctgrad::test::central_difference(
                [&](double t) { return ctgrad::gradient(fn, x = t, y = b)[x]; }, a);
            const double fxy = ctgrad::test::central_difference(
                [&](double t) { return ctgrad::gradient(fn, x = a, y = t)[x]; }, b);
            const double fyy = ctgrad::test::central_difference(
                [&](double t) { return ctgrad::gradient(fn, x = a, y = t)[y]; }, b);
            BOOST_TEST(ctgrad::test::close(hh(x, x), fxx, 1e-6));
            BOOST_TEST(ctgrad::test::close(hh(x, y), fxy, 1e-6));
            BOOST_TEST(ctgrad::test::close(hh(y, x), fxy, 1e-6));
            BOOST_TEST(ctgrad::test::close(hh(y, y), fyy, 1e-6));
            BOOST_TEST(hh.value == ctgrad::value(fn, x = a, y = b));
            BOOST_TEST(hh.gradient[x] == ctgrad::gradient(fn, x = a, y = b)[x]);
        }
    }
}

BOOST_AUTO_TEST_CASE(to_string_prints_the_simplified_derivative) {
    BOOST_TEST(ctgrad::to_string(ctgrad::d(3_c * x * x, x)) == "6 * x");
    BOOST_TEST(ctgrad::to_string(ctgrad::d(x * y, x)) == "y");
    BOOST_TEST(ctgrad::to_string(ctgrad::d(ctgrad::tanh(x), x)) == "1 - tanh(x) * tanh(x)");
    BOOST_TEST(ctgrad::to_string(ctgrad::d(ctgrad::relu(x), y)) == "0");
    BOOST_TEST(ctgrad::to_string(ctgrad::d(ctgrad::relu(x), x)) == "x > 0");
    BOOST_TEST(ctgrad::to_string(x - (y - x) * 2.0 + -x / 0.5_c) == "x - (y - x) * 2 + -x / (1/2)");
}

BOOST_AUTO_TEST_CASE(to_string_parenthesises_a_negated_negative) {
    BOOST_TEST(ctgrad::to_string(-(-x)) == "-(-x)");
    BOOST_TEST(ctgrad::to_string(-(ctgrad::lit<-2> * x)) == "-(-2 * x)");
    BOOST_TEST(ctgrad::to_string(-x) == "-x");
}

BOOST_AUTO_TEST_CASE(hessian_of_a_variable_the_function_lacks_is_zero) {
    constexpr auto z = ctgrad::var<"z">;
    const auto hh = ctgrad::hessian(x * x, x = 3.0, z = 1.0);
    BOOST_TEST(hh(x, x) == 2.0);
    BOOST_TEST(hh(x, z) == 0.0);
    BOOST_TEST(hh(z, z) == 0.0);
}
