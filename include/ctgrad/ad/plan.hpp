/// @file
/// The plan of an expression type: its subexpressions in topological order (core/fragment.hpp),
/// with the tables the sweeps index into (children, which subexpressions carry a derivative,
/// which contribution assigns an adjoint first).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::conditional_t, std::remove_cvref_t
#include <utility>      // std::index_sequence

#include <ctgrad/core/fragment.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad::ad {
namespace detail {

template <class Op>
constexpr bool locally_constant() {
    if constexpr (requires { Op::locally_constant; }) {
        return Op::locally_constant;
    } else {
        return false;
    }
}

template <class E>
struct arity_of : std::integral_constant<std::size_t, 0> {};

template <class E>
requires is_node<E>::value struct arity_of<E> : E::arity_c {
};

/// A node whose op has partials (a class, not a function: nothing named after E is
/// instantiated per entry).
template <class E, bool = is_node<E>::value>
struct differentiable : std::false_type {};

template <class E>
struct differentiable<E, true> : std::bool_constant<!locally_constant<typename E::op>()> {};

template <class List>
struct arities;

template <class... E>
struct arities<ctgrad::detail::type_list<E...>> {
    static constexpr std::array<std::size_t, sizeof...(E)> value{arity_of<E>::value...};
    static constexpr std::array<bool, sizeof...(E)> variable{is_variable_v<E>...};
    static constexpr std::array<bool, sizeof...(E)> differentiable{
        detail::differentiable<E>::value...};
};

/// What the root's pass needs to know of one entry, for plans whose ops take at most MA
/// arguments: its own facts, and for each argument the entry of a pure one (found by type:
/// pure subexpressions occur once in a plan) and the number of run-time constants it holds.
template <std::size_t MA>
struct entry_row {
    std::size_t arity = 0;
    std::size_t first_arg = 0;  // whose entries come first in the plan (core/fragment.hpp)
    bool pure = true;
    bool constant = false;
    std::array<std::size_t, MA> pure_child{};
    std::array<std::size_t, MA> constants{};
};

/// The entry of the pure argument A in the plan registered under H (detail/args_key.hpp: one
/// lookup, not a search of the plan's list), no_entry for an impure one.
template <std::uint64_t H, class A, bool Pure = is_pure<A>::value>
struct pure_entry : std::integral_constant<std::size_t, ctgrad::detail::no_entry> {};

template <std::uint64_t H, class A>
struct pure_entry<H, A, true> : ctgrad::detail::registered_pos<H, A> {};

/// The row of entry E, as a value carried by a type (ctgrad::detail::value_c: its name spells
/// the row's numbers, not E).
template <std::size_t MA, std::uint64_t H, class E, class Args = void>
struct row_of {
    using type = ctgrad::detail::value_c<entry_row<MA>{
        0, 0, is_pure<E>::value, is_constant<E>::value, {}, {}}>;
};

template <std::size_t MA, std::uint64_t H, class E, class... A>
struct row_of<MA, H, E, ctgrad::detail::type_list<A...>> {
    using type = ctgrad::detail::value_c<entry_row<MA>{
        sizeof...(A),
        ctgrad::detail::fragment<E>::first_arg::value,
        is_pure<E>::value,
        false,
        {pure_entry<H, A>::value...},
        {ctgrad::detail::list_size<ctgrad::detail::constants_of_t<A>>::value...}}>;
};

template <class E>
struct args_or_void {
    using type = void;
};

template <class E>
requires is_node<E>::value struct args_or_void<E> {
    using type = typename E::args;
};

template <std::size_t MA, std::uint64_t H, class Keys>
struct rows;

template <std::size_t MA, std::uint64_t H, class... E>
struct rows<MA, H, ctgrad::detail::type_list<E...>> {
    static constexpr std::array<entry_row<MA>, sizeof...(E)> value{
        row_of<MA, H, E, typename args_or_void<E>::type>::type::value...};
};

/// Registers a plan's entries under H (ctgrad::detail::list_registry): each by position, and
/// each pure one by type.
template <std::uint64_t H, class Keys>
struct register_entries;

template <std::uint64_t H, class... E>
struct register_entries<H, ctgrad::detail::type_list<E...>> {
    using type = typename ctgrad::detail::list_registry<
        H, std::index_sequence_for<E...>, ctgrad::detail::type_list<E...>,
        std::integer_sequence<bool, is_pure<E>::value...>>::type;
};

template <class Plan, class Seq>
struct variables_at;

template <class Plan, std::size_t... I>
struct variables_at<Plan, std::index_sequence<I...>> {
    using type =
        ctgrad::detail::type_list<typename Plan::template expr<Plan::variable_entry[I]>...>;
};

template <std::size_t N, std::size_t MA>
struct plan_tables {
    std::array<std::array<std::size_t, MA>, N> child{};
    std::array<std::size_t, N> constant_slot{};
};

/// The argument entries and constant slots of a plan, from its rows, in one pass each way (a
/// function of sizes only). Pure arguments are found by type (their rows say where). Impure
/// entries occur once per use, each read by one parent, and a fragment lists them in the order
/// of a depth-first walk that visits a node's first_arg before its other arguments (in order)
/// and the node after them: so a stack gives each impure entry its impure arguments.
template <std::size_t N, std::size_t MA>
constexpr plan_tables<N, MA> build_tables(const std::array<entry_row<MA>, N>& row) {
    plan_tables<N, MA> t{};
    std::array<std::size_t, N> stack{};
    std::size_t top = 0;
    for (std::size_t j = 0; j < N; ++j) {
        const entry_row<MA>& r = row[j];
        for (std::size_t i = 0; i < r.arity; ++i) t.child[j][i] = r.pure_child[i];
        if (r.pure) continue;
        // the impure arguments were visited first_arg first, then in order: pop in reverse
        for (std::size_t k = r.arity; k-- > 0;) {
            const std::size_t i = k == 0 ? r.first_arg : (k <= r.first_arg ? k - 1 : k);
            if (r.pure_child[i] == ctgrad::detail::no_entry) t.child[j][i] = stack[--top];
        }
        stack[top++] = j;
    }
    // constant slots: the root's constants are its arguments' in argument order, recursively
    std::array<std::size_t, N> base{};
    for (auto& s : t.constant_slot) s = ctgrad::detail::no_entry;
    for (std::size_t j = N; j-- > 0;) {
        const entry_row<MA>& r = row[j];
        if (r.pure) continue;
        if (r.constant) t.constant_slot[j] = base[j];
        std::size_t offset = base[j];
        for (std::size_t i = 0; i < r.arity; ++i) {
            if (r.pure_child[i] == ctgrad::detail::no_entry) base[t.child[j][i]] = offset;
            offset += r.constants[i];
        }
    }
    return t;
}

/// Which contributions of a reverse sweep are the first to their argument's adjoint (and so
/// assign it instead of adding): first[J][I] for the contribution of entry J to its I-th
/// argument, for a sweep over entries [0, end) that pushes the entries marked in `act` (a
/// function of sizes only: the plan's sweep from its root and a Jacobian's from one output,
/// ad/jacobian.hpp).
template <std::size_t N, std::size_t MA>
constexpr std::array<std::array<bool, MA>, N> first_contributions(
    const std::array<bool, N>& act, std::size_t end, const std::array<std::size_t, N>& arity,
    const std::array<bool, N>& differentiable,
    const std::array<std::array<std::size_t, MA>, N>& child) {
    std::array<std::array<bool, MA>, N> first{};
    std::array<bool, N> seen{};
    for (std::size_t k = end; k-- > 0;) {
        if (!act[k] || !differentiable[k]) continue;
        for (std::size_t i = 0; i < arity[k]; ++i) {
            const std::size_t c = child[k][i];
            if (act[c]) {
                first[k][i] = !seen[c];
                seen[c] = true;
            }
        }
    }
    return first;
}

}  // namespace detail

/// The evaluation plan of the expression type Root (cv-ref qualifiers ignored): its entries
/// (core/fragment.hpp, built when the expression was) and the tables the sweeps index into.
/// Nothing here recurses on the depth of the expression or walks its paths.
template <class Root>
struct plan {
    using root = std::remove_cvref_t<Root>;
    using fragment = ctgrad::detail::fragment<root>;
    /// The entries' expression types, arguments before the ops that read them.
    using keys = ctgrad::detail::exprs_t<root>;

    static constexpr std::size_t size = ctgrad::detail::list_size<keys>::value;

    /// The key under which the entries are registered: the hash of the root's type (a plan is
    /// a function of its root).
    using hash_c = std::integral_constant<std::uint64_t, ctgrad::detail::list_hash<root>()>;
    /// The entries registered (by position and, for the pure ones, by type); see expr.
    using registered = typename detail::register_entries<hash_c::value, keys>::type;

    /// The expression type of entry J (one lookup, not a search of the list).
    template <std::size_t J>
    using expr = ctgrad::detail::registered_at<hash_c::value, J>;

    template <std::size_t J>
    static constexpr std::size_t arity = detail::arity_of<expr<J>>::value;

    static constexpr std::size_t max_arity = [] {
        std::size_t m = 1;
        for (std::size_t a : detail::arities<keys>::value) m = a > m ? a : m;
        return m;
    }();

    /// The number of run-time constants the root holds.
    static constexpr std::size_t constant_count =
        ctgrad::detail::list_size<ctgrad::detail::constants_of_t<root>>::value;

    static constexpr detail::plan_tables<size, max_arity> tables =
        detail::build_tables<size, max_arity>(detail::rows<max_arity, hash_c::value, keys>::value);

    /// child[J][I]: the entry of the I-th argument of entry J.
    static constexpr const auto& child = tables.child;

    /// constant_slot[J]: for a run-time constant, the position of its number among the root's
    /// (ctgrad::detail::constant_at); no_entry for every other entry.
    static constexpr const auto& constant_slot = tables.constant_slot;

    struct entry_facts {
        std::array<std::size_t, size> arity;
        std::array<bool, size> is_variable;
        std::array<bool, size> differentiable;  // a node whose op has partials
    };

    static constexpr entry_facts facts{detail::arities<keys>::value,
                                       detail::arities<keys>::variable,
                                       detail::arities<keys>::differentiable};

    /// active[J]: entry J depends on a variable through differentiable ops, so it carries
    /// an adjoint. Constants, literals and piecewise-constant ops (indicators) do not.
    static constexpr std::array<bool, size> active = [] {
        std::array<bool, size> a{};
        for (std::size_t j = 0; j < size; ++j) {  // children come before parents
            a[j] = facts.is_variable[j];
            if (facts.differentiable[j]) {
                for (std::size_t i = 0; i < facts.arity[j]; ++i) {
                    a[j] = a[j] || a[child[j][i]];
                }
            }
        }
        return a;
    }();

    /// assigns[J][I]: the contribution of entry J to its I-th argument is the first one the
    /// reverse sweep makes to that argument's adjoint, so it assigns instead of adding.
    static constexpr std::array<std::array<bool, max_arity>, size> assigns =
        detail::first_contributions<size, max_arity>(active, size, facts.arity,
                                                     facts.differentiable, child);

    static constexpr std::size_t variable_count = [] {
        std::size_t n = 0;
        for (bool v : facts.is_variable) n += v ? 1 : 0;
        return n;
    }();

    /// variable_rank[J]: for a variable, its position in `variables`.
    static constexpr std::array<std::size_t, size> variable_rank = [] {
        std::array<std::size_t, size> r{};
        std::size_t n = 0;
        for (std::size_t j = 0; j < size; ++j) {
            r[j] = facts.is_variable[j] ? n++ : 0;
        }
        return r;
    }();

    static constexpr std::array<std::size_t, variable_count> variable_entry = [] {
        std::array<std::size_t, variable_count> e{};
        std::size_t n = 0;
        for (std::size_t j = 0; j < size; ++j) {
            if (facts.is_variable[j]) {
                e[n++] = j;
            }
        }
        return e;
    }();

    /// The variables of the expression, in plan order.
    using variables =
        typename detail::variables_at<plan, std::make_index_sequence<variable_count>>::type;
};

}  // namespace ctgrad::ad
