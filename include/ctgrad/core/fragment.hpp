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

/// The fragment of a leaf (variable, literal, run-time constant): itself.
template <class E>
struct leaf_fragment {
    /// The entries, arguments before the ops that read them.
    using exprs = type_list<E>;
    /// The distinct subexpression types (the plan, if every run-time number were an exact
    /// literal): for a pure expression, `exprs`.
    using distinct = type_list<E>;
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

/// The entry list (All = false) or the distinct list (All = true) of expression E.
template <bool All, class E>
struct list_of {
    using type = typename fragment<E>::exprs;
};

template <class E>
struct list_of<true, E> {
    using type = typename fragment<E>::distinct;
};

/// Whether entry E of an argument's list is already in Cur (pure entries are shared; in a
/// distinct list every entry is).
template <bool All, class Cur, class E, bool Shared = All || is_pure<E>::value>
struct already_in : std::false_type {};

template <bool All, class Cur, class E>
struct already_in<All, Cur, E, true> : std::bool_constant<in_list<Cur, E>> {};

/// Cur followed by the entries of List that Cur does not hold yet.
template <bool All, class Cur, class List>
struct append_new;

template <bool All, class Cur, class... E>
struct append_new<All, Cur, type_list<E...>> {
    using mask = value_c<std::array<bool, sizeof...(E)>{!already_in<All, Cur, E>::value...}>;
    using type = concat_t<Cur, filter_t<type_list<E...>, mask>>;
};

/// Cur followed by argument A's entries that Cur does not hold: none when A is itself shared
/// and held (then so is everything under it), else those of its list.
template <bool All, class Cur, class A, bool Held = already_in<All, Cur, A>::value>
struct add_arg {
    using type = typename append_new<All, Cur, typename list_of<All, A>::type>::type;
};

template <bool All, class Cur, class A>
struct add_arg<All, Cur, A, true> {
    using type = Cur;
};

template <bool All, class Cur, class... A>
struct add_args {
    using type = Cur;
};

template <bool All, class Cur, class A, class... Rest>
struct add_args<All, Cur, A, Rest...>
    : add_args<All, typename add_arg<All, Cur, A>::type, Rest...> {};

/// The arguments other than the First-th, in order.
template <std::size_t First, class Args, class Seq>
struct others_of;

template <std::size_t First, class... A, std::size_t... I>
struct others_of<First, type_list<A...>, std::index_sequence<I...>> {
    using type = concat_t<std::conditional_t<I == First, type_list<>, type_list<A>>...>;
};

/// The list of node N: its First-th argument's list, then the other arguments' new entries
/// in order, then N.
template <bool All, class N, std::size_t First, class Args, class Others>
struct node_list;

template <bool All, class N, std::size_t First, class Args, class... O>
struct node_list<All, N, First, Args, type_list<O...>> {
    using type =
        concat_t<typename add_args<All, typename list_of<All, at_t<Args, First>>::type, O...>::type,
                 type_list<N>>;
};

template <class N, class Args>
struct node_fragment;

template <class N, class... A>
struct node_fragment<N, type_list<A...>> {
    using first_arg = std::integral_constant<
        std::size_t, largest_of<sizeof...(A)>({list_size<typename fragment<A>::exprs>::value...})>;
    using others =
        typename others_of<first_arg::value, type_list<A...>, std::index_sequence_for<A...>>::type;
    using exprs = typename node_list<false, N, first_arg::value, type_list<A...>, others>::type;
    /// The distinct subexpression types (a pure node's are its entries).
    using distinct = typename std::conditional_t<
        N::pure_c::value, type_id<exprs>,
        node_list<true, N, first_arg::value, type_list<A...>, others>>::type;
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
