// The loop kernels of math/vector.hpp (exp, expm1, log, log1p, tanh, sigmoid of float and
// double) against references of more precision: every 127th float bit pattern (34 million
// inputs over every binade, both signs, subnormals, infinities and NaNs; all 2^32 with
// CTGRAD_EXHAUSTIVE=1 in the environment) against double, and 2^22 doubles spread over every
// binade plus 2^21 over each function's interesting range against long double. Bounds: 2 ulp
// in float, 4 ulp in double (the maxima measured are logged, --log_level=message, and printed).
// The kernels run in a loop over an array, as in the tensor engine, so the test checks the
// vectorised code the compiler makes of them. Edge cases and constant evaluation separately.
#define BOOST_TEST_MODULE math_vector
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/math/vector.hpp>

#include "support/ulp.hpp"

namespace vec = ctgrad::math::vec;
using ctgrad::test::ulp_error;

namespace {

// The functions under test, as loops over arrays (what the engine runs).
enum class fn { exp, expm1, log, log1p, tanh, sigmoid };
constexpr const char* fn_names[] = {"exp", "expm1", "log", "log1p", "tanh", "sigmoid"};

template <fn F, class T>
__attribute__((noinline)) void run_kernel(const T* __restrict x, T* __restrict y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (F == fn::exp) y[i] = vec::exp(x[i]);
        if constexpr (F == fn::expm1) y[i] = vec::expm1(x[i]);
        if constexpr (F == fn::log) y[i] = vec::log(x[i]);
        if constexpr (F == fn::log1p) y[i] = vec::log1p(x[i]);
        if constexpr (F == fn::tanh) y[i] = vec::tanh(x[i]);
        if constexpr (F == fn::sigmoid) y[i] = vec::sigmoid(x[i]);
    }
}

template <fn F, class R>
R reference(R x) {
    if constexpr (F == fn::exp) return std::exp(x);
    if constexpr (F == fn::expm1) return std::expm1(x);
    if constexpr (F == fn::log) return std::log(x);
    if constexpr (F == fn::log1p) return std::log1p(x);
    if constexpr (F == fn::tanh) return std::tanh(x);
    if constexpr (F == fn::sigmoid) {
        return x >= 0 ? R(1) / (R(1) + std::exp(-x)) : std::exp(x) / (R(1) + std::exp(x));
    }
}

struct worst {
    double ulps = 0;
    double at = 0;
    std::size_t count = 0;
};

template <fn F, class T, class R>
void measure(const std::vector<T>& x, worst& w) {
    std::vector<T> y(x.size());
    run_kernel<F>(x.data(), y.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = ulp_error(y[i], reference<F>(static_cast<R>(x[i])));
        if (!(e <= w.ulps)) {
            w.ulps = e;
            w.at = static_cast<double>(x[i]);
        }
    }
    w.count += x.size();
}

template <fn F>
worst sweep_float() {
    const bool all = std::getenv("CTGRAD_EXHAUSTIVE") != nullptr;
    const std::uint64_t stride = all ? 1 : 127;
    worst w;
    std::vector<float> x;
    x.reserve(1 << 20);
    for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += stride) {
        x.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b)));
        if (x.size() == (1u << 20)) {
            measure<F, float, double>(x, w);
            x.clear();
        }
    }
    measure<F, float, double>(x, w);
    return w;
}

template <fn F>
worst sweep_double() {
    worst w;
    std::vector<double> x;
    ctgrad::test::sample_source s(13);
    // every binade: bit patterns evenly spaced, with random low bits
    const std::uint64_t n = std::uint64_t{1} << 22, step = ~std::uint64_t{0} / n;
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto jitter = static_cast<std::uint64_t>(s.next() * 0x1p40);
        x.push_back(std::bit_cast<double>(i * step + jitter));
    }
    // the function's interesting range, uniform in value
    const double lo = F == fn::log ? 0 : F == fn::log1p ? -1 : F == fn::tanh ? -20 : -746;
    const double hi = F == fn::log ? 4 : F == fn::log1p ? 4 : F == fn::tanh ? 20 : 710;
    ctgrad::test::add_linear(x, lo, hi, 1 << 21, 5);
    ctgrad::test::add_linear(x, -1, 1, 1 << 20, 7);
    measure<F, double, long double>(x, w);
    return w;
}

template <fn F>
void check_accuracy() {
    const worst wf = sweep_float<F>();
    const worst wd = sweep_double<F>();
    std::printf(
        "%-8s float: max %.3f ulp at %.9g (%zu inputs); double: max %.3f ulp at %.17g "
        "(%zu inputs)\n",
        fn_names[static_cast<int>(F)], wf.ulps, wf.at, wf.count, wd.ulps, wd.at, wd.count);
    BOOST_TEST_MESSAGE(fn_names[static_cast<int>(F)] << " float max " << wf.ulps << " ulp at "
                                                     << wf.at << ", double max " << wd.ulps
                                                     << " ulp at " << wd.at);
    BOOST_TEST(wf.ulps <= 2.0,
               fn_names[static_cast<int>(F)] << " float: " << wf.ulps << " ulp at " << wf.at);
    BOOST_TEST(wd.ulps <= 4.0,
               fn_names[static_cast<int>(F)] << " double: " << wd.ulps << " ulp at " << wd.at);
}

/// One value through the loop kernel.
template <fn F, class T>
T one(T x) {
    T y{};
    run_kernel<F>(&x, &y, 1);
    return y;
}

}  // namespace

// The kernels themselves are constexpr (bit_cast, no intrinsics): evaluated by the compiler, they
// must land within 2 ulp of the true values (30-digit references from mpmath). vec::f in constant
// evaluation uses math::f, whose accuracy test/math checks separately.
namespace {
template <class T>
constexpr bool near_ulp(T got, long double truth, int ulps = 2) {
    const long double d = static_cast<long double>(got) - truth;
    const long double tol = ulps * static_cast<long double>(std::numeric_limits<T>::epsilon()) *
                            (truth < 0 ? -truth : truth);
    return (d < 0 ? -d : d) <= tol;
}
constexpr long double e_ = 2.71828182845904523536028747135L;
constexpr long double tanh_half = 0.462117157260009758502318483644L;
constexpr long double log1p_milli = 0.000999500333083533166809398920535L;
constexpr long double log_3 = 1.09861228866810969139524523692L;
constexpr long double expm1_quarter = -0.221199216928595131754829733022L;
constexpr long double sigmoid_2 = 0.880797077977882444059729141302L;
constexpr long double exp_m20 = 0.00000000206115362243855782796594038016L;
}  // namespace
static_assert(near_ulp(vec::kernel::exp(1.0), e_) && near_ulp(vec::kernel::exp(1.0f), e_));
static_assert(near_ulp(vec::kernel::exp(-20.0), exp_m20) &&
              near_ulp(vec::kernel::exp(-20.0f), exp_m20));
static_assert(near_ulp(vec::kernel::tanh(0.5), tanh_half) &&
              near_ulp(vec::kernel::tanh(0.5f), tanh_half));
static_assert(near_ulp(vec::kernel::log1p(1e-3), log1p_milli) &&
              near_ulp(vec::kernel::log1p(1e-3f), log1p_milli));
static_assert(near_ulp(vec::kernel::log(3.0), log_3) && near_ulp(vec::kernel::log(3.0f), log_3));
static_assert(near_ulp(vec::kernel::expm1(-0.25), expm1_quarter) &&
              near_ulp(vec::kernel::expm1(-0.25f), expm1_quarter));
static_assert(near_ulp(vec::kernel::sigmoid(2.0), sigmoid_2) &&
              near_ulp(vec::kernel::sigmoid(2.0f), sigmoid_2));
static_assert(vec::kernel::exp(0.0) == 1.0 && vec::kernel::log(1.0f) == 0.0f);

BOOST_AUTO_TEST_CASE(accuracy_exp) {
    check_accuracy<fn::exp>();
}
BOOST_AUTO_TEST_CASE(accuracy_expm1) {
    check_accuracy<fn::expm1>();
}
BOOST_AUTO_TEST_CASE(accuracy_log) {
    check_accuracy<fn::log>();
}
BOOST_AUTO_TEST_CASE(accuracy_log1p) {
    check_accuracy<fn::log1p>();
}
BOOST_AUTO_TEST_CASE(accuracy_tanh) {
    check_accuracy<fn::tanh>();
}
BOOST_AUTO_TEST_CASE(accuracy_sigmoid) {
    check_accuracy<fn::sigmoid>();
}

template <class T>
void check_edges() {
    constexpr T inf = std::numeric_limits<T>::infinity();
    constexpr T nan = std::numeric_limits<T>::quiet_NaN();
    constexpr T den = std::numeric_limits<T>::denorm_min();
    constexpr T big = std::is_same_v<T, float> ? T(88.8) : T(709.8);     // e^x overflows
    constexpr T under = std::is_same_v<T, float> ? T(-100) : T(-740);    // e^x is subnormal
    constexpr T zero_at = std::is_same_v<T, float> ? T(-104) : T(-746);  // e^x rounds to 0
    BOOST_TEST(one<fn::exp>(inf) == inf);
    BOOST_TEST(one<fn::exp>(-inf) == T(0));
    BOOST_TEST(std::isnan(one<fn::exp>(nan)));
    BOOST_TEST(one<fn::exp>(big) == inf);
    BOOST_TEST(one<fn::exp>(T(1000)) == inf);
    BOOST_TEST(std::fpclassify(one<fn::exp>(under)) == FP_SUBNORMAL);
    BOOST_TEST(one<fn::exp>(under) == std::exp(under));
    BOOST_TEST(one<fn::exp>(zero_at) == T(0));
    BOOST_TEST(one<fn::exp>(T(0)) == T(1));
    BOOST_TEST(one<fn::exp>(-T(0)) == T(1));
    BOOST_TEST(one<fn::expm1>(inf) == inf);
    BOOST_TEST(one<fn::expm1>(-inf) == T(-1));
    BOOST_TEST(std::signbit(one<fn::expm1>(-T(0))));
    BOOST_TEST(one<fn::expm1>(den) == den);
    BOOST_TEST(std::isnan(one<fn::expm1>(nan)));
    BOOST_TEST(one<fn::expm1>(big) == inf);
    BOOST_TEST(one<fn::log>(T(0)) == -inf);
    BOOST_TEST(one<fn::log>(-T(0)) == -inf);
    BOOST_TEST(std::isnan(one<fn::log>(T(-1))));
    BOOST_TEST(std::isnan(one<fn::log>(-inf)));
    BOOST_TEST(std::isnan(one<fn::log>(nan)));
    BOOST_TEST(one<fn::log>(inf) == inf);
    BOOST_TEST(one<fn::log>(T(1)) == T(0));
    BOOST_TEST(ulp_error(one<fn::log>(den), std::log(static_cast<long double>(den))) <= 1.0);
    BOOST_TEST(one<fn::log1p>(T(-1)) == -inf);
    BOOST_TEST(std::isnan(one<fn::log1p>(T(-2))));
    BOOST_TEST(one<fn::log1p>(inf) == inf);
    BOOST_TEST(std::signbit(one<fn::log1p>(-T(0))));
    BOOST_TEST(one<fn::log1p>(-den) == -den);
    BOOST_TEST(std::isnan(one<fn::log1p>(nan)));
    BOOST_TEST(one<fn::tanh>(inf) == T(1));
    BOOST_TEST(one<fn::tanh>(-inf) == T(-1));
    BOOST_TEST(one<fn::tanh>(T(50)) == T(1));
    BOOST_TEST(std::signbit(one<fn::tanh>(-T(0))));
    BOOST_TEST(one<fn::tanh>(-den) == -den);
    BOOST_TEST(std::isnan(one<fn::tanh>(nan)));
    BOOST_TEST(one<fn::sigmoid>(inf) == T(1));
    BOOST_TEST(one<fn::sigmoid>(-inf) == T(0));
    BOOST_TEST(one<fn::sigmoid>(T(800)) == T(1));
    BOOST_TEST(one<fn::sigmoid>(T(-800)) == T(0));
    BOOST_TEST(one<fn::sigmoid>(T(0)) == T(0.5));
    BOOST_TEST(std::fpclassify(one<fn::sigmoid>(under)) == FP_SUBNORMAL);  // gradual underflow
    BOOST_TEST(std::isnan(one<fn::sigmoid>(nan)));
}

BOOST_AUTO_TEST_CASE(edges_float) {
    check_edges<float>();
}
BOOST_AUTO_TEST_CASE(edges_double) {
    check_edges<double>();
}

// Under FTZ/DAZ, subnormal results flush to zero (what the training entry points run with).
BOOST_AUTO_TEST_CASE(flushed_results) {
    if (!ctgrad::ftz_scope::supported) return;
    const ctgrad::ftz_scope ftz;
    BOOST_TEST(one<fn::exp>(-100.0f) == 0.0f);
    BOOST_TEST(one<fn::exp>(-740.0) == 0.0);
    BOOST_TEST(one<fn::exp>(-80.0f) == std::exp(-80.0f));  // normal results unchanged
}
