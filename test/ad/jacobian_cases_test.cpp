// The Jacobian benchmark cases (bench/jacobian/cases.hpp): Ceres' bundle-adjustment
// reprojection error (12 inputs, 2 residuals) and Rat43. Every impl (ctgrad, hand,
// runtime_graph) against the others and against central finite differences at several points,
// ctgrad's forward and reverse accumulation against each other, and the ctgrad Jacobian in a
// constant expression.
#define BOOST_TEST_MODULE ad_jacobian_cases
#include <array>
#include <cmath>
#include <cstddef>
#include <random>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "../bench/jacobian/cases.hpp"
#include "support/finite_difference.hpp"

namespace {

using namespace jacobian_cases;
using ctgrad::test::close;
using ctgrad::test::fd_agrees;
using ctgrad::test::near;

// --- constant evaluation: the 12-input Jacobian, both accumulations ---

constexpr auto snavely_at_compile_time = [] {
    using namespace sv;
    const auto& c = snavely_inputs.camera;
    const auto& p = snavely_inputs.point;
    return ctgrad::jacobian(F, camera_and_point, a0 = c[0], a1 = c[1], a2 = c[2], t0 = c[3],
                            t1 = c[4], t2 = c[5], focal = c[6], l1 = c[7], l2 = c[8], X = p[0],
                            Y = p[1], Z = p[2], ox = snavely_inputs.observed_x,
                            oy = snavely_inputs.observed_y);
}();
constexpr auto snavely_forward_at_compile_time = [] {
    using namespace sv;
    const auto& c = snavely_inputs.camera;
    const auto& p = snavely_inputs.point;
    return ctgrad::jacobian<ctgrad::accumulation::forward>(
        F, camera_and_point, a0 = c[0], a1 = c[1], a2 = c[2], t0 = c[3], t1 = c[4], t2 = c[5],
        focal = c[6], l1 = c[7], l2 = c[8], X = p[0], Y = p[1], Z = p[2],
        ox = snavely_inputs.observed_x, oy = snavely_inputs.observed_y);
}();
static_assert(snavely_at_compile_time.outputs == 2 && snavely_at_compile_time.inputs == 12);
static_assert([] {
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t k = 0; k < 12; ++k) {
            if (!near(snavely_at_compile_time.rows[i][k],
                      snavely_forward_at_compile_time.rows[i][k], 1e-12)) {
                return false;
            }
        }
    }
    return true;
}());
// d r_x / d focal = distortion * xp = (r_x + observed_x) / focal.
static_assert(near(snavely_at_compile_time(0, sv::focal),
                   (snavely_at_compile_time.value[0] + snavely_inputs.observed_x) /
                       snavely_inputs.camera[6],
                   1e-14));
/// The impls' results as one flat row per residual, in the order camera (9), point (3).
std::array<std::array<double, 12>, 2> rows(const snavely_out& o) {
    std::array<std::array<double, 12>, 2> r{};
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t k = 0; k < 9; ++k) r[i][k] = o.camera_jacobian[i * 9 + k];
        for (std::size_t k = 0; k < 3; ++k) r[i][9 + k] = o.point_jacobian[i * 3 + k];
    }
    return r;
}

double snavely_residual(const snavely_in& in, std::size_t i) {
    snavely_out o;
    snavely_hand(in, o);  // its residual is plain double arithmetic, as the others'
    return o.residual[i];
}

double& input(snavely_in& in, std::size_t k) {
    return k < 9 ? in.camera[k] : in.point[k - 9];
}

void check_snavely(const snavely_in& in) {
    snavely_out c, h, g;
    snavely_ctgrad(in, c);
    snavely_hand(in, h);
    snavely_runtime_graph(in, g);
    const auto rc = rows(c), rh = rows(h), rg = rows(g);
    double scale = 0;
    for (const auto& r : rh)
        for (const double v : r) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST(close(c.residual[i], h.residual[i], 1e-13));
        BOOST_TEST(close(g.residual[i], h.residual[i], 1e-13));
        for (std::size_t k = 0; k < 12; ++k) {
            BOOST_TEST_CONTEXT("residual " << i << ", input " << k) {
                // Agreement relative to the row's largest entry: entries that cancel to near 0
                // are computed by different formulas in each impl.
                BOOST_TEST(std::abs(rc[i][k] - rh[i][k]) <= 1e-12 * scale,
                           rc[i][k] << " vs hand " << rh[i][k]);
                BOOST_TEST(std::abs(rg[i][k] - rh[i][k]) <= 1e-12 * scale,
                           rg[i][k] << " (runtime_graph) vs hand " << rh[i][k]);
                snavely_in q = in;
                const double p = input(q, k);
                const double step = ctgrad::test::fd_step(p);
                const double fd = ctgrad::test::central_difference(
                    [&](double t) {
                        input(q, k) = t;
                        return snavely_residual(q, i);
                    },
                    p, step);
                BOOST_TEST(fd_agrees(rc[i][k], fd, scale, step, 1e-6), rc[i][k] << " vs " << fd);
            }
        }
    }
    // Forward accumulation (12 tangents) gives the same Jacobian.
    using namespace sv;
    const auto& cm = in.camera;
    const auto& pt = in.point;
    const auto jf = ctgrad::jacobian<ctgrad::accumulation::forward>(
        F, camera_and_point, a0 = cm[0], a1 = cm[1], a2 = cm[2], t0 = cm[3], t1 = cm[4], t2 = cm[5],
        focal = cm[6], l1 = cm[7], l2 = cm[8], X = pt[0], Y = pt[1], Z = pt[2], ox = in.observed_x,
        oy = in.observed_y);
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t k = 0; k < 12; ++k) {
            BOOST_TEST(std::abs(jf.rows[i][k] - rc[i][k]) <= 1e-13 * scale);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(snavely_impls_agree_with_each_other_and_finite_differences) {
    check_snavely(snavely_inputs);
    // Random cameras and points in front of them (p_z < 0: the camera looks down -z).
    std::mt19937_64 rng(15);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int trial = 0; trial < 20; ++trial) {
        snavely_in in{};
        for (std::size_t k = 0; k < 3; ++k) in.camera[k] = 0.5 * u(rng);
        in.camera[3] = u(rng);
        in.camera[4] = u(rng);
        in.camera[5] = -6.0 + u(rng);
        in.camera[6] = 400.0 + 100.0 * u(rng);
        in.camera[7] = 0.1 * u(rng);
        in.camera[8] = 0.01 * u(rng);
        for (std::size_t k = 0; k < 3; ++k) in.point[k] = u(rng);
        in.observed_x = 50.0 * u(rng);
        in.observed_y = 50.0 * u(rng);
        BOOST_TEST_CONTEXT("trial " << trial) {
            check_snavely(in);
        }
    }
}

BOOST_AUTO_TEST_CASE(snavely_constant_evaluation_matches_run_time) {
    snavely_out c;
    snavely_ctgrad(snavely_inputs, c);
    const auto rc = rows(c);
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST(close(snavely_at_compile_time.value[i], c.residual[i], 1e-13));
        for (std::size_t k = 0; k < 12; ++k) {
            BOOST_TEST(close(snavely_at_compile_time.rows[i][k], rc[i][k], 1e-12));
        }
    }
}

BOOST_AUTO_TEST_CASE(rat43_impls_agree_with_each_other_and_finite_differences) {
    for (const rat43_in& in : {rat43_inputs, rat43_in{{700.0, 5.0, 0.75, 1.3}, 4.0, 300.0},
                               rat43_in{{650.0, 4.0, 0.9, 1.1}, 11.0, 690.0}}) {
        rat43_out c, h, g;
        rat43_ctgrad(in, c);
        rat43_hand(in, h);
        rat43_runtime_graph(in, g);
        BOOST_TEST(close(c.residual, h.residual, 1e-13));
        BOOST_TEST(close(g.residual, h.residual, 1e-13));
        for (std::size_t k = 0; k < 4; ++k) {
            BOOST_TEST_CONTEXT("parameter " << k) {
                BOOST_TEST(close(c.jacobian[k], h.jacobian[k], 1e-12));
                BOOST_TEST(close(g.jacobian[k], h.jacobian[k], 1e-12));
                rat43_in q = in;
                const double step = ctgrad::test::fd_step(in.b[k]);
                const double fd = ctgrad::test::central_difference(
                    [&](double t) {
                        q.b[k] = t;
                        rat43_out o;
                        rat43_hand(q, o);
                        return o.residual;
                    },
                    in.b[k], step);
                BOOST_TEST(fd_agrees(c.jacobian[k], fd, h.residual + in.y, step, 1e-6),
                           c.jacobian[k] << " vs " << fd);
            }
        }
    }
}
