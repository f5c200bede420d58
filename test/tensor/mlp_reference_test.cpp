// The reference impls the tensor benchmarks compare ctgrad with (bench/tensor/):
//  - mlp_hand.hpp: the hand-written training steps' gradients against central finite
//    differences of the plain reference loss (mlp_cases.hpp), in double, over every parameter of
//    small instances of the three nets and over a sample of the parameters at the benchmark
//    sizes; their losses against the reference loss; the fused SGD step against p − lr·gradient;
//    the float benchmark cases train (the loss falls and stays finite over 100 steps);
//  - mlp_blas.hpp (when built with CTGRAD_HAVE_OPENBLAS): the OpenBLAS steps and gradients
//    against the hand ones;
//  - adbench.hpp: the hand gradients against finite differences of the serial reference values
//    and against the runtime-graph baseline; prod's gradient at zeros; log_sum_exp's stability.
#define BOOST_TEST_MODULE tensor_mlp_reference
#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::isfinite, std::log, std::exp
#include <cstddef>    // std::size_t
#include <memory>     // std::unique_ptr, std::make_unique
#include <numbers>    // std::numbers::pi
#include <span>       // std::span
#include <tuple>      // std::tuple
#include <vector>     // std::vector

#include <boost/test/unit_test.hpp>

#include "../../bench/tensor/adbench.hpp"
#include "../../bench/tensor/mlp_blas.hpp"
#include "../../bench/tensor/mlp_cases.hpp"
#include "../../bench/tensor/mlp_hand.hpp"
#include "mlp_reference_loss.hpp"
#include "support/finite_difference.hpp"

namespace mc = mlp_cases;
namespace ab = adbench;
using std::size_t;

namespace {

// --- helpers ---

/// Every tensor of a parameter struct, as spans.
template <class Params>
std::vector<std::span<typename Params::value_type>> tensors_of(Params& p) {
    std::vector<std::span<typename Params::value_type>> spans;
    p.visit([&](auto& t) { spans.emplace_back(t.data(), t.size()); });
    return spans;
}

/// The parameter entries as one flat vector (a copy, in double).
template <class Params>
std::vector<double> flatten(const Params& p) {
    std::vector<double> v;
    p.visit([&](const auto& t) { v.insert(v.end(), t.begin(), t.end()); });
    return v;
}

/// Checks g (the gradient at p0, same shapes) against central differences of
/// Case::reference_loss at every `stride`-th parameter entry (1: all of them), reporting the
/// first few mismatches. Returns the number of entries checked. The loss is evaluated by
/// mlp_reference::reference_loss (mlp_reference_loss.cpp: -O1 in the sanitizer build).
template <class Case>
size_t check_gradient(const typename Case::params& p0, const typename Case::data& d,
                      const typename Case::params& g, size_t stride) {
    auto p = std::make_unique<typename Case::params>(p0);
    const double f0 = mlp_reference::reference_loss<Case>(*p, d);
    std::vector<double*> at;
    p->visit([&](auto& t) {
        for (auto& v : t) at.push_back(&v);
    });
    const std::vector<double> grad = flatten(g);
    BOOST_TEST_REQUIRE(grad.size() == at.size());
    size_t checked = 0;
    int bad = 0;
    for (size_t k = 0; k < at.size(); k += stride) {
        double& v = *at[k];
        const double v0 = v;
        const double h = ctgrad::test::fd_step(v0);
        v = v0 + h;
        const double fp = mlp_reference::reference_loss<Case>(*p, d);
        v = v0 - h;
        const double fm = mlp_reference::reference_loss<Case>(*p, d);
        v = v0;
        const double fd = (fp - fm) / (2 * h);
        ++checked;
        if (!ctgrad::test::fd_agrees(grad[k], fd, f0, h) && bad++ < 5) {
            BOOST_ERROR("parameter entry " << k << ": gradient " << grad[k]
                                           << ", central difference " << fd);
        }
    }
    BOOST_TEST(bad == 0);
    return checked;
}

/// |a − b| <= tol · max(1, max |b|) entrywise, over whole parameter structs.
template <class Params>
bool params_close(const Params& a, const Params& b, double tol) {
    const std::vector<double> va = flatten(a), vb = flatten(b);
    double scale = 1.0;
    for (const double v : vb) scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < va.size(); ++i) {
        if (!(std::abs(va[i] - vb[i]) <= tol * scale)) {
            BOOST_TEST_MESSAGE("entry " << i << ": " << va[i] << " vs " << vb[i]);
            return false;
        }
    }
    return true;
}

/// The hand gradient of Case at its initial parameters against finite differences at every
/// `stride`-th entry, and its loss against the reference loss.
template <class Case>
void check_hand_gradient(size_t stride) {
    const auto p = Case::make_params();
    const auto d = Case::make_data();
    auto g = std::make_unique<typename Case::params>();
    auto t = std::make_unique<mlp_hand::trainer<Case>>();
    const double loss = t->gradient(*p, *d, *g);
    BOOST_TEST(ctgrad::test::close(loss, mlp_reference::reference_loss<Case>(*p, *d), 1e-12));
    const size_t n = check_gradient<Case>(*p, *d, *g, stride);
    BOOST_TEST_MESSAGE(n << " of " << mc::parameter_count(*p) << " entries checked");
}

/// Trainer's step(p) = p − lr·gradient(p) (the Trainer's own gradient), and step returns the
/// loss at p.
template <class Case, class Trainer>
void check_sgd_step() {
    using T = typename Case::value_type;
    const auto p = Case::make_params();
    const auto d = Case::make_data();
    auto t = std::make_unique<Trainer>();
    auto g = std::make_unique<typename Case::params>();
    const T loss_g = t->gradient(*p, *d, *g);

    const T lr = Case::learning_rate;
    auto expected = std::make_unique<typename Case::params>(*p);
    const auto ge = tensors_of(*g);
    const auto pe = tensors_of(*expected);
    for (size_t i = 0; i < pe.size(); ++i) {
        for (size_t k = 0; k < pe[i].size(); ++k) pe[i][k] -= lr * ge[i][k];
    }

    auto stepped = std::make_unique<typename Case::params>(*p);
    const T loss_s = t->step(*stepped, *d, lr);
    BOOST_TEST(loss_s == loss_g);
    BOOST_TEST(params_close(*stepped, *expected, 1e-13));
}

// Small instances (every parameter is checked) and the benchmark sizes, in double
// (mlp_reference_loss.hpp).
using mlp_reference::classifier_f64;
using mlp_reference::deep_f64;
using mlp_reference::regression_f64;
using mlp_reference::small_classifier;
using mlp_reference::small_deep;
using mlp_reference::small_regression;

using small_cases = std::tuple<small_regression, small_classifier, small_deep>;
using float_cases =
    std::tuple<mc::mlp_step_32x100x200x10, mc::mlp_step_64x784x100x10, mc::deep_mlp_step_d20w32>;
using all_f64_cases = std::tuple<small_regression, small_classifier, small_deep, regression_f64,
                                 classifier_f64, deep_f64>;

}  // namespace

BOOST_AUTO_TEST_SUITE(mlp_hand_gradient)

BOOST_AUTO_TEST_CASE_TEMPLATE(matches_central_differences_at_every_parameter, Case, small_cases) {
    check_hand_gradient<Case>(1);
}

BOOST_AUTO_TEST_CASE(matches_central_differences_at_benchmark_size_regression) {
    check_hand_gradient<regression_f64>(37);
}

BOOST_AUTO_TEST_CASE(matches_central_differences_at_benchmark_size_classifier) {
    check_hand_gradient<classifier_f64>(997);
}

BOOST_AUTO_TEST_CASE(matches_central_differences_at_benchmark_size_deep) {
    check_hand_gradient<deep_f64>(31);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mlp_hand_step)

BOOST_AUTO_TEST_CASE_TEMPLATE(is_p_minus_lr_times_gradient, Case, all_f64_cases) {
    check_sgd_step<Case, mlp_hand::trainer<Case>>();
}

/// The float benchmark cases, as benchmarked: the first loss is the reference loss, and 100
/// steps lower the loss by at least a quarter and keep every parameter finite (the learning
/// rates are stable).
BOOST_AUTO_TEST_CASE_TEMPLATE(trains_the_float_benchmark_case, Case, float_cases) {
    auto p = Case::make_params();
    const auto d = Case::make_data();
    auto t = std::make_unique<mlp_hand::trainer<Case>>();
    const double reference = mlp_reference::reference_loss<Case>(*p, *d);
    const double first = t->step(*p, *d, Case::learning_rate);
    BOOST_TEST(ctgrad::test::close(first, reference, 1e-5));
    double last = first;
    for (int i = 1; i < 100; ++i) last = t->step(*p, *d, Case::learning_rate);
    BOOST_TEST(last < 0.75 * first);
    bool finite = true;
    for (const double v : flatten(*p)) finite = finite && std::isfinite(v);
    BOOST_TEST(finite);
}

BOOST_AUTO_TEST_SUITE_END()

#ifdef CTGRAD_HAVE_OPENBLAS
BOOST_AUTO_TEST_SUITE(mlp_blas_vs_hand)

BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_matches_hand, Case, all_f64_cases) {
    mlp_blas::use_one_thread();
    const auto p = Case::make_params();
    const auto d = Case::make_data();
    auto gh = std::make_unique<typename Case::params>();
    auto gb = std::make_unique<typename Case::params>();
    const double lh = std::make_unique<mlp_hand::trainer<Case>>()->gradient(*p, *d, *gh);
    const double lb = std::make_unique<mlp_blas::trainer<Case>>()->gradient(*p, *d, *gb);
    BOOST_TEST(ctgrad::test::close(lb, lh, 1e-12));
    BOOST_TEST(params_close(*gb, *gh, 1e-11));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(step_is_p_minus_lr_times_gradient, Case, all_f64_cases) {
    mlp_blas::use_one_thread();
    check_sgd_step<Case, mlp_blas::trainer<Case>>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(float_step_matches_hand, Case, float_cases) {
    mlp_blas::use_one_thread();
    const auto p0 = Case::make_params();
    const auto d = Case::make_data();
    auto ph = std::make_unique<typename Case::params>(*p0);
    auto pb = std::make_unique<typename Case::params>(*p0);
    const float lh =
        std::make_unique<mlp_hand::trainer<Case>>()->step(*ph, *d, Case::learning_rate);
    const float lb =
        std::make_unique<mlp_blas::trainer<Case>>()->step(*pb, *d, Case::learning_rate);
    BOOST_TEST(ctgrad::test::close(lb, lh, 1e-5));
    BOOST_TEST(params_close(*pb, *ph, 1e-5));
}

BOOST_AUTO_TEST_SUITE_END()
#endif

// --- adbench ---

namespace {

/// Value and gradient by the hand impl; for normal_log_pdf the gradient has ∂f/∂μ and ∂f/∂σ
/// appended.
template <ab::function F, size_t N>
double hand_gradient(const std::vector<double>& x, std::vector<double>& grad) {
    grad.assign(N + (F == ab::function::normal_log_pdf ? 2 : 0), 0.0);
    if constexpr (F == ab::function::sum) {
        return ab::hand::sum<N>(x.data(), grad.data());
    } else if constexpr (F == ab::function::prod) {
        return ab::hand::prod<N>(x.data(), grad.data());
    } else if constexpr (F == ab::function::log_sum_exp) {
        return ab::hand::log_sum_exp<N>(x.data(), grad.data());
    } else {
        const auto r =
            ab::hand::normal_log_pdf<N>(x.data(), ab::normal_mu, ab::normal_sigma, grad.data());
        grad[N] = r.d_mu;
        grad[N + 1] = r.d_sigma;
        return r.value;
    }
}

/// The same by the runtime-graph baseline.
template <ab::function F>
double graph_gradient(const std::vector<double>& x, std::vector<double>& grad) {
    const size_t n = x.size();
    grad.assign(n + (F == ab::function::normal_log_pdf ? 2 : 0), 0.0);
    const std::span<double> g(grad.data(), n);
    if constexpr (F == ab::function::sum) {
        return ab::runtime_graph::sum(x, g);
    } else if constexpr (F == ab::function::prod) {
        return ab::runtime_graph::prod(x, g);
    } else if constexpr (F == ab::function::log_sum_exp) {
        return ab::runtime_graph::log_sum_exp(x, g);
    } else {
        const auto r = ab::runtime_graph::normal_log_pdf(x, ab::normal_mu, ab::normal_sigma, g);
        grad[n] = r.d_mu;
        grad[n + 1] = r.d_sigma;
        return r.value;
    }
}

/// The serial reference value at x (and μ, σ).
template <ab::function F>
double reference_value(const std::vector<double>& x, double mu = ab::normal_mu,
                       double sigma = ab::normal_sigma) {
    if constexpr (F == ab::function::sum) {
        return ab::reference::sum(x);
    } else if constexpr (F == ab::function::prod) {
        return ab::reference::prod(x);
    } else if constexpr (F == ab::function::log_sum_exp) {
        return ab::reference::log_sum_exp(x);
    } else {
        return ab::reference::normal_log_pdf(x, mu, sigma);
    }
}

/// The hand value and gradient of F at N inputs against the reference value and central
/// differences of it (in every xᵢ, and in μ and σ for normal_log_pdf).
template <ab::function F, size_t N>
void check_adbench_hand() {
    std::vector<double> x = ab::make_inputs(F, N);
    std::vector<double> grad;
    const double f = hand_gradient<F, N>(x, grad);
    const double f_ref = reference_value<F>(x);
    BOOST_TEST(ctgrad::test::close(f, f_ref, 1e-12 * std::max(1.0, double(N) / 64)));
    int bad = 0;
    auto check = [&](size_t k, double fd, double h) {
        if (!ctgrad::test::fd_agrees(grad[k], fd, f_ref, h) && bad++ < 5) {
            BOOST_ERROR("N = " << N << ", partial " << k << ": " << grad[k]
                               << ", central difference " << fd);
        }
    };
    for (size_t k = 0; k < N; ++k) {
        const double v = x[k];
        const double h = ctgrad::test::fd_step(v);
        x[k] = v + h;
        const double fp = reference_value<F>(x);
        x[k] = v - h;
        const double fm = reference_value<F>(x);
        x[k] = v;
        check(k, (fp - fm) / (2 * h), h);
    }
    if constexpr (F == ab::function::normal_log_pdf) {
        const double mu = ab::normal_mu, sigma = ab::normal_sigma;
        const double hm = ctgrad::test::fd_step(mu), hs = ctgrad::test::fd_step(sigma);
        check(N, (reference_value<F>(x, mu + hm) - reference_value<F>(x, mu - hm)) / (2 * hm), hm);
        check(N + 1,
              (reference_value<F>(x, mu, sigma + hs) - reference_value<F>(x, mu, sigma - hs)) /
                  (2 * hs),
              hs);
    }
    BOOST_TEST(bad == 0);
}

template <ab::function F>
void check_adbench_sizes() {
    // 1 and 5: fewer than the 16 lanes; 16: one block; 17, 40: blocks and a remainder.
    check_adbench_hand<F, 1>();
    check_adbench_hand<F, 5>();
    check_adbench_hand<F, 16>();
    check_adbench_hand<F, 17>();
    check_adbench_hand<F, 40>();
    check_adbench_hand<F, 1024>();
}

/// hand and runtime_graph agree at N inputs.
template <ab::function F, size_t N>
void check_hand_vs_graph() {
    const std::vector<double> x = ab::make_inputs(F, N);
    std::vector<double> gh, gg;
    const double fh = hand_gradient<F, N>(x, gh);
    const double fg = graph_gradient<F>(x, gg);
    BOOST_TEST(ctgrad::test::close(fh, fg, 1e-12));
    double scale = 0.0;
    for (const double v : gh) scale = std::max(scale, std::abs(v));
    bool ok = true;
    for (size_t i = 0; i < gh.size(); ++i) ok = ok && std::abs(gh[i] - gg[i]) <= 1e-12 * scale;
    BOOST_TEST(ok);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adbench_hand)

BOOST_AUTO_TEST_CASE(sum_matches_central_differences) {
    check_adbench_sizes<ab::function::sum>();
}

BOOST_AUTO_TEST_CASE(prod_matches_central_differences) {
    check_adbench_sizes<ab::function::prod>();
}

BOOST_AUTO_TEST_CASE(log_sum_exp_matches_central_differences) {
    check_adbench_sizes<ab::function::log_sum_exp>();
}

BOOST_AUTO_TEST_CASE(normal_log_pdf_matches_central_differences) {
    check_adbench_sizes<ab::function::normal_log_pdf>();
}

BOOST_AUTO_TEST_CASE(agrees_with_runtime_graph) {
    check_hand_vs_graph<ab::function::sum, 1024>();
    check_hand_vs_graph<ab::function::prod, 1024>();
    check_hand_vs_graph<ab::function::log_sum_exp, 1024>();
    check_hand_vs_graph<ab::function::normal_log_pdf, 1024>();
    check_hand_vs_graph<ab::function::normal_log_pdf, 17>();
}

BOOST_AUTO_TEST_CASE(prod_gradient_at_zeros_is_exact) {
    // One zero: only its own partial is non-zero, the product of the others. Two zeros: all 0.
    std::vector<double> x(40);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 1.0 + 0.01 * double(i % 7);
    x[21] = 0.0;
    std::vector<double> g;
    const double f = hand_gradient<ab::function::prod, 40>(x, g);
    BOOST_TEST(f == 0.0);
    double others = 1.0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (i != 21) others *= x[i];
    }
    BOOST_TEST(ctgrad::test::close(g[21], others, 1e-14));
    bool rest_zero = true;
    for (size_t i = 0; i < x.size(); ++i) rest_zero = rest_zero && (i == 21 || g[i] == 0.0);
    BOOST_TEST(rest_zero);
    x[3] = 0.0;
    hand_gradient<ab::function::prod, 40>(x, g);
    bool all_zero = true;
    for (const double v : g) all_zero = all_zero && v == 0.0;
    BOOST_TEST(all_zero);
}

BOOST_AUTO_TEST_CASE(log_sum_exp_is_stable_for_large_inputs) {
    // exp(1000) overflows; the shifted form gives 1000 + log 2 and the gradient (1/2, 1/2, 0...).
    std::vector<double> x(17, -1000.0);
    x[4] = 1000.0;
    x[9] = 1000.0;
    std::vector<double> g;
    const double f = hand_gradient<ab::function::log_sum_exp, 17>(x, g);
    BOOST_TEST(ctgrad::test::close(f, 1000.0 + std::log(2.0), 1e-15));
    BOOST_TEST(g[4] == 0.5);
    BOOST_TEST(g[9] == 0.5);
    BOOST_TEST(g[0] == 0.0);
}

BOOST_AUTO_TEST_CASE(benchmark_inputs_give_normal_values) {
    // The largest size: every value and partial finite and normal (prod near e^-7).
    std::vector<double> g;
    const auto x = ab::make_inputs(ab::function::prod, 16384);
    const double f = hand_gradient<ab::function::prod, 16384>(x, g);
    BOOST_TEST(std::isnormal(f));
    BOOST_TEST(ctgrad::test::close(f, ab::reference::prod(x), 1e-11));
    bool normal = true;
    for (const double v : g) normal = normal && std::isnormal(v);
    BOOST_TEST(normal);
    BOOST_TEST(ab::half_log_two_pi == 0.5 * std::log(2.0 * std::numbers::pi),
               boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_SUITE_END()
