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

namespace ctgrad::detail {

/// FNV-1a over the printed name of this function, which spells T... (each argument a short
/// name: a node prints as its op and its args_key), then a finaliser (splitmix64's) so that
/// nearby strings give unrelated keys.
template <class... T>
constexpr std::uint64_t list_hash() noexcept {
    const std::string_view s = __PRETTY_FUNCTION__;
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
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
