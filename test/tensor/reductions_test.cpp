// Tensor ops that are not elementwise (tensor/ops.hpp): sum, mean, row_sum, row_mean,
// softmax, log_softmax, softmax_cross_entropy, mse, binary_cross_entropy, matmul, transpose.
// For each: the value against an explicit formula written with plain loops (exactly where the
// formula and the order of operations are the same; within a stated tolerance of a long double
// reference with std::exp / std::log where the engine uses its own kernels), the gradient against central finite
// differences (non-scalar results through sum(Wt * op(...)), which gives every element its
// own cotangent) and, where it is short, against the closed form; the stability of the
// softmax family for large logits (1000 and more); the gradient of softmax_cross_entropy with
// respect to its targets; kernels feeding elementwise expressions and the reverse.
#define BOOST_TEST_MODULE tensor_reductions
#include <boost/test/unit_test.hpp>

#include <algorithm>    // std::max
#include <cmath>        // std::isfinite
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

// The references are independent of the engine's kernels (math/vector.hpp): std::exp and
// std::log in long double (64-bit mantissa on x86-64), rounded to the element type at the end.
// The engine's kernels are within 4 ulp in double (test/math/vector_math_test.cpp), so a value
// of a few roundings is within `ref_tol` (16 ulp of 1, times the largest magnitude) of them.
using ld = long double;
constexpr double ref_tol = 16 * std::numeric_limits<double>::epsilon();

namespace {

using ctgrad::test::check_fd;
using ctgrad::test::check_fd_impl;
using ctgrad::test::gradient_of;

using ctgrad::tensor;
using ctgrad::wrt;
using std::size_t;

constexpr size_t N = 4;  // rows (the batch)
constexpr size_t C = 5;  // columns (classes)

template <class T>
using mat = tensor<T, N, C>;

template <class T>
constexpr auto X = ctgrad::var<"X", mat<T>>;  // logits, or any matrix
template <class T>
constexpr auto Y = ctgrad::var<"Y", mat<T>>;  // targets
template <class T>
constexpr auto Wt = ctgrad::var<"Wt", mat<T>>;                // cotangent weights
constexpr auto Wc = ctgrad::var<"Wc", tensor<double, N, 1>>;  // weights of a column [N, 1]
constexpr auto v = ctgrad::var<"v", tensor<double, C>>;       // a row vector
constexpr auto M = ctgrad::var<"M", tensor<double, C, 3>>;    // a right-hand matrix
constexpr auto L = ctgrad::var<"L", tensor<double, N, 3>>;    // a left-hand matrix, [N, 3]
constexpr auto K = ctgrad::var<"K", tensor<double, 3, C>>;    // [3, C]
constexpr auto W43 = ctgrad::var<"W43", tensor<double, N, 3>>;
constexpr auto W53 = ctgrad::var<"W53", tensor<double, C, 3>>;
constexpr auto s = ctgrad::var<"s">;

// --- data ---

template <class T, size_t... D>
tensor<T, D...> uniform(std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    tensor<T, D...> t{};
    for (T& e : t) e = static_cast<T>(dist(rng));
    return t;
}

/// Rows with a single 1 at a random column.
template <class T>
mat<T> one_hot(std::mt19937& rng) {
    std::uniform_int_distribution<size_t> pick(0, C - 1);
    mat<T> t{};
    for (size_t r = 0; r < N; ++r) t(r, pick(rng)) = T(1);
    return t;
}

/// Rows of positive numbers summing to 1 (soft targets).
template <class T>
mat<T> distributions(std::mt19937& rng) {
    mat<T> t = uniform<T, N, C>(rng, 0.1, 1.0);
    for (size_t r = 0; r < N; ++r) {
        T total = 0;
        for (size_t c = 0; c < C; ++c) total += t(r, c);
        for (size_t c = 0; c < C; ++c) t(r, c) /= total;
    }
    return t;
}

template <class To, class From, size_t... D>
tensor<To, D...> convert(const tensor<From, D...>& t) {
    tensor<To, D...> out{};
    for (size_t e = 0; e < t.size(); ++e) out.data()[e] = static_cast<To>(t.data()[e]);
    return out;
}

/// got[e] == want[e] for every element, exactly.
template <class T>
[[gnu::noinline]] void expect_equal_elements(const T* got, const T* want, size_t n,
                                             const char* what) {
    for (size_t e = 0; e < n; ++e) {
        BOOST_TEST(got[e] == want[e], what << "[" << e << "]: " << got[e] << " vs " << want[e]);
    }
}

/// |got[e] - want[e]| <= tol * max(1, max |want|) for every element.
template <class T, class U>
[[gnu::noinline]] void expect_close_elements(const T* got, const U* want, size_t n, double tol,
                                             const char* what) {
    double scale = 1;
    for (size_t e = 0; e < n; ++e) scale = std::max(scale, std::abs(static_cast<double>(want[e])));
    for (size_t e = 0; e < n; ++e) {
        const double g = static_cast<double>(got[e]), w = static_cast<double>(want[e]);
        BOOST_TEST(std::abs(g - w) <= tol * scale, what << "[" << e << "]: " << g << " vs " << w);
    }
}

// --- plain-loop references (the definitions, in long double with std:: functions) ---

template <class T>
T plain_row_max(const T* x, size_t n) {
    T m = x[0];
    for (size_t c = 1; c < n; ++c) m = x[c] > m ? x[c] : m;
    return m;
}

/// log Σ_c e^(x_c) as m + log Σ_c e^(x_c − m), m the largest: x_c − m is exact in long double,
/// so the references keep their precision for logits of any size (1e6 + x: lse − x computed as
/// (m − x) + log Σ, never as the difference of two numbers of 1e6).
template <class T>
struct log_sum_exp_parts {
    ld m, log_total;
    log_sum_exp_parts(const T* x, size_t n) : m(plain_row_max(x, n)) {
        ld total = 0;
        for (size_t c = 0; c < n; ++c) total += std::exp(ld(x[c]) - m);
        log_total = std::log(total);
    }
    ld value() const { return m + log_total; }
    ld minus(T x) const { return (m - ld(x)) + log_total; }  // lse − x
};

template <class T>
ld plain_log_sum_exp(const T* x, size_t n) {
    return log_sum_exp_parts<T>(x, n).value();
}

template <class T, size_t R, size_t Cols>
tensor<T, R, Cols> plain_softmax(const tensor<T, R, Cols>& x) {
    tensor<T, R, Cols> y{};
    for (size_t r = 0; r < R; ++r) {
        const log_sum_exp_parts<T> lse(&x(r, 0), Cols);
        for (size_t c = 0; c < Cols; ++c) y(r, c) = T(std::exp(-lse.minus(x(r, c))));
    }
    return y;
}

template <class T, size_t R, size_t Cols>
tensor<T, R, Cols> plain_log_softmax(const tensor<T, R, Cols>& x) {
    tensor<T, R, Cols> y{};
    for (size_t r = 0; r < R; ++r) {
        const log_sum_exp_parts<T> lse(&x(r, 0), Cols);
        for (size_t c = 0; c < Cols; ++c) y(r, c) = T(-lse.minus(x(r, c)));
    }
    return y;
}

/// (1/N) Σ_r Σ_c t_rc (lse_r − x_rc).
template <class T>
T plain_cross_entropy(const mat<T>& x, const mat<T>& t) {
    ld total = 0;
    for (size_t r = 0; r < N; ++r) {
        const log_sum_exp_parts<T> lse(&x(r, 0), C);
        for (size_t c = 0; c < C; ++c) total += t(r, c) * lse.minus(x(r, c));
    }
    return T(total / N);
}

template <size_t R, size_t Kd, size_t Cols>
tensor<double, R, Cols> naive_matmul(const tensor<double, R, Kd>& a,
                                     const tensor<double, Kd, Cols>& b) {
    tensor<double, R, Cols> out{};
    for (size_t i = 0; i < R; ++i) {
        for (size_t j = 0; j < Cols; ++j) {
            double acc = 0;
            for (size_t k = 0; k < Kd; ++k) acc += a(i, k) * b(k, j);
            out(i, j) = acc;
        }
    }
    return out;
}

// Finite differences over every bound variable: check_fd (support/tensor_fd.hpp).

}  // namespace

// --- sum, mean ---

BOOST_AUTO_TEST_CASE(sum_and_mean) {
    std::mt19937 rng(1);
    mat<double> x = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    // rows shorter than 8: one accumulator, the plain loop's order, the same bits
    double total = 0;
    for (double e : x) total += e;
    BOOST_TEST(ctgrad::value(ctgrad::sum(x_), x_ = x) == total);
    BOOST_TEST(ctgrad::value(ctgrad::mean(x_), x_ = x) == total / double(N * C));
    const mat<float> xf = convert<float>(x);
    float total_f = 0;
    for (float e : xf) total_f += e;
    BOOST_TEST(ctgrad::value(ctgrad::sum(X<float>), X<float> = xf) == total_f);
    // gradients: ones, and 1/(N C), exactly
    const auto gs = ctgrad::gradient(ctgrad::sum(x_), x_ = x);
    const auto gm = ctgrad::gradient(ctgrad::mean(x_), x_ = x);
    for (size_t e = 0; e < x.size(); ++e) {
        BOOST_TEST(gs[x_].data()[e] == 1.0);
        BOOST_TEST(gm[x_].data()[e] == 1.0 / double(N * C));
    }
    // long rows: several partial sums (another order), within rounding
    constexpr auto wide = ctgrad::var<"wide", tensor<double, 3, 37>>;
    const auto wv = uniform<double, 3, 37>(rng, -1.0, 1.0);
    double wide_total = 0, wide_squares = 0;
    for (double e : wv) {
        wide_total += e;
        wide_squares += e * e;
    }
    BOOST_TEST(ctgrad::value(ctgrad::sum(wide), wide = wv) == wide_total,
               boost::test_tools::tolerance(1e-13));
    BOOST_TEST(ctgrad::value(ctgrad::mean(ctgrad::square(wide)), wide = wv) == wide_squares / 111.0,
               boost::test_tools::tolerance(1e-13));
    // a vector
    const auto vv = uniform<double, C>(rng, -1.0, 1.0);
    double vtotal = 0;
    for (double e : vv) vtotal += e;
    BOOST_TEST(ctgrad::value(ctgrad::sum(v), v = vv) == vtotal);
    // products of reductions, and the sum of a scalar inside a tensor expression
    check_fd(ctgrad::sum(ctgrad::exp(x_)) * ctgrad::mean(ctgrad::square(x_)) + ctgrad::sum(s * s) -
                 ctgrad::mean(v * s),
             x_ = x, v = vv, s = 0.3);
}

// --- row_sum, row_mean ---

BOOST_AUTO_TEST_CASE(row_sum_and_row_mean) {
    std::mt19937 rng(2);
    mat<double> x = uniform<double, N, C>(rng, -1.0, 1.0);
    tensor<double, N, 1> wc = uniform<double, N, 1>(rng, 0.5, 1.5);
    tensor<double, C> vv = uniform<double, C>(rng, -1.0, 1.0);
    mat<double> w = uniform<double, N, C>(rng, 0.5, 1.5);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    const auto rs = ctgrad::value(ctgrad::row_sum(x_), x_ = x);
    const auto rm = ctgrad::value(ctgrad::row_mean(x_), x_ = x);
    static_assert(std::is_same_v<decltype(rs), const tensor<double, N, 1>>);
    static_assert(std::is_same_v<decltype(rm), const tensor<double, N, 1>>);
    for (size_t r = 0; r < N; ++r) {
        double total = 0;
        for (size_t c = 0; c < C; ++c) total += x(r, c);
        BOOST_TEST(rs(r, 0) == total);
        BOOST_TEST(rm(r, 0) == total / double(C));
    }
    // a vector is one row: [1, 1]
    const auto rv = ctgrad::value(ctgrad::row_sum(v), v = vv);
    static_assert(std::is_same_v<decltype(rv), const tensor<double, 1, 1>>);
    double vtotal = 0;
    for (double e : vv) vtotal += e;
    BOOST_TEST(rv(0, 0) == vtotal);
    // gradients: the row's weight on every element of the row, exactly
    const auto gs =
        ctgrad::gradient(ctgrad::sum(Wc * ctgrad::row_sum(x_)), wrt(x_), x_ = x, Wc = wc);
    const auto gm =
        ctgrad::gradient(ctgrad::sum(Wc * ctgrad::row_mean(x_)), wrt(x_), x_ = x, Wc = wc);
    for (size_t r = 0; r < N; ++r) {
        for (size_t c = 0; c < C; ++c) {
            BOOST_TEST(gs[x_](r, c) == wc(r, 0));
            BOOST_TEST(gm[x_](r, c) == wc(r, 0) / double(C));
        }
    }
    check_fd(ctgrad::sum(Wc * ctgrad::row_mean(ctgrad::square(x_ + v))), x_ = x, v = vv, Wc = wc);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::row_sum(ctgrad::tanh(x_)))), x_ = x);
    check_fd(ctgrad::sum(w_ * ctgrad::square(x_ - ctgrad::row_mean(x_))), x_ = x, w_ = w);
    // a normalisation: the row mean read twice, a column broadcast in a division
    const auto centred = x_ - ctgrad::row_mean(x_);
    check_fd(
        ctgrad::sum(w_ * centred / ctgrad::sqrt(ctgrad::row_mean(ctgrad::square(centred)) + 1e-3)),
        x_ = x, w_ = w);
}

// --- softmax, log_softmax ---

BOOST_AUTO_TEST_CASE(softmax_values_and_gradients) {
    std::mt19937 rng(3);
    mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    const auto y = ctgrad::value(ctgrad::softmax(x_), x_ = x);
    const mat<double> expected = plain_softmax(x);
    expect_close_elements(y.data(), expected.data(), y.size(), ref_tol, "softmax");
    for (size_t r = 0; r < N; ++r) {
        double total = 0;
        for (size_t c = 0; c < C; ++c) total += y(r, c);
        BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-15));
    }
    // a vector is one distribution
    tensor<double, C> vv = uniform<double, C>(rng, -2.0, 2.0);
    tensor<double, 1, C> row{};
    for (size_t c = 0; c < C; ++c) row(0, c) = vv(c);
    const auto yv = ctgrad::value(ctgrad::softmax(v), v = vv);
    static_assert(std::is_same_v<decltype(yv), const tensor<double, C>>);
    expect_close_elements(yv.data(), plain_softmax(row).data(), C, ref_tol, "softmax of a vector");
    // gradient: central differences, and the closed form y ⊙ (w − Σ_c w y) per row
    const auto g = check_fd(ctgrad::sum(w_ * ctgrad::softmax(x_)), x_ = x, w_ = w);
    mat<double> closed{};
    for (size_t r = 0; r < N; ++r) {
        double dot = 0;
        for (size_t c = 0; c < C; ++c) dot += w(r, c) * expected(r, c);
        for (size_t c = 0; c < C; ++c) closed(r, c) = expected(r, c) * (w(r, c) - dot);
    }
    expect_close_elements(g[x_].data(), closed.data(), x.size(), 1e-15, "closed form");
    expect_equal_elements(g[w_].data(), y.data(), x.size(), "d/dWt = softmax");
    check_fd(ctgrad::sum(ctgrad::softmax(v) * ctgrad::exp(v)), v = vv);
}

BOOST_AUTO_TEST_CASE(log_softmax_values_and_gradients) {
    std::mt19937 rng(4);
    mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    const auto y = ctgrad::value(ctgrad::log_softmax(x_), x_ = x);
    const mat<double> expected = plain_log_softmax(x);
    expect_close_elements(y.data(), expected.data(), y.size(), ref_tol, "log_softmax");
    for (size_t r = 0; r < N; ++r) {
        double total = 0;
        for (size_t c = 0; c < C; ++c) total += std::exp(y(r, c));
        BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-15));
    }
    // log_softmax = log(softmax), within rounding
    const auto via_log = ctgrad::value(ctgrad::log(ctgrad::softmax(x_)), x_ = x);
    expect_close_elements(y.data(), via_log.data(), y.size(), 1e-15, "log(softmax)");
    // gradient: central differences, and the closed form w − softmax · Σ_c w per row
    const auto g = check_fd(ctgrad::sum(w_ * ctgrad::log_softmax(x_)), x_ = x, w_ = w);
    const mat<double> p = plain_softmax(x);
    mat<double> closed{};
    for (size_t r = 0; r < N; ++r) {
        double total = 0;
        for (size_t c = 0; c < C; ++c) total += w(r, c);
        for (size_t c = 0; c < C; ++c) closed(r, c) = w(r, c) - p(r, c) * total;
    }
    expect_close_elements(g[x_].data(), closed.data(), x.size(), 1e-15, "closed form");
    tensor<double, C> vv = uniform<double, C>(rng, -2.0, 2.0);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::log_softmax(v))), v = vv);
}

namespace {

/// Logits far from zero: x + shift (every row shifted) and x * 1000 (rows of very different
/// logits, whose exponentials overflow or underflow unless the row maximum is subtracted).
mat<double> shifted(const mat<double>& x, double shift) {
    mat<double> out = x;
    for (double& e : out) e += shift;
    return out;
}

mat<double> spread(const mat<double>& x) {
    mat<double> out = x;
    for (double& e : out) e *= 1000.0;
    return out;
}

template <class T>
bool all_finite(const T& t) {
    for (const auto& e : t) {
        if (!std::isfinite(e)) return false;
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_family_is_stable_for_large_logits) {
    std::mt19937 rng(5);
    const mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    const mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    const auto f_soft = ctgrad::sum(w_ * ctgrad::softmax(x_));
    const auto f_log = ctgrad::sum(w_ * ctgrad::log_softmax(x_));
    const auto g_soft = ctgrad::gradient(f_soft, wrt(x_), x_ = x, w_ = w);
    const auto g_log = ctgrad::gradient(f_log, wrt(x_), x_ = x, w_ = w);
    for (const double shift : {1000.0, -1000.0, 1e6}) {
        BOOST_TEST_CONTEXT("shift " << shift) {
            const mat<double> big = shifted(x, shift);
            const auto y = ctgrad::value(ctgrad::softmax(x_), x_ = big);
            const auto ly = ctgrad::value(ctgrad::log_softmax(x_), x_ = big);
            BOOST_TEST(all_finite(y));
            BOOST_TEST(all_finite(ly));
            // (log_softmax subtracts two numbers of the shift's size: an ulp of the shift)
            const double tol = std::abs(shift) * 1e-15;
            expect_close_elements(y.data(), plain_softmax(big).data(), y.size(), ref_tol,
                                  "softmax");
            expect_close_elements(ly.data(), plain_log_softmax(big).data(), y.size(),
                                  std::max(ref_tol, tol), "log_softmax");
            // shift invariance, up to the rounding of x + shift
            expect_close_elements(y.data(), plain_softmax(x).data(), y.size(), 4 * tol,
                                  "softmax(x + shift) = softmax(x)");
            expect_close_elements(ly.data(), plain_log_softmax(x).data(), y.size(), 4 * tol,
                                  "log_softmax(x + shift) = log_softmax(x)");
            const auto gs = ctgrad::gradient(f_soft, wrt(x_), x_ = big, w_ = w);
            const auto gl = ctgrad::gradient(f_log, wrt(x_), x_ = big, w_ = w);
            BOOST_TEST(all_finite(gs[x_]));
            BOOST_TEST(all_finite(gl[x_]));
            expect_close_elements(gs[x_].data(), g_soft[x_].data(), x.size(), 8 * tol,
                                  "softmax gradient");
            expect_close_elements(gl[x_].data(), g_log[x_].data(), x.size(), 8 * tol,
                                  "log_softmax gradient");
        }
    }
    // logits a thousand times apart: softmax is one-hot to rounding, log_softmax is exact
    const mat<double> far = spread(x);
    const auto y = ctgrad::value(ctgrad::softmax(x_), x_ = far);
    const auto ly = ctgrad::value(ctgrad::log_softmax(x_), x_ = far);
    BOOST_TEST(all_finite(y));
    BOOST_TEST(all_finite(ly));
    for (size_t r = 0; r < N; ++r) {
        const double m = plain_row_max(&far(r, 0), C);
        for (size_t c = 0; c < C; ++c) {
            BOOST_TEST(y(r, c) == (far(r, c) == m ? 1.0 : 0.0),
                       boost::test_tools::tolerance(1e-15));
            BOOST_TEST(ly(r, c) == far(r, c) - m, boost::test_tools::tolerance(1e-15));
        }
    }
    const auto gs = ctgrad::gradient(f_soft, wrt(x_), x_ = far, w_ = w);
    const auto gl = ctgrad::gradient(f_log, wrt(x_), x_ = far, w_ = w);
    BOOST_TEST(all_finite(gs[x_]));
    BOOST_TEST(all_finite(gl[x_]));
}

// --- softmax_cross_entropy ---

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_values_and_gradients) {
    std::mt19937 rng(6);
    mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    constexpr auto x_ = X<double>;
    constexpr auto y_ = Y<double>;
    const auto loss = ctgrad::softmax_cross_entropy(x_, y_);
    // the same loss through log_softmax
    const auto via_log = -ctgrad::sum(y_ * ctgrad::log_softmax(x_)) / double(N);
    for (const bool hard : {true, false}) {
        BOOST_TEST_CONTEXT((hard ? "one-hot targets" : "soft targets")) {
            mat<double> t = hard ? one_hot<double>(rng) : distributions<double>(rng);
            BOOST_TEST(ctgrad::value(loss, x_ = x, y_ = t) == plain_cross_entropy(x, t),
                       boost::test_tools::tolerance(ref_tol));
            BOOST_TEST(ctgrad::value(via_log, x_ = x, y_ = t) == plain_cross_entropy(x, t),
                       boost::test_tools::tolerance(1e-14));
            // gradients with respect to the logits and to the targets, against central
            // differences and the closed forms (softmax − t)/N and (lse − x)/N
            const auto g = check_fd(loss, x_ = x, y_ = t);
            const mat<double> p = plain_softmax(x);
            mat<double> dx{}, dt{};
            for (size_t r = 0; r < N; ++r) {
                const ld lse = plain_log_sum_exp(&x(r, 0), C);
                for (size_t c = 0; c < C; ++c) {
                    dx(r, c) = (p(r, c) - t(r, c)) / double(N);
                    dt(r, c) = double((lse - x(r, c)) / N);
                }
            }
            expect_close_elements(g[x_].data(), dx.data(), x.size(), 1e-15, "d/dlogits");
            expect_close_elements(g[y_].data(), dt.data(), x.size(), 1e-15, "d/dtargets");
            const auto gl = ctgrad::gradient(via_log, x_ = x, y_ = t);
            expect_close_elements(g[x_].data(), gl[x_].data(), x.size(), 1e-15, "via log");
            expect_close_elements(g[y_].data(), gl[y_].data(), x.size(), 1e-15, "via log");
            // only the logits
            const auto gx = ctgrad::gradient(loss, wrt(x_), x_ = x, y_ = t);
            static_assert(decltype(gx)::size() == 1);
            expect_equal_elements(gx[x_].data(), g[x_].data(), x.size(), "wrt(logits)");
        }
    }
    // targets that do not sum to one: d/dx = (softmax · Σ_c t − t)/N
    mat<double> t = uniform<double, N, C>(rng, 0.0, 1.0);
    check_fd(loss, x_ = x, y_ = t);
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_of_expressions) {
    std::mt19937 rng(7);
    mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    mat<double> z = uniform<double, N, C>(rng, -2.0, 2.0);
    tensor<double, N, 3> l = uniform<double, N, 3>(rng, -1.0, 1.0);
    tensor<double, 3, C> k = uniform<double, 3, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto z_ = Y<double>;
    // soft targets computed by softmax: the target gradient flows on into softmax's
    check_fd(ctgrad::softmax_cross_entropy(x_, ctgrad::softmax(z_)), x_ = x, z_ = z);
    // the mean entropy of softmax(x): one variable behind both arguments
    check_fd(ctgrad::softmax_cross_entropy(x_, ctgrad::softmax(x_)), x_ = x);
    // logits from a kernel and an elementwise chain
    check_fd(ctgrad::softmax_cross_entropy(ctgrad::tanh(ctgrad::matmul(L, K)) * 3.0 + x_,
                                           ctgrad::softmax(z_ * 2.0)),
             L = l, K = k, x_ = x, z_ = z);
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_is_stable_for_large_logits) {
    std::mt19937 rng(8);
    const mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    const mat<double> t = one_hot<double>(rng);
    constexpr auto x_ = X<double>;
    constexpr auto y_ = Y<double>;
    const auto loss = ctgrad::softmax_cross_entropy(x_, y_);
    const auto g0 = ctgrad::gradient(loss, x_ = x, y_ = t);
    for (const double shift : {1000.0, -1000.0, 1e6}) {
        BOOST_TEST_CONTEXT("shift " << shift) {
            const mat<double> big = shifted(x, shift);
            const auto g = ctgrad::gradient(loss, x_ = big, y_ = t);
            BOOST_TEST(std::isfinite(g.value));
            // (the engine's lse − x subtracts two numbers of the shift's size)
            BOOST_TEST(g.value == plain_cross_entropy(big, t),
                       boost::test_tools::tolerance(std::abs(shift) * 1e-14));
            BOOST_TEST(g.value == g0.value, boost::test_tools::tolerance(std::abs(shift) * 1e-14));
            BOOST_TEST(all_finite(g[x_]));
            expect_close_elements(g[x_].data(), g0[x_].data(), x.size(), std::abs(shift) * 1e-14,
                                  "d/dlogits");
        }
    }
    // a margin of 1000: the right class costs exactly 0, a wrong one exactly 1000 (per row,
    // divided by N); the gradient is (one-hot of the prediction − t)/N
    mat<double> logits{}, targets{};
    for (size_t r = 0; r < N; ++r) {
        logits(r, r % C) = 1000.0;
        targets(r, r < 2 ? r % C : (r + 1) % C) = 1.0;  // rows 0, 1 right; 2, 3 wrong
    }
    const auto g = ctgrad::gradient(loss, x_ = logits, y_ = targets);
    BOOST_TEST(g.value == 2 * 1000.0 / double(N));
    for (size_t r = 0; r < N; ++r) {
        for (size_t c = 0; c < C; ++c) {
            const double predicted = c == r % C ? 1.0 : 0.0;
            BOOST_TEST(g[x_](r, c) == (predicted - targets(r, c)) / double(N));
            BOOST_TEST(std::isfinite(g[y_](r, c)));
        }
    }
    // the spread logits
    const mat<double> far = spread(x);
    const auto gf = ctgrad::gradient(loss, x_ = far, y_ = t);
    BOOST_TEST(std::isfinite(gf.value));
    BOOST_TEST(gf.value == plain_cross_entropy(far, t));
    BOOST_TEST(all_finite(gf[x_]));
    BOOST_TEST(all_finite(gf[y_]));
}

// --- mse, binary_cross_entropy ---

BOOST_AUTO_TEST_CASE(mse_values_and_gradients) {
    std::mt19937 rng(9);
    mat<double> a = uniform<double, N, C>(rng, -1.0, 1.0);
    mat<double> y = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto a_ = X<double>;
    constexpr auto y_ = Y<double>;
    // 1/(2n) Σ ‖y − a‖², n the number of rows
    double total = 0;
    for (size_t e = 0; e < a.size(); ++e) {
        const double d = y.data()[e] - a.data()[e];
        total += d * d;
    }
    const auto g = check_fd(ctgrad::mse(a_, y_), a_ = a, y_ = y);
    BOOST_TEST(g.value == total / (2.0 * N));
    BOOST_TEST(ctgrad::value(ctgrad::mse(a_, y_), a_ = a, y_ = y) == total / (2.0 * N));
    for (size_t e = 0; e < a.size(); ++e) {
        BOOST_TEST(g[a_].data()[e] == (a.data()[e] - y.data()[e]) / N,
                   boost::test_tools::tolerance(1e-15));
        BOOST_TEST(g[y_].data()[e] == (y.data()[e] - a.data()[e]) / N,
                   boost::test_tools::tolerance(1e-15));
    }
    // a vector: n = 1
    tensor<double, C> av = uniform<double, C>(rng, -1.0, 1.0);
    constexpr auto target = ctgrad::var<"target", tensor<double, C>>;
    const tensor<double, C> tv = uniform<double, C>(rng, -1.0, 1.0);
    double vtotal = 0;
    for (size_t c = 0; c < C; ++c) vtotal += (tv(c) - av(c)) * (tv(c) - av(c));
    BOOST_TEST(ctgrad::value(ctgrad::mse(v, target), v = av, target = tv) == vtotal / 2.0);
    // of an expression; against a broadcast target row
    tensor<double, N, 3> l = uniform<double, N, 3>(rng, -1.0, 1.0);
    tensor<double, 3, C> k = uniform<double, 3, C>(rng, -1.0, 1.0);
    check_fd(ctgrad::mse(ctgrad::tanh(ctgrad::matmul(L, K)), y_), L = l, K = k, y_ = y);
    check_fd(ctgrad::mse(a_, v), a_ = a, v = av);
    // a prediction row against a batch of targets: n is the batch, N, either way round
    double btotal = 0;
    for (size_t r = 0; r < N; ++r) {
        for (size_t c = 0; c < C; ++c) btotal += (y(r, c) - av(c)) * (y(r, c) - av(c));
    }
    BOOST_TEST(ctgrad::value(ctgrad::mse(v, y_), v = av, y_ = y) == btotal / (2.0 * N),
               boost::test_tools::tolerance(1e-14));
    BOOST_TEST(ctgrad::value(ctgrad::mse(y_, v), v = av, y_ = y) == btotal / (2.0 * N),
               boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(binary_cross_entropy_values_and_gradients) {
    std::mt19937 rng(10);
    mat<double> p = uniform<double, N, C>(rng, 0.05, 0.95);
    mat<double> y = uniform<double, N, C>(rng, 0.0, 1.0);
    constexpr auto p_ = X<double>;
    constexpr auto y_ = Y<double>;
    double total = 0;
    for (size_t e = 0; e < p.size(); ++e) {
        const double pe = p.data()[e], ye = y.data()[e];
        total += ye * std::log(ld(pe)) + (1 - ld(ye)) * std::log(1 - ld(pe));
    }
    const auto loss = ctgrad::binary_cross_entropy(p_, y_);
    BOOST_TEST(ctgrad::value(loss, p_ = p, y_ = y) == -double(total / (N * C)),
               boost::test_tools::tolerance(ref_tol));
    const auto g = check_fd(loss, p_ = p, y_ = y);
    for (size_t e = 0; e < p.size(); ++e) {
        const double pe = p.data()[e], ye = y.data()[e];
        BOOST_TEST(g[p_].data()[e] == (pe - ye) / (pe * (1.0 - pe)) / double(N * C),
                   boost::test_tools::tolerance(1e-14));
        BOOST_TEST(g[y_].data()[e] == double((std::log(1 - ld(pe)) - std::log(ld(pe))) / ld(N * C)),
                   boost::test_tools::tolerance(1e-14));
    }
    // hard labels, probabilities from sigmoid: d/dz = (sigmoid(z) − y)/count
    mat<double> z = uniform<double, N, C>(rng, -3.0, 3.0);
    mat<double> labels{};
    for (size_t e = 0; e < labels.size(); ++e) labels.data()[e] = (e * 7 % 3 == 0) ? 1.0 : 0.0;
    const auto gz = check_fd(ctgrad::binary_cross_entropy(ctgrad::sigmoid(p_), y_), wrt(p_), p_ = z,
                             y_ = labels);
    for (size_t e = 0; e < z.size(); ++e) {
        const ld sg = 1 / (1 + std::exp(-ld(z.data()[e])));
        BOOST_TEST(gz[p_].data()[e] == double((sg - labels.data()[e]) / (N * C)),
                   boost::test_tools::tolerance(1e-12));
    }
    // a probability of exactly 0 or 1 where the label disagrees: +inf, as documented
    mat<double> pe = p;
    mat<double> ye = y;
    pe(0, 0) = 0.0;
    ye(0, 0) = 1.0;
    BOOST_TEST(ctgrad::value(loss, p_ = pe, y_ = ye) == std::numeric_limits<double>::infinity());
}

// --- log_sum_exp ---

BOOST_AUTO_TEST_CASE(log_sum_exp_values_and_gradients) {
    std::mt19937 rng(15);
    mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    constexpr auto x_ = X<double>;
    // over all elements: m + log Σ exp(x − m), m the largest element (one accumulator here: the
    // plain loop's order, the same bits)
    const ld lse = plain_log_sum_exp(x.data(), x.size());
    const auto g = check_fd(ctgrad::log_sum_exp(x_), x_ = x);
    BOOST_TEST(g.value == double(lse), boost::test_tools::tolerance(ref_tol));
    // d/dx = softmax over all elements
    for (size_t e = 0; e < x.size(); ++e) {
        BOOST_TEST(g[x_].data()[e] == double(std::exp(ld(x.data()[e]) - lse)),
                   boost::test_tools::tolerance(ref_tol));
    }
    // of an expression (read by the maximum and by the exponentials), bound with std::ref
    tensor<double, C> vv = uniform<double, C>(rng, -1.0, 1.0);
    check_fd(ctgrad::log_sum_exp(x_ * v) * 0.5, x_ = std::ref(x), v = vv);
    // large values: log_sum_exp(x + 1000) = log_sum_exp(x) + 1000
    const auto big = ctgrad::gradient(ctgrad::log_sum_exp(x_), x_ = shifted(x, 1000.0));
    BOOST_TEST(big.value == g.value + 1000.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(all_finite(big[x_]));
    // 111 elements: the maximum is found in blocks of 8 and a remainder of 7; put it in each
    constexpr auto wide = ctgrad::var<"wide", tensor<double, 3, 37>>;
    for (const size_t at :
         {size_t{0}, size_t{5}, size_t{60}, size_t{103}, size_t{104}, size_t{110}}) {
        BOOST_TEST_CONTEXT("maximum at " << at) {
            tensor<double, 3, 37> w = uniform<double, 3, 37>(rng, -1.0, 1.0);
            w.data()[at] = 700.0;  // exp(700) is finite; exp(700 − m) of the rest underflows to 0
            const double lse = ctgrad::value(ctgrad::log_sum_exp(wide), wide = w);
            BOOST_TEST(lse == 700.0, boost::test_tools::tolerance(1e-15));
            w.data()[at] = 1.5;  // the largest, but not by much
            BOOST_TEST(ctgrad::value(ctgrad::log_sum_exp(wide), wide = w) ==
                           double(plain_log_sum_exp(w.data(), w.size())),
                       boost::test_tools::tolerance(1e-14));
        }
    }
}

// A probability of exactly 0 or 1 whose label agrees is a zero term (xlogy), not 0·(−inf) = NaN.
// sigmoid rounds to exactly 1 from z ≈ 36.7 in double, so binary_cross_entropy(sigmoid(z), y)
// must stay finite, value and gradient, for a confident right positive prediction (this was NaN
// before binary_cross_entropy used xlogy).
BOOST_AUTO_TEST_CASE(binary_cross_entropy_at_saturated_probabilities) {
    constexpr auto p_ = ctgrad::var<"p", tensor<double, 1, 4>>;
    constexpr auto y_ = ctgrad::var<"y", tensor<double, 1, 4>>;
    const tensor<double, 1, 4> p{{1.0, 0.0, 0.25, 0.5}};
    const tensor<double, 1, 4> y{{1.0, 0.0, 1.0, 0.0}};
    // the first two terms are 0; ln 4 + ln 2 = 3 ln 2 (mpmath: 2.0794415416798359282516964)
    const double expected = 2.0794415416798359282516964 / 4.0;
    const double v = ctgrad::value(ctgrad::binary_cross_entropy(p_, y_), p_ = p, y_ = y);
    BOOST_TEST(std::isfinite(v));
    BOOST_TEST(v == expected, boost::test_tools::tolerance(1e-15));
    // through sigmoid: d/dz = (sigmoid(z) − y)/4
    const tensor<double, 1, 4> z{{40.0, -40.0, 0.3, -0.2}};
    const auto g = ctgrad::gradient(ctgrad::binary_cross_entropy(ctgrad::sigmoid(p_), y_), wrt(p_),
                                    p_ = z, y_ = y);
    BOOST_TEST(std::isfinite(g.value));
    BOOST_TEST(all_finite(g[p_]));
    for (size_t e = 0; e < 4; ++e) {
        const ld sg = 1 / (1 + std::exp(-ld(z.data()[e])));
        BOOST_TEST(g[p_].data()[e] == double((sg - y.data()[e]) / 4),
                   boost::test_tools::tolerance(1e-12));
    }
}

// A logit of −inf (a masked class) in a column whose target is 0 adds nothing to
// softmax_cross_entropy (the forward kernel once added 0·inf = NaN for it); the gradient with
// respect to the logits gives the masked class probability 0.
BOOST_AUTO_TEST_CASE(softmax_cross_entropy_with_masked_logits) {
    constexpr auto x_ = ctgrad::var<"x", tensor<double, 2, 3>>;
    constexpr auto t_ = ctgrad::var<"t", tensor<double, 2, 3>>;
    const double inf = std::numeric_limits<double>::infinity();
    const tensor<double, 2, 3> x{{2.0, -inf, 0.5, -inf, 1.0, -1.0}};
    const tensor<double, 2, 3> t{{1.0, 0.0, 0.0, 0.0, 1.0, 0.0}};
    // the loss over the unmasked classes
    // mpmath, 25 digits: log(e^2 + e^0.5), log(e^1 + e^-1)
    const double lse0 = 2.2014132779827524094994828;
    const double lse1 = 1.1269280110429724964437268;
    const double expected = ((lse0 - 2.0) + (lse1 - 1.0)) / 2.0;
    const auto g = ctgrad::gradient(ctgrad::softmax_cross_entropy(x_, t_), wrt(x_), x_ = x, t_ = t);
    BOOST_TEST(std::isfinite(g.value));
    BOOST_TEST(g.value == expected, boost::test_tools::tolerance(1e-14));
    // (softmax − t)/N, with softmax 0 at the masked classes
    const double p00 = double(std::exp(2.0L - lse0)), p02 = double(std::exp(0.5L - lse0));
    const double p11 = double(std::exp(1.0L - lse1)), p12 = double(std::exp(-1.0L - lse1));
    const tensor<double, 2, 3> dx{{(p00 - 1.0) / 2, 0.0, p02 / 2, 0.0, (p11 - 1.0) / 2, p12 / 2}};
    expect_close_elements(g[x_].data(), dx.data(), 6, 1e-15, "d/dlogits");
}

// --- matmul, transpose ---

BOOST_AUTO_TEST_CASE(matmul_and_transpose_values) {
    std::mt19937 rng(11);
    // integer-valued: every partial sum exact, so any order gives the naive loop's bits
    std::uniform_int_distribution<int> small(-9, 9);
    mat<double> xi{};
    tensor<double, C, 3> mi{};
    for (double& e : xi) e = small(rng);
    for (double& e : mi) e = small(rng);
    constexpr auto x_ = X<double>;
    const auto p = ctgrad::value(ctgrad::matmul(x_, M), x_ = xi, M = mi);
    static_assert(std::is_same_v<decltype(p), const tensor<double, N, 3>>);
    BOOST_TEST(p == naive_matmul(xi, mi));
    // random: within rounding
    const mat<double> x = uniform<double, N, C>(rng, -1.0, 1.0);
    const tensor<double, C, 3> m = uniform<double, C, 3>(rng, -1.0, 1.0);
    const auto pr = ctgrad::value(ctgrad::matmul(x_, M), x_ = x, M = m);
    expect_close_elements(pr.data(), naive_matmul(x, m).data(), pr.size(), 1e-15, "matmul");
    // transpose
    const auto xt = ctgrad::value(ctgrad::transpose(x_), x_ = x);
    static_assert(std::is_same_v<decltype(xt), const tensor<double, C, N>>);
    tensor<double, C, N> xt_expected{};
    for (size_t r = 0; r < N; ++r) {
        for (size_t c = 0; c < C; ++c) xt_expected(c, r) = x(r, c);
    }
    BOOST_TEST(xt == xt_expected);
    BOOST_TEST(ctgrad::value(ctgrad::transpose(ctgrad::transpose(x_)), x_ = x) == x);
    // transposes inside matmul: Xᵀ·L [C, 3] and X·Kᵀ [N, 3], on integers
    tensor<double, N, 3> li{};
    tensor<double, 3, C> ki{};
    for (double& e : li) e = small(rng);
    for (double& e : ki) e = small(rng);
    const auto tl = ctgrad::value(ctgrad::matmul(ctgrad::transpose(x_), L), x_ = xi, L = li);
    const auto tk = ctgrad::value(ctgrad::matmul(x_, ctgrad::transpose(K)), x_ = xi, K = ki);
    tensor<double, C, N> xit{};
    tensor<double, C, 3> kit{};
    for (size_t r = 0; r < N; ++r) {
        for (size_t c = 0; c < C; ++c) xit(c, r) = xi(r, c);
    }
    for (size_t r = 0; r < 3; ++r) {
        for (size_t c = 0; c < C; ++c) kit(c, r) = ki(r, c);
    }
    BOOST_TEST(tl == naive_matmul(xit, li));
    BOOST_TEST(tk == naive_matmul(xi, kit));
}

BOOST_AUTO_TEST_CASE(matmul_and_transpose_gradients) {
    std::mt19937 rng(12);
    mat<double> x = uniform<double, N, C>(rng, -1.0, 1.0);
    tensor<double, C, 3> m = uniform<double, C, 3>(rng, -1.0, 1.0);
    tensor<double, N, 3> l = uniform<double, N, 3>(rng, -1.0, 1.0);
    tensor<double, 3, C> k = uniform<double, 3, C>(rng, -1.0, 1.0);
    tensor<double, N, 3> w43 = uniform<double, N, 3>(rng, -1.0, 1.0);
    tensor<double, C, 3> w53 = uniform<double, C, 3>(rng, -1.0, 1.0);
    mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    // dX = W·Mᵀ, dM = Xᵀ·W
    const auto g = check_fd(ctgrad::sum(W43 * ctgrad::matmul(x_, M)), x_ = x, M = m, W43 = w43);
    mat<double> dx{};
    tensor<double, C, 3> dm{};
    for (size_t i = 0; i < N; ++i) {
        for (size_t kk = 0; kk < C; ++kk) {
            for (size_t j = 0; j < 3; ++j) {
                dx(i, kk) += w43(i, j) * m(kk, j);
                dm(kk, j) += x(i, kk) * w43(i, j);
            }
        }
    }
    expect_close_elements(g[x_].data(), dx.data(), dx.size(), 1e-15, "dX");
    expect_close_elements(g[M].data(), dm.data(), dm.size(), 1e-15, "dM");
    // only the weights (the data X gets no adjoint)
    const auto gm =
        check_fd(ctgrad::sum(W43 * ctgrad::matmul(x_, M)), wrt(M), x_ = x, M = m, W43 = w43);
    static_assert(decltype(gm)::size() == 1);
    expect_equal_elements(gm[M].data(), g[M].data(), dm.size(), "wrt(M)");
    // transposes in matmul, and alone
    check_fd(ctgrad::sum(W53 * ctgrad::matmul(ctgrad::transpose(x_), L)), x_ = x, L = l, W53 = w53);
    check_fd(ctgrad::sum(W43 * ctgrad::matmul(x_, ctgrad::transpose(K))), x_ = x, K = k, W43 = w43);
    check_fd(ctgrad::sum(ctgrad::transpose(w_) * ctgrad::transpose(ctgrad::sin(x_))), x_ = x,
             w_ = w);
    // one variable on both sides: the Gram matrix XᵀX, and a square matrix times itself
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::matmul(ctgrad::transpose(x_), x_))), x_ = x);
    constexpr auto Q = ctgrad::var<"Q", tensor<double, 3, 3>>;
    tensor<double, 3, 3> q = uniform<double, 3, 3>(rng, -1.0, 1.0);
    check_fd(ctgrad::sum(ctgrad::exp(ctgrad::matmul(Q, Q))), Q = q);
    // a sum straight over a kernel, a mean over a transpose
    const auto gs = check_fd(ctgrad::sum(ctgrad::matmul(x_, M)), x_ = x, M = m);
    for (size_t i = 0; i < N; ++i) {
        for (size_t kk = 0; kk < C; ++kk) {
            const double row_of_m = m(kk, 0) + m(kk, 1) + m(kk, 2);
            BOOST_TEST(gs[x_](i, kk) == row_of_m, boost::test_tools::tolerance(1e-15));
        }
    }
    check_fd(ctgrad::mean(ctgrad::transpose(x_) * 2.0), x_ = x);
}

BOOST_AUTO_TEST_CASE(kernels_and_elementwise_feeding_each_other) {
    std::mt19937 rng(13);
    mat<double> x = uniform<double, N, C>(rng, -1.0, 1.0);
    tensor<double, C, 3> m = uniform<double, C, 3>(rng, -1.0, 1.0);
    tensor<double, N, 3> w43 = uniform<double, N, 3>(rng, -1.0, 1.0);
    tensor<double, C> vv = uniform<double, C>(rng, -1.0, 1.0);
    mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    constexpr auto x_ = X<double>;
    constexpr auto w_ = Wt<double>;
    // elementwise → kernel → elementwise → reduction
    check_fd(ctgrad::sum(ctgrad::tanh(ctgrad::matmul(ctgrad::exp(x_ * 0.5) + v, M) + 0.1) * W43),
             x_ = x, v = vv, M = m, W43 = w43);
    // kernel → kernel
    check_fd(ctgrad::sum(W43 * ctgrad::matmul(ctgrad::softmax(x_), M)), x_ = x, M = m, W43 = w43);
    check_fd(ctgrad::sum(W43 * ctgrad::log_softmax(ctgrad::matmul(x_, M))), x_ = x, M = m,
             W43 = w43);
    // one kernel result read by a kernel and by an elementwise op
    const auto h = ctgrad::matmul(x_, M);
    check_fd(ctgrad::sum(W43 * ctgrad::sigmoid(h)) + ctgrad::sum(ctgrad::softmax(h) * h), x_ = x,
             M = m, W43 = w43);
    // per-row reductions of kernels and of broadcast expressions
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::row_sum(ctgrad::matmul(x_, M)))), x_ = x, M = m);
    check_fd(ctgrad::sum(w_ * (x_ - ctgrad::row_mean(ctgrad::softmax(x_ * v)))), x_ = x, v = vv,
             w_ = w);
}

// --- float ---

BOOST_AUTO_TEST_CASE(float_agrees_with_double) {
    std::mt19937 rng(14);
    const mat<double> x = uniform<double, N, C>(rng, -2.0, 2.0);
    const mat<double> t = one_hot<double>(rng);
    const mat<double> w = uniform<double, N, C>(rng, -1.0, 1.0);
    const mat<float> xf = convert<float>(x), tf = convert<float>(t), wf = convert<float>(w);
    const auto f = [](auto x_, auto y_, auto w_) {
        return ctgrad::softmax_cross_entropy(x_, y_) + ctgrad::mse(ctgrad::softmax(x_), y_) +
               ctgrad::sum(w_ * ctgrad::log_softmax(x_)) +
               ctgrad::binary_cross_entropy(ctgrad::sigmoid(x_), y_) +
               ctgrad::mean(ctgrad::row_sum(w_ * x_));
    };
    const auto gd = ctgrad::gradient(f(X<double>, Y<double>, Wt<double>), X<double> = x,
                                     Y<double> = t, Wt<double> = w);
    const auto gf = ctgrad::gradient(f(X<float>, Y<float>, Wt<float>), X<float> = xf, Y<float> = tf,
                                     Wt<float> = wf);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(gf.value)>, float>);
    BOOST_TEST(gf.value == gd.value, boost::test_tools::tolerance(1e-5));
    expect_close_elements(gf[X<float>].data(), gd[X<double>].data(), x.size(), 1e-5, "X");
    expect_close_elements(gf[Y<float>].data(), gd[Y<double>].data(), x.size(), 1e-5, "Y");
    expect_close_elements(gf[Wt<float>].data(), gd[Wt<double>].data(), x.size(), 1e-5, "Wt");
    // float softmax of large logits
    const auto big = ctgrad::value(ctgrad::softmax(X<float>), X<float> = convert<float>(spread(x)));
    BOOST_TEST(all_finite(big));
    const auto ce = ctgrad::value(ctgrad::softmax_cross_entropy(X<float>, Y<float>),
                                  X<float> = convert<float>(shifted(x, 1000.0)), Y<float> = tf);
    BOOST_TEST(std::isfinite(ce));
    BOOST_TEST(ce == plain_cross_entropy(x, t), boost::test_tools::tolerance(1e-3));
}

// --- constant evaluation ---

namespace {
constexpr auto Z = ctgrad::var<"Z", tensor<double, 2, 2>>;
constexpr auto T = ctgrad::var<"T", tensor<double, 2, 2>>;
constexpr tensor<double, 2, 2> zeros{};
constexpr tensor<double, 2, 2> ones_hot{{1, 0, 0, 1}};
constexpr tensor<double, 2, 2> z_values{{1, 2, 3, 4}};
constexpr tensor<double, 2, 2> margin{{1000, 0, 0, 1000}};
}  // namespace

// sums, means, row sums and transposed products are exact on small integers
static_assert(ctgrad::value(ctgrad::sum(Z), Z = z_values) == 10.0);
static_assert(ctgrad::value(ctgrad::mean(Z * Z), Z = z_values) == 7.5);
static_assert(ctgrad::value(ctgrad::row_sum(Z), Z = z_values) == tensor<double, 2, 1>{{3, 7}});
static_assert(ctgrad::value(ctgrad::matmul(ctgrad::transpose(Z), Z), Z = z_values) ==
              tensor<double, 2, 2>{{10, 14, 14, 20}});
static_assert(ctgrad::gradient(ctgrad::sum(ctgrad::matmul(Z, T)), Z = z_values, T = ones_hot)[Z] ==
              tensor<double, 2, 2>{{1, 1, 1, 1}});
// uniform logits: softmax 1/2, cross-entropy log 2; a margin of 1000: 0, gradient 0
static_assert(ctgrad::value(ctgrad::softmax(Z), Z = zeros) ==
              tensor<double, 2, 2>{{0.5, 0.5, 0.5, 0.5}});
static_assert(ctgrad::value(ctgrad::softmax_cross_entropy(Z, T), Z = zeros, T = ones_hot) -
                      0.6931471805599453 <
                  1e-15 &&
              ctgrad::value(ctgrad::softmax_cross_entropy(Z, T), Z = zeros, T = ones_hot) -
                      0.6931471805599453 >
                  -1e-15);
static_assert(ctgrad::value(ctgrad::softmax_cross_entropy(Z, T), Z = margin, T = ones_hot) == 0.0);
static_assert(ctgrad::gradient(ctgrad::softmax_cross_entropy(Z, T), wrt(Z), Z = margin,
                               T = ones_hot)[Z] == tensor<double, 2, 2>{});

// prod: value, and the gradient Π_{j≠i} x_j without division (exact with zeros), in the
// assigning and the accumulating form (prod used twice), against finite differences.
BOOST_AUTO_TEST_CASE(prod_reduction) {
    constexpr auto v_ = ctgrad::var<"v", tensor<double, 19>>;
    tensor<double, 19> v{};
    for (size_t i = 0; i < 19; ++i) v.data()[i] = 0.6 + 0.05 * double(i);
    double expected = 1.0;
    for (double e : v) expected *= e;
    const auto f = ctgrad::prod(v_) + ctgrad::sum(v_ * ctgrad::prod(v_));
    const auto g = ctgrad::gradient(f, v_ = v);
    BOOST_TEST(ctgrad::value(ctgrad::prod(v_), v_ = v) == expected,
               boost::test_tools::tolerance(1e-14));
    for (size_t i = 0; i < 19; ++i) {
        const double h = 1e-6, o = v.data()[i];
        v.data()[i] = o + h;
        const double up = ctgrad::value(f, v_ = v);
        v.data()[i] = o - h;
        const double down = ctgrad::value(f, v_ = v);
        v.data()[i] = o;
        BOOST_TEST(g[v_].data()[i] == (up - down) / (2 * h), boost::test_tools::tolerance(1e-7));
    }
    constexpr auto w_ = ctgrad::var<"w", tensor<double, 3>>;
    const tensor<double, 3> w{{2.0, 0.0, 3.0}};
    const auto gw = ctgrad::gradient(ctgrad::prod(w_), w_ = w);
    BOOST_TEST(gw.value == 0.0);
    BOOST_TEST(gw[w_](0) == 0.0);
    BOOST_TEST(gw[w_](1) == 6.0);
    BOOST_TEST(gw[w_](2) == 0.0);
}
static_assert(
    ctgrad::gradient(ctgrad::prod(ctgrad::var<"w", ctgrad::tensor<double, 3>>),
                     ctgrad::var<"w", ctgrad::tensor<double, 3>> = ctgrad::tensor<double, 3>{
                         {2.0, 0.0, 3.0}})[ctgrad::var<"w", ctgrad::tensor<double, 3>>](1) == 6.0);
