// Calls with more than 256 bindings and expressions with more than 256 variables. clang++ refuses
// a fold expression over more than 256 operands, and checks a constrained pack
// (`template <binding_argument... B>`) as such a fold: every entry point (value, gradient,
// hessian, jvp, hvp, jacobian, along) must take any number of bindings, with both compilers. The
// expressions are balanced trees (depth log n), so the test costs a few seconds to compile.
#define BOOST_TEST_MODULE ad_many_bindings
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

constexpr std::size_t n = 300;

template <std::size_t I>
constexpr auto v = ctgrad::var<ctgrad::indexed_name<"v", I>>;

// v_First + ... + v_(First + Count - 1) as a balanced tree of additions.
template <std::size_t First, std::size_t Count>
constexpr auto tree_sum() {
    if constexpr (Count == 1) {
        return v<First>;
    } else {
        return tree_sum<First, Count / 2>() + tree_sum<First + Count / 2, Count - Count / 2>();
    }
}

// f = (v0 + ... + v299) * v0 + sin(v299): every variable is in f.
constexpr auto f = tree_sum<0, n>() * v<0> + ctgrad::sin(v<n - 1>);
// A small function called with all n bindings (the extra ones are ignored).
constexpr auto small = v<0> * v<1> + ctgrad::sin(v<n - 1>);

// The number bound to v_i: 0.01 (i + 1) (and s times that for v0).
constexpr double at(std::size_t i) {
    return 0.01 * static_cast<double>(i + 1);
}

template <class F, std::size_t... I>
constexpr auto gradient_at(const F& e, double x0, std::index_sequence<I...>) {
    return ctgrad::gradient(e, (v<I> = (I == 0 ? x0 : at(I)))...);
}

template <class F, std::size_t... I>
constexpr auto value_at(const F& e, double x0, std::index_sequence<I...>) {
    return ctgrad::value(e, (v<I> = (I == 0 ? x0 : at(I)))...);
}

template <class F, std::size_t... I>
constexpr auto hessian_at(const F& e, std::index_sequence<I...>) {
    return ctgrad::hessian(e, (v<I> = at(I))...);
}

// Direction: 1 along v0, 0 along the others (all n of them given).
template <class F, std::size_t... I>
constexpr auto jvp_at(const F& e, std::index_sequence<I...>) {
    return ctgrad::jvp(e, ctgrad::along((v<I> = (I == 0 ? 1.0 : 0.0))...), (v<I> = at(I))...);
}

template <class F, std::size_t... I>
constexpr auto hvp_at(const F& e, std::index_sequence<I...>) {
    return ctgrad::hvp(e, ctgrad::along((v<I> = (I == 0 ? 1.0 : 0.0))...), (v<I> = at(I))...);
}

template <class F, std::size_t... I>
constexpr auto jacobian_at(const F& e, std::index_sequence<I...>) {
    return ctgrad::jacobian(e, (v<I> = at(I))...);
}

constexpr auto all = std::make_index_sequence<n>{};

// The sum of the bound numbers: 0.01 (1 + ... + n).
constexpr double total = 0.01 * static_cast<double>(n * (n + 1) / 2);

// Reference by hand: df/dv0 = total + v0, df/dvi = v0 (0 < i < n-1), df/dv299 = v0 + cos(v299).
constexpr auto g_ct = gradient_at(f, at(0), all);
static_assert(g_ct[v<1>] == at(0));
static_assert(g_ct[v<150>] == at(0));
static_assert(g_ct[v<0>] - (total + at(0)) < 1e-12 && (total + at(0)) - g_ct[v<0>] < 1e-12);
static_assert(decltype(g_ct)::size() == n);

// The small function, every entry point with all n bindings.
constexpr auto g_small = gradient_at(small, at(0), all);
static_assert(g_small[v<0>] == at(1) && g_small[v<1>] == at(0) && g_small[v<2>] == 0.0);
static_assert(value_at(small, at(0), all) == g_small.value);
constexpr auto h_small = hessian_at(small, all);
static_assert(h_small(v<0>, v<1>) == 1.0 && h_small(v<0>, v<0>) == 0.0);
constexpr auto t_small = jvp_at(small, all);
static_assert(t_small.tangent == at(1));  // grad f . e0 = v1
constexpr auto hv_small = hvp_at(small, all);
static_assert(hv_small[v<1>] == 1.0 && hv_small[v<0>] == 0.0);  // H e0 = (0, 1, 0, ...)
constexpr auto j_small = jacobian_at(ctgrad::outputs(small, v<0>* v<2>), all);
static_assert(j_small(1, v<2>) == at(0) && j_small(1, v<1>) == 0.0);

// Duplicate detection over hundreds of bindings (the sorted lookup of core/binding.hpp).
template <std::size_t... I>
constexpr bool unique_with(std::size_t dup, std::index_sequence<I...>) {
    using set = ctgrad::detail::binding_set<decltype(v<I> = 1.0)..., decltype(v<0> = 1.0)>;
    return set::first_duplicate() == dup;
}
static_assert(unique_with(n, all));  // the extra v0 at the end is the duplicate

// The Hessian's unit seed finds each variable's position in one hash table built per variable
// list (ad/dual_sweep.hpp): every one of 300 names at its place, a name not in the list npos,
// a name listed twice at its first place, an empty list.
template <std::size_t... I>
constexpr bool positions_found(std::index_sequence<I...>) {
    using vars = ctgrad::detail::type_list<std::remove_cvref_t<decltype(v<I>)>...,
                                           std::remove_cvref_t<decltype(v<7>)>>;
    using table = ctgrad::ad::detail::position_table<vars>;
    const std::size_t got[] = {
        ctgrad::ad::detail::position_of<vars, ctgrad::indexed_name<"v", I>>...};
    for (std::size_t i = 0; i < sizeof...(I); ++i) {
        if (got[i] != i) {
            return false;
        }
    }
    return table::find("v300") == ctgrad::detail::npos && table::find("") == ctgrad::detail::npos &&
           table::find("v") == ctgrad::detail::npos && table::find("v7") == 7;
}
static_assert(positions_found(all));
static_assert(ctgrad::ad::detail::position_table<ctgrad::detail::type_list<>>::find("v0") ==
              ctgrad::detail::npos);

}  // namespace

BOOST_AUTO_TEST_CASE(gradient_of_300_variables_matches_reference_and_finite_differences) {
    // At run time, with v0 read from a volatile (not constant-folded).
    volatile double x0_in = at(0);
    const double x0 = x0_in;
    const auto g = gradient_at(f, x0, all);
    const double value = total * x0 + std::sin(at(n - 1));
    BOOST_TEST(g.value == value, boost::test_tools::tolerance(1e-13));
    BOOST_TEST(g[v<0>] == total + x0, boost::test_tools::tolerance(1e-13));
    BOOST_TEST(g[v<n - 1>] == x0 + std::cos(at(n - 1)), boost::test_tools::tolerance(1e-13));
    for (double gi : {g[v<1>], g[v<100>], g[v<200>], g[v<256>], g[v<257>]}) {
        BOOST_TEST(gi == x0);
    }
    // Central difference in v0 through value(), with the same 300 bindings.
    const double h = 1e-6;
    const double fd = (value_at(f, x0 + h, all) - value_at(f, x0 - h, all)) / (2 * h);
    BOOST_TEST(g[v<0>] == fd, boost::test_tools::tolerance(1e-7));
}

BOOST_AUTO_TEST_CASE(entry_points_take_300_bindings_at_run_time) {
    volatile double x0_in = at(0);
    const double x0 = x0_in;
    const auto g = gradient_at(small, x0, all);
    BOOST_TEST(g[v<0>] == at(1));
    BOOST_TEST(g[v<n - 1>] == std::cos(at(n - 1)), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(value_at(small, x0, all) == x0 * at(1) + std::sin(at(n - 1)));
    const auto h = hessian_at(small, all);
    BOOST_TEST(h(v<n - 1>, v<n - 1>) == -std::sin(at(n - 1)), boost::test_tools::tolerance(1e-15));
}
