// An outside tester's networks (ninth pass, run once per kernel instruction set: target and avx2),
// through the public API only, at sizes that are not multiples of any vector width: a 37-19-3
// tanh network with softmax cross-entropy and a 37-19-3 relu/sigmoid network with mse, at batch
// 1, 5 and 33, in double against a backward pass written here with plain loops (and central
// differences at batch 5), in float against the same double reference; a wider 131-67-10 at
// batch 33 in float. The CNN half (review9_cnn_test.cpp) compares with PyTorch.
#define BOOST_TEST_MODULE tensor_review9_networks
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/finite_difference.hpp"
#include "support/random_tensor.hpp"
#include "support/tensor_fd.hpp"

namespace nn = ctgrad::nn;
using ctgrad::tensor;
using ctgrad::test::check_fd;
using std::size_t;

namespace {

enum class act { tanh, relu, sigmoid, none };

double apply(act a, double v) {
    switch (a) {
    case act::tanh:
        return std::tanh(v);
    case act::relu:
        return v > 0 ? v : 0;
    case act::sigmoid:
        return 1 / (1 + std::exp(-v));
    case act::none:
        return v;
    }
    return v;
}
/// derivative from the output y (and the pre-activation z for relu)
double slope(act a, double z, double y) {
    switch (a) {
    case act::tanh:
        return 1 - y * y;
    case act::relu:
        return z > 0 ? 1 : 0;
    case act::sigmoid:
        return y * (1 - y);
    case act::none:
        return 1;
    }
    return 1;
}

struct ref_layer {
    size_t In, Out;
    act a;
    std::vector<double> W, b;  // W [In, Out]
    std::vector<double> z, y;  // forward
    std::vector<double> dW, db;

    std::vector<double> forward(const std::vector<double>& x, size_t B) {
        z.assign(B * Out, 0.0);
        y.assign(B * Out, 0.0);
        for (size_t r = 0; r < B; ++r)
            for (size_t o = 0; o < Out; ++o) {
                double s = b[o];
                for (size_t i = 0; i < In; ++i) s += x[r * In + i] * W[i * Out + o];
                z[r * Out + o] = s;
                y[r * Out + o] = apply(a, s);
            }
        return y;
    }
    std::vector<double> backward(const std::vector<double>& x, const std::vector<double>& dy,
                                 size_t B) {
        std::vector<double> dz(B * Out), dx(B * In, 0.0);
        dW.assign(In * Out, 0.0);
        db.assign(Out, 0.0);
        for (size_t e = 0; e < B * Out; ++e) dz[e] = dy[e] * slope(a, z[e], y[e]);
        for (size_t r = 0; r < B; ++r)
            for (size_t o = 0; o < Out; ++o) {
                db[o] += dz[r * Out + o];
                for (size_t i = 0; i < In; ++i) {
                    dW[i * Out + o] += x[r * In + i] * dz[r * Out + o];
                    dx[r * In + i] += W[i * Out + o] * dz[r * Out + o];
                }
            }
        return dx;
    }
};

using ctgrad::test::fill_float_exact;  // seeded, float-exact inputs (support/random_tensor.hpp)

template <class T>
std::vector<double> vec(const T& t) {
    return std::vector<double>(t.data(), t.data() + t.size());
}

/// max |got − want| ≤ tol · max(1, max |want|)
template <class G>
void same(const G& got, const std::vector<double>& want, double tol, const char* what) {
    BOOST_TEST_REQUIRE(got.size() == want.size());
    double scale = 1e-3, err = 0;
    size_t at = 0;
    for (size_t e = 0; e < want.size(); ++e) {
        scale = std::max(scale, std::abs(want[e]));
        const double d = std::abs(double(got.data()[e]) - want[e]);
        if (d > err) err = d, at = e;
    }
    BOOST_TEST(err <= tol * scale, what << ": max error " << err << " at " << at << " (scale "
                                        << scale << ", tolerance " << tol << ")");
}

enum class loss_kind { softmax_ce, mse };

/// A two-layer network In-H-O: act1 after the first layer; the loss softmax cross-entropy on
/// the logits (act2 none) or mse on act2's output.
template <class T, size_t B, size_t In, size_t H, size_t O, act A1, act A2, loss_kind L>
void check_network(bool with_fd) {
    BOOST_TEST_CONTEXT((sizeof(T) == 4 ? "float " : "double ")
                       << In << "-" << H << "-" << O << ", batch " << B
                       << (L == loss_kind::mse ? ", mse" : ", softmax-ce")) {
        using l1 = nn::dense<"l1", In, H, T>;
        using l2 = nn::dense<"l2", H, O, T>;
        constexpr auto net = [] {
            if constexpr (A1 == act::tanh && A2 == act::none) {
                return nn::sequential(l1{}, nn::tanh, l2{});
            } else if constexpr (A1 == act::relu && A2 == act::sigmoid) {
                return nn::sequential(l1{}, nn::relu, l2{}, nn::sigmoid);
            } else {
                static_assert(A1 == act::tanh && A2 == act::none, "not a case of this test");
            }
        }();
        constexpr auto X = ctgrad::var<"X", tensor<T, B, In>>;
        constexpr auto Y = ctgrad::var<"Y", tensor<T, B, O>>;
        const auto loss = [&] {
            if constexpr (L == loss_kind::mse) {
                return ctgrad::mse(net(X), Y);
            } else {
                return ctgrad::softmax_cross_entropy(net(X), Y);
            }
        }();
        nn::parameters_of<decltype(net)> p;
        fill_float_exact(p[l1::W], 100 + In, -0.4, 0.4);
        fill_float_exact(p[l1::b], 101, -0.3, 0.3);
        fill_float_exact(p[l2::W], 102 + H, -0.6, 0.6);
        fill_float_exact(p[l2::b], 103, -0.3, 0.3);
        tensor<T, B, In> x;
        fill_float_exact(x, 7 + B);
        tensor<T, B, O> y{};
        if constexpr (L == loss_kind::mse) {
            fill_float_exact(y, 11 + B, 0, 1);
        } else {
            for (size_t r = 0; r < B; ++r) y(r, (r * 5 + 1) % O) = 1;
        }
        // the reference, in double
        ref_layer r1{In, H, A1, vec(p[l1::W]), vec(p[l1::b]), {}, {}, {}, {}};
        ref_layer r2{H, O, A2, vec(p[l2::W]), vec(p[l2::b]), {}, {}, {}, {}};
        const std::vector<double> xv = vec(x), yv = vec(y);
        const auto h = r1.forward(xv, B);
        const auto out = r2.forward(h, B);
        double ref = 0;
        std::vector<double> dout(B * O);
        if constexpr (L == loss_kind::mse) {
            for (size_t e = 0; e < B * O; ++e) {
                const double d = out[e] - yv[e];
                ref += d * d / (2.0 * B);
                dout[e] = d / B;
            }
        } else {
            for (size_t r = 0; r < B; ++r) {
                double mx = out[r * O];
                for (size_t o = 0; o < O; ++o) mx = std::max(mx, out[r * O + o]);
                double s = 0;
                for (size_t o = 0; o < O; ++o) s += std::exp(out[r * O + o] - mx);
                for (size_t o = 0; o < O; ++o) {
                    const double lp = out[r * O + o] - mx - std::log(s);
                    ref -= yv[r * O + o] * lp / B;
                    dout[r * O + o] = (std::exp(lp) - yv[r * O + o]) / B;
                }
            }
        }
        const auto dh = r2.backward(h, dout, B);
        const auto dx = r1.backward(xv, dh, B);

        const double tol = sizeof(T) == 4 ? 2e-5 : 1e-13;
        ctgrad::program prog(loss, p.wrt());
        const auto g = prog.gradient(p, X = x, Y = y);
        BOOST_TEST(std::abs(double(g.value) - ref) <= tol * std::max(1.0, ref),
                   "loss " << g.value << ", expected " << ref);
        same(g[l1::W], r1.dW, tol, "dW1");
        same(g[l1::b], r1.db, tol, "db1");
        same(g[l2::W], r2.dW, tol, "dW2");
        same(g[l2::b], r2.db, tol, "db2");
        // the network's output, and the input gradient through the plain gradient
        ctgrad::program fwd(net(X));
        const auto o = fwd.value(p, X = x).to_tensor();
        same(o, out, tol, "output");
        const auto gx =
            p.bind([&](const auto&... b) { return ctgrad::gradient(loss, b..., X = x, Y = y); });
        same(gx[X], dx, tol, "dX");
        if constexpr (std::is_same_v<T, double>) {
            if (with_fd) {
                p.bind([&](const auto&... b) {
                    check_fd(loss, b..., X = x, Y = y);
                    return 0;
                });
            }
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(tanh_softmax_ce_37_19_3_double) {
    check_network<double, 1, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(false);
    check_network<double, 5, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(true);
    check_network<double, 33, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(false);
}

BOOST_AUTO_TEST_CASE(tanh_softmax_ce_37_19_3_float) {
    check_network<float, 1, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(false);
    check_network<float, 5, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(false);
    check_network<float, 33, 37, 19, 3, act::tanh, act::none, loss_kind::softmax_ce>(false);
}

BOOST_AUTO_TEST_CASE(relu_sigmoid_mse_37_19_3) {
    check_network<double, 1, 37, 19, 3, act::relu, act::sigmoid, loss_kind::mse>(false);
    check_network<double, 5, 37, 19, 3, act::relu, act::sigmoid, loss_kind::mse>(true);
    check_network<float, 33, 37, 19, 3, act::relu, act::sigmoid, loss_kind::mse>(false);
}

BOOST_AUTO_TEST_CASE(wider_131_67_10_float_batch_33) {
    check_network<float, 33, 131, 67, 10, act::tanh, act::none, loss_kind::softmax_ce>(false);
    check_network<double, 17, 131, 67, 10, act::relu, act::sigmoid, loss_kind::mse>(false);
}

BOOST_AUTO_TEST_CASE(kernel_isa_is_reported) {
    // which copy of the kernels this run uses (CTGRAD_KERNELS_ISA): the avx2 run must use AVX2
    // where the processor has it
    const auto i = ctgrad::kernels::active_isa();
    BOOST_TEST(ctgrad::kernels::supported(i));
    BOOST_TEST_MESSAGE("kernels: " << ctgrad::kernels::isa_name(i));
    const char* want = std::getenv("CTGRAD_KERNELS_ISA");
    if (want != nullptr && std::string(want) == "target") {
        BOOST_TEST((i == ctgrad::kernels::isa::target));
    }
    if (want != nullptr && std::string(want) == "avx2" &&
        ctgrad::kernels::supported(ctgrad::kernels::isa::avx2)) {
        BOOST_TEST((i == ctgrad::kernels::isa::avx2));
    }
    // avx512 on a processor without it (the AMD EPYC of the ninth pass): the next one down; the
    // same without the variable (the avx512 run is skipped as a repeat of that one,
    // test/tools/isa_run.py)
    if (want == nullptr || *want == '\0' || std::string(want) == "avx512") {
        using ctgrad::kernels::isa;
        const isa best = ctgrad::kernels::supported(isa::avx512) ? isa::avx512
                         : ctgrad::kernels::supported(isa::avx2) ? isa::avx2
                                                                 : isa::target;
        BOOST_TEST((i == best));
    }
}
