/// @file
/// Training and inference on several threads of one process (docs/parallel.md).
///
/// - `parallel::thread_pool pool(2);` : worker threads (std::jthread) created once; the calling
///   thread is thread 0 of every job. Each worker sets flush-to-zero and denormals-are-zero
///   (per-thread state; ctgrad::ftz_scope of math/fpenv.hpp) for its lifetime, and the caller's
///   part of a job runs under the same mode, so every thread computes alike.
/// - `parallel::data_parallel<Shards>(pool, loss, wrt(...))` : a global batch split into
///   `Shards` shards of the compile-time size of the loss's batch variables, one compiled
///   program (and workspace) per shard, the shards spread over the pool's threads (any count
///   from 1 to Shards: a run-time choice up to the compile-time maximum), and the shard
///   gradients reduced in a fixed order (shard 0 + shard 1 + ...) into one flat gradient that
///   the optimizers take. The result does not depend on the number of threads, bit for bit.
///   When the loss's input layer X·W holds most of the parameters (an MLP's first layer), the
///   default strategy computes it as parallel::input_split does (defined with data_parallel in
///   parallel/input_split.hpp, included at the end of this header): the shards run the rest of
///   the network, the threads W's gradient by parts of its rows over the whole batch.
/// - `parallel::evaluator(pool, expr)` : independent batches evaluated on several threads (one
///   program per thread), for inference.
///
/// A step allocates nothing: the programs, their workspaces and the reduced gradient are
/// allocated by the constructors; a job reaches the workers through a function pointer.
#pragma once

#include <array>        // std::array
#include <atomic>       // std::atomic
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint32_t
#include <exception>    // std::exception_ptr
#include <functional>   // std::ref, std::reference_wrapper
#include <memory>       // std::unique_ptr
#include <new>          // std::align_val_t
#include <stdexcept>    // std::invalid_argument
#include <string>       // std::to_string
#include <thread>       // std::jthread
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::index_sequence
#include <vector>       // std::vector

#if defined(__SSE2__) || defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>  // _mm_pause
#define CTGRAD_PARALLEL_HAVE_PAUSE 1
#else
#define CTGRAD_PARALLEL_HAVE_PAUSE 0
#endif

#include <ctgrad/ad/program.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/nn/parameters.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::parallel {

namespace detail {

inline void cpu_relax() noexcept {
#if CTGRAD_PARALLEL_HAVE_PAUSE
    _mm_pause();
#endif
}

/// Waits until `a` no longer holds `old`: spins `spins` times (a step of a training loop comes
/// back within microseconds), then sleeps in atomic::wait.
inline void wait_while(const std::atomic<std::uint32_t>& a, std::uint32_t old,
                       unsigned spins) noexcept {
    for (unsigned i = 0; i < spins; ++i) {
        if (a.load(std::memory_order_acquire) != old) return;
        cpu_relax();
    }
    while (a.load(std::memory_order_acquire) == old) a.wait(old, std::memory_order_acquire);
}

}  // namespace detail

/// How a thread_pool runs.
struct pool_options {
    /// Flush denormals to zero (FTZ and DAZ) in every thread of a job: the workers for their
    /// lifetime, the calling thread while it runs its part of a job.
    bool flush_denormals = true;
    /// Spins of a waiting thread (a load and a `pause`, 10-50 ns on x86) before it sleeps in
    /// atomic::wait: long enough to cover the gap between the steps of a training loop
    /// (gathering the next batch, the optimizer), short enough not to take a busy machine's
    /// cores from other work.
    unsigned spins = 4000;
    /// Called by the constructor with t just before it starts worker t (1 ≤ t < threads), on
    /// the constructing thread; null: nothing is called. If it throws, the constructor stops
    /// and joins the workers already started and rethrows, as when starting a thread fails
    /// (std::jthread's constructor throws std::system_error): a seam for tests of that path,
    /// or a place to log.
    void (*before_start)(std::size_t t) = nullptr;
};

/// A fixed set of threads that run jobs: `run(f)` calls f(t, n) on every thread t < n = size()
/// (the calling thread is t = 0) and returns when all have returned. The workers are started
/// once, by the constructor, and stopped and joined by the destructor. A job allocates nothing.
/// An exception thrown by f on any thread is rethrown by run (the lowest thread's) after every
/// thread has finished. One job at a time: run is not reentrant and not for concurrent callers.
class thread_pool {
public:
    /// A pool of `threads` threads (≥ 1) in all: the caller and threads − 1 workers.
    explicit thread_pool(std::size_t threads, pool_options o = {})
        : opt_(o), n_(threads), errors_(threads) {
        if (threads == 0) {
            throw std::invalid_argument("ctgrad::parallel::thread_pool: needs at least 1 thread");
        }
        workers_.reserve(threads - 1);
        try {
            for (std::size_t t = 1; t < threads; ++t) {
                if (opt_.before_start != nullptr) opt_.before_start(t);
                workers_.emplace_back([this, t] { work(t); });
            }
        } catch (...) {
            stop();  // the workers already started: woken, stopped and joined
            throw;
        }
    }

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    ~thread_pool() { stop(); }

    /// The number of threads of a job (the caller included).
    std::size_t size() const noexcept { return n_; }

    /// Calls f(t, size()) on every thread t and waits for all of them.
    template <class F>
    void run(F&& f) {
        using Fn = std::remove_reference_t<F>;
        fn_ = [](void* ctx, std::size_t t, std::size_t n) { (*static_cast<Fn*>(ctx))(t, n); };
        ctx_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
        for (auto& e : errors_) e = nullptr;
        pending_.store(static_cast<std::uint32_t>(n_ - 1), std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        if (n_ > 1) generation_.notify_all();
        {
            ftz_scope ftz(opt_.flush_denormals);
            try {
                f(std::size_t{0}, n_);
            } catch (...) {
                errors_[0] = std::current_exception();
            }
        }
        for (std::uint32_t p; (p = pending_.load(std::memory_order_acquire)) != 0;) {
            detail::wait_while(pending_, p, opt_.spins);
        }
        for (auto& e : errors_) {
            if (e) std::rethrow_exception(e);
        }
    }

    /// Inside a job, on every thread of it: returns when all threads of the job have arrived
    /// (a barrier between the phases of a job). Every thread must call it the same number of
    /// times.
    void arrive_and_wait() noexcept {
        if (n_ == 1) return;
        const std::uint32_t phase = phase_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
            arrived_.store(0, std::memory_order_relaxed);
            phase_.fetch_add(1, std::memory_order_release);
            phase_.notify_all();
        } else {
            detail::wait_while(phase_, phase, opt_.spins);
        }
    }

    const pool_options& options() const noexcept { return opt_; }

private:
    /// Wakes the workers to stop, and joins them.
    void stop() noexcept {
        stop_.store(true, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        workers_.clear();  // joins
    }

    void work(std::size_t t) {
        ftz_scope ftz(opt_.flush_denormals);
        std::uint32_t seen = 0;
        for (;;) {
            detail::wait_while(generation_, seen, opt_.spins);
            seen = generation_.load(std::memory_order_acquire);
            if (stop_.load(std::memory_order_relaxed)) return;
            try {
                fn_(ctx_, t, n_);
            } catch (...) {
                errors_[t] = std::current_exception();
            }
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
        }
    }

    pool_options opt_;
    std::size_t n_;
    void (*fn_)(void*, std::size_t, std::size_t) = nullptr;
    void* ctx_ = nullptr;
    std::vector<std::exception_ptr> errors_;
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<std::uint32_t> pending_{0};
    std::atomic<std::uint32_t> arrived_{0};
    std::atomic<std::uint32_t> phase_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::jthread> workers_;  // last: joined before the state above goes away
};

// --- the reduced gradient ---

namespace detail {

template <class Kind, class S>
struct view_of_kind;

template <class T, std::size_t... D, class S>
struct view_of_kind<tensor<T, D...>, S> {
    using type = tensor_view<S, D...>;
    using const_type = tensor_view<const S, D...>;
};

template <class V>
inline constexpr bool is_tensor_variable = false;
template <fixed_string Name, class T, std::size_t... D>
inline constexpr bool is_tensor_variable<variable<Name, tensor<T, D...>>> = true;

/// Elements per alignment block of a flat buffer: 64 bytes.
template <class S>
inline constexpr std::size_t block = 64 / sizeof(S) > 0 ? 64 / sizeof(S) : 1;

}  // namespace detail

/// Diagnostic type: instantiated when a flat gradient is asked for a variable it does not hold.
template <char... Name>
struct flat_gradient_has_no_entry_for;

/// The gradients of variables V... in one flat, 64-byte aligned buffer of S (each tensor at an
/// offset that is a multiple of 64 bytes; the gaps are zero), and a last 64-byte block whose
/// first element carries the loss value through a reduction (`value_slot`): `g[W]` is a
/// tensor_view of W's shape, `g.value` the loss; `data()`/`size()` the whole buffer, which one
/// MPI_Allreduce sums (parallel/mpi.hpp). The optimizers of nn/optim.hpp take it as the
/// gradient.
template <class S, class... V>
class flat_gradient {
    static_assert(ctgrad::detail::all_true_v<detail::is_tensor_variable<V>...>,
                  "ctgrad::parallel: data-parallel gradients are of tensor variables only");

public:
    using scalar_type = S;
    using variables = ctgrad::detail::type_list<V...>;
    static constexpr std::size_t count = sizeof...(V);
    /// Offsets of the tensors, in elements, and the size of the buffer.
    static constexpr std::array<std::size_t, count + 1> offsets = [] {
        std::array<std::size_t, count + 1> o{};
        const std::array<std::size_t, count> sizes{V::kind::size()...};
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t b = detail::block<S>;
            o[i + 1] = o[i] + (sizes[i] + b - 1) / b * b;
        }
        return o;
    }();
    /// Elements of the tensors (without the gaps).
    static constexpr std::size_t elements = (std::size_t{0} + ... + V::kind::size());

    flat_gradient()
        : p_(static_cast<S*>(::operator new[](size() * sizeof(S), std::align_val_t{64}))) {
        for (std::size_t i = 0; i < size(); ++i) p_.get()[i] = S(0);
    }

    S value{};

    /// Where the value travels with the gradients (a reduction of the whole buffer).
    static constexpr std::size_t value_slot = offsets[count];

    S* data() noexcept { return p_.get(); }
    const S* data() const noexcept { return p_.get(); }
    static constexpr std::size_t size() noexcept { return offsets[count] + detail::block<S>; }

    template <fixed_string Name, class Kind>
    auto operator[](variable<Name, Kind>) {
        constexpr std::size_t i = index<Name, Kind>();
        using view = typename detail::view_of_kind<Kind, S>::type;
        return view(p_.get() + offsets[i]);
    }
    template <fixed_string Name, class Kind>
    auto operator[](variable<Name, Kind>) const {
        constexpr std::size_t i = index<Name, Kind>();
        using view = typename detail::view_of_kind<Kind, S>::const_type;
        return view(p_.get() + offsets[i]);
    }

private:
    template <fixed_string Name, class Kind>
    static constexpr std::size_t index() {
        constexpr bool has = ctgrad::detail::in_list<variables, variable<Name, Kind>>;
        if constexpr (!has) {
            static_assert(has,
                          "ctgrad::parallel::flat_gradient: no gradient of this variable (it is "
                          "named in 'flat_gradient_has_no_entry_for<...>' below)");
            static_cast<void>(
                sizeof(ctgrad::detail::spelled<Name, flat_gradient_has_no_entry_for>));
            return 0;
        } else {
            return ctgrad::detail::index_of_v<variables, variable<Name, Kind>>;
        }
    }

    struct release {
        void operator()(S* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
    };
    std::unique_ptr<S, release> p_;
};

// --- splitting a batch over shards ---

/// A batch tensor split by rows over the shards of a data_parallel: shard k binds variable Var
/// (shape [S, D...]) to rows [k·S, (k + 1)·S) of the data (shape [Rows, D...]).
template <class Var, class T, std::size_t Rows>
struct row_split {
    const T* data;
};

/// `parallel::rows(X, x)`: x, a tensor or tensor_view [K·S, D...], split over the shards of a
/// data_parallel whose loss reads X [S, D...]; shard k reads rows [k·S, (k + 1)·S).
template <fixed_string Name, class T, std::size_t S, std::size_t... D, class Data>
constexpr auto rows(variable<Name, tensor<T, S, D...>>, const Data& x) {
    using U = std::remove_cvref_t<Data>;
    static_assert(std::is_same_v<typename U::value_type, T>,
                  "ctgrad::parallel::rows: the data's element type differs from the variable's");
    static_assert(U::rank == 1 + sizeof...(D),
                  "ctgrad::parallel::rows: the data's rank differs from the variable's");
    static_assert(
        [] {
            constexpr std::array<std::size_t, sizeof...(D)> d{D...};
            for (std::size_t i = 0; i < sizeof...(D); ++i)
                if (U::shape[i + 1] != d[i]) return false;
            return true;
        }(),
        "ctgrad::parallel::rows: a row of the data has another shape than a row of the variable");
    static_assert(U::shape[0] % S == 0,
                  "ctgrad::parallel::rows: the data's rows are not a whole number of shards of "
                  "the variable's rows");
    return row_split<variable<Name, tensor<T, S, D...>>, T, U::shape[0]>{x.data()};
}

namespace detail {

template <class A>
struct is_row_split : std::false_type {};
template <class Var, class T, std::size_t Rows>
struct is_row_split<row_split<Var, T, Rows>> : std::true_type {};

/// A `name = std::ref(tensor)` binding: writable memory that the program may write.
template <class A>
struct is_writable_binding : std::false_type {};
template <fixed_string Name, class V>
struct is_writable_binding<binding<Name, V>>
    : std::bool_constant<ctgrad::tensor_ad::binding_writable<binding<Name, V>>> {};

template <fixed_string Name, class A>
inline constexpr bool is_binding_of = false;
template <fixed_string Name, fixed_string N2, class V>
inline constexpr bool is_binding_of<Name, binding<N2, V>> = Name.view() == N2.view();

/// Whether variable Var is bound to writable memory among A...
template <class Var, class... A>
inline constexpr bool bound_writable = (... || (is_binding_of<Var::name, A> &&
                                                is_writable_binding<A>::value));

/// The data of the one argument among a... for which Pred<A> holds.
template <template <class> class Pred, class... A>
constexpr auto find_data(const A&... a) {
    const void* found = nullptr;
    (
        [&] {
            if constexpr (Pred<A>::value) {
                if constexpr (requires { a.data; }) {
                    found = a.data;
                } else {
                    found = a.get().data();
                }
            }
        }(),
        ...);
    return found;
}

/// A parameter pack passed as `std::ref(params)` (to sgd_step, which updates it in place).
template <class A>
struct is_pack_ref : std::false_type {};
template <class List, bool Writable>
struct is_pack_ref<std::reference_wrapper<nn::parameters<List, Writable>>> : std::true_type {};

/// Calls f with the arguments, each `std::ref(pack)` among them replaced by one writable
/// binding per tensor of the pack (`V = std::ref(pack[V])`, in the pack's order), every other
/// argument as it is (bundles bound read-only are expanded later, by expand_bundles).
template <class F>
decltype(auto) expand_pack_refs(F&& f) {
    return f();
}
template <class F, class A, class... R>
decltype(auto) expand_pack_refs(F&& f, const A& a, const R&... r) {
    if constexpr (is_pack_ref<A>::value) {
        auto& pack = a.get();
        return [&]<class... V>(ctgrad::detail::type_list<V...>) -> decltype(auto) {
            return expand_pack_refs(
                [&](const auto&... rest) -> decltype(auto) {
                    return f((V{} = std::ref(pack[V{}]))..., rest...);
                },
                r...);
        }(typename std::remove_cvref_t<decltype(pack)>::variables{});
    } else {
        return expand_pack_refs(
            [&](const auto&... rest) -> decltype(auto) { return f(a, rest...); }, r...);
    }
}

/// The arguments of a step as its bound form takes them: each `std::ref(pack)` replaced by the
/// pack's writable bindings (expand_pack_refs), then every bundle bound read-only by its
/// bindings (expand_bundles); f is called with the flat list (data_parallel and input_split's
/// sgd_step_with).
template <class F, class... A>
decltype(auto) expand_step_arguments(F&& f, const A&... a) {
    return expand_pack_refs(
        [&](const auto&... c) -> decltype(auto) { return ctgrad::detail::expand_bundles(f, c...); },
        a...);
}

/// Whether some op of E writes variable v of its plan in its forward pass (the running
/// estimates of batch_norm in training mode, dropout's step counter):
/// tensor_ad::writes_state_of over the plan's entries.
template <class E>
inline constexpr auto written_variables = [] {
    using P = ad::plan<E>;
    std::array<bool, P::size> written{};
    ctgrad::detail::static_for_chunks<P::size>([&]<std::size_t... J>(std::index_sequence<J...>) {
        const std::array<bool, P::max_arity> w[] = {
            ctgrad::tensor_ad::writes_state_of<typename P::template expr<J>, P::max_arity>()...};
        std::size_t k = 0;
        for (const std::size_t j : {J...}) {
            for (std::size_t i = 0; i < P::max_arity; ++i) {
                if (w[k][i]) written[P::child[j][i]] = true;
            }
            ++k;
        }
    });
    std::array<bool, P::variables::size + 1> v{};
    for (std::size_t i = 0; i < P::variables::size; ++i) v[i] = written[P::variable_entry[i]];
    return v;
}();

/// Whether an op of E writes the variable named Name (false for a name E does not use).
template <class E, fixed_string Name>
constexpr bool writes_named() {
    return []<class... Var>(ctgrad::detail::type_list<Var...>) {
        std::size_t i = 0;
        bool hit = false;
        ((hit = hit || (Var::name.view() == Name.view() && written_variables<E>[i]), ++i), ...);
        return hit;
    }(typename ad::plan<E>::variables{});
}

/// Whether argument A of a shard binds writable memory to a variable that an op of E writes
/// (then every shard would write it at once). A writable binding of a variable the program
/// only reads (`W = std::ref(w)`, a tensor_view of non-const) is fine; so is a writable pack
/// (nn::state, which binds every tensor with std::ref) none of whose variables the program
/// writes (e.g. batch norm's running estimates read by an inference-mode network): a pack is
/// checked variable by variable.
template <class E, class A>
struct binds_written : std::false_type {};
template <class E, fixed_string Name, class V>
struct binds_written<E, binding<Name, V>> {
    static constexpr bool value = [] {
        if constexpr (!is_writable_binding<binding<Name, V>>::value) {
            return false;
        } else {
            return writes_named<E, Name>();
        }
    }();
};
template <class E, class... V>
struct binds_written<E, nn::parameters<ctgrad::detail::type_list<V...>, true>>
    : std::bool_constant<ctgrad::detail::any_true_v<writes_named<E, V::name>()...>> {};

template <fixed_string Name, class T, std::size_t S, std::size_t... D, std::size_t Rows>
constexpr auto for_split(const row_split<variable<Name, tensor<T, S, D...>>, T, Rows>& a,
                         std::size_t k) {
    constexpr std::size_t row = (std::size_t{1} * ... * D);
    return variable<Name, tensor<T, S, D...>>{} =
               tensor_view<const T, S, D...>(a.data + k * S * row);
}

/// The binding of argument a for shard k.
template <class A>
constexpr decltype(auto) for_shard(const A& a, std::size_t k) {
    if constexpr (is_row_split<A>::value) {
        return for_split(a, k);
    } else {
        return (a);
    }
}

template <class A, std::size_t K>
inline constexpr bool split_fits = true;
template <class Var, class T, std::size_t Rows, std::size_t K>
inline constexpr bool split_fits<row_split<Var, T, Rows>, K> = Rows == K* Var::kind::shape[0];

}  // namespace detail

namespace detail {

/// Whether a shard of the running call threw; an atomic that moves with its owner (as a fresh
/// flag: nothing runs while a data_parallel is moved).
struct failure_flag : std::atomic<bool> {
    failure_flag() noexcept : std::atomic<bool>(false) {}
    failure_flag(failure_flag&&) noexcept : std::atomic<bool>(false) {}
    failure_flag& operator=(failure_flag&&) noexcept { return *this; }
};

/// The job that data_parallel and input_split run on each thread of the pool: `shards()` (this
/// thread's shard gradients), the barrier, then `reduce()` (this thread's part of the reduction
/// and update). A shard that throws sets `failed` before the barrier; then no thread reduces
/// (another shard's gradient may be missing, or stale from the last call) and the error is
/// rethrown on this thread (pool::run rethrows it on the caller): the gradient and whatever
/// the update writes are left as they were. `failed` is cleared by the caller before the job.
template <class Pool, class Shards, class Reduce>
void shard_job(Pool& pool, failure_flag& failed, Shards&& shards, Reduce&& reduce) {
    std::exception_ptr error;
    try {
        shards();
    } catch (...) {
        error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
    }
    pool.arrive_and_wait();  // every shard done (the barrier orders `failed` too)
    if (!error && !failed.load(std::memory_order_relaxed)) {
        try {
            reduce();
        } catch (...) {
            error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

/// The loss over the batch from the shards' values, added in shard order: their mean or sum.
template <std::size_t Shards, class R, class S>
S shard_value(const std::array<S, Shards>& values, R red) {
    S v = values[0];
    for (std::size_t k = 1; k < Shards; ++k) v += values[k];
    return red == R::mean && Shards > 1 ? v / S(Shards) : v;
}

/// Elements reduced before they are handed to the update: 16 KB of S, so that the chunk of
/// every shard and of the result fit in L1 together.
template <class S, std::size_t Shards>
inline constexpr std::size_t reduce_chunk = 4096 / sizeof(S) * 4 / (Shards + 1) > 64
                                                ? 4096 / sizeof(S) * 4 / (Shards + 1)
                                                : 64;

/// Elementwise passes over the gradients, in blocks of a fixed `lanes` elements and a scalar
/// tail: GCC's -O2 vectorizes a loop only when its count is a known multiple of the vector
/// width and needs no run-time check that its pointers do not overlap (the "very-cheap" cost
/// model), so a plain `for (i < n) out[i] = a[i] + b[i]` over a run-time n stays scalar (about
/// 13 instructions per element: 1.0-1.3 million per step of the 784-100-10 MLP's reduction,
/// callgrind). The pointers of each pass are __restrict (distinct buffers: the shards'
/// gradients, the reduced gradient, the parameters), and each element gets the same
/// operations in the same order as in a scalar loop: the same bits.
inline constexpr std::size_t lanes = 16;

/// The operations of the passes on `Count` elements: a loop of a count known at compile time
/// over the __restrict parameters themselves, which GCC vectorizes at -O2 (a block of
/// `lanes`), and the same loop for the tail.
enum class pass_op { sum, sum_scaled, add, add_scaled, scaled, scale_in_place, sgd };

template <pass_op Op, class S>
inline void pass_block(std::size_t count, S* __restrict out, const S* __restrict a,
                       const S* __restrict b, S s) noexcept {
    for (std::size_t j = 0; j < count; ++j) {
        if constexpr (Op == pass_op::sum) {
            out[j] = a[j] + b[j];
        } else if constexpr (Op == pass_op::sum_scaled) {
            out[j] = (a[j] + b[j]) * s;
        } else if constexpr (Op == pass_op::add) {
            out[j] = out[j] + b[j];
        } else if constexpr (Op == pass_op::add_scaled) {
            out[j] = (out[j] + b[j]) * s;
        } else if constexpr (Op == pass_op::scaled) {
            out[j] = b[j] * s;
        } else if constexpr (Op == pass_op::scale_in_place) {
            out[j] = out[j] * s;  // b is not read
        } else {
            out[j] -= s * b[j];
        }
    }
}

/// Op over n elements: blocks of `lanes` (a constant count, vectorized), then the tail. `a` is
/// read only by the sums (pass nullptr otherwise); out, a and b do not overlap.
template <pass_op Op, class S>
inline void pass(S* out, const S* a, const S* b, std::size_t n, S s) noexcept {
    const std::size_t whole = n / lanes * lanes;
    for (std::size_t i = 0; i < whole; i += lanes) {
        pass_block<Op>(lanes, out + i, a == nullptr ? a : a + i, b + i, s);
    }
    if (whole < n)
        pass_block<Op>(n - whole, out + whole, a == nullptr ? a : a + whole, b + whole, s);
}

/// out[i] = out[i]·s, in place.
template <class S>
inline void scale_pass(S* out, std::size_t n, S s) noexcept {
    pass<pass_op::scale_in_place>(out, static_cast<const S*>(nullptr), out, n, s);
}

/// out[i] −= lr·g[i]: an SGD step of parameters out from gradient g (not overlapping out).
template <class S>
inline void sgd_pass(S* out, const S* g, std::size_t n, S lr) noexcept {
    pass<pass_op::sgd>(out, static_cast<const S*>(nullptr), g, n, lr);
}

/// Thread t of n: the elements [t·N/n, (t + 1)·N/n) of the concatenated gradients of V...
/// (`src[v][k]`: variable v's gradient in shard k), summed over the shards in shard order
/// ((s0 + s1) + s2 ...), multiplied by `scale`, written to g, and handed to f chunk by chunk
/// (`f(var, first, count)`, while the chunk is in L1: the update makes no second pass).
template <std::size_t Shards, class... V, class G, class S, class F>
void reduce_range(G& g, const std::array<std::array<const S*, Shards>, sizeof...(V)>& src,
                  std::size_t t, std::size_t n, S scale, F& f) {
    constexpr std::size_t N = (std::size_t{0} + ... + V::kind::size());
    constexpr std::size_t chunk = reduce_chunk<S, Shards>;
    const std::size_t lo = t * N / n, hi = (t + 1) * N / n;
    std::size_t start = 0, v = 0;
    const auto one = [&](auto var) {
        constexpr std::size_t size = decltype(var)::kind::size();
        const std::size_t b = lo > start ? lo : start;
        const std::size_t e = hi < start + size ? hi : start + size;
        for (std::size_t c = b; c < e; c += chunk) {
            const std::size_t first = c - start, m = e - c < chunk ? e - c : chunk;
            S* out = g[var].data() + first;
            const S* s0 = src[v][0] + first;
            constexpr const S* none = nullptr;
            if constexpr (Shards == 1) {
                pass<pass_op::scaled>(out, none, s0, m, scale);
            } else if constexpr (Shards == 2) {
                pass<pass_op::sum_scaled>(out, s0, src[v][1] + first, m, scale);
            } else {
                pass<pass_op::sum>(out, s0, src[v][1] + first, m, scale);
                for (std::size_t k = 2; k + 1 < Shards; ++k) {
                    pass<pass_op::add>(out, none, src[v][k] + first, m, scale);
                }
                pass<pass_op::add_scaled>(out, none, src[v][Shards - 1] + first, m, scale);
            }
            f(var, first, m);
        }
        start += size;
        ++v;
    };
    ctgrad::detail::static_for_chunks<sizeof...(V)>([&]<std::size_t... I>(
        std::index_sequence<I...>) {
        (one(ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>{}), ...);
    });
}

}  // namespace detail

/// How the shard gradients combine: the loss is a mean over its batch (softmax_cross_entropy,
/// mse, mean(...)): the global gradient is the mean of the shards'; or a sum over samples
/// (sum(square(...))): their sum.
enum class reduction { mean, sum };

/// How a data_parallel computes the gradient of a step (docs/parallel.md):
/// - `replicate`: every shard is a whole program of the loss (detail::replicated): each writes
///   the gradient of every parameter for its rows, and the threads reduce them;
/// - `split_input`: the loss's input layer X·W, W its largest parameter, is split off
///   (parallel::input_split): the shards run the rest of the network and keep ∂(X·W), and the
///   threads compute W's gradient by parts of its rows over the whole batch (W's gradient is
///   written once, not once per shard and reduced);
/// - `automatic` (the default): `split_input` when the loss has such a layer — a product X·W of
///   a variable X not differentiated and a parameter W of wrt(...) holding at least half of
///   wrt(...)'s numbers, with at least 64 rows, not read elsewhere — and there are at least 2
///   shards; `replicate` otherwise.
/// Both give the same gradient up to the order of the sums (within 1e-6 relative in float), each
/// the same bits for every thread count and every run.
enum class strategy { automatic, replicate, split_input };

template <std::size_t Shards, class E, class Wrt, strategy How = strategy::automatic>
class data_parallel;

namespace detail {
template <std::size_t Shards, class E, class Wrt>
class replicated;
}  // namespace detail

namespace detail {

/// data_parallel's `strategy::replicate`: every shard a whole program of the loss E (whose
/// batch variables have the shard's size). Shard k runs on thread k mod T of the pool (T =
/// pool.size(), any number ≥ 1); then every thread sums a slice of the gradient over the
/// shards, in shard order, so the result is the same bit for bit for every T.
template <std::size_t Shards, class E, class... V>
class replicated<Shards, E, wrt_t<V...>> {
    static_assert(Shards >= 1, "ctgrad::parallel::data_parallel: at least one shard");

public:
    using program_type = program<E, wrt_t<V...>>;
    using scalar_type = typename program_type::scalar_type;
    using gradient_type = flat_gradient<scalar_type, V...>;
    static constexpr std::size_t shards = Shards;

    replicated(thread_pool& pool, E f, reduction r = reduction::mean)
        : replicated(pool, f, r, std::make_index_sequence<Shards>{}) {}

    /// The gradient of the loss over the whole batch (every rows(...) binding holds Shards
    /// shards), reduced; valid until the next call.
    template <class... A>
    gradient_type& gradient(const A&... a) {
        return gradient_then(no_update{}, a...);
    }

    /// gradient(a...), and then, on every thread, `f(v, first, count)` for the elements
    /// [first, first + count) of variable v that thread reduced, as soon as they are reduced
    /// (`result()[v].data() + first`; a thread's slice comes in chunks of a few KB, each
    /// still in the cache): an elementwise update (an SGD step, a weight decay) spread over
    /// the threads instead of run on the caller after the job. f runs concurrently on disjoint
    /// ranges; it must touch only elements [first, first + count) of tensors of v's shape.
    /// The loss value (`result().value`) is set after the job. If a shard throws, no thread
    /// reduces or calls f, and the error is rethrown: the gradient and whatever f updates are
    /// left as they were.
    template <class F, class... A>
    gradient_type& gradient_then(F&& f, const A&... a) {
        return run(no_prepare{}, f, a...);
    }

    /// gradient_then(update, a...), and before each shard's gradient, on the thread that
    /// computes it, `prepare(k)`: the shard's own work before the step, such as gathering its
    /// rows of the batch (rows [k·S, (k + 1)·S) of the data that rows(...) binds), so that it
    /// too is spread over the threads. prepare runs concurrently for different k.
    template <class P, class F, class... A>
    gradient_type& run(P&& prepare, F&& update, const A&... a) {
        static_assert(ctgrad::detail::all_true_v<detail::split_fits<A, Shards>...>,
                      "ctgrad::parallel::data_parallel::gradient: a rows(...) binding does not "
                      "hold exactly Shards shards of its variable's rows");
        static_assert(!ctgrad::detail::any_true_v<detail::binds_written<E, A>::value...>,
                      "ctgrad::parallel::data_parallel: a variable that the network writes "
                      "(dropout's step, batch-norm running estimates) is bound to writable "
                      "memory (std::ref, or an nn::state pack): every shard would write it at "
                      "once; bind it read-only (a tensor, a tensor_view of const, std::cref), "
                      "or run that network on one thread (docs/parallel.md)");
        // A shard that throws (prepare, or its program) sets failed_ before the barrier; then
        // no thread reduces (another shard's gradient may be missing or stale) or updates, and
        // pool::run rethrows the error: the gradient and the parameters stay as they were.
        failed_.store(false, std::memory_order_relaxed);
        auto job = [&](std::size_t t, std::size_t n) {
            detail::shard_job(
                *pool_, failed_,
                [&] {
                    for (std::size_t k = t; k < Shards; k += n) {
                        prepare(k);
                        const auto g = programs_[k].gradient(detail::for_shard(a, k)...);
                        values_[k] = g.value;
                        ctgrad::detail::static_for_chunks<sizeof...(V)>([&]<std::size_t... I>(
                            std::index_sequence<I...>) {
                            ((src_[I][k] =
                                  g[ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>{}]
                                      .data()),
                             ...);
                        });
                    }
                },
                [&] { reduce_slice(t, n, update); });
        };
        pool_->run(job);
        grad_.value = detail::shard_value(values_, red_);
        return grad_;
    }

    /// One step of plain gradient descent on the threads: the gradient as gradient(a...), and
    /// every parameter p of wrt(...) becomes p − lr·g, each slice on the thread that reduced it
    /// (as gradient_then with that update). Bind the parameters writable: each with std::ref
    /// (`W = std::ref(w)`), or a whole nn::parameters pack as `std::ref(params)`. Returns the
    /// loss before the step; result() holds the gradient. (The split form, input_split, adds
    /// its input layer's update inside the weight-gradient products instead.)
    template <class... A>
    scalar_type sgd_step(scalar_type lr, const A&... a) {
        return sgd_step_with(no_prepare{}, lr, a...);
    }

    /// sgd_step with `prepare(k)` first on shard k's thread (run).
    template <class P, class... A>
    scalar_type sgd_step_with(P&& prepare, scalar_type lr, const A&... a) {
        return detail::expand_step_arguments(
            [&](const auto&... b) {
                return sgd_bound(prepare, lr, std::index_sequence_for<V...>{}, b...);
            },
            a...);
    }

    /// The reduced gradient of the last call.
    const gradient_type& result() const noexcept { return grad_; }
    /// The loss of shard k at the last call.
    scalar_type shard_value(std::size_t k) const noexcept { return values_[k]; }
    /// The program of shard k (its gradient views stay valid until its next call).
    program_type& shard_program(std::size_t k) noexcept { return programs_[k]; }
    /// Threads the shards are spread over.
    std::size_t threads() const noexcept { return pool_->size(); }

private:
    template <std::size_t... I>
    replicated(thread_pool& pool, const E& f, reduction r, std::index_sequence<I...>)
        : pool_(&pool), red_(r), programs_{((void)I, program_type(f))...} {}

    struct no_prepare {
        void operator()(std::size_t) const noexcept {}
    };
    struct no_update {
        template <class Var>
        void operator()(Var, std::size_t, std::size_t) const noexcept {}
    };

    template <fixed_string Name>
    struct named {
        template <class A>
        struct is : std::bool_constant<detail::is_binding_of<Name, A>> {};
    };

    template <class P, std::size_t... I, class... A>
    scalar_type sgd_bound(P& prepare, scalar_type lr, std::index_sequence<I...>, const A&... a) {
        static_assert(
            (... && detail::bound_writable<ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>,
                                           A...>),
            "ctgrad::parallel::data_parallel::sgd_step: bind every parameter of wrt(...) "
            "with std::ref (or a whole parameter pack as `std::ref(params)`) so that it can be "
            "changed in place");
        using T = scalar_type;
        const std::array<T*, sizeof...(V) + 1> p{
            const_cast<T*>(static_cast<const T*>(
                detail::find_data<named<
                    ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>::name>::template is>(
                    a...)))...,
            nullptr};
        const auto update = [&](auto var, std::size_t first, std::size_t count) {
            constexpr std::size_t v =
                ctgrad::detail::index_of_v<ctgrad::detail::type_list<V...>, decltype(var)>;
            detail::sgd_pass(p[v] + first, grad_[var].data() + first, count, lr);
        };
        return run(prepare, update, a...).value;
    }

    template <class F>
    void reduce_slice(std::size_t t, std::size_t n, F& f) {
        detail::reduce_range<Shards, V...>(grad_, src_, t, n, scale(), f);
    }

    scalar_type scale() const noexcept {
        return red_ == reduction::mean && Shards > 1 ? scalar_type(1) / scalar_type(Shards)
                                                     : scalar_type(1);
    }

    thread_pool* pool_;
    reduction red_;
    std::array<program_type, Shards> programs_;
    std::array<scalar_type, Shards> values_{};
    std::array<std::array<const scalar_type*, Shards>, sizeof...(V)> src_{};
    detail::failure_flag failed_;
    gradient_type grad_;
};

}  // namespace detail

// data_parallel and make_data_parallel: at the end of parallel/input_split.hpp (included
// below), which the split form needs.

// --- inference ---

/// Independent evaluations on several threads: one program of expression E per thread of the
/// pool. `for_each(count, f)` calls f(prog, i) for every i < count, i in the contiguous block
/// [t·count/T, (t + 1)·count/T) on thread t with that thread's program; f writes its result to
/// memory of its own (a slot per i). Each i is computed by one program alone, so the results
/// do not depend on the number of threads.
template <class E>
class evaluator {
public:
    using program_type = program<E>;

    evaluator(thread_pool& pool, E f) : pool_(&pool) {
        programs_.reserve(pool.size());
        for (std::size_t t = 0; t < pool.size(); ++t) programs_.emplace_back(f);
    }

    template <class F>
    void for_each(std::size_t count, F&& f) {
        pool_->run([&](std::size_t t, std::size_t n) {
            for (std::size_t i = t * count / n, e = (t + 1) * count / n; i < e; ++i) {
                f(programs_[t], i);
            }
        });
    }

    std::size_t threads() const noexcept { return pool_->size(); }

private:
    thread_pool* pool_;
    std::vector<program_type> programs_;
};

}  // namespace ctgrad::parallel

// data_parallel chooses between detail::replicated and input_split (parallel/input_split.hpp
// includes this header first: its own part is skipped there).
#include <ctgrad/parallel/input_split.hpp>
