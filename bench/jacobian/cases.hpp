/// @file The Jacobian benchmark cases, shared by the timing suite (jacobian_bench.cpp), the
/// instruction-count driver (instructions.cpp) and the test that checks the impls against each
/// other and against finite differences (test/ad/jacobian_cases_test.cpp).
///
/// - snavely: the reprojection residual of Ceres' bundle-adjustment example
///   (SnavelyReprojectionError): camera = angle-axis rotation (3), translation (3), focal length,
///   two radial distortion terms; a 3D point (3); 2 residuals. Output layout is Ceres': the
///   residuals, the 2x9 camera Jacobian and the 2x3 point Jacobian, row-major.
/// - rat43: Ceres' Rat43 (NIST) residual b1 (1 + exp(b2 - b3 x))^(-1/b4) - y, 4 parameters.
///
/// Impls: `ctgrad` (the function written once as ctgrad::outputs, its Jacobian generated at
/// compile time), `hand` (the analytic Jacobian written out with its common subexpressions
/// shared; rat43 as Ceres' Rat43AnalyticOptimized), `runtime_graph` (the naive define-by-run
/// baseline, one backward pass per residual) and `ceres` (ceres::AutoDiffCostFunction with
/// Jets, called through CostFunction::Evaluate as Ceres' own solver and autodiff benchmarks call
/// it; only when CTGRAD_HAVE_CERES is defined).
#pragma once

#include <array>  // std::array
#include <cmath>  // std::sqrt, std::sin, std::cos, std::exp, std::log, std::pow

#include <ctgrad/ctgrad.hpp>

#include "../baseline/runtime_graph.hpp"

#ifdef CTGRAD_HAVE_CERES
#include <memory>  // std::unique_ptr

#include <ceres/autodiff_cost_function.h>
#include <ceres/rotation.h>
#endif

namespace jacobian_cases {

namespace rg = ctgrad_baseline;
using namespace ctgrad::literals;

// --- snavely ---

struct snavely_in {
    std::array<double, 9> camera;  // angle-axis (3), translation (3), focal, l1, l2
    std::array<double, 3> point;
    double observed_x;
    double observed_y;
};

struct snavely_out {
    std::array<double, 2> residual{};
    std::array<double, 2 * 9> camera_jacobian{};  // d residual_i / d camera_k at [i * 9 + k]
    std::array<double, 2 * 3> point_jacobian{};   // d residual_i / d point_k at [i * 3 + k]
};

/// A camera and point in the convention of Ceres' bundle-adjustment data (the camera looks down
/// -z, so visible points have p_z < 0), with a rotation of about 0.37 rad.
inline constexpr snavely_in snavely_inputs{
    {0.1, -0.2, 0.3, 0.5, -0.4, -5.0, 500.0, 0.1, 0.01}, {1.0, -0.5, 2.0}, -80.0, 40.0};

namespace sv {
inline constexpr auto a0 = ctgrad::var<"a0">;
inline constexpr auto a1 = ctgrad::var<"a1">;
inline constexpr auto a2 = ctgrad::var<"a2">;
inline constexpr auto t0 = ctgrad::var<"t0">;
inline constexpr auto t1 = ctgrad::var<"t1">;
inline constexpr auto t2 = ctgrad::var<"t2">;
inline constexpr auto focal = ctgrad::var<"focal">;
inline constexpr auto l1 = ctgrad::var<"l1">;
inline constexpr auto l2 = ctgrad::var<"l2">;
inline constexpr auto X = ctgrad::var<"X">;
inline constexpr auto Y = ctgrad::var<"Y">;
inline constexpr auto Z = ctgrad::var<"Z">;
inline constexpr auto ox = ctgrad::var<"ox">;
inline constexpr auto oy = ctgrad::var<"oy">;

/// The residual, as Ceres' SnavelyReprojectionError with AngleAxisRotatePoint's general branch
/// (rotation angle > 0) writes it: Rodrigues' formula, then the projection and distortion.
constexpr auto residual() {
    const auto theta = ctgrad::sqrt(a0 * a0 + a1 * a1 + a2 * a2);
    const auto c = ctgrad::cos(theta);
    const auto s = ctgrad::sin(theta);
    const auto inv = 1_c / theta;
    const auto w0 = a0 * inv;
    const auto w1 = a1 * inv;
    const auto w2 = a2 * inv;
    const auto tmp = (w0 * X + w1 * Y + w2 * Z) * (1_c - c);
    const auto p0 = X * c + (w1 * Z - w2 * Y) * s + w0 * tmp + t0;
    const auto p1 = Y * c + (w2 * X - w0 * Z) * s + w1 * tmp + t1;
    const auto p2 = Z * c + (w0 * Y - w1 * X) * s + w2 * tmp + t2;
    const auto xp = -p0 / p2;
    const auto yp = -p1 / p2;
    const auto r2 = xp * xp + yp * yp;
    const auto distortion = 1_c + r2 * (l1 + l2 * r2);
    return ctgrad::outputs(focal * distortion * xp - ox, focal * distortion * yp - oy);
}

inline constexpr auto F = residual();
inline constexpr auto camera_and_point =
    ctgrad::wrt(a0, a1, a2, t0, t1, t2, focal, l1, l2, X, Y, Z);
}  // namespace sv

inline void snavely_ctgrad(const snavely_in& in, snavely_out& out) {
    using namespace sv;
    const auto& c = in.camera;
    const auto& p = in.point;
    const auto J =
        ctgrad::jacobian(F, camera_and_point, a0 = c[0], a1 = c[1], a2 = c[2], t0 = c[3], t1 = c[4],
                         t2 = c[5], focal = c[6], l1 = c[7], l2 = c[8], X = p[0], Y = p[1],
                         Z = p[2], ox = in.observed_x, oy = in.observed_y);
    for (std::size_t i = 0; i < 2; ++i) {
        out.residual[i] = J.value[i];
        for (std::size_t k = 0; k < 9; ++k) out.camera_jacobian[i * 9 + k] = J.rows[i][k];
        for (std::size_t k = 0; k < 3; ++k) out.point_jacobian[i * 3 + k] = J.rows[i][9 + k];
    }
}

/// The analytic Jacobian, written out: the forward formulas of the residual (the same ones, in
/// the same order, as the ctgrad expression), then for each residual i the row vector
/// u = d r_i / d p (p the rotated and translated point), which is d r_i / d translation, and
/// from it d r_i / d point = R^T u and d r_i / d angle-axis, with every subexpression the two
/// residuals share computed once.
///
/// Rotation: R P = P c + (w x P) s + w (w . P)(1 - c), w = a / theta, theta = |a|. With
/// q = -s P + c (w x P) + s (w . P) w (the derivative along theta) and
/// v = -s (u x P) + (1 - c)((w . P) u + (u . w) P) (along w), u^T d(RP)/da = (u . q) w +
/// (v - (v . w) w) / theta, and u^T d(RP)/dP = c u + s (u x w) + (1 - c)(u . w) w.
inline void snavely_hand(const snavely_in& in, snavely_out& out) {
    const auto& cam = in.camera;
    const double X = in.point[0], Y = in.point[1], Z = in.point[2];
    const double a0 = cam[0], a1 = cam[1], a2 = cam[2];
    const double f = cam[6], l1 = cam[7], l2 = cam[8];

    const double theta = std::sqrt(a0 * a0 + a1 * a1 + a2 * a2);
    const double c = std::cos(theta);
    const double s = std::sin(theta);
    const double inv = 1.0 / theta;
    const double w0 = a0 * inv, w1 = a1 * inv, w2 = a2 * inv;
    const double wp = w0 * X + w1 * Y + w2 * Z;
    const double omc = 1.0 - c;
    const double tmp = wp * omc;
    const double cx = w1 * Z - w2 * Y, cy = w2 * X - w0 * Z, cz = w0 * Y - w1 * X;  // w x P
    const double p0 = X * c + cx * s + w0 * tmp + cam[3];
    const double p1 = Y * c + cy * s + w1 * tmp + cam[4];
    const double p2 = Z * c + cz * s + w2 * tmp + cam[5];
    const double xp = -p0 / p2;
    const double yp = -p1 / p2;
    const double r2 = xp * xp + yp * yp;
    const double q = l1 + l2 * r2;
    const double d = 1.0 + r2 * q;
    const double fd = f * d;
    out.residual[0] = fd * xp - in.observed_x;
    out.residual[1] = fd * yp - in.observed_y;

    // d r / d (xp, yp) = [[fd + k xp^2, k xp yp], [k xp yp, fd + k yp^2]], k = 2 f d'(r2).
    const double k = 2.0 * f * (q + l2 * r2);
    const double kxy = k * xp * yp;
    const double iz = 1.0 / p2;
    // The part of d(RP)/da along theta, shared by both rows.
    const double qs = s * wp;
    const double q0 = -s * X + c * cx + qs * w0;
    const double q1 = -s * Y + c * cy + qs * w1;
    const double q2 = -s * Z + c * cz + qs * w2;

    const double fr2 = f * r2;
    const double A[2][2] = {{fd + k * xp * xp, kxy}, {kxy, fd + k * yp * yp}};
    const double proj[2] = {xp, yp};
    for (int i = 0; i < 2; ++i) {
        double* jc = out.camera_jacobian.data() + i * 9;
        double* jp = out.point_jacobian.data() + i * 3;
        // u = d r_i / d p; d xp / d p = (-1/p2, 0, -xp/p2), d yp / d p = (0, -1/p2, -yp/p2).
        const double u0 = -A[i][0] * iz;
        const double u1 = -A[i][1] * iz;
        const double u2 = (u0 * xp + u1 * yp);
        jc[3] = u0;
        jc[4] = u1;
        jc[5] = u2;
        jc[6] = d * proj[i];
        jc[7] = fr2 * proj[i];
        jc[8] = fr2 * r2 * proj[i];
        const double uw = u0 * w0 + u1 * w1 + u2 * w2;
        const double ou = omc * uw;
        // R^T u = c u + s (u x w) + (1 - c)(u . w) w
        jp[0] = c * u0 + s * (u1 * w2 - u2 * w1) + ou * w0;
        jp[1] = c * u1 + s * (u2 * w0 - u0 * w2) + ou * w1;
        jp[2] = c * u2 + s * (u0 * w1 - u1 * w0) + ou * w2;
        // v = -s (u x P) + (1 - c)((w . P) u + (u . w) P)
        const double v0 = -s * (u1 * Z - u2 * Y) + omc * (wp * u0 + uw * X);
        const double v1 = -s * (u2 * X - u0 * Z) + omc * (wp * u1 + uw * Y);
        const double v2 = -s * (u0 * Y - u1 * X) + omc * (wp * u2 + uw * Z);
        const double uq = u0 * q0 + u1 * q1 + u2 * q2;
        const double vw = v0 * w0 + v1 * w1 + v2 * w2;
        jc[0] = uq * w0 + (v0 - vw * w0) * inv;
        jc[1] = uq * w1 + (v1 - vw * w1) * inv;
        jc[2] = uq * w2 + (v2 - vw * w2) * inv;
    }
}

inline void snavely_runtime_graph(const snavely_in& in, snavely_out& out) {
    std::array<rg::var, 9> cam{rg::var(in.camera[0]), rg::var(in.camera[1]), rg::var(in.camera[2]),
                               rg::var(in.camera[3]), rg::var(in.camera[4]), rg::var(in.camera[5]),
                               rg::var(in.camera[6]), rg::var(in.camera[7]), rg::var(in.camera[8])};
    std::array<rg::var, 3> pt{rg::var(in.point[0]), rg::var(in.point[1]), rg::var(in.point[2])};
    const rg::var& X = pt[0];
    const rg::var& Y = pt[1];
    const rg::var& Z = pt[2];
    const rg::var theta = rg::sqrt(cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]);
    const rg::var c = rg::cos(theta);
    const rg::var s = rg::sin(theta);
    const rg::var inv = 1.0 / theta;
    const rg::var w0 = cam[0] * inv, w1 = cam[1] * inv, w2 = cam[2] * inv;
    const rg::var tmp = (w0 * X + w1 * Y + w2 * Z) * (1.0 - c);
    const rg::var p0 = X * c + (w1 * Z - w2 * Y) * s + w0 * tmp + cam[3];
    const rg::var p1 = Y * c + (w2 * X - w0 * Z) * s + w1 * tmp + cam[4];
    const rg::var p2 = Z * c + (w0 * Y - w1 * X) * s + w2 * tmp + cam[5];
    const rg::var xp = -p0 / p2;
    const rg::var yp = -p1 / p2;
    const rg::var r2 = xp * xp + yp * yp;
    const rg::var distortion = 1.0 + r2 * (cam[7] + cam[8] * r2);
    const rg::var r[2] = {cam[6] * distortion * xp - in.observed_x,
                          cam[6] * distortion * yp - in.observed_y};
    for (std::size_t i = 0; i < 2; ++i) {
        rg::backward(r[i]);
        out.residual[i] = r[i].value();
        for (std::size_t k = 0; k < 9; ++k) out.camera_jacobian[i * 9 + k] = cam[k].grad();
        for (std::size_t k = 0; k < 3; ++k) out.point_jacobian[i * 3 + k] = pt[k].grad();
    }
}

#ifdef CTGRAD_HAVE_CERES
/// Ceres' SnavelyReprojectionError (examples/snavely_reprojection_error.h), for Jets.
struct snavely_functor {
    double observed_x;
    double observed_y;

    template <class T>
    bool operator()(const T* const camera, const T* const point, T* residuals) const {
        T p[3];
        ceres::AngleAxisRotatePoint(camera, point, p);
        p[0] += camera[3];
        p[1] += camera[4];
        p[2] += camera[5];
        const T xp = -p[0] / p[2];
        const T yp = -p[1] / p[2];
        const T& l1 = camera[7];
        const T& l2 = camera[8];
        const T r2 = xp * xp + yp * yp;
        const T distortion = 1.0 + r2 * (l1 + l2 * r2);
        const T& focal = camera[6];
        residuals[0] = focal * distortion * xp - observed_x;
        residuals[1] = focal * distortion * yp - observed_y;
        return true;
    }
};

using snavely_cost = ceres::AutoDiffCostFunction<snavely_functor, 2, 9, 3>;

inline std::unique_ptr<ceres::CostFunction> snavely_ceres_cost(const snavely_in& in) {
    return std::make_unique<snavely_cost>(new snavely_functor{in.observed_x, in.observed_y});
}

inline void snavely_ceres(const ceres::CostFunction& cost, const snavely_in& in, snavely_out& out) {
    const double* parameters[] = {in.camera.data(), in.point.data()};
    double* jacobians[] = {out.camera_jacobian.data(), out.point_jacobian.data()};
    cost.Evaluate(parameters, out.residual.data(), jacobians);
}
#endif

// --- rat43 ---

struct rat43_in {
    std::array<double, 4> b;
    double x;
    double y;
};

struct rat43_out {
    double residual = 0;
    std::array<double, 4> jacobian{};
};

/// Ceres' autodiff benchmark point (parameters 1, 2, 3, 4; x = 0.2, y = 0.3).
inline constexpr rat43_in rat43_inputs{{1.0, 2.0, 3.0, 4.0}, 0.2, 0.3};

namespace r43 {
inline constexpr auto b1 = ctgrad::var<"b1">;
inline constexpr auto b2 = ctgrad::var<"b2">;
inline constexpr auto b3 = ctgrad::var<"b3">;
inline constexpr auto b4 = ctgrad::var<"b4">;
inline constexpr auto x = ctgrad::var<"x">;
inline constexpr auto y = ctgrad::var<"y">;
inline constexpr auto F =
    ctgrad::outputs(b1 * ctgrad::pow(1_c + ctgrad::exp(b2 - b3 * x), -1_c / b4) - y);
}  // namespace r43

inline void rat43_ctgrad(const rat43_in& in, rat43_out& out) {
    using namespace r43;
    const auto J = ctgrad::jacobian(F, ctgrad::wrt(b1, b2, b3, b4), b1 = in.b[0], b2 = in.b[1],
                                    b3 = in.b[2], b4 = in.b[3], x = in.x, y = in.y);
    out.residual = J.value[0];
    for (std::size_t k = 0; k < 4; ++k) out.jacobian[k] = J.rows[0][k];
}

/// Ceres' Rat43AnalyticOptimized (docs/source/analytical_derivatives.rst).
inline void rat43_hand(const rat43_in& in, rat43_out& out) {
    const double b1 = in.b[0], b2 = in.b[1], b3 = in.b[2], b4 = in.b[3];
    const double t1 = std::exp(b2 - b3 * in.x);
    const double t2 = 1 + t1;
    const double t3 = std::pow(t2, -1.0 / b4);
    out.residual = b1 * t3 - in.y;
    const double t4 = std::pow(t2, -1.0 / b4 - 1);
    out.jacobian[0] = t3;
    out.jacobian[1] = -b1 * t1 * t4 / b4;
    out.jacobian[2] = -in.x * out.jacobian[1];
    out.jacobian[3] = b1 * std::log(t2) * t3 / (b4 * b4);
}

inline void rat43_runtime_graph(const rat43_in& in, rat43_out& out) {
    const std::array<rg::var, 4> b{rg::var(in.b[0]), rg::var(in.b[1]), rg::var(in.b[2]),
                                   rg::var(in.b[3])};
    const rg::var r = b[0] * rg::pow(1.0 + rg::exp(b[1] - b[2] * in.x), -1.0 / b[3]) - in.y;
    rg::backward(r);
    out.residual = r.value();
    for (std::size_t k = 0; k < 4; ++k) out.jacobian[k] = b[k].grad();
}

#ifdef CTGRAD_HAVE_CERES
/// Ceres' Rat43CostFunctor (internal/ceres/autodiff_benchmarks).
struct rat43_functor {
    double x;
    double y;

    template <class T>
    bool operator()(const T* parameters, T* residuals) const {
        const T& b1 = parameters[0];
        const T& b2 = parameters[1];
        const T& b3 = parameters[2];
        const T& b4 = parameters[3];
        residuals[0] = b1 * pow(1.0 + exp(b2 - b3 * x), -1.0 / b4) - y;
        return true;
    }
};

using rat43_cost = ceres::AutoDiffCostFunction<rat43_functor, 1, 4>;

inline std::unique_ptr<ceres::CostFunction> rat43_ceres_cost(const rat43_in& in) {
    return std::make_unique<rat43_cost>(new rat43_functor{in.x, in.y});
}

inline void rat43_ceres(const ceres::CostFunction& cost, const rat43_in& in, rat43_out& out) {
    const double* parameters[] = {in.b.data()};
    double* jacobians[] = {out.jacobian.data()};
    cost.Evaluate(parameters, &out.residual, jacobians);
}
#endif

}  // namespace jacobian_cases
