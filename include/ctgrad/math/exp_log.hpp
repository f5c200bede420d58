/// @file
/// The exp/log family of the constexpr math: exp, expm1, log, log1p.
///
/// Each function is std::'s at run time (bit for bit) and, during constant evaluation, a port
/// of Sun's fdlibm algorithm (e_exp.c, s_expm1.c, e_log.c, s_log1p.c; "Copyright (C) 1993 by
/// Sun Microsystems, Inc. All rights reserved. Developed at SunPro, a Sun Microsystems, Inc.
/// business. Permission to use, copy, modify, and distribute this software is freely granted,
/// provided that this notice is preserved."), computed in double for float and double and in
/// long double for long double. fdlibm bounds these by 1 ulp; measured against the exact value
/// (std:: in long double) over 10^6 random doubles, the largest errors are exp 0.90, expm1
/// 0.81, log 0.89 and log1p 0.82 ulp, and the results are at most 1 ulp from glibc's
/// (test/math/exp_log_test.cpp). float results are double results rounded once more (0.5 ulp
/// measured). long double results keep the range of long double but the accuracy of double.
#pragma once

#include <cmath>        // std::exp, std::expm1, std::log, std::log1p
#include <concepts>     // std::floating_point, std::integral
#include <limits>       // std::numeric_limits
#include <numbers>      // std::numbers::e_v
#include <type_traits>  // std::is_constant_evaluated

#include <ctgrad/math/fp.hpp>

namespace ctgrad::math::detail {

/// 2^k exp(hi - lo) for a reduced argument |hi - lo| <= ~0.35 (fdlibm e_exp.c): with
/// c(r) = r - r^2 (P1 + ... + P5 r^8) (a Remez fit, error < 2^-59),
/// exp(r) = 1 + r + r c / (2 - c), evaluated as 1 - ((lo - r c / (2 - c)) - hi) so that the
/// rounding error of r = hi - lo does not count.
template <class W>
constexpr W exp_reduced(W hi, W lo, int k) {
    constexpr W P1 = W(1.66666666666666019037e-01);
    constexpr W P2 = W(-2.77777777770155933842e-03);
    constexpr W P3 = W(6.61375632143793436117e-05);
    constexpr W P4 = W(-1.65339022054652515390e-06);
    constexpr W P5 = W(4.13813679705723846039e-08);
    const W r = hi - lo;
    const W t = r * r;
    const W c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    const W y = W(1) - ((lo - (r * c) / (W(2) - c)) - hi);
    return scale(y, k);
}

/// 2^extra e^x, rounded once (extra lets sinh and cosh halve without overflowing early).
template <class W>
constexpr W exp_w(W x, int extra = 0) {
    using C = constants<W>;
    if (is_nan(x)) {
        return x;
    }
    // Past these coarse bounds the result is inf or 0 whatever the rounding; between them,
    // scale() decides overflow and underflow exactly.
    const W over = W(std::numeric_limits<W>::max_exponent + 2 - extra) * C::ln2_hi;
    const W under =
        W(std::numeric_limits<W>::min_exponent - std::numeric_limits<W>::digits - 4 - extra) *
        C::ln2_hi;
    if (x > over) {
        return inf_v<W>;
    }
    if (x < under) {
        return W(0);
    }
    const W ax = magnitude(x);
    if (ax < pow2<W>(-((std::numeric_limits<W>::digits + 3) / 2))) {  // 2^-28
        return scale(W(1) + x, extra);
    }
    if (x == W(1) && extra == 0) {
        return std::numbers::e_v<W>;  // fdlibm's one special case: 1 ulp closer than the formula
    }
    int k = 0;
    W hi = x;
    W lo = 0;
    if (ax > C::half_ln2) {
        if (ax < C::three_half_ln2) {
            k = x > W(0) ? 1 : -1;
        } else {
            k = static_cast<int>(C::inv_ln2 * x + (x > W(0) ? W(0.5) : W(-0.5)));
        }
        hi = x - W(k) * C::ln2_hi;  // exact: k ln2_hi has at most 47 significant bits
        lo = W(k) * C::ln2_lo;
    }
    return exp_reduced(hi, lo, k + extra);
}

/// e^(hi + lo) for an argument carried in two parts (|lo| < 1, say): k is chosen for
/// hi + lo, k ln2 is subtracted from hi exactly (two-sum), and the reduced argument is
/// renormalised to a double-double before fdlibm's kernel, so the result is rounded about
/// once. pow uses it for y log x in double-double, erfc for -z^2 - 0.5625 plus its
/// (sizeable) correction.
template <class W>
constexpr W exp_dd(W hi, W lo) {
    using C = constants<W>;
    const W over = W(std::numeric_limits<W>::max_exponent + 2) * C::ln2_hi;
    const W under =
        W(std::numeric_limits<W>::min_exponent - std::numeric_limits<W>::digits - 4) * C::ln2_hi;
    if (hi > over) {
        return inf_v<W>;
    }
    if (hi < under) {
        return W(0);
    }
    const W sum = hi + lo;
    const int k = static_cast<int>(C::inv_ln2 * sum + (sum > W(0) ? W(0.5) : W(-0.5)));
    const dd<W> a = two_sum(hi, -(W(k) * C::ln2_hi));  // k ln2_hi is exact
    const dd<W> r = two_sum(a.hi, (a.lo + lo) - W(k) * C::ln2_lo);
    return exp_reduced(r.hi, -r.lo, k);
}

/// e^x - 1 (fdlibm s_expm1.c): the reduced argument carries a correction term c, and
/// expm1(r) comes from a rational form in r^2 with Remez coefficients (error < 2^-61).
template <class W>
constexpr W expm1_w(W x) {
    using C = constants<W>;
    constexpr int dig = std::numeric_limits<W>::digits;
    constexpr W Q1 = W(-3.33333333333331316428e-02);
    constexpr W Q2 = W(1.58730158725481460165e-03);
    constexpr W Q3 = W(-7.93650757867487942473e-05);
    constexpr W Q4 = W(4.00821782732936239552e-06);
    constexpr W Q5 = W(-2.01099218183624371326e-07);
    if (is_nan(x)) {
        return x;
    }
    if (x > W(std::numeric_limits<W>::max_exponent + 2) * C::ln2_hi) {
        return inf_v<W>;
    }
    if (x < -W(dig + 3) * C::ln2_hi) {
        return W(-1);  // e^x is below half an ulp of 1
    }
    const W ax = magnitude(x);
    int k = 0;
    W c = 0;
    if (ax > C::half_ln2) {
        W hi = 0;
        W lo = 0;
        if (ax < C::three_half_ln2) {
            k = x > W(0) ? 1 : -1;
        } else {
            k = static_cast<int>(C::inv_ln2 * x + (x > W(0) ? W(0.5) : W(-0.5)));
        }
        hi = x - W(k) * C::ln2_hi;
        lo = W(k) * C::ln2_lo;
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (ax < pow2<W>(-dig - 1)) {
        return x;  // also keeps the sign of -0
    }
    const W hfx = W(0.5) * x;
    const W hxs = x * hfx;
    const W r1 = W(1) + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    W t = W(3) - r1 * hfx;
    W e = hxs * ((r1 - t) / (W(6) - x * t));
    if (k == 0) {
        return x - (x * e - hxs);
    }
    e = (x * (e - c) - c);
    e -= hxs;
    if (k == -1) {
        return W(0.5) * (x - e) - W(0.5);
    }
    if (k == 1) {
        if (x < W(-0.25)) {
            return W(-2) * (e - (x + W(0.5)));
        }
        return W(1) + W(2) * (x - e);
    }
    if (k <= -2 || k > dig + 3) {  // 2^k swamps or is swamped by the -1: exp(x) - 1 suffices
        return scale(W(1) - (e - x), k) - W(1);
    }
    if (k < 20) {
        t = W(1) - pow2<W>(-k);
        return (t - (e - x)) * pow2<W>(k);
    }
    t = pow2<W>(-k);
    return ((x - (e + t)) + W(1)) * pow2<W>(k);
}

/// log x (fdlibm e_log.c): x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), then with
/// s = f / (2 + f), log(1 + f) = 2s + s R(s^2), R a Remez fit (error < 2^-58.45).
template <class W>
constexpr W log_w(W x) {
    using C = constants<W>;
    constexpr W Lg1 = W(6.666666666666735130e-01);
    constexpr W Lg2 = W(3.999999999940941908e-01);
    constexpr W Lg3 = W(2.857142874366239149e-01);
    constexpr W Lg4 = W(2.222219843214978396e-01);
    constexpr W Lg5 = W(1.818357216161805012e-01);
    constexpr W Lg6 = W(1.531383769920937332e-01);
    constexpr W Lg7 = W(1.479819860511658591e-01);
    if (is_nan(x)) {
        return x;
    }
    if (x < W(0)) {
        return nan_v<W>;
    }
    if (x == W(0)) {
        return -inf_v<W>;
    }
    if (x == inf_v<W>) {
        return x;
    }
    auto [m, k] = decompose(x);
    // fdlibm reads these thresholds off the top 20 bits of the significand.
    const bool use_hfsq = m >= W(1.3799991607666016) && m < W(1.4200000762939453);
    if (m >= W(1.4142112731933594)) {
        m *= W(0.5);
        ++k;
    }
    const W f = m - W(1);  // exact
    const W dk = W(k);
    if (f >= -pow2<W>(-20) && f < pow2<W>(-20)) {
        if (f == W(0)) {
            if (k == 0) {
                return W(0);
            }
            return dk * C::ln2_hi + dk * C::ln2_lo;
        }
        const W R = f * f * (W(0.5) - W(0.33333333333333333) * f);
        if (k == 0) {
            return f - R;
        }
        return dk * C::ln2_hi - ((R - dk * C::ln2_lo) - f);
    }
    const W s = f / (W(2) + f);
    const W z = s * s;
    const W w = z * z;
    const W t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    const W t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    const W R = t2 + t1;
    if (use_hfsq) {
        const W hfsq = W(0.5) * f * f;
        if (k == 0) {
            return f - (hfsq - s * (hfsq + R));
        }
        return dk * C::ln2_hi - ((hfsq - (s * (hfsq + R) + dk * C::ln2_lo)) - f);
    }
    if (k == 0) {
        return f - s * (f - R);
    }
    return dk * C::ln2_hi - ((s * (f - R) - dk * C::ln2_lo) - f);
}

/// log(1 + x) (fdlibm s_log1p.c): as log, with a correction c = ((1 + x) - u) / u for the
/// rounding of u = 1 + x when x is not already in [sqrt(2)/2 - 1, sqrt(2) - 1).
template <class W>
constexpr W log1p_w(W x) {
    using C = constants<W>;
    constexpr W Lp1 = W(6.666666666666735130e-01);
    constexpr W Lp2 = W(3.999999999940941908e-01);
    constexpr W Lp3 = W(2.857142874366239149e-01);
    constexpr W Lp4 = W(2.222219843214978396e-01);
    constexpr W Lp5 = W(1.818357216161805012e-01);
    constexpr W Lp6 = W(1.531383769920937332e-01);
    constexpr W Lp7 = W(1.479819860511658591e-01);
    constexpr int dig = std::numeric_limits<W>::digits;
    if (is_nan(x)) {
        return x;
    }
    if (x < W(-1)) {
        return nan_v<W>;
    }
    if (x == W(-1)) {
        return -inf_v<W>;
    }
    if (x == inf_v<W>) {
        return x;
    }
    const W ax = magnitude(x);
    int k = 1;
    int hu = 1;
    W f = 0;
    W c = 0;
    if (x < W(0.4142136573791504)) {
        if (ax < pow2<W>(-((dig + 5) / 2))) {  // 2^-29
            if (ax < pow2<W>(-dig - 1)) {
                return x;  // also keeps the sign of -0
            }
            return x - x * x * W(0.5);
        }
        if (x > W(0) || -x < W(0.292893648147583)) {
            k = 0;
            f = x;
        }
    }
    if (k != 0) {
        W u = x;
        if (x < pow2<W>(dig)) {
            u = W(1) + x;
            const int ku = decompose(u).e;
            c = ku > 0 ? W(1) - (u - x) : x - (u - W(1));
            c /= u;
        }
        const auto [mu, ku] = decompose(u);
        k = ku;
        hu = static_cast<int>((mu - W(1)) * W(1048576));  // top 20 bits of the significand
        W un = mu;
        if (hu >= 0x6a09e) {  // u ~> sqrt(2): use u/2
            ++k;
            un = mu * W(0.5);
            hu = (0x00100000 - hu) >> 2;
        }
        f = un - W(1);
    }
    const W hfsq = W(0.5) * f * f;
    const W dk = W(k);
    if (hu == 0) {  // |f| < 2^-20
        if (f == W(0)) {
            if (k == 0) {
                return W(0);
            }
            c += dk * C::ln2_lo;
            return dk * C::ln2_hi + c;
        }
        const W R = hfsq * (W(1) - W(0.66666666666666666) * f);
        if (k == 0) {
            return f - R;
        }
        return dk * C::ln2_hi - ((R - (dk * C::ln2_lo + c)) - f);
    }
    const W s = f / (W(2) + f);
    const W z = s * s;
    const W R = z * (Lp1 + z * (Lp2 + z * (Lp3 + z * (Lp4 + z * (Lp5 + z * (Lp6 + z * Lp7))))));
    if (k == 0) {
        return f - (hfsq - s * (hfsq + R));
    }
    return dk * C::ln2_hi - ((hfsq - (s * (hfsq + R) + (dk * C::ln2_lo + c))) - f);
}

template <std::floating_point T>
constexpr T exp_impl(T x) {
    return narrow<T>(exp_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T expm1_impl(T x) {
    return narrow<T>(expm1_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T log_impl(T x) {
    return static_cast<T>(log_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T log1p_impl(T x) {
    return static_cast<T>(log1p_w(static_cast<working_t<T>>(x)));
}

}  // namespace ctgrad::math::detail

namespace ctgrad::math {

/// e^x. exp(±inf) = inf / 0, exp(NaN) = NaN; overflows to inf past log(max) (709.78 for
/// double), underflows gradually to 0 below -745.13. Constant evaluation: within 1 ulp, and
/// exp(1) is std::numbers::e.
template <std::floating_point T>
constexpr T exp(T x) {
    if (std::is_constant_evaluated()) {
        return detail::exp_impl(x);
    }
    return std::exp(x);
}

/// e^x - 1, accurate near 0 where exp(x) - 1 cancels. expm1(-inf) = -1.
template <std::floating_point T>
constexpr T expm1(T x) {
    if (std::is_constant_evaluated()) {
        return detail::expm1_impl(x);
    }
    return std::expm1(x);
}

/// Natural logarithm. log(0) = -inf, log(x < 0) = NaN, log(inf) = inf.
template <std::floating_point T>
constexpr T log(T x) {
    if (std::is_constant_evaluated()) {
        return detail::log_impl(x);
    }
    return std::log(x);
}

/// log(1 + x), accurate near 0. log1p(-1) = -inf, log1p(x < -1) = NaN.
template <std::floating_point T>
constexpr T log1p(T x) {
    if (std::is_constant_evaluated()) {
        return detail::log1p_impl(x);
    }
    return std::log1p(x);
}

/// Integral arguments are computed as double, as std:: does.
template <std::integral I>
constexpr double exp(I x) {
    return math::exp(static_cast<double>(x));
}

template <std::integral I>
constexpr double expm1(I x) {
    return math::expm1(static_cast<double>(x));
}

template <std::integral I>
constexpr double log(I x) {
    return math::log(static_cast<double>(x));
}

template <std::integral I>
constexpr double log1p(I x) {
    return math::log1p(static_cast<double>(x));
}

}  // namespace ctgrad::math
