// ctgrad/parallel/input_split.hpp: the input layer's weight gradient split over the threads,
// against one program over the whole batch (float within 1e-6 of the largest entry of each
// gradient; a double program bounds both), bit-identical for every thread count and from run
// to run, every element handed to the update exactly once, no allocation per step, a summed
// loss, a shard that throws leaving the gradient and the parameters as they were, and the
// shards and W's rows handed out own items first with work stealing (a stalled thread's parts
// taken by the other, the same bits).
#define BOOST_TEST_MODULE parallel_input_split
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/parallel/input_split.hpp>

#include "support/counting_new.hpp"  // ctgrad::test::allocations

namespace par = ctgrad::parallel;
using ctgrad::tensor;
using ctgrad::var;
using ctgrad::test::allocations;

namespace {

constexpr std::size_t batch = 96, in = 37, hidden = 21, out = 5;

template <class T, std::size_t B>
struct net {
    static constexpr auto X = var<"X", tensor<T, B, in>>;
    static constexpr auto Y = var<"Y", tensor<T, B, out>>;
    static constexpr auto Z = var<"Z", tensor<T, B, hidden>>;
    static constexpr auto W1 = var<"W1", tensor<T, in, hidden>>;
    static constexpr auto b1 = var<"b1", tensor<T, hidden>>;
    static constexpr auto W2 = var<"W2", tensor<T, hidden, out>>;
    static constexpr auto b2 = var<"b2", tensor<T, out>>;
    template <class Z1>
    static constexpr auto head_of(Z1 z) {
        return ctgrad::softmax_cross_entropy(ctgrad::matmul(ctgrad::tanh(z + b1), W2) + b2, Y);
    }
    static constexpr auto whole = head_of(ctgrad::matmul(X, W1));
    static constexpr auto head = head_of(Z);
};

template <class T>
struct problem {
    std::unique_ptr<tensor<T, batch, in>> x = std::make_unique<tensor<T, batch, in>>();
    std::unique_ptr<tensor<T, batch, out>> y = std::make_unique<tensor<T, batch, out>>();
    tensor<T, in, hidden> w1{};
    tensor<T, hidden> b1{};
    tensor<T, hidden, out> w2{};
    tensor<T, out> b2{};

    explicit problem(unsigned seed) {
        std::mt19937 gen(seed);
        const auto u = [&] { return T(double(gen()) * 0x1p-31 - 1.0); };
        for (auto& v : *x) v = u();
        for (std::size_t r = 0; r < batch; ++r) (*y)(r, gen() % out) = T(1);
        for (auto& v : w1) v = T(0.3) * u();
        for (auto& v : b1) v = T(0.1) * u();
        for (auto& v : w2) v = T(0.3) * u();
        for (auto& v : b2) v = T(0.1) * u();
    }
    template <class Other>
    void copy_to(Other& o) const {
        std::copy(x->begin(), x->end(), o.x->begin());
        std::copy(y->begin(), y->end(), o.y->begin());
        std::copy(w1.begin(), w1.end(), o.w1.begin());
        std::copy(b1.begin(), b1.end(), o.b1.begin());
        std::copy(w2.begin(), w2.end(), o.w2.begin());
        std::copy(b2.begin(), b2.end(), o.b2.begin());
    }
};

template <class A, class B>
double relative_difference(const A& a, const B& b) {
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::abs(double(a.data()[i]) - double(b.data()[i])));
        scale = std::max(scale, std::abs(double(b.data()[i])));
    }
    return worst / scale;
}

template <std::size_t Shards, class T>
auto make_split(par::thread_pool& pool, par::reduction r = par::reduction::mean) {
    using n = net<T, batch / Shards>;
    return par::make_input_split<Shards>(pool, par::input_layer(n::X, n::W1, n::Z), n::head,
                                         ctgrad::wrt(n::b1, n::W2, n::b2), r);
}

template <std::size_t Shards, class T, class D>
auto& split_gradient(D& dp, const problem<T>& p) {
    using n = net<T, batch / Shards>;
    return dp.gradient(par::rows(n::X, *p.x), par::rows(n::Y, *p.y), n::W1 = p.w1, n::b1 = p.b1,
                       n::W2 = p.w2, n::b2 = p.b2);
}

}  // namespace

BOOST_AUTO_TEST_CASE(matches_one_program_over_the_whole_batch_for_every_thread_count) {
    using nf = net<float, batch>;
    using nd = net<double, batch>;
    problem<float> p(3);
    problem<double> pd(3);
    p.copy_to(pd);
    ctgrad::program whole(nf::whole, ctgrad::wrt(nf::W1, nf::b1, nf::W2, nf::b2));
    const auto g1 = whole.gradient(nf::X = *p.x, nf::Y = *p.y, nf::W1 = p.w1, nf::b1 = p.b1,
                                   nf::W2 = p.w2, nf::b2 = p.b2);
    ctgrad::program exact(nd::whole, ctgrad::wrt(nd::W1, nd::b1, nd::W2, nd::b2));
    const auto gd = exact.gradient(nd::X = *pd.x, nd::Y = *pd.y, nd::W1 = pd.w1, nd::b1 = pd.b1,
                                   nd::W2 = pd.w2, nd::b2 = pd.b2);
    BOOST_TEST(relative_difference(g1[nf::W1], gd[nd::W1]) <= 1e-6);

    std::vector<float> first;
    for (std::size_t threads : {1u, 2u, 3u, 4u}) {
        par::thread_pool pool(threads);
        auto dp = make_split<4, float>(pool);
        using n4 = net<float, batch / 4>;
        const auto& g = split_gradient<4>(dp, p);
        BOOST_TEST(std::abs(g.value - g1.value) <= 1e-6 * std::abs(g1.value));
        BOOST_TEST(std::abs(double(g.value) - gd.value) <= 1e-6 * std::abs(gd.value));
        BOOST_TEST(relative_difference(g[n4::W1], g1[nf::W1]) <= 1e-6);
        BOOST_TEST(relative_difference(g[n4::W1], gd[nd::W1]) <= 1e-6);
        BOOST_TEST(relative_difference(g[n4::b1], gd[nd::b1]) <= 1e-6);
        BOOST_TEST(relative_difference(g[n4::W2], gd[nd::W2]) <= 1e-6);
        BOOST_TEST(relative_difference(g[n4::b2], gd[nd::b2]) <= 1e-6);
        const std::vector<float> flat(g.data(), g.data() + g.size());
        if (first.empty()) {
            first = flat;
        } else {
            BOOST_TEST(std::memcmp(first.data(), flat.data(), flat.size() * sizeof(float)) == 0);
        }
        // run to run
        const auto& again = split_gradient<4>(dp, p);
        BOOST_TEST(std::memcmp(first.data(), again.data(), flat.size() * sizeof(float)) == 0);
    }
}

BOOST_AUTO_TEST_CASE(every_element_reaches_the_update_once_and_no_allocation_per_step) {
    problem<float> p(4);
    par::thread_pool pool(2);
    auto dp = make_split<2, float>(pool);
    using n = net<float, batch / 2>;
    std::vector<int> seen(decltype(dp)::gradient_type::size(), 0);
    const auto count = [&](auto v, std::size_t first, std::size_t m) {
        const std::size_t at = std::size_t(dp.result()[v].data() - dp.result().data()) + first;
        for (std::size_t i = 0; i < m; ++i) ++seen[at + i];  // disjoint ranges: no race
    };
    const auto args = [&](auto&& f) -> auto& {
        return dp.gradient_then(f, par::rows(n::X, *p.x), par::rows(n::Y, *p.y), n::W1 = p.w1,
                                n::b1 = p.b1, n::W2 = p.w2, n::b2 = p.b2);
    };
    args(count);
    std::size_t total = 0;
    for (int s : seen) {
        BOOST_TEST(s <= 1);
        total += std::size_t(s);
    }
    BOOST_TEST(total == std::size_t(decltype(dp)::gradient_type::elements));
    const std::size_t before = allocations.load();
    for (int step = 0; step < 5; ++step) {
        args([](auto, std::size_t, std::size_t) {});
    }
    BOOST_TEST(allocations.load() == before);
}

BOOST_AUTO_TEST_CASE(a_summed_loss_adds_the_shards) {
    constexpr auto Xw = var<"X", tensor<double, batch, in>>;
    constexpr auto W = var<"W", tensor<double, in, hidden>>;
    constexpr auto T = var<"T", tensor<double, batch, hidden>>;
    constexpr auto Xs = var<"X", tensor<double, batch / 3, in>>;
    constexpr auto Zs = var<"Z", tensor<double, batch / 3, hidden>>;
    constexpr auto Ts = var<"T", tensor<double, batch / 3, hidden>>;
    constexpr auto c = var<"c", tensor<double, hidden>>;
    problem<double> p(5);
    auto t = std::make_unique<tensor<double, batch, hidden>>();
    std::mt19937 gen(9);
    for (auto& v : *t) v = double(gen()) * 0x1p-32;
    ctgrad::program whole(ctgrad::sum(ctgrad::square(ctgrad::tanh(ctgrad::matmul(Xw, W) + c) - T)),
                          ctgrad::wrt(W, c));
    const auto g = whole.gradient(Xw = *p.x, W = p.w1, c = p.b1, T = *t);
    par::thread_pool pool(2);
    auto dp = par::make_input_split<3>(pool, par::input_layer(Xs, W, Zs),
                                       ctgrad::sum(ctgrad::square(ctgrad::tanh(Zs + c) - Ts)),
                                       ctgrad::wrt(c), par::reduction::sum);
    const auto& s = dp.gradient(par::rows(Xs, *p.x), par::rows(Ts, *t), W = p.w1, c = p.b1);
    BOOST_TEST(std::abs(s.value - g.value) <= 1e-13 * std::abs(g.value));
    BOOST_TEST(relative_difference(s[W], g[W]) <= 1e-13);
    BOOST_TEST(relative_difference(s[c], g[c]) <= 1e-13);
}

BOOST_AUTO_TEST_CASE(a_shard_that_throws_changes_nothing) {
    problem<float> p(6);
    par::thread_pool pool(2);
    auto dp = make_split<2, float>(pool);
    using n = net<float, batch / 2>;
    auto w1 = p.w1;
    const auto sgd = [&](auto v, std::size_t first, std::size_t m) {
        if constexpr (std::is_same_v<decltype(v), std::remove_const_t<decltype(n::W1)>>) {
            for (std::size_t i = 0; i < m; ++i)
                w1.data()[first + i] -= dp.result()[v].data()[first + i];
        }
    };
    dp.run([](std::size_t) {}, sgd, par::rows(n::X, *p.x), par::rows(n::Y, *p.y), n::W1 = p.w1,
           n::b1 = p.b1, n::W2 = p.w2, n::b2 = p.b2);
    BOOST_TEST(relative_difference(w1, p.w1) > 0.0);  // the update ran
    const auto g0 = std::vector<float>(dp.result().data(), dp.result().data() + dp.result().size());
    const auto w0 = w1;
    BOOST_CHECK_THROW(dp.run(
                          [](std::size_t k) {
                              if (k == 1) throw std::runtime_error("shard 1 cannot read its rows");
                          },
                          sgd, par::rows(n::X, *p.x), par::rows(n::Y, *p.y), n::W1 = p.w1,
                          n::b1 = p.b1, n::W2 = p.w2, n::b2 = p.b2),
                      std::runtime_error);
    BOOST_TEST(std::memcmp(w0.data(), w1.data(), w1.size() * sizeof(float)) == 0);
    BOOST_TEST(std::memcmp(g0.data(), dp.result().data(), g0.size() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(sgd_step_matches_the_one_program_step) {
    // input_split::sgd_step (W1 updated by the products, the others by the reducing threads)
    // against program::sgd_step over the whole batch: the same parameters within 1e-6 after
    // three steps, the same bits for every thread count, the loss before the step returned
    using nf = net<float, batch>;
    using n3 = net<float, batch / 3>;
    problem<float> p(7);
    problem<float> ref(7);
    ctgrad::program whole(nf::whole, ctgrad::wrt(nf::W1, nf::b1, nf::W2, nf::b2));
    std::vector<float> losses;
    for (int s = 0; s < 3; ++s) {
        losses.push_back(whole.sgd_step(0.5f, nf::X = *ref.x, nf::Y = *ref.y,
                                        nf::W1 = std::ref(ref.w1), nf::b1 = std::ref(ref.b1),
                                        nf::W2 = std::ref(ref.w2), nf::b2 = std::ref(ref.b2)));
    }
    std::vector<float> first;
    for (std::size_t threads : {1u, 2u, 3u}) {
        problem<float> q(7);
        par::thread_pool pool(threads);
        auto dp = make_split<3, float>(pool);
        for (int s = 0; s < 3; ++s) {
            const float v = dp.sgd_step(0.5f, par::rows(n3::X, *q.x), par::rows(n3::Y, *q.y),
                                        n3::W1 = std::ref(q.w1), n3::b1 = std::ref(q.b1),
                                        n3::W2 = std::ref(q.w2), n3::b2 = std::ref(q.b2));
            BOOST_TEST(std::abs(v - losses[std::size_t(s)]) <=
                       1e-6f * std::abs(losses[std::size_t(s)]));
        }
        BOOST_TEST(relative_difference(q.w1, ref.w1) <= 1e-6);
        BOOST_TEST(relative_difference(q.b1, ref.b1) <= 1e-6);
        BOOST_TEST(relative_difference(q.w2, ref.w2) <= 1e-6);
        BOOST_TEST(relative_difference(q.b2, ref.b2) <= 1e-6);
        BOOST_TEST(relative_difference(q.w1, p.w1) > 1e-3);  // it moved
        std::vector<float> all(q.w1.begin(), q.w1.end());
        all.insert(all.end(), q.b1.begin(), q.b1.end());
        all.insert(all.end(), q.w2.begin(), q.w2.end());
        all.insert(all.end(), q.b2.begin(), q.b2.end());
        if (first.empty()) {
            first = all;
        } else {
            BOOST_TEST(std::memcmp(first.data(), all.data(), all.size() * sizeof(float)) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(claims_hand_out_each_item_once_own_items_first) {
    // parallel::detail::claims: thread t of n first takes its own items [t·N/n, (t+1)·N/n) in
    // order, then those others left, and every item goes to exactly one thread, also when the
    // threads race for them
    const auto check = [](auto c, std::size_t n) {
        constexpr std::size_t N = decltype(c)::value;
        par::detail::claims<N> cl;
        for (int round = 0; round < 2; ++round) {  // reset makes every item available again
            cl.reset();
            std::vector<int> taken(N, 0);
            for (std::size_t t = 0; t < n; ++t) {
                const std::size_t own = t * N / n, own_end = (t + 1) * N / n;
                for (std::size_t i = own; i < own_end; ++i) {
                    const std::size_t k = cl.next(t, n);
                    BOOST_TEST(k == i);
                    if (k < N) ++taken[k];
                }
            }
            for (std::size_t k; (k = cl.next(n - 1, n)) < N;) ++taken[k];
            BOOST_TEST(std::count(taken.begin(), taken.end(), 1) == std::ptrdiff_t(N));
            // stealing: thread 0 alone, after the others took nothing, takes the others' items
            // from the end of the next thread's range
            cl.reset();
            std::vector<std::size_t> order;
            for (std::size_t k; (k = cl.next(0, n)) < N;) order.push_back(k);
            BOOST_TEST(order.size() == N);
            if (n >= 2 && 2 * N / n > N / n) {
                BOOST_TEST(order[N / n] == 2 * N / n - 1);  // thread 1's last item first
            }
        }
        // racing threads
        for (int round = 0; round < 20; ++round) {
            cl.reset();
            std::vector<std::atomic<int>> count(N);
            {
                std::vector<std::jthread> threads;
                for (std::size_t t = 0; t < n; ++t) {
                    threads.emplace_back([&, t] {
                        for (std::size_t k; (k = cl.next(t, n)) < N;) ++count[k];
                    });
                }
            }
            for (auto& k : count) BOOST_TEST(k.load() == 1);
        }
    };
    for (std::size_t n : {1u, 2u, 3u, 4u, 7u}) {
        check(std::integral_constant<std::size_t, 1>{}, n);
        check(std::integral_constant<std::size_t, 2>{}, n);
        check(std::integral_constant<std::size_t, 5>{}, n);
        check(std::integral_constant<std::size_t, 8>{}, n);
    }
}

BOOST_AUTO_TEST_CASE(a_slow_thread_leaves_its_weight_rows_to_the_others) {
    // 160 input rows in 4 parts of W's rows (two per shard, 40 rows each): thread 0 owns parts
    // 0 and 1; when it stalls after its first part (in the update, called by the thread that
    // computed the part's last term), thread 1 computes its other part (work stealing), and
    // the gradient is the same bits as when every thread takes its own
    constexpr std::size_t b = 64, i = 160, h = 24;
    constexpr auto X = var<"X", tensor<float, b / 2, i>>;
    constexpr auto Z = var<"Z", tensor<float, b / 2, h>>;
    constexpr auto W = var<"W", tensor<float, i, h>>;
    constexpr auto c = var<"c", tensor<float, h>>;
    constexpr auto Xw = var<"X", tensor<float, b, i>>;
    auto x = std::make_unique<tensor<float, b, i>>();
    tensor<float, i, h> w{};
    tensor<float, h> cv{};
    std::mt19937 gen(11);
    for (auto& v : *x) v = float(double(gen()) * 0x1p-31 - 1.0);
    for (auto& v : w) v = float(0.1 * (double(gen()) * 0x1p-31 - 1.0));
    for (auto& v : cv) v = float(0.1 * (double(gen()) * 0x1p-31 - 1.0));
    ctgrad::program whole(ctgrad::sum(ctgrad::square(ctgrad::tanh(ctgrad::matmul(Xw, W) + c))),
                          ctgrad::wrt(W, c));
    const auto g1 = whole.gradient(Xw = *x, W = w, c = cv);

    par::thread_pool pool(2);
    auto dp = par::make_input_split<2>(pool, par::input_layer(X, W, Z),
                                       ctgrad::sum(ctgrad::square(ctgrad::tanh(Z + c))),
                                       ctgrad::wrt(c), par::reduction::sum);
    static_assert(decltype(dp)::parts == 4);
    const auto plain = [](auto, std::size_t, std::size_t) {};
    const auto& g = dp.gradient_then(plain, par::rows(X, *x), W = w, c = cv);
    BOOST_TEST(relative_difference(g[W], g1[W]) <= 1e-6);
    BOOST_TEST(relative_difference(g[c], g1[c]) <= 1e-6);
    const std::vector<float> first(g.data(), g.data() + g.size());

    const auto caller = std::this_thread::get_id();
    bool stole = false;
    for (int attempt = 0; attempt < 5 && !stole; ++attempt) {
        std::array<std::atomic<int>, 4> by_caller{}, by_worker{};
        std::atomic<bool> stalled{false};
        // the caller (thread 0, owner of parts 0 and 1) stalls 200 ms in the update of the
        // first part it finishes: the worker, spinning for terms, takes every other one
        const auto slow = [&](auto v, std::size_t first_element, std::size_t) {
            if constexpr (std::is_same_v<decltype(v), std::remove_const_t<decltype(W)>>) {
                const std::size_t part = first_element / (i / 4 * h);
                const bool on_caller = std::this_thread::get_id() == caller;
                (on_caller ? by_caller : by_worker)[part] = 1;
                if (on_caller && !stalled.exchange(true)) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                }
            }
        };
        const auto& s = dp.gradient_then(slow, par::rows(X, *x), W = w, c = cv);
        BOOST_TEST(std::memcmp(first.data(), s.data(), first.size() * sizeof(float)) == 0);
        int caller_parts = 0, worker_parts = 0;
        for (std::size_t p = 0; p < 4; ++p) {
            BOOST_TEST(by_caller[p] + by_worker[p] == 1);
            caller_parts += by_caller[p];
            worker_parts += by_worker[p];
        }
        // the worker did three parts: one of them is the caller's own (0 or 1)
        stole = caller_parts == 1 && worker_parts == 3;
    }
    BOOST_TEST(stole);
}

BOOST_AUTO_TEST_CASE(an_sgd_step_whose_shard_throws_changes_no_parameter) {
    // sgd_step adds W's update into W by the last shard's terms, which wait for every head:
    // a shard whose rows cannot be read (prepare throws) leaves every parameter as it was,
    // on one thread and on two
    using n = net<float, batch / 2>;
    for (std::size_t threads : {1u, 2u}) {
        problem<float> p(8);
        par::thread_pool pool(threads);
        auto dp = make_split<2, float>(pool);
        const auto step = [&](auto&& prepare) {
            return dp.sgd_step_with(prepare, 0.5f, par::rows(n::X, *p.x), par::rows(n::Y, *p.y),
                                    n::W1 = std::ref(p.w1), n::b1 = std::ref(p.b1),
                                    n::W2 = std::ref(p.w2), n::b2 = std::ref(p.b2));
        };
        const auto w0 = p.w1;
        step([](std::size_t) {});
        BOOST_TEST(relative_difference(p.w1, w0) > 0.0);  // a step changes W
        const auto w1 = p.w1;
        const auto b1 = p.b1;
        const auto w2 = p.w2;
        const auto b2 = p.b2;
        for (std::size_t bad : {0u, 1u}) {
            BOOST_CHECK_THROW(step([&](std::size_t k) {
                                  if (k == bad)
                                      throw std::runtime_error("shard cannot read its rows");
                              }),
                              std::runtime_error);
            BOOST_TEST(std::memcmp(w1.data(), p.w1.data(), w1.size() * sizeof(float)) == 0);
            BOOST_TEST(std::memcmp(b1.data(), p.b1.data(), b1.size() * sizeof(float)) == 0);
            BOOST_TEST(std::memcmp(w2.data(), p.w2.data(), w2.size() * sizeof(float)) == 0);
            BOOST_TEST(std::memcmp(b2.data(), p.b2.data(), b2.size() * sizeof(float)) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_wide_input_layer_is_cut_into_whole_row_blocks) {
    // 784 input rows, 2 shards: 16 parts per shard of whole 24-row blocks (the first part also
    // takes the 16 rows left over: 40 rows); the gradient as one program's and the same bits on
    // 1 and 2 threads
    constexpr std::size_t b = 16, i = 784, h = 6;
    constexpr auto X = var<"X", tensor<float, b / 2, i>>;
    constexpr auto Z = var<"Z", tensor<float, b / 2, h>>;
    constexpr auto W = var<"W", tensor<float, i, h>>;
    constexpr auto c = var<"c", tensor<float, h>>;
    constexpr auto Xw = var<"X", tensor<float, b, i>>;
    using split = decltype(par::make_input_split<2>(
        std::declval<par::thread_pool&>(), par::input_layer(X, W, Z),
        ctgrad::sum(ctgrad::square(ctgrad::tanh(Z + c))), ctgrad::wrt(c)));
    static_assert(split::parts == 32);
    static_assert(split::part_begin<0> == 0 && split::part_begin<1> == 40 &&
                  split::part_begin<2> == 64 && split::part_begin<31> == 760 &&
                  split::part_begin<32> == i);
    auto x = std::make_unique<tensor<float, b, i>>();
    tensor<float, i, h> w{};
    tensor<float, h> cv{};
    std::mt19937 gen(12);
    for (auto& v : *x) v = float(double(gen()) * 0x1p-31 - 1.0);
    for (auto& v : w) v = float(0.05 * (double(gen()) * 0x1p-31 - 1.0));
    for (auto& v : cv) v = float(0.1 * (double(gen()) * 0x1p-31 - 1.0));
    ctgrad::program whole(ctgrad::sum(ctgrad::square(ctgrad::tanh(ctgrad::matmul(Xw, W) + c))),
                          ctgrad::wrt(W, c));
    const auto g1 = whole.gradient(Xw = *x, W = w, c = cv);
    std::vector<float> first;
    for (std::size_t threads : {1u, 2u}) {
        par::thread_pool pool(threads);
        auto dp = par::make_input_split<2>(pool, par::input_layer(X, W, Z),
                                           ctgrad::sum(ctgrad::square(ctgrad::tanh(Z + c))),
                                           ctgrad::wrt(c), par::reduction::sum);
        const auto& g = dp.gradient(par::rows(X, *x), W = w, c = cv);
        BOOST_TEST(relative_difference(g[W], g1[W]) <= 1e-6);
        BOOST_TEST(relative_difference(g[c], g1[c]) <= 1e-6);
        if (first.empty()) {
            first.assign(g.data(), g.data() + g.size());
        } else {
            BOOST_TEST(std::memcmp(first.data(), g.data(), first.size() * sizeof(float)) == 0);
        }
    }
}
