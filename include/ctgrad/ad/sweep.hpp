/// @file
/// The fused forward and reverse sweeps over a plan. Generated from the plan's type:
/// one straight-line statement per entry, values in a flat array the compiler keeps in
/// registers, adjoints assigned by their first contribution and accumulated by the rest.
/// Never names a concrete op: it uses the op contract (value, partial, locally_constant).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::common_type_t, std::is_floating_point_v
#include <utility>      // std::index_sequence

#include <boost/hana/at.hpp>

#include <ctgrad/ad/plan.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad::ad {
/// The number held by the run-time constant at entry J of Plan (a `constant<T>` entry), read
/// from the root expression object: its `T`. The one way the sweeps reach a constant's value.
template <class Plan, std::size_t J, class Root>
constexpr auto constant_value(const Root& root) {
    return ctgrad::detail::constant_at<Plan::constant_slot[J]>(root);
}

namespace detail {

// The number type an entry brings into the sweep: a variable's bound type, a run-time
// constant's type, void for everything else.
template <class Set, class E>
struct number_type_of {
    using type = void;
};

template <class Set, fixed_string Name, class Kind>
struct number_type_of<Set, variable<Name, Kind>> {
    using type = typename Set::template type_of<Name>;
};

template <class Set, class T>
struct number_type_of<Set, constant<T>> {
    using type = T;
};

template <class List>
struct common_number;

template <>
struct common_number<ctgrad::detail::type_list<>> {
    using type = double;
};

template <class... T>
struct common_number<ctgrad::detail::type_list<T...>> {
    using common = std::common_type_t<T...>;
    using type = std::conditional_t<std::is_floating_point_v<common>, common, double>;
};

template <class Plan, class Set, class Seq = std::make_index_sequence<Plan::size>>
struct scalar_of;

template <class Plan, class Set, std::size_t... J>
struct scalar_of<Plan, Set, std::index_sequence<J...>> {
    using all = ctgrad::detail::type_list<
        typename number_type_of<Set, typename Plan::template expr<J>>::type...>;
    struct mask {
        static constexpr std::array<bool, Plan::size> value{!std::is_void_v<
            typename number_type_of<Set, typename Plan::template expr<J>>::type>...};
    };
    using numbers = ctgrad::detail::filter_t<all, mask>;
    using type = typename common_number<numbers>::type;
};

/// True when every variable of the plan is bound (no diagnostic).
template <class Plan, class Set>
constexpr bool all_bound_quietly() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        return (ctgrad::detail::is_bound_v<Set, V::name> && ...);
    }(typename Plan::variables{});
}

/// True when every variable of the plan is bound (a static_assert names each one not).
template <class Plan, class Set>
constexpr bool all_bound() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        return (ctgrad::detail::check_bound<Set, V::name>() && ...);
    }(typename Plan::variables{});
}

}  // namespace detail

/// The scalar type every value and adjoint of the sweep is computed in: the common type of
/// the bound numbers and the run-time constants of the expression (promoted to double when
/// that is an integer type; double when there are none). Literals take this type.
template <class Plan, class Set>
using scalar_t = typename detail::scalar_of<Plan, Set>::type;

/// The value of entry J from the values of the entries before it.
template <class Plan, class S, std::size_t J, class Root, class Set>
constexpr S evaluate_entry(const std::array<S, Plan::size>& v, const Root& root, const Set& set) {
    using E = typename Plan::template expr<J>;
    if constexpr (is_variable_v<E>) {
        return static_cast<S>(set.template get<E::name>());
    } else if constexpr (is_exact_constant_v<E>) {
        return E::template as<S>();
    } else if constexpr (is_constant_v<E>) {
        return static_cast<S>(constant_value<Plan, J>(root));
    } else {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return static_cast<S>(E::op::value(v[Plan::child[J][I]]...));
        }
        (std::make_index_sequence<E::arity>{});
    }
}

/// The forward sweep: every entry's value, children before parents.
template <class Plan, class S, class Root, class Set>
constexpr std::array<S, Plan::size> forward(const Root& root, const Set& set) {
    std::array<S, Plan::size> v{};
    ctgrad::detail::static_for_chunks<Plan::size>([&]<std::size_t... J>(std::index_sequence<J...>) {
        ((v[J] = evaluate_entry<Plan, S, J>(v, root, set)), ...);
    });
    return v;
}

/// Entry J's contribution to the adjoint of its I-th argument.
template <class Plan, class S, std::size_t J, std::size_t I>
constexpr void contribute(const std::array<S, Plan::size>& v, std::array<S, Plan::size>& a) {
    constexpr std::size_t c = Plan::child[J][I];
    if constexpr (Plan::active[c]) {
        using E = typename Plan::template expr<J>;
        const S d = [&]<std::size_t... K>(std::index_sequence<K...>) {
            return static_cast<S>(E::op::partial(arg<I>, v[Plan::child[J][K]]..., v[J]));
        }
        (std::make_index_sequence<E::arity>{}) * a[J];
        if constexpr (Plan::assigns[J][I]) {
            a[c] = d;
        } else {
            a[c] += d;
        }
    }
}

/// The reverse sweep: adjoints of every active entry, parents before children, seeded with
/// d root / d root = 1.
template <class Plan, class S>
constexpr std::array<S, Plan::size> reverse(const std::array<S, Plan::size>& v) {
    std::array<S, Plan::size> a{};
    a[Plan::size - 1] = S(1);
    ctgrad::detail::static_for_chunks<Plan::size>([&]<std::size_t... R>(std::index_sequence<R...>) {
        (
            [&] {
                constexpr std::size_t J = Plan::size - 1 - R;
                if constexpr (Plan::active[J] && Plan::facts.differentiable[J]) {
                    [&]<std::size_t... I>(std::index_sequence<I...>) {
                        (contribute<Plan, S, J, I>(v, a), ...);
                    }
                    (std::make_index_sequence<Plan::template arity<J>>{});
                }
            }(),
            ...);
    });
    return a;
}

}  // namespace ctgrad::ad
