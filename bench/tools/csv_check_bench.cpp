// The benchmark main's CSV (bench/tools/bench_main.hpp): two tiny benchmarks with different user
// counters, the first with none, the second with two, the third with one of them. Google
// Benchmark's own CSVReporter aborts on the second ("All counters must be present in each run");
// `meson test bench_csv` runs this with --benchmark_format=csv and with
// --benchmark_out_format=csv, and bench/tools/csv_check.py checks the file's columns and rows.
#include <benchmark/benchmark.h>

#include "bench_main.hpp"

namespace {

void no_counters(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) benchmark::DoNotOptimize(++x);
}
void two_counters(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) benchmark::DoNotOptimize(++x);
    state.counters["loss"] = 0.5;
    state.counters["GFLOPS"] = 2.0;
}
void one_counter(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) benchmark::DoNotOptimize(++x);
    state.counters["GFLOPS"] = 3.0;
}

BENCHMARK(no_counters)->Name("csv_check/none")->Iterations(10);
BENCHMARK(two_counters)->Name("csv_check/two")->Iterations(10);
BENCHMARK(one_counter)->Name("csv_check/one")->Iterations(10);

}  // namespace

CTGRAD_BENCHMARK_MAIN();
