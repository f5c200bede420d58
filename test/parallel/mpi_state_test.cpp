// parallel::mpi::average of layer state with dropout step counters, run by
// test/tools/mpi_run.py under `mpirun -np 3` (any number of ranks works). A counter is an
// unsigned integer in its element's bits (tensor/dropout.hpp); averaged as a float it was
// flushed to 0 under DAZ (a count below 2^23 is a subnormal float), or turned into a quiet NaN
// (counts from 0x7f800001 on are signalling NaNs). average() now reduces counters as integers
// (the mean, rounded down) and the other state tensors as floats; a counter is known by its
// declaration (ctgrad::dropout_counter, as nn::dropout declares it), not by its name.
//
// Plain main, not Boost.Test: every rank prints its checks; the exit status is 0 only when all
// of them held (mpirun returns non-zero when any rank does).
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/parallel/mpi.hpp>

namespace nn = ctgrad::nn;
namespace mpi = ctgrad::parallel::mpi;

namespace {

using bn = nn::batch_norm<"bn", 3>;
using drop = nn::dropout<"drop", 1, 4>;
using ddrop = nn::dropout<"ddrop", 1, 4, double>;
constexpr auto net = nn::sequential(nn::dense<"fc", 2, 3>{}, bn{}, nn::relu, drop{});
constexpr auto dnet = nn::sequential(nn::dense<"dfc", 2, 3, double>{}, ddrop{});

int failures = 0;
int rank_ = 0;

void check(bool ok, const std::string& what) {
    std::printf("rank %d: %s: %s\n", rank_, ok ? "ok" : "FAILED", what.c_str());
    if (!ok) ++failures;
}

/// Averages a state pack whose counter holds `count(rank)` on each rank; checks the counter
/// against the integer mean and the running mean against the float mean.
template <class F>
void case_(const mpi::communicator& world, F count, bool daz, const std::string& what) {
    nn::state_of<decltype(net)> s;
    std::uint64_t sum = 0;
    for (int r = 0; r < world.size(); ++r) sum += count(r);
    ctgrad::set_dropout_step(s[drop::step], count(world.rank()));
    s[bn::running_mean](2) = float(world.rank());
    {
        const ctgrad::ftz_scope ftz(daz);  // DAZ|FTZ, as ctgrad's training entry points hold
        mpi::average(s, world);
    }
    const std::uint64_t got = ctgrad::dropout_step(s[drop::step]);
    const std::uint64_t want = sum / std::uint64_t(world.size());
    check(got == want,
          what + ": counter " + std::to_string(got) + ", expected " + std::to_string(want));
    check(s[bn::running_mean](2) == float(world.size() - 1) / 2.0f,
          what + ": the running mean is averaged as a float");
}

}  // namespace

int main(int argc, char** argv) try {
    mpi::environment env(argc, argv);
    const mpi::communicator world;
    rank_ = world.rank();
    // the same count on every rank (the usual case: every rank took the same steps)
    case_(
        world, [](int) { return std::uint64_t{937}; }, true, "937 steps under DAZ");
    case_(
        world, [](int) { return std::uint64_t{937}; }, false, "937 steps");
    // counts that differ: the integer mean rounded down
    case_(
        world, [](int r) { return std::uint64_t(10 + 3 * r); }, true, "10 + 3r steps under DAZ");
    case_(
        world, [](int r) { return (std::uint64_t{1} << 23) + std::uint64_t(r); }, false,
        "2^23 + r steps");
    // counts whose bits are signalling NaNs as floats
    case_(
        world, [](int) { return std::uint64_t{0x7f800001}; }, false, "0x7f800001 steps");
    // a double network's 64-bit counter
    {
        nn::state_of<decltype(dnet)> s;
        const std::uint64_t n = (std::uint64_t{1} << 40) + 5;
        ctgrad::set_dropout_step(s[ddrop::step], n);
        {
            const ctgrad::ftz_scope ftz;
            mpi::average(s, world);
        }
        check(ctgrad::dropout_step(s[ddrop::step]) == n, "a double counter of 2^40 + 5 steps");
    }
    // a user's state variable named like a counter ("x.step", a float tensor [1]) is a number,
    // averaged as a float (counters are known by their declaration, ctgrad::dropout_counter)
    {
        constexpr auto xs = ctgrad::var<"x.step", ctgrad::tensor<float, 1>>;
        nn::state<ctgrad::detail::type_list<std::remove_cvref_t<decltype(xs)>>> s;
        s[xs](0) = 1.5f + float(world.rank());
        mpi::average(s, world);
        check(s[xs](0) == 1.5f + float(world.size() - 1) / 2.0f,
              "a user variable named x.step is averaged as a float");
    }
    return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank_, e.what());
    return 1;
}
