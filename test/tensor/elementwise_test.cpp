// Elementwise ops on tensors (tensor/shape.hpp, tensor/program.hpp): every scalar function of
// ctgrad applied to a tensor, and the broadcasting rule (equal shapes, a scalar with anything,
// a row [O] over [N, O], a column [N, 1] over [N, O]):
//  - value() of a non-scalar expression equals the same formula evaluated with plain loops:
//    bit for bit where both use the same operations (arithmetic, std:: functions), within a
//    stated tolerance of a long double reference where the engine uses its own kernels (exp,
//    log, log1p, tanh, sigmoid: math/vector.hpp);
//  - gradients agree with central finite differences (double), and float agrees with double;
//  - the structures the sweep schedules differently: fan-out (X*X, a subexpression with two
//    consumers), broadcast adjoints (summed over rows, over columns, over everything), chains
//    of inlined ops, an expensive op stored for one consumer or for two, reductions of
//    broadcast expressions, scalar subexpressions broadcast over tensors, wrt(...) subsets,
//    and a variable seen only through a locally constant op (zero gradient).
#define BOOST_TEST_MODULE tensor_elementwise
#include <boost/test/unit_test.hpp>

#include <algorithm>    // std::max
#include <cmath>        // std::sqrt, std::sin, ...
#include <cstddef>      // std::size_t
#include <functional>   // std::function
#include <limits>       // std::numeric_limits
#include <random>       // std::mt19937, std::uniform_real_distribution
#include <string>       // std::string
#include <tuple>        // std::tuple, std::apply
#include <type_traits>  // std::is_same_v
#include <utility>      // std::index_sequence
#include <vector>       // std::vector

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"
#include "support/tensor_fd.hpp"
#include "support/ulp.hpp"

// The references are independent of the engine's kernels (math/vector.hpp: exp, log, log1p,
// tanh, sigmoid): std:: functions in long double (64-bit mantissa on x86-64). The kernels are
// within 2 ulp in float and 4 in double (test/math/vector_math_test.cpp), std::'s within 1: a
// single function's value must be within `fn_ulps` of the long double result; a formula of
// several terms within `formula_eps` times the sum of its terms' magnitudes (each term within
// 8 ulp, a product of two such, and one rounding per operation).
using ld = long double;
constexpr double fn_ulps = 4;
template <class T>
constexpr ld formula_eps = 16 * ld(std::numeric_limits<T>::epsilon());

namespace {

using ctgrad::test::check_fd;
using ctgrad::test::check_fd_impl;
using ctgrad::test::gradient_of;

using ctgrad::tensor;
using ctgrad::wrt;
using std::size_t;

template <class T>
using mat = tensor<T, 3, 4>;

// The variables of most cases: two [3, 4] matrices, a row vector [4] (broadcast over the
// rows), a column [3, 1] (broadcast over the columns), a scalar, and fixed weights Wt that
// give every element of a non-scalar expression its own cotangent (sum(Wt * f(A))).
template <class T>
constexpr auto A = ctgrad::var<"A", mat<T>>;
template <class T>
constexpr auto B = ctgrad::var<"B", mat<T>>;
template <class T>
constexpr auto r = ctgrad::var<"r", tensor<T, 4>>;
template <class T>
constexpr auto c = ctgrad::var<"c", tensor<T, 3, 1>>;
template <class T>
constexpr auto Wt = ctgrad::var<"Wt", mat<T>>;
constexpr auto s = ctgrad::var<"s">;

// --- data ---

/// Uniform in [lo, hi].
template <class T, size_t... D>
tensor<T, D...> uniform(std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    tensor<T, D...> t{};
    for (T& e : t) e = static_cast<T>(dist(rng));
    return t;
}

/// Magnitudes in [lo, hi] with random signs: away from the kinks of relu and abs at 0.
template <class T, size_t... D>
tensor<T, D...> signed_away_from_zero(std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    std::bernoulli_distribution coin(0.5);
    tensor<T, D...> t{};
    for (T& e : t) e = static_cast<T>(coin(rng) ? dist(rng) : -dist(rng));
    return t;
}

template <class To, class From, size_t... D>
tensor<To, D...> convert(const tensor<From, D...>& t) {
    tensor<To, D...> out{};
    for (size_t e = 0; e < t.size(); ++e) out.data()[e] = static_cast<To>(t.data()[e]);
    return out;
}

/// The sigmoid, 1 / (1 + e^−x), in long double.
inline ld plain_sigmoid(ld x) {
    return 1 / (1 + std::exp(-x));
}

/// |got − want| <= formula_eps<T> · scale, with the values printed.
template <class T>
void expect_formula(T got, ld want, ld scale, const char* what, size_t at) {
    BOOST_TEST(std::fabs(ld(got) - want) <= formula_eps<T> * scale,
               what << "[" << at << "]: " << got << " vs " << double(want));
}

// Finite differences over every bound variable: check_fd (support/tensor_fd.hpp).

/// Float and double gradients of the same data agree to float precision.
template <class F, class D>
void check_float_close(const F& got, const D& expected, const char* what) {
    double scale = 0;
    for (size_t e = 0; e < expected.size(); ++e) {
        scale = std::max(scale, std::abs(static_cast<double>(expected.data()[e])));
    }
    for (size_t e = 0; e < expected.size(); ++e) {
        const double g = static_cast<double>(got.data()[e]);
        const double x = static_cast<double>(expected.data()[e]);
        BOOST_TEST(std::abs(g - x) <= 1e-5 * std::max(scale, 1e-3),
                   what << "[" << e << "]: float " << g << ", double " << x);
    }
}

// --- unary functions ---

enum class domain { signed_values, positive };

template <class T>
mat<T> unary_input(std::mt19937& rng, domain d) {
    return d == domain::positive ? uniform<T, 3, 4>(rng, 0.2, 2.5)
                                 : signed_away_from_zero<T, 3, 4>(rng, 0.1, 2.0);
}

/// f applied to A elementwise: the gradient of sum(Wt * f(A)) gives Wt the values f(a), within
/// fn_ulps of ref (long double) on every element, and A the central differences. (value() of
/// every function,
/// in double and float: values_of_every_function; float gradients:
/// float_gradients_agree_with_double; each is one expression using many functions, to keep
/// the number of sweeps this file builds down.)
template <class Fn, class Ref>
[[gnu::noinline]] void check_unary(const char* name, Fn fn, Ref ref, domain d) {
    BOOST_TEST_CONTEXT(name) {
        std::mt19937 rng(1234);
        mat<double> a = unary_input<double>(rng, d);
        mat<double> w = uniform<double, 3, 4>(rng, 0.5, 1.5);
        const auto g =
            check_fd(ctgrad::sum(Wt<double> * fn(A<double>)), A<double> = a, Wt<double> = w);
        for (size_t e = 0; e < a.size(); ++e) {
            const ld want = ref(ld(a.data()[e]));
            const double got = g[Wt<double>].data()[e];
            BOOST_TEST(ctgrad::test::ulp_error(got, want) <= fn_ulps,
                       "d/dWt[" << e << "]: " << got << " vs " << double(want));
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(exp_log_family) {
    check_unary(
        "exp", [](auto e) { return ctgrad::exp(e); }, [](ld x) { return std::exp(x); },
        domain::signed_values);
    check_unary(
        "log", [](auto e) { return ctgrad::log(e); }, [](ld x) { return std::log(x); },
        domain::positive);
    check_unary(
        "log1p", [](auto e) { return ctgrad::log1p(e); }, [](ld x) { return std::log1p(x); },
        domain::positive);
}

BOOST_AUTO_TEST_CASE(power_family) {
    check_unary(
        "sqrt", [](auto e) { return ctgrad::sqrt(e); }, [](auto x) { return std::sqrt(x); },
        domain::positive);
    check_unary(
        "square", [](auto e) { return ctgrad::square(e); }, [](auto x) { return x * x; },
        domain::signed_values);
    check_unary(
        "pow(A, 3)", [](auto e) { return ctgrad::pow(e, 3.0); },
        [](auto x) { return static_cast<decltype(x)>(std::pow(x, decltype(x)(3.0))); },
        domain::signed_values);
    check_unary(
        "pow(A, 0.75)", [](auto e) { return ctgrad::pow(e, 0.75); },
        [](auto x) { return static_cast<decltype(x)>(std::pow(x, decltype(x)(0.75))); },
        domain::positive);
    check_unary(
        "pow(1.5, A)", [](auto e) { return ctgrad::pow(1.5, e); },
        [](auto x) { return static_cast<decltype(x)>(std::pow(decltype(x)(1.5), x)); },
        domain::signed_values);
}

BOOST_AUTO_TEST_CASE(trig_hyperbolic_activation_special) {
    check_unary(
        "sin", [](auto e) { return ctgrad::sin(e); }, [](auto x) { return std::sin(x); },
        domain::signed_values);
    check_unary(
        "cos", [](auto e) { return ctgrad::cos(e); }, [](auto x) { return std::cos(x); },
        domain::signed_values);
    check_unary(
        "tanh", [](auto e) { return ctgrad::tanh(e); }, [](ld x) { return std::tanh(x); },
        domain::signed_values);
    check_unary(
        "sigmoid", [](auto e) { return ctgrad::sigmoid(e); }, [](ld x) { return plain_sigmoid(x); },
        domain::signed_values);
    check_unary(
        "erf", [](auto e) { return ctgrad::erf(e); }, [](auto x) { return std::erf(x); },
        domain::signed_values);
}

BOOST_AUTO_TEST_CASE(piecewise_and_negation) {
    check_unary(
        "relu", [](auto e) { return ctgrad::relu(e); },
        [](auto x) { return x <= decltype(x)(0) ? decltype(x)(0) : x; }, domain::signed_values);
    check_unary(
        "abs", [](auto e) { return ctgrad::abs(e); }, [](auto x) { return std::fabs(x); },
        domain::signed_values);
    check_unary(
        "neg", [](auto e) { return -e; }, [](auto x) { return -x; }, domain::signed_values);
    check_unary(
        "max(A, 0.3)", [](auto e) { return ctgrad::max(e, 0.3); },
        [](auto x) { return x >= decltype(x)(0.3) ? x : decltype(x)(0.3); }, domain::signed_values);
    check_unary(
        "min(-0.3, A)", [](auto e) { return ctgrad::min(-0.3, e); },
        [](auto x) { return decltype(x)(-0.3) <= x ? decltype(x)(-0.3) : x; },
        domain::signed_values);
}

namespace {

/// Every function in one expression, in T: each element of value() equals the same formula
/// written with std:: functions (the numbers converted to T, as the sweep does), exactly.
template <class T>
[[gnu::noinline]] void check_values_of_every_function() {
    std::mt19937 rng(77);
    const mat<T> a = signed_away_from_zero<T, 3, 4>(rng, 0.1, 2.0);
    const mat<T> p = uniform<T, 3, 4>(rng, 0.2, 2.5);
    constexpr auto a_ = A<T>;
    constexpr auto p_ = B<T>;
    const auto f = ctgrad::exp(a_) - ctgrad::log(p_) * ctgrad::log1p(p_) + ctgrad::sqrt(p_) +
                   ctgrad::square(a_) * ctgrad::pow(p_, 0.75) - ctgrad::pow(1.5, a_) +
                   ctgrad::sin(a_) * ctgrad::cos(a_) + ctgrad::tanh(a_) / ctgrad::sigmoid(a_) -
                   ctgrad::erf(a_) + ctgrad::relu(a_) * ctgrad::abs(a_) - ctgrad::max(a_, 0.3) +
                   ctgrad::min(-0.3, -a_);
    const auto v = ctgrad::value(f, a_ = a, p_ = p);
    static_assert(std::is_same_v<decltype(v), const mat<T>>);
    for (size_t e = 0; e < a.size(); ++e) {
        const ld x = a.data()[e], q = p.data()[e];
        const ld rl = x <= 0 ? 0 : x;
        const ld mx = x >= ld(T(0.3)) ? x : ld(T(0.3));
        const ld mn = ld(T(-0.3)) <= -x ? ld(T(-0.3)) : -x;
        const ld terms[] = {std::exp(x),
                            -std::log(q) * std::log1p(q),
                            std::sqrt(q),
                            x * x * std::pow(q, 0.75L),
                            -std::pow(1.5L, x),
                            std::sin(x) * std::cos(x),
                            std::tanh(x) / plain_sigmoid(x),
                            -std::erf(x),
                            rl * std::fabs(x),
                            -mx,
                            mn};
        ld want = 0, scale = 0;
        for (const ld t : terms) want += t, scale += std::fabs(t);
        expect_formula(v.data()[e], want, scale, "value", e);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(values_of_every_function) {
    check_values_of_every_function<double>();
    check_values_of_every_function<float>();
}

// --- binary ops and broadcasting: values ---

namespace {

struct binary_data {
    mat<double> a, b;
    tensor<double, 4> row;
    tensor<double, 3, 1> col;
    double sv;
};

/// A and B at least 0.2 apart (away from the kinks of min and max), B positive (a divisor and
/// a power base), r and c away from zero.
binary_data make_binary_data(unsigned seed) {
    std::mt19937 rng(seed);
    binary_data d;
    d.a = signed_away_from_zero<double, 3, 4>(rng, 0.2, 1.5);
    d.b = uniform<double, 3, 4>(rng, 0.5, 2.0);
    for (size_t e = 0; e < d.a.size(); ++e) {
        if (std::abs(d.a.data()[e] - d.b.data()[e]) < 0.2) d.b.data()[e] += 0.4;
    }
    d.row = signed_away_from_zero<double, 4>(rng, 0.3, 1.2);
    d.col = uniform<double, 3, 1>(rng, 0.5, 1.5);
    d.sv = 0.7;
    return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(binary_values_equal_shapes) {
    const binary_data d = make_binary_data(7);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    const auto add = ctgrad::value(a + b, a = d.a, b = d.b);
    const auto sub = ctgrad::value(a - b, a = d.a, b = d.b);
    const auto mul = ctgrad::value(a * b, a = d.a, b = d.b);
    const auto div = ctgrad::value(a / b, a = d.a, b = d.b);
    const auto pw = ctgrad::value(ctgrad::pow(b, a), a = d.a, b = d.b);
    const auto mx = ctgrad::value(ctgrad::max(a, b), a = d.a, b = d.b);
    const auto mn = ctgrad::value(ctgrad::min(a, b), a = d.a, b = d.b);
    for (size_t i = 0; i < 3; ++i) {
        for (size_t j = 0; j < 4; ++j) {
            const double x = d.a(i, j), y = d.b(i, j);
            BOOST_TEST(add(i, j) == x + y);
            BOOST_TEST(sub(i, j) == x - y);
            BOOST_TEST(mul(i, j) == x * y);
            BOOST_TEST(div(i, j) == x / y);
            BOOST_TEST(pw(i, j) == std::pow(y, x));
            BOOST_TEST(mx(i, j) == (x >= y ? x : y));
            BOOST_TEST(mn(i, j) == (x <= y ? x : y));
        }
    }
}

BOOST_AUTO_TEST_CASE(broadcast_values) {
    const binary_data d = make_binary_data(8);
    constexpr auto a = A<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    // a row [4] over [3, 4]; a column [3, 1] over [3, 4]; a scalar variable; a number
    const auto row = ctgrad::value(a + rv, a = d.a, rv = d.row);
    const auto row_first = ctgrad::value(rv - a, a = d.a, rv = d.row);
    const auto col = ctgrad::value(a * cv, a = d.a, cv = d.col);
    const auto col_first = ctgrad::value(cv / a, a = d.a, cv = d.col);
    const auto sc = ctgrad::value(s * a, a = d.a, s = d.sv);
    const auto num = ctgrad::value(a - 2.5, a = d.a);
    const auto powcol = ctgrad::value(ctgrad::pow(cv, a), a = d.a, cv = d.col);
    // a row and a column broadcast against each other: an outer sum [3, 4]
    const auto outer = ctgrad::value(cv + rv, cv = d.col, rv = d.row);
    static_assert(std::is_same_v<decltype(outer), const mat<double>>);
    // a row with a scalar stays a row; a column with a column stays a column
    const auto rs = ctgrad::value(rv * s, rv = d.row, s = d.sv);
    static_assert(std::is_same_v<decltype(rs), const tensor<double, 4>>);
    const auto cc = ctgrad::value(cv * cv, cv = d.col);
    static_assert(std::is_same_v<decltype(cc), const tensor<double, 3, 1>>);
    for (size_t i = 0; i < 3; ++i) {
        for (size_t j = 0; j < 4; ++j) {
            const double x = d.a(i, j);
            BOOST_TEST(row(i, j) == x + d.row(j));
            BOOST_TEST(row_first(i, j) == d.row(j) - x);
            BOOST_TEST(col(i, j) == x * d.col(i, 0));
            BOOST_TEST(col_first(i, j) == d.col(i, 0) / x);
            BOOST_TEST(sc(i, j) == d.sv * x);
            BOOST_TEST(num(i, j) == x - 2.5);
            BOOST_TEST(powcol(i, j) == std::pow(d.col(i, 0), x));
            BOOST_TEST(outer(i, j) == d.col(i, 0) + d.row(j));
        }
        BOOST_TEST(cc(i, 0) == d.col(i, 0) * d.col(i, 0));
    }
    for (size_t j = 0; j < 4; ++j) BOOST_TEST(rs(j) == d.row(j) * d.sv);
}

BOOST_AUTO_TEST_CASE(fused_chain_values_are_the_plain_formula) {
    // A chain the sweep fuses into one loop (inlined cheap ops around stored expensive ones),
    // with broadcasts at several depths: the same formula per element, bit for bit.
    const binary_data d = make_binary_data(9);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    const auto f = ctgrad::tanh(ctgrad::exp(ctgrad::sin(a) * b) + rv) * cv -
                   ctgrad::sqrt(ctgrad::square(a) + 1.0) / (s * b) + ctgrad::relu(a - rv);
    const auto v = ctgrad::value(f, a = d.a, b = d.b, rv = d.row, cv = d.col, s = d.sv);
    for (size_t i = 0; i < 3; ++i) {
        for (size_t j = 0; j < 4; ++j) {
            const double x = d.a(i, j), y = d.b(i, j), ro = d.row(j), co = d.col(i, 0);
            const double rl = x - ro <= 0 ? 0.0 : x - ro;
            const ld ex = std::exp(std::sin(ld(x)) * y);
            const ld t1 = std::tanh(ex + ro) * co, t2 = std::sqrt(ld(x) * x + 1) / (ld(d.sv) * y);
            // (an error in ex moves tanh by at most as much: its terms count in the scale)
            expect_formula(v(i, j), t1 - t2 + rl,
                           std::fabs(t1) + (ex + std::fabs(ro)) * co + t2 + rl, "value", i * 4 + j);
        }
    }
    // float: the same formula in float (the number 1.0 is converted to float)
    const mat<float> af = convert<float>(d.a), bf = convert<float>(d.b);
    constexpr auto a32 = A<float>;
    constexpr auto b32 = B<float>;
    const auto vf =
        ctgrad::value(ctgrad::exp(ctgrad::sin(a32) * b32) - 1.0 / b32, a32 = af, b32 = bf);
    for (size_t i = 0; i < 3; ++i) {
        for (size_t j = 0; j < 4; ++j) {
            const float x = af(i, j), y = bf(i, j);
            const ld t1 = std::exp(ld(std::sin(x)) * y), t2 = 1 / ld(y);
            expect_formula(vf(i, j), t1 - t2, t1 + t2, "float value", i * 4 + j);
        }
    }
}

BOOST_AUTO_TEST_CASE(rank_three_and_single_element_values) {
    constexpr auto T3 = ctgrad::var<"T3", tensor<double, 2, 3, 2>>;
    std::mt19937 rng(3);
    const auto t = uniform<double, 2, 3, 2>(rng, -1.0, 1.0);
    const auto v = ctgrad::value(ctgrad::exp(T3) * T3 - s, T3 = t, s = 0.25);
    static_assert(std::is_same_v<decltype(v), const tensor<double, 2, 3, 2>>);
    for (size_t e = 0; e < t.size(); ++e) {
        const ld t1 = std::exp(ld(t.data()[e])) * t.data()[e];
        expect_formula(v.data()[e], t1 - 0.25L, std::fabs(t1) + 0.25L, "value", e);
    }
    // value of a lone variable and of a [1, 1] tensor mixed with a scalar
    BOOST_TEST(ctgrad::value(T3, T3 = t) == t);
    constexpr auto one = ctgrad::var<"one", tensor<double, 1, 1>>;
    const tensor<double, 1, 1> o{{0.5}};
    const auto vo = ctgrad::value(ctgrad::exp(one * s) + s, one = o, s = 3.0);
    // e^1.5 (mpmath): 4.4816890703380648226020554
    constexpr double exp_1_5 = 4.4816890703380648226020554;
    BOOST_TEST(vo(0, 0) == exp_1_5 + 3.0, boost::test_tools::tolerance(1e-15));
    const auto go = ctgrad::gradient(ctgrad::sum(ctgrad::exp(one * s) + s), one = o, s = 3.0);
    BOOST_TEST(go[one](0, 0) == exp_1_5 * 3.0, boost::test_tools::tolerance(2e-15));
    BOOST_TEST(go[s] == exp_1_5 * 0.5 + 1.0, boost::test_tools::tolerance(2e-15));
}

// --- binary ops and broadcasting: gradients ---

BOOST_AUTO_TEST_CASE(binary_gradients_equal_shapes) {
    binary_data d = make_binary_data(11);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(5);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    // Several ops per checked expression, each under its own weights (w, w², −w), so that no
    // op's contribution can cancel another's: fewer sweeps to build, the same coverage.
    const auto w2 = w * w;
    check_fd(ctgrad::sum(w * (a + b) + w2 * (a - b) - w * (a * b)), a = d.a, b = d.b, w = wv);
    check_fd(ctgrad::sum(w * (a / b) - w2 * ctgrad::pow(b, a)), a = d.a, b = d.b, w = wv);
    check_fd(ctgrad::sum(w * ctgrad::max(a, b) + w2 * ctgrad::min(a, b)), a = d.a, b = d.b, w = wv);
}

BOOST_AUTO_TEST_CASE(broadcast_gradients) {
    // The adjoint of a broadcast operand sums over what it was broadcast across: a row over
    // the rows, a column over the columns, a scalar over everything.
    binary_data d = make_binary_data(12);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(6);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    const auto w2 = w * w;  // as in binary_gradients_equal_shapes: distinct weights per op
    check_fd(ctgrad::sum(w * (a + rv) + w2 * (rv - a) - w * (a * rv) + w2 * ctgrad::max(a, rv)),
             a = d.a, rv = d.row, w = wv);
    check_fd(ctgrad::sum(w * (cv / a) + w2 * (a * cv) - w * ctgrad::pow(cv, a)), a = d.a,
             cv = d.col, w = wv);
    check_fd(ctgrad::sum(w * (s * a) + w2 * (a / s) - w * ctgrad::pow(b, s)), a = d.a,
             b = d.b /* base > 0 */, s = d.sv, w = wv);
    // both operands broadcast: a column [3, 1] and a row [4] to [3, 4]
    check_fd(ctgrad::sum(w * (cv * rv) + w2 * ctgrad::tanh(cv - rv)), cv = d.col, rv = d.row,
             w = wv);
    // a [1, 1] tensor broadcast like a scalar (its adjoint summed over the whole loop)
    constexpr auto one = ctgrad::var<"one", tensor<double, 1, 1>>;
    tensor<double, 1, 1> ov{{0.8}};
    check_fd(ctgrad::sum(w * ctgrad::tanh(a * one - one)), a = d.a, one = ov, w = wv);
    // a row reduced without weights: every element's adjoint is the number of rows, exactly
    const auto g = ctgrad::gradient(ctgrad::sum(a + rv), a = d.a, rv = d.row);
    for (size_t j = 0; j < 4; ++j) BOOST_TEST(g[rv](j) == 3.0);
    for (size_t e = 0; e < 12; ++e) BOOST_TEST(g[a].data()[e] == 1.0);
    const auto gc = ctgrad::gradient(ctgrad::sum(cv * 2.0 - a), a = d.a, cv = d.col);
    for (size_t i = 0; i < 3; ++i) BOOST_TEST(gc[cv](i, 0) == 8.0);
    for (size_t e = 0; e < 12; ++e) BOOST_TEST(gc[a].data()[e] == -1.0);
    const auto gs = ctgrad::gradient(ctgrad::sum(a * s), a = d.a, s = d.sv);
    double total = 0;
    for (double x : d.a) total += x;
    BOOST_TEST(gs[s] == total, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(derived_broadcast_operands) {
    // The broadcast operand is itself an expression (stored, with its own backward loop), or
    // a reduction broadcast back over the tensor it reduces.
    binary_data d = make_binary_data(13);
    constexpr auto a = A<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(7);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    check_fd(ctgrad::sum(w * (a + ctgrad::tanh(rv))), a = d.a, rv = d.row, w = wv);
    check_fd(ctgrad::sum(w * (a * ctgrad::exp(cv * rv))), a = d.a, cv = d.col, rv = d.row, w = wv);
    check_fd(ctgrad::sum(w * (a * ctgrad::sigmoid(s))), a = d.a, s = d.sv, w = wv);
    check_fd(ctgrad::sum(w * (a - ctgrad::mean(a))), a = d.a, w = wv);
    check_fd(ctgrad::sum(w * ctgrad::square(a - ctgrad::row_mean(a))), a = d.a, w = wv);
    check_fd(ctgrad::sum(w * (a / ctgrad::row_sum(ctgrad::exp(a)))), a = d.a, w = wv);
    check_fd(ctgrad::sum(w * ctgrad::sin(a * ctgrad::sum(ctgrad::square(rv)))), a = d.a, rv = d.row,
             w = wv);
}

// --- structures the sweep schedules differently ---

BOOST_AUTO_TEST_CASE(fan_out_of_a_variable) {
    binary_data d = make_binary_data(21);
    constexpr auto a = A<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(8);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    // X * X: one node reads the same tensor twice (assign then accumulate in one loop)
    const auto g = check_fd(ctgrad::sum(w * (a * a)), a = d.a, w = wv);
    for (size_t e = 0; e < 12; ++e) {
        BOOST_TEST(g[a].data()[e] == 2.0 * wv.data()[e] * d.a.data()[e],
                   boost::test_tools::tolerance(1e-15));
    }
    check_fd(ctgrad::sum(a * a * a), a = d.a);
    check_fd(ctgrad::sum(w * (ctgrad::exp(a) + a * ctgrad::sin(a) - a)), a = d.a, w = wv);
}

BOOST_AUTO_TEST_CASE(subexpression_with_two_consumers) {
    binary_data d = make_binary_data(22);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(9);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    // a cheap subexpression read by two elementwise consumers
    const auto t = ctgrad::sin(a) * b;
    check_fd(ctgrad::sum(w * ctgrad::exp(t) + ctgrad::square(t)), a = d.a, b = d.b, w = wv);
    // the same node twice as the arguments of one op
    const auto u = a - b;
    check_fd(ctgrad::sum(w * (u * u)), a = d.a, b = d.b, w = wv);
    // a subexpression read by an elementwise op and by a reduction
    const auto v = ctgrad::log1p(ctgrad::square(a));
    check_fd(ctgrad::sum(w * v) * ctgrad::mean(v), a = d.a, w = wv);
    // a subexpression read by a kernel and by an elementwise op
    const auto z = ctgrad::tanh(a * b);
    check_fd(ctgrad::sum(w * z) + ctgrad::sum(ctgrad::softmax(z) * w), a = d.a, b = d.b, w = wv);
}

BOOST_AUTO_TEST_CASE(expensive_values_stored_for_one_or_two_consumers) {
    binary_data d = make_binary_data(23);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(10);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    // exp/tanh/sigmoid read by one op: the value is stored for its derivative, the adjoint
    // flows through inline
    check_fd(ctgrad::sum(w * ctgrad::exp(a)), a = d.a, w = wv);
    check_fd(ctgrad::sum(ctgrad::tanh(a * b) * w), a = d.a, b = d.b, w = wv);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::sigmoid(a) - b)), a = d.a, b = d.b);
    // ... read by two ops: value and adjoint stored
    const auto e = ctgrad::exp(a * 0.5);
    check_fd(ctgrad::sum(w * e + ctgrad::cos(e)), a = d.a, w = wv);
    const auto th = ctgrad::tanh(a - b);
    check_fd(ctgrad::sum(th * th * w), a = d.a, b = d.b, w = wv);
    const auto sg = ctgrad::sigmoid(a);
    check_fd(ctgrad::mean(sg * ctgrad::log(sg) + w * ctgrad::log1p(-sg)), a = d.a, w = wv);
    // expensive ops stacked: each stored, the adjoint passes through all of them in one loop
    check_fd(ctgrad::sum(w * ctgrad::tanh(ctgrad::exp(ctgrad::sigmoid(a) * b))), a = d.a, b = d.b,
             w = wv);
}

BOOST_AUTO_TEST_CASE(chains_of_inlined_ops) {
    binary_data d = make_binary_data(24);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto rv = r<double>;
    constexpr auto w = Wt<double>;
    std::mt19937 rng(11);
    mat<double> wv = uniform<double, 3, 4>(rng, 0.5, 1.5);
    // cheap ops only: one forward loop and one backward loop, nothing stored
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::relu(ctgrad::abs(-a + 0.05) * 2.0) - b)), a = d.a,
             b = d.b);
    check_fd(ctgrad::sum(w * ctgrad::max(a * b - rv, -(a + b)) - ctgrad::min(a, b) * 0.5), a = d.a,
             b = d.b, rv = d.row, w = wv);
    // a long chain through the scalar variable and the row
    check_fd(ctgrad::sum(((((a * s + rv) * b - s) * w + a) * (a - rv)) / 3.0), a = d.a, b = d.b,
             rv = d.row, s = d.sv, w = wv);
}

BOOST_AUTO_TEST_CASE(reductions_of_broadcast_expressions) {
    binary_data d = make_binary_data(25);
    constexpr auto a = A<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    check_fd(ctgrad::sum(a + rv), a = d.a, rv = d.row);
    check_fd(ctgrad::mean(ctgrad::square(a * cv)), a = d.a, cv = d.col);
    check_fd(ctgrad::sum(ctgrad::exp(cv - rv)), cv = d.col, rv = d.row);
    check_fd(ctgrad::mean(s * a + s * s), a = d.a, s = d.sv);
    // mean is sum / count, value and gradient
    const auto gs = ctgrad::gradient(ctgrad::sum(ctgrad::tanh(a + rv)), a = d.a, rv = d.row);
    const auto gm = ctgrad::gradient(ctgrad::mean(ctgrad::tanh(a + rv)), a = d.a, rv = d.row);
    BOOST_TEST(gm.value == gs.value / 12.0, boost::test_tools::tolerance(1e-15));
    for (size_t e = 0; e < 12; ++e) {
        BOOST_TEST(gm[a].data()[e] == gs[a].data()[e] / 12.0, boost::test_tools::tolerance(1e-15));
    }
    for (size_t j = 0; j < 4; ++j) {
        BOOST_TEST(gm[rv](j) == gs[rv](j) / 12.0, boost::test_tools::tolerance(1e-15));
    }
}

BOOST_AUTO_TEST_CASE(scalar_variables_and_numbers_mixed_in) {
    binary_data d = make_binary_data(26);
    constexpr auto a = A<double>;
    constexpr auto t = ctgrad::var<"t">;
    double tv = -0.4;
    // two scalar variables, a number, a scalar subexpression broadcast, a scalar root
    check_fd(ctgrad::sum(ctgrad::exp(s * a) * t) + s * t - 2.0 * ctgrad::mean(a), a = d.a, s = d.sv,
             t = tv);
    check_fd(ctgrad::square(ctgrad::sum(a)) * s + ctgrad::log(ctgrad::sum(ctgrad::exp(a))), a = d.a,
             s = d.sv);
    // equal impure subexpressions with different numbers stay different
    const auto v = ctgrad::value(ctgrad::sum(a * 2.0 + a * 3.0), a = d.a);
    const auto v5 = ctgrad::value(ctgrad::sum(a * 5.0), a = d.a);
    BOOST_TEST(v == v5, boost::test_tools::tolerance(1e-14));
    const auto g = ctgrad::gradient(ctgrad::sum(a * 2.0 + a * 3.0), a = d.a);
    for (double x : g[a]) BOOST_TEST(x == 5.0);
}

BOOST_AUTO_TEST_CASE(gradient_with_respect_to_some_variables) {
    binary_data d = make_binary_data(27);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto rv = r<double>;
    const auto f = ctgrad::sum(ctgrad::tanh(a * b + rv) * ctgrad::exp(s * b));
    const auto all = check_fd(f, a = d.a, b = d.b, rv = d.row, s = d.sv);
    static_assert(decltype(all)::size() == 4);
    const auto some = check_fd(f, wrt(rv, s), a = d.a, b = d.b, rv = d.row, s = d.sv);
    static_assert(decltype(some)::size() == 2);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(some[rv])>, tensor<double, 4>>);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(some[s])>, double>);
    BOOST_TEST(some.value == all.value);
    for (size_t j = 0; j < 4; ++j) {
        BOOST_TEST(some[rv](j) == all[rv](j), boost::test_tools::tolerance(1e-14));
    }
    BOOST_TEST(some[s] == all[s], boost::test_tools::tolerance(1e-14));
    const auto only_b = ctgrad::gradient(f, wrt(b), a = d.a, b = d.b, rv = d.row, s = d.sv);
    static_assert(decltype(only_b)::size() == 1);
    for (size_t e = 0; e < 12; ++e) {
        BOOST_TEST(only_b[b].data()[e] == all[b].data()[e], boost::test_tools::tolerance(1e-14));
    }
}

BOOST_AUTO_TEST_CASE(variable_seen_only_through_a_locally_constant_op) {
    // [B > 0] is piecewise constant: B gets an exactly zero gradient, A the mask.
    binary_data d = make_binary_data(28);
    std::mt19937 rng(3);
    d.b = signed_away_from_zero<double, 3, 4>(rng, 0.2, 1.0);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    const auto mask = ctgrad::make_node<ctgrad::ops::greater_op>(b, 0.0);
    const auto g = check_fd(ctgrad::sum(mask * ctgrad::square(a)), a = d.a, b = d.b);
    for (size_t e = 0; e < 12; ++e) {
        BOOST_TEST(g[b].data()[e] == 0.0);
        BOOST_TEST(g[a].data()[e] == (d.b.data()[e] > 0 ? 2.0 * d.a.data()[e] : 0.0));
    }
    // also when the variable is listed in wrt(...) alone
    const auto gb =
        ctgrad::gradient(ctgrad::sum(mask * ctgrad::square(a)), wrt(b), a = d.a, b = d.b);
    for (double x : gb[b]) BOOST_TEST(x == 0.0);
    // and as the input of a kernel whose result is only compared
    const auto mask2 = ctgrad::make_node<ctgrad::ops::greater_op>(ctgrad::softmax(b), 0.25);
    const auto g2 = ctgrad::gradient(ctgrad::sum(mask2 * a), a = d.a, b = d.b);
    for (double x : g2[b]) BOOST_TEST(x == 0.0);
}

BOOST_AUTO_TEST_CASE(wide_rows) {
    // Rows of 19: the fused loops run in blocks of 8 lanes plus a remainder of 3, with
    // lane-wise partial sums for reductions and for the adjoints of scalars (a scalar variable,
    // a [1, 1] tensor) accumulated over the whole loop.
    constexpr auto wide = ctgrad::var<"wide", tensor<double, 3, 19>>;
    constexpr auto row = ctgrad::var<"row", tensor<double, 19>>;
    constexpr auto one = ctgrad::var<"one", tensor<double, 1, 1>>;
    constexpr auto cv = c<double>;
    std::mt19937 rng(41);
    tensor<double, 3, 19> x = uniform<double, 3, 19>(rng, -1.0, 1.0);
    tensor<double, 19> rv = uniform<double, 19>(rng, -1.0, 1.0);
    tensor<double, 3, 1> col = uniform<double, 3, 1>(rng, 0.5, 1.5);
    tensor<double, 1, 1> ov{{0.6}};
    const double sv = 0.7;
    const auto v =
        ctgrad::value(ctgrad::exp(wide * s) + row * cv, wide = x, s = sv, row = rv, cv = col);
    double total = 0;
    for (size_t i = 0; i < 3; ++i) {
        for (size_t j = 0; j < 19; ++j) {
            const ld t1 = std::exp(ld(x(i, j) * sv)), t2 = ld(rv(j)) * col(i, 0);
            expect_formula(v(i, j), t1 + t2, t1 + std::fabs(t2), "value", i * 19 + j);
            total += v(i, j);
        }
    }
    BOOST_TEST(ctgrad::value(ctgrad::sum(ctgrad::exp(wide * s) + row * cv), wide = x, s = sv,
                             row = rv, cv = col) == total,
               boost::test_tools::tolerance(1e-14));
    check_fd(
        ctgrad::sum(ctgrad::tanh(wide * s + row) * cv) + ctgrad::mean(ctgrad::exp(wide * one)) * s,
        wide = x, s = sv, row = rv, cv = col, one = ov);
    check_fd(ctgrad::sum(ctgrad::square(wide - ctgrad::row_mean(wide)) * s) + s * s, wide = x,
             s = sv);
    // the same adjoints from float lanes, to float precision
    const auto xf = convert<float>(x);
    const auto rf = convert<float>(rv);
    constexpr auto wide_f = ctgrad::var<"wide", tensor<float, 3, 19>>;
    constexpr auto row_f = ctgrad::var<"row", tensor<float, 19>>;
    const auto gd =
        ctgrad::gradient(ctgrad::sum(ctgrad::sin(wide * s + row)), wide = x, s = sv, row = rv);
    const auto gf = ctgrad::gradient(ctgrad::sum(ctgrad::sin(wide_f * s + row_f)), wide_f = xf,
                                     s = sv, row_f = rf);
    BOOST_TEST(gf[s] == gd[s], boost::test_tools::tolerance(1e-5));
    check_float_close(gf[row_f], gd[row], "row");
    check_float_close(gf[wide_f], gd[wide], "wide");
}

BOOST_AUTO_TEST_CASE(value_equals_gradient_value) {
    // value() runs the forward-only schedule (everything fusable inlined); gradient() stores
    // the expensive values for the backward pass. Same formulas, same summation order: the
    // same number.
    const binary_data d = make_binary_data(29);
    constexpr auto a = A<double>;
    constexpr auto b = B<double>;
    constexpr auto rv = r<double>;
    constexpr auto cv = c<double>;
    const auto e = ctgrad::exp(a * 0.5);
    const auto f1 = ctgrad::sum(ctgrad::square(ctgrad::tanh(a * cv + rv) - b));
    const auto f2 = ctgrad::mean(e * b + ctgrad::cos(e)) * s;
    const auto f3 = ctgrad::sum(ctgrad::sigmoid(a - ctgrad::row_mean(a)) * ctgrad::log(b));
    const auto v1 = ctgrad::value(f1, a = d.a, b = d.b, rv = d.row, cv = d.col);
    const auto v2 = ctgrad::value(f2, a = d.a, b = d.b, s = d.sv);
    const auto v3 = ctgrad::value(f3, a = d.a, b = d.b);
    static_assert(std::is_same_v<decltype(v1), const double>);
    BOOST_TEST(v1 == ctgrad::gradient(f1, a = d.a, b = d.b, rv = d.row, cv = d.col).value);
    BOOST_TEST(v1 == ctgrad::gradient(f1, wrt(rv), a = d.a, b = d.b, rv = d.row, cv = d.col).value);
    BOOST_TEST(v2 == ctgrad::gradient(f2, a = d.a, b = d.b, s = d.sv).value);
    BOOST_TEST(v3 == ctgrad::gradient(f3, wrt(b), a = d.a, b = d.b).value);
}

BOOST_AUTO_TEST_CASE(float_gradients_agree_with_double) {
    const binary_data d = make_binary_data(31);
    const mat<float> af = convert<float>(d.a), bf = convert<float>(d.b);
    const tensor<float, 4> rf = convert<float>(d.row);
    const tensor<float, 3, 1> cf = convert<float>(d.col);
    const auto fd =
        ctgrad::sum(ctgrad::tanh(A<double> * c<double> + r<double>) * ctgrad::exp(B<double> * s) -
                    ctgrad::square(A<double> - B<double>));
    const auto ff =
        ctgrad::sum(ctgrad::tanh(A<float> * c<float> + r<float>) * ctgrad::exp(B<float> * s) -
                    ctgrad::square(A<float> - B<float>));
    const auto gd = ctgrad::gradient(fd, A<double> = d.a, B<double> = d.b, r<double> = d.row,
                                     c<double> = d.col, s = 0.7f);
    // a float scalar variable in a float sweep; a double number converts to float too
    const auto gf =
        ctgrad::gradient(ff, A<float> = af, B<float> = bf, r<float> = rf, c<float> = cf, s = 0.7f);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(gf.value)>, float>);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(gf[s])>, float>);
    BOOST_TEST(gf.value == gd.value, boost::test_tools::tolerance(1e-5));
    check_float_close(gf[A<float>], gd[A<double>], "A");
    check_float_close(gf[B<float>], gd[B<double>], "B");
    check_float_close(gf[r<float>], gd[r<double>], "r");
    check_float_close(gf[c<float>], gd[c<double>], "c");
    BOOST_TEST(gf[s] == gd[s], boost::test_tools::tolerance(1e-5));
}
