// Batch normalisation (tensor/batch_norm.hpp, nn::batch_norm): the forward values against the
// definition, gradients against central differences (alone and inside a network), the running
// estimates against their update rule, inference mode, the state pack, a compile-time gradient,
// and the effect the notes describe: per-layer gradient norms of a deep sigmoid network with and
// without batch normalisation.
#define BOOST_TEST_MODULE nn_batch_norm
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/tensor_fd.hpp"

namespace nn = ctgrad::nn;
namespace tt = boost::test_tools;
using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using std::size_t;

namespace {

constexpr size_t N = 6, C = 3;
constexpr auto X = ctgrad::var<"X", tensor<double, N, C>>;
constexpr auto K = ctgrad::var<"K", tensor<double, N, C>>;  // fixed weights of the test loss
constexpr auto G = ctgrad::var<"G", tensor<double, C>>;
constexpr auto B = ctgrad::var<"B", tensor<double, C>>;
constexpr auto M = ctgrad::var<"M", tensor<double, C>>;
constexpr auto V = ctgrad::var<"V", tensor<double, C>>;

template <class T, size_t... D>
void fill_uniform(tensor<T, D...>& t, std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

/// Column c of x: its mean and biased variance, directly from the definition.
std::pair<double, double> column_moments(const tensor<double, N, C>& x, size_t c) {
    double mean = 0, var = 0;
    for (size_t r = 0; r < N; ++r) mean += x(r, c);
    mean /= N;
    for (size_t r = 0; r < N; ++r) var += (x(r, c) - mean) * (x(r, c) - mean);
    return {mean, var / N};
}

struct example {
    tensor<double, N, C> x{}, k{};
    tensor<double, C> gamma{}, beta{}, mean{}, var{};
};

example make_example(unsigned seed) {
    example e;
    std::mt19937 rng(seed);
    fill_uniform(e.x, rng, -2.0, 3.0);
    fill_uniform(e.k, rng, -1.0, 1.0);
    fill_uniform(e.gamma, rng, 0.5, 1.5);
    fill_uniform(e.beta, rng, -0.5, 0.5);
    for (size_t c = 0; c < C; ++c) e.x(1, c) += 4.0 * double(c);  // columns of different spread
    for (auto& v : e.var) v = 1.0;
    return e;
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_normalises_each_column_with_the_batch_statistics) {
    example e = make_example(1);
    const auto y = ctgrad::value(ctgrad::batch_norm(X, G, B, M, V), X = e.x, G = e.gamma,
                                 B = e.beta, M = std::ref(e.mean), V = std::ref(e.var));
    for (size_t c = 0; c < C; ++c) {
        const auto [mean, var] = column_moments(e.x, c);
        const double inv = 1.0 / std::sqrt(var + 1e-5);
        for (size_t r = 0; r < N; ++r) {
            BOOST_TEST(y(r, c) == e.gamma(c) * (e.x(r, c) - mean) * inv + e.beta(c),
                       tt::tolerance(1e-12));
        }
    }
    // x̂ itself has mean 0 and variance var/(var + ε) ≈ 1 in every column
    example f = make_example(1);
    const auto xh = ctgrad::value(ctgrad::batch_normalize(X, M, V), X = f.x, M = std::ref(f.mean),
                                  V = std::ref(f.var));
    for (size_t c = 0; c < C; ++c) {
        double s = 0, s2 = 0;
        for (size_t r = 0; r < N; ++r) s += xh(r, c), s2 += xh(r, c) * xh(r, c);
        BOOST_TEST(std::abs(s / N) < 1e-12);
        BOOST_TEST(s2 / N == 1.0, tt::tolerance(1e-4));
    }
}

BOOST_AUTO_TEST_CASE(running_estimates_follow_the_momentum_rule) {
    example e = make_example(2);
    auto run = [&] {
        return ctgrad::value(ctgrad::sum(ctgrad::batch_norm(X, G, B, M, V)), X = e.x, G = e.gamma,
                             B = e.beta, M = std::ref(e.mean), V = std::ref(e.var));
    };
    run();
    for (size_t c = 0; c < C; ++c) {
        const auto [mean, var] = column_moments(e.x, c);
        BOOST_TEST(e.mean(c) == 0.1 * mean, tt::tolerance(1e-12));
        // running_var starts at 1 and moves towards the unbiased variance
        BOOST_TEST(e.var(c) == 0.9 + 0.1 * var * N / (N - 1), tt::tolerance(1e-12));
    }
    for (int i = 0; i < 400; ++i) run();  // (0.9)^400 ≈ 5e-19: converged
    for (size_t c = 0; c < C; ++c) {
        const auto [mean, var] = column_moments(e.x, c);
        BOOST_TEST(e.mean(c) == mean, tt::tolerance(1e-12));
        BOOST_TEST(e.var(c) == var * N / (N - 1), tt::tolerance(1e-12));
    }
}

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
    example e = make_example(3);
    // Σ K ⊙ y: a loss that depends on every output (Σ y alone has a zero x-gradient, since
    // every column of x̂ sums to 0)
    const auto loss = ctgrad::sum(K * ctgrad::batch_norm(X, G, B, M, V));
    const auto g = check_fd(loss, wrt(X, G, B), X = e.x, K = e.k, G = e.gamma, B = e.beta,
                            M = std::ref(e.mean), V = std::ref(e.var));
    // the closed form: dβ = Σ_r K, dγ = Σ_r K ⊙ x̂
    for (size_t c = 0; c < C; ++c) {
        const auto [mean, var] = column_moments(e.x, c);
        double db = 0, dg = 0;
        for (size_t r = 0; r < N; ++r) {
            db += e.k(r, c);
            dg += e.k(r, c) * (e.x(r, c) - mean) / std::sqrt(var + 1e-5);
        }
        BOOST_TEST(g[B](c) == db, tt::tolerance(1e-12));
        BOOST_TEST(g[G](c) == dg, tt::tolerance(1e-12));
    }
    // a nonlinear use of the output, through squares, and x also used directly (two adjoint
    // contributions to x)
    example f = make_example(4);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::batch_norm(X, G, B, M, V) + K)) +
                 ctgrad::sum(ctgrad::tanh(X) * K),
             wrt(X, G, B, K), X = f.x, K = f.k, G = f.gamma, B = f.beta, M = std::ref(f.mean),
             V = std::ref(f.var));
}

BOOST_AUTO_TEST_CASE(inference_uses_the_running_estimates) {
    example e = make_example(5);
    std::mt19937 rng(9);
    fill_uniform(e.mean, rng, -1.0, 1.0);
    fill_uniform(e.var, rng, 0.5, 2.0);
    const tensor<double, C> mean0 = e.mean, var0 = e.var;
    // read-only bindings are enough: inference does not write them
    const auto y = ctgrad::value(ctgrad::batch_norm_inference(X, G, B, M, V), X = e.x, G = e.gamma,
                                 B = e.beta, M = e.mean, V = e.var);
    for (size_t c = 0; c < C; ++c) {
        for (size_t r = 0; r < N; ++r) {
            const double want =
                e.gamma(c) * (e.x(r, c) - e.mean(c)) / std::sqrt(e.var(c) + 1e-5) + e.beta(c);
            BOOST_TEST(y(r, c) == want, tt::tolerance(1e-12));
        }
    }
    for (size_t c = 0; c < C; ++c) {
        BOOST_TEST(e.mean(c) == mean0(c));
        BOOST_TEST(e.var(c) == var0(c));
    }
    // with the running estimates equal to the batch's (biased) statistics, inference and
    // training agree
    for (size_t c = 0; c < C; ++c) std::tie(e.mean(c), e.var(c)) = column_moments(e.x, c);
    const tensor<double, N, C> inf =
        ctgrad::value(ctgrad::batch_norm_inference(X, G, B, M, V), X = e.x, G = e.gamma, B = e.beta,
                      M = e.mean, V = e.var);
    const auto train = ctgrad::value(ctgrad::batch_norm(X, G, B, M, V), X = e.x, G = e.gamma,
                                     B = e.beta, M = std::ref(e.mean), V = std::ref(e.var));
    for (size_t i = 0; i < N * C; ++i) {
        BOOST_TEST(inf.data()[i] == train.data()[i], tt::tolerance(1e-12));
    }
}

// --- the layer ---

namespace {
constexpr size_t In = 4, Hidden = 5;
constexpr auto LX = ctgrad::var<"LX", tensor<double, N, In>>;
constexpr auto LY = ctgrad::var<"LY", tensor<double, N, 1>>;
using fc1 = nn::dense<"fc1", In, Hidden, double>;
using bn1 = nn::batch_norm<"bn1", Hidden, double>;
using fc2 = nn::dense<"fc2", Hidden, 1, double>;
constexpr auto net = nn::sequential(fc1{}, bn1{}, nn::sigmoid, fc2{});
}  // namespace

BOOST_AUTO_TEST_CASE(layer_names_parameters_and_state) {
    BOOST_TEST(decltype(bn1::gamma)::name.view() == std::string_view("bn1.gamma"));
    BOOST_TEST(decltype(bn1::running_var)::name.view() == std::string_view("bn1.running_var"));
    using params = nn::parameters_t<decltype(net)>;
    using state = nn::state_t<decltype(net)>;
    static_assert(params::size == 6);  // fc1.W fc1.b bn1.gamma bn1.beta fc2.W fc2.b
    static_assert(state::size == 2);
    static_assert(nn::state_t<decltype(nn::sequential(fc1{}, nn::relu))>::size == 0);

    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 1);
    for (double g : p[bn1::gamma]) BOOST_TEST(g == 1.0);  // the scale starts at 1
    for (double b : p[bn1::beta]) BOOST_TEST(b == 0.0);
    nn::state_of<decltype(net)> s;
    for (double m : s[bn1::running_mean]) BOOST_TEST(m == 0.0);
    for (double v : s[bn1::running_var]) BOOST_TEST(v == 1.0);
}

namespace {
// A layer of the user's with a learnable scale named like batch normalisation's (ReZero /
// LayerScale name theirs "gamma" and start it at 0): x * res.gamma, elementwise per feature.
template <size_t F>
struct rezero {
    static constexpr auto gamma = ctgrad::var<"res.gamma", tensor<double, F>>;
    using parameters = ctgrad::detail::type_list<std::remove_cvref_t<decltype(gamma)>>;
    template <ctgrad::expression A>
    constexpr auto operator()(A a) const {
        return std::move(a) * gamma;  // [N, F] * [F]: broadcast over the rows
    }
};
}  // namespace

namespace {
// A layer of yours that uses bn1's scale as its own parameter, listed as the plain variable
// (bn1 lists it tagged to start at 1): x * bn1.gamma.
struct scaled_by_bn1 {
    using parameters = ctgrad::detail::type_list<std::remove_cvref_t<decltype(bn1::gamma)>>;
    template <ctgrad::expression A>
    constexpr auto operator()(A a) const {
        return std::move(a) * bn1::gamma;
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_variable_listed_plain_and_tagged_is_one_parameter_that_keeps_its_role) {
    // Whichever comes first, the union holds "bn1.gamma" once (the packs and wrt would
    // otherwise list it twice and `pack[bn1::gamma]` would not find it), tagged: it starts at 1.
    using gamma_t = std::remove_cvref_t<decltype(bn1::gamma)>;
    using beta_t = std::remove_cvref_t<decltype(bn1::beta)>;
    constexpr auto before = nn::sequential(scaled_by_bn1{}, bn1{}, nn::sigmoid);
    constexpr auto after = nn::sequential(bn1{}, scaled_by_bn1{}, nn::sigmoid);
    using pb = nn::parameters_of<decltype(before)>;
    using pa = nn::parameters_of<decltype(after)>;
    static_assert(std::is_same_v<pb::variables, ctgrad::detail::type_list<gamma_t, beta_t>>);
    static_assert(std::is_same_v<pa::variables, ctgrad::detail::type_list<gamma_t, beta_t>>);
    pb p;
    pa q;
    nn::init::xavier(p, 3);
    nn::init::xavier(q, 3);
    for (double g : p[bn1::gamma]) BOOST_TEST(g == 1.0);
    for (double g : q[bn1::gamma]) BOOST_TEST(g == 1.0);
    for (double b : p[bn1::beta]) BOOST_TEST(b == 0.0);
}

BOOST_AUTO_TEST_CASE(initial_values_follow_the_layers_declarations_not_the_names) {
    // A dense layer named "gamma" and a user layer whose parameter is "res.gamma": initialised
    // like any dense layer / vector (random matrix, zero vectors); batch_norm's and
    // batch_norm2d's scale and running variance start at 1 (their layers tag them).
    using user_fc = nn::dense<"gamma", In, Hidden, double>;
    constexpr auto user_net = nn::sequential(user_fc{}, rezero<Hidden>{}, bn1{}, nn::sigmoid);
    nn::parameters_of<decltype(user_net)> p;
    nn::init::xavier(p, 4);
    for (double g : p[rezero<Hidden>::gamma]) BOOST_TEST(g == 0.0);
    for (double b : p[user_fc::b]) BOOST_TEST(b == 0.0);
    size_t nonzero = 0;
    for (double w : p[user_fc::W]) nonzero += w != 0.0 && std::abs(w) < 1.0;
    BOOST_TEST(nonzero == In * Hidden);  // Xavier-uniform, a = sqrt(6 / (In + Hidden)) < 1
    for (double g : p[bn1::gamma]) BOOST_TEST(g == 1.0);
    nn::parameters_of<decltype(user_net)> q;  // a fresh pack: zeros until initialised
    for (double g : q[bn1::gamma]) BOOST_TEST(g == 0.0);

    // State: a plain variable named like a running variance starts at 0 (reset() too).
    constexpr auto ema_var = ctgrad::var<"ema.running_var", tensor<double, C>>;
    nn::state<ctgrad::detail::type_list<std::remove_cvref_t<decltype(ema_var)>>> ema;
    for (double v : ema[ema_var]) BOOST_TEST(v == 0.0);
    using bn2d = nn::batch_norm2d<"bn2d", C, double>;
    nn::state_of<decltype(nn::sequential(bn2d{}))> s2;
    for (double v : s2[bn2d::running_var]) BOOST_TEST(v == 1.0);
    for (double m : s2[bn2d::running_mean]) BOOST_TEST(m == 0.0);
    s2[bn2d::running_var].data()[0] = 5.0;
    s2.reset();
    BOOST_TEST(s2[bn2d::running_var].data()[0] == 1.0);
    nn::parameters_of<decltype(nn::sequential(bn2d{}))> p2;
    nn::init::he(p2, 5);
    for (double g : p2[bn2d::gamma]) BOOST_TEST(g == 1.0);
    for (double b : p2[bn2d::beta]) BOOST_TEST(b == 0.0);
    // The packs index and bind by the plain variables (the tags only in the layers' lists).
    static_assert(std::is_same_v<
                  nn::parameters_of<decltype(user_net)>::variables,
                  ctgrad::detail::type_list<std::remove_cvref_t<decltype(user_fc::W)>,
                                            std::remove_cvref_t<decltype(user_fc::b)>,
                                            std::remove_cvref_t<decltype(rezero<Hidden>::gamma)>,
                                            std::remove_cvref_t<decltype(bn1::gamma)>,
                                            std::remove_cvref_t<decltype(bn1::beta)>>>);
}

BOOST_AUTO_TEST_CASE(network_with_batch_norm_central_differences) {
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 2);
    std::mt19937 rng(3);
    fill_uniform(p[bn1::gamma], rng, 0.5, 1.5);
    fill_uniform(p[bn1::beta], rng, -0.5, 0.5);
    nn::state_of<decltype(net)> s;
    tensor<double, N, In> x{};
    tensor<double, N, 1> y{};
    fill_uniform(x, rng, -1.0, 1.0);
    fill_uniform(y, rng, 0.0, 1.0);
    const auto loss = ctgrad::mse(net(LX), LY);
    p.bind([&](const auto&... pb) {
        s.bind([&](const auto&... sb) { check_fd(loss, p.wrt(), pb..., sb..., LX = x, LY = y); });
    });
    // the same through a program bound from the packs
    ctgrad::program prog(loss, p.wrt());
    const auto g = prog.gradient(p, s, LX = x, LY = y);
    const auto ref = p.bind([&](const auto&... pb) {
        return s.bind([&](const auto&... sb) {
            return ctgrad::gradient(loss, p.wrt(), pb..., sb..., LX = x, LY = y);
        });
    });
    BOOST_TEST(g.value == ref.value, tt::tolerance(1e-14));
    for (size_t i = 0; i < Hidden; ++i) {
        BOOST_TEST(g[bn1::gamma](i) == ref[bn1::gamma](i), tt::tolerance(1e-14));
        BOOST_TEST(g[fc1::b](i) == ref[fc1::b](i), tt::tolerance(1e-14));
    }
}

BOOST_AUTO_TEST_CASE(training_then_inference) {
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 4);
    nn::state_of<decltype(net)> s;
    std::mt19937 rng(5);
    tensor<double, N, In> x{};
    tensor<double, N, 1> y{};
    fill_uniform(x, rng, -1.0, 1.0);
    for (size_t r = 0; r < N; ++r) y(r, 0) = x(r, 0) * x(r, 1) + 0.5 * x(r, 2);
    ctgrad::program prog(ctgrad::mse(net(LX), LY), p.wrt());
    const double first = prog.gradient(p, s, LX = x, LY = y).value;
    double last = first;
    for (int step = 0; step < 300; ++step) {
        const auto g = prog.gradient(p, s, LX = x, LY = y);
        last = g.value;
        nn::sgd_step(p, g, 0.1);
    }
    BOOST_TEST(last < 0.1 * first);
    // after training on one batch, the running estimates are that batch's statistics, and the
    // inference network (running estimates) reproduces the training network's outputs up to the
    // unbiased/biased variance factor N/(N − 1) of the running variance
    ctgrad::program inf(ctgrad::mse(net.inference(LX), LY), p.wrt());
    const double inf_loss = inf.value(p, s, LX = x, LY = y);
    BOOST_TEST(inf_loss < 0.5 * first);
    for (double v : s[bn1::running_var]) BOOST_TEST(v > 0.0);
}

// --- a gradient in a constant expression ---

namespace {
constexpr auto CX = ctgrad::var<"CX", tensor<double, 2, 1>>;
constexpr auto CG = ctgrad::var<"CG", tensor<double, 1>>;
constexpr auto CM = ctgrad::var<"CM", tensor<double, 1>>;
constexpr auto CV = ctgrad::var<"CV", tensor<double, 1>>;
constexpr auto CB = ctgrad::var<"CB", tensor<double, 1>>;

/// A batch of two rows {1, 3}: μ = 2, σ² = 1, x̂ = ∓1/√(1 + ε).
constexpr auto compile_time_gradient() {
    tensor<double, 2, 1> x{1.0, 3.0};
    tensor<double, 1> gamma{2.0}, beta{0.5}, mean{0.0}, var{1.0};
    const auto loss = ctgrad::sum(ctgrad::batch_norm(CX, CG, CB, CM, CV) * CX);
    const auto g = ctgrad::gradient(loss, wrt(CG, CB), CX = x, CG = gamma, CB = beta,
                                    CM = std::ref(mean), CV = std::ref(var));
    struct result {
        double value, dgamma, dbeta, mean, var;
    };
    return result{g.value, g[CG](0), g[CB](0), mean(0), var(0)};
}
}  // namespace

BOOST_AUTO_TEST_CASE(gradient_in_a_constant_expression) {
    // loss = Σ_r (γ·x̂_r + β)·x_r = γ·(x̂₀·1 + x̂₁·3) + β·4, x̂ = (−1, 1)/√(1 + 1e-5)
    constexpr auto r = compile_time_gradient();
    constexpr double inv = 0.999995000037499687;  // 1/√(1 + 1e-5)
    static_assert(r.dbeta == 4.0);
    static_assert(r.dgamma - 2.0 * inv < 1e-12 && 2.0 * inv - r.dgamma < 1e-12);
    static_assert(r.value - (2.0 * 2.0 * inv + 2.0) < 1e-12 &&
                  (2.0 * 2.0 * inv + 2.0) - r.value < 1e-12);
    // running estimates after one step: 0.1·2 and 0.9 + 0.1·(1·2/1)
    static_assert(r.mean - 0.2 < 1e-15 && 0.2 - r.mean < 1e-15);
    static_assert(r.var - 1.1 < 1e-15 && 1.1 - r.var < 1e-15);
    const auto rt = compile_time_gradient();
    BOOST_TEST(rt.value == r.value);
    BOOST_TEST(rt.dgamma == r.dgamma);
    BOOST_TEST(rt.dgamma == 2.0 / std::sqrt(1.0 + 1e-5), tt::tolerance(1e-14));
}

// --- the effect on a deep sigmoid network (notes 000, 002, 003) ---

namespace {
constexpr size_t Depth = 8, Width = 16, Batch = 32;
constexpr auto DX = ctgrad::var<"DX", tensor<double, Batch, Width>>;
constexpr auto DY = ctgrad::var<"DY", tensor<double, Batch, Width>>;

template <size_t L>
using dense_l = nn::dense<ctgrad::indexed_name<"fc", L>, Width, Width, double>;
template <size_t L>
using bn_l = nn::batch_norm<ctgrad::indexed_name<"bn", L>, Width, double>;

template <size_t... L>
constexpr auto plain_net(std::index_sequence<L...>) {
    return nn::sequential(nn::sequential(dense_l<L>{}, nn::sigmoid)...);
}
template <size_t... L>
constexpr auto bn_net(std::index_sequence<L...>) {
    return nn::sequential(nn::sequential(dense_l<L>{}, bn_l<L>{}, nn::sigmoid)...);
}

/// ‖∂C/∂W_l‖ for every layer l of a network whose dense layers are dense_l<0..Depth−1>, all
/// initialized alike (Xavier, seed 7), on the same data.
template <class Net>
std::array<double, Depth> weight_gradient_norms(Net net) {
    nn::parameters_of<Net> p;
    nn::init::xavier(p, 7);
    nn::state_of<Net> s;
    auto data = std::make_unique<std::array<tensor<double, Batch, Width>, 2>>();
    std::mt19937 rng(8);
    fill_uniform((*data)[0], rng, -1.0, 1.0);
    fill_uniform((*data)[1], rng, 0.0, 1.0);
    ctgrad::program prog(ctgrad::mse(net(DX), DY), p.wrt());
    const auto g = prog.gradient(p, s, DX = (*data)[0], DY = (*data)[1]);
    std::array<double, Depth> norms{};
    [&]<size_t... L>(std::index_sequence<L...>) {
        ((norms[L] =
              [&] {
                  double s2 = 0;
                  for (double e : g[dense_l<L>::W]) s2 += e * e;
                  return std::sqrt(s2);
              }()),
         ...);
    }
    (std::make_index_sequence<Depth>{});
    return norms;
}
}  // namespace

BOOST_AUTO_TEST_CASE(batch_norm_keeps_gradients_from_vanishing) {
    const auto plain = weight_gradient_norms(plain_net(std::make_index_sequence<Depth>{}));
    const auto bn = weight_gradient_norms(bn_net(std::make_index_sequence<Depth>{}));
    for (size_t l = 0; l < Depth; ++l) {
        BOOST_TEST_MESSAGE("layer " << l << ": |dC/dW| sigmoid " << plain[l] << ", with batch norm "
                                    << bn[l]);
    }
    const double plain_ratio = plain[0] / plain[Depth - 1];
    const double bn_ratio = bn[0] / bn[Depth - 1];
    BOOST_TEST_MESSAGE("first/last layer: sigmoid " << plain_ratio << ", batch norm " << bn_ratio);
    // Without normalisation every layer back multiplies δ by Wᵀ and σ'(z) ≤ 1/4: the first
    // layer's gradient is orders of magnitude below the last's. Batch normalisation keeps each
    // layer's pre-activations at mean 0 and variance 1 (γ = 1, β = 0 at the start), where
    // σ'(z) is near its maximum, and rescales δ by 1/σ of the layer's inputs: the gradient
    // reaches the first layer at a comparable size.
    BOOST_TEST(plain_ratio < 1e-3);
    BOOST_TEST(bn_ratio > 1e-2);
    BOOST_TEST(bn_ratio > 100 * plain_ratio);
}
