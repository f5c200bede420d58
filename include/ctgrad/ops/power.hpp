/// @file
/// The power family: sqrt, square, pow.
#pragma once

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
#include <ctgrad/math/power.hpp>
#include <ctgrad/ops/arithmetic.hpp>
#include <ctgrad/ops/exp_log.hpp>

namespace ctgrad::ops {

/// Square root.  Domain: x >= 0; sqrt(x < 0) = NaN.
/// d/dx sqrt x = 1/(2 sqrt x), computed from the output y as 0.5/y; sqrt'(0) = +inf.
struct sqrt_op {
    static constexpr std::string_view name = "sqrt";
    static constexpr auto value(auto x) { return math::sqrt(x); }
    static constexpr auto partial(arg_t<0>, auto, auto y) {
        return detail::divide(decltype(y)(0.5), y);
    }
    static constexpr auto derivative(arg_t<0>, const auto& self, const auto&) {
        return lit<1, 2> / self;
    }
};

/// x^2, computed as x * x.  d/dx = 2x.
struct square_op {
    static constexpr std::string_view name = "square";
    static constexpr auto value(auto x) { return x * x; }
    static constexpr auto partial(arg_t<0>, auto x, auto) { return decltype(x)(2) * x; }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) { return lit<2> * x; }
};

/// a^b, as std::pow (pow(0, 0) = 1, pow(negative, non-integer) = NaN).
/// d/da = b a^(b-1), taken as 0 where b = 0 (a^0 is constant; at a = 0 the formula would give
/// 0 * inf = NaN);  d/db = a^b log a, taken as 0 where a = 0 and b > 0 (the limit along a = 0,
/// instead of 0 * -inf = NaN). The symbolic derivatives d(pow(a, b), ...) keep the plain
/// formulas, so they give NaN at those points when b or a is a run-time value.
struct pow_op {
    static constexpr std::string_view name = "pow";
    static constexpr auto value(auto a, auto b) { return math::pow(a, b); }
    static constexpr auto partial(arg_t<0>, auto a, auto b, auto) {
        using T = decltype(b);
        if constexpr (math::is_dual_v<T>) {
            // The same value; where b = 0, the tangents of b a^(b-1) are b' / a (the convention
            // is about the value 0 * inf, not about how the partial varies with b).
            if (b == T(0)) {
                using V = math::value_type_of_t<T>;
                return math::detail::chain(V(0), detail::divide(V(1), a.v), b);
            }
            return b * math::pow(a, b - T(1));
        } else {
            return b == T(0) ? T(0) : b * math::pow(a, b - T(1));
        }
    }
    static constexpr auto partial(arg_t<1>, auto a, auto b, auto y) {
        using T = decltype(y);
        return (a == T(0) && b > T(0)) ? T(0) : y * math::log(a);
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& a, const auto& b) {
        return b * pow(a, b - lit<1>);
    }
    static constexpr auto derivative(arg_t<1>, const auto& self, const auto& a, const auto&) {
        return self * log(a);
    }
};

using power_family = detail::type_list<sqrt_op, square_op, pow_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// sqrt x of an expression (see ops::sqrt_op).
template <expression A>
constexpr auto sqrt(A a) {
    return make_node<ops::sqrt_op>(static_cast<A&&>(a));
}

/// x^2 of an expression (see ops::square_op).
template <expression A>
constexpr auto square(A a) {
    return make_node<ops::square_op>(static_cast<A&&>(a));
}

/// a^b where a or b (or both) is an expression: `pow(x, 3)`, `pow(2.0, x)`, `pow(x, y)`,
/// `pow(x, 3_c)` (see ops::pow_op).
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto pow(A a, B b) {
    return make_node<ops::pow_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

}  // namespace ctgrad
