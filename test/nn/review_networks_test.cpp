// An outside reviewer's networks, other than the ones the other suites train: three sigmoid dense
// layers 7→13→5→3 (batch 1 and 5) against a backward pass written here with plain loops and
// central differences; a conv net on 9×11 images with a stride-2, padding-1 convolution, batch
// norm over channels, a residual block with a projection, average pooling, dropout (identity at
// inference) and a dense head, against central differences; the strided convolution and the
// pooling against plain loops.
#define BOOST_TEST_MODULE nn_review_networks
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <random>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/finite_difference.hpp"
#include "support/tensor_fd.hpp"

namespace nn = ctgrad::nn;
using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using ctgrad::test::close;
using std::size_t;

namespace {

template <class T, size_t... D>
void fill(tensor<T, D...>& t, unsigned seed, double lo = -1, double hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

using l1 = nn::dense<"l1", 7, 13, double>;
using l2 = nn::dense<"l2", 13, 5, double>;
using l3 = nn::dense<"l3", 5, 3, double>;
constexpr auto mlp = nn::sequential(l1{}, nn::sigmoid, l2{}, nn::sigmoid, l3{}, nn::sigmoid);

double sig(double v) {
    return 1 / (1 + std::exp(-v));
}

/// y = σ(x·W + b) for a row-major x [B, In], W [In, Out]
std::vector<double> layer(const std::vector<double>& x, size_t B, size_t In, size_t Out,
                          const double* W, const double* b) {
    std::vector<double> y(B * Out);
    for (size_t r = 0; r < B; ++r) {
        for (size_t o = 0; o < Out; ++o) {
            double s = b[o];
            for (size_t i = 0; i < In; ++i) s += x[r * In + i] * W[i * Out + o];
            y[r * Out + o] = sig(s);
        }
    }
    return y;
}

/// Backward through y = σ(x·W + b) given dy: writes dW, db, returns dx.
std::vector<double> layer_back(const std::vector<double>& x, const std::vector<double>& y,
                               const std::vector<double>& dy, size_t B, size_t In, size_t Out,
                               const double* W, std::vector<double>& dW, std::vector<double>& db) {
    std::vector<double> dz(B * Out), dx(B * In, 0.0);
    dW.assign(In * Out, 0.0);
    db.assign(Out, 0.0);
    for (size_t e = 0; e < B * Out; ++e) dz[e] = dy[e] * y[e] * (1 - y[e]);
    for (size_t r = 0; r < B; ++r) {
        for (size_t o = 0; o < Out; ++o) {
            db[o] += dz[r * Out + o];
            for (size_t i = 0; i < In; ++i) {
                dW[i * Out + o] += x[r * In + i] * dz[r * Out + o];
                dx[r * In + i] += W[i * Out + o] * dz[r * Out + o];
            }
        }
    }
    return dx;
}

template <size_t B>
void check_mlp() {
    BOOST_TEST_CONTEXT("7-13-5-3 sigmoid, batch " << B) {
        constexpr auto X = ctgrad::var<"X", tensor<double, B, 7>>;
        constexpr auto Y = ctgrad::var<"Y", tensor<double, B, 3>>;
        const auto loss = ctgrad::mse(mlp(X), Y);
        nn::parameters_of<decltype(mlp)> p;
        nn::init::xavier(p, 17 + B);
        fill(p[l1::b], 5);  // biases that carry something
        fill(p[l2::b], 6);
        fill(p[l3::b], 7);
        tensor<double, B, 7> x;
        tensor<double, B, 3> y;
        fill(x, 8 + B);
        fill(y, 9 + B, 0, 1);
        // reference forward and backward
        const std::vector<double> x0(x.begin(), x.end());
        const auto h1 = layer(x0, B, 7, 13, p[l1::W].data(), p[l1::b].data());
        const auto h2 = layer(h1, B, 13, 5, p[l2::W].data(), p[l2::b].data());
        const auto h3 = layer(h2, B, 5, 3, p[l3::W].data(), p[l3::b].data());
        double ref = 0;
        std::vector<double> d3(B * 3);
        for (size_t e = 0; e < B * 3; ++e) {
            const double d = h3[e] - y.data()[e];
            ref += d * d / (2.0 * B);
            d3[e] = d / B;
        }
        std::vector<double> dW3, db3, dW2, db2, dW1, db1;
        const auto d2 = layer_back(h2, h3, d3, B, 5, 3, p[l3::W].data(), dW3, db3);
        const auto d1 = layer_back(h1, h2, d2, B, 13, 5, p[l2::W].data(), dW2, db2);
        const auto dx = layer_back(x0, h1, d1, B, 7, 13, p[l1::W].data(), dW1, db1);
        ctgrad::program prog(loss, p.wrt());
        const auto g = prog.gradient(p, X = x, Y = y);
        BOOST_TEST(close(g.value, ref, 1e-13));
        const auto same = [](const auto& t, const std::vector<double>& r, const char* what) {
            BOOST_TEST_REQUIRE(t.size() == r.size());
            for (size_t e = 0; e < r.size(); ++e) {
                BOOST_TEST(std::abs(t.data()[e] - r[e]) <= 1e-14 + 1e-12 * std::abs(r[e]),
                           what << "[" << e << "] = " << t.data()[e] << ", expected " << r[e]);
            }
        };
        same(g[l1::W], dW1, "dW1");
        same(g[l1::b], db1, "db1");
        same(g[l2::W], dW2, "dW2");
        same(g[l2::b], db2, "db2");
        same(g[l3::W], dW3, "dW3");
        same(g[l3::b], db3, "db3");
        // with respect to the input too (plain gradient, every variable)
        const auto gx =
            p.bind([&](const auto&... b) { return ctgrad::gradient(loss, b..., X = x, Y = y); });
        same(gx[X], dx, "dX");
        BOOST_TEST(close(gx.value, ref, 1e-13));
        p.bind([&](const auto&... b) {
            check_fd(loss, b..., X = x, Y = y);
            return 0;
        });
    }
}

// --- the conv net ---
constexpr size_t NB = 3;
using k1 = nn::conv2d<"k1", 2, 4, 3, 2, 1, double>;  // [3, 2, 9, 11] -> [3, 4, 5, 6]
using bn = nn::batch_norm2d<"bn", 4, double>;
using r1 = nn::conv2d<"r1", 4, 6, 3, 1, 1, double>;  // [3, 4, 5, 6] -> [3, 6, 5, 6]
using pr = nn::conv2d<"pr", 4, 6, 1, 1, 0, double>;  // the projection, 1×1
using dr = nn::dropout<"dr", 1, 3, double, 5>;
using head = nn::dense<"head", 6 * 4 * 5, 3, double>;
constexpr auto body =
    nn::sequential(k1{}, bn{}, nn::relu, nn::residual(nn::sequential(r1{}, nn::tanh), pr{}),
                   nn::avg_pool2d<2, 1>{}, nn::flatten);  // [3, 6, 4, 5] -> [3, 120]
constexpr auto cnn = nn::sequential(body, dr{}, head{});
constexpr auto CX = ctgrad::var<"CX", tensor<double, NB, 2, 9, 11>>;
constexpr auto CY = ctgrad::var<"CY", tensor<double, NB, 3>>;

}  // namespace

BOOST_AUTO_TEST_CASE(three_sigmoid_layers_7_13_5_3) {
    check_mlp<1>();
    check_mlp<5>();
}

BOOST_AUTO_TEST_CASE(strided_padded_convolution_and_average_pooling_against_loops) {
    constexpr auto K = ctgrad::var<"K", tensor<double, 4, 2, 3, 3>>;
    constexpr auto b = ctgrad::var<"b", tensor<double, 4>>;
    tensor<double, NB, 2, 9, 11> x;
    tensor<double, 4, 2, 3, 3> k;
    tensor<double, 4> bv;
    fill(x, 31);
    fill(k, 32);
    fill(bv, 33);
    const auto y = ctgrad::value(ctgrad::conv2d<2, 1>(CX, K, b), CX = x, K = k, b = bv);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(y)>, tensor<double, NB, 4, 5, 6>>);
    for (size_t n = 0; n < NB; ++n) {
        for (size_t o = 0; o < 4; ++o) {
            for (size_t i = 0; i < 5; ++i) {
                for (size_t j = 0; j < 6; ++j) {
                    double s = bv(o), mag = std::abs(bv(o));
                    for (size_t c = 0; c < 2; ++c) {
                        for (size_t u = 0; u < 3; ++u) {
                            for (size_t v = 0; v < 3; ++v) {
                                const long r = long(2 * i + u) - 1, q = long(2 * j + v) - 1;
                                if (r < 0 || r >= 9 || q < 0 || q >= 11) continue;
                                s += k(o, c, u, v) * x(n, c, size_t(r), size_t(q));
                                mag += std::abs(k(o, c, u, v) * x(n, c, size_t(r), size_t(q)));
                            }
                        }
                    }
                    BOOST_TEST(std::abs(y(n, o, i, j) - s) <= 1e-14 * mag,
                               "y(" << n << "," << o << "," << i << "," << j
                                    << ") = " << y(n, o, i, j) << ", expected " << s);
                }
            }
        }
    }
    // its gradient: against central differences (x, K, b)
    constexpr auto R = ctgrad::var<"R", tensor<double, NB, 4, 5, 6>>;
    tensor<double, NB, 4, 5, 6> r;
    fill(r, 34);
    check_fd(ctgrad::sum(ctgrad::conv2d<2, 1>(CX, K, b) * R), wrt(CX, K, b), CX = x, K = k, b = bv,
             R = r);
    // average pooling, window 3, stride 2 on 9×11 → 4×5
    const auto pooled = ctgrad::value(ctgrad::avg_pool2d<3, 2>(CX), CX = x);
    static_assert(
        std::is_same_v<std::remove_cvref_t<decltype(pooled)>, tensor<double, NB, 2, 4, 5>>);
    for (size_t n = 0; n < NB; ++n)
        for (size_t c = 0; c < 2; ++c)
            for (size_t i = 0; i < 4; ++i)
                for (size_t j = 0; j < 5; ++j) {
                    double s = 0;
                    for (size_t u = 0; u < 3; ++u)
                        for (size_t v = 0; v < 3; ++v) s += x(n, c, 2 * i + u, 2 * j + v);
                    BOOST_TEST(close(pooled(n, c, i, j), s / 9, 1e-14));
                }
    constexpr auto P = ctgrad::var<"P", tensor<double, NB, 2, 4, 5>>;
    tensor<double, NB, 2, 4, 5> pw;
    fill(pw, 35);
    check_fd(ctgrad::sum(ctgrad::avg_pool2d<3, 2>(CX) * P), wrt(CX), CX = x, P = pw);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::max_pool2d<3, 2>(CX))), wrt(CX), CX = x);
}

BOOST_AUTO_TEST_CASE(conv_net_with_batch_norm_residual_projection_pooling_dropout) {
    nn::parameters_of<decltype(cnn)> p;
    nn::init::he(p, 41);
    fill(p[bn::gamma], 42, 0.5, 1.5);
    fill(p[bn::beta], 43, -0.5, 0.5);
    fill(p[head::b], 44);
    nn::state_of<decltype(cnn)> s;
    tensor<double, NB, 2, 9, 11> x;
    fill(x, 45);
    tensor<double, NB, 3> y{};
    y(0, 2) = 1, y(1, 0) = 1, y(2, 1) = 1;
    // training mode without dropout (dropout draws a new mask on every forward pass, so central
    // differences need its inference form): body then head
    const auto train_loss = ctgrad::softmax_cross_entropy(head{}(body(CX)), CY);
    p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            check_fd(train_loss,
                     wrt(k1::W, k1::b, bn::gamma, bn::beta, r1::W, r1::b, pr::W, pr::b, head::W,
                         head::b, CX),
                     b..., st..., CX = x, CY = y);
            return 0;
        });
    });
    // inference: batch norm from the running estimates, dropout the identity; the same as the
    // network without the dropout layer, and its gradient against central differences
    fill(s[bn::running_mean], 46, -0.2, 0.2);
    fill(s[bn::running_var], 47, 0.5, 2.0);
    const auto out_inf = p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            return ctgrad::value(cnn.inference(CX), b..., st..., CX = x);
        });
    });
    const auto out_ref = p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            return ctgrad::value(head{}(body.inference(CX)), b..., st..., CX = x);
        });
    });
    for (size_t e = 0; e < out_inf.size(); ++e) BOOST_TEST(out_inf.data()[e] == out_ref.data()[e]);
    BOOST_TEST(ctgrad::dropout_step(s[dr::step]) == 0u);
    const auto inf_loss = ctgrad::softmax_cross_entropy(cnn.inference(CX), CY);
    p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            check_fd(inf_loss, wrt(k1::W, bn::gamma, bn::beta, r1::W, pr::W, head::W, CX), b...,
                     st..., CX = x, CY = y);
            return 0;
        });
    });
    // training mode with dropout: the program's gradient equals the plain gradient of the same
    // step (same mask), and the step counter moves once per forward pass
    ctgrad::set_dropout_step(s[dr::step], 7);
    const auto g1 = p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            return ctgrad::gradient(ctgrad::softmax_cross_entropy(cnn(CX), CY), wrt(head::W, k1::W),
                                    b..., st..., CX = x, CY = y);
        });
    });
    BOOST_TEST(ctgrad::dropout_step(s[dr::step]) == 8u);
    ctgrad::set_dropout_step(s[dr::step], 7);
    ctgrad::program prog(ctgrad::softmax_cross_entropy(cnn(CX), CY), p.wrt());
    const auto g2 = prog.gradient(p, s, CX = x, CY = y);
    BOOST_TEST(ctgrad::dropout_step(s[dr::step]) == 8u);
    BOOST_TEST(close(g1.value, g2.value, 1e-13));
    for (size_t e = 0; e < g1[head::W].size(); ++e) {
        BOOST_TEST(std::abs(g1[head::W].data()[e] - g2[head::W].data()[e]) <= 1e-13);
    }
    for (size_t e = 0; e < g1[k1::W].size(); ++e) {
        BOOST_TEST(std::abs(g1[k1::W].data()[e] - g2[k1::W].data()[e]) <= 1e-13);
    }
}
