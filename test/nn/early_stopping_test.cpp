// nn::early_stopping: best epochs, patience, min_delta, both directions, NaN.
#define BOOST_TEST_MODULE nn_early_stopping
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ctgrad/nn/early_stopping.hpp>

namespace nn = ctgrad::nn;

namespace {
struct trace {
    std::vector<bool> best, stop;
};
trace run(nn::early_stopping s, const std::vector<double>& values) {
    trace t;
    for (double v : values) {
        const auto r = s.update(v);
        t.best.push_back(r.best);
        t.stop.push_back(r.stop);
    }
    return t;
}
}  // namespace

BOOST_AUTO_TEST_CASE(minimize_with_patience) {
    const trace t =
        run(nn::early_stopping({.patience = 2}), {1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.8, 0.9});
    BOOST_TEST(t.best == (std::vector<bool>{true, true, false, false, true, false, false, false}));
    // two epochs without improvement are tolerated, the third stops
    BOOST_TEST(t.stop ==
               (std::vector<bool>{false, false, false, false, false, false, false, true}));
}

BOOST_AUTO_TEST_CASE(maximize_and_min_delta) {
    nn::early_stopping s({.patience = 0, .mode = nn::early_stopping::maximize, .min_delta = 0.01});
    BOOST_TEST(s.update(0.80).best);
    const auto small = s.update(0.805);  // better, but not by more than min_delta
    BOOST_TEST(!small.best);
    BOOST_TEST(small.stop);  // patience 0
    BOOST_TEST(s.best() == 0.80);
    BOOST_TEST(s.best_epoch() == 1u);
    BOOST_TEST(s.epochs_since_best() == 1u);
    BOOST_TEST(s.update(0.9).best);
    BOOST_TEST(s.best_epoch() == 3u);
}

BOOST_AUTO_TEST_CASE(nan_never_improves) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    nn::early_stopping s({.patience = 1});
    BOOST_TEST(!s.update(nan).best);  // a NaN first value is not a best
    BOOST_TEST(std::isnan(s.best()));
    BOOST_TEST(s.update(2.0).best);
    BOOST_TEST(!s.update(nan).best);
    BOOST_TEST(s.update(nan).stop);
    BOOST_TEST(s.best() == 2.0);
}

BOOST_AUTO_TEST_CASE(negative_min_delta_is_an_error) {
    BOOST_CHECK_THROW(nn::early_stopping({.min_delta = -1.0}), std::invalid_argument);
}
