// An outside reviewer's tensor expressions the other suites do not write: pieces of one type that
// hold different numbers (A·2 and A·3, inside tanh and matmul), a variable used on both sides of
// a matmul (Aᵀ·A, S·S), transposes, a scalar variable scaling a tensor and raised to a tensor,
// softmax of a vector, prod, max/min against a broadcast row and a number, a reused `auto`
// activation. Every gradient against central differences (support/tensor_fd.hpp), the value
// against value() and, where short, a loop written here.
#define BOOST_TEST_MODULE tensor_review_expressions
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"
#include "support/tensor_fd.hpp"

namespace {

using ctgrad::tensor;
using ctgrad::test::check_fd;
using ctgrad::test::close;
using std::size_t;

constexpr auto A = ctgrad::var<"A", tensor<double, 3, 5>>;
constexpr auto S = ctgrad::var<"S", tensor<double, 5, 5>>;
constexpr auto v = ctgrad::var<"v", tensor<double, 5>>;
constexpr auto s = ctgrad::var<"s">;

struct inputs {
    tensor<double, 3, 5> a;
    tensor<double, 5, 5> q;
    tensor<double, 5> vv;
    double sv = 0.7;
    inputs() {
        int k = 0;
        for (auto& e : a) e = std::sin(++k * 0.7);
        for (auto& e : q) e = std::cos(++k * 0.3);
        for (auto& e : vv) e = std::sin(++k * 1.1);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(same_type_pieces_with_different_numbers) {
    inputs in;
    // Σ 2a + Σ 3a = 5 Σ a: the gradient is 5 everywhere
    const auto f1 = ctgrad::sum(A * 2.0) + ctgrad::sum(A * 3.0);
    const auto g1 = ctgrad::gradient(f1, A = in.a);
    double sa = 0;
    for (double e : in.a) sa += e;
    BOOST_TEST(close(g1.value, 5 * sa, 1e-14));
    for (double e : g1[A]) BOOST_TEST(close(e, 5.0, 1e-15));
    const auto f2 = ctgrad::sum(ctgrad::tanh(A * 2.0) * ctgrad::tanh(A * 3.0));
    const auto g2 = check_fd(f2, A = in.a);
    for (size_t i = 0; i < in.a.size(); ++i) {
        const double x = in.a.data()[i], t2 = std::tanh(2 * x), t3 = std::tanh(3 * x);
        BOOST_TEST(close(g2[A].data()[i], 2 * (1 - t2 * t2) * t3 + 3 * (1 - t3 * t3) * t2, 1e-13));
    }
    check_fd(ctgrad::sum(ctgrad::matmul(A * 2.0, S) * ctgrad::matmul(A * 3.0, S)), A = in.a,
             S = in.q);
    BOOST_TEST(close(ctgrad::value(f2, A = in.a), g2.value, 1e-15));
}

BOOST_AUTO_TEST_CASE(a_variable_on_both_sides_of_a_product) {
    inputs in;
    check_fd(ctgrad::sum(ctgrad::matmul(A, ctgrad::matmul(S, S))), A = in.a, S = in.q);
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::matmul(A, ctgrad::transpose(S)))), A = in.a,
             S = in.q);
    const auto g =
        check_fd(ctgrad::sum(ctgrad::square(ctgrad::matmul(ctgrad::transpose(A), A))), A = in.a);
    // f = ‖AᵀA‖², ∂f/∂A = 4·A·(AᵀA)
    double m[5][5] = {};
    for (size_t i = 0; i < 5; ++i)
        for (size_t j = 0; j < 5; ++j)
            for (size_t r = 0; r < 3; ++r) m[i][j] += in.a(r, i) * in.a(r, j);
    for (size_t r = 0; r < 3; ++r) {
        for (size_t j = 0; j < 5; ++j) {
            double e = 0;
            for (size_t k = 0; k < 5; ++k) e += 4 * in.a(r, k) * m[k][j];
            BOOST_TEST(close(g[A](r, j), e, 1e-13));
        }
    }
}

BOOST_AUTO_TEST_CASE(scalars_and_tensors_mixed) {
    inputs in;
    check_fd(ctgrad::sum(A * v) * s + ctgrad::exp(ctgrad::sum(A) / 10.0), A = in.a, v = in.vv,
             s = in.sv);
    check_fd(ctgrad::log_sum_exp(A * s), A = in.a, s = in.sv);
    check_fd(s * s * ctgrad::sum(A), A = in.a, s = in.sv);
    check_fd(ctgrad::sum(ctgrad::pow(ctgrad::abs(A) + 1.0, s)), A = in.a, s = in.sv);
    const auto g = check_fd(ctgrad::sum(ctgrad::pow(s, A)), A = in.a, s = in.sv);
    double ds = 0;
    for (double e : in.a) ds += e * std::pow(in.sv, e - 1);
    BOOST_TEST(close(g[s], ds, 1e-13));
}

BOOST_AUTO_TEST_CASE(reductions_and_piecewise) {
    inputs in;
    check_fd(ctgrad::sum(ctgrad::softmax(v) * v), v = in.vv);
    check_fd(ctgrad::sum(ctgrad::log_softmax(A) * A), A = in.a);
    check_fd(ctgrad::mean(ctgrad::row_mean(A) * ctgrad::row_sum(A)), A = in.a);
    const auto gp = check_fd(ctgrad::prod(v), v = in.vv);
    double pr = 1;
    for (double e : in.vv) pr *= e;
    BOOST_TEST(close(gp.value, pr, 1e-14));
    check_fd(ctgrad::sum(ctgrad::max(A, v)) + ctgrad::sum(ctgrad::min(A, 0.1)), A = in.a,
             v = in.vv);
    check_fd(ctgrad::sum(A / (v * v + 1.0)), A = in.a, v = in.vv);
    check_fd(ctgrad::mse(A, v), A = in.a, v = in.vv);
    const auto h = ctgrad::sigmoid(A * 1.5);
    const auto g = check_fd(ctgrad::sum(h * h) + ctgrad::sum(h), A = in.a);
    for (size_t i = 0; i < in.a.size(); ++i) {
        const double y = 1 / (1 + std::exp(-1.5 * in.a.data()[i]));
        BOOST_TEST(close(g[A].data()[i], (2 * y + 1) * y * (1 - y) * 1.5, 1e-13));
    }
}
