/// @file
/// Data-parallel training across processes and machines with MPI (docs/parallel.md), the way
/// PyTorch's DistributedDataParallel and Horovod do it: every rank holds the whole model, reads
/// a disjoint part of every global batch (parallel/sampler.hpp), computes its gradient, and one
/// MPI_Allreduce per step averages the gradients of every parameter (and the loss) over the
/// ranks, in one flat buffer (parallel::flat_gradient); every rank then takes the same
/// optimizer step.
///
/// ```
/// parallel::mpi::environment env(argc, argv);   // MPI_Init, MPI_Finalize at the end
/// parallel::mpi::communicator world;            // MPI_COMM_WORLD
/// nn::init::he(params, seed);
/// parallel::mpi::broadcast(params, world);      // rank 0's parameters everywhere
/// ...                                           // per step, on every rank:
/// const auto& g = dp.gradient(params, parallel::rows(X, x), parallel::rows(Y, y));
/// parallel::mpi::average(g, world);             // one MPI_Allreduce: g becomes the mean
/// opt.step(params, g);
/// ```
///
/// Header-only, included only by programs that use MPI (they link MPI: meson
/// `dependency('mpi', language : 'cpp')`, or `mpicxx`). Errors of MPI calls throw
/// parallel::mpi::error (the environment sets MPI_ERRORS_RETURN on MPI_COMM_WORLD). A failure
/// on one rank must not leave the others waiting in a collective: `all_or_none(comm, f)` runs
/// f on every rank and then agrees, so that every rank throws the same error (naming the rank
/// that failed and its message) or none does.
///
/// Batch normalisation: each rank normalises with the statistics of its own part of the batch
/// (as DDP without SyncBatchNorm); `average(state, comm)` averages the running estimates over
/// the ranks (call it before evaluating or saving, so that every rank holds the same state).
#pragma once

// The C API only: Open MPI's and MPICH's deprecated C++ bindings are not -Wextra clean.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>         // std::min
#include <array>             // std::array
#include <bit>               // std::bit_cast
#include <cstddef>           // std::size_t
#include <cstdint>           // std::uint64_t
#include <cstring>           // std::memcpy
#include <exception>         // std::exception
#include <initializer_list>  // std::initializer_list
#include <limits>            // std::numeric_limits
#include <stdexcept>         // std::runtime_error
#include <string>            // std::string
#include <string_view>       // std::string_view
#include <type_traits>       // std::is_same_v

#include <ctgrad/io/checkpoint.hpp>  // io::detail::fnv1a64
#include <ctgrad/nn/parameters.hpp>
#include <ctgrad/parallel/sampler.hpp>
#include <ctgrad/parallel/threads.hpp>
#include <ctgrad/tensor/dropout.hpp>  // detail::is_dropout_counter

namespace ctgrad::parallel::mpi {

/// An MPI call failed, or another rank failed (all_or_none), or the ranks disagree
/// (check_identical).
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

inline void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
    throw error(std::string("ctgrad::parallel::mpi: ") + what +
                " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

template <class S>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<S, float>) {
        return MPI_FLOAT;
    } else if constexpr (std::is_same_v<S, double>) {
        return MPI_DOUBLE;
    } else {
        static_assert(std::is_same_v<S, long double>,
                      "ctgrad::parallel::mpi: elements must be float, double or long double");
        return MPI_LONG_DOUBLE;
    }
}

/// Elements per MPI call: counts are ints.
inline constexpr std::size_t max_count = static_cast<std::size_t>(std::numeric_limits<int>::max());

}  // namespace detail

/// The name of an MPI thread-support level.
inline std::string thread_level_name(int level) {
    if (level == MPI_THREAD_SINGLE) return "MPI_THREAD_SINGLE";
    if (level == MPI_THREAD_FUNNELED) return "MPI_THREAD_FUNNELED";
    if (level == MPI_THREAD_SERIALIZED) return "MPI_THREAD_SERIALIZED";
    if (level == MPI_THREAD_MULTIPLE) return "MPI_THREAD_MULTIPLE";
    return "level " + std::to_string(level);
}

/// MPI for the lifetime of this object: MPI_Init_thread asking for `required` thread support
/// (MPI_THREAD_FUNNELED by default: the process has other threads, ctgrad's pool, but only the
/// thread that made the environment calls MPI; the workers never do) unless MPI is
/// initialized already, MPI_ERRORS_RETURN on MPI_COMM_WORLD, and MPI_Finalize at the end if it
/// initialized MPI. If the MPI library provides less than `required` (MPI_Init_thread's
/// `provided`, or MPI_Query_thread when MPI was initialized by someone else), the constructor
/// throws mpi::error naming both levels (and finalizes MPI if it initialized it): running
/// threads under an MPI that does not support them is undefined.
class environment {
public:
    environment(int& argc, char**& argv, int required = MPI_THREAD_FUNNELED) {
        int done = 0;
        detail::check(MPI_Initialized(&done), "MPI_Initialized");
        int provided = 0;
        if (!done) {
            detail::check(MPI_Init_thread(&argc, &argv, required, &provided), "MPI_Init_thread");
            owner_ = true;
        } else {
            detail::check(MPI_Query_thread(&provided), "MPI_Query_thread");
        }
        if (provided < required) {
            if (owner_) MPI_Finalize();
            throw error("ctgrad::parallel::mpi::environment: the MPI library provides " +
                        thread_level_name(provided) + ", less than the " +
                        thread_level_name(required) +
                        " needed (worker threads in the process): initialize MPI with "
                        "MPI_Init_thread asking for it, or use an MPI built with thread support");
        }
        try {
            detail::check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                          "MPI_Comm_set_errhandler");
        } catch (...) {
            if (owner_) MPI_Finalize();
            throw;
        }
    }
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    ~environment() {
        if (owner_) MPI_Finalize();
    }

private:
    bool owner_ = false;
};

/// A communicator (MPI_COMM_WORLD by default; not owned).
class communicator {
public:
    communicator() : communicator(MPI_COMM_WORLD) {}
    explicit communicator(MPI_Comm c) : comm_(c) {
        detail::check(MPI_Comm_rank(c, &rank_), "MPI_Comm_rank");
        detail::check(MPI_Comm_size(c, &size_), "MPI_Comm_size");
    }

    int rank() const noexcept { return rank_; }
    int size() const noexcept { return size_; }
    MPI_Comm get() const noexcept { return comm_; }

    void barrier() const { detail::check(MPI_Barrier(comm_), "MPI_Barrier"); }

private:
    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
};

/// Runs f() on every rank, then agrees: if f threw on any rank, every rank throws mpi::error
/// "rank R: <what>" for the lowest such rank R (its message, up to 1000 bytes, broadcast to
/// all), so that no rank goes on to wait in a collective the failed one never enters. Two
/// collectives (an MPI_Allreduce of the lowest failing rank; an MPI_Bcast of its message only
/// when one failed).
template <class F>
void all_or_none(const communicator& c, F&& f) {
    std::array<char, 1000> message{};
    int failed = c.size();
    try {
        f();
    } catch (const std::exception& e) {
        failed = c.rank();
        const std::string_view w = e.what();
        std::memcpy(message.data(), w.data(), std::min(w.size(), message.size() - 1));
    } catch (...) {
        failed = c.rank();
        const std::string_view w = "an exception that is not a std::exception";
        std::memcpy(message.data(), w.data(), w.size());
    }
    int first = 0;
    detail::check(MPI_Allreduce(&failed, &first, 1, MPI_INT, MPI_MIN, c.get()), "MPI_Allreduce");
    if (first == c.size()) return;
    detail::check(MPI_Bcast(message.data(), int(message.size()), MPI_CHAR, first, c.get()),
                  "MPI_Bcast");
    message.back() = '\0';
    throw error("rank " + std::to_string(first) + ": " + std::string(message.data()));
}

/// Sends every tensor of a pack (parameters, state) from rank `root` to all ranks.
template <class List, bool W>
void broadcast(nn::parameters<List, W>& p, const communicator& c, int root = 0) {
    p.for_each([&](auto, auto& t) {
        using S = typename std::remove_cvref_t<decltype(t)>::value_type;
        static_assert(std::remove_cvref_t<decltype(t)>::size() <= detail::max_count);
        detail::check(MPI_Bcast(t.data(), int(t.size()), detail::datatype<S>(), root, c.get()),
                      "MPI_Bcast");
    });
}

/// A 64-bit FNV-1a hash of the bytes of every tensor of a pack (bitwise identity; the
/// checksum of io/checkpoint.hpp).
template <class List, bool W>
std::uint64_t fingerprint(const nn::parameters<List, W>& p) {
    io::detail::fnv1a64 h;
    p.for_each([&](auto, const auto& t) {
        h.update(reinterpret_cast<const unsigned char*>(t.data()), t.size() * sizeof(*t.data()));
    });
    return h.state;
}

/// Checks that every rank holds the same pack, bit for bit (the same seed used everywhere, or
/// parameters kept in step); throws mpi::error on every rank otherwise, naming `what`.
template <class List, bool W>
void check_identical(const nn::parameters<List, W>& p, const communicator& c,
                     std::string_view what = "parameters") {
    const std::uint64_t h = fingerprint(p);
    std::uint64_t lo = 0, hi = 0;
    detail::check(MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, c.get()), "MPI_Allreduce");
    detail::check(MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, c.get()), "MPI_Allreduce");
    if (lo != hi) {
        throw error("ctgrad::parallel::mpi::check_identical: the " + std::string(what) +
                    " differ between the ranks (rank " + std::to_string(c.rank()) +
                    " fingerprint " + std::to_string(h) + ")");
    }
}

/// Averages a flat gradient over the ranks, in place: one MPI_Allreduce (sum) of its whole
/// buffer, the loss value included (it travels in the buffer's value slot), then a division by
/// the number of ranks. The MPI standard advises, but does not require, that every rank
/// receive the same bits from an allreduce; Open MPI 4.1 did for this buffer on 2 and 4 ranks
/// (test/parallel/mpi_test.cpp checks the parameters' bits across ranks after training).
/// `check_identical(params, comm)` now and then (or at the end) verifies it for a given MPI.
template <class S, class... V>
void average(flat_gradient<S, V...>& g, const communicator& c) {
    static_assert(flat_gradient<S, V...>::size() <= detail::max_count);
    using G = flat_gradient<S, V...>;
    g.data()[G::value_slot] = g.value;
    detail::check(MPI_Allreduce(MPI_IN_PLACE, g.data(), int(G::size()), detail::datatype<S>(),
                                MPI_SUM, c.get()),
                  "MPI_Allreduce");
    if (c.size() > 1) {
        const S inv = S(1) / S(c.size());
        S* d = g.data();
        for (std::size_t i = 0; i < G::size(); ++i) d[i] *= inv;
    }
    g.value = g.data()[G::value_slot];
}

/// average(g, c), and then `f(v, first, count)` for the elements [first, first + count) of
/// variable v's averaged gradient (`g[v].data() + first`), chunk by chunk, each as soon as it
/// is divided by the number of ranks (while it is in L1): an elementwise update (plain SGD)
/// without a second pass over the buffer. The same bits as average then the update.
/// `f` must not throw: a rank that stops here leaves the others waiting in their next
/// collective (check what can fail before the step, e.g. with all_or_none).
template <class S, class... V, class F>
void average_then(flat_gradient<S, V...>& g, const communicator& c, F&& f) {
    static_assert(flat_gradient<S, V...>::size() <= detail::max_count);
    using G = flat_gradient<S, V...>;
    constexpr std::size_t chunk = 16384 / sizeof(S);
    g.data()[G::value_slot] = g.value;
    detail::check(MPI_Allreduce(MPI_IN_PLACE, g.data(), int(G::size()), detail::datatype<S>(),
                                MPI_SUM, c.get()),
                  "MPI_Allreduce");
    const S inv = S(1) / S(c.size());
    const bool scale = c.size() > 1;
    std::size_t v = 0;
    const auto one = [&](auto var) {
        constexpr std::size_t size = decltype(var)::kind::size();
        S* d = g.data() + G::offsets[v++];
        for (std::size_t first = 0; first < size; first += chunk) {
            const std::size_t m = size - first < chunk ? size - first : chunk;
            if (scale) parallel::detail::scale_pass(d + first, m, inv);  // vectorized (threads.hpp)
            f(var, first, m);
        }
    };
    // In order, without a fold (clang++ refuses folds over more than 256 variables).
    static_cast<void>(std::initializer_list<int>{(one(V{}), 0)...});
    if (scale) g.data()[G::value_slot] *= inv;
    g.value = g.data()[G::value_slot];
}

/// Averages every tensor of a pack over the ranks (batch-norm running estimates: one
/// MPI_Allreduce per tensor). A dropout step counter (an integer in its element's bits: a
/// variable declared with ctgrad::dropout_counter, as nn::dropout does; known by its type,
/// ctgrad::detail::is_dropout_counter, not its name) is averaged as the integer it is, rounded down: as
/// floats its bits would be flushed to 0 under DAZ, rounded, or quieted as NaN payloads.
template <class List, bool W>
void average(nn::parameters<List, W>& p, const communicator& c) {
    p.for_each([&](auto v, auto& t) {
        using S = typename std::remove_cvref_t<decltype(t)>::value_type;
        if constexpr (W && ctgrad::detail::is_dropout_counter<decltype(v)>()) {
            std::uint64_t n = ctgrad::dropout_step(t);
            detail::check(MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_UINT64_T, MPI_SUM, c.get()),
                          "MPI_Allreduce");
            ctgrad::set_dropout_step(t, n / std::uint64_t(c.size()));
            return;
        }
        detail::check(MPI_Allreduce(MPI_IN_PLACE, t.data(), int(t.size()), detail::datatype<S>(),
                                    MPI_SUM, c.get()),
                      "MPI_Allreduce");
        for (auto& e : t) e /= S(c.size());
    });
}

/// The sampler of this rank: `auto order = mpi::sampler<32, 60000>(seed, world);`.
template <std::size_t Local, std::size_t N>
distributed_batches<Local, N> sampler(std::uint64_t seed, const communicator& c) {
    return distributed_batches<Local, N>(seed, std::size_t(c.rank()), std::size_t(c.size()));
}

}  // namespace ctgrad::parallel::mpi
