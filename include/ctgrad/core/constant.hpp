/// @file
/// Run-time constants: a number that appears in an expression (`2.0 * x`).
#pragma once

#include <utility>  // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>

namespace ctgrad {

/// A number held by value inside an expression. Its value is not part of the type, so
/// an expression holding one is never merged with another of the same type (see is_pure).
/// Its partial derivative is zero and the sweeps skip it.
template <class T>
struct constant {
    T value;
};

/// An operand as an expression: expressions pass through, numbers become constants.
template <operand T>
constexpr auto as_expression(T t) {
    if constexpr (expression<T>) {
        return t;
    } else {
        return constant<T>{t};
    }
}

}  // namespace ctgrad
