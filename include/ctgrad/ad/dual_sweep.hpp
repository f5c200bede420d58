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
#include <cstdint>      // std::uint64_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v

#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/args_key.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when hessian/jvp/hvp is given an
/// expression over a tensor variable; its arguments spell the variable's name.
template <char... Name>
struct second_order_needs_scalar_variables;

namespace ad::detail {

/// FNV-1a of a name (the hash of position_table below).
constexpr std::uint64_t name_hash(std::string_view name) noexcept {
    return ctgrad::detail::fnv1a(ctgrad::detail::fnv1a_offset, name);
}

/// The positions of the variables of the type list Vars by name: an open-addressing hash table
/// built once per Vars (linear in the number of variables V), so finding every variable's
/// position costs O(V) in all instead of a scan of Vars per variable (O(V^2)). A name that
/// occurs twice is found at its first position.
template <class Vars>
struct position_table;

template <class... V>
struct position_table<ctgrad::detail::type_list<V...>> {
    static constexpr std::size_t count = sizeof...(V);
    static constexpr std::array<std::string_view, count + 1> names{V::name.view()..., ""};
    /// Slots: a power of two at least twice the number of names (probe sequences stay short).
    static constexpr std::size_t mask = [] {
        std::size_t n = 1;
        while (n < 2 * count + 1) {
            n *= 2;
        }
        return n - 1;
    }();
    /// slots[h] = 1 + the position of a name whose probe sequence passes h, 0 when empty.
    static constexpr auto slots = [] {
        std::array<std::size_t, mask + 1> s{};
        for (std::size_t i = 0; i < count; ++i) {
            std::size_t h = static_cast<std::size_t>(name_hash(names[i])) & mask;
            while (s[h] != 0) {
                h = (h + 1) & mask;
            }
            s[h] = i + 1;
        }
        return s;
    }();

    /// The position of `name`, or npos.
    static constexpr std::size_t find(std::string_view name) noexcept {
        for (std::size_t h = static_cast<std::size_t>(name_hash(name)) & mask; slots[h] != 0;
             h = (h + 1) & mask) {
            if (names[slots[h] - 1] == name) {
                return slots[h] - 1;
            }
        }
        return ctgrad::detail::npos;
    }
};

/// The position of the variable named Name in the type list Vars of variables, or npos.
template <class Vars, fixed_string Name>
inline constexpr std::size_t position_of = position_table<Vars>::find(Name.view());

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
        constexpr std::size_t k = position_of<Vars, Name>;
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
