/// @file
/// fixed_string: a compile-time string usable as a template argument (variable names).
#pragma once

#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <utility>      // std::index_sequence

namespace ctgrad {

/// A string literal captured as a structural value, so `var<"x">` can name a variable in its
/// type. `N` counts the terminating '\0'.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};

    constexpr fixed_string(const char (&s)[N]) noexcept {  // NOLINT: implicit on purpose
        for (std::size_t i = 0; i < N; ++i) {
            chars[i] = s[i];
        }
    }

    /// Number of characters, without the terminating '\0'.
    static constexpr std::size_t size() noexcept { return N - 1; }

    constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

namespace detail {

constexpr std::size_t decimal_digits(std::size_t i) noexcept {
    std::size_t n = 1;
    for (; i >= 10; i /= 10) {
        ++n;
    }
    return n;
}

template <fixed_string Base, std::size_t I>
constexpr auto make_indexed_name() noexcept {
    constexpr std::size_t digits = decimal_digits(I);
    char s[Base.size() + digits + 1]{};
    for (std::size_t k = 0; k < Base.size(); ++k) {
        s[k] = Base.chars[k];
    }
    std::size_t i = I;
    for (std::size_t k = 0; k < digits; ++k, i /= 10) {
        s[Base.size() + digits - 1 - k] = static_cast<char>('0' + i % 10);
    }
    return fixed_string<Base.size() + digits + 1>(s);
}

}  // namespace detail

/// `Base` followed by the decimal digits of `I`: `indexed_name<"x", 3>` is "x3". Makes families
/// of variables in a pack expansion: `ctgrad::var<ctgrad::indexed_name<"x", I>>...`.
template <fixed_string Base, std::size_t I>
inline constexpr auto indexed_name = detail::make_indexed_name<Base, I>();

namespace detail {

template <fixed_string A, fixed_string B>
constexpr auto make_joined_name() noexcept {
    char s[A.size() + B.size() + 1]{};
    for (std::size_t k = 0; k < A.size(); ++k) s[k] = A.chars[k];
    for (std::size_t k = 0; k < B.size(); ++k) s[A.size() + k] = B.chars[k];
    return fixed_string<A.size() + B.size() + 1>(s);
}

}  // namespace detail

/// `A` followed by `B`: `joined_name<"fc1", ".W">` is "fc1.W" (parameter names of layers).
template <fixed_string A, fixed_string B>
inline constexpr auto joined_name = detail::make_joined_name<A, B>();

namespace detail {

/// Spells a fixed_string as a pack of chars: `spelled<"w0", T>` is `T<'w', '0'>`. Diagnostics
/// instantiate such types because GCC and Clang both print a char pack readably, whereas Clang
/// prints a fixed_string argument as its character codes.
template <fixed_string Name, template <char...> class T,
          class = std::make_index_sequence<Name.size()>>
struct spell;

template <fixed_string Name, template <char...> class T, std::size_t... I>
struct spell<Name, T, std::index_sequence<I...>> {
    using type = T<Name.chars[I]...>;
};

template <fixed_string Name, template <char...> class T>
using spelled = typename spell<Name, T>::type;

}  // namespace detail
}  // namespace ctgrad
