// ctgrad/parallel/threads.hpp: data-parallel gradients on several threads against one program
// over the whole batch (float: within 1e-6 of the largest entry of each gradient; an independent
// double-precision gradient bounds both), bit-identical results for every thread count and from
// run to run, no allocation per step, flush-to-zero in every thread, the pool's errors and
// barrier, and inference over independent batches.
#define BOOST_TEST_MODULE parallel_threads
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/threads.hpp>

#include "support/counting_new.hpp"  // ctgrad::test::allocations

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;
using ctgrad::test::allocations;

namespace {

constexpr std::size_t batch = 256, in = 784, hidden = 100, out = 10;

template <class T>
using fc1 = nn::dense<"fc1", in, hidden, T>;
template <class T>
using fc2 = nn::dense<"fc2", hidden, out, T>;
template <class T>
constexpr auto net = nn::sequential(fc1<T>{}, nn::relu, fc2<T>{});
template <class T, std::size_t B>
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, B, in>>;
template <class T, std::size_t B>
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<T, B, out>>;
template <class T, std::size_t B>
constexpr auto loss = ctgrad::softmax_cross_entropy(net<T>(X<T, B>), Y<T, B>);

/// A batch of pixel-like inputs and one-hot targets, and He-initialized parameters.
template <class T>
struct problem {
    std::unique_ptr<ctgrad::tensor<T, batch, in>> x =
        std::make_unique<ctgrad::tensor<T, batch, in>>();
    std::unique_ptr<ctgrad::tensor<T, batch, out>> y =
        std::make_unique<ctgrad::tensor<T, batch, out>>();
    nn::parameters_of<decltype(net<T>)> params;

    explicit problem(unsigned seed) {
        std::mt19937 gen(seed);
        for (auto& v : *x) v = T(double(gen()) * 0x1p-32);
        for (std::size_t r = 0; r < batch; ++r) (*y)(r, gen() % out) = T(1);
        nn::init::he(params, seed);
    }
};

/// The largest |a − b| over a tensor, relative to the largest |b|.
template <class A, class B>
double relative_difference(const A& a, const B& b) {
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::abs(double(a.data()[i]) - double(b.data()[i])));
        scale = std::max(scale, std::abs(double(b.data()[i])));
    }
    return worst / scale;
}

template <class G>
std::vector<float> flat_copy(const G& g) {
    return std::vector<float>(g.data(), g.data() + g.size());
}

}  // namespace

/// The variable of the double network with the name of float variable V.
template <class V>
struct as_double;
template <ctgrad::fixed_string N, std::size_t... D>
struct as_double<ctgrad::variable<N, ctgrad::tensor<float, D...>>> {
    using type = ctgrad::variable<N, ctgrad::tensor<double, D...>>;
};

/// The float parameters of p copied into a double pack.
nn::parameters_of<decltype(net<double>)> in_double(
    const nn::parameters_of<decltype(net<float>)>& p) {
    std::vector<std::vector<double>> values;
    p.for_each([&](auto, const auto& t) { values.emplace_back(t.begin(), t.end()); });
    nn::parameters_of<decltype(net<double>)> d;
    std::size_t k = 0;
    d.for_each([&](auto, auto& t) {
        std::copy(values[k].begin(), values[k].end(), t.begin());
        ++k;
    });
    return d;
}

BOOST_AUTO_TEST_CASE(shards_match_one_program_over_the_whole_batch) {
    problem<float> p(11);
    const auto w = p.params.wrt();
    ctgrad::program whole(loss<float, batch>, w);
    const auto g1 = whole.gradient(p.params, X<float, batch> = *p.x, Y<float, batch> = *p.y);

    // the independent reference: one program over the whole batch in double
    const auto pd = in_double(p.params);
    auto xd = std::make_unique<ctgrad::tensor<double, batch, in>>();
    auto yd = std::make_unique<ctgrad::tensor<double, batch, out>>();
    std::copy(p.x->begin(), p.x->end(), xd->begin());
    std::copy(p.y->begin(), p.y->end(), yd->begin());
    ctgrad::program exact(loss<double, batch>, pd.wrt());
    const auto gd = exact.gradient(pd, X<double, batch> = *xd, Y<double, batch> = *yd);
    BOOST_TEST(std::abs(g1.value - gd.value) <= 1e-6 * std::abs(gd.value));

    std::vector<float> first;  // the 4-shard gradient of the first thread count
    for (std::size_t threads : {1u, 2u, 3u, 4u}) {
        par::thread_pool pool(threads);
        auto dp2 = par::make_data_parallel<2>(pool, loss<float, batch / 2>, w);
        auto dp4 = par::make_data_parallel<4>(pool, loss<float, batch / 4>, w);
        BOOST_TEST(dp4.threads() == threads);
        const auto& a = dp2.gradient(p.params, par::rows(X<float, batch / 2>, *p.x),
                                     par::rows(Y<float, batch / 2>, *p.y));
        BOOST_TEST(std::abs(a.value - g1.value) <= 1e-6 * std::abs(g1.value));
        const auto& b = dp4.gradient(p.params, par::rows(X<float, batch / 4>, *p.x),
                                     par::rows(Y<float, batch / 4>, *p.y));
        BOOST_TEST(std::abs(b.value - g1.value) <= 1e-6 * std::abs(g1.value));
        std::size_t k = 0;
        p.params.for_each([&](auto v, const auto&) {
            // the float results, whole or sharded, against each other and against double
            const auto vd = typename as_double<decltype(v)>::type{};
            BOOST_TEST(relative_difference(g1[v], gd[vd]) <= 1e-6);
            BOOST_TEST(relative_difference(a[v], g1[v]) <= 1e-6);
            BOOST_TEST(relative_difference(b[v], g1[v]) <= 1e-6);
            BOOST_TEST(relative_difference(a[v], gd[vd]) <= 1e-6);
            ++k;
        });
        BOOST_TEST(k == 4u);
        const auto flat = flat_copy(b);
        if (first.empty()) {
            first = flat;
        } else {
            // the same shards reduced in the same order: the same bits for every thread count
            BOOST_TEST(std::memcmp(first.data(), flat.data(), first.size() * sizeof(float)) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_same_bits_from_run_to_run) {
    problem<float> p(12);
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    std::vector<float> first;
    for (int run = 0; run < 20; ++run) {
        const auto& g = dp.gradient(p.params, par::rows(X<float, batch / 2>, *p.x),
                                    par::rows(Y<float, batch / 2>, *p.y));
        const auto flat = flat_copy(g);
        if (run == 0) {
            first = flat;
        } else {
            BOOST_TEST(std::memcmp(first.data(), flat.data(), first.size() * sizeof(float)) == 0);
        }
    }
}

namespace {
// A loss that sums over the samples: the shards' gradients add up.
constexpr auto Xs = ctgrad::var<"Xs", ctgrad::tensor<double, 12, 5>>;
constexpr auto Ys = ctgrad::var<"Ys", ctgrad::tensor<double, 12, 3>>;
constexpr auto Xh = ctgrad::var<"Xh", ctgrad::tensor<double, 4, 5>>;
constexpr auto Yh = ctgrad::var<"Yh", ctgrad::tensor<double, 4, 3>>;
constexpr auto small =
    nn::sequential(nn::dense<"a", 5, 7, double>{}, nn::tanh, nn::dense<"b", 7, 3, double>{});
}  // namespace

BOOST_AUTO_TEST_CASE(a_summed_loss_adds_the_shards) {
    nn::parameters_of<decltype(small)> params;
    nn::init::xavier(params, 3);
    ctgrad::tensor<double, 12, 5> x{};
    ctgrad::tensor<double, 12, 3> y{};
    std::mt19937 gen(5);
    for (auto& v : x) v = double(gen()) * 0x1p-31 - 1.0;
    for (auto& v : y) v = double(gen()) * 0x1p-32 - 0.5;
    ctgrad::program whole(ctgrad::sum(ctgrad::square(small(Xs) - Ys)), params.wrt());
    const auto g = whole.gradient(params, Xs = x, Ys = y);
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<3>(pool, ctgrad::sum(ctgrad::square(small(Xh) - Yh)),
                                         params.wrt(), par::reduction::sum);
    const auto& s = dp.gradient(params, par::rows(Xh, x), par::rows(Yh, y));
    BOOST_TEST(std::abs(s.value - g.value) <= 1e-13 * std::abs(g.value));
    double sum_of_shards = 0;
    for (std::size_t k = 0; k < 3; ++k) sum_of_shards += dp.shard_value(k);
    BOOST_TEST(sum_of_shards == s.value);
    params.for_each(
        [&](auto v, const auto&) { BOOST_TEST(relative_difference(s[v], g[v]) <= 1e-13); });
    // with a mean reduction the same shards give a third of it
    auto dm =
        par::make_data_parallel<3>(pool, ctgrad::sum(ctgrad::square(small(Xh) - Yh)), params.wrt());
    const auto& m = dm.gradient(params, par::rows(Xh, x), par::rows(Yh, y));
    BOOST_TEST(std::abs(3 * m.value - g.value) <= 1e-13 * std::abs(g.value));
}

BOOST_AUTO_TEST_CASE(training_steps_do_not_allocate_and_train) {
    problem<float> p(13);
    auto reference = p.params;  // trained on one program over the whole batch
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    ctgrad::program whole(loss<float, batch>, p.params.wrt());
    nn::adam opt(p.params, {.lr = 1e-3f});
    nn::adam ref_opt(reference, {.lr = 1e-3f});
    const auto xs = par::rows(X<float, batch / 2>, *p.x);
    const auto ys = par::rows(Y<float, batch / 2>, *p.y);
    opt.step(p.params, dp.gradient(p.params, xs, ys));  // a first step outside the count

    const std::size_t before = allocations.load();
    float first = 0, last = 0;
    for (int step = 0; step < 20; ++step) {
        const auto& g = dp.gradient(p.params, xs, ys);
        (step == 0 ? first : last) = g.value;
        opt.step(p.params, g);
    }
    BOOST_TEST(allocations.load() - before == 0u);
    BOOST_TEST(last < 0.8f * first);  // the steps did train (2.38 to 1.72)

    for (int step = 0; step < 21; ++step) {
        ref_opt.step(reference,
                     whole.gradient(reference, X<float, batch> = *p.x, Y<float, batch> = *p.y));
    }
    // 21 Adam steps (≈ lr·sign(g) each) from the same start: the same parameters up to the
    // rounding of the reductions
    p.params.for_each(
        [&](auto v, const auto& t) { BOOST_TEST(relative_difference(t, reference[v]) <= 1e-4); });
}

BOOST_AUTO_TEST_CASE(an_update_on_the_reducing_threads_equals_one_after_the_job) {
    problem<float> p(15);
    auto q = p.params;
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    const auto xs = par::rows(X<float, batch / 2>, *p.x);
    const auto ys = par::rows(Y<float, batch / 2>, *p.y);
    const float lr = 0.1f;
    std::atomic<std::size_t> updated{0};
    for (int step = 0; step < 3; ++step) {
        // p: SGD on the threads, slice by slice; q: the same SGD after the job
        const auto& a = dp.gradient_then(
            [&](auto v, std::size_t first, std::size_t count) {
                float* pd = p.params[v].data() + first;
                const float* gd = dp.result()[v].data() + first;
                for (std::size_t i = 0; i < count; ++i) pd[i] -= lr * gd[i];
                updated += count;
            },
            p.params, xs, ys);
        const float va = a.value;
        const auto& b = dp.gradient(q, xs, ys);
        BOOST_TEST(b.value == va);
        nn::sgd_step(q, b, lr);
    }
    BOOST_TEST(updated.load() == 3 * p.params.count());  // every element, once per step
    p.params.for_each([&](auto v, const auto& t) {
        BOOST_TEST(std::memcmp(t.data(), q[v].data(), t.size() * sizeof(float)) == 0);
    });
}

BOOST_AUTO_TEST_CASE(shards_prepare_their_own_rows) {
    // prepare(k) fills shard k's rows of the batch on the shard's thread before its gradient
    problem<float> p(16);
    auto x = std::make_unique<ctgrad::tensor<float, batch, in>>();
    auto y = std::make_unique<ctgrad::tensor<float, batch, out>>();
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<4>(pool, loss<float, batch / 4>, p.params.wrt());
    std::array<int, 4> prepared{};
    const auto& g = dp.run(
        [&](std::size_t k) {
            constexpr std::size_t s = batch / 4;
            std::copy_n(p.x->data() + k * s * in, s * in, x->data() + k * s * in);
            std::copy_n(p.y->data() + k * s * out, s * out, y->data() + k * s * out);
            ++prepared[k];
        },
        [](auto, std::size_t, std::size_t) {}, p.params, par::rows(X<float, batch / 4>, *x),
        par::rows(Y<float, batch / 4>, *y));
    const float value = g.value;
    const auto flat = flat_copy(g);
    for (std::size_t k = 0; k < 4; ++k) BOOST_TEST(prepared[k] == 1);
    const auto& h = dp.gradient(p.params, par::rows(X<float, batch / 4>, *p.x),
                                par::rows(Y<float, batch / 4>, *p.y));
    BOOST_TEST(h.value == value);
    BOOST_TEST(std::memcmp(flat.data(), h.data(), flat.size() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(every_thread_of_a_job_flushes_denormals) {
    if constexpr (!ctgrad::ftz_scope::supported) {
        BOOST_TEST_MESSAGE("no FTZ/DAZ on this target");
        return;
    }
    const bool before = ctgrad::subnormals_flushed();
    BOOST_TEST(!before);  // the test's main thread runs with gradual underflow
    par::thread_pool pool(3);
    std::array<bool, 3> flushed{};
    std::array<float, 3> tiny{};
    volatile float denormal = 1e-40f;  // below FLT_MIN: a denormal
    std::array<std::size_t, 3> size{};
    pool.run([&](std::size_t t, std::size_t n) {  // no Boost.Test macro here: not thread-safe
        size[t] = n;
        flushed[t] = ctgrad::subnormals_flushed();
        tiny[t] = denormal * 0.5f;  // flushed to zero under FTZ/DAZ
    });
    for (std::size_t t = 0; t < 3; ++t) {
        BOOST_TEST(size[t] == 3u);
        BOOST_TEST(flushed[t]);
        BOOST_TEST(tiny[t] == 0.0f);
    }
    BOOST_TEST(ctgrad::subnormals_flushed() == before);  // the caller's mode after the job
    BOOST_TEST(denormal * 0.5f != 0.0f);
    // and off when asked
    par::thread_pool plain(2, {.flush_denormals = false});
    plain.run([&](std::size_t t, std::size_t) {
        flushed[t] = ctgrad::subnormals_flushed();
        tiny[t] = denormal * 0.5f;
    });
    BOOST_TEST(!flushed[0]);
    BOOST_TEST(!flushed[1]);
    BOOST_TEST(tiny[0] != 0.0f);
    BOOST_TEST(tiny[1] != 0.0f);
}

BOOST_AUTO_TEST_CASE(errors_reach_the_caller_and_the_pool_stays_usable) {
    par::thread_pool pool(2);
    BOOST_CHECK_THROW(pool.run([](std::size_t t, std::size_t) {
        if (t == 1) throw std::runtime_error("shard failed");
    }),
                      std::runtime_error);
    std::atomic<int> calls{0};
    for (int r = 0; r < 100; ++r) pool.run([&](std::size_t, std::size_t) { ++calls; });
    BOOST_TEST(calls.load() == 200);
    BOOST_CHECK_THROW(par::thread_pool(0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(the_barrier_separates_phases) {
    par::thread_pool pool(3);
    for (int r = 0; r < 50; ++r) {
        std::array<int, 3> wrote{};
        std::array<int, 3> seen{};
        pool.run([&](std::size_t t, std::size_t n) {
            wrote[t] = r + int(t);
            pool.arrive_and_wait();
            seen[t] = wrote[(t + 1) % n];  // another thread's write, before the barrier
        });
        for (std::size_t t = 0; t < 3; ++t) BOOST_TEST(seen[t] == r + int((t + 1) % 3));
    }
}

BOOST_AUTO_TEST_CASE(inference_over_independent_batches) {
    problem<float> p(14);
    constexpr std::size_t b = 32, count = batch / b;
    ctgrad::program one(net<float>(X<float, b>));
    std::vector<float> expected(batch * out);
    for (std::size_t i = 0; i < count; ++i) {
        const auto x = ctgrad::view<b, in>(p.x->data() + i * b * in);
        const auto logits = one.value(p.params, X<float, b> = x);
        std::copy(logits.begin(), logits.end(), expected.begin() + i * b * out);
    }
    for (std::size_t threads : {1u, 2u, 3u}) {
        par::thread_pool pool(threads);
        par::evaluator eval(pool, net<float>(X<float, b>));
        std::vector<float> got(batch * out, -1.0f);
        eval.for_each(count, [&](auto& prog, std::size_t i) {
            const auto x = ctgrad::view<b, in>(p.x->data() + i * b * in);
            const auto logits = prog.value(p.params, X<float, b> = x);
            std::copy(logits.begin(), logits.end(), got.begin() + i * b * out);
        });
        BOOST_TEST(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) == 0);
    }
}

BOOST_AUTO_TEST_CASE(the_counter_counts) {
    const std::size_t before = allocations.load();
    auto q = std::make_unique<int>(1);
    BOOST_TEST(allocations.load() == before + 1);
    BOOST_TEST(*q == 1);
}
