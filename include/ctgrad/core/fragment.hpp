/// @file
/// The plan fragment of an expression type: its subexpressions in an order where arguments come
/// before the ops that read them, with the argument indices of every entry and the slot of every
/// run-time constant. Pure subexpressions appear once however often they are used (their type is
/// their value); an impure one (holding a run-time number) once per occurrence.
///
/// Fragments are built bottom-up, one per node type, when `make_node` creates the node (see
/// core/node.hpp): a node's fragment is its arguments' fragments merged, and those exist
/// already, so building the plan of an expression never recurses on its depth (a 256-step
/// recurrence compiles at the default -ftemplate-depth) and never walks paths through a DAG.
/// ad::plan reads the root's fragment.
#pragma once

#include <algorithm>    // std::max
#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::conditional_t
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

/// The tables of a node's fragment: its arguments' fragments one after the other, without the
/// pure entries an earlier argument has, then the node itself.
template <std::size_t Size, std::size_t Edges>
struct fragment_tables {
    std::array<std::size_t, Size + 1> first_child{};
    std::array<std::size_t, Edges> child{};
    std::array<std::size_t, Size> constant_slot{};
};

/// The fragment of a leaf (variable, literal, run-time constant): itself.
template <class E>
struct leaf_fragment {
    using exprs = type_list<E>;
    static constexpr std::size_t size = 1;
    /// The tables: entry j's arguments are child[first_child[j]] ... child[first_child[j + 1] -
    /// 1]; constant_slot[j] is the position of entry j's number among the root's run-time
    /// constants (no_entry if it holds none).
    static constexpr fragment_tables<1, 0> tables{{0, 0}, {}, {is_constant_v<E> ? 0 : no_entry}};
    static constexpr std::size_t constants = is_constant_v<E> ? 1 : 0;
    /// The distinct subexpression types (the plan, if every run-time number were an exact
    /// literal).
    using distinct = type_list<E>;
    /// Set when the expression was refused (an exploding copy, already diagnosed): its
    /// fragment stops growing, so the parents add no errors and no cost of their own.
    static constexpr bool refused = false;
};

template <class E>
struct fragment : leaf_fragment<E> {};

/// Where a pure subexpression of an argument of a node is found among the fragments of the
/// arguments before it: the argument and the index in its fragment (argument no_entry if not).
struct found_at {
    std::size_t arg = no_entry;
    std::size_t index = 0;
};

// The computations below are class templates and constexpr functions over arrays whose names
// hold only sizes: the compiler mangles every function it instantiates, and a function named
// after a node type would cost in proportion to the size of that type, per node.

template <std::size_t K>
constexpr found_at first_found(const std::array<bool, K>& in,
                               const std::array<std::size_t, K>& at) {
    for (std::size_t j = 0; j < K; ++j) {
        if (in[j]) return {j, at[j]};
    }
    return {};
}

template <class List, class E, bool = list_contains_v<List, E>>
struct index_or_zero : std::integral_constant<std::size_t, 0> {};

template <class List, class E>
struct index_or_zero<List, E, true> : std::integral_constant<std::size_t, index_of_v<List, E>> {};

template <class E, bool Pure, class... Earlier>
struct find_in {
    static constexpr found_at value{};
};

template <class E, class... Earlier>
struct find_in<E, true, Earlier...> {
    static constexpr found_at value =
        first_found<sizeof...(Earlier)>({list_contains_v<typename Earlier::exprs, E>...},
                                        {index_or_zero<typename Earlier::exprs, E>::value...});
};

template <class Exprs, class... Earlier>
struct found_in_earlier;

template <class... E, class... Earlier>
struct found_in_earlier<type_list<E...>, Earlier...> {
    static constexpr std::array<found_at, sizeof...(E)> value{
        find_in<E, is_pure_v<E>, Earlier...>::value...};
};

template <std::size_t M>
constexpr std::array<bool, M> new_entries(const std::array<found_at, M>& found) {
    std::array<bool, M> m{};
    for (std::size_t t = 0; t < M; ++t) m[t] = found[t].arg == no_entry;
    return m;
}

/// Whether each entry of an argument's fragment is new to the node's fragment.
template <class Found>
struct new_mask {
    static constexpr auto value = new_entries(Found::value);
};

/// One argument's fragment, as the merge reads it.
struct fragment_view {
    std::size_t size = 0;
    const std::size_t* first_child = nullptr;
    const std::size_t* child = nullptr;
    const std::size_t* constant_slot = nullptr;
    std::size_t constants = 0;
    const found_at* found = nullptr;  // null for the first argument: all its entries are new
};

/// The sizes of a node's fragment: entries and argument references.
struct fragment_sizes {
    std::size_t size = 0;
    std::size_t edges = 0;
};

template <std::size_t K>
constexpr fragment_sizes merged_sizes(const std::array<fragment_view, K>& args) {
    fragment_sizes z{};
    for (std::size_t i = 0; i < K; ++i) {
        const fragment_view& f = args[i];
        for (std::size_t e = 0; e < f.size; ++e) {
            if (f.found != nullptr && f.found[e].arg != no_entry) continue;
            ++z.size;
            z.edges += f.first_child[e + 1] - f.first_child[e];
        }
    }
    return {z.size + 1, z.edges + K};
}

template <std::size_t K, std::size_t Size, std::size_t Edges, std::size_t Largest>
constexpr fragment_tables<Size, Edges> merge_fragments(const std::array<fragment_view, K>& args) {
    fragment_tables<Size, Edges> t{};
    for (auto& x : t.constant_slot) x = no_entry;
    // map[i][e]: the entry of this fragment that entry e of argument i's fragment is
    std::array<std::array<std::size_t, Largest>, K> map{};
    std::size_t next = 0, edge = 0, offset = 0;
    for (std::size_t i = 0; i < K; ++i) {
        const fragment_view& f = args[i];
        for (std::size_t e = 0; e < f.size; ++e) {
            if (f.found != nullptr && f.found[e].arg != no_entry) {
                map[i][e] = map[f.found[e].arg][f.found[e].index];
                continue;
            }
            map[i][e] = next;
            t.first_child[next] = edge;
            for (std::size_t x = f.first_child[e]; x < f.first_child[e + 1]; ++x) {
                t.child[edge++] = map[i][f.child[x]];
            }
            if (f.constant_slot[e] != no_entry) t.constant_slot[next] = offset + f.constant_slot[e];
            ++next;
        }
        offset += f.constants;
    }
    t.first_child[next] = edge;
    for (std::size_t i = 0; i < K; ++i) t.child[edge++] = map[i][args[i].size - 1];
    t.first_child[next + 1] = edge;
    return t;
}

template <class N, class Args, class Seq>
struct node_fragment;

/// The fragment of a node one of whose arguments was refused: the node alone, refused too.
template <class N>
struct refused_fragment : leaf_fragment<N> {
    static constexpr std::size_t constants = 0;
    static constexpr fragment_tables<1, 0> tables{{0, 0}, {}, {no_entry}};
    static constexpr bool refused = true;
};

template <class Args>
struct any_refused;

template <class... A>
struct any_refused<type_list<A...>> : std::bool_constant<(fragment<A>::refused || ...)> {};

template <class N>
requires is_node<N>::value struct fragment<N>
    : std::conditional_t<any_refused<typename N::args>::value, refused_fragment<N>,
                         node_fragment<N, typename N::args, std::make_index_sequence<N::arity>>> {
};

/// The distinct subexpression types of a node whose arguments' fragments are F...: for a pure
/// node its fragment's entries, otherwise the union of the arguments' (built only for impure
/// nodes, where run-time numbers make the two differ).
template <bool Pure, class N, class... F>
struct distinct_of {
    using type = merge_unique_t<typename F::distinct..., type_list<N>>;
};

template <class N, class... F>
struct distinct_of<true, N, F...> {
    using type = void;
};

template <class N, class... A, std::size_t... I>
struct node_fragment<N, type_list<A...>, std::index_sequence<I...>> {
    template <std::size_t J>
    using arg_fragment = fragment<at_t<type_list<A...>, J>>;

    /// For argument J, where each entry of its fragment already is (pure entries met in an
    /// earlier argument).
    template <std::size_t J, class Seq = std::make_index_sequence<J>>
    struct found;

    template <std::size_t J, std::size_t... K>
    struct found<J, std::index_sequence<K...>> {
        using type = found_in_earlier<typename arg_fragment<J>::exprs, arg_fragment<K>...>;
    };

    template <std::size_t J>
    using found_t = typename found<J>::type;

    static constexpr std::size_t k = sizeof...(A);

#define CTGRAD_FRAGMENT_VIEWS                                         \
    std::array<fragment_view, k> {                                    \
        fragment_view{fragment<A>::size,                              \
                      fragment<A>::tables.first_child.data(),         \
                      fragment<A>::tables.child.data(),               \
                      fragment<A>::tables.constant_slot.data(),       \
                      fragment<A>::constants,                         \
                      I == 0 ? nullptr : found_t<I>::value.data()}... \
    }
    static constexpr fragment_sizes sizes = merged_sizes(CTGRAD_FRAGMENT_VIEWS);
    static constexpr std::size_t largest = std::max({std::size_t{1}, fragment<A>::size...});
    static constexpr fragment_tables<sizes.size, sizes.edges> tables =
        merge_fragments<k, sizes.size, sizes.edges, largest>(CTGRAD_FRAGMENT_VIEWS);
#undef CTGRAD_FRAGMENT_VIEWS

    /// Argument J's entries that are new to this fragment: all of the first argument's (no
    /// table for it: in a chain the first argument is the long one), the others filtered.
    template <std::size_t J, bool First = (J == 0)>
    struct new_exprs {
        using type = filter_t<typename arg_fragment<J>::exprs, new_mask<found_t<J>>>;
    };

    template <std::size_t J>
    struct new_exprs<J, true> {
        using type = typename arg_fragment<J>::exprs;
    };

    using exprs = concat_t<typename new_exprs<I>::type..., type_list<N>>;

    static constexpr std::size_t size = sizes.size;
    static constexpr std::size_t constants = (std::size_t{0} + ... + fragment<A>::constants);

    using distinct_list = typename distinct_of<N::pure, N, fragment<A>...>::type;
    /// The distinct subexpression types, as a list (a pure node's are its entries).
    using distinct = std::conditional_t<N::pure, exprs, distinct_list>;

    /// The plan copies impure subexpressions so often that it is refused (see make_node).
    static constexpr bool refused =
        !N::pure && size > copy_budget&& size > copy_factor* distinct::size;
};

}  // namespace detail
}  // namespace ctgrad
