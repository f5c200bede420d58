/// @file
/// Inverted dropout (Srivastava et al. 2014): in training each element of x is kept with
/// probability 1 − p and scaled by 1/(1 − p), or set to 0, so that the expected value is x and
/// inference is the identity. The mask is a pure function of a seed (a template argument), a
/// step counter and the element's index (SplitMix64 of the three), so a run is reproducible from
/// its seed, nothing is allocated, and no generator object lives outside the expression: the
/// counter is a state tensor [1] (like batch normalisation's running estimates, bound writable),
/// declared with ctgrad::dropout_counter (a tagged variable), that every training forward pass
/// increments, giving each step a new mask. The counter is an
/// unsigned integer stored in the element's bits (std::bit_cast: 32 bits in a float, 64 in a
/// double), so it never stalls as a float count would at 2^24 (it wraps after 2^32 steps in
/// float); a zero-initialised tensor is step 0, and `dropout_step(t)` / `set_dropout_step(t, n)`
/// read and write it.
#pragma once

#include <bit>          // std::bit_cast
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t, std::intmax_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v, std::conditional_t
#include <utility>      // std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/shape.hpp>

namespace ctgrad {
namespace detail {

/// The unsigned integer type whose bits hold dropout's step counter in an element of type T.
template <class T>
using dropout_counter_t = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;

template <class T>
constexpr std::uint64_t dropout_counter_read(T t) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8,
                  "ctgrad::dropout: the step counter's element type must be float or double");
    return std::bit_cast<dropout_counter_t<T>>(t);
}
template <class T>
constexpr T dropout_counter_write(std::uint64_t n) {
    return std::bit_cast<T>(static_cast<dropout_counter_t<T>>(n));
}

/// The role tag of dropout's step counter (ctgrad::dropout_counter).
struct dropout_counter_tag {};

/// Whether the state variable V is a dropout step counter: a variable declared with
/// ctgrad::dropout_counter (nn::dropout's state), known by its type, not its name. Code that
/// treats state tensors as numbers must treat these as the integers they hold:
/// parallel::mpi::average reduces them as integers, io::load converts the float counts of
/// version-1 checkpoints.
template <class V>
constexpr bool is_dropout_counter() {
    return has_tag_v<V, dropout_counter_tag>;
}

/// The count a version-1 checkpoint's dropout counter element `t` stands for. Before the
/// counter moved into the element's bits it was stored as a float count (1.0f after one
/// step), which read as bits is 1 065 353 216 steps; a count held as bits reads as a float
/// below 1 up to that many steps (0 or subnormal below 2^23), so a whole number ≥ 1 (up to
/// 2^24 in float, 2^53 in double, where such counts stopped) is an old count and anything
/// else is read as bits.
template <class T>
constexpr std::uint64_t dropout_counter_from_v1(T t) {
    constexpr T limit = sizeof(T) == 4 ? T(16777216) : T(9007199254740992.0);
    if (t >= T(1) && t <= limit && static_cast<T>(static_cast<std::uint64_t>(t)) == t) {
        return static_cast<std::uint64_t>(t);
    }
    return dropout_counter_read(t);
}

}  // namespace detail

/// Dropout's step counter, a tensor variable [1] of float or double named Name, tagged as a
/// counter (its element holds an unsigned integer in its bits): `constexpr auto step =
/// ctgrad::dropout_counter<"drop.step">;`, bound writable (`step = std::ref(t)`) and held by
/// nn::state packs like any state variable. ctgrad::dropout takes only such a variable.
template <fixed_string Name, class T = float>
inline constexpr tagged_variable<variable<Name, tensor<T, 1>>, detail::dropout_counter_tag>
    dropout_counter{};

/// The step count held in a dropout counter tensor [1] (e.g. `state[d1::step]`).
template <class Tensor>
constexpr std::uint64_t dropout_step(const Tensor& counter) {
    return detail::dropout_counter_read(counter.data()[0]);
}
/// Sets a dropout counter tensor [1] to step n (n wraps modulo 2^32 in float).
template <class Tensor>
constexpr void set_dropout_step(Tensor& counter, std::uint64_t n) {
    using T = typename Tensor::value_type;
    counter.data()[0] = detail::dropout_counter_write<T>(n);
}

namespace ops {

/// x ⊙ mask/(1 − p) with mask_i = [u(Seed, step, i) ≥ p], u uniform in [0, 1); argument 1 is the
/// step counter [1], read and incremented by the forward pass. Training keeps the scaled mask for
/// the vjp: dx = dy ⊙ mask/(1 − p).
template <std::uint64_t Seed, std::intmax_t PNum, std::intmax_t PDen>
struct dropout_op {
    static constexpr std::string_view name = "dropout";
    static constexpr bool tensor_op = true;
    static_assert(PDen > 0 && PNum >= 0 && PNum < PDen,
                  "ctgrad::dropout: the drop probability p = PNum/PDen must be in [0, 1)");
    static_assert(PDen <= (std::intmax_t{1} << 31),
                  "ctgrad::dropout: write p = PNum/PDen with PDen at most 2^31");

    template <class X, class Step>
    static constexpr auto result_of() {
        if constexpr (std::is_same_v<Step, shape<1>>) {
            return X{};
        } else {
            static_assert(std::is_same_v<Step, shape<1>>,
                          "ctgrad::dropout: the step counter must be a tensor variable [1]");
            static_cast<void>(detail::shape_error<dropout_op, X, Step>());
            return X{};
        }
    }
    template <class X, class Step>
    using result = decltype(result_of<X, Step>());

    template <std::size_t I>
    static constexpr bool writes_state = I == 1;

    template <class X, class Step>
    static constexpr std::size_t saved = X::count;

    static constexpr std::uint64_t mix(std::uint64_t z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    /// Whether element i is kept at step `step`: the top 32 bits of the hash against p·2^32.
    static constexpr bool keep(std::uint64_t step, std::size_t i) {
        constexpr std::uint64_t threshold =
            (static_cast<std::uint64_t>(PNum) << 32) / static_cast<std::uint64_t>(PDen);
        const std::uint64_t h = mix(mix(Seed ^ mix(step)) ^ static_cast<std::uint64_t>(i));
        return (h >> 32) >= threshold;
    }

    template <class X, bool Save, class T>
    static constexpr void apply(T* out, const T* x, T* step) {
        const T scale = T(PDen) / T(PDen - PNum);
        const std::uint64_t s = detail::dropout_counter_read(step[0]);
        T* mask = out + X::count;
        for (std::size_t i = 0; i < X::count; ++i) {
            const T m = keep(s, i) ? scale : T(0);
            out[i] = x[i] * m;
            if constexpr (Save) mask[i] = m;
        }
        step[0] = detail::dropout_counter_write<T>(s + 1);
    }

    template <class Out, class X, class Step, class T>
    static constexpr void forward(T* out, const T* x, T* step) {
        apply<X, false>(out, x, step);
    }
    template <class Out, class X, class Step, class T>
    static constexpr void forward_saving(T* out, const T* x, T* step) {
        apply<X, true>(out, x, step);
    }

    template <std::size_t I>
    static constexpr bool has_vjp = I == 0;

    template <std::size_t I, kernels::mode Mode, class Out, class X, class Step, class T>
    static constexpr void vjp(T* d, const T* dout, const T* out, const T*, const T*) {
        if constexpr (I == 0) {
            const T* mask = out + X::count;
            for (std::size_t i = 0; i < X::count; ++i) detail::put<Mode>(d[i], dout[i] * mask[i]);
        }
    }
};

}  // namespace ops

/// Inverted dropout of x in training mode with drop probability PNum/PDen and mask seed Seed;
/// `step` is the step counter (see the file comment), declared with ctgrad::dropout_counter and
/// bound writable (std::ref). At inference, use x itself.
template <std::uint64_t Seed, std::intmax_t PNum, std::intmax_t PDen, expression X, class Step>
constexpr auto dropout(X x, Step) {
    static_assert(detail::is_dropout_counter<Step>(),
                  "ctgrad::dropout: the step counter must be a variable declared with "
                  "ctgrad::dropout_counter<\"name\", T> (a tensor [1] the op increments, tagged "
                  "so that checkpoints and mpi::average treat it as the integer it holds), not "
                  "a plain variable or an expression");
    if constexpr (detail::is_dropout_counter<Step>()) {
        using T = typename Step::kind::value_type;
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "ctgrad::dropout_counter: the element type must be float or double");
        return make_node<ops::dropout_op<Seed, PNum, PDen>>(std::move(x),
                                                            detail::untagged_t<Step>{});
    } else {
        return x;
    }
}

}  // namespace ctgrad
