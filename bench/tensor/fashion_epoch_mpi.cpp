// The Fashion-MNIST epoch of fashion_epoch.hpp across MPI processes (ctgrad/parallel/mpi.hpp):
//
//   mpirun -np 2 build/bench/fashion_epoch_mpi [--repetitions R] [--threads T] [--batch G]
//                                              [--fused 0|1] [--split-wait 0|1]
//
// Every rank reads the training set, then R times: the He-uniform initial parameters of
// mlp_cases (the same on every rank), one epoch of plain SGD at 0.05·G/64 over global batches
// of G = 64 (default) or 256 in the order of nn::batches<G, 60000> with seed 1 (fashion_epoch's
// order), each rank gathering its G/P rows of every global batch (parallel::distributed_batches), its gradient
// (parallel::data_parallel: 1 shard, or 2 shards on 2 threads with --threads 2, at either
// batch), one
// MPI_Allreduce averaging it, the same SGD update everywhere: with --fused 1 (the default)
// mpi::average_then divides and updates chunk by chunk after the allreduce, one pass; with
// --fused 0 mpi::average divides, then the update makes a second pass. With --split-wait 1 an
// MPI_Barrier before each step's allreduce separates the time a rank waits for the other
// ranks to finish their gradient ("wait": their skew) from the allreduce itself (a diagnostic:
// the barrier adds one synchronisation per step). The
// samples after the last full global batch are left out (distributed_batches drops the
// remainder), so an epoch is 59968 samples at G = 64 (937 steps) and 59904 at G = 256 (234). The time of a repetition is the slowest rank's (MPI_Barrier
// before, MPI_Allreduce MAX after); rank 0 prints each, their median, samples/s and the epoch
// loss, and checks that the ranks' parameters are bit-identical. Not Google Benchmark: mpirun
// starts the processes, each would time itself.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/parallel/mpi.hpp>

#include "fashion_epoch.hpp"
#include "mlp_parallel.hpp"

namespace {

using namespace fashion_epoch;
namespace par = ctgrad::parallel;
namespace mpi = ctgrad::parallel::mpi;

/// One rank's step: Local rows in Shards shards on Threads threads, the gradient averaged over
/// the ranks, SGD.
template <size_t Local, size_t Shards, size_t Threads>
struct rank_trainer {
    using local_case = mlp_cases::classifier_mlp<float, Local, pixels, hidden, classes>;
    using inner = mlp_parallel::trainer<local_case, Shards, Threads>;
    inner t;
    const mpi::communicator* world;
    bool fused = true;
    bool split_wait = false;

    /// Seconds spent in each phase of the steps (gradient, allreduce, update, and with
    /// split_wait the barrier before the allreduce), this rank.
    std::array<double, 4> phase{};

    float step(params& p, const typename local_case::data& d, float lr) {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        auto& g =
            t.dp.gradient(par::rows(inner::X, d.x), par::rows(inner::Y, d.y), inner::W1 = p.w1,
                          inner::b1 = p.b1, inner::W2 = p.w2, inner::b2 = p.b2);
        auto t1 = clock::now();
        if (split_wait) {
            world->barrier();
            const auto tb = clock::now();
            phase[3] += std::chrono::duration<double>(tb - t1).count();
            t1 = tb;
        }
        auto t2 = t1;
        if (fused) {
            // the allreduce, then the division by the ranks and the SGD update chunk by chunk
            // (mpi::average_then: one pass over the gradient after the allreduce)
            bool first_chunk = true;
            mpi::average_then(g, *world, [&](auto v, size_t first, size_t count) {
                if (first_chunk) {
                    t2 = clock::now();
                    first_chunk = false;
                }
                ctgrad::parallel::detail::sgd_pass(inner::parameter(p, v).data() + first,
                                                   g[v].data() + first, count, lr);
            });
        } else {
            // the allreduce and the division (mpi::average), then the update: two passes
            mpi::average(g, *world);
            t2 = clock::now();
            inner::update(p.w1, g[inner::W1], lr);
            inner::update(p.b1, g[inner::b1], lr);
            inner::update(p.w2, g[inner::W2], lr);
            inner::update(p.b2, g[inner::b2], lr);
        }
        const auto t3 = clock::now();
        phase[0] += std::chrono::duration<double>(t1 - t0).count();
        phase[1] += std::chrono::duration<double>(t2 - t1).count();
        phase[2] += std::chrono::duration<double>(t3 - t2).count();
        return g.value;
    }
};

template <size_t Local, size_t Shards, size_t Threads>
int run(const mpi::communicator& world, const dataset& data, int repetitions, bool fused,
        bool split_wait) {
    // plain SGD at 0.05 for a global batch of 64, scaled linearly with the global batch
    const float lr = learning_rate * float(Local * size_t(world.size())) / float(batch);
    using trainer = rank_trainer<Local, Shards, Threads>;
    auto tr = std::make_unique<trainer>(trainer{{}, &world, fused, split_wait});
    auto d = std::make_unique<typename trainer::local_case::data>();
    auto p = std::make_unique<params>();
    std::vector<double> times;
    double mean_loss = 0;
    size_t samples = 0;
    for (int rep = 0; rep < repetitions; ++rep) {
        *p = *full_case::make_params();
        par::distributed_batches<Local, train_n> order(shuffle_seed, size_t(world.rank()),
                                                       size_t(world.size()));
        world.barrier();
        const auto start = std::chrono::steady_clock::now();
        order.shuffle();
        double total = 0;
        tr->phase = {};
        double gather = 0;
        for (size_t k = 0; k < order.batches(); ++k) {
            const auto g0 = std::chrono::steady_clock::now();
            order.gather(k, data.images.data(), d->x);
            order.gather(k, data.one_hot.data(), d->y);
            gather += std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
            total += double(order.global_batch()) * tr->step(*p, *d, lr);
        }
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double slowest = 0;
        mpi::detail::check(MPI_Allreduce(&secs, &slowest, 1, MPI_DOUBLE, MPI_MAX, world.get()),
                           "MPI_Allreduce");
        samples = order.batches() * order.global_batch();
        mean_loss = total / double(samples);
        times.push_back(slowest);
        // where the time went: each phase's largest total over the ranks
        std::array<double, 5> mine{gather, tr->phase[0], tr->phase[1], tr->phase[2], tr->phase[3]},
            most{};
        mpi::detail::check(
            MPI_Allreduce(mine.data(), most.data(), 5, MPI_DOUBLE, MPI_MAX, world.get()),
            "MPI_Allreduce");
        if (world.rank() == 0) {
            char wait[40] = "";
            if (split_wait) std::snprintf(wait, sizeof wait, "wait %.1f, ", 1e3 * most[4]);
            std::printf(
                "repetition %d: %.1f ms, %.0f samples/s, epoch loss %.6f (ms, slowest rank: "
                "gather %.1f, gradient %.1f, %sallreduce %.1f, update %.1f)\n",
                rep + 1, 1e3 * slowest, double(samples) / slowest, mean_loss, 1e3 * most[0],
                1e3 * most[1], wait, 1e3 * most[2], 1e3 * most[3]);
        }
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    // the same parameters on every rank, bit for bit (FNV-1a of their bytes)
    ctgrad::io::detail::fnv1a64 fnv;
    p->visit([&](const auto& t) {
        fnv.update(reinterpret_cast<const unsigned char*>(t.data()), t.size() * sizeof(float));
    });
    const unsigned long long h = fnv.state;
    unsigned long long lo = 0, hi = 0;
    MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, world.get());
    MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, world.get());
    if (world.rank() == 0) {
        std::printf(
            "fashion_mnist_epoch_mpi/b%zu_np%d_t%zu: median %.1f ms, %.0f samples/s "
            "(%zu samples), epoch loss %.6f, parameters %s across ranks\n",
            Local * size_t(world.size()), world.size(), Threads, 1e3 * median,
            double(samples) / median, samples, mean_loss, lo == hi ? "bit-identical" : "DIFFERENT");
    }
    return lo == hi ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
    mpi::environment env(argc, argv);
    const mpi::communicator world;
    int repetitions = 5;
    size_t threads = 1;
    size_t global = 64;
    bool fused = true;
    bool split_wait = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--repetitions") {
            repetitions = std::stoi(argv[i + 1]);
        } else if (k == "--threads") {
            threads = std::stoul(argv[i + 1]);
        } else if (k == "--batch") {
            global = std::stoul(argv[i + 1]);
        } else if (k == "--fused") {
            fused = std::stoi(argv[i + 1]) != 0;
        } else if (k == "--split-wait") {
            split_wait = std::stoi(argv[i + 1]) != 0;
        } else {
            throw std::invalid_argument("unknown option " + k);
        }
    }
    std::string error;
    const dataset* data = nullptr;
    mpi::all_or_none(world, [&] {
        data = training_set(error);
        if (data == nullptr) throw std::runtime_error(error);
    });
    switch (int(global) * 100 + world.size() * 10 + int(threads)) {
    case 6411:
        return run<64, 1, 1>(world, *data, repetitions, fused, split_wait);
    case 6412:
        return run<64, 2, 2>(world, *data, repetitions, fused, split_wait);
    case 6421:
        return run<32, 1, 1>(world, *data, repetitions, fused, split_wait);
    case 6422:
        return run<32, 2, 2>(world, *data, repetitions, fused, split_wait);
    case 25611:
        return run<256, 1, 1>(world, *data, repetitions, fused, split_wait);
    case 25612:
        return run<256, 2, 2>(world, *data, repetitions, fused, split_wait);
    case 25621:
        return run<128, 1, 1>(world, *data, repetitions, fused, split_wait);
    case 25622:
        return run<128, 2, 2>(world, *data, repetitions, fused, split_wait);
    default:
        // every combination is a trainer compiled for its batch per rank and shard count
        throw std::invalid_argument(
            "--batch " + std::to_string(global) + " on " + std::to_string(world.size()) +
            " processes with --threads " + std::to_string(threads) +
            ": this bench is compiled for a global batch of 64 or 256, on 1 or 2 processes, "
            "with 1 or 2 threads per process (the rows per rank and per shard are template "
            "arguments)");
    }
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_epoch_mpi: %s\n", e.what());
    return 1;
}
