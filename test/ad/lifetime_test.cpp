// Lifetime safety: nodes hold their children by value, so the dangling-expression patterns
// known from reference-holding expression-template libraries (an `auto` intermediate over a
// temporary, an expression returned from a helper, an expression outliving the numbers it was
// built from) are correct here. This test also runs under AddressSanitizer (./run.sh test),
// which would report a stack-use-after-scope if any node referred to a dead temporary.
#define BOOST_TEST_MODULE ad_lifetime
#include <cmath>
#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

template <class T>
auto sqr(T t) {
    return t * t;
}

// Pattern 1: an expression built inside a helper from the helper's locals and temporaries.
auto make_expression(double scale) {
    const double offset = scale * 0.5;  // a local that dies when the helper returns
    auto inner = x * scale + offset;
    auto outer = sqr(inner) + ctgrad::exp(inner * y);
    return outer;  // holds copies of scale and offset
}

// Pattern 2: intermediates kept in `auto` over temporaries.
auto chained() {
    auto a = x + 1.0;        // 1.0 is a temporary
    auto b = a * (y - 2.0);  // (y - 2.0) is a temporary node
    auto c = ctgrad::sqrt(b * b + 3.0);
    return c;
}

// Pattern 3: expressions stored in a container and used after the builders returned.
std::vector<decltype(make_expression(1.0))> make_many() {
    std::vector<decltype(make_expression(1.0))> v;
    for (int i = 1; i <= 4; ++i) {
        v.push_back(make_expression(i));
    }
    return v;
}

}  // namespace

// Variables and literals are empty; a run-time constant holds its number and nothing else.
static_assert(std::is_empty_v<std::remove_cvref_t<decltype(x)>>);
static_assert(std::is_empty_v<ctgrad::literal<1, 2>>);
// A pure expression (only variables and literals) is an empty object whatever its size: it is
// rebuilt from its type, so a DAG of reused subexpressions does not double at every level.
static_assert(std::is_empty_v<std::remove_cvref_t<decltype(ctgrad::exp(x * y) * (x * y) + x)>>);
static_assert(sizeof(decltype(x * 2.0)) == sizeof(double));
static_assert(std::is_trivially_copyable_v<decltype(x * 2.0 + ctgrad::exp(y))>);

BOOST_AUTO_TEST_CASE(expression_returned_from_helper_keeps_its_constants) {
    const auto f = make_expression(3.0);
    const double a = 0.2, b = -0.7;
    const double inner = a * 3.0 + 1.5;
    const auto g = ctgrad::gradient(f, x = a, y = b);
    BOOST_TEST(g.value == inner * inner + std::exp(inner * b));
    BOOST_TEST(g[x] == (2 * inner + b * std::exp(inner * b)) * 3.0,
               boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[y] == inner * std::exp(inner * b), boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(auto_intermediates_over_temporaries) {
    const auto f = chained();
    const double a = 1.5, b = 4.0;
    const double bb = (a + 1.0) * (b - 2.0);
    const auto g = ctgrad::gradient(f, x = a, y = b);
    BOOST_TEST(g.value == std::sqrt(bb * bb + 3.0));
    const double dc_db = bb / std::sqrt(bb * bb + 3.0);
    BOOST_TEST(g[x] == dc_db * (b - 2.0), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g[y] == dc_db * (a + 1.0), boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(expressions_stored_in_a_container) {
    const auto many = make_many();
    for (std::size_t i = 0; i < many.size(); ++i) {
        const double s = static_cast<double>(i + 1);
        const double inner = 1.0 * s + s * 0.5;
        BOOST_TEST(ctgrad::value(many[i], x = 1.0, y = 0.0) == inner * inner + 1.0);
    }
}

BOOST_AUTO_TEST_CASE(expression_outlives_the_heap_number_it_was_built_from) {
    auto number = std::make_unique<double>(2.5);
    const auto f = x * *number;  // copies the number
    number.reset();
    BOOST_TEST(ctgrad::value(f, x = 2.0) == 5.0);
}

BOOST_AUTO_TEST_CASE(symbolic_derivative_of_a_temporary_expression) {
    const auto df = ctgrad::d(make_expression(2.0), x);  // the argument dies here
    const double a = 0.1, b = 0.3;
    const double inner = a * 2.0 + 1.0;
    BOOST_TEST(ctgrad::value(df, x = a, y = b) == (2 * inner + b * std::exp(inner * b)) * 2.0,
               boost::test_tools::tolerance(1e-14));
}
