// Convolution, pooling and flatten (tensor/conv.hpp): values and gradients against an
// independent naive reference (plain loops over the definition), gradients against central
// differences, with strides, paddings, odd and non-square sizes; ties in max pooling; the
// float kernels (GEMM, run-time instruction set) on LeNet's sizes; a tiny conv net's gradient
// in a static_assert.
#define BOOST_TEST_MODULE tensor_conv
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <ctgrad/ctgrad.hpp>

#include "support/conv.hpp"
#include "support/tensor_fd.hpp"

namespace tt = boost::test_tools;
using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using ctgrad::test::fill_uniform;
using ctgrad::test::naive_conv;
using std::size_t;

namespace {

template <size_t N, size_t C, size_t H, size_t W, size_t O, size_t KH, size_t KW, size_t S,
          size_t P>
void check_conv_case(unsigned seed) {
    constexpr size_t OH = (H + 2 * P - KH) / S + 1, OW = (W + 2 * P - KW) / S + 1;
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, W>>;
    constexpr auto K = ctgrad::var<"K", tensor<double, O, C, KH, KW>>;
    constexpr auto B = ctgrad::var<"B", tensor<double, O>>;
    constexpr auto R = ctgrad::var<"R", tensor<double, N, O, OH, OW>>;
    std::mt19937 rng(seed);
    tensor<double, N, C, H, W> x{};
    tensor<double, O, C, KH, KW> k{};
    tensor<double, O> b{};
    tensor<double, N, O, OH, OW> r{};
    fill_uniform(x, rng, -1, 1);
    fill_uniform(k, rng, -1, 1);
    fill_uniform(b, rng, -1, 1);
    fill_uniform(r, rng, -1, 1);
    const naive_conv ref(N, C, H, W, O, KH, KW, S, P);

    // value-only forward (direct convolution), with and without bias
    const auto y = ctgrad::value(ctgrad::conv2d<S, P>(X, K, B), X = x, K = k, B = b);
    const auto y0 = ctgrad::value(ctgrad::conv2d<S, P>(X, K), X = x, K = k);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(y)>, tensor<double, N, O, OH, OW>>);
    const auto yr = ref.forward(x.data(), k.data(), b.data());
    const auto yr0 = ref.forward(x.data(), k.data(), nullptr);
    for (size_t e = 0; e < yr.size(); ++e) {
        BOOST_TEST(y.data()[e] == yr[e], tt::tolerance(1e-12));
        BOOST_TEST(y0.data()[e] == yr0[e], tt::tolerance(1e-12));
    }

    // training forward (im2col + GEMM) and the three vjps against the reference's
    const auto loss = ctgrad::sum(ctgrad::conv2d<S, P>(X, K, B) * R);
    const auto g = check_fd(loss, wrt(X, K, B), X = x, K = k, B = b, R = r);
    double lr = 0;
    for (size_t e = 0; e < yr.size(); ++e) lr += yr[e] * r.data()[e];
    BOOST_TEST(g.value == lr, tt::tolerance(1e-12));
    const auto want = ref.backward(x.data(), k.data(), r.data());
    for (size_t e = 0; e < want.dx.size(); ++e)
        BOOST_TEST(g[X].data()[e] == want.dx[e], tt::tolerance(1e-12));
    for (size_t e = 0; e < want.dk.size(); ++e)
        BOOST_TEST(g[K].data()[e] == want.dk[e], tt::tolerance(1e-12));
    for (size_t o = 0; o < O; ++o) BOOST_TEST(g[B](o) == want.db[o], tt::tolerance(1e-12));

    // without bias, and with the image used twice (its adjoint accumulates from two vjps)
    check_fd(ctgrad::sum(ctgrad::conv2d<S, P>(X, K) * R), wrt(X, K), X = x, K = k, R = r);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::conv2d<S, P>(ctgrad::tanh(X), K))) + ctgrad::sum(X),
             wrt(X, K), X = x, K = k);
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_stride_1_padding_1) {
    check_conv_case<2, 3, 5, 6, 4, 3, 3, 1, 1>(1);
}
BOOST_AUTO_TEST_CASE(conv2d_stride_2_no_padding_odd_sizes) {
    check_conv_case<2, 2, 7, 9, 3, 3, 2, 2, 0>(2);
}
BOOST_AUTO_TEST_CASE(conv2d_stride_3_padding_2_remainder_dropped) {
    check_conv_case<1, 2, 8, 7, 2, 5, 3, 3, 2>(3);
}
BOOST_AUTO_TEST_CASE(conv2d_kernel_as_large_as_the_padded_image) {
    check_conv_case<2, 1, 3, 4, 2, 5, 6, 1, 1>(4);
}
BOOST_AUTO_TEST_CASE(conv2d_one_by_one_kernel) {
    check_conv_case<3, 4, 3, 3, 5, 1, 1, 1, 0>(5);
}

// a convolution whose scratch is above the stack limit of the value-only forward: the direct
// convolution runs there (and in constant evaluation)
BOOST_AUTO_TEST_CASE(conv2d_direct_forward_for_large_images) {
    constexpr size_t N = 1, C = 16, H = 40, O = 2;
    using op = ctgrad::ops::conv2d_op<1, 1>;
    static_assert((op::dims<ctgrad::shape<N, C, H, H>, ctgrad::shape<O, C, 3, 3>>::R *
                   op::dims<ctgrad::shape<N, C, H, H>, ctgrad::shape<O, C, 3, 3>>::Q) *
                      sizeof(double) >
                  op::stack_scratch_bytes);
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, H>>;
    constexpr auto K = ctgrad::var<"K", tensor<double, O, C, 3, 3>>;
    constexpr auto B = ctgrad::var<"B", tensor<double, O>>;
    auto x = std::make_unique<tensor<double, N, C, H, H>>();
    tensor<double, O, C, 3, 3> k{};
    tensor<double, O> b{};
    std::mt19937 rng(31);
    fill_uniform(*x, rng, -1, 1);
    fill_uniform(k, rng, -1, 1);
    fill_uniform(b, rng, -1, 1);
    const naive_conv ref(N, C, H, H, O, 3, 3, 1, 1);
    const auto yr = ref.forward(x->data(), k.data(), b.data());
    const auto y = ctgrad::value(ctgrad::conv2d<1, 1>(X, K, B), X = *x, K = k, B = b);
    for (size_t e = 0; e < yr.size(); ++e) BOOST_TEST(y.data()[e] == yr[e], tt::tolerance(1e-12));
}

// the float kernels on LeNet's two convolutions (GEMM with the run-time instruction set)
BOOST_AUTO_TEST_CASE(conv2d_float_lenet_sizes_against_the_reference) {
    constexpr size_t N = 3;
    constexpr auto X = ctgrad::var<"X", tensor<float, N, 6, 14, 14>>;
    constexpr auto K = ctgrad::var<"K", tensor<float, 16, 6, 5, 5>>;
    constexpr auto B = ctgrad::var<"B", tensor<float, 16>>;
    constexpr auto R = ctgrad::var<"R", tensor<float, N, 16, 10, 10>>;
    std::mt19937 rng(9);
    tensor<float, N, 6, 14, 14> x{};
    tensor<float, 16, 6, 5, 5> k{};
    tensor<float, 16> b{};
    tensor<float, N, 16, 10, 10> r{};
    fill_uniform(x, rng, -1, 1);
    fill_uniform(k, rng, -1, 1);
    fill_uniform(b, rng, -1, 1);
    fill_uniform(r, rng, -1, 1);
    const auto xd = ctgrad::test::as_doubles(x), kd = ctgrad::test::as_doubles(k),
               bd = ctgrad::test::as_doubles(b), rd = ctgrad::test::as_doubles(r);
    const naive_conv ref(N, 6, 14, 14, 16, 5, 5, 1, 0);
    const auto yr = ref.forward(xd.data(), kd.data(), bd.data());
    const auto y = ctgrad::value(ctgrad::conv2d(X, K, B), X = x, K = k, B = b);
    const auto g = ctgrad::gradient(ctgrad::sum(ctgrad::conv2d(X, K, B) * R), wrt(X, K, B), X = x,
                                    K = k, B = b, R = r);
    double lr = 0;
    for (size_t e = 0; e < yr.size(); ++e) {
        BOOST_TEST(std::abs(y.data()[e] - yr[e]) <= 1e-4,
                   e << ": " << y.data()[e] << " vs " << yr[e]);
        lr += yr[e] * double(r.data()[e]);
    }
    BOOST_TEST(double(g.value) == lr, tt::tolerance(1e-4));
    const auto want = ref.backward(xd.data(), kd.data(), rd.data());
    for (size_t e = 0; e < want.dx.size(); ++e)
        BOOST_TEST(std::abs(g[X].data()[e] - want.dx[e]) <= 1e-4, "dX " << e);
    for (size_t e = 0; e < want.dk.size(); ++e)  // a sum of 300 products
        BOOST_TEST(std::abs(g[K].data()[e] - want.dk[e]) <= 1e-3, "dK " << e);
}

// --- pooling ---

namespace {

template <size_t N, size_t C, size_t H, size_t W, size_t Win, size_t S>
void check_pool_case(unsigned seed) {
    constexpr size_t OH = (H - Win) / S + 1, OW = (W - Win) / S + 1;
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, W>>;
    constexpr auto R = ctgrad::var<"R", tensor<double, N, C, OH, OW>>;
    std::mt19937 rng(seed);
    tensor<double, N, C, H, W> x{};
    tensor<double, N, C, OH, OW> r{};
    fill_uniform(x, rng, -1, 1);  // distinct values: no ties, the max is differentiable
    fill_uniform(r, rng, -1, 1);
    const auto mx = ctgrad::value(ctgrad::max_pool2d<Win, S>(X), X = x);
    const auto av = ctgrad::value(ctgrad::avg_pool2d<Win, S>(X), X = x);
    std::vector<double> dmax(x.size(), 0.0), davg(x.size(), 0.0);
    for (size_t pl = 0; pl < N * C; ++pl)
        for (size_t i = 0; i < OH; ++i)
            for (size_t j = 0; j < OW; ++j) {
                double m = -1e300, s = 0;
                size_t at = 0;
                for (size_t u = 0; u < Win; ++u)
                    for (size_t v = 0; v < Win; ++v) {
                        const size_t e = (pl * H + S * i + u) * W + S * j + v;
                        s += x.data()[e];
                        if (x.data()[e] > m) m = x.data()[e], at = e;
                    }
                const size_t q = (pl * OH + i) * OW + j;
                BOOST_TEST(mx.data()[q] == m);
                BOOST_TEST(av.data()[q] == s / double(Win * Win), tt::tolerance(1e-14));
                dmax[at] += r.data()[q];
                for (size_t u = 0; u < Win; ++u)
                    for (size_t v = 0; v < Win; ++v)
                        davg[(pl * H + S * i + u) * W + S * j + v] +=
                            r.data()[q] / double(Win * Win);
            }
    const auto gm = check_fd(ctgrad::sum(ctgrad::max_pool2d<Win, S>(X) * R), wrt(X), X = x, R = r);
    const auto ga = check_fd(ctgrad::sum(ctgrad::avg_pool2d<Win, S>(X) * R), wrt(X), X = x, R = r);
    for (size_t e = 0; e < x.size(); ++e) {
        BOOST_TEST(gm[X].data()[e] == dmax[e], tt::tolerance(1e-14));
        BOOST_TEST(ga[X].data()[e] == davg[e], tt::tolerance(1e-14));
    }
    // through an elementwise function on both sides (the pool's adjoint assigned, then read)
    check_fd(ctgrad::sum(ctgrad::tanh(ctgrad::max_pool2d<Win, S>(ctgrad::square(X)))) +
                 ctgrad::sum(ctgrad::avg_pool2d<Win, S>(X) * R),
             wrt(X), X = x, R = r);
}

}  // namespace

BOOST_AUTO_TEST_CASE(pooling_2x2_tiles) {
    check_pool_case<2, 3, 6, 4, 2, 2>(11);
}
BOOST_AUTO_TEST_CASE(pooling_3x3_stride_2_overlapping_odd) {
    check_pool_case<1, 2, 7, 9, 3, 2>(12);
}
BOOST_AUTO_TEST_CASE(pooling_3x3_stride_1) {
    check_pool_case<2, 1, 5, 5, 3, 1>(13);
}
BOOST_AUTO_TEST_CASE(pooling_whole_image) {
    check_pool_case<2, 2, 3, 3, 3, 3>(14);
}

BOOST_AUTO_TEST_CASE(max_pool_tie_sends_the_gradient_to_the_first_maximum) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 1, 1, 4, 4>>;
    // window (0,0): all equal -> position (0,0); window (0,1): max 5 at (0,3) and (1,2): the
    // first in row-major order is (0,3); window (1,0): 7 at (3,0) and (3,1) -> (3,0);
    // window (1,1): 2 at (2,2),(2,3),(3,3) -> (2,2)
    const tensor<double, 1, 1, 4, 4> x{1, 1, 4, 5,  //
                                       1, 1, 5, 0,  //
                                       0, 7, 2, 2,  //
                                       7, 7, 1, 2};
    const auto g = ctgrad::gradient(ctgrad::sum(ctgrad::max_pool2d<2>(X)), X = x);
    const tensor<double, 1, 1, 4, 4> want{1, 0, 0, 1,  //
                                          0, 0, 0, 0,  //
                                          0, 1, 1, 0,  //
                                          0, 0, 0, 0};
    // (window (1,0): rows 2-3, columns 0-1 = {0, 7, 7, 7}: the first 7 is at (2,1))
    for (size_t e = 0; e < 16; ++e) BOOST_TEST(g[X].data()[e] == want.data()[e], "element " << e);
    BOOST_TEST(g.value == 1.0 + 5.0 + 7.0 + 2.0);
    // overlapping windows (3x3, stride 1) on a constant image: every window picks its corner
    constexpr auto Z = ctgrad::var<"Z", tensor<double, 1, 1, 4, 4>>;
    tensor<double, 1, 1, 4, 4> z{};
    for (auto& e : z) e = 3.0;
    const auto gz = ctgrad::gradient(ctgrad::sum(ctgrad::max_pool2d<3, 1>(Z)), Z = z);
    for (size_t i = 0; i < 4; ++i)
        for (size_t j = 0; j < 4; ++j)
            BOOST_TEST(gz[Z](0, 0, i, j) == ((i < 2 && j < 2) ? 1.0 : 0.0));
}

BOOST_AUTO_TEST_CASE(flatten_is_torch_flatten_from_dimension_1) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 2, 3, 2, 2>>;
    constexpr auto R = ctgrad::var<"R", tensor<double, 2, 12>>;
    std::mt19937 rng(21);
    tensor<double, 2, 3, 2, 2> x{};
    tensor<double, 2, 12> r{};
    fill_uniform(x, rng, -1, 1);
    fill_uniform(r, rng, -1, 1);
    const auto f = ctgrad::value(ctgrad::flatten(X), X = x);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(f)>, tensor<double, 2, 12>>);
    for (size_t n = 0; n < 2; ++n)
        for (size_t c = 0; c < 3; ++c)
            for (size_t i = 0; i < 2; ++i)
                for (size_t j = 0; j < 2; ++j)
                    BOOST_TEST(f(n, (c * 2 + i) * 2 + j) == x(n, c, i, j));
    const auto g = check_fd(ctgrad::sum(ctgrad::tanh(ctgrad::flatten(ctgrad::square(X))) * R),
                            wrt(X), X = x, R = r);
    BOOST_TEST(g.value != 0.0);
}

// --- a small conv net, and its gradient in a constant expression ---

namespace {
constexpr auto CX = ctgrad::var<"CX", tensor<double, 2, 1, 4, 4>>;
constexpr auto CK = ctgrad::var<"CK", tensor<double, 2, 1, 3, 3>>;
constexpr auto CB = ctgrad::var<"CB", tensor<double, 2>>;
constexpr auto CW = ctgrad::var<"CW", tensor<double, 8, 3>>;
constexpr auto CY = ctgrad::var<"CY", tensor<double, 2, 3>>;

constexpr auto tiny_net_loss() {
    return ctgrad::softmax_cross_entropy(
        ctgrad::matmul(
            ctgrad::flatten(ctgrad::max_pool2d<2>(ctgrad::relu(ctgrad::conv2d<1, 1>(CX, CK, CB)))),
            CW),
        CY);
}

struct tiny_inputs {
    tensor<double, 2, 1, 4, 4> x{};
    tensor<double, 2, 1, 3, 3> k{};
    tensor<double, 2> b{};
    tensor<double, 8, 3> w{};
    tensor<double, 2, 3> y{};
};

constexpr tiny_inputs tiny_example() {
    tiny_inputs in;
    for (size_t e = 0; e < 32; ++e) in.x.data()[e] = double((e * 7) % 11) / 8.0 - 0.5;
    for (size_t e = 0; e < 18; ++e) in.k.data()[e] = double((e * 5) % 9) / 6.0 - 0.6;
    in.b(0) = 0.1, in.b(1) = -0.2;
    for (size_t e = 0; e < 24; ++e) in.w.data()[e] = double((e * 3) % 7) / 5.0 - 0.5;
    in.y(0, 1) = 1.0, in.y(1, 2) = 1.0;
    return in;
}

struct tiny_result {
    double value, dk0, dk17, db0, dw5;
};

/// The same loss and gradients by hand (plain loops over the definitions, ctgrad::math's
/// constexpr exp and log): conv 1→2 3×3 padding 1, relu, 2 × 2 max pooling (first maximum),
/// flatten, ·W, softmax cross-entropy averaged over the 2 rows.
constexpr tiny_result tiny_by_hand() {
    const tiny_inputs in = tiny_example();
    const auto x = [&](size_t n, long i, long j) {
        return i < 0 || j < 0 || i >= 4 || j >= 4 ? 0.0
                                                  : in.x.data()[n * 16 + size_t(i) * 4 + size_t(j)];
    };
    double y[2][2][4][4]{};
    for (size_t n = 0; n < 2; ++n)
        for (size_t o = 0; o < 2; ++o)
            for (size_t i = 0; i < 4; ++i)
                for (size_t j = 0; j < 4; ++j) {
                    double s = in.b(o);
                    for (size_t u = 0; u < 3; ++u)
                        for (size_t v = 0; v < 3; ++v)
                            s += in.k.data()[o * 9 + u * 3 + v] *
                                 x(n, long(i + u) - 1, long(j + v) - 1);
                    y[n][o][i][j] = s;
                }
    double f[2][8]{};
    size_t at[2][8]{};  // the window position (i·4 + j) the gradient goes to
    for (size_t n = 0; n < 2; ++n)
        for (size_t o = 0; o < 2; ++o)
            for (size_t pi = 0; pi < 2; ++pi)
                for (size_t pj = 0; pj < 2; ++pj) {
                    const size_t q = o * 4 + pi * 2 + pj;
                    double m = -1.0;
                    for (size_t u = 0; u < 2; ++u)
                        for (size_t v = 0; v < 2; ++v) {
                            const double r = y[n][o][2 * pi + u][2 * pj + v] > 0
                                                 ? y[n][o][2 * pi + u][2 * pj + v]
                                                 : 0.0;
                            if (r > m) m = r, at[n][q] = (2 * pi + u) * 4 + 2 * pj + v;
                        }
                    f[n][q] = m;
                }
    tiny_result h{};
    double dz[2][3]{};
    for (size_t n = 0; n < 2; ++n) {
        double z[3]{}, top = -1e300, se = 0;
        for (size_t c = 0; c < 3; ++c) {
            for (size_t e = 0; e < 8; ++e) z[c] += f[n][e] * in.w(e, c);
            top = z[c] > top ? z[c] : top;
        }
        for (size_t c = 0; c < 3; ++c) se += ctgrad::math::exp(z[c] - top);
        const double lse = top + ctgrad::math::log(se);
        for (size_t c = 0; c < 3; ++c) {
            h.value += in.y(n, c) * (lse - z[c]) / 2;
            dz[n][c] = (ctgrad::math::exp(z[c] - lse) - in.y(n, c)) / 2;
        }
    }
    double dk[2][9]{}, db[2]{};
    for (size_t n = 0; n < 2; ++n)
        for (size_t e = 0; e < 8; ++e) {
            double df = 0;
            for (size_t c = 0; c < 3; ++c) df += dz[n][c] * in.w(e, c);
            const size_t o = e / 4, i = at[n][e] / 4, j = at[n][e] % 4;
            if (!(y[n][o][i][j] > 0)) continue;  // relu'(y) = 0: nothing reaches the kernel
            db[o] += df;
            for (size_t u = 0; u < 3; ++u)
                for (size_t v = 0; v < 3; ++v)
                    dk[o][u * 3 + v] += df * x(n, long(i + u) - 1, long(j + v) - 1);
        }
    for (size_t n = 0; n < 2; ++n) h.dw5 += f[n][1] * dz[n][2];  // W is [8, 3]: entry 5 = (1, 2)
    h.dk0 = dk[0][0], h.dk17 = dk[1][8], h.db0 = db[0];
    return h;
}

constexpr bool near(double a, double b) {
    const double d = a > b ? a - b : b - a;
    return d <= 1e-12 * (1 + (b > 0 ? b : -b));
}

constexpr tiny_result tiny_gradient() {
    const tiny_inputs in = tiny_example();
    const auto g = ctgrad::gradient(tiny_net_loss(), wrt(CK, CB, CW), CX = in.x, CK = in.k,
                                    CB = in.b, CW = in.w, CY = in.y);
    return {g.value, g[CK].data()[0], g[CK].data()[17], g[CB](0), g[CW].data()[5]};
}
}  // namespace

BOOST_AUTO_TEST_CASE(tiny_conv_net_gradient_in_a_constant_expression) {
    constexpr tiny_result c = tiny_gradient();
    // the same numbers at run time (the GEMM and direct kernels), and against central
    // differences
    const tiny_inputs in = tiny_example();
    const auto g = check_fd(tiny_net_loss(), wrt(CK, CB, CW), CX = in.x, CK = in.k, CB = in.b,
                            CW = in.w, CY = in.y);
    // the engine's constant-evaluated gradient (the fused conv2d_op<1, 1, true, 2> in constant
    // evaluation) equals the hand computation
    constexpr tiny_result h = tiny_by_hand();
    static_assert(near(c.value, h.value) && near(c.dk0, h.dk0) && near(c.dk17, h.dk17) &&
                  near(c.db0, h.db0) && near(c.dw5, h.dw5));
    static_assert(h.dk0 != 0.0 && h.dk17 != 0.0 && h.db0 != 0.0 && h.dw5 != 0.0);
    BOOST_TEST(c.value == g.value, tt::tolerance(1e-13));
    BOOST_TEST(c.dk0 == g[CK].data()[0], tt::tolerance(1e-12));
    BOOST_TEST(c.dk17 == g[CK].data()[17], tt::tolerance(1e-12));
    BOOST_TEST(c.db0 == g[CB](0), tt::tolerance(1e-12));
    BOOST_TEST(c.dw5 == g[CW].data()[5], tt::tolerance(1e-12));
}
