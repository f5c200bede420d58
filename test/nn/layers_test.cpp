#define BOOST_TEST_MODULE nn_layers
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

namespace nn = ctgrad::nn;

namespace {
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 4, 3>>;
using fc1 = nn::dense<"fc1", 3, 5, double>;
using fc2 = nn::dense<"fc2", 5, 2, double>;
constexpr auto net = nn::sequential(fc1{}, nn::tanh, fc2{}, nn::leaky_relu<1, 10>);
}  // namespace

BOOST_AUTO_TEST_CASE(parameters_are_named_after_the_layer) {
    BOOST_TEST(decltype(fc1::W)::name.view() == std::string_view("fc1.W"));
    BOOST_TEST(decltype(fc2::b)::name.view() == std::string_view("fc2.b"));
    using params = nn::parameters_t<decltype(net)>;
    static_assert(params::size == 4);
    static_assert(std::is_same_v<ctgrad::detail::at_t<params, 0>, fc1::weight>);
    static_assert(std::is_same_v<ctgrad::detail::at_t<params, 3>, fc2::bias>);
}

BOOST_AUTO_TEST_CASE(sequential_is_the_composition) {
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 3);
    ctgrad::tensor<double, 4, 3> x{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.3 * double(i) - 1.0;
    const auto out = p.bind([&](const auto&... b) { return ctgrad::value(net(X), b..., X = x); });
    const auto& w1 = p[fc1::W];
    const auto& b1 = p[fc1::b];
    const auto& w2 = p[fc2::W];
    const auto& b2 = p[fc2::b];
    for (std::size_t r = 0; r < 4; ++r) {
        double h[5];
        for (std::size_t j = 0; j < 5; ++j) {
            double z = b1(j);
            for (std::size_t k = 0; k < 3; ++k) z += x(r, k) * w1(k, j);
            h[j] = std::tanh(z);
        }
        for (std::size_t o = 0; o < 2; ++o) {
            double z = b2(o);
            for (std::size_t j = 0; j < 5; ++j) z += h[j] * w2(j, o);
            const double expected = std::max(z, 0.1 * z);
            BOOST_TEST(out(r, o) == expected, boost::test_tools::tolerance(1e-12));
        }
    }
}

BOOST_AUTO_TEST_CASE(initializers_have_the_documented_scale) {
    using big = nn::dense<"big", 400, 300, double>;
    nn::parameters<big::parameters> p;
    nn::init::xavier(p, 11);
    double lim = std::sqrt(6.0 / 700.0), sum = 0, sq = 0, maxabs = 0;
    for (double w : p[big::W]) {
        sum += w;
        sq += w * w;
        maxabs = std::max(maxabs, std::abs(w));
    }
    const double n = 400.0 * 300.0;
    BOOST_TEST(maxabs <= lim);
    BOOST_TEST(std::abs(sum / n) < 0.01 * lim);
    BOOST_TEST(sq / n == lim * lim / 3.0, boost::test_tools::tolerance(0.02));
    for (double b : p[big::b]) BOOST_TEST(b == 0.0);

    nn::init::he(p, 11);
    sq = 0;
    for (double w : p[big::W]) sq += w * w;
    BOOST_TEST(sq / n == 2.0 / 400.0, boost::test_tools::tolerance(0.02));

    // the seed decides: same seed, same parameters; another seed, others
    nn::parameters<big::parameters> q, r;
    nn::init::he(q, 11);
    nn::init::he(r, 12);
    BOOST_TEST(q[big::W](7, 9) == p[big::W](7, 9));
    BOOST_TEST(r[big::W](7, 9) != p[big::W](7, 9));
}

BOOST_AUTO_TEST_CASE(sgd_step_moves_against_the_gradient) {
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 5);
    ctgrad::tensor<double, 4, 3> x{};
    ctgrad::tensor<double, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(double(i));
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = std::cos(double(i));
    const auto loss = ctgrad::mse(net(X), Y);
    ctgrad::program prog(loss, p.wrt());
    const auto before = p;
    const auto g = prog.gradient(p, X = x, Y = y);
    const double dw = g[fc2::W](1, 1);
    nn::sgd_step(p, g, 0.1);
    BOOST_TEST(p[fc2::W](1, 1) == before[fc2::W](1, 1) - 0.1 * dw);
    BOOST_TEST(prog.value(p, X = x, Y = y) < g.value);
}

BOOST_AUTO_TEST_CASE(fused_sgd_step_equals_gradient_then_update) {
    // program::sgd_step adds −lr·∂/∂W inside the weight-gradient product (no stored gradient)
    // and updates the biases by a loop; the result must be the plain step's.
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 9);
    ctgrad::tensor<double, 4, 3> x{};
    ctgrad::tensor<double, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(3.0 * double(i));
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = std::cos(2.0 * double(i));
    const auto loss = ctgrad::sum(ctgrad::square(net(X) - Y));
    ctgrad::program prog(loss, p.wrt());
    auto q = p;
    const auto g = prog.gradient(p, X = x, Y = y);
    const double value = g.value;
    nn::sgd_step(p, g, 0.05);
    auto& w1 = q[fc1::W];
    auto& b1 = q[fc1::b];
    auto& w2 = q[fc2::W];
    auto& b2 = q[fc2::b];
    const double before =
        prog.sgd_step(0.05, X = x, Y = y, fc1::W = std::ref(w1), fc1::b = std::ref(b1),
                      fc2::W = std::ref(w2), fc2::b = std::ref(b2));
    BOOST_TEST(before == value);
    p.for_each([&](auto v, const auto& t) {
        for (std::size_t i = 0; i < t.size(); ++i) {
            BOOST_TEST(q[v].data()[i] == t.data()[i], boost::test_tools::tolerance(1e-12));
        }
    });
    BOOST_TEST(prog.step_workspace_bytes < prog.workspace_bytes);  // no buffer for ∂/∂W
}

namespace {
// The SGD step's workspace is laid out from the gradient schedule's buffers minus the adjoints it
// does not store (tensor_ad::step_buffers_of): the same buffers and offsets as from the step
// schedule's own tables.
template <class Prog>
constexpr bool step_layout_is_its_own() {
    namespace ta = ctgrad::tensor_ad;
    using S = typename Prog::step_schedule;
    constexpr std::size_t N = S::N;
    constexpr auto own = ta::buffers_of(S::t, ta::plan_extents<typename S::plan>::saved, true);
    constexpr auto& all = ta::workspace<S>::all;
    constexpr auto& l = ta::workspace<S>::offsets;
    const auto p = ta::place_range(own, ta::placement<N>{}, 0, own.placed, S::align);
    bool same = own.placed == all.placed && own.placed == l.buffers && p.total == l.total;
    for (std::size_t o = 0; o < own.placed; ++o) {
        same = same && own.order[o] == all.order[o] && own.death[o] == all.death[o];
    }
    for (std::size_t b = 0; b < 2 * N; ++b) {
        same = same && own.size[b] == all.size[b];
        if (own.size[b] != 0)
            same = same && p.offset[b] == (b < N ? l.val_off[b] : l.adj_off[b - N]);
    }
    return same;
}
}  // namespace

BOOST_AUTO_TEST_CASE(step_workspace_from_the_gradient_schedule) {
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    using p_t = nn::parameters_of<decltype(net)>;
    const auto loss = ctgrad::sum(ctgrad::square(net(X) - Y));
    using prog1 = decltype(ctgrad::program(loss, p_t{}.wrt()));
    static_assert(step_layout_is_its_own<prog1>());
    // a weight read twice (not updated in place), softmax cross-entropy, a deeper network
    constexpr auto Y3 = ctgrad::var<"Y", ctgrad::tensor<double, 4, 3>>;
    using fc3 = nn::dense<"fc3", 3, 3, double>;
    constexpr auto deep = nn::sequential(fc3{}, nn::tanh, fc3{}, nn::tanh, fc1{}, nn::tanh, fc2{});
    const auto loss2 = ctgrad::softmax_cross_entropy(deep(X), Y) + ctgrad::sum(fc3{}(X)-Y3);
    using prog2 = decltype(ctgrad::program(loss2));
    static_assert(step_layout_is_its_own<prog2>());
    static_assert(prog2::step_workspace_bytes < prog2::workspace_bytes);
    BOOST_TEST(prog1::step_workspace_bytes < prog1::workspace_bytes);
}

namespace {
template <std::size_t L>
using narrow = nn::dense<ctgrad::indexed_name<"n", L>, 3, 3, double>;

template <std::size_t... L>
constexpr auto narrow_net(std::index_sequence<L...>) {
    return nn::sequential(nn::sequential(narrow<L>{}, nn::tanh)...,
                          nn::dense<"last", 3, 2, double>{});
}
}  // namespace

BOOST_AUTO_TEST_CASE(step_workspace_shares_the_gradient_placement) {
    // deep enough that the step's placement starts from the gradient schedule's first chunks
    constexpr auto deep = narrow_net(std::make_index_sequence<40>{});
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    using p_t = nn::parameters_of<decltype(deep)>;
    const auto loss = ctgrad::softmax_cross_entropy(deep(X), Y);
    using prog = decltype(ctgrad::program(loss, p_t{}.wrt()));
    static_assert(ctgrad::tensor_ad::workspace<typename prog::step_schedule>::shared_chunks > 0);
    static_assert(step_layout_is_its_own<prog>());
    BOOST_TEST(prog::step_workspace_bytes <= prog::workspace_bytes);
}

BOOST_AUTO_TEST_CASE(sgd_step_updates_every_element_of_every_parameter) {
    // nn::sgd_step and init:: loop over the pack's tables (data(), sizes): every tensor, in
    // order, every element, p − lr·∂/∂p exactly
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 4, 2>>;
    using pack = nn::parameters_of<decltype(net)>;
    static_assert(std::is_same_v<pack::element_type, double>);
    static_assert(pack::sizes[0] == 15 && pack::sizes[1] == 5 && pack::sizes[2] == 10 &&
                  pack::sizes[3] == 2);
    pack p;
    nn::init::xavier(p, 7);
    const auto d = p.data();
    BOOST_TEST(d[0] == p[fc1::W].data());
    BOOST_TEST(d[1] == p[fc1::b].data());
    BOOST_TEST(d[2] == p[fc2::W].data());
    BOOST_TEST(d[3] == p[fc2::b].data());
    for (double b : p[fc1::b]) BOOST_TEST(b == 0.0);
    double lim = std::sqrt(6.0 / 8.0), nonzero = 0;
    for (double w : p[fc1::W]) {
        BOOST_TEST(std::abs(w) <= lim);
        nonzero += w != 0.0 ? 1 : 0;
    }
    BOOST_TEST(nonzero == 15.0);
    ctgrad::tensor<double, 4, 3> x{};
    ctgrad::tensor<double, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.7 * double(i));
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = std::cos(0.3 * double(i));
    ctgrad::program prog(ctgrad::mse(net(X), Y), p.wrt());
    const auto before = p;
    const auto g = prog.gradient(p, X = x, Y = y);
    nn::sgd_step(p, g, 0.25);
    const auto check = [&](auto v) {
        const auto gv = g[v];
        for (std::size_t e = 0; e < p[v].size(); ++e) {
            BOOST_TEST(p[v].data()[e] == before[v].data()[e] - 0.25 * gv.data()[e]);
        }
    };
    check(fc1::W);
    check(fc1::b);
    check(fc2::W);
    check(fc2::b);
}
