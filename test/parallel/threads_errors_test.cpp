// ctgrad/parallel/threads.hpp when something fails: a shard that throws (its prepare, or its
// program) makes data_parallel::run rethrow on the caller with nothing reduced, no update
// called and the gradient and parameters left as they were, on the first call (no shard
// gradient exists yet) and on later ones (the other shards' are stale), for every thread count;
// the data_parallel works again afterwards. Adam stepping on the threads (begin_step, then
// step_range in the update) keeps its step count and moments when a shard throws. A writable
// nn::state pack whose variables the loss only reads (inference-mode batch norm) is accepted
// (packs are checked variable by variable; the misuse, a pack the loss writes, is refused at
// compile time: test/compile_fail/parallel/writable_pack_in_shards.cpp). A pool whose k-th worker fails to start throws from
// its constructor after stopping and joining the workers it started (no thread left waiting).
// A small network, so that this TU compiles fast.
#define BOOST_TEST_MODULE parallel_threads_errors
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/parallel/threads.hpp>

namespace par = ctgrad::parallel;

namespace {

constexpr std::size_t shard = 4, in = 3, out = 2;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, shard, in>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, shard, out>>;
constexpr auto W = ctgrad::var<"W", ctgrad::tensor<float, in, out>>;
constexpr auto loss = ctgrad::softmax_cross_entropy(ctgrad::matmul(X, W), Y);

template <std::size_t Shards>
struct problem {
    ctgrad::tensor<float, Shards * shard, in> x;
    ctgrad::tensor<float, Shards * shard, out> y;
    ctgrad::tensor<float, in, out> w;
    problem() {
        std::mt19937 gen(3);
        for (auto& v : x) v = float(double(gen()) * 0x1p-31 - 1.0);
        for (auto& v : w) v = float(double(gen()) * 0x1p-31 - 1.0);
        for (std::size_t r = 0; r < Shards * shard; ++r) y(r, gen() % out) = 1.0f;
    }
};

template <class T>
std::vector<unsigned char> bytes(const T& t) {
    const auto* b = reinterpret_cast<const unsigned char*>(t.data());
    return std::vector<unsigned char>(b, b + t.size() * sizeof(*t.data()));
}

/// One SGD step of data_parallel<Shards> on `threads` threads whose shard `bad` throws from
/// prepare when `fail`; returns the number of elements the update saw.
template <std::size_t Shards, class DP>
std::size_t step(DP& dp, problem<Shards>& p, bool fail, std::size_t bad) {
    std::atomic<std::size_t> updated{0};
    dp.run(
        [&](std::size_t k) {
            if (fail && k == bad) throw std::runtime_error("shard failed");
        },
        [&](auto v, std::size_t first, std::size_t count) {
            float* pd = p.w.data() + first;
            const float* gd = dp.result()[v].data() + first;
            for (std::size_t i = 0; i < count; ++i) pd[i] -= 0.5f * gd[i];
            updated += count;
        },
        par::rows(X, p.x), par::rows(Y, p.y), W = p.w);
    return updated.load();
}

template <std::size_t Shards>
void a_failing_shard_changes_nothing(std::size_t threads, std::size_t bad) {
    BOOST_TEST_CONTEXT(Shards << " shards on " << threads << " threads, shard " << bad
                              << " throws") {
        par::thread_pool pool(threads);
        problem<Shards> p;
        auto dp = par::make_data_parallel<Shards>(pool, loss, ctgrad::wrt(W));
        // the first call: no shard has a gradient yet
        const auto w0 = bytes(p.w);
        BOOST_CHECK_THROW(step(dp, p, true, bad), std::runtime_error);
        BOOST_TEST(bytes(p.w) == w0);
        // a good step, then a failing one: the other shards' gradients are stale
        BOOST_TEST(step(dp, p, false, bad) == in * out);
        const auto w1 = bytes(p.w);
        BOOST_TEST(w1 != w0);
        const auto g1 =
            std::vector<float>(dp.result().data(), dp.result().data() + dp.result().size());
        const float v1 = dp.result().value;
        BOOST_CHECK_THROW(step(dp, p, true, bad), std::runtime_error);
        BOOST_TEST(bytes(p.w) == w1);  // no update
        BOOST_TEST(std::memcmp(g1.data(), dp.result().data(), g1.size() * sizeof(float)) == 0);
        BOOST_TEST(dp.result().value == v1);
        // and it works again: the same step as a fresh data_parallel's
        auto q = p;
        BOOST_TEST(step(dp, p, false, bad) == in * out);
        auto fresh = par::make_data_parallel<Shards>(pool, loss, ctgrad::wrt(W));
        BOOST_TEST(step(fresh, q, false, bad) == in * out);
        BOOST_TEST(bytes(p.w) == bytes(q.w));
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_failing_shard_reduces_nothing_and_updates_nothing) {
    for (std::size_t threads : {1u, 2u, 3u}) {
        a_failing_shard_changes_nothing<2>(threads, 1);
        a_failing_shard_changes_nothing<2>(threads, 0);
        a_failing_shard_changes_nothing<3>(threads, 2);
    }
}

BOOST_AUTO_TEST_CASE(adam_on_the_threads_loses_nothing_to_a_failing_shard) {
    // opt.begin_step() before the call, step_range in the update; a shard throws: the step
    // count, the moments and the parameters stay as they were, and the run continues as one
    // that never saw the failure, bit for bit
    using pack =
        ctgrad::nn::parameters<ctgrad::detail::type_list<std::remove_cvref_t<decltype(W)>>>;
    problem<2> p;
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss, ctgrad::wrt(W));
    pack ok, failing;
    ok[W] = p.w;
    failing[W] = p.w;
    ctgrad::nn::adam a(ok, {.lr = 0.05}), b(failing, {.lr = 0.05});
    const auto adam_step = [&](ctgrad::nn::adam<pack>& opt, pack& params, bool fail) {
        opt.begin_step();
        dp.run(
            [&](std::size_t k) {
                if (fail && k == 1) throw std::runtime_error("shard failed");
            },
            [&](auto v, std::size_t first, std::size_t count) {
                opt.step_range(params, dp.result(), v, first, count);
            },
            par::rows(X, p.x), par::rows(Y, p.y), W = params[W]);
    };
    for (std::size_t s = 0; s < 3; ++s) {
        adam_step(a, ok, false);
        const auto w = bytes(failing[W]), m = bytes(b.first_moment()[W]),
                   v = bytes(b.second_moment()[W]);
        BOOST_CHECK_THROW(adam_step(b, failing, true), std::runtime_error);
        BOOST_TEST(b.steps() == s);
        BOOST_TEST(bytes(failing[W]) == w);
        BOOST_TEST(bytes(b.first_moment()[W]) == m);
        BOOST_TEST(bytes(b.second_moment()[W]) == v);
        adam_step(b, failing, false);
        BOOST_TEST(b.steps() == s + 1);
        BOOST_TEST(bytes(failing[W]) == bytes(ok[W]));
        BOOST_TEST(bytes(b.first_moment()[W]) == bytes(a.first_moment()[W]));
        BOOST_TEST(bytes(b.second_moment()[W]) == bytes(a.second_moment()[W]));
    }
    BOOST_TEST(bytes(ok[W]) != bytes(p.w));  // it moved
}

BOOST_AUTO_TEST_CASE(a_worker_that_fails_to_start_leaves_no_thread_behind) {
    // worker 2 of 4 fails to start (as std::jthread's constructor throws std::system_error):
    // the constructor stops and joins workers 1 (started) and throws; nothing hangs
    static std::atomic<int> started{0};
    const auto fail_at = [](auto k) {
        return [](std::size_t t) {
            if (t == decltype(k)::value)
                throw std::system_error(
                    std::make_error_code(std::errc::resource_unavailable_try_again));
            ++started;
        };
    };
    BOOST_CHECK_THROW(
        par::thread_pool(4, {.before_start = fail_at(std::integral_constant<std::size_t, 2>{})}),
        std::system_error);
    BOOST_TEST(started.load() == 1);  // worker 1 was started (and then joined)
    BOOST_CHECK_THROW(
        par::thread_pool(2, {.before_start = fail_at(std::integral_constant<std::size_t, 1>{})}),
        std::system_error);
    BOOST_TEST(started.load() == 1);
    // the seam is the pool's own option: another pool made meanwhile is not affected
    par::thread_pool pool(4);
    std::array<int, 4> ran{};
    pool.run([&](std::size_t t, std::size_t) { ran[t] = 1; });
    BOOST_TEST(ran == (std::array<int, 4>{1, 1, 1, 1}));
}

BOOST_AUTO_TEST_CASE(writable_bindings_of_variables_the_network_only_reads_are_accepted) {
    // W = std::ref(w) and a tensor_view of non-const: writable memory, but no op of the loss
    // writes W, so the shards may share it (only a written variable is refused, at compile
    // time: test/compile_fail/parallel/writable_binding_in_shards.cpp)
    problem<2> p;
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, loss, ctgrad::wrt(W));
    const auto by_value = bytes(dp.gradient(par::rows(X, p.x), par::rows(Y, p.y), W = p.w));
    const auto by_ref = bytes(dp.gradient(par::rows(X, p.x), par::rows(Y, p.y), W = std::ref(p.w)));
    ctgrad::tensor_view<float, in, out> view(p.w.data());
    const auto by_view = bytes(dp.gradient(par::rows(X, p.x), par::rows(Y, p.y), W = view));
    BOOST_TEST(by_ref == by_value);
    BOOST_TEST(by_view == by_value);
}

BOOST_AUTO_TEST_CASE(a_state_pack_the_loss_only_reads_is_accepted) {
    // batch norm in inference mode reads its running estimates: the state pack (bound with
    // std::ref) is shared by the shards; the result is the mean of one program's gradients over
    // the two halves, and the state is left as it was
    namespace nn = ctgrad::nn;
    using bn = nn::batch_norm<"bn", out, float>;
    constexpr auto net = nn::sequential(nn::dense<"fc", in, out, float>{}, bn{});
    constexpr auto bloss = ctgrad::softmax_cross_entropy(net.inference(X), Y);
    problem<2> p;
    nn::parameters_of<decltype(net)> params;
    nn::init::he(params, 5);
    nn::state_of<decltype(net)> st;
    for (std::size_t c = 0; c < out; ++c) {
        st[bn::running_mean](c) = 0.25f * float(c + 1);
        st[bn::running_var](c) = 0.5f + float(c);
    }
    const auto st0 = bytes(st[bn::running_mean]), sv0 = bytes(st[bn::running_var]);
    par::thread_pool pool(2);
    auto dp = par::make_data_parallel<2>(pool, bloss, params.wrt());
    const auto& g = dp.gradient(params, st, par::rows(X, p.x), par::rows(Y, p.y));
    ctgrad::program one(bloss, params.wrt());
    float value = 0;
    std::vector<float> want(params.count(), 0.0f);
    for (std::size_t k = 0; k < 2; ++k) {
        const ctgrad::tensor_view<const float, shard, in> xk(p.x.data() + k * shard * in);
        const ctgrad::tensor_view<const float, shard, out> yk(p.y.data() + k * shard * out);
        const auto& gk = one.gradient(params, st, X = xk, Y = yk);
        value += gk.value / 2;
        std::size_t i = 0;
        params.for_each([&](auto v, const auto&) {
            for (const float e : gk[v]) want[i++] += e / 2;
        });
    }
    BOOST_TEST(g.value == value, boost::test_tools::tolerance(1e-6f));
    std::size_t i = 0;
    params.for_each([&](auto v, const auto&) {
        for (const float e : dp.result()[v]) {
            BOOST_TEST(e == want[i], boost::test_tools::tolerance(1e-5f));
            ++i;
        }
    });
    BOOST_TEST(i == params.count());
    BOOST_TEST(bytes(st[bn::running_mean]) == st0);
    BOOST_TEST(bytes(st[bn::running_var]) == sv0);
}
