/// @file
/// ctgrad::program: an expression compiled once with its own workspace, for repeated
/// evaluation without allocation (a training step), and gradient_view, what it returns.
#pragma once

#include <cstddef>      // std::size_t
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::index_sequence, std::move

#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/plan.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/shape.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad {

namespace detail {

/// A pack of bindings, such as nn::parameters or nn::state: `p.bind(f)` calls f with them.
template <class A>
concept binding_bundle = requires {
    A::binding_bundle;
};

/// Calls f with the arguments, each bundle among them replaced by its bindings, in order.
template <class F>
constexpr decltype(auto) expand_bundles(F&& f) {
    return f();
}

template <class F, class A, class... R>
constexpr decltype(auto) expand_bundles(F&& f, const A& a, const R&... r) {
    if constexpr (binding_bundle<A> && !any_true_v<binding_bundle<R>...>) {
        // the usual call, `prog.gradient(params, X = x, Y = y)`: one lambda, not one per
        // argument nested in each other (each such lambda's name spells the ones around it)
        return a.bind([&](const auto&... ab) -> decltype(auto) { return f(ab..., r...); });
    } else if constexpr (binding_bundle<A>) {
        return a.bind([&](const auto&... ab) -> decltype(auto) {
            return expand_bundles(
                [&](const auto&... rest) -> decltype(auto) { return f(ab..., rest...); }, r...);
        });
    } else {
        return expand_bundles([&](const auto&... rest) -> decltype(auto) { return f(a, rest...); },
                              r...);
    }
}

}  // namespace detail

/// What program::gradient returns: the value and views of the gradients inside the program's
/// workspace (valid until the next call of the program). `g[W]` is a
/// `tensor_view<const S, ...>` of W's shape (a number for a scalar variable).
template <class Sched>
class gradient_view {
public:
    using scalar_type = typename Sched::scalar;
    using variables = typename tensor_ad::reported<typename Sched::plan, typename Sched::wrt>::type;

    constexpr gradient_view(scalar_type v, const scalar_type* ws) : value(v), ws_(ws) {}

    scalar_type value;

    template <fixed_string Name, class Kind>
    constexpr auto operator[](variable<Name, Kind>) const {
        // The check is instantiated only when it fails: a function named after the variable
        // list for every variable asked for would be names quadratic in a network's depth.
        if constexpr (!detail::in_list<variables, variable<Name, Kind>>) {
            detail::check_reported<variables, Name, Kind>();
            return value;
        } else {
            constexpr std::size_t at =
                tensor_ad::workspace<Sched>::offsets
                    .adj_off[tensor_ad::entry_of<Sched, variable<Name, Kind>>()];
            using G = typename tensor_ad::gradient_type<variable<Name, Kind>, scalar_type>::type;
            if constexpr (requires { G::rank; }) {
                return view_of<G>(ws_ + at);
            } else {
                return ws_[at];
            }
        }
    }

    /// The gradients' memory, and the offset in it of the gradient of each variable of List (a
    /// detail::type_list, such as a parameter pack's variables), in List's order (none for one
    /// this gradient does not report): one table per list, so that nn::sgd_step reads every
    /// parameter's gradient without a function per parameter named after the network.
    template <class List>
    static constexpr auto offsets_of = tensor_ad::gradient_offsets<Sched, List>();
    constexpr const scalar_type* data() const noexcept { return ws_; }

private:
    template <class G>
    static constexpr auto view_of(const scalar_type* p) {
        return [&]<std::size_t... D>(std::index_sequence<D...>) {
            return tensor_view<const scalar_type, G::shape[D]...>(p);
        }
        (std::make_index_sequence<G::rank>{});
    }

    const scalar_type* ws_;
};

/// A compiled expression with its own workspace, for repeated evaluation: a training loop
/// calls `gradient` once per step and allocates nothing (the workspace is allocated once, by
/// the constructor). `program prog(loss, wrt(W1, b1, W2, b2));` then
/// `auto g = prog.gradient(X = x, Y = y, W1 = w1, ...); g[W1]` (a view into the workspace).
/// The workspace holds only the buffers the sweeps need, laid out at compile time with reuse
/// of dead buffers; its size is `program<...>::workspace_bytes`, a constant.
template <expression E, class Wrt = all_variables>
class program {
public:
    using expression_type = E;
    using plan = ad::plan<E>;
    using scalar_type = tensor_ad::element_t<plan>;
    // the schedules name Wrt by a hash of its variables (short names, see keyed_wrt)
    using wrt_key = tensor_ad::keyed_wrt_t<Wrt>;
    using gradient_schedule = tensor_ad::schedule<plan, wrt_key, scalar_type, true>;
    using value_schedule = tensor_ad::schedule<plan, wrt_key, scalar_type, false>;
    using step_schedule = tensor_ad::schedule<plan, wrt_key, scalar_type, true, true>;
    using shape_type = detail::shape_of_t<E>;

    /// Bytes of workspace the gradient sweep uses (values kept for the backward pass, adjoints,
    /// the gradients themselves).
    static constexpr std::size_t workspace_bytes = tensor_ad::workspace<gradient_schedule>::bytes;
    /// Bytes of workspace the forward sweep alone (value, inference) uses.
    static constexpr std::size_t value_workspace_bytes =
        tensor_ad::workspace<value_schedule>::bytes;

    constexpr explicit program(E f, Wrt = {}) : f_(std::move(f)), ws_(max_elements()) {}

    /// The value of the expression (forward sweep only): a number for a scalar expression,
    /// else a view of the result inside the workspace (valid until the next call).
    template <class... B>
        requires binding_arguments<B...>
    constexpr auto value(const B&... b) {
        using c = detail::call<E, B...>;
        if constexpr (!c::ok) {
            c::diagnose();
            return scalar_type{};
        } else {
            const typename c::set set(b...);
            tensor_ad::engine<value_schedule, E, typename c::set> run{f_, set, ws_.data()};
            const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
            run.sweep(tensor_ad::forward_sweep<value_schedule>);
            if constexpr (shape_type::rank == 0) {
                return run.root_value(tensor_ad::root_value_at<value_schedule>);
            } else {
                return [&]<std::size_t... D>(std::index_sequence<D...>) {
                    return tensor_view<const scalar_type, shape_type::dims[D]...>(
                        run.root_data(tensor_ad::root_data_at<value_schedule>));
                }
                (std::make_index_sequence<shape_type::rank>{});
            }
        }
    }

    /// The value and the gradient (forward and backward sweeps). The expression must be a
    /// scalar.
    template <class... B>
        requires binding_arguments<B...>
    constexpr gradient_view<gradient_schedule> gradient(const B&... b) {
        static_assert(shape_type::rank == 0,
                      "ctgrad::program::gradient: the expression must be a scalar; reduce a "
                      "tensor expression with sum(...), mean(...) or a loss first");
        using c = detail::call<E, B...>;
        if constexpr (!c::ok) {
            c::diagnose();
            return {scalar_type{}, ws_.data()};
        } else {
            const typename c::set set(b...);
            tensor_ad::engine<gradient_schedule, E, typename c::set> run{f_, set, ws_.data()};
            const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
            run.sweep(tensor_ad::forward_sweep<gradient_schedule>);
            run.sweep(tensor_ad::backward_sweep<gradient_schedule>);
            return {run.root_value(tensor_ad::root_value_at<gradient_schedule>), ws_.data()};
        }
    }

    /// gradient(...) with the parameters (and the state) of a network bound from packs:
    /// `prog.gradient(params, X = x, Y = y)`, `prog.gradient(params, state, X = x, Y = y)` (see
    /// nn::parameters, nn::state).
    template <class... A>
        requires ctgrad::detail::any_true_v<detail::binding_bundle<A>...>
    constexpr gradient_view<gradient_schedule> gradient(const A&... a) {
        return detail::expand_bundles([&](const auto&... b) { return gradient(b...); }, a...);
    }

    /// value(...) with the parameters (and the state) bound from packs.
    template <class... A>
        requires ctgrad::detail::any_true_v<detail::binding_bundle<A>...>
    constexpr auto value(const A&... a) {
        return detail::expand_bundles([&](const auto&... b) { return value(b...); }, a...);
    }

    /// One step of plain gradient descent, fused: every differentiated parameter p becomes
    /// p − lr·∂f/∂p, in place, and the value of f before the step is returned. Parameters
    /// must be bound with std::ref (`W1 = std::ref(w1)`). A weight read only by a matmul gets
    /// its update added by the weight-gradient product itself (W += −lr·Aᵀ·dC, after dC·Wᵀ has
    /// read W), so its gradient is never stored, as in hand-written training loops.
    template <class... B>
        requires binding_arguments<B...>
    constexpr scalar_type sgd_step(scalar_type lr, const B&... b) {
        static_assert(shape_type::rank == 0,
                      "ctgrad::program::sgd_step: the expression must be a scalar (a loss)");
        using c = detail::call<E, B...>;
        if constexpr (!c::ok) {
            c::diagnose();
            return scalar_type{};
        } else {
            const typename c::set set(b...);
            tensor_ad::engine<step_schedule, E, typename c::set> run{f_, set, ws_.data(), lr};
            const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
            run.sweep(tensor_ad::forward_sweep<step_schedule>);
            const scalar_type v = run.root_value(tensor_ad::root_value_at<step_schedule>);
            run.sweep(tensor_ad::backward_sweep<step_schedule>);
            run.sweep(tensor_ad::update_sweep<step_schedule>);
            return v;
        }
    }

    /// Bytes of workspace of sgd_step (no buffers for gradients added in place).
    static constexpr std::size_t step_workspace_bytes = tensor_ad::workspace<step_schedule>::bytes;

    constexpr const E& expression() const noexcept { return f_; }

private:
    static constexpr std::size_t max_elements() {
        std::size_t n = tensor_ad::workspace<gradient_schedule>::elements;
        const std::size_t v = tensor_ad::workspace<value_schedule>::elements;
        // the step's size without its schedule (built when sgd_step is called): the same layout
        const std::size_t s = tensor_ad::step_workspace<gradient_schedule>::elements;
        n = v > n ? v : n;
        return s > n ? s : n;
    }

    E f_;
    tensor_ad::buffer<scalar_type> ws_;
};

template <class E>
program(E) -> program<E>;

template <class E, class... V>
program(E, wrt_t<V...>) -> program<E, wrt_t<V...>>;

}  // namespace ctgrad
