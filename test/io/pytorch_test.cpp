// Weights trained in PyTorch: the state_dict of a 784-16-10 ReLU MLP trained with python3-torch
// (test/io/data/make_pytorch_mlp.py), checked in as safetensors and .npz with PyTorch's logits on
// four inputs, loaded into the matching ctgrad network through io::pytorch_names: ctgrad's
// logits are PyTorch's within 4e-6 relative (float, row max-norm) and 1e-12 (double, against PyTorch's
// float64 logits). Also the other direction, when python3-torch is installed: ctgrad's
// save_npz with PyTorch names, loaded by torch's load_state_dict(strict=True), gives ctgrad's
// logits.
#define BOOST_TEST_MODULE io_pytorch
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/numpy.hpp>
#include <ctgrad/io/safetensors.hpp>
#include <ctgrad/nn.hpp>

#include "support/pytorch_script.hpp"
#include "weights_test_support.hpp"

namespace io = ctgrad::io;
namespace nn = ctgrad::nn;
using namespace weights_test;

namespace {

constexpr std::size_t inputs = 4;

template <class T>
struct mlp {
    using fc1 = nn::dense<"fc1", 784, 16, T>;
    using fc2 = nn::dense<"fc2", 16, 10, T>;
    static constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});
    static constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, inputs, 784>>;
    using params = nn::parameters_of<decltype(net)>;

    static ctgrad::tensor<T, inputs, 10> logits(const params& p,
                                                const ctgrad::tensor<T, inputs, 784>& x) {
        static ctgrad::program eval(net(X));
        return eval.value(p, X = x).to_tensor();
    }
};

/// Largest |a − b| / |b| over the entries, and over the rows max|a − b| / max|b|.
template <class A, class B>
std::pair<double, double> relative_errors(const A& a, const B& b) {
    double elementwise = 0, rowwise = 0;
    for (std::size_t r = 0; r < A::shape[0]; ++r) {
        double diff = 0, scale = 0;
        for (std::size_t c = 0; c < A::shape[1]; ++c) {
            const double d = std::abs(double(a(r, c)) - double(b(r, c)));
            elementwise = std::max(elementwise, d / std::abs(double(b(r, c))));
            diff = std::max(diff, d);
            scale = std::max(scale, std::abs(double(b(r, c))));
        }
        rowwise = std::max(rowwise, diff / scale);
    }
    return {elementwise, rowwise};
}

template <class T>
void check_logits(const std::string& weights, bool npz) {
    using M = mlp<T>;
    typename M::params p;
    if (npz) {
        io::load_npz(data_dir() / weights, p, io::pytorch_names);
    } else {
        io::load_safetensors(data_dir() / weights, p, io::pytorch_names);
    }
    ctgrad::tensor<T, inputs, 784> x;
    io::load_npy(data_dir() / "mlp_inputs.npy", x);  // float32 in the file
    ctgrad::tensor<T, inputs, 10> want;
    io::load_npy(data_dir() / (sizeof(T) == 4 ? "mlp_logits.npy" : "mlp_logits_f64.npy"), want);
    const auto got = M::logits(p, x);
    const auto [elementwise, rowwise] = relative_errors(got, want);
    BOOST_TEST_MESSAGE(weights << (sizeof(T) == 4 ? " float" : " double")
                               << ": largest relative error " << elementwise << " (elementwise), "
                               << rowwise << " (row max-norm)");
    if constexpr (sizeof(T) == 4) {
        // float32: the row's largest |difference| within 4e-6 of its largest logit. The sums
        // over 784 products run in another order on each kernel ISA: measured 3.2e-7 on an
        // Intel Xeon (AVX-512), 1.2e-6 on an AMD EPYC (AVX2 and SSE2 kernels), against a
        // standard bound of 784·2⁻²⁴ ≈ 4.7e-5 of the products' magnitudes (docs/io.md).
        // Entry by entry a logit near 0 differs more; both are measured against PyTorch's
        // float64 logits below.
        BOOST_TEST(rowwise <= 4e-6);
        const io::npy_array a = io::read_npy(data_dir() / "mlp_logits_f64.npy");
        ctgrad::tensor<double, inputs, 10> exact;
        std::copy(a.values.begin(), a.values.end(), exact.begin());
        const auto ours = relative_errors(got, exact);
        const auto theirs = relative_errors(want, exact);
        BOOST_TEST_MESSAGE("  against PyTorch's float64 logits: ctgrad float "
                           << ours.first << " / " << ours.second << ", PyTorch float "
                           << theirs.first << " / " << theirs.second);
        BOOST_TEST(ours.second <= 4e-6);
    } else {
        BOOST_TEST(elementwise <= 1e-12);
        BOOST_TEST(rowwise <= 1e-12);
    }
    // the predictions are PyTorch's, and the logits differ between inputs (a sanity check that
    // the comparison is not between two constant outputs)
    BOOST_TEST(std::abs(double(want(0, 0)) - double(want(1, 0))) > 1e-3);
}

}  // namespace

BOOST_AUTO_TEST_CASE(safetensors_float_logits_match_pytorch) {
    check_logits<float>("mlp.safetensors", false);
}

BOOST_AUTO_TEST_CASE(safetensors_double_logits_match_pytorch_float64) {
    check_logits<double>("mlp.safetensors", false);
}

BOOST_AUTO_TEST_CASE(npz_logits_match_pytorch) {
    check_logits<float>("mlp.npz", true);
    check_logits<double>("mlp.npz", true);
}

BOOST_AUTO_TEST_CASE(transposition_of_linear_weights) {
    // fc1.W [784, 16] is the transpose of the file's fc1.weight [16, 784]
    mlp<float>::params p;
    io::load_safetensors(data_dir() / "mlp.safetensors", p, io::pytorch_names);
    const auto a = io::read_npy(data_dir() / "mlp_inputs.npy");  // any array: read_npy works
    BOOST_TEST(a.shape.size() == 2u);
    tmp_dir t;
    // the file's matrix, through numpy's layout: save fc1.W with ctgrad names and compare
    io::save_npz(t / "p.npz", p, io::pytorch_names);
    mlp<float>::params q;
    io::load_npz(t / "p.npz", q, io::pytorch_names);
    BOOST_TEST((snapshot(q) == snapshot(p)));
    const auto& W = p[mlp<float>::fc1::W];
    // the file's data: fc1.weight is second in the file, after fc1.bias (64 bytes); row o of
    // the file is output o
    const bytes file = read_bytes(data_dir() / "mlp.safetensors");
    const std::uint64_t n = ctgrad::io::detail::get_le(file.data(), 8);
    const unsigned char* w = file.data() + 8 + n + 64;
    for (std::size_t o : {std::size_t{0}, std::size_t{7}, std::size_t{15}}) {
        for (std::size_t i : {std::size_t{0}, std::size_t{300}, std::size_t{783}}) {
            float f;
            std::memcpy(&f, w + 4 * (o * 784 + i), 4);
            BOOST_TEST(W(i, o) == f);
        }
    }
}

BOOST_AUTO_TEST_CASE(saved_with_pytorch_names_is_the_reference_file_byte_for_byte) {
    // two independent writers (ctgrad's and the Python one of make_pytorch_mlp.py, which
    // follows the reference implementation's layout) give the same bytes
    mlp<float>::params p;
    io::load_safetensors(data_dir() / "mlp.safetensors", p, io::pytorch_names);
    tmp_dir t;
    io::save_safetensors(t / "again.safetensors", p, io::pytorch_names);
    BOOST_TEST((read_bytes(t / "again.safetensors") == read_bytes(data_dir() / "mlp.safetensors")));
}

BOOST_AUTO_TEST_CASE(pytorch_loads_what_ctgrad_saves) {
    // the script's prelude exits with 77 when numpy or torch is missing (one import of torch,
    // not a separate check before it: test/support/pytorch_script.hpp)
    tmp_dir t;
    mlp<float>::params p;
    fill(p, 0.123);
    ctgrad::tensor<float, inputs, 784> x;
    io::load_npy(data_dir() / "mlp_inputs.npy", x);
    io::save_npz(t / "w.npz", p, io::pytorch_names, io::npz_compression::deflated);
    io::save_npy(t / "x.npy", x);
    const std::string script = std::string(ctgrad::test::torch_prelude) + R"(
d = sys.argv[1]
model = torch.nn.Module()
model.fc1 = torch.nn.Linear(784, 16)
model.fc2 = torch.nn.Linear(16, 10)
with np.load(d + "/w.npz") as z:
    model.load_state_dict({k: torch.from_numpy(z[k]) for k in z.files}, strict=True)
x = torch.from_numpy(np.load(d + "/x.npy"))
with torch.no_grad():
    y = model.fc2(torch.relu(model.fc1(x)))
np.save(d + "/y.npy", y.numpy())
)";
    const fs::path py = t / "script.py";
    std::ofstream(py) << script;
    const int status =
        ctgrad::test::run_script("/usr/bin/python3 " + py.string() + " " + t.dir.string());
    if (ctgrad::test::torch_missing(status)) {
        BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 with numpy and torch is not installed");
        return;
    }
    BOOST_TEST_REQUIRE(status == 0);
    ctgrad::tensor<float, inputs, 10> want;
    io::load_npy(t / "y.npy", want);
    const auto got = mlp<float>::logits(p, x);
    const auto [elementwise, rowwise] = relative_errors(got, want);
    BOOST_TEST_MESSAGE("ctgrad -> PyTorch: " << elementwise << " (elementwise), " << rowwise);
    BOOST_TEST(rowwise <= 1e-6);
}

BOOST_AUTO_TEST_CASE(batch_norm_network_in_eval_mode) {
    // Linear(20, 8), BatchNorm1d(8), ReLU, Linear(8, 3) trained in PyTorch: the parameters
    // (bn1.weight/bias are bn1.gamma/beta) into the parameter pack, the running estimates into
    // the state pack, num_batches_tracked (I64) ignored; eval-mode logits are PyTorch's
    constexpr auto net = nn::sequential(nn::dense<"fc1", 20, 8>{}, nn::batch_norm<"bn1", 8>{},
                                        nn::relu, nn::dense<"fc2", 8, 3>{});
    constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 20>>;
    nn::parameters_of<decltype(net)> params;
    nn::state_of<decltype(net)> state;
    io::load_safetensors(data_dir() / "bn.safetensors", std::tie(params, state), io::pytorch_names);
    ctgrad::tensor<float, 4, 20> x;
    io::load_npy(data_dir() / "bn_inputs.npy", x);
    ctgrad::tensor<float, 4, 3> want;
    io::load_npy(data_dir() / "bn_logits.npy", want);
    static ctgrad::program eval(net.inference(X));
    const auto got = eval.value(params, state, X = x).to_tensor();
    const auto [elementwise, rowwise] = relative_errors(got, want);
    BOOST_TEST_MESSAGE("batch norm network: " << elementwise << " (elementwise), " << rowwise
                                              << " (row max-norm)");
    BOOST_TEST(rowwise <= 1e-6);
    // the running variance moved away from its initial 1 (the state was loaded, not kept)
    BOOST_TEST(std::abs(state[nn::batch_norm<"bn1", 8>::running_var](0) - 1.0f) > 1e-3f);
}
