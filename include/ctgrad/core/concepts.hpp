/// @file
/// The concepts that constrain ctgrad's public templates.
#pragma once

#include <type_traits>  // std::is_arithmetic_v, std::remove_cvref_t

#include <ctgrad/core/fwd.hpp>

namespace ctgrad {

/// A ctgrad expression: a variable, an exact literal, a run-time constant or an op node.
template <class T>
concept expression = is_expression_v<std::remove_cvref_t<T>>;

/// A plain number that may appear wherever an expression can (`2 * x`, `x + 1.5`): any
/// arithmetic type except `bool` and the character types, which are rarely meant as numbers.
template <class T>
concept number =
    std::is_arithmetic_v<std::remove_cvref_t<T>> && !std::is_same_v<std::remove_cvref_t<T>, bool> &&
    !std::is_same_v<std::remove_cvref_t<T>, char> &&
    !std::is_same_v<std::remove_cvref_t<T>, signed char> &&
    !std::is_same_v<std::remove_cvref_t<T>, unsigned char> &&
    !std::is_same_v<std::remove_cvref_t<T>, wchar_t> &&
    !std::is_same_v<std::remove_cvref_t<T>, char8_t> &&
    !std::is_same_v<std::remove_cvref_t<T>, char16_t> &&
    !std::is_same_v<std::remove_cvref_t<T>, char32_t>;

/// Something an op accepts as an argument: an expression or a number.
template <class T>
concept operand = expression<T> || number<T>;

/// Arguments of an operator overload: operands, at least one of which is an expression, so
/// the overloads never capture `double + double` or unrelated user types.
template <class... T>
concept expression_operands = (operand<T> && ...) && (expression<T> || ...);

}  // namespace ctgrad
