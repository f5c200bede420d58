// Bundle adjustment with ctgrad's Jacobians: the reprojection error of Ceres' bundle-adjustment
// example (SnavelyReprojectionError: camera = angle-axis rotation, translation, focal length,
// two radial distortion terms; a 3D point) written once as ctgrad::outputs, and a small dense
// Levenberg–Marquardt fit of cameras and points to synthetic observations.
//
//   bundle_adjustment [--cameras N] [--points N] [--noise PIXELS] [--iterations N] [--seed N]
//
// Prints the RMS reprojection error per iteration; exits non-zero if the fit does not reach the
// noise level.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>

#include "support/cli.hpp"

namespace {

using namespace ctgrad::literals;

// The camera's 9 parameters, the point's 3, the observation's 2.
constexpr auto a0 = ctgrad::var<"a0">;
constexpr auto a1 = ctgrad::var<"a1">;
constexpr auto a2 = ctgrad::var<"a2">;
constexpr auto t0 = ctgrad::var<"t0">;
constexpr auto t1 = ctgrad::var<"t1">;
constexpr auto t2 = ctgrad::var<"t2">;
constexpr auto focal = ctgrad::var<"focal">;
constexpr auto l1 = ctgrad::var<"l1">;
constexpr auto l2 = ctgrad::var<"l2">;
constexpr auto X = ctgrad::var<"X">;
constexpr auto Y = ctgrad::var<"Y">;
constexpr auto Z = ctgrad::var<"Z">;
constexpr auto ox = ctgrad::var<"ox">;
constexpr auto oy = ctgrad::var<"oy">;

/// The predicted minus the observed pixel: rotate the point by the angle-axis vector
/// (Rodrigues' formula; the angle must not be 0), translate, project, distort, scale.
constexpr auto reprojection_error() {
    const auto theta = ctgrad::sqrt(a0 * a0 + a1 * a1 + a2 * a2);
    const auto c = ctgrad::cos(theta);
    const auto s = ctgrad::sin(theta);
    const auto w0 = a0 / theta;
    const auto w1 = a1 / theta;
    const auto w2 = a2 / theta;
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

constexpr auto residual = reprojection_error();
constexpr auto unknowns = ctgrad::wrt(a0, a1, a2, t0, t1, t2, focal, l1, l2, X, Y, Z);

struct observation {
    std::size_t camera;
    std::size_t point;
    double x, y;
};

/// The residuals and their 2x12 Jacobian (camera 9, point 3) of one observation.
auto evaluate(const double* cam, const double* pt, const observation& o) {
    return ctgrad::jacobian(residual, unknowns, a0 = cam[0], a1 = cam[1], a2 = cam[2], t0 = cam[3],
                            t1 = cam[4], t2 = cam[5], focal = cam[6], l1 = cam[7], l2 = cam[8],
                            X = pt[0], Y = pt[1], Z = pt[2], ox = o.x, oy = o.y);
}

struct problem {
    std::size_t cameras, points;
    std::vector<double> params;  // cameras * 9, then points * 3
    std::vector<observation> obs;

    double* camera(std::size_t i) { return params.data() + 9 * i; }
    double* point(std::size_t j) { return params.data() + 9 * cameras + 3 * j; }
    std::size_t size() const { return params.size(); }
};

double rms(problem& p) {
    double s = 0;
    for (const observation& o : p.obs) {
        const auto j = evaluate(p.camera(o.camera), p.point(o.point), o);
        s += j.value[0] * j.value[0] + j.value[1] * j.value[1];
    }
    return std::sqrt(s / static_cast<double>(2 * p.obs.size()));
}

/// Solves (A) x = b in place by Cholesky (A symmetric positive definite, n x n, row-major).
bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
        double d = A[j * n + j];
        for (std::size_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
        if (!(d > 0)) return false;
        d = std::sqrt(d);
        A[j * n + j] = d;
        for (std::size_t i = j + 1; i < n; ++i) {
            double v = A[i * n + j];
            for (std::size_t k = 0; k < j; ++k) v -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = v / d;
        }
    }
    for (std::size_t i = 0; i < n; ++i) {  // L y = b
        double v = b[i];
        for (std::size_t k = 0; k < i; ++k) v -= A[i * n + k] * b[k];
        b[i] = v / A[i * n + i];
    }
    for (std::size_t i = n; i-- > 0;) {  // L^T x = y
        double v = b[i];
        for (std::size_t k = i + 1; k < n; ++k) v -= A[k * n + i] * b[k];
        b[i] = v / A[i * n + i];
    }
    return true;
}

/// One Levenberg–Marquardt step on the normal equations (J^T J + lambda diag(J^T J)) dx =
/// -J^T r, accumulated observation by observation from ctgrad's 2x12 Jacobians. Returns the
/// RMS after the step; lambda shrinks after a step that helps, grows (and the step is undone)
/// otherwise.
double lm_step(problem& p, double& lambda) {
    const std::size_t n = p.size();
    std::vector<double> H(n * n, 0.0), g(n, 0.0);
    for (const observation& o : p.obs) {
        const auto j = evaluate(p.camera(o.camera), p.point(o.point), o);
        std::size_t col[12];
        for (std::size_t k = 0; k < 9; ++k) col[k] = 9 * o.camera + k;
        for (std::size_t k = 0; k < 3; ++k) col[9 + k] = 9 * p.cameras + 3 * o.point + k;
        for (std::size_t r = 0; r < 2; ++r) {
            for (std::size_t a = 0; a < 12; ++a) {
                g[col[a]] += j.rows[r][a] * j.value[r];
                for (std::size_t b = 0; b < 12; ++b) {
                    H[col[a] * n + col[b]] += j.rows[r][a] * j.rows[r][b];
                }
            }
        }
    }
    const double before = rms(p);
    const std::vector<double> saved = p.params;
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::vector<double> A = H, dx(n);
        for (std::size_t i = 0; i < n; ++i) {
            A[i * n + i] += lambda * (H[i * n + i] + 1e-9);
            dx[i] = -g[i];
        }
        if (cholesky_solve(A, dx, n)) {
            for (std::size_t i = 0; i < n; ++i) p.params[i] = saved[i] + dx[i];
            const double after = rms(p);
            if (after < before) {
                lambda = std::max(lambda / 3, 1e-12);
                return after;
            }
        }
        p.params = saved;
        lambda *= 4;
    }
    return before;
}

}  // namespace

int main(int argc, char** argv) {
    problem p;
    double noise = 0.5;
    long iterations = 30;
    std::size_t cameras = 4, points = 40;
    std::uint64_t seed = 1;
    example::command_line cli(
        "usage: bundle_adjustment [options]\n"
        "Bundle adjustment of synthetic cameras and points by Levenberg-Marquardt, with\n"
        "the Jacobians of Ceres' reprojection error computed by ctgrad::jacobian.");
    cli.add("--cameras", "N", "cameras, at least 2 (default 4)", cameras)
        .add("--points", "N", "points, at least 8 (default 40)", points)
        .add("--noise", "PIXELS", "standard deviation of the observations (default 0.5)", noise)
        .add("--iterations", "N", "Levenberg-Marquardt iterations (default 30)", iterations)
        .add("--seed", "N", "the synthetic scene and noise (default 1)", seed);
    try {
        cli.parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bundle_adjustment: %s\n", e.what());
        return 2;
    }
    p.cameras = cameras;
    p.points = points;
    std::mt19937_64 rng(seed);
    if (p.cameras < 2 || p.points < 8 || noise < 0 || iterations < 1) {
        std::fprintf(stderr, "need at least 2 cameras, 8 points, noise >= 0 (try --help)\n");
        return 2;
    }

    // The truth: cameras on a ring 6 units from the origin looking at it (-z towards the
    // points), focal 500 pixels, mild distortion; points in the unit cube.
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::normal_distribution<double> gauss(0.0, 1.0);
    p.params.assign(9 * p.cameras + 3 * p.points, 0.0);
    for (std::size_t i = 0; i < p.cameras; ++i) {
        double* c = p.camera(i);
        c[0] = 0.05 * u(rng);
        c[1] = 0.4 * (static_cast<double>(i) - 0.5 * static_cast<double>(p.cameras - 1)) /
                   static_cast<double>(p.cameras) +
               0.01;
        c[2] = 0.05 * u(rng);
        c[3] = 0.3 * u(rng);
        c[4] = 0.3 * u(rng);
        c[5] = -6.0;
        c[6] = 500.0;
        c[7] = 0.05;
        c[8] = 0.002;
    }
    for (std::size_t j = 0; j < p.points; ++j) {
        double* x = p.point(j);
        for (int k = 0; k < 3; ++k) x[k] = u(rng);
    }
    for (std::size_t i = 0; i < p.cameras; ++i) {
        for (std::size_t j = 0; j < p.points; ++j) {
            const observation zero{i, j, 0.0, 0.0};
            const auto r = evaluate(p.camera(i), p.point(j), zero);  // the projection itself
            p.obs.push_back(
                {i, j, r.value[0] + noise * gauss(rng), r.value[1] + noise * gauss(rng)});
        }
    }
    // The start: every parameter perturbed (rotations by ~0.02 rad, positions by ~0.1, focal
    // lengths by ~2%).
    const std::vector<double> truth = p.params;
    for (std::size_t i = 0; i < p.cameras; ++i) {
        double* c = p.camera(i);
        for (int k = 0; k < 3; ++k) c[k] += 0.02 * u(rng);
        for (int k = 3; k < 6; ++k) c[k] += 0.1 * u(rng);
        c[6] *= 1.0 + 0.02 * u(rng);
    }
    for (std::size_t j = 0; j < p.points; ++j) {
        for (int k = 0; k < 3; ++k) p.point(j)[k] += 0.1 * u(rng);
    }

    std::printf(
        "%zu cameras, %zu points, %zu observations (%zu residuals, %zu unknowns), "
        "noise %.2f px\n",
        p.cameras, p.points, p.obs.size(), 2 * p.obs.size(), p.size(), noise);
    const double start = rms(p);
    std::printf("iteration  0: RMS reprojection error %.6f px\n", start);
    double lambda = 1e-3, last = start;
    for (long it = 1; it <= iterations; ++it) {
        const double now = lm_step(p, lambda);
        std::printf("iteration %2ld: RMS reprojection error %.6f px (lambda %.1e)\n", it, now,
                    lambda);
        if (last - now < 1e-10 * last) break;
        last = now;
    }
    const double final_rms = rms(p);
    // A least-squares fit of 2K residuals with P unknowns leaves an RMS of about
    // noise * sqrt(1 - P / 2K) (less the gauge freedoms); it must be near the noise and far
    // below the start.
    const bool ok = final_rms < 1.1 * noise + 1e-6 && final_rms < 0.1 * start;
    std::printf("final RMS %.6f px (noise %.2f px, start %.3f px): %s\n", final_rms, noise, start,
                ok ? "converged" : "NOT converged");
    return ok ? 0 : 1;
}
