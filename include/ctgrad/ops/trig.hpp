/// @file
/// The trigonometric family: sin, cos.
#pragma once

#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/trig.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad::ops {

/// sin x (radians).  d/dx = cos x.
struct sin_op {
    static constexpr std::string_view name = "sin";
    static constexpr auto value(auto x) { return math::sin(x); }
    static constexpr auto partial(arg_t<0>, auto x, auto) { return math::cos(x); }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x);
};

/// cos x (radians).  d/dx = -sin x.
struct cos_op {
    static constexpr std::string_view name = "cos";
    static constexpr auto value(auto x) { return math::cos(x); }
    static constexpr auto partial(arg_t<0>, auto x, auto) { return -math::sin(x); }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return -make_node<sin_op>(x);
    }
};

constexpr auto sin_op::derivative(arg_t<0>, const auto&, const auto& x) {
    return make_node<cos_op>(x);
}

using trig_family = detail::type_list<sin_op, cos_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// sin x of an expression (see ops::sin_op).
template <expression A>
constexpr auto sin(A a) {
    return make_node<ops::sin_op>(static_cast<A&&>(a));
}

/// cos x of an expression (see ops::cos_op).
template <expression A>
constexpr auto cos(A a) {
    return make_node<ops::cos_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
