/// @file
/// Variables (`var<"x">`) and their bindings (`x = 1.0`).
#pragma once

#include <cstddef>      // std::size_t
#include <type_traits>  // std::remove_cvref_t

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/ref.hpp>  // std::reference_wrapper
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/tensor/tensor.hpp>

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

/// Every argument after the function is a `name = value` binding. The entry points constrain
/// their binding pack with this rather than `binding_argument... B`, which clang++ checks as a
/// fold and refuses beyond 256 bindings.
template <class... T>
concept binding_arguments = detail::all_true_v<is_binding<std::remove_cvref_t<T>>::value...>;

namespace detail {

template <class V>
struct bindable : std::bool_constant<number<V>> {};

template <class T>
struct bindable<std::reference_wrapper<T>> : std::bool_constant<number<T>> {};

}  // namespace detail

/// Diagnostic type: instantiated (and left incomplete) when a tensor variable is bound to
/// something else than a tensor of its element type and shape.
template <class Kind, class Bound>
struct tensor_variable_bound_to_a_different_type;

namespace detail {

template <class Kind>
struct is_tensor_kind : std::false_type {};

template <class T, std::size_t... D>
struct is_tensor_kind<tensor<T, D...>> : std::true_type {};

/// Whether a value of type U can be bound to a variable of tensor kind Kind (by reference).
template <class Kind, class U>
struct binds_tensor : std::false_type {};

template <class T, std::size_t... D>
struct binds_tensor<tensor<T, D...>, tensor<T, D...>> : std::true_type {
    using view = tensor_view<const T, D...>;
};

template <class T, std::size_t... D>
struct binds_tensor<tensor<T, D...>, tensor_view<T, D...>> : std::true_type {
    using view = tensor_view<const T, D...>;
};

template <class T, std::size_t... D>
struct binds_tensor<tensor<T, D...>, tensor_view<const T, D...>> : std::true_type {
    using view = tensor_view<const T, D...>;
};

/// `W = std::ref(w)`: bound for reading and, by program::sgd_step, for updating in place.
template <class T, std::size_t... D>
struct binds_tensor<tensor<T, D...>, std::reference_wrapper<tensor<T, D...>>> : std::true_type {
    using view = tensor_view<T, D...>;
};

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

    /// Binds the variable for one call: `value(f, x = 1.0)`. A scalar variable accepts any
    /// number, or `std::ref`/`std::cref` of one; a tensor variable (`var<"X", tensor<float, 32,
    /// 100>>`) a `tensor` or `tensor_view` of exactly its element type and shape, which it
    /// binds by reference (nothing is copied, so the tensor must outlive the call).
    template <class V>
    constexpr auto operator=(V&& v) const {
        using U = std::remove_cvref_t<V>;
        if constexpr (detail::is_tensor_kind<Kind>::value) {
            if constexpr (detail::binds_tensor<Kind, U>::value) {
                using view = typename detail::binds_tensor<Kind, U>::view;
                if constexpr (requires { v.get(); }) {
                    return binding<Name, view>{view(v.get())};
                } else {
                    return binding<Name, view>{view(v)};
                }
            } else {
                static_assert(detail::binds_tensor<Kind, U>::value,
                              "ctgrad: a tensor variable can only be bound to a ctgrad::tensor "
                              "or ctgrad::tensor_view of exactly its element type and shape; "
                              "the variable's kind and the bound type are named in "
                              "'tensor_variable_bound_to_a_different_type<...>' below");
                static_cast<void>(sizeof(tensor_variable_bound_to_a_different_type<Kind, U>));
                return detail::spelled<Name, variable_bound_to_a_non_number>{};
            }
        } else if constexpr (detail::bindable<U>::value) {
            return binding<Name, U>{v};
        } else {
            static_assert(detail::bindable<U>::value,
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

/// A variable V carrying a role Tag in its type, for the code that reads a pack of tensors
/// (nn::state) and must know what a tensor holds beyond its kind: dropout's step counter
/// (ctgrad::dropout_counter) is an integer in its element's bits, which checkpoints and
/// parallel::mpi::average treat as such. A tagged variable binds (`v = std::ref(t)`) and indexes
/// packs (`state[v]`) as V does; expressions hold V itself (the op that declares the role
/// strips the tag), and packs list V (detail::untagged_t). The tag is the declaration's, not
/// the name's: a plain `var<"x.step", tensor<float, 1>>` has no role.
template <class V, class Tag>
struct tagged_variable : V {
    using variable_type = V;
    using tag = Tag;
    using V::operator=;
};

namespace detail {
/// V without its role tag (V itself for a plain variable).
template <class V>
struct untagged {
    using type = V;
};
template <class V, class Tag>
struct untagged<tagged_variable<V, Tag>> {
    using type = V;
};
template <class V>
using untagged_t = typename untagged<V>::type;

/// Whether V is a variable tagged with Tag, or with a tag derived from Tag (a role that implies
/// another: batch normalisation's scale is a batch-norm scale and starts at one).
template <class V, class Tag>
inline constexpr bool has_tag_v = false;
template <class V, class T, class Tag>
inline constexpr bool has_tag_v<tagged_variable<V, T>, Tag> = std::is_base_of_v<Tag, T>;
}  // namespace detail

}  // namespace ctgrad
