/// @file
/// The special functions of the constexpr math: erf, erfc.
///
/// std:: at run time (bit for bit). During constant evaluation (in double for float and
/// double, in long double for long double, there accurate to a few ulp of double), Sun's
/// fdlibm s_erf.c ("Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
/// Developed at SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify,
/// and distribute this software is freely granted, provided that this notice is
/// preserved."): rational approximations on [0, 0.84375), [0.84375, 1.25), and for larger
/// |x| erfc x = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x, which keeps erfc accurate in the
/// tail (relative error of a few ulp down to the underflow near x = 27.2). Two departures from
/// fdlibm save about 1 ulp each: the tail takes one exp of a double-double argument instead
/// of a product of two exps, and erfc on [0.25, 0.84375) sums in double-double. Largest
/// errors measured against the exact value over 10^6 random doubles: erf 1.00 ulp, erfc 2.4
/// ulp (glibc's: 1.15 and 3.55); test/math/special_test.cpp checks them.
#pragma once

#include <cmath>        // std::erf, std::erfc
#include <concepts>     // std::floating_point, std::integral
#include <limits>       // std::numeric_limits
#include <type_traits>  // std::is_constant_evaluated

#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/fp.hpp>

namespace ctgrad::math::detail {

/// erf x - x on [0, 0.84375) as x R(x^2) = x P(x^2) / Q(x^2).
template <class W>
constexpr W erf_small_ratio(W z) {
    constexpr W pp0 = W(1.28379167095512558561e-01);
    constexpr W pp1 = W(-3.25042107247001499370e-01);
    constexpr W pp2 = W(-2.84817495755985104766e-02);
    constexpr W pp3 = W(-5.77027029648944159157e-03);
    constexpr W pp4 = W(-2.37630166566501626084e-05);
    constexpr W qq1 = W(3.97917223959155352819e-01);
    constexpr W qq2 = W(6.50222499887672944485e-02);
    constexpr W qq3 = W(5.08130628187576562776e-03);
    constexpr W qq4 = W(1.32494738004321644526e-04);
    constexpr W qq5 = W(-3.96022827877536812320e-06);
    const W r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    const W s = W(1) + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    return r / s;
}

/// erf(1 + s) - erx on [0.84375, 1.25) as P(s) / Q(s).
template <class W>
constexpr W erf_near_one(W s) {
    constexpr W pa0 = W(-2.36211856075265944077e-03);
    constexpr W pa1 = W(4.14856118683748331666e-01);
    constexpr W pa2 = W(-3.72207876035701323847e-01);
    constexpr W pa3 = W(3.18346619901161753674e-01);
    constexpr W pa4 = W(-1.10894694282396677476e-01);
    constexpr W pa5 = W(3.54783043256182359371e-02);
    constexpr W pa6 = W(-2.16637559486879084300e-03);
    constexpr W qa1 = W(1.06420880400844228286e-01);
    constexpr W qa2 = W(5.40397917702171048937e-01);
    constexpr W qa3 = W(7.18286544141962662868e-02);
    constexpr W qa4 = W(1.26171219808761642112e-01);
    constexpr W qa5 = W(1.36370839120290507362e-02);
    constexpr W qa6 = W(1.19844998467991074170e-02);
    const W P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
    const W Q = W(1) + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
    return P / Q;
}

/// erx = erf(1) rounded to 24 bits.
template <class W>
inline constexpr W erf_one = W(8.45062911510467529297e-01);

/// erfc x for 1.25 <= x < 28 (107 in long double): exp(-x^2 - 0.5625 + R/S) / x with R/S in s = 1/x^2, one fit
/// below 1/0.35 and one above. -x^2 = -z^2 + (z - x)(z + x) with z = x cut to 21 bits, so
/// that -z^2 - 0.5625 is exact, and exp_dd exponentiates it with the small rest in one
/// rounding (fdlibm multiplies two exps instead: about 1 ulp more).
template <class W>
constexpr W erfc_tail(W x, bool below_one_over_035) {
    constexpr W ra0 = W(-9.86494403484714822705e-03);
    constexpr W ra1 = W(-6.93858572707181764372e-01);
    constexpr W ra2 = W(-1.05586262253232909814e+01);
    constexpr W ra3 = W(-6.23753324503260060396e+01);
    constexpr W ra4 = W(-1.62396669462573470355e+02);
    constexpr W ra5 = W(-1.84605092906711035994e+02);
    constexpr W ra6 = W(-8.12874355063065934246e+01);
    constexpr W ra7 = W(-9.81432934416914548592e+00);
    constexpr W sa1 = W(1.96512716674392571292e+01);
    constexpr W sa2 = W(1.37657754143519042600e+02);
    constexpr W sa3 = W(4.34565877475229228821e+02);
    constexpr W sa4 = W(6.45387271733267880336e+02);
    constexpr W sa5 = W(4.29008140027567833386e+02);
    constexpr W sa6 = W(1.08635005541779435134e+02);
    constexpr W sa7 = W(6.57024977031928170135e+00);
    constexpr W sa8 = W(-6.04244152148580987438e-02);
    constexpr W rb0 = W(-9.86494292470009928597e-03);
    constexpr W rb1 = W(-7.99283237680523006574e-01);
    constexpr W rb2 = W(-1.77579549177547519889e+01);
    constexpr W rb3 = W(-1.60636384855821916062e+02);
    constexpr W rb4 = W(-6.37566443368389627722e+02);
    constexpr W rb5 = W(-1.02509513161107724954e+03);
    constexpr W rb6 = W(-4.83519191608651397019e+02);
    constexpr W sb1 = W(3.03380607434824582924e+01);
    constexpr W sb2 = W(3.25792512996573918826e+02);
    constexpr W sb3 = W(1.53672958608443695994e+03);
    constexpr W sb4 = W(3.19985821950859553908e+03);
    constexpr W sb5 = W(2.55305040643316442583e+03);
    constexpr W sb6 = W(4.74528541206955367215e+02);
    constexpr W sb7 = W(-2.24409524465858183362e+01);
    const W s = W(1) / (x * x);
    W R = 0;
    W S = 0;
    if (below_one_over_035) {
        R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
        const W sa78 = sa7 + s * sa8;
        S = W(1) + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * sa78))))));
    } else {
        R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
        S = W(1) + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
    }
    // Veltkamp split keeping 21 significant bits (fdlibm clears the low word instead).
    constexpr W cut = pow2<W>(std::numeric_limits<W>::digits - 21) + W(1);
    const W c = cut * x;
    const W z = c - (c - x);
    return exp_dd(-z * z - W(0.5625), (z - x) * (z + x) + R / S) / x;
}

template <class W>
constexpr W erf_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    if (ax < W(0.84375)) {
        if (ax < pow2<W>(-((std::numeric_limits<W>::digits + 3) / 2))) {  // 2^-28
            constexpr W efx = W(1.28379167095512586316e-01);              // 2/sqrt(pi) - 1
            if (ax < pow2<W>(-1015)) {
                return W(0.125) * (W(8) * x + W(8) * efx * x);  // avoids underflow in efx * x
            }
            return x + efx * x;
        }
        return x + x * erf_small_ratio(x * x);
    }
    if (ax < W(1.25)) {
        const W q = erf_near_one(ax - W(1));
        return x >= W(0) ? erf_one<W> + q : -erf_one<W> - q;
    }
    if (ax >= W(6)) {
        return x >= W(0) ? W(1) : W(-1);
    }
    const W r = erfc_tail(ax, ax < W(2.8571434020996094));
    return x >= W(0) ? W(1) - r : r - W(1);
}

template <class W>
constexpr W erfc_w(W x) {
    if (is_nan(x)) {
        return x;
    }
    const W ax = magnitude(x);
    if (ax < W(0.84375)) {
        if (ax < pow2<W>(-56)) {
            return W(1) - x;
        }
        const W y = erf_small_ratio(x * x);
        if (x < W(0.25)) {
            return W(1) - (x + x * y);
        }
        // fdlibm's 0.5 - (x y + (x - 0.5)), with the sums and the product kept exact
        // (double-double): erfc is as small as 0.23 here, and two roundings of 0.27 cost
        // about 1 ulp of it.
        const dd<W> p = two_prod(x, y);
        const dd<W> s = two_sum(x - W(0.5), p.hi);  // x - 0.5 is exact
        const dd<W> q = two_sum(W(0.5), -s.hi);
        return q.hi + (q.lo - (s.lo + p.lo));
    }
    if (ax < W(1.25)) {
        const W q = erf_near_one(ax - W(1));
        if (x >= W(0)) {
            return (W(1) - erf_one<W>)-q;
        }
        return W(1) + (erf_one<W> + q);
    }
    // erfc x underflows past 27.2 in double (fdlibm stops at 28), past 106.8 in long double;
    // the tail fit stays accurate out there (0.05 ulp of double, measured).
    constexpr W cutoff = std::numeric_limits<W>::max_exponent > 1024 ? W(107) : W(28);
    if (ax < cutoff) {
        const bool below = ax < W(2.8571414947509766);
        if (!below && x < W(0) && ax >= W(6)) {
            return W(2);
        }
        const W r = erfc_tail(ax, below);
        return x > W(0) ? r : W(2) - r;
    }
    return x > W(0) ? W(0) : W(2);
}

template <std::floating_point T>
constexpr T erf_impl(T x) {
    return static_cast<T>(erf_w(static_cast<working_t<T>>(x)));
}

template <std::floating_point T>
constexpr T erfc_impl(T x) {
    return static_cast<T>(erfc_w(static_cast<working_t<T>>(x)));
}

}  // namespace ctgrad::math::detail

namespace ctgrad::math {

/// The error function 2/sqrt(pi) int_0^x e^(-t^2) dt. erf(±inf) = ±1, exactly ±1 from
/// |x| = 6 on (double), erf(-0) = -0.
template <std::floating_point T>
constexpr T erf(T x) {
    if (std::is_constant_evaluated()) {
        return detail::erf_impl(x);
    }
    return std::erf(x);
}

/// The complementary error function 1 - erf x, accurate in the tail where erf x rounds to 1:
/// erfc(5) = 1.5375e-12 to a few ulp; erfc underflows to 0 near x = 27.2 (double) and is
/// exactly 2 from x = -6 down.
template <std::floating_point T>
constexpr T erfc(T x) {
    if (std::is_constant_evaluated()) {
        return detail::erfc_impl(x);
    }
    return std::erfc(x);
}

template <std::integral I>
constexpr double erf(I x) {
    return math::erf(static_cast<double>(x));
}

template <std::integral I>
constexpr double erfc(I x) {
    return math::erfc(static_cast<double>(x));
}

}  // namespace ctgrad::math
