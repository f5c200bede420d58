// ctgrad/parallel/sampler.hpp: distributed_batches visits nn::batches' order (the same seed,
// the same epochs), rank r of P reads rows [r·L, (r + 1)·L) of every global batch of L·P, the
// ranks' parts are disjoint and cover the full global batches, and a bad rank is refused.
#define BOOST_TEST_MODULE parallel_sampler
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <stdexcept>
#include <vector>

#include <ctgrad/nn/data.hpp>
#include <ctgrad/parallel/sampler.hpp>

namespace par = ctgrad::parallel;

BOOST_AUTO_TEST_CASE(ranks_split_the_global_batches_of_nn_batches) {
    constexpr std::size_t n = 50, local = 4, ranks = 3,
                          global = local * ranks;  // 4 batches, 2 left
    std::vector<float> src(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        src[2 * i] = float(i);
        src[2 * i + 1] = float(i) + 0.5f;
    }
    ctgrad::nn::batches<global, n> whole(11);
    std::vector<par::distributed_batches<local, n>> parts;
    for (std::size_t r = 0; r < ranks; ++r) parts.emplace_back(11, r, ranks);
    for (int epoch = 0; epoch < 3; ++epoch) {
        whole.shuffle();
        for (auto& p : parts) p.shuffle();
        std::vector<int> seen(n, 0);
        for (std::size_t k = 0; k < n / global; ++k) {
            ctgrad::tensor<float, global, 2> all;
            whole.gather(k, src.data(), all);
            for (std::size_t r = 0; r < ranks; ++r) {
                BOOST_TEST(parts[r].batches() == n / global);
                ctgrad::tensor<float, local, 2> mine;
                parts[r].gather(k, src.data(), mine);
                for (std::size_t i = 0; i < local; ++i) {
                    BOOST_TEST(mine(i, 0) == all(r * local + i, 0));
                    BOOST_TEST(mine(i, 1) == all(r * local + i, 1));
                    BOOST_TEST(parts[r].sample(k, i) == std::size_t(mine(i, 0)));
                    ++seen[std::size_t(mine(i, 0))];
                }
            }
        }
        std::size_t once = 0;
        for (const int s : seen) {
            BOOST_TEST(s <= 1);
            once += std::size_t(s);
        }
        BOOST_TEST(once == n / global * global);
        for (std::size_t i = 0; i < n; ++i) BOOST_TEST(parts[1][i] == whole[i]);
    }
}

BOOST_AUTO_TEST_CASE(a_bad_rank_is_refused) {
    using d = par::distributed_batches<4, 10>;
    BOOST_CHECK_THROW(d(1, 2, 2), std::invalid_argument);  // rank ≥ ranks
    BOOST_CHECK_THROW(d(1, 0, 0), std::invalid_argument);  // no ranks
    BOOST_CHECK_THROW(d(1, 0, 3), std::invalid_argument);  // 12 > 10 samples
    BOOST_CHECK_NO_THROW(d(1, 1, 2));
}
