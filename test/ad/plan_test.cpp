// The compile-time plan: unique subexpressions in topological order, type-level CSE only for
// pure subexpressions, and the assign-then-accumulate table.
#define BOOST_TEST_MODULE ad_plan
#include <array>
#include <cstdint>
#include <functional>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

template <class E>
using plan_of = ctgrad::ad::plan<E>;

// x * y + x * y: the pure product is one entry (x, y, x*y, sum).
constexpr auto twice_pure = x * y + x * y;
static_assert(plan_of<decltype(twice_pure)>::size == 4);

// x * 2.0 + x * 3.0: the two products share a type but hold different constants, so they are
// two entries, and so are the constants (x, 2.0, x*2.0, 3.0, x*3.0, sum).
constexpr auto two_constants = x * 2.0 + x * 3.0;
static_assert(plan_of<decltype(two_constants)>::size == 6);
static_assert(std::is_same_v<std::remove_cvref_t<decltype(two_constants.child<0>())>,
                             std::remove_cvref_t<decltype(two_constants.child<1>())>>);

// Exact literals are part of the type: x * 2_c + x * 2_c merges.
static_assert(plan_of<decltype(x * 2_c + x * 2_c)>::size == 4);
// ...and x * 2_c + x * 3_c does not, because the types differ.
static_assert(plan_of<decltype(x * 2_c + x * 3_c)>::size == 6);

// A doubling DAG of depth 10 (2^10 paths) has 11 + 1 entries, not thousands.
constexpr auto d1 = x * x;
constexpr auto d2 = d1 * d1;
constexpr auto d3 = d2 * d2;
constexpr auto d4 = d3 * d3;
constexpr auto d5 = d4 * d4;
constexpr auto d6 = d5 * d5;
constexpr auto d7 = d6 * d6;
constexpr auto d8 = d7 * d7;
constexpr auto d9 = d8 * d8;
constexpr auto d10 = d9 * d9;
static_assert(plan_of<decltype(d10)>::size == 11);

// The root is last; children come before parents.
using p = plan_of<decltype((x + y) * x)>;
static_assert(std::is_same_v<p::expr<p::size - 1>, std::remove_cvref_t<decltype((x + y) * x)>>);
static_assert(p::child[p::size - 1][0] < p::size - 1 && p::child[p::size - 1][1] < p::size - 1);

// (x + y) * x: x receives two contributions; the one made first in reverse order (from the
// product, the later entry) assigns, the one from x + y accumulates.
static_assert(p::size == 4);  // x, y, x + y, product
static_assert(p::assigns[3][1] && !p::assigns[2][0]);
static_assert(p::assigns[3][0] && p::assigns[2][1]);

// Constants and literals carry no adjoint.
using pc = plan_of<decltype(x * 2.0 + 1_c)>;
static_assert(pc::active[pc::size - 1]);
static_assert(!pc::active[1] && !pc::active[3]);  // 2.0 and 1_c

// Indicator ops are piecewise constant: no derivative flows through them.
using pr = plan_of<decltype(ctgrad::d(ctgrad::relu(x), x))>;
static_assert(!pr::active[pr::size - 1]);

// Node keys (detail/args_key.hpp): a node is named by a hash of its argument list. The same
// list gives the same type, another list (order, op) another, and the arguments read back are
// the ones it was built from.
constexpr auto z = ctgrad::var<"z">;
static_assert(std::is_same_v<decltype(x * y), decltype(x * y)>);
static_assert(!std::is_same_v<decltype(x * y), decltype(y * x)>);
static_assert(!std::is_same_v<decltype(x * y), decltype(x + y)>);
static_assert(
    std::is_same_v<decltype(x * (y + z))::args,
                   ctgrad::detail::type_list<std::remove_cvref_t<decltype(x)>, decltype(y + z)>>);
// The plan's list, read at the root from the chain of first (largest) arguments, each entry by
// position (plan::expr<J>): (x * y) + z lists x, y, x*y, then z, then the sum.
using pxz = plan_of<decltype(x * y + z)>;
static_assert(pxz::size == 5);
static_assert(std::is_same_v<pxz::expr<0>, std::remove_cvref_t<decltype(x)>>);
static_assert(std::is_same_v<pxz::expr<1>, std::remove_cvref_t<decltype(y)>>);
static_assert(std::is_same_v<pxz::expr<2>, decltype(x * y)>);
static_assert(std::is_same_v<pxz::expr<3>, std::remove_cvref_t<decltype(z)>>);
static_assert(std::is_same_v<pxz::expr<4>, decltype(x * y + z)>);
static_assert(pxz::child[4][0] == 2 && pxz::child[4][1] == 3 && pxz::child[2][1] == 1);
// z + (x * y): the larger argument's entries come first, z after them.
using pzx = plan_of<decltype(z + x * y)>;
static_assert(std::is_same_v<pzx::expr<3>, std::remove_cvref_t<decltype(z)>>);
static_assert(pzx::child[4][0] == 3 && pzx::child[4][1] == 2);
// A pure entry held deep in the first argument's chain is not listed again: w at every step.
constexpr auto w = ctgrad::var<"w">;
constexpr auto s1 = ctgrad::tanh(w * x);
constexpr auto s2 = ctgrad::tanh(w * s1 + y);
constexpr auto s3 = ctgrad::tanh(w * s2 + z);
static_assert(plan_of<decltype(s3)>::size == 12);  // w, x, y, z, 3 products, 2 sums, 3 tanh
static_assert(plan_of<decltype(s3)>::variable_count == 4);

// The check that a plan's pure entries have distinct hashes (ad/plan.hpp, plan's static_assert
// on build_tables' pure_hashes_distinct): a real 64-bit collision cannot be written in a test,
// so build_tables is fed rows by hand. Three pure leaves and a pure sum of the first two;
// with distinct hashes the sum's arguments are found; with the third leaf given the first's
// hash (wherever it lands in the probe sequence: same slot, or one apart) the flag is down.
using row2 = ctgrad::ad::detail::entry_row<2>;
constexpr std::array<row2, 4> hand_rows{row2{}, row2{}, row2{},
                                        row2{2, 0, true, false, {11, 22}, {true, true}, {0, 0}}};
constexpr auto distinct_tables =
    ctgrad::ad::detail::build_tables<4, 2>(hand_rows, std::array<std::uint64_t, 4>{11, 22, 33, 44});
static_assert(distinct_tables.pure_hashes_distinct);
static_assert(distinct_tables.child[3][0] == 0 && distinct_tables.child[3][1] == 1);
static_assert(!ctgrad::ad::detail::build_tables<4, 2>(hand_rows,
                                                      std::array<std::uint64_t, 4>{11, 22, 11, 44})
                   .pure_hashes_distinct);
static_assert(ctgrad::ad::detail::build_tables<4, 2>(  // 19 and 11: one slot, two hashes
                  hand_rows, std::array<std::uint64_t, 4>{11, 22, 44, 19})
                  .pure_hashes_distinct);
// An impure entry may repeat a hash (copies of one impure type): not a collision.
constexpr std::array<row2, 3> impure_rows{row2{0, 0, false, true, {}, {}, {}},
                                          row2{0, 0, false, true, {}, {}, {}}, row2{}};
static_assert(ctgrad::ad::detail::build_tables<3, 2>(impure_rows,
                                                     std::array<std::uint64_t, 3>{5, 5, 6})
                  .pure_hashes_distinct);

// Node keys are spread over namespaces by their hash (detail/args_key.hpp): a key's friend is
// compared only with the keys of its bucket. Every bucket maps to its own namespace.
static_assert(ctgrad::detail::key_bucket_of(0) == 0 && ctgrad::detail::key_bucket_of(7) == 7 &&
              ctgrad::detail::key_bucket_of(8) == 10 && ctgrad::detail::key_bucket_of(63) == 77 &&
              ctgrad::detail::key_bucket_of(64) == 0);
static_assert(std::is_same_v<ctgrad::detail::args_key<9>, ctgrad::detail::keys11::args_key<9>>);

// A call's bindings are found by name through keys (binding_set::name_key) and then the names:
// any order, names that share a prefix, a name no binding has, a variable bound twice.
constexpr auto xy = ctgrad::var<"xy">;
using three = ctgrad::detail::binding_set<decltype(z = 1.0), decltype(xy = 2.0), decltype(x = 3.0),
                                          decltype(y = 4.0)>;
static_assert(three::find("z") == 0 && three::find("xy") == 1 && three::find("x") == 2 &&
              three::find("y") == 3);
static_assert(three::find("w") == ctgrad::detail::npos && three::find("") == ctgrad::detail::npos);
static_assert(three::first_duplicate() == ctgrad::detail::npos);
using twice = ctgrad::detail::binding_set<decltype(x = 1.0), decltype(y = 2.0), decltype(x = 3)>;
static_assert(twice::first_duplicate() == 2 && twice::find("x") == 0);
// The bound numbers are read from the bindings in the plan's order, whatever the call's.
static_assert(ctgrad::gradient(x * y + xy, xy = 0.5, y = 3.0, x = 2.0)[x] == 3.0);
static_assert(ctgrad::gradient(x * y + xy, xy = 0.5, y = 3.0, x = 2.0).value == 6.5);

}  // namespace

BOOST_AUTO_TEST_CASE(runtime_constants_of_one_type_keep_their_own_values) {
    const auto g = ctgrad::gradient(two_constants, x = 1.5);
    BOOST_TEST(g.value == 1.5 * 2.0 + 1.5 * 3.0);
    BOOST_TEST(g[x] == 5.0);
    // And with run-time values that the compiler cannot see.
    volatile double a = 2.0;
    volatile double b = 7.0;
    const auto f = x * a + x * b;
    BOOST_TEST(ctgrad::gradient(f, x = 1.0)[x] == 9.0);
    BOOST_TEST(ctgrad::value(f, x = 1.0) == 9.0);
}

BOOST_AUTO_TEST_CASE(merged_subexpression_gradient_is_the_sum_over_uses) {
    const auto g = ctgrad::gradient(twice_pure, x = 3.0, y = -2.0);
    BOOST_TEST(g.value == 2 * (3.0 * -2.0));
    BOOST_TEST(g[x] == 2 * -2.0);
    BOOST_TEST(g[y] == 2 * 3.0);
}

BOOST_AUTO_TEST_CASE(bound_numbers_read_through_references_and_int) {
    const double a = 2.0;
    const float b = 3.0f;
    const auto g = ctgrad::gradient(x * y + z, y = std::cref(b), z = 1, x = std::cref(a));
    BOOST_TEST(g.value == 7.0);
    BOOST_TEST(g[x] == 3.0);
    BOOST_TEST(g[y] == 2.0);
    BOOST_TEST(g[z] == 1.0);
    BOOST_TEST(ctgrad::value(x * y + z, z = 1, x = std::cref(a), y = std::cref(b)) == 7.0);
}

BOOST_AUTO_TEST_CASE(doubling_dag_gradient) {
    // d10 = x^(2^10); at x = 1.0001 its derivative is 1024 x^1023.
    const double x0 = 1.0001;
    const auto g = ctgrad::gradient(d10, x = x0);
    BOOST_TEST(g.value == std::pow(x0, 1024), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(g[x] == 1024 * std::pow(x0, 1023), boost::test_tools::tolerance(1e-12));
}
