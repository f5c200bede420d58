/// @file
/// The workspace of a tensor sweep: where each stored value and adjoint of a schedule
/// (tensor/schedule.hpp) lives. Buffers get an offset in one allocation, from their lifetimes
/// over the forward and backward steps, so that a buffer nothing reads any more is reused and the
/// workspace holds only what the backward pass needs. Its size is a constant of the schedule.
/// The second of the three files behind tensor/program.hpp; the loops that read and write these
/// buffers are tensor/engine.hpp.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <new>          // std::align_val_t
#include <type_traits>  // std::is_constant_evaluated, std::conditional_t, std::is_void_v
#include <utility>      // std::exchange

#include <ctgrad/tensor/schedule.hpp>

namespace ctgrad {
namespace tensor_ad {

/// Offsets (in elements) of the stored values and adjoints of the entries, and the size of the
/// workspace.
template <std::size_t N>
struct layout {
    std::array<std::size_t, N> val_off{};
    std::array<std::size_t, N> adj_off{};
    std::size_t total = 0;
    std::size_t buffers = 0;
};

struct lifetime {
    std::size_t first = none, last = 0;
    constexpr void touch(std::size_t s) {
        first = first == none || s < first ? s : first;
        last = s > last ? s : last;
    }
};

template <std::size_t N, std::size_t A>
constexpr void forward_reads(const tables<N, A>& t, std::size_t j, std::size_t step,
                             std::array<lifetime, 2 * N>& life) {
    for (std::size_t i = 0; i < t.arity[j]; ++i) {
        const std::size_t c = t.child[j][i];
        if (t.val_inline[c]) {
            forward_reads(t, c, step, life);
        } else if (t.mat_val[c]) {
            life[c].touch(step);
        }
    }
}

template <std::size_t N, std::size_t A>
constexpr void backward_reads(const tables<N, A>& t, std::size_t m, std::size_t step,
                              std::array<lifetime, 2 * N>& life) {
    if (t.mat_val[m]) life[m].touch(step);
    for (std::size_t i = 0; i < t.arity[m]; ++i) {
        const std::size_t c = t.child[m][i];
        if (t.edges[m][i] == edge::inline_push) {
            backward_reads(t, c, step, life);
        } else {
            if (t.mat_val[c]) {
                life[c].touch(step);
            } else if (t.val_inline[c]) {
                forward_reads(t, c, step, life);
            }
            if (t.edges[m][i] != edge::skip) life[N + c].touch(step);
        }
    }
}

/// The buffers of a schedule: value j is buffer j, the adjoint of j buffer N + j; their sizes
/// (0: no buffer), lifetimes, the order in which they are placed (by first step) and the order in
/// which they die (by last step).
template <std::size_t N>
struct buffers {
    std::array<lifetime, 2 * N> life{};
    std::array<std::size_t, 2 * N> size{};
    std::array<std::size_t, 2 * N> order{};
    std::array<std::size_t, 2 * N> death{};
    std::size_t placed = 0;
};

/// Placement so far: offsets of the buffers placed; the free intervals between the live ones
/// [gap_start[g], gap_end[g]), a list linked by increasing offset from gap `head` through
/// gap_next (the last one open: gap_end none), `gaps` nodes used so far (a node is never reused:
/// each release adds at most one, so 2N + 1 suffice); how many buffers of the death order have
/// been freed, the size of the workspace.
template <std::size_t N>
struct placement {
    std::array<std::size_t, 2 * N> offset{};
    std::array<std::size_t, 2 * N + 1> gap_start{};
    std::array<std::size_t, 2 * N + 1> gap_end{none};
    std::array<std::size_t, 2 * N + 1> gap_next{none};
    std::size_t head = 0;
    std::size_t gaps = 1;
    std::size_t freed = 0;
    std::size_t total = 0;
};

/// Places buffers order[from, to) first-fit among the buffers still alive: each at the start of
/// the first free interval (by offset) that holds it, free intervals being the gaps between live
/// buffers, each live buffer taking [offset, offset + size rounded up to align). A buffer dies
/// (its interval is freed, merged with the free neighbours) before the first buffer that starts
/// after its last step is placed. The cost is the number of free intervals walked per buffer
/// (those before the one it takes, or before the one it is freed next to), not the number of live
/// buffers: a network's gradients, live to the end, are never scanned; and adding or removing a
/// free interval is a link, not a shift of the intervals after it (the gaps a network's backward
/// pass leaves grow with its depth: shifting them was quadratic). Each call is evaluated on its
/// own (workspace::placed_until), so that a plan of any size stays within the compilers' limits
/// on one constant evaluation (clang: 1 048 576 steps).
template <std::size_t N>
constexpr placement<N> place_range(const buffers<N>& bs, placement<N> p, std::size_t from,
                                   std::size_t to, std::size_t align) {
    const auto& life = bs.life;
    const auto& size = bs.size;
    const auto aligned = [&](std::size_t e) { return (e + align - 1) / align * align; };
    // unlinks gap g, after gap prev (none: g is the first)
    const auto unlink = [&](std::size_t prev, std::size_t g) {
        if (prev == none) {
            p.head = p.gap_next[g];
        } else {
            p.gap_next[prev] = p.gap_next[g];
        }
    };
    const auto release = [&](std::size_t b) {  // frees [offset, aligned end) of live buffer b
        const std::size_t lo = p.offset[b], hi = aligned(p.offset[b] + size[b]);
        // the first gap after b (there is one: the last gap is open), and the one before it
        std::size_t prev = none, g = p.head;
        while (p.gap_start[g] < lo) {
            prev = g;
            g = p.gap_next[g];
        }
        if (prev != none && p.gap_end[prev] == lo) {
            // joins the gap before; and that one the gap after if b filled the space between
            if (p.gap_start[g] == hi) {
                p.gap_end[prev] = p.gap_end[g];
                unlink(prev, g);
            } else {
                p.gap_end[prev] = hi;
            }
        } else if (p.gap_start[g] == hi) {
            p.gap_start[g] = lo;
        } else {
            const std::size_t n = p.gaps++;
            p.gap_start[n] = lo;
            p.gap_end[n] = hi;
            p.gap_next[n] = g;
            if (prev == none) {
                p.head = n;
            } else {
                p.gap_next[prev] = n;
            }
        }
    };
    for (std::size_t o = from; o < to && o < bs.placed; ++o) {
        const std::size_t b = bs.order[o];
        // the buffers dead by b's first step (all placed already: they started before it)
        while (p.freed < bs.placed && life[bs.death[p.freed]].last < life[b].first) {
            release(bs.death[p.freed++]);
        }
        std::size_t prev = none, g = p.head;
        while (p.gap_end[g] != none && p.gap_start[g] + size[b] > p.gap_end[g]) {
            prev = g;
            g = p.gap_next[g];
        }
        const std::size_t at = p.gap_start[g];
        p.offset[b] = at;
        p.gap_start[g] = aligned(at + size[b]);
        if (p.gap_end[g] != none && p.gap_start[g] >= p.gap_end[g]) unlink(prev, g);
        p.total = at + size[b] > p.total ? at + size[b] : p.total;
    }
    return p;
}

/// Steps: forward step j for entry j, then the seed (N), then backward step N + 1 + (N - 1
/// - k) for loop root k; the end (2N + 1) for what the caller reads afterwards.
template <std::size_t N, std::size_t A>
constexpr buffers<N> buffers_of(const tables<N, A>& t, const std::array<std::size_t, N>& saved,
                                bool backward) {
    constexpr std::size_t root = N - 1;
    buffers<N> out{};
    std::array<lifetime, 2 * N>& life = out.life;
    constexpr std::size_t end = 2 * N + 1;
    for (std::size_t j = 0; j < N; ++j) {
        if (!t.mat_val[j]) continue;
        life[j].touch(j);
        forward_reads(t, j, j, life);
    }
    if (t.mat_val[root]) life[root].touch(end);
    if (backward) {
        for (std::size_t j = 0; j < N; ++j) {
            if (t.zero_at_start[j] || j == root) life[N + j].touch(N);
            if (t.mat_adj[j] && t.kinds[j] == kind::variable) life[N + j].touch(end);
        }
        for (std::size_t k = N; k-- > 0;) {
            if (!is_loop_root(t, k)) continue;
            const std::size_t step = N + 1 + (N - 1 - k);
            life[N + k].touch(step);
            if (t.kinds[k] == kind::kernel) {
                if (t.mat_val[k]) life[k].touch(step);
                for (std::size_t i = 0; i < t.arity[k]; ++i) {
                    const std::size_t c = t.child[k][i];
                    if (t.mat_val[c]) life[c].touch(step);
                    if (t.edges[k][i] != edge::skip) life[N + c].touch(step);
                }
            } else {
                backward_reads(t, k, step, life);
            }
        }
    }
    // which buffers exist: stored values and stored adjoints (variables' values are the
    // caller's memory)
    std::array<std::size_t, 2 * N>& size = out.size;
    for (std::size_t j = 0; j < N; ++j) {
        // a kernel differentiated through keeps numbers for its vjp after its value
        const std::size_t keep = t.active[j] ? saved[j] : 0;
        size[j] = t.mat_val[j] ? t.count[j] + keep : 0;
        size[N + j] = t.mat_adj[j] ? t.count[j] : 0;
    }
    // buffers in order of their first step (counting sort), placed first-fit among the
    // buffers still alive, kept sorted by offset
    std::array<std::size_t, end + 2> start{};
    for (std::size_t b = 0; b < 2 * N; ++b) {
        if (size[b] != 0 && life[b].first != none) ++start[life[b].first + 1];
    }
    for (std::size_t s = 0; s <= end; ++s) start[s + 1] += start[s];
    std::array<std::size_t, 2 * N>& order = out.order;
    std::size_t placed = 0;
    {
        std::array<std::size_t, end + 2> fill = start;
        for (std::size_t b = 0; b < 2 * N; ++b) {
            if (size[b] != 0 && life[b].first != none) order[fill[life[b].first]++] = b;
        }
        placed = start[end + 1];
    }
    out.placed = placed;
    // the same buffers in order of their last step
    std::array<std::size_t, end + 2> stop{};
    for (std::size_t o = 0; o < placed; ++o) ++stop[life[order[o]].last + 1];
    for (std::size_t s = 0; s <= end; ++s) stop[s + 1] += stop[s];
    for (std::size_t o = 0; o < placed; ++o) out.death[stop[life[order[o]].last]++] = order[o];
    return out;
}

/// An owning, aligned array of S: the workspace. Allocated once; usable in constant
/// expressions (plain new there, 64-byte aligned new at run time).
template <class S>
class buffer {
public:
    constexpr buffer() = default;
    constexpr explicit buffer(std::size_t n) : n_(n) {
        if (n == 0) return;
        if (std::is_constant_evaluated()) {
            p_ = new S[n]();
        } else {
            p_ = static_cast<S*>(::operator new[](n * sizeof(S), std::align_val_t{64}));
            for (std::size_t i = 0; i < n; ++i) p_[i] = S(0);
        }
    }
    constexpr buffer(buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(o.n_) {}
    constexpr buffer& operator=(buffer&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            n_ = o.n_;
        }
        return *this;
    }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    constexpr ~buffer() { release(); }

    constexpr S* data() const noexcept { return p_; }
    constexpr std::size_t size() const noexcept { return n_; }

private:
    constexpr void release() noexcept {
        if (p_ == nullptr) return;
        if (std::is_constant_evaluated()) {
            delete[] p_;
        } else {
            ::operator delete[](p_, std::align_val_t{64});
        }
        p_ = nullptr;
    }

    S* p_ = nullptr;
    std::size_t n_ = 0;
};

/// The buffers of an SGD step's schedule from those of its gradient schedule (t, bs): the same
/// buffers, lifetimes and orders but for the adjoints of the parameters the step updates in place
/// (schedule::compute, `fused`: a variable read by one kernel op through an argument that passes
/// and updates), which it does not store. So the program's constructor sizes its workspace
/// without computing the step's own tables.
template <std::size_t N, std::size_t A>
constexpr buffers<N> step_buffers_of(const tables<N, A>& t, buffers<N> bs) {
    std::array<bool, 2 * N> drop{};
    for (std::size_t k = 0; k < N; ++k) {
        for (std::size_t i = 0; i < t.arity[k]; ++i) {
            if (updated_in_place(t, k, i)) drop[N + t.child[k][i]] = true;
        }
    }
    std::size_t n = 0, m = 0;
    for (std::size_t o = 0; o < bs.placed; ++o) {
        if (!drop[bs.order[o]]) bs.order[n++] = bs.order[o];
        if (!drop[bs.death[o]]) bs.death[m++] = bs.death[o];
    }
    for (std::size_t o = n; o < bs.placed; ++o) bs.order[o] = bs.death[o] = 0;
    for (std::size_t b = 0; b < 2 * N; ++b) {
        if (drop[b]) bs.size[b] = 0;
    }
    bs.placed = n;
    return bs;
}

/// Where a workspace's buffers come from: schedule Sched's own tables (Shared = void), or for an
/// SGD step the buffers of its gradient schedule Shared (step_buffers_of), whose placement it
/// starts from; so the program's constructor sizes its workspace without instantiating the step's
/// schedule (built only when sgd_step is called).
template <class Sched, class Shared = void>
struct buffer_source {
    static constexpr std::size_t N = Sched::N;
    static constexpr std::size_t align = Sched::align;
    using scalar = typename Sched::scalar;
    using shared = Shared;
};

template <class Source>
struct placed;

template <class Sched>
constexpr buffers<Sched::N> buffers_of_source(buffer_source<Sched, void>) {
    return buffers_of(Sched::t, plan_extents<typename Sched::plan>::saved, Sched::backward);
}

template <class Gradient>
constexpr buffers<Gradient::N> buffers_of_source(buffer_source<Gradient, Gradient>) {
    return step_buffers_of(Gradient::t, placed<buffer_source<Gradient>>::all);
}

/// The layout of the buffers of Source: their placement and its size in elements and bytes.
template <class Source>
struct placed {
    static constexpr std::size_t N = Source::N;
    static constexpr buffers<N> all = buffers_of_source(Source{});

    /// Buffers placed per constant evaluation.
    static constexpr std::size_t chunk = 64;

    /// How many chunks an SGD step's placement takes from its gradient schedule's: those before
    /// the first buffer the step drops (the same buffers in the same order, and the same ones
    /// freed: the dropped adjoints live to the end, so they are freed after any other).
    static constexpr std::size_t shared_chunks = [] {
        if constexpr (std::is_void_v<typename Source::shared>) {
            return std::size_t{0};
        } else {
            constexpr auto& g = placed<buffer_source<typename Source::shared>>::all;
            std::size_t o = 0;
            while (o < all.placed && all.order[o] == g.order[o]) ++o;
            return o / chunk;
        }
    }();

    template <std::size_t C>
    static constexpr placement<N> place_until() {
        if constexpr (C == 0) {
            return {};
        } else if constexpr (C == shared_chunks) {
            return placed<buffer_source<typename Source::shared>>::template placed_until<C>;
        } else {
            return place_range(all, placed_until<C - 1>, (C - 1) * chunk, C * chunk, Source::align);
        }
    }

    /// The placement after the first C chunks of buffers.
    template <std::size_t C>
    static constexpr placement<N> placed_until = place_until<C>();

    static constexpr layout<N> offsets = [] {
        constexpr auto& p = placed_until<(all.placed + chunk - 1) / chunk>;
        layout<N> l{};
        for (std::size_t j = 0; j < N; ++j) {
            l.val_off[j] = p.offset[j];
            l.adj_off[j] = p.offset[N + j];
        }
        l.total = p.total;
        l.buffers = all.placed;
        return l;
    }();

    static constexpr std::size_t elements = offsets.total;
    static constexpr std::size_t bytes = offsets.total * sizeof(typename Source::scalar);
};

/// The gradient schedule of the same plan, variables and numbers as the SGD step's Sched.
template <class Sched>
using gradient_schedule_of =
    schedule<typename Sched::plan, typename Sched::wrt, typename Sched::scalar, true>;

/// The workspace of an SGD step whose gradient schedule is Gradient, without instantiating the
/// step's schedule: the same layout as workspace<step schedule>.
template <class Gradient>
using step_workspace = placed<buffer_source<Gradient, Gradient>>;

/// The workspace of schedule Sched: its layout, and its size in elements and bytes.
template <class Sched>
struct workspace
    : placed<std::conditional_t<
          Sched::update, buffer_source<gradient_schedule_of<Sched>, gradient_schedule_of<Sched>>,
          buffer_source<Sched>>> {};

}  // namespace tensor_ad
}  // namespace ctgrad
