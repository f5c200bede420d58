/// @file
/// d(f, x): the symbolic derivative of an expression, itself an expression, so that
/// d(d(f, x), y) works and derivatives can be evaluated, differentiated or printed.
#pragma once

#include <cstddef>      // std::size_t
#include <type_traits>  // std::is_same_v
#include <utility>      // std::index_sequence, std::move

#include <ctgrad/ad/symbolic/simplify.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad {
namespace detail {

/// A term of a sum being folded with the simplifying addition (a fold over `+`).
template <class E>
struct summand {
    E e;
};

template <class E>
summand(E) -> summand<E>;

template <class A, class B>
constexpr auto operator+(summand<A> a, summand<B> b) {
    auto s = ops::add_op::simplify(std::move(a.e), std::move(b.e));
    return summand<decltype(s)>{std::move(s)};
}

template <class E, class X>
constexpr auto derivative(const E& e, X x);

/// (∂op/∂arg_J) * d(arg_J)/dx for the node e, or the literal 0 when d(arg_J)/dx is 0.
template <std::size_t J, class E, class X, std::size_t... I>
constexpr auto chain_term(const E& e, X x, std::index_sequence<I...>) {
    auto inner = derivative(e.template child<J>(), x);
    if constexpr (is_literal_equal_v<decltype(inner), 0>) {
        return lit<0>;
    } else {
        return ops::mul_op::simplify(
            simplify(E::op::derivative(arg<J>, e, e.template child<I>()...)), std::move(inner));
    }
}

template <class E, class X>
constexpr auto derivative(const E& e, X x) {
    if constexpr (is_variable_v<E>) {
        if constexpr (std::is_same_v<E, X>) {
            return lit<1>;
        } else {
            return lit<0>;
        }
    } else if constexpr (!is_node_v<E>) {
        return lit<0>;  // literals and run-time constants
    } else if constexpr (requires { E::op::locally_constant; }) {
        return lit<0>;  // piecewise-constant ops: derivative 0 wherever it exists
    } else {
        // The chain rule, summed over the arguments (fan-out adds up).
        using args = std::make_index_sequence<E::arity>;
        return [&]<std::size_t... J>(std::index_sequence<J...>) {
            return (summand<literal<0>>{} + ... + summand{chain_term<J>(e, x, args{})}).e;
        }
        (args{});
    }
}

}  // namespace detail

/// The symbolic derivative ∂f/∂x as an expression, simplified (literal folding, 0*e = 0,
/// 1*e = e, e + 0 = e, e + e = 2*e, ...): `d(x * y, x)` has the type of `y`, and
/// `d(3_c * x * x, x)` is `6_c * x`. The derivative with respect to a variable f does not
/// contain is the literal 0. Subgradients follow the library's conventions (relu'(0) = 0,
/// abs'(0) = 0, max/min ties to the first argument), expressed with indicator ops.
template <expression E, fixed_string Name, class Kind>
constexpr auto d(const E& f, variable<Name, Kind> x) {
    return detail::derivative(f, x);
}

}  // namespace ctgrad
