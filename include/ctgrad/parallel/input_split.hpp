/// @file
/// Data-parallel training with the input layer's weight gradient split over the threads
/// (docs/parallel.md, "The input layer split").
///
/// In a network whose first layer is Z = X·W (X the batch [B, I], W [I, H]), the weight
/// gradient dW = Xᵀ·dZ is usually the largest product of the backward pass and W the largest
/// parameter (784×100 of the 79 510 of the Fashion-MNIST MLP). `parallel::data_parallel` has
/// every shard write a whole dW of its rows, then reduces the shards' dW: Shards × |W| written
/// and read again. `parallel::input_split` instead runs the rest of the network (the *head*,
/// written as a function of a variable Z for the layer's output) on the shards, keeps each
/// shard's dZ, and after a barrier has every thread compute the rows of dW it owns over the
/// whole global batch, dW[r0:r1, :] = Σ_k X_k[:, r0:r1]ᵀ·dZ_k, and hand them to the update:
/// dW is written once, by the threads together, as one thread writes it.
///
/// ```
/// constexpr auto Z1 = var<"Z1", tensor<float, 128, 100>>;              // X·W1, per shard
/// const auto head = softmax_cross_entropy(matmul(relu(Z1 + b1), W2) + b2, Y);
/// auto dp = parallel::make_input_split<2>(pool, parallel::input_layer(X, W1, Z1), head,
///                                         wrt(b1, W2, b2));
/// const auto& g = dp.gradient(parallel::rows(X, x), parallel::rows(Y, y), W1 = w1, b1 = ...);
/// g[W1], g[b1], ...                                                       // the mean gradient
/// ```
#pragma once

#include <algorithm>    // std::copy_n
#include <array>        // std::array
#include <atomic>       // std::atomic
#include <cstddef>      // std::size_t
#include <thread>       // std::this_thread::yield
#include <type_traits>  // std::remove_cvref_t, std::is_same_v
#include <utility>      // std::index_sequence

#include <ctgrad/parallel/threads.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>

namespace ctgrad::parallel {

/// The input layer Z = X·W of an input_split: X the batch variable of a shard [S, I], W the
/// weight [I, H], Z the variable [S, H] the head reads in place of X·W.
template <class X, class W, class Z>
struct input_layer_t {
    using x_var = X;
    using w_var = W;
    using z_var = Z;
};

/// `parallel::input_layer(X, W, Z)`: see input_layer_t; the shapes are checked here.
template <fixed_string XN, class T, std::size_t S, std::size_t I, fixed_string WN, class TW,
          std::size_t IW, std::size_t H, fixed_string ZN, class TZ, std::size_t SZ, std::size_t HZ>
constexpr auto input_layer(variable<XN, tensor<T, S, I>>, variable<WN, tensor<TW, IW, H>>,
                           variable<ZN, tensor<TZ, SZ, HZ>>) {
    static_assert(std::is_same_v<T, TW> && std::is_same_v<T, TZ>,
                  "ctgrad::parallel::input_layer: X, W and Z must have one element type");
    static_assert(I == IW,
                  "ctgrad::parallel::input_layer: X [S, I] and W [I, H] do not "
                  "multiply: X's columns differ from W's rows");
    static_assert(S == SZ && H == HZ,
                  "ctgrad::parallel::input_layer: Z must have the shape of X·W, [S, H]");
    return input_layer_t<variable<XN, tensor<T, S, I>>, variable<WN, tensor<T, I, H>>,
                         variable<ZN, tensor<T, S, H>>>{};
}

namespace detail {

template <class Var, class A>
inline constexpr bool is_split_of = false;
template <class Var, class T, std::size_t Rows>
inline constexpr bool is_split_of<Var, row_split<Var, T, Rows>> = true;

/// Items 0..N−1 handed out to the n threads of a job: thread t owns the items [t·N/n,
/// (t+1)·N/n) and takes them in order, then the items other threads have not taken yet, from
/// the end of the next thread's range on (work stealing). Each item is taken once (an atomic
/// exchange per item); when the threads keep pace each takes only its own, the same items on
/// every call, so the data of an item (W's rows, a shard's X and dZ) stays in that thread's
/// cache from call to call; a slower or late thread leaves items to the others.
template <std::size_t N>
class claims {
public:
    claims() noexcept = default;
    claims(claims&&) noexcept {}
    claims& operator=(claims&&) noexcept { return *this; }

    /// Before a job (published to the threads by the pool's start of the job).
    void reset() noexcept {
        for (auto& c : taken_) c.store(false, std::memory_order_relaxed);
    }

    /// The next item thread t of n takes, or N when none is left.
    std::size_t next(std::size_t t, std::size_t n) noexcept {
        for (std::size_t i = t * N / n, e = (t + 1) * N / n; i < e; ++i) {
            if (take(i)) return i;
        }
        for (std::size_t o = 1; o < n; ++o) {
            const std::size_t u = (t + o) % n;
            for (std::size_t i = (u + 1) * N / n; i > u * N / n; --i) {
                if (take(i - 1)) return i - 1;
            }
        }
        return N;
    }

    /// Whether a thread has taken item i.
    bool taken(std::size_t i) const noexcept { return taken_[i].load(std::memory_order_relaxed); }

    /// Takes item i if no thread has: whether this call took it.
    bool take(std::size_t i) noexcept {
        return !taken_[i].load(std::memory_order_relaxed) &&
               !taken_[i].exchange(true, std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<bool>, N> taken_{};
};

/// N flags set once per job (release) and read by other threads (acquire).
template <std::size_t N>
class flags {
public:
    flags() noexcept = default;
    flags(flags&&) noexcept {}
    flags& operator=(flags&&) noexcept { return *this; }
    void reset() noexcept {
        for (auto& f : set_) f.store(false, std::memory_order_relaxed);
    }
    void set(std::size_t i) noexcept { set_[i].store(true, std::memory_order_release); }
    bool is_set(std::size_t i) const noexcept { return set_[i].load(std::memory_order_acquire); }

private:
    std::array<std::atomic<bool>, N> set_{};
};

}  // namespace detail

/// Rows of W in one block of a part of input_split's weight gradient (where W has at least
/// part_count·Shards·part_block rows): a multiple of the matmul kernels' blocks of rows (6, the
/// narrow tail's 12 and its column-vector kernel's 24 with AVX2), so that only the first part
/// has rows left over. 784 rows, 2 shards: one part of 40 rows and 31 of 24 (pe12: 15 of 48
/// and the last of 64; pe11: 7 of 96 and one of 112; 4 parts of 196 before that). A term of 24
/// rows costs half of one of 48 (16 × 24 against 8 × 48 rows of X [128, 784]ᵀ·dZ [128, 100],
/// one thread, min of 300 in 10 alternated rounds: 117.5 µs both, 115.8 for 4 × 96; AMD EPYC
/// Zen 3, bench/README.md pe13), and the threads' wait for each other's last term at the end
/// of a step, about half a term, halves with it (pe12: 29–40 → 17–26 µs per step summed over
/// the two threads from 96 to 48 rows). The rows left over go to the first part, which a
/// thread takes first, so that the last terms of a step are whole blocks (were 64 rows).
inline constexpr std::size_t part_block = 24;

/// Parts of W's rows per shard where each is at least part_block rows.
inline constexpr std::size_t part_count = 16;

template <std::size_t Shards, class Layer, class E, class Wrt, class Gradient = void>
class input_split;

/// Data-parallel gradients of a network whose input layer is Layer (input_layer(X, W, Z)) and
/// whose rest is the head E, a loss of Z and the other variables (the shard's rows of X·W in Z):
/// per step, the threads take the shards (each its own first, then those another thread has
/// not started: detail::claims, so a thread that starts late or runs on a busier core takes
/// fewer), and for shard k compute Z_k = X_k·W and the head's gradient, dZ_k included. Then,
/// without a barrier, they take the terms X_k[:, r0:r1]ᵀ·dZ_k of dW's parts of rows (`parts`,
/// fixed at compile time) as their inputs become ready (weight_terms: a thread done with its
/// shard works on the ready shards' terms while a slower one finishes its head), the terms of
/// a part added in shard order; the last shard's term of a part, which writes the gradient (or
/// W, in sgd_step), waits for every head. After a barrier, thread t reduces a slice of the
/// other gradients (summed in shard order); each is handed to the update as
/// data_parallel::gradient_then does. The result does not depend on the thread count, bit for
/// bit; it equals the one-program gradient up to the order of the sums.
///
/// Gradient, when not void, is the flat_gradient the result is written to: one of W and V...
/// in another order (data_parallel's split form keeps the order of the loss's wrt(...)).
///
/// X may also be bound without rows(...) (every shard reads the same rows: X_k = X).
template <std::size_t Shards, class X, class W, class Z, class E, class... V, class Gradient>
class input_split<Shards, input_layer_t<X, W, Z>, E, wrt_t<V...>, Gradient> {
    static_assert(Shards >= 1, "ctgrad::parallel::input_split: at least one shard");
    static_assert(
        !ctgrad::detail::any_true_v<std::is_same_v<ctgrad::detail::untagged_t<V>, W>...> &&
            !ctgrad::detail::any_true_v<std::is_same_v<V, Z>...>,
        "ctgrad::parallel::input_split: list the head's parameters in wrt(...), "
        "without the input layer's W (always differentiated) or Z");

public:
    using program_type = program<E, wrt_t<Z, V...>>;
    using scalar_type = typename X::kind::value_type;
    using gradient_type =
        std::conditional_t<std::is_void_v<Gradient>, flat_gradient<scalar_type, W, V...>, Gradient>;
    static_assert(gradient_type::count == 1 + sizeof...(V),
                  "ctgrad::parallel::input_split: the gradient type holds other variables than "
                  "W and wrt(...)'s");
    static constexpr std::size_t shards = Shards;
    static constexpr std::size_t rows = X::kind::shape[0];  // of a shard
    static constexpr std::size_t in = X::kind::shape[1];    // W's rows
    static constexpr std::size_t out = W::kind::shape[1];   // W's columns
    /// W's rows are split into this many parts, each computed whole by one thread, so that a
    /// faster thread can take more of them: part_count per shard where each still has at least
    /// part_block rows (the parts are then whole blocks of part_block rows, the first part also
    /// the rows left over), else two per shard of at least 32 rows, cut evenly.
    static constexpr std::size_t parts = [] {
        if (in / (part_count * Shards) >= part_block) return part_count * Shards;
        std::size_t p = 2 * Shards;
        while (p > 1 && in / p < 32) --p;
        return p;
    }();
    /// The first of W's rows of part P (P = parts: in).
    template <std::size_t P>
    static constexpr std::size_t part_begin = [] {
        if constexpr (P >= parts) {
            return in;
        } else if constexpr (in / (part_count * Shards) >= part_block) {
            // whole blocks, the rows left over in part 0
            constexpr std::size_t rows_per_part = in / parts / part_block * part_block;
            return P == 0 ? 0 : in - (parts - P) * rows_per_part;
        } else {
            return P * in / parts;
        }
    }();

    input_split(thread_pool& pool, E head, reduction r = reduction::mean)
        : input_split(pool, head, r, std::make_index_sequence<Shards>{}) {}

    /// The gradient over the whole batch (rows(X, x) and every other rows(...) binding hold
    /// Shards shards; W bound as any tensor binding), reduced; valid until the next call.
    template <class... A>
    gradient_type& gradient(const A&... a) {
        return run(no_prepare{}, no_update{}, a...);
    }

    /// gradient(a...), then `f(v, first, count)` on the thread that computed elements [first,
    /// first + count) of v's gradient (data_parallel::gradient_then).
    template <class F, class... A>
    gradient_type& gradient_then(F&& f, const A&... a) {
        return run(no_prepare{}, f, a...);
    }

    /// gradient_then(update, a...) with `prepare(k)` first on shard k's thread
    /// (data_parallel::run).
    template <class P, class F, class... A>
    gradient_type& run(P&& prepare, F&& update, const A&... a) {
        return ctgrad::detail::expand_bundles(
            [&](const auto&... b) -> gradient_type& { return run_bound(prepare, update, b...); },
            a...);
    }

    /// One step of plain gradient descent, as program::sgd_step: W's rows get their update
    /// added by the weight-gradient products themselves (W += −lr·Σ_k X_kᵀ·dZ_k, scaled as the
    /// reduction says, after every shard's forward pass has read W), so dW is never stored;
    /// every other parameter p of wrt(...) becomes p − lr·g on the thread that reduced its
    /// slice. Bind W and those parameters writable: each with std::ref (`W = std::ref(w)`), or
    /// a whole nn::parameters pack as `std::ref(params)`. Returns the loss before the step.
    /// result() then holds the other parameters' gradients, not W's.
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

    const gradient_type& result() const noexcept { return grad_; }
    scalar_type shard_value(std::size_t k) const noexcept { return values_[k]; }
    program_type& shard_program(std::size_t k) noexcept { return programs_[k]; }
    std::size_t threads() const noexcept { return pool_->size(); }

private:
    template <std::size_t... I>
    input_split(thread_pool& pool, const E& f, reduction r, std::index_sequence<I...>)
        : pool_(&pool),
          red_(r),
          programs_{((void)I, program_type(f))...},
          z_(Shards * rows * out),
          dw_(Shards > 1 ? in * out : 1) {}

    struct no_prepare {
        void operator()(std::size_t) const noexcept {}
    };
    struct no_update {
        template <class Var>
        void operator()(Var, std::size_t, std::size_t) const noexcept {}
    };

    template <class A>
    struct is_x
        : std::bool_constant<detail::is_split_of<X, A> || detail::is_binding_of<X::name, A>> {};
    template <class A>
    struct is_x_split : std::bool_constant<detail::is_split_of<X, A>> {};
    template <class A>
    struct is_w : std::bool_constant<detail::is_binding_of<W::name, A>> {};

    template <fixed_string Name>
    struct named {
        template <class A>
        struct is : std::bool_constant<detail::is_binding_of<Name, A>> {};
    };

    template <class P, std::size_t... I, class... A>
    scalar_type sgd_bound(P& prepare, scalar_type lr, std::index_sequence<I...>, const A&... a) {
        static_assert((... || (is_w<A>::value && detail::is_writable_binding<A>::value)),
                      "ctgrad::parallel::input_split::sgd_step: bind the input layer's weight W "
                      "with std::ref (`W = std::ref(w)`, or a whole parameter pack as "
                      "`std::ref(params)`) so that it can be changed in place");
        static_assert(
            (... && detail::bound_writable<ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>,
                                           A...>),
            "ctgrad::parallel::input_split::sgd_step: bind every parameter of wrt(...) "
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
            using Var = decltype(var);
            if constexpr (!std::is_same_v<Var, W>) {
                constexpr std::size_t v =
                    ctgrad::detail::index_of_v<ctgrad::detail::type_list<V...>, Var>;
                T* pd = p[v] + first;
                const T* gd = grad_[var].data() + first;
                detail::sgd_pass(pd, gd, count, lr);  // vectorized (threads.hpp)
            }
        };
        fused_lr_ = lr;
        fused_ = true;
        try {
            const T value = run_bound(prepare, update, a...).value;
            fused_ = false;
            return value;
        } catch (...) {
            fused_ = false;
            throw;
        }
    }

    template <class P, class F, class... A>
    gradient_type& run_bound(P& prepare, F& update, const A&... a) {
        static_assert((std::size_t{0} + ... + std::size_t{is_x<A>::value}) == 1,
                      "ctgrad::parallel::input_split: bind the input layer's X exactly once "
                      "(with parallel::rows(X, x) for a batch split over the shards)");
        static_assert((std::size_t{0} + ... + std::size_t{is_w<A>::value}) == 1,
                      "ctgrad::parallel::input_split: bind the input layer's weight W exactly "
                      "once");
        static_assert(ctgrad::detail::all_true_v<detail::split_fits<A, Shards>...>,
                      "ctgrad::parallel::input_split: a rows(...) binding does not hold exactly "
                      "Shards shards of its variable's rows");
        static_assert(!ctgrad::detail::any_true_v<detail::binds_written<E, A>::value...>,
                      "ctgrad::parallel::input_split: a variable that the network writes "
                      "(dropout's step, batch-norm running estimates) is bound to writable "
                      "memory (std::ref, or an nn::state pack): every shard would write it at "
                      "once; bind it read-only (docs/parallel.md)");
        using T = scalar_type;
        const T* x = static_cast<const T*>(detail::find_data<is_x>(a...));
        // shard k's rows of X: at k·rows·in of a split batch; the same X for every shard
        x_stride_ = (... || is_x_split<A>::value) ? rows * in : 0;
        const T* w = static_cast<const T*>(detail::find_data<is_w>(a...));
        w_ = w;
        failed_.store(false, std::memory_order_relaxed);
        shard_claims_.reset();  // published by pool::run
        term_claims_.reset();
        head_done_.reset();
        term_done_.reset();
        auto job = [&](std::size_t t, std::size_t n) {
            detail::shard_job(
                *pool_, failed_,
                [&] {
                    for (std::size_t k; (k = shard_claims_.next(t, n)) < Shards;) {
                        prepare(k);
                        T* zk = z_.data() + k * rows * out;
                        kernels::matmul<rows, in, out>(x + k * x_stride_, w, zk);
                        const auto g = programs_[k].gradient(
                            Z{} = tensor_view<const T, rows, out>(zk), detail::for_shard(a, k)...);
                        values_[k] = g.value;
                        // dZ_k, read in place by W's terms (the program's gradient views
                        // stay valid until its next call, the next step)
                        dz_[k] = g[Z{}].data();
                        ctgrad::detail::static_for_chunks<sizeof...(V)>([&]<std::size_t... I>(
                            std::index_sequence<I...>) {
                            ((src_[I][k] =
                                  g[ctgrad::detail::at_t<ctgrad::detail::type_list<V...>, I>{}]
                                      .data()),
                             ...);
                        });
                        head_done_.set(k);
                    }
                    weight_terms(x, t, n, update);
                },
                [&] { detail::reduce_range<Shards, V...>(grad_, src_, t, n, scale(), update); });
        };
        pool_->run(job);
        grad_.value = detail::shard_value(values_, red_);
        return grad_;
    }

    /// The terms of dW thread t of n takes: term (k, p) = X_k[:, r0:r1]ᵀ·dZ_k for part p's rows
    /// r0..r1, added in shard order, k = 0 .. Shards − 1, so dW[r0:r1, :] = scale·Σ_k X_kᵀ·dZ_k
    /// (the same sums whoever computes a term). Thread t looks through its own list (for each
    /// k, its own parts [t·parts/n, (t+1)·parts/n)), then the other threads' lists, and takes
    /// the first term not taken whose inputs are ready (term_ready: shard k's head and term
    /// (k − 1, p) done), spinning while terms are left and none is ready. No barrier after the
    /// heads: a thread done with its shard computes the terms of the shards that are ready
    /// (its own parts first, then the others') while a slower thread finishes its head; and
    /// since a term is taken only when ready, no thread ever waits holding one. The terms before
    /// the last shard's are added in dw_; the last shard's term writes part p's rows of the
    /// gradient (or adds its update into W) only once every head has succeeded (W is then read
    /// by no forward product, and a shard that throws leaves W and the gradient unchanged),
    /// and hands them to f in chunks. Returns early when another thread failed.
    template <class F>
    void weight_terms(const scalar_type* x, std::size_t t, std::size_t n, F& f) {
        constexpr std::size_t terms = Shards * parts;
        const unsigned spins = pool_->options().spins;
        unsigned idle = 0;  // polls since the last term taken
        for (;;) {
            bool left = false;
            std::size_t q = terms;
            for (std::size_t o = 0; o < n && q == terms; ++o) {
                const std::size_t u = (t + o) % n;
                const std::size_t p0 = u * parts / n, p1 = (u + 1) * parts / n;
                for (std::size_t k = 0; k < Shards && q == terms; ++k) {
                    for (std::size_t p = p0; p < p1; ++p) {
                        const std::size_t i = p * Shards + k;
                        if (term_claims_.taken(i)) continue;
                        left = true;
                        if (term_ready(i) && term_claims_.take(i)) {
                            q = i;
                            break;
                        }
                    }
                }
            }
            if (q == terms) {
                if (!left || failed_.load(std::memory_order_relaxed)) return;
                // terms left, none ready: a head or a term is running on another thread. Spin
                // as the pool's waits do; past that, that thread was likely descheduled (a
                // busy machine): yield the core instead of burning it.
                if (idle < spins) {
                    ++idle;
                    detail::cpu_relax();
                } else {
                    std::this_thread::yield();
                }
                continue;
            }
            idle = 0;
            const std::size_t p = q / Shards, k = q % Shards;
            [&]<std::size_t... P>(std::index_sequence<P...>) {
                static_cast<void>(((p == P ? (weight_term<P>(x, k, f), true) : false) || ...));
            }
            (std::make_index_sequence<parts>{});
            term_done_.set(q);
        }
    }

    /// Whether term i = p·Shards + k can start: shard k's head done, term (k − 1, p) done, and
    /// for the last shard's term every head done.
    bool term_ready(std::size_t i) const noexcept {
        const std::size_t k = i % Shards;
        if (!head_done_.is_set(k) || (k > 0 && !term_done_.is_set(i - 1))) return false;
        if (k + 1 == Shards) {
            for (std::size_t j = 0; j < Shards; ++j) {
                if (!head_done_.is_set(j)) return false;
            }
        }
        return true;
    }

    template <std::size_t P, class F>
    void weight_term(const scalar_type* x, std::size_t k, F& f) {
        using T = scalar_type;
        constexpr std::size_t r0 = part_begin<P>, r1 = part_begin<P + 1>, m = r1 - r0;
        const T s = scale();
        const kernels::isa isa = kernels::active_isa();
        // A(i, j) = x[(k·rows + j)·in + r0 + i]: rows r0..r1 of X_kᵀ, read in place; B = dZ_k
        using a_lay = kernels::detail::a_layout<1, in>;
        const T* a = x + k * x_stride_ + r0;
        const T* b = dz_[k];
        T* dw = dw_.data() + r0 * out;
        if (k + 1 < Shards) {  // a term before the last: into dw_
            if (k == 0) {
                kernels::detail::gemm_on<T, a_lay, m, rows, out, false, false>(isa, a, b, dw, s);
            } else {
                kernels::detail::gemm_on<T, a_lay, m, rows, out, false, true>(isa, a, b, dw, s);
            }
            return;
        }
        T* g = fused_ ? const_cast<T*>(w_) + r0 * out : grad_[W{}].data() + r0 * out;
        constexpr std::size_t chunk = detail::reduce_chunk<T, 1>;
        if constexpr (Shards > 1) {
            if (fused_) {  // W[r0:r1, :] += −lr·(dw + s·X_kᵀ·dZ_k), dW never stored
                detail::sgd_pass(g, static_cast<const T*>(dw), m * out, fused_lr_);
                kernels::detail::gemm_on<T, a_lay, m, rows, out, false, true>(isa, a, b, g,
                                                                              -fused_lr_ * s);
                return;
            }
            // the last term added into dw (the sums the gradient would get, in the same order),
            // then copied to the gradient chunk by chunk, each handed to f while in L1
            kernels::detail::gemm_on<T, a_lay, m, rows, out, false, true>(isa, a, b, dw, s);
            for (std::size_t c = 0; c < m * out; c += chunk) {
                const std::size_t len = m * out - c < chunk ? m * out - c : chunk;
                std::copy_n(dw + c, len, g + c);
                f(W{}, r0 * out + c, len);
            }
            return;
        } else if (fused_) {
            kernels::detail::gemm_on<T, a_lay, m, rows, out, false, true>(isa, a, b, g,
                                                                          -fused_lr_ * s);
        } else {
            kernels::detail::gemm_on<T, a_lay, m, rows, out, false, false>(isa, a, b, g, s);
        }
        if (fused_) return;
        for (std::size_t c = 0; c < m * out; c += chunk) {
            f(W{}, r0 * out + c, m * out - c < chunk ? m * out - c : chunk);
        }
    }

    scalar_type scale() const noexcept {
        return red_ == reduction::mean && Shards > 1 ? scalar_type(1) / scalar_type(Shards)
                                                     : scalar_type(1);
    }

    thread_pool* pool_;
    reduction red_;
    std::array<program_type, Shards> programs_;
    /// Z_k = X_k·W for shard k at k·rows·out.
    tensor_ad::buffer<scalar_type> z_;
    /// ∂Z_k: shard k's gradient of Z in its program's workspace.
    std::array<const scalar_type*, Shards> dz_{};
    std::array<scalar_type, Shards> values_{};
    std::array<std::array<const scalar_type*, Shards>, sizeof...(V)> src_{};
    detail::failure_flag failed_;
    /// Which shards, and which parts of W's rows, the threads have taken (reset per call).
    detail::claims<Shards> shard_claims_;
    /// Terms (k, p) of dW taken (index p·Shards + k), shards' heads and terms done.
    detail::claims<Shards * parts> term_claims_;
    detail::flags<Shards> head_done_;
    detail::flags<Shards * parts> term_done_;
    /// Σ of the terms before the last shard's, [in, out] (unused with one shard).
    tensor_ad::buffer<scalar_type> dw_;
    const scalar_type* w_ = nullptr;  // W's data in the running call
    std::size_t x_stride_ = 0;        // from shard k's rows of X to shard k + 1's
    bool fused_ = false;              // the running call is an sgd_step (W updated in place)
    scalar_type fused_lr_{};
    gradient_type grad_;
};

/// `parallel::make_input_split<Shards>(pool, input_layer(X, W, Z), head, wrt(...))`: an
/// input_split with the types deduced (reduction::mean unless told otherwise).
template <std::size_t Shards, class X, class W, class Z, class E, class... V>
input_split<Shards, input_layer_t<X, W, Z>, E, wrt_t<V...>> make_input_split(
    thread_pool& pool, input_layer_t<X, W, Z>, E head, wrt_t<V...>, reduction r = reduction::mean) {
    return input_split<Shards, input_layer_t<X, W, Z>, E, wrt_t<V...>>(pool, head, r);
}

// --- data_parallel: the replicated shards or the input split, chosen from the loss ---

namespace detail {

/// Whether node type N is X·W of two variables.
template <class N>
struct product_of_variables : std::false_type {};
template <class N>
    requires(ctgrad::is_node<N>::value&& std::is_same_v<typename N::op, ops::matmul_op>)
struct product_of_variables<N>
    : std::bool_constant<ctgrad::is_variable<ctgrad::detail::at_t<typename N::args, 0>>::value &&
                         ctgrad::is_variable<ctgrad::detail::at_t<typename N::args, 1>>::value> {};

/// The input layer of loss E for data_parallel's split form (strategy): the first entry of E's
/// plan that is a product X·W of a variable X not in wrt(V...) and a parameter W of wrt(V...)
/// holding at least half of their numbers, with at least 64 rows (so that W's gradient has 2
/// parts of at least 32 rows). `index` is the plan's size when E has none.
template <class E, class... V>
struct input_layer_of {
    using P = ad::plan<E>;
    static constexpr std::size_t total = (std::size_t{0} + ... + V::kind::size());

    template <class N>
    static constexpr bool fits() {
        if constexpr (!product_of_variables<N>::value) {
            return false;
        } else {
            using A = ctgrad::detail::at_t<typename N::args, 0>;
            using B = ctgrad::detail::at_t<typename N::args, 1>;
            return (... || std::is_same_v<ctgrad::detail::untagged_t<V>, B>)&&!(
                       ... || std::is_same_v<ctgrad::detail::untagged_t<V>, A>)&&std::
                       is_same_v<typename A::kind::value_type, typename B::kind::value_type> &&
                   2 * B::kind::size() >= total && B::kind::shape[0] >= 64;
        }
    }

    static constexpr std::size_t index = [] {
        std::size_t found = P::size;
        ctgrad::detail::static_for_chunks<P::size>([&]<std::size_t... J>(
            std::index_sequence<J...>) {
            static_cast<void>(
                ((found == P::size && fits<typename P::template expr<J>>() ? (found = J, true)
                                                                           : false) ||
                 ...));
        });
        return found;
    }();
};

/// e with every subexpression of type Target replaced by variable Z (nodes rebuilt with the
/// same ops; run-time constants carried over).
template <class Target, class Z, class Ex>
constexpr auto substitute(const Ex& e) {
    if constexpr (std::is_same_v<Ex, Target>) {
        return Z{};
    } else if constexpr (ctgrad::is_node<Ex>::value) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return make_node<typename Ex::op>(substitute<Target, Z>(e.template child<I>())...);
        }
        (std::make_index_sequence<Ex::arity>{});
    } else {
        return e;
    }
}

/// V... without W (compared untagged), as wrt_t.
template <class W, class... V>
using wrt_without = typename ctgrad::detail::concat<
    ctgrad::detail::type_list<>,
    std::conditional_t<std::is_same_v<ctgrad::detail::untagged_t<V>, W>,
                       ctgrad::detail::type_list<>, ctgrad::detail::type_list<V>>...>::type;

template <class List>
struct as_wrt;
template <class... V>
struct as_wrt<ctgrad::detail::type_list<V...>> {
    using type = wrt_t<V...>;
};

/// The loss E cut at its input layer N = X·W: X, W, the head (E with Z for X·W), and the
/// input_split computing it into data_parallel's gradient type.
template <std::size_t Shards, class E, class N, class... V>
struct split_of {
    using layer = N;
    using X = ctgrad::detail::at_t<typename N::args, 0>;
    using W = ctgrad::detail::at_t<typename N::args, 1>;
    using T = typename X::kind::value_type;
    using Z =
        variable<"ctgrad.parallel.input_split.Z", tensor<T, X::kind::shape[0], W::kind::shape[1]>>;
    using head_type = decltype(substitute<N, Z>(std::declval<const E&>()));
    /// Whether the head still reads W (then W's gradient is not the input layer's alone).
    static constexpr bool reads_w =
        ctgrad::detail::in_list<typename ad::plan<head_type>::variables, W>;
    using type = input_split<Shards, input_layer_t<X, W, Z>, head_type,
                             typename as_wrt<wrt_without<W, V...>>::type, flat_gradient<T, V...>>;
};

template <std::size_t Shards, class E, strategy How, class... V>
constexpr bool splits() {
    if constexpr (How == strategy::replicate || Shards < 2) {
        return false;
    } else {
        using L = input_layer_of<E, V...>;
        if constexpr (L::index == L::P::size) {
            return false;
        } else {
            return !split_of<Shards, E, typename L::P::template expr<L::index>, V...>::reads_w;
        }
    }
}

/// data_parallel's split form: an input_split built from the whole loss.
template <std::size_t Shards, class E, class... V>
using split_cut =
    split_of<Shards, E,
             typename input_layer_of<E, V...>::P::template expr<input_layer_of<E, V...>::index>,
             V...>;

template <std::size_t Shards, class E, class... V>
class split_form : public split_cut<Shards, E, V...>::type {
    using cut = split_cut<Shards, E, V...>;

public:
    split_form(thread_pool& pool, E f, reduction r = reduction::mean)
        : cut::type(pool, substitute<typename cut::layer, typename cut::Z>(f), r) {}
};

template <std::size_t Shards, class E, class Wrt, strategy How>
struct data_parallel_form;
template <std::size_t Shards, class E, class... V, strategy How>
struct data_parallel_form<Shards, E, wrt_t<V...>, How> {
    static constexpr bool split = splits<Shards, E, How, V...>();
    static_assert(How != strategy::split_input || split,
                  "ctgrad::parallel::data_parallel<Shards, E, wrt, strategy::split_input>: the "
                  "loss has no input layer to split: a product X·W of a variable X not in "
                  "wrt(...) and a parameter W of wrt(...) with at least 64 rows and at least "
                  "half of wrt(...)'s numbers, W read nowhere else, and at least 2 shards");
    using type = typename std::conditional_t<split, split_form<Shards, E, V...>,
                                             replicated<Shards, E, wrt_t<V...>>>;
};

}  // namespace detail

/// Data-parallel gradients of loss E (whose batch variables have the shard's size) over Shards
/// shards of a batch: `auto dp = parallel::make_data_parallel<2>(pool, loss, params.wrt());`
/// then per step `const auto& g = dp.gradient(params, parallel::rows(X, x),
/// parallel::rows(Y, y)); opt.step(params, g);`. Bindings other than rows(...) reach every
/// shard unchanged. The threads compute the shards, then every thread sums a slice of the
/// gradient over the shards, in shard order, so the result is the same bit for bit for every
/// thread count. How the gradient is computed (`strategy`): with the default, a loss whose
/// input layer X·W dominates (an MLP's first layer) is computed as input_split computes it
/// (W's gradient by parts of its rows over the whole batch), any other as `replicate` (every
/// shard a whole program). The members are those of detail::replicated / input_split:
/// gradient, gradient_then, run, result, shard_value, threads, shard_program (in the split
/// form, the program of the rest of the network after X·W), and sgd_step (plain SGD on the
/// threads, `dp.sgd_step(lr, std::ref(params), rows(X, x), ...)`: in the split form W's update
/// is added by W's gradient products themselves, and W's gradient is never stored).
template <std::size_t Shards, class E, class... V, strategy How>
class data_parallel<Shards, E, wrt_t<V...>, How>
    : public detail::data_parallel_form<Shards, E, wrt_t<V...>, How>::type {
    using base = typename detail::data_parallel_form<Shards, E, wrt_t<V...>, How>::type;

public:
    /// Whether the input layer is split (see strategy).
    static constexpr bool splits_input_layer =
        detail::data_parallel_form<Shards, E, wrt_t<V...>, How>::split;

    data_parallel(thread_pool& pool, E f, reduction r = reduction::mean) : base(pool, f, r) {}
};

/// `parallel::make_data_parallel<Shards>(pool, loss, wrt)`: a data_parallel with the loss's
/// and wrt's types deduced (reduction::mean unless told otherwise);
/// `make_data_parallel<Shards, parallel::strategy::replicate>(...)` to choose the strategy.
template <std::size_t Shards, strategy How = strategy::automatic, class E, class... V>
data_parallel<Shards, E, wrt_t<V...>, How> make_data_parallel(thread_pool& pool, E f, wrt_t<V...>,
                                                              reduction r = reduction::mean) {
    return data_parallel<Shards, E, wrt_t<V...>, How>(pool, f, r);
}

}  // namespace ctgrad::parallel
