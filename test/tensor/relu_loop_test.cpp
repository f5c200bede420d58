// The backward loop of relu in the tensor engine (ops::relu_op::loop_partial: [x > 0] from the
// comparison's bits, no branch, so the loop vectorises): ∂/∂X of sum(relu(X) ⊙ Y) and of
// sum(relu(X ⊙ s + c) ⊙ Y) against a plain loop (y where x > 0, else y·0), exactly, in float and
// double, on rows whose length leaves tails after the vector blocks (37, 3 and 64 columns), at
// the kink and around it: x = ±0, the smallest normal number of each sign, ±1, ±inf, NaN, and a
// dense random part; adjoints ±inf (inf·0 = NaN where relu' = 0, as the scalar partial gives);
// and in constant evaluation (static_assert), where the same loop_partial runs.
#define BOOST_TEST_MODULE tensor_relu_loop
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include <ctgrad/ctgrad.hpp>

#include "support/same_bits.hpp"

namespace {

using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::same_bits;
using std::size_t;

template <class T, size_t R, size_t C>
constexpr auto X = ctgrad::var<"X", tensor<T, R, C>>;
template <class T, size_t R, size_t C>
constexpr auto Y = ctgrad::var<"Y", tensor<T, R, C>>;

template <class T, size_t R, size_t C>
void check(unsigned seed) {
    using lim = std::numeric_limits<T>;
    auto x = std::make_unique<tensor<T, R, C>>();
    auto y = std::make_unique<tensor<T, R, C>>();
    // (no subnormals: the engine's entry points hold the denormals-are-zero mode)
    const T special[] = {T(0),     -T(0),           lim::min(),       -lim::min(),      T(1),
                         T(-1),    lim::infinity(), -lim::infinity(), lim::quiet_NaN(), T(1e-30),
                         T(-1e-30)};
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> d(-2, 2);
    for (size_t i = 0; i < R * C; ++i) {
        x->data()[i] = i < 3 * std::size(special) ? special[i % std::size(special)] : T(d(gen));
        y->data()[i] = i % 17 == 5 ? lim::infinity() : i % 19 == 7 ? -lim::infinity() : T(d(gen));
    }
    constexpr auto Xv = X<T, R, C>;
    constexpr auto Yv = Y<T, R, C>;
    const auto g = ctgrad::gradient(ctgrad::sum(ctgrad::relu(Xv) * Yv), wrt(Xv), Xv = *x, Yv = *y);
    // through an affine argument too: relu(2x + 0.5), relu' at 2x + 0.5
    const auto h = ctgrad::gradient(ctgrad::sum(ctgrad::relu(Xv * T(2) + T(0.5)) * Yv), wrt(Xv),
                                    Xv = *x, Yv = *y);
    int bad = 0;
    for (size_t i = 0; i < R * C; ++i) {
        const T xi = x->data()[i], yi = y->data()[i];
        const T want = yi * (xi > T(0) ? T(1) : T(0));
        const T z = xi * T(2) + T(0.5);
        const T want_h = (yi * (z > T(0) ? T(1) : T(0))) * T(2);
        if (!same_bits(g[Xv].data()[i], want) && bad++ < 5) {
            BOOST_TEST_MESSAGE("relu(X) at x = " << xi << ", y = " << yi << ": " << g[Xv].data()[i]
                                                 << ", expected " << want);
        }
        if (!same_bits(h[Xv].data()[i], want_h) && bad++ < 5) {
            BOOST_TEST_MESSAGE("relu(2X + 0.5) at x = " << xi << ", y = " << yi << ": "
                                                        << h[Xv].data()[i] << ", expected "
                                                        << want_h);
        }
    }
    BOOST_TEST(bad == 0, (sizeof(T) == 4 ? "float " : "double ") + std::to_string(R) + "x" +
                             std::to_string(C));
}

// Constant evaluation: relu' of -1, 0, 2 times the adjoints 3, 4, 5.
constexpr auto Xc = ctgrad::var<"Xc", tensor<double, 1, 3>>;
constexpr tensor<double, 1, 3> xc{{-1.0, 0.0, 2.0}};
constexpr auto gc = ctgrad::gradient(
    ctgrad::sum(ctgrad::relu(Xc) * ctgrad::var<"Yc", tensor<double, 1, 3>>), wrt(Xc), Xc = xc,
    ctgrad::var<"Yc", tensor<double, 1, 3>> = tensor<double, 1, 3>{{3.0, 4.0, 5.0}});
static_assert(gc[Xc].data()[0] == 0.0 && gc[Xc].data()[1] == 0.0 && gc[Xc].data()[2] == 5.0);

}  // namespace

BOOST_AUTO_TEST_CASE(float_rows) {
    check<float, 3, 37>(1);
    check<float, 5, 3>(2);
    check<float, 4, 64>(3);
}

BOOST_AUTO_TEST_CASE(double_rows) {
    check<double, 3, 37>(4);
    check<double, 5, 3>(5);
    check<double, 4, 64>(6);
}
