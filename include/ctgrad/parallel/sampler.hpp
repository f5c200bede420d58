/// @file
/// A distributed sampler: every process (rank) of a data-parallel job reads its own, disjoint
/// part of every global batch of an epoch. All ranks shuffle the same way (the same seed and
/// epoch give the same order everywhere: the order of nn::batches with that seed), global
/// batch k is positions [k·G, (k + 1)·G) of the order, G = Local · ranks, and rank r reads
/// its positions [k·G + r·Local, k·G + (r + 1)·Local). The N mod G samples after the last
/// full global batch are left out of the epoch (a shuffled epoch leaves out others each time),
/// as PyTorch's DistributedSampler with drop_last = True. Needs no MPI: the rank and the number
/// of ranks are numbers (parallel/mpi.hpp gets them from a communicator).
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <stdexcept>  // std::invalid_argument
#include <string>     // std::to_string

#include <ctgrad/nn/data.hpp>  // detail::sample_order: nn::batches' order

namespace ctgrad::parallel {

/// The part of rank `rank` of `ranks` of every global batch of Local · ranks samples out of N:
/// `distributed_batches<32, 60000> order(seed, rank, ranks);` then per epoch `order.shuffle()`
/// and `order.gather(k, images, x)` for k < order.batches() (x: [Local, D...]).
template <std::size_t Local, std::size_t N>
class distributed_batches {
public:
    static_assert(Local >= 1 && Local <= N,
                  "ctgrad::parallel::distributed_batches: the local batch must be in [1, N]");

    distributed_batches(std::uint64_t seed, std::size_t rank, std::size_t ranks)
        : rank_(rank), ranks_(ranks), order_(seed) {
        if (ranks == 0 || rank >= ranks || Local * ranks > N) {
            throw std::invalid_argument("ctgrad::parallel::distributed_batches: rank " +
                                        std::to_string(rank) + " of " + std::to_string(ranks) +
                                        " with local batches of " + std::to_string(Local) +
                                        " out of " + std::to_string(N) + " samples");
        }
    }

    /// A new random order, the same on every rank (nn::batches' order with that seed).
    void shuffle() { order_.shuffle(); }

    /// Samples per global batch, and full global batches per epoch.
    std::size_t global_batch() const noexcept { return Local * ranks_; }
    std::size_t batches() const noexcept { return N / global_batch(); }
    std::size_t rank() const noexcept { return rank_; }
    std::size_t ranks() const noexcept { return ranks_; }

    /// Copies this rank's rows of global batch k from src [N, D...] into dst [Local, D...].
    template <class T, class Dst>
    void gather(std::size_t k, const T* src, Dst& dst) const {
        static_assert(Dst::shape[0] == Local,
                      "ctgrad::parallel::distributed_batches::gather: the destination does not "
                      "have Local rows");
        order_.copy_rows(k * global_batch() + rank_ * Local, Local, src, dst);
    }

    /// The sample at position i of this epoch's global order.
    std::size_t operator[](std::size_t i) const { return order_[i]; }
    /// The sample of row r of this rank's part of global batch k.
    std::size_t sample(std::size_t k, std::size_t r) const {
        return order_[k * global_batch() + rank_ * Local + r];
    }

private:
    std::size_t rank_, ranks_;
    ctgrad::detail::sample_order<N> order_;
};

}  // namespace ctgrad::parallel
