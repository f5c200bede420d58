// (The CNN half of tensor/review9_networks, run once per kernel instruction set.) A CNN of sizes
// the other suites do not use, against PyTorch run at test time (/usr/bin/python3 with torch;
// without it the comparison is skipped with a message and the central differences still run):
// [4, 3, 13, 17] images, a 3×3 convolution with stride 2 and padding 2 (→ 8×10), batch norm over
// its 5 channels in training mode, relu, 2×2 max pooling, a 2×2 convolution to 7 channels, tanh,
// flatten (84), a dense head to 3 logits, softmax cross-entropy. Checked in double and float: the
// loss, every parameter's gradient, the input's gradient and the running estimates after the
// pass against PyTorch's float64 autograd; in double against central differences; the
// inference network with a dropout layer equals the one without it, and PyTorch's eval logits.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>  // getpid

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/nn.hpp>

#include "support/finite_difference.hpp"
#include "support/pytorch_script.hpp"
#include "support/random_tensor.hpp"
#include "support/tensor_fd.hpp"

namespace nn = ctgrad::nn;
namespace io = ctgrad::io;
namespace fs = std::filesystem;
using ctgrad::tensor;
using ctgrad::wrt;
using std::size_t;

namespace {

template <class T>
struct cnn {
    using c1 = nn::conv2d<"c1", 3, 5, 3, 2, 2, T>;  // [4, 3, 13, 17] → [4, 5, 8, 10]
    using bn = nn::batch_norm2d<"bn", 5, T>;
    using c2 = nn::conv2d<"c2", 5, 7, 2, 1, 0, T>;  // [4, 5, 4, 5] → [4, 7, 3, 4]
    using dr = nn::dropout<"dr", 1, 3, T>;
    using fc = nn::dense<"fc", 84, 3, T>;
    static constexpr auto body =
        nn::sequential(c1{}, bn{}, nn::relu, nn::max_pool2d<2>{}, c2{}, nn::tanh, nn::flatten);
    static constexpr auto net = nn::sequential(body, fc{});
    static constexpr auto net_dropout = nn::sequential(body, dr{}, fc{});
    static constexpr auto X = ctgrad::var<"X", tensor<T, 4, 3, 13, 17>>;
    static constexpr auto Y = ctgrad::var<"Y", tensor<T, 4, 3>>;
    using params = nn::parameters_of<decltype(net)>;
    using state = nn::state_of<decltype(net)>;
};

using ctgrad::test::fill_float_exact;  // seeded, float-exact inputs (support/random_tensor.hpp)

template <class T>
void setup(typename cnn<T>::params& p, tensor<T, 4, 3, 13, 17>& x, tensor<T, 4, 3>& y) {
    using M = cnn<T>;
    fill_float_exact(p[M::c1::W], 1, -0.4, 0.4);
    fill_float_exact(p[M::c1::b], 2, -0.2, 0.2);
    fill_float_exact(p[M::bn::gamma], 3, 0.5, 1.5);
    fill_float_exact(p[M::bn::beta], 4, -0.3, 0.3);
    fill_float_exact(p[M::c2::W], 5, -0.5, 0.5);
    fill_float_exact(p[M::c2::b], 6, -0.2, 0.2);
    fill_float_exact(p[M::fc::W], 7, -0.3, 0.3);
    fill_float_exact(p[M::fc::b], 8, -0.1, 0.1);
    fill_float_exact(x, 9);
    y = {};
    y(0, 2) = 1, y(1, 0) = 1, y(2, 1) = 1, y(3, 2) = 1;
}

struct scratch {
    fs::path dir = fs::temp_directory_path() / ("ctgrad_review9_cnn_" + std::to_string(::getpid()));
    scratch() { fs::create_directories(dir); }
    ~scratch() { fs::remove_all(dir); }
};

// PyTorch's side: reads the inputs ctgrad wrote (double), one training-mode forward and backward
// pass in float64, then an eval-mode pass; writes the loss, the gradients (PyTorch's layouts:
// Linear's weight is [out, in], ctgrad's dense W is [in, out]), the running estimates and the
// eval logits.
const char* torch_script = R"(
d = sys.argv[1]
ld = lambda n: torch.from_numpy(np.load(d + '/' + n + '.npy')).double()
c1 = torch.nn.Conv2d(3, 5, 3, stride=2, padding=2).double()
bn = torch.nn.BatchNorm2d(5).double()
c2 = torch.nn.Conv2d(5, 7, 2).double()
fc = torch.nn.Linear(84, 3).double()
with torch.no_grad():
    c1.weight.copy_(ld('c1W')); c1.bias.copy_(ld('c1b'))
    bn.weight.copy_(ld('bng')); bn.bias.copy_(ld('bnb'))
    c2.weight.copy_(ld('c2W')); c2.bias.copy_(ld('c2b'))
    fc.weight.copy_(ld('fcW').t()); fc.bias.copy_(ld('fcb'))
x = ld('x').requires_grad_(True)
y = ld('y')
def net(x):
    a = torch.max_pool2d(torch.relu(bn(c1(x))), 2)
    return fc(torch.flatten(torch.tanh(c2(a)), 1))
loss = -(y * torch.log_softmax(net(x), 1)).sum(1).mean()
loss.backward()
out = {'loss': loss.detach().reshape(1), 'gc1W': c1.weight.grad, 'gc1b': c1.bias.grad,
       'gbng': bn.weight.grad, 'gbnb': bn.bias.grad, 'gc2W': c2.weight.grad,
       'gc2b': c2.bias.grad, 'gfcW': fc.weight.grad.t(), 'gfcb': fc.bias.grad, 'gx': x.grad,
       'rm': bn.running_mean, 'rv': bn.running_var}
bn.eval()
with torch.no_grad():
    out['eval'] = net(x)
for k, v in out.items():
    np.save(d + '/' + k + '.npy', v.detach().contiguous().numpy().astype(np.float64))
)";

/// max |a − b| / max(floor, max |b|)
template <class A, class B>
double relative(const A& a, const B& b, double floor = 1e-3) {
    double diff = 0, scale = floor;
    for (size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
        scale = std::max(scale, std::abs(double(b.data()[i])));
    }
    return diff / scale;
}

template <class T, size_t... D>
tensor<double, D...> to_double(const tensor<T, D...>& t) {
    tensor<double, D...> d;
    for (size_t i = 0; i < t.size(); ++i) d.data()[i] = double(t.data()[i]);
    return d;
}

template <class T, size_t... D>
void save(const fs::path& dir, const char* name, const tensor<T, D...>& t) {
    io::save_npy(dir / (std::string(name) + ".npy"), to_double(t));
}

template <class T, size_t... D>
void expect(const fs::path& dir, const char* name, const tensor<T, D...>& got, double tol,
            double floor = 1e-3) {
    tensor<double, D...> want;
    io::load_npy(dir / (std::string(name) + ".npy"), want);
    const double err = relative(got, want, floor);
    BOOST_TEST(err <= tol, name << ": relative error " << err << " (tolerance " << tol << ")");
}

template <class T, size_t... D>
void expect(const fs::path& dir, const char* name, const ctgrad::tensor_view<const T, D...>& got,
            double tol, double floor = 1e-3) {
    expect(dir, name, got.to_tensor(), tol, floor);
}

template <class T>
void check_against_pytorch() {
    using M = cnn<T>;
    typename M::params p;
    typename M::state s;
    tensor<T, 4, 3, 13, 17> x;
    tensor<T, 4, 3> y;
    setup<T>(p, x, y);
    ctgrad::program prog(ctgrad::softmax_cross_entropy(M::net(M::X), M::Y), p.wrt());
    const auto g = prog.gradient(p, s, M::X = x, M::Y = y);
    // the input's gradient through the plain gradient (with a fresh state: the running
    // estimates move once per training pass)
    typename M::state s2;
    const auto gx = p.bind([&](const auto&... b) {
        return s2.bind([&](const auto&... st) {
            return ctgrad::gradient(ctgrad::softmax_cross_entropy(M::net(M::X), M::Y), wrt(M::X),
                                    b..., st..., M::X = x, M::Y = y);
        });
    });
    BOOST_TEST(std::abs(double(gx.value) - double(g.value)) <= 1e-6 * std::abs(double(g.value)));
    // inference: with and without the dropout layer, the same
    typename M::state s_inf = s;
    ctgrad::program eval(M::net.inference(M::X));
    const auto logits = eval.value(p, s_inf, M::X = x).to_tensor();
    nn::parameters_of<decltype(M::net_dropout)> pd;
    nn::state_of<decltype(M::net_dropout)> sd;
    p.for_each([&](auto v, const auto& t) { pd[v] = t; });
    s.for_each([&](auto v, const auto& t) { sd[v] = t; });
    ctgrad::program eval_d(M::net_dropout.inference(M::X));
    const auto logits_d = eval_d.value(pd, sd, M::X = x).to_tensor();
    for (size_t e = 0; e < 12; ++e) BOOST_TEST(logits_d.data()[e] == logits.data()[e]);

    // PyTorch runs once for both element types: the inputs are the same numbers (float-exact)
    static scratch tmp;
    static int ran = -1;
    const fs::path& d = tmp.dir;
    if (ran < 0) {
        save(d, "c1W", p[M::c1::W]);
        save(d, "c1b", p[M::c1::b]);
        save(d, "bng", p[M::bn::gamma]);
        save(d, "bnb", p[M::bn::beta]);
        save(d, "c2W", p[M::c2::W]);
        save(d, "c2b", p[M::c2::b]);
        save(d, "fcW", p[M::fc::W]);
        save(d, "fcb", p[M::fc::b]);
        save(d, "x", x);
        save(d, "y", y);
        std::ofstream(d / "ref.py") << ctgrad::test::torch_prelude << torch_script;
        const std::string cmd = "/usr/bin/python3 " + (d / "ref.py").string() + " " + d.string();
        ran = ctgrad::test::run_script(cmd);
    }
    if (ctgrad::test::torch_missing(ran)) {
        BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 with torch and numpy is not installed");
        BOOST_TEST(std::isfinite(double(g.value)));
        return;
    }
    BOOST_TEST_REQUIRE(ran == 0, "the PyTorch script failed (exit status " << ran << ")");

    const double tol = sizeof(T) == 4 ? 5e-5 : 1e-11;
    tensor<double, 1> loss;
    io::load_npy(d / "loss.npy", loss);
    BOOST_TEST(std::abs(double(g.value) - loss(0)) <= tol * std::abs(loss(0)),
               "loss " << g.value << ", PyTorch " << loss(0));
    expect(d, "gc1W", g[M::c1::W], tol);
    // c1.b's gradient is 0 up to rounding (batch norm subtracts the bias with the mean)
    expect(d, "gc1b", g[M::c1::b], tol, 1.0);
    expect(d, "gbng", g[M::bn::gamma], tol);
    expect(d, "gbnb", g[M::bn::beta], tol);
    expect(d, "gc2W", g[M::c2::W], tol);
    expect(d, "gc2b", g[M::c2::b], tol);
    expect(d, "gfcW", g[M::fc::W], tol);
    expect(d, "gfcb", g[M::fc::b], tol);
    expect(d, "gx", gx[M::X], tol);
    expect(d, "rm", s[M::bn::running_mean], tol);
    expect(d, "rv", s[M::bn::running_var], tol);
    expect(d, "eval", logits, tol);
    // gradients that carry something (not zeros compared with zeros)
    BOOST_TEST(std::abs(double(g[M::c1::W](0, 0, 0, 0))) > 1e-5);
    BOOST_TEST(std::abs(double(gx[M::X](3, 2, 12, 16))) > 0.0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(cnn_double_against_pytorch) {
    check_against_pytorch<double>();
}

BOOST_AUTO_TEST_CASE(cnn_float_against_pytorch) {
    check_against_pytorch<float>();
}

BOOST_AUTO_TEST_CASE(cnn_double_against_central_differences) {
    using M = cnn<double>;
    M::params p;
    M::state s;
    tensor<double, 4, 3, 13, 17> x;
    tensor<double, 4, 3> y;
    setup<double>(p, x, y);
    const auto loss = ctgrad::softmax_cross_entropy(M::net(M::X), M::Y);
    p.bind([&](const auto&... b) {
        return s.bind([&](const auto&... st) {
            ctgrad::test::check_fd(
                loss, wrt(M::c1::W, M::bn::gamma, M::bn::beta, M::c2::W, M::c2::b, M::fc::b), b...,
                st..., M::X = x, M::Y = y);
            return 0;
        });
    });
}
