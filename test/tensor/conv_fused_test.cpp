// The fused convolutions (tensor/conv.hpp): relu(conv2d(...)) and max_pool2d<W>(relu(conv2d(...)))
// (and without the relu) build one op, conv2d_op<S, P, Relu, Pool>, run by the direct stride-1
// kernels (tensor/conv_kernels.hpp: vectorised rows, the 2 × 2 pooling in vectors) or the GEMM
// path. Checked against the same composition kept unfused (an added zero tensor in between):
// with small integer inputs every sum is exact in either order, so values and gradients must be
// identical, ties in the pooling windows and relu'(0) = 0 included; and against central
// differences with real inputs. Geometries hit the kernels' edges: rows wider than three
// vectors, odd and non-square sizes, kernels wider than the direct kernels take (GEMM path),
// stride 2, windows of 3, no bias.
#define BOOST_TEST_MODULE tensor_conv_fused
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <random>
#include <type_traits>

#include <ctgrad/ctgrad.hpp>

#include "support/tensor_fd.hpp"

using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using std::size_t;

namespace {

template <class T, size_t... D>
void fill_ints(tensor<T, D...>& t, std::mt19937& rng, int lo, int hi) {
    std::uniform_int_distribution<int> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

template <class T, size_t... D>
void fill_real(tensor<T, D...>& t, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

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

    /// Real inputs: the fused op's gradient against central differences (double).
    static void finite_differences(unsigned seed) {
        std::mt19937 rng(seed);
        auto d = std::make_unique<data>();
        fill_real(d->x, rng);
        fill_real(d->k, rng);
        fill_real(d->b, rng);
        fill_real(d->r, rng);
        const auto loss = ctgrad::sum(fused * R);
        if constexpr (Bias) {
            check_fd(loss, wrt(X, K, B), X = d->x, K = d->k, B = d->b, R = d->r);
        } else {
            check_fd(loss, wrt(X, K), X = d->x, K = d->k, R = d->r);
        }
    }
};

}  // namespace

// LeNet's first block (direct kernels, one vector pair per row, 2 × 2 pooling in vectors)
BOOST_AUTO_TEST_CASE(lenet_conv1_relu_pool_float) {
    fused_case<float, 2, 1, 28, 28, 6, 5, 5, 1, 2, true, 2, true>::exact(1);
}
// LeNet's second block: 16 channels, rows of 10 in vectors of 16
BOOST_AUTO_TEST_CASE(lenet_conv2_relu_pool_float) {
    fused_case<float, 3, 6, 14, 14, 16, 5, 5, 1, 0, true, 2, true>::exact(2);
}
// rows of 70 outputs: three vectors and a remainder; 35 pooled numbers a row
BOOST_AUTO_TEST_CASE(wide_rows_relu_pool) {
    fused_case<float, 1, 2, 10, 70, 3, 3, 3, 1, 1, true, 2, true>::exact(3);
    fused_case<double, 1, 2, 10, 70, 3, 3, 3, 1, 1, true, 2, true>::exact(4);
}
// odd channel counts, a non-square kernel, pooling without relu, no bias
BOOST_AUTO_TEST_CASE(odd_sizes_pool_without_relu_no_bias) {
    fused_case<double, 2, 3, 12, 13, 5, 3, 4, 1, 0, false, 2, false>::exact(5);
    fused_case<double, 2, 3, 12, 13, 5, 3, 4, 1, 0, false, 2, false>::finite_differences(6);
}
// relu alone (odd output size: no pooling), bias
BOOST_AUTO_TEST_CASE(relu_only) {
    fused_case<float, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>::exact(7);
    fused_case<double, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>::finite_differences(8);
}
// 3 × 3 windows (the generic pooling loop after the direct kernels)
BOOST_AUTO_TEST_CASE(relu_pool_window_3) {
    fused_case<double, 2, 2, 11, 11, 3, 3, 3, 1, 0, true, 3, true>::exact(9);
    fused_case<double, 2, 2, 11, 11, 3, 3, 3, 1, 0, true, 3, true>::finite_differences(10);
}
// stride 2 and a kernel 9 wide: the GEMM path, fused the same way
BOOST_AUTO_TEST_CASE(gemm_path_stride_2_and_wide_kernel) {
    fused_case<double, 2, 2, 11, 11, 3, 3, 3, 2, 1, true, 2, true>::exact(11);
    fused_case<float, 2, 2, 12, 12, 4, 9, 9, 1, 2, true, 2, true>::exact(12);
    fused_case<double, 2, 2, 11, 11, 3, 3, 3, 2, 1, true, 2, true>::finite_differences(13);
}

// overlapping windows (stride below the window) are not fused: the pooling op stays, on the
// fused relu(conv2d)
BOOST_AUTO_TEST_CASE(overlapping_windows_are_not_fused) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 1, 1, 8, 8>>;
    constexpr auto K = ctgrad::var<"K", tensor<double, 2, 1, 3, 3>>;
    using overlapping = decltype(ctgrad::max_pool2d<3, 1>(ctgrad::relu(ctgrad::conv2d(X, K))));
    static_assert(std::is_same_v<overlapping::op, ctgrad::ops::max_pool2d_op<3, 1>>);
    static_assert(
        std::is_same_v<overlapping::args, ctgrad::detail::type_list<std::remove_cvref_t<
                                              decltype(ctgrad::relu(ctgrad::conv2d(X, K)))>>>);
    static_assert(
        std::is_same_v<std::remove_cvref_t<decltype(ctgrad::relu(ctgrad::conv2d(X, K)))>::op,
                       ctgrad::ops::conv2d_op<1, 0, true, 0>>);
    // and the fused value is the pooling of the fused relu(conv2d)
    tensor<double, 1, 1, 8, 8> x{};
    tensor<double, 2, 1, 3, 3> k{};
    std::mt19937 rng(14);
    fill_real(x, rng);
    fill_real(k, rng);
    const auto a =
        ctgrad::value(ctgrad::max_pool2d<3, 1>(ctgrad::relu(ctgrad::conv2d(X, K))), X = x, K = k);
    const auto c = ctgrad::value(ctgrad::relu(ctgrad::conv2d(X, K)), X = x, K = k);
    for (size_t o = 0; o < 2; ++o)
        for (size_t i = 0; i < 4; ++i)
            for (size_t j = 0; j < 4; ++j) {
                double m = c(0, o, i, j);
                for (size_t u = 0; u < 3; ++u)
                    for (size_t v = 0; v < 3; ++v) m = std::max(m, c(0, o, i + u, j + v));
                BOOST_TEST(a(0, o, i, j) == m);
            }
}
