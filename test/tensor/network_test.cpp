// Whole networks written as one expression (tensor/program.hpp):
//  1. the two-layer regression network of the notes (batch 32, 100 → 200 ReLU → 10, sum of
//     squared errors): ctgrad's gradient against the one derived by hand from the four
//     backprop equations, written below with plain loops, in double and float, and against
//     central differences at sampled entries;
//  2. a deep narrow sigmoid network (depth 12, width 4, batch 8) built by a recursive helper:
//     against central differences and hand-written backprop, and its per-layer gradient norms,
//     which show the vanishing gradient;
//  3. a 2-3-1 ReLU network whose gradient is computed in a static_assert, exactly (dyadic
//     numbers), and equals the run-time one;
//  4. a two-layer softmax cross-entropy classifier against central differences, float against
//     double, and a few steps of gradient descent lowering its loss.
#define BOOST_TEST_MODULE tensor_network
#include <boost/test/unit_test.hpp>

#include <algorithm>    // std::max
#include <array>        // std::array
#include <cmath>        // std::exp, std::sqrt
#include <cstddef>      // std::size_t
#include <functional>   // std::function
#include <memory>       // std::make_unique
#include <random>       // std::mt19937, std::normal_distribution
#include <string>       // std::string
#include <tuple>        // std::tuple, std::apply
#include <type_traits>  // std::is_same_v
#include <utility>      // std::index_sequence
#include <vector>       // std::vector

#include <ctgrad/ctgrad.hpp>

#include "support/finite_difference.hpp"
#include "support/tensor_fd.hpp"

namespace {

using ctgrad::test::check_fd;
using ctgrad::test::check_fd_impl;
using ctgrad::test::gradient_of;

using ctgrad::tensor;
using ctgrad::wrt;
using std::size_t;

template <class T, size_t... D>
void fill_uniform(tensor<T, D...>& t, std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (T& e : t) e = static_cast<T>(dist(rng));
}

template <class T, size_t... D>
void fill_normal(tensor<T, D...>& t, std::mt19937& rng) {
    std::normal_distribution<double> dist(0.0, 1.0);
    for (T& e : t) e = static_cast<T>(dist(rng));
}

template <class To, class From, size_t... D>
void convert_into(const tensor<From, D...>& from, tensor<To, D...>& to) {
    for (size_t e = 0; e < from.size(); ++e) to.data()[e] = static_cast<To>(from.data()[e]);
}

/// max_e |got[e] - want[e]| <= tol * max_e |want[e]|: agreement relative to the tensor's
/// scale (gradient entries near zero are sums of large terms that cancel).
template <class T, class U>
[[gnu::noinline]] void expect_close_to_scale(const T* got, const U* want, size_t n, double tol,
                                             const char* what) {
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t e = 0; e < n; ++e) scale = std::max(scale, std::abs(static_cast<double>(want[e])));
    for (size_t e = 0; e < n; ++e) {
        const double d = std::abs(static_cast<double>(got[e]) - static_cast<double>(want[e]));
        if (d > worst) {
            worst = d;
            at = e;
        }
    }
    BOOST_TEST(worst <= tol * scale, what << ": largest difference " << worst << " at [" << at
                                          << "], scale " << scale << ", got "
                                          << static_cast<double>(got[at]) << ", want "
                                          << static_cast<double>(want[at]));
}

template <class T, size_t... D>
double frobenius(const tensor<T, D...>& t) {
    double s = 0;
    for (T e : t) s += static_cast<double>(e) * static_cast<double>(e);
    return std::sqrt(s);
}

// Finite differences over every bound variable: check_fd (support/tensor_fd.hpp).

// --- 1. the two-layer regression network of the notes (001) ---

constexpr size_t Nb = 32;    // batch
constexpr size_t Din = 100;  // inputs
constexpr size_t Hid = 200;  // hidden units (ReLU)
constexpr size_t Out = 10;   // outputs

template <class T>
constexpr auto RX = ctgrad::var<"X", tensor<T, Nb, Din>>;
template <class T>
constexpr auto RY = ctgrad::var<"Y", tensor<T, Nb, Out>>;
template <class T>
constexpr auto W1 = ctgrad::var<"W1", tensor<T, Din, Hid>>;
template <class T>
constexpr auto b1 = ctgrad::var<"b1", tensor<T, Hid>>;
template <class T>
constexpr auto W2 = ctgrad::var<"W2", tensor<T, Hid, Out>>;
template <class T>
constexpr auto b2 = ctgrad::var<"b2", tensor<T, Out>>;

/// h = X·W1 + b1, pred = relu(h)·W2 + b2, loss = Σ (y − pred)², as the listing of the notes.
template <class T>
constexpr auto regression_loss() {
    const auto h = ctgrad::matmul(RX<T>, W1<T>) + b1<T>;
    const auto pred = ctgrad::matmul(ctgrad::relu(h), W2<T>) + b2<T>;
    return ctgrad::sum(ctgrad::square(RY<T> - pred));
}

template <class T>
struct regression_data {
    tensor<T, Nb, Din> x;
    tensor<T, Nb, Out> y;
    tensor<T, Din, Hid> w1;
    tensor<T, Hid> b1;
    tensor<T, Hid, Out> w2;
    tensor<T, Out> b2;
};

/// The data of the notes: X, y, W1, W2 standard normal; b1 = b2 = 0 (`with_biases`: small
/// random biases instead, so that the bias path carries something).
std::unique_ptr<regression_data<double>> regression_example(unsigned seed, bool with_biases) {
    auto d = std::make_unique<regression_data<double>>();
    std::mt19937 rng(seed);
    fill_normal(d->x, rng);
    fill_normal(d->y, rng);
    fill_normal(d->w1, rng);
    fill_normal(d->w2, rng);
    if (with_biases) {
        fill_uniform(d->b1, rng, -1.0, 1.0);
        fill_uniform(d->b2, rng, -1.0, 1.0);
    }
    return d;
}

struct regression_gradient {
    double loss = 0;
    tensor<double, Din, Hid> w1{};
    tensor<double, Hid> b1{};
    tensor<double, Hid, Out> w2{};
    tensor<double, Out> b2{};
};

/// The gradient by hand, in double, from the four backprop equations (notes 003), with the
/// examples as rows:
///   BP1  δ² = ∇_a C ⊙ σ'(z²): the output layer is linear (σ' = 1) and C = Σ‖y − a²‖², so
///        δ² = 2 (pred − y);
///   BP2  δ¹ = ((W2)ᵀ δ²) ⊙ σ'(z¹), as rows: δ¹ = (δ² W2ᵀ) ⊙ [h > 0];
///   BP3  ∂C/∂b = δ, summed over the examples of the batch;
///   BP4  ∂C/∂w_jk = a_k δ_j: ∂C/∂W2 = relu(h)ᵀ δ², ∂C/∂W1 = Xᵀ δ¹.
/// (The listing in notes 001 computes dW2 from db2 instead of δ² = dpred: a gradient check
/// like this one catches that.)
template <class T>
std::unique_ptr<regression_gradient> regression_by_hand(const regression_data<T>& d) {
    auto g = std::make_unique<regression_gradient>();
    auto h = std::make_unique<tensor<double, Nb, Hid>>();
    auto a = std::make_unique<tensor<double, Nb, Hid>>();
    auto delta1 = std::make_unique<tensor<double, Nb, Hid>>();
    tensor<double, Nb, Out> delta2{};
    for (size_t n = 0; n < Nb; ++n) {
        for (size_t j = 0; j < Hid; ++j) {
            double z = d.b1(j);
            for (size_t k = 0; k < Din; ++k) z += double(d.x(n, k)) * double(d.w1(k, j));
            (*h)(n, j) = z;
            (*a)(n, j) = z > 0 ? z : 0.0;
        }
        for (size_t o = 0; o < Out; ++o) {
            double pred = d.b2(o);
            for (size_t j = 0; j < Hid; ++j) pred += (*a)(n, j) * double(d.w2(j, o));
            const double err = pred - double(d.y(n, o));
            g->loss += err * err;
            delta2(n, o) = 2.0 * err;  // BP1
        }
        for (size_t j = 0; j < Hid; ++j) {  // BP2
            double back = 0;
            for (size_t o = 0; o < Out; ++o) back += delta2(n, o) * double(d.w2(j, o));
            (*delta1)(n, j) = (*h)(n, j) > 0 ? back : 0.0;
        }
    }
    for (size_t n = 0; n < Nb; ++n) {
        for (size_t o = 0; o < Out; ++o) g->b2(o) += delta2(n, o);  // BP3
        for (size_t j = 0; j < Hid; ++j) {
            g->b1(j) += (*delta1)(n, j);                                                // BP3
            for (size_t o = 0; o < Out; ++o) g->w2(j, o) += (*a)(n, j) * delta2(n, o);  // BP4
        }
        for (size_t k = 0; k < Din; ++k) {
            const double xk = d.x(n, k);
            for (size_t j = 0; j < Hid; ++j) g->w1(k, j) += xk * (*delta1)(n, j);  // BP4
        }
    }
    return g;
}

template <class T>
[[gnu::noinline]] auto regression_gradient_of(const regression_data<T>& d) {
    return ctgrad::gradient(regression_loss<T>(), wrt(W1<T>, b1<T>, W2<T>, b2<T>), RX<T> = d.x,
                            RY<T> = d.y, W1<T> = d.w1, b1<T> = d.b1, W2<T> = d.w2, b2<T> = d.b2);
}

[[gnu::noinline]] double regression_value(const regression_data<double>& d) {
    return ctgrad::value(regression_loss<double>(), RX<double> = d.x, RY<double> = d.y,
                         W1<double> = d.w1, b1<double> = d.b1, W2<double> = d.w2,
                         b2<double> = d.b2);
}

/// Central differences at `samples` random entries of one parameter tensor p of d.
template <size_t Count>
void regression_fd_spot_check(regression_data<double>& d, double* p, const double* grad,
                              std::mt19937& rng, size_t samples, const char* what) {
    std::uniform_int_distribution<size_t> pick(0, Count - 1);
    const double f0 = regression_value(d);
    for (size_t k = 0; k < samples; ++k) {
        const size_t e = pick(rng);
        const double x0 = p[e];
        const double h = ctgrad::test::fd_step(x0);
        p[e] = x0 + h;
        const double fp = regression_value(d);
        p[e] = x0 - h;
        const double fm = regression_value(d);
        p[e] = x0;
        const double fd = (fp - fm) / (2 * h);
        BOOST_TEST(ctgrad::test::fd_agrees(grad[e], fd, f0, h),
                   what << "[" << e << "]: gradient " << grad[e] << ", central difference " << fd);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(regression_network_double_matches_backprop_by_hand) {
    for (const bool with_biases : {false, true}) {
        BOOST_TEST_CONTEXT((with_biases ? "random biases" : "zero biases (the notes)")) {
            const auto d = regression_example(2024, with_biases);
            const auto g = regression_gradient_of(*d);
            static_assert(decltype(g)::size() == 4);
            const auto hand = regression_by_hand(*d);
            BOOST_TEST(g.value == hand->loss, boost::test_tools::tolerance(1e-13));
            BOOST_TEST(regression_value(*d) == g.value);
            expect_close_to_scale(g[W1<double>].data(), hand->w1.data(), Din * Hid, 1e-14, "dW1");
            expect_close_to_scale(g[b1<double>].data(), hand->b1.data(), Hid, 1e-14, "db1");
            expect_close_to_scale(g[W2<double>].data(), hand->w2.data(), Hid * Out, 1e-14, "dW2");
            expect_close_to_scale(g[b2<double>].data(), hand->b2.data(), Out, 1e-14, "db2");
        }
    }
}

BOOST_AUTO_TEST_CASE(regression_network_float_matches_backprop_by_hand) {
    // The float network on the same (rounded) data, against the hand gradient in double of the
    // float data: the difference is float's rounding alone.
    const auto dd = regression_example(2025, true);
    auto df = std::make_unique<regression_data<float>>();
    convert_into(dd->x, df->x);
    convert_into(dd->y, df->y);
    convert_into(dd->w1, df->w1);
    convert_into(dd->b1, df->b1);
    convert_into(dd->w2, df->w2);
    convert_into(dd->b2, df->b2);
    const auto g = regression_gradient_of(*df);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(g.value)>, float>);
    static_assert(
        std::is_same_v<std::remove_cvref_t<decltype(g[W1<float>])>, tensor<float, Din, Hid>>);
    const auto hand = regression_by_hand(*df);
    BOOST_TEST(g.value == hand->loss, boost::test_tools::tolerance(1e-5));
    expect_close_to_scale(g[W1<float>].data(), hand->w1.data(), Din * Hid, 2e-6, "dW1");
    expect_close_to_scale(g[b1<float>].data(), hand->b1.data(), Hid, 2e-6, "db1");
    expect_close_to_scale(g[W2<float>].data(), hand->w2.data(), Hid * Out, 2e-6, "dW2");
    expect_close_to_scale(g[b2<float>].data(), hand->b2.data(), Out, 2e-6, "db2");
}

BOOST_AUTO_TEST_CASE(regression_network_central_differences) {
    auto d = regression_example(2026, true);
    const auto g = regression_gradient_of(*d);
    std::mt19937 rng(1);
    regression_fd_spot_check<Din * Hid>(*d, d->w1.data(), g[W1<double>].data(), rng, 24, "dW1");
    regression_fd_spot_check<Hid>(*d, d->b1.data(), g[b1<double>].data(), rng, 12, "db1");
    regression_fd_spot_check<Hid * Out>(*d, d->w2.data(), g[W2<double>].data(), rng, 24, "dW2");
    regression_fd_spot_check<Out>(*d, d->b2.data(), g[b2<double>].data(), rng, 10, "db2");
}

// --- 2. a deep narrow sigmoid network ---

namespace {

constexpr size_t Depth = 12;
constexpr size_t Width = 4;
constexpr size_t Batch = 8;

constexpr auto DX = ctgrad::var<"X", tensor<double, Batch, Width>>;
constexpr auto DY = ctgrad::var<"Y", tensor<double, Batch, Width>>;
template <size_t L>
constexpr auto DW = ctgrad::var<ctgrad::indexed_name<"W", L>, tensor<double, Width, Width>>;
template <size_t L>
constexpr auto Db = ctgrad::var<ctgrad::indexed_name<"b", L>, tensor<double, Width>>;

/// Layers L, ..., Depth − 1 applied to `in`: a_{l+1} = sigmoid(a_l·W_l + b_l).
template <size_t L, class In>
constexpr auto layers_from(In in) {
    if constexpr (L == Depth) {
        return in;
    } else {
        return layers_from<L + 1>(ctgrad::sigmoid(ctgrad::matmul(in, DW<L>) + Db<L>));
    }
}

/// C = 1/(2·Batch) Σ‖y − a_Depth‖².
constexpr auto deep_loss = ctgrad::mse(layers_from<0>(DX), DY);

struct deep_data {
    tensor<double, Batch, Width> x, y;
    std::array<tensor<double, Width, Width>, Depth> w;
    std::array<tensor<double, Width>, Depth> b;
};

deep_data deep_example(unsigned seed) {
    deep_data d{};
    std::mt19937 rng(seed);
    fill_uniform(d.x, rng, -1.0, 1.0);
    fill_uniform(d.y, rng, 0.0, 1.0);
    for (size_t l = 0; l < Depth; ++l) {
        fill_uniform(d.w[l], rng, -1.0, 1.0);
        fill_uniform(d.b[l], rng, -0.5, 0.5);
    }
    return d;
}

/// f(X = x, Y = y, W0 = w[0], ..., b11 = b[11]).
template <class F>
auto with_deep_bindings(deep_data& d, F f) {
    return [&]<size_t... L>(std::index_sequence<L...>) {
        return f(DX = d.x, DY = d.y, DW<L> = d.w[L]..., Db<L> = d.b[L]...);
    }
    (std::make_index_sequence<Depth>{});
}

struct deep_gradient {
    double loss = 0;
    std::array<tensor<double, Width, Width>, Depth> w{};
    std::array<tensor<double, Width>, Depth> b{};
};

/// Backprop by hand: δ_{Depth−1} = (a_Depth − y)/Batch ⊙ σ'(z), δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1})
/// with σ'(z) = a(1 − a); ∂C/∂W_l = a_lᵀ δ_l, ∂C/∂b_l = Σ_rows δ_l.
deep_gradient deep_by_hand(const deep_data& d) {
    std::array<tensor<double, Batch, Width>, Depth + 1> a{};
    a[0] = d.x;
    for (size_t l = 0; l < Depth; ++l) {
        for (size_t n = 0; n < Batch; ++n) {
            for (size_t j = 0; j < Width; ++j) {
                double z = 0;
                for (size_t k = 0; k < Width; ++k) z += a[l](n, k) * d.w[l](k, j);
                z += d.b[l](j);
                a[l + 1](n, j) = 1.0 / (1.0 + std::exp(-z));
            }
        }
    }
    deep_gradient g;
    tensor<double, Batch, Width> delta{};
    for (size_t n = 0; n < Batch; ++n) {
        for (size_t j = 0; j < Width; ++j) {
            const double out = a[Depth](n, j);
            g.loss += (d.y(n, j) - out) * (d.y(n, j) - out) / (2.0 * Batch);
            delta(n, j) = (out - d.y(n, j)) / double(Batch) * out * (1.0 - out);
        }
    }
    for (size_t l = Depth; l-- > 0;) {
        tensor<double, Batch, Width> prev{};
        for (size_t n = 0; n < Batch; ++n) {
            for (size_t j = 0; j < Width; ++j) {
                g.b[l](j) += delta(n, j);
                for (size_t k = 0; k < Width; ++k) {
                    g.w[l](k, j) += a[l](n, k) * delta(n, j);
                    prev(n, k) += delta(n, j) * d.w[l](k, j);
                }
            }
        }
        for (size_t n = 0; n < Batch; ++n) {
            for (size_t k = 0; k < Width; ++k) prev(n, k) *= a[l](n, k) * (1.0 - a[l](n, k));
        }
        delta = prev;
    }
    return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(deep_sigmoid_network_central_differences) {
    deep_data d = deep_example(7);
    // every variable, the data and the targets included
    with_deep_bindings(d, [](const auto&... b) { return check_fd(deep_loss, b...); });
}

BOOST_AUTO_TEST_CASE(deep_sigmoid_network_vanishing_gradient) {
    deep_data d = deep_example(8);
    const auto g = with_deep_bindings(d, [](const auto&... b) {
        return ctgrad::gradient(
            deep_loss,
            [&]<size_t... L>(std::index_sequence<L...>) {
                return wrt(DW<L>..., Db<L>...);
            }(std::make_index_sequence<Depth>{}),
            b...);
    });
    static_assert(decltype(g)::size() == 2 * Depth);
    // the same gradient by hand, layer by layer, relative to each layer's own scale (the first
    // layers' gradients are tiny: central differences cannot resolve them, backprop by hand can)
    const deep_gradient hand = deep_by_hand(d);
    BOOST_TEST(g.value == hand.loss, boost::test_tools::tolerance(1e-14));
    std::array<double, Depth> norms{};
    [&]<size_t... L>(std::index_sequence<L...>) {
        ((expect_close_to_scale(g[DW<L>].data(), hand.w[L].data(), Width * Width, 1e-13, "dW"),
          expect_close_to_scale(g[Db<L>].data(), hand.b[L].data(), Width, 1e-13, "db"),
          norms[L] = frobenius(g[DW<L>])),
         ...);
    }
    (std::make_index_sequence<Depth>{});
    for (size_t l = 0; l < Depth; ++l) {
        BOOST_TEST_MESSAGE("layer " << l << ": |dC/dW| = " << norms[l]);
    }
    // Vanishing gradient (notes 003): going back one layer multiplies δ by W_lᵀ and by
    // σ'(z) = a(1 − a) ≤ 1/4. With weights in [−1, 1] and width 4 the product shrinks δ by a
    // factor of about 0.1 to 0.3 per layer, so after 11 layers the first layer's gradient is
    // several orders of magnitude below the last's (about 1e-7 of it for this seed): the early
    // layers of a deep sigmoid network barely learn.
    BOOST_TEST(norms[0] < 1e-3 * norms[Depth - 1]);
    BOOST_TEST(norms[Depth / 2] < 0.1 * norms[Depth - 1]);
    BOOST_TEST(norms[0] < 0.1 * norms[Depth / 2]);
}

// --- 3. a network differentiated in a constant expression ---

namespace {

// 2 inputs → 3 ReLU units → 1 output, batch 2, squared error. Every number is dyadic and every
// intermediate result is exact in double, so the gradient is exact: the same in g++'s and
// clang's constant evaluation and at run time.
constexpr auto TX = ctgrad::var<"X", tensor<double, 2, 2>>;
constexpr auto TY = ctgrad::var<"Y", tensor<double, 2, 1>>;
constexpr auto TW1 = ctgrad::var<"W1", tensor<double, 2, 3>>;
constexpr auto Tb1 = ctgrad::var<"b1", tensor<double, 3>>;
constexpr auto TW2 = ctgrad::var<"W2", tensor<double, 3, 1>>;
constexpr auto Tb2 = ctgrad::var<"b2", tensor<double, 1>>;

constexpr tensor<double, 2, 2> tx{{1, 2, -1, 0.5}};
constexpr tensor<double, 2, 1> ty{{1, 0}};
constexpr tensor<double, 2, 3> tw1{{0.5, -1, 0.25, 1, 0.5, -0.5}};
constexpr tensor<double, 3> tb1{{0.25, 0.5, 0.25}};
constexpr tensor<double, 3, 1> tw2{{1, -0.5, 2}};
constexpr tensor<double, 1> tb2{{0.25}};

constexpr auto tiny_loss = ctgrad::sum(
    ctgrad::square(ctgrad::matmul(ctgrad::relu(ctgrad::matmul(TX, TW1) + Tb1), TW2) + Tb2 - TY));

// By hand: h = X·W1 + b1 = [[2.75, 0.5, −0.5], [0.25, 1.75, −0.25]], a = relu(h) =
// [[2.75, 0.5, 0], [0.25, 1.75, 0]], pred = a·W2 + b2 = [2.75, −0.375], err = pred − y =
// [1.75, −0.375], loss = 3.0625 + 0.140625; δ² = 2·err = [3.5, −0.75]; db2 = 2.75;
// dW2 = aᵀδ² = [9.4375, 0.4375, 0]; δ¹ = (δ² W2ᵀ) ⊙ [h > 0] = [[3.5, −1.75, 0], [−0.75, 0.375, 0]];
// db1 = [2.75, −1.375, 0]; dW1 = Xᵀδ¹ = [[4.25, −2.125, 0], [6.625, −3.3125, 0]];
// dX = δ¹ W1ᵀ = [[3.5, 2.625], [−0.75, −0.5625]]; dY = −2·err = [−3.5, 0.75].
constexpr auto tiny_gradient =
    ctgrad::gradient(tiny_loss, TX = tx, TY = ty, TW1 = tw1, Tb1 = tb1, TW2 = tw2, Tb2 = tb2);

static_assert(tiny_gradient.value == 3.203125);
static_assert(tiny_gradient[Tb2] == tensor<double, 1>{{2.75}});
static_assert(tiny_gradient[TW2] == tensor<double, 3, 1>{{9.4375, 0.4375, 0}});
static_assert(tiny_gradient[Tb1] == tensor<double, 3>{{2.75, -1.375, 0}});
static_assert(tiny_gradient[TW1] == tensor<double, 2, 3>{{4.25, -2.125, 0, 6.625, -3.3125, 0}});
static_assert(tiny_gradient[TX] == tensor<double, 2, 2>{{3.5, 2.625, -0.75, -0.5625}});
static_assert(tiny_gradient[TY] == tensor<double, 2, 1>{{-3.5, 0.75}});
static_assert(ctgrad::value(tiny_loss, TX = tx, TY = ty, TW1 = tw1, Tb1 = tb1, TW2 = tw2,
                            Tb2 = tb2) == 3.203125);
// only the parameters
static_assert(ctgrad::gradient(tiny_loss, wrt(TW1, TW2), TX = tx, TY = ty, TW1 = tw1, Tb1 = tb1,
                               TW2 = tw2, Tb2 = tb2)[TW1] == tiny_gradient[TW1]);

// The same network in float with a polynomial activation, p(h) = h + h²/2 (smooth; every
// intermediate still exact): in constant evaluation, then at run time below.
constexpr auto FX = ctgrad::var<"X", tensor<float, 2, 2>>;
constexpr auto FY = ctgrad::var<"Y", tensor<float, 2, 1>>;
constexpr auto FW1 = ctgrad::var<"W1", tensor<float, 2, 3>>;
constexpr auto Fb1 = ctgrad::var<"b1", tensor<float, 3>>;
constexpr auto FW2 = ctgrad::var<"W2", tensor<float, 3, 1>>;
constexpr auto Fb2 = ctgrad::var<"b2", tensor<float, 1>>;
constexpr tensor<float, 2, 2> fx{{1, 2, -1, 0.5f}};
constexpr tensor<float, 2, 1> fy{{1, 0}};
constexpr tensor<float, 2, 3> fw1{{0.5f, -1, 0.25f, 1, 0.5f, -0.5f}};
constexpr tensor<float, 3> fb1{{0.25f, 0.5f, 0.25f}};
constexpr tensor<float, 3, 1> fw2{{1, -0.5f, 2}};
constexpr tensor<float, 1> fb2{{0.25f}};
constexpr auto poly_hidden = ctgrad::matmul(FX, FW1) + Fb1;
constexpr auto poly_loss = ctgrad::sum(ctgrad::square(
    ctgrad::matmul(poly_hidden + ctgrad::square(poly_hidden) * 0.5, FW2) + Fb2 - FY));
constexpr auto poly_gradient =
    ctgrad::gradient(poly_loss, FX = fx, FY = fy, FW1 = fw1, Fb1 = fb1, FW2 = fw2, Fb2 = fb2);
static_assert(std::is_same_v<std::remove_cvref_t<decltype(poly_gradient.value)>, float>);
// by hand: h = [[2.75, 0.5, −0.5], [0.25, 1.75, −0.25]], p(h) = [[6.53125, 0.625, −0.375],
// [0.28125, 3.28125, −0.21875]], pred = [5.71875, −1.546875], err = [4.71875, −1.546875],
// loss = 22.2666015625 + 2.392822265625; db2 = 2·Σ err = 6.34375
static_assert(poly_gradient.value == 24.659423828125f);
static_assert(poly_gradient[Fb2] == tensor<float, 1>{{6.34375f}});

}  // namespace

BOOST_AUTO_TEST_CASE(compile_time_network_gradient_equals_run_time) {
    // the same call at run time, on run-time copies of the data
    tensor<double, 2, 2> x = tx;
    tensor<double, 2, 1> y = ty;
    tensor<double, 2, 3> w1 = tw1;
    tensor<double, 3> bb1 = tb1;
    tensor<double, 3, 1> w2 = tw2;
    tensor<double, 1> bb2 = tb2;
    const auto g =
        ctgrad::gradient(tiny_loss, TX = x, TY = y, TW1 = w1, Tb1 = bb1, TW2 = w2, Tb2 = bb2);
    BOOST_TEST(g.value == tiny_gradient.value);
    BOOST_TEST(g[TW1] == tiny_gradient[TW1]);
    BOOST_TEST(g[Tb1] == tiny_gradient[Tb1]);
    BOOST_TEST(g[TW2] == tiny_gradient[TW2]);
    BOOST_TEST(g[Tb2] == tiny_gradient[Tb2]);
    BOOST_TEST(g[TX] == tiny_gradient[TX]);
    BOOST_TEST(g[TY] == tiny_gradient[TY]);
    // and against central differences (a check of the hand derivation in the comment above)
    check_fd(tiny_loss, TX = x, TY = y, TW1 = w1, Tb1 = bb1, TW2 = w2, Tb2 = bb2);
    // the float polynomial network at run time: the same bits as in constant evaluation
    tensor<float, 2, 2> xf = fx;
    tensor<float, 2, 3> w1f = fw1;
    const auto gf =
        ctgrad::gradient(poly_loss, FX = xf, FY = fy, FW1 = w1f, Fb1 = fb1, FW2 = fw2, Fb2 = fb2);
    BOOST_TEST(gf.value == poly_gradient.value);
    BOOST_TEST(gf[FW1] == poly_gradient[FW1]);
    BOOST_TEST(gf[Fb1] == poly_gradient[Fb1]);
    BOOST_TEST(gf[FW2] == poly_gradient[FW2]);
    BOOST_TEST(gf[Fb2] == poly_gradient[Fb2]);
    BOOST_TEST(gf[FX] == poly_gradient[FX]);
    BOOST_TEST(gf[FY] == poly_gradient[FY]);
}

// --- 4. a softmax cross-entropy classifier ---

namespace {

constexpr size_t CN = 8, CD = 6, CH = 5, CC = 3;

template <class T>
constexpr auto CX = ctgrad::var<"X", tensor<T, CN, CD>>;
template <class T>
constexpr auto CT = ctgrad::var<"T", tensor<T, CN, CC>>;
template <class T>
constexpr auto CW1 = ctgrad::var<"W1", tensor<T, CD, CH>>;
template <class T>
constexpr auto Cb1 = ctgrad::var<"b1", tensor<T, CH>>;
template <class T>
constexpr auto CW2 = ctgrad::var<"W2", tensor<T, CH, CC>>;
template <class T>
constexpr auto Cb2 = ctgrad::var<"b2", tensor<T, CC>>;

template <class T>
constexpr auto classifier_loss() {
    const auto hidden = ctgrad::tanh(ctgrad::matmul(CX<T>, CW1<T>) + Cb1<T>);
    const auto logits = ctgrad::matmul(hidden, CW2<T>) + Cb2<T>;
    return ctgrad::softmax_cross_entropy(logits, CT<T>);
}

template <class T>
struct classifier_data {
    tensor<T, CN, CD> x;
    tensor<T, CN, CC> t;
    tensor<T, CD, CH> w1;
    tensor<T, CH> b1;
    tensor<T, CH, CC> w2;
    tensor<T, CC> b2;
};

classifier_data<double> classifier_example(unsigned seed) {
    classifier_data<double> d{};
    std::mt19937 rng(seed);
    fill_uniform(d.x, rng, -1.0, 1.0);
    fill_uniform(d.w1, rng, -0.8, 0.8);
    fill_uniform(d.b1, rng, -0.2, 0.2);
    fill_uniform(d.w2, rng, -0.8, 0.8);
    fill_uniform(d.b2, rng, -0.2, 0.2);
    for (size_t n = 0; n < CN; ++n) d.t(n, (n * 5 + 1) % CC) = 1.0;
    return d;
}

template <class T>
auto classifier_gradient(const classifier_data<T>& d) {
    return ctgrad::gradient(classifier_loss<T>(), wrt(CW1<T>, Cb1<T>, CW2<T>, Cb2<T>), CX<T> = d.x,
                            CT<T> = d.t, CW1<T> = d.w1, Cb1<T> = d.b1, CW2<T> = d.w2,
                            Cb2<T> = d.b2);
}

}  // namespace

BOOST_AUTO_TEST_CASE(classifier_central_differences) {
    classifier_data<double> d = classifier_example(31);
    constexpr auto loss = classifier_loss<double>();
    check_fd(loss, wrt(CW1<double>, Cb1<double>, CW2<double>, Cb2<double>), CX<double> = d.x,
             CT<double> = d.t, CW1<double> = d.w1, Cb1<double> = d.b1, CW2<double> = d.w2,
             Cb2<double> = d.b2);
    // every variable: the inputs and the targets too
    check_fd(loss, CX<double> = d.x, CT<double> = d.t, CW1<double> = d.w1, Cb1<double> = d.b1,
             CW2<double> = d.w2, Cb2<double> = d.b2);
}

BOOST_AUTO_TEST_CASE(classifier_float_agrees_with_double) {
    const classifier_data<double> d = classifier_example(32);
    classifier_data<float> f{};
    convert_into(d.x, f.x);
    convert_into(d.t, f.t);
    convert_into(d.w1, f.w1);
    convert_into(d.b1, f.b1);
    convert_into(d.w2, f.w2);
    convert_into(d.b2, f.b2);
    const auto gd = classifier_gradient(d);
    const auto gf = classifier_gradient(f);
    BOOST_TEST(gf.value == gd.value, boost::test_tools::tolerance(1e-6));
    expect_close_to_scale(gf[CW1<float>].data(), gd[CW1<double>].data(), CD * CH, 2e-6, "dW1");
    expect_close_to_scale(gf[Cb1<float>].data(), gd[Cb1<double>].data(), CH, 2e-6, "db1");
    expect_close_to_scale(gf[CW2<float>].data(), gd[CW2<double>].data(), CH * CC, 2e-6, "dW2");
    expect_close_to_scale(gf[Cb2<float>].data(), gd[Cb2<double>].data(), CC, 2e-6, "db2");
}

BOOST_AUTO_TEST_CASE(classifier_gradient_descent_lowers_the_loss) {
    classifier_data<double> d = classifier_example(33);
    const double first = classifier_gradient(d).value;
    double last = first;
    for (int step = 0; step < 200; ++step) {
        const auto g = classifier_gradient(d);
        BOOST_TEST_REQUIRE(g.value <= last + 1e-12);  // a small step never raises the loss here
        last = g.value;
        const auto update = [](auto& p, const auto& dp) {
            for (size_t e = 0; e < p.size(); ++e) p.data()[e] -= 0.5 * dp.data()[e];
        };
        update(d.w1, g[CW1<double>]);
        update(d.b1, g[Cb1<double>]);
        update(d.w2, g[CW2<double>]);
        update(d.b2, g[Cb2<double>]);
    }
    BOOST_TEST_MESSAGE("classifier loss " << first << " → " << last);
    BOOST_TEST(last < 0.2 * first);
}
