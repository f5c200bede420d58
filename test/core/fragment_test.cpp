// The plan fragments that make_node builds (core/fragment.hpp, core/node.hpp), against an
// independent reference: the entry and distinct lists of expressions whose merges look up
// shared entries through the remembered hits (a recurrence's weight, shared products looked up
// in rotation, more of them than a level remembers), across blocks of levels; and the facts
// node_base computes as members (shape, hash, constants, operand types).
#define BOOST_TEST_MODULE core_fragment
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

namespace cd = ctgrad::detail;

template <std::size_t I>
constexpr auto x = ctgrad::var<ctgrad::indexed_name<"x", I>>;
constexpr auto w = ctgrad::var<"w">;

/// The hash of an expression's type (its entry in plans).
template <class E>
constexpr std::uint64_t hash_of(const E&) {
    return cd::entry_hash<E>;
}

// --- the reference: the lists by recursion on the expression (small cases only) ---

struct ref_list {
    std::array<std::uint64_t, 1024> hash{};
    std::array<bool, 1024> pure{};
    std::size_t size = 0;

    constexpr bool holds(std::uint64_t h) const {
        for (std::size_t i = 0; i < size; ++i) {
            if (hash[i] == h) return true;
        }
        return false;
    }
    constexpr void push(std::uint64_t h, bool p) {
        hash[size] = h;
        pure[size] = p;
        ++size;
    }
};

template <bool All, class E>
constexpr ref_list reference_list();

template <bool All, class E, std::size_t... I>
constexpr ref_list reference_node_list(std::index_sequence<I...>) {
    const std::array<ref_list, sizeof...(I)> a{reference_list<All, ctgrad::child_t<E, I>>()...};
    std::size_t first = 0;  // the largest argument's list comes first (the first of equals)
    for (std::size_t i = 1; i < a.size(); ++i) {
        if (a[i].size > a[first].size) first = i;
    }
    ref_list r = a[first];
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i == first) continue;
        for (std::size_t k = 0; k < a[i].size; ++k) {
            // Shared entries (every entry of the distinct list) once; numbers once per copy.
            if (!((All || a[i].pure[k]) && r.holds(a[i].hash[k]))) {
                r.push(a[i].hash[k], a[i].pure[k]);
            }
        }
    }
    r.push(cd::entry_hash<E>, ctgrad::is_pure<E>::value);
    return r;
}

template <bool All, class E>
constexpr ref_list reference_list() {
    if constexpr (ctgrad::is_node<E>::value) {
        return reference_node_list<All, E>(std::make_index_sequence<E::arity>{});
    } else {
        ref_list r{};
        r.push(cd::entry_hash<E>, ctgrad::is_pure<E>::value);
        return r;
    }
}

/// The fragment of E (what the merges built) agrees with the reference, both lists.
template <bool All, class E>
constexpr bool list_matches() {
    constexpr ref_list r = reference_list<All, E>();
    constexpr const cd::frag_info& f = cd::frag_of<E>;
    if ((All ? f.dsize : f.size) != r.size) return false;
    constexpr std::size_t n = All ? f.dsize : f.size;
    const std::array<std::uint64_t, n> h = cd::list_hashes<All, n>(&f);
    for (std::size_t i = 0; i < n; ++i) {
        if (h[i] != r.hash[i]) return false;
    }
    return true;
}

template <class E>
constexpr bool fragment_matches() {
    return list_matches<false, E>() && list_matches<true, E>();
}

template <class E>
constexpr bool remembers(std::uint64_t h) {
    const cd::frag_info& f = cd::frag_of<E>;
    for (std::size_t i = 0; i < f.n_hits; ++i) {
        if (f.hits[i] == h) return true;
    }
    return false;
}

// --- a recurrence: its weight sits at the bottom of the chain and is looked up at every step ---

template <std::size_t N>
constexpr auto recurrence() {
    if constexpr (N == 0) {
        return x<0>;
    } else {
        return ctgrad::tanh(w * recurrence<N - 1>() + x<N % 5>);
    }
}

using chain40 = std::remove_cvref_t<decltype(recurrence<40>())>;  // 120 levels: 3 blocks
static_assert(cd::frag_of<chain40>.depth > 3 * cd::block_levels);
static_assert(fragment_matches<chain40>());
// w, x0..x4 and the 3 * 40 nodes, once each (every entry is shared).
static_assert(cd::frag_of<chain40>.size == 6 + 3 * 40);
static_assert(cd::frag_of<chain40>.dsize == cd::frag_of<chain40>.size);
// The weight is remembered as found (the lookups of the steps above find it at once), and the
// lookup through the hits agrees with the walk.
static_assert(remembers<chain40>(hash_of(w)));
static_assert(cd::list_holds(&cd::frag_of<chain40>, hash_of(w), false));
static_assert(cd::list_holds(&cd::frag_of<chain40>, hash_of(x<4>), true));
static_assert(!cd::list_holds(&cd::frag_of<chain40>, hash_of(x<5>), false));

// The same recurrence holding a number at every step: the numbers' entries are per copy.
template <std::size_t N>
constexpr auto impure_recurrence() {
    if constexpr (N == 0) {
        return x<0>;
    } else {
        return ctgrad::tanh(w * impure_recurrence<N - 1>() + 0.5 * x<N % 3>);
    }
}

using impure40 = std::remove_cvref_t<decltype(impure_recurrence<40>())>;
static_assert(fragment_matches<impure40>());
static_assert(remembers<impure40>(hash_of(w)));

// --- shared products looked up in rotation: six of them, more than a level remembers ---

template <std::size_t I>
constexpr auto product = x<I % 6>* x<(I + 1) % 6>;

template <std::size_t N>
constexpr auto rotation() {
    if constexpr (N == 0) {
        return product<0>;
    } else {
        return ctgrad::sin(rotation<N - 1>() + product<N>) * product<N + 3>;
    }
}

using rotation30 = std::remove_cvref_t<decltype(rotation<30>())>;
static_assert(6 > cd::hit_slots);
static_assert(fragment_matches<rotation30>());
static_assert(cd::frag_of<rotation30>.n_hits == cd::hit_slots);
// x0..x5, the six products and the 3 * 30 nodes above the first product.
static_assert(cd::frag_of<rotation30>.size == 6 + 6 + 3 * 30);

// Two arguments of one type holding different numbers stay two entries; a reused shared one is
// one.
constexpr auto two_numbers = x<0> * 2.0 + x<0> * 3.0;
using two_numbers_t = std::remove_cvref_t<decltype(two_numbers)>;
static_assert(fragment_matches<two_numbers_t>());
static_assert(cd::frag_of<two_numbers_t>.size == 6);   // x0, 2.0, x0*2.0, 3.0, x0*3.0, +
static_assert(cd::frag_of<two_numbers_t>.dsize == 4);  // x0, constant, product, sum

// --- node facts computed by node_base as members ---

using mul_t = std::remove_cvref_t<decltype(w * x<1>)>;
static_assert(
    std::is_same_v<mul_t, ctgrad::node<ctgrad::ops::mul_op, std::remove_cvref_t<decltype(w)>,
                                       std::remove_cvref_t<decltype(x<1>)>>>);
static_assert(cd::entry_hash<mul_t> == cd::type_hash<mul_t>::value);
static_assert(cd::entry_hash<mul_t> != cd::entry_hash<std::remove_cvref_t<decltype(x<1> * w)>>);
static_assert(std::is_same_v<cd::shape_of_t<mul_t>, ctgrad::shape<>>);
static_assert(std::is_same_v<cd::shape_of<mul_t>::type, ctgrad::shape<>>);
static_assert(std::is_same_v<cd::as_expression_t<double>, ctgrad::constant<double>>);
static_assert(std::is_same_v<cd::as_expression_t<mul_t>, mul_t>);
static_assert(std::is_same_v<cd::constants_of_t<mul_t>, cd::type_list<>>);
static_assert(std::is_same_v<cd::constants_of_t<two_numbers_t>, cd::type_list<double, double>>);
static_assert(std::is_same_v<cd::constants_of_t<ctgrad::constant<float>>, cd::type_list<float>>);
static_assert(mul_t::pure && !two_numbers_t::pure);

constexpr auto m = ctgrad::var<"m", ctgrad::tensor<double, 3, 4>>;
constexpr auto v = ctgrad::var<"v", ctgrad::tensor<double, 4>>;
using broadcast_t = std::remove_cvref_t<decltype(m + v)>;
static_assert(std::is_same_v<cd::shape_of_t<broadcast_t>, ctgrad::shape<3, 4>>);
static_assert(
    std::is_same_v<cd::shape_of_t<std::remove_cvref_t<decltype(m)>>, ctgrad::shape<3, 4>>);

}  // namespace

BOOST_AUTO_TEST_CASE(recurrence_lists_match_the_reference) {
    BOOST_TEST(fragment_matches<chain40>());
    BOOST_TEST(fragment_matches<impure40>());
    // The impure recurrence: each step's 0.5 and 0.5 * x is a copy; the distinct list holds
    // the types once.
    BOOST_TEST(cd::frag_of<impure40>.size > cd::frag_of<impure40>.dsize);
}

BOOST_AUTO_TEST_CASE(values_of_a_recurrence_through_the_fragment) {
    // The gradient reads the fragment's list: d/dw of the 40-step recurrence against a central
    // difference of its value.
    const auto f = recurrence<40>();
    const auto at = [&](double wv) {
        return ctgrad::value(f, w = wv, x<0> = 0.1, x<1> = -0.2, x<2> = 0.3, x<3> = 0.05,
                             x<4> = -0.15);
    };
    const auto g = ctgrad::gradient(f, w = 0.7, x<0> = 0.1, x<1> = -0.2, x<2> = 0.3, x<3> = 0.05,
                                    x<4> = -0.15);
    const double h = 1e-6;
    const double fd = (at(0.7 + h) - at(0.7 - h)) / (2 * h);
    BOOST_TEST(g.value == at(0.7));
    BOOST_TEST(g[w] == fd, boost::test_tools::tolerance(1e-6));
}
