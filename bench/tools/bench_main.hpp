/// @file The main of every benchmark executable: `CTGRAD_BENCHMARK_MAIN()` in place of
/// BENCHMARK_MAIN(). The same flags and output, except that CSV (--benchmark_format=csv,
/// --benchmark_out_format=csv) is written once all benchmarks have run: Google Benchmark's
/// CSVReporter takes its columns of user counters from the first benchmark it reports and aborts
/// ("All counters must be present in each run") when a later one has a counter the first has not
/// (lenet_bench: `loss` and `GFLOPS` on the steps, `GFLOPS` alone on the kernels, none on the
/// pooling; with --benchmark_enable_random_interleaving any of them comes first). Given every
/// run at once, its columns are those of all of them (empty where a run has not the counter).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

namespace bench_main {

// CSVReporter is deprecated (Google Benchmark 1.7) but still the one that writes CSV.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/// CSVReporter given all runs in one ReportRuns call, at Finalize. As the file reporter
/// (--benchmark_out), without the context (machine, caches, load) that CSVReporter writes before
/// the header: the file is then CSV alone (the console shows the context).
class all_at_once_csv : public benchmark::CSVReporter {
public:
    explicit all_at_once_csv(bool context) : context_(context) {}
    bool ReportContext(const Context& context) override {
        return context_ ? benchmark::CSVReporter::ReportContext(context) : true;
    }
    void ReportRuns(const std::vector<Run>& reports) override {
        runs_.insert(runs_.end(), reports.begin(), reports.end());
    }
    void Finalize() override {
        if (!runs_.empty()) benchmark::CSVReporter::ReportRuns(runs_);
        runs_.clear();
        benchmark::CSVReporter::Finalize();
    }

private:
    bool context_;
    std::vector<Run> runs_;
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/// Whether the flag `name` (`--name=csv`, else the environment variable Google Benchmark reads
/// for it, NAME in capitals) asks for CSV.
inline bool asks_csv(int argc, char** argv, std::string_view flag, const char* env) {
    bool csv = false;
    if (const char* e = std::getenv(env)) csv = std::string_view(e) == "csv";
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a.size() > flag.size() + 1 && a.substr(0, flag.size()) == flag &&
            a[flag.size()] == '=') {
            csv = a.substr(flag.size() + 1) == "csv";
        }
    }
    return csv;
}

/// Whether --benchmark_out (or BENCHMARK_OUT) names a file.
inline bool has_out(int argc, char** argv) {
    bool out = false;
    if (const char* e = std::getenv("BENCHMARK_OUT")) out = *e != '\0';
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a.substr(0, 16) == "--benchmark_out=") out = a.size() > 16;
    }
    return out;
}

inline int run(int argc, char** argv) {
    // (read before Initialize, which removes the flags it knows from argv)
    const bool csv_display = asks_csv(argc, argv, "--benchmark_format", "BENCHMARK_FORMAT");
    const bool csv_file = has_out(argc, argv) &&
                          asks_csv(argc, argv, "--benchmark_out_format", "BENCHMARK_OUT_FORMAT");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    std::unique_ptr<benchmark::BenchmarkReporter> display, file;
    if (csv_display) display = std::make_unique<all_at_once_csv>(true);
    if (csv_file) file = std::make_unique<all_at_once_csv>(false);
    benchmark::RunSpecifiedBenchmarks(display.get(), file.get());
    benchmark::Shutdown();
    return 0;
}

}  // namespace bench_main

#define CTGRAD_BENCHMARK_MAIN()             \
    int main(int argc, char** argv) {       \
        return bench_main::run(argc, argv); \
    }                                       \
    int main(int, char**)
