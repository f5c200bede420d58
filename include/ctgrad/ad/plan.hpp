/// @file
/// The plan of an expression type: its unique subexpressions in topological order,
/// computed at compile time, with the tables the sweeps index into (children, which
/// subexpressions carry a derivative, which contribution assigns an adjoint first).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::conditional_t, std::remove_cvref_t
#include <utility>      // std::index_sequence

#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad::ad {

/// The position of a subexpression inside the root expression: child indices from the root.
template <std::size_t... I>
struct path {};

/// Stands for the path of a pure subexpression: its type alone identifies its value.
struct no_path {};

/// The key of an impure subexpression: its type and where it stands. Two occurrences of one
/// impure type (`x * 2.0` and `x * 3.0`) are different entries of the plan.
template <class E, class Path>
struct occurrence {};

namespace detail {

template <class Path, std::size_t I>
struct extend {
    using type = no_path;
};

template <std::size_t... J, std::size_t I>
struct extend<path<J...>, I> {
    using type = path<J..., I>;
};

/// The path a child of an expression at `Path` is collected with (no_path when it is pure,
/// so that a pure subexpression is collected once whatever its position).
template <class Child, class Path, std::size_t I>
using child_path_t = std::conditional_t<is_pure_v<Child>, no_path, typename extend<Path, I>::type>;

template <class E, class Path>
using key_t = std::conditional_t<is_pure_v<E>, E, occurrence<E, Path>>;

template <class K>
struct key_traits {
    using expr = K;
    using path = no_path;
};

template <class E, class Path>
struct key_traits<occurrence<E, Path>> {
    using expr = E;
    using path = Path;
};

/// The unique keys of the subexpressions of E (at Path), children before parents.
/// Pure subexpressions are collected without a path, so the compiler memoises them per type
/// and a subexpression used many times (a DAG) costs one instantiation, not one per use.
template <class E, class Path>
struct collect {
    using type = ctgrad::detail::type_list<key_t<E, Path>>;
};

template <class Op, class... A, class Path>
struct collect<node<Op, A...>, Path> {
    template <std::size_t... I>
    static auto merge(std::index_sequence<I...>)
        -> ctgrad::detail::merge_unique_t<typename collect<A, child_path_t<A, Path, I>>::type...,
                                          ctgrad::detail::type_list<key_t<node<Op, A...>, Path>>>;

    using type = decltype(merge(std::index_sequence_for<A...>{}));
};

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

template <class Op, class... A>
struct arity_of<node<Op, A...>> : std::integral_constant<std::size_t, sizeof...(A)> {};

template <class E>
constexpr bool differentiable() {
    if constexpr (is_node_v<E>) {
        return !locally_constant<typename E::op>();
    } else {
        return false;
    }
}

template <class Keys, std::size_t J>
using expr_at = typename key_traits<ctgrad::detail::at_t<Keys, J>>::expr;

template <class Keys, std::size_t J>
using path_at = typename key_traits<ctgrad::detail::at_t<Keys, J>>::path;

template <class Keys, std::size_t J, std::size_t I>
using child_key = key_t<child_t<expr_at<Keys, J>, I>,
                        child_path_t<child_t<expr_at<Keys, J>, I>, path_at<Keys, J>, I>>;

template <class Keys, std::size_t MaxArity, std::size_t J,
          class Seq = std::make_index_sequence<arity_of<expr_at<Keys, J>>::value>>
struct children_of;

template <class Keys, std::size_t MaxArity, std::size_t J, std::size_t... I>
struct children_of<Keys, MaxArity, J, std::index_sequence<I...>> {
    static constexpr std::array<std::size_t, MaxArity> value{
        ctgrad::detail::index_of_v<Keys, child_key<Keys, J, I>>...};
};

template <class Keys>
struct variables_of;

template <class... K>
struct variables_of<ctgrad::detail::type_list<K...>> {
    struct mask {
        static constexpr std::array<bool, sizeof...(K)> value{is_variable_v<K>...};
    };
    using type = ctgrad::detail::filter_t<ctgrad::detail::type_list<K...>, mask>;
};

}  // namespace detail

/// The evaluation plan of the expression type Root (cv-ref qualifiers ignored).
template <class Root>
struct plan {
    using root = std::remove_cvref_t<Root>;
    using root_path = std::conditional_t<is_pure_v<root>, no_path, path<>>;
    using keys = typename detail::collect<root, root_path>::type;

    static constexpr std::size_t size = keys::size;

    template <std::size_t J>
    using key = ctgrad::detail::at_t<keys, J>;

    /// The expression type of entry J.
    template <std::size_t J>
    using expr = detail::expr_at<keys, J>;

    /// The path of entry J (no_path for a pure entry).
    template <std::size_t J>
    using path_of = detail::path_at<keys, J>;

    template <std::size_t J>
    static constexpr std::size_t arity = detail::arity_of<expr<J>>::value;

    static constexpr std::size_t max_arity = [] {
        std::size_t m = 1;
        ctgrad::detail::static_for_chunks<size>([&]<std::size_t... J>(std::index_sequence<J...>) {
            ((m = arity<J> > m ? arity<J> : m), ...);
        });
        return m;
    }();

public:
    /// child[J][I]: the entry of the I-th argument of entry J.
    static constexpr std::array<std::array<std::size_t, max_arity>, size> child =
        []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<std::array<std::size_t, max_arity>, size>{
            detail::children_of<keys, max_arity, J>::value...};
    }
    (std::make_index_sequence<size>{});

    struct entry_facts {
        std::array<std::size_t, size> arity;
        std::array<bool, size> is_variable;
        std::array<bool, size> differentiable;  // a node whose op has partials
    };

    static constexpr entry_facts facts = []<std::size_t... J>(std::index_sequence<J...>) {
        return entry_facts{
            {arity<J>...}, {is_variable_v<expr<J>>...}, {detail::differentiable<expr<J>>()...}};
    }
    (std::make_index_sequence<size>{});

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
