// An outside tester's training steps (ninth pass), through the public API only: a 6-11-4 sigmoid
// network in double, softmax cross-entropy on a batch of 9, five steps each of AdamW (decoupled
// weight decay), Nesterov momentum with weight decay, and plain SGD with element clipping,
// against torch.optim run at test time (/usr/bin/python3 with torch; skipped with a message
// without it) and against the same steps written here on flat vectors; a checkpoint of the
// parameters and AdamW, with one byte changed at several places: the load throws an error naming
// the file and leaves everything as it was; the intact file resumes bit for bit.
#define BOOST_TEST_MODULE nn_review9_training
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>  // getpid

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/nn.hpp>

#include "support/pytorch_script.hpp"

namespace nn = ctgrad::nn;
namespace io = ctgrad::io;
namespace fs = std::filesystem;
using ctgrad::tensor;
using std::size_t;

namespace {

using la = nn::dense<"a", 6, 11, double>;
using lb = nn::dense<"b", 11, 4, double>;
constexpr auto net = nn::sequential(la{}, nn::sigmoid, lb{});
constexpr auto X = ctgrad::var<"X", tensor<double, 9, 6>>;
constexpr auto Y = ctgrad::var<"Y", tensor<double, 9, 4>>;
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
using params_t = nn::parameters_of<decltype(net)>;

struct scratch {
    fs::path dir =
        fs::temp_directory_path() / ("ctgrad_review9_training_" + std::to_string(::getpid()));
    scratch() { fs::create_directories(dir); }
    ~scratch() { fs::remove_all(dir); }
};

template <class T, size_t... D>
void fill(tensor<T, D...>& t, unsigned seed, double lo, double hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = u(rng);
}

struct setup {
    params_t p;
    tensor<double, 9, 6> x;
    tensor<double, 9, 4> y{};
    setup() {
        fill(p[la::W], 1, -0.7, 0.7);
        fill(p[la::b], 2, -0.2, 0.2);
        fill(p[lb::W], 3, -0.7, 0.7);
        fill(p[lb::b], 4, -0.2, 0.2);
        fill(x, 5, -1.5, 1.5);
        for (size_t r = 0; r < 9; ++r) y(r, (r * 3 + 2) % 4) = 1;
    }
};

std::vector<double> flat(const params_t& p) {
    std::vector<double> out;
    p.for_each([&](auto, const auto& t) {
        for (double e : t) out.push_back(e);
    });
    return out;
}

template <class G>
std::vector<double> flat_gradient(const params_t& p, const G& g) {
    std::vector<double> out;
    p.for_each([&](auto v, const auto&) {
        for (double e : g[v]) out.push_back(e);
    });
    return out;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

// torch.optim from the same start; writes the parameters after five steps of each optimizer
// (Linear's weight is [out, in]: transposed to ctgrad's [in, out] on the way in and out).
const char* torch_script = R"(
d = sys.argv[1]
ld = lambda n: torch.from_numpy(np.load(d + '/' + n + '.npy')).double()
x, y = ld('x'), ld('y')
def run(make_opt, name):
    a = torch.nn.Linear(6, 11).double(); b = torch.nn.Linear(11, 4).double()
    with torch.no_grad():
        a.weight.copy_(ld('aW').t()); a.bias.copy_(ld('ab'))
        b.weight.copy_(ld('bW').t()); b.bias.copy_(ld('bb'))
    ps = [a.weight, a.bias, b.weight, b.bias]
    opt = make_opt(ps)
    for t in range(5):
        opt.zero_grad()
        loss = -(y * torch.log_softmax(b(torch.sigmoid(a(x))), 1)).sum(1).mean()
        loss.backward()
        if name == 'sgd':
            torch.nn.utils.clip_grad_value_(ps, 0.02)
        opt.step()
    for n, t in [('aW', a.weight.t()), ('ab', a.bias), ('bW', b.weight.t()), ('bb', b.bias)]:
        np.save(d + '/' + name + '_' + n + '.npy', t.detach().contiguous().numpy())
run(lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.85, 0.99), eps=1e-7, weight_decay=0.1),
    'adamw')
run(lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.6, nesterov=True, weight_decay=0.0), 'nag')
run(lambda ps: torch.optim.SGD(ps, lr=0.5), 'sgd')
)";

std::string checkpoint_error_of(auto&& f) {
    try {
        f();
    } catch (const io::checkpoint_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(optimizers_against_hand_steps_and_pytorch) {
    const setup s0;
    ctgrad::program prog(loss, s0.p.wrt());
    // AdamW
    params_t pa = s0.p;
    nn::adamw opt_a(pa, {{.lr = 0.05, .beta1 = 0.85, .beta2 = 0.99, .eps = 1e-7}, 0.1});
    // Nesterov momentum
    params_t pn = s0.p;
    nn::momentum opt_n(pn, {.lr = 0.3, .mu = 0.6, .nesterov = true});
    // SGD with elementwise clipping
    params_t ps = s0.p;
    nn::sgd<params_t> opt_s({.lr = 0.5, .clip_value = 0.02});

    std::vector<double> ra = flat(pa), m(ra.size(), 0.0), v(ra.size(), 0.0);
    std::vector<double> rn = flat(pn), vel(rn.size(), 0.0);
    std::vector<double> rs = flat(ps);
    bool clipped = false;
    for (int t = 1; t <= 5; ++t) {
        const auto ga = prog.gradient(pa, X = s0.x, Y = s0.y);
        const std::vector<double> fa = flat_gradient(pa, ga);
        opt_a.step(pa, ga);
        for (size_t i = 0; i < ra.size(); ++i) {
            m[i] = 0.85 * m[i] + 0.15 * fa[i];
            v[i] = 0.99 * v[i] + 0.01 * fa[i] * fa[i];
            const double mh = m[i] / (1 - std::pow(0.85, t)), vh = v[i] / (1 - std::pow(0.99, t));
            ra[i] = ra[i] * (1 - 0.05 * 0.1) - 0.05 * mh / (std::sqrt(vh) + 1e-7);
        }
        BOOST_TEST(max_diff(flat(pa), ra) <= 1e-13, "adamw step " << t);

        const auto gn = prog.gradient(pn, X = s0.x, Y = s0.y);
        const std::vector<double> fn = flat_gradient(pn, gn);
        opt_n.step(pn, gn);
        for (size_t i = 0; i < rn.size(); ++i) {
            vel[i] = 0.6 * vel[i] + fn[i];
            rn[i] -= 0.3 * (fn[i] + 0.6 * vel[i]);
        }
        BOOST_TEST(max_diff(flat(pn), rn) <= 1e-13, "nesterov step " << t);

        const auto gs = prog.gradient(ps, X = s0.x, Y = s0.y);
        const std::vector<double> fs_ = flat_gradient(ps, gs);
        opt_s.step(ps, gs);
        for (size_t i = 0; i < rs.size(); ++i) {
            clipped = clipped || std::abs(fs_[i]) > 0.02;
            rs[i] -= 0.5 * std::clamp(fs_[i], -0.02, 0.02);
        }
        BOOST_TEST(max_diff(flat(ps), rs) <= 1e-14, "sgd step " << t);
    }
    BOOST_TEST(clipped);                                // the clipping was exercised
    BOOST_TEST(max_diff(flat(pa), flat(s0.p)) > 1e-2);  // the steps moved the parameters

    scratch tmp;
    const fs::path& d = tmp.dir;
    io::save_npy(d / "aW.npy", s0.p[la::W]);
    io::save_npy(d / "ab.npy", s0.p[la::b]);
    io::save_npy(d / "bW.npy", s0.p[lb::W]);
    io::save_npy(d / "bb.npy", s0.p[lb::b]);
    io::save_npy(d / "x.npy", s0.x);
    io::save_npy(d / "y.npy", s0.y);
    std::ofstream(d / "ref.py") << ctgrad::test::torch_prelude << torch_script;
    const std::string cmd = "/usr/bin/python3 " + (d / "ref.py").string() + " " + d.string();
    const int status = ctgrad::test::run_script(cmd);
    if (ctgrad::test::torch_missing(status)) {
        BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 with torch and numpy is not installed");
        return;
    }
    BOOST_TEST_REQUIRE(status == 0, "the PyTorch script failed: " << cmd);
    for (const auto& [name, got] :
         {std::pair{std::string("adamw"), &pa}, std::pair{std::string("nag"), &pn},
          std::pair{std::string("sgd"), &ps}}) {
        params_t want;
        io::load_npy(d / (name + "_aW.npy"), want[la::W]);
        io::load_npy(d / (name + "_ab.npy"), want[la::b]);
        io::load_npy(d / (name + "_bW.npy"), want[lb::W]);
        io::load_npy(d / (name + "_bb.npy"), want[lb::b]);
        const double diff = max_diff(flat(*got), flat(want));
        BOOST_TEST(diff <= 1e-12, name << ": max difference from torch.optim " << diff);
    }
}

BOOST_AUTO_TEST_CASE(checkpoint_with_a_changed_byte_is_refused) {
    scratch tmp;
    const setup s0;
    params_t p = s0.p;
    nn::adamw<params_t> opt({{.lr = 0.02}, 0.05});
    ctgrad::program prog(loss, p.wrt());
    for (int t = 0; t < 3; ++t) opt.step(p, prog.gradient(p, X = s0.x, Y = s0.y));
    const fs::path file = tmp.dir / "a b.ckpt";  // a space in the name
    io::save(file, p, opt);
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> all((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
    BOOST_TEST_REQUIRE(all.size() > 64u);

    // another run to load into: its own numbers, which a failed load must leave alone
    params_t q = s0.p;
    nn::adamw<params_t> oq({{.lr = 0.02}, 0.05});
    opt.step(q, prog.gradient(q, X = s0.x, Y = s0.y));  // (opt's moments, q moves)
    oq.step(q, prog.gradient(q, X = s0.x, Y = s0.y));
    const std::vector<double> q0 = flat(q);
    const size_t steps0 = oq.steps();
    for (size_t at :
         {size_t(0), size_t(5), all.size() / 4, all.size() / 2, all.size() - 20, all.size() - 1}) {
        for (unsigned char mask : {0x01, 0x80, 0xff}) {
            std::vector<char> bad = all;
            bad[at] = char(static_cast<unsigned char>(bad[at]) ^ mask);
            const fs::path bf = tmp.dir / "bad.ckpt";
            std::ofstream(bf, std::ios::binary | std::ios::trunc)
                .write(bad.data(), std::streamsize(bad.size()));
            const std::string e = checkpoint_error_of([&] { io::load(bf, q, oq); });
            BOOST_TEST(e.find(bf.string()) != std::string::npos,
                       "byte " << at << " ^ " << int(mask) << ": " << e);
            BOOST_TEST(flat(q) == q0);
            BOOST_TEST(oq.steps() == steps0);
        }
    }
    // the intact file: loads, and one more step from it equals one more step of the original
    io::load(file, q, oq);
    BOOST_TEST(oq.steps() == 3u);
    params_t r = s0.p;
    nn::adamw<params_t> orr({{.lr = 0.02}, 0.05});
    for (int t = 0; t < 3; ++t) orr.step(r, prog.gradient(r, X = s0.x, Y = s0.y));
    BOOST_TEST(flat(q) == flat(r));
    oq.step(q, prog.gradient(q, X = s0.x, Y = s0.y));
    orr.step(r, prog.gradient(r, X = s0.x, Y = s0.y));
    BOOST_TEST(flat(q) == flat(r));
    // a file that is not there: the error names it
    const std::string e = checkpoint_error_of([&] { io::load(tmp.dir / "missing.ckpt", q, oq); });
    BOOST_TEST(e.find((tmp.dir / "missing.ckpt").string()) != std::string::npos, e);
}
