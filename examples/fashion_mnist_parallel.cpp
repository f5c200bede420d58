// Fashion-MNIST (784-100-10 ReLU, softmax cross-entropy, Adam, cosine schedule) trained on
// several threads, and across processes with MPI: examples/fashion_mnist.cpp's network and
// training, data-parallel (docs/parallel.md).
//
//   fashion_mnist_parallel [--threads T] [--batch G] [--lr R] [--data DIR] [--epochs N]
//                          [--max-batches N] [--seed S] [--checkpoint FILE] [--resume FILE]
//                          [--stop-after E] [--help]
//   mpirun -np 2 fashion_mnist_mpi [the same options]
//
// A global batch of G = 64 (default) or 256 samples per step; Adam's peak step size 1e-3 at
// G = 64 and 4e-3 at G = 256 (scaled linearly with G: with 5 epochs, 4e-3 reached 87.4% test
// accuracy at G = 256, 3e-3 87.3%, 2e-3 86.3%, against 87.1% at G = 64) unless --lr says
// otherwise. With P
// processes (1, 2 or 4) each reads its own G/P rows of every global batch
// (parallel::distributed_batches: the same shuffled order on every rank); with --threads 2 a
// process splits its rows into 2 shards, one per thread (parallel::data_parallel, which for this
// network splits off the first layer: the shards run the layers after X·W1 and the threads
// compute W1's gradient by parts of its rows over all the rows, docs/parallel.md); in one process
// each thread then also takes Adam's step on the slice of the gradient it reduced
// (adam::begin_step, step_range). The gradients are averaged over the shards (in shard order) and
// over the processes (one MPI_Allreduce per step), and every process takes the same Adam step,
// so that every configuration trains the same model up to the rounding of the sums. With one
// thread and one process the step is a plain ctgrad::program over the G rows. The last
// 60000 mod G samples of each shuffled epoch (32 or 96) are left out (as PyTorch's
// DistributedSampler with drop_last). The test accuracy is computed on the threads
// (parallel::evaluator, batches of 1000). Rank 0 prints, and writes the checkpoint.
//
// --checkpoint saves the parameters and Adam's state (moments, step count) after every epoch
// (rank 0); --resume continues such a run (same --epochs, --seed, --batch and --max-batches; any
// thread or process count) from the epoch after the checkpoint's, with the same data order and
// learning rates as an uninterrupted run: every rank reads the file (a shared file system, or a
// copy on every machine; one rank that cannot stops all of them), and the ranks' parameters are
// checked identical before training goes on.
//
// Where meson finds MPI, fashion_mnist_parallel and fashion_mnist_mpi are linked from the one
// object of this file, compiled with CTGRAD_HAVE_MPI (once per build: it is the examples' largest
// TU); a definition of `example_uses_mpi` in a file of its own (examples/support/mpi_off.cpp,
// mpi_on.cpp) tells them apart. fashion_mnist_parallel never initialises MPI: one process, as
// when it is compiled without MPI (and the sanitizer build's leak checker stays on for it: Open
// MPI does not free its own memory, only an initialised MPI allocates).
//
// Exit status 77 (meson's "skipped") when the data set is not installed (on every rank), 1
// when a loss is not finite, the mean loss of the last epoch is not below that of its first
// tenth of batches, or the final test accuracy is not above 30% (chance: 10%).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/io/idx.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/parallel/sampler.hpp>
#include <ctgrad/parallel/threads.hpp>
#ifdef CTGRAD_HAVE_MPI
#include <optional>

#include <ctgrad/parallel/mpi.hpp>
#endif

#include "support/cli.hpp"

#ifdef CTGRAD_HAVE_MPI
#include "support/mpi_mode.hpp"
#endif

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;
namespace fs = std::filesystem;

constexpr std::size_t train_n = 60000, test_n = 10000, pixels = 784, classes = 10;
constexpr std::size_t eval_batch = 1000;

using fc1 = nn::dense<"fc1", pixels, 100>;
using fc2 = nn::dense<"fc2", 100, classes>;
constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});
using pack = nn::parameters_of<decltype(net)>;

template <std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, pixels>>;
template <std::size_t B>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, B, classes>>;
template <std::size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);

namespace {

struct options {
    fs::path data = "/usr/share/datasets/fashion-mnist";
    std::size_t threads = 1;
    std::size_t batch = 64;
    float lr = 0;  // 0: 1e-3 · batch/64
    int epochs = 15;
    long max_batches = -1;
    unsigned long seed = 1;
    std::string checkpoint;
    std::string resume;
    int stop_after = 0;
};

options parse(int argc, char** argv) {
    options o;
    example::command_line(
        "usage: fashion_mnist_parallel [options]\n"
        "       mpirun -np P fashion_mnist_mpi [options]   (P = 1, 2 or 4)")
        .add("--threads", "T", "threads per process, 1 or 2 (default 1)", o.threads)
        .add("--data", "DIR", "the IDX files (default /usr/share/datasets/fashion-mnist)", o.data)
        .add("--batch", "G", "global batch per step, 64 or 256 (default 64)", o.batch)
        .add("--lr", "R", "Adam's peak step (default 1e-3 x G/64)", o.lr)
        .add("--epochs", "N", "epochs to train (default 15)", o.epochs)
        .add("--max-batches", "N", "global batches per epoch, for smoke runs (default: all 937)",
             o.max_batches)
        .add("--seed", "S", "initialisation and data order (default 1)", o.seed)
        .add("--checkpoint", "FILE", "save parameters and Adam's state after every epoch (rank 0)",
             o.checkpoint)
        .add("--resume", "FILE", "continue a run from such a checkpoint (same --epochs, --seed)",
             o.resume)
        .add("--stop-after", "E", "stop after epoch E (to be resumed)", o.stop_after)
        .parse(argc, argv);
    if (o.threads != 1 && o.threads != 2) throw std::invalid_argument("--threads must be 1 or 2");
    if (o.batch != 64 && o.batch != 256) throw std::invalid_argument("--batch must be 64 or 256");
    if (o.lr == 0) o.lr = 1e-3f * float(o.batch) / 64.0f;
    return o;
}

/// The process's place among the processes: MPI's communicator, or a single process.
struct group {
#ifdef CTGRAD_HAVE_MPI
    std::optional<par::mpi::communicator> comm;  // none: one process, MPI not initialised
    std::size_t rank() const {
        return comm ? std::size_t(comm->rank()) : 0;
    }
    std::size_t size() const {
        return comm ? std::size_t(comm->size()) : 1;
    }
    template <class F>
    void all_or_none(F&& f) const {
        if (comm)
            par::mpi::all_or_none(*comm, f);
        else
            f();
    }
    template <class G>
    void average(G& g) const {
        if (comm) par::mpi::average(g, *comm);
    }
    void start(pack& p) const {
        if (comm) par::mpi::broadcast(p, *comm);  // every rank starts from rank 0's parameters
    }
    void finish(const pack& p) const {
        if (comm) par::mpi::check_identical(p, *comm);
    }
#else
    std::size_t rank() const {
        return 0;
    }
    std::size_t size() const {
        return 1;
    }
    template <class F>
    void all_or_none(F&& f) const {
        f();
    }
    template <class G>
    void average(G&) const {}
    void start(pack&) const {}
    void finish(const pack&) const {}
#endif
};

/// Test accuracy on the pool's threads, batches of 1000.
double accuracy(par::evaluator<decltype(net(X<eval_batch>))>& eval, const pack& params,
                const std::vector<float>& images, const std::vector<std::uint8_t>& labels) {
    const std::size_t count = labels.size() / eval_batch;
    std::vector<std::size_t> right(count);
    eval.for_each(count, [&](auto& prog, std::size_t i) {
        const auto x = ctgrad::view<eval_batch, pixels>(images.data() + i * eval_batch * pixels);
        const auto logits = prog.value(params, X<eval_batch> = x);
        std::size_t r = 0;
        for (std::size_t s = 0; s < eval_batch; ++s) {
            std::size_t best = 0;
            for (std::size_t c = 1; c < classes; ++c)
                best = logits(s, c) > logits(s, best) ? c : best;
            r += best == labels[i * eval_batch + s];
        }
        right[i] = r;
    });
    std::size_t total = 0;
    for (const std::size_t r : right) total += r;
    return double(total) / double(count * eval_batch);
}

/// Trains with a global batch of Global rows, Local rows per process per step, on `threads`
/// threads.
template <std::size_t Global, std::size_t Local>
int train(const options& opt, const group& g, const ctgrad::io::mnist_dataset& data,
          const std::vector<float>& onehot) {
    pack params;
    nn::init::he(params, opt.seed);
    g.start(params);
    nn::adam optimizer(params, {.lr = opt.lr});
    par::distributed_batches<Local, train_n> order(opt.seed, g.rank(), g.size());
    const std::size_t batches =
        opt.max_batches >= 0 && std::size_t(opt.max_batches) < order.batches()
            ? std::size_t(opt.max_batches)
            : order.batches();
    const nn::cosine schedule{opt.lr, 1e-5f, std::size_t(opt.epochs) * batches};
    std::size_t step = 0;
    int first_epoch = 1;
    if (!opt.resume.empty()) {
        // Adam's state and the parameters of the end of an epoch, on every rank; the epochs
        // before it are replayed only as far as the data order goes
        g.all_or_none([&] { ctgrad::io::load(opt.resume, params, optimizer); });
        g.finish(params);  // every rank read the same parameters
        step = optimizer.steps();
        first_epoch = example::epoch_after(opt.resume, step, batches);
        for (int e = 1; e < first_epoch; ++e) order.shuffle();
        if (g.rank() == 0)
            std::printf("resumed from %s after epoch %d\n", opt.resume.c_str(), first_epoch - 1);
    }

    par::thread_pool pool(opt.threads);
    par::evaluator eval(pool, net(X<eval_batch>));
    auto x = std::make_unique<ctgrad::tensor<float, Local, pixels>>();
    auto y = std::make_unique<ctgrad::tensor<float, Local, classes>>();
    // one thread, one process: a plain program; else the shards and the reductions
    ctgrad::program whole(loss<Local>, params.wrt());
    auto one = par::make_data_parallel<1>(pool, loss<Local>, params.wrt());
    auto two = par::make_data_parallel<2>(pool, loss<Local / 2>, params.wrt());

    const auto start = std::chrono::steady_clock::now();
    std::size_t seen = 0;
    if (g.rank() == 0) {
        std::printf(
            "Fashion-MNIST: 784-100-10 ReLU, Adam (peak step %g), global batch %zu: %zu "
            "process(es) x %zu thread(s), %zu rows per process\n",
            double(opt.lr), Global, g.size(), opt.threads, Local);
    }
    double first_losses = 0, last_loss = 0;  // the smoke test's check (see the file comment)
    if (first_epoch > 1) first_losses = std::numeric_limits<double>::infinity();  // not seen
    const std::size_t first_tenth = batches / 10 > 0 ? batches / 10 : 1;
    for (int epoch = first_epoch; epoch <= opt.epochs; ++epoch) {
        order.shuffle();
        double loss_sum = 0;
        for (std::size_t k = 0; k < batches; ++k) {
            order.gather(k, data.train.images.pixels.data(), *x);
            order.gather(k, onehot.data(), *y);
            optimizer.lr = schedule(step++);
            if (opt.threads == 1 && g.size() == 1) {
                const auto gr = whole.gradient(params, X<Local> = *x, Y<Local> = *y);
                loss_sum += gr.value;
                optimizer.step(params, gr);
            } else if (opt.threads == 1) {
                auto& gr = one.gradient(params, par::rows(X<Local>, *x), par::rows(Y<Local>, *y));
                g.average(gr);
                loss_sum += gr.value;
                optimizer.step(params, gr);
            } else if (g.size() == 1) {
                // Adam on the threads too: each updates the slice of the gradient it reduced
                optimizer.begin_step();
                const auto& gr = two.gradient_then(
                    [&](auto v, std::size_t first, std::size_t count) {
                        optimizer.step_range(params, two.result(), v, first, count);
                    },
                    params, par::rows(X<Local / 2>, *x), par::rows(Y<Local / 2>, *y));
                loss_sum += gr.value;
            } else {
                auto& gr =
                    two.gradient(params, par::rows(X<Local / 2>, *x), par::rows(Y<Local / 2>, *y));
                g.average(gr);
                loss_sum += gr.value;
                optimizer.step(params, gr);
            }
            seen += Global;
            if (epoch == 1 && k + 1 == first_tenth) first_losses = loss_sum / double(first_tenth);
        }
        last_loss = loss_sum / double(batches);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double test_acc = accuracy(eval, params, data.test.images.pixels, data.test.labels);
        if (g.rank() == 0) {
            std::printf("epoch %d: loss %.4f, test accuracy %.2f%%, %.0f samples/s\n", epoch,
                        loss_sum / double(batches), 100 * test_acc, double(seen) / secs);
            std::fflush(stdout);
        }
        if (!opt.checkpoint.empty() && g.rank() == 0)
            ctgrad::io::save(opt.checkpoint, params, optimizer);
        if (epoch == opt.stop_after) break;
    }
    g.finish(params);  // the same parameters on every rank, bit for bit
    const double final_acc = accuracy(eval, params, data.test.images.pixels, data.test.labels);
    if (g.rank() == 0) std::printf("test accuracy: %.2f%%\n", 100 * final_acc);
    if (!std::isfinite(last_loss) || !(last_loss < first_losses) || final_acc < 0.3) {
        std::fprintf(stderr,
                     "training failed: mean loss %g of the last epoch (first tenth %g), test "
                     "accuracy %.1f%%\n",
                     last_loss, first_losses, 100 * final_acc);
        return 1;
    }
    return 0;
}

int run(int argc, char** argv, const group& g) {
    const options opt = parse(argc, argv);
    ctgrad::io::mnist_dataset data;
    // every rank reads the data set; one that cannot stops them all with its error
    constexpr std::string_view missing = "Fashion-MNIST not found in ";
    try {
        g.all_or_none([&] {
            if (!ctgrad::io::has_mnist(opt.data)) {
                throw std::runtime_error(std::string(missing) + opt.data.string() +
                                         " (Debian: apt-get install dataset-fashion-mnist)");
            }
            data = ctgrad::io::read_mnist(opt.data);
            if (data.train.labels.size() != train_n || data.test.labels.size() != test_n)
                throw std::runtime_error(opt.data.string() + ": unexpected data set sizes");
        });
    } catch (const std::exception& e) {
        const std::string what = e.what();
        std::printf("%s\n", what.c_str());
        return what.find(missing) != std::string::npos ? 77 : 1;
    }
    const std::vector<float> onehot = ctgrad::io::one_hot<classes>(data.train.labels);
    switch (opt.batch * 10 + g.size()) {
    case 641:
        return train<64, 64>(opt, g, data, onehot);
    case 2561:
        return train<256, 256>(opt, g, data, onehot);
#ifdef CTGRAD_HAVE_MPI
    case 642:
        return train<64, 32>(opt, g, data, onehot);
    case 644:
        return train<64, 16>(opt, g, data, onehot);
    case 2562:
        return train<256, 128>(opt, g, data, onehot);
    case 2564:
        return train<256, 64>(opt, g, data, onehot);
#endif
    default:
        throw std::invalid_argument("run with 1, 2 or 4 processes");
    }
}

}  // namespace

int main(int argc, char** argv) try {
#ifdef CTGRAD_HAVE_MPI
    if (example_uses_mpi) {
        par::mpi::environment env(argc, argv);
        const group g{par::mpi::communicator{}};
        try {
            return run(argc, argv, g);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "fashion_mnist_mpi (rank %zu): %s\n", g.rank(), e.what());
            return 1;
        }
    }
#endif
    return run(argc, argv, group{});
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_parallel: %s\n", e.what());
    return 1;
}
