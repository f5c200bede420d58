/// @file
/// The sweeps of expressions over tensors, planned at compile time from the expression type.
///
/// The plan (ad/plan.hpp) gives the unique subexpressions in topological order, as for
/// scalars. On top of it a *schedule* decides, per entry:
/// - whether its value is stored (a buffer in the workspace) or recomputed inline where it is
///   read: an elementwise entry read by exactly one elementwise op or whole reduction of the
///   same size is inlined, so an elementwise chain (bias add + activation, a loss and its
///   reduction) is one loop; an inlined entry that the backward pass differentiates through
///   stays inline only if it is cheap to recompute (+ − × square relu abs ...), otherwise
///   (exp, tanh, sigmoid, ...) its value is stored and reused for its derivative, by the loop
///   that reads it in the forward pass (an exp and the sum over it: one loop);
/// - whether its adjoint is stored or pushed inline: the adjoint of an entry with a single
///   elementwise consumer is never stored, it flows through the consumer's loop down to the
///   next stored buffer (activation derivative × upstream gradient × ... in one loop);
/// - whether each contribution to a stored adjoint assigns or adds (the first one assigns;
///   a broadcast one, summed over rows, zero-fills its buffer first);
/// - where each buffer lives: an offset in one workspace, from the buffers' lifetimes over the
///   forward and backward steps, so that a buffer nothing reads any more is reused and the
///   workspace holds only what the backward pass needs. Its size is a constant.
/// Non-elementwise ops (matmul, softmax, ...) run their own kernels on stored buffers; see
/// tensor/ops.hpp for their contract.
///
/// The loops (engine::loop) run over rows in blocks of `lanes` (two vectors of the element type,
/// at least 8), a partial sum per lane for reductions and for the adjoints of scalars; the numbers
/// a loop reads that do not change in it (scalar variables, reductions' values) are loaded into
/// locals before it, and GCC is told that its blocks are independent, so that the loops are
/// vectorised without run-time overlap checks: the workspace never overlaps a bound tensor (do not
/// bind a view into a program's workspace to the same program).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <new>          // std::align_val_t
#include <type_traits>  // std::common_type_t, std::is_constant_evaluated
#include <utility>      // std::index_sequence, std::exchange

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <ctgrad/ad/plan.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/shape.hpp>
#include <ctgrad/tensor/tensor.hpp>

/// Forces inlining of the engine's loops and their bodies (GCC, Clang): each is instantiated for
/// one step, so inlining it costs no code, and the state of the loop (its invariants and
/// accumulators) then lives in registers of the step's function.
#if defined(__GNUC__) || defined(__clang__)
#define CTGRAD_ALWAYS_INLINE __attribute__((always_inline))
#else
#define CTGRAD_ALWAYS_INLINE
#endif

/// Asserts that the iterations of the loop that follows do not depend on each other through memory
/// the compiler cannot tell apart, so that GCC vectorises the loop without checking for overlap at
/// run time (which its -O2 cost model does not do). Clang checks at run time; its counterpart
/// (`clang loop vectorize(assume_safety)`) would also demand vectorisation, and warn where a loop
/// cannot be (a call of exp).
#if defined(__GNUC__) && !defined(__clang__)
#define CTGRAD_IVDEP _Pragma("GCC ivdep")
#else
#define CTGRAD_IVDEP
#endif

namespace ctgrad {

/// The variables to differentiate with respect to: `gradient(loss, wrt(W1, b1), X = x, ...)`.
/// Variables not listed (the data X, the targets Y) get no adjoint and cost nothing in the
/// backward pass. Without wrt(...), gradient differentiates with respect to every variable.
template <class... V>
struct wrt_t {
    using list = detail::type_list<V...>;
};

/// Every variable of the expression (the default of gradient and program).
struct all_variables {};

template <fixed_string... Names, class... Kinds>
constexpr wrt_t<variable<Names, Kinds>...> wrt(variable<Names, Kinds>...) {
    return {};
}

namespace tensor_ad {

enum class kind : unsigned char { variable, constant, elementwise, reduce, kernel };

template <class E>
constexpr kind kind_of() {
    if constexpr (is_variable_v<E>) {
        return kind::variable;
    } else if constexpr (!is_node_v<E>) {
        return kind::constant;
    } else if constexpr (requires { requires E::op::reduce_all; }) {
        return kind::reduce;
    } else if constexpr (detail::tensor_op<typename E::op>) {
        return kind::kernel;
    } else {
        return kind::elementwise;
    }
}

/// Elementwise ops cheap enough to recompute in the backward pass rather than store.
template <class Op>
inline constexpr bool cheap = detail::list_contains_v<
    detail::type_list<ops::neg_op, ops::add_op, ops::sub_op, ops::mul_op, ops::square_op,
                      ops::relu_op, ops::abs_op, ops::max_op, ops::min_op, ops::greater_op,
                      ops::greater_equal_op>,
    Op>;

template <class E>
constexpr bool cheap_entry() {
    if constexpr (is_node_v<E>) {
        return cheap<typename E::op>;
    } else {
        return true;
    }
}

/// Whether the op of E passes a derivative to its argument I (locally constant ops do not;
/// a tensor op may decline one argument, see has_vjp).
template <class E, std::size_t I>
constexpr bool passes_to() {
    if constexpr (!is_node_v<E>) {
        return false;
    } else if constexpr (kind_of<E>() == kind::kernel) {
        return E::op::template has_vjp<I>;
    } else {
        return !ad::detail::locally_constant<typename E::op>();
    }
}

template <class E>
struct variable_type {
    using type = void;
};

template <fixed_string Name, class T, std::size_t... D>
struct variable_type<variable<Name, tensor<T, D...>>> {
    using type = T;
};

/// Whether a plan involves tensors (a tensor variable or a tensor op); scalar plans keep the
/// register-resident scalar sweep.
template <class Plan>
constexpr bool involves_tensors() {
    return []<std::size_t... J>(std::index_sequence<J...>) {
        return ((detail::shape_of_t<typename Plan::template expr<J>>::rank > 0 ||
                 kind_of<typename Plan::template expr<J>>() == kind::kernel) ||
                ...);
    }
    (std::make_index_sequence<Plan::size>{});
}

template <class List>
struct element_type_of;

template <>
struct element_type_of<detail::type_list<>> {
    using type = double;
};

/// Diagnostic type: instantiated when the tensor variables of one expression have different
/// element types.
template <class... T>
struct tensor_variables_have_different_element_types;

template <class T0, class... T>
struct element_type_of<detail::type_list<T0, T...>> {
    static constexpr bool same = (std::is_same_v<T0, T> && ...);
    static constexpr bool checked() {
        if constexpr (!same) {
            static_assert(same,
                          "ctgrad: the tensor variables of one expression must have one element "
                          "type (float or double, not both); the types are named in "
                          "'tensor_variables_have_different_element_types<...>' below");
            static_cast<void>(sizeof(tensor_variables_have_different_element_types<T0, T...>));
        }
        return same;
    }
    static_assert(checked() || !same);
    using type = T0;
};

/// The element type of a tensor sweep: the common element type of the tensor variables
/// (float for float tensors, whatever the scalars and constants are: they are converted).
template <class Plan>
struct element_of {
    template <std::size_t... J>
    static auto types(std::index_sequence<J...>)
        -> detail::type_list<typename variable_type<typename Plan::template expr<J>>::type...>;
    using all = decltype(types(std::make_index_sequence<Plan::size>{}));
    struct mask {
        static constexpr std::array<bool, Plan::size> value =
            []<std::size_t... J>(std::index_sequence<J...>) {
            return std::array<bool, Plan::size>{
                !std::is_void_v<typename variable_type<typename Plan::template expr<J>>::type>...};
        }
        (std::make_index_sequence<Plan::size>{});
    };
    using type = typename element_type_of<detail::filter_t<all, mask>>::type;
};

template <class Plan>
using element_t = typename element_of<Plan>::type;

/// Whether the variable E is differentiated with respect to.
template <class Wrt, class E>
constexpr bool wanted() {
    if constexpr (!is_variable_v<E>) {
        return false;
    } else if constexpr (std::is_same_v<Wrt, all_variables>) {
        return true;
    } else {
        return detail::list_contains_v<typename Wrt::list, E>;
    }
}

inline constexpr std::size_t none = static_cast<std::size_t>(-1);

/// How a contribution of an entry reaches its argument's adjoint.
enum class edge : unsigned char { skip, assign, accumulate, inline_push, update };

/// The per-entry decisions of a sweep (see the file comment).
template <std::size_t N, std::size_t A>
struct tables {
    // facts from the types
    std::array<kind, N> kinds{};
    std::array<std::size_t, N> count{};
    std::array<std::size_t, N> arity{};
    std::array<std::array<std::size_t, A>, N> child{};
    std::array<std::array<bool, A>, N> passes{};
    std::array<std::array<bool, A>, N> updates{};  // the op can add α·(its vjp) in place
    std::array<bool, N> cheap{};
    std::array<bool, N> wanted{};
    // decisions
    std::array<bool, N> active{};
    std::array<std::size_t, N> consumers{};
    std::array<std::size_t, N> consumer{};
    std::array<std::size_t, N> domain{};  // elements a loop over this entry runs over
    std::array<bool, N> val_inline{};
    std::array<bool, N> adj_inline{};
    std::array<bool, N> mat_val{};
    std::array<bool, N> mat_adj{};
    std::array<bool, N> fused{};  // a parameter updated in place by its consumer's vjp
    std::array<std::array<edge, A>, N> edges{};
    std::array<bool, N> written{};
    std::array<std::size_t, N> zero_before{};  // loop root before which the adjoint is zeroed
    std::array<bool, N> zero_at_start{};       // never written: zeroed when the backward starts
    // layout (in elements)
    std::array<std::size_t, N> val_off{};
    std::array<std::size_t, N> adj_off{};
    std::size_t total = 0;
    std::size_t buffers = 0;
};

template <class Plan, class Wrt, bool Backward>
struct facts_of {
    static constexpr std::size_t N = Plan::size;
    static constexpr std::size_t A = Plan::max_arity;

    template <std::size_t J>
    static constexpr std::array<bool, A> passes_of() {
        using E = typename Plan::template expr<J>;
        return []<std::size_t... I>(std::index_sequence<I...>) {
            std::array<bool, A> p{};
            ((p[I] = passes_to<E, I>()), ...);
            return p;
        }
        (std::make_index_sequence<Plan::template arity<J>>{});
    }

    template <std::size_t J>
    static constexpr std::array<bool, A> updates_of() {
        using E = typename Plan::template expr<J>;
        std::array<bool, A> u{};
        if constexpr (is_node_v<E>) {
            if constexpr (requires { E::op::template updates_in_place<0>; }) {
                [&]<std::size_t... I>(std::index_sequence<I...>) {
                    ((u[I] = E::op::template updates_in_place<I>), ...);
                }
                (std::make_index_sequence<Plan::template arity<J>>{});
            }
        }
        return u;
    }

    static constexpr tables<N, A> make() {
        tables<N, A> t{};
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            ((t.kinds[J] = kind_of<typename Plan::template expr<J>>(),
              t.count[J] = detail::shape_of_t<typename Plan::template expr<J>>::count,
              t.cheap[J] = cheap_entry<typename Plan::template expr<J>>(),
              t.wanted[J] = wanted<Wrt, typename Plan::template expr<J>>(),
              t.passes[J] = passes_of<J>(), t.updates[J] = updates_of<J>()),
             ...);
        });
        for (std::size_t j = 0; j < N; ++j) {
            t.arity[j] = Plan::facts.arity[j];
            t.child[j] = Plan::child[j];
        }
        return t;
    }
};

/// Facts of the entries of a plan that the sweeps use but its schedules do not copy around: the
/// last dimension (1 for a scalar), and how many numbers the forward kernel of a tensor op keeps
/// after its result for its vjp (`saved<ArgShapes...>` of the op; 0 for ops without).
template <class Plan>
struct plan_extents {
    template <std::size_t J>
    static constexpr std::size_t saved_of() {
        using E = typename Plan::template expr<J>;
        if constexpr (kind_of<E>() != kind::kernel) {
            return 0;
        } else {
            return []<std::size_t... I>(std::index_sequence<I...>)->std::size_t {
                using Op = typename E::op;
                if constexpr (requires {
                                  Op::template saved<detail::shape_of_t<
                                      typename Plan::template expr<Plan::child[J][I]>>...>;
                              }) {
                    return Op::template saved<
                        detail::shape_of_t<typename Plan::template expr<Plan::child[J][I]>>...>;
                } else {
                    return 0;
                }
            }
            (std::make_index_sequence<Plan::template arity<J>>{});
        }
    }

    static constexpr std::array<std::size_t, Plan::size> cols =
        []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<std::size_t, Plan::size>{
            detail::shape_of_t<typename Plan::template expr<J>>::cols...};
    }
    (std::make_index_sequence<Plan::size>{});

    static constexpr std::array<std::size_t, Plan::size> saved =
        []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<std::size_t, Plan::size>{saved_of<J>()...};
    }
    (std::make_index_sequence<Plan::size>{});
};

/// Adds the contributions made inside the loop rooted at `k` below entry m, in the order the
/// generated code makes them (arguments in order, an inlined argument's own arguments before
/// the next one).
template <std::size_t N, std::size_t A>
constexpr void simulate_loop(tables<N, A>& t, std::size_t root, std::size_t m, std::size_t domain) {
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        if (!t.active[c] || !t.passes[m][i]) {
            t.edges[m][i] = edge::skip;
        } else if (t.adj_inline[c]) {
            t.edges[m][i] = edge::inline_push;
            simulate_loop(t, root, c, domain);
        } else if (!t.written[c]) {
            t.written[c] = true;
            if (t.count[c] == domain) {
                t.edges[m][i] = edge::assign;
            } else {
                t.zero_before[c] = root;
                t.edges[m][i] = edge::accumulate;
            }
        } else {
            t.edges[m][i] = edge::accumulate;
        }
    }
}

template <std::size_t N, std::size_t A>
constexpr bool is_loop_root(const tables<N, A>& t, std::size_t k) {
    return t.active[k] && t.mat_adj[k] &&
           (t.kinds[k] == kind::elementwise || t.kinds[k] == kind::reduce ||
            t.kinds[k] == kind::kernel);
}

struct lifetime {
    std::size_t first = none, last = 0;
    constexpr void touch(std::size_t s) {
        first = first == none || s < first ? s : first;
        last = s > last ? s : last;
    }
};

template <std::size_t N, std::size_t A>
constexpr void forward_reads(const tables<N, A>& t, std::size_t j, std::size_t step,
                             std::array<lifetime, 2 * N>& life) {
    for (std::size_t i = 0; i < t.arity[j]; ++i) {
        const std::size_t c = t.child[j][i];
        if (t.val_inline[c]) {
            forward_reads(t, c, step, life);
        } else if (t.mat_val[c]) {
            life[c].touch(step);
        }
    }
}

template <std::size_t N, std::size_t A>
constexpr void backward_reads(const tables<N, A>& t, std::size_t m, std::size_t step,
                              std::array<lifetime, 2 * N>& life) {
    if (t.mat_val[m]) life[m].touch(step);
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        if (t.edges[m][i] == edge::inline_push) {
            backward_reads(t, c, step, life);
        } else {
            if (t.mat_val[c]) {
                life[c].touch(step);
            } else if (t.val_inline[c]) {
                forward_reads(t, c, step, life);
            }
            if (t.edges[m][i] != edge::skip) life[N + c].touch(step);
        }
    }
}

/// The entries whose stored adjoints the loop rooted at m writes.
template <std::size_t N, std::size_t A>
constexpr void collect_targets(const tables<N, A>& t, std::size_t m, std::array<bool, N>& hit) {
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        if (t.edges[m][i] == edge::inline_push) {
            collect_targets(t, c, hit);
        } else if (t.edges[m][i] != edge::skip) {
            hit[c] = true;
        }
    }
}

/// The schedule of the sweep of Plan in element type S: forward only (value) or forward and
/// backward (gradient with respect to Wrt).
template <class Plan, class Wrt, class S, bool Backward, bool Update = false>
struct schedule {
    static_assert(Backward || !Update);
    static constexpr bool update = Update;
    using plan = Plan;
    using wrt = Wrt;
    using scalar = S;
    static constexpr std::size_t N = Plan::size;
    static constexpr std::size_t A = Plan::max_arity;
    static constexpr std::size_t root = N - 1;
    static constexpr std::size_t align = 64 / sizeof(S) > 0 ? 64 / sizeof(S) : 1;

    static constexpr tables<N, A> compute() {
        tables<N, A> t = facts_of<Plan, Wrt, Backward>::make();
        // activity: depends on a wanted variable through ops that pass derivatives
        for (std::size_t j = 0; j < N; ++j) {
            t.active[j] = t.kinds[j] == kind::variable && t.wanted[j];
            for (std::size_t i = 0; i < t.arity[j]; ++i) {
                t.active[j] = t.active[j] || (t.passes[j][i] && t.active[t.child[j][i]]);
            }
        }
        if constexpr (!Backward) {
            t.active = {};
        }
        // consumers and loop domains
        for (std::size_t j = 0; j < N; ++j) {
            t.consumer[j] = none;
            t.domain[j] = t.kinds[j] == kind::reduce ? t.count[t.child[j][0]] : t.count[j];
            t.zero_before[j] = none;
        }
        for (std::size_t j = 0; j < N; ++j) {
            for (std::size_t i = 0; i < t.arity[j]; ++i) {
                ++t.consumers[t.child[j][i]];
                t.consumer[t.child[j][i]] = j;
            }
        }
        for (std::size_t j = 0; j + 1 < N; ++j) {
            const std::size_t k = t.consumer[j];
            const bool fusable = t.kinds[j] == kind::elementwise && t.consumers[j] == 1 &&
                                 (t.kinds[k] == kind::elementwise || t.kinds[k] == kind::reduce) &&
                                 t.domain[k] == t.count[j];
            t.val_inline[j] = fusable && !(t.active[j] && !t.cheap[j]);
            t.adj_inline[j] = fusable && t.active[j];
        }
        for (std::size_t j = 0; j < N; ++j) {
            t.mat_val[j] = (t.kinds[j] == kind::elementwise || t.kinds[j] == kind::reduce ||
                            t.kinds[j] == kind::kernel) &&
                           !t.val_inline[j];
            t.mat_adj[j] = Backward && t.kinds[j] != kind::constant &&
                           (j == root || (t.active[j] && !t.adj_inline[j]));
        }
        // an SGD step adds −lr·∂/∂W straight into a parameter W read by a single op that can
        // (matmul: W += −lr·Aᵀ·dC), after that op's other vjps have read W; no buffer for ∂/∂W
        if constexpr (Update) {
            for (std::size_t k = 0; k < N; ++k) {
                for (std::size_t i = 0; i < t.arity[k]; ++i) {
                    const std::size_t c = t.child[k][i];
                    if (t.kinds[c] == kind::variable && t.active[c] && t.consumers[c] == 1 &&
                        t.kinds[k] == kind::kernel && t.passes[k][i] && t.updates[k][i]) {
                        t.fused[c] = true;
                        t.mat_adj[c] = false;
                    }
                }
            }
        }
        // the order of contributions: loop roots from the last entry back
        for (std::size_t k = N; k-- > 0;) {
            if (!is_loop_root(t, k)) continue;
            if (t.kinds[k] == kind::kernel) {
                for (std::size_t i = 0; i < t.arity[k]; ++i) {
                    const std::size_t c = t.child[k][i];
                    if (!t.active[c] || !t.passes[k][i]) {
                        t.edges[k][i] = edge::skip;
                    } else if (t.fused[c]) {
                        t.edges[k][i] = edge::update;
                        t.written[c] = true;
                    } else {
                        t.edges[k][i] = t.written[c] ? edge::accumulate : edge::assign;
                        t.written[c] = true;
                    }
                }
            } else {
                simulate_loop(t, k, k, t.domain[k]);
            }
        }
        for (std::size_t j = 0; j < N; ++j) {
            t.zero_at_start[j] = t.mat_adj[j] && j != root && !t.written[j];
        }
        layout(t);
        return t;
    }

    /// Steps: forward step j for entry j, then the seed (N), then backward step N + 1 + (N - 1
    /// - k) for loop root k; the end (2N + 1) for what the caller reads afterwards.
    static constexpr void layout(tables<N, A>& t) {
        std::array<lifetime, 2 * N> life{};
        constexpr std::size_t end = 2 * N + 1;
        for (std::size_t j = 0; j < N; ++j) {
            if (!t.mat_val[j]) continue;
            life[j].touch(j);
            forward_reads(t, j, j, life);
        }
        if (t.mat_val[root]) life[root].touch(end);
        if constexpr (Backward) {
            for (std::size_t j = 0; j < N; ++j) {
                if (t.zero_at_start[j] || j == root) life[N + j].touch(N);
                if (t.mat_adj[j] && t.kinds[j] == kind::variable) life[N + j].touch(end);
            }
            for (std::size_t k = N; k-- > 0;) {
                if (!is_loop_root(t, k)) continue;
                const std::size_t step = N + 1 + (N - 1 - k);
                life[N + k].touch(step);
                if (t.kinds[k] == kind::kernel) {
                    if (t.mat_val[k]) life[k].touch(step);
                    for (std::size_t i = 0; i < t.arity[k]; ++i) {
                        const std::size_t c = t.child[k][i];
                        if (t.mat_val[c]) life[c].touch(step);
                        if (t.edges[k][i] != edge::skip) life[N + c].touch(step);
                    }
                } else {
                    backward_reads(t, k, step, life);
                }
            }
        }
        // which buffers exist: stored values and stored adjoints (variables' values are the
        // caller's memory)
        std::array<std::size_t, 2 * N> size{};
        for (std::size_t j = 0; j < N; ++j) {
            // a kernel differentiated through keeps numbers for its vjp after its value
            const std::size_t keep = t.active[j] ? plan_extents<Plan>::saved[j] : 0;
            size[j] = t.mat_val[j] ? t.count[j] + keep : 0;
            size[N + j] = t.mat_adj[j] ? t.count[j] : 0;
        }
        // buffers in order of their first step (counting sort), placed first-fit among the
        // buffers still alive, kept sorted by offset
        std::array<std::size_t, end + 2> start{};
        for (std::size_t b = 0; b < 2 * N; ++b) {
            if (size[b] != 0 && life[b].first != none) ++start[life[b].first + 1];
        }
        for (std::size_t s = 0; s <= end; ++s) start[s + 1] += start[s];
        std::array<std::size_t, 2 * N> order{};
        std::size_t placed = 0;
        {
            std::array<std::size_t, end + 2> fill = start;
            for (std::size_t b = 0; b < 2 * N; ++b) {
                if (size[b] != 0 && life[b].first != none) order[fill[life[b].first]++] = b;
            }
            placed = start[end + 1];
        }
        std::array<std::size_t, 2 * N> offset{};
        std::array<std::size_t, 2 * N> live{};  // buffer ids by increasing offset
        std::size_t nlive = 0;
        std::size_t total = 0;
        for (std::size_t o = 0; o < placed; ++o) {
            const std::size_t b = order[o];
            std::size_t keep = 0;
            for (std::size_t l = 0; l < nlive; ++l) {
                if (life[live[l]].last >= life[b].first) live[keep++] = live[l];
            }
            nlive = keep;
            std::size_t at = 0, pos = 0;
            for (; pos < nlive; ++pos) {
                const std::size_t other = live[pos];
                if (at + size[b] <= offset[other]) break;
                const std::size_t next = offset[other] + size[other];
                at = at > next ? at : next;
                at = (at + align - 1) / align * align;
            }
            offset[b] = at;
            for (std::size_t l = nlive; l > pos; --l) live[l] = live[l - 1];
            live[pos] = b;
            ++nlive;
            total = at + size[b] > total ? at + size[b] : total;
        }
        for (std::size_t j = 0; j < N; ++j) {
            t.val_off[j] = offset[j];
            t.adj_off[j] = offset[N + j];
        }
        t.total = total;
        t.buffers = placed;
    }

    static constexpr tables<N, A> t = compute();

    /// The adjoints zeroed before loop root K (K = N: when the backward pass starts).
    template <std::size_t K>
    struct zeroed {
        static constexpr bool at(std::size_t j) {
            return K == N ? t.zero_at_start[j] : t.zero_before[j] == K;
        }
        static constexpr std::size_t count = [] {
            std::size_t n = 0;
            for (std::size_t j = 0; j < N; ++j) n += at(j) ? 1 : 0;
            return n;
        }();
        static constexpr std::array<std::size_t, count> list = [] {
            std::array<std::size_t, count> l{};
            std::size_t n = 0;
            for (std::size_t j = 0; j < N; ++j) {
                if (at(j)) l[n++] = j;
            }
            return l;
        }();
    };

    /// Elements and bytes of the workspace.
    static constexpr std::size_t elements = t.total;
    static constexpr std::size_t bytes = t.total * sizeof(S);
};

/// Whether entry j's value is stored but computed by the loop that reads it in the forward sweep
/// (an elementwise entry read once, by an elementwise op or a reduction over as many elements, kept
/// for the backward pass).
template <std::size_t N, std::size_t A>
constexpr bool stored_by_consumer(const tables<N, A>& t, std::size_t j) {
    const std::size_t k = t.consumer[j];
    return t.kinds[j] == kind::elementwise && !t.val_inline[j] && t.consumers[j] == 1 &&
           (t.kinds[k] == kind::elementwise || t.kinds[k] == kind::reduce) &&
           t.domain[k] == t.count[j];
}

/// The entries of one element (scalars) whose values computing entry j at a loop position reads
/// from memory (a bound variable, a constant, a stored buffer): j itself, unless it is recomputed
/// there (inlined; in the forward sweep also an entry stored by its consumer's loop). Counted in
/// n, and written to out[] unless out is null; repeats included.
template <std::size_t N, std::size_t A>
constexpr void scalar_reads(const tables<N, A>& t, std::size_t j, bool forward, std::size_t* out,
                            std::size_t& n) {
    if (t.val_inline[j] || (forward && stored_by_consumer(t, j))) {
        for (std::size_t i = 0; i < t.arity[j]; ++i) {
            scalar_reads(t, t.child[j][i], forward, out, n);
        }
    } else if (t.count[j] == 1) {
        if (out != nullptr) out[n] = j;
        ++n;
    }
}

/// The same for pushing the adjoint of entry m to its arguments in a backward loop (the arguments'
/// values, and what pushing further through inlined arguments reads).
template <std::size_t N, std::size_t A>
constexpr void push_scalar_reads(const tables<N, A>& t, std::size_t m, std::size_t* out,
                                 std::size_t& n) {
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        scalar_reads(t, c, false, out, n);
        if (t.edges[m][i] == edge::inline_push) push_scalar_reads(t, c, out, n);
    }
}

/// The scalars that the forward loop of entry j (forward), or the backward loop rooted at j,
/// reads while it runs over many elements (scalar variables, reductions' values, run-time
/// constants, broadcast over the loop).
template <std::size_t N, std::size_t A>
constexpr void loop_scalar_reads(const tables<N, A>& t, std::size_t j, bool forward,
                                 std::size_t* out, std::size_t& n) {
    if (t.domain[j] <= 1) return;  // no loop: nothing to hoist
    if (forward) {
        for (std::size_t i = 0; i < t.arity[j]; ++i) {
            scalar_reads(t, t.child[j][i], true, out, n);
        }
    } else if (t.kinds[j] == kind::reduce) {
        if (t.edges[j][0] == edge::inline_push) {
            scalar_reads(t, t.child[j][0], false, out, n);
            push_scalar_reads(t, t.child[j][0], out, n);
        }
    } else {
        push_scalar_reads(t, j, out, n);
    }
}

/// The loop-invariant scalars of the forward loop of entry J (Forward) or of the backward loop
/// rooted at J (loop_scalar_reads), each once, in order of first use.
template <class Sched, std::size_t J, bool Forward>
struct loop_invariants {
    static constexpr const auto& t = Sched::t;

    static constexpr std::size_t bound = [] {
        std::size_t n = 0;
        loop_scalar_reads(t, J, Forward, nullptr, n);
        return n;
    }();

    struct result {
        std::array<std::size_t, bound> entry{};
        std::size_t count = 0;
    };

    static constexpr result list = [] {
        std::array<std::size_t, bound> all{};
        std::size_t n = 0;
        loop_scalar_reads(t, J, Forward, all.data(), n);
        result r{};
        for (std::size_t k = 0; k < n; ++k) {
            bool seen = false;
            for (std::size_t m = 0; m < r.count; ++m) seen = seen || r.entry[m] == all[k];
            if (!seen) r.entry[r.count++] = all[k];
        }
        return r;
    }();
};

/// The values of the loop-invariant entries E... of a loop, in locals of the function that runs
/// it, loaded once before the loop: read through the bindings or the workspace they could, as far
/// as the compiler knows, be changed by the loop's stores into the workspace, and be loaded again
/// for every element (which also keeps the loop from being vectorised). Forward: a loop of the
/// forward sweep. (The type depends on the entries only, so that loops without invariants share
/// their instantiations.)
template <class S, bool Forward, std::size_t... E>
struct invariants {
    static constexpr bool forward = Forward;

    /// The slot of entry e, or none.
    static constexpr std::size_t slot(std::size_t e) {
        constexpr std::size_t entries[] = {E..., none};
        for (std::size_t m = 0; m < sizeof...(E); ++m) {
            if (entries[m] == e) return m;
        }
        return none;
    }

    S v[sizeof...(E) > 0 ? sizeof...(E) : 1] = {};
};

/// The generated sweeps of one schedule for one call: the expression (for its run-time
/// constants), the bindings and the workspace.
template <class Sched, class Root, class Set>
struct engine {
    using P = typename Sched::plan;
    using S = typename Sched::scalar;
    static constexpr std::size_t N = Sched::N;
    static constexpr const auto& t = Sched::t;

    template <std::size_t J>
    using expr = typename P::template expr<J>;
    template <std::size_t J>
    using shape_t = detail::shape_of_t<expr<J>>;
    template <std::size_t J, std::size_t I>
    static constexpr std::size_t child = t.child[J][I];

    const Root& root;
    const Set& set;
    S* ws;
    S lr = S(0);  // the step size of an SGD step (schedules with update)

    /// The memory of a variable bound with std::ref: a parameter updated in place by sgd_step,
    /// or (State) a state variable an op writes in its forward pass.
    template <std::size_t J, bool State = false>
    constexpr S* mutable_data() const {
        using E = expr<J>;
        using P = std::remove_cvref_t<decltype(set.template get<E::name>().data())>;
        constexpr bool writable = !std::is_const_v<std::remove_pointer_t<P>>;
        if constexpr (!writable && State) {
            static_assert(writable,
                          "ctgrad::batch_norm (training mode) updates its running mean and "
                          "variance during the forward pass: bind them writable, with std::ref "
                          "(`running_mean = std::ref(m)`) or from an nn::state pack");
            return nullptr;
        } else if constexpr (!writable) {
            static_assert(writable,
                          "ctgrad::program::sgd_step: bind every parameter it updates with "
                          "std::ref (`W = std::ref(w)`) so that it can be changed in place");
            return nullptr;
        } else {
            return set.template get<E::name>().data();
        }
    }

    /// p −= lr·∂/∂p for every differentiated variable not updated in place by a kernel.
    constexpr void apply_updates() {
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            (
                [&] {
                    if constexpr (t.kinds[J] == kind::variable && t.active[J] && !t.fused[J]) {
                        if constexpr (shape_t<J>::rank == 0 &&
                                      !requires { set.template get<expr<J>::name>().data(); }) {
                            static_assert(shape_t<J>::rank != 0,
                                          "ctgrad::program::sgd_step: scalar variables cannot be "
                                          "updated in place; differentiate tensors only");
                        } else {
                            S* p = mutable_data<J>();
                            const S* g = ws + t.adj_off[J];
                            for (std::size_t e = 0; e < t.count[J]; ++e) p[e] -= lr * g[e];
                        }
                    }
                }(),
                ...);
        });
    }

    /// Argument I of kernel entry J as its forward kernel takes it: read-only, or writable for
    /// an op that updates state during the forward pass (batch_norm's running estimates).
    template <std::size_t J, std::size_t I>
    constexpr auto arg_data() const {
        using Op = typename expr<J>::op;
        if constexpr (requires { Op::template writes_state<I>; }) {
            if constexpr (Op::template writes_state<I>) {
                return mutable_data<child<J, I>, true>();
            } else {
                return data<child<J, I>>();
            }
        } else {
            return data<child<J, I>>();
        }
    }

    /// The stored elements of entry J: a bound tensor's own memory, or its workspace buffer.
    template <std::size_t J>
    constexpr const S* data() const {
        using E = expr<J>;
        if constexpr (is_variable_v<E>) {
            return set.template get<E::name>().data();
        } else {
            return ws + t.val_off[J];
        }
    }

    /// The value of entry J at position (r, c, i) of a loop over shape D, when J is not inlined.
    template <std::size_t J, class D>
    constexpr S leaf(std::size_t r, std::size_t c, std::size_t i) const {
        using E = expr<J>;
        if constexpr (is_variable_v<E>) {
            if constexpr (shape_t<J>::rank == 0 &&
                          !requires { set.template get<E::name>().data(); }) {
                return static_cast<S>(set.template get<E::name>());
            } else {
                return set.template get<E::name>()
                    .data()[detail::broadcast_index<shape_t<J>, D>(r, c, i)];
            }
        } else if constexpr (is_exact_constant_v<E>) {
            return E::template as<S>();
        } else if constexpr (is_constant_v<E>) {
            return static_cast<S>(ad::constant_value<P, J>(root));
        } else {
            return ws[t.val_off[J] + detail::broadcast_index<shape_t<J>, D>(r, c, i)];
        }
    }

    /// Independent partial sums per reduction: the loops over columns run in blocks of this many,
    /// each lane with its own accumulator, so that additions do not wait on each other. Two vectors
    /// of S (kernels::detail::vector_bytes: 16 bytes with SSE2, 32 with AVX, 64 with AVX-512F), at
    /// least 8: 8 doubles with SSE2 or AVX, 16 with AVX-512F.
    static constexpr std::size_t lanes =
        2 * kernels::detail::lanes<S> > 8 ? 2 * kernels::detail::lanes<S> : 8;

    /// The lanes of a loop over rows of D::cols: the largest of lanes, lanes / 2, ..., 8 that
    /// leaves at least two blocks in a row (a loop, which the compiler vectorises: one block is
    /// straight-line code, which GCC does not vectorise past the workspace's stores), else 8 if a
    /// row has 8 elements, else 1.
    template <class D>
    static constexpr std::size_t lanes_for = [] {
        std::size_t l = lanes;
        while (l > 8 && 2 * l > D::cols) l /= 2;
        return D::cols >= l ? l : std::size_t{1};
    }();

    /// f(r, c, i, lane) for every position of a loop over shape D. Independent: no two positions of
    /// a row write the same element (every loop but one that adds into a column broadcast over the
    /// rows), so the blocks of a row may run as vectors; this is asserted to the compiler
    /// (CTGRAD_IVDEP), which cannot see that the workspace and the bound tensors do not overlap (a
    /// bound tensor must not be a view into the program's own workspace).
    template <class D, bool Independent = true, class F>
    CTGRAD_ALWAYS_INLINE static constexpr void loop(F&& f) {
        constexpr std::size_t L = lanes_for<D>;
        for (std::size_t r = 0; r < D::rows; ++r) {
            std::size_t c = 0;
            if constexpr (Independent) {
                CTGRAD_IVDEP
                for (; c + L <= D::cols; c += L) {
#pragma GCC unroll 64
                    for (std::size_t l = 0; l < L; ++l) f(r, c + l, r * D::cols + c + l, l);
                }
            } else {
                for (; c + L <= D::cols; c += L) {
#pragma GCC unroll 64
                    for (std::size_t l = 0; l < L; ++l) f(r, c + l, r * D::cols + c + l, l);
                }
            }
            for (; c < D::cols; ++c) f(r, c, r * D::cols + c, 0);
        }
    }

    /// a[0] + ... + a[L - 1], pairwise (L is a power of two): the halves added as vectors, log2(L)
    /// dependent additions, not L - 1.
    template <std::size_t L>
    static constexpr S lane_sum(const S (&a)[L]) {
        if constexpr (L == 1) {
            return a[0];
        } else {
            S h[L / 2];
#pragma GCC unroll 64
            for (std::size_t l = 0; l < L / 2; ++l) h[l] = a[l] + a[l + L / 2];
#pragma GCC unroll 8
            for (std::size_t w = L / 4; w > 0; w /= 2) {
#pragma GCC unroll 64
                for (std::size_t l = 0; l < w; ++l) h[l] += h[l + w];
            }
            return h[0];
        }
    }

    /// The adjoints of scalars that a loop over many elements accumulates (a scalar variable
    /// times a tensor, a learning-rate-like parameter): lane-wise partial sums kept in locals
    /// during the loop of root K and added to the stored adjoint once after it.
    template <std::size_t K>
    struct scalar_targets {
        static constexpr auto slots = [] {
            struct result {
                std::array<std::size_t, N> slot{};
                std::size_t count = 0;
                bool independent = true;  // no two positions of a row write one element
            } r{};
            constexpr auto& cols = plan_extents<P>::cols;
            std::array<bool, N> hit{};
            collect_targets(t, K, hit);
            for (std::size_t j = 0; j < N; ++j) {
                r.slot[j] = hit[j] && t.count[j] == 1 && t.domain[K] > 1 ? r.count++ : none;
                if (hit[j] && r.slot[j] == none &&
                    cols[j] != cols[t.kinds[K] == kind::reduce ? t.child[K][0] : K]) {
                    // a column broadcast over the loop's rows: every element of a row adds into the
                    // same element of this adjoint
                    r.independent = false;
                }
            }
            return r;
        }();

        /// The entry of slot m.
        static constexpr std::size_t entry(std::size_t m) {
            for (std::size_t j = 0; j < N; ++j) {
                if (slots.slot[j] == m) return j;
            }
            return none;
        }
    };

    template <std::size_t K, class D>
    struct accumulators {
        S v[scalar_targets<K>::slots.count > 0 ? scalar_targets<K>::slots.count : 1][lanes_for<D>] =
            {};
    };

    template <std::size_t Loop, bool Forward, std::size_t... M>
    static auto invariants_type(std::index_sequence<M...>)
        -> invariants<S, Forward, loop_invariants<Sched, Loop, Forward>::list.entry[M]...>;

    /// The invariants of the forward loop of entry Loop, or of the backward loop rooted at it.
    template <std::size_t Loop, bool Forward>
    using invariants_of = decltype(invariants_type<Loop, Forward>(
        std::make_index_sequence<loop_invariants<Sched, Loop, Forward>::list.count>{}));

    /// The invariants of a loop over D, loaded.
    template <std::size_t Loop, bool Forward, class D>
    constexpr invariants_of<Loop, Forward> open() const {
        using L = loop_invariants<Sched, Loop, Forward>;
        invariants_of<Loop, Forward> inv;
        if constexpr (L::list.count > 0) {
            ctgrad::detail::static_for_chunks<L::list.count>([&]<std::size_t... M>(
                std::index_sequence<M...>) {
                ((inv.v[M] = leaf<L::list.entry[M], D>(0, 0, 0)), ...);
            });
        }
        return inv;
    }

    /// leaf(), an invariant of the loop read from its local.
    template <std::size_t J, class D, class Inv>
    constexpr S leaf(std::size_t r, std::size_t c, std::size_t i, const Inv& inv) const {
        constexpr std::size_t m = Inv::slot(J);
        if constexpr (m != none) {
            return inv.v[m];
        } else {
            return leaf<J, D>(r, c, i);
        }
    }

    /// The value of elementwise entry J at a loop position, from its arguments.
    template <std::size_t J, class D, class Inv>
    constexpr S compute(std::size_t r, std::size_t c, std::size_t i, const Inv& inv) const {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return static_cast<S>(expr<J>::op::value(value<child<J, I>, D>(r, c, i, inv)...));
        }
        (std::make_index_sequence<expr<J>::arity>{});
    }

    /// The value of entry J at a loop position: recomputed when inlined, read otherwise. In the
    /// forward sweep an entry stored by its consumer's loop is computed and stored here (an exp
    /// summed by the reduction that reads it: one loop, not two).
    template <std::size_t J, class D, class Inv>
    constexpr S value(std::size_t r, std::size_t c, std::size_t i, const Inv& inv) const {
        if constexpr (t.val_inline[J]) {
            return compute<J, D>(r, c, i, inv);
        } else if constexpr (Inv::forward && stored_by_consumer(t, J)) {
            const S y = compute<J, D>(r, c, i, inv);
            ws[t.val_off[J] + detail::broadcast_index<shape_t<J>, D>(r, c, i)] = y;
            return y;
        } else {
            return leaf<J, D>(r, c, i, inv);
        }
    }

    template <std::size_t J>
    constexpr void forward_step() {
        using E = expr<J>;
        if constexpr (!t.mat_val[J] || stored_by_consumer(t, J)) {
            return;
        } else if constexpr (t.kinds[J] == kind::elementwise) {
            using D = shape_t<J>;
            S* out = ws + t.val_off[J];
            const auto inv = open<J, true, D>();
            loop<D>([&](std::size_t r, std::size_t c, std::size_t i, std::size_t)
                        CTGRAD_ALWAYS_INLINE { out[i] = compute<J, D>(r, c, i, inv); });
        } else if constexpr (t.kinds[J] == kind::reduce) {
            constexpr std::size_t c0 = child<J, 0>;
            using D = shape_t<c0>;
            const auto inv = open<J, true, D>();
            S acc[lanes_for<D>] = {};
            loop<D>([&](std::size_t r, std::size_t c, std::size_t i, std::size_t l)
                        CTGRAD_ALWAYS_INLINE { acc[l] += value<c0, D>(r, c, i, inv); });
            S s = lane_sum(acc);
            if constexpr (E::op::mean) s /= static_cast<S>(D::count);
            ws[t.val_off[J]] = s;
        } else if constexpr (t.active[J] && plan_extents<P>::saved[J] > 0) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                E::op::template forward_saving<shape_t<J>, shape_t<child<J, I>>...>(
                    ws + t.val_off[J], arg_data<J, I>()...);
            }
            (std::make_index_sequence<E::arity>{});
        } else {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                E::op::template forward<shape_t<J>, shape_t<child<J, I>>...>(ws + t.val_off[J],
                                                                             arg_data<J, I>()...);
            }
            (std::make_index_sequence<E::arity>{});
        }
    }

    constexpr void forward() {
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            (forward_step<J>(), ...);
        });
    }

    template <std::size_t LoopRoot, std::size_t C, class D, class Acc>
    constexpr void write(edge e, std::size_t r, std::size_t c, std::size_t i, std::size_t l, S d,
                         Acc& acc) const {
        constexpr std::size_t slot = scalar_targets<LoopRoot>::slots.slot[C];
        if constexpr (slot != none) {
            acc.v[slot][l] += d;
        } else {
            S& dst = ws[t.adj_off[C] + detail::broadcast_index<shape_t<C>, D>(r, c, i)];
            if (e == edge::assign) {
                dst = d;
            } else {
                dst += d;
            }
        }
    }

    template <std::size_t LoopRoot, class Acc>
    constexpr void flush(const Acc& acc) const {
        using st = scalar_targets<LoopRoot>;
        if constexpr (st::slots.count > 0) {
            ctgrad::detail::static_for_chunks<st::slots.count>([&]<std::size_t... M>(
                std::index_sequence<M...>) {
                ((ws[t.adj_off[st::entry(M)]] += lane_sum(acc.v[M])), ...);
            });
        }
    }

    /// Pushes the adjoint `adj` of elementwise entry K (value y) at one loop position to its
    /// arguments: stored adjoints are written, inlined ones pushed further.
    template <std::size_t LoopRoot, std::size_t K, class D, class Inv, class Acc>
    constexpr void push(std::size_t r, std::size_t c, std::size_t i, std::size_t l, S adj, S y,
                        const Inv& inv, Acc& acc) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            const S x[] = {value<child<K, I>, D>(r, c, i, inv)...};
            (push_arg<LoopRoot, K, I, D>(r, c, i, l, adj, y, x, inv, acc), ...);
        }
        (std::make_index_sequence<expr<K>::arity>{});
    }

    template <std::size_t LoopRoot, std::size_t K, std::size_t I, class D, std::size_t Arity,
              class Inv, class Acc>
    constexpr void push_arg(std::size_t r, std::size_t c, std::size_t i, std::size_t l, S adj, S y,
                            const S (&x)[Arity], const Inv& inv, Acc& acc) const {
        constexpr edge e = t.edges[K][I];
        if constexpr (e != edge::skip) {
            const S d = adj* [&]<std::size_t... M>(std::index_sequence<M...>) {
                return static_cast<S>(expr<K>::op::partial(arg<I>, x[M]..., y));
            }
            (std::make_index_sequence<Arity>{});
            if constexpr (e == edge::inline_push) {
                push<LoopRoot, child<K, I>, D>(r, c, i, l, d, x[I], inv, acc);
            } else {
                write<LoopRoot, child<K, I>, D>(e, r, c, i, l, d, acc);
            }
        }
    }

    /// Zeroes the stored adjoint of entry J.
    template <std::size_t J>
    constexpr void zero_adjoint() {
        S* p = ws + t.adj_off[J];
        for (std::size_t e = 0; e < t.count[J]; ++e) p[e] = S(0);
    }

    /// Zeroes the adjoints that loop root K adds into without assigning first (K = N: those
    /// never written, when the backward pass starts).
    template <std::size_t K>
    constexpr void zero_fill() {
        using z = typename Sched::template zeroed<K>;
        if constexpr (z::count > 0) {
            ctgrad::detail::static_for_chunks<z::count>([&]<std::size_t... Z>(
                std::index_sequence<Z...>) { (zero_adjoint<z::list[Z]>(), ...); });
        }
    }

    template <std::size_t K>
    constexpr void backward_step() {
        using E = expr<K>;
        if constexpr (!is_loop_root(t, K)) {
            return;
        } else if constexpr (t.kinds[K] == kind::elementwise) {
            using D = shape_t<K>;
            zero_fill<K>();
            const S* adj = ws + t.adj_off[K];
            const auto inv = open<K, false, D>();
            accumulators<K, D> acc;
            loop<D, scalar_targets<K>::slots.independent>(
                [&](std::size_t r, std::size_t c, std::size_t i, std::size_t l)
                    CTGRAD_ALWAYS_INLINE {
                        push<K, K, D>(r, c, i, l, adj[i], leaf<K, D>(r, c, i, inv), inv, acc);
                    });
            flush<K>(acc);
        } else if constexpr (t.kinds[K] == kind::reduce) {
            constexpr std::size_t c0 = child<K, 0>;
            using D = shape_t<c0>;
            constexpr edge e = t.edges[K][0];
            zero_fill<K>();
            S g = ws[t.adj_off[K]];
            if constexpr (E::op::mean) g /= static_cast<S>(D::count);
            const auto inv = open<K, false, D>();
            accumulators<K, D> acc;
            constexpr bool independent = scalar_targets<K>::slots.independent;
            if constexpr (e == edge::inline_push) {
                loop<D, independent>([&](std::size_t r, std::size_t c, std::size_t i,
                                         std::size_t l) CTGRAD_ALWAYS_INLINE {
                    push<K, c0, D>(r, c, i, l, g, value<c0, D>(r, c, i, inv), inv, acc);
                });
            } else if constexpr (e != edge::skip) {
                loop<D, independent>(
                    [&](std::size_t r, std::size_t c, std::size_t i, std::size_t l)
                        CTGRAD_ALWAYS_INLINE { write<K, c0, D>(e, r, c, i, l, g, acc); });
            }
            flush<K>(acc);
        } else {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (
                    [&] {
                        constexpr edge e = t.edges[K][I];
                        if constexpr (e == edge::update) {
                            E::op::template vjp<I, kernels::mode::accumulate, shape_t<K>,
                                                shape_t<child<K, I>>...>(
                                mutable_data<child<K, I>>(), ws + t.adj_off[K],
                                t.mat_val[K] ? ws + t.val_off[K] : nullptr, data<child<K, I>>()...,
                                -lr);
                        } else if constexpr (e != edge::skip) {
                            constexpr auto mode = e == edge::assign ? kernels::mode::assign
                                                                    : kernels::mode::accumulate;
                            E::op::template vjp<I, mode, shape_t<K>, shape_t<child<K, I>>...>(
                                ws + t.adj_off[child<K, I>], ws + t.adj_off[K],
                                t.mat_val[K] ? ws + t.val_off[K] : nullptr, data<child<K, I>>()...);
                        }
                    }(),
                    ...);
            }
            (std::make_index_sequence<E::arity>{});
        }
    }

    constexpr void backward() {
        zero_fill<N>();
        ws[t.adj_off[Sched::root]] = S(1);
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... R>(std::index_sequence<R...>) {
            (backward_step<N - 1 - R>(), ...);
        });
    }
};

/// An owning, aligned array of S: the workspace. Allocated once; usable in constant
/// expressions (plain new there, 64-byte aligned new at run time).
template <class S>
class buffer {
public:
    constexpr buffer() = default;
    constexpr explicit buffer(std::size_t n) : n_(n) {
        if (n == 0) return;
        if (std::is_constant_evaluated()) {
            p_ = new S[n]();
        } else {
            p_ = static_cast<S*>(::operator new[](n * sizeof(S), std::align_val_t{64}));
            for (std::size_t i = 0; i < n; ++i) p_[i] = S(0);
        }
    }
    constexpr buffer(buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(o.n_) {}
    constexpr buffer& operator=(buffer&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            n_ = o.n_;
        }
        return *this;
    }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    constexpr ~buffer() { release(); }

    constexpr S* data() const noexcept { return p_; }
    constexpr std::size_t size() const noexcept { return n_; }

private:
    constexpr void release() noexcept {
        if (p_ == nullptr) return;
        if (std::is_constant_evaluated()) {
            delete[] p_;
        } else {
            ::operator delete[](p_, std::align_val_t{64});
        }
        p_ = nullptr;
    }

    S* p_ = nullptr;
    std::size_t n_ = 0;
};

/// The type a gradient of variable V takes: a tensor of the sweep's element type, or a number.
template <class V, class S>
struct gradient_type {
    using type = S;
};

template <fixed_string Name, class T, std::size_t... D, class S>
struct gradient_type<variable<Name, tensor<T, D...>>, S> {
    using type = tensor<S, D...>;
};

template <class Wrt, class... V>
struct wanted_mask {
    static constexpr std::array<bool, sizeof...(V)> value{wanted<Wrt, V>()...};
};

template <class Wrt, class List>
struct reported_of;

template <class Wrt, class... V>
struct reported_of<Wrt, detail::type_list<V...>> {
    using type = detail::filter_t<detail::type_list<V...>, wanted_mask<Wrt, V...>>;
};

/// The variables a gradient reports: those of the plan that are differentiated.
template <class Plan, class Wrt>
struct reported {
    using type = typename reported_of<Wrt, typename Plan::variables>::type;
};

}  // namespace tensor_ad

/// Diagnostic type: instantiated when a gradient is asked for a variable it does not hold.
template <char... Name>
struct gradient_has_no_entry_for_variable;

namespace detail {
template <class Variables, fixed_string Name, class Kind>
constexpr void check_reported() {
    if constexpr (!list_contains_v<Variables, variable<Name, Kind>>) {
        static_assert(list_contains_v<Variables, variable<Name, Kind>>,
                      "ctgrad: this gradient has no entry for the variable: it is not a variable "
                      "of the expression, or not listed in wrt(...) (the variable is named in "
                      "'gradient_has_no_entry_for_variable<...>' below)");
        static_cast<void>(sizeof(spelled<Name, gradient_has_no_entry_for_variable>));
    }
}
}  // namespace detail

/// The result of `gradient` of a tensor expression: `g.value` (the scalar value) and `g[W]`,
/// a tensor of W's shape (a number for a scalar variable). Owns its tensors.
template <class S, class Variables, class Grads>
struct tensor_gradient_result;

template <class S, class... V, class... G>
struct tensor_gradient_result<S, detail::type_list<V...>, detail::type_list<G...>> {
    using scalar_type = S;
    using variables = detail::type_list<V...>;

    S value{};
    boost::hana::basic_tuple<G...> grads{};

    template <fixed_string Name, class Kind>
    constexpr const auto& operator[](variable<Name, Kind>) const {
        detail::check_reported<variables, Name, Kind>();
        if constexpr (detail::list_contains_v<variables, variable<Name, Kind>>) {
            return boost::hana::at_c<detail::index_of_v<variables, variable<Name, Kind>>>(grads);
        } else {
            return value;
        }
    }

    static constexpr std::size_t size() noexcept { return sizeof...(V); }
};

namespace tensor_ad {

template <class Sched, class V>
constexpr std::size_t entry_of() {
    using P = typename Sched::plan;
    return P::variable_entry[detail::index_of_v<typename P::variables, V>];
}

template <class Sched, class V, class G>
constexpr void copy_gradient(const typename Sched::scalar* ws, G& g) {
    constexpr std::size_t at = Sched::t.adj_off[entry_of<Sched, V>()];
    if constexpr (requires { g.data(); }) {
        for (std::size_t e = 0; e < g.size(); ++e) g.data()[e] = ws[at + e];
    } else {
        g = ws[at];
    }
}

template <class Sched, class E, class Set>
constexpr auto gradient_of(const E& f, const Set& set) {
    using S = typename Sched::scalar;
    using P = typename Sched::plan;
    using Vars = typename reported<P, typename Sched::wrt>::type;
    return [&]<class... V>(detail::type_list<V...>) {
        using R = tensor_gradient_result<S, Vars,
                                         detail::type_list<typename gradient_type<V, S>::type...>>;
        buffer<S> ws(Sched::elements);
        engine<Sched, E, Set> run{f, set, ws.data()};
        run.forward();
        run.backward();
        R result{};
        result.value = run.template leaf<Sched::root, shape<>>(0, 0, 0);
        (copy_gradient<Sched, V>(ws.data(),
                                 boost::hana::at_c<detail::index_of_v<Vars, V>>(result.grads)),
         ...);
        return result;
    }(Vars{});
}

template <class Sched, class E, class Set>
constexpr auto value_of(const E& f, const Set& set) {
    using S = typename Sched::scalar;
    using Shape = detail::shape_of_t<std::remove_cvref_t<E>>;
    buffer<S> ws(Sched::elements);
    engine<Sched, E, Set> run{f, set, ws.data()};
    run.forward();
    constexpr std::size_t root = Sched::root;
    if constexpr (Shape::rank == 0) {
        return run.template leaf<root, shape<>>(0, 0, 0);
    } else {
        return [&]<std::size_t... D>(std::index_sequence<D...>) {
            tensor<S, Shape::dims[D]...> out{};
            const S* src = run.template data<root>();
            for (std::size_t e = 0; e < Shape::count; ++e) out.data()[e] = src[e];
            return out;
        }
        (std::make_index_sequence<Shape::rank>{});
    }
}

template <class Plan, class Wrt, bool Backward>
using schedule_for = schedule<Plan, Wrt, element_t<Plan>, Backward>;

}  // namespace tensor_ad
}  // namespace ctgrad
