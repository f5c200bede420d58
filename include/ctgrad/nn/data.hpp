/// @file
/// Mini-batches of a data set held in memory: a seeded shuffle per epoch, and rows gathered
/// into fixed-shape batch tensors. The last N % B samples are a final, smaller batch (of a
/// shape known at compile time), never silently dropped.
#pragma once

#include <algorithm>  // std::shuffle, std::copy_n
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint32_t, std::uint64_t
#include <numeric>    // std::iota
#include <vector>     // std::vector

#include <ctgrad/detail/random.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::detail {

/// A seeded order of N samples, shuffled per epoch, and the copying of the rows at a run of its
/// positions: what nn::batches and parallel::distributed_batches share (the same seed gives the
/// same order in both).
template <std::size_t N>
class sample_order {
public:
    explicit sample_order(std::uint64_t seed) : gen_(seed), order_(N) {
        std::iota(order_.begin(), order_.end(), std::uint32_t{0});
    }

    void shuffle() { std::shuffle(order_.begin(), order_.end(), gen_); }

    std::size_t operator[](std::size_t i) const { return order_[i]; }

    /// Copies the rows of the samples at positions [first, first + count) of the order from
    /// src [N, D...] into the first `count` rows of dst [R, D...].
    template <class Dst, class T>
    void copy_rows(std::size_t first, std::size_t count, const T* src, Dst& dst) const {
        constexpr std::size_t row = Dst::size() / Dst::shape[0];
        for (std::size_t r = 0; r < count; ++r) {
            std::copy_n(src + std::size_t{order_[first + r]} * row, row, dst.data() + r * row);
        }
    }

private:
    mt19937_64 gen_;
    std::vector<std::uint32_t> order_;
};

}  // namespace ctgrad::detail

namespace ctgrad::nn {

/// The order in which an epoch visits N samples in batches of B: `batches<64, 60000> order(seed);`
/// then per epoch `order.shuffle()`, `order.gather(k, images, x)` for the full batches
/// k < full, and `order.gather_rest(images, x_rest)` for the last `rest` samples.
template <std::size_t B, std::size_t N>
class batches {
public:
    static_assert(B >= 1 && B <= N, "ctgrad::nn::batches: the batch size must be in [1, N]");
    /// Number of full batches, and samples left for the final smaller batch.
    static constexpr std::size_t full = N / B;
    static constexpr std::size_t rest = N % B;

    explicit batches(std::uint64_t seed) : order_(seed) {}

    /// A new random order (seeded: the same seed gives the same sequence of epochs).
    void shuffle() { order_.shuffle(); }

    /// Copies the rows of full batch k (k < full) from src [N, D...] into dst [B, D...].
    template <class T, class Dst>
    void gather(std::size_t k, const T* src, Dst& dst) const {
        order_.copy_rows(k * B, B, src, dst);
    }

    /// Copies the last `rest` rows into dst [rest, D...].
    template <class T, class Dst>
    void gather_rest(const T* src, Dst& dst) const {
        static_assert(rest > 0, "ctgrad::nn::batches::gather_rest: N is a multiple of B");
        order_.copy_rows(full * B, rest, src, dst);
    }

    /// The sample at position i of the current order.
    std::size_t operator[](std::size_t i) const { return order_[i]; }

private:
    ctgrad::detail::sample_order<N> order_;
};

}  // namespace ctgrad::nn
