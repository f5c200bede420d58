// ctgrad/parallel: data_parallel's automatic choice of the input layer split (strategy). A
// loss whose first layer X·W holds most of the parameters (an nn::dense MLP) is computed as
// input_split computes it; others, and strategy::replicate, as every shard a whole program.
// The split form against one program over the whole batch and against the replicated form
// (float within 1e-6 of the largest entry of each gradient; a double program bounds them),
// bit-identical for every thread count and from run to run, Adam's step on the reducing
// threads equal to the step after the job, no allocation per step, a shard that throws leaving
// the gradient and the parameters as they were, X bound without rows(...), sgd_step with the
// parameter pack bound by std::ref in both forms, and the choice itself (which losses split).
#define BOOST_TEST_MODULE parallel_data_parallel_split
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/parallel/threads.hpp>

#include "support/counting_new.hpp"  // ctgrad::test::allocations

namespace nn = ctgrad::nn;
namespace par = ctgrad::parallel;
using ctgrad::test::allocations;

namespace {

constexpr std::size_t batch = 64, in = 96, hidden = 20, out = 5;

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

template <class T>
using pack = nn::parameters_of<decltype(net<T>)>;

template <class T>
struct problem {
    std::unique_ptr<ctgrad::tensor<T, batch, in>> x =
        std::make_unique<ctgrad::tensor<T, batch, in>>();
    std::unique_ptr<ctgrad::tensor<T, batch, out>> y =
        std::make_unique<ctgrad::tensor<T, batch, out>>();
    pack<T> params;

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

std::vector<float> values_of(const pack<float>& p) {
    std::vector<float> v;
    p.for_each([&](auto, const auto& t) { v.insert(v.end(), t.begin(), t.end()); });
    return v;
}

template <class V>
struct as_double;
template <ctgrad::fixed_string N, std::size_t... D>
struct as_double<ctgrad::variable<N, ctgrad::tensor<float, D...>>> {
    using type = ctgrad::variable<N, ctgrad::tensor<double, D...>>;
};

// the choice (types only)
using split2 = decltype(par::make_data_parallel<2>(
    std::declval<par::thread_pool&>(), loss<float, batch / 2>, std::declval<pack<float>&>().wrt()));
using replicate2 = decltype(par::make_data_parallel<2, par::strategy::replicate>(
    std::declval<par::thread_pool&>(), loss<float, batch / 2>, std::declval<pack<float>&>().wrt()));
using one_shard = decltype(par::make_data_parallel<1>(
    std::declval<par::thread_pool&>(), loss<float, batch>, std::declval<pack<float>&>().wrt()));
static_assert(split2::splits_input_layer, "an MLP whose first layer dominates is split");
static_assert(!replicate2::splits_input_layer, "strategy::replicate is never split");
static_assert(!one_shard::splits_input_layer, "one shard is not split");

// a first layer of 32 rows (< 64): replicated
constexpr auto Xs = ctgrad::var<"X", ctgrad::tensor<float, 8, 32>>;
constexpr auto Ys = ctgrad::var<"Y", ctgrad::tensor<float, 8, 5>>;
constexpr auto narrow = nn::sequential(nn::dense<"a", 32, 40>{}, nn::relu, nn::dense<"b", 40, 5>{});
using narrow_dp = decltype(par::make_data_parallel<2>(
    std::declval<par::thread_pool&>(), ctgrad::softmax_cross_entropy(narrow(Xs), Ys),
    std::declval<nn::parameters_of<decltype(narrow)>&>().wrt()));
static_assert(!narrow_dp::splits_input_layer, "a first layer of fewer than 64 rows");

// a first layer that is not most of the parameters: replicated
constexpr auto Xw = ctgrad::var<"X", ctgrad::tensor<float, 8, 64>>;
constexpr auto wide = nn::sequential(nn::dense<"a", 64, 8>{}, nn::relu, nn::dense<"b", 8, 400>{},
                                     nn::relu, nn::dense<"c", 400, 5>{});
using wide_dp = decltype(par::make_data_parallel<2>(
    std::declval<par::thread_pool&>(), ctgrad::softmax_cross_entropy(wide(Xw), Ys),
    std::declval<nn::parameters_of<decltype(wide)>&>().wrt()));
static_assert(!wide_dp::splits_input_layer, "a first layer with less than half the parameters");

// W read again after the first layer (tied weights): replicated
constexpr auto Xt = ctgrad::var<"X", ctgrad::tensor<float, 8, 64>>;
constexpr auto Wt = ctgrad::var<"W", ctgrad::tensor<float, 64, 64>>;
constexpr auto tied =
    ctgrad::sum(ctgrad::square(ctgrad::matmul(ctgrad::tanh(ctgrad::matmul(Xt, Wt)), Wt)));
using tied_dp =
    decltype(par::make_data_parallel<2>(std::declval<par::thread_pool&>(), tied, ctgrad::wrt(Wt)));
static_assert(!tied_dp::splits_input_layer, "W read after X·W");

}  // namespace

BOOST_AUTO_TEST_CASE(the_split_form_matches_one_program_for_every_thread_count) {
    problem<float> p(21);
    const auto w = p.params.wrt();
    ctgrad::program whole(loss<float, batch>, w);
    const auto g1 = whole.gradient(p.params, X<float, batch> = *p.x, Y<float, batch> = *p.y);

    // the independent reference: one program over the whole batch in double
    pack<double> pd;
    {
        std::vector<float> v = values_of(p.params);
        std::size_t k = 0;
        pd.for_each([&](auto, auto& t) {
            for (auto& e : t) e = double(v[k++]);
        });
    }
    auto xd = std::make_unique<ctgrad::tensor<double, batch, in>>();
    auto yd = std::make_unique<ctgrad::tensor<double, batch, out>>();
    std::copy(p.x->begin(), p.x->end(), xd->begin());
    std::copy(p.y->begin(), p.y->end(), yd->begin());
    ctgrad::program exact(loss<double, batch>, pd.wrt());
    const auto gd = exact.gradient(pd, X<double, batch> = *xd, Y<double, batch> = *yd);

    std::vector<float> first2, first4;
    for (std::size_t threads : {1u, 2u, 3u, 4u}) {
        par::thread_pool pool(threads);
        auto dp2 = par::make_data_parallel<2>(pool, loss<float, batch / 2>, w);
        auto dp4 = par::make_data_parallel<4>(pool, loss<float, batch / 4>, w);
        auto rp2 =
            par::make_data_parallel<2, par::strategy::replicate>(pool, loss<float, batch / 2>, w);
        static_assert(decltype(dp4)::splits_input_layer);
        BOOST_TEST(dp2.threads() == threads);
        const auto& a = dp2.gradient(p.params, par::rows(X<float, batch / 2>, *p.x),
                                     par::rows(Y<float, batch / 2>, *p.y));
        const auto& b = dp4.gradient(p.params, par::rows(X<float, batch / 4>, *p.x),
                                     par::rows(Y<float, batch / 4>, *p.y));
        const auto& r = rp2.gradient(p.params, par::rows(X<float, batch / 2>, *p.x),
                                     par::rows(Y<float, batch / 2>, *p.y));
        BOOST_TEST(std::abs(a.value - g1.value) <= 1e-6 * std::abs(g1.value));
        BOOST_TEST(std::abs(b.value - g1.value) <= 1e-6 * std::abs(g1.value));
        std::size_t k = 0;
        p.params.for_each([&](auto v, const auto&) {
            const auto vd = typename as_double<decltype(v)>::type{};
            BOOST_TEST(relative_difference(a[v], g1[v]) <= 1e-6);
            BOOST_TEST(relative_difference(b[v], g1[v]) <= 1e-6);
            BOOST_TEST(relative_difference(a[v], r[v]) <= 1e-6);
            BOOST_TEST(relative_difference(a[v], gd[vd]) <= 1e-6);
            BOOST_TEST(relative_difference(b[v], gd[vd]) <= 1e-6);
            ++k;
        });
        BOOST_TEST(k == 4u);
        // the split form's shards run the network after X·W (the rest of it), not the loss
        static_assert(!std::is_same_v<decltype(dp2)::program_type, decltype(rp2)::program_type>);
        static_assert(std::is_same_v<decltype(dp2)::gradient_type, decltype(rp2)::gradient_type>);
        const auto f2 = flat_copy(a), f4 = flat_copy(b);
        if (first2.empty()) {
            first2 = f2;
            first4 = f4;
        } else {
            BOOST_TEST(std::memcmp(first2.data(), f2.data(), f2.size() * sizeof(float)) == 0);
            BOOST_TEST(std::memcmp(first4.data(), f4.data(), f4.size() * sizeof(float)) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_same_bits_from_run_to_run) {
    problem<float> p(22);
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    std::vector<float> first;
    for (int run = 0; run < 30; ++run) {
        const auto flat = flat_copy(dp.gradient(p.params, par::rows(X<float, batch / 2>, *p.x),
                                                par::rows(Y<float, batch / 2>, *p.y)));
        if (run == 0) {
            first = flat;
        } else {
            BOOST_TEST(std::memcmp(first.data(), flat.data(), first.size() * sizeof(float)) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(adam_on_the_threads_equals_adam_after_the_job_without_allocating) {
    problem<float> p(23);
    auto q = p.params;  // Adam after the job
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    nn::adam on_threads(p.params, {.lr = 1e-2f});
    nn::adam after(q, {.lr = 1e-2f});
    std::size_t during = 0;
    for (int step = 0; step < 6; ++step) {
        const std::size_t before = allocations.load();
        on_threads.begin_step();
        dp.gradient_then(
            [&](auto v, std::size_t first, std::size_t count) {
                on_threads.step_range(p.params, dp.result(), v, first, count);
            },
            p.params, par::rows(X<float, batch / 2>, *p.x), par::rows(Y<float, batch / 2>, *p.y));
        if (step > 0) during += allocations.load() - before;
        const auto& g = dp.gradient(q, par::rows(X<float, batch / 2>, *p.x),
                                    par::rows(Y<float, batch / 2>, *p.y));
        after.step(q, g);
    }
    BOOST_TEST(during == 0u);
    const auto a = values_of(p.params), b = values_of(q);
    BOOST_TEST(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(a_shard_that_throws_changes_nothing) {
    for (std::size_t threads : {1u, 2u}) {
        for (std::size_t bad : {0u, 1u}) {
            problem<float> p(24);
            par::thread_pool pool(threads);
            auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
            const auto sgd = [&](auto v, std::size_t first, std::size_t count) {
                float* pd = p.params[v].data() + first;
                const float* gd = dp.result()[v].data() + first;
                for (std::size_t i = 0; i < count; ++i) pd[i] -= 0.1f * gd[i];
            };
            const auto before_step = values_of(p.params);
            dp.run([](std::size_t) {}, sgd, p.params, par::rows(X<float, batch / 2>, *p.x),
                   par::rows(Y<float, batch / 2>, *p.y));
            const auto g0 = flat_copy(dp.result());
            const auto p0 = values_of(p.params);
            BOOST_TEST(std::memcmp(p0.data(), before_step.data(), p0.size() * sizeof(float)) !=
                       0);  // the update ran
            BOOST_CHECK_THROW(dp.run(
                                  [&](std::size_t k) {
                                      if (k == bad) throw std::runtime_error("shard cannot read");
                                  },
                                  sgd, p.params, par::rows(X<float, batch / 2>, *p.x),
                                  par::rows(Y<float, batch / 2>, *p.y)),
                              std::runtime_error);
            const auto p1 = values_of(p.params);
            BOOST_TEST(std::memcmp(p0.data(), p1.data(), p0.size() * sizeof(float)) == 0);
            const auto g1 = flat_copy(dp.result());
            BOOST_TEST(std::memcmp(g0.data(), g1.data(), g0.size() * sizeof(float)) == 0);
            // and the next call works
            dp.run([](std::size_t) {}, sgd, p.params, par::rows(X<float, batch / 2>, *p.x),
                   par::rows(Y<float, batch / 2>, *p.y));
            BOOST_TEST(std::isfinite(dp.result().value));
        }
    }
}

BOOST_AUTO_TEST_CASE(x_bound_whole_reaches_every_shard) {
    // X bound without rows(...): every shard reads the same rows, in both forms
    problem<float> p(25);
    par::thread_pool pool(2);
    const auto x = ctgrad::view<batch / 2, in>(p.x->data());
    auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, p.params.wrt());
    auto rp = par::make_data_parallel<2, par::strategy::replicate>(pool, loss<float, batch / 2>,
                                                                   p.params.wrt());
    const auto& a =
        dp.gradient(p.params, X<float, batch / 2> = x, par::rows(Y<float, batch / 2>, *p.y));
    const auto& r =
        rp.gradient(p.params, X<float, batch / 2> = x, par::rows(Y<float, batch / 2>, *p.y));
    BOOST_TEST(std::abs(a.value - r.value) <= 1e-6 * std::abs(r.value));
    p.params.for_each(
        [&](auto v, const auto&) { BOOST_TEST(relative_difference(a[v], r[v]) <= 1e-6); });
}

BOOST_AUTO_TEST_CASE(sgd_step_with_the_pack_by_std_ref_in_both_forms) {
    // dp.sgd_step(lr, std::ref(params), ...): the replicated form equals the gradient then
    // p −= lr·g on the caller, bit for bit; the split form (W1's update added by the dW1
    // products) equals the same call with each tensor bound by std::ref, bit for bit, and the
    // replicated step within 1e-6; each the same bits for 1 and 2 threads, without allocating
    constexpr float lr = 0.1f;
    std::vector<float> first_rep, first_split;
    for (std::size_t threads : {1u, 2u}) {
        problem<float> p(26);
        auto rep = p.params, hand = p.params, split = p.params, each = p.params;
        par::thread_pool pool(threads);
        const auto w = p.params.wrt();
        auto rp =
            par::make_data_parallel<2, par::strategy::replicate>(pool, loss<float, batch / 2>, w);
        auto rh =
            par::make_data_parallel<2, par::strategy::replicate>(pool, loss<float, batch / 2>, w);
        auto dp = par::make_data_parallel<2>(pool, loss<float, batch / 2>, w);
        auto de = par::make_data_parallel<2>(pool, loss<float, batch / 2>, w);
        static_assert(decltype(dp)::splits_input_layer && !decltype(rp)::splits_input_layer);
        const auto xs = par::rows(X<float, batch / 2>, *p.x);
        const auto ys = par::rows(Y<float, batch / 2>, *p.y);
        std::size_t during = 0;
        for (int step = 0; step < 4; ++step) {
            const std::size_t before = allocations.load();
            const float vr = rp.sgd_step(lr, std::ref(rep), xs, ys);
            const float vs = dp.sgd_step(lr, std::ref(split), xs, ys);
            if (step > 0) during += allocations.load() - before;
            const auto& g = rh.gradient(hand, xs, ys);
            hand.for_each([&](auto v, auto& t) {
                for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] -= lr * g[v].data()[i];
            });
            const float ve = de.sgd_step(lr, xs, ys, fc1<float>::W = std::ref(each[fc1<float>::W]),
                                         fc1<float>::b = std::ref(each[fc1<float>::b]),
                                         fc2<float>::W = std::ref(each[fc2<float>::W]),
                                         fc2<float>::b = std::ref(each[fc2<float>::b]));
            BOOST_TEST(vr == g.value);
            BOOST_TEST(vs == ve);
            BOOST_TEST(std::abs(vs - vr) <= 1e-6 * std::abs(vr));
        }
        BOOST_TEST(during == 0u);
        const auto a = values_of(rep), b = values_of(hand), c = values_of(split),
                   d = values_of(each), before = values_of(p.params);
        BOOST_TEST(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
        BOOST_TEST(std::memcmp(c.data(), d.data(), c.size() * sizeof(float)) == 0);
        BOOST_TEST(std::memcmp(a.data(), before.data(), a.size() * sizeof(float)) != 0);
        rep.for_each(
            [&](auto v, const auto& t) { BOOST_TEST(relative_difference(split[v], t) <= 1e-6); });
        if (first_rep.empty()) {
            first_rep = a;
            first_split = c;
        } else {
            BOOST_TEST(std::memcmp(first_rep.data(), a.data(), a.size() * sizeof(float)) == 0);
            BOOST_TEST(std::memcmp(first_split.data(), c.data(), c.size() * sizeof(float)) == 0);
        }
    }
}
