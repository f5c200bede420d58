// The `dlib` impl of the LeNet step (bench/tensor/lenet_cases.hpp): the same network as dlib
// types (dlib::con_ with explicit paddings 2 and 0, relu, max_pool<2,2,2,2>, fc, and
// loss_multiclass_log, dlib's softmax cross-entropy), one step = compute_parameter_gradients on
// the batch already converted to a dlib::resizable_tensor (the conversion from images is left
// out of the loop, dlib's best case) and update_parameters with plain SGD solvers (no weight
// decay, no momentum). dlib initialises its own parameters (timing does not depend on their
// values). Built only when pkg-config finds dlib-1 (Debian: libdlib-dev, installed by
// `./run.sh bench`); dlib does its products with the BLAS it was linked with.
#include <benchmark/benchmark.h>

#include <vector>

#include <dlib/dnn.h>

#include "lenet_cases.hpp"

namespace {

using namespace lenet_cases;

template <long Filters, long K, int P, class S>
using con_pad = dlib::add_layer<dlib::con_<Filters, K, K, 1, 1, P, P>, S>;

using net_type = dlib::loss_multiclass_log<dlib::fc<
    10,
    dlib::relu<dlib::fc<
        84,
        dlib::relu<dlib::fc<
            120, dlib::max_pool<
                     2, 2, 2, 2,
                     dlib::relu<con_pad<
                         16, 5, 0,
                         dlib::max_pool<2, 2, 2, 2,
                                        dlib::relu<con_pad<
                                            6, 5, 2, dlib::input<dlib::matrix<float>>>>>>>>>>>>>>;

void lenet_step_dlib(benchmark::State& state) {
    const data d = make_data();
    std::vector<dlib::matrix<float>> images(batch, dlib::matrix<float>(28, 28));
    for (size_t n = 0; n < batch; ++n) {
        for (long i = 0; i < 28; ++i) {
            for (long j = 0; j < 28; ++j)
                images[n](i, j) = d.x[(n * 28 + size_t(i)) * 28 + size_t(j)];
        }
    }
    net_type net;
    dlib::resizable_tensor x;
    net.to_tensor(images.begin(), images.end(), x);
    std::vector<unsigned long> labels(d.labels.begin(), d.labels.end());
    std::vector<dlib::sgd> solvers(net_type::num_computational_layers, dlib::sgd(0, 0));
    double loss = 0;
    for (auto _ : state) {
        loss = net.compute_parameter_gradients(x, labels.begin());
        net.update_parameters(solvers, lr);
        benchmark::DoNotOptimize(loss);
    }
    state.counters["loss"] = loss;
    state.counters["GFLOPS"] =
        benchmark::Counter(step_flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(lenet_step_dlib)->Name("lenet_step_64/dlib")->Unit(benchmark::kMillisecond);

}  // namespace
