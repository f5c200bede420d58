/// @file
/// hessian(f, bindings...): every second partial derivative of f, by forward-over-reverse.
#pragma once

#include <array>    // std::array
#include <cstddef>  // std::size_t

#include <ctgrad/ad/dual_sweep.hpp>
#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/sweep.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>

namespace ctgrad {

/// The value, gradient and Hessian of an expression at a point: `h.value`, `h.gradient[x]`,
/// `h(x, y)` = ∂²f/∂x∂y (0 for a variable f does not contain).
template <class S, class Variables>
struct hessian_result {
    using scalar_type = S;
    static constexpr std::size_t n = Variables::size;

    S value{};
    gradient_result<S, Variables> gradient{};
    std::array<std::array<S, n>, n> second{};

    template <fixed_string A, class KA, fixed_string B, class KB>
    constexpr S operator()(variable<A, KA>, variable<B, KB>) const {
        if constexpr (detail::in_list<Variables, variable<A, KA>> &&
                      detail::in_list<Variables, variable<B, KB>>) {
            return second[detail::index_of_v<Variables, variable<A, KA>>]
                         [detail::index_of_v<Variables, variable<B, KB>>];
        } else {
            return S(0);
        }
    }
};

/// Every second partial derivative of f at the bound point, with its value and gradient, in one
/// forward and one reverse sweep over numbers that carry n tangents (n = the number of
/// variables of f; math::dual<S, n>): the forward sweep seeds variable k with the k-th unit
/// tangent, and the tangents of the reverse sweep's adjoint of variable i are row i of the
/// Hessian (forward-over-reverse). It costs about what n + 1 gradients do in arithmetic, with
/// each math function called once or twice per op, and compiles in time linear in f (the
/// plan of f is the gradient's; nothing is differentiated symbolically). The result is
/// symmetric: h(x, y) and h(y, x) are the mean of the two (equal up to rounding) tangents.
/// f must be a scalar expression of scalar variables.
template <expression E, class... B>
    requires binding_arguments<B...>
constexpr auto hessian(const E& f, const B&... b) {
    using c = detail::call<E, B...>;
    using plan = typename c::plan;
    using vars = typename plan::variables;
    if constexpr (!c::ok) {
        c::diagnose();
        return hessian_result<double, vars>{};
    } else if constexpr (!ad::detail::scalar_variables_quietly<plan>()) {
        static_cast<void>(ad::detail::scalar_variables<plan>());
        return hessian_result<double, vars>{};
    } else {
        using S = ad::scalar_t<plan, typename c::set>;
        constexpr std::size_t n = plan::variable_count;
        const typename c::set set(b...);
        const auto v = ad::detail::dual_forward<plan, S, n>(f, set, ad::detail::unit_seed<vars>{});
        const auto a = ad::reverse<plan, math::dual<S, n>>(v);
        hessian_result<S, vars> h;
        h.value = v[plan::size - 1].v;
        h.gradient.value = h.value;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& ai = a[plan::variable_entry[i]];
            h.gradient.partials[i] = ai.v;
            h.second[i][i] = ai.t[i];
            for (std::size_t j = 0; j < i; ++j) {
                const S mean = S(0.5) * (ai.t[j] + a[plan::variable_entry[j]].t[i]);
                h.second[i][j] = mean;
                h.second[j][i] = mean;
            }
        }
        return h;
    }
}

}  // namespace ctgrad
