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
#include <ctgrad/detail/ref.hpp>  // std::reference_wrapper
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
template <class Set, class... V>
constexpr std::array<std::size_t, sizeof...(V) + 1> positions_of(ctgrad::detail::type_list<V...>) {
    return {Set::find(V::name.view())..., 0};
}

// (The table is held by a class named after Set and Vars, not by one named after the variables'
// pack: g++ walks a class's template arguments at each read of its static member in a constant
// evaluation; see ad/plan.hpp's rows_of.)
template <class Set, class Vars>
struct variable_positions {
    static constexpr std::array<std::size_t, Vars::size + 1> value = positions_of<Set>(Vars{});
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

/// The number type a binding holding a V reads (`binding::get`): V, or T for a reference to T.
template <class V>
struct held_number_type {
    using type = V;
};

template <class T>
struct held_number_type<std::reference_wrapper<T>> {
    using type = std::remove_cv_t<T>;
};

template <class V>
using held_number_t = typename held_number_type<V>::type;

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
        // by the held types (binding::get would be a function instantiated per binding)
        constexpr int bound[] = {number_rank<held_number_t<decltype(B::held)>>..., 0};
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

// What one entry of a sweep does, by its kind only: a sweep is a fold over the plan's entries
// (each entry's type and position together), and each statement calls a function template named
// after the entry's kind (the op and its arity; a variable; a run-time constant; an exact
// constant), never after the entry's position or the plan, with the entry's numbers (its
// position, its arguments' positions, which contributions it makes) as arguments that are
// constants at the call. A chain of 768 entries then instantiates a handful of functions, not
// a few per entry; the functions are always inlined (each call's arguments are constants, so the
// compiler keeps every value and adjoint in registers as it did with a function per entry).

/// A node whose op is Op, applied to arguments 0, 1, ..., arity - 1 (the index sequence).
template <class Op, class Args>
struct op_step {};

/// A variable (its value is the bound number at its rank among the plan's variables).
struct variable_step {};

/// An exact constant (a literal or a named constant).
template <class L>
struct exact_step {};

/// A run-time constant (its value is the root's constant at its slot).
struct constant_step {};

template <class E>
struct step_of {
    using type = op_step<typename E::op, std::make_index_sequence<E::arity>>;
};

template <fixed_string Name, class Kind>
struct step_of<variable<Name, Kind>> {
    using type = variable_step;
};

template <class T>
struct step_of<constant<T>> {
    using type = constant_step;
};

template <std::intmax_t Num, std::intmax_t Den>
struct step_of<literal<Num, Den>> {
    using type = exact_step<literal<Num, Den>>;
};

template <class Tag>
struct step_of<named_constant<Tag>> {
    using type = exact_step<named_constant<Tag>>;
};

/// k, as a constant of the statement that names it: a call of an immediate function is
/// replaced by its value in the front end, so a table entry passed through it (a variable's
/// rank, a constant's slot) reaches g++'s optimiser as a number instead of a load from the
/// plan's table that its first passes fold (two statements per entry and table). Used by the
/// pieces only (g++'s large plans): clang++ 14 rejects an immediate invocation with a dependent
/// argument inside the generic lambda of the one-function sweep when it builds a precompiled
/// header ("cannot take address of consteval function").
consteval std::size_t entry_number(std::size_t k) {
    return k;
}

/// The step of the plan's entry J.
template <class Plan, std::size_t J>
using step_t = typename step_of<typename Plan::template expr<J>>::type;

/// The forward statement of the step kind Step in a sweep over N numbers S, with V bound
/// numbers, K run-time constants and ops of at most MA arguments: `run` returns the entry's
/// value (`rank` is a variable's position among the plan's variables, `slot` a run-time
/// constant's among the root's constants, `c` the entries of a node's arguments). A class per
/// step kind and sweep whose `run` is not a template: each of the sweep's statements names it
/// and calls it without deduction or overload resolution among the kinds (a call of an
/// overloaded function template per entry cost g++ and clang++ a deduction against each
/// overload: a 1 025-entry chain paid ~4 000; see bench/README.md, gx11). `run_p` is the same
/// statement over pointers, for the out-of-line pieces of a large plan (g++): their values,
/// children, bound numbers and constants are read through pointers taken once per piece, not
/// std::array::operator[], which is a call in constant evaluation (the constexpr gradients)
/// and three statements per read in g++'s GIMPLE before its early passes fold them (chain_256's
/// early-inliner dump: 150 K -> 112 K lines, the same code; bench/README.md, sc16). The
/// one-function sweep of smaller plans keeps `run` over std::array: with pointers there, g++
/// and clang++ inlined the scalar benchmarks' gradients differently (tanh_chain20 +11
/// instructions with g++; black_scholes' forward chunk out of line with clang++).
template <class Step, class S, std::size_t N, std::size_t V, std::size_t K, std::size_t MA>
struct forward_step;

template <class S, std::size_t N, std::size_t V, std::size_t K, std::size_t MA>
struct forward_step<variable_step, S, N, V, K, MA> {
    [[gnu::always_inline]] static constexpr S run(const std::array<S, N>&,
                                                  const std::array<S, V>& bound,
                                                  const std::array<S, K>&,
                                                  const std::array<std::size_t, MA>&,
                                                  std::size_t rank, std::size_t) {
        return bound[rank];
    }
    [[gnu::always_inline]] static constexpr S run_p(const S*, const S* bound, const S*,
                                                    const std::size_t*, std::size_t rank,
                                                    std::size_t) {
        return bound[rank];
    }
};

template <class L, class S, std::size_t N, std::size_t V, std::size_t K, std::size_t MA>
struct forward_step<exact_step<L>, S, N, V, K, MA> {
    [[gnu::always_inline]] static constexpr S run(const std::array<S, N>&, const std::array<S, V>&,
                                                  const std::array<S, K>&,
                                                  const std::array<std::size_t, MA>&, std::size_t,
                                                  std::size_t) {
        return L::template as<S>();
    }
    [[gnu::always_inline]] static constexpr S run_p(const S*, const S*, const S*,
                                                    const std::size_t*, std::size_t, std::size_t) {
        return L::template as<S>();
    }
};

template <class S, std::size_t N, std::size_t V, std::size_t K, std::size_t MA>
struct forward_step<constant_step, S, N, V, K, MA> {
    [[gnu::always_inline]] static constexpr S run(const std::array<S, N>&, const std::array<S, V>&,
                                                  const std::array<S, K>& constants,
                                                  const std::array<std::size_t, MA>&, std::size_t,
                                                  std::size_t slot) {
        return constants[slot];
    }
    [[gnu::always_inline]] static constexpr S run_p(const S*, const S*, const S* constants,
                                                    const std::size_t*, std::size_t,
                                                    std::size_t slot) {
        return constants[slot];
    }
};

template <class Op, std::size_t... I, class S, std::size_t N, std::size_t V, std::size_t K,
          std::size_t MA>
struct forward_step<op_step<Op, std::index_sequence<I...>>, S, N, V, K, MA> {
    [[gnu::always_inline]] static constexpr S run(const std::array<S, N>& v,
                                                  const std::array<S, V>&, const std::array<S, K>&,
                                                  const std::array<std::size_t, MA>& c, std::size_t,
                                                  std::size_t) {
        return static_cast<S>(Op::value(v[c[I]]...));
    }
    [[gnu::always_inline]] static constexpr S run_p(const S* v, const S*, const S*,
                                                    const std::size_t* c, std::size_t,
                                                    std::size_t) {
        return static_cast<S>(Op::value(v[c[I]]...));
    }
};

/// What entry J of a reverse sweep pushes: whether it pushes at all (an active node whose op
/// has partials), and bit I of `active` / `assign` for its I-th argument: the argument carries
/// an adjoint / the contribution is the first to it (so it assigns instead of adding). Passed
/// to the push functions as three template arguments (a reference to the table would make the
/// compiler emit the table into the object; numbers passed as function arguments reach g++'s
/// optimiser as loads and branches that its first passes fold, per entry).
struct push_row {
    bool pushes = false;
    std::uint64_t active = 0;
    std::uint64_t assign = 0;
};

/// What a reverse sweep does to each contribution before it is added: nothing (a gradient), or
/// masking lanes (the fused reverse sweeps of a Jacobian, ad/jacobian.hpp). Mask::apply<J>(d)
/// gets the contribution of entry J.
struct unmasked {
    template <std::size_t J, class D>
    static constexpr const D& apply(const D& d) {
        return d;
    }
};

/// The reverse statement of the step kind Step in a sweep over N numbers S with adjoints A
/// and ops of at most MA arguments, each contribution passed through Mask: `run<MJ, Pushes,
/// Active, Assign>` pushes entry j's adjoint to its arguments as its push row says (MJ names
/// the entry for a Mask other than unmasked, and is 0 otherwise: one `run` per step kind and
/// push row). A leaf pushes nothing. As forward_step: a class
/// per step kind, no overload resolution per entry.
template <class Step, class Mask, class S, class A, std::size_t N, std::size_t MA>
struct reverse_step {
    template <std::size_t MJ, bool Pushes, std::uint64_t Active, std::uint64_t Assign>
    [[gnu::always_inline]] static constexpr void run(const std::array<S, N>&, std::array<A, N>&,
                                                     std::size_t,
                                                     const std::array<std::size_t, MA>&) {}
    template <std::size_t MJ, bool Pushes, std::uint64_t Active, std::uint64_t Assign>
    [[gnu::always_inline]] static constexpr void run_p(const S*, A*, std::size_t,
                                                       const std::size_t*) {}
};

template <class Op, std::size_t... K, class Mask, class S, class A, std::size_t N, std::size_t MA>
struct reverse_step<op_step<Op, std::index_sequence<K...>>, Mask, S, A, N, MA> {
    /// The contribution of entry j to its I-th argument (entry c[I]): the local partial (a
    /// number S) times the adjoint (a number, or a vector of lanes A), through Mask (for entry
    /// MJ), assigned when bit I of Assign is set (the first contribution to that adjoint), added
    /// otherwise; nothing when bit I of Active is clear (the argument carries no adjoint).
    /// V, D and C are the plan's std::arrays (a small plan) or pointers to their elements (the
    /// pieces of a large plan: see forward_step::run_p); the statements are the same.
    template <std::size_t MJ, std::size_t I, std::uint64_t Active, std::uint64_t Assign, class V,
              class D, class C>
    [[gnu::always_inline]] static constexpr void contribute(const V& v, D& a, std::size_t j,
                                                            const C& c) {
        if constexpr (((Active >> I) & 1u) != 0) {
            const auto local = static_cast<S>(Op::partial(arg<I>, v[c[K]]..., v[j])) * a[j];
            // unmasked: no identity function instantiated (Mask::apply<J> is one per J)
            if constexpr (std::is_same_v<Mask, unmasked>) {
                const A d = local;
                if constexpr (((Assign >> I) & 1u) != 0) {
                    a[c[I]] = d;
                } else {
                    a[c[I]] += d;
                }
            } else {
                const A d = Mask::template apply<MJ>(local);
                if constexpr (((Assign >> I) & 1u) != 0) {
                    a[c[I]] = d;
                } else {
                    a[c[I]] += d;
                }
            }
        }
    }

    /// The entry's push row is template arguments (a handful of distinct rows in a plan: one
    /// `run` per step kind and row, not per entry), so that each statement reaches the
    /// compiler's optimiser without the branches on the row's bits (see bench/README.md,
    /// sc14).
    template <std::size_t MJ, bool Pushes, std::uint64_t Active, std::uint64_t Assign>
    [[gnu::always_inline]] static constexpr void run(const std::array<S, N>& v, std::array<A, N>& a,
                                                     std::size_t j,
                                                     const std::array<std::size_t, MA>& c) {
        if constexpr (!locally_constant<Op>() && Pushes) {
            (contribute<MJ, K, Active, Assign>(v, a, j, c), ...);
        }
    }
    template <std::size_t MJ, bool Pushes, std::uint64_t Active, std::uint64_t Assign>
    [[gnu::always_inline]] static constexpr void run_p(const S* v, A* a, std::size_t j,
                                                       const std::size_t* c) {
        if constexpr (!locally_constant<Op>() && Pushes) {
            (contribute<MJ, K, Active, Assign>(v, a, j, c), ...);
        }
    }
};

/// The tables of the reverse sweep from the plan's root: Plan's own `active` and `assigns`.
/// Another sweep (from one output of a Jacobian, ad/jacobian.hpp) passes a type with its own.
struct root_tables {};

template <class Plan, class Tables>
using tables_t = std::conditional_t<std::is_same_v<Tables, root_tables>, Plan, Tables>;

/// The push rows of a reverse sweep over Plan with the tables Tables (one table per sweep).
template <class Plan, class Tables>
struct push_rows {
    using T = tables_t<Plan, Tables>;
    static_assert(Plan::max_arity <= 64, "ctgrad: an op with more than 64 arguments");
    static constexpr std::array<push_row, Plan::size> value = [] {
        std::array<push_row, Plan::size> rows{};
        for (std::size_t j = 0; j < Plan::size; ++j) {
            rows[j].pushes = T::active[j] && Plan::facts.differentiable[j];
            for (std::size_t i = 0; i < Plan::facts.arity[j]; ++i) {
                rows[j].active |= std::uint64_t{T::active[Plan::child[j][i]]} << i;
                rows[j].assign |= std::uint64_t{T::assigns[j][i]} << i;
            }
        }
        return rows;
    }();
};

/// The push rows of the sweep from the plan's root, in one pass from the plan's rows, children
/// and active entries (the first contribution to each adjoint found on the way, as
/// ad::detail::first_contributions does): no `facts` or `assigns` table is evaluated.
template <class Plan>
struct push_rows<Plan, root_tables> {
    static_assert(Plan::max_arity <= 64, "ctgrad: an op with more than 64 arguments");
    static constexpr std::array<push_row, Plan::size> value = [] {
        std::array<push_row, Plan::size> out{};
        // Pointers: no std::array::operator[] call per element read (ad/plan.hpp, entry_row).
        push_row* const rows = out.data();
        const auto* const row = Plan::row.data();
        const bool* const active = Plan::active.data();
        bool* const seen = new bool[Plan::size]{};
        for (std::size_t j = Plan::size; j-- > 0;) {  // parents before children
            const auto& r = row[j];
            const std::size_t* const child = Plan::child[j].data();
            rows[j].pushes = active[j] && r.differentiable;
            for (std::size_t i = 0; i < r.arity; ++i) {
                const std::size_t c = child[i];
                if (!active[c]) continue;
                rows[j].active |= std::uint64_t{1} << i;
                if (rows[j].pushes && !seen[c]) {
                    rows[j].assign |= std::uint64_t{1} << i;
                    seen[c] = true;
                }
            }
        }
        delete[] seen;
        return out;
    }();
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

/// Plans of up to this many entries are swept in one straight-line function (each value and
/// adjoint kept in a register, as in a hand-written sweep). A larger plan is swept in pieces of
/// `sweep_piece` entries, each an out-of-line function with the same statements in the same
/// order over the value and adjoint arrays in memory: GCC's inliner and its per-function passes
/// then see many small functions instead of one with thousands of statements (their cost grows
/// faster than the function: see bench/README.md, issue 12, ninth pass). clang++'s optimiser
/// showed no such cost (its pass times were the same either way), so with clang++ every plan
/// is swept in one function.
#if defined(__clang__)
inline constexpr std::size_t sweep_inline_max = std::size_t(-1);
#else
inline constexpr std::size_t sweep_inline_max = 128;
#endif
inline constexpr std::size_t sweep_piece = 32;

/// One piece of a large plan's forward sweep, out of line: entries Base + J... (Base to
/// Base + 31, or to the last), the statements in the function itself (no always-inline layer
/// between the piece and the steps: g++ ran its early passes over such a layer's body before
/// inlining it, i.e. over every statement twice; see bench/README.md, sc14).
template <class Plan, std::size_t Base, class S, std::size_t V, std::size_t K, std::size_t... J>
[[gnu::noinline]] constexpr void forward_piece(std::array<S, Plan::size>& v,
                                               const std::array<S, V>& bound,
                                               const std::array<S, K>& constants,
                                               std::index_sequence<J...>) {
    constexpr std::size_t N = Plan::size;
    constexpr std::size_t MA = Plan::max_arity;
    S* const out = v.data();
    const S* const in = out;
    const S* const b = bound.data();
    const S* const k = constants.data();
    const auto* const child = Plan::child.data();
    ((out[Base + J] = forward_step<step_t<Plan, Base + J>, S, N, V, K, MA>::run_p(
          in, b, k, child[Base + J].data(), entry_number(Plan::variable_rank[Base + J]),
          entry_number(Plan::constant_slot[Base + J]))),
     ...);
}

/// The number of entries of the piece of a sweep over Size entries that starts at First (the
/// forward sweep: First = P * sweep_piece; the reverse sweep counts down, from Top: Size =
/// Top + 1, First = 0).
template <std::size_t Size, std::size_t First>
using piece_sequence =
    std::make_index_sequence < Size - First<sweep_piece ? Size - First : sweep_piece>;

/// One piece of a large plan's reverse sweep, out of line: entries Top - R... (Top down to
/// Top - 31, or 0; parents before children), each statement's push row (Rows) as template
/// arguments of its step.
template <class Plan, class Rows, class Mask, std::size_t Top, class S, class A, std::size_t... R>
[[gnu::noinline]] constexpr void reverse_piece(const std::array<S, Plan::size>& v,
                                               std::array<A, Plan::size>& a,
                                               std::index_sequence<R...>) {
    constexpr bool named = !std::is_same_v<Mask, unmasked>;
    constexpr std::size_t N = Plan::size;
    constexpr std::size_t MA = Plan::max_arity;
    const S* const in = v.data();
    A* const adj = a.data();
    const auto* const child = Plan::child.data();
    (reverse_step<step_t<Plan, Top - R>, Mask, S, A, N, MA>::template run_p < named ? Top - R : 0,
     Rows::value[Top - R].pushes, Rows::value[Top - R].active,
     Rows::value[Top - R].assign > (in, adj, Top - R, child[Top - R].data()), ...);
}

}  // namespace detail

namespace detail {

/// The number a binding holds (`b.held`), as S: by the held type only (one function per number
/// type, not per binding: a chain of 256 variables instantiated three per binding to read its
/// number through the set's tuple).
template <class S, class V>
[[gnu::always_inline]] constexpr S held_number(const V& held) {
    if constexpr (std::is_arithmetic_v<V>) {
        return static_cast<S>(held);
    } else if constexpr (requires { held.get(); }) {
        return held_number<S>(held.get());
    } else {
        return S{};  // not a number (a tensor): never read by a scalar sweep
    }
}

/// The numbers bound to Plan's variables, in plan order, as S, read directly from the call's
/// bindings b... (each read once, in the call's order), each at its position in the set Set.
template <class Plan, class S, class Set, class... B>
constexpr std::array<S, Plan::variable_count> bound_values_of(const B&... b) {
    constexpr const auto& at = variable_positions<Set, typename Plan::variables>::value;
    const std::array<S, sizeof...(B) + 1> all{held_number<S>(b.held)..., S{}};
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<S, Plan::variable_count>{all[at[I]]...};
    }
    (std::make_index_sequence<Plan::variable_count>{});
}

}  // namespace detail

/// The forward sweep from the numbers bound to the plan's variables (in plan order).
template <class Plan, class S, class Root, std::size_t V>
constexpr std::array<S, Plan::size> forward_bound(const Root& root, const std::array<S, V>& bound) {
    const auto constants = detail::constant_values<Plan, S>(root);
    std::array<S, Plan::size> v{};
    if constexpr (Plan::size <= detail::sweep_inline_max) {
        ctgrad::detail::static_for_chunks<Plan::size>([&]<std::size_t... J>(
            std::index_sequence<J...>) {
            ((v[J] = detail::forward_step<detail::step_t<Plan, J>, S, Plan::size, V,
                                          Plan::constant_count,
                                          Plan::max_arity>::run(v, bound, constants, Plan::child[J],
                                                                Plan::variable_rank[J],
                                                                Plan::constant_slot[J])),
             ...);
        });
    } else {
        constexpr std::size_t pieces = (Plan::size + detail::sweep_piece - 1) / detail::sweep_piece;
        ctgrad::detail::static_for_chunks<pieces>([&]<std::size_t... P>(std::index_sequence<P...>) {
            (detail::forward_piece<Plan, P * detail::sweep_piece>(
                 v, bound, constants,
                 detail::piece_sequence<Plan::size, P * detail::sweep_piece>{}),
             ...);
        });
    }
    return v;
}

/// The forward sweep: every entry's value, children before parents, in one statement per entry
/// (detail::evaluate), over the bound numbers and the root's constants read once.
template <class Plan, class S, class Root, class Set>
constexpr std::array<S, Plan::size> forward(const Root& root, const Set& set) {
    return forward_bound<Plan, S>(root, detail::bound_values<Plan, S>(set));
}

/// The reverse sweep from entry Seed down to entry 0, over the adjoints a (seeded by the
/// caller), with the active entries and first contributions of Tables (the plan's own by
/// default) and each contribution passed through Mask.
template <class Plan, std::size_t Seed, class Tables = detail::root_tables,
          class Mask = detail::unmasked, class S, class A>
constexpr void reverse_from(const std::array<S, Plan::size>& v, std::array<A, Plan::size>& a) {
    using rows = detail::push_rows<Plan, Tables>;
    if constexpr (Seed + 1 <= detail::sweep_inline_max) {
        constexpr bool named = !std::is_same_v<Mask, detail::unmasked>;
        ctgrad::detail::static_for_chunks<Seed + 1>([&]<std::size_t... R>(
            std::index_sequence<R...>) {
            (detail::reverse_step<detail::step_t<Plan, Seed - R>, Mask, S, A, Plan::size,
                                  Plan::max_arity>::template run < named
                 ? Seed - R
                 : 0,
             rows::value[Seed - R].pushes, rows::value[Seed - R].active,
             rows::value[Seed - R].assign > (v, a, Seed - R, Plan::child[Seed - R]), ...);
        });
    } else {
        constexpr std::size_t pieces = (Seed + detail::sweep_piece) / detail::sweep_piece;
        ctgrad::detail::static_for_chunks<pieces>([&]<std::size_t... P>(std::index_sequence<P...>) {
            (detail::reverse_piece<Plan, rows, Mask, Seed - P * detail::sweep_piece>(
                 v, a, detail::piece_sequence<Seed + 1, P * detail::sweep_piece>{}),
             ...);
        });
    }
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
