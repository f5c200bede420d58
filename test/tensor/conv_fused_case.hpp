// The fused-convolution cases of tensor/conv_fused (conv_fused_*_test.cpp, one executable in
// several TUs so that they compile in parallel): fused_case<T, N, C, H, W, O, KH, KW, S, P, Relu,
// Pool, Bias> builds head(conv2d<S, P>(X, K[, B])) with head = max_pool2d<Pool>(relu(·)) (or
// either alone, or nothing), checks at compile time that it becomes one conv2d_op<S, P, Relu,
// Pool> and that the same composition with an added zero tensor (Z) stays unfused, and checks it
//  - exact(seed): integer inputs, fused against unfused: every sum is exact in either order, so
//    values and gradients must be identical, ties in the pooling windows and relu'(0) included;
//  - reference(seed): real inputs, against the plain loops of support/conv.hpp (naive_conv,
//    naive_relu_pool), within the worst-case rounding bound of the sums;
//  - finite_differences(seed): real inputs, the gradient against central differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <random>
#include <type_traits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/conv.hpp"
#include "support/tensor_fd.hpp"

namespace conv_fused {

using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using ctgrad::test::fill_ints;
using ctgrad::test::fill_uniform;
using std::size_t;

template <size_t S, size_t P, bool Bias, class X, class K, class B>
constexpr auto conv_of(X x, K k, B b) {
    if constexpr (Bias) {
        return ctgrad::conv2d<S, P>(x, k, b);
    } else {
        static_cast<void>(b);
        return ctgrad::conv2d<S, P>(x, k);
    }
}

template <bool Relu, size_t Pool, class Y>
constexpr auto head_of(Y y) {
    if constexpr (Relu && Pool != 0) {
        return ctgrad::max_pool2d<Pool>(ctgrad::relu(y));
    } else if constexpr (Relu) {
        return ctgrad::relu(y);
    } else if constexpr (Pool != 0) {
        return ctgrad::max_pool2d<Pool>(y);
    } else {
        return y;
    }
}

template <class T, size_t N, size_t C, size_t H, size_t W, size_t O, size_t KH, size_t KW, size_t S,
          size_t P, bool Relu, size_t Pool, bool Bias>
struct fused_case {
    static constexpr size_t OH = (H + 2 * P - KH) / S + 1, OW = (W + 2 * P - KW) / S + 1;
    static constexpr size_t YH = Pool != 0 ? OH / Pool : OH, YW = Pool != 0 ? OW / Pool : OW;
    static constexpr auto X = ctgrad::var<"X", tensor<T, N, C, H, W>>;
    static constexpr auto K = ctgrad::var<"K", tensor<T, O, C, KH, KW>>;
    static constexpr auto B = ctgrad::var<"B", tensor<T, O>>;
    static constexpr auto Z = ctgrad::var<"Z", tensor<T, N, O, OH, OW>>;
    static constexpr auto R = ctgrad::var<"R", tensor<T, N, O, YH, YW>>;
    static constexpr auto fused = head_of<Relu, Pool>(conv_of<S, P, Bias>(X, K, B));
    static constexpr auto kept = head_of<Relu, Pool>(conv_of<S, P, Bias>(X, K, B) + Z);

    // the rewrite happens (and only on the expression that is exactly the composition)
    using fused_op = typename std::remove_cvref_t<decltype(fused)>::op;
    using kept_op = typename std::remove_cvref_t<decltype(kept)>::op;
    static_assert(std::is_same_v<fused_op, ctgrad::ops::conv2d_op<S, P, Relu, Pool>>);
    static_assert(!std::is_same_v<kept_op, fused_op>);
    static_assert(
        std::is_same_v<
            std::remove_cvref_t<decltype(ctgrad::value(
                fused, X = std::declval<tensor<T, N, C, H, W>>(),
                K = std::declval<tensor<T, O, C, KH, KW>>(), B = std::declval<tensor<T, O>>()))>,
            tensor<T, N, O, YH, YW>>);

    struct data {
        tensor<T, N, C, H, W> x{};
        tensor<T, O, C, KH, KW> k{};
        tensor<T, O> b{};
        tensor<T, N, O, OH, OW> z{};
        tensor<T, N, O, YH, YW> r{};
    };

    template <class E>
    static auto grad(const E& e, const data& d) {
        const auto loss = ctgrad::sum(e * R);
        if constexpr (Bias) {
            return ctgrad::gradient(loss, wrt(X, K, B), X = d.x, K = d.k, B = d.b, Z = d.z,
                                    R = d.r);
        } else {
            return ctgrad::gradient(loss, wrt(X, K), X = d.x, K = d.k, Z = d.z, R = d.r);
        }
    }

    /// Every input uniform in [−1, 1] (real numbers: no ties, no exact zeros).
    static std::unique_ptr<data> real_data(unsigned seed) {
        std::mt19937 rng(seed);
        auto d = std::make_unique<data>();
        fill_uniform(d->x, rng, -1, 1);
        fill_uniform(d->k, rng, -1, 1);
        fill_uniform(d->b, rng, -1, 1);
        fill_uniform(d->r, rng, -1, 1);
        return d;
    }

    /// Integer inputs: the fused and unfused forms agree exactly (values, gradients, ties).
    static void exact(unsigned seed) {
        std::mt19937 rng(seed);
        auto d = std::make_unique<data>();
        fill_ints(d->x, rng, -2, 2);
        fill_ints(d->k, rng, -2, 2);
        fill_ints(d->b, rng, -3, 3);
        fill_ints(d->r, rng, -4, 4);
        const auto vf = ctgrad::value(fused, X = d->x, K = d->k, B = d->b);
        const auto vk = ctgrad::value(kept, X = d->x, K = d->k, B = d->b, Z = d->z);
        size_t zeros = 0;
        for (size_t e = 0; e < vf.size(); ++e) {
            BOOST_TEST(vf.data()[e] == vk.data()[e], "value " << e);
            zeros += vf.data()[e] == T(0);
        }
        const auto gf = grad(fused, *d);
        const auto gk = grad(kept, *d);
        BOOST_TEST(gf.value == gk.value);
        for (size_t e = 0; e < d->x.size(); ++e) {
            BOOST_TEST(gf[X].data()[e] == gk[X].data()[e], "dX " << e);
        }
        for (size_t e = 0; e < d->k.size(); ++e) {
            BOOST_TEST(gf[K].data()[e] == gk[K].data()[e], "dK " << e);
        }
        if constexpr (Bias) {
            for (size_t o = 0; o < O; ++o) BOOST_TEST(gf[B](o) == gk[B](o), "db " << o);
        }
        // the sums do tie and hit relu's kink: the cases above are exercised
        if constexpr (Relu) BOOST_TEST(zeros > 0);
    }

    /// Real inputs: the fused op's value and gradients against the plain loops of
    /// support/conv.hpp (naive_conv, naive_relu_pool: the definitions in double, independent of
    /// the engine's kernels). Tolerance: the worst-case bound of any summation order,
    /// γ(n)·Σ|terms| with γ(n) = n·u/(1 − n·u), u = the unit roundoff of T and n the number of
    /// terms of the sum (a wrong index or a lost term is an error of order 1).
    static void reference(unsigned seed) {
        using ctgrad::test::as_doubles;
        const auto d = real_data(seed);
        const ctgrad::test::naive_conv g(N, C, H, W, O, KH, KW, S, P);
        const ctgrad::test::naive_relu_pool rp{g, Relu, Pool};
        const auto x = as_doubles(d->x), k = as_doubles(d->k), b = as_doubles(d->b),
                   r = as_doubles(d->r);
        const auto magnitudes = [](std::vector<double> v) {
            for (double& e : v) e = std::abs(e);
            return v;
        };
        const auto ax = magnitudes(x), ak = magnitudes(k), ab = magnitudes(b);
        const auto y = g.forward(x.data(), k.data(), Bias ? b.data() : nullptr);
        const auto z = rp.forward(y);
        // sizes of the sums: C·KH·KW products (+ bias) per output; dx: O·KH·KW; dk, db: N·OH·OW
        const auto gamma = [](size_t n) {
            const double nu = double(n + 1) * double(std::numeric_limits<T>::epsilon()) / 2;
            return nu / (1 - nu);
        };
        const auto largest = [](const std::vector<double>& v) {
            return *std::max_element(v.begin(), v.end());
        };
        const double tol_y = gamma(C * KH * KW + 1) *
                             largest(g.forward(ax.data(), ak.data(), Bias ? ab.data() : nullptr));

        const auto vf = ctgrad::value(fused, X = d->x, K = d->k, B = d->b);
        BOOST_TEST_REQUIRE(vf.size() == z.size());
        for (size_t e = 0; e < z.size(); ++e) {
            BOOST_TEST(std::abs(double(vf.data()[e]) - z[e]) <= tol_y,
                       "value " << e << ": " << vf.data()[e] << " vs " << z[e]);
        }
        const auto dy = rp.backward(y, r.data());
        const auto want = g.backward(x.data(), k.data(), dy.data());
        const auto bound = g.backward(ax.data(), ak.data(), magnitudes(dy).data());
        const double tol_dx = gamma(O * KH * KW) * largest(bound.dx);
        const double tol_dk = gamma(N * OH * OW) * largest(bound.dk);
        const double tol_db = gamma(N * OH * OW) * largest(bound.db);
        const auto gf = grad(fused, *d);
        size_t nonzero = 0;
        for (size_t e = 0; e < want.dx.size(); ++e) {
            BOOST_TEST(std::abs(double(gf[X].data()[e]) - want.dx[e]) <= tol_dx,
                       "dX " << e << ": " << gf[X].data()[e] << " vs " << want.dx[e]);
            nonzero += want.dx[e] != 0;
        }
        for (size_t e = 0; e < want.dk.size(); ++e) {
            BOOST_TEST(std::abs(double(gf[K].data()[e]) - want.dk[e]) <= tol_dk,
                       "dK " << e << ": " << gf[K].data()[e] << " vs " << want.dk[e]);
        }
        if constexpr (Bias) {
            for (size_t o = 0; o < O; ++o) {
                BOOST_TEST(std::abs(double(gf[B](o)) - want.db[o]) <= tol_db,
                           "db " << o << ": " << gf[B](o) << " vs " << want.db[o]);
            }
        }
        BOOST_TEST(nonzero > want.dx.size() / 4);  // the gradient does reach the input
    }

    /// Real inputs: the fused op's gradient against central differences (double).
    static void finite_differences(unsigned seed) {
        const auto d = real_data(seed);
        const auto loss = ctgrad::sum(fused * R);
        if constexpr (Bias) {
            check_fd(loss, wrt(X, K, B), X = d->x, K = d->k, B = d->b, R = d->r);
        } else {
            check_fd(loss, wrt(X, K), X = d->x, K = d->k, R = d->r);
        }
    }
};

}  // namespace conv_fused
