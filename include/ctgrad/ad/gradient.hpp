/// @file
/// value(f, bindings...) and gradient(f, bindings...): the public entry points of the
/// fused sweeps.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::index_sequence

#include <ctgrad/ad/plan.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/shape.hpp>

namespace ctgrad {

/// The value of an expression and its partial derivatives with respect to each of its
/// variables: `g.value`, `g[x]`. Asking for a variable the expression does not contain gives
/// 0 (the expression does not depend on it).
template <class S, class Variables>
struct gradient_result {
    using scalar_type = S;
    using variables = Variables;

    S value{};
    std::array<S, Variables::size> partials{};

    /// ∂f/∂x for the variable x (0 when f does not contain x).
    template <fixed_string Name, class Kind>
    constexpr S operator[](variable<Name, Kind>) const {
        if constexpr (detail::in_list<Variables, variable<Name, Kind>>) {
            return partials[detail::index_of_v<Variables, variable<Name, Kind>>];
        } else {
            return S(0);
        }
    }

    /// Number of variables of the expression.
    static constexpr std::size_t size() noexcept { return Variables::size; }
};

namespace detail {

// The checks of one call of value/gradient/hessian. `ok` is computed without diagnostics; when
// it is false the entry point calls diagnose(), whose static_assert names the variable, and
// returns a placeholder of the usual type, so that the user's code after the call does not add
// errors of its own to the one that matters.
template <class E, class... B>
struct call {
    /// An expression refused when it was built (core/fragment.hpp) was diagnosed there; its
    /// plan is not built (its tables would not be well-formed and add errors of their own): the
    /// entry points see the plan of a constant instead, with no variables, as a placeholder.
    static constexpr bool refused = fragment<std::remove_cvref_t<E>>::refused_c::value;
    using plan = ad::plan<std::conditional_t<refused, constant<double>, std::remove_cvref_t<E>>>;
    using set = binding_set<std::remove_cvref_t<B>...>;
    static constexpr bool unique = no_duplicates_v<std::remove_cvref_t<B>...>;
    static constexpr bool ok = unique && !refused && ad::detail::all_bound_quietly<plan, set>();

    static constexpr void diagnose() {
        if constexpr (refused) {
            return;
        } else if constexpr (!unique) {
            static_cast<void>(check_no_duplicates<std::remove_cvref_t<B>...>());
        } else {
            static_cast<void>(ad::detail::all_bound<plan, set>());
        }
    }
};

template <class S, class E, class... B>
constexpr auto gradient_as(const E& f, const B&... b) {
    using c = call<E, B...>;
    using plan = typename c::plan;
    // the bound numbers read from the bindings themselves (no binding_set object: its tuple
    // would instantiate a constructor and two readers per binding)
    const auto v =
        ad::forward_bound<plan, S>(f, ad::detail::bound_values_of<plan, S, typename c::set>(b...));
    const auto a = ad::reverse<plan, S>(v);
    // A pack, not a loop: every index is a constant, so the compiler keeps v and a in registers
    // (GCC's scalar replacement gives up on an array read at a loop index).
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return gradient_result<S, typename plan::variables>{v[plan::size - 1],
                                                            {a[plan::variable_entry[I]]...}};
    }
    (std::make_index_sequence<plan::variable_count>{});
}

}  // namespace detail

/// The value of `f` with its variables bound: `value(f, x = 1.0, y = 0.5)`. Runs the forward
/// sweep only. Every variable of f must be bound, once; extra bindings are ignored. The
/// result has the common type of the bound numbers and run-time constants (see ad::scalar_t)
/// and equals, bit for bit, the same formula evaluated on plain numbers in the same order.
/// For an expression over tensors the result is a number for a scalar expression and a
/// `tensor` of the expression's shape otherwise, in the tensors' element type.
template <expression E, class... B>
    requires binding_arguments<B...>
constexpr auto value(const E& f, const B&... b) {
    using c = detail::call<E, B...>;
    if constexpr (!c::ok) {
        c::diagnose();
        return 0.0;
    } else if constexpr (tensor_ad::involves_tensors<typename c::plan>()) {
        using sched = tensor_ad::schedule_for<typename c::plan, all_variables, false>;
        const typename c::set set(b...);
        return tensor_ad::value_of<sched>(f, set);
    } else {
        using S = ad::scalar_t<typename c::plan, typename c::set>;
        return ad::forward_bound<typename c::plan, S>(
            f, ad::detail::bound_values_of<typename c::plan, S, typename c::set>(
                   b...))[c::plan::size - 1];
    }
}

namespace detail {

template <class E, class Wrt, class... B>
constexpr auto gradient_impl(const E& f, const B&... b) {
    using c = call<E, B...>;
    using shape = shape_of_t<std::remove_cvref_t<E>>;
    if constexpr (!c::ok) {
        c::diagnose();
        return gradient_result<double, typename c::plan::variables>{};
    } else if constexpr (shape::rank != 0) {
        static_assert(shape::rank == 0,
                      "ctgrad::gradient: the expression must be a scalar; reduce a tensor "
                      "expression with sum(...), mean(...) or a loss first");
        return gradient_result<double, typename c::plan::variables>{};
    } else if constexpr (tensor_ad::involves_tensors<typename c::plan>()) {
        using sched = tensor_ad::schedule_for<typename c::plan, Wrt, true>;
        const typename c::set set(b...);
        return tensor_ad::gradient_of<sched>(f, set);
    } else {
        return gradient_as<ad::scalar_t<typename c::plan, typename c::set>>(f, b...);
    }
}

}  // namespace detail

/// The value and every partial derivative of `f` in one forward and one reverse sweep:
/// `auto g = gradient(f, x = 1.0, y = 0.5); g.value; g[x]; g[y];`. For an expression over
/// tensors (which must be a scalar, e.g. a loss), `g[W]` is a tensor of W's shape.
template <expression E, class... B>
    requires binding_arguments<B...>
constexpr auto gradient(const E& f, const B&... b) {
    return detail::gradient_impl<E, all_variables>(f, b...);
}

/// The gradient with respect to the listed variables only: `gradient(loss, wrt(W1, b1, W2,
/// b2), X = x, Y = y, W1 = w1, ...)`. The others (data, targets) are bound but get no adjoint,
/// and the backward pass does no work for them (no input gradient of the first layer).
template <expression E, class... V, class... B>
    requires binding_arguments<B...>
constexpr auto gradient(const E& f, wrt_t<V...>, const B&... b) {
    return detail::gradient_impl<E, wrt_t<V...>>(f, b...);
}

}  // namespace ctgrad
