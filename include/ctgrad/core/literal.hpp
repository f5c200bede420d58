/// @file
/// Exact compile-time literals: `lit<N>`, `lit<N, D>` and the `_c` suffix (`2_c`,
/// `0.5_c`, `1e-3_c`). Their value is part of their type, so symbolic simplification can fold
/// them and type-level CSE can merge expressions built with them.
#pragma once

#include <cstdint>  // std::intmax_t, std::uintmax_t

#include <ctgrad/core/fwd.hpp>

namespace ctgrad {
namespace detail {
/// gcd(|a|, |b|), as std::gcd (without <numeric>, which ctgrad.hpp does not otherwise need).
constexpr std::intmax_t gcd(std::intmax_t a, std::intmax_t b) noexcept {
    using U = std::uintmax_t;
    U x = a < 0 ? U(0) - U(a) : U(a);
    U y = b < 0 ? U(0) - U(b) : U(b);
    while (y != 0) {
        const U r = x % y;
        x = y;
        y = r;
    }
    return static_cast<std::intmax_t>(x);
}
}  // namespace detail

/// The exact rational number Num/Den (Den > 0, in lowest terms). Converted to a scalar type T
/// as `T(Num) / T(Den)`: one correctly rounded division, so `0.1_c` is the double `0.1`.
template <std::intmax_t Num, std::intmax_t Den>
struct literal {
    static_assert(Den > 0 && detail::gcd(Num, Den) == 1,
                  "ctgrad::literal<Num, Den> must be in lowest terms with Den > 0: "
                  "write ctgrad::lit<Num, Den>, which normalises");
    static constexpr std::intmax_t num = Num;
    static constexpr std::intmax_t den = Den;

    template <class T>
    static constexpr T as() noexcept {
        if constexpr (Den == 1) {
            return static_cast<T>(Num);
        } else {
            return static_cast<T>(Num) / static_cast<T>(Den);
        }
    }

    /// Unary minus of an exact literal is exact, so it stays a literal.
    constexpr literal<-Num, Den> operator-() const noexcept requires(Num != INTMAX_MIN) {
        return {};
    }
};

namespace detail {

struct rational {
    std::intmax_t num = 0;
    std::intmax_t den = 1;
    bool ok = true;
};

constexpr rational normalize(std::intmax_t n, std::intmax_t d) {
    if (d == 0 || n == INTMAX_MIN || d == INTMAX_MIN) {
        return {0, 1, false};
    }
    if (d < 0) {
        n = -n;
        d = -d;
    }
    const std::intmax_t g = detail::gcd(n, d);
    return {n / g, d / g, true};
}

template <char... Cs>
constexpr rational parse_literal() {
    constexpr char s[] = {Cs...};
    std::intmax_t num = 0;
    std::intmax_t den = 1;
    int exp = 0;
    bool frac = false;
    bool ok = true;
    std::size_t i = 0;
    constexpr std::intmax_t limit = INTMAX_MAX / 10;
    for (; i < sizeof...(Cs); ++i) {
        const char c = s[i];
        if (c == '\'') {
            continue;
        }
        if (c == '.') {
            if (frac) {
                ok = false;
            }
            frac = true;
            continue;
        }
        if (c == 'e' || c == 'E') {
            ++i;
            break;
        }
        if (c < '0' || c > '9' || num > limit || (frac && den > limit)) {
            ok = false;
            break;
        }
        num = num * 10 + (c - '0');
        if (frac) {
            den *= 10;
        }
    }
    if (i < sizeof...(Cs) + 1 && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E')) {
        bool neg = false;
        if (i < sizeof...(Cs) && (s[i] == '-' || s[i] == '+')) {
            neg = s[i] == '-';
            ++i;
        }
        if (i == sizeof...(Cs)) {
            ok = false;
        }
        for (; i < sizeof...(Cs); ++i) {
            if (s[i] < '0' || s[i] > '9' || exp > 30) {
                ok = false;
                break;
            }
            exp = exp * 10 + (s[i] - '0');
        }
        exp = neg ? -exp : exp;
    }
    for (; ok && exp > 0; --exp) {
        if (num > limit) {
            ok = false;
        } else {
            num *= 10;
        }
    }
    for (; ok && exp < 0; ++exp) {
        if (den > limit) {
            ok = false;
        } else {
            den *= 10;
        }
    }
    if (!ok) {
        return {0, 1, false};
    }
    return normalize(num, den);
}

}  // namespace detail

namespace detail {

template <std::intmax_t N, std::intmax_t D>
constexpr auto make_literal() {
    static_assert(D != 0, "ctgrad::lit<N, D>: the denominator D is 0");
    static_assert(N != INTMAX_MIN && D != INTMAX_MIN,
                  "ctgrad::lit<N, D>: INTMAX_MIN is out of range (its negation overflows)");
    return literal<normalize(N, D).num, normalize(N, D).den>{};
}

}  // namespace detail

/// The exact literal N/D, normalised: `lit<2>`, `lit<1, 2>`, `lit<-3>`. D = 0 or INTMAX_MIN
/// is a compile error.
template <std::intmax_t N, std::intmax_t D = 1>
inline constexpr auto lit = detail::make_literal<N, D>();

inline namespace literals {

/// `2_c`, `0.5_c`, `1e-3_c`, `2.5e2_c`: an exact literal (decimal digits, one optional point,
/// an optional exponent). Negative literals are written `-2_c`, which stays a literal.
template <char... Cs>
constexpr auto operator""_c() {
    constexpr detail::rational r = detail::parse_literal<Cs...>();
    static_assert(r.ok,
                  "ctgrad: a _c literal must be a decimal number such as 2_c, 0.5_c or 1e-3_c "
                  "whose numerator and denominator fit in std::intmax_t");
    return literal<r.num, r.den>{};
}

}  // namespace literals

using zero_t = literal<0>;
using one_t = literal<1>;

}  // namespace ctgrad

namespace ctgrad {

/// An irrational constant named by a tag type (`Tag::template as<T>()` gives its value in T),
/// used where a derivative needs one, e.g. erf' = 2/sqrt(pi) * exp(-x^2). Like a literal it is
/// part of the type, so expressions holding it stay pure.
template <class Tag>
struct named_constant {
    template <class T>
    static constexpr T as() noexcept {
        return Tag::template as<T>();
    }
};

namespace detail {

// Exact rational arithmetic for literal folding; `ok` is false on overflow (then the
// simplifier keeps the node instead of folding).
constexpr rational rat_mul(rational a, rational b) {
    std::intmax_t n = 0;
    std::intmax_t d = 0;
    if (__builtin_mul_overflow(a.num, b.num, &n) || __builtin_mul_overflow(a.den, b.den, &d)) {
        return {0, 1, false};
    }
    return normalize(n, d);
}

constexpr rational rat_add(rational a, rational b) {
    std::intmax_t x = 0;
    std::intmax_t y = 0;
    std::intmax_t n = 0;
    std::intmax_t d = 0;
    if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
        __builtin_add_overflow(x, y, &n) || __builtin_mul_overflow(a.den, b.den, &d)) {
        return {0, 1, false};
    }
    return normalize(n, d);
}

constexpr rational rat_neg(rational a) {
    return a.num == INTMAX_MIN ? rational{0, 1, false} : rational{-a.num, a.den, true};
}

constexpr rational rat_div(rational a, rational b) {
    if (b.num == 0) {
        return {0, 1, false};
    }
    return rat_mul(a, normalize(b.den, b.num));
}

template <class L>
inline constexpr rational rational_of = {L::num, L::den, true};

}  // namespace detail
}  // namespace ctgrad
