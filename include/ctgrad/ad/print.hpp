/// @file
/// to_string(e): an expression written out the way a person would type it, for
/// tables, error reports and tests.
#pragma once

#include <cstddef>      // std::size_t
#include <cstdio>       // std::snprintf
#include <string>       // std::string, std::to_string
#include <type_traits>  // std::is_same_v, std::is_integral_v
#include <utility>      // std::index_sequence

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

/// A number as a default-formatted std::ostream writes it (integers in decimal, characters as
/// themselves, floating point as printf's %g: six significant digits), without <sstream> (the
/// streams cost every user of <ctgrad/ctgrad.hpp> about 3% of the headers' compile time).
template <class T>
std::string number_text(T t) {
    if constexpr (std::is_same_v<T, bool>) {
        return t ? "1" : "0";
    } else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
                         std::is_same_v<T, unsigned char>) {
        return std::string(1, static_cast<char>(t));
    } else if constexpr (std::is_integral_v<T>) {
        return std::to_string(t);
    } else {
        char buf[48];
        if constexpr (std::is_same_v<T, long double>) {
            std::snprintf(buf, sizeof buf, "%Lg", t);
        } else {
            std::snprintf(buf, sizeof buf, "%g", static_cast<double>(t));
        }
        return buf;
    }
}

template <class E>
std::string print(const E& e) {
    std::string out;
    if constexpr (is_variable_v<E>) {
        out += E::name.view();
    } else if constexpr (is_literal_v<E>) {
        out += number_text(E::num);
        if constexpr (E::den != 1) {
            out += '/';
            out += number_text(E::den);
        }
    } else if constexpr (is_exact_constant_v<E>) {
        out += number_text(E::template as<double>());
    } else if constexpr (is_constant_v<E>) {
        out += number_text(e.value);
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
            out += arg(std::integral_constant<std::size_t, 0>{}, op::precedence);
            out += ' ';
            out += op::infix;
            out += ' ';
            out += arg(std::integral_constant<std::size_t, 1>{}, op::precedence + 1);
        } else if constexpr (requires { op::prefix; }) {
            // An operand that itself starts with a minus sign (-x, a negative number) is
            // parenthesised: -(-x), not --x.
            std::string operand = arg(std::integral_constant<std::size_t, 0>{}, 3);
            out += op::prefix;
            out += operand.starts_with('-') ? "(" + operand + ")" : operand;
        } else {
            out += op::name;
            out += '(';
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((out += (I == 0 ? "" : ", "), out += print(e.template child<I>())), ...);
            }
            (std::make_index_sequence<E::arity>{});
            out += ')';
        }
    }
    return out;
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
