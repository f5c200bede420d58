/// @file
/// The fused forward and reverse sweeps over a plan. Generated from the plan's type:
/// one straight-line statement per entry, values in a flat array the compiler keeps in
/// registers, adjoints assigned by their first contribution and accumulated by the rest.
/// Never names a concrete op: it uses the op contract (value, partial, locally_constant).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::common_type_t, std::is_floating_point_v
#include <utility>      // std::index_sequence

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/unpack.hpp>

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

template <std::size_t N>
constexpr bool any_of(const std::array<bool, N>& a) {
    for (bool b : a) {
        if (b) return true;
    }
    return false;
}

/// std::common_type_t<T...> when it is a floating-point type, else double: the widest
/// floating-point type among T... (an integer mixed with a float is a float), computed flat
/// (std::common_type recurses on the length of the list, and a plan may hold thousands of
/// run-time constants).
template <class... T>
struct common_number<ctgrad::detail::type_list<T...>> {
    static constexpr bool any_long_double =
        any_of(std::array<bool, sizeof...(T)>{std::is_same_v<T, long double>...});
    static constexpr bool any_double =
        any_of(std::array<bool, sizeof...(T)>{std::is_same_v<T, double>...});
    static constexpr bool any_float =
        any_of(std::array<bool, sizeof...(T)>{std::is_same_v<T, float>...});
    using type = std::conditional_t<
        any_long_double, long double,
        std::conditional_t<any_double, double, std::conditional_t<any_float, float, double>>>;
};

/// The position in the binding set Set of each variable of the list Vars (npos for an unbound
/// one), and a 0 after them: computed once per call site and read by every step that needs it
/// (the checks, the scalar type, the reads of the bound numbers). Each was a search of the set
/// per variable, evaluated again by each of those steps.
template <class Set, class Vars>
struct variable_positions;

template <class Set, class... V>
struct variable_positions<Set, ctgrad::detail::type_list<V...>> {
    static constexpr std::array<std::size_t, sizeof...(V) + 1> value{Set::find(V::name.view())...,
                                                                     0};
};

template <class Plan, class Set, class Seq = std::make_index_sequence<Plan::size>>
struct scalar_of;

template <class Plan, class Set, std::size_t... J>
struct scalar_of<Plan, Set, std::index_sequence<J...>> {
    using all = ctgrad::detail::type_list<
        typename number_type_of<Set, typename Plan::template expr<J>>::type...>;
    // void (an entry that brings no number) counts as none of the types
    using type = typename common_number<all>::type;
};

/// common_number's choice as a rank: 3 long double, 2 double, 1 float, 0 none of them.
template <class T>
inline constexpr int number_rank = std::is_same_v<T, long double> ? 3
                                   : std::is_same_v<T, double>    ? 2
                                   : std::is_same_v<T, float>     ? 1
                                                                  : 0;

template <class List>
struct constants_rank;

template <class... T>
struct constants_rank<ctgrad::detail::type_list<T...>> {
    static constexpr int value = [] {
        const int r[] = {number_rank<T>..., 0};
        int m = 0;
        for (const int k : r) m = k > m ? k : m;
        return m;
    }();
};

/// The same for the bindings of one call (every call site's set): the numbers bound to the
/// plan's variables (each found once, by name, in one evaluation) and the root's run-time
/// constants, without a class per entry named after the set (a set of hundreds of bindings has
/// a name as long, and a plan hundreds of entries).
template <class Plan, class... B, std::size_t... J>
struct scalar_of<Plan, ctgrad::detail::binding_set<B...>, std::index_sequence<J...>> {
    static constexpr int rank = [] {
        constexpr int bound[] = {
            number_rank<std::remove_cvref_t<decltype(std::declval<const B&>().get())>>..., 0};
        const int constants =
            constants_rank<ctgrad::detail::constants_of_t<typename Plan::root>>::value;
        constexpr const auto& at =
            variable_positions<ctgrad::detail::binding_set<B...>, typename Plan::variables>::value;
        int m = constants;
        for (std::size_t i = 0; i + 1 < at.size(); ++i) {
            if (at[i] != ctgrad::detail::npos && bound[at[i]] > m) m = bound[at[i]];
        }
        return m;
    }();
    using type =
        std::conditional_t<rank == 3, long double, std::conditional_t<rank == 1, float, double>>;
};

/// True when every variable of the plan is bound (no diagnostic).
template <class Plan, class Set>
constexpr bool all_bound_quietly() {
    // One table for every name (no variable template per variable named after the set).
    constexpr const auto& at = variable_positions<Set, typename Plan::variables>::value;
    for (std::size_t i = 0; i + 1 < at.size(); ++i) {
        if (at[i] == ctgrad::detail::npos) return false;
    }
    return true;
}

/// True when every variable of the plan is bound (a static_assert names each one not).
template <class Plan, class Set>
constexpr bool all_bound() {
    return []<class... V>(ctgrad::detail::type_list<V...>) {
        return ctgrad::detail::all_true_v<ctgrad::detail::check_bound<Set, V::name>()...>;
    }(typename Plan::variables{});
}

}  // namespace detail

/// The scalar type every value and adjoint of the sweep is computed in: the common type of
/// the bound numbers and the run-time constants of the expression (promoted to double when
/// that is an integer type; double when there are none). Literals take this type.
template <class Plan, class Set>
using scalar_t = typename detail::scalar_of<Plan, Set>::type;

namespace detail {

// What one entry of a sweep does, as a small type: the generated statements are function
// templates named after these (the op, the entry's own and its arguments' indices), never after
// the plan or the expression, so that the code of an N-entry plan has names of constant length
// and the compiler's cost stays linear in N (a name that spelled the plan, once per entry, is
// quadratic: the compiler mangles every instantiated function's name).

/// The value of the plan's Rank-th variable.
template <std::size_t Rank>
struct variable_value {};

/// An exact constant (a literal or a named constant).
template <class L>
struct exact_value {};

/// The run-time constant at Slot among the root's (core/fragment.hpp).
template <std::size_t Slot>
struct constant_number {};

/// Op applied to the values of entries C...
template <class Op, std::size_t... C>
struct op_value {};

template <class S, std::size_t N, std::size_t V, std::size_t K, std::size_t Rank>
constexpr S evaluate(variable_value<Rank>, const std::array<S, N>&, const std::array<S, V>& bound,
                     const std::array<S, K>&) {
    return bound[Rank];
}

template <class S, std::size_t N, std::size_t V, std::size_t K, class L>
constexpr S evaluate(exact_value<L>, const std::array<S, N>&, const std::array<S, V>&,
                     const std::array<S, K>&) {
    return L::template as<S>();
}

template <class S, std::size_t N, std::size_t V, std::size_t K, std::size_t Slot>
constexpr S evaluate(constant_number<Slot>, const std::array<S, N>&, const std::array<S, V>&,
                     const std::array<S, K>& constants) {
    return constants[Slot];
}

template <class S, std::size_t N, std::size_t V, std::size_t K, class Op, std::size_t... C>
constexpr S evaluate(op_value<Op, C...>, const std::array<S, N>& v, const std::array<S, V>&,
                     const std::array<S, K>&) {
    return static_cast<S>(Op::value(v[C]...));
}

template <class Plan, std::size_t J, class E, class Seq>
struct op_value_of;

template <class Plan, std::size_t J, class E, std::size_t... I>
struct op_value_of<Plan, J, E, std::index_sequence<I...>> {
    using type = op_value<typename E::op, Plan::child[J][I]...>;
};

template <class Plan, std::size_t J, class E = typename Plan::template expr<J>, class = void>
struct value_step {
    using type = typename op_value_of<Plan, J, E, std::make_index_sequence<E::arity>>::type;
};

template <class Plan, std::size_t J, class E>
struct value_step<Plan, J, E, std::enable_if_t<is_variable_v<E>>> {
    using type = variable_value<Plan::variable_rank[J]>;
};

template <class Plan, std::size_t J, class E>
struct value_step<Plan, J, E, std::enable_if_t<is_exact_constant_v<E>>> {
    using type = exact_value<E>;
};

template <class Plan, std::size_t J, class E>
struct value_step<Plan, J, E, std::enable_if_t<is_constant_v<E>>> {
    using type = constant_number<Plan::constant_slot[J]>;
};

/// The adjoint of entry J pushed to its arguments, the entries C...: the contributions to the
/// arguments I... (the active ones), each assigning (instead of adding) when bit I of Assign is
/// set.
template <class Op, std::size_t J, std::uint64_t Assign, class Args, class Active>
struct op_adjoint {};

/// Nothing to push (an inactive entry or a leaf).
struct no_adjoint {};

/// What a reverse sweep does to each contribution before it is added: nothing (a gradient), or
/// masking lanes (the fused reverse sweeps of a Jacobian, ad/jacobian.hpp). Mask::apply<J>(d)
/// gets the contribution of entry J.
struct unmasked {
    template <std::size_t J, class D>
    static constexpr const D& apply(const D& d) {
        return d;
    }
};

template <class Mask = unmasked, class S, class A, std::size_t N>
constexpr void push(no_adjoint, const std::array<S, N>&, std::array<A, N>&) {}

/// The contribution of entry J to its I-th argument (entry c[I] of C...): the local partial (a
/// number S) times the adjoint (a number, or a vector of lanes A), through Mask, assigned or
/// added.
template <class Mask, class Op, std::size_t J, std::size_t I, bool Assign, class S, class A,
          std::size_t N, std::size_t... C>
constexpr void contribute(std::index_sequence<C...>, const std::array<S, N>& v,
                          std::array<A, N>& a) {
    constexpr std::size_t c[] = {C...};
    const auto local = static_cast<S>(Op::partial(arg<I>, v[C]..., v[J])) * a[J];
    // unmasked: no identity function instantiated per entry (Mask::apply<J> is one per J)
    if constexpr (std::is_same_v<Mask, unmasked>) {
        const A d = local;
        if constexpr (Assign) {
            a[c[I]] = d;
        } else {
            a[c[I]] += d;
        }
    } else {
        const A d = Mask::template apply<J>(local);
        if constexpr (Assign) {
            a[c[I]] = d;
        } else {
            a[c[I]] += d;
        }
    }
}

/// Entry J's adjoint a[J] pushed to its active arguments (one function per contribution, no
/// closure: a sweep instantiates a few functions per entry, each named after numbers only).
template <class Mask = unmasked, class S, class A, std::size_t N, class Op, std::size_t J,
          std::uint64_t Assign, std::size_t... C, std::size_t... I>
constexpr void push(op_adjoint<Op, J, Assign, std::index_sequence<C...>, std::index_sequence<I...>>,
                    const std::array<S, N>& v, std::array<A, N>& a) {
    (contribute<Mask, Op, J, I, ((Assign >> I) & 1u) != 0>(std::index_sequence<C...>{}, v, a), ...);
}

/// The tables of the reverse sweep from the plan's root: Plan's own `active` and `assigns`.
/// Another sweep (from one output of a Jacobian, ad/jacobian.hpp) passes a type with its own.
struct root_tables {};

template <class Plan, class Tables>
using tables_t = std::conditional_t<std::is_same_v<Tables, root_tables>, Plan, Tables>;

/// The positions of the set bits among the low K bits of Mask, as an index sequence (a class
/// named after two numbers: shared by every entry with the same mask).
template <std::uint64_t Mask, std::size_t K>
struct set_bits {
    static constexpr std::size_t count = [] {
        std::size_t n = 0;
        for (std::size_t i = 0; i < K; ++i) n += (Mask >> i) & 1u;
        return n;
    }();
    static constexpr std::array<std::size_t, count + 1> at = [] {
        std::array<std::size_t, count + 1> p{};
        std::size_t n = 0;
        for (std::size_t i = 0; i < K; ++i) {
            if ((Mask >> i) & 1u) p[n++] = i;
        }
        return p;
    }();
    template <std::size_t... P>
    static std::index_sequence<at[P]...> positions(std::index_sequence<P...>);
    using type = decltype(positions(std::make_index_sequence<count>{}));
};

template <class Plan, std::size_t J, class Seq, class Tables = root_tables>
struct op_adjoint_of;

template <class Plan, std::size_t J, std::size_t... I, class Tables>
struct op_adjoint_of<Plan, J, std::index_sequence<I...>, Tables> {
    static_assert(sizeof...(I) <= 64, "ctgrad: an op with more than 64 arguments");
    using T = tables_t<Plan, Tables>;
    static constexpr std::uint64_t active =
        ((std::uint64_t{T::active[Plan::child[J][I]]} << I) | ... | 0u);
    using type = op_adjoint<
        typename Plan::template expr<J>::op, J, ((std::uint64_t{T::assigns[J][I]} << I) | ... | 0u),
        std::index_sequence<Plan::child[J][I]...>, typename set_bits<active, sizeof...(I)>::type>;
};

template <class Plan, std::size_t J, class Tables = root_tables,
          bool Pushes = tables_t<Plan, Tables>::active[J] && Plan::facts.differentiable[J]>
struct adjoint_step {
    using type = no_adjoint;
};

template <class Plan, std::size_t J, class Tables>
struct adjoint_step<Plan, J, Tables, true> {
    using type = typename op_adjoint_of<Plan, J, std::make_index_sequence<Plan::facts.arity[J]>,
                                        Tables>::type;
};

/// bound_values for a binding_set: every binding read once, in the set's order
/// (binding_set::numbers), then each variable's number taken at its position.
template <class Plan, class S, class Set>
constexpr std::array<S, Plan::variable_count> bound_values_of_set(const Set& set) {
    constexpr const auto& at = variable_positions<Set, typename Plan::variables>::value;
    const std::array<S, Set::size + 1> all = set.template numbers<S>();
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<S, Plan::variable_count>{all[at[I]]...};
    }
    (std::make_index_sequence<Plan::variable_count>{});
}

/// The numbers bound to the plan's variables, in the plan's order, as S. Each is read from the
/// set's storage at its position, found once for all variables: no function is instantiated per
/// variable (`set.get<Name>()` would be one per variable, each named after the whole set: O(V·B)
/// bytes of names). (Reading every binding once by unpacking the set would name fewer
/// functions still, but g++ then no longer keeps the numbers in registers: 10 -> 80
/// instructions for add_mul's gradient.)
template <class Plan, class S, class Set>
constexpr std::array<S, Plan::variable_count> bound_values(const Set& set) {
    if constexpr (!requires { set.items; }) {  // another set (ad/dual_sweep.hpp's seeded_set)
        return [&]<class... V>(ctgrad::detail::type_list<V...>) {
            return std::array<S, sizeof...(V)>{static_cast<S>(set.template get<V::name>())...};
        }(typename Plan::variables{});
    } else {
        return bound_values_of_set<Plan, S>(set);
    }
}

/// The run-time constants of the root expression, in slot order, as S.
template <class Plan, class S, class Root>
constexpr std::array<S, Plan::constant_count> constant_values(const Root& root) {
    if constexpr (is_constant_v<Root>) {
        return {static_cast<S>(root.value)};
    } else if constexpr (Plan::constant_count == 0) {
        return {};
    } else {
        return boost::hana::unpack(root.constants, [](const auto&... c) {
            return std::array<S, sizeof...(c)>{static_cast<S>(c)...};
        });
    }
}

}  // namespace detail

/// The forward sweep: every entry's value, children before parents, in one statement per entry
/// (detail::evaluate), over the bound numbers and the root's constants read once.
template <class Plan, class S, class Root, class Set>
constexpr std::array<S, Plan::size> forward(const Root& root, const Set& set) {
    const auto bound = detail::bound_values<Plan, S>(set);
    const auto constants = detail::constant_values<Plan, S>(root);
    std::array<S, Plan::size> v{};
    ctgrad::detail::static_for_chunks<Plan::size>([&]<std::size_t... J>(std::index_sequence<J...>) {
        ((v[J] =
              detail::evaluate(typename detail::value_step<Plan, J>::type{}, v, bound, constants)),
         ...);
    });
    return v;
}

/// The reverse sweep from entry Seed down to entry 0, over the adjoints a (seeded by the
/// caller), with the active entries and first contributions of Tables (the plan's own by
/// default) and each contribution passed through Mask.
template <class Plan, std::size_t Seed, class Tables = detail::root_tables,
          class Mask = detail::unmasked, class S, class A>
constexpr void reverse_from(const std::array<S, Plan::size>& v, std::array<A, Plan::size>& a) {
    ctgrad::detail::static_for_chunks<Seed + 1>([&]<std::size_t... R>(std::index_sequence<R...>) {
        (detail::push<Mask>(typename detail::adjoint_step<Plan, Seed - R, Tables>::type{}, v, a),
         ...);
    });
}

/// The reverse sweep: adjoints of every active entry, parents before children, seeded with
/// d root / d root = 1; each adjoint assigned by its first contribution, accumulated by the rest.
template <class Plan, class S>
constexpr std::array<S, Plan::size> reverse(const std::array<S, Plan::size>& v) {
    std::array<S, Plan::size> a{};
    a[Plan::size - 1] = S(1);
    reverse_from<Plan, Plan::size - 1>(v, a);
    return a;
}

}  // namespace ctgrad::ad
