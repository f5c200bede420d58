// A training step through ctgrad::program performs no heap allocation: the workspace is
// allocated once, by the program's constructor. Checked by counting every call of the global
// operator new in this test executable.
#define BOOST_TEST_MODULE tensor_no_allocation
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/counting_new.hpp"  // ctgrad::test::allocations

using ctgrad::test::allocations;

namespace {
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 16, 20>>;
constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, 16, 5>>;
constexpr auto net = ctgrad::nn::sequential(ctgrad::nn::dense<"fc1", 20, 30>{}, ctgrad::nn::tanh,
                                            ctgrad::nn::dense<"fc2", 30, 5>{});
}  // namespace

BOOST_AUTO_TEST_CASE(training_steps_do_not_allocate) {
    auto x = std::make_unique<ctgrad::tensor<float, 16, 20>>();
    auto y = std::make_unique<ctgrad::tensor<float, 16, 5>>();
    for (std::size_t i = 0; i < x->size(); ++i) x->data()[i] = float(i % 17) / 17.0f - 0.5f;
    for (std::size_t r = 0; r < 16; ++r) (*y)(r, r % 5) = 1.0f;
    ctgrad::nn::parameters_of<decltype(net)> params;
    ctgrad::nn::init::xavier(params, 7);
    const auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
    ctgrad::program prog(loss, params.wrt());

    const std::size_t before = allocations.load();
    float first = 0, last = 0;
    for (int step = 0; step < 50; ++step) {
        const auto g = prog.gradient(params, X = *x, Y = *y);
        (step == 0 ? first : last) = g.value;
        ctgrad::nn::sgd_step(params, g, 0.5f);
        static_cast<void>(prog.value(params, X = *x, Y = *y));
    }
    const std::size_t during = allocations.load() - before;
    BOOST_TEST(during == 0u);
    BOOST_TEST(last < first);  // the steps did train
}

BOOST_AUTO_TEST_CASE(the_counter_counts) {
    // The check above could pass vacuously if the replacement were not used: it is.
    const std::size_t before = allocations.load();
    auto p = std::make_unique<int>(1);
    BOOST_TEST(allocations.load() == before + 1);
    BOOST_TEST(*p == 1);
}
