/// @file
/// hessian(f, bindings...): every second partial derivative of f.
#pragma once

#include <array>    // std::array
#include <cstddef>  // std::size_t
#include <utility>  // std::index_sequence

#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/symbolic/d.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/type_list.hpp>

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
        if constexpr (detail::list_contains_v<Variables, variable<A, KA>> &&
                      detail::list_contains_v<Variables, variable<B, KB>>) {
            return second[detail::index_of_v<Variables, variable<A, KA>>]
                         [detail::index_of_v<Variables, variable<B, KB>>];
        } else {
            return S(0);
        }
    }
};

namespace detail {

template <class Row, class G, class... V>
constexpr void fill_row(Row& row, const G& g, type_list<V...>) {
    std::size_t j = 0;
    ((row[j++] = g[V{}]), ...);
}

}  // namespace detail

/// Every second partial derivative of f at the bound point. Row i is the gradient of the
/// symbolic derivative d(f, x_i), computed with the fused sweep, so the cost is one sweep per
/// variable; the matrix is symmetric up to rounding.
template <expression E, binding_argument... B>
constexpr auto hessian(const E& f, const B&... b) {
    using c = detail::call<E, B...>;
    if constexpr (c::ok) {
        using S = ad::scalar_t<typename c::plan, typename c::set>;
        using vars = typename c::plan::variables;
        hessian_result<S, vars> h;
        h.gradient = detail::gradient_as<S>(f, b...);
        h.value = h.gradient.value;
        [&]<class... V>(detail::type_list<V...> all) {
            std::size_t i = 0;
            ((detail::fill_row(h.second[i++], detail::gradient_as<S>(d(f, V{}), b...), all)), ...);
        }(vars{});
        return h;
    } else {
        c::diagnose();
        return hessian_result<double, typename c::plan::variables>{};
    }
}

}  // namespace ctgrad
