// Variable names: fixed_string, indexed_name for families of variables, and that a variable's
// name is all of its identity.
#define BOOST_TEST_MODULE core_names
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

using namespace std::string_view_literals;

static_assert(ctgrad::indexed_name<"x", 0>.view() == "x0"sv);
static_assert(ctgrad::indexed_name<"w", 12>.view() == "w12"sv);
static_assert(ctgrad::indexed_name<"layer", 1000>.view() == "layer1000"sv);
static_assert(ctgrad::indexed_name<"b", 7>.size() == 2);
static_assert(std::is_same_v<decltype(ctgrad::var<ctgrad::indexed_name<"x", 3>>),
                             decltype(ctgrad::var<"x3">)>);
static_assert(!std::is_same_v<decltype(ctgrad::var<"x">), decltype(ctgrad::var<"y">)>);

template <std::size_t I>
constexpr auto x = ctgrad::var<ctgrad::indexed_name<"x", I>>;

/// sum_i i * x_i over a pack of indexed variables: its gradient is (0, 1, ..., N-1).
template <std::size_t... I>
constexpr auto weighted_sum_gradient(std::index_sequence<I...>) {
    constexpr auto f = ((static_cast<double>(I) * x<I>)+...);
    return ctgrad::gradient(f, (x<I> = 1.0)...);
}

static_assert(weighted_sum_gradient(std::make_index_sequence<12>{})[x<11>] == 11.0);

BOOST_AUTO_TEST_CASE(a_family_of_variables_in_a_pack) {
    const auto g = weighted_sum_gradient(std::make_index_sequence<12>{});
    BOOST_TEST(g.size() == 12u);
    BOOST_TEST(g.value == 66.0);
    BOOST_TEST(g[x<0>] == 0.0);
    BOOST_TEST(g[x<5>] == 5.0);
    BOOST_TEST(g[x<11>] == 11.0);
    BOOST_TEST(g[x<12>] == 0.0);  // not in the expression
}

BOOST_AUTO_TEST_CASE(names_print_as_written) {
    BOOST_TEST(ctgrad::to_string(x<10> * ctgrad::var<"y">) == "x10 * y");
}

// Node types are keyed by a hash of their arguments (detail/args_key.hpp). Variables whose
// names share a long prefix must give different keys with both compilers: clang++ prints only
// the first ten characters of a variable's name in __PRETTY_FUNCTION__ ("bn.running..."), so
// a hash of the printed name made `m + v` and `m + m` one type (a redefinition error).
namespace long_prefix {
constexpr auto m = ctgrad::var<"bn.running_mean">;
constexpr auto v = ctgrad::var<"bn.running_var">;
constexpr auto p = ctgrad::var<"layer_0123456789.weight_a">;
constexpr auto q = ctgrad::var<"layer_0123456789.weight_b">;
template <class A, class B>
inline constexpr bool same = std::is_same_v<std::remove_cvref_t<A>, std::remove_cvref_t<B>>;
static_assert(!same<decltype(m + v), decltype(m + m)>);
static_assert(!same<decltype(m + v), decltype(v + m)>);
static_assert(!same<decltype(p * q), decltype(q * p)>);
static_assert(same<decltype(p * q), decltype(p * q)>);
constexpr auto f = m * v + p * q + m * m;
static_assert(ctgrad::gradient(f, m = 1.0, v = 2.0, p = 3.0, q = 4.0)[q] == 3.0);
static_assert(ctgrad::gradient(f, m = 1.0, v = 2.0, p = 3.0, q = 4.0)[m] == 4.0);
}  // namespace long_prefix

BOOST_AUTO_TEST_CASE(variables_with_a_long_common_prefix_are_distinct) {
    using namespace long_prefix;
    double x = 1.5;
    const auto g = ctgrad::gradient(f, m = x, v = 2.0, p = 3.0, q = 4.0);
    BOOST_TEST(g[m] == 2 * x + 2.0);
    BOOST_TEST(g[v] == x);
    BOOST_TEST(g[p] == 4.0);
}
