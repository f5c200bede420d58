/// @file
/// Elementwise math for loops: exp, expm1, log, log1p, tanh and sigmoid of float and double as
/// branch-free kernels -- one polynomial path for every input, special cases chosen by bitwise
/// selects of values computed anyway (kernel::select), powers of two built from bits, no
/// table, no call -- so that GCC and Clang vectorise the loops that call them (the
/// tensor engine's fused elementwise loops, the softmax kernels) at whatever width the build
/// targets: 4 floats with the x86-64 baseline (SSE2), 8 with AVX2, 16 with AVX-512.
///
/// The algorithms are the classic ones (Cody & Waite argument reduction as in Cephes, SLEEF and
/// Eigen's packet math; fdlibm's log kernel): exp reduces x = n ln2 + r with |r| <= ln2/2,
/// evaluates e^r - 1 = r + r^2 q(r) (the Taylor series, cut where its remainder is below 0.1
/// ulp), and scales by 2^n in two steps 2^(n/2) 2^(n - n/2), so that overflow to inf and
/// gradual underflow to subnormal results happen exactly where they should (float: exp overflows
/// past 88.72, is subnormal below -87.34 and 0 below -103.97; double: 709.78, -708.40, -745.13).
/// expm1 is 2^n (e^r - 1) + (2^n - 1), exact near 0; log and log1p are fdlibm's
/// k ln2 + log(1 + f) with log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f), and for
/// log1p the correction ((1 + x) - u) / u of the rounded u = 1 + x; tanh is Cephes' odd
/// polynomial (float) or rational function (double) below 0.625 and 1 - 2 / (e^2|x| + 1) above;
/// sigmoid is 1 / (1 + e^-|x|), or e^-|x| / (1 + e^-|x|) for negative x.
///
/// Accuracy against the correctly rounded result, measured over every float and a dense sweep of
/// doubles (test/math/vector_math_test.cpp; the numbers are in docs/performance.md): within
/// 2 ulp in float and 4 ulp in double for every function, IEEE edges kept: NaN propagates,
/// exp(±inf) = inf / 0, log(0) = -inf, log(x < 0) = NaN, log1p(-1) = -inf, tanh and sigmoid
/// saturate to exactly ±1 / 0 / 1, the sign of a zero is kept where the function is odd.
/// Under FTZ/DAZ (ctgrad::ftz_scope) subnormal results become 0 and subnormal inputs read as 0,
/// as for any arithmetic.
///
/// ctgrad::math::vec::f(x) is the kernel at run time and the constexpr math (math::f) during
/// constant evaluation, so results computed at compile time do not change.
#pragma once

#include <bit>          // std::bit_cast
#include <concepts>     // std::floating_point
#include <cstdint>      // std::uint32_t, std::uint64_t
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated, std::is_same_v

#include <ctgrad/math/activation.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/hyperbolic.hpp>

// Plain inline with -DCTGRAD_NO_FORCED_INLINE in a Clang -O0 build (tensor/matmul.hpp).
#if (defined(__GNUC__) || defined(__clang__)) && \
    !(defined(CTGRAD_NO_FORCED_INLINE) && defined(__clang__) && !defined(__OPTIMIZE__))
#define CTGRAD_VEC_INLINE inline __attribute__((always_inline))
#else
#define CTGRAD_VEC_INLINE inline
#endif

namespace ctgrad::math::vec {

/// Whether the vector kernels exist for T (float and double; long double uses math::).
template <class T>
concept kernel_type = std::is_same_v<T, float> || std::is_same_v<T, double>;

namespace kernel {

/// The bit-level facts of float and double that the kernels use.
template <class T>
struct traits;

template <>
struct traits<float> {
    using bits = std::uint32_t;
    static constexpr int mant = 23;
    static constexpr bits bias = 127;
    static constexpr float shifter = 0x1.8p23f;  // x + shifter rounds x to an integer
    static constexpr float two_mant = 0x1p23f;   // bits(e | bits(2^23)) - 2^23 = e
    static constexpr float exp_lo = -104.0f;     // e^x rounds to 0 below -103.97
    static constexpr float exp_hi = 89.0f;       // e^x overflows past 88.73
    static constexpr float expm1_lo = -30.0f;    // e^x - 1 rounds to -1 below -17.3
    static constexpr float tanh_hi = 10.0f;      // tanh x rounds to 1 from 9.01
    static constexpr float log2e = 1.44269504088896341f;
    static constexpr float ln2_hi = 0.693359375f;  // 9 significant bits: n ln2_hi exact
    static constexpr float ln2_lo = -2.12194440e-4f;
    static constexpr float log_ln2_hi = 6.9313812256e-01f;  // fdlibm e_logf.c
    static constexpr float log_ln2_lo = 9.0580006145e-06f;
    static constexpr bits sqrt_half_bits = 0x3f3504f3u;  // bits of sqrt(2)/2
    static constexpr bits one_bits = 0x3f800000u;
    static constexpr bits mant_mask = 0x007fffffu;
    static constexpr bits sign_mask = 0x80000000u;
};

template <>
struct traits<double> {
    using bits = std::uint64_t;
    static constexpr int mant = 52;
    static constexpr bits bias = 1023;
    static constexpr double shifter = 0x1.8p52;
    static constexpr double two_mant = 0x1p52;
    static constexpr double exp_lo = -746.0;   // e^x rounds to 0 below -745.13
    static constexpr double exp_hi = 710.0;    // e^x overflows past 709.78
    static constexpr double expm1_lo = -40.0;  // e^x - 1 rounds to -1 below -37.43
    static constexpr double tanh_hi = 20.0;    // tanh x rounds to 1 from 19.06
    static constexpr double log2e = 1.44269504088896340736;
    static constexpr double ln2_hi = 6.93147180369123816490e-01;  // fdlibm: n ln2_hi exact
    static constexpr double ln2_lo = 1.90821492927058770002e-10;
    static constexpr double log_ln2_hi = 6.93147180369123816490e-01;
    static constexpr double log_ln2_lo = 1.90821492927058770002e-10;
    static constexpr bits sqrt_half_bits = 0x3fe6a09e667f3bcdull;
    static constexpr bits one_bits = 0x3ff0000000000000ull;
    static constexpr bits mant_mask = 0x000fffffffffffffull;
    static constexpr bits sign_mask = 0x8000000000000000ull;
};

template <class T>
CTGRAD_VEC_INLINE constexpr typename traits<T>::bits to_bits(T x) {
    return std::bit_cast<typename traits<T>::bits>(x);
}

template <class T>
CTGRAD_VEC_INLINE constexpr T from_bits(typename traits<T>::bits b) {
    return std::bit_cast<T>(b);
}

/// c ? a : b, by bits: both a and b are computed anyway, so that the compiler needs no branch
/// and no speculation. (Without AVX-512's masked instructions, GCC does not vectorise a
/// `c ? a : b` whose arms it would have to evaluate speculatively -- arithmetic that may raise a
/// floating-point exception, under the default -ftrapping-math -- and sinks an arm used only by
/// the select into it.)
template <class T>
CTGRAD_VEC_INLINE constexpr T select(bool c, T a, T b) {
    using U = typename traits<T>::bits;
    const U m = U(0) - static_cast<U>(c);
    return from_bits<T>((to_bits(a) & m) | (to_bits(b) & ~m));
}

/// |x| (clears the sign bit).
template <class T>
CTGRAD_VEC_INLINE constexpr T abs(T x) {
    return from_bits<T>(to_bits(x) & ~traits<T>::sign_mask);
}

/// |y| with the sign of x.
template <class T>
CTGRAD_VEC_INLINE constexpr T with_sign_of(T y, T x) {
    using C = traits<T>;
    return from_bits<T>((to_bits(y) & ~C::sign_mask) | (to_bits(x) & C::sign_mask));
}

/// n rounded to the nearest integer (ties to even), as a floating-point number; |n| < 2^(mant-1).
template <class T>
CTGRAD_VEC_INLINE constexpr T round_int(T n) {
    return (n + traits<T>::shifter) - traits<T>::shifter;
}

/// 2^n for an integer-valued n with 1 - bias <= n <= bias (a normal number), from bits.
template <class T>
CTGRAD_VEC_INLINE constexpr T pow2(T n) {
    using C = traits<T>;
    const typename C::bits b = to_bits(n + C::shifter) - to_bits(C::shifter) + C::bias;
    return from_bits<T>(b << C::mant);
}

/// e^r - 1 for |r| <= ln2/2: r + r^2 q(r), q the Taylor series of (e^r - 1 - r)/r^2 up to
/// r^5 (float: remainder < 1.5e-8 relative) or r^11 (double: < 1.2e-17).
template <class T>
CTGRAD_VEC_INLINE constexpr T expm1_reduced(T r) {
    T q;
    if constexpr (std::is_same_v<T, float>) {
        q = 1.98412698e-4f;  // 1/7!
        q = q * r + 1.38888889e-3f;
        q = q * r + 8.33333333e-3f;
        q = q * r + 4.16666667e-2f;
        q = q * r + 1.66666667e-1f;
        q = q * r + 0.5f;
    } else {
        q = 1.0 / 6227020800.0;  // 1/13!
        q = q * r + 1.0 / 479001600.0;
        q = q * r + 1.0 / 39916800.0;
        q = q * r + 1.0 / 3628800.0;
        q = q * r + 1.0 / 362880.0;
        q = q * r + 1.0 / 40320.0;
        q = q * r + 1.0 / 5040.0;
        q = q * r + 1.0 / 720.0;
        q = q * r + 1.0 / 120.0;
        q = q * r + 1.0 / 24.0;
        q = q * r + 1.0 / 6.0;
        q = q * r + 0.5;
    }
    return r + (r * r) * q;
}

/// The reduction x = n ln2 + r of a clamped x: n (integer-valued) and r.
template <class T>
struct reduced {
    T n, r;
};

template <class T>
CTGRAD_VEC_INLINE constexpr reduced<T> reduce_ln2(T x) {
    using C = traits<T>;
    const T n = round_int(x * C::log2e);
    const T r = (x - n * C::ln2_hi) - n * C::ln2_lo;
    return {n, r};
}

/// e^x for x in [exp_lo, exp_hi] (or NaN, which stays NaN): no select.
template <class T>
CTGRAD_VEC_INLINE constexpr T exp_core(T xc) {
    const reduced<T> a = reduce_ln2(xc);
    const T n1 = round_int(a.n * T(0.5));
    return (T(1) + expm1_reduced(a.r)) * pow2(n1) * pow2(a.n - n1);
}

/// e^x.
template <class T>
CTGRAD_VEC_INLINE constexpr T exp(T x) {
    using C = traits<T>;
    T xc = select(x < C::exp_lo, C::exp_lo, x);
    xc = select(xc > C::exp_hi, C::exp_hi, xc);
    return exp_core(xc);  // NaN stays NaN
}

/// e^x - 1.
template <class T>
CTGRAD_VEC_INLINE constexpr T expm1(T x) {
    using C = traits<T>;
    constexpr T n_small = T(C::mant + 1);  // 2^n - 1 is exact below, e^x - 1 = e^x(1-) above
    T xc = select(x < C::expm1_lo, C::expm1_lo, x);
    xc = select(xc > C::exp_hi, C::exp_hi, xc);
    const reduced<T> a = reduce_ln2(xc);
    const T p = expm1_reduced(a.r);
    const T ns = select(a.n < n_small, a.n, n_small);
    const T s = pow2(ns);
    const T small = s * p + (s - T(1));
    const T n1 = round_int(a.n * T(0.5));
    const T big = (T(1) + p) * pow2(n1) * pow2(a.n - n1) - T(1);
    return select(x == T(0), x, select(a.n < n_small, small, big));  // NaN stays NaN
}

/// log(1 + f) - f for f = m - 1, m in [sqrt(2)/2, sqrt(2)), as fdlibm's pieces: returns
/// s (f^2/2 + R) with s = f / (2 + f), R(s^2) the Remez polynomial, and f^2/2 in hfsq.
template <class T>
CTGRAD_VEC_INLINE constexpr T log_tail(T f, T hfsq) {
    const T s = f / (T(2) + f);
    const T z = s * s;
    const T w = z * z;
    T t1, t2;
    if constexpr (std::is_same_v<T, float>) {  // fdlibm e_logf.c (error < 2^-25)
        t1 = w * (0.40000972152f + w * 0.24279078841f);
        t2 = z * (0.66666662693f + w * 0.28498786688f);
    } else {  // fdlibm e_log.c (error < 2^-58.45)
        t1 = w * (3.999999999940941908e-01 +
                  w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
        t2 = z * (6.666666666666735130e-01 +
                  w * (2.857142874366239149e-01 +
                       w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    }
    return s * (hfsq + (t2 + t1));
}

/// x = 2^k m with m in [sqrt(2)/2, sqrt(2)) for positive finite x (subnormals included): f = m - 1
/// and k as a floating-point number.
template <class T>
struct split {
    T f, k;
};

template <class T>
CTGRAD_VEC_INLINE constexpr split<T> split_log(T x) {
    using C = traits<T>;
    const bool tiny = x < std::numeric_limits<T>::min();
    const T xs = select(tiny, x * C::two_mant, x);  // subnormal: scaled into the normal range
    typename C::bits ix = to_bits(xs) + (C::one_bits - C::sqrt_half_bits);
    const typename C::bits e = ix >> C::mant;  // biased exponent of m's binade, 0 < e < 2 bias
    ix = (ix & C::mant_mask) + C::sqrt_half_bits;
    const T ef = from_bits<T>(e | to_bits(C::two_mant)) - C::two_mant;  // e, exactly
    const T k = (ef - T(C::bias)) - select(tiny, T(C::mant), T(0));
    return {from_bits<T>(ix) - T(1), k};
}

/// log x for a positive normal finite x: no select.
template <class T>
CTGRAD_VEC_INLINE constexpr T log_core(T x) {
    using C = traits<T>;
    typename C::bits ix = to_bits(x) + (C::one_bits - C::sqrt_half_bits);
    const typename C::bits e = ix >> C::mant;
    ix = (ix & C::mant_mask) + C::sqrt_half_bits;
    const T k = (from_bits<T>(e | to_bits(C::two_mant)) - C::two_mant) - T(C::bias);
    const T f = from_bits<T>(ix) - T(1);
    const T hfsq = T(0.5) * f * f;
    const T t = log_tail(f, hfsq);
    return k * C::log_ln2_hi - ((hfsq - (t + k * C::log_ln2_lo)) - f);
}

/// Natural logarithm.
template <class T>
CTGRAD_VEC_INLINE constexpr T log(T x) {
    using C = traits<T>;
    const split<T> m = split_log(x);
    const T hfsq = T(0.5) * m.f * m.f;
    const T t = log_tail(m.f, hfsq);
    T y = m.k * C::log_ln2_hi - ((hfsq - (t + m.k * C::log_ln2_lo)) - m.f);
    constexpr T inf = std::numeric_limits<T>::infinity();
    y = select(x == inf, inf, y);
    y = select(x == T(0), -inf, y);
    y = select(x < T(0), std::numeric_limits<T>::quiet_NaN(), y);
    return select(x != x, x, y);
}

/// log(1 + x) in double.
template <class T>
CTGRAD_VEC_INLINE constexpr T log1p_double(T x) {
    using C = traits<T>;
    const T u = T(1) + x;
    const split<T> m = split_log(u);
    // the rounding error of u, relative to u (fdlibm s_log1p.c)
    const T c = select(m.k > T(0), T(1) - (u - x), x - (u - T(1))) / u;
    const T hfsq = T(0.5) * m.f * m.f;
    const T t = log_tail(m.f, hfsq);
    T y = m.k * C::log_ln2_hi - ((hfsq - (t + (m.k * C::log_ln2_lo + c))) - m.f);
    constexpr T inf = std::numeric_limits<T>::infinity();
    y = select(x == inf, inf, y);
    y = select(x == T(-1), -inf, y);
    y = select(x < T(-1), std::numeric_limits<T>::quiet_NaN(), y);
    return select(x != x || x == T(0), x, y);
}

/// log(1 + x). float is computed in double and rounded once (in float, ln2 + log(1 + f) for
/// u = 1 + x just past sqrt(2) loses a bit to cancellation: 2.05 ulp measured): for
/// |x| >= 2^-10, 1 + x is exact in double and its log is the double kernel's; below, the series
/// x - x^2/2 + x^3/3 - x^4/4 (remainder < 2^-42 relative).
template <class T>
CTGRAD_VEC_INLINE constexpr T log1p(T x) {
    if constexpr (std::is_same_v<T, float>) {
        // The selects are on floats (SSE2 vectorises those, not 64-bit ones); 1 + x is a positive
        // normal double wherever its log is selected.
        const double xd = x;
        const double series = xd - xd * xd * (0.5 - xd * (1.0 / 3.0 - xd * 0.25));
        const float y = select(abs(x) < 0x1p-10f, static_cast<float>(series),
                               static_cast<float>(log_core(1.0 + xd)));
        constexpr float inf = std::numeric_limits<float>::infinity();
        const float z = select(x == inf, inf, select(x == -1.0f, -inf, y));
        return select(x < -1.0f, std::numeric_limits<float>::quiet_NaN(), select(x != x, x, z));
    } else {
        return log1p_double(x);
    }
}

/// tanh x.
template <class T>
CTGRAD_VEC_INLINE constexpr T tanh(T x) {
    using C = traits<T>;
    const T a = abs(x);
    const T z = a * a;
    T small;
    if constexpr (std::is_same_v<T, float>) {  // Cephes tanhf.c, |x| < 0.625
        T p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        small = a + a * z * p;
    } else {  // Cephes tanh.c, |x| < 0.625
        const T p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z -
                    1.61468768441708447952e3;
        const T q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z +
                    4.84406305325125486048e3;
        small = a + a * z * (p / q);
    }
    const T big = T(1) - T(2) / (exp(T(2) * select(a < C::tanh_hi, a, C::tanh_hi)) + T(1));
    const T y = with_sign_of(select(a < T(0.625), small, big), x);
    return select(x != x, x, y);
}

/// 1 / (1 + e^-x). float is computed in double and rounded once: in float, the error of e^-|x|
/// (up to 1 ulp of e, which can be 2 ulp of a result at the top of its binade) and the two
/// roundings after it add up to 2.3 ulp.
template <class T>
CTGRAD_VEC_INLINE constexpr T sigmoid(T x) {
    if constexpr (std::is_same_v<T, float>) {
        // e^-|x| in double from an argument clamped in float (float selects only, see log1p)
        const float a = -abs(x);
        const double e = exp_core(static_cast<double>(select(a < -104.0f, -104.0f, a)));
        const double pos = 1.0 / (1.0 + e);
        return select(x >= 0.0f, static_cast<float>(pos), static_cast<float>(e * pos));
    } else {
        const T e = exp(-abs(x));
        return select(x >= T(0), T(1), e) / (T(1) + e);
    }
}

}  // namespace kernel

/// e^x: the branch-free kernel at run time, math::exp in constant evaluation.
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T exp(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::exp(x);
    }
    return math::exp(x);
}

/// e^x - 1 (see exp).
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T expm1(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::expm1(x);
    }
    return math::expm1(x);
}

/// Natural logarithm (see exp).
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T log(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::log(x);
    }
    return math::log(x);
}

/// log(1 + x) (see exp).
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T log1p(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::log1p(x);
    }
    return math::log1p(x);
}

/// tanh x (see exp).
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T tanh(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::tanh(x);
    }
    return math::tanh(x);
}

/// The logistic function 1 / (1 + e^-x) (see exp).
template <std::floating_point T>
CTGRAD_VEC_INLINE constexpr T sigmoid(T x) {
    if constexpr (kernel_type<T>) {
        if (!std::is_constant_evaluated()) return kernel::sigmoid(x);
    }
    return math::sigmoid(x);
}

}  // namespace ctgrad::math::vec
