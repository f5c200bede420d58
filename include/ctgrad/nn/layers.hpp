/// @file
/// Layers: functions from an expression to an expression, with named parameters. A network
/// is a composition of layers, `nn::sequential(nn::dense<"fc1", 784, 100>{}, nn::relu,
/// nn::dense<"fc2", 100, 10>{})`, and applying it to an input expression gives the network's
/// expression type: `auto logits = net(X);`. Its parameters are variables named after the
/// layer ("fc1.W", "fc1.b"), collected by `parameters_t<decltype(net)>`.
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::intmax_t
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::move

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::nn {

/// A fully connected layer: x·W + b for x [N, In], W [In, Out] (variable "Name.W"), b [Out]
/// ("Name.b") broadcast over the rows.
template <fixed_string Name, std::size_t In, std::size_t Out, class T = float>
struct dense {
    static constexpr auto W = var<joined_name<Name, ".W">, tensor<T, In, Out>>;
    static constexpr auto b = var<joined_name<Name, ".b">, tensor<T, Out>>;
    using weight = std::remove_cvref_t<decltype(W)>;
    using bias = std::remove_cvref_t<decltype(b)>;
    using parameters = detail::type_list<weight, bias>;
    static constexpr std::size_t inputs = In, outputs = Out;

    template <expression A>
    constexpr auto operator()(A a) const {
        return matmul(std::move(a), W) + b;
    }
};

/// A layer without parameters that applies F (an elementwise function or softmax).
template <class F>
struct activation {
    using parameters = detail::type_list<>;

    template <expression A>
    constexpr auto operator()(A a) const {
        return F{}(std::move(a));
    }
};

namespace fn {
struct relu {
    template <class A>
    constexpr auto operator()(A a) const {
        return ctgrad::relu(std::move(a));
    }
};
struct sigmoid {
    template <class A>
    constexpr auto operator()(A a) const {
        return ctgrad::sigmoid(std::move(a));
    }
};
struct tanh {
    template <class A>
    constexpr auto operator()(A a) const {
        return ctgrad::tanh(std::move(a));
    }
};
struct softmax {
    template <class A>
    constexpr auto operator()(A a) const {
        return ctgrad::softmax(std::move(a));
    }
};
/// max(x, αx) with α = Num/Den (an exact literal, so that networks stay pure types).
template <std::intmax_t Num, std::intmax_t Den>
struct leaky_relu {
    static_assert(Num >= 0 && Num < Den, "ctgrad::nn::leaky_relu: the slope must be in [0, 1)");
    template <class A>
    constexpr auto operator()(A a) const {
        return ctgrad::max(a, lit<Num, Den> * a);
    }
};
}  // namespace fn

inline constexpr activation<fn::relu> relu{};
inline constexpr activation<fn::sigmoid> sigmoid{};
inline constexpr activation<fn::tanh> tanh{};
inline constexpr activation<fn::softmax> softmax{};
/// Leaky ReLU with slope Num/Den for x < 0 (default 0.01).
template <std::intmax_t Num = 1, std::intmax_t Den = 100>
inline constexpr activation<fn::leaky_relu<Num, Den>> leaky_relu{};

namespace detail {

template <class... L>
struct params_of {
    using type = ctgrad::detail::type_list<>;
};

template <class L, class... Rest>
struct params_of<L, Rest...> {
    using type =
        ctgrad::detail::merge_unique_t<typename L::parameters, typename params_of<Rest...>::type>;
};

}  // namespace detail

/// Layers applied in order: `sequential(a, b, c)(x)` is c(b(a(x))). Its parameters are the
/// layers' parameters, in order, each once (a layer used twice shares its parameters).
template <class... L>
struct sequential_t {
    boost::hana::basic_tuple<L...> layers;
    using parameters = typename detail::params_of<L...>::type;

    template <expression A>
    constexpr auto operator()(A a) const {
        return apply<0>(std::move(a));
    }

private:
    template <std::size_t I, class A>
    constexpr auto apply(A a) const {
        if constexpr (I == sizeof...(L)) {
            return a;
        } else {
            return apply<I + 1>(boost::hana::at_c<I>(layers)(std::move(a)));
        }
    }
};

template <class... L>
constexpr sequential_t<L...> sequential(L... layers) {
    return sequential_t<L...>{boost::hana::basic_tuple<L...>(layers...)};
}

/// The list of parameter variables of a layer or network.
template <class Net>
using parameters_t = typename std::remove_cvref_t<Net>::parameters;

}  // namespace ctgrad::nn
