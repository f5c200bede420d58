/// @file
/// Layers for images [N, C, H, W] (see tensor/conv.hpp for the ops): `conv2d<"c1", InC, OutC,
/// Kernel, Stride = 1, Padding = 0>` with parameters "c1.W" [OutC, InC, Kernel, Kernel] and
/// "c1.b" [OutC] (PyTorch's Conv2d layout), `max_pool2d<Window, Stride = Window>`,
/// `avg_pool2d<Window, Stride = Window>`, `flatten` ([N, C, H, W] to [N, C·H·W]),
/// `residual(block)` (x + block(x)) and `residual(block, projection)` (projection(x) +
/// block(x), e.g. a strided 1×1 conv2d when the block changes the shape), batch normalisation
/// over the channels of images (`batch_norm2d<"bn1", C>`), inverted `dropout<"d1", PNum, PDen>`,
/// and the L1 penalty `l1<Net>(λ)` beside nn::l2. A LeNet-style network:
///
///     constexpr auto net = nn::sequential(
///         nn::conv2d<"c1", 1, 6, 5, 1, 2>{}, nn::relu, nn::max_pool2d<2>{},
///         nn::conv2d<"c2", 6, 16, 5>{}, nn::relu, nn::max_pool2d<2>{}, nn::flatten,
///         nn::dense<"fc1", 400, 120>{}, nn::relu, nn::dense<"fc2", 120, 84>{}, nn::relu,
///         nn::dense<"fc3", 84, 10>{});
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t, std::intmax_t
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/nn/layers.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/batch_norm.hpp>
#include <ctgrad/tensor/batch_norm2d.hpp>
#include <ctgrad/tensor/conv.hpp>
#include <ctgrad/tensor/dropout.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::nn {

/// Diagnostic types: instantiated next to the layers' static_asserts, naming the sizes.
template <class InputShape, std::size_t ExpectedChannels>
struct conv2d_layer_input_is_not_images_with_these_channels;
template <class InputShape, class BlockOutputShape>
struct residual_block_changes_the_shape;

/// A convolution layer: conv2d<Stride, Padding>(x, W, b) for images x [N, InC, H, W], W
/// [OutC, InC, Kernel, Kernel] ("Name.W"), b [OutC] ("Name.b"). Initialise with init::he (the
/// kernel's fan-in is InC·Kernel²).
template <fixed_string Name, std::size_t InC, std::size_t OutC, std::size_t Kernel,
          std::size_t Stride = 1, std::size_t Padding = 0, class T = float>
struct conv2d {
    static constexpr auto W = var<joined_name<Name, ".W">, tensor<T, OutC, InC, Kernel, Kernel>>;
    static constexpr auto b = var<joined_name<Name, ".b">, tensor<T, OutC>>;
    using weight = std::remove_cvref_t<decltype(W)>;
    using bias = std::remove_cvref_t<decltype(b)>;
    using parameters = ctgrad::detail::type_list<weight, bias>;
    static constexpr std::size_t in_channels = InC, out_channels = OutC;

    template <expression A>
    constexpr auto operator()(A a) const {
        using S = ctgrad::detail::shape_of_t<A>;
        constexpr bool ok = S::rank == 4 && S::dims[S::rank == 4 ? 1 : 0] == InC;
        if constexpr (!ok) {
            static_assert(ok,
                          "ctgrad::nn::conv2d<Name, InC, ...>: the input must be images [N, InC, "
                          "H, W] with the layer's InC channels; the input's shape and InC are "
                          "named in 'conv2d_layer_input_is_not_images_with_these_channels<...>' "
                          "below");
            static_cast<void>(sizeof(conv2d_layer_input_is_not_images_with_these_channels<S, InC>));
            return a;
        } else {
            return ctgrad::conv2d<Stride, Padding>(std::move(a), W, b);
        }
    }
};

/// Max pooling of images with Window × Window windows, Stride apart (no parameters).
template <std::size_t Window, std::size_t Stride = Window>
struct max_pool2d {
    using parameters = ctgrad::detail::type_list<>;
    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::max_pool2d<Window, Stride>(std::move(a));
    }
};

/// Average pooling of images with Window × Window windows, Stride apart (no parameters).
template <std::size_t Window, std::size_t Stride = Window>
struct avg_pool2d {
    using parameters = ctgrad::detail::type_list<>;
    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::avg_pool2d<Window, Stride>(std::move(a));
    }
};

struct flatten_t {
    using parameters = ctgrad::detail::type_list<>;
    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::flatten(std::move(a));
    }
};

/// [N, C, H, W] to [N, C·H·W] (as torch.flatten(x, 1)), between the convolutional and the dense
/// layers.
inline constexpr flatten_t flatten{};

/// x + block(x), or projection(x) + block(x): a residual connection around a layer or a
/// sequential block (He et al. 2016). The gradient reaches x through the identity (or the
/// projection) as well as through the block, so deep stacks of such blocks keep it alive.
template <class Block, class Projection = void>
struct residual_t {
    Block block;
    using parameters = typename detail::params_of<Block>::type;
    using state = typename detail::state_of<Block>::type;

    template <expression A>
    constexpr auto operator()(A a) const {
        return join(a, block(a));
    }
    template <expression A>
    constexpr auto inference(A a) const {
        return join(a, detail::infer(block, a));
    }

private:
    template <class A, class Y>
    static constexpr auto join(A a, Y y) {
        using SA = ctgrad::detail::shape_of_t<A>;
        using SY = ctgrad::detail::shape_of_t<Y>;
        if constexpr (!std::is_same_v<SA, SY>) {
            static_assert(std::is_same_v<SA, SY>,
                          "ctgrad::nn::residual(block): the block must keep the shape of its "
                          "input (the two shapes are named in "
                          "'residual_block_changes_the_shape<input, output>' below); use "
                          "nn::residual(block, projection), e.g. a 1x1 nn::conv2d, otherwise");
            static_cast<void>(sizeof(residual_block_changes_the_shape<SA, SY>));
            return y;
        } else {
            return std::move(a) + std::move(y);
        }
    }
};

template <class Block, class Projection>
struct residual_projection_t {
    Block block;
    Projection projection;
    using parameters = typename detail::params_of<Block, Projection>::type;
    using state = typename detail::state_of<Block, Projection>::type;

    template <expression A>
    constexpr auto operator()(A a) const {
        return projection(a) + block(a);
    }
    template <expression A>
    constexpr auto inference(A a) const {
        return detail::infer(projection, a) + detail::infer(block, a);
    }
};

/// x + block(x): see residual_t.
template <class Block>
constexpr residual_t<Block> residual(Block block) {
    return residual_t<Block>{block};
}

/// projection(x) + block(x), for a block that changes the shape (channels or size).
template <class Block, class Projection>
constexpr residual_projection_t<Block, Projection> residual(Block block, Projection projection) {
    return residual_projection_t<Block, Projection>{block, projection};
}

/// Batch normalisation of images [N, C, H, W] over their channels (PyTorch's BatchNorm2d): each
/// channel normalised with the mean and variance of its N·H·W values, then scaled and shifted by
/// "Name.gamma", "Name.beta" [C]; running estimates "Name.running_mean", "Name.running_var" as
/// nn::batch_norm. Training mode is one op on the NCHW layout (ctgrad::batch_norm2d,
/// tensor/batch_norm2d.hpp: no transposes, the same bits as normalising the channels-last view
/// [N·H·W, C] with ctgrad::batch_norm); inference is that elementwise map on the channels-last
/// view.
template <fixed_string Name, std::size_t C, class T = float,
          batch_norm_options O = batch_norm_options{}>
struct batch_norm2d : detail::batch_norm_variables<Name, C, T> {
    using base = detail::batch_norm_variables<Name, C, T>;
    using base::beta, base::gamma, base::running_mean, base::running_var;

    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::batch_norm2d<O>(std::move(a), gamma, beta, running_mean, running_var);
    }
    template <expression A>
    constexpr auto inference(A a) const {
        return ctgrad::channels_first(
            ctgrad::batch_norm_inference<O>(ctgrad::channels_last(std::move(a)), gamma, beta,
                                            running_mean, running_var),
            ctgrad::detail::shape_of_t<A>{});
    }
};

/// Inverted dropout with drop probability PNum/PDen (default 1/2) and mask seed Seed: in
/// training (`layer(x)`) each element is zeroed with that probability and the others scaled by
/// 1/(1 − p); at inference (`layer.inference(x)`) the identity. Its state is the step counter
/// "Name.step" [1] (a ctgrad::dropout_counter; starts at 0; an nn::state pack holds it), which makes every step's mask new
/// and a run reproducible from Seed.
template <fixed_string Name, std::intmax_t PNum = 1, std::intmax_t PDen = 2, class T = float,
          std::uint64_t Seed = 0x5eed>
struct dropout {
    static constexpr auto step = dropout_counter<joined_name<Name, ".step">, T>;
    using parameters = ctgrad::detail::type_list<>;
    using state = ctgrad::detail::type_list<std::remove_cvref_t<decltype(step)>>;

    template <expression A>
    constexpr auto operator()(A a) const {
        return ctgrad::dropout<Seed, PNum, PDen>(std::move(a), step);
    }
    template <expression A>
    constexpr auto inference(A a) const {
        return a;
    }
};

// --- L1 penalty ---

namespace detail {
template <class S, class V0, class... V>
constexpr auto l1_sum(S lambda, V0 w0, V... w) {
    return lambda * (ctgrad::sum(ctgrad::abs(w0)) + ... + ctgrad::sum(ctgrad::abs(w)));
}

template <class S, class... V>
constexpr auto l1_of_list(S lambda, ctgrad::detail::type_list<V...>) {
    static_assert(sizeof...(V) > 0, "ctgrad::nn::l1: no weight matrix to regularize");
    using T = std::common_type_t<typename V::kind::value_type...>;
    return l1_sum(static_cast<T>(lambda), V{}...);
}
}  // namespace detail

/// The L1 penalty λ·Σ|W| of the listed variables: `loss + nn::l1_penalty(wrt(fc1.W), 1e-5f)`.
/// Its gradient is λ·sign(W) (0 at W = 0), which drives small weights to exactly zero.
template <class... V, class S>
constexpr auto l1_penalty(wrt_t<V...>, S lambda) {
    return detail::l1_of_list(lambda, ctgrad::detail::type_list<V...>{});
}

/// The L1 penalty λ·Σ|W| over the weight tensors of a network (its parameters of rank ≥ 2:
/// dense matrices and convolution kernels; biases are not regularized).
template <class Net, class S>
constexpr auto l1(S lambda) {
    return detail::l1_of_list(lambda, typename detail::matrices_of_list<parameters_t<Net>>::type{});
}

}  // namespace ctgrad::nn
