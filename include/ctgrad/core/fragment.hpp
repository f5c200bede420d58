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
/// A fragment's facts are numbers and pointers, computed once per node type by one merge call
/// and stored as static members of the node (node_base in core/node.hpp): no class and no
/// function is instantiated per node to build them (each class instantiation, and each
/// distinct constexpr call, which g++ memoises with its arguments, costs the compiler memory per
/// node). Those members are named after the node's type, which is short (a node prints as its op
/// and args_key), and never emitted into the object; the numeric tables of a plan (argument
/// indices, constant slots) are computed once, at the root, by ad::plan, from these lists.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::conditional_t, std::integral_constant, std::remove_pointer_t

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

// entry_hash<E>, the hash of one type: core/fwd.hpp (every entry of a plan has a short printed
// name, a node printing as its op and args_key).

/// The type whose entry_hash is H (bound by the type's fragment, `type_bind<H, E>`), spread
/// over namespaces like the argument keys (detail/args_key.hpp), with both compilers: declaring
/// or defining a friend compares it with every friend of its name in its namespace (g++:
/// pushdecl -> decls_match; clang++: the redeclaration lookup), and g++ walks a namespace's
/// names at each instantiation made from inside it (push_to_top_level), so one namespace for
/// the 1 025 entries of a 256-step chain made both quadratic (g++: ~1.5 s of 13 s, ~15% of the
/// plan's time; bench/README.md, gx12). (The tenth pass kept g++ on one namespace because its
/// plan then named `type_key<hashes[J]>` several times per entry; it names it once now, through
/// entry_type_c.)
template <std::uint64_t H>
using type_key = typename key_bucket<key_bucket_of(H)>::template type_key<H>;

template <std::uint64_t H, class E>
using type_bind = typename key_bucket<key_bucket_of(H)>::template type_bind<H, E>;

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
/// deeper) are grouped in blocks of block_levels; the last level of a block (its depth a
/// multiple of block_levels) stores a small filter (one bit per hash; a clear bit proves
/// absence) of the shared entries its block's levels add, so that a lookup hops over whole
/// blocks instead of walking every level. (A walk made long chains quadratic: a shared entry
/// added deep in a chain, such as a recurrence's weight, is looked up again at every step.) The
/// filter is stored once per block, not copied into every level.
///
/// The facts below hold built-in arrays, not std::array, and the merge takes its arguments'
/// facts as a built-in array: an element read through std::array::operator[] is a function call
/// to the compilers' constant evaluators, and the merge reads elements in its innermost loops
/// (g++ chain_128 expression alone: -4.1% cc1plus instructions, -263 M, bench/README.md sc15).
inline constexpr std::size_t block_levels = 32;
inline constexpr std::size_t bloom_words = 16;
using bloom_t = std::uint64_t[bloom_words];
inline constexpr std::size_t part_words = 4;
/// How many shared entries a level remembers as found by the merges down its chain of first
/// arguments (see frag_info::hits). Two: a recurrence's weight and an input it reuses each step
/// (with one they evict each other), and each slot costs every level's facts (g++ dag_32 peak
/// memory 260 MB without hits, 264 with one, 268 with two, 276 with four).
inline constexpr std::size_t hit_slots = 2;

/// The filters of one block: of the entry list's shared (pure) entries, of the distinct list's.
struct block_filter {
    bloom_t bloom{};
    bloom_t dbloom{};
};

/// What a fragment is, as numbers and pointers (one constexpr value per expression type, a
/// static member of its node, `node_base::ctgrad_info`): its first argument's fragment, the
/// entries it adds after that argument's list (`added`; `dadded` for the distinct list), the
/// sizes of its lists, the length of its chain of first arguments. A list is never stored whole
/// per node: a node holds only what it adds, so building an expression costs time and memory
/// linear in its size; the whole list is read, in order, by walking the chain (walk_list), at
/// the root and for the smaller arguments a node merges.
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
    /// Which argument's entries come first (the largest argument's; 0 for a leaf).
    std::size_t first_arg = 0;
    /// The expression was refused (an exploding copy, diagnosed by make_node), or one of its
    /// arguments was: its fragment stops growing (it is a leaf's), so the parents add no errors
    /// and no cost of their own.
    bool refused = false;
    /// The nearest level below this one that ends a block (nullptr: none), and this level's
    /// filters when it ends a block itself (see block_levels).
    const frag_info* block = nullptr;
    const block_filter* filter = nullptr;
    /// When this level does not end a block: a 256-bit filter of the distinct entries added by
    /// the levels from this one down to `block` (exclusive), so that a lookup skips the walk of
    /// its own partial block when the hash is absent from it (the distinct list holds every
    /// shared entry of the entry list, so one filter serves both). Four words per level, not
    /// the block's 32 (without it a DAG's lookups walked their partial block: clang++ dag_32
    /// 9-20% slower).
    std::uint64_t part[part_words]{};
    /// Hashes of shared (pure) entries that the merges of this level and the levels below it
    /// looked up and found in their first argument's list, most recent first (`n_hits` of
    /// them): they are in this level's lists too (a list only grows up the chain), so a lookup
    /// checks them before walking. A recurrence's weight, added at the bottom of a long chain
    /// and looked up again at every step, is then found at once instead of by hopping down to
    /// the bottom block and walking it (clang++ spent ~10% of building a 256-step chain there).
    std::uint64_t hits[hit_slots]{};
    std::size_t n_hits = 0;
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

/// Whether the list of `top` (the distinct list if `all`) holds the shared entry h: a walk of
/// the levels of `top`'s own block (unless its `part` filter proves h absent), then a hop from block to block down the chain of first
/// arguments, walking a block's levels only when its filter may hold h (no allocation, no
/// callback, no call per block or level: the compilers' constant evaluators are slow at all
/// three, and g++ memoises each call of a constexpr function with its arguments).
constexpr bool list_holds(const frag_info* top, std::uint64_t h, bool all) {
    for (std::size_t i = 0; i < top->n_hits; ++i) {
        if (top->hits[i] == h) return true;  // a shared entry: in both lists
    }
    const std::size_t word = (h >> 6) % bloom_words;
    const std::uint64_t bit = std::uint64_t{1} << (h & 63u);
    for (const frag_info* p = top; p != nullptr; p = p->block) {
        if (p->filter != nullptr &&
            ((all ? p->filter->dbloom[word] : p->filter->bloom[word]) & bit) == 0) {
            continue;
        }
        if (p->filter == nullptr && (p->part[(h >> 6) % part_words] & bit) == 0) continue;
        for (const frag_info* q = p; q != p->block; q = q->first) {
            if (q->first == nullptr) {
                if (q->self.hash == h && (all || q->self.pure)) return true;
                continue;
            }
            const entry_ref* a = all ? q->dadded : q->added;
            const std::size_t m = all ? q->n_dadded : q->n_added;
            for (std::size_t k = 0; k < m; ++k) {
                if (a[k].hash == h && (all || a[k].pure)) return true;
            }
        }
    }
    return false;
}

/// The hashes of the list of `top`, in order (N entries).
template <bool All, std::size_t N>
constexpr std::array<std::uint64_t, N> list_hashes(const frag_info* top) {
    std::array<std::uint64_t, N> hs{};
    std::uint64_t* const h = hs.data();
    std::size_t n = 0;
    auto f = [&](const entry_ref& e) { h[n++] = e.hash; };
    walk_list<All>(top, f);
    return hs;
}

/// The fragment facts of a leaf (a plain function: nothing is instantiated per expression type
/// to compute them, only evaluated). A refused node's are a leaf's too.
constexpr frag_info leaf_info(entry_ref self, bool refused) {
    frag_info f{};
    f.self = self;
    f.part[(self.hash >> 6) % part_words] |= std::uint64_t{1} << (self.hash & 63u);
    f.refused = refused;
    return f;
}

/// The storage of the entries a node adds (the entry list's, then the distinct list's unless
/// the node is pure, when they are the same), with the filters of its block when it ends one.
/// Cap is a power of two (a class per distinct capacity, not per node).
template <std::size_t Cap>
struct frag_items {
    entry_ref items[Cap]{};
    std::size_t count = 0;
    std::size_t n_added = 0;
    std::size_t n_dadded = 0;
    std::size_t first_arg = 0;
    /// The shared entries this node's merge found in its first argument's list, most recent
    /// first (see frag_info::hits).
    std::uint64_t hits[hit_slots]{};
    std::size_t n_hits = 0;
};

template <std::size_t Cap, bool Filter>
struct frag_store : frag_items<Cap> {};

template <std::size_t Cap>
struct frag_store<Cap, true> : frag_items<Cap> {
    block_filter filter{};
};

/// The type of a node's frag_store, from its arguments' fragments: the capacity (the sizes of
/// the lists of the arguments other than the largest, + 2, rounded up to a power of two) and
/// whether the node ends a block.
struct frag_shape {
    std::size_t cap = 1;
    bool filter = false;
};

template <std::size_t K>
constexpr std::size_t largest_of(const frag_info* const (&a)[K]) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < K; ++i) {
        if (a[i]->size > a[best]->size) best = i;
    }
    return best;
}

template <std::size_t K>
constexpr frag_shape shape_of_node(const frag_info* const (&a)[K], bool refused) {
    if (refused) return {};
    const std::size_t first = largest_of(a);
    std::size_t n = 2;
    for (std::size_t i = 0; i < K; ++i) {
        if (i != first) n += a[i]->size + a[i]->dsize;
    }
    std::size_t cap = 2;
    while (cap < n) cap *= 2;
    return {cap, (a[first]->depth + 1) % block_levels == 0};
}

/// The entries a node adds after its first argument's list: the other arguments' entries that
/// are not shared entries held already (by the first argument's list or an earlier addition),
/// in order, then the node itself; once for the entry list and, for an impure node, once for
/// the distinct list (All: every entry is shared). One call per node.
template <std::size_t Cap, bool Filter, std::size_t K>
constexpr frag_store<Cap, Filter> merge_node(const frag_info* const (&a)[K], entry_ref self,
                                             bool refused) {
    frag_store<Cap, Filter> r{};
    if (refused) return r;
    const std::size_t first = largest_of(a);
    r.first_arg = first;
    const frag_info* f = a[first];
    for (std::size_t pass = 0; pass < (self.pure ? 1u : 2u); ++pass) {
        const bool all = pass == 1;
        const std::size_t begin = r.count;
        const auto held = [&](const entry_ref& e) {
            if (!all && !e.pure) return false;
            for (std::size_t i = begin; i < r.count; ++i) {
                if (r.items[i].hash == e.hash) return true;
            }
            if (!list_holds(f, e.hash, all)) return false;
            if (e.pure) {  // remember it for the parents' lookups (most recent first)
                std::size_t j = 0;
                while (j < r.n_hits && r.hits[j] != e.hash) ++j;
                if (j == r.n_hits && r.n_hits < hit_slots) ++r.n_hits;
                for (j = j < hit_slots ? j : hit_slots - 1; j > 0; --j) r.hits[j] = r.hits[j - 1];
                r.hits[0] = e.hash;
            }
            return true;
        };
        for (std::size_t i = 0; i < K; ++i) {
            const frag_info* o = a[i];
            if (i == first || held(o->self)) continue;  // a shared argument held: so is all of it
            if (o->first == nullptr) {  // a leaf (or refused node), just looked up: not held
                r.items[r.count++] = o->self;
                continue;
            }
            const frag_info** chain = new const frag_info*[o->depth];
            std::size_t n = 0;
            for (const frag_info* p = o; p != nullptr; p = p->first) chain[n++] = p;
            if (!held(chain[n - 1]->self)) r.items[r.count++] = chain[n - 1]->self;
            for (std::size_t l = n - 1; l-- > 0;) {
                const frag_info* q = chain[l];
                const entry_ref* e = all ? q->dadded : q->added;
                const std::size_t m = all ? q->n_dadded : q->n_added;
                for (std::size_t k = 0; k < m; ++k) {
                    if (!held(e[k])) r.items[r.count++] = e[k];
                }
            }
            delete[] chain;
        }
        r.items[r.count++] = self;
        (all ? r.n_dadded : r.n_added) = r.count - begin;
    }
    if (self.pure) r.n_dadded = r.n_added;
    if constexpr (Filter) {
        // The filters of the block this node ends: its own additions and those of the levels
        // below it down to the previous block's end.
        const auto add = [&](const entry_ref* e, std::size_t m, bool all) {
            for (std::size_t k = 0; k < m; ++k) {
                const std::uint64_t h = e[k].hash;
                auto& w = all ? r.filter.dbloom : r.filter.bloom;
                if (all || e[k].pure) w[(h >> 6) % bloom_words] |= std::uint64_t{1} << (h & 63u);
            }
        };
        add(r.items, r.n_added, false);
        add(r.items + (self.pure ? 0 : r.n_added), r.n_dadded, true);
        const frag_info* end = f->filter != nullptr ? f : f->block;
        for (const frag_info* q = f; q != end; q = q->first) {
            if (q->first == nullptr) {
                add(&q->self, 1, false);
                add(&q->self, 1, true);
            } else {
                add(q->added, q->n_added, false);
                add(q->dadded, q->n_dadded, true);
            }
        }
    }
    return r;
}

template <std::size_t Cap>
constexpr const block_filter* filter_of(const frag_store<Cap, false>&) {
    return nullptr;
}

template <std::size_t Cap>
constexpr const block_filter* filter_of(const frag_store<Cap, true>& s) {
    return &s.filter;
}

/// The fragment facts of a node, from its arguments' and its store (see merge_node).
template <std::size_t Cap, bool Filter, std::size_t K>
constexpr frag_info node_info(const frag_info* const (&a)[K], const frag_store<Cap, Filter>& s,
                              entry_ref self, bool refused) {
    if (refused) return leaf_info(self, true);
    const frag_info* first = a[s.first_arg];
    frag_info f{};
    f.first = first;
    f.added = s.items;
    f.n_added = s.n_added;
    f.dadded = s.items + (self.pure ? 0 : s.n_added);
    f.n_dadded = s.n_dadded;
    f.size = first->size + s.n_added;
    f.dsize = first->dsize + s.n_dadded;
    f.depth = first->depth + 1;
    f.self = self;
    f.first_arg = s.first_arg;
    // The plan copies impure subexpressions so often that it is refused (see make_node).
    f.refused = !self.pure && f.size > copy_budget && f.size > copy_factor * f.dsize;
    // The hits: this node's merge's, then its first argument's not among them.
    for (std::size_t i = 0; i < hit_slots; ++i) f.hits[i] = s.hits[i];
    f.n_hits = s.n_hits;
    for (std::size_t i = 0; i < first->n_hits && f.n_hits < hit_slots; ++i) {
        std::size_t j = 0;
        while (j < s.n_hits && s.hits[j] != first->hits[i]) ++j;
        if (j == s.n_hits) f.hits[f.n_hits++] = first->hits[i];
    }
    f.block = first->filter != nullptr ? first : first->block;
    f.filter = filter_of(s);
    if (f.filter == nullptr) {
        if (first->filter == nullptr) {
            for (std::size_t i = 0; i < part_words; ++i) f.part[i] = first->part[i];
        }
        const entry_ref* d = f.dadded;
        for (std::size_t k = 0; k < f.n_dadded; ++k) {
            f.part[(d[k].hash >> 6) % part_words] |= std::uint64_t{1} << (d[k].hash & 63u);
        }
    }
    return f;
}

/// The fragment of expression E, for the plan (ad/plan.hpp): a leaf's (variable, literal,
/// run-time constant) is itself; a node's facts are static members of the node
/// (`node_base::ctgrad_info`, computed once when the node type is completed).
template <class E>
struct fragment {
    static constexpr frag_info info =
        leaf_info(entry_ref{type_bind<entry_hash<E>, E>::hash, is_pure<E>::value}, false);
    using first_arg = std::integral_constant<std::size_t, 0>;
    using refused_c = std::false_type;
};

template <class N>
requires is_node<N>::value struct fragment<N> {
    static constexpr const frag_info& info = N::ctgrad_info;
    using first_arg = std::integral_constant<std::size_t, N::ctgrad_info.first_arg>;
    using refused_c = std::bool_constant<N::ctgrad_info.refused>;
};

/// The fragment facts of expression E (a reference to a leaf's fragment or a node's member:
/// no class is instantiated per node to read them).
template <class E>
inline constexpr const frag_info& frag_of = fragment<E>::info;

template <class N>
requires is_node<N>::value inline constexpr const frag_info& frag_of<N> = N::ctgrad_info;

}  // namespace detail
}  // namespace ctgrad
