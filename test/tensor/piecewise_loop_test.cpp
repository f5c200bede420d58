// The backward loops of abs, max and min in the tensor engine (ops::abs_op/max_op/min_op::
// loop_partial: indicators from the comparisons' bits, no branch, as relu's): ∂ of
// sum(abs(X) ⊙ Y), sum(max(X, Z) ⊙ Y), sum(min(X, Z) ⊙ Y) and sum(max(X, X/100) ⊙ Y) (the
// expression of nn::leaky_relu) against plain loops with the documented subgradients, exactly,
// in float and double, with tails after the vector blocks (37 and 3 columns): abs'(±0) = 0 and
// abs'(NaN) = 0; a tie in max/min (x = z, including +0 against −0) sends the whole gradient to the
// first argument, a NaN argument to the second; adjoints ±∞ (∞·0 = NaN where the partial is 0,
// as the scalar partials give). Away from kinks and ties, central finite differences of the
// value agree; and in constant evaluation (static_assert) the ties give the same subgradients.
#define BOOST_TEST_MODULE tensor_piecewise_loop
#include <boost/test/unit_test.hpp>

#include <cmath>
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
constexpr auto Z = ctgrad::var<"Z", tensor<T, R, C>>;
template <class T, size_t R, size_t C>
constexpr auto Y = ctgrad::var<"Y", tensor<T, R, C>>;

template <class T>
T indicator(bool c) {
    return c ? T(1) : T(0);
}

template <class T, size_t R, size_t C>
void check(unsigned seed) {
    using lim = std::numeric_limits<T>;
    auto x = std::make_unique<tensor<T, R, C>>();
    auto z = std::make_unique<tensor<T, R, C>>();
    auto y = std::make_unique<tensor<T, R, C>>();
    // (no subnormals: the engine's entry points hold the denormals-are-zero mode)
    const T special[] = {T(0),     -T(0),           lim::min(),       -lim::min(),      T(1),
                         T(-1),    lim::infinity(), -lim::infinity(), lim::quiet_NaN(), T(1e-30),
                         T(-1e-30)};
    constexpr size_t ns = std::size(special);
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> d(-2, 2);
    for (size_t i = 0; i < R * C; ++i) {
        x->data()[i] = i < 3 * ns ? special[i % ns] : T(d(gen));
        // z: ties (z = x, and −x: +0 against −0), every special value against every other, random
        z->data()[i] = i % 4 == 0   ? x->data()[i]
                       : i % 4 == 1 ? -x->data()[i]
                       : i < 3 * ns ? special[(i * 5) % ns]
                                    : T(d(gen));
        y->data()[i] = i % 17 == 5 ? lim::infinity() : i % 19 == 7 ? -lim::infinity() : T(d(gen));
    }
    constexpr auto Xv = X<T, R, C>;
    constexpr auto Zv = Z<T, R, C>;
    constexpr auto Yv = Y<T, R, C>;
    const auto ga = ctgrad::gradient(ctgrad::sum(ctgrad::abs(Xv) * Yv), wrt(Xv), Xv = *x, Yv = *y);
    const auto gmax = ctgrad::gradient(ctgrad::sum(ctgrad::max(Xv, Zv) * Yv), wrt(Xv, Zv), Xv = *x,
                                       Zv = *z, Yv = *y);
    const auto gmin = ctgrad::gradient(ctgrad::sum(ctgrad::min(Xv, Zv) * Yv), wrt(Xv, Zv), Xv = *x,
                                       Zv = *z, Yv = *y);
    int bad = 0;
    const auto expect = [&](const char* what, size_t i, T got, T want) {
        if (!same_bits(got, want) && bad++ < 8) {
            BOOST_TEST_MESSAGE(what << " at x = " << x->data()[i] << ", z = " << z->data()[i]
                                    << ", y = " << y->data()[i] << ": " << got << ", expected "
                                    << want);
        }
    };
    for (size_t i = 0; i < R * C; ++i) {
        const T xi = x->data()[i], zi = z->data()[i], yi = y->data()[i];
        // the scalar partials' conventions, written out: sign with 0 at 0 and NaN; ties to a
        const T sign = xi > T(0) ? T(1) : (xi < T(0) ? T(-1) : T(0));
        expect("d abs(X)", i, ga[Xv].data()[i], yi * sign);
        expect("d max(X, Z)/dX", i, gmax[Xv].data()[i], yi * indicator<T>(xi >= zi));
        expect("d max(X, Z)/dZ", i, gmax[Zv].data()[i], yi * indicator<T>(!(xi >= zi)));
        expect("d min(X, Z)/dX", i, gmin[Xv].data()[i], yi * indicator<T>(xi <= zi));
        expect("d min(X, Z)/dZ", i, gmin[Zv].data()[i], yi * indicator<T>(!(xi <= zi)));
    }
    BOOST_TEST(bad == 0, (sizeof(T) == 4 ? "float " : "double ") + std::to_string(R) + "x" +
                             std::to_string(C));
}

/// Central differences of the value of sum(f(X, Z) ⊙ Y) in double, at points at least 0.05 away
/// from abs's kink and from max/min's ties, against the gradient; leaky relu included.
template <size_t R, size_t C>
void finite_differences(unsigned seed) {
    using T = double;
    constexpr auto Xv = X<T, R, C>;
    constexpr auto Zv = Z<T, R, C>;
    constexpr auto Yv = Y<T, R, C>;
    auto x = std::make_unique<tensor<T, R, C>>();
    auto z = std::make_unique<tensor<T, R, C>>();
    auto y = std::make_unique<tensor<T, R, C>>();
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> d(-2, 2);
    for (size_t i = 0; i < R * C; ++i) {
        do {
            x->data()[i] = d(gen);
            z->data()[i] = d(gen);
        } while (std::fabs(x->data()[i]) < 0.05 || std::fabs(x->data()[i] - z->data()[i]) < 0.05);
        y->data()[i] = d(gen);
    }
    const auto fd = [&](const auto& f, auto& t, size_t i) {
        const T h = 1e-6, keep = t.data()[i];
        t.data()[i] = keep + h;
        const T up = ctgrad::value(f, Xv = *x, Zv = *z, Yv = *y);
        t.data()[i] = keep - h;
        const T down = ctgrad::value(f, Xv = *x, Zv = *z, Yv = *y);
        t.data()[i] = keep;
        return (up - down) / (2 * h);
    };
    const auto run = [&](const char* what, const auto& f) {
        const auto g = ctgrad::gradient(f, wrt(Xv, Zv), Xv = *x, Zv = *z, Yv = *y);
        for (size_t i = 0; i < R * C; ++i) {
            BOOST_TEST(g[Xv].data()[i] == fd(f, *x, i),
                       what << " dX " << i << boost::test_tools::tolerance(1e-6));
            BOOST_TEST(g[Zv].data()[i] == fd(f, *z, i),
                       what << " dZ " << i << boost::test_tools::tolerance(1e-6));
        }
    };
    // (+ 0·Z: every case differentiable in Z, so one wrt list serves all)
    run("abs", ctgrad::sum(ctgrad::abs(Xv) * Yv + Zv * 0.0));
    run("max", ctgrad::sum(ctgrad::max(Xv, Zv) * Yv));
    run("min", ctgrad::sum(ctgrad::min(Xv, Zv) * Yv));
    run("leaky relu", ctgrad::sum(ctgrad::max(Xv, ctgrad::lit<1, 100> * Xv) * Yv + Zv * 0.0));
}

// Constant evaluation: abs' at −1, ±0, 2; max and min at a tie (to the first argument), below
// and above; adjoints 3, 4, 5, 6.
constexpr auto Xc = ctgrad::var<"Xc", tensor<double, 1, 4>>;
constexpr auto Zc = ctgrad::var<"Zc", tensor<double, 1, 4>>;
constexpr auto Yc = ctgrad::var<"Yc", tensor<double, 1, 4>>;
constexpr tensor<double, 1, 4> xc{{-1.0, 0.0, -0.0, 2.0}};
constexpr tensor<double, 1, 4> zc{{-1.0, -0.0, 1.0, 1.0}};  // ties at 0 and 1; x < z; x > z
constexpr tensor<double, 1, 4> yc{{3.0, 4.0, 5.0, 6.0}};
constexpr auto gac = ctgrad::gradient(ctgrad::sum(ctgrad::abs(Xc) * Yc), wrt(Xc), Xc = xc, Yc = yc);
static_assert(gac[Xc].data()[0] == -3.0 && gac[Xc].data()[1] == 0.0 && gac[Xc].data()[2] == 0.0 &&
              gac[Xc].data()[3] == 6.0);
constexpr auto gmaxc =
    ctgrad::gradient(ctgrad::sum(ctgrad::max(Xc, Zc) * Yc), wrt(Xc, Zc), Xc = xc, Zc = zc, Yc = yc);
static_assert(gmaxc[Xc].data()[0] == 3.0 && gmaxc[Xc].data()[1] == 4.0 &&
              gmaxc[Xc].data()[2] == 0.0 && gmaxc[Xc].data()[3] == 6.0);
static_assert(gmaxc[Zc].data()[0] == 0.0 && gmaxc[Zc].data()[1] == 0.0 &&
              gmaxc[Zc].data()[2] == 5.0 && gmaxc[Zc].data()[3] == 0.0);
constexpr auto gminc =
    ctgrad::gradient(ctgrad::sum(ctgrad::min(Xc, Zc) * Yc), wrt(Xc, Zc), Xc = xc, Zc = zc, Yc = yc);
static_assert(gminc[Xc].data()[0] == 3.0 && gminc[Xc].data()[1] == 4.0 &&
              gminc[Xc].data()[2] == 5.0 && gminc[Xc].data()[3] == 0.0);
static_assert(gminc[Zc].data()[0] == 0.0 && gminc[Zc].data()[1] == 0.0 &&
              gminc[Zc].data()[2] == 0.0 && gminc[Zc].data()[3] == 6.0);

}  // namespace

BOOST_AUTO_TEST_CASE(float_rows) {
    check<float, 3, 37>(1);
    check<float, 5, 3>(2);
}

BOOST_AUTO_TEST_CASE(double_rows) {
    check<double, 3, 37>(4);
    check<double, 5, 3>(5);
}

BOOST_AUTO_TEST_CASE(finite_differences_away_from_ties) {
    finite_differences<3, 7>(7);
}
