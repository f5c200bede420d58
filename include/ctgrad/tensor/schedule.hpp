/// @file
/// The schedule of a tensor sweep: every compile-time decision about an expression over tensors,
/// taken from the plan (ad/plan.hpp: the unique subexpressions in topological order) alone.
/// This is the first of three files (tensor/schedule.hpp, tensor/workspace.hpp,
/// tensor/engine.hpp) that turn a plan into the generated sweep; tensor/program.hpp includes them.
///
/// The schedule decides, per entry:
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
/// - which scalars each loop reads without them changing in it (loaded into locals before it).
/// Where each buffer lives is tensor/workspace.hpp; the loops and kernel calls that run the
/// schedule are tensor/engine.hpp. Non-elementwise ops (matmul, softmax, ...) run their own
/// kernels on stored buffers; see tensor/ops.hpp for their contract.
///
/// All of it is constexpr tables (arrays indexed by entry) computed by ordinary loops, so that
/// the cost of a decision is constant evaluation, not template instantiation.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v
#include <utility>      // std::index_sequence

#include <ctgrad/ad/plan.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/shape.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/args_key.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/ops.hpp>

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

/// Diagnostic type: left incomplete, instantiated next to the static_assert of wrt(...) so that
/// the compiler prints the variable listed twice as a char pack.
template <char... Name>
struct variable_is_listed_twice_in_wrt;

namespace detail {

/// Whether each name is the first of its spelling (a name that repeats an earlier one is not).
template <fixed_string... Names>
constexpr std::array<bool, sizeof...(Names)> first_of_name() {
    const std::string_view names[] = {Names.view()..., {}};
    std::array<bool, sizeof...(Names)> first{};
    for (std::size_t k = 0; k < sizeof...(Names); ++k) {
        first[k] = true;
        for (std::size_t j = 0; j < k; ++j) first[k] = first[k] && names[j] != names[k];
    }
    return first;
}

/// wrt_t of the first variable of each name among V, in order.
template <class... V>
constexpr auto wrt_of_first() {
    constexpr std::size_t count = [] {
        std::size_t c = 0;
        for (bool f : first_of_name<V::name...>()) c += f;
        return c;
    }();
    constexpr std::array<std::size_t, count> at = [] {
        std::array<std::size_t, count> a{};
        std::size_t c = 0;
        const auto f = first_of_name<V::name...>();
        for (std::size_t k = 0; k < sizeof...(V); ++k) {
            if (f[k]) a[c++] = k;
        }
        return a;
    }();
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return wrt_t<at_t<type_list<V...>, at[I]>...>{};
    }
    (std::make_index_sequence<count>{});
}

}  // namespace detail

/// The list of variables of a gradient, program or Jacobian: each variable once. A variable
/// listed twice is a compile error naming it (the engines gave it a column of zeros or dropped
/// it); the list then goes on without the repeat, so that the error is reported once.
template <fixed_string... Names, class... Kinds>
constexpr auto wrt(variable<Names, Kinds>...) {
    constexpr std::array<bool, sizeof...(Names)> first = detail::first_of_name<Names...>();
    constexpr std::size_t repeated = [&] {
        for (std::size_t k = 0; k < first.size(); ++k) {
            if (!first[k]) return k;
        }
        return first.size();
    }();
    if constexpr (repeated != sizeof...(Names)) {
        static_assert(repeated == sizeof...(Names),
                      "ctgrad::wrt: a variable is listed twice; list each variable once (the "
                      "variable is named in 'variable_is_listed_twice_in_wrt<...>' below)");
        using offender = detail::at_t<detail::type_list<variable<Names, Kinds>...>, repeated>;
        static_cast<void>(sizeof(detail::spelled<offender::name, variable_is_listed_twice_in_wrt>));
        return detail::wrt_of_first<variable<Names, Kinds>...>();
    } else {
        return wrt_t<variable<Names, Kinds>...>{};
    }
}

namespace tensor_ad {

/// A wrt_t<V...> named by a hash of its variables (see detail/args_key.hpp): `list` is V....
/// Schedules are parameterised by this key, not by wrt_t<V...>: everything named after a
/// schedule (the engine's functions, the workspace's and the tables' variables) would otherwise
/// spell every parameter of the network, names whose total size is quadratic in its depth.
template <std::uint64_t H>
struct wrt_key {
    using list = typename detail::list_of_key<detail::args_key<H>>::type::list;
};

/// The key of Wrt (all_variables stays itself).
template <class Wrt>
struct keyed_wrt {
    using type = Wrt;
};

template <class... V>
struct keyed_wrt<wrt_t<V...>> {
    // salted: a wrt list and a node's argument list with the same types get different keys
    static constexpr std::uint64_t hash =
        detail::mix64(detail::list_hash<V...>() ^ 0x7772742d6b6579ull);
    // naming args_bind<...>::key binds the key to the list (before wrt_key<hash>::list is read)
    using bound = typename detail::args_bind<hash, wrt_t<V...>>::key;
    using type = wrt_key<hash>;
};

template <class Wrt>
using keyed_wrt_t = typename keyed_wrt<Wrt>::type;

enum class kind : unsigned char { variable, constant, elementwise, reduce, kernel };

// Per-entry facts are computed from what the entry is (its op, its shapes), by functions
// named after those alone, or by classes (a class's name is only spelled where a function or
// variable uses it): a function named after the entry's type, instantiated for every entry,
// costs a mangled name as long as the entry's subexpression, and those names are quadratic in
// the depth of a network (bench/README.md, "Compile time that scales").

/// The kind of a node of op Op.
template <class Op>
constexpr kind op_kind() {
    if constexpr (requires { requires Op::reduce_all; }) {
        return kind::reduce;
    } else if constexpr (detail::tensor_op<Op>) {
        return kind::kernel;
    } else {
        return kind::elementwise;
    }
}

/// The kind of entry E, as a class.
template <class E, bool = is_node<E>::value>
struct kind_c : std::integral_constant<kind, is_variable_v<E> ? kind::variable : kind::constant> {};

template <class E>
struct kind_c<E, true> : std::integral_constant<kind, op_kind<typename E::op>()> {};

template <class E>
constexpr kind kind_of() {
    return kind_c<E>::value;
}

/// Whether E is a node of a tensor op (kind_of<E>() == kind::kernel), as a class: a function
/// named after E, instantiated for every entry of every scalar plan, costs a mangled name
/// as long as E's type.
template <class E, bool = is_node<E>::value>
struct is_kernel_node : std::false_type {};

template <class Op>
concept reduces_all_op = requires {
    requires Op::reduce_all;
};

template <class E>
struct is_kernel_node<E, true>
    : std::bool_constant<!reduces_all_op<typename E::op> && detail::tensor_op<typename E::op>> {};

/// Elementwise ops cheap enough to recompute in the backward pass rather than store.
template <class Op>
inline constexpr bool cheap =
    detail::in_list<detail::type_list<ops::neg_op, ops::add_op, ops::sub_op, ops::mul_op,
                                      ops::square_op, ops::relu_op, ops::abs_op, ops::max_op,
                                      ops::min_op, ops::greater_op, ops::greater_equal_op>,
                    Op>;

template <class E, bool = is_node<E>::value>
struct cheap_c : std::true_type {};

template <class E>
struct cheap_c<E, true> : std::bool_constant<cheap<typename E::op>> {};

/// Whether the op Op passes a derivative to each of its Arity arguments (locally constant ops do
/// not; a tensor op may decline one argument, see has_vjp); void (a leaf) to none.
template <class Op, std::size_t Arity, std::size_t A>
constexpr std::array<bool, A> op_passes() {
    std::array<bool, A> p{};
    if constexpr (!std::is_void_v<Op>) {
        if constexpr (op_kind<Op>() == kind::kernel) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((p[I] = Op::template has_vjp<I>), ...);
            }
            (std::make_index_sequence<Arity>{});
        } else {
            for (std::size_t i = 0; i < Arity; ++i) p[i] = !ad::detail::locally_constant<Op>();
        }
    }
    return p;
}

/// Which of its Arity arguments the op Op updates in place (none for void, a leaf).
template <class Op, std::size_t Arity, std::size_t A>
constexpr std::array<bool, A> op_updates() {
    std::array<bool, A> u{};
    if constexpr (!std::is_void_v<Op>) {
        if constexpr (requires { Op::template updates_in_place<0>; }) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((u[I] = Op::template updates_in_place<I>), ...);
            }
            (std::make_index_sequence<Arity>{});
        }
    }
    return u;
}

/// The op of entry E, void for a leaf.
template <class E, bool = is_node<E>::value>
struct op_or_void {
    using type = void;
};

template <class E>
struct op_or_void<E, true> {
    using type = typename E::op;
};

template <class E>
struct variable_type {
    using type = void;
};

template <fixed_string Name, class T, std::size_t... D>
struct variable_type<variable<Name, tensor<T, D...>>> {
    using type = T;
};

/// Whether a plan involves tensors (a tensor variable or a tensor op); scalar plans keep the
/// register-resident scalar sweep. The root is looked at first, then the argument of a root that
/// sums or averages (a loss; the sum of a scalar is scalar): for a network or a tensor test the
/// answer is there; otherwise the plan's rows say (each row's tensor bit, computed with the row:
/// no class is instantiated per entry here).
template <class Plan>
constexpr bool involves_tensors() {
    using root = typename Plan::template expr<Plan::size - 1>;
    using arg = typename Plan::template expr<Plan::child[Plan::size - 1][0]>;  // itself for a leaf
    if constexpr (detail::shape_of_t<root>::rank > 0 || is_kernel_node<root>::value) {
        return true;
    } else if constexpr (detail::shape_of_t<arg>::rank > 0 || is_kernel_node<arg>::value) {
        return true;
    } else {
        return Plan::any_tensor;  // the rows' tensor bits (ad/plan.hpp)
    }
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
    // a loop over an array, not a fold: a network has hundreds of tensor variables (clang limits
    // a fold to 256 operands)
    static constexpr bool same = [] {
        const bool each[] = {std::is_same_v<T0, T>..., true};
        for (const bool b : each) {
            if (!b) return false;
        }
        return true;
    }();
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

/// Whether the variable E is differentiated with respect to (false for other entries).
template <class Wrt, class E, bool = is_variable_v<E>>
struct wanted_c : std::false_type {};

template <class Wrt, class E>
struct wanted_c<Wrt, E, true> : std::bool_constant<detail::in_list<typename Wrt::list, E>> {};

template <class E>
struct wanted_c<all_variables, E, true> : std::true_type {};

template <class Wrt, class E>
constexpr bool wanted() {
    return wanted_c<Wrt, E>::value;
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
};

/// The facts of one entry that facts_of reads from its type.
template <std::size_t A>
struct entry_facts {
    kind k{};
    std::size_t count = 0;
    bool cheap = false;
    bool wanted = false;
    std::array<bool, A> passes{};
    std::array<bool, A> updates{};
};

/// The facts of entry type E (with Arity arguments, in rows of A) when differentiating with
/// respect to Wrt: one class per entry, named after the entry, not the plan, so that facts_of
/// names each entry's type once (each `Plan::expr<J>` is a lookup by hash).
template <class E, class Wrt, std::size_t Arity, std::size_t A>
struct entry_facts_of {
    using op = typename op_or_void<E>::type;
    static constexpr entry_facts<A> value{kind_c<E>::value,          detail::shape_of_t<E>::count,
                                          cheap_c<E>::value,         wanted_c<Wrt, E>::value,
                                          op_passes<op, Arity, A>(), op_updates<op, Arity, A>()};
};

/// The facts of the entries (from their types), computed once per plan and Wrt for the three
/// schedules of a program (gradient, value, SGD step), which take their decisions from a copy.
template <class Plan, class Wrt>
struct facts_of {
    static constexpr std::size_t N = Plan::size;
    static constexpr std::size_t A = Plan::max_arity;

    static constexpr tables<N, A> make() {
        tables<N, A> t{};
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            const entry_facts<A> each[] = {entry_facts_of<typename Plan::template expr<J>, Wrt,
                                                          Plan::facts.arity[J], A>::value...};
            std::size_t k = 0;
            for (const std::size_t j : {J...}) {
                const entry_facts<A>& f = each[k++];
                t.kinds[j] = f.k;
                t.count[j] = f.count;
                t.cheap[j] = f.cheap;
                t.wanted[j] = f.wanted;
                t.passes[j] = f.passes;
                t.updates[j] = f.updates;
            }
        });
        for (std::size_t j = 0; j < N; ++j) {
            t.arity[j] = Plan::facts.arity[j];
            t.child[j] = Plan::child[j];
        }
        return t;
    }

    static constexpr tables<N, A> value = make();
};

/// Facts of the entries of a plan that the sweeps use but its schedules do not copy around: the
/// last dimension (1 for a scalar), and how many numbers the forward kernel of a tensor op keeps
/// after its result for its vjp (`saved<ArgShapes...>` of the op; 0 for ops without).
/// `saved<ArgShapes...>` of the op Op (0 for ops without it), named after the op and shapes.
template <class Op, class... ArgShapes>
constexpr std::size_t op_saved() {
    if constexpr (requires { Op::template saved<ArgShapes...>; }) {
        return Op::template saved<ArgShapes...>;
    } else {
        return 0;
    }
}

/// The numbers the forward kernel of entry J keeps for its vjp, as a class.
template <class Plan, std::size_t J,
          bool = kind_c<typename Plan::template expr<J>>::value == kind::kernel,
          class = std::make_index_sequence<Plan::facts.arity[J]>>
struct saved_c : std::integral_constant<std::size_t, 0> {};

template <class Plan, std::size_t J, std::size_t... I>
struct saved_c<Plan, J, true, std::index_sequence<I...>>
    : std::integral_constant<
          std::size_t,
          op_saved<typename Plan::template expr<J>::op,
                   detail::shape_of_t<typename Plan::template expr<Plan::child[J][I]>>...>()>{};

template <class Plan>
struct plan_extents {
    static constexpr std::array<std::size_t, Plan::size> cols =
        []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<std::size_t, Plan::size>{
            detail::shape_of_t<typename Plan::template expr<J>>::cols...};
    }
    (std::make_index_sequence<Plan::size>{});

    static constexpr std::array<std::size_t, Plan::size> saved =
        []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<std::size_t, Plan::size>{saved_c<Plan, J>::value...};
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

/// Whether an SGD step updates argument i of entry k in place: a parameter read by that single
/// kernel op, which passes it and can add −lr·∂/∂W straight into it (matmul: W += −lr·Aᵀ·dC), so
/// the step keeps no buffer for its ∂. The one criterion of schedule's `fused` and of
/// workspace.hpp's step_buffers_of.
template <std::size_t N, std::size_t A>
constexpr bool updated_in_place(const tables<N, A>& t, std::size_t k, std::size_t i) {
    const std::size_t c = t.child[k][i];
    return t.kinds[c] == kind::variable && t.active[c] && t.consumers[c] == 1 &&
           t.kinds[k] == kind::kernel && t.passes[k][i] && t.updates[k][i];
}

template <std::size_t N, std::size_t A>
constexpr bool is_loop_root(const tables<N, A>& t, std::size_t k) {
    return t.active[k] && t.mat_adj[k] &&
           (t.kinds[k] == kind::elementwise || t.kinds[k] == kind::reduce ||
            t.kinds[k] == kind::kernel);
}

/// The entries whose stored adjoints the loop rooted at m writes, in out[] (counted in n;
/// repeats included; out may be null to count only).
template <std::size_t N, std::size_t A>
constexpr void collect_target_list(const tables<N, A>& t, std::size_t m, std::size_t* out,
                                   std::size_t& n) {
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        if (t.edges[m][i] == edge::inline_push) {
            collect_target_list(t, c, out, n);
        } else if (t.edges[m][i] != edge::skip) {
            if (out != nullptr) out[n] = c;
            ++n;
        }
    }
}

/// The schedule of the sweep of Plan in element type S: forward only (value) or forward and
/// backward (gradient with respect to Wrt).
template <class Plan, class Wrt, class S, bool Backward, bool Update = false>
struct schedule {
    static_assert(Backward || !Update);
    static constexpr bool update = Update;
    static constexpr bool backward = Backward;
    using plan = Plan;
    using wrt = Wrt;
    using scalar = S;
    static constexpr std::size_t N = Plan::size;
    static constexpr std::size_t A = Plan::max_arity;
    static constexpr std::size_t root = N - 1;
    static constexpr std::size_t align = 64 / sizeof(S) > 0 ? 64 / sizeof(S) : 1;

    static constexpr tables<N, A> compute() {
        tables<N, A> t = facts_of<Plan, Wrt>::value;
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
                    if (updated_in_place(t, k, i)) {
                        const std::size_t c = t.child[k][i];
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
        return t;
    }

    static constexpr tables<N, A> t = compute();

    /// The adjoints to zero before each loop root k (k = N: when the backward pass starts),
    /// grouped by k in one pass: entries start[k] .. start[k + 1] of entry[].
    struct zero_table {
        std::array<std::size_t, N + 2> start{};
        std::array<std::size_t, N> entry{};
    };

    static constexpr zero_table zeros = [] {
        zero_table z{};
        std::array<std::size_t, N> key{};
        for (std::size_t j = 0; j < N; ++j) {
            key[j] = t.zero_at_start[j] ? N : t.zero_before[j];
            if (key[j] != none) ++z.start[key[j] + 1];
        }
        for (std::size_t k = 0; k <= N; ++k) z.start[k + 1] += z.start[k];
        std::array<std::size_t, N + 2> fill = z.start;
        for (std::size_t j = 0; j < N; ++j) {
            if (key[j] != none) z.entry[fill[key[j]]++] = j;
        }
        return z;
    }();
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

/// The loops of a sweep: the forward loop of entry j (an elementwise entry or a reduction whose
/// value is materialised by its own loop) and the backward loop rooted at k (an elementwise or
/// reduction loop root).
template <std::size_t N, std::size_t A>
constexpr bool has_forward_loop(const tables<N, A>& t, std::size_t j) {
    return t.mat_val[j] && !stored_by_consumer(t, j) &&
           (t.kinds[j] == kind::elementwise || t.kinds[j] == kind::reduce);
}

template <std::size_t N, std::size_t A>
constexpr bool has_backward_loop(const tables<N, A>& t, std::size_t k) {
    return is_loop_root(t, k) && (t.kinds[k] == kind::elementwise || t.kinds[k] == kind::reduce);
}

/// Loop (j, forward)'s row in a loop table: 2j + forward.
constexpr std::size_t loop_row(std::size_t j, bool forward) {
    return 2 * j + (forward ? 1 : 0);
}

/// A flat list per loop: loop row r has count[r] entries, entry[start[r]] onwards.
template <std::size_t Rows, std::size_t Size>
struct loop_lists {
    std::array<std::size_t, Rows> start{};
    std::array<std::size_t, Rows> count{};
    std::array<std::size_t, Size + 1> entry{};
};

/// Position of entry e in row r of a loop list, or none.
template <std::size_t Rows, std::size_t Size>
constexpr std::size_t list_slot(const loop_lists<Rows, Size>& l, std::size_t r, std::size_t e) {
    for (std::size_t m = 0; m < l.count[r]; ++m) {
        if (l.entry[l.start[r] + m] == e) return m;
    }
    return none;
}

/// The per-loop facts of a schedule, computed once for all its loops: the loop-invariant scalars
/// of every loop (loop_scalar_reads, each once, in order of first use), and for every backward
/// loop root the adjoints of scalars it accumulates in lane-wise locals and whether its positions
/// write distinct elements. One class per schedule with a few tables, not one per loop: a static
/// member per loop is a variable named after the whole schedule (names quadratic in a network's
/// depth, bench/README.md "Compile time that scales").
template <class Sched>
struct loop_facts {
    static constexpr const auto& t = Sched::t;
    static constexpr std::size_t N = Sched::N;

    /// Upper bounds of the list sizes (loop_scalar_reads, collect_target_list with repeats).
    struct bounds {
        std::size_t invariants = 0;
        std::size_t targets = 0;
    };
    static constexpr bounds sizes = [] {
        bounds b{};
        for (std::size_t j = 0; j < N; ++j) {
            if (has_forward_loop(t, j)) loop_scalar_reads(t, j, true, nullptr, b.invariants);
            if (has_backward_loop(t, j)) {
                loop_scalar_reads(t, j, false, nullptr, b.invariants);
                collect_target_list(t, j, nullptr, b.targets);
            }
        }
        return b;
    }();

    using invariant_lists = loop_lists<2 * N, sizes.invariants>;

    static constexpr invariant_lists invariants = [] {
        invariant_lists l{};
        std::array<std::size_t, sizes.invariants + 1> all{};
        std::size_t used = 0;
        for (std::size_t r = 0; r < 2 * N; ++r) {
            const std::size_t j = r / 2;
            const bool forward = r % 2 == 1;
            l.start[r] = used;
            if (!(forward ? has_forward_loop(t, j) : has_backward_loop(t, j))) continue;
            std::size_t n = 0;
            loop_scalar_reads(t, j, forward, all.data(), n);
            for (std::size_t k = 0; k < n; ++k) {
                bool seen = false;
                for (std::size_t m = 0; m < l.count[r]; ++m) {
                    seen = seen || l.entry[used + m] == all[k];
                }
                if (!seen) l.entry[used + l.count[r]++] = all[k];
            }
            used += l.count[r];
        }
        return l;
    }();

    struct target_lists {
        loop_lists<N, sizes.targets> slots;  // slot m of loop k accumulates entry[start[k] + m]
        std::array<bool, N> independent{};   // no two positions of a row write one element
    };

    static constexpr target_lists targets = [] {
        target_lists r{};
        std::array<std::size_t, sizes.targets + 1> hit{};
        constexpr auto& cols = plan_extents<typename Sched::plan>::cols;
        std::size_t used = 0;
        for (std::size_t k = 0; k < N; ++k) {
            r.slots.start[k] = used;
            r.independent[k] = true;
            if (!has_backward_loop(t, k)) continue;
            std::size_t n = 0;
            collect_target_list(t, k, hit.data(), n);
            const std::size_t loop_cols = cols[t.kinds[k] == kind::reduce ? t.child[k][0] : k];
            for (std::size_t h = 0; h < n; ++h) {
                const std::size_t j = hit[h];
                if (t.count[j] == 1 && t.domain[k] > 1) {
                    if (list_slot(r.slots, k, j) == none)
                        r.slots.entry[used + r.slots.count[k]++] = j;
                } else if (cols[j] != loop_cols) {
                    // a column broadcast over the loop's rows: every element of a row adds into
                    // the same element of this adjoint
                    r.independent[k] = false;
                }
            }
            used += r.slots.count[k];
        }
        return r;
    }();
};

}  // namespace tensor_ad
}  // namespace ctgrad
