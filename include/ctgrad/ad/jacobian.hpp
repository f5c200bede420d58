/// @file
/// Vector-valued functions and their Jacobians: `outputs(f0, f1, ...)` is a function R^n -> R^m
/// whose outputs share one plan (a subexpression two outputs use is computed once), and
/// `jacobian(F, bindings...)` its values and every partial derivative. For scalar outputs of
/// scalar variables: by forward accumulation (one sweep on numbers carrying n tangents) or
/// reverse accumulation (one forward sweep, then the m reverse sweeps: at run time fused into one
/// sweep whose adjoints are SIMD vectors with a lane per output when m and the number type fit a
/// 16-byte register, else one sweep per output over that output's subexpressions only), chosen
/// at compile time from n and m. For tensor-valued outputs (`jacobian(F, ...)` of an expression
/// of shape [3] or [2, 2], or `outputs(...)` with tensor outputs) and tensor variables: by the
/// tensor engine, one forward and one backward pass per output element, each a vector-Jacobian
/// product seeded with that element's unit vector.
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
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/schedule.hpp>
#include <ctgrad/tensor/tensor.hpp>

/// Set to 0 to run the m reverse sweeps of a Jacobian one after the other at run time too
/// (the default fuses them on SIMD lanes where the number type and m allow it).
#ifndef CTGRAD_JACOBIAN_SIMD
#define CTGRAD_JACOBIAN_SIMD 1
#endif

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when a Jacobian would hold more than
/// `jacobian_max_entries` numbers (Outputs × Inputs, flattened).
template <std::size_t Outputs, std::size_t Inputs>
struct jacobian_is_too_large;

/// Diagnostic type: instantiated (and left incomplete) when forward accumulation is forced on a
/// function over tensors (its Jacobian is taken by reverse accumulation only); Outputs is m.
template <std::size_t Outputs>
struct forward_accumulation_of_a_tensor_function;

/// The largest Jacobian `jacobian` computes, in numbers (m × n): it is returned by value, in
/// arrays, so it must be small (a 256 × 256 Jacobian of doubles is 512 KiB). For larger
/// functions take vector-Jacobian products with `gradient` of a weighted sum instead.
inline constexpr std::size_t jacobian_max_entries = 65536;

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

/// The root of a vector function with a tensor-valued output: it ties the outputs into one
/// plan, like outputs_op, and is never evaluated (jacobian builds the seeded sum of the outputs
/// from its children). A tensor op of shape [] so that outputs of any shapes may be listed.
struct tensor_outputs_op {
    static constexpr std::string_view name = "outputs";
    static constexpr bool tensor_op = true;
    template <class... A>
    using result = shape<>;
};

}  // namespace ops

/// A function R^n -> R^m made by `outputs(f0, f1, ...)`: its outputs, with their common
/// subexpressions merged into one plan (`root`, an `outputs_op` node over them). Not an
/// expression: take its Jacobian with `jacobian(F, bindings...)`, or its values from
/// `jacobian(...).value`. A tensor output counts as its elements, in row-major order.
template <class Root, std::size_t M>
struct vector_function {
    using root_type = Root;
    /// The number of outputs, m (a tensor output counts its elements).
    static constexpr std::size_t size = M;
    /// The number of expressions given to outputs(...).
    static constexpr std::size_t parts = Root::arity;
    Root root;
};

namespace detail {

template <class T>
struct is_vector_function : std::false_type {};

template <class Root, std::size_t M>
struct is_vector_function<vector_function<Root, M>> : std::true_type {};

}  // namespace detail

/// A vector-valued function of the outputs' variables: `outputs(x * y, sin(x) + y)` is
/// R^2 -> R^2. Subexpressions several outputs share (as pure types: built from variables and
/// exact literals) are computed once. The outputs keep their order: output i of
/// `jacobian(F, ...)` is fi; an output may be a tensor expression, whose elements are outputs
/// in row-major order (`outputs(v, s)` with v of shape [3] and s a scalar has m = 4).
template <expression... F>
    requires(sizeof...(F) >= 1)
constexpr auto outputs(F... f) {
    constexpr std::size_t m = (std::size_t{0} + ... + detail::shape_of_t<F>::count);
    if constexpr (((detail::shape_of_t<F>::rank == 0) && ...)) {
        using root = decltype(make_node<ops::outputs_op>(std::move(f)...));
        return vector_function<root, m>{make_node<ops::outputs_op>(std::move(f)...)};
    } else {
        using root = decltype(make_node<ops::tensor_outputs_op>(std::move(f)...));
        return vector_function<root, m>{make_node<ops::tensor_outputs_op>(std::move(f)...)};
    }
}

/// How `jacobian` accumulates derivatives. `automatic` picks reverse when the function has at
/// least twice as many inputs as outputs (n >= 2m), forward otherwise: reverse costs about one
/// forward sweep plus m reverse sweeps (each about twice a forward sweep), forward about n + 1
/// forward sweeps' arithmetic.
enum class accumulation { automatic, forward, reverse };

namespace detail {

/// The number of columns a variable takes in a Jacobian: 1 for a scalar, its elements for a
/// tensor.
template <class V>
inline constexpr std::size_t columns_of = shape_of_t<V>::count;

/// The first column of each variable of a list, and the total (at position size).
template <class List>
struct column_layout;

template <class... V>
struct column_layout<type_list<V...>> {
    static constexpr std::array<std::size_t, sizeof...(V) + 1> first = [] {
        std::array<std::size_t, sizeof...(V) + 1> f{};
        const std::size_t n[] = {columns_of<V>..., 0};
        for (std::size_t k = 0; k < sizeof...(V); ++k) f[k + 1] = f[k] + n[k];
        return f;
    }();
    static constexpr std::size_t total = first[sizeof...(V)];
};

}  // namespace detail

/// The values of a vector function's m outputs at a point and its Jacobian:
/// `J.value[i]` = f_i, `J(i, x)` = ∂f_i/∂x (0 for a variable the function does not contain),
/// `J.rows[i][k]` = ∂f_i/∂ of input k: the variables (the function's in plan order, or the
/// `wrt(...)` list in its order) one after the other, a tensor variable taking as many columns
/// as it has elements, in row-major order (`J.column(X)` is its first). A tensor output's
/// elements are rows, in row-major order. For a tensor variable X, `J(i, X)` is ∂f_i/∂X, a
/// view of X's shape into row i.
template <class S, std::size_t M, class Variables>
struct jacobian_result {
    using scalar_type = S;
    using variables = Variables;
    /// m, the number of outputs (rows).
    static constexpr std::size_t outputs = M;
    /// n, the number of inputs (columns): the variables' elements.
    static constexpr std::size_t inputs = detail::column_layout<Variables>::total;

    std::array<S, M> value{};
    std::array<std::array<S, inputs>, M> rows{};

    /// The first column of the variable x (of its element 0 for a tensor variable).
    template <fixed_string Name, class Kind>
        requires detail::in_list<Variables, variable<Name, Kind>>
    static constexpr std::size_t column(variable<Name, Kind>) noexcept {
        return detail::column_layout<
            Variables>::first[detail::index_of_v<Variables, variable<Name, Kind>>];
    }

    /// ∂f_i/∂x for a scalar variable x (0 when x is not among the variables); for a tensor
    /// variable X, ∂f_i/∂X: a tensor_view of X's shape into row i.
    template <fixed_string Name, class Kind>
    constexpr auto operator()(std::size_t i, variable<Name, Kind> x) const {
        constexpr bool listed = detail::in_list<Variables, variable<Name, Kind>>;
        if constexpr (detail::is_tensor_kind<Kind>::value && !listed) {
            static_assert(listed,
                          "ctgrad::jacobian_result: the tensor variable is not among the "
                          "Jacobian's variables (it is not a variable of the function, or not "
                          "listed in wrt(...))");
            return S(0);
        } else if constexpr (detail::is_tensor_kind<Kind>::value) {
            return [&]<class T, std::size_t... D>(std::type_identity<tensor<T, D...>>) {
                return tensor_view<const S, D...>(rows[i].data() + column(x));
            }(std::type_identity<Kind>{});
        } else if constexpr (listed) {
            return rows[i][column(x)];
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

    static constexpr std::array<std::array<bool, Plan::max_arity>, Plan::size> assigns =
        first_contributions<Plan::size, Plan::max_arity>(active, seed + 1, Plan::facts.arity,
                                                         Plan::facts.differentiable, Plan::child);
};

/// The adjoints of every entry with respect to output Out (0 where Out does not depend on it):
/// the plan's reverse sweep from Out's entry, with Out's tables.
template <class Plan, std::size_t Out, class S>
constexpr std::array<S, Plan::size> output_reverse(const std::array<S, Plan::size>& v) {
    using sweep = output_sweep<Plan, Out>;
    std::array<S, Plan::size> a{};
    a[sweep::seed] = S(1);
    reverse_from<Plan, sweep::seed, sweep>(v, a);
    return a;
}

/// The entry of the variable at position K of Vars in Plan, or no_entry when Plan lacks it.
template <class Plan, class Vars, std::size_t K>
constexpr std::size_t entry_of_variable() {
    using V = ctgrad::detail::at_t<Vars, K>;
    if constexpr (ctgrad::detail::in_list<typename Plan::variables, V>) {
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

/// The reverse sweep's mask of a fused Jacobian sweep: entry J's contribution keeps only the
/// lanes of the outputs that depend on J.
template <class Plan, class L, std::size_t M>
struct lane_mask {
    template <std::size_t J, class V>
    static V apply(const V& d) {
        return mask_lanes<Plan, L, J, M>(d);
    }
};

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
    // every entry below the root (the outputs_op, never pushed), with the plan's own tables
    reverse_from<Plan, Plan::size - 2, root_tables, lane_mask<Plan, L, M>>(v, a);
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

// --- functions over tensors: one vector-Jacobian product per output element ---

/// The name of the seed variable of output part P.
template <std::size_t P>
inline constexpr auto seed_name = ctgrad::indexed_name<"ctgrad.jacobian.seed", P>;

/// The seed variable of output part P, of shape Shape (a scalar for shape<>).
template <class S, std::size_t P, class Shape>
constexpr auto seed_variable() {
    if constexpr (Shape::rank == 0) {
        return ctgrad::var<seed_name<P>>;
    } else {
        return [&]<std::size_t... D>(std::index_sequence<D...>) {
            return ctgrad::var<seed_name<P>, tensor<S, Shape::dims[D]...>>;
        }
        (std::make_index_sequence<Shape::rank>{});
    }
}

/// ⟨f_P, seed_P⟩: the output part times its seed, summed over its elements.
template <class S, std::size_t P, class C>
constexpr auto seeded_part(const C& c) {
    using shape = ctgrad::detail::shape_of_t<C>;
    if constexpr (shape::rank == 0) {
        return c * seed_variable<S, P, shape>();
    } else {
        return ctgrad::sum(c * seed_variable<S, P, shape>());
    }
}

/// Σ_P ⟨f_P, seed_P⟩ over the outputs of a vector function: its gradient with seed_P = e_k (and
/// every other seed 0) is row k of the Jacobian, a vector-Jacobian product.
template <class S, class Root, std::size_t... P>
constexpr auto seeded_sum(const Root& root, std::index_sequence<P...>) {
    return (seeded_part<S, P>(root.template child<P>()) + ...);
}

/// The first row of each output part (a tensor part has one row per element).
template <class Root>
struct part_layout {
    static constexpr std::array<std::size_t, Root::arity + 1> first =
        []<class... C>(ctgrad::detail::type_list<C...>) {
            std::array<std::size_t, sizeof...(C) + 1> f{};
            const std::size_t n[] = {ctgrad::detail::shape_of_t<C>::count..., 0};
            for (std::size_t p = 0; p < sizeof...(C); ++p) f[p + 1] = f[p] + n[p];
            return f;
        }(typename Root::args{});
};

/// The binding of seed P to its elements in `seeds` (a view for a tensor seed, the number for a
/// scalar one).
template <class S, std::size_t P, class Root, std::size_t M>
constexpr auto seed_binding(std::array<S, M>& seeds) {
    using shape = ctgrad::detail::shape_of_t<ctgrad::detail::at_t<typename Root::args, P>>;
    constexpr std::size_t first = part_layout<Root>::first[P];
    if constexpr (shape::rank == 0) {
        return seed_variable<S, P, shape>() = seeds[first];
    } else {
        return [&]<std::size_t... D>(std::index_sequence<D...>) {
            return seed_variable<S, P, shape>() =
                       tensor_view<S, shape::dims[D]...>(seeds.data() + first);
        }
        (std::make_index_sequence<shape::rank>{});
    }
}

/// Copies the values of output part P into j.value (from value(f_P, bindings...)).
template <std::size_t P, class J, class Root, class... B>
constexpr void part_values(J& j, const Root& root, const B&... b) {
    constexpr std::size_t first = part_layout<Root>::first[P];
    const auto v = ctgrad::value(root.template child<P>(), b...);
    if constexpr (requires { v.data(); }) {
        for (std::size_t e = 0; e < v.size(); ++e) j.value[first + e] = v.data()[e];
    } else {
        j.value[first] = static_cast<typename J::scalar_type>(v);
    }
}

/// Copies the adjoint of variable K of Vars (0 when the sweep's plan lacks it) into row r.
template <class Sched, class Vars, std::size_t K, class J>
constexpr void copy_adjoint(J& j, std::size_t r, const typename Sched::scalar* ws) {
    using V = ctgrad::detail::at_t<Vars, K>;
    using P = typename Sched::plan;
    constexpr std::size_t col = ctgrad::detail::column_layout<Vars>::first[K];
    constexpr std::size_t n = ctgrad::detail::columns_of<V>;
    if constexpr (ctgrad::detail::in_list<typename P::variables, V>) {
        constexpr std::size_t at =
            tensor_ad::workspace<Sched>::offsets
                .adj_off[P::variable_entry[ctgrad::detail::index_of_v<typename P::variables, V>]];
        for (std::size_t e = 0; e < n; ++e) j.rows[r][col + e] = ws[at + e];
    } else {
        for (std::size_t e = 0; e < n; ++e) j.rows[r][col + e] = 0;
    }
}

template <class List>
struct wrt_of;

template <class... V>
struct wrt_of<ctgrad::detail::type_list<V...>> {
    using type = wrt_t<V...>;
};

/// The Jacobian of a vector function over tensors by reverse accumulation in the tensor
/// engine: the values from one forward pass per output part, then for each of the m output
/// elements one forward and one backward pass of the seeded sum with that element's seed 1 and
/// every other 0, in one workspace. constexpr.
template <class S, class Vars, std::size_t M, class Root, class... B>
constexpr auto jacobian_tensor(const Root& root, const B&... b) {
    constexpr std::size_t parts = Root::arity;
    const auto e = seeded_sum<S>(root, std::make_index_sequence<parts>{});
    using E = std::remove_cvref_t<decltype(e)>;
    std::array<S, M> seeds{};
    return [&]<std::size_t... P>(std::index_sequence<P...>) {
        using c = ctgrad::detail::call<E, B..., decltype(seed_binding<S, P, Root>(seeds))...>;
        using sched = tensor_ad::schedule<typename c::plan, typename wrt_of<Vars>::type, S, true>;
        jacobian_result<S, M, Vars> j;
        (part_values<P>(j, root, b...), ...);
        tensor_ad::buffer<S> ws(tensor_ad::workspace<sched>::elements);
        for (std::size_t r = 0; r < M; ++r) {
            for (S& s : seeds) s = S(0);
            seeds[r] = S(1);
            const typename c::set set(b..., seed_binding<S, P, Root>(seeds)...);
            tensor_ad::engine<sched, E, typename c::set> run{e, set, ws.data()};
            run.sweep(tensor_ad::forward_sweep<sched>);
            run.sweep(tensor_ad::backward_sweep<sched>);
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (copy_adjoint<sched, Vars, K>(j, r, ws.data()), ...);
            }
            (std::make_index_sequence<Vars::size>{});
        }
        return j;
    }
    (std::make_index_sequence<parts>{});
}

template <std::size_t M, std::size_t N>
constexpr bool check_jacobian_size() {
    if constexpr (M * N > jacobian_max_entries) {
        static_assert(M * N <= jacobian_max_entries,
                      "ctgrad::jacobian: the Jacobian has more than jacobian_max_entries "
                      "(65536) numbers (m outputs x n inputs, named in "
                      "'jacobian_is_too_large<m, n>' below); it is returned by value: take "
                      "vector-Jacobian products with gradient(sum(F * weights), ...) instead");
        static_cast<void>(sizeof(jacobian_is_too_large<M, N>));
        return false;
    } else {
        return true;
    }
}

template <accumulation Mode, class Wrt, class F, class... B>
constexpr auto jacobian_impl(const F& f, const B&... b) {
    if constexpr (!ctgrad::detail::is_vector_function<F>::value) {
        if constexpr (expression<F>) {
            if constexpr (ctgrad::detail::shape_of_t<F>::rank > 0) {
                // a tensor-valued expression: the function of its elements
                return jacobian_impl<Mode, Wrt>(ctgrad::outputs(f), b...);
            } else {
                static_assert(ctgrad::detail::shape_of_t<F>::rank > 0,
                              "ctgrad::jacobian: the first argument must be a vector function "
                              "made by ctgrad::outputs(f0, f1, ...) or a tensor-valued "
                              "expression (for one scalar expression f, use gradient(f, ...), "
                              "or jacobian(outputs(f), ...))");
                return 0;
            }
        } else {
            static_assert(ctgrad::detail::is_vector_function<F>::value,
                          "ctgrad::jacobian: the first argument must be a vector function made "
                          "by ctgrad::outputs(f0, f1, ...) or a tensor-valued expression (for "
                          "one scalar expression f, use gradient(f, ...), or "
                          "jacobian(outputs(f), ...))");
            return 0;
        }
    } else {
        using E = typename F::root_type;
        using c = ctgrad::detail::call<E, B...>;
        using plan = typename c::plan;
        using vars = typename jacobian_variables<plan, Wrt>::type;
        constexpr std::size_t m = F::size;
        constexpr std::size_t n = ctgrad::detail::column_layout<vars>::total;
        constexpr bool tensors = tensor_ad::involves_tensors<plan>();
        if constexpr (!c::ok) {
            c::diagnose();
            return jacobian_result<double, m, vars>{};
        } else if constexpr (m * n > jacobian_max_entries) {
            static_cast<void>(check_jacobian_size<m, n>());
            return jacobian_result<double, m, vars>{};
        } else if constexpr (tensors) {
            if constexpr (Mode == accumulation::forward) {
                static_assert(Mode != accumulation::forward,
                              "ctgrad::jacobian: forward accumulation is not available for "
                              "functions over tensors (their Jacobian is taken by reverse "
                              "accumulation, one vector-Jacobian product per output element; "
                              "m is named in 'forward_accumulation_of_a_tensor_function<m>' "
                              "below)");
                static_cast<void>(sizeof(forward_accumulation_of_a_tensor_function<m>));
                return jacobian_result<double, m, vars>{};
            } else {
                using S = tensor_ad::element_t<plan>;
                return jacobian_tensor<S, vars, m>(f.root, b...);
            }
        } else {
            using S = scalar_t<plan, typename c::set>;
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

/// The values and Jacobian of a vector function `F = outputs(f0, ..., f(m-1))`, or of a
/// tensor-valued expression F (its elements in row-major order are the outputs), at the bound
/// point: `J.value[i]` = fi, `J(i, x)` = ∂fi/∂x, for every variable of F (a tensor variable
/// counts as its elements: `J(i, X)` is a view of X's shape). Every variable must be bound,
/// once. `Mode` forces forward or reverse accumulation (the default picks one from the number
/// of inputs n and outputs m; both give the same numbers up to rounding; a function over
/// tensors takes reverse accumulation only). constexpr.
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
