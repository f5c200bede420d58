/// @file
/// The plan fragment of an expression type: its subexpressions in an order where arguments come
/// before the ops that read them. Pure subexpressions appear once however often they are used
/// (their type is their value); an impure one (holding a run-time number) once per occurrence.
///
/// Fragments are built bottom-up, one per node type, when `make_node` creates the node (see
/// core/node.hpp): a node's entry list is its *largest* argument's list, unchanged, followed by
/// the entries of its other arguments that it does not hold yet, then the node. Building the
/// plan of an expression therefore never recurses on its depth (a 256-step recurrence compiles
/// at the default -ftemplate-depth), never walks paths through a DAG, and costs each node work
/// in proportion to its smaller arguments only (plus one list of types).
///
/// A fragment is *types only*: no static data member, variable template or function is
/// instantiated per node. The compiler gives every instantiated variable and function a mangled
/// name that spells its template arguments, and a node's type spells its whole subexpression,
/// so n such entities would cost O(n^2) bytes of names (g++ spent most of a 64-step chain's
/// compile mangling them). The numeric tables of a plan (argument indices, constant slots) are
/// computed once, at the root, by ad::plan, from these lists.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::conditional_t, std::integral_constant, std::remove_pointer_t
#include <utility>      // std::index_sequence

#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

/// Diagnostic type: instantiated (and left incomplete) when an expression copies a
/// subexpression that holds a run-time number so often that its plan explodes: `Op` is the op
/// being applied, `Entries` the size its plan would have, `Distinct` the number of distinct
/// subexpressions. (The argument types are not named: they would print as large as the plan.)
template <class Op, std::size_t Entries, std::size_t Distinct>
struct subexpression_holding_a_number_is_reused;

namespace detail {

inline constexpr std::size_t no_entry = static_cast<std::size_t>(-1);

/// A plan larger than this many entries, and more than `copy_factor` times the number of
/// distinct subexpression types, is refused as an accidental exponential copy (see make_node).
inline constexpr std::size_t copy_budget = 1024;
inline constexpr std::size_t copy_factor = 8;

/// The hash of one type (detail/args_key.hpp): every entry of a plan has a short printed name
/// (a node prints as its op and args_key), so this is one short function per distinct type.
template <class E>
inline constexpr std::uint64_t entry_hash = type_hash<E>::value;

/// The type whose entry_hash is H (bound by the type's fragment, `type_bind<H, E>`). With
/// clang++ spread over namespaces like the argument keys (detail/args_key.hpp): its scan of the
/// friends of one name at each definition was quadratic (0.66 s of a 512-step chain's
/// expressions). g++ keeps them under one name: with the buckets its plan (which names
/// `type_key<plan::hashes[J]>` per entry) took ~80 MB more on a 256-step chain.
#if defined(__clang__)
template <std::uint64_t H>
using type_key = typename key_bucket<key_bucket_of(H)>::template type_key<H>;

template <std::uint64_t H, class E>
using type_bind = typename key_bucket<key_bucket_of(H)>::template type_bind<H, E>;
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
template <std::uint64_t H>
struct type_key {
    friend constexpr auto entry_type(type_key) noexcept;
};
#pragma GCC diagnostic pop

template <std::uint64_t H, class E>
struct type_bind {
    friend constexpr auto entry_type(type_key<H>) noexcept { return static_cast<E*>(nullptr); }
};
#endif

template <std::uint64_t H>
using entry_type_t = std::remove_pointer_t<decltype(entry_type(type_key<H>{}))>;

/// The same, as a class: the lookup is made once per type, however often it is named.
template <std::uint64_t H>
struct entry_type_c {
    using type = entry_type_t<H>;
};

/// One entry of a list, as the merge sees it.
struct entry_ref {
    std::uint64_t hash = 0;
    bool pure = false;
};

/// The levels of a chain of first arguments (the leaf at depth 1, each node above it one
/// deeper) are grouped in blocks of block_levels, each with a small filter (one bit per hash; a
/// clear bit proves absence) of the shared entries its levels add, so that a lookup hops over
/// blocks instead of walking every level. (A walk made long chains quadratic: a shared entry
/// added deep in a chain, such as a recurrence's weight, is looked up again at every step.)
inline constexpr std::size_t block_levels = 32;
inline constexpr std::size_t bloom_words = 16;
using bloom_t = std::array<std::uint64_t, bloom_words>;

constexpr void bloom_add(bloom_t& b, std::uint64_t h) {
    b[(h >> 6) % bloom_words] |= std::uint64_t{1} << (h & 63u);
}

/// What a fragment is, as numbers and pointers (a constexpr value per expression type, named
/// after that type: short names): its first argument's fragment, the entries it adds after that
/// argument's list (All = false: `added`; All = true: `dadded`), the sizes of its lists, the
/// length of its chain of first arguments. A list is never stored whole per node: a node holds
/// only what it adds, so building an expression costs time and memory linear in its size; the
/// whole list is read, in order, by walking the chain (walk_list), at the root and for the
/// smaller arguments a node merges.
struct frag_info {
    const frag_info* first = nullptr;
    const entry_ref* added = nullptr;
    std::size_t n_added = 0;
    const entry_ref* dadded = nullptr;
    std::size_t n_dadded = 0;
    std::size_t size = 1;
    std::size_t dsize = 1;
    std::size_t depth = 1;
    entry_ref self{};
    /// The last level of the previous block (nullptr in the first block), and filters of the
    /// shared entries added by the levels of this block up to this one (see block_levels).
    const frag_info* block = nullptr;
    bloom_t block_bloom{};
    bloom_t block_dbloom{};
};

/// Calls f on each entry of the entry list (All = false) or distinct list (All = true) of the
/// fragment `top`, in order. Iterative (a constant-evaluation recursion as deep as a long chain
/// would pass the compilers' limits).
template <bool All, class F>
constexpr void walk_list(const frag_info* top, F& f) {
    const frag_info** chain = new const frag_info*[top->depth];
    std::size_t n = 0;
    for (const frag_info* p = top; p != nullptr; p = p->first) chain[n++] = p;
    f(chain[n - 1]->self);  // a leaf (or a refused node): its list is itself
    for (std::size_t i = n - 1; i-- > 0;) {
        const frag_info* q = chain[i];
        const entry_ref* a = All ? q->dadded : q->added;
        const std::size_t m = All ? q->n_dadded : q->n_added;
        for (std::size_t k = 0; k < m; ++k) f(a[k]);
    }
    delete[] chain;
}

template <bool All>
constexpr bool shared_entry(const entry_ref& e) {
    return All || e.pure;
}

/// Whether the list of `top` holds the shared entry h: a hop from block to block down the chain
/// of first arguments, walking the levels of a block only when its filter may hold h (no
/// allocation, no callback, no call per block or level: the compilers' constant evaluators are
/// slow at all three, and g++ memoises each call of a constexpr function with its arguments).
template <bool All>
constexpr bool list_holds(const frag_info* top, std::uint64_t h) {
    const std::size_t word = (h >> 6) % bloom_words;
    const std::uint64_t bit = std::uint64_t{1} << (h & 63u);
    for (const frag_info* p = top; p != nullptr; p = p->block) {
        if (((All ? p->block_dbloom[word] : p->block_bloom[word]) & bit) == 0) continue;
        for (const frag_info* q = p; q != p->block; q = q->first) {
            if (q->first == nullptr) {
                if (q->self.hash == h && (All || q->self.pure)) return true;
                continue;
            }
            const entry_ref* a = All ? q->dadded : q->added;
            const std::size_t m = All ? q->n_dadded : q->n_added;
            for (std::size_t k = 0; k < m; ++k) {
                if (a[k].hash == h && (All || a[k].pure)) return true;
            }
        }
    }
    return false;
}

/// The entries a node adds after its first argument's list: the other arguments' entries that
/// are not shared entries held already (by the first argument's list or an earlier addition),
/// in order, then the node itself. Cap bounds their number.
template <std::size_t Cap>
struct added_list {
    std::array<entry_ref, Cap> items{};
    std::size_t count = 0;
};

template <bool All, std::size_t Cap, std::size_t K>
constexpr added_list<Cap> merge_added(const frag_info* first,
                                      const std::array<const frag_info*, K>& others,
                                      entry_ref self) {
    added_list<Cap> r{};
    const auto held = [&](const entry_ref& e) {
        if (!shared_entry<All>(e)) return false;
        for (std::size_t i = 0; i < r.count; ++i) {
            if (r.items[i].hash == e.hash) return true;
        }
        return list_holds<All>(first, e.hash);
    };
    auto add = [&](const entry_ref& e) {
        if (!held(e)) r.items[r.count++] = e;
    };
    for (const frag_info* o : others) {
        if (held(o->self)) continue;  // a shared argument held: so is everything under it
        walk_list<All>(o, add);
    }
    r.items[r.count++] = self;
    return r;
}

/// The hashes of the list of `top`, in order (N entries).
template <bool All, std::size_t N>
constexpr std::array<std::uint64_t, N> list_hashes(const frag_info* top) {
    std::array<std::uint64_t, N> h{};
    std::size_t n = 0;
    auto f = [&](const entry_ref& e) { h[n++] = e.hash; };
    walk_list<All>(top, f);
    return h;
}

/// The fragment facts of a leaf (plain functions, not templates: nothing is instantiated per
/// expression type to compute them, only evaluated).
constexpr frag_info leaf_info(entry_ref self) {
    frag_info f{};
    f.self = self;
    if (self.pure) bloom_add(f.block_bloom, self.hash);
    bloom_add(f.block_dbloom, self.hash);
    return f;
}

/// The fragment facts of a node: its first argument's fragment, the entries it adds to the
/// entry list and to the distinct list, itself.
constexpr frag_info node_info(const frag_info* first, const entry_ref* added, std::size_t n_added,
                              const entry_ref* dadded, std::size_t n_dadded, entry_ref self) {
    frag_info f{};
    f.first = first;
    f.added = added;
    f.n_added = n_added;
    f.dadded = dadded;
    f.n_dadded = n_dadded;
    f.size = first->size + n_added;
    f.dsize = first->dsize + n_dadded;
    f.depth = first->depth + 1;
    f.self = self;
    // The first level of a block starts its filters; the others continue their first's.
    if ((f.depth - 1) % block_levels == 0) {
        f.block = first;
    } else {
        f.block = first->block;
        f.block_bloom = first->block_bloom;
        f.block_dbloom = first->block_dbloom;
    }
    for (std::size_t k = 0; k < n_added; ++k) {
        if (added[k].pure) bloom_add(f.block_bloom, added[k].hash);
    }
    for (std::size_t k = 0; k < n_dadded; ++k) bloom_add(f.block_dbloom, dadded[k].hash);
    return f;
}

/// The fragment of a leaf (variable, literal, run-time constant): itself.
template <class E>
struct leaf_fragment : type_bind<entry_hash<E>, E> {
    static constexpr frag_info info = leaf_info(entry_ref{entry_hash<E>, is_pure<E>::value});
    /// Which argument's entries come first (the largest argument's; 0 for a leaf).
    using first_arg = std::integral_constant<std::size_t, 0>;
    /// Set when the expression was refused (an exploding copy, already diagnosed): its
    /// fragment stops growing, so the parents add no errors and no cost of their own.
    using refused_c = std::false_type;
};

template <class E>
struct fragment : leaf_fragment<E> {};

/// The position of the first largest of the sizes (a function of sizes only).
template <std::size_t K>
constexpr std::size_t largest_of(const std::array<std::size_t, K>& size) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < K; ++i) {
        if (size[i] > size[best]) best = i;
    }
    return best;
}

/// The arguments other than the First-th, in order.
template <std::size_t First, class Args, class Seq>
struct others_of;

template <std::size_t First, class... A, std::size_t... I>
struct others_of<First, type_list<A...>, std::index_sequence<I...>> {
    using type = concat_t<std::conditional_t<I == First, type_list<>, type_list<A>>...>;
};

/// An upper bound of the entries a node adds (the sizes of its other arguments' lists, + 1).
template <bool All, class Others>
struct added_cap;

template <bool All, class... O>
struct added_cap<All, type_list<O...>> {
    static constexpr std::size_t value =
        (std::size_t{1} + ... + (All ? fragment<O>::info.dsize : fragment<O>::info.size));
};

template <bool All, class First, class Others, class N>
struct node_added;

template <bool All, class First, class... O, class N>
struct node_added<All, First, type_list<O...>, N> {
    static constexpr auto value = merge_added<All, added_cap<All, type_list<O...>>::value>(
        &fragment<First>::info, std::array<const frag_info*, sizeof...(O)>{&fragment<O>::info...},
        entry_ref{entry_hash<N>, N::pure_c::value});
};

template <class N, class Args>
struct node_fragment;

template <class N, class... A>
struct node_fragment<N, type_list<A...>> : type_bind<entry_hash<N>, N> {
    using first_arg =
        std::integral_constant<std::size_t, largest_of<sizeof...(A)>({fragment<A>::info.size...})>;
    using others =
        typename others_of<first_arg::value, type_list<A...>, std::index_sequence_for<A...>>::type;
    using first = at_t<type_list<A...>, first_arg::value>;
    using entries = node_added<false, first, others, N>;
    /// The distinct subexpressions (a pure node's are its entries).
    using all = std::conditional_t<N::pure_c::value, entries, node_added<true, first, others, N>>;
    static constexpr frag_info info = node_info(
        &fragment<first>::info, entries::value.items.data(), entries::value.count,
        all::value.items.data(), all::value.count, entry_ref{entry_hash<N>, N::pure_c::value});
    /// The plan copies impure subexpressions so often that it is refused (see make_node).
    using refused_c = std::bool_constant<(!N::pure_c::value && info.size > copy_budget &&
                                          info.size > copy_factor * info.dsize)>;
};

/// The fragment of a node one of whose arguments was refused: the node alone, refused too.
template <class N>
struct refused_fragment : leaf_fragment<N> {
    using refused_c = std::true_type;
};

template <class Args>
struct any_refused;

template <class... A>
struct any_refused<type_list<A...>> : std::bool_constant<(fragment<A>::refused_c::value || ...)> {};

template <class N>
requires is_node<N>::value struct fragment<N>
    : std::conditional_t<any_refused<typename N::args>::value, refused_fragment<N>,
                         node_fragment<N, typename N::args>> {
};

/// The entry list (All = false) or the distinct list (All = true) of expression E, as types:
/// read once, at a plan's root (walk_list), each type found from its hash (type_key).
template <bool All, class E,
          class Seq =
              std::make_index_sequence<All ? fragment<E>::info.dsize : fragment<E>::info.size>>
struct list_types;

template <bool All, class E, std::size_t... J>
struct list_types<All, E, std::index_sequence<J...>> {
    static constexpr std::array<std::uint64_t, sizeof...(J)> hashes =
        list_hashes<All, sizeof...(J)>(&fragment<E>::info);
    using type = type_list<entry_type_t<hashes[J]>...>;
};

/// The entries of expression E's plan, arguments before the ops that read them.
template <class E>
using exprs_t = typename list_types<false, E>::type;

}  // namespace detail
}  // namespace ctgrad
