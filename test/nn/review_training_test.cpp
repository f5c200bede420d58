// An outside reviewer's training loop: a float 7-13-5-3 network with batch norm over its 13
// hidden features (sizes that are not multiples of the vector widths), Adam with global-norm
// clipping and momentum, each step against the update written here on flat vectors from the same
// gradients; a checkpoint of parameters, batch-norm state and Adam that resumes bit for bit; a
// truncated checkpoint and one of another network refused with the file named, nothing changed.
#define BOOST_TEST_MODULE nn_review_training
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>  // getpid

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;
namespace io = ctgrad::io;
namespace fs = std::filesystem;
using ctgrad::tensor;
using std::size_t;

namespace {

using l1 = nn::dense<"l1", 7, 13>;
using bn = nn::batch_norm<"bn", 13>;
using l2 = nn::dense<"l2", 13, 5>;
using l3 = nn::dense<"l3", 5, 3>;
constexpr auto net = nn::sequential(l1{}, bn{}, nn::sigmoid, l2{}, nn::tanh, l3{});
constexpr auto X = ctgrad::var<"X", tensor<float, 6, 7>>;
constexpr auto Y = ctgrad::var<"Y", tensor<float, 6, 3>>;
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
using params_t = nn::parameters_of<decltype(net)>;
using state_t = nn::state_of<decltype(net)>;

struct data {
    tensor<float, 6, 7> x;
    tensor<float, 6, 3> y{};
};

data make_data(unsigned seed) {
    data d;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto& e : d.x) e = u(rng);
    for (size_t r = 0; r < 6; ++r) d.y(r, (r * 2 + seed) % 3) = 1;
    return d;
}

template <class P>
std::vector<double> flat(const P& p) {
    std::vector<double> out;
    p.for_each([&](auto, const auto& t) {
        for (float e : t) out.push_back(e);
    });
    return out;
}

template <class P>
std::vector<float> bits(const P& p) {
    std::vector<float> out;
    p.for_each([&](auto, const auto& t) {
        for (float e : t) out.push_back(e);
    });
    return out;
}

/// The gradient g in the pack's order.
template <class G>
std::vector<double> flat_gradient(const params_t& p, const G& g) {
    std::vector<double> out;
    p.for_each([&](auto v, const auto&) {
        for (float e : g[ctgrad::detail::untagged_t<decltype(v)>{}]) out.push_back(e);
    });
    return out;
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const io::checkpoint_error& e) {
        return e.what();
    }
    return "no error";
}

struct scratch {
    fs::path dir =
        fs::temp_directory_path() / ("ctgrad_review_training_" + std::to_string(::getpid()));
    scratch() { fs::create_directories(dir); }
    ~scratch() { fs::remove_all(dir); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(adam_with_clipping_and_momentum_against_hand_steps) {
    params_t p;
    nn::init::xavier(p, 3);
    state_t s;
    ctgrad::program prog(loss, p.wrt());
    const data d = make_data(1);
    // Adam with β's of our own and a clipping threshold the gradient passes (its norm is ~1)
    nn::adam opt(p, {.lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.95f, .eps = 1e-6f, .clip_norm = 0.1f});
    std::vector<double> ref = flat(p), m(ref.size(), 0.0), v(ref.size(), 0.0);
    for (int t = 1; t <= 4; ++t) {
        const auto g = prog.gradient(p, s, X = d.x, Y = d.y);
        const std::vector<double> gf = flat_gradient(p, g);
        double n2 = 0;
        for (double e : gf) n2 += e * e;
        const double scale = std::sqrt(n2) > 0.1 ? 0.1 / std::sqrt(n2) : 1.0;
        BOOST_TEST_REQUIRE(scale < 1.0);  // the clipping is exercised
        opt.step(p, g);
        for (size_t i = 0; i < ref.size(); ++i) {
            const double gi = gf[i] * scale;
            m[i] = 0.8 * m[i] + 0.2 * gi;
            v[i] = 0.95 * v[i] + 0.05 * gi * gi;
            const double mh = m[i] / (1 - std::pow(0.8, t)), vh = v[i] / (1 - std::pow(0.95, t));
            ref[i] -= 0.05 * mh / (std::sqrt(vh) + 1e-6);
        }
        const std::vector<double> got = flat(p);
        for (size_t i = 0; i < ref.size(); ++i) {
            BOOST_TEST(std::abs(got[i] - ref[i]) <= 2e-5 * (1 + std::abs(ref[i])),
                       "step " << t << ", element " << i << ": " << got[i] << " vs " << ref[i]);
        }
        ref = got;  // follow the float trajectory (the next gradient is taken there)
    }
    // momentum (Nesterov) from the same start
    params_t q;
    nn::init::xavier(q, 3);
    nn::momentum mo(q, {.lr = 0.1f, .mu = 0.7f, .nesterov = true});
    std::vector<double> qr = flat(q), vel(qr.size(), 0.0);
    for (int t = 1; t <= 3; ++t) {
        const auto g = prog.gradient(q, s, X = d.x, Y = d.y);
        const std::vector<double> gf = flat_gradient(q, g);
        mo.step(q, g);
        for (size_t i = 0; i < qr.size(); ++i) {
            vel[i] = 0.7 * vel[i] + gf[i];
            qr[i] -= 0.1 * (gf[i] + 0.7 * vel[i]);
        }
        const std::vector<double> got = flat(q);
        for (size_t i = 0; i < qr.size(); ++i) {
            BOOST_TEST(std::abs(got[i] - qr[i]) <= 2e-6 * (1 + std::abs(qr[i])));
        }
        qr = got;
    }
}

BOOST_AUTO_TEST_CASE(checkpoint_resumes_bit_for_bit_and_bad_files_change_nothing) {
    scratch tmp;
    const fs::path file = tmp.dir / "run.ckpt";
    const data d1 = make_data(2), d2 = make_data(3);
    params_t p;
    nn::init::he(p, 9);
    state_t s;
    nn::adam<params_t> opt({.lr = 0.01f});
    ctgrad::program prog(loss, p.wrt());
    for (int t = 0; t < 3; ++t) opt.step(p, prog.gradient(p, s, X = d1.x, Y = d1.y));
    io::save(file, p, s, opt);
    // a: the run continued; b: fresh objects loaded from the file, then the same steps
    for (int t = 0; t < 2; ++t) opt.step(p, prog.gradient(p, s, X = d2.x, Y = d2.y));
    params_t pb;
    state_t sb;
    nn::adam<params_t> ob({.lr = 0.01f});
    io::load(file, pb, sb, ob);
    BOOST_TEST(ob.steps() == 3u);
    for (int t = 0; t < 2; ++t) ob.step(pb, prog.gradient(pb, sb, X = d2.x, Y = d2.y));
    BOOST_TEST(bits(pb) == bits(p));
    BOOST_TEST(bits(sb) == bits(s));
    BOOST_TEST(bits(ob.first_moment()) == bits(opt.first_moment()));
    BOOST_TEST(ob.steps() == opt.steps());

    // truncated at several places: an error naming the file, nothing changed
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> all((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
    const auto pb0 = bits(pb), sb0 = bits(sb), mb0 = bits(ob.first_moment());
    const size_t steps0 = ob.steps();
    for (size_t cut :
         {size_t(0), size_t(7), all.size() / 3, all.size() / 2, all.size() - 9, all.size() - 1}) {
        const fs::path bad = tmp.dir / "cut.ckpt";
        std::ofstream(bad, std::ios::binary).write(all.data(), std::streamsize(cut));
        const std::string e = error_of([&] { io::load(bad, pb, sb, ob); });
        BOOST_TEST(e.find(bad.string()) != std::string::npos, "cut at " << cut << ": " << e);
        BOOST_TEST(bits(pb) == pb0);
        BOOST_TEST(bits(sb) == sb0);
        BOOST_TEST(bits(ob.first_moment()) == mb0);
        BOOST_TEST(ob.steps() == steps0);
    }
    // another network (l2 with 6 outputs): its shape named, nothing changed
    using l2w = nn::dense<"l2", 13, 6>;
    using l3w = nn::dense<"l3", 6, 3>;
    constexpr auto wide = nn::sequential(l1{}, bn{}, nn::sigmoid, l2w{}, nn::tanh, l3w{});
    nn::parameters_of<decltype(wide)> pw;
    nn::state_of<decltype(wide)> sw;
    nn::init::he(pw, 1);
    io::save(tmp.dir / "wide.ckpt", pw, sw);
    const std::string e = error_of([&] { io::load(tmp.dir / "wide.ckpt", pb, sb); });
    BOOST_TEST(e.find((tmp.dir / "wide.ckpt").string()) != std::string::npos);
    BOOST_TEST(
        e.find("parameter l2.W (pack 1 of 2) has shape [13, 6] in the file") != std::string::npos,
        e);
    BOOST_TEST(bits(pb) == pb0);
    BOOST_TEST(bits(sb) == sb0);
    // the packs in another order than saved
    const std::string e2 = error_of([&] { io::load(file, sb, pb, ob); });
    BOOST_TEST(e2 != "no error");
    BOOST_TEST(bits(pb) == pb0);
    BOOST_TEST(bits(sb) == sb0);
}
