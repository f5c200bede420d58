/// @file
/// Layers: functions from an expression to an expression, with named parameters. A network
/// is a composition of layers, `nn::sequential(nn::dense<"fc1", 784, 100>{}, nn::relu,
/// nn::dense<"fc2", 100, 10>{})`, and applying it to an input expression gives the network's
/// expression type: `auto logits = net(X);`. Its parameters are variables named after the
/// layer ("fc1.W", "fc1.b"), collected by `parameters_t<decltype(net)>`.
///
/// A layer may behave differently at inference: batch normalisation uses the batch's statistics
/// when training and its running estimates at inference. `net(X)` is the training expression,
/// `net.inference(X)` the inference one (the same for layers without such a difference). Such
/// a layer's non-trained tensors (the running estimates) are its *state*, collected by
/// `state_t<decltype(net)>` and held by an `nn::state_of<decltype(net)>` pack.
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
#include <ctgrad/tensor/batch_norm.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::nn {

/// Diagnostic type: instantiated next to nn::dense's static_assert, naming the sizes.
template <class InputShape, std::size_t In>
struct dense_layer_input_does_not_have_In_features;

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
        using S = ctgrad::detail::shape_of_t<A>;
        constexpr bool ok = (S::rank == 1 || S::rank == 2) && S::cols == In;
        if constexpr (!ok) {
            static_assert(ok,
                          "ctgrad::nn::dense<Name, In, Out>: the input must be a batch [N, In] "
                          "(after nn::flatten of images [N, C, H, W], In must be C·H·W); the "
                          "input's shape and In are named in "
                          "'dense_layer_input_does_not_have_In_features<...>' below");
            static_cast<void>(sizeof(dense_layer_input_does_not_have_In_features<S, In>));
            return a;
        } else {
            return matmul(std::move(a), W) + b;
        }
    }
};

namespace detail {
/// The role tag of a variable whose tensor starts at 1, not 0 (nn::parameters' reset and
/// init::initialize read it: detail::initial_value): batch normalisation's scale and running
/// variance, declared so by their layers. Known by the type, not the name: a parameter of
/// yours named "….gamma" starts at 0 like any vector.
struct starts_at_one_tag {};

/// V tagged to start at 1.
template <class V>
using starting_at_one = ctgrad::tagged_variable<V, starts_at_one_tag>;

/// The role tags of batch normalisation's scale (which also starts at 1) and shift, as its
/// layers list them: what io::pytorch_names maps to PyTorch's "weight" and "bias" (a parameter
/// of yours named "….gamma" keeps its name in a file).
struct batch_norm_scale_tag : starts_at_one_tag {};
struct batch_norm_shift_tag {};

/// The variables of a batch-normalisation layer named Name over C features (nn::batch_norm,
/// nn::batch_norm2d): scale "Name.gamma" and shift "Name.beta" (parameters), running estimates
/// "Name.running_mean" and "Name.running_var" (state). The members are plain variables; the
/// lists carry the roles: the scale and the shift are batch norm's (the scale and the running
/// variance start at 1).
template <fixed_string Name, std::size_t C, class T>
struct batch_norm_variables {
    static constexpr auto gamma = var<joined_name<Name, ".gamma">, tensor<T, C>>;
    static constexpr auto beta = var<joined_name<Name, ".beta">, tensor<T, C>>;
    static constexpr auto running_mean = var<joined_name<Name, ".running_mean">, tensor<T, C>>;
    static constexpr auto running_var = var<joined_name<Name, ".running_var">, tensor<T, C>>;
    using parameters = ctgrad::detail::type_list<
        ctgrad::tagged_variable<std::remove_cvref_t<decltype(gamma)>, batch_norm_scale_tag>,
        ctgrad::tagged_variable<std::remove_cvref_t<decltype(beta)>, batch_norm_shift_tag>>;
    using state =
        ctgrad::detail::type_list<std::remove_cvref_t<decltype(running_mean)>,
                                  starting_at_one<std::remove_cvref_t<decltype(running_var)>>>;
};
}  // namespace detail

/// Batch normalisation of the features of a batch [N, C] (see tensor/batch_norm.hpp): learnable
/// scale "Name.gamma" (starts at 1) and shift "Name.beta" (starts at 0), state
/// "Name.running_mean" (starts at 0) and "Name.running_var" (starts at 1). Training mode
/// (`layer(x)`) normalises with the batch's mean and variance and updates the running
/// estimates; `layer.inference(x)` uses the running estimates. Placed between a dense layer and
/// its activation, as in the paper: `dense<"fc1", 784, 100>{}, batch_norm<"bn1", 100>{}, relu`.
template <fixed_string Name, std::size_t C, class T = float,
          batch_norm_options O = batch_norm_options{}>
struct batch_norm : detail::batch_norm_variables<Name, C, T> {
    using base = detail::batch_norm_variables<Name, C, T>;
    using base::beta, base::gamma, base::running_mean, base::running_var;
    static constexpr std::size_t features = C;
    static constexpr batch_norm_options options = O;

    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::batch_norm<O>(std::move(a), gamma, beta, running_mean, running_var);
    }

    template <expression A>
    constexpr auto inference(A a) const {
        return ctgrad::batch_norm_inference<O>(std::move(a), gamma, beta, running_mean,
                                               running_var);
    }
};

/// A layer without parameters that applies F (an elementwise function or softmax).
template <class F>
struct activation {
    using parameters = ctgrad::detail::type_list<>;

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

/// Whether no type occurs twice in the list (one lookup per element, a concept: nothing named
/// after the list per element).
template <class List>
struct all_distinct;

template <class... T>
struct all_distinct<ctgrad::detail::type_list<T...>> {
    // an array and a loop, not a fold: a network has hundreds of parameters (clang limits a
    // fold to 256 operands)
    static constexpr bool value = [] {
        const bool each[] = {ctgrad::detail::in_list<ctgrad::detail::type_list<T...>, T>..., true};
        for (const bool b : each) {
            if (!b) return false;
        }
        return true;
    }();
};

/// One entry per variable of List (variables compared without their role tags), in order of
/// first appearance; a variable listed both plain and tagged (a layer of yours that lists
/// `decltype(bn1::gamma)` next to bn1, which lists it tagged to start at 1) keeps its first
/// tagged form, so the union has one "bn1.gamma" and it keeps its role. Quadratic in the
/// list's length, but only taken when some variable occurs twice (a layer used twice).
template <class List>
struct unique_by_variable;

template <class... T>
struct unique_by_variable<ctgrad::detail::type_list<T...>> {
    static constexpr std::size_t n = sizeof...(T);
    template <class U>
    static constexpr bool same_row[n + 1] = {
        std::is_same_v<ctgrad::detail::untagged_t<U>, ctgrad::detail::untagged_t<T>>..., false};
    struct picked {
        std::size_t at[n + 1];
        std::size_t count;
    };
    static constexpr picked pick = [] {
        const bool* const same[] = {same_row<T>..., nullptr};
        const bool tagged[] = {!std::is_same_v<T, ctgrad::detail::untagged_t<T>>..., false};
        picked r{};
        for (std::size_t i = 0; i < n; ++i) {
            bool first = true;
            for (std::size_t j = 0; j < i; ++j) first = first && !same[i][j];
            if (!first) continue;
            std::size_t rep = i;
            for (std::size_t j = n; j-- > i;) {
                if (same[i][j] && tagged[j]) rep = j;  // the first tagged one wins
            }
            r.at[r.count++] = rep;
        }
        return r;
    }();
    template <std::size_t... I>
    static ctgrad::detail::type_list<
        ctgrad::detail::at_t<ctgrad::detail::type_list<T...>, pick.at[I]>...>
        of(std::index_sequence<I...>);
    using type = decltype(of(std::make_index_sequence<pick.count>{}));
};

template <bool Distinct, class... L>
struct union_impl {
    using type = ctgrad::detail::concat_t<L...>;
};

template <class... L>
struct union_impl<false, L...> {
    using type = typename unique_by_variable<ctgrad::detail::concat_t<L...>>::type;
};

template <class List>
struct untagged_list;

template <class... T>
struct untagged_list<ctgrad::detail::type_list<T...>> {
    using type = ctgrad::detail::type_list<ctgrad::detail::untagged_t<T>...>;
};

/// The union of lists of variables, in order of first appearance, one entry per variable
/// (plain and role-tagged forms of a variable are one: see unique_by_variable). Usually no
/// variable is in two of the lists (each layer has its own parameters) and the union is their
/// concatenation, checked in one pass; a layer used twice takes the merge. Merging list by list
/// always would instantiate a filter per layer named after the lists merged so far (names
/// quadratic in a network's depth).
template <class... L>
struct union_of {
    using all = ctgrad::detail::concat_t<L...>;
    using type =
        typename union_impl<all_distinct<typename untagged_list<all>::type>::value, L...>::type;
};

template <>
struct union_of<> {
    using type = ctgrad::detail::type_list<>;
};

template <class... L>
struct params_of {
    using type = typename union_of<typename L::parameters...>::type;
};

/// The state variables of a layer (none unless it declares `using state = ...`).
template <class L>
struct state_list {
    using type = ctgrad::detail::type_list<>;
};
template <class L>
    requires requires {
        typename L::state;
    }
struct state_list<L> {
    using type = typename L::state;
};

template <class... L>
struct state_of {
    using type = typename union_of<typename state_list<L>::type...>::type;
};

/// A layer's inference expression: layer.inference(a) where the layer has one, else layer(a).
template <class L, class A>
constexpr auto infer(const L& layer, A a) {
    if constexpr (requires { layer.inference(a); }) {
        return layer.inference(std::move(a));
    } else {
        return layer(std::move(a));
    }
}

/// An expression passed through layers by a fold: `(piped<A>{a} | ... | layer_step{l})`.
template <class A>
struct piped {
    A a;
};

template <bool Inference, class L>
struct layer_step {
    const L& layer;
};

template <class A, bool Inference, class L>
constexpr auto operator|(piped<A> p, layer_step<Inference, L> s) {
    if constexpr (Inference) {
        using R = decltype(infer(s.layer, std::move(p.a)));
        return piped<R>{infer(s.layer, std::move(p.a))};
    } else {
        using R = decltype(s.layer(std::move(p.a)));
        return piped<R>{s.layer(std::move(p.a))};
    }
}

template <bool Inference, class L>
constexpr layer_step<Inference, L> step_of(const L& layer) {
    return {layer};
}

}  // namespace detail

/// Layers applied in order: `sequential(a, b, c)(x)` is c(b(a(x))). Its parameters are the
/// layers' parameters, in order, each once (a layer used twice shares its parameters).
template <class... L>
struct sequential_t {
    boost::hana::basic_tuple<L...> layers;
    using parameters = typename detail::params_of<L...>::type;
    using state = typename detail::state_of<L...>::type;

    /// The network's expression in training mode.
    template <expression A>
    constexpr auto operator()(A a) const {
        return apply<0, false>(std::move(a));
    }

    /// The network's expression in inference mode (batch normalisation with its running
    /// estimates; every other layer as in training).
    template <expression A>
    constexpr auto inference(A a) const {
        return apply<0, true>(std::move(a));
    }

private:
    /// Layers per fold: clang limits a fold expression to 256 operands.
    static constexpr std::size_t chunk = 128;

    // The layers [Begin, Begin + chunk) in one fold over them (a pipe, see detail::piped), so the
    // functions instantiated per layer are named after that layer and the expression so far, not
    // after the whole network (a recursion apply<I> named after sequential_t<L...> for each I
    // makes names quadratic in the depth); the next chunk from the result. A network of n layers
    // makes ceil(n / 128) of these functions.
    template <std::size_t Begin, bool Inference, class A>
    constexpr auto apply(A a) const {
        constexpr std::size_t n = sizeof...(L) - Begin < chunk ? sizeof...(L) - Begin : chunk;
        auto r = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (detail::piped<A>{std::move(a)} | ... |
                    detail::step_of<Inference>(boost::hana::at_c<Begin + I>(layers)))
                .a;
        }
        (std::make_index_sequence<n>{});
        if constexpr (Begin + n == sizeof...(L)) {
            return r;
        } else {
            return apply<Begin + n, Inference>(std::move(r));
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

/// The list of state variables (running estimates) of a layer or network.
template <class Net>
using state_t = typename detail::state_list<std::remove_cvref_t<Net>>::type;

}  // namespace ctgrad::nn
