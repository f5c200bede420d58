/// @file Flat type lists: concatenation, unique merge and O(1) index lookup, all without
/// recursion on the list length (folds and multiple inheritance only).
#pragma once

#include <cstddef>      // std::size_t
#include <type_traits>  // std::is_base_of_v, std::conditional_t
#include <utility>      // std::index_sequence

namespace ctgrad::detail {

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};

template <class T>
struct type_id {
    using type = T;
};

// --- concatenation: a fold over operator+ ---

template <class... A, class... B>
constexpr type_list<A..., B...> operator+(type_list<A...>, type_list<B...>) {
    return {};
}

template <class... L>
using concat_t = decltype((type_list<>{} + ... + L{}));

// --- set membership by inheritance: O(1) per query ---

template <class... T>
struct type_set : type_id<T>... {};

template <class Set, class T>
inline constexpr bool set_contains_v = std::is_base_of_v<type_id<T>, Set>;

/// `A` followed by the elements of `B` that are not in `A`. Both lists hold distinct types.
template <class A, class B>
struct merge_unique;

template <class... A, class... B>
struct merge_unique<type_list<A...>, type_list<B...>> {
    using type = concat_t<type_list<A...>,
                          std::conditional_t<set_contains_v<type_set<A...>, B>, type_list<>,
                                             type_list<B>>...>;
};

template <class A, class B>
constexpr typename merge_unique<A, B>::type operator|(A, B) {
    return {};
}

/// The union of several lists of distinct types, in order of first appearance.
template <class... L>
using merge_unique_t = decltype((type_list<>{} | ... | L{}));

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

template <class T, std::size_t I>
constexpr std::size_t index_lookup(const indexed<I, T>*) {
    return I;
}

template <class List, class T>
inline constexpr bool list_contains_v = requires(const index_table<List>* t) {
    index_lookup<T>(t);
};

/// Position of `T` in `List` (a list of distinct types); ill-formed when absent.
template <class List, class T>
inline constexpr std::size_t index_of_v =
    index_lookup<T>(static_cast<const index_table<List>*>(nullptr));

template <std::size_t I, class T>
constexpr T at_lookup(const indexed<I, T>*);

/// The `I`-th type of `List`, in constant time (GCC 12 has no __type_pack_element).
template <class List, std::size_t I>
using at_t = decltype(at_lookup<I>(static_cast<const index_table<List>*>(nullptr)));

}  // namespace ctgrad::detail
