/// @file
/// Flat type lists: index lookup, filtering, unique merge, and folds over index sequences in
/// chunks; no recursion on the length of a list, and no fold longer than fold_chunk operands (clang
/// refuses folds of more than 256).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::is_base_of_v, std::conditional_t, std::integral_constant
#include <utility>      // std::index_sequence

namespace ctgrad::detail {

/// Holds `size` for every type_list of that length: a static member of type_list itself would be
/// a variable named after the whole list, one per list (see core/fragment.hpp on names).
template <std::size_t N>
struct list_length {
    static constexpr std::size_t size = N;
};

template <class... T>
struct type_list : list_length<sizeof...(T)> {};

template <class T>
struct type_id {
    using type = T;
};

// --- all_true_v / any_true_v: a conjunction over a pack of any length, without a fold ---

/// True when every flag is. Compares two sequences instead of folding `(B && ...)`, so that it
/// holds for packs of any length: clang++ refuses a fold over more than 256 operands (and checks
/// a constrained pack `template <C... T>` as such a fold).
template <bool... B>
inline constexpr bool all_true_v = std::is_same_v<std::integer_sequence<bool, true, B...>,
                                                  std::integer_sequence<bool, B..., true>>;

/// True when some flag is (see all_true_v).
template <bool... B>
inline constexpr bool any_true_v = !std::is_same_v<std::integer_sequence<bool, false, B...>,
                                                   std::integer_sequence<bool, B..., false>>;

// --- static_for_chunks: a pack expansion over 0..N-1 in chunks ---

/// The largest number of operands ctgrad puts in one fold expression. Clang limits a fold to 256
/// operands (its -fbracket-depth), so every fold whose length grows with an expression is split
/// into chunks of this size (up to 128 chunks: plans of 16 384 entries).
inline constexpr std::size_t fold_chunk = 128;

template <std::size_t Base, std::size_t... I>
constexpr std::index_sequence<Base + I...> offset_sequence(std::index_sequence<I...>) {
    return {};
}

template <std::size_t N, class F, std::size_t... C>
constexpr void for_chunks(F& f, std::index_sequence<C...>) {
    (f(offset_sequence<C * fold_chunk>(
         std::make_index_sequence<(N - C * fold_chunk < fold_chunk ? N - C * fold_chunk
                                                                   : fold_chunk)>{})),
     ...);
}

/// Calls f(std::index_sequence<J...>{}) for consecutive chunks of 0, 1, ..., N - 1 in order, each
/// of at most fold_chunk indices, so f can expand a fold over its chunk. One call per chunk (not
/// per index) keeps the number of instantiations of f small.
template <std::size_t N, class F>
constexpr void static_for_chunks(F&& f) {
    static_assert(N <= fold_chunk * fold_chunk,
                  "ctgrad: more than 16384 plan entries (split the expression)");
    for_chunks<N>(f, std::make_index_sequence<(N + fold_chunk - 1) / fold_chunk>{});
}

// --- index lookup: one pass builds the table, each lookup is overload resolution ---

template <std::size_t I, class T>
struct indexed {};

template <class Seq, class... T>
struct index_table_impl;

template <std::size_t... I, class... T>
struct index_table_impl<std::index_sequence<I...>, T...> : indexed<I, T>... {};

template <class List>
struct index_table;

template <class... T>
struct index_table<type_list<T...>> : index_table_impl<std::index_sequence_for<T...>, T...> {};

// Declared only and used only in unevaluated operands: no function named after T is ever
// instantiated (the compiler mangles every function it instantiates, and a name that spells a
// large expression type costs time in proportion to its length).
template <class T, std::size_t I>
std::integral_constant<std::size_t, I> index_lookup(const indexed<I, T>*);

template <class List, class T>
inline constexpr bool list_contains_v = requires(const index_table<List>* t) {
    ctgrad::detail::index_lookup<T>(t);
};

/// Position of `T` in `List` (a list of distinct types); ill-formed when absent.
template <class List, class T>
inline constexpr std::size_t index_of_v = decltype(ctgrad::detail::index_lookup<T>(
    static_cast<const index_table<List>*>(nullptr)))::value;

template <std::size_t I, class T>
constexpr T at_lookup(const indexed<I, T>*);

/// The `I`-th type of `List`, in constant time (GCC 12 has no __type_pack_element).
template <class List, std::size_t I>
using at_t = decltype(ctgrad::detail::at_lookup<I>(static_cast<const index_table<List>*>(nullptr)));

/// The number of elements of a type list, as a type (`list_size<L>::value` is the shared member
/// of std::integral_constant, where `L::size` would be a member named after the whole list).
template <class List>
struct list_size;

template <class... T>
struct list_size<type_list<T...>> : std::integral_constant<std::size_t, sizeof...(T)> {};

/// A constant value carried by a type: `value_c<V>::value`. Its name spells the value, never the
/// types it was computed from, so per-subexpression values stored this way cost names of the
/// size of the value (a few numbers), not of the subexpression (see core/fragment.hpp).
template <auto V>
struct value_c {
    static constexpr auto value = V;
};

/// Whether T is an element of List (a concept: no variable or function named after the list
/// is instantiated). False when T is absent, and also when it occurs more than once (the
/// lookup is ambiguous): query it for types that occur at most once.
template <class List, class T>
concept in_list = requires(const index_table<List>* t) {
    ctgrad::detail::index_lookup<T>(t);
};

// --- concatenation ---

/// The lists L... one after the other (a class template, not an operator: an operator's
/// overload resolution would look into every element type of the lists).
template <class... L>
struct concat {
    using type = type_list<>;
};

template <class... A>
struct concat<type_list<A...>> {
    using type = type_list<A...>;
};

template <class... A, class... B, class... C>
struct concat<type_list<A...>, type_list<B...>, type_list<C...>> {
    using type = type_list<A..., B..., C...>;
};

template <class... A, class... B, class... Rest>
struct concat<type_list<A...>, type_list<B...>, Rest...> : concat<type_list<A..., B...>, Rest...> {
};

template <class... L>
using concat_t = typename concat<L...>::type;

// --- filtering by a mask: positions computed in a constant expression, then O(1) lookups ---

template <std::size_t N>
constexpr std::size_t count_true(const std::array<bool, N>& mask) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < N; ++i) {
        if (mask[i]) ++n;
    }
    return n;
}

template <std::size_t K, std::size_t N>
constexpr std::array<std::size_t, K> true_positions(const std::array<bool, N>& mask) {
    std::array<std::size_t, K> p{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < N; ++i) {
        if (mask[i]) p[n++] = i;
    }
    return p;
}

template <class Mask>
struct mask_positions {
    static constexpr std::size_t count = count_true(Mask::value);
    static constexpr std::array<std::size_t, count> value = true_positions<count>(Mask::value);
};

template <class List, class Mask, std::size_t... I>
constexpr type_list<at_t<List, mask_positions<Mask>::value[I]>...> filter_impl(
    std::index_sequence<I...>) {
    return {};
}

/// The elements of `List` whose entry in `Mask::value` (a constexpr std::array<bool, N>) is true,
/// in order. Flat: no fold and no recursion on the list length, so it works for lists longer than
/// the 256 operands clang allows in one fold; each kept element costs one lookup in the list's
/// index table.
template <class List, class Mask, bool All = mask_positions<Mask>::count == list_size<List>::value>
struct filter {
    using type = decltype(ctgrad::detail::filter_impl<List, Mask>(
        std::make_index_sequence<mask_positions<Mask>::count>{}));
};

template <class List, class Mask>
struct filter<List, Mask, true> {
    using type = List;
};

template <class List, class Mask>
using filter_t = typename filter<List, Mask>::type;

// --- set membership by inheritance: O(1) per query ---

template <class... T>
struct type_set : type_id<T>... {};

template <class Set, class T>
inline constexpr bool set_contains_v = std::is_base_of_v<type_id<T>, Set>;

/// `A` followed by the elements of `B` that are not in `A`. Both lists hold distinct types.
template <class A, class B>
struct merge_unique;

template <class... B>
struct merge_unique<type_list<>, type_list<B...>> {
    using type = type_list<B...>;
};

template <class... A, class... B>
struct merge_unique<type_list<A...>, type_list<B...>> {
    struct mask {
        static constexpr std::array<bool, sizeof...(B)> value{
            !set_contains_v<type_set<A...>, B>...};
    };
    using type = concat_t<type_list<A...>, filter_t<type_list<B...>, mask>>;
};

template <class... L>
struct merge_all {
    using type = type_list<>;
};

template <class A>
struct merge_all<A> {
    using type = A;
};

template <class A, class B, class... Rest>
struct merge_all<A, B, Rest...> : merge_all<typename merge_unique<A, B>::type, Rest...> {};

/// The union of several lists of distinct types, in order of first appearance. Class templates
/// only: an operator fold would make overload resolution look into every element type.
template <class... L>
using merge_unique_t = typename merge_all<L...>::type;

}  // namespace ctgrad::detail
