// The README example: a function as a type, its value and gradient at run time and at compile
// time, and a symbolic derivative. Exits non-zero on a wrong result.
#include <cmath>
#include <cstdio>

#include <ctgrad/ctgrad.hpp>

#include "support/cli.hpp"

int main(int argc, char** argv) {
    example::command_line(
        "usage: 01_gradient\n"
        "The README example: a function as a type, its value, gradient, symbolic derivative\n"
        "and Hessian; no options.")
        .parse(argc, argv);
    using namespace ctgrad::literals;
    constexpr auto x = ctgrad::var<"x">;
    constexpr auto y = ctgrad::var<"y">;
    constexpr auto f = ctgrad::sigmoid(2.0 * x + ctgrad::exp(y)) * x;  // an expression type

    const double v = ctgrad::value(f, x = 1.0, y = 0.5);       // forward sweep only
    constexpr auto g = ctgrad::gradient(f, x = 1.0, y = 0.5);  // fused forward + reverse
    static_assert(g.value > 0 && g[x] > 0 && g[y] > 0);        // checked by the compiler
    const auto dfdx = ctgrad::d(f, x);                         // an expression again
    const auto h = ctgrad::hessian(f, x = 1.0, y = 0.5);

    std::printf("f = %s\n", ctgrad::to_string(f).c_str());
    std::printf("f(1, 0.5) = %.6f, df/dx = %.6f, df/dy = %.6f\n", v, g[x], g[y]);
    std::printf("d(f, x) = %s = %.6f\n", ctgrad::to_string(dfdx).c_str(),
                ctgrad::value(dfdx, x = 1.0, y = 0.5));
    std::printf("d2f/dxdy = %.6f\n", h(x, y));

    const double s = 1.0 / (1.0 + std::exp(-(2.0 + std::exp(0.5))));
    const bool ok = std::abs(v - s) < 1e-15 && std::abs(g[x] - (s + 2.0 * s * (1 - s))) < 1e-15 &&
                    std::abs(g[y] - s * (1 - s) * std::exp(0.5)) < 1e-15;
    return ok ? 0 : 1;
}
