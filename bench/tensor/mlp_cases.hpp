/// @file The training-step benchmark cases (bench/tensor/mlp_bench.cpp): the networks, their
/// deterministic data and initial parameters, and a plain reference loss, shared by every impl
/// (`hand`, `blas`, `libtorch`, `ctgrad`, `runtime_graph`) and by test/tensor/mlp_reference_test.cpp.
///
/// | case                     | network                                                  | loss |
/// |--------------------------|----------------------------------------------------------|------|
/// | `mlp_step_32x100x200x10` | X [32, 100] → W1 [100, 200] + b1, ReLU → W2 [200, 10] + b2 | Σ (A2 − Y)² |
/// | `mlp_step_64x784x100x10` | X [64, 784] → W1 [784, 100] + b1, ReLU → W2 [100, 10] + b2 | softmax cross-entropy, mean over the batch |
/// | `deep_mlp_step_d20w32`   | X [16, 32] → 20 × (W_l [32, 32] + b_l, tanh)              | Σ (A20 − Y)² |
///
/// A *step* is one forward pass, the backward pass and one SGD update of every parameter in
/// place, p ← p − lr·∂L/∂p, with the case's fixed learning rate. Layers compute Z = A·W + b
/// (rows of A are samples, b broadcast over rows), as in the notes' two-layer regression net
/// (shared/notes/001_*), whose loss is the plain sum of squared errors, not a mean.
///
/// The cases are templates on the element type and the sizes, so tests can run the same network
/// in double and smaller; the benchmark cases are the float instances named above. Data and
/// parameters come from a seeded std::mt19937 through the helpers below (not through
/// std::uniform_real_distribution, whose output the standard leaves to the library), so every
/// impl and every platform starts from the same numbers.
#pragma once

#include <algorithm>  // std::max
#include <array>      // std::array
#include <cmath>      // std::sqrt, std::log, std::cos, std::exp, std::tanh, std::abs, std::isfinite
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint32_t
#include <memory>     // std::unique_ptr, std::make_unique
#include <numbers>    // std::numbers::pi
#include <random>     // std::mt19937
#include <vector>     // std::vector (the reference loss's scratch, max_difference)

#include <ctgrad/tensor/tensor.hpp>

namespace mlp_cases {

using std::size_t;

// --- deterministic numbers ---

/// A uniform number in [lo, hi) from one 32-bit output of the generator.
inline double uniform(std::mt19937& gen, double lo, double hi) {
    return lo + (hi - lo) * (double(gen()) * 0x1p-32);
}

/// A standard normal number (Box-Muller, one of the pair).
inline double normal(std::mt19937& gen) {
    const double u1 = (double(gen()) + 1.0) * 0x1p-32;  // (0, 1]: log(u1) is finite
    const double u2 = double(gen()) * 0x1p-32;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Fills t uniformly in [-limit, limit).
template <class Tensor>
void fill_uniform(Tensor& t, std::mt19937& gen, double limit) {
    using T = typename Tensor::value_type;
    for (T& v : t) v = T(uniform(gen, -limit, limit));
}

/// He-uniform initialisation for a layer followed by ReLU: U(±sqrt(6 / fan_in)), variance
/// 2 / fan_in, so pre-activations keep their scale through the layer.
inline double he_limit(size_t fan_in) {
    return std::sqrt(6.0 / double(fan_in));
}

/// Xavier (Glorot) uniform initialisation for tanh layers: U(±sqrt(6 / (fan_in + fan_out))).
inline double xavier_limit(size_t fan_in, size_t fan_out) {
    return std::sqrt(6.0 / double(fan_in + fan_out));
}

/// Biases start in U(±0.1): small, but not zero, so a bias read at the wrong index or skipped
/// changes the results the tests compare.
inline constexpr double bias_limit = 0.1;

// --- parameters and data ---

/// The parameters of a two-layer net, In → Hidden → Out. Also the type of their gradient.
template <class T, size_t In, size_t Hidden, size_t Out>
struct two_layer_params {
    using value_type = T;

    ctgrad::tensor<T, In, Hidden> w1;
    ctgrad::tensor<T, Hidden> b1;
    ctgrad::tensor<T, Hidden, Out> w2;
    ctgrad::tensor<T, Out> b2;

    /// f(tensor) for each parameter tensor, in the order w1, b1, w2, b2.
    template <class F>
    void visit(F&& f) {
        f(w1);
        f(b1);
        f(w2);
        f(b2);
    }
    template <class F>
    void visit(F&& f) const {
        f(w1);
        f(b1);
        f(w2);
        f(b2);
    }
};

/// The parameters of a net of Depth layers Width → Width: w[l], b[l] for layer l = 0 ... Depth-1
/// (layer 0 reads the input). Also the type of their gradient.
template <class T, size_t Width, size_t Depth>
struct deep_params {
    using value_type = T;

    std::array<ctgrad::tensor<T, Width, Width>, Depth> w;
    std::array<ctgrad::tensor<T, Width>, Depth> b;

    /// f(tensor) for each parameter tensor, in the order w[0], b[0], w[1], b[1], ...
    template <class F>
    void visit(F&& f) {
        for (size_t l = 0; l < Depth; ++l) {
            f(w[l]);
            f(b[l]);
        }
    }
    template <class F>
    void visit(F&& f) const {
        for (size_t l = 0; l < Depth; ++l) {
            f(w[l]);
            f(b[l]);
        }
    }
};

/// One batch: inputs x [Batch, In] (one sample per row) and targets y [Batch, Out].
template <class T, size_t Batch, size_t In, size_t Out>
struct samples {
    ctgrad::tensor<T, Batch, In> x;
    ctgrad::tensor<T, Batch, Out> y;
};

/// The number of parameters (entries over all tensors).
template <class Params>
size_t parameter_count(const Params& p) {
    size_t n = 0;
    p.visit([&](const auto& t) { n += t.size(); });
    return n;
}

// --- the cases ---

enum class loss_kind {
    /// L = Σᵢⱼ (Z2ᵢⱼ − Yᵢⱼ)²: dL/dZ2 = 2(Z2 − Y).
    sum_squared_error,
    /// L = (1/B) Σᵢ (logsumexpⱼ Z2ᵢⱼ − Σⱼ Yᵢⱼ Z2ᵢⱼ) for target rows Yᵢ summing to 1 (one-hot):
    /// dL/dZ2 = (softmax(Z2) − Y)/B. Computed stably, with the row maximum subtracted.
    softmax_cross_entropy,
};

/// X [Batch, In] → W1 [In, Hidden] + b1, ReLU → W2 [Hidden, Out] + b2 → Loss.
///
/// sum_squared_error: X and Y standard normal (as the notes' `np.random.randn`);
/// softmax_cross_entropy: X uniform in [0, 1) (pixel-like), Y one-hot rows of uniformly drawn
/// classes. W1 and W2 He-uniform, biases U(±0.1).
template <class T, size_t Batch, size_t In, size_t Hidden, size_t Out, loss_kind Loss>
struct two_layer {
    using value_type = T;
    using params = two_layer_params<T, In, Hidden, Out>;
    using data = samples<T, Batch, In, Out>;

    static constexpr bool deep = false;
    static constexpr size_t batch = Batch;
    static constexpr size_t in = In;
    static constexpr size_t hidden = Hidden;
    static constexpr size_t out = Out;
    static constexpr loss_kind loss = Loss;

    /// The SGD step size, fixed, chosen so that the float nets train stably for 10⁵ steps on
    /// their one batch (a benchmark runs that many steps from the same start). The sum of
    /// squared errors grows with the batch and the outputs, so its gradient is large: 0.01 (the
    /// notes' value) and 0.002 make the regression net diverge within 5 steps; 0.001 converges;
    /// 0.0005 leaves a margin. The cross-entropy is a mean: 0.01 trains it slowly and stably.
    static constexpr T learning_rate = Loss == loss_kind::sum_squared_error ? T(0.0005) : T(0.01);

    /// Floating-point operations of the matrix products of one step, 2·M·K·N each: the forward
    /// X·W1 and A1·W2, the weight gradients Xᵀ·dZ1 and A1ᵀ·dZ2, and the input gradient
    /// dZ2·W2ᵀ (none for X: nothing needs it).
    static constexpr double flops_per_step =
        2.0 * (2.0 * double(Batch * In * Hidden) + 3.0 * double(Batch * Hidden * Out));

    static constexpr std::uint32_t params_seed = 20251;
    static constexpr std::uint32_t data_seed = 20252;

    static std::unique_ptr<params> make_params(std::uint32_t seed = params_seed) {
        std::mt19937 gen(seed);
        auto p = std::make_unique<params>();
        fill_uniform(p->w1, gen, he_limit(In));
        fill_uniform(p->b1, gen, bias_limit);
        fill_uniform(p->w2, gen, he_limit(Hidden));
        fill_uniform(p->b2, gen, bias_limit);
        return p;
    }

    static std::unique_ptr<data> make_data(std::uint32_t seed = data_seed) {
        std::mt19937 gen(seed);
        auto d = std::make_unique<data>();
        if constexpr (Loss == loss_kind::sum_squared_error) {
            for (T& v : d->x) v = T(normal(gen));
            for (T& v : d->y) v = T(normal(gen));
        } else {
            for (T& v : d->x) v = T(uniform(gen, 0.0, 1.0));
            for (size_t i = 0; i < Batch; ++i) d->y(i, size_t(gen() % Out)) = T(1);
        }
        return d;
    }

    /// The loss at p, by plain loops in double from the definition (no kernel, nothing shared
    /// with any impl): the independent reference for the impls' losses and for the tests'
    /// finite differences.
    static double reference_loss(const params& p, const data& d) {
        std::vector<double> a1(Hidden), z2(Out);
        double total = 0.0;
        for (size_t i = 0; i < Batch; ++i) {
            for (size_t j = 0; j < Hidden; ++j) {
                double z = double(p.b1(j));
                for (size_t k = 0; k < In; ++k) z += double(d.x(i, k)) * double(p.w1(k, j));
                a1[j] = z > 0.0 ? z : 0.0;
            }
            for (size_t o = 0; o < Out; ++o) {
                double z = double(p.b2(o));
                for (size_t j = 0; j < Hidden; ++j) z += a1[j] * double(p.w2(j, o));
                z2[o] = z;
            }
            if constexpr (Loss == loss_kind::sum_squared_error) {
                for (size_t o = 0; o < Out; ++o) {
                    const double e = z2[o] - double(d.y(i, o));
                    total += e * e;
                }
            } else {
                double m = z2[0];
                for (size_t o = 1; o < Out; ++o) m = std::max(m, z2[o]);
                double s = 0.0;
                for (size_t o = 0; o < Out; ++o) s += std::exp(z2[o] - m);
                const double lse = m + std::log(s);
                for (size_t o = 0; o < Out; ++o) total -= double(d.y(i, o)) * (z2[o] - lse);
            }
        }
        return Loss == loss_kind::sum_squared_error ? total : total / double(Batch);
    }
};

/// X [Batch, Width] → Depth × (W_l [Width, Width] + b_l, tanh) → Σ (A_Depth − Y)².
/// X standard normal, Y uniform in [-0.5, 0.5) (inside tanh's range), W_l Xavier-uniform (the
/// activations keep their scale through the 20 layers, so tanh does not saturate), b_l U(±0.1).
template <class T, size_t Batch, size_t Width, size_t Depth>
struct deep_tanh {
    using value_type = T;
    using params = deep_params<T, Width, Depth>;
    using data = samples<T, Batch, Width, Width>;

    static constexpr bool deep = true;
    static constexpr size_t batch = Batch;
    static constexpr size_t width = Width;
    static constexpr size_t depth = Depth;
    static constexpr loss_kind loss = loss_kind::sum_squared_error;

    /// The SGD step size (see two_layer::learning_rate): with 0.01 the deep net's tanh units
    /// saturate within 4·10⁴ steps and the loss stalls at 36.7; 0.005 and 0.002 converge.
    static constexpr T learning_rate = T(0.003);

    /// 2·Batch·Width² per product: Depth forward, Depth weight gradients, Depth − 1 input
    /// gradients (none for X).
    static constexpr double flops_per_step =
        2.0 * double(Batch * Width * Width) * double(3 * Depth - 1);

    static constexpr std::uint32_t params_seed = 20253;
    static constexpr std::uint32_t data_seed = 20254;

    static std::unique_ptr<params> make_params(std::uint32_t seed = params_seed) {
        std::mt19937 gen(seed);
        auto p = std::make_unique<params>();
        for (size_t l = 0; l < Depth; ++l) {
            fill_uniform(p->w[l], gen, xavier_limit(Width, Width));
            fill_uniform(p->b[l], gen, bias_limit);
        }
        return p;
    }

    static std::unique_ptr<data> make_data(std::uint32_t seed = data_seed) {
        std::mt19937 gen(seed);
        auto d = std::make_unique<data>();
        for (T& v : d->x) v = T(normal(gen));
        for (T& v : d->y) v = T(uniform(gen, -0.5, 0.5));
        return d;
    }

    /// The loss at p, by plain loops in double (see two_layer::reference_loss).
    static double reference_loss(const params& p, const data& d) {
        std::vector<double> a(Width), z(Width);
        double total = 0.0;
        for (size_t i = 0; i < Batch; ++i) {
            for (size_t j = 0; j < Width; ++j) a[j] = double(d.x(i, j));
            for (size_t l = 0; l < Depth; ++l) {
                for (size_t j = 0; j < Width; ++j) {
                    double s = double(p.b[l](j));
                    for (size_t k = 0; k < Width; ++k) s += a[k] * double(p.w[l](k, j));
                    z[j] = std::tanh(s);
                }
                a.swap(z);
            }
            for (size_t j = 0; j < Width; ++j) {
                const double e = a[j] - double(d.y(i, j));
                total += e * e;
            }
        }
        return total;
    }
};

template <class T, size_t Batch, size_t In, size_t Hidden, size_t Out>
using regression_mlp = two_layer<T, Batch, In, Hidden, Out, loss_kind::sum_squared_error>;

template <class T, size_t Batch, size_t In, size_t Hidden, size_t Out>
using classifier_mlp = two_layer<T, Batch, In, Hidden, Out, loss_kind::softmax_cross_entropy>;

/// The benchmark cases (float).
using mlp_step_32x100x200x10 = regression_mlp<float, 32, 100, 200, 10>;
using mlp_step_64x784x100x10 = classifier_mlp<float, 64, 784, 100, 10>;
using deep_mlp_step_d20w32 = deep_tanh<float, 16, 32, 20>;

// --- checks shared by the benchmarks (mlp_bench.hpp, fashion_epoch_bench.cpp) ---

/// The largest |a − b| over all parameters of two packs, relative to max(1, |b|).
template <class Params>
double max_difference(const Params& a, const Params& b) {
    std::vector<double> va, vb;
    a.visit([&](const auto& t) { va.insert(va.end(), t.begin(), t.end()); });
    b.visit([&](const auto& t) { vb.insert(vb.end(), t.begin(), t.end()); });
    double worst = 0.0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        worst = std::max(worst, std::abs(va[i] - vb[i]) / std::max(1.0, std::abs(vb[i])));
    }
    return worst;
}

/// Whether every parameter of the pack is finite.
template <class Params>
bool all_finite(const Params& p) {
    bool ok = true;
    p.visit([&](const auto& t) {
        for (const auto v : t) ok = ok && std::isfinite(v);
    });
    return ok;
}

}  // namespace mlp_cases
