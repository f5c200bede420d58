#!/usr/bin/env bash
# ctgrad: set-up, demo, tests and benchmarks on a fresh Debian machine.
#
#   ./run.sh demo    install what is missing, build, print the notes' worked examples, train
#                    Fashion-MNIST with the MLP, then with the LeNet-style CNN (test accuracies),
#                    short benchmark comparisons
#   ./run.sh test    the same set-up, then every test: a g++ build (build/) and a clang++
#                    AddressSanitizer + UBSan build (build-san/); ends with `N passed, N failed`.
#                    It builds what the tests run (ninja's meson-test-prereq: tests, examples,
#                    the header checks), not the benchmarks: `./run.sh bench` builds and runs
#                    them (`ninja -C build meson-benchmark-prereq` builds them alone)
#   ./run.sh bench   the full benchmark run (repetitions, medians, ratios) into bench/results/;
#                    also installs the optional peers OpenBLAS, LibTorch (large) and dlib
#
# Packages are installed with apt-get only when absent; when not root, the exact command is
# printed and the script stops. Set CTGRAD_JOBS to change ninja's parallelism.
set -euo pipefail
cd "$(dirname "$0")"

BASE_PKGS=(meson ninja-build g++ pkg-config python3 libboost-dev libboost-test-dev
           libbenchmark-dev zlib1g-dev  # zlib: gzipped IDX files
           dataset-fashion-mnist)       # the training example (30 MB)
TEST_PKGS=(clang lld cmake make clang-format  # clang++: sanitizer build and compile-time checks;
                                              # lld: its linker; cmake, make: consumer tests;
                                              # clang-format: format check
           openmpi-bin libopenmpi-dev     # mpirun, MPI: the tests of ctgrad/parallel/mpi.hpp
           python3-numpy)                 # io/numpy tests cross-check files NumPy writes at run time
BENCH_PKGS=(valgrind           # instruction counts (callgrind)
            libopenblas-dev    # the `blas` impl of the MLP steps (optional peer, large)
            libtorch-dev       # the `libtorch` impl of the MLP steps (optional peer, large)
            libdlib-dev        # the `dlib` impl of the LeNet step (optional peer)
            libceres-dev)      # the `ceres` impl of the Jacobian benchmarks (optional peer)

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

install_missing() {
    local missing=()
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "ctgrad needs these Debian packages: ${missing[*]}" >&2
        echo "Run as root:  $cmd" >&2
        exit 1
    fi
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

jobs() { echo "${CTGRAD_JOBS:-$(($(nproc) + 1))}"; }

# configure DIR [meson options...]: once; later runs let ninja re-configure when meson files change.
configure() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        echo "== configuring $dir"
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; exit 1; }
    fi
}

build() {
    local dir=$1
    shift
    echo "== building $dir"
    ninja -C "$dir" -j "$(jobs)" "$@"
}

demo() {
    install_missing "${BASE_PKGS[@]}"
    configure build
    build build examples/demo examples/fashion_mnist examples/fashion_mnist_cnn bench/scalar_bench \
        bench/mlp_bench
    echo
    ./build/examples/demo
    echo
    echo "== training: Fashion-MNIST, 784-100-10 ReLU, Adam (examples/fashion_mnist.cpp)"
    ./build/examples/fashion_mnist --csv build/fashion_mnist_metrics.csv \
        --checkpoint build/fashion_mnist.ckpt
    echo "(metrics: build/fashion_mnist_metrics.csv; parameters: build/fashion_mnist.ckpt)"
    echo
    echo "== training: Fashion-MNIST, LeNet-style CNN with batch norm and dropout, AdamW" \
        "(warm-up, cosine), flips, 10 epochs (examples/fashion_mnist_cnn.cpp)"
    local started=$SECONDS
    ./build/examples/fashion_mnist_cnn --csv build/fashion_mnist_cnn_metrics.csv \
        --checkpoint build/fashion_mnist_cnn.ckpt --train-accuracy 0
    echo "(metrics: build/fashion_mnist_cnn_metrics.csv; parameters and state:" \
        "build/fashion_mnist_cnn.ckpt; $((SECONDS - started)) s)"
    echo
    echo "== benchmark (short run; ./run.sh bench for the full one, bench/README.md for the table)"
    local json
    json=$(mktemp)
    ./build/bench/scalar_bench --benchmark_min_time=0.05 --benchmark_repetitions=3 \
        --benchmark_out="$json" --benchmark_out_format=json >/dev/null
    python3 bench/tools/compare.py "$json"
    ./build/bench/mlp_bench --benchmark_min_time=0.1 --benchmark_repetitions=3 \
        --benchmark_out="$json" --benchmark_out_format=json >/dev/null
    echo
    python3 bench/tools/compare.py "$json"
    rm -f "$json"
}

run_tests() {
    install_missing "${BASE_PKGS[@]}" "${TEST_PKGS[@]}"
    # -O2 without debug information (asserts stay on): g++'s -g costs a third of the tests'
    # compile time (bench/README.md, "Test-suite build time").
    configure build -Ddebug=false
    # The sanitizer build at -O0 (asserts on): clang++ compiles the instrumented tests 2.5-3.5
    # times faster than at its former -O2 -g, which made it two thirds of this command's time; the
    # tests that train networks long enough for -O0 to show are compiled at -O1 in it
    # (san_run_heavy_options, meson.build; used in test/ and examples/). Every test still runs in
    # both builds, every one of them instrumented (bench/README.md, "Test-suite build time,
    # sanitizer build at -O0"). Without debug information: line tables cost 15-20 % of its
    # compile; UBSan's reports carry file:line:column without them, ASan's name the function
    # (for its lines: `meson configure build-san "-Dcpp_args=-fno-sanitize-recover=all
    # -gline-tables-only"` and rebuild the test). Linked by lld: a third of the default
    # linker's time on its 110 ASan executables (bench/README.md, "Test-suite organisation,
    # fifteenth pass"). -DCTGRAD_NO_FORCED_INLINE: its -O0 objects do not clone the kernels'
    # always_inline helpers into every caller (tensor/matmul.hpp; the same loads and stores are
    # checked; the kernel tests' objects 25-75 % faster to compile: bench/README.md, "Test-suite
    # time, sixteenth pass").
    CXX=clang++ CXX_LD=lld configure build-san -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbenchmarks=false -Doptimization=0 -Ddebug=false \
        "-Dcpp_args=-fno-sanitize-recover=all -DCTGRAD_NO_FORCED_INLINE"
    local status=0
    for dir in build build-san; do
        # Only what the tests need: the benchmark suites are not run here (./run.sh bench).
        build "$dir" meson-test-prereq || status=1
        rm -f "$dir"/test/*.report.xml
        echo "== testing $dir"
        # ASan and UBSan abort on the first finding; leak checking is on.
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$(nproc)" \
            || status=1
    done
    echo
    python3 test/tools/summarize.py build build-san || status=1
    return $status
}

bench() {
    install_missing "${BASE_PKGS[@]}" "${BENCH_PKGS[@]}"
    configure build
    build build bench/scalar_bench
    # The tensor suites are compared at -march=native as well: ctgrad's matrix products pick
    # the widest vector unit at run time (as OpenBLAS and LibTorch do), its elementwise loops
    # get what the compiler targets.
    configure build-native -Dcpp_args=-march=native -Dtests=false -Dexamples=false
    build build-native bench/mlp_bench bench/adbench_bench bench/matmul_bench bench/elementwise_bench
    mkdir -p bench/results
    local stamp out
    stamp=$(date +%Y%m%d-%H%M%S)
    out=bench/results/scalar-$stamp.json
    ./build/bench/scalar_bench --benchmark_repetitions=10 --benchmark_min_time=0.2 \
        --benchmark_out="$out" --benchmark_out_format=json
    python3 bench/tools/compare.py "$out"
    echo "raw results: $out"
    # Jacobians (snavely_jacobian, rat43_jacobian) and one-sample inference (infer_1, infer_64).
    for suite in jacobian infer; do
        build build "bench/${suite}_bench"
        out=bench/results/$suite-$stamp.json
        OPENBLAS_NUM_THREADS=1 "./build/bench/${suite}_bench" --benchmark_repetitions=10 \
            --benchmark_min_time=0.2 --benchmark_enable_random_interleaving=true \
            --benchmark_display_aggregates_only=true \
            --benchmark_out="$out" --benchmark_out_format=json
        python3 bench/tools/compare.py "$out" || true
        echo "raw results: $out"
    done
    for suite in mlp adbench fashion_epoch elementwise lenet; do
        for dir in build build-native; do
            build "$dir" "bench/${suite}_bench"
            out=bench/results/$suite-$(basename "$dir")-$stamp.json
            # Interleaved repetitions spread the shared machine's drift over every impl.
            OPENBLAS_NUM_THREADS=1 "./$dir/bench/${suite}_bench" --benchmark_repetitions=10 \
                --benchmark_min_time=0.1 --benchmark_enable_random_interleaving=true \
                --benchmark_display_aggregates_only=true \
                --benchmark_out="$out" --benchmark_out_format=json
            python3 bench/tools/compare.py "$out" || true
            echo "raw results: $out"
        done
    done
}

case "${1:-}" in
    demo) demo ;;
    test) run_tests ;;
    bench) bench ;;
    *) usage ;;
esac
