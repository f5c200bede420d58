// Fashion-MNIST with a 784-100-10 ReLU network, softmax cross-entropy and Adam.
//
//   fashion_mnist [--data DIR] [--epochs N] [--max-batches N] [--csv FILE] [--seed S]
//                 [--checkpoint FILE] [--resume FILE] [--stop-after E] [--gradual-underflow 1]
//                 [--train-accuracy 0|1] [--help]
//
// --train-accuracy 0 skips the evaluation of the whole training set after each epoch (NaN in
// the CSV's train_accuracy column), as fashion_mnist_cnn's: most of a short run's time.
//
// --checkpoint saves the parameters and Adam's state (moments, step count) after every epoch;
// --resume continues such a run (same --epochs, --seed and --max-batches) from the epoch after
// the checkpoint's, with the same data order and learning rates as an uninterrupted run (the
// same final parameters, bit for bit). --stop-after E ends the run after epoch E, as an
// interruption would.
//
// The training loop holds a ctgrad::ftz_scope (flush-to-zero, denormals-are-zero; see
// math/fpenv.hpp): without it, Adam's moments of weights whose gradient is exactly zero (dead
// ReLU units) decay into subnormal numbers after ~700 steps, and on processors with a slow
// subnormal path (Intel's) the run takes twice as long. `--gradual-underflow 1` runs without
// it (and opts the library's entry points out too), to see that.
//
// Reads the IDX files of Debian's dataset-fashion-mnist (or DIR), trains with Adam and a cosine
// learning-rate schedule (1e-3 to 1e-5 over the run), mini-batches of 64 in a seeded random
// order (the last 60000 % 64 = 32 samples are a final batch of 32, with
// its own compiled program), shows progress (a bar on a terminal, plain lines otherwise) with
// the running training accuracy of the epoch, writes per-epoch metrics to a CSV, and ends with
// `test accuracy: NN.N%`. Exit status 77 (meson's "skipped") when the data set is not
// installed.
//
// The running accuracy costs no second forward pass: the training step also differentiates
// with respect to the targets Y, and ∂loss/∂Y = (lse − logits)/N (the negative
// log-probabilities over N, see softmax_cross_entropy_op), whose smallest entry in a row is
// where the largest logit is. That adds a [64, 10] buffer and 640 exp to a step. (The
// predictions are those of the parameters before each step, as in the loss shown next to it.)
#include <cmath>
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
#include <ctgrad/nn/optim.hpp>

#include "support/cli.hpp"

namespace nn = ctgrad::nn;
namespace fs = std::filesystem;

constexpr std::size_t train_n = 60000, test_n = 10000, pixels = 784, classes = 10;
constexpr std::size_t batch = 64, eval_batch = 1000;
using order_t = nn::batches<batch, train_n>;

using fc1 = nn::dense<"fc1", pixels, 100>;
using fc2 = nn::dense<"fc2", 100, classes>;
constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});

template <std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, pixels>>;
template <std::size_t B>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, B, classes>>;
template <std::size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);
// The parameters and, for the running accuracy, the targets (see the file comment).
template <std::size_t B>
constexpr auto step_wrt = ctgrad::wrt(fc1::W, fc1::b, fc2::W, fc2::b, Y<B>);

namespace {

struct options {
    fs::path data = "/usr/share/datasets/fashion-mnist";
    int epochs = 15;
    long max_batches = -1;  // per epoch, for smoke runs
    std::string csv = "fashion_mnist_metrics.csv";
    std::string checkpoint;          // saved after every epoch when given
    std::string resume;              // a checkpoint to continue from
    int stop_after = -1;             // end after this epoch (-1: run all)
    bool gradual_underflow = false;  // keep subnormal numbers (slow on many processors)
    bool train_accuracy = true;      // evaluate the whole training set after each epoch
    unsigned long seed = 1;
};

options parse(int argc, char** argv) {
    options o;
    example::command_line("usage: fashion_mnist [options]")
        .add("--data", "DIR", "the IDX files (default /usr/share/datasets/fashion-mnist)", o.data)
        .add("--epochs", "N", "epochs to train (default 15)", o.epochs)
        .add("--max-batches", "N",
             "batches per epoch, for smoke runs (default: all 937 + the last 32)", o.max_batches)
        .add("--csv", "FILE", "per-epoch metrics (default fashion_mnist_metrics.csv)", o.csv)
        .add("--seed", "S", "initialisation and data order (default 1)", o.seed)
        .add("--checkpoint", "FILE", "save parameters and Adam's state after every epoch",
             o.checkpoint)
        .add("--resume", "FILE", "continue a run from such a checkpoint (same --epochs, --seed)",
             o.resume)
        .add("--stop-after", "E", "end after epoch E, as an interruption would", o.stop_after)
        .add("--gradual-underflow", "1",
             "keep subnormal numbers (no FTZ/DAZ; slow on many processors)", o.gradual_underflow)
        .add("--train-accuracy", "0|1",
             "evaluate the whole training set after each epoch (default 1; 0: faster, NaN in "
             "the CSV)",
             o.train_accuracy)
        .parse(argc, argv);
    return o;
}

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

template <class Pack>
double accuracy(const Pack& params, const std::vector<float>& images,
                const std::vector<std::uint8_t>& labels) {
    static ctgrad::program eval(net(X<eval_batch>));
    std::size_t right = 0;
    for (std::size_t first = 0; first + eval_batch <= labels.size(); first += eval_batch) {
        const auto x = ctgrad::view<eval_batch, pixels>(images.data() + first * pixels);
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
    // Flush-to-zero and denormals-are-zero for the whole training loop (see the file comment);
    // the library's entry points would set them per call anyway, unless opted out.
    ctgrad::set_flush_subnormals(!opt.gradual_underflow);
    const ctgrad::ftz_scope ftz(!opt.gradual_underflow);
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
        first_epoch = example::epoch_after(opt.resume, step, steps_per_epoch);
        for (int e = 1; e < first_epoch; ++e) order.shuffle();
        std::printf("resumed from %s after epoch %d\n", opt.resume.c_str(), first_epoch - 1);
    }
    ctgrad::program step_full(loss<batch>, step_wrt<batch>);
    ctgrad::program step_rest(loss<order_t::rest>, params.wrt());
    auto x = std::make_unique<ctgrad::tensor<float, batch, pixels>>();
    auto y = std::make_unique<ctgrad::tensor<float, batch, classes>>();
    auto xr = std::make_unique<ctgrad::tensor<float, order_t::rest, pixels>>();
    auto yr = std::make_unique<ctgrad::tensor<float, order_t::rest, classes>>();

    std::ofstream csv(opt.csv, opt.resume.empty() ? std::ios::out : std::ios::app);
    if (opt.resume.empty()) csv << "epoch,train_loss,train_accuracy,test_accuracy,seconds\n";
    example::progress bar(batch);
    std::size_t seen = 0;
    std::printf("Fashion-MNIST: 784-100-10 ReLU, softmax cross-entropy, Adam, batch %zu\n", batch);
    for (int epoch = first_epoch; epoch <= opt.epochs; ++epoch) {
        order.shuffle();
        double loss_sum = 0;
        std::size_t right = 0;  // training samples of this epoch classified correctly so far
        for (std::size_t k = 0; k < batches; ++k) {
            order.gather(k, train.pixels.data(), *x);
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
            order.gather_rest(train_onehot.data(), *yr);
            const auto g =
                step_rest.gradient(params, X<order_t::rest> = *xr, Y<order_t::rest> = *yr);
            optimizer.lr = schedule(step++);
            optimizer.step(params, g);
            seen += order_t::rest;
        }
        const double train_acc =
            opt.train_accuracy ? accuracy(params, train.pixels, train_y) : std::nan("");
        const double test_acc = accuracy(params, test.pixels, test_y);
        const double secs = bar.seconds();
        bar.end_epoch();
        char train_text[32] = "not measured";  // --train-accuracy 0
        if (opt.train_accuracy)
            std::snprintf(train_text, sizeof train_text, "%.1f%%", 100 * train_acc);
        std::printf("epoch %d: loss %.4f, train accuracy %s, test accuracy %.1f%%, %.1f s\n", epoch,
                    loss_sum / double(batches), train_text, 100 * test_acc, secs);
        if (!opt.checkpoint.empty()) ctgrad::io::save(opt.checkpoint, params, optimizer);
        csv << epoch << ',' << loss_sum / double(batches) << ',' << train_acc << ',' << test_acc
            << ',' << secs << '\n';
        if (epoch == opt.stop_after) {
            std::printf("stopped after epoch %d\n", epoch);
            return 0;
        }
    }
    const double final_acc = accuracy(params, test.pixels, test_y);
    std::printf("test accuracy: %.1f%%\n", 100 * final_acc);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 1;
}
