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

#include <array>        // std::array
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

/// The hash of a list of K types from their hashes, combined in order (a function of K only:
/// nothing is instantiated per list).
template <std::size_t K>
constexpr std::uint64_t hash_of_parts(const std::array<std::uint64_t, K>& parts) noexcept {
    // An array and a loop, not a fold: clang++ refuses folds over more than 256 arguments.
    std::uint64_t h = mix64(fnv1a_offset ^ K);
    for (std::size_t i = 0; i < K; ++i) h = mix64((h ^ parts[i]) * 1099511628211ull);
    return h;
}

/// The hash of a list of types: each type's hash, combined in order.
template <class... T>
constexpr std::uint64_t list_hash() noexcept {
    return hash_of_parts<sizeof...(T)>({type_hash<T>::value...});
}

/// Keys and the friend functions that bind them are spread over `key_buckets` namespaces
/// (`keys0` ... `keys63`, by the low bits of the hash). Both compilers keep every friend of one
/// name in one namespace in one overload set, and declaring or defining a friend compares it
/// with each function of that set (g++: pushdecl -> decls_match; clang++: the redeclaration
/// lookup): one set for every key of a translation unit made building n nodes cost O(n^2)
/// (a 512-step chain spent ~1 s there with g++). With the keys spread over 64 namespaces, each
/// set holds 1/64 of them, and nothing is instantiated per key beyond the key and its binding
/// (the bucket is chosen by an alias of one class per bucket).
inline constexpr std::uint64_t key_buckets = 64;

template <std::uint64_t B>
struct key_bucket;

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// The friends below are plain functions on purpose (defined by args_bind / type_bind).
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
// One bucket: `args_key<H>`, the key of a list whose hash is H, declares `args_of(args_key)`,
// defined by `args_bind<H, List>` to give back a pointer to List (naming `args_bind<H,
// List>::key` instantiates it, which binds the key to the list, once per list); `type_key<H>` /
// `type_bind<H, E>` do the same for one type (core/fragment.hpp: the type whose hash is H).
#define CTGRAD_DETAIL_KEY_BUCKET(B)                                  \
    namespace keys##B {                                              \
        template <std::uint64_t H>                                   \
        struct args_key {                                            \
            static constexpr std::uint64_t hash = H;                 \
            friend constexpr auto args_of(args_key) noexcept;        \
        };                                                           \
        template <std::uint64_t H, class List>                       \
        struct args_bind {                                           \
            using key = args_key<H>;                                 \
            friend constexpr auto args_of(args_key<H>) noexcept {    \
                return static_cast<List*>(nullptr);                  \
            }                                                        \
        };                                                           \
        template <std::uint64_t H>                                   \
        struct type_key {                                            \
            friend constexpr auto entry_type(type_key) noexcept;     \
        };                                                           \
        template <std::uint64_t H, class E>                          \
        struct type_bind {                                           \
            static constexpr std::uint64_t hash = H;                 \
            friend constexpr auto entry_type(type_key<H>) noexcept { \
                return static_cast<E*>(nullptr);                     \
            }                                                        \
        };                                                           \
    }                                                                \
    template <>                                                      \
    struct key_bucket<B> {                                           \
        template <std::uint64_t H>                                   \
        using args_key = keys##B::args_key<H>;                       \
        template <std::uint64_t H, class List>                       \
        using args_bind = keys##B::args_bind<H, List>;               \
        template <std::uint64_t H>                                   \
        using type_key = keys##B::type_key<H>;                       \
        template <std::uint64_t H, class E>                          \
        using type_bind = keys##B::type_bind<H, E>;                  \
    };
#define CTGRAD_DETAIL_KEY_BUCKETS8(B) \
    CTGRAD_DETAIL_KEY_BUCKET(B##0)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##1)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##2)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##3)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##4)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##5)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##6)    \
    CTGRAD_DETAIL_KEY_BUCKET(B##7)
CTGRAD_DETAIL_KEY_BUCKET(0)
CTGRAD_DETAIL_KEY_BUCKET(1)
CTGRAD_DETAIL_KEY_BUCKET(2)
CTGRAD_DETAIL_KEY_BUCKET(3)
CTGRAD_DETAIL_KEY_BUCKET(4)
CTGRAD_DETAIL_KEY_BUCKET(5)
CTGRAD_DETAIL_KEY_BUCKET(6)
CTGRAD_DETAIL_KEY_BUCKET(7)
CTGRAD_DETAIL_KEY_BUCKETS8(1)
CTGRAD_DETAIL_KEY_BUCKETS8(2)
CTGRAD_DETAIL_KEY_BUCKETS8(3)
CTGRAD_DETAIL_KEY_BUCKETS8(4)
CTGRAD_DETAIL_KEY_BUCKETS8(5)
CTGRAD_DETAIL_KEY_BUCKETS8(6)
CTGRAD_DETAIL_KEY_BUCKETS8(7)
#undef CTGRAD_DETAIL_KEY_BUCKETS8
#undef CTGRAD_DETAIL_KEY_BUCKET
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// The bucket of a hash: a number 0..63 written in octal digits (the namespaces are keys0..keys7
/// and keys10..keys77, octal-named so that one macro writes eight of them).
constexpr std::uint64_t key_bucket_of(std::uint64_t h) noexcept {
    const std::uint64_t b = h % key_buckets;
    return (b / 8) * 10 + b % 8;
}

/// The key of a list whose hash is H (see the file comment).
template <std::uint64_t H>
using args_key = typename key_bucket<key_bucket_of(H)>::template args_key<H>;

/// Binds the key H to List; `args_bind<H, List>::key` is the key.
template <std::uint64_t H, class List>
using args_bind = typename key_bucket<key_bucket_of(H)>::template args_bind<H, List>;

/// The list a key stands for.
template <class Key>
struct list_of_key {
    using type = std::remove_pointer_t<decltype(args_of(Key{}))>;
};

}  // namespace ctgrad::detail
