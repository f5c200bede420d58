/// @file
/// Data augmentation for batches of images [B, C, H, W], applied in place after a batch is
/// gathered: each image is shifted by a random (dy, dx) in [−Shift, Shift]² (pixels shifted in
/// from outside are 0, the background of MNIST-like data) and, with probability 1/2 when `flip`
/// (the default), mirrored left to right. Seeded (a 64-bit Mersenne Twister, std::mt19937_64's
/// numbers without <random>: ctgrad::detail::mt19937_64): the same seed gives the same sequence of
/// transformations. Nothing is allocated: one plane is copied through a stack array of H·W
/// numbers.
///
///     nn::augment<2> aug(seed);          // shifts of up to 2 pixels and horizontal flips
///     order.gather(k, images, *x);
///     aug(*x);
#pragma once

#include <array>    // std::array
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t

#include <ctgrad/detail/random.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::nn {

template <std::size_t Shift>
class augment {
public:
    explicit augment(std::uint64_t seed, bool flip = true) : gen_(seed), flip_(flip) {}

    /// Transforms every image of x [B, C, H, W] (all channels of an image alike).
    template <class T, std::size_t B, std::size_t C, std::size_t H, std::size_t W>
    void operator()(tensor<T, B, C, H, W>& x) {
        static_assert(Shift < H && Shift < W,
                      "ctgrad::nn::augment: the shift must be smaller than the image");
        for (std::size_t n = 0; n < B; ++n) {
            const long dy = draw_shift(), dx = draw_shift();
            const bool flip = flip_ && (gen_() & 1u) != 0;
            for (std::size_t c = 0; c < C; ++c) {
                transform<H, W>(x.data() + (n * C + c) * H * W, dy, dx, flip);
            }
        }
    }

    /// One plane [H, W]: out(i, j) = in(i − dy, j' − dx), j' = W − 1 − j when flipped.
    template <std::size_t H, std::size_t W, class T>
    static void transform(T* plane, long dy, long dx, bool flip) {
        std::array<T, H * W> in;
        for (std::size_t e = 0; e < H * W; ++e) in[e] = plane[e];
        for (std::size_t i = 0; i < H; ++i) {
            const long si = long(i) - dy;
            for (std::size_t j = 0; j < W; ++j) {
                const long jj = flip ? long(W - 1 - j) : long(j);
                const long sj = jj - dx;
                const bool inside = si >= 0 && si < long(H) && sj >= 0 && sj < long(W);
                plane[i * W + j] = inside ? in[std::size_t(si) * W + std::size_t(sj)] : T(0);
            }
        }
    }

private:
    long draw_shift() {
        if constexpr (Shift == 0) {
            return 0;
        } else {
            return long(gen_() % (2 * Shift + 1)) - long(Shift);
        }
    }

    ctgrad::detail::mt19937_64 gen_;
    bool flip_;
};

}  // namespace ctgrad::nn
