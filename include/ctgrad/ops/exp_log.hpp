/// @file
/// The exp/log family: exp, log, log1p.
#pragma once

#include <concepts>     // std::floating_point
#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad::ops {

/// e^x.  Domain: all reals; overflows to +inf past ~709.78 (double), underflows to 0.
/// d/dx e^x = e^x: the partial is the output itself.
struct exp_op {
    static constexpr std::string_view name = "exp";
    static constexpr auto value(auto x) { return math::exp(x); }
    /// In the tensor engine's loops: the branch-free kernel (math/vector.hpp).
    [[gnu::always_inline]] static constexpr auto loop_value(std::floating_point auto x) {
        return math::vec::exp(x);
    }
    static constexpr auto partial(arg_t<0>, auto, auto y) { return y; }
    static constexpr auto derivative(arg_t<0>, const auto& self, const auto&) { return self; }
};

/// Natural logarithm.  Domain: x > 0; log(0) = -inf, log(x < 0) = NaN, as std::log.
/// d/dx log x = 1/x (+inf at 0).
struct log_op {
    static constexpr std::string_view name = "log";
    static constexpr auto value(auto x) { return math::log(x); }
    [[gnu::always_inline]] static constexpr auto loop_value(std::floating_point auto x) {
        return math::vec::log(x);
    }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        return detail::divide(decltype(x)(1), x);
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) { return lit<1> / x; }
};

/// log(1 + x), accurate for small |x|.  Domain: x > -1; log1p(-1) = -inf.
/// d/dx = 1/(1 + x).
struct log1p_op {
    static constexpr std::string_view name = "log1p";
    static constexpr auto value(auto x) { return math::log1p(x); }
    [[gnu::always_inline]] static constexpr auto loop_value(std::floating_point auto x) {
        return math::vec::log1p(x);
    }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        return detail::divide(decltype(x)(1), decltype(x)(1) + x);
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return lit<1> / (lit<1> + x);
    }
};

/// a·log b, with the value 0 wherever a = 0 (also at b = 0, where the product would be 0·(−inf)
/// = NaN): the terms of cross-entropies, y·log p, that vanish for a zero target whatever p is.
/// d/da = log b; d/db = a/b, also 0 where a = 0.
///
/// On dual numbers (jvp, hvp, hessian) the value is 0 where a = 0 but the tangents are not: a
/// moves, so xlogy moves by a'·log b (and the partial a/b by a'/b); a tangent of a that is zero
/// (a constant target) stays zero also at b = 0, where log b = −inf.
struct xlogy_op {
    static constexpr std::string_view name = "xlogy";
    static constexpr auto value(auto a, auto b) {
        if constexpr (math::is_dual_v<decltype(a)> && math::is_dual_v<decltype(b)>) {
            if (a == decltype(a)(0)) return at_zero(a, math::log(b.v));
        }
        return a == decltype(a)(0) ? decltype(a)(0) : a * math::log(b);
    }
    /// A dual whose value is 0 and whose tangents are a's scaled by k (0 where a's is 0).
    template <class D, class S>
    static constexpr D at_zero(const D& a, S k) {
        D r(0);
        math::detail::unrolled<D::size>(
            [&](auto i) { r.t[i] = a.t[i] == S(0) ? S(0) : a.t[i] * k; });
        return r;
    }
    template <std::floating_point T>
    [[gnu::always_inline]] static constexpr T loop_value(T a, T b) {
        return a == T(0) ? T(0) : a * math::vec::log(b);
    }
    static constexpr auto partial(arg_t<0>, auto, auto b, auto) { return math::log(b); }
    template <std::floating_point T>
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T, T b, T) {
        return math::vec::log(b);
    }
    static constexpr auto partial(arg_t<1>, auto a, auto b, auto) {
        if constexpr (math::is_dual_v<decltype(a)> && math::is_dual_v<decltype(b)>) {
            if (a == decltype(a)(0)) return at_zero(a, detail::divide(decltype(b.v)(1), b.v));
        }
        return a == decltype(a)(0) ? decltype(a)(0) : detail::divide(a, b);
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&, const auto& b) {
        return make_node<log_op>(b);
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto& a, const auto& b) {
        return a / b;
    }
};

using exp_log_family = detail::type_list<exp_op, log_op, log1p_op, xlogy_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// e^x of an expression (see ops::exp_op).
template <expression A>
constexpr auto exp(A a) {
    return make_node<ops::exp_op>(static_cast<A&&>(a));
}

/// log x of an expression (see ops::log_op).
template <expression A>
constexpr auto log(A a) {
    return make_node<ops::log_op>(static_cast<A&&>(a));
}

/// a·log b, 0 wherever a = 0 (see ops::xlogy_op): `xlogy(y, p)` is a cross-entropy term.
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto xlogy(A a, B b) {
    return make_node<ops::xlogy_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

/// log(1 + x) of an expression (see ops::log1p_op).
template <expression A>
constexpr auto log1p(A a) {
    return make_node<ops::log1p_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
