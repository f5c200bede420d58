/// @file
/// The plan of an expression type: its subexpressions in topological order (core/fragment.hpp),
/// with the tables the sweeps index into (children, which subexpressions carry a derivative,
/// which contribution assigns an adjoint first).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
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
requires is_node<E>::value struct arity_of<E> : std::integral_constant<std::size_t, E::arity> {
};

template <class E>
constexpr bool differentiable() {
    if constexpr (is_node_v<E>) {
        return !locally_constant<typename E::op>();
    } else {
        return false;
    }
}

template <class Keys>
struct variables_of;

template <class... K>
struct variables_of<ctgrad::detail::type_list<K...>> {
    struct mask {
        static constexpr std::array<bool, sizeof...(K)> value{is_variable_v<K>...};
    };
    using type = ctgrad::detail::filter_t<ctgrad::detail::type_list<K...>, mask>;
};

template <class List>
struct arities;

template <class... E>
struct arities<ctgrad::detail::type_list<E...>> {
    static constexpr std::array<std::size_t, sizeof...(E)> value{arity_of<E>::value...};
    static constexpr std::array<bool, sizeof...(E)> variable{is_variable_v<E>...};
    static constexpr std::array<bool, sizeof...(E)> differentiable{detail::differentiable<E>()...};
};

}  // namespace detail

/// The evaluation plan of the expression type Root (cv-ref qualifiers ignored): its entries
/// (core/fragment.hpp, built when the expression was) and the tables the sweeps index into.
/// Nothing here recurses on the depth of the expression or walks its paths.
template <class Root>
struct plan {
    using root = std::remove_cvref_t<Root>;
    using fragment = ctgrad::detail::fragment<root>;
    /// The entries' expression types, arguments before the ops that read them.
    using keys = typename fragment::exprs;

    static constexpr std::size_t size = keys::size;

    /// The expression type of entry J.
    template <std::size_t J>
    using expr = ctgrad::detail::at_t<keys, J>;

    template <std::size_t J>
    static constexpr std::size_t arity = detail::arity_of<expr<J>>::value;

    static constexpr std::size_t max_arity = [] {
        std::size_t m = 1;
        for (std::size_t j = 0; j < size; ++j) {
            const std::size_t a =
                fragment::tables.first_child[j + 1] - fragment::tables.first_child[j];
            m = a > m ? a : m;
        }
        return m;
    }();

    /// child[J][I]: the entry of the I-th argument of entry J.
    static constexpr std::array<std::array<std::size_t, max_arity>, size> child = [] {
        std::array<std::array<std::size_t, max_arity>, size> c{};
        for (std::size_t j = 0; j < size; ++j) {
            for (std::size_t i = fragment::tables.first_child[j];
                 i < fragment::tables.first_child[j + 1]; ++i) {
                c[j][i - fragment::tables.first_child[j]] = fragment::tables.child[i];
            }
        }
        return c;
    }();

    /// constant_slot[J]: for a run-time constant, the position of its number among the root's
    /// (ctgrad::detail::constant_at); no_entry for every other entry.
    static constexpr const auto& constant_slot = fragment::tables.constant_slot;

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
    static constexpr std::array<std::array<bool, max_arity>, size> assigns = [] {
        std::array<std::array<bool, max_arity>, size> first{};
        std::array<bool, size> seen{};
        for (std::size_t k = size; k-- > 0;) {
            if (!active[k] || !facts.differentiable[k]) {
                continue;
            }
            for (std::size_t i = 0; i < facts.arity[k]; ++i) {
                const std::size_t c = child[k][i];
                if (active[c]) {
                    first[k][i] = !seen[c];
                    seen[c] = true;
                }
            }
        }
        return first;
    }();

    /// The variables of the expression, in plan order, and their entries.
    using variables = typename detail::variables_of<keys>::type;

    static constexpr std::size_t variable_count = variables::size;

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
};

}  // namespace ctgrad::ad
