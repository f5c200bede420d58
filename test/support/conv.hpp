// Test support for the convolution suites (tensor/conv, tensor/conv_fused, nn/conv_layers):
//  - fill_uniform / fill_ints: seeded random tensors (real in [lo, hi], integers in [lo, hi]);
//  - naive_conv: the definition of a convolution by plain loops in double, independent of the
//    engine's kernels: forward, and the reverse products dx, dk, db of a loss Σ r·y;
//  - naive_relu_pool: relu and max pooling (non-overlapping windows, the first maximum in
//    row-major order takes the gradient) after a naive_conv, forward and reverse.
#pragma once

#include <cstddef>  // std::size_t
#include <random>   // std::mt19937, distributions
#include <vector>   // std::vector

#include <ctgrad/ctgrad.hpp>

namespace ctgrad::test {

/// Every element uniform in [lo, hi] (computed in double, converted to T).
template <class T, std::size_t... D>
void fill_uniform(ctgrad::tensor<T, D...>& t, std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

/// Every element an integer in [lo, hi]: sums of products of such numbers are exact in float
/// and double in any order.
template <class T, std::size_t... D>
void fill_ints(ctgrad::tensor<T, D...>& t, std::mt19937& rng, int lo, int hi) {
    std::uniform_int_distribution<int> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

/// The data of a tensor as doubles (the references compute in double).
template <class T, std::size_t... D>
std::vector<double> as_doubles(const ctgrad::tensor<T, D...>& t) {
    return std::vector<double>(t.begin(), t.end());
}

/// The definition: y[n,o,i,j] = b[o] + Σ_{c,u,v} k[o,c,u,v]·x[n,c,S·i+u−P,S·j+v−P] (0 outside),
/// and the reverse products of a loss Σ r·y: dx, dk, db, by direct loops in double.
struct naive_conv {
    std::size_t N, C, H, W, O, KH, KW, S, P, OH, OW;
    naive_conv(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t o,
               std::size_t kh, std::size_t kw, std::size_t s, std::size_t p)
        : N(n),
          C(c),
          H(h),
          W(w),
          O(o),
          KH(kh),
          KW(kw),
          S(s),
          P(p),
          OH((h + 2 * p - kh) / s + 1),
          OW((w + 2 * p - kw) / s + 1) {}

    std::size_t outputs() const { return N * O * OH * OW; }

    template <class F>
    void each(F f) const {  // f(y index, x index, k index) for every product term
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < O; ++o)
                for (std::size_t i = 0; i < OH; ++i)
                    for (std::size_t j = 0; j < OW; ++j)
                        for (std::size_t c = 0; c < C; ++c)
                            for (std::size_t u = 0; u < KH; ++u)
                                for (std::size_t v = 0; v < KW; ++v) {
                                    const long ih = long(S * i + u) - long(P);
                                    const long iw = long(S * j + v) - long(P);
                                    if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W))
                                        continue;
                                    const std::size_t yi = ((n * O + o) * OH + i) * OW + j;
                                    const std::size_t xi =
                                        ((n * C + c) * H + std::size_t(ih)) * W + std::size_t(iw);
                                    const std::size_t ki = ((o * C + c) * KH + u) * KW + v;
                                    f(yi, xi, ki);
                                }
    }

    /// y (b may be null: no bias).
    std::vector<double> forward(const double* x, const double* k, const double* b) const {
        std::vector<double> y(outputs(), 0.0);
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < O; ++o)
                for (std::size_t q = 0; q < OH * OW; ++q)
                    y[(n * O + o) * OH * OW + q] = b ? b[o] : 0.0;
        each([&](std::size_t yi, std::size_t xi, std::size_t ki) { y[yi] += k[ki] * x[xi]; });
        return y;
    }

    struct adjoints {
        std::vector<double> dx, dk, db;
    };

    /// dx, dk, db of Σ r·y.
    adjoints backward(const double* x, const double* k, const double* r) const {
        adjoints a{std::vector<double>(N * C * H * W, 0.0),
                   std::vector<double>(O * C * KH * KW, 0.0), std::vector<double>(O, 0.0)};
        each([&](std::size_t yi, std::size_t xi, std::size_t ki) {
            a.dx[xi] += k[ki] * r[yi];
            a.dk[ki] += x[xi] * r[yi];
        });
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < O; ++o)
                for (std::size_t q = 0; q < OH * OW; ++q) a.db[o] += r[(n * O + o) * OH * OW + q];
        return a;
    }
};

/// z = max_pool<Win>(relu(y)) (relu optional; Win = 0: no pooling) over y of a naive_conv, with
/// non-overlapping Win × Win windows (rows and columns past the last whole window dropped), the
/// first maximum of a window in row-major order taking the gradient, relu'(0) = 0.
struct naive_relu_pool {
    const naive_conv& g;
    bool relu;
    std::size_t win;
    std::size_t ZH() const { return win ? g.OH / win : g.OH; }
    std::size_t ZW() const { return win ? g.OW / win : g.OW; }

    std::vector<double> forward(const std::vector<double>& y) const {
        std::vector<double> z(g.N * g.O * ZH() * ZW());
        for_windows(y, [&](std::size_t zi, std::size_t at) { z[zi] = act(y[at]); });
        return z;
    }
    /// dy of Σ r·z.
    std::vector<double> backward(const std::vector<double>& y, const double* r) const {
        std::vector<double> dy(y.size(), 0.0);
        for_windows(y, [&](std::size_t zi, std::size_t at) {
            if (!relu || y[at] > 0) dy[at] += r[zi];
        });
        return dy;
    }

private:
    double act(double v) const { return relu && !(v > 0) ? 0.0 : v; }
    template <class F>
    void for_windows(const std::vector<double>& y, F f) const {  // f(z index, y index of the max)
        const std::size_t w = win ? win : 1;
        for (std::size_t p = 0; p < g.N * g.O; ++p)
            for (std::size_t i = 0; i < ZH(); ++i)
                for (std::size_t j = 0; j < ZW(); ++j) {
                    std::size_t at = (p * g.OH + i * w) * g.OW + j * w;
                    for (std::size_t u = 0; u < w; ++u)
                        for (std::size_t v = 0; v < w; ++v) {
                            const std::size_t e = (p * g.OH + i * w + u) * g.OW + j * w + v;
                            if (act(y[e]) > act(y[at])) at = e;
                        }
                    f((p * ZH() + i) * ZW() + j, at);
                }
    }
};

}  // namespace ctgrad::test
