/// @file
/// Floating-point building blocks of the constexpr math: the working type, exact scaling
/// by powers of two, exponent/mantissa decomposition, rounding, and double-double arithmetic.
/// Everything here is plain arithmetic and comparisons, so it runs inside constant evaluation
/// on GCC and Clang alike: no std:: math function, and std::bit_cast only to read the sign of
/// a zero.
#pragma once

#include <bit>          // std::bit_cast, std::bit_width, std::endian
#include <cmath>        // std::signbit
#include <concepts>     // std::floating_point
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated, std::is_same_v

#include <ctgrad/detail/ieee.hpp>

namespace ctgrad::math::detail {

/// The type a function of T is computed in: double for float and double, long double for long
/// double. The polynomial coefficients are those of double, so long double results are
/// accurate to a few ulp of *double*, not of long double.
template <std::floating_point T>
using working_t = std::conditional_t<std::is_same_v<T, long double>, long double, double>;

template <class W>
inline constexpr W inf_v = std::numeric_limits<W>::infinity();

template <class W>
inline constexpr W nan_v = std::numeric_limits<W>::quiet_NaN();

template <class W>
constexpr bool is_nan(W x) {
    return x != x;
}

/// |x| for ordering (returns -0 for -0, which compares equal to +0).
template <class W>
constexpr W magnitude(W x) {
    return x < W(0) ? -x : x;
}

/// True for -0 and negative numbers, long double zeros included: the sign is read off the
/// byte that holds it (x87 extended and IEEE quad, little-endian), whose padding bytes a
/// bit_cast to unsigned char may carry. Other long double formats fall back to std::signbit
/// at run time and count -0 as +0 in constant evaluation.
template <class W>
constexpr bool sign_bit(W x) {
    if (x != W(0) || sizeof(W) <= sizeof(double)) {
        return ::ctgrad::detail::sign_bit(x);
    }
    constexpr int dig = std::numeric_limits<W>::digits;
    if constexpr (std::endian::native == std::endian::little && (dig == 64 || dig == 113)) {
        struct bytes {
            unsigned char b[sizeof(W)];
        };
        return (std::bit_cast<bytes>(x).b[dig == 64 ? 9 : 15] & 0x80u) != 0;
    } else {
        return std::is_constant_evaluated() ? false : std::signbit(x);
    }
}

/// 2^k exactly, for k in [min_exponent - digits, max_exponent - 1] (binary powering: at most
/// about 15 multiplications, all exact).
template <class W>
constexpr W pow2(int k) {
    W base = k < 0 ? W(0.5) : W(2);
    unsigned n = k < 0 ? static_cast<unsigned>(-k) : static_cast<unsigned>(k);
    W r = 1;
    while (n != 0) {
        if ((n & 1u) != 0) {
            r *= base;
        }
        n >>= 1;
        if (n != 0) {
            base *= base;
        }
    }
    return r;
}

/// w rounded to T. Out-of-range values become ±inf instead of the undefined conversion.
template <class T, class W>
constexpr T narrow(W w) {
    if constexpr (std::is_same_v<T, W>) {
        return w;
    } else {
        // The rounding threshold: max() plus half its ulp, the midpoint to 2^max_exponent.
        constexpr W limit =
            W(std::numeric_limits<T>::max()) +
            pow2<W>(std::numeric_limits<T>::max_exponent - std::numeric_limits<T>::digits - 1);
        if (w >= limit) {
            return std::numeric_limits<T>::infinity();
        }
        if (w <= -limit) {
            return -std::numeric_limits<T>::infinity();
        }
        return static_cast<T>(w);
    }
}

/// y * 2^k with a single rounding, for 1/4 <= |y| < 4 and any k: ±inf past the overflow
/// threshold, gradual underflow below the normal range (the scaling is split in two steps
/// so that a subnormal result is rounded once).
template <class W>
constexpr W scale(W y, int k) {
    constexpr int emax = std::numeric_limits<W>::max_exponent;      // 2^emax overflows
    constexpr int emin = std::numeric_limits<W>::min_exponent - 1;  // smallest normal exponent
    constexpr int dig = std::numeric_limits<W>::digits;
    if (k > emax - 3) {
        if (k > emax + 2 || magnitude(y) >= pow2<W>(emax - k)) {
            return y < W(0) ? -inf_v<W> : inf_v<W>;
        }
        return y * pow2<W>(k - 3) * W(8);
    }
    if (k >= emin) {
        return y * pow2<W>(k);
    }
    if (k < emin - dig - 2) {  // |y| 2^k < 2^(emin-dig-1): below half the smallest subnormal
        return y < W(0) ? -W(0) : W(0);
    }
    return y * pow2<W>(k + dig + 4) * pow2<W>(-(dig + 4));
}

template <class W>
struct decomposed {
    W m;    ///< in [1, 2)
    int e;  ///< x = m 2^e
};

/// x = m 2^e with m in [1, 2), for finite x > 0 (frexp, which is not constexpr in C++20).
/// Greedy binary search over the exponent with exact multiplications by 2^(±2^i).
template <class W>
constexpr decomposed<W> decompose(W x) {
    constexpr int dig = std::numeric_limits<W>::digits;
    constexpr int levels =
        std::bit_width(static_cast<unsigned>(std::numeric_limits<W>::max_exponent - 1));
    int e = 0;
    if (x < std::numeric_limits<W>::min()) {
        x *= pow2<W>(dig);
        e -= dig;
    }
    W up[static_cast<unsigned>(levels)] = {};    // 2^(2^i)
    W down[static_cast<unsigned>(levels)] = {};  // 2^-(2^i)
    up[0] = W(2);
    down[0] = W(0.5);
    for (int i = 1; i < levels; ++i) {
        up[i] = up[i - 1] * up[i - 1];
        down[i] = down[i - 1] * down[i - 1];
    }
    if (x >= W(2)) {
        for (int i = levels - 1; i >= 0; --i) {
            if (x >= up[i]) {
                x *= down[i];
                e += 1 << i;
            }
        }
    } else if (x < W(1)) {
        for (int i = levels - 1; i >= 0; --i) {
            if (x < W(2) * down[i]) {
                x *= up[i];
                e -= 1 << i;
            }
        }
    }
    return {x, e};
}

/// The integer nearest to x (ties: as the hardware rounds), for |x| < 2^(digits-2).
template <class W>
constexpr W round_to_integer(W x) {
    constexpr W magic = W(1.5) * pow2<W>(std::numeric_limits<W>::digits - 1);
    return (x + magic) - magic;
}

/// True if finite x is an integer.
template <class W>
constexpr bool is_integer(W x) {
    const W a = magnitude(x);
    if (a >= pow2<W>(std::numeric_limits<W>::digits - 1)) {
        return true;
    }
    return round_to_integer(a) == a;
}

/// True if finite x is an odd integer.
template <class W>
constexpr bool is_odd_integer(W x) {
    const W a = magnitude(x);
    if (a >= pow2<W>(std::numeric_limits<W>::digits) || !is_integer(a)) {
        return false;
    }
    return !is_integer(a * W(0.5));
}

// --- double-double arithmetic (Dekker, Knuth): a value hi + lo with |lo| <= ulp(hi)/2 ---

template <class W>
struct dd {
    W hi;
    W lo;
};

/// a + b = s.hi + s.lo exactly (Knuth's two-sum, any order of magnitudes).
template <class W>
constexpr dd<W> two_sum(W a, W b) {
    const W s = a + b;
    const W bb = s - a;
    return {s, (a - (s - bb)) + (b - bb)};
}

/// a + b = s.hi + s.lo exactly, for |a| >= |b| (or a = 0).
template <class W>
constexpr dd<W> fast_two_sum(W a, W b) {
    const W s = a + b;
    return {s, b - (s - a)};
}

/// a = hi + lo with hi holding the upper half of the significand (Veltkamp), |a| < max/2^27.
template <class W>
constexpr dd<W> split(W a) {
    constexpr W factor = pow2<W>((std::numeric_limits<W>::digits + 1) / 2) + W(1);
    const W c = factor * a;
    const W hi = c - (c - a);
    return {hi, a - hi};
}

/// a * b = p.hi + p.lo exactly (Dekker; no fma, which is not constexpr).
template <class W>
constexpr dd<W> two_prod(W a, W b) {
    const W p = a * b;
    const dd<W> as = split(a);
    const dd<W> bs = split(b);
    return {p, ((as.hi * bs.hi - p) + as.hi * bs.lo + as.lo * bs.hi) + as.lo * bs.lo};
}

template <class W>
constexpr dd<W> dd_add(dd<W> a, dd<W> b) {
    dd<W> s = two_sum(a.hi, b.hi);
    s.lo += a.lo + b.lo;
    return fast_two_sum(s.hi, s.lo);
}

template <class W>
constexpr dd<W> dd_mul(dd<W> a, dd<W> b) {
    dd<W> p = two_prod(a.hi, b.hi);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return fast_two_sum(p.hi, p.lo);
}

// --- constants shared by several functions (fdlibm's splits: k * ln2_hi is exact) ---

template <class W>
struct constants {
    static constexpr W ln2_hi = W(6.93147180369123816490e-01);  // 0x3fe62e42 fee00000
    static constexpr W ln2_lo = W(1.90821492927058770002e-10);  // 0x3dea39ef 35793c76
    static constexpr W inv_ln2 = W(1.44269504088896338700e+00);
    static constexpr W half_ln2 = W(3.46573590279972654709e-01);
    static constexpr W three_half_ln2 = W(1.03972077083991796413e+00);
};

}  // namespace ctgrad::math::detail
