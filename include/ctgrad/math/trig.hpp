/// @file
/// The trigonometric functions of the constexpr math: sin, cos (radians).
///
/// std:: at run time (bit for bit). During constant evaluation (in double for float and
/// double, in long double for long double), a port of Sun's fdlibm (s_sin.c, s_cos.c,
/// k_sin.c, k_cos.c, e_rem_pio2.c; "Copyright (C) 1993 by Sun Microsystems, Inc. All rights
/// reserved. Developed at SunSoft, a Sun Microsystems, Inc. business. Permission to use, copy,
/// modify, and distribute this software is freely granted, provided that this notice is
/// preserved."): x is reduced to y = x - n pi/2 with |y| <= ~pi/4, carried as a double-double,
/// then a degree-13/14 polynomial (Remez error < 2^-58) gives sin y or cos y.
///
/// The reduction is exact enough for every finite argument, so the accuracy claim (within
/// 1 ulp: 0.77 measured against the exact value over 10^6 random doubles, checked in
/// test/math/trig_test.cpp) holds over the whole double range, up to max():
/// - |x| < 2^20 pi/2 (about 1.6e6): Cody–Waite with pi/2 in three 33-bit parts plus a tail
///   (fdlibm's "medium" case, good to about 150 bits);
/// - beyond: Payne–Hanek, x 2/pi mod 4 from a 256-bit window of the bits of 2/pi
///   (math/two_over_pi.hpp) in integer arithmetic.
/// At the double nearest to a multiple of pi/2 (6381956970095103 2^797) cos is correctly
/// rounded; glibc 2.36's is 8 ulp off there.
/// long double: the same algorithm, with the accuracy of double (not of long double).
#pragma once

#include <cmath>        // std::sin, std::cos
#include <concepts>     // std::floating_point, std::integral
#include <cstdint>      // std::uint32_t, std::uint64_t
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated

#include <ctgrad/math/fp.hpp>
#include <ctgrad/math/two_over_pi.hpp>

namespace ctgrad::math::detail {

/// sin(x + y) for |x| <= ~pi/4, y the tail of x (fdlibm k_sin.c).
template <class W>
constexpr W kernel_sin(W x, W y, bool has_tail) {
    constexpr W S1 = W(-1.66666666666666324348e-01);
    constexpr W S2 = W(8.33333333332248946124e-03);
    constexpr W S3 = W(-1.98412698298579493134e-04);
    constexpr W S4 = W(2.75573137070700676789e-06);
    constexpr W S5 = W(-2.50507602534068634195e-08);
    constexpr W S6 = W(1.58969099521155010221e-10);
    const W z = x * x;
    const W w = z * z;
    const W r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    const W v = z * x;
    if (!has_tail) {
        return x + v * (S1 + z * r);
    }
    return x - ((z * (W(0.5) * y - v * r) - y) - v * S1);
}

/// cos(x + y) for |x| <= ~pi/4, y the tail of x (fdlibm k_cos.c).
template <class W>
constexpr W kernel_cos(W x, W y) {
    constexpr W C1 = W(4.16666666666666019037e-02);
    constexpr W C2 = W(-1.38888888888741095749e-03);
    constexpr W C3 = W(2.48015872894767294178e-05);
    constexpr W C4 = W(-2.75573143513906633035e-07);
    constexpr W C5 = W(2.08757232129817482790e-09);
    constexpr W C6 = W(-1.13596475577881948265e-11);
    const W z = x * x;
    const W w2 = z * z;
    const W r = z * (C1 + z * (C2 + z * C3)) + w2 * w2 * (C4 + z * (C5 + z * C6));
    const W hz = W(0.5) * z;
    const W w = W(1) - hz;
    return w + (((W(1) - w) - hz) + (z * r - x * y));
}

/// x = n pi/2 + (y0 + y1), |y0 + y1| <= ~pi/4; only n mod 4 is meaningful.
template <class W>
struct reduced {
    int n;
    W y0;
    W y1;
};

/// Cody–Waite reduction for |x| < 2^20 pi/2 (after fdlibm e_rem_pio2.c, "medium" case):
/// n pi/2 is subtracted in parts, pi/2 = p1 + p2 + p3 + p3t with p1, p2, p3 of 33 bits each,
/// so that n p1, n p2, n p3 are exact; the subtractions are exact (the first by Sterbenz's
/// lemma, the others as two-sums), which leaves only the rounding of n p3t (about 2^-150).
/// fdlibm takes the p2 and p3 steps only after a large cancellation; taking them always,
/// with their rounding errors carried, is simpler and never less accurate.
template <class W>
constexpr reduced<W> reduce_medium(W x) {
    constexpr W invpio2 = W(6.36619772367581382433e-01);
    constexpr W pio2_1 = W(1.57079632673412561417e+00);   // first 33 bits of pi/2
    constexpr W pio2_2 = W(6.07710050630396597660e-11);   // second 33 bits
    constexpr W pio2_3 = W(2.02226624871116645580e-21);   // third 33 bits
    constexpr W pio2_3t = W(8.47842766036889956997e-32);  // pi/2 - (pio2_1 + pio2_2 + pio2_3)
    const W fn = round_to_integer(x * invpio2);
    const W r = x - fn * pio2_1;
    const dd<W> a = two_sum(r, -(fn * pio2_2));
    const dd<W> b = two_sum(a.hi, -(fn * pio2_3));
    const dd<W> y = two_sum(b.hi, (a.lo + b.lo) - fn * pio2_3t);
    return {static_cast<int>(fn), y.hi, y.lo};
}

/// Bits b_start .. b_start+31 of 2/pi = sum b_i 2^-i (b_i = 0 for i <= 0).
constexpr std::uint32_t two_over_pi_window(int start) {
    const int index = start - 1;
    if (index <= -32) {
        return 0;
    }
    if (index < 0) {
        return two_over_pi_bits[0] >> (-index);
    }
    const int word = index / 32;
    const int shift = index % 32;
    std::uint32_t v = two_over_pi_bits[word] << shift;
    if (shift != 0) {
        v |= two_over_pi_bits[word + 1] >> (32 - shift);
    }
    return v;
}

/// Payne–Hanek reduction of a large finite x > 0. With x = M 2^E (M an integer of at most 128
/// bits), the bits b_i of 2/pi with i < E - 1 contribute multiples of 4 to x 2/pi, so
/// x 2/pi mod 4 = (M * [b_(E-1) ... b_(E+254)] mod 2^256) 2^-254, up to less than M 2^-254.
/// The top two bits of that product are n mod 4, the rest the fraction, which is centred
/// to [-1/2, 1/2) and multiplied by pi/2 in double-double.
template <class W>
constexpr reduced<W> reduce_large(W x) {
    constexpr int dig = std::numeric_limits<W>::digits;
    static_assert(dig <= 128, "Payne-Hanek reduction supports significands of up to 128 bits");
    static_assert((std::numeric_limits<W>::max_exponent - dig + 256) / 32 + 2 <=
                      static_cast<int>(sizeof(two_over_pi_bits) / sizeof(two_over_pi_bits[0])),
                  "two_over_pi_bits is too short for this floating-point type");
    const auto [m, e] = decompose(x);
    const W mi = m * pow2<W>(dig - 1);  // an integer below 2^dig
    const int E = e - (dig - 1);
    const auto high = static_cast<std::uint64_t>(mi * pow2<W>(-64));  // truncation
    const auto low = static_cast<std::uint64_t>(mi - W(high) * pow2<W>(64));
    const std::uint32_t M[4] = {
        static_cast<std::uint32_t>(low), static_cast<std::uint32_t>(low >> 32),
        static_cast<std::uint32_t>(high), static_cast<std::uint32_t>(high >> 32)};
    std::uint32_t window[8] = {};  // little-endian: window[7] holds b_(E-1) ... b_(E+30)
    for (int j = 0; j < 8; ++j) {
        window[7 - j] = two_over_pi_window(E - 1 + 32 * j);
    }
    std::uint32_t p[8] = {};  // M * window mod 2^256
    for (int i = 0; i < 4; ++i) {
        std::uint64_t carry = 0;
        for (int j = 0; i + j < 8; ++j) {
            const std::uint64_t t = std::uint64_t{M[i]} * window[j] + p[i + j] + carry;
            p[i + j] = static_cast<std::uint32_t>(t);
            carry = t >> 32;
        }
    }
    int n = static_cast<int>(p[7] >> 30);
    p[7] &= 0x3fffffffu;
    const bool negative = (p[7] & 0x20000000u) != 0;  // fraction >= 1/2: use fraction - 1
    if (negative) {
        ++n;
        std::uint64_t carry = 1;  // 2^254 - fraction: complement within 254 bits, plus one
        for (int k = 0; k < 8; ++k) {
            const std::uint64_t t = std::uint64_t{static_cast<std::uint32_t>(~p[k])} + carry;
            p[k] = static_cast<std::uint32_t>(t);
            carry = t >> 32;
        }
        p[7] &= 0x3fffffffu;
    }
    dd<W> f{W(0), W(0)};
    for (int k = 7; k >= 0; --k) {
        const dd<W> s = two_sum(f.hi, W(p[k]) * pow2<W>(32 * k - 254));
        f.hi = s.hi;
        f.lo += s.lo;
    }
    f = fast_two_sum(f.hi, f.lo);
    // pi/2 as the sum of three doubles (about 160 bits).
    dd<W> pio2 = two_sum(W(1.5707963267948966), W(6.123233995736766e-17));
    pio2.lo += W(-1.4973849048591698e-33);
    const dd<W> r = dd_mul(f, pio2);
    return negative ? reduced<W>{n, -r.hi, -r.lo} : reduced<W>{n, r.hi, r.lo};
}

template <class W>
constexpr reduced<W> reduce_pio2(W x) {
    if (magnitude(x) < W(1647099.3291652855)) {  // 2^20 pi/2
        return reduce_medium(x);
    }
    if (x > W(0)) {
        return reduce_large(x);
    }
    const reduced<W> r = reduce_large(-x);
    return {-r.n, -r.y0, -r.y1};
}

template <class W>
constexpr W sin_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    if (ax == inf_v<W>) {
        return nan_v<W>;
    }
    if (ax <= W(0.78539816339744828)) {
        if (ax < pow2<W>(-(std::numeric_limits<W>::digits / 2))) {  // 2^-26
            return x;                                               // also keeps the sign of -0
        }
        return kernel_sin(x, W(0), false);
    }
    const reduced<W> r = reduce_pio2(x);
    switch (r.n & 3) {
    case 0:
        return kernel_sin(r.y0, r.y1, true);
    case 1:
        return kernel_cos(r.y0, r.y1);
    case 2:
        return -kernel_sin(r.y0, r.y1, true);
    default:
        return -kernel_cos(r.y0, r.y1);
    }
}

template <class W>
constexpr W cos_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    if (ax == inf_v<W>) {
        return nan_v<W>;
    }
    if (ax <= W(0.78539816339744828)) {
        if (ax < pow2<W>(-((std::numeric_limits<W>::digits + 1) / 2))) {  // 2^-27
            return W(1);
        }
        return kernel_cos(x, W(0));
    }
    const reduced<W> r = reduce_pio2(x);
    switch (r.n & 3) {
    case 0:
        return kernel_cos(r.y0, r.y1);
    case 1:
        return -kernel_sin(r.y0, r.y1, true);
    case 2:
        return -kernel_cos(r.y0, r.y1);
    default:
        return kernel_sin(r.y0, r.y1, true);
    }
}

template <std::floating_point T>
constexpr T sin_impl(T x) {
    return static_cast<T>(sin_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T cos_impl(T x) {
    return static_cast<T>(cos_w(static_cast<working_t<T>>(x)));
}

}  // namespace ctgrad::math::detail

namespace ctgrad::math {

/// sin x, x in radians. sin(±inf) = NaN, sin(-0) = -0.
template <std::floating_point T>
constexpr T sin(T x) {
    if (std::is_constant_evaluated()) {
        return detail::sin_impl(x);
    }
    return std::sin(x);
}

/// cos x, x in radians. cos(±inf) = NaN.
template <std::floating_point T>
constexpr T cos(T x) {
    if (std::is_constant_evaluated()) {
        return detail::cos_impl(x);
    }
    return std::cos(x);
}

template <std::integral I>
constexpr double sin(I x) {
    return math::sin(static_cast<double>(x));
}

template <std::integral I>
constexpr double cos(I x) {
    return math::cos(static_cast<double>(x));
}

}  // namespace ctgrad::math
