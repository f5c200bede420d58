/// @file
/// node<Op, Args...>: the one generic interior node of every expression.
#pragma once

#include <cstddef>  // std::size_t
#include <utility>  // std::move

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/constant.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/shape.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

namespace detail {

/// Storage of a node's arguments. A pure node (every leaf a variable or an exact literal) is
/// determined by its type, so it stores nothing and rebuilds its arguments on request: a DAG
/// of pure subexpressions (`auto d = c * c;` repeated) stays an empty object instead of
/// doubling in size at every level.
template <bool Pure, class... Args>
struct node_storage {
    boost::hana::basic_tuple<Args...> args;

    constexpr explicit node_storage(Args... a) : args(std::move(a)...) {}

    template <std::size_t I>
    constexpr const auto& child() const noexcept {
        return boost::hana::at_c<I>(args);
    }
};

template <class... Args>
struct node_storage<true, Args...> {
    constexpr node_storage() = default;

    constexpr explicit node_storage(Args...) {}

    template <std::size_t I>
    constexpr auto child() const noexcept {
        return ctgrad::detail::at_t<ctgrad::detail::type_list<Args...>, I>{};
    }
};

}  // namespace detail

/// An application of the op `Op` to the argument expressions `Args...`, held by value in flat
/// storage (no recursion on the argument count; a pure node holds nothing at all). Holding
/// children by value is what makes expressions lifetime-safe: an intermediate may be kept in
/// `auto`, returned from a helper or built from temporaries. The op is a stateless tag that
/// carries the mathematics (value, partials, symbolic derivative); see ops/.
template <class Op, class... Args>
struct node : detail::node_storage<(is_pure_v<Args> && ...), Args...> {
    using op = Op;
    static constexpr std::size_t arity = sizeof...(Args);

    using detail::node_storage<(is_pure_v<Args> && ...), Args...>::node_storage;
    using detail::node_storage<(is_pure_v<Args> && ...), Args...>::child;
};

/// Builds `node<Op, ...>` from operands, turning numbers into constants. The shapes of the
/// arguments are checked here (core/shape.hpp): a mismatch is a static_assert at the line
/// that builds the expression, naming the op and the shapes.
template <class Op, operand... A>
constexpr auto make_node(A... a) {
    using N = node<Op, decltype(as_expression(a))...>;
    static_cast<void>(sizeof(detail::shape_of_t<N>));
    return N(as_expression(std::move(a))...);
}

/// The type of the I-th argument of a node type.
namespace detail {
template <class Node>
struct args_of;

template <class Op, class... Args>
struct args_of<node<Op, Args...>> {
    using type = type_list<Args...>;
};
}  // namespace detail

/// (A type computation only: no member function of the node is instantiated, which clang
/// would do at a cost that grows with the size of the whole type.)
template <class Node, std::size_t I>
using child_t = detail::at_t<typename detail::args_of<std::remove_cvref_t<Node>>::type, I>;

}  // namespace ctgrad
