#define BOOST_TEST_MODULE nn_sequential
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

// nn::sequential's parameter union (one pass when no layer repeats, merged otherwise) and its
// application (one fold per 128 layers).

namespace nn = ctgrad::nn;

namespace {
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 2, 3>>;
using sq = nn::dense<"sq", 3, 3, double>;
using a = nn::dense<"a", 3, 3, double>;
using b = nn::dense<"b", 3, 3, double>;

template <std::size_t... I>
constexpr auto tanh_layers(std::index_sequence<I...>) {
    return nn::sequential(((void)I, nn::tanh)...);
}
}  // namespace

BOOST_AUTO_TEST_CASE(parameters_in_order_of_first_use) {
    constexpr auto net = nn::sequential(nn::sequential(a{}, nn::tanh), nn::sequential(b{}), sq{});
    using params = nn::parameters_t<decltype(net)>;
    static_assert(std::is_same_v<params, ctgrad::detail::type_list<a::weight, a::bias, b::weight,
                                                                   b::bias, sq::weight, sq::bias>>);
    BOOST_TEST(params::size == 6u);
}

BOOST_AUTO_TEST_CASE(a_layer_used_twice_shares_its_parameters) {
    constexpr auto net = nn::sequential(sq{}, nn::tanh, a{}, sq{}, nn::sequential(a{}, sq{}));
    using params = nn::parameters_t<decltype(net)>;
    static_assert(
        std::is_same_v<params,
                       ctgrad::detail::type_list<sq::weight, sq::bias, a::weight, a::bias>>);
    // and the value is the composition, the shared layer applied with the same numbers
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 5);
    ctgrad::tensor<double, 2, 3> x{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.25 * double(i) - 0.6;
    const auto out = p.bind([&](const auto&... bs) { return ctgrad::value(net(X), bs..., X = x); });
    const auto dense = [&](const auto& w, const auto& bias, const double(&in)[3], double(&o)[3]) {
        for (std::size_t j = 0; j < 3; ++j) {
            o[j] = bias(j);
            for (std::size_t k = 0; k < 3; ++k) o[j] += in[k] * w(k, j);
        }
    };
    for (std::size_t r = 0; r < 2; ++r) {
        double h0[3], h1[3], h2[3], h3[3], h4[3], h5[3];
        for (std::size_t k = 0; k < 3; ++k) h0[k] = x(r, k);
        dense(p[sq::W], p[sq::b], h0, h1);
        for (double& v : h1) v = std::tanh(v);
        dense(p[a::W], p[a::b], h1, h2);
        dense(p[sq::W], p[sq::b], h2, h3);
        dense(p[a::W], p[a::b], h3, h4);
        dense(p[sq::W], p[sq::b], h4, h5);
        for (std::size_t j = 0; j < 3; ++j) {
            BOOST_TEST(out(r, j) == h5[j], boost::test_tools::tolerance(1e-12));
        }
    }
}

BOOST_AUTO_TEST_CASE(long_sequentials_apply_every_layer) {
    // 150 and 200 layers: two folds (128 + 22, 128 + 72)
    constexpr auto net150 = tanh_layers(std::make_index_sequence<150>{});
    constexpr auto net200 = tanh_layers(std::make_index_sequence<200>{});
    ctgrad::tensor<double, 2, 3> x{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.4 * double(i) - 1.1;
    const auto v150 = ctgrad::value(net150(X), X = x);
    const auto v200 = ctgrad::value(net200(X), X = x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        double e150 = x.data()[i];
        for (int l = 0; l < 150; ++l) e150 = std::tanh(e150);
        double e200 = e150;
        for (int l = 150; l < 200; ++l) e200 = std::tanh(e200);
        BOOST_TEST(v150.data()[i] == e150, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(v200.data()[i] == e200, boost::test_tools::tolerance(1e-12));
    }
}

BOOST_AUTO_TEST_CASE(folds_of_128_layers_compose) {
    // 257 layers: three folds (128 + 128 + 1), the same expression as 129 layers after 128
    constexpr auto net257 = tanh_layers(std::make_index_sequence<257>{});
    constexpr auto net128 = tanh_layers(std::make_index_sequence<128>{});
    constexpr auto net129 = tanh_layers(std::make_index_sequence<129>{});
    using whole = decltype(net257(X));
    using parts = decltype(net129(net128(X)));
    static_assert(std::is_same_v<whole, parts>);
    static_assert(!std::is_same_v<whole, decltype(net128(net128(X)))>);
    BOOST_TEST((std::is_same_v<decltype(nn::sequential(net128, net129)(X)), whole>));
}
