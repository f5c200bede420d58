/// @file
/// dual<S, N>: a number that carries N tangents (directional derivatives) along with its value,
/// and the overloads of every ctgrad::math function for it. Run through the fused sweep of
/// ad/sweep.hpp in place of a plain number, it turns the forward sweep into forward mode (jvp)
/// and the reverse sweep into forward-over-reverse (hvp, hessian): the ops' `value` and
/// `partial` are the same code for both. Everything is constexpr: the value goes through the
/// same ctgrad::math function as a plain number (std:: at run time, the constexpr
/// implementation in constant evaluation), so a dual's value is bit for bit the plain number's.
///
/// Comparisons look at the value only, so the ops' branches (relu, abs, max, min, pow's
/// special cases) take the same side as for a plain number, and a constant branch result (the
/// `T(1)` of relu's partial) has zero tangents: the derivative conventions of the ops carry
/// over (relu'(0) = 0, abs'(0) = 0, ties in max/min to the first argument).
///
/// A zero tangent stays zero through a function whose derivative is infinite or NaN there
/// (sqrt at 0, log at 0, pow's log term for a negative base): a direction along which the
/// argument does not move contributes nothing, instead of 0 * inf = NaN.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <numbers>      // std::numbers::inv_sqrtpi_v
#include <type_traits>  // std::integral_constant, std::is_arithmetic_v, std::is_floating_point_v
#include <utility>      // std::index_sequence

#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/math/activation.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/hyperbolic.hpp>
#include <ctgrad/math/power.hpp>
#include <ctgrad/math/special.hpp>
#include <ctgrad/math/trig.hpp>

namespace ctgrad::math {

namespace detail {

/// f(i) for i = 0 .. N-1 as a fold over constant indices, not a loop: every tangent is a scalar
/// the compiler can keep in a register (GCC at -O2 keeps a loop over a member array in memory).
template <std::size_t N, class F>
constexpr void unrolled(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<N>{});
}

}  // namespace detail

/// A value and N tangents: v + Σ t[i] ε_i with ε_i ε_j = 0. S is a floating-point type.
template <class S, std::size_t N>
struct dual {
    static_assert(std::is_floating_point_v<S>, "ctgrad::math::dual<S, N>: S must be a float type");
    using value_type = S;
    static constexpr std::size_t size = N;

    S v{};
    std::array<S, N> t{};

    constexpr dual() = default;

    /// A constant: the number u with zero tangents.
    template <class U>
        requires std::is_arithmetic_v<U>
    constexpr explicit dual(U u) : v(static_cast<S>(u)) {}

    constexpr dual operator-() const {
        dual r(-v);
        detail::unrolled<N>([&](auto i) { r.t[i] = -t[i]; });
        return r;
    }

    constexpr dual& operator+=(const dual& b) {
        v += b.v;
        detail::unrolled<N>([&](auto i) { t[i] += b.t[i]; });
        return *this;
    }

    friend constexpr dual operator+(const dual& a, const dual& b) {
        dual r(a.v + b.v);
        detail::unrolled<N>([&](auto i) { r.t[i] = a.t[i] + b.t[i]; });
        return r;
    }

    friend constexpr dual operator-(const dual& a, const dual& b) {
        dual r(a.v - b.v);
        detail::unrolled<N>([&](auto i) { r.t[i] = a.t[i] - b.t[i]; });
        return r;
    }

    friend constexpr dual operator*(const dual& a, const dual& b) {
        dual r(a.v * b.v);
        detail::unrolled<N>([&](auto i) { r.t[i] = a.t[i] * b.v + a.v * b.t[i]; });
        return r;
    }

    /// The quotient's value is ctgrad::detail::divide(a.v, b.v), so IEEE results for b = 0 also
    /// in constant evaluation; the tangents are (a' - q b') / b.
    friend constexpr dual operator/(const dual& a, const dual& b) {
        const S q = ::ctgrad::detail::divide(a.v, b.v);
        const S r = ::ctgrad::detail::divide(S(1), b.v);
        const S qr = q * r;
        dual out(q);
        detail::unrolled<N>([&](auto i) {
            out.t[i] = (a.t[i] == S(0) ? S(0) : a.t[i] * r) - (b.t[i] == S(0) ? S(0) : qr * b.t[i]);
        });
        return out;
    }

    friend constexpr bool operator==(const dual& a, const dual& b) { return a.v == b.v; }
    friend constexpr bool operator<(const dual& a, const dual& b) { return a.v < b.v; }
    friend constexpr bool operator<=(const dual& a, const dual& b) { return a.v <= b.v; }
    friend constexpr bool operator>(const dual& a, const dual& b) { return a.v > b.v; }
    friend constexpr bool operator>=(const dual& a, const dual& b) { return a.v >= b.v; }
};

template <class T>
struct is_dual : std::false_type {};

template <class S, std::size_t N>
struct is_dual<dual<S, N>> : std::true_type {};

template <class T>
inline constexpr bool is_dual_v = is_dual<T>::value;

/// The plain number type under T: S for dual<S, N>, T otherwise.
template <class T>
struct value_type_of {
    using type = T;
};

template <class S, std::size_t N>
struct value_type_of<dual<S, N>> {
    using type = S;
};

template <class T>
using value_type_of_t = typename value_type_of<T>::type;

namespace detail {

/// The dual y + dy * x's tangents (the chain rule for y = f(x), dy = f'(x)); a zero tangent
/// stays zero whatever dy is.
template <class S, std::size_t N>
constexpr dual<S, N> chain(S y, S dy, const dual<S, N>& x) {
    dual<S, N> r(y);
    detail::unrolled<N>([&](auto i) { r.t[i] = x.t[i] == S(0) ? S(0) : dy * x.t[i]; });
    return r;
}

template <class S, std::size_t N>
constexpr bool moves(const dual<S, N>& x) {
    bool m = false;
    unrolled<N>([&](auto i) { m = m || x.t[i] != S(0); });
    return m;
}

}  // namespace detail

template <class S, std::size_t N>
constexpr dual<S, N> exp(const dual<S, N>& x) {
    const S y = math::exp(x.v);
    return detail::chain(y, y, x);
}

template <class S, std::size_t N>
constexpr dual<S, N> expm1(const dual<S, N>& x) {
    const S y = math::expm1(x.v);
    return detail::chain(y, y + S(1), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> log(const dual<S, N>& x) {
    return detail::chain(math::log(x.v), ::ctgrad::detail::divide(S(1), x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> log1p(const dual<S, N>& x) {
    return detail::chain(math::log1p(x.v), ::ctgrad::detail::divide(S(1), S(1) + x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> sqrt(const dual<S, N>& x) {
    const S y = math::sqrt(x.v);
    return detail::chain(y, ::ctgrad::detail::divide(S(0.5), y), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> cbrt(const dual<S, N>& x) {
    const S y = math::cbrt(x.v);
    return detail::chain(y, ::ctgrad::detail::divide(S(1), S(3) * y * y), x);
}

/// a^b with the conventions of ops::pow_op for its derivatives: d/da = b a^(b-1), 0 where
/// b = 0; d/db = a^b log a, 0 where a = 0 and b > 0. A term whose argument does not move is not
/// computed (pow(x, 3.0) never takes the log of x).
template <class S, std::size_t N>
constexpr dual<S, N> pow(const dual<S, N>& a, const dual<S, N>& b) {
    const S y = math::pow(a.v, b.v);
    dual<S, N> r(y);
    if (detail::moves(a)) {
        const S pa = b.v == S(0) ? S(0) : b.v * math::pow(a.v, b.v - S(1));
        r = detail::chain(y, pa, a);
    }
    if (detail::moves(b)) {
        const S pb = (a.v == S(0) && b.v > S(0)) ? S(0) : y * math::log(a.v);
        r += detail::chain(S(0), pb, b);
    }
    return r;
}

template <class S, std::size_t N>
constexpr dual<S, N> sin(const dual<S, N>& x) {
    return detail::chain(math::sin(x.v), math::cos(x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> cos(const dual<S, N>& x) {
    return detail::chain(math::cos(x.v), -math::sin(x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> tanh(const dual<S, N>& x) {
    const S y = math::tanh(x.v);
    return detail::chain(y, S(1) - y * y, x);
}

template <class S, std::size_t N>
constexpr dual<S, N> sinh(const dual<S, N>& x) {
    return detail::chain(math::sinh(x.v), math::cosh(x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> cosh(const dual<S, N>& x) {
    return detail::chain(math::cosh(x.v), math::sinh(x.v), x);
}

template <class S, std::size_t N>
constexpr dual<S, N> erf(const dual<S, N>& x) {
    const S dy = S(2) * std::numbers::inv_sqrtpi_v<S> * math::exp(-(x.v * x.v));
    return detail::chain(math::erf(x.v), dy, x);
}

template <class S, std::size_t N>
constexpr dual<S, N> erfc(const dual<S, N>& x) {
    const S dy = -(S(2) * std::numbers::inv_sqrtpi_v<S> * math::exp(-(x.v * x.v)));
    return detail::chain(math::erfc(x.v), dy, x);
}

template <class S, std::size_t N>
constexpr dual<S, N> sigmoid(const dual<S, N>& x) {
    const S y = math::sigmoid(x.v);
    return detail::chain(y, y * (S(1) - y), x);
}

}  // namespace ctgrad::math

namespace ctgrad::detail {

/// a / b for duals (found by the ops' qualified calls of ctgrad::detail::divide).
template <class S, std::size_t N>
constexpr math::dual<S, N> divide(const math::dual<S, N>& a, const math::dual<S, N>& b) {
    return a / b;
}

}  // namespace ctgrad::detail
