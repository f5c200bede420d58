/// @file
/// The activation family: sigmoid (relu lives with the piecewise ops).
#pragma once

#include <concepts>     // std::floating_point
#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/activation.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/ops/arithmetic.hpp>

namespace ctgrad::ops {

/// The logistic function 1/(1 + e^-x).  Saturates to exactly 0 or 1 without NaN.
/// d/dx = s(1 - s), computed from the output s.
struct sigmoid_op {
    static constexpr std::string_view name = "sigmoid";
    static constexpr auto value(auto x) { return math::sigmoid(x); }
    /// In the tensor engine's loops: the branch-free kernel (math/vector.hpp).
    [[gnu::always_inline]] static constexpr auto loop_value(std::floating_point auto x) {
        return math::vec::sigmoid(x);
    }
    static constexpr auto partial(arg_t<0>, auto, auto y) { return y * (decltype(y)(1) - y); }
    static constexpr auto derivative(arg_t<0>, const auto& self, const auto&) {
        return self * (lit<1> - self);
    }
};

using activation_family = detail::type_list<sigmoid_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// The logistic sigmoid of an expression (see ops::sigmoid_op).
template <expression A>
constexpr auto sigmoid(A a) {
    return make_node<ops::sigmoid_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
