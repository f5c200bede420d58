/// @file
/// The hyperbolic family: tanh.
#pragma once

#include <concepts>     // std::floating_point
#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/hyperbolic.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad::ops {

/// tanh x.  Rounds to exactly ±1 from |x| ≈ 19.1 in double (std::tanh at run time and
/// math::tanh in constant evaluation alike; math::tanh also returns ±1 outright from 22), with
/// derivative 0 there, never NaN.
/// d/dx = 1 - tanh^2 x, computed from the output y as 1 - y*y.
struct tanh_op {
    static constexpr std::string_view name = "tanh";
    static constexpr auto value(auto x) { return math::tanh(x); }
    /// In the tensor engine's loops: the branch-free kernel (math/vector.hpp).
    [[gnu::always_inline]] static constexpr auto loop_value(std::floating_point auto x) {
        return math::vec::tanh(x);
    }
    static constexpr auto partial(arg_t<0>, auto, auto y) { return decltype(y)(1) - y * y; }
    static constexpr auto derivative(arg_t<0>, const auto& self, const auto&) {
        return lit<1> - self * self;
    }
};

using hyperbolic_family = detail::type_list<tanh_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// tanh x of an expression (see ops::tanh_op).
template <expression A>
constexpr auto tanh(A a) {
    return make_node<ops::tanh_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
