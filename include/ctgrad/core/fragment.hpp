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

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::conditional_t
#include <utility>      // std::index_sequence

#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when an expression copies a
/// subexpression that holds a run-time number so often that its plan explodes; `Op` is the op
/// being applied, `Arguments` its argument types.
template <class Op, class... Arguments>
struct subexpression_holding_a_number_is_reused;

namespace detail {

inline constexpr std::size_t no_entry = static_cast<std::size_t>(-1);

/// A plan larger than this many entries, and more than `copy_factor` times the number of
/// distinct subexpression types, is refused as an accidental exponential copy (see make_node).
inline constexpr std::size_t copy_budget = 2048;
inline constexpr std::size_t copy_factor = 8;

/// The fragment of a leaf (variable, literal, run-time constant): itself.
template <class E>
struct leaf_fragment {
    using exprs = type_list<E>;
    static constexpr std::size_t size = 1;
    /// Entry j's arguments are child[first_child[j]] ... child[first_child[j + 1] - 1].
    static constexpr std::array<std::size_t, 2> first_child{0, 0};
    static constexpr std::array<std::size_t, 0> child{};
    /// The position of entry j's number among the root's run-time constants (no_entry if none).
    static constexpr std::array<std::size_t, 1> constant_slot{is_constant_v<E> ? 0 : no_entry};
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

/// Where a pure subexpression of argument I of a node is found among the fragments of the
/// arguments before it: the argument and the index in its fragment (argument no_entry if not).
struct found_at {
    std::size_t arg = no_entry;
    std::size_t index = 0;
};

template <class E, class... Earlier>
constexpr found_at find_earlier() {
    found_at r{};
    if constexpr (is_pure_v<E>) {
        std::size_t j = 0;
        (
            [&] {
                if constexpr (list_contains_v<typename Earlier::exprs, E>) {
                    if (r.arg == no_entry) r = {j, index_of_v<typename Earlier::exprs, E>};
                }
                ++j;
            }(),
            ...);
    }
    return r;
}

template <class Exprs, class... Earlier>
struct found_in_earlier;

template <class... E, class... Earlier>
struct found_in_earlier<type_list<E...>, Earlier...> {
    static constexpr std::array<found_at, sizeof...(E)> value{find_earlier<E, Earlier...>()...};
};

/// Whether each entry of argument I's fragment is new to the node's fragment.
template <class Found>
struct new_mask {
    static constexpr auto value = [] {
        std::array<bool, Found::value.size()> m{};
        for (std::size_t t = 0; t < m.size(); ++t) m[t] = Found::value[t].arg == no_entry;
        return m;
    }();
};

template <class N, class Args, class Seq>
struct node_fragment;

/// The fragment of a node one of whose arguments was refused: the node alone, refused too.
template <class N>
struct refused_fragment : leaf_fragment<N> {
    static constexpr std::size_t constants = 0;
    static constexpr std::array<std::size_t, 1> constant_slot{no_entry};
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
    static constexpr std::array<std::size_t, k + 1> arg_size{fragment<A>::size..., 0};
    static constexpr std::array<std::size_t, k + 1> arg_constants{fragment<A>::constants..., 0};

    template <std::size_t J>
    static constexpr auto found_value() {
        return found_t<J>::value;
    }

    static constexpr std::size_t largest_arg = [] {
        std::size_t m = 0;
        for (std::size_t j = 0; j < k; ++j) m = arg_size[j] > m ? arg_size[j] : m;
        return m;
    }();

    struct tables_t {
        std::array<std::array<std::size_t, largest_arg>, k> map{};
        std::size_t size = 0;
        std::size_t edges = 0;
    };

    static constexpr tables_t tables = [] {
        tables_t t{};
        (
            [&] {
                constexpr auto f = found_value<I>();
                for (std::size_t e = 0; e < arg_size[I]; ++e) {
                    if (f[e].arg == no_entry) {
                        t.map[I][e] = t.size++;
                        t.edges +=
                            arg_fragment<I>::first_child[e + 1] - arg_fragment<I>::first_child[e];
                    } else {
                        t.map[I][e] = t.map[f[e].arg][f[e].index];
                    }
                }
            }(),
            ...);
        t.edges += k;
        ++t.size;  // the node itself
        return t;
    }();

    using exprs =
        concat_t<filter_t<typename fragment<A>::exprs, new_mask<found_t<I>>>..., type_list<N>>;

    static constexpr std::size_t size = tables.size;
    static constexpr std::size_t constants = (std::size_t{0} + ... + fragment<A>::constants);

    using distinct_list = typename distinct_of<N::pure, N, fragment<A>...>::type;
    /// The distinct subexpression types, as a list (a pure node's are its entries).
    using distinct = std::conditional_t<N::pure, exprs, distinct_list>;

    /// The plan copies impure subexpressions so often that it is refused (see make_node).
    static constexpr bool refused =
        !N::pure && size > copy_budget&& size > copy_factor* distinct::size;

    static constexpr std::array<std::size_t, tables.size + 1> first_child = [] {
        std::array<std::size_t, tables.size + 1> fc{};
        std::size_t at = 0;
        (
            [&] {
                constexpr auto f = found_value<I>();
                for (std::size_t e = 0; e < arg_size[I]; ++e) {
                    if (f[e].arg != no_entry) continue;
                    fc[tables.map[I][e]] = at;
                    at += arg_fragment<I>::first_child[e + 1] - arg_fragment<I>::first_child[e];
                }
            }(),
            ...);
        fc[tables.size - 1] = at;
        fc[tables.size] = at + k;
        return fc;
    }();

    static constexpr std::array<std::size_t, tables.edges> child = [] {
        std::array<std::size_t, tables.edges> c{};
        (
            [&] {
                constexpr auto f = found_value<I>();
                using F = arg_fragment<I>;
                for (std::size_t e = 0; e < arg_size[I]; ++e) {
                    if (f[e].arg != no_entry) continue;
                    std::size_t at = first_child[tables.map[I][e]];
                    for (std::size_t x = F::first_child[e]; x < F::first_child[e + 1]; ++x) {
                        c[at++] = tables.map[I][F::child[x]];
                    }
                }
            }(),
            ...);
        std::size_t at = first_child[tables.size - 1];
        ((c[at++] = tables.map[I][arg_size[I] - 1]), ...);
        return c;
    }();

    static constexpr std::array<std::size_t, tables.size> constant_slot = [] {
        std::array<std::size_t, tables.size> s{};
        for (auto& x : s) x = no_entry;
        std::size_t offset = 0;
        (
            [&] {
                constexpr auto f = found_value<I>();
                using F = arg_fragment<I>;
                for (std::size_t e = 0; e < arg_size[I]; ++e) {
                    if (f[e].arg == no_entry && F::constant_slot[e] != no_entry) {
                        s[tables.map[I][e]] = offset + F::constant_slot[e];
                    }
                }
                offset += F::constants;
            }(),
            ...);
        return s;
    }();
};

}  // namespace detail
}  // namespace ctgrad
