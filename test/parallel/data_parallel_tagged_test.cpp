// ctgrad/parallel: data_parallel's flat gradient looked up by parameters that packs list with a
// role tag (ctgrad::tagged_variable: batch normalisation's scale and shift), in both forms of
// data_parallel (the input layer split, chosen by the default strategy for this network, and
// strategy::replicate): `g[v]` by the plain variable (`bn::gamma`), by the tagged type the
// pack lists, and by the variable nn::parameters::for_each passes, all the same memory; the
// gradient within 1e-5 of the mean of one program's gradients over the two halves; an
// optimizer step (nn::sgd) from it equal to p − lr·g element for element.
#define BOOST_TEST_MODULE parallel_data_parallel_tagged
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;

namespace {

constexpr std::size_t shard = 4, in = 64, hidden = 8, out = 3;
using bn = nn::batch_norm<"bn", hidden, float>;
constexpr auto net = nn::sequential(nn::dense<"fc1", in, hidden, float>{}, bn{}, nn::relu,
                                    nn::dense<"fc2", hidden, out, float>{});
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, shard, in>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, shard, out>>;
// inference mode: the running estimates are read, not written, so the shards may share them
constexpr auto loss = ctgrad::softmax_cross_entropy(net.inference(X), Y);

using pack = nn::parameters_of<decltype(net)>;
/// The tagged types the pack lists for batch norm's scale and shift.
using tagged_gamma =
    ctgrad::detail::at_t<nn::detail::batch_norm_variables<"bn", hidden, float>::parameters, 0>;
using tagged_beta =
    ctgrad::detail::at_t<nn::detail::batch_norm_variables<"bn", hidden, float>::parameters, 1>;
static_assert(!std::is_same_v<tagged_gamma, ctgrad::detail::untagged_t<tagged_gamma>>,
              "the pack lists batch norm's scale with its role tag");
static_assert(std::is_same_v<ctgrad::detail::untagged_t<tagged_gamma>,
                             std::remove_cvref_t<decltype(bn::gamma)>>);

template <par::strategy How>
void check_form(bool split) {
    std::mt19937 gen(11);
    ctgrad::tensor<float, 2 * shard, in> x;
    ctgrad::tensor<float, 2 * shard, out> y;
    for (auto& v : x) v = float(double(gen()) * 0x1p-32 - 0.5);
    for (std::size_t r = 0; r < 2 * shard; ++r) y(r, gen() % out) = 1.0f;
    pack params;
    nn::init::he(params, 3);
    // a scale and shift away from 1 and 0, so that their gradients are not trivial
    for (std::size_t c = 0; c < hidden; ++c) {
        params[bn::gamma](c) = 0.75f + 0.125f * float(c);
        params[bn::beta](c) = 0.0625f * float(c) - 0.25f;
    }
    nn::state_of<decltype(net)> st;
    for (std::size_t c = 0; c < hidden; ++c) {
        st[bn::running_mean](c) = 0.01f * float(c);
        st[bn::running_var](c) = 0.5f + 0.1f * float(c);
    }

    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2, How>(pool, loss, params.wrt());
    BOOST_TEST(decltype(dp)::splits_input_layer == split);
    const auto& g = dp.gradient(params, st, par::rows(X, x), par::rows(Y, y));

    // the same memory whichever way the variable is named
    BOOST_TEST(g[bn::gamma].data() == g[tagged_gamma{}].data());
    BOOST_TEST(g[bn::beta].data() == g[tagged_beta{}].data());
    std::size_t seen = 0;
    params.for_each([&](auto v, const auto&) {
        if constexpr (std::is_same_v<decltype(v), tagged_gamma> ||
                      std::is_same_v<decltype(v), std::remove_cvref_t<decltype(bn::gamma)>>) {
            BOOST_TEST(g[v].data() == g[bn::gamma].data());
            ++seen;
        }
    });
    BOOST_TEST(seen == 1u);

    // against one program over each half (batch norm in inference mode: the shards' mean)
    ctgrad::program one(loss, params.wrt());
    std::vector<float> want(params.count(), 0.0f);
    for (std::size_t k = 0; k < 2; ++k) {
        const ctgrad::tensor_view<const float, shard, in> xk(x.data() + k * shard * in);
        const ctgrad::tensor_view<const float, shard, out> yk(y.data() + k * shard * out);
        const auto& gk = one.gradient(params, st, X = xk, Y = yk);
        std::size_t i = 0;
        params.for_each([&](auto v, const auto&) {
            for (const float e : gk[v]) want[i++] += e / 2;
        });
    }
    std::size_t i = 0;
    double largest = 0;
    for (const float w : want) largest = std::max(largest, double(std::abs(w)));
    params.for_each([&](auto v, const auto&) {
        for (const float e : g[v]) {
            BOOST_TEST(std::abs(double(e) - double(want[i])) <= 1e-5 * largest);
            ++i;
        }
    });
    BOOST_TEST(i == params.count());
    float gamma_grad = 0;
    for (const float e : g[bn::gamma]) gamma_grad = std::max(gamma_grad, std::abs(e));
    BOOST_TEST(gamma_grad > 0.0f);

    // an optimizer step from the flat gradient: every parameter p − lr·g, the tagged included
    const pack before = params;
    nn::sgd opt(params, {.lr = 0.5f});
    opt.step(params, g);
    params.for_each([&](auto v, const auto& t) {
        const auto& b = before[v];
        const auto& d = g[v];
        for (std::size_t e = 0; e < t.size(); ++e) {
            BOOST_TEST(t.data()[e] == b.data()[e] - 0.5f * d.data()[e]);
        }
    });
}

}  // namespace

BOOST_AUTO_TEST_CASE(tagged_parameters_in_the_split_form) {
    check_form<par::strategy::automatic>(true);
}

BOOST_AUTO_TEST_CASE(tagged_parameters_in_the_replicated_form) {
    check_form<par::strategy::replicate>(false);
}
