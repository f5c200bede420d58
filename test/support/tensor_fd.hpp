// Central-difference checks of tensor gradients: check_fd(f, bindings...) (or with wrt(...))
// computes the gradient of f, perturbs every bound input the gradient reports (the caller's
// tensors, in place, through the bindings' views; bound numbers in a copy of the bindings) and
// compares each partial with the central difference. Shared by the tensor test files.
#pragma once

#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <tuple>        // std::tuple, std::get
#include <type_traits>  // std::is_same_v
#include <utility>      // std::index_sequence
#include <vector>       // std::vector

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace ctgrad::test {

using std::size_t;

template <class V, class List>
struct contains;

template <class V, template <class...> class L, class... Vs>
struct contains<V, L<Vs...>> : std::bool_constant<(std::is_same_v<V, Vs> || ...)> {};

/// The variable a binding binds: tensor views come from tensor variables.
template <class B>
struct variable_of_binding {
    using type = ctgrad::variable<B::name, ctgrad::scalar_kind>;
};

template <ctgrad::fixed_string N, class T, size_t... D>
struct variable_of_binding<ctgrad::binding<N, ctgrad::tensor_view<T, D...>>> {
    using type = ctgrad::variable<N, ctgrad::tensor<std::remove_const_t<T>, D...>>;
};

/// The value of f as the gradient sweep computes it (g.value): the central differences below
/// use it rather than value(f, ...), so that each checked expression instantiates one sweep,
/// not two (the build time of this file is mostly the sweeps' instantiation). value() of
/// scalar losses is compared with g.value where it matters.
template <class E, class Wrt, class... Bd>
[[gnu::noinline]] auto gradient_of(const E& f, Wrt w, const Bd&... b) {
    if constexpr (std::is_same_v<Wrt, ctgrad::all_variables>) {
        static_cast<void>(w);
        return ctgrad::gradient(f, b...);
    } else {
        return ctgrad::gradient(f, w, b...);
    }
}

/// One input of a central-difference check: n numbers at x (perturbed in place) and their
/// gradient.
struct fd_input {
    std::string_view name;  // a binding's static name
    double* x;
    const double* grad;
    size_t n;
};

/// Compares every gradient with central differences of f (f(ctx): the checked expression's
/// value, which reads the inputs where they are). Not a template: compiled once; the callback
/// is a plain function pointer, so that each checked expression adds one small function, not a
/// std::function's handler and manager.
[[gnu::noinline]] inline void fd_compare(const std::vector<fd_input>& inputs, double f0,
                                         double (*f)(void*), void* ctx, double tol) {
    for (const fd_input& in : inputs) {
        for (size_t e = 0; e < in.n; ++e) {
            const double x0 = in.x[e];
            const double h = fd_step(x0);
            const double xp = x0 + h, xm = x0 - h;
            in.x[e] = xp;
            const double fp = f(ctx);
            in.x[e] = xm;
            const double fm = f(ctx);
            in.x[e] = x0;
            const double fd = (fp - fm) / (xp - xm);
            BOOST_TEST(fd_agrees(in.grad[e], fd, f0, h, tol),
                       in.name << "[" << e << "]: gradient " << in.grad[e]
                               << ", central difference " << fd);
        }
    }
}

/// Appends one input (not a template, not inlined: each checked expression calls it).
[[gnu::noinline]] inline void push_fd_input(std::vector<fd_input>& inputs, std::string_view name,
                                            double* x, const double* grad, size_t n) {
    inputs.push_back({name, x, grad, n});
}

/// The I-th binding as an input, when the gradient g reports its variable: a bound tensor is
/// perturbed in place (the caller's tensor, through the binding's const view), a bound number
/// in the copy of the bindings that the checked function reads.
template <size_t I, class Wrt, class G, class Tuple>
void add_fd_input(std::vector<fd_input>& inputs, const G& g, Tuple& bindings) {
    using Bd = std::tuple_element_t<I, Tuple>;
    using V = typename variable_of_binding<Bd>::type;
    static_assert(
        !std::is_same_v<Wrt, ctgrad::all_variables> || contains<V, typename G::variables>::value,
        "every bound variable is differentiated: its binding must be recognised");
    if constexpr (contains<V, typename G::variables>::value) {
        auto& held = std::get<I>(bindings).held;
        if constexpr (requires { held.data(); }) {
            static_assert(std::is_same_v<std::remove_cvref_t<decltype(*held.data())>, double>);
            push_fd_input(inputs, Bd::name.view(), const_cast<double*>(held.data()), g[V{}].data(),
                          held.size());
        } else {
            static_assert(std::is_same_v<std::remove_cvref_t<decltype(held)>, double>);
            push_fd_input(inputs, Bd::name.view(), &held, &g[V{}], 1);
        }
    }
}

/// What fd_compare's callback reads: the expression, the subset, and the copy of the bindings
/// (bound numbers are perturbed in this copy).
template <class E, class Wrt, class... Bd>
struct fd_function {
    const E& f;
    Wrt w;
    std::tuple<Bd...> bindings;

    /// g.value with the current inputs (fd_compare's callback).
    static double eval(void* ctx) {
        auto& self = *static_cast<fd_function*>(ctx);
        return [&]<size_t... I>(std::index_sequence<I...>) {
            return static_cast<double>(
                gradient_of(self.f, self.w, std::get<I>(self.bindings)...).value);
        }
        (std::index_sequence_for<Bd...>{});
    }
};

/// The gradient of f (with respect to Wrt, or every variable) against central differences,
/// for every variable the gradient reports; returns the gradient. Double only.
template <class E, class Wrt, class... Bd>
[[gnu::noinline]] auto check_fd_impl(const E& f, Wrt w, double tol, const Bd&... b) {
    const auto g = gradient_of(f, w, b...);
    fd_function<E, Wrt, Bd...> fn{f, w, {b...}};
    std::vector<fd_input> inputs;
    [&]<size_t... I>(std::index_sequence<I...>) {
        (add_fd_input<I, Wrt>(inputs, g, fn.bindings), ...);
    }
    (std::index_sequence_for<Bd...>{});
    fd_compare(inputs, static_cast<double>(g.value), &fd_function<E, Wrt, Bd...>::eval, &fn, tol);
    return g;
}

template <class E, class... Bd>
auto check_fd(const E& f, const Bd&... b) {
    return check_fd_impl(f, ctgrad::all_variables{}, 1e-6, b...);
}

template <class E, class... V, class... Bd>
auto check_fd(const E& f, ctgrad::wrt_t<V...> w, const Bd&... b) {
    return check_fd_impl(f, w, 1e-6, b...);
}

}  // namespace ctgrad::test
