// An outside reviewer's data-parallel check through the public API (docs/parallel.md): a
// 7-13-3 tanh network with parameter sizes that are not multiples of anything (91, 13, 39, 3),
// a batch of 15 rows in 5 shards of 3, on thread pools of 1 to 6 threads (fewer threads than
// shards, as many, more). The gradient must be bit-identical for every thread count and from
// run to run, equal to one program over the 15 rows up to float rounding, and equal, shard by
// shard, to a program over that shard's rows; the evaluator must visit every index exactly once
// for counts 0, 1, fewer than and more than the threads.
#define BOOST_TEST_MODULE parallel_review_threads
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;

namespace {

constexpr auto net = nn::sequential(nn::dense<"fc1", 7, 13>{}, nn::tanh, nn::dense<"fc2", 13, 3>{});
template <std::size_t R>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, R, 7>>;
template <std::size_t R>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, R, 3>>;
using pack = nn::parameters_of<decltype(net)>;

struct data {
    ctgrad::tensor<float, 15, 7> x;
    ctgrad::tensor<float, 15, 3> y{};
    data() {
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 37) % 11) / 7.f - 0.6f;
        for (std::size_t i = 0; i < 15; ++i) y(i, (i * 2) % 3) = 1;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(five_shards_on_one_to_six_threads) {
    pack p;
    nn::init::he(p, 3);
    const data d;

    // references: the whole batch, and each shard on its own (mean over its 3 rows)
    ctgrad::program whole(ctgrad::softmax_cross_entropy(net(X<15>), Y<15>), p.wrt());
    const auto gw = whole.gradient(p, X<15> = d.x, Y<15> = d.y);
    ctgrad::program shard(ctgrad::softmax_cross_entropy(net(X<3>), Y<3>), p.wrt());
    std::vector<double> shard_sum(5, 0.0);
    pack mean_of_shards;  // Σ_k g_k / 5, in the shards' order, in float as the reduction
    for (std::size_t k = 0; k < 5; ++k) {
        const auto gk = shard.gradient(p, X<3> = ctgrad::view<3, 7>(d.x.data() + 21 * k),
                                       Y<3> = ctgrad::view<3, 3>(d.y.data() + 9 * k));
        shard_sum[k] = gk.value;
        p.for_each([&](auto v, const auto&) {
            for (std::size_t i = 0; i < mean_of_shards[v].size(); ++i) {
                mean_of_shards[v].data()[i] += gk[v].data()[i];
            }
        });
    }

    std::vector<float> first;
    for (std::size_t threads = 1; threads <= 6; ++threads) {
        BOOST_TEST_CONTEXT(threads << " threads") {
            par::thread_pool pool(threads);
            auto dp = par::make_data_parallel<5>(
                pool, ctgrad::softmax_cross_entropy(net(X<3>), Y<3>), p.wrt());
            for (int run = 0; run < 2; ++run) {
                const auto& g = dp.gradient(p, par::rows(X<3>, d.x), par::rows(Y<3>, d.y));
                std::vector<float> now(g.data(), g.data() + g.size());
                if (first.empty()) first = now;
                BOOST_TEST(now.size() == first.size());
                BOOST_TEST(std::memcmp(now.data(), first.data(), now.size() * sizeof(float)) == 0,
                           "not bit-identical to one thread's first run");
                for (std::size_t k = 0; k < 5; ++k) {
                    BOOST_TEST(dp.shard_value(k) == float(shard_sum[k]));
                }
                // the mean over 15 rows, as one program over them (order of sums aside)
                BOOST_TEST(std::abs(double(g.value) - double(gw.value)) <=
                           1e-6 * std::abs(gw.value));
                std::size_t params = 0;
                p.for_each([&](auto v, const auto&) {
                    double diff = 0, scale = 0, diff_shards = 0;
                    for (std::size_t i = 0; i < gw[v].size(); ++i) {
                        diff = std::max(diff, double(std::abs(g[v].data()[i] - gw[v].data()[i])));
                        scale = std::max(scale, double(std::abs(gw[v].data()[i])));
                        diff_shards = std::max(
                            diff_shards,
                            double(std::abs(g[v].data()[i] - mean_of_shards[v].data()[i] / 5)));
                    }
                    BOOST_TEST(diff <= 1e-6 * scale, "parameter " << params << ": " << diff);
                    BOOST_TEST(diff_shards <= 1e-6 * scale, "parameter " << params);
                    BOOST_TEST(scale > 1e-4);
                    ++params;
                });
                BOOST_TEST(params == 4u);
            }

            par::evaluator eval(pool, net(X<3>));
            for (std::size_t count :
                 {std::size_t{0}, std::size_t{1}, std::size_t{2}, threads, std::size_t{7}}) {
                std::vector<int> hits(count, 0);
                std::vector<float> out(count, 0.f);
                eval.for_each(count, [&](auto& prog, std::size_t i) {
                    const auto o =
                        prog.value(p, X<3> = ctgrad::view<3, 7>(d.x.data() + 21 * (i % 5)));
                    out[i] = o(2, 1);
                    ++hits[i];
                });
                for (std::size_t i = 0; i < count; ++i) {
                    BOOST_TEST(hits[i] == 1, "index " << i << " of " << count);
                    BOOST_TEST(out[i] == out[i % 5]);  // same rows, same program: same bits
                }
            }
        }
    }
}
