/// @file
/// Optimizers with state, gradient clipping, L2 regularization and learning-rate schedules.
///
/// An optimizer is a class templated on the parameter pack type
/// (`nn::parameters<List>`); it owns its state (a second heap-stored pack of the same shapes,
/// allocated once by the constructor) and takes one step with `opt.step(params, g)`, where g
/// is anything with `g[v].data()` for every parameter v: program::gradient's view, the result
/// of ctgrad::gradient, or another parameter pack. A step runs one fused loop per tensor (plus
/// one reading pass over g when clipping by norm) and allocates nothing.
///
/// An optimizer with state is itself a pack of named tensors for io::save and io::load
/// (`io::save(path, params, opt)`): Adam's moments as "adam.m.<parameter>" and
/// "adam.v.<parameter>" and its step count as "adam.step" (a tensor<double, 1>); the momentum
/// optimizer's velocity as "momentum.v.<parameter>". Loading them resumes training exactly
/// where the save left it.
///
/// ```
/// nn::parameters_of<decltype(net)> p;
/// nn::init::he(p, 1);
/// nn::adam opt(p, {.lr = 1e-3f});           // or nn::adam<decltype(p)> opt({...});
/// nn::cosine sched{1e-3f, 1e-5f, 1000};     // lr(step)
/// ctgrad::program prog(loss + nn::l2<decltype(net)>(1e-4f), p.wrt());
/// for (std::size_t t = 0; t < 1000; ++t) {
///     opt.lr = sched(t);                      // the schedule sets the rate before each step
///     opt.step(p, prog.gradient(p, X = x, Y = y));
/// }
/// ```
///
/// Hyperparameters are public members of the optimizer (inherited from its options struct)
/// in the parameters' scalar type (float for a float network), and may be changed between
/// steps.
#pragma once

#include <cmath>        // std::sqrt, std::pow, std::cos
#include <cstddef>      // std::size_t
#include <numbers>      // std::numbers::pi
#include <stdexcept>    // std::logic_error
#include <type_traits>  // std::common_type_t, std::remove_cvref_t, std::is_same_v
#include <utility>      // std::move

#if defined(__SSE2__)
#include <emmintrin.h>  // _mm_sqrt_ps, _mm_sqrt_pd (adam_elements)
#endif

#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/nn/layers.hpp>
#include <ctgrad/nn/parameters.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::nn {

namespace detail {

/// std::clamp(v, lo, hi) as libstdc++ writes it, std::min(std::max(v, lo), hi) (lo <= hi; a
/// NaN v comes back as it is), without <algorithm>'s ~0.3 s of parse.
template <class T>
constexpr T clamp_to(T v, T lo, T hi) noexcept {
    const T m = v < lo ? lo : v;
    return hi < m ? hi : m;
}

/// Calls f(variable "<Prefix><name>", tensor) for every tensor of pack p: an optimizer's state
/// as named tensors (checkpoints).
template <fixed_string Prefix, class P, class F>
void for_each_prefixed(P& p, F& f) {
    p.for_each([&](auto v, auto& t) {
        using V = decltype(v);
        f(variable<joined_name<Prefix, V::name>, typename V::kind>{}, t);
    });
}

/// Calls f with a step count as the tensor "<Name>" (double, exact up to 2⁵³ steps) and stores
/// back what f left in it (a load).
template <fixed_string Name, class F>
void visit_count(std::size_t& count, F& f) {
    tensor<double, 1> t{static_cast<double>(count)};
    f(variable<Name, tensor<double, 1>>{}, t);
    const double x = t(0);
    count = x >= 0 && x < 9007199254740992.0 ? static_cast<std::size_t>(x) : 0;
}

template <fixed_string Name, class F>
void visit_count(const std::size_t& count, F& f) {
    const tensor<double, 1> t{static_cast<double>(count)};
    f(variable<Name, tensor<double, 1>>{}, t);
}

/// The scalar type of a parameter pack: the common element type of its tensors.
template <class P>
struct pack_scalar;

template <class... V>
struct pack_scalar<parameters<ctgrad::detail::type_list<V...>>> {
    static_assert(sizeof...(V) > 0, "ctgrad::nn: an optimizer needs at least one parameter");
    using type = std::common_type_t<typename V::kind::value_type...>;
};

/// The accumulator of a norm: at least double.
template <class S>
using accumulator_t = std::common_type_t<S, double>;

/// √Σ ĝ² over every parameter's gradient, with ĝ = g clamped to ±clip_value when
/// clip_value > 0 (else ĝ = g).
template <class List, class G, class S>
S clipped_norm(const parameters<List>& p, const G& g, S clip_value) {
    using A = accumulator_t<S>;
    A sq = 0;
    p.for_each([&](auto v, const auto& t) {
        using T = typename std::remove_cvref_t<decltype(t)>::value_type;
        auto&& d = g[v];
        const T* gd = d.data();
        if (clip_value > S(0)) {
            const T c = static_cast<T>(clip_value);
            for (std::size_t i = 0; i < t.size(); ++i) {
                const A e = static_cast<A>(detail::clamp_to(gd[i], T(-c), c));
                sq += e * e;
            }
        } else {
            for (std::size_t i = 0; i < t.size(); ++i) sq += static_cast<A>(gd[i]) * gd[i];
        }
    });
    return static_cast<S>(std::sqrt(sq));
}

/// The gradient as a step sees it: clamped to ±value (when value > 0), then multiplied by
/// scale (min(1, clip_norm/‖ĝ‖) when clipping by norm, else 1).
template <class S>
struct clipper {
    S value;
    S scale;

    template <class T>
    T operator()(T g) const {
        if (value > S(0)) g = detail::clamp_to(g, static_cast<T>(-value), static_cast<T>(value));
        return g * static_cast<T>(scale);
    }
};

template <class List, class G, class S>
clipper<S> make_clipper(const parameters<List>& p, const G& g, S clip_value, S clip_norm) {
    S scale = 1;
    if (clip_norm > S(0)) {
        const S n = clipped_norm(p, g, clip_value);
        if (n > clip_norm) scale = clip_norm / n;
    }
    return {clip_value, scale};
}

/// Calls f(pd, gd, n, variable) for every parameter: its data, its gradient's data, its size.
template <class List, class G, class F>
void for_each_pair(parameters<List>& p, const G& g, F&& f) {
    p.for_each([&](auto v, auto& t) {
        auto&& d = g[v];
        f(v, t.data(), d.data(), t.size());
    });
}

/// Sets every element of a pack to zero.
template <class List>
void zero(parameters<List>& p) {
    p.for_each([](auto, auto& t) {
        using T = typename std::remove_cvref_t<decltype(t)>::value_type;
        for (auto& e : t) e = T(0);
    });
}

}  // namespace detail

/// The scalar type of parameter pack P (the common element type of its tensors).
template <class P>
using scalar_of = typename detail::pack_scalar<P>::type;

/// ‖g‖: the Euclidean norm of the gradient over every parameter of p, as if all gradients
/// were one vector (accumulated in at least double precision).
template <class List, class G>
scalar_of<parameters<List>> global_norm(const parameters<List>& p, const G& g) {
    using S = scalar_of<parameters<List>>;
    return detail::clipped_norm(p, g, S(0));
}

// --- options ---

/// Hyperparameters of nn::sgd. Gradient clipping, applied inside the step without changing
/// the gradient: first each element is clamped to ±clip_value (when clip_value > 0), then the
/// whole gradient is scaled by min(1, clip_norm/‖ĝ‖) (when clip_norm > 0; ‖ĝ‖ is the global
/// norm of the clamped gradient over all parameters).
template <class S>
struct sgd_options {
    S lr = S(0.01);         ///< learning rate
    S weight_decay = S(0);  ///< decoupled weight decay: p ← p − lr·wd·p (0: none)
    S clip_norm = S(0);     ///< global-norm clipping threshold (0: none)
    S clip_value = S(0);    ///< elementwise clipping threshold (0: none)
};

/// Hyperparameters of nn::momentum (clipping as in sgd_options).
template <class S>
struct momentum_options {
    S lr = S(0.01);         ///< learning rate
    S mu = S(0.9);          ///< momentum coefficient μ
    bool nesterov = false;  ///< Nesterov's update p ← p − lr·(g + μv) instead of p − lr·v
    S weight_decay = S(0);  ///< decoupled weight decay: p ← p − lr·wd·p (0: none)
    S clip_norm = S(0);     ///< global-norm clipping threshold (0: none)
    S clip_value = S(0);    ///< elementwise clipping threshold (0: none)
};

/// Hyperparameters of nn::adam (PyTorch's defaults; clipping as in sgd_options).
template <class S>
struct adam_options {
    S lr = S(1e-3);       ///< learning rate
    S beta1 = S(0.9);     ///< decay of the first moment
    S beta2 = S(0.999);   ///< decay of the second moment
    S eps = S(1e-8);      ///< added to √v̂ (outside the square root, as in PyTorch)
    S clip_norm = S(0);   ///< global-norm clipping threshold (0: none)
    S clip_value = S(0);  ///< elementwise clipping threshold (0: none)
};

/// Hyperparameters of nn::adamw: Adam's, and the decoupled weight decay (PyTorch's default
/// 0.01).
template <class S>
struct adamw_options : adam_options<S> {
    S weight_decay = S(0.01);  ///< decoupled weight decay: p ← p − lr·wd·p
};

// --- optimizers ---

namespace detail {

/// Elements per block of the SGD, momentum and Adam updates (sgd_elements, momentum_elements,
/// adam_elements): loops of this constant count over __restrict pointers, which GCC vectorizes
/// at -O2 (its "very-cheap" cost model leaves a loop over a run-time count, over pointers that
/// may overlap, or with a branch, scalar).
inline constexpr std::size_t update_lanes = 16;

/// Calls block.template operator()<update_lanes>(i, update_lanes) for each whole block of
/// update_lanes of the n elements, then block.template operator()<0>(i, n - i) for the tail.
template <class F>
inline void for_each_lane_block(std::size_t n, F&& block) {
    const std::size_t whole = n / update_lanes * update_lanes;
    for (std::size_t i = 0; i < whole; i += update_lanes) {
        block.template operator()<update_lanes>(i, update_lanes);
    }
    if (whole < n) block.template operator()<0>(whole, n - whole);
}

/// g[i] = clip(gd[i]) for i < count, clipper's arithmetic with its test out of the loop (the
/// same operations per element as clipper::operator()); another clip functor element by element.
template <class T, class C>
inline void clip_lanes(T* __restrict g, const T* __restrict gd, std::size_t count,
                       const C& clip) noexcept {
    if constexpr (requires {
                      clip.value;
                      clip.scale;
                  }) {
        const T s = static_cast<T>(clip.scale);
        if (clip.value > decltype(clip.value)(0)) {
            const T lo = static_cast<T>(-clip.value), hi = static_cast<T>(clip.value);
            for (std::size_t i = 0; i < count; ++i) g[i] = detail::clamp_to(gd[i], lo, hi) * s;
        } else {
            for (std::size_t i = 0; i < count; ++i) g[i] = gd[i] * s;
        }
    } else {
        for (std::size_t i = 0; i < count; ++i) g[i] = clip(gd[i]);
    }
}

/// p ← p − b·p − a·ĝ over n elements (nn::sgd's step), in blocks of update_lanes (the clipped
/// gradient, then the parameters, each its own loop) and the tail: the same operations per
/// element, in the same order, as one scalar loop.
template <class T, class C>
void sgd_elements(T* __restrict pd, const T* __restrict gd, std::size_t n, T a, T b,
                  const C& clip) noexcept {
    T g[update_lanes];
    const auto block = [&]<std::size_t Count>(std::size_t i, std::size_t count) {
        const std::size_t c = Count == 0 ? count : Count;
        clip_lanes(g, gd + i, c, clip);
        T* __restrict q = pd + i;
        for (std::size_t j = 0; j < c; ++j) q[j] -= b * q[j] + a * g[j];
    };
    for_each_lane_block(n, block);
}

/// v ← μv + ĝ, then p ← p − b·p − a·v, or with nesterov p ← p − b·p − a·(ĝ + μv), over n
/// elements (nn::momentum's step), in blocks of update_lanes and the tail, the test of nesterov
/// out of the loops: the same operations per element, in the same order, as one scalar loop.
template <class T, class C>
void momentum_elements(T* __restrict pd, const T* __restrict gd, T* __restrict vd, std::size_t n,
                       T a, T b, T m, bool nesterov, const C& clip) noexcept {
    T g[update_lanes];
    const auto block = [&]<std::size_t Count>(std::size_t i, std::size_t count) {
        const std::size_t c = Count == 0 ? count : Count;
        clip_lanes(g, gd + i, c, clip);
        T* __restrict q = pd + i;
        T* __restrict v = vd + i;
        for (std::size_t j = 0; j < c; ++j) v[j] = m * v[j] + g[j];
        if (nesterov) {
            for (std::size_t j = 0; j < c; ++j) q[j] -= b * q[j] + a * (g[j] + m * v[j]);
        } else {
            for (std::size_t j = 0; j < c; ++j) q[j] -= b * q[j] + a * v[j];
        }
    };
    for_each_lane_block(n, block);
}

}  // namespace detail

/// Plain gradient descent: p ← p − lr·wd·p − lr·ĝ (ĝ the clipped gradient). No state.
template <class P>
class sgd : public sgd_options<scalar_of<P>> {
public:
    using scalar_type = scalar_of<P>;
    using options = sgd_options<scalar_type>;

    /// With the given hyperparameters.
    explicit sgd(options o = {}) : options(o) {}
    /// For the pack p (deduces P: `nn::sgd opt(p, {.lr = 0.1f});`).
    explicit sgd(const P&, options o = {}) : options(o) {}

    /// One step on p from the gradient g (`g[v].data()` for every parameter v).
    template <class List, class G>
    void step(parameters<List>& p, const G& g) {
        const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
        const auto clip = detail::make_clipper(p, g, this->clip_value, this->clip_norm);
        const scalar_type lr = this->lr, decay = this->lr * this->weight_decay;
        detail::for_each_pair(p, g, [&](auto, auto* pd, const auto* gd, std::size_t n) {
            using T = std::remove_cvref_t<decltype(*pd)>;
            detail::sgd_elements(pd, gd, n, static_cast<T>(lr), static_cast<T>(decay), clip);
        });
    }
};

/// Deduces the pack type from the pack: `nn::sgd opt(params, {...});`.
template <class P, class O>
sgd(const P&, O) -> sgd<P>;
/// Deduces the pack type from the pack: `nn::sgd opt(params);`.
template <class P>
sgd(const P&) -> sgd<P>;

/// Gradient descent with momentum (PyTorch's form, no dampening): v ← μv + ĝ, then
/// p ← p − lr·v, or with `nesterov` p ← p − lr·(ĝ + μv); decoupled weight decay
/// p ← p − lr·wd·p (from the same old p). The velocity v starts at zero.
template <class P>
class momentum : public momentum_options<scalar_of<P>> {
public:
    using scalar_type = scalar_of<P>;
    using options = momentum_options<scalar_type>;

    /// With the given hyperparameters; allocates the velocity (zero).
    explicit momentum(options o = {}) : options(o) { detail::zero(v_); }
    /// For the pack p (deduces P: `nn::momentum opt(p, {.lr = 0.1f, .nesterov = true});`).
    explicit momentum(const P&, options o = {}) : momentum(o) {}

    /// One step on p from the gradient g.
    template <class List, class G>
    void step(parameters<List>& p, const G& g) {
        const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
        const auto clip = detail::make_clipper(p, g, this->clip_value, this->clip_norm);
        const scalar_type lr = this->lr, decay = this->lr * this->weight_decay, mu = this->mu;
        const bool nesterov = this->nesterov;
        detail::for_each_pair(p, g, [&](auto var, auto* pd, const auto* gd, std::size_t n) {
            using T = std::remove_cvref_t<decltype(*pd)>;
            detail::momentum_elements(pd, gd, v_[var].data(), n, static_cast<T>(lr),
                                      static_cast<T>(decay), static_cast<T>(mu), nesterov, clip);
        });
    }

    /// The velocity v (one tensor per parameter).
    const P& velocity() const noexcept { return v_; }

    /// The state as named tensors ("momentum.v.<parameter>"), for io::save and io::load.
    template <class F>
    void for_each(F&& f) {
        detail::for_each_prefixed<"momentum.v.">(v_, f);
    }
    template <class F>
    void for_each(F&& f) const {
        detail::for_each_prefixed<"momentum.v.">(v_, f);
    }
    /// Sets the velocity back to zero.
    void reset() { detail::zero(v_); }

private:
    P v_;
};

/// Deduces the pack type from the pack: `nn::momentum opt(params, {...});`.
template <class P, class O>
momentum(const P&, O) -> momentum<P>;
/// Deduces the pack type from the pack: `nn::momentum opt(params);`.
template <class P>
momentum(const P&) -> momentum<P>;

namespace detail {

/// The per-step numbers of an Adam step t: lr/(1−β₁ᵗ), 1/√(1−β₂ᵗ), lr·wd.
template <class S>
struct adam_coefficients {
    S step_size{}, inv_sqrt_bc2{}, decay{};
};

template <class S>
adam_coefficients<S> adam_coefficients_at(std::size_t t, const adam_options<S>& o, S wd) {
    using std::pow, std::sqrt;
    const S bc1 = S(1) - static_cast<S>(pow(o.beta1, static_cast<S>(t)));
    const S bc2 = S(1) - static_cast<S>(pow(o.beta2, static_cast<S>(t)));
    return {o.lr / bc1, S(1) / static_cast<S>(sqrt(bc2)), o.lr * wd};
}

/// s[i] = √s[i] for i < Count: with SSE's sqrtps / sqrtpd where the target has them
/// (std::sqrt may set errno, which keeps GCC from vectorizing it without -fno-math-errno); the
/// same correctly rounded square roots, the same bits. Count = 0: n elements, scalar (the tail).
template <std::size_t Count, class T>
inline void sqrt_lanes(T* s, std::size_t n) noexcept {
    using std::sqrt;
    if constexpr (Count == 0) {
        for (std::size_t i = 0; i < n; ++i) s[i] = sqrt(s[i]);
    } else {
#if defined(__SSE2__)
        if constexpr (std::is_same_v<T, float> && Count % 4 == 0) {
            for (std::size_t i = 0; i < Count; i += 4) {
                _mm_storeu_ps(s + i, _mm_sqrt_ps(_mm_loadu_ps(s + i)));
            }
            return;
        } else if constexpr (std::is_same_v<T, double> && Count % 2 == 0) {
            for (std::size_t i = 0; i < Count; i += 2) {
                _mm_storeu_pd(s + i, _mm_sqrt_pd(_mm_loadu_pd(s + i)));
            }
            return;
        }
#endif
        for (std::size_t i = 0; i < Count; ++i) s[i] = sqrt(s[i]);
    }
}

/// The Adam update of a block of adam_elements: Count elements (Count = 0: n < update_lanes,
/// the tail): the clipped gradient, the moments, √v, then the parameters, each a loop of its own
/// so that the compiler vectorizes it; the same operations per element, in the same order, as
/// one scalar loop.
template <std::size_t Count, class T, class C>
inline void adam_block(std::size_t n, T* __restrict pd, const T* __restrict gd, T* __restrict md,
                       T* __restrict vd, T b1, T b2, T c1, T c2, T eps, T a, T r, T d,
                       const C& clip) noexcept {
    const std::size_t count = Count == 0 ? n : Count;
    T g[update_lanes], s[update_lanes];
    clip_lanes(g, gd, count, clip);
    for (std::size_t i = 0; i < count; ++i) {
        const T mi = b1 * md[i] + c1 * g[i];
        const T vi = b2 * vd[i] + c2 * g[i] * g[i];
        md[i] = mi;
        vd[i] = vi;
        s[i] = vi;
    }
    sqrt_lanes<Count>(s, count);
    for (std::size_t i = 0; i < count; ++i) pd[i] -= d * pd[i] + a * md[i] / (s[i] * r + eps);
}

/// The Adam update of n elements: parameters pd, gradient gd, moments md and vd (distinct
/// buffers), in blocks of update_lanes and the tail.
template <class T, class S, class C>
void adam_elements(T* pd, const T* gd, T* md, T* vd, std::size_t n, const adam_options<S>& o,
                   const adam_coefficients<S>& k, const C& clip) {
    const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
    const T c1 = T(1) - b1, c2 = T(1) - b2, eps = static_cast<T>(o.eps);
    const T a = static_cast<T>(k.step_size), r = static_cast<T>(k.inv_sqrt_bc2);
    const T d = static_cast<T>(k.decay);
    for_each_lane_block(n, [&]<std::size_t Count>(std::size_t i, std::size_t count) {
        adam_block<Count>(count, pd + i, gd + i, md + i, vd + i, b1, b2, c1, c2, eps, a, r, d,
                          clip);
    });
}

/// One Adam step (Kingma & Ba 2015, with bias correction, as PyTorch's Adam/AdamW):
/// m ← β₁m + (1−β₁)ĝ, v ← β₂v + (1−β₂)ĝ², p ← p − lr·wd·p − lr/(1−β₁ᵗ)·m/(√v/√(1−β₂ᵗ) + ε).
template <class P, class List, class G, class S>
void adam_step(parameters<List>& p, const G& g, P& m, P& v, std::size_t t, const adam_options<S>& o,
               S wd) {
    const auto clip = make_clipper(p, g, o.clip_value, o.clip_norm);
    const adam_coefficients<S> k = adam_coefficients_at(t, o, wd);
    for_each_pair(p, g, [&](auto var, auto* pd, const auto* gd, std::size_t n) {
        adam_elements(pd, gd, m[var].data(), v[var].data(), n, o, k, clip);
    });
}

/// What Adam and AdamW share: the moments, the step count, and the step itself; the options
/// O say whether there is a decoupled weight decay (AdamW's `weight_decay`).
template <class P, class O>
class adam_state : public O {
public:
    using scalar_type = scalar_of<P>;
    using options = O;

    /// With the given hyperparameters; allocates the moments (zero).
    explicit adam_state(options o) : options(o) { reset(); }

    /// One step on p from the gradient g.
    template <class List, class G>
    void step(parameters<List>& p, const G& g) {
        const ftz_scope ftz{ftz_scope::if_enabled};  // no subnormals (math/fpenv.hpp)
        scalar_type decay = scalar_type(0);
        if constexpr (requires { this->weight_decay; }) decay = this->weight_decay;
        pending_.clear();  // a begun step that no range applied is dropped
        adam_step(p, g, m_, v_, ++t_, static_cast<const adam_options<scalar_type>&>(*this), decay);
    }

    /// The step in ranges, for an update spread over threads (parallel::data_parallel's and
    /// input_split's gradient_then: each thread updates the elements it reduced):
    /// `begin_step()` once, then `step_range(p, g, v, first, count)` for disjoint ranges
    /// [first, first + count) of the parameters v that together cover every parameter, from
    /// any threads at once. The same arithmetic as step(p, g) element by element. Clipping by
    /// norm needs the whole gradient first: begin_step refuses it (std::logic_error). The step
    /// is counted by the first step_range, not by begin_step: when the gradient throws before
    /// any range is updated (a shard's error), the optimizer is left as it was (step count and
    /// moments), and the next begin_step begins the same step again.
    void begin_step() {
        if (this->clip_norm > scalar_type(0)) {
            throw std::logic_error(
                "ctgrad::nn::adam::begin_step: clipping by norm (clip_norm) needs the whole "
                "gradient before any range is updated; use step(p, g)");
        }
        scalar_type decay = scalar_type(0);
        if constexpr (requires { this->weight_decay; }) decay = this->weight_decay;
        k_ = adam_coefficients_at(t_ + 1, static_cast<const adam_options<scalar_type>&>(*this),
                                  decay);
        pending_.set();
    }

    /// Elements [first, first + count) of parameter v (after begin_step).
    template <class List, class G, class Var>
    void step_range(parameters<List>& p, const G& g, Var v, std::size_t first, std::size_t count) {
        if (pending_.take()) ++t_;  // one thread, once per step; the others only read k_
        const clipper<scalar_type> clip{this->clip_value, scalar_type(1)};
        adam_elements(p[v].data() + first, g[v].data() + first, m_[v].data() + first,
                      v_[v].data() + first, count,
                      static_cast<const adam_options<scalar_type>&>(*this), k_, clip);
    }

    /// The number of steps taken (t of the bias correction).
    std::size_t steps() const noexcept { return t_; }
    /// The first moment m.
    const P& first_moment() const noexcept { return m_; }
    /// The second moment v.
    const P& second_moment() const noexcept { return v_; }
    /// The state as named tensors ("adam.m.<parameter>", "adam.v.<parameter>", "adam.step"),
    /// for io::save and io::load.
    template <class F>
    void for_each(F&& f) {
        visit_state(*this, f);
    }
    template <class F>
    void for_each(F&& f) const {
        visit_state(*this, f);
    }

    /// Sets the moments to zero and the step count to 0.
    void reset() {
        zero(m_);
        zero(v_);
        t_ = 0;
        pending_.clear();
    }

private:
    /// for_each of a mutable (load) or const (save) optimizer.
    template <class Self, class F>
    static void visit_state(Self& self, F& f) {
        for_each_prefixed<"adam.m.">(self.m_, f);
        for_each_prefixed<"adam.v.">(self.v_, f);
        visit_count<"adam.step">(self.t_, f);
        if constexpr (!std::is_const_v<Self>) self.pending_.clear();  // loaded: nothing begun
    }

    /// Whether a step was begun (begin_step) and not yet counted: set by the caller, taken by
    /// the first step_range of any thread. Copied as its value (the optimizer stays copyable).
    /// A bool read and written only by the compiler's atomic builtins, what std::atomic<bool>'s
    /// members compile to, without <atomic> (~0.7 s of parse, g++ 12 and clang++ 14, AMD EPYC).
    struct pending_flag {
        bool on = false;
        pending_flag() = default;
        pending_flag(const pending_flag& o) noexcept
            : on(__atomic_load_n(&o.on, __ATOMIC_SEQ_CST)) {}
        pending_flag& operator=(const pending_flag& o) noexcept {
            __atomic_store_n(&on, __atomic_load_n(&o.on, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
            return *this;
        }
        void set() noexcept { __atomic_store_n(&on, true, __ATOMIC_RELAXED); }
        void clear() noexcept { __atomic_store_n(&on, false, __ATOMIC_RELAXED); }
        /// True for exactly one caller after set() (a load first: no write per range after it).
        bool take() noexcept {
            return __atomic_load_n(&on, __ATOMIC_RELAXED) &&
                   __atomic_exchange_n(&on, false, __ATOMIC_RELAXED);
        }
    };

    P m_, v_;
    std::size_t t_ = 0;
    adam_coefficients<scalar_type> k_{};  // of the step begun by begin_step
    pending_flag pending_;
};

}  // namespace detail

/// Adam (Kingma & Ba 2015) with bias correction, as PyTorch's torch.optim.Adam without
/// weight decay: m ← β₁m + (1−β₁)ĝ, v ← β₂v + (1−β₂)ĝ², p ← p − lr·m̂/(√v̂ + ε) with
/// m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), t the number of steps taken (1 at the first). At the first
/// step p moves by lr·ĝ/(|ĝ| + ε) ≈ lr·sign(ĝ).
template <class P>
class adam : public detail::adam_state<P, adam_options<scalar_of<P>>> {
public:
    using options = adam_options<scalar_of<P>>;

    /// With the given hyperparameters; allocates the moments (zero).
    explicit adam(options o = {}) : detail::adam_state<P, options>(o) {}
    /// For the pack p (deduces P: `nn::adam opt(p, {.lr = 1e-3f});`).
    explicit adam(const P&, options o = {}) : adam(o) {}
};

/// Deduces the pack type from the pack: `nn::adam opt(params, {...});`.
template <class P, class O>
adam(const P&, O) -> adam<P>;
/// Deduces the pack type from the pack: `nn::adam opt(params);`.
template <class P>
adam(const P&) -> adam<P>;

/// AdamW (Loshchilov & Hutter 2019), as PyTorch's torch.optim.AdamW: Adam with decoupled
/// weight decay, p ← p − lr·wd·p − lr·m̂/(√v̂ + ε) (the decay from the old p; the gradient is
/// not changed by it).
template <class P>
class adamw : public detail::adam_state<P, adamw_options<scalar_of<P>>> {
public:
    using options = adamw_options<scalar_of<P>>;

    /// With the given hyperparameters; allocates the moments (zero).
    explicit adamw(options o = {}) : detail::adam_state<P, options>(o) {}
    /// For the pack p (deduces P: `nn::adamw opt(p, {{.lr = 1e-3f}, 0.05f});`).
    explicit adamw(const P&, options o = {}) : adamw(o) {}
};

/// Deduces the pack type from the pack: `nn::adamw opt(params, {...});`.
template <class P, class O>
adamw(const P&, O) -> adamw<P>;
/// Deduces the pack type from the pack: `nn::adamw opt(params);`.
template <class P>
adamw(const P&) -> adamw<P>;

// --- L2 regularization as a loss term ---

namespace detail {

template <class S, class V0, class... V>
constexpr auto l2_sum(S half_lambda, V0 w0, V... w) {
    return half_lambda * (ctgrad::sum(ctgrad::square(w0)) + ... + ctgrad::sum(ctgrad::square(w)));
}

template <class S, class... V>
constexpr auto l2_of_list(S lambda, ctgrad::detail::type_list<V...>) {
    static_assert(sizeof...(V) > 0, "ctgrad::nn::l2: no weight matrix to regularize");
    using T = std::common_type_t<typename V::kind::value_type...>;
    return l2_sum(static_cast<T>(lambda) / T(2), V{}...);
}

template <class... V>
struct matrices_of;

template <>
struct matrices_of<> {
    using type = ctgrad::detail::type_list<>;
};

template <class V0, class... V>
struct matrices_of<V0, V...> {
    using rest = typename matrices_of<V...>::type;
    using type =
        std::conditional_t<(V0::kind::rank >= 2),
                           ctgrad::detail::concat_t<ctgrad::detail::type_list<V0>, rest>, rest>;
};

template <class List>
struct matrices_of_list;

template <class... V>
struct matrices_of_list<ctgrad::detail::type_list<V...>> : matrices_of<V...> {};

}  // namespace detail

/// The L2 penalty λ/2·Σ‖W‖² (squared Frobenius norms) of the listed variables, as an
/// expression to add to a loss: `loss + nn::l2_penalty(wrt(fc1.W, fc2.W), 1e-4f)`. Its
/// gradient with respect to W is λW. λ is converted to the variables' scalar type.
template <class... V, class S>
constexpr auto l2_penalty(wrt_t<V...>, S lambda) {
    return detail::l2_of_list(lambda, ctgrad::detail::type_list<V...>{});
}

/// The L2 penalty λ/2·Σ‖W‖² over the weight matrices of a network (its parameters of rank ≥
/// 2; biases are not regularized): `loss + nn::l2<decltype(net)>(1e-4f)`.
template <class Net, class S>
constexpr auto l2(S lambda) {
    return detail::l2_of_list(lambda, typename detail::matrices_of_list<parameters_t<Net>>::type{});
}

// --- learning-rate schedules ---

/// Step decay: lr(t) = lr0·factor^⌊t/every⌋ (`every` ≥ 1).
template <class S>
struct step_decay {
    S lr0;              ///< the rate at step 0
    S factor;           ///< the factor applied every `every` steps
    std::size_t every;  ///< the period, in steps

    /// The rate at step t (counted from 0).
    S operator()(std::size_t t) const {
        using std::pow;
        return lr0 * static_cast<S>(pow(factor, static_cast<S>(t / every)));
    }
};

/// Deduces the scalar type: `nn::step_decay sched{0.1f, 0.5f, 30};`.
template <class S>
step_decay(S, S, std::size_t) -> step_decay<S>;

/// Cosine annealing (Loshchilov & Hutter 2017, without restarts): lr(t) = lr_min +
/// (lr0 − lr_min)·(1 + cos(π·t/total_steps))/2 for t ≤ total_steps, lr_min afterwards.
template <class S>
struct cosine {
    S lr0;                    ///< the rate at step 0
    S lr_min;                 ///< the rate at step total_steps and after
    std::size_t total_steps;  ///< the length of the schedule (≥ 1)

    /// The rate at step t (counted from 0).
    S operator()(std::size_t t) const {
        using std::cos;
        if (t >= total_steps) return lr_min;
        const S x = static_cast<S>(t) / static_cast<S>(total_steps);
        return lr_min +
               (lr0 - lr_min) * (S(1) + static_cast<S>(cos(std::numbers::pi_v<S> * x))) / S(2);
    }
};

/// Deduces the scalar type: `nn::cosine sched{1e-3f, 1e-5f, 1000};`.
template <class S>
cosine(S, S, std::size_t) -> cosine<S>;

/// Linear warm-up in front of another schedule: lr(t) = after(0)·(t + 1)/steps for
/// t < steps (rising from after(0)/steps to after(0)), then after(t − steps), so that the
/// schedule `after` starts where the warm-up ends and keeps its own length:
/// `nn::warmup sched{500, nn::cosine{2e-3f, 1e-5f, 9000}};` is 500 warm-up steps, then 9000
/// steps of cosine decay (9500 in all). `steps` = 0 is `after` unchanged. Any schedule with
/// `S operator()(std::size_t) const` works as `after` (step_decay, cosine, a lambda).
template <class After>
struct warmup {
    std::size_t steps;  ///< the length of the warm-up, in steps
    After after;        ///< the schedule that follows it, counted from the warm-up's end

    /// The rate at step t (counted from 0).
    auto operator()(std::size_t t) const {
        using S = decltype(after(std::size_t(0)));
        if (t >= steps) return after(t - steps);
        return after(0) * static_cast<S>(t + 1) / static_cast<S>(steps);
    }
};

/// Deduces the following schedule's type: `nn::warmup sched{100, nn::cosine{...}};`.
template <class After>
warmup(std::size_t, After) -> warmup<After>;

}  // namespace ctgrad::nn
