/// @file
/// to_string(e): an expression written out the way a person would type it, for
/// tables, error reports and tests.
#pragma once

#include <cstddef>  // std::size_t
#include <sstream>  // std::ostringstream
#include <string>   // std::string
#include <utility>  // std::index_sequence

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>

namespace ctgrad {
namespace detail {

template <class E>
constexpr int precedence_of() {
    if constexpr (is_node_v<E>) {
        if constexpr (requires { E::op::precedence; }) {
            return E::op::precedence;
        } else if constexpr (requires { E::op::prefix; }) {
            return 3;
        } else {
            return 4;  // function call
        }
    } else if constexpr (is_literal_v<E>) {
        return E::den == 1 && E::num >= 0 ? 4 : 2;  // "-2" and "1/2" bind like a product
    } else {
        return 4;
    }
}

template <class E>
std::string print(const E& e) {
    std::ostringstream out;
    if constexpr (is_variable_v<E>) {
        out << E::name.view();
    } else if constexpr (is_literal_v<E>) {
        out << E::num;
        if constexpr (E::den != 1) {
            out << '/' << E::den;
        }
    } else if constexpr (is_exact_constant_v<E>) {
        out << E::template as<double>();
    } else if constexpr (is_constant_v<E>) {
        out << e.value;
    } else {
        using op = typename E::op;
        auto arg = [&]<std::size_t I>(std::integral_constant<std::size_t, I>, int min_prec) {
            using C = child_t<E, I>;
            std::string s = print(e.template child<I>());
            return precedence_of<C>() < min_prec ? "(" + s + ")" : s;
        };
        if constexpr (requires { op::infix; }) {
            // Left-associative: the right operand is parenthesised at equal precedence, so
            // a - (b - c) and a / (b * c) keep their parentheses.
            out << arg(std::integral_constant<std::size_t, 0>{}, op::precedence) << ' ' << op::infix
                << ' ' << arg(std::integral_constant<std::size_t, 1>{}, op::precedence + 1);
        } else if constexpr (requires { op::prefix; }) {
            // An operand that itself starts with a minus sign (-x, a negative number) is
            // parenthesised: -(-x), not --x.
            std::string operand = arg(std::integral_constant<std::size_t, 0>{}, 3);
            out << op::prefix << (operand.starts_with('-') ? "(" + operand + ")" : operand);
        } else {
            out << op::name << '(';
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((out << (I == 0 ? "" : ", ") << print(e.template child<I>())), ...);
            }
            (std::make_index_sequence<E::arity>{});
            out << ')';
        }
    }
    return out.str();
}

}  // namespace detail

/// The expression as text: `to_string(sigmoid(2.0 * x + exp(y)) * x)` is
/// "sigmoid(2 * x + exp(y)) * x". Run-time constants print with the stream's default
/// precision; exact literals print exactly ("1/2").
template <expression E>
std::string to_string(const E& e) {
    return detail::print(e);
}

}  // namespace ctgrad
