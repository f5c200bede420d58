// The main job of `./run.sh demo`: the worked examples of the backpropagation notes, computed
// by ctgrad's fused compile-time sweep, printed as a table of values and partial derivatives.
// Each gradient is also checked at compile time (static_assert), and the program exits
// non-zero if a run-time result differs from the notes.
#include <cmath>
#include <cstdio>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/version.hpp>

#include "support/cli.hpp"

namespace {

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;
constexpr auto w0 = ctgrad::var<"w0">;
constexpr auto x0 = ctgrad::var<"x0">;
constexpr auto w1 = ctgrad::var<"w1">;
constexpr auto x1 = ctgrad::var<"x1">;
constexpr auto w2 = ctgrad::var<"w2">;

int failures = 0;

void row(const char* name, double got, double expected, double tol) {
    const bool ok = std::abs(got - expected) <= tol;
    failures += ok ? 0 : 1;
    std::printf("  %-10s %12.6f   (notes: %9.3f)%s\n", name, got, expected,
                ok ? "" : "  <-- MISMATCH");
}

void title(const char* text, const std::string& expr) {
    std::printf("\n%s\n  f = %s\n", text, expr.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    example::command_line(
        "usage: demo\n"
        "The worked examples of the backpropagation notes as a table of values and partial\n"
        "derivatives (./run.sh demo runs it first); no options.")
        .parse(argc, argv);
    std::printf("ctgrad %s: worked examples of the backpropagation notes\n", CTGRAD_VERSION_STRING);

    constexpr auto f1 = (x + y) * z;
    constexpr auto g1 = ctgrad::gradient(f1, x = -2.0, y = 5.0, z = -4.0);
    static_assert(g1.value == -12.0 && g1[x] == -4.0 && g1[y] == -4.0 && g1[z] == 3.0);
    title("1. A circuit of an add gate and a multiply gate, at x = -2, y = 5, z = -4",
          ctgrad::to_string(f1));
    row("f", g1.value, -12.0, 0.0);
    row("df/dx", g1[x], -4.0, 0.0);
    row("df/dy", g1[y], -4.0, 0.0);
    row("df/dz", g1[z], 3.0, 0.0);

    constexpr auto f2 = (x + y) * (x + z);
    constexpr auto g2 = ctgrad::gradient(f2, x = -3.0, y = 2.0, z = 5.0);
    static_assert(g2[x] == 1.0 && g2[y] == 2.0 && g2[z] == -1.0);
    title("2. x fans out: its two gradients add up, at x = -3, y = 2, z = 5",
          ctgrad::to_string(f2));
    row("f", g2.value, -2.0, 0.0);
    row("df/dx", g2[x], 1.0, 0.0);
    row("df/dy", g2[y], 2.0, 0.0);
    row("df/dz", g2[z], -1.0, 0.0);

    constexpr auto f3 = 1_c / (1_c + ctgrad::exp(-(w0 * x0 + w1 * x1 + w2)));
    constexpr auto g3 = ctgrad::gradient(f3, w0 = 2.0, x0 = -1.0, w1 = -3.0, x1 = -2.0, w2 = -3.0);
    static_assert(g3[w0] < -0.19 && g3[w0] > -0.20);
    title("3. The sigmoid neuron, gate by gate, at w = (2, -3, -3), x = (-1, -2)",
          ctgrad::to_string(f3));
    row("f", g3.value, 0.731, 1e-3);
    row("df/dw0", g3[w0], -0.196, 1e-3);
    row("df/dx0", g3[x0], 0.393, 1e-3);
    row("df/dw1", g3[w1], -0.393, 1e-3);
    row("df/dx1", g3[x1], -0.590, 1e-3);
    row("df/dw2", g3[w2], 0.196, 1e-3);

    std::printf("\n4. Symbolic derivatives (types simplified at compile time)\n");
    std::printf("  d/dw0 of the neuron with the sigmoid op: %s\n",
                ctgrad::to_string(ctgrad::d(ctgrad::sigmoid(w0 * x0 + w1 * x1 + w2), w0)).c_str());
    std::printf("  d/dx (3 x x) = %s\n", ctgrad::to_string(ctgrad::d(3_c * x * x, x)).c_str());
    const auto h = ctgrad::hessian(x * x * y + ctgrad::sin(x * y), x = 1.0, y = 2.0);
    std::printf("  Hessian of x x y + sin(x y) at (1, 2): [[%.6f, %.6f], [%.6f, %.6f]]\n", h(x, x),
                h(x, y), h(y, x), h(y, y));

    std::printf("\n%s\n", failures == 0 ? "all worked examples match the notes"
                                        : "SOME WORKED EXAMPLES DO NOT MATCH THE NOTES");
    return failures == 0 ? 0 : 1;
}
