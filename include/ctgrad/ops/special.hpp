/// @file
/// Special functions: erf, erfc (the normal CDF is 0.5 * erfc(-x / sqrt 2)).
#pragma once

#include <concepts>     // std::floating_point
#include <numbers>      // std::numbers::inv_sqrtpi_v
#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/special.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/ops/arithmetic.hpp>
#include <ctgrad/ops/exp_log.hpp>

namespace ctgrad::ops {

/// The constant 2/sqrt(pi), exact in its type (erf' = 2/sqrt(pi) e^(-x^2)). For a dual number
/// type (math/dual.hpp) it is the constant of its value type, with zero tangents.
struct two_over_sqrt_pi {
    template <class T>
    static constexpr T as() noexcept {
        using V = math::value_type_of_t<T>;
        return T(V(2) * std::numbers::inv_sqrtpi_v<V>);
    }
};

/// The error function.  d/dx erf x = 2/sqrt(pi) e^(-x^2).
struct erf_op {
    static constexpr std::string_view name = "erf";
    static constexpr auto value(auto x) { return math::erf(x); }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        using T = decltype(x);
        return two_over_sqrt_pi::as<T>() * math::exp(-(x * x));
    }
    /// In the tensor engine's loops: e^(-x^2) by the branch-free kernel (math/vector.hpp).
    template <std::floating_point T>
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T x, T) {
        return two_over_sqrt_pi::as<T>() * math::vec::exp(-(x * x));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return named_constant<two_over_sqrt_pi>{} * exp(-(x * x));
    }
};

/// The complementary error function 1 - erf x, accurate where erf x is near 1.
/// d/dx erfc x = -2/sqrt(pi) e^(-x^2).
struct erfc_op {
    static constexpr std::string_view name = "erfc";
    static constexpr auto value(auto x) { return math::erfc(x); }
    static constexpr auto partial(arg_t<0>, auto x, auto) {
        using T = decltype(x);
        return -(two_over_sqrt_pi::as<T>() * math::exp(-(x * x)));
    }
    template <std::floating_point T>
    [[gnu::always_inline]] static constexpr T loop_partial(arg_t<0>, T x, T) {
        return -(two_over_sqrt_pi::as<T>() * math::vec::exp(-(x * x)));
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto& x) {
        return -(named_constant<two_over_sqrt_pi>{} * exp(-(x * x)));
    }
};

using special_family = detail::type_list<erf_op, erfc_op>;

}  // namespace ctgrad::ops

namespace ctgrad {

/// erf x of an expression (see ops::erf_op).
template <expression A>
constexpr auto erf(A a) {
    return make_node<ops::erf_op>(static_cast<A&&>(a));
}

/// erfc x of an expression (see ops::erfc_op).
template <expression A>
constexpr auto erfc(A a) {
    return make_node<ops::erfc_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
