// Optimizers (sgd, momentum, adam, adamw), clipping, L2 penalty and learning-rate schedules,
// each checked against the same update written as plain loops over flat vectors.
#define BOOST_TEST_MODULE nn_optim
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <numbers>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/nn/optim.hpp>

#include "support/counting_new.hpp"  // ctgrad::test::allocations

using ctgrad::test::allocations;

namespace nn = ctgrad::nn;
namespace tt = boost::test_tools;

namespace {

using fc = nn::dense<"fc", 2, 3, double>;
using pack = nn::parameters<fc::parameters>;
using vec = std::vector<double>;

vec flat(const pack& p) {
    vec out;
    p.for_each([&](auto, const auto& t) {
        for (double e : t) out.push_back(e);
    });
    return out;
}

void set_flat(pack& p, const vec& v) {
    std::size_t k = 0;
    p.for_each([&](auto, auto& t) {
        for (auto& e : t) e = v[k++];
    });
}

pack make_pack(const vec& v) {
    pack p;
    set_flat(p, v);
    return p;
}

// nine numbers: W [2, 3] then b [3]
const vec p0 = {0.5, -0.3, 0.8, 0.1, -0.7, 0.2, 0.05, -0.15, 0.4};
// fixed gradients for steps 1, 2, 3 (of different signs and sizes)
const vec grads[3] = {
    {0.2, -0.1, 0.05, -0.4, 0.3, 0.0, 0.1, -0.2, 0.6},
    {-0.1, 0.2, 0.1, -0.3, 0.25, 0.05, -0.05, 0.1, 0.3},
    {0.3, 0.0, -0.2, 0.1, -0.1, 0.2, 0.4, -0.3, -0.1},
};

void check_close(const pack& p, const vec& expected, double tol = 1e-13) {
    const vec got = flat(p);
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got[i] == expected[i], tt::tolerance(tol));
    }
}

double norm(const vec& g) {
    double s = 0;
    for (double e : g) s += e * e;
    return std::sqrt(s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_matches_hand_steps) {
    pack p = make_pack(p0);
    nn::sgd opt(p, {.lr = 0.1, .weight_decay = 0.01});
    static_assert(std::is_same_v<decltype(opt), nn::sgd<pack>>);
    vec ref = p0;
    for (int s = 0; s < 3; ++s) {
        opt.step(p, make_pack(grads[s]));
        for (std::size_t i = 0; i < ref.size(); ++i) {
            ref[i] -= 0.1 * 0.01 * ref[i] + 0.1 * grads[s][i];
        }
        check_close(p, ref);
    }
    // without weight decay it is nn::sgd_step
    pack q = make_pack(p0), r = make_pack(p0);
    nn::sgd<pack> plain({.lr = 0.05});
    plain.step(q, make_pack(grads[0]));
    nn::sgd_step(r, make_pack(grads[0]), 0.05);
    check_close(q, flat(r), 0);
}

BOOST_AUTO_TEST_CASE(momentum_and_nesterov_match_hand_steps) {
    for (bool nesterov : {false, true}) {
        pack p = make_pack(p0);
        nn::momentum opt(p, {.lr = 0.1, .mu = 0.9, .nesterov = nesterov, .weight_decay = 0.02});
        vec ref = p0, v(ref.size(), 0.0);
        for (int s = 0; s < 3; ++s) {
            opt.step(p, make_pack(grads[s]));
            for (std::size_t i = 0; i < ref.size(); ++i) {
                const double g = grads[s][i];
                v[i] = 0.9 * v[i] + g;
                const double d = nesterov ? g + 0.9 * v[i] : v[i];
                ref[i] -= 0.1 * 0.02 * ref[i] + 0.1 * d;
            }
            check_close(p, ref);
            check_close(opt.velocity(), v);
        }
    }
    // the two differ
    pack a = make_pack(p0), b = make_pack(p0);
    nn::momentum<pack> heavy({.lr = 0.1, .mu = 0.9});
    nn::momentum<pack> nag({.lr = 0.1, .mu = 0.9, .nesterov = true});
    for (int s = 0; s < 3; ++s) {
        heavy.step(a, make_pack(grads[s]));
        nag.step(b, make_pack(grads[s]));
    }
    BOOST_TEST(std::abs(flat(a)[0] - flat(b)[0]) > 1e-3);
    heavy.reset();
    for (double e : flat(heavy.velocity())) BOOST_TEST(e == 0.0);
}

namespace {
// PyTorch's Adam/AdamW step, written out.
void adam_reference(vec& p, vec& m, vec& v, const vec& g, int t, double lr, double b1, double b2,
                    double eps, double wd) {
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    for (std::size_t i = 0; i < p.size(); ++i) {
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const double denom = std::sqrt(v[i]) / std::sqrt(bc2) + eps;
        p[i] -= lr / bc1 * m[i] / denom;
    }
}
}  // namespace

BOOST_AUTO_TEST_CASE(adam_matches_hand_steps) {
    pack p = make_pack(p0);
    nn::adam opt(p, {.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6});
    vec ref = p0, m(ref.size(), 0.0), v(ref.size(), 0.0);
    for (int s = 0; s < 3; ++s) {
        opt.step(p, make_pack(grads[s]));
        adam_reference(ref, m, v, grads[s], s + 1, 0.01, 0.8, 0.99, 1e-6, 0.0);
        BOOST_TEST(opt.steps() == std::size_t(s + 1));
        check_close(p, ref, 1e-12);
        check_close(opt.first_moment(), m, 1e-12);
        check_close(opt.second_moment(), v, 1e-12);
    }
}

BOOST_AUTO_TEST_CASE(adam_first_step_is_about_lr_times_sign) {
    pack p = make_pack(p0);
    nn::adam<pack> opt;  // PyTorch's defaults
    BOOST_TEST(opt.lr == 1e-3);
    opt.step(p, make_pack(grads[0]));
    const vec got = flat(p);
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double g = grads[0][i];
        const double sign = g > 0 ? 1.0 : g < 0 ? -1.0 : 0.0;
        // bias correction: m̂ = g, v̂ = g², so the move is lr·g/(|g| + ε)
        BOOST_TEST(got[i] == p0[i] - 1e-3 * g / (std::abs(g) + 1e-8), tt::tolerance(1e-12));
        BOOST_TEST(std::abs(got[i] - (p0[i] - 1e-3 * sign)) < 1e-9);
    }
}

BOOST_AUTO_TEST_CASE(adamw_matches_hand_steps_and_decays) {
    pack p = make_pack(p0);
    nn::adamw opt(p, {{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 0.1});
    BOOST_TEST(opt.weight_decay == 0.1);
    vec ref = p0, m(ref.size(), 0.0), v(ref.size(), 0.0);
    for (int s = 0; s < 3; ++s) {
        opt.step(p, make_pack(grads[s]));
        adam_reference(ref, m, v, grads[s], s + 1, 0.01, 0.9, 0.999, 1e-8, 0.1);
        check_close(p, ref, 1e-12);
    }
    // with a zero gradient only the decay moves p: p·(1 − lr·wd)ᵗ
    pack q = make_pack(p0);
    nn::adamw<pack> decay_only;
    decay_only.lr = 0.01;
    decay_only.weight_decay = 0.5;
    const pack zero = make_pack(vec(9, 0.0));
    for (int s = 0; s < 3; ++s) decay_only.step(q, zero);
    vec expected = p0;
    for (double& e : expected) e *= std::pow(1 - 0.01 * 0.5, 3);
    check_close(q, expected, 1e-14);
    // Adam itself does not decay
    pack r = make_pack(p0);
    nn::adam<pack> plain;
    plain.step(r, zero);
    check_close(r, p0, 0);
}

BOOST_AUTO_TEST_CASE(adam_in_ranges_equals_the_whole_step) {
    // begin_step, then step_range over disjoint ranges in any order (as the threads of a
    // data_parallel update the slices they reduced): the same numbers as step, bit for bit,
    // for Adam with value clipping and for AdamW; clipping by norm is refused
    pack whole = make_pack(p0), ranged = make_pack(p0), w_whole = make_pack(p0),
         w_ranged = make_pack(p0);
    nn::adam a1(whole, {.lr = 0.01, .clip_value = 0.25}),
        a2(ranged, {.lr = 0.01, .clip_value = 0.25});
    nn::adamw b1(w_whole, {{.lr = 0.02}, 0.1}), b2(w_ranged, {{.lr = 0.02}, 0.1});
    for (int s = 0; s < 3; ++s) {
        const pack g = make_pack(grads[s]);
        a1.step(whole, g);
        b1.step(w_whole, g);
        a2.begin_step();
        b2.begin_step();
        // b [3] whole, then W [2, 3] as [4, 6) and [0, 4)
        a2.step_range(ranged, g, fc::bias{}, 0, 3);
        a2.step_range(ranged, g, fc::weight{}, 4, 2);
        a2.step_range(ranged, g, fc::weight{}, 0, 4);
        b2.step_range(w_ranged, g, fc::weight{}, 0, 6);
        b2.step_range(w_ranged, g, fc::bias{}, 1, 2);
        b2.step_range(w_ranged, g, fc::bias{}, 0, 1);
        BOOST_TEST(flat(ranged) == flat(whole), tt::per_element());
        BOOST_TEST(flat(w_ranged) == flat(w_whole), tt::per_element());
        BOOST_TEST(flat(a2.first_moment()) == flat(a1.first_moment()), tt::per_element());
        BOOST_TEST(flat(a2.second_moment()) == flat(a1.second_moment()), tt::per_element());
    }
    BOOST_TEST(a2.steps() == 3u);
    BOOST_TEST(flat(ranged) != p0);  // it moved
    nn::adam by_norm(whole, {.clip_norm = 1.0});
    BOOST_CHECK_THROW(by_norm.begin_step(), std::logic_error);
    BOOST_TEST(by_norm.steps() == 0u);
}

BOOST_AUTO_TEST_CASE(a_begun_step_that_no_range_applied_is_not_counted) {
    // begin_step, then the gradient throws before any step_range (a shard's error on the
    // threads): the step count and the moments stay as they were, and the next begin_step
    // begins the same step again; the run equals one that never saw the failure, bit for bit
    pack ok = make_pack(p0), failing = make_pack(p0);
    nn::adam a(ok, {.lr = 0.01}), b(failing, {.lr = 0.01});
    for (int s = 0; s < 3; ++s) {
        const pack g = make_pack(grads[s]);
        a.begin_step();
        a.step_range(ok, g, fc::weight{}, 0, 6);
        a.step_range(ok, g, fc::bias{}, 0, 3);
        const vec m = flat(b.first_moment()), v = flat(b.second_moment());
        b.begin_step();  // ... and the gradient threw
        BOOST_TEST(b.steps() == std::size_t(s));
        BOOST_TEST(flat(b.first_moment()) == m, tt::per_element());
        BOOST_TEST(flat(b.second_moment()) == v, tt::per_element());
        b.begin_step();
        b.step_range(failing, g, fc::bias{}, 0, 3);
        b.step_range(failing, g, fc::weight{}, 0, 6);
        BOOST_TEST(b.steps() == std::size_t(s + 1));
        BOOST_TEST(flat(failing) == flat(ok), tt::per_element());
        BOOST_TEST(flat(b.first_moment()) == flat(a.first_moment()), tt::per_element());
    }
    // a begun step dropped by a whole step: counted once
    b.begin_step();
    b.step(failing, make_pack(grads[0]));
    BOOST_TEST(b.steps() == 4u);
}

BOOST_AUTO_TEST_CASE(clipping_by_global_norm_and_by_value) {
    const pack g = make_pack(grads[0]);
    const double n = norm(grads[0]);
    BOOST_TEST(nn::global_norm(make_pack(p0), g) == n, tt::tolerance(1e-14));

    // by norm: the step is lr·g·(max/‖g‖) when ‖g‖ > max
    {
        pack p = make_pack(p0);
        nn::sgd opt(p, {.lr = 0.1, .clip_norm = 0.25});
        opt.step(p, g);
        vec ref = p0;
        for (std::size_t i = 0; i < ref.size(); ++i) ref[i] -= 0.1 * grads[0][i] * (0.25 / n);
        check_close(p, ref);
        // the gradient itself is not changed
        check_close(g, grads[0], 0);
    }
    // a threshold above the norm changes nothing
    {
        pack p = make_pack(p0), q = make_pack(p0);
        nn::sgd<pack>({.lr = 0.1, .clip_norm = 10.0}).step(p, g);
        nn::sgd<pack>({.lr = 0.1}).step(q, g);
        check_close(p, flat(q), 0);
    }
    // by value: each element clamped to ±0.15
    {
        pack p = make_pack(p0);
        nn::momentum opt(p, {.lr = 0.1, .mu = 0.5, .clip_value = 0.15});
        vec ref = p0, v(ref.size(), 0.0);
        for (int s = 0; s < 3; ++s) {
            opt.step(p, make_pack(grads[s]));
            for (std::size_t i = 0; i < ref.size(); ++i) {
                v[i] = 0.5 * v[i] + std::clamp(grads[s][i], -0.15, 0.15);
                ref[i] -= 0.1 * v[i];
            }
            check_close(p, ref);
        }
    }
    // both: clamp, then scale by the norm of the clamped gradient; inside Adam
    {
        pack p = make_pack(p0);
        nn::adam opt(p, {.lr = 0.01, .clip_norm = 0.3, .clip_value = 0.25});
        vec ref = p0, m(ref.size(), 0.0), v(ref.size(), 0.0);
        for (int s = 0; s < 3; ++s) {
            opt.step(p, make_pack(grads[s]));
            vec c = grads[s];
            for (double& e : c) e = std::clamp(e, -0.25, 0.25);
            const double cn = norm(c);
            if (cn > 0.3) {
                for (double& e : c) e *= 0.3 / cn;
            }
            adam_reference(ref, m, v, c, s + 1, 0.01, 0.9, 0.999, 1e-8, 0.0);
            check_close(p, ref, 1e-12);
        }
    }
}

BOOST_AUTO_TEST_CASE(schedules_give_the_documented_rates) {
    const nn::step_decay sd{0.1, 0.5, 10};
    static_assert(std::is_same_v<decltype(sd), const nn::step_decay<double>>);
    BOOST_TEST(sd(0) == 0.1);
    BOOST_TEST(sd(9) == 0.1);
    BOOST_TEST(sd(10) == 0.05);
    BOOST_TEST(sd(25) == 0.025);
    BOOST_TEST(sd(30) == 0.0125);

    const nn::cosine cs{0.1, 0.001, 100};
    BOOST_TEST(cs(0) == 0.1, tt::tolerance(1e-15));
    BOOST_TEST(cs(50) == 0.0505, tt::tolerance(1e-12));
    BOOST_TEST(cs(25) == 0.001 + 0.099 * (1 + std::cos(std::numbers::pi / 4)) / 2,
               tt::tolerance(1e-12));
    BOOST_TEST(cs(100) == 0.001);
    BOOST_TEST(cs(1000) == 0.001);

    const nn::cosine<float> cf{1e-3f, 0.0f, 10};
    BOOST_TEST(cf(5) == 5e-4f, tt::tolerance(1e-5f));

    // the pattern: set opt.lr from the schedule before each step
    pack p = make_pack(p0);
    nn::sgd<pack> opt;
    vec ref = p0;
    for (std::size_t t = 0; t < 3; ++t) {
        opt.lr = sd(t * 5);
        opt.step(p, make_pack(grads[t]));
        for (std::size_t i = 0; i < ref.size(); ++i) ref[i] -= sd(t * 5) * grads[t][i];
    }
    check_close(p, ref);
}

BOOST_AUTO_TEST_CASE(warmup_rises_linearly_then_hands_over) {
    const nn::cosine cs{0.1, 0.001, 100};
    const nn::warmup w{10, cs};
    static_assert(std::is_same_v<decltype(w), const nn::warmup<nn::cosine<double>>>);
    // rising from lr0/steps to lr0 over the 10 warm-up steps
    BOOST_TEST(w(0) == 0.01, tt::tolerance(1e-15));
    BOOST_TEST(w(4) == 0.05, tt::tolerance(1e-15));
    BOOST_TEST(w(9) == 0.1, tt::tolerance(1e-15));
    for (std::size_t t = 1; t < 10; ++t) BOOST_TEST(w(t) > w(t - 1));
    // then the cosine from its step 0, shifted by 10, its length kept
    for (std::size_t t = 10; t < 130; ++t) BOOST_TEST(w(t) == cs(t - 10));
    BOOST_TEST(w(110) == 0.001);
    // no warm-up: the schedule unchanged; with step decay, and with a lambda
    const nn::warmup none{0, cs};
    for (std::size_t t = 0; t < 120; ++t) BOOST_TEST(none(t) == cs(t));
    const nn::warmup<nn::step_decay<float>> sd{4, {0.2f, 0.5f, 3}};
    BOOST_TEST(sd(1) == 0.1f, tt::tolerance(1e-6f));
    BOOST_TEST(sd(4) == 0.2f);
    BOOST_TEST(sd(7) == 0.1f);
    const auto constant = [](std::size_t) { return 0.5f; };
    const nn::warmup lin{2, constant};
    BOOST_TEST(lin(0) == 0.25f);
    BOOST_TEST(lin(5) == 0.5f);
}

namespace {
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, 8, 2>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<double, 8, 1>>;
using h1 = nn::dense<"h1", 2, 6, double>;
using h2 = nn::dense<"h2", 6, 1, double>;
constexpr auto net = nn::sequential(h1{}, nn::tanh, h2{});
}  // namespace

BOOST_AUTO_TEST_CASE(l2_penalty_gradient_is_lambda_w) {
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 4);
    const double lambda = 0.03;
    const auto pen = nn::l2<decltype(net)>(lambda);
    const auto g = p.bind(
        [&](const auto&... b) { return ctgrad::gradient(pen, ctgrad::wrt(h1::W, h2::W), b...); });
    double sq = 0;
    for (double w : p[h1::W]) sq += w * w;
    for (double w : p[h2::W]) sq += w * w;
    BOOST_TEST(g.value == lambda / 2 * sq, tt::tolerance(1e-13));
    for (std::size_t i = 0; i < p[h1::W].size(); ++i) {
        BOOST_TEST(g[h1::W].data()[i] == lambda * p[h1::W].data()[i], tt::tolerance(1e-13));
    }
    for (std::size_t i = 0; i < p[h2::W].size(); ++i) {
        BOOST_TEST(g[h2::W].data()[i] == lambda * p[h2::W].data()[i], tt::tolerance(1e-13));
    }

    // the explicit list form, one matrix
    const auto one = nn::l2_penalty(ctgrad::wrt(h2::W), 2.0);
    const auto g2 = ctgrad::gradient(one, h2::W = p[h2::W]);
    for (std::size_t i = 0; i < p[h2::W].size(); ++i) {
        BOOST_TEST(g2[h2::W].data()[i] == 2.0 * p[h2::W].data()[i], tt::tolerance(1e-13));
    }
}

namespace {
struct toy {
    ctgrad::tensor<double, 8, 2> x{};
    ctgrad::tensor<double, 8, 1> y{};
    toy() {
        for (std::size_t r = 0; r < 8; ++r) {
            const double a = -1.0 + 2.0 * double(r) / 7.0, b = std::sin(3.0 * double(r));
            x(r, 0) = a;
            x(r, 1) = b;
            y(r, 0) = std::sin(2.0 * a) + 0.5 * b * b;
        }
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(adam_trains_a_toy_regression) {
    const toy d;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 42);
    const auto loss = ctgrad::mse(net(X), Y) + nn::l2<decltype(net)>(1e-4);
    ctgrad::program prog(loss, p.wrt());
    nn::adam opt(p, {.lr = 0.02});
    const nn::cosine sched{0.02, 0.002, 300};
    const double first = prog.value(p, X = d.x, Y = d.y);
    double last = first;
    for (std::size_t t = 0; t < 300; ++t) {
        opt.lr = sched(t);
        const auto g = prog.gradient(p, X = d.x, Y = d.y);
        last = g.value;
        opt.step(p, g);
    }
    last = prog.value(p, X = d.x, Y = d.y);
    BOOST_TEST_MESSAGE("adam toy loss " << first << " -> " << last);
    BOOST_TEST(last < 0.1 * first);

    // and momentum with clipping falls too
    nn::init::xavier(p, 42);
    nn::momentum mom(p, {.lr = 0.05, .mu = 0.9, .nesterov = true, .clip_norm = 1.0});
    for (std::size_t t = 0; t < 300; ++t) mom.step(p, prog.gradient(p, X = d.x, Y = d.y));
    BOOST_TEST(prog.value(p, X = d.x, Y = d.y) < 0.2 * first);
}

BOOST_AUTO_TEST_CASE(steps_do_not_allocate) {
    const toy d;
    nn::parameters_of<decltype(net)> p;
    nn::init::xavier(p, 7);
    ctgrad::program prog(ctgrad::mse(net(X), Y), p.wrt());
    nn::sgd s1(p, {.lr = 0.01, .weight_decay = 0.1, .clip_norm = 1.0});
    nn::momentum s2(p, {.lr = 0.01, .clip_value = 0.5});
    nn::adam s3(p, {.clip_norm = 1.0});
    nn::adamw s4(p);
    const std::size_t before = allocations.load();
    for (int t = 0; t < 3; ++t) {
        const auto g = prog.gradient(p, X = d.x, Y = d.y);
        s1.step(p, g);
        s2.step(p, g);
        s3.step(p, g);
        s4.step(p, g);
        static_cast<void>(nn::global_norm(p, g));
    }
    BOOST_TEST(allocations.load() == before);
}

BOOST_AUTO_TEST_CASE(float_networks_use_float_hyperparameters) {
    using f = nn::dense<"f", 3, 2>;
    nn::parameters<f::parameters> p;
    nn::init::xavier(p, 1);
    nn::adam opt(p, {.lr = 1e-2f});
    static_assert(std::is_same_v<decltype(opt.lr), float>);
    const auto before = p;
    nn::parameters<f::parameters> g;
    g.for_each([](auto, auto& t) {
        for (auto& e : t) e = 1.0f;
    });
    opt.step(p, g);
    BOOST_TEST(p[f::W](0, 0) == before[f::W](0, 0) - 1e-2f, tt::tolerance(1e-5f));
}
