// An outside tester's data-parallel cases (ninth pass), through the public API only
// (docs/parallel.md), with shard counts and batch sizes the other suites do not use: 3 shards of
// 7 rows, 7 shards of 1 row, 2 shards of 17 rows (one whole program per shard, a 9-5-2 sigmoid
// network), a sum-reduced loss over 3 shards, and the split input layer (a 70-9-3 network whose
// first layer holds most parameters) over 3 shards of 5 rows and 4 shards of 1 row, on 1 to 4
// threads. Each gradient must be bit-identical for every thread count and run, equal to one
// program over the whole batch up to float rounding; gradient_then must hand every element of
// every gradient to the update exactly once; the split form's sgd_step must equal its gradient
// followed by the same step.
#define BOOST_TEST_MODULE parallel_review9_threads
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/input_split.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;
using std::size_t;

namespace {

constexpr auto small =
    nn::sequential(nn::dense<"s1", 9, 5>{}, nn::sigmoid, nn::dense<"s2", 5, 2>{});
using w1 = nn::dense<"w1", 70, 9>;
using w2 = nn::dense<"w2", 9, 3>;
constexpr auto wide = nn::sequential(w1{}, nn::relu, w2{});

template <size_t R, size_t I>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, R, I>>;
template <size_t R, size_t O>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, R, O>>;

template <size_t B, size_t I, size_t O>
struct data {
    ctgrad::tensor<float, B, I> x;
    ctgrad::tensor<float, B, O> y{};
    data() {
        for (size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 53) % 17) / 9.f - 0.8f;
        for (size_t r = 0; r < B; ++r) y(r, (r * 7 + 1) % O) = 1;
    }
};

enum class loss_kind { ce, sum_squares };

template <loss_kind L, class Net, class XV, class YV>
constexpr auto make_loss(const Net& net, XV x, YV y) {
    if constexpr (L == loss_kind::ce) {
        return ctgrad::softmax_cross_entropy(net(x), y);
    } else {
        return ctgrad::sum(ctgrad::square(net(x) - y));
    }
}

/// The gradient of the whole batch in one program against data_parallel<Shards> on 1..4 threads.
template <size_t Shards, size_t B, size_t I, size_t O, loss_kind L, par::strategy How, bool Split,
          class Net>
void check(const Net& net) {
    constexpr size_t S = B / Shards;
    static_assert(S * Shards == B);
    BOOST_TEST_CONTEXT(Shards << " shards of " << S << " rows" << (Split ? ", split" : "")) {
        nn::parameters_of<Net> p;
        nn::init::he(p, 5 + Shards);
        const data<B, I, O> d;
        ctgrad::program whole(make_loss<L>(net, X<B, I>, Y<B, O>), p.wrt());
        const auto gw = whole.gradient(p, X<B, I> = d.x, Y<B, O> = d.y);
        ctgrad::program shard(make_loss<L>(net, X<S, I>, Y<S, O>), p.wrt());
        std::vector<float> first;
        for (size_t threads = 1; threads <= 4; ++threads) {
            BOOST_TEST_CONTEXT(threads << " threads") {
                par::thread_pool pool(threads);
                auto dp = par::make_data_parallel<Shards, How>(
                    pool, make_loss<L>(net, X<S, I>, Y<S, O>), p.wrt(),
                    L == loss_kind::ce ? par::reduction::mean : par::reduction::sum);
                static_assert(decltype(dp)::splits_input_layer == Split);
                for (int run = 0; run < 2; ++run) {
                    const auto& g =
                        dp.gradient(p, par::rows(X<S, I>, d.x), par::rows(Y<S, O>, d.y));
                    std::vector<float> now(g.data(), g.data() + g.size());
                    if (first.empty()) first = now;
                    BOOST_TEST_REQUIRE(now.size() == first.size());
                    BOOST_TEST(
                        std::memcmp(now.data(), first.data(), now.size() * sizeof(float)) == 0,
                        "not bit-identical to one thread's first run");
                    BOOST_TEST(std::abs(double(g.value) - double(gw.value)) <=
                               2e-6 * std::abs(double(gw.value)));
                    for (size_t k = 0; k < Shards; ++k) {
                        const auto gk =
                            shard.gradient(p, X<S, I> = ctgrad::view<S, I>(d.x.data() + S * I * k),
                                           Y<S, O> = ctgrad::view<S, O>(d.y.data() + S * O * k));
                        BOOST_TEST(std::abs(dp.shard_value(k) - gk.value) <=
                                   1e-6f * std::abs(gk.value));
                    }
                    size_t params = 0;
                    p.for_each([&](auto v, const auto&) {
                        double diff = 0, scale = 0;
                        for (size_t i = 0; i < gw[v].size(); ++i) {
                            diff =
                                std::max(diff, double(std::abs(g[v].data()[i] - gw[v].data()[i])));
                            scale = std::max(scale, double(std::abs(gw[v].data()[i])));
                        }
                        BOOST_TEST(diff <= 2e-6 * scale, "parameter " << params << ": " << diff);
                        BOOST_TEST(scale > 1e-5);
                        ++params;
                    });
                    BOOST_TEST(params == 4u);
                }
                // gradient_then: every element of every variable exactly once (positions in
                // the one flat gradient buffer, variables in wrt order)
                const auto& res = dp.result();
                std::vector<int> seen(res.size(), 0), wanted(res.size(), 0);
                p.for_each([&](auto v, const auto&) {
                    const size_t at = size_t(res[v].data() - res.data());
                    for (size_t e = 0; e < res[v].size(); ++e) wanted[at + e] = 1;
                });
                std::atomic<bool> out_of_range{false};
                dp.gradient_then(
                    [&](auto v, size_t first_e, size_t count) {
                        const size_t at = size_t(dp.result()[v].data() - dp.result().data());
                        // (on the pool's threads: no Boost.Test calls here)
                        if (first_e + count > dp.result()[v].size()) {
                            out_of_range = true;
                            return;
                        }
                        for (size_t e = first_e; e < first_e + count; ++e) ++seen[at + e];
                    },
                    p, par::rows(X<S, I>, d.x), par::rows(Y<S, O>, d.y));
                BOOST_TEST(!out_of_range);
                BOOST_TEST(seen == wanted, "not every gradient element handed over exactly once");
                BOOST_TEST(std::count(wanted.begin(), wanted.end(), 1) > 0);
            }
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(replicated_three_seven_and_two_shards) {
    check<3, 21, 9, 2, loss_kind::ce, par::strategy::replicate, false>(small);
    check<7, 7, 9, 2, loss_kind::ce, par::strategy::automatic, false>(small);
    check<2, 34, 9, 2, loss_kind::ce, par::strategy::replicate, false>(small);
}

BOOST_AUTO_TEST_CASE(sum_reduction_three_shards) {
    check<3, 21, 9, 2, loss_kind::sum_squares, par::strategy::replicate, false>(small);
}

BOOST_AUTO_TEST_CASE(split_input_layer_three_and_four_shards) {
    check<3, 15, 70, 3, loss_kind::ce, par::strategy::automatic, true>(wide);
    check<4, 4, 70, 3, loss_kind::ce, par::strategy::automatic, true>(wide);
    // the same network kept whole per shard: the same gradient up to rounding
    check<3, 15, 70, 3, loss_kind::ce, par::strategy::replicate, false>(wide);
}

BOOST_AUTO_TEST_CASE(split_sgd_step_equals_gradient_then_step) {
    using pack = nn::parameters_of<decltype(wide)>;
    pack p;
    nn::init::he(p, 11);
    pack q = p;
    const data<15, 70, 3> d;
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<3>(
        pool, ctgrad::softmax_cross_entropy(wide(X<5, 70>), Y<5, 3>), p.wrt());
    static_assert(decltype(dp)::splits_input_layer);
    for (int t = 0; t < 3; ++t) {
        // q: gradient, then p − 0.1·g by hand
        const auto& g = dp.gradient(q, par::rows(X<5, 70>, d.x), par::rows(Y<5, 3>, d.y));
        const float value = g.value;
        q.for_each([&](auto v, auto& w) {
            for (size_t i = 0; i < w.size(); ++i) w.data()[i] -= 0.1f * g[v].data()[i];
        });
        // p: sgd_step
        const float pv = dp.sgd_step(0.1f, par::rows(X<5, 70>, d.x), par::rows(Y<5, 3>, d.y),
                                     w1::W = std::ref(p[w1::W]), w1::b = std::ref(p[w1::b]),
                                     w2::W = std::ref(p[w2::W]), w2::b = std::ref(p[w2::b]));
        BOOST_TEST(std::abs(pv - value) <= 1e-6f * std::abs(value), "step " << t);
        p.for_each([&](auto v, const auto& w) {
            double diff = 0;
            for (size_t i = 0; i < w.size(); ++i) {
                diff = std::max(diff, double(std::abs(w.data()[i] - q[v].data()[i])));
            }
            BOOST_TEST(diff <= 1e-6, "step " << t << ": " << diff);
        });
    }
}
