/// @file
/// The power family of the constexpr math: sqrt, cbrt, pow.
///
/// std:: at run time (bit for bit); during constant evaluation, computed in double for float
/// and double (long double in long double, accurate to a few ulp of double):
/// - sqrt is correctly rounded (Newton's iteration, then an exact test of the neighbours);
///   float and double therefore agree with std::sqrt bit for bit in both modes;
/// - cbrt is Newton's iteration with a last step in double-double (0.50 ulp measured; glibc's
///   cbrt is up to 3 ulp off);
/// - pow(x, y) is exp(y log x) with log x (relative error about 2^-64) and the product in
///   double-double, then fdlibm's exp kernel: 0.86 ulp measured, and integral powers whose
///   result is representable (pow(2.0, 10.0), pow(3.0, 33.0), pow(2.0, -1074.0)) come out
///   exact.
/// Measured against the exact value (std:: in long double) over 10^6 random points;
/// test/math/power_test.cpp checks them.
#pragma once

#include <cmath>        // std::sqrt, std::cbrt, std::pow
#include <concepts>     // std::floating_point, std::integral
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated, std::is_arithmetic_v

#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/fp.hpp>

namespace ctgrad::math::detail {

/// Correctly rounded sqrt x. On m in [1, 4) (x = m 4^q), Newton's iteration from a linear
/// guess comes within an ulp; then y moves to a neighbour while m lies beyond the midpoint
/// (y + y_up)/2 or (y + y_down)/2. Tuckerman's test decides that exactly: m is on the far
/// side of the upper midpoint iff m > y * y_up (both sides are multiples of ulp^2/2, the
/// midpoint square is y * y_up + ulp^2/4), and y * y_up is exact as a double-double.
template <class W>
constexpr W sqrt_w(W x) {
    if (is_nan(x) || x == W(0) || x == inf_v<W>) {
        return x;  // sqrt(-0) = -0
    }
    if (x < W(0)) {
        return nan_v<W>;
    }
    auto [m, e] = decompose(x);
    if (e % 2 != 0) {
        m *= W(2);
        --e;
    }
    W y = W(0.59) + W(0.42) * m;  // within 15% on [1, 4), from above
    for (int i = 0; i < 6; ++i) {
        y = W(0.5) * (y + m / y);
    }
    constexpr W eps = std::numeric_limits<W>::epsilon();
    for (int i = 0; i < 2; ++i) {
        const W up = y + (y >= W(2) ? W(2) * eps : eps);
        const dd<W> p = two_prod(y, up);
        if (m - p.hi > p.lo) {  // m - p.hi is exact (Sterbenz)
            y = up;
            continue;
        }
        const W down = y - (y > W(1) ? eps : eps / W(2));
        const dd<W> q = two_prod(y, down);
        if (m - q.hi <= q.lo) {
            y = down;
            continue;
        }
        break;
    }
    return scale(y, e / 2);
}

/// Cube root: x = m 8^q with m in [1, 8), Newton's iteration, then one Newton step with the
/// residual y^3 - m computed in double-double.
template <class W>
constexpr W cbrt_w(W x) {
    if (is_nan(x) || x == W(0) || magnitude(x) == inf_v<W>) {
        return x;
    }
    auto [m, e] = decompose(magnitude(x));
    const int r = ((e % 3) + 3) % 3;
    const int q = (e - r) / 3;
    m *= W(1 << r);
    W y = W(1) + (m - W(1)) / W(7);
    for (int i = 0; i < 6; ++i) {
        y = (W(2) * y + m / (y * y)) / W(3);
    }
    const dd<W> y3 = dd_mul(two_prod(y, y), dd<W>{y, W(0)});
    const W residual = (y3.hi - m) + y3.lo;
    y -= residual / (W(3) * y * y);
    const W result = scale(y, q);
    return x < W(0) ? -result : result;
}

/// 2/3 as a double-double.
template <class W>
constexpr dd<W> two_thirds() {
    const W hi = W(2) / W(3);
    const dd<W> p = two_prod(W(3), hi);
    return {hi, ((W(2) - p.hi) - p.lo) / W(3)};
}

/// log x in double-double, relative error about 2^-64, for finite x > 0. With
/// x = 2^e (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)] and s = f / (2 + f) (|s| <= 0.1716):
/// log(1 + f) = 2 atanh s = 2s + s^3 (2/3 + 2/5 s^2 + ... + 2/25 s^22) + O(s^27), with the
/// leading terms in double-double and the tail (relative weight < 2^-12) in double.
template <class W>
constexpr dd<W> log_dd(W x) {
    using C = constants<W>;
    auto [m, e] = decompose(x);
    if (m > W(1.4142135623730951)) {
        m *= W(0.5);
        ++e;
    }
    const W f = m - W(1);  // exact
    const dd<W> d = fast_two_sum(W(2), f);
    const W sh = f / d.hi;
    const dd<W> p = two_prod(sh, d.hi);
    const W sl = (((f - p.hi) - p.lo) - sh * d.lo) / d.hi;
    const dd<W> s{sh, sl};
    const dd<W> s2 = dd_mul(s, s);
    const dd<W> s3 = dd_mul(s2, s);
    const W z = s2.hi;
    W tail = W(2) / W(25);
    for (int n = 11; n >= 2; --n) {
        tail = W(2) / W(2 * n + 1) + z * tail;
    }
    const dd<W> coefficient = dd_add(two_thirds<W>(), dd<W>{z * tail, W(0)});
    const dd<W> log1p_f = dd_add(dd<W>{W(2) * sh, W(2) * sl}, dd_mul(s3, coefficient));
    const W de = W(e);
    return dd_add(dd<W>{de * C::ln2_hi, de * C::ln2_lo}, log1p_f);  // de * ln2_hi is exact
}

/// x^y with the special cases of std::pow (C Annex F): pow(x, ±0) = 1 and pow(1, y) = 1
/// even for NaN, pow(-1, ±inf) = 1, pow(±0, y < 0) = inf (-inf for odd y and -0),
/// pow(x < 0, non-integer y) = NaN; otherwise |x|^y = exp(y log|x|) with a double-double
/// exponent, negated for x < 0 and odd y.
template <class W>
constexpr W pow_w(W x, W y) {
    using C = constants<W>;
    if (y == W(0) || x == W(1)) {
        return W(1);
    }
    if (is_nan(x) || is_nan(y)) {
        return nan_v<W>;
    }
    const W ax = magnitude(x);
    const W ay = magnitude(y);
    if (ay == inf_v<W>) {
        if (ax == W(1)) {
            return W(1);
        }
        return (ax > W(1)) == (y > W(0)) ? inf_v<W> : W(0);
    }
    const bool odd = is_odd_integer(y);
    if (x == W(0)) {
        const bool negative = odd && sign_bit(x);
        if (y < W(0)) {
            return negative ? -inf_v<W> : inf_v<W>;
        }
        return negative ? -W(0) : W(0);
    }
    if (ax == inf_v<W>) {
        const bool negative = odd && x < W(0);
        if (y < W(0)) {
            return negative ? -W(0) : W(0);
        }
        return negative ? -inf_v<W> : inf_v<W>;
    }
    if (x < W(0) && !is_integer(y)) {
        return nan_v<W>;
    }
    const W sign = (x < W(0) && odd) ? W(-1) : W(1);
    if (ax == W(1)) {
        return sign;  // (-1)^y for integral y (log 1 = 0 would not bound y below)
    }
    const dd<W> L = log_dd(ax);
    // |y log x| beyond every finite double: the result is 0 or inf. Below that, exp_dd sorts
    // out overflow and underflow, and the two_prod split of y cannot overflow (|log x| is at
    // least about 2^-53 and |y log x| at most about 2^14).
    const W aL = magnitude(L.hi);
    if (aL > W(1) && ay > std::numeric_limits<W>::max() / aL) {
        return sign * ((y > W(0)) == (L.hi > W(0)) ? inf_v<W> : W(0));
    }
    const W bound = W(4) * W(std::numeric_limits<W>::max_exponent) * C::ln2_hi;
    const W ph = y * L.hi;
    if (ph > bound || ph < -bound) {
        return sign * (ph > W(0) ? inf_v<W> : W(0));
    }
    dd<W> P = two_prod(y, L.hi);
    P.lo += y * L.lo;
    return sign * exp_dd(P.hi, P.lo);
}

template <std::floating_point T>
constexpr T sqrt_impl(T x) {
    return static_cast<T>(sqrt_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T cbrt_impl(T x) {
    return static_cast<T>(cbrt_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T pow_impl(T x, T y) {
    return narrow<T>(pow_w(static_cast<working_t<T>>(x), static_cast<working_t<T>>(y)));
}

/// The type std::pow computes mixed arguments in: long double if either is, otherwise double
/// if either is double or integral, otherwise float.
template <class A, class B>
using promoted_t = std::conditional_t<
    std::is_same_v<A, long double> || std::is_same_v<B, long double>, long double,
    std::conditional_t<std::is_same_v<A, float> && std::is_same_v<B, float>, float, double>>;

}  // namespace ctgrad::math::detail

namespace ctgrad::math {

/// Square root, correctly rounded in both modes. sqrt(-0) = -0, sqrt(x < 0) = NaN.
template <std::floating_point T>
constexpr T sqrt(T x) {
    if (std::is_constant_evaluated()) {
        return detail::sqrt_impl(x);
    }
    return std::sqrt(x);
}

/// Cube root, defined for negative x: cbrt(-8) = -2.
template <std::floating_point T>
constexpr T cbrt(T x) {
    if (std::is_constant_evaluated()) {
        return detail::cbrt_impl(x);
    }
    return std::cbrt(x);
}

/// x^y with std::pow's special cases: pow(x, 0) = 1, pow(0, y < 0) = inf,
/// pow(x < 0, non-integer y) = NaN, overflow to inf and underflow to 0.
template <std::floating_point T>
constexpr T pow(T x, T y) {
    if (std::is_constant_evaluated()) {
        return detail::pow_impl(x, y);
    }
    return std::pow(x, y);
}

template <std::integral I>
constexpr double sqrt(I x) {
    return math::sqrt(static_cast<double>(x));
}

template <std::integral I>
constexpr double cbrt(I x) {
    return math::cbrt(static_cast<double>(x));
}

/// Mixed or integral arguments, promoted as std::pow promotes them: pow(2.0f, 3) and
/// pow(2, 3) are double, pow(2.0L, 3) is long double.
template <class A, class B>
    requires std::is_arithmetic_v<A> && std::is_arithmetic_v<B> &&
        (!std::is_same_v<A, B> || std::integral<A>)constexpr detail::promoted_t<A, B> pow(A x,
                                                                                          B y) {
        using R = detail::promoted_t<A, B>;
        return math::pow(static_cast<R>(x), static_cast<R>(y));
    }

}  // namespace ctgrad::math
