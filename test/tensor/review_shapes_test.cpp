// An outside reviewer's tensor cases of shapes the other suites do not use: 1×1, 1×N, N×1,
// prime sizes and sizes that are not multiples of the vector widths (8 floats in AVX2, 16 in
// AVX-512), batch 1; through matmul (and its transposed uses), broadcasting of a row vector, a
// column and a scalar, and softmax cross-entropy. Each value and gradient against plain loops
// written here (an independent reference), and the double ones against central differences.
#define BOOST_TEST_MODULE tensor_review_shapes
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"
#include "support/tensor_fd.hpp"

namespace {

using ctgrad::tensor;
using ctgrad::test::check_fd;
using ctgrad::test::close;
using std::size_t;

template <class T, size_t... D>
void fill(tensor<T, D...>& t, unsigned seed, double lo = -1, double hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

template <class T>
constexpr double tol_of = sizeof(T) == 4 ? 2e-5 : 1e-12;

// loss = sum(matmul(A, B) * C) + sum(square(matmul(A, B))): dA = (C + 2Y)·Bᵀ, dB = Aᵀ·(C + 2Y).
template <class T, size_t M, size_t K, size_t N>
void check_matmul() {
    BOOST_TEST_CONTEXT("matmul [" << M << ", " << K << "]·[" << K << ", " << N << "], "
                                  << (sizeof(T) == 4 ? "float" : "double")) {
        constexpr auto A = ctgrad::var<"A", tensor<T, M, K>>;
        constexpr auto B = ctgrad::var<"B", tensor<T, K, N>>;
        constexpr auto C = ctgrad::var<"C", tensor<T, M, N>>;
        const auto loss = ctgrad::sum(ctgrad::matmul(A, B) * C) +
                          ctgrad::sum(ctgrad::square(ctgrad::matmul(A, B)));
        auto a = std::make_unique<tensor<T, M, K>>();
        auto b = std::make_unique<tensor<T, K, N>>();
        auto c = std::make_unique<tensor<T, M, N>>();
        fill(*a, 1 + M * 100 + K);
        fill(*b, 2 + K * 100 + N);
        fill(*c, 3 + M * 100 + N);
        // reference in long double
        std::vector<long double> y(M * N), gy(M * N);
        long double ref = 0;
        for (size_t i = 0; i < M; ++i) {
            for (size_t j = 0; j < N; ++j) {
                long double s = 0;
                for (size_t k = 0; k < K; ++k) s += (long double)(*a)(i, k) * (*b)(k, j);
                y[i * N + j] = s;
                ref += s * (*c)(i, j) + s * s;
                gy[i * N + j] = (*c)(i, j) + 2 * s;
            }
        }
        const auto yv = ctgrad::value(ctgrad::matmul(A, B), A = *a, B = *b);
        double scale = 0;
        for (size_t i = 0; i < M * N; ++i) scale = std::max(scale, (double)std::abs(y[i]));
        for (size_t i = 0; i < M; ++i) {
            for (size_t j = 0; j < N; ++j) {
                BOOST_TEST(std::abs(yv(i, j) - (double)y[i * N + j]) <= tol_of<T> * (1 + scale) * K,
                           "Y(" << i << ", " << j << ")");
            }
        }
        const auto g = ctgrad::gradient(loss, A = *a, B = *b, C = *c);
        BOOST_TEST(close((double)g.value, (double)ref, tol_of<T> * K * 4));
        for (size_t i = 0; i < M; ++i) {
            for (size_t k = 0; k < K; ++k) {
                long double s = 0, mag = 0;
                for (size_t j = 0; j < N; ++j) {
                    s += gy[i * N + j] * (*b)(k, j);
                    mag += std::abs(gy[i * N + j] * (*b)(k, j));
                }
                BOOST_TEST(
                    std::abs(g[A](i, k) - (double)s) <= tol_of<T> * (1 + (double)mag) * 4,
                    "dA(" << i << ", " << k << ") = " << g[A](i, k) << ", expected " << (double)s);
            }
        }
        for (size_t k = 0; k < K; ++k) {
            for (size_t j = 0; j < N; ++j) {
                long double s = 0, mag = 0;
                for (size_t i = 0; i < M; ++i) {
                    s += (*a)(i, k) * gy[i * N + j];
                    mag += std::abs((*a)(i, k) * gy[i * N + j]);
                }
                BOOST_TEST(
                    std::abs(g[B](k, j) - (double)s) <= tol_of<T> * (1 + (double)mag) * 4,
                    "dB(" << k << ", " << j << ") = " << g[B](k, j) << ", expected " << (double)s);
            }
        }
        for (size_t i = 0; i < M; ++i) {
            for (size_t j = 0; j < N; ++j) {
                BOOST_TEST(std::abs(g[C](i, j) - (double)y[i * N + j]) <=
                           tol_of<T> * (1 + scale) * K);
            }
        }
        if constexpr (sizeof(T) == 8 && M * K + K * N <= 400) {
            check_fd(loss, A = *a, B = *b, C = *c);
        }
    }
}

// Broadcasting: Z = X + r (a row [O]) + 2·c (a column [N, 1]) + s·X (s a scalar variable),
// loss = sum(tanh(Z) * W).
template <size_t N, size_t O>
void check_broadcast() {
    BOOST_TEST_CONTEXT("broadcast [" << N << ", " << O << "]") {
        constexpr auto X = ctgrad::var<"X", tensor<double, N, O>>;
        constexpr auto W = ctgrad::var<"W", tensor<double, N, O>>;
        constexpr auto r = ctgrad::var<"r", tensor<double, O>>;
        constexpr auto c = ctgrad::var<"c", tensor<double, N, 1>>;
        constexpr auto s = ctgrad::var<"s">;
        const auto loss = ctgrad::sum(ctgrad::tanh(X + r + c * 2.0 + s * X) * W);
        tensor<double, N, O> x, w;
        tensor<double, O> rv;
        tensor<double, N, 1> cv;
        fill(x, 10 + N + O);
        fill(w, 20 + N + O);
        fill(rv, 30 + N + O);
        fill(cv, 40 + N + O);
        const double sv = 0.375;
        double ref = 0;
        std::vector<double> dz(N * O);
        for (size_t i = 0; i < N; ++i) {
            for (size_t j = 0; j < O; ++j) {
                const double t = std::tanh(x(i, j) + rv(j) + cv(i, 0) * 2.0 + sv * x(i, j));
                ref += t * w(i, j);
                dz[i * O + j] = (1 - t * t) * w(i, j);
            }
        }
        const auto g = ctgrad::gradient(loss, X = x, W = w, r = rv, c = cv, s = sv);
        BOOST_TEST(close(g.value, ref, 1e-12));
        double ds = 0;
        for (size_t i = 0; i < N; ++i) {
            double dc = 0;
            for (size_t j = 0; j < O; ++j) {
                dc += dz[i * O + j];
                ds += dz[i * O + j] * x(i, j);
                BOOST_TEST(close(g[X](i, j), dz[i * O + j] * (1 + sv), 1e-12));
            }
            BOOST_TEST(close(g[c](i, 0), 2 * dc, 1e-11));
        }
        for (size_t j = 0; j < O; ++j) {
            double dr = 0;
            for (size_t i = 0; i < N; ++i) dr += dz[i * O + j];
            BOOST_TEST(close(g[r](j), dr, 1e-11));
        }
        BOOST_TEST(close(g[s], ds, 1e-11));
        check_fd(loss, X = x, W = w, r = rv, c = cv, s = sv);
    }
}

// softmax_cross_entropy(Z, T): (1/N) Σ_r Σ_c t (lse_r − z), with T one-hot and with soft
// targets (rows summing to 1 and not), ∂z = (softmax·Σ_c t − t)/N, ∂t = (lse − z)/N.
template <class T, size_t N, size_t C>
void check_softmax_ce(bool one_hot) {
    BOOST_TEST_CONTEXT("softmax_cross_entropy [" << N << ", " << C << "] "
                                                 << (sizeof(T) == 4 ? "float" : "double")
                                                 << (one_hot ? " one-hot" : " soft")) {
        constexpr auto Z = ctgrad::var<"Z", tensor<T, N, C>>;
        constexpr auto Tt = ctgrad::var<"T", tensor<T, N, C>>;
        const auto loss = ctgrad::softmax_cross_entropy(Z, Tt);
        tensor<T, N, C> z, t;
        fill(z, 50 + N * 7 + C, -4, 4);
        if (one_hot) {
            for (auto& e : t) e = 0;
            for (size_t i = 0; i < N; ++i) t(i, (i * 5 + 3) % C) = 1;
        } else {
            fill(t, 60 + N + C, 0, 1);
        }
        long double ref = 0;
        std::vector<long double> dz(N * C), dt(N * C);
        for (size_t i = 0; i < N; ++i) {
            long double m = z(i, 0);
            for (size_t j = 0; j < C; ++j) m = std::max<long double>(m, z(i, j));
            long double se = 0, ts = 0;
            for (size_t j = 0; j < C; ++j) {
                se += std::exp((long double)z(i, j) - m);
                ts += t(i, j);
            }
            const long double lse = m + std::log(se);
            for (size_t j = 0; j < C; ++j) {
                ref += t(i, j) * (lse - z(i, j)) / N;
                dz[i * C + j] = (std::exp(z(i, j) - lse) * ts - t(i, j)) / N;
                dt[i * C + j] = (lse - z(i, j)) / N;
            }
        }
        const auto g = ctgrad::gradient(loss, Z = z, Tt = t);
        const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
        BOOST_TEST(std::abs(g.value - (double)ref) <= tol * (1 + std::abs((double)ref)));
        for (size_t i = 0; i < N; ++i) {
            for (size_t j = 0; j < C; ++j) {
                BOOST_TEST(std::abs(g[Z](i, j) - (double)dz[i * C + j]) <= tol,
                           "dZ(" << i << ", " << j << ") = " << g[Z](i, j) << ", expected "
                                 << (double)dz[i * C + j]);
                BOOST_TEST(std::abs(g[Tt](i, j) - (double)dt[i * C + j]) <= tol * 8);
            }
        }
        const auto v = ctgrad::value(loss, Z = z, Tt = t);
        BOOST_TEST(std::abs(v - (double)ref) <= tol * (1 + std::abs((double)ref)));
        if constexpr (sizeof(T) == 8) {
            check_fd(loss, Z = z, Tt = t);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(matmul_odd_shapes_double) {
    check_matmul<double, 1, 1, 1>();
    check_matmul<double, 1, 7, 1>();
    check_matmul<double, 7, 1, 13>();
    check_matmul<double, 1, 13, 17>();
    check_matmul<double, 7, 13, 5>();
    check_matmul<double, 17, 3, 19>();
}

BOOST_AUTO_TEST_CASE(matmul_odd_shapes_float) {
    check_matmul<float, 1, 1, 1>();
    check_matmul<float, 1, 37, 17>();
    check_matmul<float, 17, 33, 1>();
    check_matmul<float, 31, 15, 33>();
    check_matmul<float, 3, 65, 23>();
}

BOOST_AUTO_TEST_CASE(broadcasting_odd_shapes) {
    check_broadcast<1, 1>();
    check_broadcast<1, 17>();
    check_broadcast<13, 1>();
    check_broadcast<5, 7>();
    check_broadcast<3, 33>();
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_odd_shapes) {
    for (bool one_hot : {true, false}) {
        check_softmax_ce<double, 1, 2>(one_hot);
        check_softmax_ce<double, 1, 17>(one_hot);
        check_softmax_ce<double, 7, 3>(one_hot);
        check_softmax_ce<float, 1, 33>(one_hot);
        check_softmax_ce<float, 5, 17>(one_hot);
        check_softmax_ce<float, 3, 31>(one_hot);
    }
    // one class: the loss is 0 whatever the logits, and so is its gradient w.r.t. the logits
    check_softmax_ce<double, 3, 1>(true);
}
