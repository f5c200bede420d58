// (The second CNN of tensor/review9_networks, run once per kernel instruction set.) Another shape
// family, against PyTorch at test time (skipped with a message without /usr/bin/python3 and
// torch): [B, 2, 11, 11] images with B = 1 and 6, a 5×5 convolution to 9 channels with padding 2
// (same size), relu, overlapping 3×3 max pooling with stride 2 (→ 5×5), a 3×3 convolution with
// stride 2 and padding 1 to 4 channels (→ 3×3), sigmoid, 2×2 average pooling with stride 1
// (→ 2×2), flatten (16), a dense layer to 5, mse (1/(2B)·Σ‖a − y‖²). The loss, every
// parameter's gradient and the input's gradient against PyTorch's float64 autograd, in double
// and float.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <unistd.h>  // getpid

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/nn.hpp>

#include "support/pytorch_script.hpp"
#include "support/random_tensor.hpp"

namespace nn = ctgrad::nn;
namespace io = ctgrad::io;
namespace fs = std::filesystem;
using ctgrad::tensor;
using ctgrad::wrt;
using std::size_t;

namespace {

template <class T, size_t B>
struct cnn2 {
    using c1 = nn::conv2d<"c1", 2, 9, 5, 1, 2, T>;
    using c2 = nn::conv2d<"c2", 9, 4, 3, 2, 1, T>;
    using fc = nn::dense<"fc", 16, 5, T>;
    static constexpr auto net =
        nn::sequential(c1{}, nn::relu, nn::max_pool2d<3, 2>{}, c2{}, nn::sigmoid,
                       nn::avg_pool2d<2, 1>{}, nn::flatten, fc{});
    static constexpr auto X = ctgrad::var<"X", tensor<T, B, 2, 11, 11>>;
    static constexpr auto Y = ctgrad::var<"Y", tensor<T, B, 5>>;
    using params = nn::parameters_of<decltype(net)>;
};

using ctgrad::test::fill_float_exact;  // seeded, float-exact inputs (support/random_tensor.hpp)

template <class T, size_t... D>
tensor<double, D...> to_double(const tensor<T, D...>& t) {
    tensor<double, D...> d;
    for (size_t i = 0; i < t.size(); ++i) d.data()[i] = double(t.data()[i]);
    return d;
}

struct scratch2 {
    fs::path dir;
    explicit scratch2(const std::string& tag)
        : dir(fs::temp_directory_path() /
              ("ctgrad_review9_cnn2_" + std::to_string(::getpid()) + "_" + tag)) {
        fs::create_directories(dir);
    }
    ~scratch2() { fs::remove_all(dir); }
};

const char* torch_script2 = R"(
def run(d, B):
    ld = lambda n: torch.from_numpy(np.load(d + '/' + n + '.npy')).double()
    c1 = torch.nn.Conv2d(2, 9, 5, padding=2).double()
    c2 = torch.nn.Conv2d(9, 4, 3, stride=2, padding=1).double()
    fc = torch.nn.Linear(16, 5).double()
    with torch.no_grad():
        c1.weight.copy_(ld('c1W')); c1.bias.copy_(ld('c1b'))
        c2.weight.copy_(ld('c2W')); c2.bias.copy_(ld('c2b'))
        fc.weight.copy_(ld('fcW').t()); fc.bias.copy_(ld('fcb'))
    x = ld('x').requires_grad_(True)
    y = ld('y')
    a = torch.max_pool2d(torch.relu(c1(x)), 3, 2)
    a = torch.nn.functional.avg_pool2d(torch.sigmoid(c2(a)), 2, 1)
    out = fc(torch.flatten(a, 1))
    loss = ((out - y) ** 2).sum() / (2 * B)
    loss.backward()
    res = {'loss': loss.detach().reshape(1), 'gc1W': c1.weight.grad, 'gc1b': c1.bias.grad,
           'gc2W': c2.weight.grad, 'gc2b': c2.bias.grad, 'gfcW': fc.weight.grad.t(),
           'gfcb': fc.bias.grad, 'gx': x.grad}
    for k, v in res.items():
        np.save(d + '/' + k + '.npy', v.detach().contiguous().numpy().astype(np.float64))
for d, B in zip(sys.argv[1::2], sys.argv[2::2]):  # (directory, batch size) pairs
    run(d, int(B))
)";

template <class G, size_t... D>
void expect2(const fs::path& dir, const char* name, const G& got, double tol) {
    tensor<double, D...> want;
    io::load_npy(dir / (std::string(name) + ".npy"), want);
    double diff = 0, scale = 1e-3;
    for (size_t i = 0; i < want.size(); ++i) {
        diff = std::max(diff, std::abs(double(got.data()[i]) - want.data()[i]));
        scale = std::max(scale, std::abs(want.data()[i]));
    }
    BOOST_TEST(diff <= tol * scale, name << ": error " << diff << " of " << scale);
}

/// The inputs of check_cnn2<T, B>: float-exact, so the same numbers in float and double.
template <class T, size_t B>
struct cnn2_inputs {
    using M = cnn2<T, B>;
    typename M::params p;
    tensor<T, B, 2, 11, 11> x;
    tensor<T, B, 5> y;
    cnn2_inputs() {
        fill_float_exact(p[M::c1::W], 21 + B, -0.3, 0.3);
        fill_float_exact(p[M::c1::b], 22, -0.2, 0.2);
        fill_float_exact(p[M::c2::W], 23, -0.4, 0.4);
        fill_float_exact(p[M::c2::b], 24, -0.2, 0.2);
        fill_float_exact(p[M::fc::W], 25, -0.5, 0.5);
        fill_float_exact(p[M::fc::b], 26, -0.1, 0.1);
        fill_float_exact(x, 27 + B);
        fill_float_exact(y, 28 + B, 0, 1);
    }
    void save(const fs::path& to) const {
        io::save_npy(to / "c1W.npy", to_double(p[M::c1::W]));
        io::save_npy(to / "c1b.npy", to_double(p[M::c1::b]));
        io::save_npy(to / "c2W.npy", to_double(p[M::c2::W]));
        io::save_npy(to / "c2b.npy", to_double(p[M::c2::b]));
        io::save_npy(to / "fcW.npy", to_double(p[M::fc::W]));
        io::save_npy(to / "fcb.npy", to_double(p[M::fc::b]));
        io::save_npy(to / "x.npy", to_double(x));
        io::save_npy(to / "y.npy", to_double(y));
    }
};

/// PyTorch's results for batch size B (1 or 6): the directory they are in and the script's
/// status. The script runs once, for both batch sizes in one process (an import of torch is
/// most of its cost), on the inputs of cnn2_inputs<double, 1> and <double, 6>.
template <size_t B>
std::pair<fs::path, int> run_torch() {
    static_assert(B == 1 || B == 6);
    static scratch2 tmp1{"1"}, tmp6{"6"};
    static int status = -1;
    if (status < 0) {
        cnn2_inputs<double, 1>().save(tmp1.dir);
        cnn2_inputs<double, 6>().save(tmp6.dir);
        std::ofstream(tmp1.dir / "ref.py") << ctgrad::test::torch_prelude << torch_script2;
        const std::string cmd = "/usr/bin/python3 " + (tmp1.dir / "ref.py").string() + " " +
                                tmp1.dir.string() + " 1 " + tmp6.dir.string() + " 6";
        status = ctgrad::test::run_script(cmd);
    }
    return {B == 1 ? tmp1.dir : tmp6.dir, status};
}

template <class T, size_t B>
void check_cnn2() {
    BOOST_TEST_CONTEXT((sizeof(T) == 4 ? "float" : "double") << ", batch " << B) {
        using M = cnn2<T, B>;
        cnn2_inputs<T, B> in;
        auto& p = in.p;
        const auto& x = in.x;
        const auto& y = in.y;
        const auto loss = ctgrad::mse(M::net(M::X), M::Y);
        ctgrad::program prog(loss, p.wrt());
        const auto g = prog.gradient(p, M::X = x, M::Y = y);
        const auto gx = p.bind([&](const auto&... b) {
            return ctgrad::gradient(loss, wrt(M::X), b..., M::X = x, M::Y = y);
        });
        BOOST_TEST(std::abs(double(gx.value) - double(g.value)) <=
                   1e-6 * std::abs(double(g.value)));
        // PyTorch runs once for both batch sizes: float and double have the same (float-exact)
        // inputs
        const auto [d, status] = run_torch<B>();
        if (ctgrad::test::torch_missing(status)) {
            BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 with torch and numpy is not installed");
            return;
        }
        BOOST_TEST_REQUIRE(status == 0, "the PyTorch script failed in " << d);
        const double tol = sizeof(T) == 4 ? 5e-5 : 1e-11;
        tensor<double, 1> want_loss;
        io::load_npy(d / "loss.npy", want_loss);
        BOOST_TEST(std::abs(double(g.value) - want_loss(0)) <= tol * std::abs(want_loss(0)),
                   "loss " << g.value << ", PyTorch " << want_loss(0));
        expect2<decltype(g[M::c1::W]), 9, 2, 5, 5>(d, "gc1W", g[M::c1::W], tol);
        expect2<decltype(g[M::c1::b]), 9>(d, "gc1b", g[M::c1::b], tol);
        expect2<decltype(g[M::c2::W]), 4, 9, 3, 3>(d, "gc2W", g[M::c2::W], tol);
        expect2<decltype(g[M::c2::b]), 4>(d, "gc2b", g[M::c2::b], tol);
        expect2<decltype(g[M::fc::W]), 16, 5>(d, "gfcW", g[M::fc::W], tol);
        expect2<decltype(g[M::fc::b]), 5>(d, "gfcb", g[M::fc::b], tol);
        expect2<decltype(gx[M::X]), B, 2, 11, 11>(d, "gx", gx[M::X], tol);
        BOOST_TEST(std::abs(double(g[M::c1::W](4, 1, 2, 2))) > 1e-6);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(cnn2_batch_1_and_6_against_pytorch) {
    check_cnn2<double, 1>();
    check_cnn2<double, 6>();
    check_cnn2<float, 1>();
    check_cnn2<float, 6>();
}
