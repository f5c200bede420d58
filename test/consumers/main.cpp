// A program outside ctgrad that uses it the way a user would: the one include, a gradient checked
// by the compiler, one computed at run time, and the version of the ctgrad it was built against.
// test/tools/consumer.py copies it next to each consumer's build file and checks what it prints.
#include <cstdio>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/version.hpp>

int main(int argc, char**) {
    constexpr auto x = ctgrad::var<"x">;
    constexpr auto y = ctgrad::var<"y">;
    constexpr auto f = x * y + ctgrad::sin(x);

    // At x = 0: df/dx = y + cos(0) = 4, df/dy = x = 0.
    static_assert(ctgrad::gradient(f, x = 0.0, y = 3.0)[x] == 4.0);
    static_assert(ctgrad::gradient(f, x = 0.0, y = 3.0)[y] == 0.0);

    const auto g =
        ctgrad::gradient(f, x = 2.0 * argc, y = 3.0);  // x = 2 when run without arguments
    std::printf("ctgrad %s value %.17g dx %.17g dy %.17g\n", CTGRAD_VERSION_STRING, g.value, g[x],
                g[y]);
}
