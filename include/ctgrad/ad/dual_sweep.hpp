/// @file
/// The fused sweep of ad/sweep.hpp run on dual numbers (math/dual.hpp): what hessian, jvp and
/// hvp are made of. The bindings are seen through a set whose `get<Name>()` is the bound
/// number as a dual whose tangents a seed gives (a unit vector per variable for the Hessian, a
/// direction for jvp/hvp); the forward sweep then carries directional derivatives of every
/// value, and the reverse sweep, whose adjoints are duals too, directional derivatives of
/// every adjoint: forward-over-reverse.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v

#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when hessian/jvp/hvp is given an
/// expression over a tensor variable; its arguments spell the variable's name.
template <char... Name>
struct second_order_needs_scalar_variables;

namespace ad::detail {

/// The position of the variable named Name in the type list Vars of variables, or npos.
template <class Vars, fixed_string Name>
constexpr std::size_t position_of() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        constexpr std::array<std::string_view, sizeof...(V) + 1> names{V::name.view()..., ""};
        for (std::size_t i = 0; i < sizeof...(V); ++i) {
            if (names[i] == Name.view()) {
                return i;
            }
        }
        return ctgrad::detail::npos;
    }(Vars{});
}

/// The bindings of a call as the dual sweep reads them: the bound number of `Name` as a dual
/// D whose tangents `seed.tangents<Name>(t)` fills in.
template <class Set, class D, class Seed>
struct seeded_set {
    const Set& set;
    Seed seed;

    template <fixed_string Name>
    constexpr D get() const {
        D d(static_cast<typename D::value_type>(set.template get<Name>()));
        seed.template tangents<Name>(d.t);
        return d;
    }
};

/// The Hessian's seed: the variable at position k of Vars moves along the k-th unit vector.
template <class Vars>
struct unit_seed {
    template <fixed_string Name, class T, std::size_t N>
    constexpr void tangents(std::array<T, N>& t) const {
        constexpr std::size_t k = position_of<Vars, Name>();
        if constexpr (k < N) {
            t[k] = T(1);
        }
    }
};

/// A direction's seed: the variable named in `along(...)` moves by its number there, the others
/// do not move.
template <class Direction>
struct direction_seed {
    const Direction& direction;

    template <fixed_string Name, class T, std::size_t N>
    constexpr void tangents(std::array<T, N>& t) const {
        if constexpr (ctgrad::detail::is_bound_v<Direction, Name>) {
            t[0] = static_cast<T>(direction.template get<Name>());
        }
    }
};

/// True when every variable of the plan is a scalar (no diagnostic).
template <class Plan>
constexpr bool scalar_variables_quietly() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        return ctgrad::detail::all_true_v<std::is_same_v<typename V::kind, scalar_kind>...>;
    }(typename Plan::variables{});
}

template <class V>
constexpr bool check_scalar_variable() {
    if constexpr (!std::is_same_v<typename V::kind, scalar_kind>) {
        static_assert(std::is_same_v<typename V::kind, scalar_kind>,
                      "ctgrad::hessian/jvp/hvp: the expression must be a scalar function of "
                      "scalar variables (second order and directional derivatives are not "
                      "available for tensor variables; the variable is named in "
                      "'second_order_needs_scalar_variables<...>' below)");
        static_cast<void>(
            sizeof(ctgrad::detail::spelled<V::name, second_order_needs_scalar_variables>));
        return false;
    } else {
        return true;
    }
}

/// True when every variable of the plan is a scalar (a static_assert names the first one not).
template <class Plan>
constexpr bool scalar_variables() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        return ctgrad::detail::all_true_v<check_scalar_variable<V>()...>;
    }(typename Plan::variables{});
}

/// The forward sweep of Plan on dual<S, N> numbers seeded by `seed`.
template <class Plan, class S, std::size_t N, class Root, class Set, class Seed>
constexpr auto dual_forward(const Root& root, const Set& set, const Seed& seed) {
    using D = math::dual<S, N>;
    const seeded_set<Set, D, Seed> seeded{set, seed};
    return ad::forward<Plan, D>(root, seeded);
}

}  // namespace ad::detail
}  // namespace ctgrad
