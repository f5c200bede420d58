/// @file
/// args_key<H>: a name of constant length for a list of types (a node's argument list).
///
/// A node's type must determine its whole subexpression (for a pure expression the type *is*
/// the value), but if its name spelled that subexpression, every function and variable named
/// after a node (the operator the user called, make_node, the plan's members...) would have a
/// name as long as the expression's depth: a chain of n steps puts O(n^2) bytes of names into
/// the compiler's symbol table, and g++ spends most of the compile mangling them. So a node's
/// argument list is named by a 64-bit hash of the arguments' (already short) printed names,
/// `args_key<H>`, and the key is mapped back to the list by a friend function that the first
/// use of the list defines (`args_of(args_key<H>)`, found by argument-dependent lookup). Names
/// of node types, and so of everything named after them, are then of constant length; nothing
/// walks a subexpression to hash it (each argument is one printed name), and nothing is looked
/// up per path through a DAG.
///
/// Properties:
/// - the same list gives the same key in every translation unit built by the same compiler
///   (the hash depends on the printed type names only), so node types agree across a program;
/// - two different lists with the same hash in one translation unit are a compile error
///   (`args_of(args_key<H>)` defined twice), never a silent confusion; across translation
///   units a collision would need two 64-bit hashes of different lists to agree (about n^2 /
///   2^65 for n distinct lists).
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::remove_pointer_t
#include <utility>      // std::index_sequence

namespace ctgrad::detail {

/// FNV-1a of the characters of s, continuing from h.
constexpr std::uint64_t fnv1a(std::uint64_t h, std::string_view s) noexcept {
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

inline constexpr std::uint64_t fnv1a_offset = 14695981039346656037ull;

/// splitmix64's finaliser: nearby inputs give unrelated keys.
constexpr std::uint64_t mix64(std::uint64_t h) noexcept {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/// FNV-1a over the printed name of this function, which spells T (a short name: a node
/// prints as its op and its args_key).
template <class T>
constexpr std::uint64_t printed_hash() noexcept {
    return mix64(fnv1a(fnv1a_offset, __PRETTY_FUNCTION__));
}

/// The hash of one type. By default its printed name; a type whose printed name can elide
/// part of it specialises this with a hash of its parts. clang++ prints at most ten elements
/// of an array inside a class-type template argument and then "...", so two variables whose
/// names share their first ten characters ("bn.running_mean", "bn.running_var") print
/// alike: variables are hashed from every character of their name (core/fwd.hpp).
template <class T>
struct type_hash {
    static constexpr std::uint64_t value = printed_hash<T>();
};

/// The hash of a list of types: each type's hash, combined in order.
template <class... T>
constexpr std::uint64_t list_hash() noexcept {
    // An array and a loop, not a fold: clang++ refuses folds over more than 256 arguments.
    const std::uint64_t parts[sizeof...(T) + 1] = {type_hash<T>::value..., 0};
    std::uint64_t h = mix64(fnv1a_offset ^ sizeof...(T));
    for (std::size_t i = 0; i < sizeof...(T); ++i) h = mix64((h ^ parts[i]) * 1099511628211ull);
    return h;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// The friend below is a plain function on purpose (defined by args_bind, see there).
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
/// The key of a list whose hash is H (see the file comment).
template <std::uint64_t H>
struct args_key {
    friend constexpr auto args_of(args_key) noexcept;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Defines `args_of(args_key<H>)` to give back a pointer to List; `key` is the key. Naming
/// `args_bind<H, List>::key` instantiates it, which binds the key to the list (once per list).
template <std::uint64_t H, class List>
struct args_bind {
    using key = args_key<H>;
    friend constexpr auto args_of(args_key<H>) noexcept { return static_cast<List*>(nullptr); }
};

/// The list a key stands for.
template <class Key>
struct list_of_key {
    using type = std::remove_pointer_t<decltype(args_of(Key{}))>;
};

}  // namespace ctgrad::detail
