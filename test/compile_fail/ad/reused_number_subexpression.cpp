// Reusing an `auto` subexpression that holds a run-time number copies it at every use; copies
// cannot be merged (their numbers may differ), so 12 levels of reuse would make a plan of
// ~2^12 entries. ctgrad refuses it when it is built, quickly, and says what to write instead.
// The twin writes the numbers as exact literals: every use is then shared, the plan has ~40
// entries.
// expect: copies a subexpression that holds a run-time number
// expect: exact literal
// expect: subexpression_holding_a_number_is_reused
// errors: 2
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;
constexpr auto y = ctgrad::var<"y">;

double f(double xv) {
#ifndef CTGRAD_CF_CONTROL
    const auto half = 0.5;
    const auto two = 2.0;
#else
    const auto half = 0.5_c;
    const auto two = 2_c;
#endif
    auto t0 = half * x + y;
    auto t1 = t0 * t0 + two * t0;
    auto t2 = t1 * t1 + two * t1;
    auto t3 = t2 * t2 + two * t2;
    auto t4 = t3 * t3 + two * t3;
    auto t5 = t4 * t4 + two * t4;
    auto t6 = t5 * t5 + two * t5;
    auto t7 = t6 * t6 + two * t6;
    auto t8 = t7 * t7 + two * t7;
    auto t9 = t8 * t8 + two * t8;
    auto t10 = t9 * t9 + two * t9;
    auto t11 = t10 * t10 + two * t10;
    auto t12 = t11 * t11 + two * t11;
    return ctgrad::gradient(t12, x = xv, y = 0.25)[x];
}
