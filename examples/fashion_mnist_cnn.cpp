// Fashion-MNIST with a LeNet-style convolutional network: conv 1→6 5×5 (padding 2), ReLU,
// max-pool 2; conv 6→16 5×5, ReLU, max-pool 2; dense 400→120→84→10 with ReLU; softmax
// cross-entropy; Adam with a cosine learning-rate schedule (1e-3 to 1e-5 over the run).
//
//   fashion_mnist_cnn [--data DIR] [--epochs N] [--max-batches N] [--csv FILE] [--seed S]
//                     [--checkpoint FILE] [--resume FILE] [--stop-after E] [--augment PIXELS]
//                     [--flip 0|1] [--help]
//
// As examples/fashion_mnist.cpp (the 784-100-10 MLP): seeded batches of 64 (the last 32 samples
// a batch of their own), a progress bar (plain lines when not on a terminal) with the running
// training accuracy, per-epoch metrics in a CSV, checkpoints of the parameters and Adam's state
// after every epoch (--resume continues bit for bit), `test accuracy: NN.N%` at the end, exit
// status 77 when the data set is not installed. --augment P shifts every training image by up
// to P pixels in each direction (seeded, zeros shifted in) and --flip 1 mirrors half of them
// left to right (nn::augment, applied in place after a batch is gathered; off by default).
#include <unistd.h>  // isatty

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/io/idx.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
namespace fs = std::filesystem;

constexpr std::size_t train_n = 60000, test_n = 10000, pixels = 784, classes = 10;
constexpr std::size_t batch = 64, eval_batch = 1000;
using order_t = nn::batches<batch, train_n>;

constexpr std::size_t side = 28;

using c1 = nn::conv2d<"c1", 1, 6, 5, 1, 2>;  // [N, 1, 28, 28] -> [N, 6, 28, 28]
using c2 = nn::conv2d<"c2", 6, 16, 5>;       // [N, 6, 14, 14] -> [N, 16, 10, 10]
using fc1 = nn::dense<"fc1", 16 * 5 * 5, 120>;
using fc2 = nn::dense<"fc2", 120, 84>;
using fc3 = nn::dense<"fc3", 84, classes>;
constexpr auto net =
    nn::sequential(c1{}, nn::relu, nn::max_pool2d<2>{}, c2{}, nn::relu, nn::max_pool2d<2>{},
                   nn::flatten, fc1{}, nn::relu, fc2{}, nn::relu, fc3{});

template <std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, 1, side, side>>;
template <std::size_t B>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, B, classes>>;
template <std::size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);
// The parameters and, for the running accuracy, the targets (see examples/fashion_mnist.cpp).
template <std::size_t B>
constexpr auto step_wrt = ctgrad::wrt(c1::W, c1::b, c2::W, c2::b, fc1::W, fc1::b, fc2::W, fc2::b,
                                      fc3::W, fc3::b, Y<B>);

namespace {

struct options {
    fs::path data = "/usr/share/datasets/fashion-mnist";
    int epochs = 15;
    long max_batches = -1;  // per epoch, for smoke runs
    std::string csv = "fashion_mnist_cnn_metrics.csv";
    std::string checkpoint;  // saved after every epoch when given
    std::string resume;      // a checkpoint to continue from
    int stop_after = -1;     // end after this epoch (-1: run all)
    unsigned long seed = 1;
    int augment = 0;  // pixels of random shift (0: none)
    bool flip = false;
};

const char* const usage =
    "usage: fashion_mnist_cnn [options]\n"
    "  --data DIR         the IDX files (default /usr/share/datasets/fashion-mnist)\n"
    "  --epochs N         epochs to train (default 15)\n"
    "  --max-batches N    batches per epoch, for smoke runs (default: all 937 + the last 32)\n"
    "  --csv FILE         per-epoch metrics (default fashion_mnist_cnn_metrics.csv)\n"
    "  --seed S           initialisation, data order and augmentation (default 1)\n"
    "  --checkpoint FILE  save parameters and Adam's state after every epoch\n"
    "  --resume FILE      continue a run from such a checkpoint (same --epochs, --seed)\n"
    "  --stop-after E     end after epoch E, as an interruption would\n"
    "  --augment P        shift training images by up to P pixels (default 0: off)\n"
    "  --flip 0|1         mirror half of the training images left to right (default 0)\n"
    "  --help             this text\n";

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        }
    }
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            throw std::invalid_argument(std::string("option ") + argv[i] + " needs a value");
        }
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--data")
            o.data = v;
        else if (k == "--epochs")
            o.epochs = std::stoi(v);
        else if (k == "--max-batches")
            o.max_batches = std::stol(v);
        else if (k == "--csv")
            o.csv = v;
        else if (k == "--seed")
            o.seed = std::stoul(v);
        else if (k == "--checkpoint")
            o.checkpoint = v;
        else if (k == "--resume")
            o.resume = v;
        else if (k == "--stop-after")
            o.stop_after = std::stoi(v);
        else if (k == "--augment")
            o.augment = std::stoi(v);
        else if (k == "--flip")
            o.flip = std::stoi(v) != 0;
        else
            throw std::invalid_argument("unknown option " + k + " (--help lists them)");
    }
    return o;
}

/// Progress: a redrawn bar on a terminal, a plain line every `every` batches otherwise.
struct progress {
    bool tty = isatty(STDOUT_FILENO) != 0;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    void show(int epoch, int epochs, std::size_t done, std::size_t total, double loss, double acc,
              std::size_t samples) const {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double rate = samples / (secs > 0 ? secs : 1e-9);
        const double eta = (double(total - done) * batch) / (rate > 0 ? rate : 1);
        if (tty) {
            const int width = 30, filled = int(width * double(done) / double(total));
            std::printf(
                "\repoch %d/%d [%.*s%*s] %zu/%zu loss %.4f train acc %.1f%% %.0f samples/s ETA "
                "%.0fs ",
                epoch, epochs, filled, "==============================", width - filled, "", done,
                total, loss, 100 * acc, rate, eta);
            std::fflush(stdout);
        } else if (done % 200 == 0 || done == total) {
            std::printf(
                "epoch %d/%d batch %zu/%zu loss %.4f train acc %.1f%% %.0f samples/s ETA %.0fs\n",
                epoch, epochs, done, total, loss, 100 * acc, rate, eta);
        }
    }
};

/// How many rows of a batch the network classifies correctly, from the gradient with respect
/// to the targets, d[r][c] = (lse_r − logit_rc)/N: the smallest entry of a row is the largest
/// logit. `first` is the batch's first position in the epoch's order.
template <class Grad, class Order>
std::size_t correct_in_batch(const Grad& d, const Order& order, std::size_t first,
                             const std::vector<std::uint8_t>& labels) {
    std::size_t right = 0;
    for (std::size_t r = 0; r < Grad::shape[0]; ++r) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < classes; ++c) best = d(r, c) < d(r, best) ? c : best;
        right += best == labels[order[first + r]];
    }
    return right;
}

/// The augmentation chosen on the command line: nn::augment takes its shift as a template
/// argument, so each of the four is compiled and one is used.
struct augmenter {
    int shift;
    bool flip;
    nn::augment<1> a1;
    nn::augment<2> a2;
    nn::augment<3> a3;
    nn::augment<0> a0;
    augmenter(std::uint64_t seed, int s, bool f)
        : shift(s), flip(f), a1(seed, f), a2(seed, f), a3(seed, f), a0(seed, f) {}
    template <class Batch>
    void operator()(Batch& x) {
        if (shift == 0 && !flip) return;
        if (shift == 0) a0(x);
        if (shift == 1) a1(x);
        if (shift == 2) a2(x);
        if (shift == 3) a3(x);
    }
};

template <class Pack>
double accuracy(const Pack& params, const std::vector<float>& images,
                const std::vector<std::uint8_t>& labels) {
    static ctgrad::program eval(net(X<eval_batch>));
    std::size_t right = 0;
    for (std::size_t first = 0; first + eval_batch <= labels.size(); first += eval_batch) {
        const auto x = ctgrad::view<eval_batch, 1, side, side>(images.data() + first * pixels);
        const auto logits = eval.value(params, X<eval_batch> = x);
        for (std::size_t r = 0; r < eval_batch; ++r) {
            std::size_t best = 0;
            for (std::size_t c = 1; c < classes; ++c)
                best = logits(r, c) > logits(r, best) ? c : best;
            right += best == labels[first + r];
        }
    }
    return double(right) / double(labels.size() - labels.size() % eval_batch);
}

}  // namespace

int main(int argc, char** argv) try {
    const options opt = parse(argc, argv);
    if (!ctgrad::io::has_mnist(opt.data)) {
        std::printf(
            "Fashion-MNIST not found in %s (Debian: apt-get install dataset-fashion-mnist)\n",
            opt.data.c_str());
        return 77;
    }
    const ctgrad::io::mnist_dataset data = ctgrad::io::read_mnist(opt.data);
    const auto& train = data.train.images;
    const auto& train_y = data.train.labels;
    const auto& test = data.test.images;
    const auto& test_y = data.test.labels;
    if (train.pixels.size() != train_n * pixels || train_y.size() != train_n ||
        test.pixels.size() != test_n * pixels || test_y.size() != test_n) {
        std::fprintf(stderr, "unexpected data set sizes\n");
        return 1;
    }
    const std::vector<float> train_onehot = ctgrad::io::one_hot<classes>(train_y);

    nn::parameters_of<decltype(net)> params;
    nn::init::he(params, opt.seed);
    nn::adam optimizer(params, {.lr = 1e-3f});
    const std::size_t batches = opt.max_batches >= 0 && std::size_t(opt.max_batches) < order_t::full
                                    ? std::size_t(opt.max_batches)
                                    : order_t::full;
    const std::size_t steps_per_epoch =
        batches + (batches == order_t::full && order_t::rest > 0 ? 1 : 0);
    const nn::cosine schedule{1e-3f, 1e-5f, std::size_t(opt.epochs) * steps_per_epoch};
    std::size_t step = 0;
    int first_epoch = 1;
    order_t order(opt.seed);
    if (!opt.resume.empty()) {
        // the parameters and Adam's state (moments, step count) of the end of an epoch; the
        // epochs before it are replayed only as far as the data order goes
        ctgrad::io::load(opt.resume, params, optimizer);
        step = optimizer.steps();
        if (step % steps_per_epoch != 0) {
            throw std::runtime_error(opt.resume + ": " + std::to_string(step) +
                                     " steps is not a whole number of epochs of " +
                                     std::to_string(steps_per_epoch) + " steps");
        }
        first_epoch = int(step / steps_per_epoch) + 1;
        for (int e = 1; e < first_epoch; ++e) order.shuffle();
        std::printf("resumed from %s after epoch %d\n", opt.resume.c_str(), first_epoch - 1);
    }
    ctgrad::program step_full(loss<batch>, step_wrt<batch>);
    ctgrad::program step_rest(loss<order_t::rest>, params.wrt());
    auto x = std::make_unique<ctgrad::tensor<float, batch, 1, side, side>>();
    auto y = std::make_unique<ctgrad::tensor<float, batch, classes>>();
    auto xr = std::make_unique<ctgrad::tensor<float, order_t::rest, 1, side, side>>();
    auto yr = std::make_unique<ctgrad::tensor<float, order_t::rest, classes>>();

    std::ofstream csv(opt.csv, opt.resume.empty() ? std::ios::out : std::ios::app);
    if (opt.resume.empty()) csv << "epoch,train_loss,train_accuracy,test_accuracy,seconds\n";
    progress bar;
    std::size_t seen = 0;
    if (opt.augment < 0 || opt.augment > 3) {
        throw std::invalid_argument("--augment must be 0, 1, 2 or 3 pixels");
    }
    augmenter augment(opt.seed + 1, opt.augment, opt.flip);
    std::printf(
        "Fashion-MNIST: LeNet-style CNN (conv 6@5x5, pool, conv 16@5x5, pool, 120-84-10), "
        "softmax cross-entropy, Adam, batch %zu%s\n",
        batch, opt.augment > 0 || opt.flip ? ", augmented" : "");
    for (int epoch = first_epoch; epoch <= opt.epochs; ++epoch) {
        order.shuffle();
        double loss_sum = 0;
        std::size_t right = 0;  // training samples of this epoch classified correctly so far
        for (std::size_t k = 0; k < batches; ++k) {
            order.gather(k, train.pixels.data(), *x);
            augment(*x);
            order.gather(k, train_onehot.data(), *y);
            const auto g = step_full.gradient(params, X<batch> = *x, Y<batch> = *y);
            optimizer.lr = schedule(step++);
            optimizer.step(params, g);
            loss_sum += g.value;
            right += correct_in_batch(g[Y<batch>], order, k * batch, train_y);
            seen += batch;
            bar.show(epoch, opt.epochs, k + 1, batches, loss_sum / double(k + 1),
                     double(right) / double((k + 1) * batch), seen);
        }
        if (batches == order_t::full) {  // the last 32 samples: a batch of their own
            order.gather_rest(train.pixels.data(), *xr);
            augment(*xr);
            order.gather_rest(train_onehot.data(), *yr);
            const auto g =
                step_rest.gradient(params, X<order_t::rest> = *xr, Y<order_t::rest> = *yr);
            optimizer.lr = schedule(step++);
            optimizer.step(params, g);
            seen += order_t::rest;
        }
        const double train_acc = accuracy(params, train.pixels, train_y);
        const double test_acc = accuracy(params, test.pixels, test_y);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - bar.start).count();
        if (bar.tty) std::printf("\n");
        std::printf("epoch %d: loss %.4f, train accuracy %.1f%%, test accuracy %.1f%%, %.1f s\n",
                    epoch, loss_sum / double(batches), 100 * train_acc, 100 * test_acc, secs);
        if (!opt.checkpoint.empty()) ctgrad::io::save(opt.checkpoint, params, optimizer);
        csv << epoch << ',' << loss_sum / double(batches) << ',' << train_acc << ',' << test_acc
            << ',' << secs << std::endl;  // flushed: a long run can be followed
        std::fflush(stdout);
        if (epoch == opt.stop_after) {
            std::printf("stopped after epoch %d\n", epoch);
            return 0;
        }
    }
    const double final_acc = accuracy(params, test.pixels, test_y);
    std::printf("test accuracy: %.1f%%\n", 100 * final_acc);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_cnn: %s\n", e.what());
    return 1;
}
