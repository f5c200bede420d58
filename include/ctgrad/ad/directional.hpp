/// @file
/// Directional derivatives: jvp(f, along(x = 1.0, y = 0.0), bindings...) (forward mode: the
/// derivative of f along a direction) and hvp(f, along(...), bindings...) (forward-over-reverse:
/// the Hessian times the direction), both one sweep on numbers that carry one tangent.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::remove_cvref_t

#include <ctgrad/ad/dual_sweep.hpp>
#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when `along(...)` names a variable that
/// the call does not bind; its arguments spell the variable's name.
template <char... Name>
struct direction_names_an_unbound_variable;

/// A direction in the space of the variables: `along(x = 1.0, y = 0.0)`. A variable not named
/// has the component 0.
template <class... B>
struct direction {
    detail::binding_set<B...> set;
};

/// The direction whose component for each named variable is its number:
/// `along(x = 1.0, y = 0.5)`. Each variable at most once.
template <class... B>
    requires binding_arguments<B...>
constexpr auto along(const B&... b) {
    static_cast<void>(detail::check_no_duplicates<std::remove_cvref_t<B>...>());
    return direction<std::remove_cvref_t<B>...>{
        detail::binding_set<std::remove_cvref_t<B>...>(b...)};
}

/// The value of f and its derivative along a direction v: `t.value`, `t.tangent` = ∇f · v.
template <class S>
struct jvp_result {
    using scalar_type = S;
    S value{};
    S tangent{};
};

/// The value and gradient of f and the product of its Hessian with a direction v:
/// `hv[x]` = (H v)_x (0 for a variable f does not contain), `hv.value`, `hv.gradient[x]`.
template <class S, class Variables>
struct hvp_result {
    using scalar_type = S;
    using variables = Variables;

    S value{};
    gradient_result<S, Variables> gradient{};
    std::array<S, Variables::size> product{};

    template <fixed_string Name, class Kind>
    constexpr S operator[](variable<Name, Kind>) const {
        if constexpr (detail::in_list<Variables, variable<Name, Kind>>) {
            return product[detail::index_of_v<Variables, variable<Name, Kind>>];
        } else {
            return S(0);
        }
    }
};

namespace detail {

template <class Set, fixed_string Name>
constexpr bool check_direction_bound() {
    if constexpr (!is_bound_v<Set, Name>) {
        static_assert(is_bound_v<Set, Name>,
                      "ctgrad::jvp/hvp: along(...) names a variable that the call does not bind: "
                      "bind every variable of the direction as `name = value` too (the variable "
                      "is named in 'direction_names_an_unbound_variable<...>' below)");
        static_cast<void>(sizeof(spelled<Name, direction_names_an_unbound_variable>));
        return false;
    } else {
        return true;
    }
}

// The checks of one call of jvp/hvp: those of value/gradient, the direction's variables bound,
// the variables scalars. `ok` without diagnostics, diagnose() with them (see detail::call).
template <class Dir, class E, class... B>
struct directional_call;

template <class... D, class E, class... B>
struct directional_call<direction<D...>, E, B...> {
    using base = call<E, B...>;
    using plan = typename base::plan;
    using set = typename base::set;
    static constexpr bool direction_bound = all_true_v<is_bound_v<set, D::name>...>;
    static constexpr bool ok = base::ok && direction_bound && no_duplicates_v<D...> &&
                               ad::detail::scalar_variables_quietly<plan>();

    static constexpr void diagnose() {
        if constexpr (!base::ok) {
            base::diagnose();
        } else if constexpr (!direction_bound) {
            static_cast<void>(all_true_v<check_direction_bound<set, D::name>()...>);
        } else {
            static_cast<void>(ad::detail::scalar_variables<plan>());
        }
    }
};

}  // namespace detail

/// The value of f and its directional derivative ∇f · v along `v = along(x = 1.0, ...)` at the
/// bound point, in one forward sweep on numbers with one tangent (forward mode): about twice
/// the cost of `value`, no reverse sweep. `jvp(f, along(x = 1.0), x = 2.0, y = 3.0).tangent` is
/// ∂f/∂x. constexpr; f must be a scalar expression of scalar variables, and every variable of
/// the direction must be bound.
template <expression E, class... D, class... B>
    requires binding_arguments<B...>
constexpr auto jvp(const E& f, const direction<D...>& v, const B&... b) {
    using c = detail::directional_call<direction<D...>, E, B...>;
    if constexpr (!c::ok) {
        c::diagnose();
        return jvp_result<double>{};
    } else {
        using plan = typename c::plan;
        using S = ad::scalar_t<plan, typename c::set>;
        const typename c::set set(b...);
        const auto r = ad::detail::dual_forward<plan, S, 1>(
            f, set, ad::detail::direction_seed<detail::binding_set<D...>>{v.set});
        return jvp_result<S>{r[plan::size - 1].v, r[plan::size - 1].t[0]};
    }
}

/// The Hessian of f times the direction `v = along(x = 1.0, ...)` at the bound point, with f's
/// value and gradient: `hv[x]` = Σ_y ∂²f/∂x∂y v_y. One forward and one reverse sweep on numbers
/// with one tangent (forward-over-reverse): a small multiple of one gradient, whatever the
/// number of variables. constexpr; same requirements as jvp.
template <expression E, class... D, class... B>
    requires binding_arguments<B...>
constexpr auto hvp(const E& f, const direction<D...>& v, const B&... b) {
    using c = detail::directional_call<direction<D...>, E, B...>;
    using vars = typename c::plan::variables;
    if constexpr (!c::ok) {
        c::diagnose();
        return hvp_result<double, vars>{};
    } else {
        using plan = typename c::plan;
        using S = ad::scalar_t<plan, typename c::set>;
        const typename c::set set(b...);
        const auto r = ad::detail::dual_forward<plan, S, 1>(
            f, set, ad::detail::direction_seed<detail::binding_set<D...>>{v.set});
        const auto a = ad::reverse<plan, math::dual<S, 1>>(r);
        hvp_result<S, vars> h;
        h.value = r[plan::size - 1].v;
        h.gradient.value = h.value;
        for (std::size_t i = 0; i < plan::variable_count; ++i) {
            h.gradient.partials[i] = a[plan::variable_entry[i]].v;
            h.product[i] = a[plan::variable_entry[i]].t[0];
        }
        return h;
    }
}

}  // namespace ctgrad
