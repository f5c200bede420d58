/// @file
/// Subnormal numbers and the processor's floating-point environment: ctgrad::ftz_scope, a scoped
/// flush-to-zero / denormals-are-zero guard, and the per-thread switch that ctgrad's training
/// entry points consult.
///
/// Why: on many processors an arithmetic operation that reads or produces a subnormal number
/// (|x| < 2^-126 in float, 2^-1022 in double) takes a microcode assist of about a hundred cycles
/// instead of a few (a whole Fashion-MNIST training run with Adam took 1.95x as long on an
/// Intel Xeon, see docs/performance.md). Training produces them: Adam's moment estimates of a weight
/// whose gradient has become exactly zero (a dead ReLU unit) decay geometrically by β₁ = 0.9 and
/// β₂ = 0.999 per step into the subnormal range. With FTZ (results that would be subnormal
/// become ±0) and DAZ (subnormal inputs read as ±0), none is ever processed.
///
/// ftz_scope sets both bits on entry and restores the previous bits on exit (also when an
/// exception leaves the scope), so the code around ctgrad keeps the environment it had:
/// - x86-64 / x86 with SSE: MXCSR bits FTZ (15) and DAZ (6), through _mm_getcsr/_mm_setcsr;
/// - AArch64: FPCR bit FZ (24), which flushes both inputs and outputs;
/// - elsewhere: nothing (the scope is a no-op and ftz_scope::supported is false).
/// The environment is per thread: every worker thread that runs ctgrad code holds its own scope
/// (a thread inherits the environment of the thread that created it, at creation only).
/// Nothing happens during constant evaluation (compile-time results are never flushed).
///
/// ctgrad's training entry points -- program::gradient, program::value, program::sgd_step and
/// the optimizers' step() -- hold an ftz_scope while they run, unless the thread has opted out
/// with `ctgrad::set_flush_subnormals(false)` (for a user who needs gradual underflow: results
/// that are subnormal, e.g. products of probabilities far below 1e-38 in float). A training loop
/// may also hold one scope around the whole loop (examples/fashion_mnist.cpp does), which makes
/// the entry points' own scopes no-ops.
#pragma once

#include <type_traits>  // std::is_constant_evaluated

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>  // _mm_getcsr, _mm_setcsr
#define CTGRAD_FPENV_MXCSR 1
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define CTGRAD_FPENV_FPCR 1
#endif

namespace ctgrad {

namespace detail {

/// Whether this thread's entry points flush subnormals (set_flush_subnormals).
inline thread_local bool flush_subnormals_flag = true;

#if defined(CTGRAD_FPENV_MXCSR)
using fpenv_bits = unsigned int;
inline constexpr fpenv_bits ftz_bits = (1u << 15) | (1u << 6);  // FTZ | DAZ
inline fpenv_bits read_fpenv() noexcept {
    return _mm_getcsr();
}
inline void write_fpenv(fpenv_bits b) noexcept {
    _mm_setcsr(b);
}
#elif defined(CTGRAD_FPENV_FPCR)
using fpenv_bits = unsigned long;
inline constexpr fpenv_bits ftz_bits = 1ul << 24;  // FZ
inline fpenv_bits read_fpenv() noexcept {
    unsigned long r;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(r));
    return r;
}
inline void write_fpenv(fpenv_bits b) noexcept {
    __asm__ __volatile__("msr fpcr, %0" : : "r"(b));
}
#else
using fpenv_bits = unsigned int;
inline constexpr fpenv_bits ftz_bits = 0;
inline fpenv_bits read_fpenv() noexcept {
    return 0;
}
inline void write_fpenv(fpenv_bits) noexcept {}
#endif

}  // namespace detail

/// Whether ctgrad's entry points (program sweeps, optimizer steps) of this thread set FTZ/DAZ
/// while they run: true unless set_flush_subnormals(false) was called on this thread.
inline bool flush_subnormals() noexcept {
    return detail::flush_subnormals_flag;
}

/// The opt-out (false) and back (true), for the calling thread: with false, ctgrad's entry
/// points leave the floating-point environment as they find it (gradual underflow, unless the
/// caller set FTZ/DAZ itself). An ftz_scope constructed explicitly still sets the bits.
inline void set_flush_subnormals(bool on) noexcept {
    detail::flush_subnormals_flag = on;
}

/// Whether FTZ and DAZ (AArch64: FZ) are both set on this thread now.
inline bool subnormals_flushed() noexcept {
    return detail::ftz_bits != 0 && (detail::read_fpenv() & detail::ftz_bits) == detail::ftz_bits;
}

/// RAII: sets flush-to-zero and denormals-are-zero for the calling thread on construction and
/// restores the previous values of those two bits on destruction (the other bits -- rounding
/// mode, exception masks and flags -- are left alone, so flags raised inside the scope stay
/// visible after it). Nests: an inner scope restores what the outer one set. No-op during
/// constant evaluation and on processors without such bits (`supported` is false).
class ftz_scope {
public:
    /// Whether this build can set the bits (x86 with SSE, AArch64).
    static constexpr bool supported = detail::ftz_bits != 0;

    /// Sets FTZ|DAZ.
    constexpr ftz_scope() noexcept : ftz_scope(true) {}

    /// What ctgrad's entry points hold: sets FTZ|DAZ unless the thread opted out
    /// (set_flush_subnormals(false)).
    struct if_enabled_t {
        explicit if_enabled_t() = default;
    };
    static constexpr if_enabled_t if_enabled{};
    constexpr explicit ftz_scope(if_enabled_t) noexcept
        : ftz_scope(!std::is_constant_evaluated() && detail::flush_subnormals_flag) {}

    /// Sets FTZ|DAZ if `enable`, else does nothing.
    constexpr explicit ftz_scope(bool enable) noexcept {
        if (!std::is_constant_evaluated()) {
            if (enable && supported) {
                const detail::fpenv_bits now = detail::read_fpenv();
                saved_ = now & detail::ftz_bits;
                active_ = saved_ != detail::ftz_bits;
                if (active_) detail::write_fpenv(now | detail::ftz_bits);
            }
        }
    }

    constexpr ~ftz_scope() {
        if (!std::is_constant_evaluated()) {
            if (active_) {
                detail::write_fpenv((detail::read_fpenv() & ~detail::ftz_bits) | saved_);
            }
        }
    }

    ftz_scope(const ftz_scope&) = delete;
    ftz_scope& operator=(const ftz_scope&) = delete;

private:
    detail::fpenv_bits saved_ = 0;  // the FTZ/DAZ bits before the scope
    bool active_ = false;           // whether the constructor changed them
};

}  // namespace ctgrad
