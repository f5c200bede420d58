/// @file The `libtorch` impl of the mlp cases (bench/tensor/mlp_bench.cpp): each step written as
/// a LibTorch user writes it, torch::Tensor operations with autograd. Compiled only when
/// `CTGRAD_HAVE_LIBTORCH` is defined (Debian: libtorch-dev).
///
/// Forward: `torch::addmm(b, a, w)` (= b + a·w, one call) and the activation, the loss with the
/// library's own fused function (`torch::mse_loss` with sum reduction; `cross_entropy` on the
/// class indices of the one-hot targets, mean over the batch); backward: `loss.backward()`;
/// SGD: under `torch::NoGradGuard`, `p.sub_(p.grad(), lr)` for each parameter, then the
/// gradient is released (`set_to_none`, what `optimizer.zero_grad()` does by default since
/// PyTorch 2.0), so the next backward assigns it instead of adding to zeros.
///
/// Threads: `use_one_thread()` sets ATen's intra-op threads to 1 (at::set_num_threads), and
/// also OpenBLAS's when the process has it loaded: Debian's LibTorch does its matrix products
/// with OpenBLAS, whose thread pool at::set_num_threads does not size. (Setting
/// `OPENBLAS_NUM_THREADS=1` and `OMP_NUM_THREADS=1` in the environment does the same.)
///
/// Build: the headers are /usr/include and /usr/include/torch/csrc/api/include (pass the latter
/// with -isystem: LibTorch's headers are not -Wpedantic clean); link -ltorch -ltorch_cpu -lc10.
/// Debian ships TorchConfig.cmake but no pkg-config file.
#pragma once

#ifdef CTGRAD_HAVE_LIBTORCH

#include <dlfcn.h>  // dlsym (OpenBLAS's thread setter, if loaded)

#include <cstddef>      // std::size_t
#include <cstring>      // std::memcpy
#include <type_traits>  // std::is_same_v
#include <vector>       // std::vector (the parameter list)

#include <torch/torch.h>

#include "mlp_cases.hpp"

namespace mlp_libtorch {

using std::size_t;

/// One intra-op thread for ATen, and for OpenBLAS when loaded.
inline void use_one_thread() {
    at::set_num_threads(1);
    using setter = void (*)(int);
    if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
        reinterpret_cast<setter>(f)(1);
    }
}

namespace detail {

template <class T>
torch::TensorOptions options() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    return torch::TensorOptions().dtype(std::is_same_v<T, float> ? torch::kFloat32
                                                                 : torch::kFloat64);
}

/// A torch tensor holding a copy of t, with t's shape.
template <class Tensor>
torch::Tensor to_torch(const Tensor& t) {
    using T = typename Tensor::value_type;
    std::vector<int64_t> shape(Tensor::shape.begin(), Tensor::shape.end());
    return torch::from_blob(const_cast<T*>(t.data()), shape, options<T>()).clone();
}

/// Copies a contiguous torch tensor back into t.
template <class Tensor>
void from_torch(const torch::Tensor& src, Tensor& t) {
    using T = typename Tensor::value_type;
    const torch::Tensor c = src.contiguous();
    std::memcpy(t.data(), c.template data_ptr<T>(), t.size() * sizeof(T));
}

/// A trainable leaf: a copy of t with requires_grad.
template <class Tensor>
torch::Tensor parameter(const Tensor& t) {
    return to_torch(t).requires_grad_(true);
}

}  // namespace detail

/// The trainer of a case: holds its own copies of the parameters (leaf tensors with
/// requires_grad) and of the data. `step(lr)` does one SGD step and returns the loss before the
/// update; `read_params(p)` copies the current parameters out.
template <class Case>
class trainer {
public:
    using T = typename Case::value_type;
    using params = typename Case::params;
    using data = typename Case::data;

    trainer(const params& p, const data& d) : x_(detail::to_torch(d.x)) {
        p.visit([&](const auto& t) { params_.push_back(detail::parameter(t)); });
        if constexpr (Case::loss == mlp_cases::loss_kind::softmax_cross_entropy) {
            target_ = detail::to_torch(d.y).argmax(1);  // class indices of the one-hot rows
        } else {
            target_ = detail::to_torch(d.y);
        }
    }

    T step(T lr) {
        torch::Tensor loss = loss_of(forward());
        loss.backward();
        {
            torch::NoGradGuard no_grad;
            for (torch::Tensor& p : params_) {
                p.sub_(p.grad(), lr);
                p.mutable_grad().reset();
            }
        }
        return loss.template item<T>();
    }

    void read_params(params& p) const {
        size_t k = 0;
        p.visit([&](auto& t) { detail::from_torch(params_[k++], t); });
    }

private:
    /// The network's output Z (before the loss).
    torch::Tensor forward() const {
        if constexpr (Case::deep) {
            torch::Tensor a = x_;
            for (size_t l = 0; l < Case::depth; ++l) {
                a = torch::tanh(torch::addmm(params_[2 * l + 1], a, params_[2 * l]));
            }
            return a;
        } else {
            const torch::Tensor a1 = torch::relu(torch::addmm(params_[1], x_, params_[0]));
            return torch::addmm(params_[3], a1, params_[2]);
        }
    }

    torch::Tensor loss_of(const torch::Tensor& z) const {
        if constexpr (Case::loss == mlp_cases::loss_kind::softmax_cross_entropy) {
            return torch::nn::functional::cross_entropy(z, target_);
        } else {
            return torch::mse_loss(z, target_, at::Reduction::Sum);
        }
    }

    torch::Tensor x_;
    torch::Tensor target_;
    // The parameters in the order of params::visit: w1, b1, w2, b2, or w[0], b[0], w[1], ...
    std::vector<torch::Tensor> params_;
};

}  // namespace mlp_libtorch

#endif  // CTGRAD_HAVE_LIBTORCH
