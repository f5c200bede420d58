/// @file
/// Declarations of the expression kinds and the traits that recognise them.
/// Nothing here needs a definition of another ctgrad header.
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::intmax_t
#include <type_traits>  // std::integral_constant, std::remove_cvref_t

#include <ctgrad/detail/args_key.hpp>
#include <ctgrad/detail/fixed_string.hpp>

namespace ctgrad {

/// The kind of a variable that holds one number; its type is chosen by the binding.
struct scalar_kind {};

template <fixed_string Name, class Kind = scalar_kind>
struct variable;

/// A variable's hash spells every character of its name (its printed name need not:
/// detail::type_hash).
template <fixed_string Name, class Kind>
struct detail::type_hash<variable<Name, Kind>> {
    static constexpr std::uint64_t value = detail::mix64(
        detail::fnv1a(detail::fnv1a(detail::fnv1a_offset, "ctgrad::variable:"), Name.view()) ^
        detail::type_hash<Kind>::value);
};

template <std::intmax_t Num, std::intmax_t Den = 1>
struct literal;

template <class T>
struct constant;

template <class Tag>
struct named_constant;

namespace detail {

template <class... T>
struct type_list;

}  // namespace detail

/// The node types of expressions. `node<Op, Args...>` names `node_c<Op, Key>`, where `Key` is
/// `detail::args_key<H>`, a name of constant length for the argument list (H a hash of the
/// arguments' printed names, mapped back to the list by the first use; detail/args_key.hpp).
/// The node's template arguments are its op and that key, not its argument types, so a node's
/// type prints and mangles in constant size however deep its subexpression is:
/// - every function and variable named after a node (the operator the user called,
///   make_node, a plan's tables) has a short name: a chain of n steps costs O(n) bytes of
///   names, not O(n^2) (mangling those names was most of g++'s time on long chains);
/// - argument-dependent lookup on an expression (every `a * b` a user writes) visits the
///   types of a class template's arguments, and clang 14 (and g++ when hashing template
///   arguments) did so once per path through a DAG of subexpressions;
/// - clang names the LLVM type of every class it generates code for by the class's printed
///   name, which would spell the whole expression tree.
/// Code matches nodes through their members (`op`, `args`, `arity`, `pure`), never by
/// deducing `node<Op, Args...>`, which is not deducible.
template <class Op, class Key>
struct node_c;

namespace detail {

/// The hash of one type, as a variable (what node types and plans read; detail/args_key.hpp): a
/// node's is its op's and its key's, read without instantiating a class per node.
template <class E>
inline constexpr std::uint64_t entry_hash = type_hash<E>::value;

template <class Op, class Key>
inline constexpr std::uint64_t entry_hash<node_c<Op, Key>> = mix64(type_hash<Op>::value ^
                                                                   Key::hash);

}  // namespace detail

/// A node's hash as a class, for code that names type_hash (the same value as entry_hash).
template <class Op, class Key>
struct detail::type_hash<node_c<Op, Key>> {
    static constexpr std::uint64_t value = detail::entry_hash<node_c<Op, Key>>;
};

template <class Op, class... Args>
using node = node_c<Op, typename detail::args_bind<detail::hash_of_parts<sizeof...(Args)>(
                                                       {detail::entry_hash<Args>...}),
                                                   detail::type_list<Args...>>::key>;

/// Tag naming the I-th argument of an op, in `partial` and `derivative`.
template <std::size_t I>
using arg_t = std::integral_constant<std::size_t, I>;

template <std::size_t I>
inline constexpr arg_t<I> arg{};

// --- kind traits ---

template <class T>
struct is_variable : std::false_type {};

template <fixed_string Name, class Kind>
struct is_variable<variable<Name, Kind>> : std::true_type {};

template <class T>
concept is_variable_v = is_variable<std::remove_cvref_t<T>>::value;

template <class T>
struct is_literal : std::false_type {};

template <std::intmax_t Num, std::intmax_t Den>
struct is_literal<literal<Num, Den>> : std::true_type {};

template <class T>
concept is_literal_v = is_literal<std::remove_cvref_t<T>>::value;

template <class T>
struct is_named_constant : std::false_type {};

template <class Tag>
struct is_named_constant<named_constant<Tag>> : std::true_type {};

/// An exact constant known from its type alone: a rational literal or a named irrational
/// such as 2/sqrt(pi). Both convert to a scalar type T with `E::template as<T>()`.
template <class T>
concept is_exact_constant_v = is_literal_v<T> || is_named_constant<std::remove_cvref_t<T>>::value;

template <class T>
struct is_constant : std::false_type {};

template <class T>
struct is_constant<constant<T>> : std::true_type {};

template <class T>
concept is_constant_v = is_constant<std::remove_cvref_t<T>>::value;

template <class T>
    struct is_node : std::bool_constant < requires {
    typename T::ctgrad_node_tag;
} > {};

template <class T>
concept is_node_v = is_node<std::remove_cvref_t<T>>::value;

/// (Nodes first: most operands are nodes, and a disjunction stops at the first that holds, so a
/// new node type instantiates one trait here instead of five.)
template <class T>
concept is_expression_v =
    is_node_v<T> || is_variable_v<T> || is_exact_constant_v<T> || is_constant_v<T>;

/// An expression is *pure* when every leaf is a variable or an exact literal: then its type
/// alone determines its value, and two subexpressions of the same pure type are the same
/// value (type-level common-subexpression elimination relies on this). A run-time constant
/// makes an expression impure: `x * 2.0` and `x * 3.0` share a type, not a value.
template <class T>
struct is_pure : std::bool_constant<is_variable_v<T> || is_exact_constant_v<T>> {};

template <class T>
requires is_node<T>::value struct is_pure<T> : std::bool_constant<T::pure_c::value> {
};

template <class T>
concept is_pure_v = is_pure<std::remove_cvref_t<T>>::value;

}  // namespace ctgrad
