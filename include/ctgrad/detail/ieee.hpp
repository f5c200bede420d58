/// @file
/// IEEE-754 division that also works in constant expressions.
#pragma once

#include <bit>          // std::bit_cast
#include <cstdint>      // std::uint32_t, std::uint64_t
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated

namespace ctgrad::detail {

/// True for -0.0 and negative numbers (std::signbit is not constexpr before C++23). Long double
/// zeros count as +0 in constant evaluation: its padding bits make std::bit_cast unusable.
template <class T>
constexpr bool sign_bit(T x) {
    if (x != T(0)) {
        return x < T(0);
    }
    if constexpr (sizeof(T) == sizeof(std::uint64_t) && std::numeric_limits<T>::is_iec559) {
        return (std::bit_cast<std::uint64_t>(x) >> 63) != 0;
    } else if constexpr (sizeof(T) == sizeof(std::uint32_t) && std::numeric_limits<T>::is_iec559) {
        return (std::bit_cast<std::uint32_t>(x) >> 31) != 0;
    } else {
        return false;
    }
}

/// a / b with IEEE results for b = 0 (±inf, or NaN for 0/0) also during constant evaluation,
/// where compilers reject a floating division by zero. At run time it is exactly `a / b`.
template <class T>
constexpr T divide(T a, T b) {
    if (std::is_constant_evaluated() && b == T(0)) {
        if (a != a || a == T(0)) {
            return std::numeric_limits<T>::quiet_NaN();
        }
        return (a < T(0)) != sign_bit(b) ? -std::numeric_limits<T>::infinity()
                                         : std::numeric_limits<T>::infinity();
    }
    return a / b;
}

}  // namespace ctgrad::detail
