/// @file
/// The hyperbolic functions of the constexpr math: tanh, sinh, cosh.
///
/// std:: at run time (bit for bit). During constant evaluation (in double for float and
/// double, in long double for long double, there with the accuracy of double), Sun's fdlibm
/// formulas (s_tanh.c, e_sinh.c, e_cosh.c; "Copyright (C) 1993 by Sun Microsystems, Inc. All
/// rights reserved. Developed at SunPro, a Sun Microsystems, Inc. business. Permission to use,
/// copy, modify, and distribute this software is freely granted, provided that this notice is
/// preserved.") on top of math::detail's expm1 and exp, except tanh below 1, which uses a
/// continued fraction in double-double. Largest errors measured against the exact value over
/// 10^6 random doubles: tanh 0.93 ulp (glibc's: 2.06), sinh 1.72, cosh 1.26
/// (test/math/hyperbolic_test.cpp).
#pragma once

#include <cmath>        // std::tanh, std::sinh, std::cosh
#include <concepts>     // std::floating_point, std::integral
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated

#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/fp.hpp>

namespace ctgrad::math::detail {

/// Past this |x|, tanh x rounds to ±1 and e^-|x| no longer matters next to e^|x|
/// (22 is fdlibm's bound for double).
template <class W>
inline constexpr W hyperbolic_saturation = std::numeric_limits<W>::digits <= 53
                                               ? W(22)
                                               : W(std::numeric_limits<W>::digits + 3) * W(0.35);

/// tanh x on 2^-28 <= x < 1 from Lambert's continued fraction
/// tanh x = x / (1 + x^2 / (3 + x^2 / (5 + ...))), cut after the term 21 (relative error
/// below 2^-66 on [0, 1)). The last two levels and the final quotient are carried in
/// double-double, so the result is rounded about once (fdlibm's -t / (t + 2) with
/// t = expm1(-2x) amplifies the error of t up to about 2 ulp).
template <class W>
constexpr W tanh_below_one(W x) {
    const dd<W> sq = two_prod(x, x);
    W d5 = W(21);
    for (int k = 9; k >= 2; --k) {
        d5 = W(2 * k + 1) + sq.hi / d5;
    }
    const dd<W> d3 = fast_two_sum(W(3), sq.hi / d5);
    const W qh = sq.hi / d3.hi;  // q = x^2 / d3
    const dd<W> pq = two_prod(qh, d3.hi);
    const W ql = (((sq.hi - pq.hi) - pq.lo) + sq.lo - qh * d3.lo) / d3.hi;
    dd<W> den = fast_two_sum(W(1), qh);
    den.lo += ql;
    const W y = x / den.hi;
    const dd<W> py = two_prod(y, den.hi);
    return y + (((x - py.hi) - py.lo) - y * den.lo) / den.hi;
}

/// tanh x: x itself below 2^-28, a continued fraction below 1, 1 - 2 / (t + 2) with
/// t = expm1(2|x|) (fdlibm s_tanh.c) below the saturation bound, exactly ±1 beyond.
template <class W>
constexpr W tanh_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    W z = W(1);
    if (ax < pow2<W>(-((std::numeric_limits<W>::digits + 3) / 2))) {  // 2^-28
        return x;                                                     // also keeps the sign of -0
    }
    if (ax < W(1)) {
        z = tanh_below_one(ax);
    } else if (ax < hyperbolic_saturation<W>) {
        const W t = expm1_w(W(2) * ax);
        z = W(1) - W(2) / (t + W(2));
    }
    return x < W(0) ? -z : z;
}

/// sinh x = (E + E / (E + 1)) / 2 with E = expm1|x| (2E - E^2 / (E + 1) below 1), e^|x| / 2
/// rounded once past the saturation bound (finite up to about 710.48 in double).
template <class W>
constexpr W sinh_w(W x) {
    if (is_nan(x) || magnitude(x) == inf_v<W>) {
        return x;
    }
    const W ax = magnitude(x);
    const W h = x < W(0) ? W(-0.5) : W(0.5);
    if (ax < hyperbolic_saturation<W>) {
        if (ax < pow2<W>(-((std::numeric_limits<W>::digits + 3) / 2))) {  // 2^-28
            return x;
        }
        const W t = expm1_w(ax);
        if (ax < W(1)) {
            return h * (W(2) * t - t * t / (t + W(1)));
        }
        return h * (t + t / (t + W(1)));
    }
    const W y = exp_w(ax, -1);
    return x < W(0) ? -y : y;
}

/// cosh x = 1 + expm1(|x|)^2 / (2 e^|x|) below ln2/2, (e^|x| + e^-|x|) / 2 below the
/// saturation bound, e^|x| / 2 rounded once beyond.
template <class W>
constexpr W cosh_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    if (ax == inf_v<W>) {
        return ax;
    }
    if (ax < constants<W>::half_ln2) {
        const W t = expm1_w(ax);
        const W w = W(1) + t;
        if (ax < pow2<W>(-55)) {
            return w;
        }
        return W(1) + (t * t) / (w + w);
    }
    if (ax < hyperbolic_saturation<W>) {
        const W t = exp_w(ax);
        return W(0.5) * t + W(0.5) / t;
    }
    return exp_w(ax, -1);
}

template <std::floating_point T>
constexpr T tanh_impl(T x) {
    return static_cast<T>(tanh_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T sinh_impl(T x) {
    return narrow<T>(sinh_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T cosh_impl(T x) {
    return narrow<T>(cosh_w(static_cast<working_t<T>>(x)));
}

}  // namespace ctgrad::math::detail

namespace ctgrad::math {

/// Hyperbolic tangent. Exactly ±1 from |x| = 22 on (double), tanh(±inf) = ±1, tanh(-0) = -0.
template <std::floating_point T>
constexpr T tanh(T x) {
    if (std::is_constant_evaluated()) {
        return detail::tanh_impl(x);
    }
    return std::tanh(x);
}

/// Hyperbolic sine; overflows to ±inf past about ±710.48 (double).
template <std::floating_point T>
constexpr T sinh(T x) {
    if (std::is_constant_evaluated()) {
        return detail::sinh_impl(x);
    }
    return std::sinh(x);
}

/// Hyperbolic cosine; overflows to inf past about ±710.48 (double).
template <std::floating_point T>
constexpr T cosh(T x) {
    if (std::is_constant_evaluated()) {
        return detail::cosh_impl(x);
    }
    return std::cosh(x);
}

template <std::integral I>
constexpr double tanh(I x) {
    return math::tanh(static_cast<double>(x));
}

template <std::integral I>
constexpr double sinh(I x) {
    return math::sinh(static_cast<double>(x));
}

template <std::integral I>
constexpr double cosh(I x) {
    return math::cosh(static_cast<double>(x));
}

}  // namespace ctgrad::math
