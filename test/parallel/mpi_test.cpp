// ctgrad/parallel/mpi.hpp, run by test/tools/mpi_run.py under `mpirun -np 2` (or 1, 4):
//
//   test_parallel_mpi train CHECKPOINT   data-parallel training over the ranks (each rank also
//                                        on 2 threads) against one process over the global
//                                        batch; parameters bit-identical across ranks; the
//                                        broadcast, the identity check, a checkpoint written by
//                                        rank 0 and read by all, averaged batch-norm state
//   test_parallel_mpi thread-level       MPI initialized with MPI_THREAD_SINGLE: the
//                                        environment refuses it (it needs MPI_THREAD_FUNNELED)
//   test_parallel_mpi data DIR           each rank reads DIR/rank<r>.idx: when any rank's file
//                                        is missing or corrupt, every rank stops with the same
//                                        error (exit status 3), none waits forever
//
// Plain main, not Boost.Test: every rank prints its checks; the exit status is 0 only when all
// of them held (mpirun returns non-zero when any rank does).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/io/idx.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/mpi.hpp>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;
namespace mpi = ctgrad::parallel::mpi;

namespace {

constexpr std::size_t n = 96, in = 12, hidden = 16, out = 4, global = 16;
constexpr unsigned seed = 7;
constexpr int epochs = 2;  // 2 · 96/16 = 12 steps

using fc1 = nn::dense<"fc1", in, hidden>;
using fc2 = nn::dense<"fc2", hidden, out>;
constexpr auto net = nn::sequential(fc1{}, nn::tanh, fc2{});
template <std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, in>>;
template <std::size_t B>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, B, out>>;
template <std::size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);
using pack = nn::parameters_of<decltype(net)>;

int failures = 0;
int rank_ = 0;

void check(bool ok, const std::string& what) {
    std::printf("rank %d: %s: %s\n", rank_, ok ? "ok" : "FAILED", what.c_str());
    if (!ok) ++failures;
}

/// The same data set on every rank: inputs in [-1, 1), one-hot targets.
struct data_set {
    std::vector<float> x = std::vector<float>(n * in);
    std::vector<float> y = std::vector<float>(n * out);
    data_set() {
        std::mt19937 gen(99);
        for (auto& v : x) v = float(double(gen()) * 0x1p-31 - 1.0);
        for (std::size_t i = 0; i < n; ++i) y[i * out + gen() % out] = 1.0f;
    }
};

/// max |a − b| / max |b| over every tensor (the largest).
double relative_difference(const pack& a, const pack& b) {
    double worst = 0;
    a.for_each([&](auto v, const auto& t) {
        double d = 0, s = 0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            d = std::max(d, std::abs(double(t.data()[i]) - double(b[v].data()[i])));
            s = std::max(s, std::abs(double(b[v].data()[i])));
        }
        worst = std::max(worst, d / s);
    });
    return worst;
}

bool bitwise_equal(const pack& a, const pack& b) {
    bool same = true;
    a.for_each([&](auto v, const auto& t) {
        same = same && std::memcmp(t.data(), b[v].data(), t.size() * sizeof(float)) == 0;
    });
    return same;
}

/// One process, the global batch, one program: the reference.
void train_alone(pack& p, const data_set& d) {
    nn::momentum opt(p, {.lr = 0.1f, .mu = 0.9f});
    ctgrad::program prog(loss<global>, p.wrt());
    nn::batches<global, n> order(seed);
    ctgrad::tensor<float, global, in> x;
    ctgrad::tensor<float, global, out> y;
    for (int e = 0; e < epochs; ++e) {
        order.shuffle();
        for (std::size_t k = 0; k < order.full; ++k) {
            order.gather(k, d.x.data(), x);
            order.gather(k, d.y.data(), y);
            opt.step(p, prog.gradient(p, X<global> = x, Y<global> = y));
        }
    }
}

/// Every rank: its part (Local rows) of each global batch, on 2 threads of 2 shards, gradients
/// averaged over the ranks, the same momentum step.
template <std::size_t Local>
float train_distributed(pack& p, const data_set& d, const mpi::communicator& world) {
    nn::momentum opt(p, {.lr = 0.1f, .mu = 0.9f});
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<Local / 2>, p.wrt());
    auto order = mpi::sampler<Local, n>(seed, world);
    ctgrad::tensor<float, Local, in> x;
    ctgrad::tensor<float, Local, out> y;
    float last = 0;
    for (int e = 0; e < epochs; ++e) {
        order.shuffle();
        for (std::size_t k = 0; k < order.batches(); ++k) {
            order.gather(k, d.x.data(), x);
            order.gather(k, d.y.data(), y);
            auto& g = dp.gradient(p, par::rows(X<Local / 2>, x), par::rows(Y<Local / 2>, y));
            mpi::average(g, world);
            last = g.value;
            opt.step(p, g);
        }
    }
    return last;
}

int train(const mpi::communicator& world, const std::string& checkpoint) {
    const data_set d;
    pack p;
    nn::init::xavier(p, seed + unsigned(world.rank()));  // different on every rank at first
    if (world.size() > 1) {
        bool caught = false;
        try {
            mpi::check_identical(p, world);
        } catch (const mpi::error& e) {
            caught = std::string(e.what()).find("differ between the ranks") != std::string::npos;
        }
        check(caught, "check_identical reports parameters that differ");
    }
    mpi::broadcast(p, world);
    pack start;
    nn::init::xavier(start, seed);  // rank 0's
    check(bitwise_equal(p, start), "broadcast gives rank 0's parameters");
    mpi::check_identical(p, world);

    pack alone = p;
    train_alone(alone, d);
    float last = 0;
    switch (world.size()) {
    case 1:
        last = train_distributed<global>(p, d, world);
        break;
    case 2:
        last = train_distributed<global / 2>(p, d, world);
        break;
    case 4:
        last = train_distributed<global / 4>(p, d, world);
        break;
    default:
        check(false, "run with 1, 2 or 4 ranks");
        return 1;
    }
    bool identical = true;
    try {
        mpi::check_identical(p, world);
    } catch (const mpi::error&) {
        identical = false;
    }
    check(identical, "parameters bit-identical on every rank after training");
    const double diff = relative_difference(p, alone);
    char text[64];
    std::snprintf(text, sizeof text, "%.3g", diff);
    check(
        diff <= 1e-6,
        std::string("parameters within 1e-6 of one process over the global batch (") + text + ")");
    check(!(relative_difference(p, start) < 1e-3), "the steps moved the parameters");
    check(std::isfinite(last), "the averaged loss is finite (" + std::to_string(last) + ")");

    // average_then: the bits of average followed by the update, every element handed over once
    {
        using flat = par::flat_gradient<float, fc1::weight, fc2::bias>;
        auto a = std::make_unique<flat>();
        auto b = std::make_unique<flat>();
        std::mt19937 gen(unsigned(world.rank()) + 5);
        const std::size_t sizes[] = {in * hidden, out};  // the gaps between stay zero
        for (std::size_t t = 0; t < 2; ++t) {
            for (std::size_t i = flat::offsets[t]; i < flat::offsets[t] + sizes[t]; ++i) {
                a->data()[i] = b->data()[i] = float(double(gen()) * 0x1p-32 - 0.5);
            }
        }
        a->value = b->value = float(world.rank() + 1);
        mpi::average(*a, world);
        std::vector<int> seen(in * hidden + out, 0);
        bool in_order = true;
        mpi::average_then(*b, world, [&](auto v, std::size_t first, std::size_t count) {
            const std::size_t base = std::is_same_v<decltype(v), fc1::weight> ? 0 : in * hidden;
            for (std::size_t i = first; i < first + count; ++i) {
                ++seen[base + i];
                // divided already when handed over
                in_order = in_order && (*b)[v].data()[i] == (*a)[v].data()[i];
            }
        });
        check(std::memcmp(a->data(), b->data(), flat::size() * sizeof(float)) == 0 &&
                  a->value == b->value && in_order &&
                  std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }),
              "average_then gives average's bits, each element once, divided when handed over");
    }

    // a checkpoint written by rank 0 only, read by every rank
    if (world.rank() == 0) ctgrad::io::save(checkpoint, p);
    world.barrier();
    pack loaded;
    mpi::all_or_none(world, [&] { ctgrad::io::load(checkpoint, loaded); });
    check(bitwise_equal(loaded, p), "rank 0's checkpoint holds every rank's parameters");

    // batch-norm running estimates averaged over the ranks
    nn::state<ctgrad::detail::type_list<
        std::remove_cvref_t<decltype(nn::batch_norm<"bn", 3>::running_mean)>>>
        s;
    for (auto& e : s[nn::batch_norm<"bn", 3>::running_mean]) e = float(world.rank());
    mpi::average(s, world);
    const float expected = float(world.size() - 1) / 2.0f;
    check(s[nn::batch_norm<"bn", 3>::running_mean](1) == expected, "state averaged over the ranks");
    return failures == 0 ? 0 : 1;
}

int read_data(const mpi::communicator& world, const std::string& dir) {
    const std::filesystem::path file =
        std::filesystem::path(dir) / ("rank" + std::to_string(world.rank()) + ".idx");
    std::size_t values = 0;
    try {
        mpi::all_or_none(world, [&] { values = ctgrad::io::read_idx(file).values.size(); });
    } catch (const mpi::error& e) {
        std::fprintf(stderr, "rank %d stopped: %s\n", world.rank(), e.what());
        return 3;
    }
    // the ranks go on together: a collective after the agreement
    world.barrier();
    std::printf("rank %d: read %zu values from %s\n", world.rank(), values, file.c_str());
    return 0;
}

/// MPI initialized by the program with MPI_THREAD_SINGLE: an environment (which needs
/// MPI_THREAD_FUNNELED for ctgrad's worker threads) refuses it with an error naming both levels.
int thread_level(int argc, char** argv, int asked) {
    int provided = -1;
    if (MPI_Init_thread(&argc, &argv, asked, &provided) != MPI_SUCCESS) return 1;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    rank_ = rank;
    if (provided >= MPI_THREAD_FUNNELED) {
        // MPI gave more than it was asked for: the default (FUNNELED) cannot be refused here.
        // What can be checked: the level it gave is accepted, and any level above it refused.
        bool accepted = true;
        try {
            mpi::environment env(argc, argv, provided);
        } catch (const mpi::error&) {
            accepted = false;
        }
        check(accepted, "an environment asking for the level MPI gave (" +
                            mpi::thread_level_name(provided) + ") accepts it");
        if (provided >= MPI_THREAD_MULTIPLE) {
            // nothing above MULTIPLE to refuse: the refusal itself is not tested on this MPI
            std::printf(
                "rank %d: skipped: MPI gives MPI_THREAD_MULTIPLE when asked for %s; no "
                "level to refuse\n",
                rank, mpi::thread_level_name(asked).c_str());
            MPI_Finalize();
            return failures == 0 ? 77 : 1;
        }
        std::string what;
        try {
            mpi::environment env(argc, argv, MPI_THREAD_MULTIPLE);
        } catch (const mpi::error& e) {
            what = e.what();
        }
        check(what.find("MPI_THREAD_MULTIPLE") != std::string::npos &&
                  what.find(mpi::thread_level_name(provided)) != std::string::npos,
              "an environment asking for more than MPI gave refuses it (" + what + ")");
    } else {
        std::string what;
        try {
            mpi::environment env(argc, argv);
        } catch (const mpi::error& e) {
            what = e.what();
        }
        check(what.find("MPI_THREAD_SINGLE") != std::string::npos &&
                  what.find("MPI_THREAD_FUNNELED") != std::string::npos,
              "an environment refuses MPI_THREAD_SINGLE (" + what + ")");
        // with the level it has, it is accepted
        bool accepted = true;
        try {
            mpi::environment env(argc, argv, MPI_THREAD_SINGLE);
        } catch (const mpi::error&) {
            accepted = false;
        }
        check(accepted, "an environment asking for MPI_THREAD_SINGLE accepts it");
    }
    MPI_Finalize();
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc == 2 && std::string(argv[1]) == "thread-level")
        return thread_level(argc, argv, MPI_THREAD_SINGLE);
    if (argc == 2 && std::string(argv[1]) == "thread-level-funneled")
        return thread_level(argc, argv, MPI_THREAD_FUNNELED);
    mpi::environment env(argc, argv);
    const mpi::communicator world;
    rank_ = world.rank();
    if (argc == 3 && std::string(argv[1]) == "train") return train(world, argv[2]);
    if (argc == 3 && std::string(argv[1]) == "data") return read_data(world, argv[2]);
    std::fprintf(stderr,
                 "usage: test_parallel_mpi train CHECKPOINT | data DIR | thread-level | "
                 "thread-level-funneled\n");
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank_, e.what());
    return 1;
}
