/// @file
/// The set of bindings passed to one call of value/gradient/hessian, with the checks a
/// user can trip (a variable bound twice, a variable left unbound).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::common_type_t, std::is_arithmetic_v
#include <utility>      // std::index_sequence, std::swap

#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

/// Diagnostic types: left incomplete, instantiated next to a static_assert so that the
/// compiler prints the offending variable's name as a char pack.
template <char... Name>
struct variable_is_bound_twice;

template <char... Name>
struct variable_is_not_bound;

namespace detail {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// The sorted names of the binding set Set (Set::sorted_names()), held by a class named after
/// the set, not by the set: g++ walks a class's template arguments (here the bindings, one by
/// one) at each read of its static member in a constant evaluation, and the lookups read the
/// names a few times per variable.
template <class Set>
struct sorted_names_of {
    static constexpr auto value = Set::sorted_names();
};

/// Binding K of a set (a base of binding_slots): read as that base, a cast, not a function per
/// binding.
template <std::size_t K, class B>
struct binding_slot {
    B bound;
};

/// The storage of a binding set: an aggregate with a base per binding, initialised in place
/// (hana::basic_tuple made a constructor per binding, named after the binding and its position:
/// 260 for a 128-layer network, and hana::at_c two functions per binding read).
template <class Seq, class... B>
struct binding_slots;

template <std::size_t... K, class... B>
struct binding_slots<std::index_sequence<K...>, B...> : binding_slot<K, B>... {};

/// The bindings of one call, held by value (each holds a number or a reference).
template <class... B>
struct binding_set {
    binding_slots<std::index_sequence_for<B...>, B...> items;

    constexpr explicit binding_set(const B&... b) : items{{b}...} {}

    static constexpr std::size_t size = sizeof...(B);

    /// One binding's name, its position in the call, and its name's key (name_key).
    struct named {
        std::string_view name;
        std::size_t position;
        std::uint64_t key;
    };

    /// A 64-bit hash of a name (FNV-1a): the sort and the searches compare keys, and names only
    /// when two keys are equal (a string comparison is a loop in the compilers' constant
    /// evaluators: sorting 257 names by string cost a 256-step chain's gradient ~1-2 s).
    static constexpr std::uint64_t name_key(std::string_view s) {
        std::uint64_t h = 14695981039346656037ull;
        for (const char c : s) {
            h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
        }
        return h;
    }

    /// a before the (key, name) b: by key, then by name.
    static constexpr bool before(const named& a, std::uint64_t key, std::string_view name) {
        return a.key < key || (a.key == key && a.name < name);
    }

    /// The names sorted by key (ties by name, then by position), computed once per set: lookups
    /// are binary searches, so that a call with hundreds of bindings and variables stays far
    /// below the compilers' constant-evaluation limits (a linear scan per variable cost O(V·B)
    /// steps).
    static constexpr std::array<named, sizeof...(B) + 1> sorted_names() {
        constexpr std::array<std::string_view, sizeof...(B) + 1> names{B::name.view()..., ""};
        std::array<named, sizeof...(B) + 1> sorted{};
        for (std::size_t i = 0; i < sizeof...(B); ++i) {
            sorted[i] = named{names[i], i, name_key(names[i])};
        }
        // A heap sort (std::sort without <algorithm>, ~0.3 s of every TU's parse): the order is
        // total (positions differ), so any sort gives this array.
        const auto less = [](const named& a, const named& b) {
            return before(a, b.key, b.name) ||
                   (a.key == b.key && a.name == b.name && a.position < b.position);
        };
        const auto sift = [&](std::size_t root, std::size_t end) {
            for (std::size_t child = 2 * root + 1; child < end; child = 2 * root + 1) {
                if (child + 1 < end && less(sorted[child], sorted[child + 1])) ++child;
                if (!less(sorted[root], sorted[child])) return;
                std::swap(sorted[root], sorted[child]);
                root = child;
            }
        };
        constexpr std::size_t n = sizeof...(B);
        for (std::size_t i = n / 2; i-- > 0;) sift(i, n);
        for (std::size_t end = n; end-- > 1;) {
            std::swap(sorted[0], sorted[end]);
            sift(0, end);
        }
        return sorted;
    }

    /// Position of the (first) binding of `name`, or npos.
    static constexpr std::size_t find(std::string_view name) {
        constexpr const auto& sorted = sorted_names_of<binding_set>::value;
        const std::uint64_t key = name_key(name);
        std::size_t lo = 0;
        std::size_t hi = sizeof...(B);
        while (lo < hi) {  // the first sorted entry not before (key, name)
            const std::size_t mid = lo + (hi - lo) / 2;
            if (before(sorted[mid], key, name)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < sizeof...(B) && sorted[lo].key == key && sorted[lo].name == name
                   ? sorted[lo].position
                   : npos;
    }

    /// Position of the first binding whose name an earlier one already has, or npos.
    static constexpr std::size_t first_duplicate() {
        constexpr const auto& sorted = sorted_names_of<binding_set>::value;
        std::size_t first = npos;
        for (std::size_t k = 1; k < sizeof...(B); ++k) {
            if (sorted[k].key == sorted[k - 1].key && sorted[k].name == sorted[k - 1].name &&
                sorted[k].position < first) {
                first = sorted[k].position;
            }
        }
        return first;
    }

    /// Every bound number as S, in the call's order, then S{} (also for a binding that is not a
    /// number, such as a tensor): one pass over the storage, each element read as its exact base
    /// class. (Reading the bindings of V variables one by one deduces each element among the
    /// set's B base classes: O(V·B) work, a few percent of a 256-variable chain's compile.)
    template <class S>
    constexpr std::array<S, sizeof...(B) + 1> numbers() const {
        return numbers_at<S>(std::index_sequence_for<B...>{});
    }

    template <fixed_string Name>
    constexpr decltype(auto) get() const {
        constexpr std::size_t k = find(Name.view());
        return static_cast<const binding_slot<k, at_t<type_list<B...>, k>>&>(items).bound.get();
    }

    template <class S, std::size_t... K>
    constexpr std::array<S, sizeof...(B) + 1> numbers_at(std::index_sequence<K...>) const {
        return {number_as<S>(static_cast<const binding_slot<K, B>&>(items).bound.get())..., S{}};
    }

    template <class S, class T>
    static constexpr S number_as(const T& x) {
        if constexpr (std::is_arithmetic_v<T>) {
            return static_cast<S>(x);
        } else {
            return S{};
        }
    }

    /// The number type bound to `Name` (the referenced type for std::ref bindings).
    template <fixed_string Name>
    using type_of = std::remove_cvref_t<
        decltype(std::declval<const at_t<type_list<B...>, find(Name.view())>&>().get())>;
};

/// True when no variable is bound twice (no diagnostic; see check_no_duplicates).
template <class... B>
inline constexpr bool no_duplicates_v = binding_set<B...>::first_duplicate() == npos;

/// True when the variable `Name` is bound in `Set` (no diagnostic; see check_bound).
template <class Set, fixed_string Name>
inline constexpr bool is_bound_v = Set::find(Name.view()) != npos;

/// Checks that no variable is bound twice; true when the bindings are usable.
template <class... B>
constexpr bool check_no_duplicates() {
    constexpr std::size_t dup = binding_set<B...>::first_duplicate();
    if constexpr (dup != npos) {
        using offender = at_t<type_list<B...>, dup>;
        static_assert(dup == npos,
                      "ctgrad: a variable is bound twice in one call of value/gradient/hessian; "
                      "bind each variable once (the variable is named in "
                      "'variable_is_bound_twice<...>' below)");
        static_cast<void>(spelled<offender::name, variable_is_bound_twice>{});
        return false;
    } else {
        return true;
    }
}

/// Checks that the variable `Name` of an expression is bound; true when it is.
template <class Set, fixed_string Name>
constexpr bool check_bound() {
    if constexpr (Set::find(Name.view()) == npos) {
        static_assert(Set::find(Name.view()) != npos,
                      "ctgrad: a variable of the expression is not bound: pass it as "
                      "`name = value` to value/gradient/hessian (the variable is named in "
                      "'variable_is_not_bound<...>' below)");
        static_cast<void>(spelled<Name, variable_is_not_bound>{});
        return false;
    } else {
        return true;
    }
}

}  // namespace detail
}  // namespace ctgrad
