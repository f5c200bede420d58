/// @file
/// node<Op, Args...>: the one generic interior node of every expression.
#pragma once

#include <array>    // std::array
#include <cstddef>  // std::size_t
#include <utility>  // std::move, std::index_sequence

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/constant.hpp>
#include <ctgrad/core/fragment.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/shape.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

namespace detail {

// --- the run-time constants of an expression, flat ---

/// The types of the run-time constants of expression E, in depth-first order of its leaves:
/// `constant<T>` holds one, a node the constants of its arguments in order, variables and
/// literals none.
template <class E>
struct constants_of {
    using type = type_list<>;
};

template <class T>
struct constants_of<constant<T>> {
    using type = type_list<T>;
};

template <class E>
requires is_node<E>::value struct constants_of<E> {
    using type = typename E::constant_types;
};

/// Where the constants of E are read: a node's are its member (no class per node), a leaf's
/// constants_of<E>.
template <bool Node>
struct constants_reader {
    template <class E>
    using type = typename constants_of<E>::type;
};

template <>
struct constants_reader<true> {
    template <class E>
    using type = typename E::constant_types;
};

template <class E>
using constants_of_t = typename constants_reader<is_node<E>::value>::template type<E>;

template <class List>
struct flat_storage;

template <class... T>
struct flat_storage<type_list<T...>> {
    using type = boost::hana::basic_tuple<T...>;
};

/// The K-th run-time constant of expression e (a `constant` is its own 0-th).
template <std::size_t K, class E>
constexpr const auto& constant_at(const E& e) noexcept {
    if constexpr (is_constant_v<E>) {
        return e.value;
    } else {
        return boost::hana::at_c<K>(e.constants);
    }
}

/// Where the G-th constant of a node comes from: argument `arg`, its constant `at`.
struct constant_source {
    std::size_t arg = 0;
    std::size_t at = 0;
};

// Functions of sizes only (see core/fragment.hpp on names).
template <std::size_t Total, std::size_t K>
constexpr std::array<constant_source, Total> constant_layout(const std::array<std::size_t, K>& n) {
    std::array<constant_source, Total> f{};
    std::size_t g = 0;
    for (std::size_t a = 0; a < K; ++a) {
        for (std::size_t k = 0; k < n[a]; ++k) f[g++] = {a, k};
    }
    return f;
}

template <std::size_t K>
constexpr std::array<std::size_t, K> constant_offsets(const std::array<std::size_t, K>& n) {
    std::array<std::size_t, K> o{};
    for (std::size_t a = 1; a < K; ++a) o[a] = o[a - 1] + n[a - 1];
    return o;
}

template <class... Args>
struct constant_sources {
    static constexpr std::array<std::size_t, sizeof...(Args)> counts{constants_of_t<Args>::size...};
    static constexpr std::size_t total = (std::size_t{0} + ... + constants_of_t<Args>::size);
    static constexpr std::array<constant_source, total> from =
        constant_layout<total, sizeof...(Args)>(counts);
    /// The position of each argument's first constant among the node's.
    static constexpr std::array<std::size_t, sizeof...(Args)> offset = constant_offsets(counts);
};

/// The I-th of the arguments.
template <std::size_t I, class First, class... Rest>
constexpr const auto& pick(const First& first, const Rest&... rest) noexcept {
    if constexpr (I == 0) {
        return first;
    } else {
        return pick<I - 1>(rest...);
    }
}

/// The flat constants of a node (Storage) from its arguments: constant `Src::from[G]` of each.
template <class Storage, class Src, std::size_t... G, class... A>
constexpr Storage flatten_constants(std::index_sequence<G...>, const A&... a) {
    return Storage{constant_at<Src::from[G].at>(pick<Src::from[G].arg>(a...))...};
}

/// Constructs an expression of type E from the constants `src[Offset...]` (a node's flat
/// storage), the inverse of flattening: how a node hands out an impure argument.
template <class E, std::size_t Offset, class Tuple, std::size_t... K>
constexpr E rebuild_node(const Tuple& src, std::index_sequence<K...>) {
    using storage = typename flat_storage<typename E::constant_types>::type;
    // node_c's base node_base, whose elements are its base node_facts and its constants.
    return E{{{}, storage{boost::hana::at_c<Offset + K>(src)...}}};
}

template <class E, std::size_t Offset, class Tuple>
constexpr E rebuild(const Tuple& src) {
    if constexpr (is_constant_v<E>) {
        return E{boost::hana::at_c<Offset>(src)};
    } else if constexpr (is_pure_v<E>) {
        return E{};
    } else {
        return rebuild_node<E, Offset>(src, std::make_index_sequence<E::constant_types::size>{});
    }
}

}  // namespace detail

/// What a node is and holds; `node_c<Op, Key>` (the node type, see node in core/fwd.hpp) derives
/// from `node_base<node_c<Op, Key>, Op, type_list<Args...>>`. A node stores only the run-time constants
/// of its subexpressions, flat, in depth-first order (`constants`): a pure node (every leaf a
/// variable or an exact literal) stores nothing, as its type determines it; an impure one holds
/// each number once per occurrence, and reads any of them in constant time, at any depth. Its
/// arguments are rebuilt from its type and those numbers on request (`child<I>()`). Holding the
/// numbers by value is what makes expressions lifetime-safe: an intermediate may be kept in
/// `auto`, returned from a helper or built from temporaries. The op is a stateless tag that
/// carries the mathematics (value, partials, symbolic derivative); see ops/.
/// The facts of a node that are numbers, in a base named after them alone (a static member of
/// node_base would be a variable named after the node's whole type, one per node).
template <std::size_t Arity, bool Pure>
struct node_facts {
    static constexpr std::size_t arity = Arity;
    /// Every leaf is a variable or an exact literal (see is_pure).
    static constexpr bool pure = Pure;
    /// The same, as types.
    using arity_c = std::integral_constant<std::size_t, Arity>;
    using pure_c = std::bool_constant<Pure>;
};

/// (`List` is a pointer to the argument list, as `args_of(Key)` returns it: matching the
/// pointer here names no class per node to strip it.)
template <class Self, class Op, class List>
struct node_base;

template <class Self, class Op, class... Args>
struct node_base<Self, Op, detail::type_list<Args...>*>
    : node_facts<sizeof...(Args), (detail::frag_of<Args>.self.pure && ...)> {
    using ctgrad_node_tag = void;
    using op = Op;
    /// The argument types, in order.
    using args = detail::type_list<Args...>;
    /// The node's shape (core/shape.hpp: its op's rule on its arguments' shapes; a mismatch is a
    /// static_assert when the node is built). A member, read by shape_of_t, not a class per node.
    using ctgrad_shape_t = typename detail::node_shape<Op, detail::shape_of_t<Args>...>::type;

    // --- the node's plan fragment (core/fragment.hpp), computed once, when make_node builds
    // the node: static members of the node, not classes of their own (each class or distinct
    // constexpr call costs the compilers memory per node) ---

    /// An argument was refused for exploding copies (see make_node): this node is refused too.
    static constexpr bool ctgrad_args_refused = (detail::frag_of<Args>.refused || ...);
    /// The entry this node is in plans (its type's hash binds the hash back to the type).
    static constexpr detail::entry_ref ctgrad_self{
        detail::type_bind<detail::entry_hash<Self>, Self>::hash,
        (detail::frag_of<Args>.self.pure && ...)};
    static constexpr detail::frag_shape ctgrad_shape =
        detail::shape_of_node<sizeof...(Args)>({&detail::frag_of<Args>...}, ctgrad_args_refused);
    /// What the node adds to its first argument's lists.
    static constexpr detail::frag_store<ctgrad_shape.cap, ctgrad_shape.filter> ctgrad_store =
        detail::merge_node<ctgrad_shape.cap, ctgrad_shape.filter, sizeof...(Args)>(
            {&detail::frag_of<Args>...}, ctgrad_self, ctgrad_args_refused);
    /// The fragment's facts (read through detail::frag_of / detail::fragment).
    static constexpr detail::frag_info ctgrad_info =
        detail::node_info<ctgrad_shape.cap, ctgrad_shape.filter, sizeof...(Args)>(
            {&detail::frag_of<Args>...}, ctgrad_store, ctgrad_self, ctgrad_args_refused);

    /// The types of the run-time constants, in depth-first order (none above an expression
    /// refused for exploding copies: it is diagnosed, and carrying its numbers on would only
    /// make the compiler's work explode with them).
    using constant_types = std::conditional_t<ctgrad_args_refused, detail::type_list<>,
                                              detail::concat_t<detail::constants_of_t<Args>...>>;

    // No default member initializer and no constructor: a node is an aggregate, built by
    // make_node (`N{{{}, constants}}`, or `N{}` for a pure node, which holds nothing) and rebuilt
    // by detail::rebuild. A constructor is a member declared for every node type even where
    // unused (a pure node uses none): g++ spent ~9% of a 256-step chain's memory on them.
    [[no_unique_address]] typename detail::flat_storage<constant_types>::type constants;

    /// The I-th argument (rebuilt: a copy).
    template <std::size_t I>
    constexpr auto child() const {
        using C = detail::at_t<args, I>;
        return detail::rebuild<C, detail::constant_sources<Args...>::offset[I]>(constants);
    }
};

/// The node type: an application of the op `Op` to the argument list that `Key` stands for
/// (`node<Op, Args...>` in code; see core/fwd.hpp and detail/args_key.hpp).
template <class Op, class Key>
struct node_c : node_base<node_c<Op, Key>, Op, decltype(args_of(Key{}))> {};

namespace detail {

/// The expression type of an operand (an alias through one of two classes: `decltype(
/// as_expression(a))` would instantiate a function named after the operand's type, a class per
/// operand type a class per node).
template <bool Expression>
struct as_expression_reader {
    template <class A>
    using type = A;
};

template <>
struct as_expression_reader<false> {
    template <class A>
    using type = constant<A>;
};

template <class A>
using as_expression_t = typename as_expression_reader<expression<A>>::template type<A>;

}  // namespace detail

/// Builds `node<Op, ...>` from operands, turning numbers into constants. The shapes of the
/// arguments are checked here (core/shape.hpp): a mismatch is a static_assert at the line
/// that builds the expression, naming the op and the shapes.
template <class Op, operand... A>
constexpr auto make_node(A... a) {
    using N = node<Op, detail::as_expression_t<A>...>;
    // Completing N computes its shape (a mismatch is a static_assert here) and its plan
    // fragment, now that its arguments' exist (core/node_base, core/fragment.hpp).
    if constexpr (N::ctgrad_info.refused && !N::ctgrad_args_refused) {
        constexpr bool plan_explodes = N::ctgrad_info.refused;
        static_assert(!plan_explodes,
                      "ctgrad: this expression copies a subexpression that holds a run-time "
                      "number (a double or float written in the expression) so often that its "
                      "plan has grown past 1024 entries, more than 8 times its distinct "
                      "subexpressions: each use of an `auto` subexpression is a copy, and "
                      "copies that hold numbers cannot be merged (their numbers may differ). "
                      "Write the number as an exact literal (0.5_c, 2_c) or as a variable bound "
                      "at the call (var<\"c\"> ... c = 0.5); then every use is shared. (Pieces "
                      "of one type built one by one, each with its own number, as a template "
                      "that sums 1024 terms c[i]*x does, count the same way: pass such numbers "
                      "in a tensor.) See "
                      "docs/errors.md. (The op and its arguments are named in "
                      "'subexpression_holding_a_number_is_reused<...>' below.)");
        static_cast<void>(sizeof(subexpression_holding_a_number_is_reused<Op, N::ctgrad_info.size,
                                                                          N::ctgrad_info.dsize>));
    }
    if constexpr (N::pure_c::value) {
        // Value-initialisation of a trivial class: no constructor named after N is instantiated.
        return N{};
    } else {
        using storage = typename detail::flat_storage<typename N::constant_types>::type;
        return N{
            {{},
             detail::flatten_constants<storage,
                                       detail::constant_sources<detail::as_expression_t<A>...>>(
                 std::make_index_sequence<N::constant_types::size>{},
                 as_expression(static_cast<A&&>(a))...)}};
    }
}

/// The type of the I-th argument of a node type (a type computation only: no member function
/// of the node is instantiated).
template <class Node, std::size_t I>
using child_t = detail::at_t<typename std::remove_cvref_t<Node>::args, I>;

}  // namespace ctgrad
