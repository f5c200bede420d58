// An outside reviewer's PyTorch round trip with a CNN (the other PyTorch files are MLPs): a
// strided, padded convolution, BatchNorm2d, overlapping max pooling (3, stride 2), a 1×1
// convolution, average pooling, flatten and a linear layer, on rectangular 17×25 images,
// trained in PyTorch (test/io/data/make_pytorch_cnn.py) and loaded through the public API only
// (docs/io.md: load_npz with io::pytorch_names, parameters and state together). Checked:
// eval-mode logits against PyTorch's in float and double; in training mode (batch statistics)
// the loss, every parameter's gradient and the running estimates after the pass against
// PyTorch's float64 autograd, the gradients read back through a name map of ours that prefixes
// "grad.".
#define BOOST_TEST_MODULE io_review_pytorch_cnn
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/nn.hpp>

#include "weights_test_support.hpp"

namespace io = ctgrad::io;
namespace nn = ctgrad::nn;
using weights_test::data_dir;

namespace {

template <class T>
struct cnn {
    using c1 = nn::conv2d<"c1", 3, 5, 3, 2, 1, T>;
    using bn1 = nn::batch_norm2d<"bn1", 5, T>;
    using c2 = nn::conv2d<"c2", 5, 4, 1, 1, 0, T>;
    using fc = nn::dense<"fc", 24, 3, T>;
    static constexpr auto net = nn::sequential(c1{}, bn1{}, nn::relu, nn::max_pool2d<3, 2>{}, c2{},
                                               nn::relu, nn::avg_pool2d<2>{}, nn::flatten, fc{});
    static constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, 2, 3, 17, 25>>;
    static constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<T, 2, 3>>;
    using params = nn::parameters_of<decltype(net)>;
    using state = nn::state_of<decltype(net)>;
};

/// max over entries |a − b| / max |b| (max |b| taken as at least `floor`).
template <class A, class B>
double relative(const A& a, const B& b, std::size_t n, double floor = 1e-300) {
    double diff = 0, scale = floor;
    for (std::size_t i = 0; i < n; ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return diff / scale;
}

template <class T>
void check_eval() {
    using M = cnn<T>;
    typename M::params p;
    typename M::state s;
    io::load_npz(data_dir() / "cnn.npz", std::tie(p, s), io::pytorch_names);
    ctgrad::tensor<T, 2, 3, 17, 25> x;
    io::load_npy(data_dir() / "cnn_inputs.npy", x);
    ctgrad::tensor<T, 2, 3> want;
    io::load_npy(data_dir() / (sizeof(T) == 4 ? "cnn_logits.npy" : "cnn_logits_f64.npy"), want);
    ctgrad::program eval(M::net.inference(M::X));
    const auto got = eval.value(p, s, M::X = x).to_tensor();
    const double err = relative(got.data(), want.data(), 6);
    BOOST_TEST_MESSAGE((sizeof(T) == 4 ? "float" : "double") << " eval logits: " << err);
    BOOST_TEST(err <= (sizeof(T) == 4 ? 1e-6 : 1e-12));
    // the logits differ between the images (not two constant outputs compared)
    BOOST_TEST(std::abs(double(want(0, 0)) - double(want(1, 0))) > 1e-3);
    // the running variance was loaded (PyTorch's moved away from 1)
    BOOST_TEST(std::abs(double(s[M::bn1::running_var](0)) - 1.0) > 1e-3);
}

}  // namespace

BOOST_AUTO_TEST_CASE(eval_logits_match_pytorch_float) {
    check_eval<float>();
}

BOOST_AUTO_TEST_CASE(eval_logits_match_pytorch_double) {
    check_eval<double>();
}

BOOST_AUTO_TEST_CASE(training_mode_gradients_match_pytorch_autograd) {
    using M = cnn<double>;
    M::params p;
    M::state s;
    io::load_npz(data_dir() / "cnn.npz", std::tie(p, s), io::pytorch_names);
    ctgrad::tensor<double, 2, 3, 17, 25> x;
    io::load_npy(data_dir() / "cnn_inputs.npy", x);
    ctgrad::tensor<double, 2, 3> y;
    io::load_npy(data_dir() / "cnn_targets.npy", y);

    // PyTorch's gradients, read into a second parameter pack through a map of ours
    M::params want;
    const auto grad_names = [](std::string_view n, std::size_t rank, io::parameter_role role) {
        io::mapped_name m = io::pytorch_names(n, rank, role);
        m.name = "grad." + m.name;
        return m;
    };
    io::load_npz(data_dir() / "cnn_train_f64.npz", want, grad_names, io::unused_tensors::ignore);
    // and the running estimates after PyTorch's training-mode pass
    M::state want_state;
    const auto after_names = [](std::string_view n, std::size_t rank, io::parameter_role role) {
        io::mapped_name m = io::pytorch_names(n, rank, role);
        m.name = "after." + m.name;
        return m;
    };
    io::load_npz(data_dir() / "cnn_train_f64.npz", want_state, after_names,
                 io::unused_tensors::ignore);
    const io::npy_array loss = io::read_npy(data_dir() / "cnn_train_loss_f64.npy");
    BOOST_TEST_REQUIRE(loss.values.size() == 1u);

    ctgrad::program prog(ctgrad::softmax_cross_entropy(M::net(M::X), M::Y), p.wrt());
    const auto g = prog.gradient(p, s, M::X = x, M::Y = y);
    BOOST_TEST(std::abs(g.value - loss.values[0]) <= 1e-12 * std::abs(loss.values[0]),
               "loss " << g.value << " want " << loss.values[0]);
    std::size_t checked = 0;
    p.for_each([&](auto v, const auto&) {
        const auto& got = g[v];
        const auto& w = want[v];
        // (c1.b's gradient is 0 up to rounding in both: a bias before training-mode batch
        // normalisation is subtracted again with the mean; hence the floor of the scale)
        const double err = relative(got.data(), w.data(), w.size(), 1e-3);
        BOOST_TEST(err <= 1e-10, "gradient of parameter " << checked << ": " << err);
        ++checked;
    });
    BOOST_TEST(checked == 8u);
    for (std::size_t o = 0; o < 5; ++o) {
        BOOST_TEST(std::abs(g[M::c1::b](o)) < 1e-15);
    }
    BOOST_TEST(std::abs(g[M::c1::W](0, 0, 0, 0)) > 1e-4);
    // the training pass moved the running estimates as PyTorch's did (momentum 0.1, unbiased
    // variance)
    std::size_t states = 0;
    s.for_each([&](auto v, const auto& t) {
        const double err = relative(t.data(), want_state[v].data(), t.size());
        BOOST_TEST(err <= 1e-12, "state " << states << ": " << err);
        ++states;
    });
    BOOST_TEST(states == 2u);
}
