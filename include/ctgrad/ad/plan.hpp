/// @file
/// The plan of an expression type: its subexpressions in topological order (core/fragment.hpp),
/// with the tables the sweeps index into (children, which subexpressions carry a derivative,
/// which contribution assigns an adjoint first).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::conditional_t, std::remove_cvref_t
#include <utility>      // std::index_sequence

#include <ctgrad/core/fragment.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad::ad {
namespace detail {

template <class Op>
constexpr bool locally_constant() {
    if constexpr (requires { Op::locally_constant; }) {
        return Op::locally_constant;
    } else {
        return false;
    }
}

template <class E>
struct arity_of : std::integral_constant<std::size_t, 0> {};

template <class E>
requires is_node<E>::value struct arity_of<E> : E::arity_c {
};

/// What the root's pass needs to know of one entry, for plans whose ops take at most MA
/// arguments: its own facts, and for each argument its hash (a pure argument's entry is found
/// by it: pure subexpressions occur once in a plan), whether it is pure, and the number of
/// run-time constants it holds.
template <std::size_t MA>
struct entry_row {
    std::size_t arity = 0;
    std::size_t first_arg = 0;  // whose entries come first in the plan (core/fragment.hpp)
    bool pure = true;
    bool constant = false;
    // Built-in arrays, as every table of a plan is read below: an element read through
    // std::array::operator[] is a function call to the compilers' constant evaluators (3-7x a
    // built-in index with g++ 12 and clang++ 14; bench/README.md, sc15).
    std::uint64_t arg_hash[MA]{};
    bool arg_pure[MA]{};
    std::size_t constants[MA]{};
    bool variable = false;
    bool differentiable = false;  // a node whose op has partials
    /// A tensor entry: its shape has rank > 0, or it is a node of a tensor op that does not
    /// reduce everything (tensor/schedule.hpp's is_kernel_node), read by involves_tensors.
    bool tensor = false;
};

/// Whether a node of op Op is a tensor kernel (tensor/schedule.hpp's is_kernel_node: a tensor
/// op that does not reduce everything to a scalar).
template <class Op>
constexpr bool kernel_op() {
    if constexpr (requires { requires Op::reduce_all; }) {
        return false;
    } else {
        return ctgrad::detail::tensor_op<Op>;
    }
}

/// The row of entry E (a leaf: no arguments), one class per entry: everything the plan reads of
/// the entry's type is read here, once (a class, a value template argument or a trait per fact
/// and entry each cost the compilers a class instantiation per entry).
template <std::size_t MA, class E, class Args = void>
struct row_of {
    static constexpr entry_row<MA> value{0,
                                         0,
                                         is_pure<E>::value,
                                         is_constant<E>::value,
                                         {},
                                         {},
                                         {},
                                         is_variable_v<E>,
                                         false,
                                         (ctgrad::detail::shape_of_t<E>::rank > 0)};
};

template <std::size_t MA, class E, class... A>
struct row_of<MA, E, ctgrad::detail::type_list<A...>> {
    static constexpr entry_row<MA> value{
        sizeof...(A),
        ctgrad::detail::frag_of<E>.first_arg,  // the node's member: no class per node
        is_pure<E>::value,
        false,
        {ctgrad::detail::entry_hash<A>...},
        {is_pure<A>::value...},
        {ctgrad::detail::list_size<ctgrad::detail::constants_of_t<A>>::value...},
        false,
        !locally_constant<typename E::op>(),
        E::ctgrad_shape_t::rank > 0 || kernel_op<typename E::op>()};
};

template <class E>
struct args_or_void {
    using type = void;
};

template <class E>
requires is_node<E>::value struct args_or_void<E> {
    using type = typename E::args;
};

// The tables over every entry are returned by functions and held by the plan itself, not held
// by a class named after the entries' index pack (`struct rows<MA, Plan, index_sequence<J...>>`):
// g++ checks, at every read of a class template's static member in a constant evaluation,
// whether the class's template arguments are dependent, one by one, so a table read at each
// of the 1 025 entries of a 256-step chain's passes walked the 1 025 indices each time (~0.5 s
// of g++; see bench/README.md, gx12).

/// The largest arity of Plan's entries, at least 1 (read before the rows: they are sized by it).
template <class Plan, std::size_t... J>
constexpr std::size_t max_arity_of(std::index_sequence<J...>) {
    const std::size_t arity[] = {arity_of<typename Plan::template expr<J>>::value..., 1};
    std::size_t m = 1;
    for (const std::size_t a : arity) m = a > m ? a : m;
    return m;
}

/// The rows of Plan's entries, in plan order, each from its type (found by its hash once).
template <std::size_t MA, class Plan, std::size_t... J>
constexpr std::array<entry_row<MA>, sizeof...(J)> rows_of(std::index_sequence<J...>) {
    return {row_of<MA, typename Plan::template expr<J>,
                   typename args_or_void<typename Plan::template expr<J>>::type>::value...};
}

template <class Plan, class Seq>
struct variables_at;

template <class Plan, std::size_t... I>
struct variables_at<Plan, std::index_sequence<I...>> {
    using type =
        ctgrad::detail::type_list<typename Plan::template expr<Plan::variable_entry[I]>...>;
};

template <std::size_t N, std::size_t MA>
struct plan_tables {
    std::array<std::array<std::size_t, MA>, N> child{};
    std::array<std::size_t, N> constant_slot{};
    /// No two pure entries have the same hash (pure arguments are found by their hash alone:
    /// two that shared one would be read as one subexpression; see plan's static_assert).
    bool pure_hashes_distinct = true;
};

/// The argument entries and constant slots of a plan, from its rows, in one pass each way (a
/// function of sizes only). Pure arguments are found by type (their rows say where). Impure
/// entries occur once per use, each read by one parent, and a fragment lists them in the order
/// of a depth-first walk that visits a node's first_arg before its other arguments (in order)
/// and the node after them: so a stack gives each impure entry its impure arguments.
template <std::size_t N, std::size_t MA>
constexpr plan_tables<N, MA> build_tables(const std::array<entry_row<MA>, N>& rows,
                                          const std::array<std::uint64_t, N>& hashes) {
    plan_tables<N, MA> t{};
    const entry_row<MA>* const row = rows.data();
    const std::uint64_t* const hash = hashes.data();
    std::array<std::size_t, MA>* const child = t.child.data();
    std::size_t* const constant_slot = t.constant_slot.data();
    // The pure entries by hash (they occur once; entry hashes are mixed: open addressing).
    std::size_t cap = 2;
    while (cap < 2 * N) cap *= 2;
    std::size_t* slot = new std::size_t[cap];
    for (std::size_t k = 0; k < cap; ++k) slot[k] = ctgrad::detail::no_entry;
    for (std::size_t j = 0; j < N; ++j) {
        if (!row[j].pure) continue;
        std::size_t k = hash[j] & (cap - 1);
        while (slot[k] != ctgrad::detail::no_entry) {
            if (hash[slot[k]] == hash[j]) t.pure_hashes_distinct = false;
            k = (k + 1) & (cap - 1);
        }
        slot[k] = j;
    }
    const auto pure_at = [&](std::uint64_t h) {
        std::size_t k = h & (cap - 1);
        while (hash[slot[k]] != h) k = (k + 1) & (cap - 1);  // a pure argument is in the plan
        return slot[k];
    };
    std::size_t* const stack = new std::size_t[N];
    std::size_t top = 0;
    for (std::size_t j = 0; j < N; ++j) {
        const entry_row<MA>& r = row[j];
        std::size_t* const cj = child[j].data();
        for (std::size_t i = 0; i < r.arity; ++i) {
            cj[i] = r.arg_pure[i] ? pure_at(r.arg_hash[i]) : ctgrad::detail::no_entry;
        }
        if (r.pure) continue;
        // the impure arguments were visited first_arg first, then in order: pop in reverse
        for (std::size_t k = r.arity; k-- > 0;) {
            const std::size_t i = k == 0 ? r.first_arg : (k <= r.first_arg ? k - 1 : k);
            if (!r.arg_pure[i]) cj[i] = stack[--top];
        }
        stack[top++] = j;
    }
    delete[] stack;
    delete[] slot;
    // constant slots: the root's constants are its arguments' in argument order, recursively
    std::size_t* const base = new std::size_t[N]{};
    for (std::size_t j = 0; j < N; ++j) constant_slot[j] = ctgrad::detail::no_entry;
    for (std::size_t j = N; j-- > 0;) {
        const entry_row<MA>& r = row[j];
        if (r.pure) continue;
        if (r.constant) constant_slot[j] = base[j];
        std::size_t offset = base[j];
        const std::size_t* const cj = child[j].data();
        for (std::size_t i = 0; i < r.arity; ++i) {
            if (!r.arg_pure[i]) base[cj[i]] = offset;
            offset += r.constants[i];
        }
    }
    delete[] base;
    return t;
}

/// Which contributions of a reverse sweep are the first to their argument's adjoint (and so
/// assign it instead of adding): first[J][I] for the contribution of entry J to its I-th
/// argument, for a sweep over entries [0, end) that pushes the entries marked in `act` (a
/// function of sizes only: the plan's sweep from its root and a Jacobian's from one output,
/// ad/jacobian.hpp).
template <std::size_t N, std::size_t MA>
constexpr std::array<std::array<bool, MA>, N> first_contributions(
    const std::array<bool, N>& acts, std::size_t end, const std::array<std::size_t, N>& arities,
    const std::array<bool, N>& differentiables,
    const std::array<std::array<std::size_t, MA>, N>& children) {
    std::array<std::array<bool, MA>, N> firsts{};
    // Pointers: no std::array::operator[] call per element read (see entry_row).
    const bool* const act = acts.data();
    const std::size_t* const arity = arities.data();
    const bool* const differentiable = differentiables.data();
    bool* const seen = new bool[N]{};
    for (std::size_t k = end; k-- > 0;) {
        if (!act[k] || !differentiable[k]) continue;
        const std::size_t* const child = children[k].data();
        bool* const first = firsts[k].data();
        for (std::size_t i = 0; i < arity[k]; ++i) {
            const std::size_t c = child[i];
            if (act[c]) {
                first[i] = !seen[c];
                seen[c] = true;
            }
        }
    }
    delete[] seen;
    return firsts;
}

}  // namespace detail

/// The evaluation plan of the expression type Root (cv-ref qualifiers ignored): its entries
/// (core/fragment.hpp, built when the expression was) and the tables the sweeps index into.
/// Nothing here recurses on the depth of the expression or walks its paths.
template <class Root>
struct plan {
    using root = std::remove_cvref_t<Root>;
    using fragment = ctgrad::detail::fragment<root>;

    static constexpr std::size_t size = ctgrad::detail::frag_of<root>.size;

    /// The hash of each entry's type (ctgrad::detail::entry_hash), in plan order: read from the
    /// fragments, without naming the entries' types (each is found once, by expr<J>).
    static constexpr std::array<std::uint64_t, size> hashes =
        ctgrad::detail::list_hashes<false, size>(&ctgrad::detail::frag_of<root>);

    /// The expression type of entry J (one lookup by its hash, not a search of the list).
    template <std::size_t J>
    using expr = typename ctgrad::detail::entry_type_c<hashes[J]>::type;

    template <std::size_t J>
    static constexpr std::size_t arity = detail::arity_of<expr<J>>::value;

    static constexpr std::size_t max_arity =
        detail::max_arity_of<plan>(std::make_index_sequence<size>{});

    /// The number of run-time constants the root holds.
    static constexpr std::size_t constant_count =
        ctgrad::detail::list_size<ctgrad::detail::constants_of_t<root>>::value;

    /// Each entry's row (detail::entry_row): the one pass over the entries' types.
    static constexpr std::array<detail::entry_row<max_arity>, size> row =
        detail::rows_of<max_arity, plan>(std::make_index_sequence<size>{});

    /// Whether an entry is a tensor (entry_row::tensor): the plan is swept by the tensor engine.
    static constexpr bool any_tensor = [] {
        for (const auto& r : row) {
            if (r.tensor) return true;
        }
        return false;
    }();

    static constexpr detail::plan_tables<size, max_arity> tables =
        detail::build_tables<size, max_arity>(row, hashes);

    // A pure subexpression occurs once in a plan (core/fragment.hpp merges them by hash), so
    // two pure entries with one hash are two distinct types whose 64-bit hashes collide.
    static_assert(tables.pure_hashes_distinct,
                  "ctgrad: two distinct pure subexpressions of this expression have the same "
                  "64-bit type hash (ctgrad::detail::entry_hash), so the plan cannot tell them "
                  "apart. This is a hash collision (about one chance in 2^64 per pair): rename "
                  "a variable or reorder the arguments of one subexpression.");

    /// child[J][I]: the entry of the I-th argument of entry J.
    static constexpr const auto& child = tables.child;

    /// constant_slot[J]: for a run-time constant, the position of its number among the root's
    /// (ctgrad::detail::constant_at); no_entry for every other entry.
    static constexpr const auto& constant_slot = tables.constant_slot;

    // The tables the scalar sweeps read (active, variable_*, ad::detail::push_rows) are computed
    // from `row` directly: `facts` and `assigns` (read by Jacobians and the tensor schedule) are
    // evaluated only where they are used (each is another pass and another constant array of
    // `size` elements in the compiler; see bench/README.md, gx11).
    struct entry_facts {
        std::array<std::size_t, size> arity;
        std::array<bool, size> is_variable;
        std::array<bool, size> differentiable;  // a node whose op has partials
    };

    static constexpr entry_facts facts = [] {
        entry_facts f{};
        const detail::entry_row<max_arity>* const rows = row.data();
        std::size_t* const arity = f.arity.data();
        bool* const is_variable = f.is_variable.data();
        bool* const differentiable = f.differentiable.data();
        for (std::size_t j = 0; j < size; ++j) {
            arity[j] = rows[j].arity;
            is_variable[j] = rows[j].variable;
            differentiable[j] = rows[j].differentiable;
        }
        return f;
    }();

    /// active[J]: entry J depends on a variable through differentiable ops, so it carries
    /// an adjoint. Constants, literals and piecewise-constant ops (indicators) do not.
    static constexpr std::array<bool, size> active = [] {
        std::array<bool, size> as{};
        bool* const a = as.data();
        const detail::entry_row<max_arity>* const rows = row.data();
        for (std::size_t j = 0; j < size; ++j) {  // children come before parents
            a[j] = rows[j].variable;
            if (rows[j].differentiable) {
                const std::size_t* const c = child[j].data();
                for (std::size_t i = 0; i < rows[j].arity; ++i) {
                    a[j] = a[j] || a[c[i]];
                }
            }
        }
        return as;
    }();

    /// assigns[J][I]: the contribution of entry J to its I-th argument is the first one the
    /// reverse sweep makes to that argument's adjoint, so it assigns instead of adding.
    static constexpr std::array<std::array<bool, max_arity>, size> assigns =
        detail::first_contributions<size, max_arity>(active, size, facts.arity,
                                                     facts.differentiable, child);

    static constexpr std::size_t variable_count = [] {
        std::size_t n = 0;
        for (const auto& r : row) n += r.variable ? 1 : 0;
        return n;
    }();

    /// variable_rank[J]: for a variable, its position in `variables`.
    static constexpr std::array<std::size_t, size> variable_rank = [] {
        std::array<std::size_t, size> rs{};
        std::size_t* const r = rs.data();
        const detail::entry_row<max_arity>* const rows = row.data();
        std::size_t n = 0;
        for (std::size_t j = 0; j < size; ++j) {
            r[j] = rows[j].variable ? n++ : 0;
        }
        return rs;
    }();

    static constexpr std::array<std::size_t, variable_count> variable_entry = [] {
        std::array<std::size_t, variable_count> e{};
        const detail::entry_row<max_arity>* const rows = row.data();
        std::size_t n = 0;
        for (std::size_t j = 0; j < size; ++j) {
            if (rows[j].variable) {
                e[n++] = j;  // variable_count times
            }
        }
        return e;
    }();

    /// The variables of the expression, in plan order.
    using variables =
        typename detail::variables_at<plan, std::make_index_sequence<variable_count>>::type;
};

}  // namespace ctgrad::ad
