/// @file
/// Mini-batches of a data set held in memory: a seeded shuffle per epoch, and rows gathered
/// into fixed-shape batch tensors. The last N % B samples are a final, smaller batch (of a
/// shape known at compile time), never silently dropped.
#pragma once

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint32_t, std::uint64_t
#include <utility>  // std::exchange, std::swap

#include <ctgrad/detail/random.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::detail {

/// A seeded order of N samples, shuffled per epoch, and the copying of the rows at a run of its
/// positions: what nn::batches and parallel::distributed_batches share (the same seed gives the
/// same order in both).
///
/// No <algorithm>, <vector> or <numeric> (~0.5 s of the parse of every TU that includes
/// ctgrad.hpp, AMD EPYC): the order is a heap array, and shuffle() is libstdc++'s std::shuffle
/// of GCC 12 over it (the same orders as before; test/nn/random_test.cpp compares them).
template <std::size_t N>
class sample_order {
    static_assert(N < (std::uint64_t{1} << 32), "ctgrad: sample positions are 32-bit");

public:
    explicit sample_order(std::uint64_t seed) : gen_(seed), order_(new std::uint32_t[N]) {
        for (std::size_t i = 0; i < N; ++i) order_[i] = static_cast<std::uint32_t>(i);
    }
    sample_order(const sample_order& o) : gen_(o.gen_), order_(new std::uint32_t[N]) {
        for (std::size_t i = 0; i < N; ++i) order_[i] = o.order_[i];
    }
    sample_order(sample_order&& o) noexcept
        : gen_(o.gen_), order_(std::exchange(o.order_, nullptr)) {}
    sample_order& operator=(sample_order o) noexcept {
        std::swap(gen_, o.gen_);
        std::swap(order_, o.order_);
        return *this;
    }
    ~sample_order() { delete[] order_; }

    /// std::shuffle as libstdc++ (GCC 12) does it for a 64-bit generator: Fisher-Yates from the
    /// front, two swap positions drawn at a time from one uniform integer in [0, r(r + 1)).
    void shuffle() {
        if constexpr (N >= 2) {
            std::size_t i = 1;
            if (N % 2 == 0) {
                std::swap(order_[i], order_[uniform(2)]);
                ++i;
            }
            while (i != N) {
                const std::uint64_t r = i + 1;
                const std::uint64_t x = uniform(r * (r + 1));
                std::swap(order_[i], order_[x / (r + 1)]);
                ++i;
                std::swap(order_[i], order_[x % (r + 1)]);
                ++i;
            }
        }
    }

    std::size_t operator[](std::size_t i) const { return order_[i]; }

    /// Copies the rows of the samples at positions [first, first + count) of the order from
    /// src [N, D...] into the first `count` rows of dst [R, D...].
    template <class Dst, class T>
    void copy_rows(std::size_t first, std::size_t count, const T* src, Dst& dst) const {
        constexpr std::size_t row = Dst::size() / Dst::shape[0];
        for (std::size_t r = 0; r < count; ++r) {
            const T* from = src + std::size_t{order_[first + r]} * row;
            auto* to = dst.data() + r * row;
            for (std::size_t e = 0; e < row; ++e) to[e] = from[e];
        }
    }

private:
    /// A uniform integer in [0, range), range >= 1: std::uniform_int_distribution<std::uint64_t>
    /// of libstdc++ (GCC 12) on a 64-bit generator, Lemire's multiply-and-reject.
    std::uint64_t uniform(std::uint64_t range) {
        std::uint64_t hi, lo;
        multiply(gen_(), range, hi, lo);
        if (lo < range) {
            const std::uint64_t threshold = (0 - range) % range;
            while (lo < threshold) multiply(gen_(), range, hi, lo);
        }
        return hi;
    }

    /// The 128-bit product a·b as its high and low halves.
    static void multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
        const std::uint64_t m32 = 0xffffffffu;
        const std::uint64_t ll = (a & m32) * (b & m32), lh = (a & m32) * (b >> 32);
        const std::uint64_t hl = (a >> 32) * (b & m32), hh = (a >> 32) * (b >> 32);
        const std::uint64_t mid = (ll >> 32) + (lh & m32) + (hl & m32);
        lo = (mid << 32) | (ll & m32);
        hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    }

    mt19937_64 gen_;
    std::uint32_t* order_;
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
