/// @file
/// The piecewise family: relu, abs, min, max, and the indicator ops their symbolic
/// derivatives are made of. Subgradient conventions (the same everywhere in ctgrad):
/// relu'(0) = 0, abs'(0) = 0, and a tie in max/min sends the whole gradient to the first
/// argument.
#pragma once

#include <bit>          // std::bit_cast
#include <concepts>     // std::floating_point
#include <cstdint>      // std::uint32_t, std::uint64_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::conditional_t, std::is_arithmetic_v, std::is_constant_evaluated
#include <utility>

#include <cmath>  // std::fabs

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad::ops {

/// [a > b] as 1 or 0. Piecewise constant: its derivative is 0 wherever it exists, so the
/// sweeps treat it as a constant (`locally_constant`). Appears in symbolic derivatives, e.g.
/// d relu(x)/dx = [x > 0].
struct greater_op {
    static constexpr std::string_view name = "greater";
    static constexpr std::string_view infix = ">";
    static constexpr int precedence = 0;
    static constexpr bool locally_constant = true;
    static constexpr auto value(auto a, auto b) { return a > b ? decltype(a)(1) : decltype(a)(0); }
};

/// [a >= b] as 1 or 0; piecewise constant like greater_op.
struct greater_equal_op {
    static constexpr std::string_view name = "greater_equal";
    static constexpr std::string_view infix = ">=";
    static constexpr int precedence = 0;
    static constexpr bool locally_constant = true;
    static constexpr auto value(auto a, auto b) { return a >= b ? decltype(a)(1) : decltype(a)(0); }
};

namespace detail_piecewise {
/// 1 where `c`, else 0, as T built from the comparison's bits (no branch): the tensor engine's
/// loops multiply the adjoint by it in vectors. The conditional form `c ? 1 : 0` became
/// compare-and-jump around adj·0 in those loops, which kept them scalar.
template <std::floating_point T>
    requires(sizeof(T) == 4 || sizeof(T) == 8)
[[gnu::always_inline]] constexpr T indicator(bool c) {
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const U mask = U(0) - U(c);  // all ones where c
    return std::bit_cast<T>(mask & std::bit_cast<U>(T(1)));
}
}  // namespace detail_piecewise

/// max(x, 0), NaN-propagating.  d/dx = [x > 0], so relu'(0) = 0.
struct relu_op {
    static constexpr std::string_view name = "relu";
    static constexpr auto value(auto x) { return x <= decltype(x)(0) ? decltype(x)(0) : x; }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        return x > decltype(x)(0) ? decltype(x)(1) : decltype(x)(0);
    }
    /// In the tensor engine's loops: [x > 0] converted from the comparison, with no branch (the
    /// conditional form above became compare-and-jump around adj·0, which kept the backward
    /// loop scalar); the loop then multiplies the adjoint by it in vectors.
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T x, T) {
        return detail_piecewise::indicator<T>(x > T(0));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return make_node<greater_op>(x, lit<0>);
    }
};

/// |x| (as std::fabs: |-0| = +0, NaN stays NaN).  d/dx = sign x, with abs'(0) = 0.
struct abs_op {
    static constexpr std::string_view name = "abs";
    static constexpr auto value(auto x) {
        if constexpr (std::is_arithmetic_v<decltype(x)>) {
            if (!std::is_constant_evaluated()) {
                return std::fabs(x);
            }
        }
        // Constant evaluation, and number types without std::fabs (math::dual, whose x - x at
        // 0 has zero tangents: abs'(0) = 0).
        return x < decltype(x)(0) ? -x : (x > decltype(x)(0) ? x : x - x);  // x - x: +0, NaN
    }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        using T = decltype(x);
        return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    }
    /// In the tensor engine's loops: [x > 0] − [x < 0] from the comparisons' bits, no branch
    /// (same values: 0 at ±0 and NaN).
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T x, T) {
        return detail_piecewise::indicator<T>(x > T(0)) - detail_piecewise::indicator<T>(x < T(0));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return make_node<greater_op>(x, lit<0>) - make_node<greater_op>(lit<0>, x);
    }
};

/// max(a, b) = a >= b ? a : b.  The gradient goes to the argument returned: on a tie, to a.
struct max_op {
    static constexpr std::string_view name = "max";
    static constexpr auto value(auto a, auto b) { return a >= b ? a : b; }
    static constexpr auto partial(arg_t<0>, auto a, auto b, auto y) {
        return a >= b ? decltype(y)(1) : decltype(y)(0);
    }
    static constexpr auto partial(arg_t<1>, auto a, auto b, auto y) {
        return a >= b ? decltype(y)(0) : decltype(y)(1);
    }
    /// In the tensor engine's loops: the same indicators from the comparison's bits, no branch
    /// (a NaN argument sends the gradient to b, as above).
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T a, T b, T) {
        return detail_piecewise::indicator<T>(a >= b);
    }
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<1>, T a, T b, T) {
        return detail_piecewise::indicator<T>(!(a >= b));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& a, const auto& b) {
        return make_node<greater_equal_op>(a, b);
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto& a, const auto& b) {
        return lit<1> - make_node<greater_equal_op>(a, b);
    }
};

/// min(a, b) = a <= b ? a : b.  The gradient goes to the argument returned: on a tie, to a.
struct min_op {
    static constexpr std::string_view name = "min";
    static constexpr auto value(auto a, auto b) { return a <= b ? a : b; }
    static constexpr auto partial(arg_t<0>, auto a, auto b, auto y) {
        return a <= b ? decltype(y)(1) : decltype(y)(0);
    }
    static constexpr auto partial(arg_t<1>, auto a, auto b, auto y) {
        return a <= b ? decltype(y)(0) : decltype(y)(1);
    }
    /// In the tensor engine's loops: the same indicators from the comparison's bits, no branch
    /// (a NaN argument sends the gradient to b, as above).
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T a, T b, T) {
        return detail_piecewise::indicator<T>(a <= b);
    }
    template <std::floating_point T>
        requires(sizeof(T) == 4 || sizeof(T) == 8)
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<1>, T a, T b, T) {
        return detail_piecewise::indicator<T>(!(a <= b));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& a, const auto& b) {
        return make_node<greater_equal_op>(b, a);
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto& a, const auto& b) {
        return lit<1> - make_node<greater_equal_op>(b, a);
    }
};

using piecewise_family = detail::type_list<relu_op, abs_op, max_op, min_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// max(x, 0) of an expression (see ops::relu_op). An op may fuse the relu of its result into
/// itself (a static `fuse_relu(node)` of the op: the convolution, tensor/conv.hpp).
template <expression A>
constexpr auto relu(A a) {
    if constexpr (requires { A::op::fuse_relu(a); }) {
        return A::op::fuse_relu(static_cast<A&&>(a));
    } else {
        return make_node<ops::relu_op>(static_cast<A&&>(a));
    }
}

/// |x| of an expression (see ops::abs_op).
template <expression A>
constexpr auto abs(A a) {
    return make_node<ops::abs_op>(static_cast<A&&>(a));
}

/// max(a, b) where a or b is an expression: `max(x, 0.0)`, `max(x, y)` (see ops::max_op).
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto max(A a, B b) {
    return make_node<ops::max_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

/// min(a, b) where a or b is an expression (see ops::min_op).
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto min(A a, B b) {
    return make_node<ops::min_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

}  // namespace ctgrad
