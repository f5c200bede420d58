// ctgrad/detail/random.hpp: the engine gives std::mt19937_64's numbers and the distributions
// libstdc++'s, so nn::initialize, nn::batches and nn::augment draw what they drew with <random>.
#define BOOST_TEST_MODULE nn_random
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <ctgrad/detail/random.hpp>
#include <ctgrad/nn/data.hpp>

namespace detail = ctgrad::detail;

static_assert(detail::mt19937_64::min() == std::mt19937_64::min());
static_assert(detail::mt19937_64::max() == std::mt19937_64::max());
static_assert(detail::mt19937_64::default_seed == std::mt19937_64::default_seed);

BOOST_AUTO_TEST_CASE(engine_matches_the_standard) {
    // The standard's own check ([rand.predef]): the 10000th number of a default-constructed
    // mt19937_64.
    detail::mt19937_64 g;
    g.discard(9999);
    BOOST_TEST(g() == 9981545732273789042ull);
    for (const std::uint64_t seed : {0ull, 1ull, 42ull, 0xffffffffffffffffull}) {
        std::mt19937_64 a(seed);
        detail::mt19937_64 b(seed);
        std::size_t differ = 0;
        for (int i = 0; i < 2000; ++i) differ += a() != b();
        BOOST_TEST(differ == 0u);
    }
}

BOOST_AUTO_TEST_CASE(known_answers) {
    // Written down from std::mt19937_64 with libstdc++ 12's uniform_real_distribution<double>,
    // normal_distribution<double> and std::shuffle: the numbers nn:: drew before, on any
    // standard library.
    detail::mt19937_64 a(3);
    const detail::uniform_real u{-0.25, 0.75};
    BOOST_TEST(u(a) == 0x1.3c2d26ce31cbep-2);
    BOOST_TEST(u(a) == -0x1.bc4da671e06ccp-5);
    BOOST_TEST(u(a) == 0x1.5c6835386bd56p-2);
    detail::mt19937_64 b(3);
    detail::normal z(0.5, 2.0);
    BOOST_TEST(z(b) == -0x1.1bbcb62cf00fep+1);
    BOOST_TEST(z(b) == 0x1.065650be4b94ep+0);
    BOOST_TEST(z(b) == -0x1.8072badc704c3p+1);
    ctgrad::nn::batches<2, 10> even(17);  // an even count: one single swap first
    even.shuffle();
    const std::size_t even_order[] = {3, 1, 0, 8, 6, 9, 2, 4, 5, 7};
    for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(even[i] == even_order[i]);
    ctgrad::nn::batches<2, 11> odd(17);
    odd.shuffle();
    const std::size_t odd_order[] = {4, 6, 1, 9, 5, 7, 2, 3, 0, 8, 10};
    for (std::size_t i = 0; i < 11; ++i) BOOST_TEST(odd[i] == odd_order[i]);
}

// The installed libstdc++'s own (releases other than 12 may draw differently).
#if defined(__GLIBCXX__) && _GLIBCXX_RELEASE == 12
BOOST_AUTO_TEST_CASE(distributions_match_libstdcxx) {
    for (const std::uint64_t seed : {3ull, 1234567ull}) {
        std::mt19937_64 a(seed);
        detail::mt19937_64 b(seed);
        std::uniform_real_distribution<double> ua(-0.25, 0.75);
        const detail::uniform_real ub{-0.25, 0.75};
        std::normal_distribution<double> na(0.5, 2.0);
        detail::normal nb(0.5, 2.0);
        std::size_t differ = 0;
        for (int i = 0; i < 1001; ++i) {  // odd: the normal pair's saved half is used and dropped
            differ += ua(a) != ub(b);
            differ += na(a) != nb(b);
        }
        BOOST_TEST(differ == 0u);
    }
}

BOOST_AUTO_TEST_CASE(batches_order_is_std_shuffle_of_mt19937_64) {
    constexpr std::size_t n = 300;
    ctgrad::nn::batches<32, n> order(17);
    std::vector<std::uint32_t> expected(n);
    std::iota(expected.begin(), expected.end(), std::uint32_t{0});
    std::mt19937_64 gen(17);
    for (int epoch = 0; epoch < 3; ++epoch) {
        order.shuffle();
        std::shuffle(expected.begin(), expected.end(), gen);
        std::size_t differ = 0;
        for (std::size_t i = 0; i < n; ++i) differ += order[i] != expected[i];
        BOOST_TEST(differ == 0u);
    }
}
#endif

BOOST_AUTO_TEST_CASE(draws_are_in_range) {
    detail::mt19937_64 g(5);
    const detail::uniform_real u{-2.0, 3.0};
    detail::normal z(0.0, 1.0);
    double sum = 0, sum2 = 0;
    constexpr int count = 20000;
    for (int i = 0; i < count; ++i) {
        const double c = detail::canonical(g), x = u(g), y = z(g);
        BOOST_TEST((c >= 0.0 && c < 1.0));
        BOOST_TEST((x >= -2.0 && x < 3.0));
        sum += y;
        sum2 += y * y;
    }
    BOOST_TEST(std::abs(sum / count) < 0.05);         // mean 0 (sd of the mean 0.007)
    BOOST_TEST(std::abs(sum2 / count - 1.0) < 0.05);  // variance 1
}
