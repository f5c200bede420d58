// `mlp_step_256x784x100x10/<impl>`: the classifier MLP of mlp_cases.hpp (784-100-10 ReLU,
// softmax cross-entropy, mean over the batch) at batch 256, one SGD step per iteration, on one
// and two threads (ctgrad/parallel/threads.hpp; bench/README.md, "Training on several
// threads"):
//
//   ctgrad_1t         mlp_ctgrad::trainer: one program over the 256 rows, program::sgd_step
//                     (the update fused into the weight-gradient products), one thread
//   ctgrad_2t         mlp_parallel::trainer: parallel::make_data_parallel<2> as README.md
//                     writes it, 2 shards of 128 rows on 2 threads, the step by
//                     dp.sgd_step(lr, ...); it splits the first layer (strategy::automatic),
//                     so this is ctgrad_2t_split's work and bits (W1's update added by the dW1
//                     products). Until the sixteenth pass ctgrad_2t was ctgrad_2t_then.
//   ctgrad_2t_then    the same data_parallel, the update p −= lr·g written by the user in
//                     dp.gradient_then (each thread on the slice it reduced, W1 included)
//   ctgrad_2t_after   the same data_parallel, dp.gradient(...) and then the update on the
//                     calling thread after the job (`opt.step(params, g)`)
//   ctgrad_2t_replicate  the same with strategy::replicate: each shard a whole program, the
//                     shard gradients averaged (each thread half of them), then the SGD update
//                     (dp.sgd_step: each thread on the slice it reduced)
//   ctgrad_2t_split   mlp_parallel::split_trainer: 2 shards of 128 rows run the layers after
//                     X·W1 (parallel::input_split); each thread then computes half of W1's rows
//                     of dW1 = Xᵀ·dZ1 over the 256 rows and updates them (dW1 written once)
//   ctgrad_2shards_1t ctgrad_2t's 2 shards (split form) on 1 thread (what sharding costs
//                     without a second core)
//   ctgrad_2shards_1t_replicate  ctgrad_2t_replicate's 2 shards on 1 thread (the replicated
//                     form's work without a second core, against ctgrad_2shards_1t's)
//   ctgrad_split_1t   ctgrad_2t_split's work on 1 thread (what the split costs without a
//                     second core)
//   libtorch_1t       mlp_libtorch.hpp's autograd step, at::set_num_threads(1) (and OpenBLAS 1)
//   libtorch_2t       the same with 2 intra-op threads (and OpenBLAS 2)
//
// The checks of mlp_bench.hpp's `run` hold for every impl: the first step's loss against the
// plain reference loss, its update against one hand-written step (1e-5), finite parameters at
// the end. Run with interleaved repetitions on a quiet machine:
//
//   build/bench/parallel_bench --benchmark_filter=mlp_step --benchmark_repetitions=10
//       --benchmark_min_time=0.2 --benchmark_enable_random_interleaving=true
//
// and with `|fma_peak|l2_stream` in the filter (parallel_peak_bench.cpp) for what the two cores
// give in the same minutes.
#include "mlp_bench.hpp"
#include "mlp_parallel.hpp"

#ifdef CTGRAD_HAVE_LIBTORCH
#include <dlfcn.h>  // dlsym (OpenBLAS's thread setter, if loaded)
#endif

namespace {

using mlp_step_256x784x100x10 = mlp_cases::classifier_mlp<float, 256, 784, 100, 10>;

template <class Case>
using ctgrad_1t_impl = ctgrad_impl<Case>;
template <class Case>
using ctgrad_2t_impl = owning<Case, mlp_parallel::trainer<Case, 2, 2>>;
template <class Case>
using ctgrad_2t_then_impl =
    owning<Case, mlp_parallel::trainer<Case, 2, 2, ctgrad::parallel::strategy::automatic, true>>;
template <class Case>
using ctgrad_2t_after_impl = owning<Case, mlp_parallel::after_trainer<Case, 2, 2>>;
template <class Case>
using ctgrad_2t_replicate_impl =
    owning<Case, mlp_parallel::trainer<Case, 2, 2, ctgrad::parallel::strategy::replicate>>;
template <class Case>
using ctgrad_2t_split_impl = owning<Case, mlp_parallel::split_trainer<Case, 2, 2>>;
template <class Case>
using ctgrad_2shards_1t_impl = owning<Case, mlp_parallel::trainer<Case, 2, 1>>;
template <class Case>
using ctgrad_2shards_1t_replicate_impl =
    owning<Case, mlp_parallel::trainer<Case, 2, 1, ctgrad::parallel::strategy::replicate>>;
template <class Case>
using ctgrad_split_1t_impl = owning<Case, mlp_parallel::split_trainer<Case, 2, 1>>;

#ifdef CTGRAD_HAVE_LIBTORCH
/// LibTorch with `Threads` intra-op threads (ATen's and OpenBLAS's), set when constructed (each
/// repetition constructs its impl, so interleaved runs of the two counts each get theirs).
template <int Threads>
struct torch_threads {
    torch_threads() {
        at::set_num_threads(Threads);
        using setter = void (*)(int);
        if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
            reinterpret_cast<setter>(f)(Threads);
        }
    }
};

template <class Case, int Threads>
class libtorch_threads_impl {
public:
    using T = typename Case::value_type;

    libtorch_threads_impl(const typename Case::params& p, const typename Case::data& d)
        : trainer_((torch_threads<Threads>(), p), d) {}

    T step() { return trainer_.step(Case::learning_rate); }

    void read_params(typename Case::params& p) const { trainer_.read_params(p); }

private:
    mlp_libtorch::trainer<Case> trainer_;
};

template <class Case>
using libtorch_1t_impl = libtorch_threads_impl<Case, 1>;
template <class Case>
using libtorch_2t_impl = libtorch_threads_impl<Case, 2>;
#endif

}  // namespace

CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_1t, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2t, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2t_then, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2t_after, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2t_replicate, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2t_split, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2shards_1t, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_2shards_1t_replicate,
                      mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", ctgrad_split_1t, mlp_step_256x784x100x10);
#ifdef CTGRAD_HAVE_LIBTORCH
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", libtorch_1t, mlp_step_256x784x100x10);
CTGRAD_MLP_BENCH_IMPL("mlp_step_256x784x100x10", libtorch_2t, mlp_step_256x784x100x10);
#endif
