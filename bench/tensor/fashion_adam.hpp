/// @file Training epochs on Fashion-MNIST with Adam, as examples/fashion_mnist.cpp trains (issue
/// 13): the 784-100-10 ReLU MLP of fashion_epoch.hpp, softmax cross-entropy, Adam (lr 1e-3,
/// β = 0.9, 0.999, ε = 1e-8, bias correction), batches of 64 in an order reshuffled every epoch
/// plus the last batch of 32. Timed by fashion_epoch_bench.cpp as
///
/// - `fashion_adam_epoch_first/<impl>`: the first epoch from the initial parameters (a fresh
///   impl per iteration, constructed outside the timing);
/// - `fashion_adam_epoch_late/<impl>`: an epoch after `warm_epochs` untimed epochs (one impl per
///   process that keeps training: every iteration is the next epoch). By then Adam's moments of
///   weights that stopped receiving gradient (dead ReLU units, zero pixels) have decayed into
///   the subnormal range, where they stay: a processor that handles subnormals slowly shows it
///   here, not in the first epoch.
///
/// The impls, all from `full_case::make_params()`:
/// - `ctgrad`: the example's code: nn::dense layers, program::gradient bound to the parameter
///   pack, nn::adam::step. The library's entry points run with FTZ/DAZ (math/fpenv.hpp).
/// - `runtime_graph`: the define-by-run baseline's step (fashion_epoch.hpp) with backward, then
///   Adam written out over the leaves' values and gradients (the same formula as nn::adam). No
///   FTZ/DAZ: a simple dynamic engine does not set them.
/// - `libtorch`: LibTorch's own torch::optim::Adam (zero_grad, backward, step) on one thread,
///   as a LibTorch user writes it; LibTorch leaves FTZ/DAZ off by default.
/// - `libtorch_ftz`: the same with LibTorch's flush-denormal switch on during the epoch
///   (at::globalContext().setFlushDenormal, what torch.set_flush_denormal(True) does).
#pragma once

#include <cmath>   // std::sqrt, std::pow
#include <memory>  // std::unique_ptr
#include <vector>  // std::vector

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/optim.hpp>

#include "fashion_epoch.hpp"

namespace fashion_adam {

using namespace fashion_epoch;

inline constexpr float adam_lr = 1e-3f;
/// Epochs trained before the late epochs are timed.
inline constexpr int warm_epochs = 3;

/// One epoch of Impl in the order `order` (reshuffled first, as the example does every epoch):
/// Impl has the views of fashion_epoch's impls and step_full(), step_rest() (one Adam step,
/// returning the loss before it).
template <class Impl>
epoch_result run_adam_epoch(Impl& impl, order_t& order, const dataset& data) {
    order.shuffle();
    epoch_result r;
    double total = 0.0;
    auto x = impl.full_x();
    auto y = impl.full_y();
    for (size_t k = 0; k < order_t::full; ++k) {
        order.gather(k, data.images.data(), x);
        order.gather(k, data.one_hot.data(), y);
        const double loss = impl.step_full();
        if (k == 0) r.first_loss = loss;
        total += double(batch) * loss;
    }
    auto xr = impl.rest_x();
    auto yr = impl.rest_y();
    order.gather_rest(data.images.data(), xr);
    order.gather_rest(data.one_hot.data(), yr);
    total += double(rest) * impl.step_rest();
    r.mean_loss = total / double(train_n);
    return r;
}

// --- ctgrad: the example's code ---

namespace nn = ctgrad::nn;
using fc1 = nn::dense<"fc1", pixels, hidden>;
using fc2 = nn::dense<"fc2", hidden, classes>;
inline constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});
template <size_t B>
inline constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, B, pixels>>;
template <size_t B>
inline constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, B, classes>>;
template <size_t B>
inline constexpr auto loss = ctgrad::softmax_cross_entropy(net(X<B>), Y<B>);
using pack_t = nn::parameters_of<decltype(net)>;

class ctgrad_adam_impl {
public:
    explicit ctgrad_adam_impl(const params& p0)
        : opt_(p_, {.lr = adam_lr}),
          full_(loss<batch>, p_.wrt()),
          rest_prog_(loss<rest>, p_.wrt()),
          x_(std::make_unique<ctgrad::tensor<float, batch, pixels>>()),
          y_(std::make_unique<ctgrad::tensor<float, batch, classes>>()),
          xr_(std::make_unique<ctgrad::tensor<float, rest, pixels>>()),
          yr_(std::make_unique<ctgrad::tensor<float, rest, classes>>()) {
        p_[fc1::W] = p0.w1;
        p_[fc1::b] = p0.b1;
        p_[fc2::W] = p0.w2;
        p_[fc2::b] = p0.b2;
    }

    ctgrad::tensor_view<float, batch, pixels> full_x() { return *x_; }
    ctgrad::tensor_view<float, batch, classes> full_y() { return *y_; }
    ctgrad::tensor_view<float, rest, pixels> rest_x() { return *xr_; }
    ctgrad::tensor_view<float, rest, classes> rest_y() { return *yr_; }

    float step_full() {
        const auto g = full_.gradient(p_, X<batch> = *x_, Y<batch> = *y_);
        opt_.step(p_, g);
        return g.value;
    }
    float step_rest() {
        const auto g = rest_prog_.gradient(p_, X<rest> = *xr_, Y<rest> = *yr_);
        opt_.step(p_, g);
        return g.value;
    }

private:
    pack_t p_;
    nn::adam<pack_t> opt_;
    ctgrad::program<std::remove_cvref_t<decltype(loss<batch>)>, decltype(pack_t{}.wrt())> full_;
    ctgrad::program<std::remove_cvref_t<decltype(loss<rest>)>, decltype(pack_t{}.wrt())> rest_prog_;
    std::unique_ptr<ctgrad::tensor<float, batch, pixels>> x_;
    std::unique_ptr<ctgrad::tensor<float, batch, classes>> y_;
    std::unique_ptr<ctgrad::tensor<float, rest, pixels>> xr_;
    std::unique_ptr<ctgrad::tensor<float, rest, classes>> yr_;
};

// --- runtime_graph: the baseline's step, Adam over its leaves ---

class runtime_graph_adam_impl : public runtime_graph_impl {
public:
    explicit runtime_graph_adam_impl(const params& p0) : runtime_graph_impl(p0) {
        for (const auto& p : leaves()) {
            m_.emplace_back(p.values().size(), 0.0f);
            v_.emplace_back(p.values().size(), 0.0f);
        }
    }

    float step_full() { return adam(backward_full()); }
    float step_rest() { return adam(backward_rest()); }

private:
    /// Adam on every parameter leaf after the step's backward.
    float adam(float loss) {
        ++t_;
        const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        const float bc1 = 1.0f - std::pow(b1, float(t_)), bc2 = 1.0f - std::pow(b2, float(t_));
        const float a = adam_lr / bc1, r = 1.0f / std::sqrt(bc2);
        const auto& ps = leaves();
        for (size_t k = 0; k < ps.size(); ++k) {
            auto& n = ps[k].get();
            float* p = n.value.data();
            const float* g = n.grad.data();
            float* m = m_[k].data();
            float* v = v_[k].data();
            for (size_t i = 0; i < n.value.size(); ++i) {
                m[i] = b1 * m[i] + (1.0f - b1) * g[i];
                v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
                p[i] -= a * m[i] / (std::sqrt(v[i]) * r + eps);
            }
        }
        return loss;
    }

    std::vector<std::vector<float>> m_, v_;
    long t_ = 0;
};

#ifdef CTGRAD_HAVE_LIBTORCH
// --- libtorch: torch::optim::Adam ---

template <bool FlushDenormal>
class libtorch_adam_impl {
public:
    explicit libtorch_adam_impl(const params& p0) {
        mlp_libtorch::use_one_thread();
        p0.visit([&](const auto& t) { params_.push_back(mlp_libtorch::detail::parameter(t)); });
        opt_ = std::make_unique<torch::optim::Adam>(params_,
                                                    torch::optim::AdamOptions(double(adam_lr)));
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

    float step_full() { return step(x_full_, y_full_); }
    float step_rest() { return step(x_rest_, y_rest_); }

    /// The flush-denormal switch for the epoch (the calling thread), off again after it.
    struct epoch_guard {
        epoch_guard() {
            if (FlushDenormal) at::globalContext().setFlushDenormal(true);
        }
        ~epoch_guard() {
            if (FlushDenormal) at::globalContext().setFlushDenormal(false);
        }
        epoch_guard(const epoch_guard&) = delete;
        epoch_guard& operator=(const epoch_guard&) = delete;
    };

private:
    float step(const torch::Tensor& x, const torch::Tensor& y) {
        opt_->zero_grad();
        const torch::Tensor a1 = torch::relu(torch::addmm(params_[1], x, params_[0]));
        torch::Tensor loss = torch::nn::functional::cross_entropy(
            torch::addmm(params_[3], a1, params_[2]), y.argmax(1));
        loss.backward();
        opt_->step();
        return loss.item<float>();
    }

    std::vector<torch::Tensor> params_;  // w1, b1, w2, b2
    std::unique_ptr<torch::optim::Adam> opt_;
    torch::Tensor x_full_, y_full_, x_rest_, y_rest_;
};
#endif  // CTGRAD_HAVE_LIBTORCH

/// What an impl holds during a timed epoch (LibTorch's flush-denormal switch, else nothing).
template <class Impl>
struct epoch_guard_of {
    struct none {};
    using type = none;
};

#ifdef CTGRAD_HAVE_LIBTORCH
template <bool F>
struct epoch_guard_of<libtorch_adam_impl<F>> {
    using type = typename libtorch_adam_impl<F>::epoch_guard;
};
#endif

}  // namespace fashion_adam
