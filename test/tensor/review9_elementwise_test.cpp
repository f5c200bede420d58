// An outside tester's elementwise chains (ninth pass) through the vectorised exp, log, log1p,
// tanh, sigmoid and erf of the tensor engine's loops, at lengths that leave a tail for every
// vector width (1, 7, 9, 37, 131 elements; [3, 37] and [5, 1, 3, 9]), with arguments from −40 to
// 40 (saturation, underflow of exp(−x²)): every value and gradient element against the same
// function as a scalar ctgrad expression at that element (std:: functions at run time, an
// independent path), in float and double, and in double against central differences.
#define BOOST_TEST_MODULE tensor_review9_elementwise
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/tensor_fd.hpp"

using ctgrad::tensor;
using std::size_t;

namespace {

constexpr auto s = ctgrad::var<"s">;

/// f(x) = log1p(exp(−x²)) + tanh(x)·sigmoid(2x) − log(1 + sigmoid(x)) + erf(0.5x)·exp(0.1x)
template <class E>
constexpr auto f(const E& x) {
    return ctgrad::log1p(ctgrad::exp(-ctgrad::square(x))) +
           ctgrad::tanh(x) * ctgrad::sigmoid(2.0 * x) - ctgrad::log(1.0 + ctgrad::sigmoid(x)) +
           ctgrad::erf(0.5 * x) * ctgrad::exp(0.1 * x);
}

template <class T, size_t... D>
void fill(tensor<T, D...>& t, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-4, 4);
    size_t i = 0;
    for (auto& e : t) {
        // mostly moderate arguments, a few far out (saturation and underflow), one exact 0
        const double v = i % 11 == 3 ? 40.0 * u(rng) / 4 : (i % 13 == 5 ? 0.0 : u(rng));
        e = static_cast<T>(v);
        ++i;
    }
}

template <class T, size_t... D>
void check() {
    BOOST_TEST_CONTEXT((sizeof(T) == 4 ? "float" : "double")
                       << " of " << (D * ...) << " elements") {
        constexpr auto X = ctgrad::var<"X", tensor<T, D...>>;
        constexpr auto R = ctgrad::var<"R", tensor<T, D...>>;
        tensor<T, D...> x, r;
        fill(x, 3 + unsigned((D * ...)));
        std::mt19937 rng(17);
        std::uniform_real_distribution<double> u(-1, 1);
        for (auto& e : r) e = static_cast<T>(u(rng));
        const auto loss = ctgrad::sum(f(X) * R);
        const auto g = ctgrad::gradient(loss, ctgrad::wrt(X), X = x, R = r);
        ctgrad::program prog(loss, ctgrad::wrt(X));
        const auto gp = prog.gradient(X = x, R = r);
        const auto fx = ctgrad::value(f(X), X = x);
        // scalar reference, in double; float is compared with a tolerance of a few float ulps of
        // the terms' sizes
        const double tol = sizeof(T) == 4 ? 3e-6 : 4e-15;
        double sum = 0, mag = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            const double xi = double(x.data()[i]);
            const auto gs = ctgrad::gradient(f(s), s = xi);
            const double scale_v = 1 + std::abs(xi);  // the terms are at most ~|x| in size
            BOOST_TEST(std::abs(double(fx.data()[i]) - gs.value) <= tol * scale_v,
                       "f at x = " << xi << ": " << fx.data()[i] << ", scalar " << gs.value);
            const double want = gs[s] * double(r.data()[i]);
            BOOST_TEST(std::abs(double(g[X].data()[i]) - want) <= tol * 4,
                       "gradient at x = " << xi << ": " << g[X].data()[i] << ", scalar " << want);
            BOOST_TEST(g[X].data()[i] == gp[X].data()[i]);  // program and gradient: same loops
            BOOST_TEST(std::isfinite(double(g[X].data()[i])));
            sum += gs.value * double(r.data()[i]);
            mag += std::abs(gs.value * double(r.data()[i]));
        }
        BOOST_TEST(std::abs(double(g.value) - sum) <= tol * (1 + mag));
        if constexpr (std::is_same_v<T, double>) {
            ctgrad::test::check_fd(loss, ctgrad::wrt(X), X = x, R = r);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(double_odd_lengths) {
    check<double, 1>();
    check<double, 7>();
    check<double, 9>();
    check<double, 37>();
    check<double, 131>();
    check<double, 3, 37>();
    check<double, 5, 1, 3, 9>();
}

BOOST_AUTO_TEST_CASE(float_odd_lengths) {
    check<float, 1>();
    check<float, 7>();
    check<float, 9>();
    check<float, 37>();
    check<float, 131>();
    check<float, 3, 37>();
    check<float, 5, 1, 3, 9>();
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_with_extreme_logits) {
    // rows of 7 logits far apart (±1000), all equal, one huge and the rest tiny; soft targets in
    // the last row: the loss is finite and the gradient is (softmax − y)/N, in float and double
    const double rows[5][7] = {{1000, -1000, 0, 999.5, -3, 2, 1},
                               {-1000, -1000, -1000, -1000, -1000, -1000, -1000},
                               {88.5, -88.5, 700, -700, 0.5, 0, 0},
                               {1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 7e-3},
                               {30, 31, 32, 33, 34, 35, 36}};
    const double targets[5][7] = {{0, 1, 0, 0, 0, 0, 0},
                                  {0, 0, 0, 0, 0, 0, 1},
                                  {0, 0, 0, 1, 0, 0, 0},
                                  {1, 0, 0, 0, 0, 0, 0},
                                  {0.25, 0, 0.25, 0, 0.5, 0, 0}};
    const auto run = [&](auto zero) {
        using T = decltype(zero);
        constexpr auto Z = ctgrad::var<"Z", tensor<T, 5, 7>>;
        constexpr auto Y = ctgrad::var<"Y", tensor<T, 5, 7>>;
        tensor<T, 5, 7> z, y;
        for (size_t r = 0; r < 5; ++r)
            for (size_t c = 0; c < 7; ++c) z(r, c) = T(rows[r][c]), y(r, c) = T(targets[r][c]);
        const auto g =
            ctgrad::gradient(ctgrad::softmax_cross_entropy(Z, Y), ctgrad::wrt(Z), Z = z, Y = y);
        double loss = 0;
        for (size_t r = 0; r < 5; ++r) {
            double mx = -1e300;
            for (size_t c = 0; c < 7; ++c) mx = std::max(mx, double(z(r, c)));
            double s = 0;
            for (size_t c = 0; c < 7; ++c) s += std::exp(double(z(r, c)) - mx);
            for (size_t c = 0; c < 7; ++c) {
                const double lp = double(z(r, c)) - mx - std::log(s);
                loss -= double(y(r, c)) * lp / 5;
                const double want = (std::exp(lp) - double(y(r, c))) / 5;
                BOOST_TEST(std::abs(double(g[Z](r, c)) - want) <= (sizeof(T) == 4 ? 1e-7 : 1e-16),
                           "row " << r << ", column " << c << ": " << g[Z](r, c) << " vs " << want);
            }
        }
        BOOST_TEST(std::isfinite(double(g.value)));
        BOOST_TEST(std::abs(double(g.value) - loss) <= (sizeof(T) == 4 ? 1e-6 : 1e-13) * loss);
    };
    run(0.0);
    run(0.0f);
}
