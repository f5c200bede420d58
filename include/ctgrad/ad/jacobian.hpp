/// @file
/// Vector-valued functions and their Jacobians: `outputs(f0, f1, ...)` is a function R^n -> R^m
/// whose outputs share one plan (a subexpression two outputs use is computed once), and
/// `jacobian(F, bindings...)` its values and every partial derivative, by forward accumulation
/// (one sweep on numbers carrying n tangents) or reverse accumulation (one forward sweep, then
/// the m reverse sweeps: at run time fused into one sweep whose adjoints are SIMD vectors with a
/// lane per output when m and the number type fit a 16-byte register, else one sweep per output
/// over that output's subexpressions only), chosen at compile time from n and m.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <cstring>      // std::memcpy
#include <string_view>  // std::string_view
#include <type_traits>  // std::remove_cvref_t, std::is_same_v
#include <utility>      // std::index_sequence, std::move

#include <ctgrad/ad/dual_sweep.hpp>
#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/plan.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/core/shape.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/tensor/schedule.hpp>

/// Set to 0 to run the m reverse sweeps of a Jacobian one after the other at run time too
/// (the default fuses them on SIMD lanes where the number type and m allow it).
#ifndef CTGRAD_JACOBIAN_SIMD
#define CTGRAD_JACOBIAN_SIMD 1
#endif

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when jacobian is given an expression
/// over a tensor variable; its arguments spell the variable's name.
template <char... Name>
struct jacobian_needs_scalar_variables;

/// Diagnostic type: instantiated (and left incomplete) when outputs(...) is given a tensor-valued
/// expression; Position is the output's position, Rank its rank.
template <std::size_t Position, std::size_t Rank>
struct output_is_not_a_scalar;

namespace ops {

/// The root of a vector function (`outputs(f0, f1, ...)`): it ties the outputs into one plan.
/// Its value is the sum of the outputs and its partials 1, so that it is a well-formed op, but
/// jacobian never uses either: it reads the outputs' own entries. A user never holds one as an
/// expression (outputs returns a vector_function, which value and gradient do not take).
struct outputs_op {
    static constexpr std::string_view name = "outputs";
    static constexpr auto value(auto... a) { return (a + ...); }
    template <std::size_t I, class... A>
    static constexpr auto partial(arg_t<I>, A... a) {
        using Y = decltype((a, ...));  // the type of the last argument, the value
        return Y(1);
    }
};

}  // namespace ops

/// A function R^n -> R^m made by `outputs(f0, f1, ...)`: its m scalar outputs, with their common
/// subexpressions merged into one plan (`root`, an `outputs_op` node over them). Not an
/// expression: take its Jacobian with `jacobian(F, bindings...)`, or its values from
/// `jacobian(...).value`.
template <class Root, std::size_t M>
struct vector_function {
    using root_type = Root;
    /// The number of outputs.
    static constexpr std::size_t size = M;
    Root root;
};

namespace detail {

template <class T>
struct is_vector_function : std::false_type {};

template <class Root, std::size_t M>
struct is_vector_function<vector_function<Root, M>> : std::true_type {};

template <std::size_t... Rank>
constexpr bool check_scalar_outputs() {
    constexpr std::array<std::size_t, sizeof...(Rank)> rank{Rank...};
    constexpr std::size_t bad = [&] {
        for (std::size_t i = 0; i < rank.size(); ++i) {
            if (rank[i] != 0) return i;
        }
        return npos;
    }();
    if constexpr (bad != npos) {
        static_assert(bad == npos,
                      "ctgrad::outputs: every output must be a scalar expression (Jacobians of "
                      "tensor-valued outputs are not available yet: reduce the tensor, or list "
                      "its elements as outputs); the output's position and rank are named in "
                      "'output_is_not_a_scalar<Position, Rank>' below");
        static_cast<void>(sizeof(output_is_not_a_scalar<bad, rank[bad]>));
        return false;
    } else {
        return true;
    }
}

}  // namespace detail

/// A vector-valued function of the outputs' variables: `outputs(x * y, sin(x) + y)` is
/// R^2 -> R^2. Every output is a scalar expression; subexpressions several outputs share (as
/// pure types: built from variables and exact literals) are computed once. The outputs keep
/// their order: output i of `jacobian(F, ...)` is fi.
template <expression... F>
    requires(sizeof...(F) >= 1)
constexpr auto outputs(F... f) {
    constexpr bool scalars = detail::check_scalar_outputs<detail::shape_of_t<F>::rank...>();
    if constexpr (!scalars) {
        return vector_function<int, sizeof...(F)>{};
    } else {
        using root = decltype(make_node<ops::outputs_op>(std::move(f)...));
        return vector_function<root, sizeof...(F)>{make_node<ops::outputs_op>(std::move(f)...)};
    }
}

/// How `jacobian` accumulates derivatives. `automatic` picks reverse when the function has at
/// least twice as many inputs as outputs (n >= 2m), forward otherwise: reverse costs about one
/// forward sweep plus m reverse sweeps (each about twice a forward sweep), forward about n + 1
/// forward sweeps' arithmetic.
enum class accumulation { automatic, forward, reverse };

/// The values of a vector function's m outputs at a point and its Jacobian:
/// `J.value[i]` = f_i, `J(i, x)` = ∂f_i/∂x (0 for a variable the function does not contain),
/// `J.rows[i][k]` = ∂f_i/∂v_k for the k-th variable of `variables` (the function's variables
/// in plan order, or the `wrt(...)` list in its order).
template <class S, std::size_t M, class Variables>
struct jacobian_result {
    using scalar_type = S;
    using variables = Variables;
    static constexpr std::size_t outputs = M;
    static constexpr std::size_t inputs = Variables::size;

    std::array<S, M> value{};
    std::array<std::array<S, Variables::size>, M> rows{};

    /// ∂f_i/∂x (0 when x is not among the variables).
    template <fixed_string Name, class Kind>
    constexpr S operator()(std::size_t i, variable<Name, Kind>) const {
        if constexpr (detail::list_contains_v<Variables, variable<Name, Kind>>) {
            return rows[i][detail::index_of_v<Variables, variable<Name, Kind>>];
        } else {
            return S(0);
        }
    }
};

namespace ad::detail {

/// The variables of a Jacobian: all of the plan's, or the wrt(...) list.
template <class Plan, class Wrt>
struct jacobian_variables {
    using type = typename Wrt::list;
};

template <class Plan>
struct jacobian_variables<Plan, all_variables> {
    using type = typename Plan::variables;
};

/// The tables of the reverse sweep seeded at output Out of a vector function's plan: the
/// entries it reaches (`active`: its active subexpressions), and which contribution assigns
/// each adjoint first, over those entries only (ad/plan.hpp does the same for the root).
template <class Plan, std::size_t Out>
struct output_sweep {
    static constexpr std::size_t seed = Plan::child[Plan::size - 1][Out];

    static constexpr std::array<bool, Plan::size> active = [] {
        std::array<bool, Plan::size> a{};
        a[seed] = Plan::active[seed];
        for (std::size_t k = seed + 1; k-- > 0;) {  // parents before children
            if (!a[k] || !Plan::facts.differentiable[k]) continue;
            for (std::size_t i = 0; i < Plan::facts.arity[k]; ++i) {
                const std::size_t c = Plan::child[k][i];
                a[c] = a[c] || Plan::active[c];
            }
        }
        return a;
    }();

    static constexpr std::array<std::array<bool, Plan::max_arity>, Plan::size> assigns = [] {
        std::array<std::array<bool, Plan::max_arity>, Plan::size> first{};
        std::array<bool, Plan::size> seen{};
        for (std::size_t k = seed + 1; k-- > 0;) {
            if (!active[k] || !Plan::facts.differentiable[k]) continue;
            for (std::size_t i = 0; i < Plan::facts.arity[k]; ++i) {
                const std::size_t c = Plan::child[k][i];
                if (active[c]) {
                    first[k][i] = !seen[c];
                    seen[c] = true;
                }
            }
        }
        return first;
    }();
};

template <class Plan, class Sweep, std::size_t J, class Seq>
struct output_adjoint_of;

template <class Plan, class Sweep, std::size_t J, std::size_t... I>
struct output_adjoint_of<Plan, Sweep, J, std::index_sequence<I...>> {
    using type =
        op_adjoint<typename Plan::template expr<J>::op, J,
                   ((std::uint64_t{Sweep::active[Plan::child[J][I]]} << I) | ... | 0u),
                   ((std::uint64_t{Sweep::assigns[J][I]} << I) | ... | 0u), Plan::child[J][I]...>;
};

/// What entry J does in the reverse sweep of one output: the statements of ad/sweep.hpp, with
/// that output's tables.
template <class Plan, class Sweep, std::size_t J,
          bool Pushes = Sweep::active[J] && Plan::facts.differentiable[J]>
struct output_adjoint_step {
    using type = no_adjoint;
};

template <class Plan, class Sweep, std::size_t J>
struct output_adjoint_step<Plan, Sweep, J, true> {
    using type =
        typename output_adjoint_of<Plan, Sweep, J,
                                   std::make_index_sequence<Plan::template arity<J>>>::type;
};

/// The adjoints of every entry with respect to output Out (0 where Out does not depend on it).
template <class Plan, std::size_t Out, class S>
constexpr std::array<S, Plan::size> output_reverse(const std::array<S, Plan::size>& v) {
    using sweep = output_sweep<Plan, Out>;
    constexpr std::size_t n = sweep::seed + 1;
    std::array<S, Plan::size> a{};
    a[sweep::seed] = S(1);
    ctgrad::detail::static_for_chunks<n>([&]<std::size_t... R>(std::index_sequence<R...>) {
        (push(typename output_adjoint_step<Plan, sweep, n - 1 - R>::type{}, v, a), ...);
    });
    return a;
}

/// The entry of the variable at position K of Vars in Plan, or no_entry when Plan lacks it.
template <class Plan, class Vars, std::size_t K>
constexpr std::size_t entry_of_variable() {
    using V = ctgrad::detail::at_t<Vars, K>;
    if constexpr (ctgrad::detail::list_contains_v<typename Plan::variables, V>) {
        return Plan::variable_entry[ctgrad::detail::index_of_v<typename Plan::variables, V>];
    } else {
        return ctgrad::detail::no_entry;
    }
}

template <class Plan, class Vars, std::size_t Out, std::size_t K, class S>
constexpr S reverse_partial(const std::array<S, Plan::size>& a) {
    constexpr std::size_t e = entry_of_variable<Plan, Vars, K>();
    if constexpr (e == ctgrad::detail::no_entry) {
        return S(0);
    } else if constexpr (!output_sweep<Plan, Out>::active[e]) {
        return S(0);
    } else {
        return a[e];
    }
}

template <class Plan, class Vars, std::size_t O, class S, std::size_t M, std::size_t... K>
constexpr void reverse_row(jacobian_result<S, M, Vars>& j, const std::array<S, Plan::size>& v,
                           std::index_sequence<K...>) {
    const auto a = output_reverse<Plan, O, S>(v);
    j.value[O] = v[Plan::child[Plan::size - 1][O]];
    // A pack, not a loop: constant indices keep v and a in registers (an initializer list, not
    // a fold: clang++ refuses folds of more than 256 operands).
    j.rows[O] = {reverse_partial<Plan, Vars, O, K>(a)...};
}

template <class Plan, class Vars, class S, std::size_t M, std::size_t... O>
constexpr void reverse_rows(jacobian_result<S, M, Vars>& j, const std::array<S, Plan::size>& v,
                            std::index_sequence<O...>) {
    ctgrad::detail::static_for_chunks<sizeof...(O)>([&]<std::size_t... C>(
        std::index_sequence<C...>) {
        (reverse_row<Plan, Vars, C>(j, v, std::make_index_sequence<Vars::size>{}), ...);
    });
}

// --- the m reverse sweeps as one, on SIMD lanes (run time only) ---

/// A 16-byte vector register type holding M numbers of type S (GCC/Clang vector extension:
/// two doubles or four floats, SSE2, so no ABI depends on the target's flags), with the integer
/// vector of the same size for masks; `ok` false otherwise (then the m sweeps run one after the
/// other).
template <class S, std::size_t M>
struct simd_lanes {
    static constexpr bool ok = false;
};

template <>
struct simd_lanes<double, 2> {
    static constexpr bool ok = true;
    typedef double type __attribute__((vector_size(16)));
    typedef long long mask __attribute__((vector_size(16)));
};

template <>
struct simd_lanes<float, 4> {
    static constexpr bool ok = true;
    typedef float type __attribute__((vector_size(16)));
    typedef int mask __attribute__((vector_size(16)));
};

/// For every entry of a plan with M outputs: which outputs depend on it (the lanes its adjoint
/// carries), and whether some do not (then its contributions are masked, so that a 0 adjoint
/// times an infinite partial gives 0 in those lanes, as in the separate sweeps, not NaN). One
/// table per plan.
template <class Plan, std::size_t M>
struct lane_cones {
    struct table {
        std::array<std::array<bool, M>, Plan::size> in{};
        std::array<bool, Plan::size> partial{};
    };
    static constexpr table value = []<std::size_t... O>(std::index_sequence<O...>) {
        table t;
        for (std::size_t j = 0; j < Plan::size; ++j) {
            t.in[j] = {output_sweep<Plan, O>::active[j]...};
            t.partial[j] = !(output_sweep<Plan, O>::active[j] && ...);
        }
        return t;
    }
    (std::make_index_sequence<M>{});
};

/// The vector with 1 in lane O and 0 elsewhere.
template <class V, std::size_t M, std::size_t O>
inline V unit_lane() {
    return []<std::size_t... L>(std::index_sequence<L...>) {
        return V{(L == O ? 1 : 0)...};
    }
    (std::make_index_sequence<M>{});
}

template <class Plan, class L, std::size_t J, std::size_t M, class V>
inline V mask_lanes(V d) {
    if constexpr (lane_cones<Plan, M>::value.partial[J]) {
        const typename L::mask m = []<std::size_t... O>(std::index_sequence<O...>) {
            return typename L::mask{(lane_cones<Plan, M>::value.in[J][O] ? -1 : 0)...};
        }
        (std::make_index_sequence<M>{});
        return (V)((typename L::mask)d & m);
    } else {
        return d;
    }
}

template <class Plan, class L, std::size_t M, class S, std::size_t N, class V>
inline void push_simd(no_adjoint, const std::array<S, N>&, std::array<V, N>&) {}

template <class Plan, class L, std::size_t M, std::size_t I, class Op, std::size_t J,
          std::uint64_t Active, std::uint64_t Assign, class S, std::size_t N, class V,
          std::size_t... C>
inline void push_simd_one(const std::array<S, N>& v, std::array<V, N>& a) {
    if constexpr ((Active >> I) & 1u) {
        constexpr std::size_t c[] = {C...};
        const S p = static_cast<S>(Op::partial(arg<I>, v[C]..., v[J]));
        const V d = mask_lanes<Plan, L, J, M>(p * a[J]);
        if constexpr ((Assign >> I) & 1u) {
            a[c[I]] = d;
        } else {
            a[c[I]] += d;
        }
    }
}

template <class Plan, class L, std::size_t M, class Op, std::size_t J, std::uint64_t Active,
          std::uint64_t Assign, class S, std::size_t N, class V, std::size_t... C, std::size_t... I>
inline void push_simd_all(const std::array<S, N>& v, std::array<V, N>& a,
                          std::index_sequence<I...>) {
    (push_simd_one<Plan, L, M, I, Op, J, Active, Assign, S, N, V, C...>(v, a), ...);
}

/// Entry J's adjoint, a vector of M lanes (one per output), pushed to its arguments: each local
/// partial is computed once and multiplies all lanes in one instruction.
template <class Plan, class L, std::size_t M, class S, std::size_t N, class V, class Op,
          std::size_t J, std::uint64_t Active, std::uint64_t Assign, std::size_t... C>
inline void push_simd(op_adjoint<Op, J, Active, Assign, C...>, const std::array<S, N>& v,
                      std::array<V, N>& a) {
    push_simd_all<Plan, L, M, Op, J, Active, Assign, S, N, V, C...>(
        v, a, std::make_index_sequence<sizeof...(C)>{});
}

/// Reverse accumulation with the m sweeps fused into one on SIMD lanes: output o is lane o,
/// seeded with 1 at its entry; the plan's own tables (every entry some output depends on, the
/// first contribution assigns) drive one reverse sweep below the root. Run time only (vector
/// extensions are not constant expressions with every compiler).
template <class Plan, class Vars, class S, std::size_t M, class Root, class Set>
auto jacobian_simd(const Root& root, const Set& set) {
    using L = simd_lanes<S, M>;
    using V = typename L::type;
    const auto v = forward<Plan, S>(root, set);
    std::array<V, Plan::size> a{};
    [&]<std::size_t... O>(std::index_sequence<O...>) {
        ((a[Plan::child[Plan::size - 1][O]] += unit_lane<V, M, O>()), ...);
    }
    (std::make_index_sequence<M>{});
    constexpr std::size_t n = Plan::size - 1;
    ctgrad::detail::static_for_chunks<n>([&]<std::size_t... R>(std::index_sequence<R...>) {
        (push_simd<Plan, L, M>(typename adjoint_step<Plan, n - 1 - R>::type{}, v, a), ...);
    });
    jacobian_result<S, M, Vars> j;
    for (std::size_t o = 0; o < M; ++o) j.value[o] = v[Plan::child[Plan::size - 1][o]];
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (
            [&] {
                constexpr std::size_t e = entry_of_variable<Plan, Vars, K>();
                if constexpr (e == ctgrad::detail::no_entry) {
                    for (std::size_t o = 0; o < M; ++o) j.rows[o][K] = S(0);
                } else {
                    S lanes[M];
                    std::memcpy(lanes, &a[e], sizeof(lanes));
                    for (std::size_t o = 0; o < M; ++o) j.rows[o][K] = lanes[o];
                }
            }(),
            ...);
    }
    (std::make_index_sequence<Vars::size>{});
    return j;
}

/// Reverse accumulation: one forward sweep, then one reverse sweep per output.
template <class Plan, class Vars, class S, std::size_t M, class Root, class Set>
constexpr auto jacobian_reverse(const Root& root, const Set& set) {
    const auto v = forward<Plan, S>(root, set);
    jacobian_result<S, M, Vars> j;
    reverse_rows<Plan, Vars>(j, v, std::make_index_sequence<M>{});
    return j;
}

template <class Plan, class Vars, std::size_t O, class S, std::size_t M, class R, std::size_t... K>
constexpr void forward_row(jacobian_result<S, M, Vars>& j, const R& r, std::index_sequence<K...>) {
    const auto& y = r[Plan::child[Plan::size - 1][O]];
    j.value[O] = y.v;
    j.rows[O] = {y.t[K]...};
}

template <class Plan, class Vars, class S, std::size_t M, class R, std::size_t... O>
constexpr void forward_rows(jacobian_result<S, M, Vars>& j, const R& r, std::index_sequence<O...>) {
    ctgrad::detail::static_for_chunks<sizeof...(O)>([&]<std::size_t... C>(
        std::index_sequence<C...>) {
        (forward_row<Plan, Vars, C>(j, r, std::make_index_sequence<Vars::size>{}), ...);
    });
}

/// Forward accumulation: one sweep on numbers carrying a tangent per variable of Vars.
template <class Plan, class Vars, class S, std::size_t M, class Root, class Set>
constexpr auto jacobian_forward(const Root& root, const Set& set) {
    const auto r = dual_forward<Plan, S, Vars::size>(root, set, unit_seed<Vars>{});
    jacobian_result<S, M, Vars> j;
    forward_rows<Plan, Vars>(j, r, std::make_index_sequence<M>{});
    return j;
}

template <class V>
constexpr bool check_jacobian_variable() {
    if constexpr (!std::is_same_v<typename V::kind, scalar_kind>) {
        static_assert(std::is_same_v<typename V::kind, scalar_kind>,
                      "ctgrad::jacobian: the function must be of scalar variables (Jacobians "
                      "with respect to tensor variables are not available yet; the variable is "
                      "named in 'jacobian_needs_scalar_variables<...>' below)");
        static_cast<void>(
            sizeof(ctgrad::detail::spelled<V::name, jacobian_needs_scalar_variables>));
        return false;
    } else {
        return true;
    }
}

template <class List>
struct scalar_list;

template <class... V>
struct scalar_list<ctgrad::detail::type_list<V...>> {
    static constexpr bool quietly =
        ctgrad::detail::all_true_v<std::is_same_v<typename V::kind, scalar_kind>...>;
    static constexpr bool check() {
        return ctgrad::detail::all_true_v<check_jacobian_variable<V>()...>;
    }
};

template <accumulation Mode, class Wrt, class F, class... B>
constexpr auto jacobian_impl(const F& f, const B&... b) {
    if constexpr (!ctgrad::detail::is_vector_function<F>::value) {
        static_assert(ctgrad::detail::is_vector_function<F>::value,
                      "ctgrad::jacobian: the first argument must be a vector function made by "
                      "ctgrad::outputs(f0, f1, ...) (for one scalar expression f, use "
                      "gradient(f, ...), or jacobian(outputs(f), ...))");
        return 0;
    } else if constexpr (!expression<typename F::root_type>) {
        return 0;  // outputs(...) refused its arguments, and said why
    } else {
        using E = typename F::root_type;
        using c = ctgrad::detail::call<E, B...>;
        using plan = typename c::plan;
        using vars = typename jacobian_variables<plan, Wrt>::type;
        constexpr std::size_t m = F::size;
        constexpr bool scalar =
            scalar_list<typename plan::variables>::quietly && scalar_list<vars>::quietly;
        if constexpr (!c::ok) {
            c::diagnose();
            return jacobian_result<double, m, vars>{};
        } else if constexpr (!scalar) {
            static_cast<void>(scalar_list<typename plan::variables>::check() &&
                              scalar_list<vars>::check());
            return jacobian_result<double, m, vars>{};
        } else {
            using S = scalar_t<plan, typename c::set>;
            constexpr std::size_t n = vars::size;
            constexpr bool reverse =
                Mode == accumulation::reverse || (Mode == accumulation::automatic && n >= 2 * m);
            const typename c::set set(b...);
            if constexpr (reverse && simd_lanes<S, m>::ok && CTGRAD_JACOBIAN_SIMD) {
                if (std::is_constant_evaluated()) {
                    return jacobian_reverse<plan, vars, S, m>(f.root, set);
                } else {
                    return jacobian_simd<plan, vars, S, m>(f.root, set);
                }
            } else if constexpr (reverse) {
                return jacobian_reverse<plan, vars, S, m>(f.root, set);
            } else {
                return jacobian_forward<plan, vars, S, m>(f.root, set);
            }
        }
    }
}

}  // namespace ad::detail

/// The values and Jacobian of a vector function `F = outputs(f0, ..., f(m-1))` at the bound
/// point: `J.value[i]` = fi, `J(i, x)` = ∂fi/∂x, for every variable of F. Every variable must
/// be bound, once. `Mode` forces forward or reverse accumulation (the default picks one from the
/// number of variables n and outputs m; both give the same numbers up to rounding). constexpr.
template <accumulation Mode = accumulation::automatic, class F, class... B>
    requires binding_arguments<B...>
constexpr auto jacobian(const F& f, const B&... b) {
    return ad::detail::jacobian_impl<Mode, all_variables>(f, b...);
}

/// The Jacobian with respect to the listed variables only, in their order (`J.rows[i][k]` is
/// ∂fi/∂ of the k-th listed variable): `jacobian(F, wrt(a, b), a = 1.0, b = 2.0, x = 0.5)`. The
/// others (data, observations) are bound but carry no derivative.
template <accumulation Mode = accumulation::automatic, class F, class... V, class... B>
    requires binding_arguments<B...>
constexpr auto jacobian(const F& f, wrt_t<V...>, const B&... b) {
    return ad::detail::jacobian_impl<Mode, wrt_t<V...>>(f, b...);
}

}  // namespace ctgrad
