// The tensor-granularity runtime-graph baseline (bench/baseline/tensor_graph.hpp): every op's
// value and gradient against central finite differences, a two-layer network, the graph
// mechanics (fan-out, requires_grad, repeated backward, rebuilt training steps), the matmul
// kernel registry and its fallback, and the shape errors.
#define BOOST_TEST_MODULE baseline_tensor_graph
#include <cmath>       // std::exp, std::log, std::tanh, std::isfinite
#include <cstddef>     // std::size_t
#include <functional>  // std::function
#include <random>      // std::mt19937, std::uniform_real_distribution
#include <stdexcept>   // std::invalid_argument
#include <string>      // std::string
#include <utility>     // std::pair, std::move
#include <vector>      // std::vector

#include <boost/test/unit_test.hpp>

#include "../../bench/baseline/tensor_graph.hpp"
#include "support/finite_difference.hpp"

namespace tg = ctgrad_baseline::tg;
using tensor = tg::tensor<double>;

namespace {

std::vector<double> random_values(std::mt19937& rng, std::size_t n, double lo = -1.0,
                                  double hi = 1.0) {
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(n);
    for (double& x : v) x = dist(rng);
    return v;
}

tensor random_matrix(std::mt19937& rng, std::size_t rows, std::size_t cols,
                     bool requires_grad = true) {
    return tg::leaf(random_values(rng, rows * cols), rows, cols, requires_grad);
}

tensor random_vector(std::mt19937& rng, std::size_t n, bool requires_grad = true) {
    return tg::vector_leaf(random_values(rng, n), requires_grad);
}

/// Values in ±[0.1, 1]: away from relu's kink.
tensor away_from_zero(std::mt19937& rng, std::size_t rows, std::size_t cols) {
    std::vector<double> v = random_values(rng, rows * cols, 0.1, 1.0);
    for (std::size_t i = 0; i < v.size(); i += 2) v[i] = -v[i];
    return tg::leaf(std::move(v), rows, cols);
}

/// Rows with a single 1 at a random column.
tensor one_hot(std::mt19937& rng, std::size_t rows, std::size_t cols) {
    std::uniform_int_distribution<std::size_t> pick(0, cols - 1);
    std::vector<double> v(rows * cols, 0.0);
    for (std::size_t i = 0; i < rows; ++i) v[i * cols + pick(rng)] = 1.0;
    return tg::leaf(std::move(v), rows, cols, false);
}

/// Fixed random weights of t's shape (a constant): Σ w ⊙ t gives every element of a
/// non-scalar result its own cotangent.
tensor weights_like(std::mt19937& rng, const tensor& t) {
    return tg::detail::make_leaf(random_values(rng, t.size(), 0.5, 1.5), t.dims(), false, "w");
}

/// Backward through build() (a rank-0 graph of the leaves) agrees with central differences of
/// build() in every element of every leaf that requires a gradient.
void check_gradient(const std::function<tensor()>& build, const std::vector<tensor>& leaves) {
    const tensor root = build();
    BOOST_TEST_REQUIRE(root.rank() == 0u);
    tg::backward(root);
    const double f0 = root.item();
    for (std::size_t l = 0; l < leaves.size(); ++l) {
        const tensor& x = leaves[l];
        if (!x.requires_grad()) {
            continue;
        }
        BOOST_TEST_REQUIRE(x.grad().size() == x.size());
        const std::vector<double> grad(x.grad().begin(), x.grad().end());
        std::vector<double> v(x.values().begin(), x.values().end());
        for (std::size_t i = 0; i < v.size(); ++i) {
            const double x0 = v[i];
            const double h = ctgrad::test::fd_step(x0);
            v[i] = x0 + h;
            x.set_values(v);
            const double fp = build().item();
            v[i] = x0 - h;
            x.set_values(v);
            const double fm = build().item();
            v[i] = x0;
            x.set_values(v);
            const double fd = (fp - fm) / (2 * h);
            BOOST_TEST(ctgrad::test::fd_agrees(grad[i], fd, f0, h),
                       "leaf " << l << " element " << i << ": " << grad[i] << " vs " << fd);
        }
    }
}

/// A std::invalid_argument whose message contains every one of `parts`.
auto message_has(std::vector<std::string> parts) {
    return [parts](const std::invalid_argument& e) {
        const std::string what = e.what();
        for (const std::string& p : parts) {
            if (what.find(p) == std::string::npos) {
                BOOST_TEST_MESSAGE("message \"" << what << "\" lacks \"" << p << "\"");
                return false;
            }
        }
        return true;
    };
}

}  // namespace

// --- values ---

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE(leaves_have_their_shapes) {
    const tensor m = tg::leaf(std::vector<double>{1, 2, 3, 4, 5, 6}, 2, 3);
    BOOST_TEST(m.rank() == 2u);
    BOOST_TEST(m.rows() == 2u);
    BOOST_TEST(m.cols() == 3u);
    BOOST_TEST(m.requires_grad());
    BOOST_TEST(m.grad().empty());
    const tensor v = tg::vector_leaf(std::vector<double>{1, 2, 3}, false);
    BOOST_TEST(v.rank() == 1u);
    BOOST_TEST(v.cols() == 3u);
    BOOST_TEST(!v.requires_grad());
    const tensor s = tg::scalar_leaf(2.5);
    BOOST_TEST(s.rank() == 0u);
    BOOST_TEST(s.item() == 2.5);
    BOOST_TEST(tg::to_string(m.dims()) == "[2, 3]");
    BOOST_TEST(tg::to_string(v.dims()) == "[3]");
    BOOST_TEST(tg::to_string(s.dims()) == "[]");
}

BOOST_AUTO_TEST_CASE(forward_values) {
    const tensor a = tg::leaf(std::vector<double>{1, 2, 3, 4, 5, 6}, 2, 3);
    const tensor b = tg::leaf(std::vector<double>{1, 0, -1, 2, 0.5, 1}, 3, 2);
    const tensor v = tg::vector_leaf(std::vector<double>{10, 20, 30});
    const std::vector<double> ab = {1 * 1 + 2 * -1 + 3 * 0.5, 1 * 0 + 2 * 2 + 3 * 1,
                                    4 * 1 + 5 * -1 + 6 * 0.5, 4 * 0 + 5 * 2 + 6 * 1};
    const tensor c = tg::matmul(a, b);
    BOOST_TEST(c.rows() == 2u);
    BOOST_TEST(c.cols() == 2u);
    BOOST_TEST(std::vector<double>(c.values().begin(), c.values().end()) == ab,
               boost::test_tools::per_element());
    const tensor d = a + v;
    BOOST_TEST(std::vector<double>(d.values().begin(), d.values().end()) ==
                   std::vector<double>({11, 22, 33, 14, 25, 36}),
               boost::test_tools::per_element());
    const tensor e = v - a;
    BOOST_TEST(std::vector<double>(e.values().begin(), e.values().end()) ==
                   std::vector<double>({9, 18, 27, 6, 15, 24}),
               boost::test_tools::per_element());
    BOOST_TEST(tg::sum(a).item() == 21.0);
    BOOST_TEST(tg::mean(a).item() == 3.5);
    BOOST_TEST(tg::relu(tg::scale(-1.0, a) + v).values()[2] == 27.0);
    // mse = 1/(2·2) Σ (y - a)²; y = a + 1 everywhere -> 6/4.
    const tensor y = tg::leaf(std::vector<double>{2, 3, 4, 5, 6, 7}, 2, 3, false);
    BOOST_TEST(tg::mse(a, y).item() == 1.5);
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_value_and_stability) {
    // Row 0: logits (1, 2, 3), class 2; row 1: (1000, 1001, 999), class 0 (stable only with
    // the row maximum subtracted).
    const tensor z = tg::leaf(std::vector<double>{1, 2, 3, 1000, 1001, 999}, 2, 3);
    const tensor y = tg::leaf(std::vector<double>{0, 0, 1, 1, 0, 0}, 2, 3, false);
    const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    const double lse1 = 1001.0 + std::log(std::exp(-1.0) + 1.0 + std::exp(-2.0));
    const double expected = ((lse0 - 3.0) + (lse1 - 1000.0)) / 2.0;
    const tensor loss = tg::softmax_cross_entropy(z, y);
    BOOST_TEST(ctgrad::test::close(loss.item(), expected, 1e-13));
    tg::backward(loss);
    // (softmax - onehot)/N
    const double p10 = std::exp(1000.0 - lse1);
    BOOST_TEST(ctgrad::test::close(z.grad()[3], (p10 - 1.0) / 2.0, 1e-12));
    BOOST_TEST(ctgrad::test::close(z.grad()[2], (std::exp(3.0 - lse0) - 1.0) / 2.0, 1e-12));
    for (const double g : z.grad()) BOOST_TEST(std::isfinite(g));
}

BOOST_AUTO_TEST_CASE(relu_derivative_at_zero_is_zero) {
    const tensor x = tg::leaf(std::vector<double>{-1.0, 0.0, 2.0}, 1, 3);
    tg::backward(tg::sum(tg::relu(x)));
    BOOST_TEST(std::vector<double>(x.grad().begin(), x.grad().end()) ==
                   std::vector<double>({0.0, 0.0, 1.0}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

// --- every op's gradient against central differences ---

BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(matmul_both_inputs) {
    std::mt19937 rng(1);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor b = random_matrix(rng, 4, 5);
    const tensor w = random_matrix(rng, 3, 5, false);
    check_gradient([&] { return tg::sum(tg::mul(tg::matmul(a, b), w)); }, {a, b});
}

BOOST_AUTO_TEST_CASE(matmul_square_self_product) {
    std::mt19937 rng(2);
    const tensor a = random_matrix(rng, 4, 4);
    const tensor w = random_matrix(rng, 4, 4, false);
    check_gradient([&] { return tg::sum(tg::mul(tg::matmul(a, a), w)); }, {a});
}

BOOST_AUTO_TEST_CASE(add_and_sub_same_shape) {
    std::mt19937 rng(3);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor b = random_matrix(rng, 3, 4);
    const tensor w = weights_like(rng, a);
    check_gradient([&] { return tg::sum(tg::mul(a + b, w)); }, {a, b});
    check_gradient([&] { return tg::sum(tg::mul(a - b, w)); }, {a, b});
    const tensor u = random_vector(rng, 5);
    const tensor v = random_vector(rng, 5);
    const tensor wv = weights_like(rng, u);
    check_gradient([&] { return tg::sum(tg::mul(u - v, wv)); }, {u, v});
}

BOOST_AUTO_TEST_CASE(add_and_sub_broadcast_a_row_vector) {
    std::mt19937 rng(4);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor v = random_vector(rng, 4);
    // Fresh weights per build would change the function: draw them once.
    const tensor w = random_matrix(rng, 3, 4, false);
    check_gradient([&] { return tg::sum(tg::mul(a + v, w)); }, {a, v});
    check_gradient([&] { return tg::sum(tg::mul(v + a, w)); }, {a, v});
    check_gradient([&] { return tg::sum(tg::mul(a - v, w)); }, {a, v});
    check_gradient([&] { return tg::sum(tg::mul(v - a, w)); }, {a, v});
}

BOOST_AUTO_TEST_CASE(elementwise_ops) {
    std::mt19937 rng(5);
    const tensor a = random_matrix(rng, 4, 5);
    const tensor b = random_matrix(rng, 4, 5);
    const tensor w = random_matrix(rng, 4, 5, false);
    const tensor r = away_from_zero(rng, 4, 5);
    check_gradient([&] { return tg::sum(tg::mul(tg::mul(a, b), w)); }, {a, b});
    check_gradient([&] { return tg::sum(tg::mul(-1.7 * a, w)); }, {a});
    check_gradient([&] { return tg::sum(tg::mul(tg::relu(r), w)); }, {r});
    check_gradient([&] { return tg::sum(tg::mul(tg::sigmoid(tg::scale(3.0, a)), w)); }, {a});
    check_gradient([&] { return tg::sum(tg::mul(tg::tanh(tg::scale(2.0, a)), w)); }, {a});
    check_gradient([&] { return tg::sum(tg::mul(tg::square(a), w)); }, {a});
}

BOOST_AUTO_TEST_CASE(reductions) {
    std::mt19937 rng(6);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor v = random_vector(rng, 5);
    const tensor s = tg::scalar_leaf(0.7);
    check_gradient([&] { return tg::sum(tg::square(a)); }, {a});
    check_gradient([&] { return tg::mean(tg::square(a)); }, {a});
    check_gradient([&] { return tg::mean(tg::tanh(v)); }, {v});
    check_gradient([&] { return tg::sum(tg::square(s)); }, {s});
}

BOOST_AUTO_TEST_CASE(mse_both_arguments) {
    std::mt19937 rng(7);
    const tensor a = random_matrix(rng, 4, 3);
    const tensor y = random_matrix(rng, 4, 3);
    check_gradient([&] { return tg::mse(a, y); }, {a, y});
    const tensor u = random_vector(rng, 5);
    const tensor v = random_vector(rng, 5);
    check_gradient([&] { return tg::mse(u, v); }, {u, v});
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_logits_and_targets) {
    std::mt19937 rng(8);
    const tensor z = random_matrix(rng, 4, 5);
    // One-hot targets (constant), then soft targets that require a gradient too.
    const tensor onehot = one_hot(rng, 4, 5);
    check_gradient([&] { return tg::softmax_cross_entropy(z, onehot); }, {z});
    const tensor soft = tg::leaf(random_values(rng, 20, 0.0, 1.0), 4, 5);
    check_gradient([&] { return tg::softmax_cross_entropy(z, soft); }, {z, soft});
}

BOOST_AUTO_TEST_SUITE_END()

// --- networks ---

BOOST_AUTO_TEST_SUITE(networks)

namespace {

struct two_layer {
    explicit two_layer(unsigned seed) : rng(seed) {
        x = random_matrix(rng, 8, 5, false);
        w1 = random_matrix(rng, 5, 6);
        b1 = random_vector(rng, 6);
        w2 = random_matrix(rng, 6, 3);
        b2 = random_vector(rng, 3);
        y = random_matrix(rng, 8, 3, false);
        labels = one_hot(rng, 8, 3);
    }

    tensor out() const { return tg::matmul(tg::relu(tg::matmul(x, w1) + b1), w2) + b2; }

    std::vector<tensor> leaves() const { return {x, w1, b1, w2, b2}; }

    std::mt19937 rng;
    tensor x, w1, b1, w2, b2, y, labels;
};

}  // namespace

BOOST_AUTO_TEST_CASE(mse_gradient_with_fallback_loops) {
    const two_layer net(11);
    check_gradient([&] { return tg::mse(net.out(), net.y); }, net.leaves());
    BOOST_TEST(net.x.grad().empty());  // the data requires no gradient: none computed
}

BOOST_AUTO_TEST_CASE(gradients_with_registered_kernels) {
    tg::register_matmul<double, 8, 5, 6>();
    tg::register_matmul<double, 8, 6, 3>();
    const std::size_t before = tg::fallback_matmuls();
    const two_layer net(12);
    check_gradient([&] { return tg::mse(net.out(), net.y); }, net.leaves());
    check_gradient([&] { return tg::softmax_cross_entropy(net.out(), net.labels); }, net.leaves());
    BOOST_TEST(tg::fallback_matmuls() == before);
}

BOOST_AUTO_TEST_CASE(float_agrees_with_double) {
    tg::register_matmul<float, 8, 5, 6>();
    tg::register_matmul<float, 8, 6, 3>();
    const std::size_t before = tg::fallback_matmuls();
    const two_layer net(13);
    const auto to_float = [](const tensor& t) {
        std::vector<float> v(t.values().begin(), t.values().end());
        return t.rank() == 2 ? tg::leaf(std::move(v), t.rows(), t.cols(), t.requires_grad())
                             : tg::vector_leaf(std::move(v), t.requires_grad());
    };
    const auto x = to_float(net.x);
    const auto w1 = to_float(net.w1);
    const auto b1 = to_float(net.b1);
    const auto w2 = to_float(net.w2);
    const auto b2 = to_float(net.b2);
    const auto labels = to_float(net.labels);
    const auto loss_f =
        tg::softmax_cross_entropy(tg::matmul(tg::relu(tg::matmul(x, w1) + b1), w2) + b2, labels);
    tg::backward(loss_f);
    const tensor loss_d = tg::softmax_cross_entropy(net.out(), net.labels);
    tg::backward(loss_d);
    BOOST_TEST(std::abs(loss_f.item() - loss_d.item()) < 1e-5);
    const std::vector<std::pair<tg::tensor<float>, tensor>> pairs = {
        {w1, net.w1}, {b1, net.b1}, {w2, net.w2}, {b2, net.b2}};
    for (const auto& [f, d] : pairs) {
        for (std::size_t i = 0; i < d.size(); ++i) {
            BOOST_TEST(std::abs(f.grad()[i] - d.grad()[i]) < 1e-5);
        }
    }
    BOOST_TEST(tg::fallback_matmuls() == before);
}

BOOST_AUTO_TEST_CASE(training_rebuilds_the_graph_every_step) {
    two_layer net(14);
    const std::vector<tensor> params = {net.w1, net.b1, net.w2, net.b2};
    double first = 0.0;
    double last = 0.0;
    for (int step = 0; step < 100; ++step) {
        const tensor loss = tg::mse(net.out(), net.y);
        tg::backward(loss);
        if (step == 0) {
            first = loss.item();
            // sgd_step is p -= lr·grad, exactly.
            const double p0 = net.w1.values()[3];
            const double g0 = net.w1.grad()[3];
            tg::sgd_step(params, 0.1);
            BOOST_TEST(net.w1.values()[3] == p0 - 0.1 * g0);
            continue;
        }
        last = loss.item();
        tg::sgd_step(params, 0.1);
    }
    BOOST_TEST(last < 0.8 * first, "loss " << first << " -> " << last);
}

BOOST_AUTO_TEST_SUITE_END()

// --- graph mechanics ---

BOOST_AUTO_TEST_SUITE(mechanics)

BOOST_AUTO_TEST_CASE(fan_out_gradients_add_up) {
    std::mt19937 rng(21);
    const tensor x = random_matrix(rng, 3, 4);
    const tensor w = random_matrix(rng, 3, 4, false);
    tg::backward(tg::sum(tg::mul(tg::mul(x, x), w)));
    for (std::size_t i = 0; i < x.size(); ++i) {
        BOOST_TEST(ctgrad::test::close(x.grad()[i], 2 * x.values()[i] * w.values()[i], 1e-15));
    }
    tg::backward(tg::sum(x + x));
    for (const double g : x.grad()) BOOST_TEST(g == 2.0);
    // A shared intermediate h used by two ops, and a leaf reaching the root on three paths.
    check_gradient(
        [&] {
            const tensor h = tg::tanh(x);
            return tg::sum(tg::mul(h, h)) + tg::mean(tg::mul(h, x)) + tg::sum(x);
        },
        {x});
}

BOOST_AUTO_TEST_CASE(repeated_backward_gives_the_same_gradients) {
    std::mt19937 rng(22);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor v = random_vector(rng, 4);
    const tensor loss = tg::sum(tg::square(tg::sigmoid(a + v)));
    tg::backward(loss);
    const std::vector<double> ga(a.grad().begin(), a.grad().end());
    const std::vector<double> gv(v.grad().begin(), v.grad().end());
    tg::backward(loss);
    BOOST_TEST(std::vector<double>(a.grad().begin(), a.grad().end()) == ga,
               boost::test_tools::per_element());
    BOOST_TEST(std::vector<double>(v.grad().begin(), v.grad().end()) == gv,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(non_scalar_root_seeds_ones) {
    std::mt19937 rng(23);
    const tensor a = random_matrix(rng, 2, 3);
    const tensor w = random_matrix(rng, 2, 3, false);
    tg::backward(tg::mul(a, w));
    BOOST_TEST(std::vector<double>(a.grad().begin(), a.grad().end()) ==
                   std::vector<double>(w.values().begin(), w.values().end()),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(constants_record_no_graph) {
    std::mt19937 rng(24);
    const tensor c = random_matrix(rng, 2, 3, false);
    const tensor d = tg::tanh(c + c);
    BOOST_TEST(!d.requires_grad());
    BOOST_TEST(d.get().arity == 0);
    BOOST_CHECK_EXCEPTION(tg::backward(tg::sum(d)), std::invalid_argument,
                          message_has({"tg::backward"}));
}

BOOST_AUTO_TEST_SUITE_END()

// --- the matmul registry ---

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(unregistered_sizes_fall_back_with_the_same_results) {
    std::mt19937 rng(31);
    BOOST_TEST_REQUIRE(!tg::matmul_registered<double>(7, 9, 11));
    const tensor a = random_matrix(rng, 7, 9);
    const tensor b = random_matrix(rng, 9, 11);
    const tensor w = random_matrix(rng, 7, 11, false);
    const auto run = [&] {
        const tensor c = tg::matmul(a, b);
        tg::backward(tg::sum(tg::mul(c, w)));
        return std::vector<std::vector<double>>{{c.values().begin(), c.values().end()},
                                                {a.grad().begin(), a.grad().end()},
                                                {b.grad().begin(), b.grad().end()}};
    };

    std::size_t before = tg::fallback_matmuls();
    const auto loops = run();
    BOOST_TEST(tg::fallback_matmuls() - before == 3u);  // forward and both backward products

    tg::register_matmul<double, 7, 9, 11>();
    tg::register_matmul<double, 7, 9, 11>();  // again: no effect
    BOOST_TEST(tg::matmul_registered<double>(7, 9, 11));
    BOOST_TEST(!tg::matmul_registered<float>(7, 9, 11));
    before = tg::fallback_matmuls();
    const auto kernels = run();
    BOOST_TEST(tg::fallback_matmuls() == before);

    for (std::size_t r = 0; r < loops.size(); ++r) {
        for (std::size_t i = 0; i < loops[r].size(); ++i) {
            BOOST_TEST(ctgrad::test::close(loops[r][i], kernels[r][i], 1e-12),
                       "result " << r << " element " << i);
        }
    }
    // And both against the naive product.
    for (std::size_t i = 0; i < 7; ++i) {
        for (std::size_t j = 0; j < 11; ++j) {
            double s = 0.0;
            for (std::size_t k = 0; k < 9; ++k) s += a.values()[i * 9 + k] * b.values()[k * 11 + j];
            BOOST_TEST(ctgrad::test::close(kernels[0][i * 11 + j], s, 1e-12));
        }
    }
}

namespace {

/// W feeds two products and h feeds a product and a square: the backward products must add to
/// the gradients, not overwrite them. Returns how many products fell back.
std::size_t check_shared_inputs(std::size_t rows, std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    const tensor x = random_matrix(rng, rows, n);
    const tensor w = random_matrix(rng, n, n);
    const tensor c = random_matrix(rng, rows, n, false);
    const std::size_t before = tg::fallback_matmuls();
    check_gradient(
        [&] {
            const tensor h = tg::matmul(x, w);
            return tg::sum(tg::mul(tg::matmul(h, w), c)) + tg::sum(tg::square(h));
        },
        {x, w});
    return tg::fallback_matmuls() - before;
}

}  // namespace

BOOST_AUTO_TEST_CASE(backward_products_accumulate_into_shared_inputs) {
    tg::register_matmul<double, 5, 7, 7>();
    BOOST_TEST(check_shared_inputs(5, 7, 34) == 0u);
    BOOST_TEST_REQUIRE(!tg::matmul_registered<double>(5, 6, 6));
    BOOST_TEST(check_shared_inputs(5, 6, 35) > 0u);
}

BOOST_AUTO_TEST_CASE(only_inputs_that_require_grad_get_a_backward_product) {
    std::mt19937 rng(32);
    const tensor x = random_matrix(rng, 5, 13, false);
    const tensor w = random_matrix(rng, 13, 2);
    const std::size_t before = tg::fallback_matmuls();
    tg::backward(tg::sum(tg::matmul(x, w)));
    BOOST_TEST(tg::fallback_matmuls() - before == 2u);  // forward and dW only
    BOOST_TEST(x.grad().empty());
}

BOOST_AUTO_TEST_CASE(float_kernels_match_float_fallback) {
    std::mt19937 rng(33);
    const auto rand_f = [&](std::size_t n) {
        const std::vector<double> d = random_values(rng, n);
        return std::vector<float>(d.begin(), d.end());
    };
    const auto a = tg::leaf(rand_f(6 * 17), 6, 17);
    const auto b = tg::leaf(rand_f(17 * 10), 17, 10);
    const auto run = [&] {
        const auto c = tg::matmul(a, b);
        tg::backward(tg::sum(tg::square(c)));
        return std::vector<float>(a.grad().begin(), a.grad().end());
    };
    const std::vector<float> loops = run();
    tg::register_matmul<float, 6, 17, 10>();
    const std::size_t before = tg::fallback_matmuls();
    const std::vector<float> kernels = run();
    BOOST_TEST(tg::fallback_matmuls() == before);
    for (std::size_t i = 0; i < loops.size(); ++i) {
        BOOST_TEST(ctgrad::test::close(loops[i], kernels[i], 1e-5), "element " << i);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// --- errors ---

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(shape_mismatches_throw_naming_the_op_and_shapes) {
    std::mt19937 rng(41);
    const tensor a = random_matrix(rng, 3, 4);
    const tensor b = random_matrix(rng, 5, 6);
    const tensor t = random_matrix(rng, 4, 3);
    const tensor v3 = random_vector(rng, 3);
    const tensor v4 = random_vector(rng, 4);
    BOOST_CHECK_EXCEPTION(tg::matmul(a, b), std::invalid_argument,
                          message_has({"tg::matmul", "[3, 4]", "[5, 6]"}));
    BOOST_CHECK_EXCEPTION(tg::matmul(a, v4), std::invalid_argument,
                          message_has({"tg::matmul", "[3, 4]", "[4]"}));
    BOOST_CHECK_EXCEPTION(tg::add(a, t), std::invalid_argument,
                          message_has({"tg::add", "[3, 4]", "[4, 3]"}));
    BOOST_CHECK_EXCEPTION(tg::add(a, v3), std::invalid_argument,
                          message_has({"tg::add", "[3, 4]", "[3]"}));
    BOOST_CHECK_EXCEPTION(tg::sub(v3, a), std::invalid_argument,
                          message_has({"tg::sub", "[3]", "[3, 4]"}));
    BOOST_CHECK_EXCEPTION(tg::mul(a, v4), std::invalid_argument,
                          message_has({"tg::mul", "[3, 4]", "[4]"}));
    BOOST_CHECK_EXCEPTION(tg::mse(a, t), std::invalid_argument,
                          message_has({"tg::mse", "[3, 4]", "[4, 3]"}));
    BOOST_CHECK_EXCEPTION(tg::softmax_cross_entropy(v4, v4), std::invalid_argument,
                          message_has({"tg::softmax_cross_entropy", "[4]"}));
    BOOST_CHECK_EXCEPTION(tg::softmax_cross_entropy(a, t), std::invalid_argument,
                          message_has({"tg::softmax_cross_entropy", "[3, 4]", "[4, 3]"}));
}

BOOST_AUTO_TEST_CASE(bad_leaves_throw) {
    BOOST_CHECK_EXCEPTION(tg::leaf(std::vector<double>(5), 2, 3), std::invalid_argument,
                          message_has({"tg::leaf", "5", "[2, 3]"}));
    BOOST_CHECK_EXCEPTION(tg::leaf(std::vector<double>{}, 0, 3), std::invalid_argument,
                          message_has({"tg::leaf", "[0, 3]"}));
    BOOST_CHECK_EXCEPTION(tg::vector_leaf(std::vector<double>{}), std::invalid_argument,
                          message_has({"tg::vector_leaf"}));
    const tensor a = tg::leaf(std::vector<double>(6), 2, 3);
    BOOST_CHECK_EXCEPTION(a.set_values(std::vector<double>(4)), std::invalid_argument,
                          message_has({"set_values", "4", "[2, 3]"}));
}

BOOST_AUTO_TEST_SUITE_END()
