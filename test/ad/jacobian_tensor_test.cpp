// jacobian(...) of tensor-valued functions and of functions of tensor variables: a [2, 2] output
// of 4 inputs (A·A, analytic and in a constant expression), a [1, 3] output of 4 inputs
// (tanh(R·W) + b), outputs(...) mixing a tensor and a scalar output, float tensors; every entry
// against central finite differences, every row against `gradient` of that output alone
// (sum(F * E) with a one-hot E, through the public gradient), and the tensor path against the
// scalar path on the same function written with scalar variables.
#define BOOST_TEST_MODULE ad_jacobian_tensor
#include <array>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"

namespace {

using ctgrad::tensor;
using ctgrad::test::central_difference;
using ctgrad::test::fd_agrees;
using ctgrad::test::fd_step;
using std::size_t;

constexpr auto A = ctgrad::var<"A", tensor<double, 2, 2>>;
constexpr auto y = ctgrad::var<"y">;

// --- constant expressions: a [2, 2] output of a [2, 2] input, A·A ---

// d(A·A)(i, j)/dA(k, l) = δ(i, k)·A(l, j) + A(i, k)·δ(j, l); exact on integers.
constexpr tensor<double, 2, 2> a_int{{1, 2, 3, 4}};
constexpr auto JA = ctgrad::jacobian(ctgrad::matmul(A, A), A = a_int);
static_assert(JA.outputs == 4 && JA.inputs == 4);
static_assert(JA.value[0] == 7 && JA.value[1] == 10 && JA.value[2] == 15 && JA.value[3] == 22);
constexpr bool square_rows_exact() {
    for (size_t i = 0; i < 2; ++i) {
        for (size_t j = 0; j < 2; ++j) {
            for (size_t k = 0; k < 2; ++k) {
                for (size_t l = 0; l < 2; ++l) {
                    const double want = (i == k ? a_int(l, j) : 0.0) + (j == l ? a_int(i, k) : 0.0);
                    if (JA.rows[i * 2 + j][k * 2 + l] != want) return false;
                }
            }
        }
    }
    return true;
}
static_assert(square_rows_exact());
// J(i, A) is a view of A's shape into row i.
static_assert(std::is_same_v<decltype(JA(0, A)), ctgrad::tensor_view<const double, 2, 2>>);
static_assert(JA(1, A)(0, 0) == 2 && JA(1, A)(0, 1) == 5 && JA(1, A)(1, 1) == 2);
static_assert(decltype(JA)::column(A) == 0);

// A tensor output and a scalar one, a tensor and a scalar variable: A·A·y (elementwise) and
// sum(A)·y, m = 5, n = 5, in a constant expression with a transcendental function (clang++
// evaluates ctgrad's own tanh).
constexpr auto FM = ctgrad::outputs(A * A * y, ctgrad::sum(ctgrad::tanh(A)) * y);
static_assert(decltype(FM)::size == 5 && decltype(FM)::parts == 2);
constexpr auto JM = ctgrad::jacobian(FM, A = a_int, y = 0.5);
static_assert(JM.inputs == 5 && decltype(JM)::column(y) == 4);
static_assert(JM.value[3] == 8.0 && JM(3, A)(1, 1) == 4.0 && JM(3, A)(0, 0) == 0.0);
static_assert(JM(2, y) == 9.0 && JM.rows[2][4] == 9.0);
static_assert(JM(4, A)(0, 1) > 0.0 && JM(4, A)(0, 1) < 0.5 * 0.1);  // 0.5·(1 − tanh²(2))
static_assert(JM(4, y) == ctgrad::value(ctgrad::sum(ctgrad::tanh(A)), A = a_int));

// wrt(...): the listed variables' columns in order; a listed variable the function lacks has
// zero columns.
constexpr auto z = ctgrad::var<"z">;
constexpr auto JW = ctgrad::jacobian(FM, ctgrad::wrt(y, z, A), A = a_int, y = 0.5);
static_assert(JW.inputs == 6 && decltype(JW)::column(A) == 2 && decltype(JW)::column(z) == 1);
static_assert(JW(3, A)(1, 1) == JM(3, A)(1, 1) && JW(2, y) == JM(2, y) && JW(2, z) == 0.0);

// --- run time ---

/// A one-hot tensor: 1 at flat index r.
template <class T>
T one_hot(size_t r) {
    T e{};
    e.data()[r] = 1;
    return e;
}

// A [1, 3] output of 4 inputs: tanh(R·W) + b, with W and b data (not differentiated).
constexpr auto R = ctgrad::var<"R", tensor<double, 1, 4>>;
constexpr auto W = ctgrad::var<"W", tensor<double, 4, 3>>;
constexpr auto b = ctgrad::var<"b", tensor<double, 1, 3>>;
constexpr auto E3 = ctgrad::var<"E3", tensor<double, 1, 3>>;

struct layer_data {
    tensor<double, 1, 4> r{{0.3, -0.7, 1.1, 0.25}};
    tensor<double, 4, 3> w{};
    tensor<double, 1, 3> bias{{0.1, -0.2, 0.05}};
    layer_data() {
        for (size_t e = 0; e < w.size(); ++e) w.data()[e] = 0.37 * double(e % 5) - 0.6;
    }
};

BOOST_AUTO_TEST_CASE(vector_output_of_four_inputs) {
    layer_data d;
    const auto f = ctgrad::tanh(ctgrad::matmul(R, W)) + b;
    const auto J = ctgrad::jacobian(f, ctgrad::wrt(R), R = d.r, W = d.w, b = d.bias);
    static_assert(decltype(J)::outputs == 3 && decltype(J)::inputs == 4);
    const auto v = ctgrad::value(f, R = d.r, W = d.w, b = d.bias);
    for (size_t i = 0; i < 3; ++i) {
        BOOST_TEST(J.value[i] == v.data()[i]);
        // row i against the gradient of output i alone
        const auto g = ctgrad::gradient(ctgrad::sum(f * E3), ctgrad::wrt(R), R = d.r, W = d.w,
                                        b = d.bias, E3 = one_hot<tensor<double, 1, 3>>(i));
        for (size_t k = 0; k < 4; ++k) {
            BOOST_TEST(J.rows[i][k] == g[R].data()[k], boost::test_tools::tolerance(1e-15));
            // analytic: (1 − tanh²(z_i))·W(k, i)
            const double t = v.data()[i] - d.bias.data()[i];
            BOOST_TEST(J(i, R)(0, k) == (1 - t * t) * d.w(k, i),
                       boost::test_tools::tolerance(1e-14));
        }
    }
    // every entry against central differences of value(f)
    for (size_t k = 0; k < 4; ++k) {
        const double r0 = d.r.data()[k];
        for (size_t i = 0; i < 3; ++i) {
            auto fi = [&](double t) {
                tensor<double, 1, 4> rr = d.r;
                rr.data()[k] = t;
                return ctgrad::value(f, R = rr, W = d.w, b = d.bias).data()[i];
            };
            const double fd = central_difference(fi, r0);
            BOOST_TEST(fd_agrees(J.rows[i][k], fd, 1.0, fd_step(r0)),
                       "dF" << i << "/dR" << k << " = " << J.rows[i][k] << ", fd " << fd);
        }
    }
}

// outputs(...) of a [2, 2] tensor and a scalar, with respect to a [2, 2] tensor and a scalar:
// exp(A)·y and sum(A·A)·y + sin(y).
BOOST_AUTO_TEST_CASE(mixed_outputs_and_variables) {
    const tensor<double, 2, 2> a{{0.2, -0.5, 0.9, 0.35}};
    const double yv = 1.3;
    constexpr auto E4 = ctgrad::var<"E4", tensor<double, 2, 2>>;
    const auto v = ctgrad::exp(A) * y;
    const auto s = ctgrad::sum(A * A) * y + ctgrad::sin(y);
    const auto J = ctgrad::jacobian(ctgrad::outputs(v, s), A = a, y = yv);
    static_assert(decltype(J)::outputs == 5 && decltype(J)::inputs == 5);
    const auto vv = ctgrad::value(v, A = a, y = yv);
    for (size_t i = 0; i < 4; ++i) {
        BOOST_TEST(J.value[i] == vv.data()[i]);
        const auto g = ctgrad::gradient(ctgrad::sum(v * E4), A = a, y = yv,
                                        E4 = one_hot<tensor<double, 2, 2>>(i));
        for (size_t k = 0; k < 4; ++k) {
            BOOST_TEST(J(i, A).data()[k] == g[A].data()[k], boost::test_tools::tolerance(1e-15));
        }
        BOOST_TEST(J(i, y) == g[y], boost::test_tools::tolerance(1e-15));
        BOOST_TEST(J(i, y) == std::exp(a.data()[i]), boost::test_tools::tolerance(1e-15));
    }
    const auto gs = ctgrad::gradient(s, A = a, y = yv);
    BOOST_TEST(J.value[4] == gs.value, boost::test_tools::tolerance(1e-15));
    for (size_t k = 0; k < 4; ++k) {
        BOOST_TEST(J(4, A).data()[k] == gs[A].data()[k], boost::test_tools::tolerance(1e-15));
        BOOST_TEST(J(4, A).data()[k] == 2 * a.data()[k] * yv, boost::test_tools::tolerance(1e-15));
    }
    BOOST_TEST(J(4, y) == gs[y], boost::test_tools::tolerance(1e-15));
    // every entry against central differences (column k < 4: A's element k, column 4: y)
    for (size_t col = 0; col < 5; ++col) {
        const double x0 = col < 4 ? a.data()[col] : yv;
        for (size_t i = 0; i < 5; ++i) {
            auto fi = [&](double t) {
                tensor<double, 2, 2> aa = a;
                double yy = yv;
                (col < 4 ? aa.data()[col] : yy) = t;
                return i < 4 ? ctgrad::value(v, A = aa, y = yy).data()[i]
                             : ctgrad::value(s, A = aa, y = yy);
            };
            const double fd = central_difference(fi, x0);
            BOOST_TEST(fd_agrees(J.rows[i][col], fd, 4.0, fd_step(x0)),
                       "dF" << i << "/d input " << col << " = " << J.rows[i][col] << ", fd " << fd);
        }
    }
}

// The same function by the tensor path (X [1, 2]·M [2, 2], then sin) and by the scalar path
// (two scalar outputs of scalar variables): the same numbers.
BOOST_AUTO_TEST_CASE(tensor_path_matches_scalar_path) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 1, 2>>;
    constexpr auto M = ctgrad::var<"M", tensor<double, 2, 2>>;
    constexpr auto x0 = ctgrad::var<"x0">;
    constexpr auto x1 = ctgrad::var<"x1">;
    const tensor<double, 1, 2> xv{{0.4, -1.2}};
    const tensor<double, 2, 2> m{{0.5, -0.25, 1.5, 0.75}};
    const auto Jt =
        ctgrad::jacobian(ctgrad::sin(ctgrad::matmul(X, M)), ctgrad::wrt(X), X = xv, M = m);
    const auto F = ctgrad::outputs(ctgrad::sin(x0 * m(0, 0) + x1 * m(1, 0)),
                                   ctgrad::sin(x0 * m(0, 1) + x1 * m(1, 1)));
    for (const auto& Js :
         {ctgrad::jacobian<ctgrad::accumulation::forward>(F, x0 = xv(0, 0), x1 = xv(0, 1)),
          ctgrad::jacobian<ctgrad::accumulation::reverse>(F, x0 = xv(0, 0), x1 = xv(0, 1))}) {
        for (size_t i = 0; i < 2; ++i) {
            BOOST_TEST(Jt.value[i] == Js.value[i], boost::test_tools::tolerance(1e-15));
            BOOST_TEST(Jt(i, X)(0, 0) == Js(i, x0), boost::test_tools::tolerance(1e-15));
            BOOST_TEST(Jt(i, X)(0, 1) == Js(i, x1), boost::test_tools::tolerance(1e-15));
        }
    }
}

// float tensors give a float Jacobian (scalars bound as double are converted, as in gradient):
// tanh(V)·V·c, diagonal, d/dV_k = (1 − tanh²)·V_k·c + tanh·c.
BOOST_AUTO_TEST_CASE(float_tensors) {
    constexpr auto V = ctgrad::var<"V", tensor<float, 3>>;
    constexpr auto c = ctgrad::var<"c">;
    const tensor<float, 3> vv{{0.5f, -1.0f, 2.0f}};
    const auto J = ctgrad::jacobian(ctgrad::tanh(V) * V * c, V = vv, c = 2.0);
    static_assert(std::is_same_v<decltype(J)::scalar_type, float>);
    for (size_t i = 0; i < 3; ++i) {
        for (size_t k = 0; k < 3; ++k) {
            const double t = std::tanh(double(vv(i)));
            const double want = i == k ? ((1 - t * t) * vv(i) + t) * 2.0 : 0.0;
            BOOST_TEST(J(i, V)(k) == want, boost::test_tools::tolerance(1e-6));
        }
        BOOST_TEST(J(i, c) == std::tanh(double(vv(i))) * vv(i), boost::test_tools::tolerance(1e-6));
    }
}

// An infinite output element does not spoil the other rows' values (each value is read from the
// function's value, not from the seeded sum, where 0·∞ would give NaN) nor the columns whose
// partials are finite. (Column 0, where log's partial is 1/0, holds 0·∞ = NaN in the other rows,
// as in every reverse-mode Jacobian: docs/jacobian.md.)
BOOST_AUTO_TEST_CASE(infinite_element_stays_in_its_row) {
    const tensor<double, 2, 2> a{{0.0, 1.0, 2.0, 3.0}};
    const auto J = ctgrad::jacobian(ctgrad::log(A), A = a);
    BOOST_TEST(std::isinf(J.value[0]));
    BOOST_TEST(J.value[1] == 0.0);
    BOOST_TEST(J.value[3] == std::log(3.0), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(J(3, A)(1, 1) == 1.0 / 3.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(J(3, A)(0, 1) == 0.0);
    BOOST_TEST(J(3, A)(1, 0) == 0.0);
    BOOST_TEST(J(2, A)(1, 0) == 0.5, boost::test_tools::tolerance(1e-15));
}

}  // namespace
