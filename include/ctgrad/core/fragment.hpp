/// @file
/// The plan fragment of an expression type: its subexpressions in an order where arguments come
/// before the ops that read them. Pure subexpressions appear once however often they are used
/// (their type is their value); an impure one (holding a run-time number) once per occurrence.
///
/// Fragments are built bottom-up, one per node type, when `make_node` creates the node (see
/// core/node.hpp): a node's entry list is its *largest* argument's list, unchanged, followed by
/// the entries of its other arguments that it does not hold yet, then the node. Building the
/// plan of an expression therefore never recurses on its depth (a 256-step recurrence compiles
/// at the default -ftemplate-depth), never walks paths through a DAG, and costs each node work
/// in proportion to its smaller arguments only (plus one list of types).
///
/// A fragment is *types only*: no static data member, variable template or function is
/// instantiated per node. The compiler gives every instantiated variable and function a mangled
/// name that spells its template arguments, and a node's type spells its whole subexpression,
/// so n such entities would cost O(n^2) bytes of names (g++ spent most of a 64-step chain's
/// compile mangling them). The numeric tables of a plan (argument indices, constant slots) are
/// computed once, at the root, by ad::plan, from these lists.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::conditional_t, std::integral_constant
#include <utility>      // std::index_sequence

#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when an expression copies a
/// subexpression that holds a run-time number so often that its plan explodes: `Op` is the op
/// being applied, `Entries` the size its plan would have, `Distinct` the number of distinct
/// subexpressions. (The argument types are not named: they would print as large as the plan.)
template <class Op, std::size_t Entries, std::size_t Distinct>
struct subexpression_holding_a_number_is_reused;

namespace detail {

inline constexpr std::size_t no_entry = static_cast<std::size_t>(-1);

/// A plan larger than this many entries, and more than `copy_factor` times the number of
/// distinct subexpression types, is refused as an accidental exponential copy (see make_node).
inline constexpr std::size_t copy_budget = 1024;
inline constexpr std::size_t copy_factor = 8;

/// The hash of one type (detail/args_key.hpp): every entry of a plan has a short printed name
/// (a node prints as its op and args_key), so this is one short function per distinct type.
template <class E>
inline constexpr std::uint64_t entry_hash = list_hash<E>();

/// A set of types by inheritance: `Base` and `type_id<T>...` (membership: __is_base_of). A
/// node's set derives from its first argument's and adds only the node's new entries, so it
/// is built in time proportional to what the node adds (a table with one base per entry, built
/// per node, costs the list's length at every node: quadratic in a chain).
template <class Base, class New>
struct set_ext;

template <class Base, class... T>
struct set_ext<Base, type_list<T...>> : Base, type_id<T>... {};

template <class Set, class E>
inline constexpr bool set_holds = __is_base_of(type_id<E>, Set);

/// The fragment of a leaf (variable, literal, run-time constant): itself.
template <class E>
struct leaf_fragment {
    /// The entries, arguments before the ops that read them.
    using exprs = type_list<E>;
    /// The distinct subexpression types (the plan, if every run-time number were an exact
    /// literal): for a pure expression, `exprs`.
    using distinct = type_list<E>;
    /// The entries that are shared (looked up by type when a parent merges its arguments'
    /// lists), as a set (set_holds): the pure entries of `exprs`, every entry of `distinct`.
    using exprs_set = std::conditional_t<is_pure<E>::value, type_set<E>, type_set<>>;
    using distinct_set = type_set<E>;
    /// Which argument's entries come first (the largest argument's; 0 for a leaf).
    using first_arg = std::integral_constant<std::size_t, 0>;
    /// Set when the expression was refused (an exploding copy, already diagnosed): its
    /// fragment stops growing, so the parents add no errors and no cost of their own.
    using refused_c = std::false_type;
};

template <class E>
struct fragment : leaf_fragment<E> {};

/// The position of the first largest of the sizes (a function of sizes only).
template <std::size_t K>
constexpr std::size_t largest_of(const std::array<std::size_t, K>& size) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < K; ++i) {
        if (size[i] > size[best]) best = i;
    }
    return best;
}

/// The entry list (All = false) or the distinct list (All = true) of expression E, and the set
/// of its shared entries.
template <bool All, class E>
struct list_of {
    using type = typename fragment<E>::exprs;
    using set = typename fragment<E>::exprs_set;
};

template <class E>
struct list_of<true, E> {
    using type = typename fragment<E>::distinct;
    using set = typename fragment<E>::distinct_set;
};

/// The candidates of argument A that the first argument's list (whose shared entries are Set)
/// may lack: none when A itself is shared and held there (then so is everything under it),
/// else A's whole list.
template <bool All, class Set, class A,
          bool Held = (All || is_pure<A>::value) && set_holds<Set, A>>
struct candidates_of {
    using types = type_list<>;
};

template <bool All, class Set, class A>
struct candidates_of<All, Set, A, false> {
    using types = typename list_of<All, A>::type;
};

/// What the merge of a node's lists knows of one candidate entry (an entry of an argument
/// other than the first): its hash, whether it is shared, whether the first argument's list
/// holds it.
struct candidate {
    std::uint64_t hash = 0;
    bool shared = false;
    bool held = false;
};

/// keep[i]: candidate i is new (not a shared entry already held by the first argument's list
/// or by an earlier candidate); add[i]: it is kept and shared (it joins the node's set).
template <std::size_t M>
struct merge_masks {
    std::array<bool, M> keep{};
    std::array<bool, M> add{};
};

/// The masks of a node's candidates (a function of numbers only; the comparisons among
/// candidates are against the kept shared ones, few unless the node joins two large lists).
template <std::size_t M>
constexpr merge_masks<M> merge_candidates(const std::array<candidate, M>& c) {
    merge_masks<M> r{};
    std::array<std::uint64_t, M> added{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < M; ++i) {
        bool held = c[i].shared && c[i].held;
        for (std::size_t k = 0; c[i].shared && !held && k < n; ++k) held = added[k] == c[i].hash;
        r.keep[i] = !held;
        r.add[i] = !held && c[i].shared;
        if (r.add[i]) added[n++] = c[i].hash;
    }
    return r;
}

template <bool All, class Set, class List>
struct candidate_rows;

template <bool All, class Set, class... E>
struct candidate_rows<All, Set, type_list<E...>> {
    static constexpr merge_masks<sizeof...(E)> value = merge_candidates<sizeof...(E)>(
        {candidate{entry_hash<E>, All || is_pure<E>::value,
                   (All || is_pure<E>::value) && set_holds<Set, E>}...});
};

template <bool All, class Set>
struct candidate_rows<All, Set, type_list<>> {
    static constexpr merge_masks<0> value{};
};

/// The list of node N (All = false: its entries; All = true: its distinct subexpressions):
/// its first argument's list, then the other arguments' new entries in order, then N; and the
/// set of the shared entries of that list.
template <bool All, class N, class First, class Others>
struct node_list;

template <bool All, class N, class First, class... O>
struct node_list<All, N, First, type_list<O...>> {
    using base = typename list_of<All, First>::set;
    using candidates = concat_t<typename candidates_of<All, base, O>::types...>;
    // Static members of these classes are named after N and its arguments (short names, see
    // detail/args_key.hpp), never after the lists: a value_c of the masks would be a variable
    // named after all their numbers, one per node.
    struct keep {
        static constexpr const auto& value = candidate_rows<All, base, candidates>::value.keep;
    };
    struct add {
        static constexpr const auto& value = candidate_rows<All, base, candidates>::value.add;
    };
    using type = concat_t<typename list_of<All, First>::type, filter_t<candidates, keep>,
                          type_list<N>>;
    // A class of its own, named after N (set_ext<...> would spell every base, one per node
    // of the chain below: quadratic names again, e.g. for candidate_rows<.., set, ..>::value).
    struct set
        : set_ext<base, concat_t<filter_t<candidates, add>,
                                 std::conditional_t<All || N::pure_c::value, type_list<N>,
                                                    type_list<>>>> {};
};

/// The arguments other than the First-th, in order.
template <std::size_t First, class Args, class Seq>
struct others_of;

template <std::size_t First, class... A, std::size_t... I>
struct others_of<First, type_list<A...>, std::index_sequence<I...>> {
    using type = concat_t<std::conditional_t<I == First, type_list<>, type_list<A>>...>;
};

template <class N, class Args>
struct node_fragment;

template <class N, class... A>
struct node_fragment<N, type_list<A...>> {
    using first_arg = std::integral_constant<
        std::size_t, largest_of<sizeof...(A)>({list_size<typename fragment<A>::exprs>::value...})>;
    using others =
        typename others_of<first_arg::value, type_list<A...>, std::index_sequence_for<A...>>::type;
    using first = at_t<type_list<A...>, first_arg::value>;
    using entries = node_list<false, N, first, others>;
    using exprs = typename entries::type;
    /// The distinct subexpression types (a pure node's are its entries).
    using all = typename std::conditional_t<N::pure_c::value, type_id<entries>,
                                            type_id<node_list<true, N, first, others>>>::type;
    using distinct = typename all::type;
    using exprs_set = typename entries::set;
    using distinct_set = typename all::set;
    /// The plan copies impure subexpressions so often that it is refused (see make_node).
    using refused_c =
        std::bool_constant<(!N::pure_c::value && list_size<exprs>::value > copy_budget &&
                            list_size<exprs>::value > copy_factor * list_size<distinct>::value)>;
};

/// The fragment of a node one of whose arguments was refused: the node alone, refused too.
template <class N>
struct refused_fragment : leaf_fragment<N> {
    using refused_c = std::true_type;
};

template <class Args>
struct any_refused;

template <class... A>
struct any_refused<type_list<A...>> : std::bool_constant<(fragment<A>::refused_c::value || ...)> {};

template <class N>
requires is_node<N>::value struct fragment<N>
    : std::conditional_t<any_refused<typename N::args>::value, refused_fragment<N>,
                         node_fragment<N, typename N::args>> {
};

}  // namespace detail
}  // namespace ctgrad
