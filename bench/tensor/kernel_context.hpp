/// @file Adds `ctgrad_kernels: <instruction set>` to the context Google Benchmark prints before
/// the results (and writes into --benchmark_out JSON): the matmul kernels choose their
/// instruction set at run time (ctgrad::kernels::active_isa), so the build flags alone do not
/// say what ran. Include it in a benchmark TU; CTGRAD_KERNELS_ISA=target|avx2|avx512 holds the
/// choice lower.
#pragma once

#include <benchmark/benchmark.h>

#include <ctgrad/tensor/matmul.hpp>

namespace bench_context {

inline const bool kernels_isa = [] {
    benchmark::AddCustomContext("ctgrad_kernels",
                                ctgrad::kernels::isa_name(ctgrad::kernels::active_isa()));
    return true;
}();

}  // namespace bench_context
