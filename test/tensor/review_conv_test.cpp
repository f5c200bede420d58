// An outside reviewer's convolution and pooling shapes: padding larger than the kernel, stride
// larger than the kernel (rows and columns skipped), a kernel larger than the image (padded),
// 1×1 everything, prime and many channels; conv2d against a loop written here and its gradient
// (x, K, b) against central differences; pooling windows 1, 3 (stride 2) and 9 (stride 2), with
// ties, against central differences, and max pooling's tie rule (the first maximum in row-major
// order) against a loop.
#define BOOST_TEST_MODULE tensor_review_conv
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>

#include <ctgrad/ctgrad.hpp>

#include "support/tensor_fd.hpp"

using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
namespace {
template <class T, std::size_t... D>
void fill(tensor<T, D...>& t, unsigned seed) {
    std::mt19937 r(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    for (auto& e : t) e = u(r);
}
template <std::size_t S, std::size_t P, std::size_t N, std::size_t C, std::size_t H, std::size_t W,
          std::size_t O, std::size_t K>
void conv_case() {
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, W>>;
    constexpr auto Kv = ctgrad::var<"K", tensor<double, O, C, K, K>>;
    constexpr auto b = ctgrad::var<"b", tensor<double, O>>;
    tensor<double, N, C, H, W> x;
    tensor<double, O, C, K, K> k;
    tensor<double, O> bb;
    fill(x, 1);
    fill(k, 2);
    fill(bb, 3);
    constexpr std::size_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    auto y = ctgrad::value(ctgrad::conv2d<S, P>(X, Kv, b), X = x, Kv = k, b = bb);
    double worst = 0;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t i = 0; i < OH; ++i)
                for (std::size_t j = 0; j < OW; ++j) {
                    double s = bb(o);
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t u = 0; u < K; ++u)
                            for (std::size_t v = 0; v < K; ++v) {
                                long r = long(S * i + u) - long(P), q = long(S * j + v) - long(P);
                                if (r < 0 || r >= long(H) || q < 0 || q >= long(W)) continue;
                                s += k(o, c, u, v) * x(n, c, size_t(r), size_t(q));
                            }
                    worst = std::max(worst, std::abs(s - y(n, o, i, j)));
                }
    BOOST_TEST(worst < 1e-12, "S" << S << " P" << P << " K" << K << " worst " << worst);
    constexpr auto R = ctgrad::var<"R", tensor<double, N, O, OH, OW>>;
    tensor<double, N, O, OH, OW> r;
    fill(r, 4);
    check_fd(ctgrad::sum(ctgrad::tanh(ctgrad::conv2d<S, P>(X, Kv, b)) * R), wrt(X, Kv, b), X = x,
             Kv = k, b = bb, R = r);
}
}  // namespace

BOOST_AUTO_TEST_CASE(convs) {
    conv_case<2, 2, 1, 1, 9, 11, 3, 1>();   // padding larger than the kernel
    conv_case<3, 1, 2, 2, 9, 11, 3, 2>();   // stride larger than the kernel: gaps
    conv_case<1, 0, 1, 1, 1, 1, 1, 1>();    // 1x1 everything
    conv_case<1, 3, 1, 3, 2, 3, 2, 5>();    // kernel larger than the image, padded
    conv_case<2, 1, 3, 5, 9, 11, 7, 3>();   // prime channels
    conv_case<1, 1, 1, 13, 5, 7, 11, 3>();  // many channels (primes)
}
BOOST_AUTO_TEST_CASE(pools) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 2, 3, 9, 11>>;
    tensor<double, 2, 3, 9, 11> x;
    fill(x, 5);
    // ties: many equal values
    for (std::size_t i = 0; i < x.size(); i += 3) x.data()[i] = 0.5;
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::avg_pool2d<3, 2>(X))), X = x);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::max_pool2d<1>(X))), X = x);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::avg_pool2d<9, 2>(X))), X = x);
    auto g = ctgrad::gradient(ctgrad::sum(ctgrad::max_pool2d<3, 2>(X)), X = x);
    // each window sends 1 to its first max in row-major order
    tensor<double, 2, 3, 9, 11> ref{};
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t i = 0; i < 4; ++i)
                for (std::size_t j = 0; j < 5; ++j) {
                    std::size_t bu = 0, bv = 0;
                    double m = -1e300;
                    for (std::size_t u = 0; u < 3; ++u)
                        for (std::size_t v = 0; v < 3; ++v)
                            if (x(n, c, 2 * i + u, 2 * j + v) > m) {
                                m = x(n, c, 2 * i + u, 2 * j + v);
                                bu = u;
                                bv = v;
                            }
                    ref(n, c, 2 * i + bu, 2 * j + bv) += 1;
                }
    for (std::size_t e = 0; e < x.size(); ++e)
        BOOST_TEST(g[X].data()[e] == ref.data()[e], "e " << e);
}
