/// @file
/// Variables (`var<"x">`) and their bindings (`x = 1.0`).
#pragma once

#include <functional>   // std::reference_wrapper
#include <type_traits>  // std::remove_cvref_t

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/fixed_string.hpp>

namespace ctgrad {

/// A variable bound to a value for one call of value/gradient/hessian: `x = 1.0` holds the
/// number, `x = std::cref(v)` holds a reference to `v`. Never heap memory.
template <fixed_string Name, class V>
struct binding {
    static constexpr auto name = Name;
    V held;

    /// The bound number (through the reference when a reference is bound).
    constexpr decltype(auto) get() const noexcept {
        if constexpr (requires { held.get(); }) {
            return held.get();
        } else {
            return (held);
        }
    }
};

template <class T>
struct is_binding : std::false_type {};

template <fixed_string Name, class V>
struct is_binding<binding<Name, V>> : std::true_type {};

/// A `name = value` argument of value/gradient/hessian.
template <class T>
concept binding_argument = is_binding<std::remove_cvref_t<T>>::value;

namespace detail {

template <class V>
struct bindable : std::bool_constant<number<V>> {};

template <class T>
struct bindable<std::reference_wrapper<T>> : std::bool_constant<number<T>> {};

}  // namespace detail

/// Diagnostic type: instantiated (and left incomplete) when a variable is bound to something
/// that is not a number; its arguments spell the variable's name.
template <char... Name>
struct variable_bound_to_a_non_number;

/// A scalar variable named `Name`. Empty: all it carries is its name, in its type.
template <fixed_string Name, class Kind>
struct variable {
    static constexpr auto name = Name;
    using kind = Kind;

    /// Binds the variable for one call: `value(f, x = 1.0)`. Accepts any number, or
    /// `std::ref`/`std::cref` of one.
    template <class V>
    constexpr auto operator=(V v) const {
        if constexpr (detail::bindable<V>::value) {
            return binding<Name, V>{v};
        } else {
            static_assert(detail::bindable<V>::value,
                          "ctgrad: a variable can only be bound to a number (int, float, double, "
                          "long double) or to std::ref/std::cref of one; the variable is named "
                          "in 'variable_bound_to_a_non_number<...>' below");
            return detail::spelled<Name, variable_bound_to_a_non_number>{};
        }
    }
};

/// The variable named `Name`: `constexpr auto x = ctgrad::var<"x">;`.
template <fixed_string Name, class Kind = scalar_kind>
inline constexpr variable<Name, Kind> var{};

}  // namespace ctgrad
