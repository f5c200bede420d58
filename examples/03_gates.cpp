// Backpropagation on a computational graph of gates, with the numbers of the notes
// (/work/shared/notes/000: "Backpropagation", the (x+y)·z graph and the 2-input sigmoid
// neuron; 001: the chain rule on f = (x+y)(x+z); the gate patterns as in CS231n's
// "optimization-2" notes, which 001 cites). Every value and gradient is printed next to the
// number the notes give, checked at run time (exit status 1 on a mismatch) and again by the
// compiler (static_assert on constexpr gradients).
//
// The notes round to one or two decimals, so a number agrees with them when it is within half
// a unit of their last digit; the exact values are also checked against the chain rule written
// out with <cmath> (to 1e-12).
#include <cmath>
#include <cstdio>

#include <ctgrad/ctgrad.hpp>

#include "support/cli.hpp"

using namespace ctgrad::literals;

namespace {

constexpr double magnitude(double v) {
    return v < 0 ? -v : v;
}

/// Whether `got` rounds to the number the notes print with `decimals` decimals.
constexpr bool agrees(double got, double notes, int decimals) {
    double half_unit = 0.5;
    for (int i = 0; i < decimals; ++i) half_unit /= 10;
    return magnitude(got - notes) <= half_unit * (1 + 1e-9);
}

int failures = 0;

/// One line of output: what, ctgrad's number, the notes' number; counts a disagreement.
void row(const char* what, double got, double notes, int decimals, const char* source = "notes") {
    const bool ok = agrees(got, notes, decimals);
    std::printf("  %-34s ctgrad %10.6f   %s %6.*f  %s\n", what, got, source, decimals, notes,
                ok ? "ok" : "MISMATCH");
    failures += ok ? 0 : 1;
}

/// A check against an exact reference (the chain rule by hand).
void exact(const char* what, double got, double want) {
    if (magnitude(got - want) > 1e-12 * (1 + magnitude(want))) {
        std::printf("  %s: ctgrad %.17g, by hand %.17g  MISMATCH\n", what, got, want);
        ++failures;
    }
}

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;
constexpr auto z = ctgrad::var<"z">;
constexpr auto w = ctgrad::var<"w">;
constexpr auto q = ctgrad::var<"q">;

// --- 1. f(x, y, z) = (x + y)·z at x = −2, y = 5, z = −4 (notes 000) --------------------------
constexpr auto f_add_mul = (x + y) * z;
constexpr auto g_add_mul = ctgrad::gradient(f_add_mul, x = -2.0, y = 5.0, z = -4.0);
static_assert(g_add_mul.value == -12.0);
static_assert(g_add_mul[x] == -4.0 && g_add_mul[y] == -4.0 && g_add_mul[z] == 3.0);
// The same graph cut at q = x + y: df/dq = z, what the add gate then hands to x and y.
constexpr auto g_q = ctgrad::gradient(q * z, q = 3.0, z = -4.0);
static_assert(g_q[q] == -4.0 && g_q[z] == 3.0);

void add_multiply() {
    std::printf("f(x, y, z) = (x + y) * z at x = -2, y = 5, z = -4 (notes 000)\n");
    std::printf("  ctgrad's expression: %s\n", ctgrad::to_string(f_add_mul).c_str());
    const double v = ctgrad::value(f_add_mul, x = -2.0, y = 5.0, z = -4.0);
    const auto g = ctgrad::gradient(f_add_mul, x = -2.0, y = 5.0, z = -4.0);
    row("f", v, -12, 0);
    row("q = x + y", ctgrad::value(x + y, x = -2.0, y = 5.0), 3, 0);
    row("df/dq = dout * z", ctgrad::gradient(q * z, q = 3.0, z = -4.0)[q], -4, 0);
    row("df/dz = dout * q", g[z], 3, 0);
    row("df/dx (the add gate distributes)", g[x], -4, 0);
    row("df/dy", g[y], -4, 0);
}

// --- 2. What each gate does with the gradient that reaches it --------------------------------
// CS231n's example: f = 2·(x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1. The add gate
// hands its upstream gradient (2) unchanged to both inputs, the max gate routes it to the
// larger input only (z; w gets 0), the multiply gate swaps its inputs (df/dx = 2·y, df/dy =
// 2·x).
constexpr auto f_gates = 2.0 * (x * y + ctgrad::max(z, w));
constexpr auto g_gates = ctgrad::gradient(f_gates, x = 3.0, y = -4.0, z = 2.0, w = -1.0);
static_assert(g_gates.value == -20.0);
static_assert(g_gates[x] == -8.0 && g_gates[y] == 6.0 && g_gates[z] == 2.0 && g_gates[w] == 0.0);
// A tie in max goes to the first argument (ctgrad's documented subgradient).
static_assert(ctgrad::gradient(ctgrad::max(z, w), z = 1.0, w = 1.0)[z] == 1.0);
static_assert(ctgrad::gradient(ctgrad::max(z, w), z = 1.0, w = 1.0)[w] == 0.0);

void gate_patterns() {
    std::printf("\nf = 2 * (x * y + max(z, w)) at x = 3, y = -4, z = 2, w = -1 (CS231n)\n");
    const auto g = ctgrad::gradient(f_gates, x = 3.0, y = -4.0, z = 2.0, w = -1.0);
    row("f", g.value, -20, 0, "cs231n");
    row("df/dx = 2 * y (multiply swaps)", g[x], -8, 0, "cs231n");
    row("df/dy = 2 * x", g[y], 6, 0, "cs231n");
    row("df/dz (max routes to the larger)", g[z], 2, 0, "cs231n");
    row("df/dw (the smaller gets nothing)", g[w], 0, 0, "cs231n");
}

// --- 3. The 2-input sigmoid neuron (notes 000) ------------------------------------------------
// f(w, x) = 1 / (1 + exp(−(w0·x0 + w1·x1 + w2))), w = [2, −3, −3], x = [−1, −2], written gate
// by gate as the notes draw it: multiply, add, ·(−1), exp, +1, 1/x.
constexpr auto w0 = ctgrad::var<"w0">;
constexpr auto w1 = ctgrad::var<"w1">;
constexpr auto w2 = ctgrad::var<"w2">;
constexpr auto x0 = ctgrad::var<"x0">;
constexpr auto x1 = ctgrad::var<"x1">;
constexpr auto dot = w0 * x0 + w1 * x1 + w2;
constexpr auto neuron = 1_c / (1_c + ctgrad::exp(-1.0 * dot));
/// Value and gradient of e at the notes' point.
template <class E>
constexpr auto at_point(E e) {
    return ctgrad::gradient(e, w0 = 2.0, w1 = -3.0, w2 = -3.0, x0 = -1.0, x1 = -2.0);
}
constexpr auto g_neuron = at_point(neuron);
static_assert(agrees(g_neuron.value, 0.73, 2));
static_assert(agrees(g_neuron[x0], 0.39, 2) && agrees(g_neuron[x1], -0.59, 2));
static_assert(agrees(g_neuron[w0], -0.20, 2) && agrees(g_neuron[w1], -0.39, 2) &&
              agrees(g_neuron[w2], 0.20, 2));
// The sigmoid gate does the same in one step: its local gradient is (1 − f)·f.
constexpr auto g_sigmoid = at_point(ctgrad::sigmoid(dot));
static_assert(magnitude(g_sigmoid[x0] - g_neuron[x0]) < 1e-15);
static_assert(magnitude(g_sigmoid[w1] - g_neuron[w1]) < 1e-15);

// The gradient arriving at each gate of the neuron: cut the graph at that gate's input (a
// variable t bound to the value flowing there) and differentiate the rest.
constexpr auto t = ctgrad::var<"t">;
constexpr double dot_v = 2.0 * -1.0 + -3.0 * -2.0 + -3.0;  // 1
constexpr double at_recip = ctgrad::value(1_c + ctgrad::exp(-1.0 * t), t = dot_v);
constexpr double at_plus1 = ctgrad::value(ctgrad::exp(-1.0 * t), t = dot_v);
static_assert(agrees(at_recip, 1.37, 2));
static_assert(agrees(ctgrad::gradient(1_c / t, t = at_recip)[t], -0.53, 2));
static_assert(agrees(ctgrad::gradient(1_c / (1_c + t), t = at_plus1)[t], -0.53, 2));
static_assert(agrees(ctgrad::gradient(1_c / (1_c + ctgrad::exp(t)), t = -dot_v)[t], -0.2, 1));
static_assert(agrees(ctgrad::gradient(1_c / (1_c + ctgrad::exp(-1.0 * t)), t = dot_v)[t], 0.2, 1));

void sigmoid_neuron() {
    std::printf(
        "\nsigmoid neuron 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))), w = [2, -3, -3], x = [-1, "
        "-2] (notes 000)\n");
    std::printf("  forward, gate by gate:\n");
    row("w0*x0 + w1*x1 + w2", at_point(dot).value, 1, 0);
    row("exp(-dot)", at_plus1, 0.37, 2);
    row("1 + exp(-dot)", at_recip, 1.37, 2);
    row("f = 1 / (1 + exp(-dot))",
        ctgrad::value(neuron, w0 = 2.0, w1 = -3.0, w2 = -3.0, x0 = -1.0, x1 = -2.0), 0.73, 2,
        "cs231n");
    std::printf("  backward, the gradient arriving at each gate's input (dout = 1):\n");
    row("1/x gate: -1/1.37^2", ctgrad::gradient(1_c / t, t = at_recip)[t], -0.53, 2);
    row("+1 gate passes it on", ctgrad::gradient(1_c / (1_c + t), t = at_plus1)[t], -0.53, 2);
    row("exp gate: exp(-1) * -0.53", ctgrad::gradient(1_c / (1_c + ctgrad::exp(t)), t = -dot_v)[t],
        -0.2, 1);
    row("*(-1) gate: -1 * -0.2",
        ctgrad::gradient(1_c / (1_c + ctgrad::exp(-1.0 * t)), t = dot_v)[t], 0.2, 1);
    std::printf("  the inputs (one fused sweep over the whole graph):\n");
    const auto g = at_point(neuron);
    row("dw2 (the sum gate distributes)", g[w2], 0.2, 1);
    row("dw0 = 0.2 * x0", g[w0], -0.2, 1);
    row("dx0 = 0.2 * w0", g[x0], 0.4, 1);
    std::printf("  the same to two decimals:\n");
    row("dx0", g[x0], 0.39, 2, "cs231n");
    row("dx1", g[x1], -0.59, 2, "cs231n");
    row("dw0", g[w0], -0.20, 2, "cs231n");
    row("dw1", g[w1], -0.39, 2, "cs231n");
    row("dw2", g[w2], 0.20, 2, "cs231n");

    // The chain rule by hand, and the sigmoid gate, agree to rounding.
    const double f = 1.0 / (1.0 + std::exp(-dot_v)), local = (1 - f) * f;
    exact("f", g.value, f);
    exact("dx0", g[x0], 2.0 * local);
    exact("dx1", g[x1], -3.0 * local);
    exact("dw0", g[w0], -1.0 * local);
    exact("dw1", g[w1], -2.0 * local);
    exact("dw2", g[w2], local);
    const auto gs = at_point(ctgrad::sigmoid(dot));
    std::printf("  sigmoid gate in one step: local gradient (1 - f) * f = %.6f, dx0 = %.6f\n",
                local, gs[x0]);
    exact("sigmoid gate dx0", gs[x0], g[x0]);
    exact("sigmoid gate dw1", gs[w1], g[w1]);
}

// --- 4. Fan-out: gradients add up (notes 001, program 1) -------------------------------------
// f = (x + y)(x + z) at x = −3, y = 2, z = 5: x feeds both factors, so df/dx = q + p.
constexpr auto f_fan = (x + y) * (x + z);
constexpr auto g_fan = ctgrad::gradient(f_fan, x = -3.0, y = 2.0, z = 5.0);
static_assert(g_fan.value == -2.0);
static_assert(g_fan[x] == 1.0 && g_fan[y] == 2.0 && g_fan[z] == -1.0);

void fan_out() {
    std::printf("\nf = (x + y) * (x + z) at x = -3, y = 2, z = 5 (notes 001)\n");
    const auto g = ctgrad::gradient(f_fan, x = -3.0, y = 2.0, z = 5.0);
    row("p = x + y", ctgrad::value(x + y, x = -3.0, y = 2.0), -1, 0);
    row("q = x + z", ctgrad::value(x + z, x = -3.0, z = 5.0), 2, 0);
    row("f", g.value, -2, 0);
    row("df/dx = q + p (two paths add)", g[x], 1, 0);
    row("df/dy = q", g[y], 2, 0);
    row("df/dz = p", g[z], -1, 0);
}

}  // namespace

int main(int argc, char** argv) {
    example::command_line(
        "usage: 03_gates\n"
        "Backpropagation through gates with the numbers of the notes; no options.")
        .parse(argc, argv);
    add_multiply();
    gate_patterns();
    sigmoid_neuron();
    fan_out();
    std::printf("\n%s\n", failures == 0 ? "all numbers agree with the notes"
                                        : "some numbers disagree with the notes");
    return failures == 0 ? 0 : 1;
}
