// (The harness of tensor/review_conv_odd_test.cpp and review_conv_odd_float_test.cpp.)
// An outside reviewer's convolution shapes the other suites do not use, through the public API
// only (DESIGN.md: conv2d<Stride, Padding>(X, K[, b]), relu, max_pool2d<Window, Stride>,
// avg_pool2d<Window, Stride>, sum, gradient): 1×1 kernels, a kernel as large as the image,
// stride larger than the kernel, rectangular kernels on rectangular images (3×7, 2×5, 3×1),
// padding as large as or larger than the kernel, channel counts 1, 3 and 17, batch 1, kernel
// widths 8 and 9 (either side of the direct kernels' limit), overlapping (3, stride 2) and
// skipping (2, stride 3) pooling windows, and max pooling with ties. The loss is sum(out ⊙ R)
// for a random R, so ∂out = R; value and ∂X, ∂K, ∂b are compared with plain loops written here
// from the definitions (PyTorch's cross-correlation with zero padding; a tie in max pooling
// sends the gradient to the first maximum in row-major window order), in double with random
// reals and in float with small integers (ties everywhere), and spot-checked against central
// differences in double.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

namespace {

using ctgrad::tensor;

enum class post { none, relu, relu_max, max, relu_avg };

/// The plain-loop reference: forward and backward of out = pool(act(conv(x, k) + b)) with
/// loss = Σ out ⊙ r.
struct reference {
    std::size_t N, C, H, W, O, KH, KW, S, P, PW, PS;
    post mode;
    bool bias;

    std::size_t OH() const { return (H + 2 * P - KH) / S + 1; }
    std::size_t OW() const { return (W + 2 * P - KW) / S + 1; }
    bool pooled() const {
        return mode == post::relu_max || mode == post::max || mode == post::relu_avg;
    }
    std::size_t PH() const { return pooled() ? (OH() - PW) / PS + 1 : OH(); }
    std::size_t PWd() const { return pooled() ? (OW() - PW) / PS + 1 : OW(); }

    double x_at(const std::vector<double>& x, std::size_t n, std::size_t c, long i, long j) const {
        if (i < 0 || j < 0 || i >= long(H) || j >= long(W)) return 0;
        return x[((n * C + c) * H + std::size_t(i)) * W + std::size_t(j)];
    }

    // y = act(conv + b), [N, O, OH, OW]
    std::vector<double> conv(const std::vector<double>& x, const std::vector<double>& k,
                             const std::vector<double>& b) const {
        std::vector<double> y(N * O * OH() * OW());
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < O; ++o)
                for (std::size_t i = 0; i < OH(); ++i)
                    for (std::size_t j = 0; j < OW(); ++j) {
                        double s = bias ? b[o] : 0.0;
                        for (std::size_t c = 0; c < C; ++c)
                            for (std::size_t u = 0; u < KH; ++u)
                                for (std::size_t v = 0; v < KW; ++v)
                                    s += x_at(x, n, c, long(i * S + u) - long(P),
                                              long(j * S + v) - long(P)) *
                                         k[((o * C + c) * KH + u) * KW + v];
                        if (mode == post::relu || mode == post::relu_max || mode == post::relu_avg)
                            s = s > 0 ? s : 0;
                        y[((n * O + o) * OH() + i) * OW() + j] = s;
                    }
        return y;
    }

    /// out and, through dy, the gradient of Σ out ⊙ r with respect to y (before the relu).
    std::vector<double> pool(const std::vector<double>& y, const std::vector<double>& r,
                             std::vector<double>& dy) const {
        dy.assign(y.size(), 0.0);
        if (!pooled()) {
            dy = r;
            return y;
        }
        std::vector<double> out(N * O * PH() * PWd());
        for (std::size_t no = 0; no < N * O; ++no)
            for (std::size_t i = 0; i < PH(); ++i)
                for (std::size_t j = 0; j < PWd(); ++j) {
                    const std::size_t q = (no * PH() + i) * PWd() + j;
                    if (mode == post::relu_avg) {
                        double s = 0;
                        for (std::size_t u = 0; u < PW; ++u)
                            for (std::size_t v = 0; v < PW; ++v) {
                                const std::size_t at = (no * OH() + i * PS + u) * OW() + j * PS + v;
                                s += y[at];
                                dy[at] += r[q] / double(PW * PW);
                            }
                        out[q] = s / double(PW * PW);
                    } else {
                        std::size_t best = (no * OH() + i * PS) * OW() + j * PS;
                        for (std::size_t u = 0; u < PW; ++u)
                            for (std::size_t v = 0; v < PW; ++v) {
                                const std::size_t at = (no * OH() + i * PS + u) * OW() + j * PS + v;
                                if (y[at] > y[best]) best = at;  // first maximum kept on ties
                            }
                        out[q] = y[best];
                        dy[best] += r[q];
                    }
                }
        return out;
    }

    void backward(const std::vector<double>& x, const std::vector<double>& k,
                  const std::vector<double>& y, std::vector<double> dy, std::vector<double>& dx,
                  std::vector<double>& dk, std::vector<double>& db) const {
        const bool relu = mode == post::relu || mode == post::relu_max || mode == post::relu_avg;
        dx.assign(x.size(), 0.0);
        dk.assign(k.size(), 0.0);
        db.assign(O, 0.0);
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < O; ++o)
                for (std::size_t i = 0; i < OH(); ++i)
                    for (std::size_t j = 0; j < OW(); ++j) {
                        const std::size_t at = ((n * O + o) * OH() + i) * OW() + j;
                        double g = dy[at];
                        if (relu && !(y[at] > 0)) g = 0;  // relu'(0) = 0
                        db[o] += g;
                        for (std::size_t c = 0; c < C; ++c)
                            for (std::size_t u = 0; u < KH; ++u)
                                for (std::size_t v = 0; v < KW; ++v) {
                                    const long ii = long(i * S + u) - long(P);
                                    const long jj = long(j * S + v) - long(P);
                                    if (ii < 0 || jj < 0 || ii >= long(H) || jj >= long(W))
                                        continue;
                                    const std::size_t xi =
                                        ((n * C + c) * H + std::size_t(ii)) * W + std::size_t(jj);
                                    const std::size_t ki = ((o * C + c) * KH + u) * KW + v;
                                    dk[ki] += g * x[xi];
                                    dx[xi] += g * k[ki];
                                }
                    }
    }
};

template <class T, std::size_t... D>
std::vector<double> to_vec(const tensor<T, D...>& t) {
    return std::vector<double>(t.data(), t.data() + t.size());
}

template <class T, std::size_t... D>
void fill(tensor<T, D...>& t, std::mt19937& rng, bool integers) {
    std::uniform_real_distribution<double> real(-1.0, 1.0);
    std::uniform_int_distribution<int> small(-2, 2);
    for (std::size_t i = 0; i < t.size(); ++i) {
        t.data()[i] = integers ? T(small(rng)) : T(real(rng));
    }
}

bool agree(const char* what, const std::vector<double>& got, const std::vector<double>& want,
           double tol) {
    double scale = 1e-300;
    for (double w : want) scale = std::max(scale, std::abs(w));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (!(std::abs(got[i] - want[i]) <= tol * scale)) {
            if (bad++ < 3) {
                BOOST_TEST_MESSAGE(what << "[" << i << "] = " << got[i] << ", want " << want[i]);
            }
        }
    }
    BOOST_TEST(bad == 0u, what << ": " << bad << " of " << want.size() << " differ");
    return bad == 0;
}

template <class T, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t KH, std::size_t KW, std::size_t S, std::size_t P, post Mode,
          std::size_t PW = 1, std::size_t PS = 1, bool Bias = true>
void check_case(unsigned seed) {
    const reference ref{N, C, H, W, O, KH, KW, S, P, PW, PS, Mode, Bias};
    constexpr std::size_t OH = (H + 2 * P - KH) / S + 1, OW = (W + 2 * P - KW) / S + 1;
    constexpr bool pooled = Mode == post::relu_max || Mode == post::max || Mode == post::relu_avg;
    constexpr std::size_t PH = pooled ? (OH - PW) / PS + 1 : OH;
    constexpr std::size_t PWd = pooled ? (OW - PW) / PS + 1 : OW;

    constexpr auto X = ctgrad::var<"X", tensor<T, N, C, H, W>>;
    constexpr auto K = ctgrad::var<"K", tensor<T, O, C, KH, KW>>;
    constexpr auto B = ctgrad::var<"B", tensor<T, O>>;
    constexpr auto R = ctgrad::var<"R", tensor<T, N, O, PH, PWd>>;
    const auto y = [&] {
        if constexpr (Bias) {
            return ctgrad::conv2d<S, P>(X, K, B);
        } else {
            return ctgrad::conv2d<S, P>(X, K);
        }
    }();
    const auto out = [&] {
        if constexpr (Mode == post::none) {
            return y;
        } else if constexpr (Mode == post::relu) {
            return ctgrad::relu(y);
        } else if constexpr (Mode == post::relu_max) {
            return ctgrad::max_pool2d<PW, PS>(ctgrad::relu(y));
        } else if constexpr (Mode == post::max) {
            return ctgrad::max_pool2d<PW, PS>(y);
        } else {
            return ctgrad::avg_pool2d<PW, PS>(ctgrad::relu(y));
        }
    }();
    const auto loss = ctgrad::sum(out * R);

    std::mt19937 rng(seed);
    const bool integers = std::is_same_v<T, float>;
    auto x = std::make_unique<tensor<T, N, C, H, W>>();
    auto k = std::make_unique<tensor<T, O, C, KH, KW>>();
    tensor<T, O> b{};
    auto r = std::make_unique<tensor<T, N, O, PH, PWd>>();
    fill(*x, rng, integers);
    fill(*k, rng, integers);
    fill(b, rng, integers);
    fill(*r, rng, integers);

    const auto xv = to_vec(*x), kv = to_vec(*k), bv = to_vec(b), rv = to_vec(*r);
    const auto yv = ref.conv(xv, kv, bv);
    std::vector<double> dy;
    const auto outv = ref.pool(yv, rv, dy);
    double want_loss = 0;
    for (std::size_t i = 0; i < outv.size(); ++i) want_loss += outv[i] * rv[i];
    std::vector<double> dx, dk, db;
    ref.backward(xv, kv, yv, dy, dx, dk, db);

    const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    BOOST_TEST_CONTEXT("case seed " << seed << " (" << N << ", " << C << ", " << H << "×" << W
                                    << ") * (" << O << ", " << KH << "×" << KW << ") S" << S << " P"
                                    << P << " post " << int(Mode)) {
        const auto value = [&] {
            if constexpr (Bias) {
                return ctgrad::value(out, X = *x, K = *k, B = b);
            } else {
                return ctgrad::value(out, X = *x, K = *k);
            }
        }();
        static_assert(
            std::is_same_v<std::remove_cvref_t<decltype(value)>, tensor<T, N, O, PH, PWd>>,
            "output shape");
        agree("value", to_vec(value), outv, tol);

        const auto g = [&] {
            if constexpr (Bias) {
                return ctgrad::gradient(loss, X = *x, K = *k, B = b, R = *r);
            } else {
                return ctgrad::gradient(loss, X = *x, K = *k, R = *r);
            }
        }();
        BOOST_TEST(
            std::abs(double(g.value) - want_loss) <= tol * std::max(1.0, std::abs(want_loss)),
            "loss " << g.value << " want " << want_loss);
        agree("dX", to_vec(g[X]), dx, tol);
        agree("dK", to_vec(g[K]), dk, tol);
        if constexpr (Bias) {
            agree("db", to_vec(g[B]), db, tol);
        }
        agree("dR", to_vec(g[R]), outv, tol);

        // Central differences of ctgrad's own loss for a few weights and inputs (double only;
        // at a relu kink or a max tie a difference has no meaning, so those are skipped by
        // comparing only where the reference says the point is smooth enough: every check
        // allows a small absolute slack).
        if constexpr (std::is_same_v<T, double>) {
            const auto loss_at = [&] {
                if constexpr (Bias) {
                    return ctgrad::value(loss, X = *x, K = *k, B = b, R = *r);
                } else {
                    return ctgrad::value(loss, X = *x, K = *k, R = *r);
                }
            };
            const double h = 1e-6;
            for (std::size_t t = 0; t < 4; ++t) {
                const std::size_t ki = (t * 7919u) % k->size();
                const double k0 = k->data()[ki];
                k->data()[ki] = k0 + h;
                const double lp = loss_at();
                k->data()[ki] = k0 - h;
                const double lm = loss_at();
                k->data()[ki] = k0;
                BOOST_TEST(std::abs((lp - lm) / (2 * h) - dk[ki]) < 1e-6, "fd dK[" << ki << "]");
                const std::size_t xi = (t * 104729u) % x->size();
                const double x0 = x->data()[xi];
                x->data()[xi] = x0 + h;
                const double xp = loss_at();
                x->data()[xi] = x0 - h;
                const double xm = loss_at();
                x->data()[xi] = x0;
                BOOST_TEST(std::abs((xp - xm) / (2 * h) - dx[xi]) < 1e-6, "fd dX[" << xi << "]");
            }
        }
    }
}

template <class T>
void all_cases() {
    // 1×1 kernel, 17 channels in, 3×7 image, batch 1, no bias
    check_case<T, 1, 17, 3, 7, 3, 1, 1, 1, 0, post::none, 1, 1, false>(1);
    // the kernel as large as the image: a 1×1 output; 17 output channels
    check_case<T, 2, 3, 5, 5, 17, 5, 5, 1, 0, post::relu>(2);
    // stride 3 larger than the 2×3 kernel, 3×7 image, padding 1: 2×3 output
    check_case<T, 2, 1, 3, 7, 3, 2, 3, 3, 1, post::none>(3);
    // 3×1 kernel, padding 2 (larger than the kernel's width), then relu and 2×2 max pooling
    // (fusable: 6×10 output)
    check_case<T, 1, 3, 4, 6, 2, 3, 1, 1, 2, post::relu_max, 2, 2>(4);
    // 2×5 kernel, padding 4 (larger than the kernel's height): border rows are bias only
    check_case<T, 2, 2, 5, 3, 4, 2, 5, 1, 4, post::none>(5);
    // stride 2, padding 2, 17 channels in and out, overlapping 3×3 windows with stride 2
    check_case<T, 1, 17, 8, 8, 17, 3, 3, 2, 2, post::max, 3, 2>(6);
    // relu, then 2×2 average windows every 3 (skipping rows and columns)
    check_case<T, 1, 3, 7, 7, 2, 3, 3, 1, 0, post::relu_avg, 2, 3>(7);
    // stride 2 with fused 2×2 max pooling without relu, on a rectangular image: 6×8 → 3×4
    check_case<T, 2, 3, 11, 15, 5, 3, 3, 2, 1, post::max, 2, 2>(8);
    // kernel widths 8 and 9 (the direct kernels' widest, and one past it), 1 row high
    check_case<T, 1, 2, 4, 12, 3, 1, 8, 1, 0, post::relu>(9);
    check_case<T, 1, 2, 4, 12, 3, 1, 9, 1, 3, post::relu_max, 2, 2>(10);
    // everything 1: one channel, one output channel, 1×1 kernel, padding 1
    check_case<T, 1, 1, 1, 1, 1, 1, 1, 1, 1, post::relu>(11);
}

}  // namespace
