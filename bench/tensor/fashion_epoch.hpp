/// @file One training epoch on Fashion-MNIST, the work that bench/tensor/fashion_epoch_bench.cpp
/// times: the 784-100-10 ReLU MLP of mlp_cases.hpp's `mlp_step_64x784x100x10` (softmax
/// cross-entropy, mean over the batch), trained with plain SGD at a fixed learning rate on the
/// 60000 training images of Debian's dataset-fashion-mnist, in mini-batches of 64.
///
/// An epoch (`run_epoch`) is, for every impl, exactly this:
///
/// - a fresh `ctgrad::nn::batches<64, 60000>` order from a fixed seed, shuffled once (so every
///   impl and every repetition visits the samples in the same order);
/// - for each of the 937 full batches: the 64 image rows (floats in [0, 1], scaled once when
///   the data set is loaded, as examples/fashion_mnist.cpp does) and their one-hot label rows
///   gathered into the memory the impl's step reads, then one SGD step (forward, backward,
///   p ← p − lr·∂L/∂p) that returns the batch's loss before the update;
/// - the last 60000 − 937·64 = 32 samples gathered and stepped as a batch of 32 (ctgrad and
///   hand: a second compiled program / trainer of batch 32; the dynamic impls: the same code on
///   32 rows), never dropped.
///
/// It returns the epoch's training loss, the mean of the 60000 per-sample losses the steps saw
/// (Σ batch·loss / 60000), and the first step's loss.
///
/// The impls, each holding its own parameters, all started from `full_case::make_params()`
/// (mlp_cases.hpp's He-uniform initialisation, the same seed for every impl):
///
/// - `ctgrad_impl`: mlp_ctgrad::trainer of the batch-64 case and of the batch-32 case (two
///   compiled programs, `program::sgd_step`), bound to one parameter set; the batches are
///   gathered into ctgrad tensors, which the programs bind by reference.
/// - `hand_impl`: mlp_hand::trainer (the backprop equations written out) for both batch sizes;
///   not timed, it gives the reference epoch loss and final parameters the others are checked
///   against.
/// - `runtime_graph_impl`: the graph of mlp_runtime_graph.hpp (matmul, add, relu, matmul, add,
///   softmax_cross_entropy, one node each, rebuilt every step; tg::backward; tg::sgd_step on
///   the parameter leaves, which live across steps). The batches are gathered straight into
///   the storage of two data leaves per batch size (no requires_grad), so no copy is added
///   (mlp_runtime_graph::trainer, written for one fixed batch, would copy the parameters out
///   after every step and, rebound to a new batch, in again).
/// - `libtorch_impl` (when CTGRAD_HAVE_LIBTORCH): the step of mlp_libtorch.hpp (addmm, relu,
///   addmm, cross_entropy; loss.backward(); p.sub_(p.grad(), lr) under NoGradGuard and the
///   gradient released), on one thread; the batches are gathered straight into the storage of
///   preallocated input tensors. The loss is `cross_entropy` on the class indices, which the
///   step reads from the one-hot rows with `argmax(1)` (mlp_libtorch.hpp does the same, once);
///   `cross_entropy` with the one-hot rows as probability targets gives the same loss but
///   took 10% longer per epoch here (g++ -O2, LibTorch 1.13).
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t, int64_t
#include <cstdlib>      // std::getenv
#include <exception>    // std::exception
#include <filesystem>   // std::filesystem::path, exists
#include <memory>       // std::unique_ptr, std::make_unique
#include <string>       // std::string
#include <type_traits>  // std::is_same_v
#include <utility>      // std::move
#include <vector>       // std::vector

#include <ctgrad/io/idx.hpp>
#include <ctgrad/nn/data.hpp>
#include <ctgrad/tensor/tensor.hpp>

#include "../baseline/tensor_graph.hpp"
#include "fashion_mnist_train.hpp"
#include "mlp_cases.hpp"
#include "mlp_ctgrad.hpp"
#include "mlp_hand.hpp"
#include "mlp_libtorch.hpp"
#include "mlp_runtime_graph.hpp"

namespace fashion_epoch {

using std::size_t;
namespace tg = ctgrad_baseline::tg;

inline constexpr size_t train_n = 60000;
inline constexpr size_t pixels = 784;
inline constexpr size_t hidden = 100;
inline constexpr size_t classes = 10;
inline constexpr size_t batch = 64;

using order_t = ctgrad::nn::batches<batch, train_n>;
/// The size of the last, partial batch: 60000 = 937·64 + 32.
inline constexpr size_t rest = order_t::rest;
static_assert(order_t::full == 937 && rest == 32);

/// The network of the full batches: mlp_cases's mlp_step_64x784x100x10.
using full_case = mlp_cases::classifier_mlp<float, batch, pixels, hidden, classes>;
static_assert(std::is_same_v<full_case, mlp_cases::mlp_step_64x784x100x10>);
/// The same network on the last 32 samples.
using rest_case = mlp_cases::classifier_mlp<float, rest, pixels, hidden, classes>;
using params = full_case::params;
static_assert(std::is_same_v<params, rest_case::params>);

/// The fixed SGD step size, the same for every impl. Plain SGD on a mean loss: with 0.05 the
/// first batch's loss is 2.47 and the first epoch's training loss 0.628, stable.
inline constexpr float learning_rate = 0.05f;

/// The seed of the shuffle (the same order for every impl and every repetition).
inline constexpr std::uint64_t shuffle_seed = 1;

// --- the data set ---

/// The training set in memory (fashion_mnist_train.hpp): images [60000, 784] in [0, 1], one-hot
/// labels [60000, 10].
using fashion_mnist_train::data_dir;
using fashion_mnist_train::dataset;
using fashion_mnist_train::training_set;

// --- the epoch ---

struct epoch_result {
    /// The epoch's training loss: Σ over the 938 steps of batch size · loss, / 60000.
    double mean_loss = 0.0;
    /// The loss of the first step (batch 0 of the order, at the initial parameters).
    double first_loss = 0.0;
};

/// One epoch of Impl (see the file comment). Impl provides views full_x() [64, 784], full_y()
/// [64, 10], rest_x() [32, 784], rest_y() [32, 10] of the memory its steps read, and
/// step_full(lr), step_rest(lr), each one SGD step returning the loss before it.
template <class Impl>
epoch_result run_epoch(Impl& impl, const dataset& data) {
    order_t order(shuffle_seed);
    order.shuffle();
    epoch_result r;
    double total = 0.0;
    auto x = impl.full_x();
    auto y = impl.full_y();
    for (size_t k = 0; k < order_t::full; ++k) {
        order.gather(k, data.images.data(), x);
        order.gather(k, data.one_hot.data(), y);
        const double loss = impl.step_full(learning_rate);
        if (k == 0) r.first_loss = loss;
        total += double(batch) * loss;
    }
    auto xr = impl.rest_x();
    auto yr = impl.rest_y();
    order.gather_rest(data.images.data(), xr);
    order.gather_rest(data.one_hot.data(), yr);
    total += double(rest) * impl.step_rest(learning_rate);
    r.mean_loss = total / double(train_n);
    return r;
}

// --- the impls ---

/// ctgrad and hand: one trainer per batch size (mlp_ctgrad / mlp_hand interface,
/// `step(params&, const data&, lr)`), both stepping the same parameters; the batches are
/// gathered into the trainers' data tensors.
template <class FullTrainer, class RestTrainer>
class two_trainers {
public:
    explicit two_trainers(const params& p0)
        : p_(std::make_unique<params>(p0)),
          full_(std::make_unique<full_case::data>()),
          rest_(std::make_unique<rest_case::data>()),
          full_trainer_(std::make_unique<FullTrainer>()),
          rest_trainer_(std::make_unique<RestTrainer>()) {}

    ctgrad::tensor_view<float, batch, pixels> full_x() { return full_->x; }
    ctgrad::tensor_view<float, batch, classes> full_y() { return full_->y; }
    ctgrad::tensor_view<float, rest, pixels> rest_x() { return rest_->x; }
    ctgrad::tensor_view<float, rest, classes> rest_y() { return rest_->y; }

    float step_full(float lr) { return full_trainer_->step(*p_, *full_, lr); }
    float step_rest(float lr) { return rest_trainer_->step(*p_, *rest_, lr); }

    void read_params(params& p) const { p = *p_; }

private:
    std::unique_ptr<params> p_;
    std::unique_ptr<full_case::data> full_;
    std::unique_ptr<rest_case::data> rest_;
    std::unique_ptr<FullTrainer> full_trainer_;
    std::unique_ptr<RestTrainer> rest_trainer_;
};

using ctgrad_impl = two_trainers<mlp_ctgrad::trainer<full_case>, mlp_ctgrad::trainer<rest_case>>;
using hand_impl = two_trainers<mlp_hand::trainer<full_case>, mlp_hand::trainer<rest_case>>;

/// The define-by-run baseline (bench/baseline/tensor_graph.hpp), the step of
/// mlp_runtime_graph.hpp.
class runtime_graph_impl {
public:
    explicit runtime_graph_impl(const params& p0) {
        // ctgrad's kernels for every product of both batch sizes (fallback_matmuls() stays 0).
        tg::register_matmul<float, batch, pixels, hidden>();
        tg::register_matmul<float, batch, hidden, classes>();
        tg::register_matmul<float, rest, pixels, hidden>();
        tg::register_matmul<float, rest, hidden, classes>();
        p0.visit(
            [&](const auto& t) { params_.push_back(mlp_runtime_graph::detail::to_leaf(t, true)); });
        x_full_ = data_leaf(batch, pixels);
        y_full_ = data_leaf(batch, classes);
        x_rest_ = data_leaf(rest, pixels);
        y_rest_ = data_leaf(rest, classes);
    }

    ctgrad::tensor_view<float, batch, pixels> full_x() { return storage<batch, pixels>(x_full_); }
    ctgrad::tensor_view<float, batch, classes> full_y() { return storage<batch, classes>(y_full_); }
    ctgrad::tensor_view<float, rest, pixels> rest_x() { return storage<rest, pixels>(x_rest_); }
    ctgrad::tensor_view<float, rest, classes> rest_y() { return storage<rest, classes>(y_rest_); }

    float step_full(float lr) { return step(x_full_, y_full_, lr); }
    float step_rest(float lr) { return step(x_rest_, y_rest_, lr); }

    void read_params(params& p) const {
        size_t k = 0;
        p.visit([&](auto& t) { mlp_runtime_graph::detail::copy_out(params_[k++], t); });
    }

protected:
    /// The graph built from the leaves and backward through it (the parameter leaves' gradients
    /// set); the graph is released on return. Returns the loss.
    float backward(const tg::tensor<float>& x, const tg::tensor<float>& y) {
        const tg::tensor<float> a1 = tg::relu(tg::add(tg::matmul(x, params_[0]), params_[1]));
        const tg::tensor<float> loss =
            tg::softmax_cross_entropy(tg::add(tg::matmul(a1, params_[2]), params_[3]), y);
        tg::backward(loss);
        return loss.item();
    }
    float backward_full() { return backward(x_full_, y_full_); }
    float backward_rest() { return backward(x_rest_, y_rest_); }
    const std::vector<tg::tensor<float>>& leaves() const { return params_; }

private:
    /// mlp_runtime_graph::trainer's classifier step: backward, then SGD on the parameter leaves.
    float step(const tg::tensor<float>& x, const tg::tensor<float>& y, float lr) {
        const float loss = backward(x, y);
        tg::sgd_step(params_, lr);
        return loss;
    }

    static tg::tensor<float> data_leaf(size_t rows, size_t cols) {
        return tg::leaf(std::vector<float>(rows * cols), rows, cols, false);
    }

    /// The leaf's own values, written in place by the gather (set_values would copy).
    template <size_t Rows, size_t Cols>
    static ctgrad::tensor_view<float, Rows, Cols> storage(const tg::tensor<float>& leaf) {
        return ctgrad::view<Rows, Cols>(leaf.get().value);
    }

    std::vector<tg::tensor<float>> params_;  // w1, b1, w2, b2
    tg::tensor<float> x_full_, y_full_, x_rest_, y_rest_;
};

#ifdef CTGRAD_HAVE_LIBTORCH
/// LibTorch with autograd on one thread, the step of mlp_libtorch.hpp.
class libtorch_impl {
public:
    explicit libtorch_impl(const params& p0) {
        mlp_libtorch::use_one_thread();
        p0.visit([&](const auto& t) { params_.push_back(mlp_libtorch::detail::parameter(t)); });
        const auto f32 = mlp_libtorch::detail::options<float>();
        x_full_ = torch::empty({int64_t(batch), int64_t(pixels)}, f32);
        y_full_ = torch::empty({int64_t(batch), int64_t(classes)}, f32);
        x_rest_ = torch::empty({int64_t(rest), int64_t(pixels)}, f32);
        y_rest_ = torch::empty({int64_t(rest), int64_t(classes)}, f32);
    }

    ctgrad::tensor_view<float, batch, pixels> full_x() {
        return ctgrad::view<batch, pixels>(x_full_.data_ptr<float>());
    }
    ctgrad::tensor_view<float, batch, classes> full_y() {
        return ctgrad::view<batch, classes>(y_full_.data_ptr<float>());
    }
    ctgrad::tensor_view<float, rest, pixels> rest_x() {
        return ctgrad::view<rest, pixels>(x_rest_.data_ptr<float>());
    }
    ctgrad::tensor_view<float, rest, classes> rest_y() {
        return ctgrad::view<rest, classes>(y_rest_.data_ptr<float>());
    }

    float step_full(float lr) { return step(x_full_, y_full_, lr); }
    float step_rest(float lr) { return step(x_rest_, y_rest_, lr); }

    void read_params(params& p) const {
        size_t k = 0;
        p.visit([&](auto& t) { mlp_libtorch::detail::from_torch(params_[k++], t); });
    }

private:
    float step(const torch::Tensor& x, const torch::Tensor& y, float lr) {
        const torch::Tensor a1 = torch::relu(torch::addmm(params_[1], x, params_[0]));
        torch::Tensor loss = torch::nn::functional::cross_entropy(
            torch::addmm(params_[3], a1, params_[2]), y.argmax(1));
        loss.backward();
        {
            torch::NoGradGuard no_grad;
            for (torch::Tensor& p : params_) {
                p.sub_(p.grad(), lr);
                p.mutable_grad().reset();
            }
        }
        return loss.item<float>();
    }

    std::vector<torch::Tensor> params_;  // w1, b1, w2, b2
    torch::Tensor x_full_, y_full_, x_rest_, y_rest_;
};
#endif  // CTGRAD_HAVE_LIBTORCH

}  // namespace fashion_epoch
