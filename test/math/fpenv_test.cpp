// ctgrad::ftz_scope (math/fpenv.hpp): sets flush-to-zero and denormals-are-zero and restores the
// previous bits on exit, nested and through exceptions; the per-thread opt-out that the
// training entry points consult; the entry points (program::gradient, an optimizer step) run
// with the bits set and leave them as they were; a short training run gives the same accuracy
// with and without the bits (none of its numbers is subnormal for long).
#define BOOST_TEST_MODULE math_fpenv
#include <cfenv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/optim.hpp>

namespace {

/// The smallest normal float halved: a subnormal result, unless FTZ flushes it. volatile so that
/// the compiler cannot fold it.
float halve_min() {
    volatile float m = std::numeric_limits<float>::min();
    volatile float h = m * 0.5f;
    return h;
}

/// A subnormal input plus zero: itself, unless DAZ reads it as zero.
float read_subnormal() {
    volatile float d = std::numeric_limits<float>::denorm_min();
    volatile float z = 0.0f;
    volatile float r = d + z;
    return r;
}

bool flushing() {
    return halve_min() == 0.0f && read_subnormal() == 0.0f;
}
bool gradual() {
    return halve_min() != 0.0f && read_subnormal() != 0.0f;
}

struct expected_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace

// The scope does nothing in constant evaluation (constexpr constructor and destructor).
static_assert([] {
    ctgrad::ftz_scope s;
    static_cast<void>(s);
    return true;
}());

BOOST_AUTO_TEST_CASE(sets_and_restores) {
    if (!ctgrad::ftz_scope::supported) return;
    BOOST_TEST_REQUIRE(gradual());  // the process starts with gradual underflow
    BOOST_TEST(!ctgrad::subnormals_flushed());
    {
        const ctgrad::ftz_scope s;
        BOOST_TEST(ctgrad::subnormals_flushed());
        BOOST_TEST(flushing());
    }
    BOOST_TEST(!ctgrad::subnormals_flushed());
    BOOST_TEST(gradual());
}

BOOST_AUTO_TEST_CASE(nested_scopes) {
    if (!ctgrad::ftz_scope::supported) return;
    {
        const ctgrad::ftz_scope outer;
        {
            const ctgrad::ftz_scope inner;
            BOOST_TEST(flushing());
        }
        BOOST_TEST(flushing());  // the inner scope restores what the outer one set
        {
            const ctgrad::ftz_scope off(false);  // a disabled scope changes nothing
            BOOST_TEST(flushing());
        }
    }
    BOOST_TEST(gradual());
}

BOOST_AUTO_TEST_CASE(exceptions_restore) {
    if (!ctgrad::ftz_scope::supported) return;
    BOOST_CHECK_THROW(
        {
            const ctgrad::ftz_scope s;
            if (flushing()) throw expected_error("leaving the scope");
        },
        expected_error);
    BOOST_TEST(gradual());
}

BOOST_AUTO_TEST_CASE(other_bits_untouched) {
    if (!ctgrad::ftz_scope::supported) return;
    // The rounding mode is another field of the same register: kept inside and after the scope.
    const int mode = std::fegetround();
    BOOST_TEST_REQUIRE(std::fesetround(FE_UPWARD) == 0);
    {
        const ctgrad::ftz_scope s;
        BOOST_TEST(std::fegetround() == FE_UPWARD);
    }
    BOOST_TEST(std::fegetround() == FE_UPWARD);
    std::fesetround(mode);
}

BOOST_AUTO_TEST_CASE(per_thread) {
    if (!ctgrad::ftz_scope::supported) return;
    // A scope in another thread does not change this one (a thread created inside a scope
    // would inherit the bits: pthread_create copies the floating-point environment).
    bool other_flushing = false;
    std::thread t([&] {
        const ctgrad::ftz_scope s;
        other_flushing = flushing();
    });
    t.join();
    BOOST_TEST(other_flushing);
    BOOST_TEST(gradual());
}

namespace {

using fc1 = ctgrad::nn::dense<"fc1", 4, 16>;
using fc2 = ctgrad::nn::dense<"fc2", 16, 3>;
constexpr auto net = ctgrad::nn::sequential(fc1{}, ctgrad::nn::relu, fc2{});
constexpr std::size_t n = 96;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, n, 4>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, n, 3>>;
constexpr auto loss = ctgrad::softmax_cross_entropy(net(X), Y);

/// Three separable clusters in 4-d; trains fc1/fc2 with Adam for `steps` steps and returns the
/// training accuracy; `inside` is called during the first step's gradient (as an observer).
struct toy {
    ctgrad::tensor<float, n, 4> x{};
    ctgrad::tensor<float, n, 3> y{};
    toy() {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t c = i % 3;
            for (std::size_t j = 0; j < 4; ++j) {
                x(i, j) = float((j == c) ? 2.0 : 0.0) + 0.3f * std::sin(float(7 * i + 3 * j));
            }
            y(i, c) = 1.0f;
        }
    }
    double train(int steps) {
        ctgrad::nn::parameters_of<decltype(net)> p;
        ctgrad::nn::init::he(p, 3);
        ctgrad::nn::adam opt(p, {.lr = 1e-2f});
        ctgrad::program prog(loss, p.wrt());
        for (int s = 0; s < steps; ++s) opt.step(p, prog.gradient(p, X = x, Y = y));
        ctgrad::program eval(net(X));
        const auto logits = eval.value(p, X = x);
        std::size_t right = 0;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t best = 0;
            for (std::size_t c = 1; c < 3; ++c) best = logits(i, c) > logits(i, best) ? c : best;
            right += best == i % 3;
        }
        return double(right) / double(n);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(entry_points_leave_the_environment) {
    toy t;
    BOOST_TEST(ctgrad::flush_subnormals());  // on by default
    const double acc = t.train(300);
    BOOST_TEST(acc > 0.95);
    BOOST_TEST(gradual());  // the entry points restored the bits
    {
        const ctgrad::ftz_scope s;  // a loop that holds its own scope
        BOOST_TEST(t.train(300) == acc);
        BOOST_TEST(flushing());  // the entry points' scopes restored the loop's bits
    }
    ctgrad::set_flush_subnormals(false);  // the opt-out: gradual underflow everywhere
    BOOST_TEST(!ctgrad::flush_subnormals());
    BOOST_TEST(t.train(300) == acc);  // this run has no subnormals that matter
    BOOST_TEST(gradual());
    ctgrad::set_flush_subnormals(true);
}

// Observing the environment inside an entry point: an optimizer step with the opt-out keeps a
// subnormal moment, with the default flushes it.
BOOST_AUTO_TEST_CASE(optimizer_step_flushes) {
    if (!ctgrad::ftz_scope::supported) return;
    using P = ctgrad::nn::parameters_of<decltype(net)>;
    auto run = [](bool flush) {
        ctgrad::set_flush_subnormals(flush);
        P p;
        ctgrad::nn::momentum opt(p, {.lr = 0.1f, .mu = 0.5f});
        P g;  // gradient: one tiny entry, zero elsewhere
        g[fc1::W].data()[0] = std::numeric_limits<float>::min() * 4;
        opt.step(p, g);                // v = 4 min
        for (int k = 0; k < 3; ++k) {  // then zero gradients: v halves into the subnormals
            g[fc1::W].data()[0] = 0.0f;
            opt.step(p, g);
        }
        ctgrad::set_flush_subnormals(true);
        return opt.velocity()[fc1::W].data()[0];
    };
    BOOST_TEST(std::fpclassify(run(false)) == FP_SUBNORMAL);  // 4 min / 8
    BOOST_TEST(run(true) == 0.0f);
    BOOST_TEST(gradual());
}
