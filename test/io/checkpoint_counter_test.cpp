// Checkpoints and dropout's step counter (io/checkpoint.hpp, tensor/dropout.hpp): version 2
// files hold the counter as the integer in its element's bits, bit for bit; version-1 files,
// written when the counter was a float count (1.0f after one step), are converted on load
// instead of reading 937.0f as 1 148 338 176 steps; a version-1 file that already held the
// counter as bits keeps it; Adam's step count ("adam.step", also a tensor [1] named *.step, a
// double value in every version) and a user's state variable named "x.step" are not touched:
// counters are known by their declaration (ctgrad::dropout_counter), not their name.
#define BOOST_TEST_MODULE io_checkpoint_counter
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/nn.hpp>

namespace fs = std::filesystem;
namespace io = ctgrad::io;
namespace nn = ctgrad::nn;

namespace {

using fc = nn::dense<"fc", 3, 4, float>;
using drop = nn::dropout<"drop", 1, 4, float>;
using bn = nn::batch_norm<"bn", 4, float>;
constexpr auto net = nn::sequential(fc{}, bn{}, nn::relu, drop{});
using params_t = nn::parameters_of<decltype(net)>;
using state_t = nn::state_of<decltype(net)>;

using ddrop = nn::dropout<"ddrop", 1, 2, double>;
constexpr auto dnet = nn::sequential(nn::dense<"dfc", 2, 2, double>{}, ddrop{});
using dstate_t = nn::state_of<decltype(dnet)>;

struct scratch {
    fs::path dir;
    scratch() {
        dir = fs::temp_directory_path() /
              ("ctgrad_checkpoint_counter_test_" + std::to_string(std::random_device{}()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
};

std::vector<unsigned char> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    BOOST_REQUIRE(out.good());
}

std::uint32_t get_u32(const std::vector<unsigned char>& b, std::size_t at) {
    return std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
           std::uint32_t(b[at + 3]) << 24;
}

void put_le(std::vector<unsigned char>& b, std::size_t at, std::uint64_t x, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) b[at + i] = static_cast<unsigned char>(x >> (8 * i));
}

/// The offset of the elements of the record named `name` (the format of io/checkpoint.hpp,
/// walked here independently of the reader).
std::size_t data_of(const std::vector<unsigned char>& b, std::string_view name) {
    std::size_t pos = 12;
    const std::uint32_t count = get_u32(b, pos);
    pos += 4;
    for (std::uint32_t k = 0; k < count; ++k) {
        const std::uint32_t len = get_u32(b, pos);
        pos += 4;
        const std::string_view n(reinterpret_cast<const char*>(b.data() + pos), len);
        pos += len;
        const std::size_t code = b[pos], rank = b[pos + 1];
        pos += 2;
        std::uint64_t elements = 1;
        for (std::size_t d = 0; d < rank; ++d, pos += 8) {
            std::uint64_t dim = 0;
            for (std::size_t i = 0; i < 8; ++i) dim |= std::uint64_t(b[pos + i]) << (8 * i);
            elements *= dim;
        }
        if (n == name) return pos;
        pos += code * elements;
    }
    BOOST_FAIL("no record " << name);
    return 0;
}

/// Turns a saved file into a version-1 file whose counter `name` holds `element` (its bytes),
/// with the checksum (FNV-1a 64 of everything before it) recomputed.
template <class T>
void make_v1(const fs::path& file, std::string_view name, T element) {
    auto b = read_bytes(file);
    BOOST_REQUIRE(get_u32(b, 8) == 2u);  // what this build writes
    put_le(b, 8, 1, 4);
    put_le(b, data_of(b, name),
           std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(element),
           sizeof(T));
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i + 8 < b.size(); ++i) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    put_le(b, b.size() - 8, h, 8);
    write_bytes(file, b);
}

}  // namespace

BOOST_AUTO_TEST_CASE(counters_are_recognised_by_their_declaration) {
    static_assert(ctgrad::detail::is_dropout_counter<std::remove_cvref_t<decltype(drop::step)>>());
    static_assert(ctgrad::detail::is_dropout_counter<std::remove_cvref_t<decltype(ddrop::step)>>());
    static_assert(ctgrad::detail::is_dropout_counter<
                  std::remove_cvref_t<decltype(ctgrad::dropout_counter<"c", double>)>>());
    static_assert(
        !ctgrad::detail::is_dropout_counter<std::remove_cvref_t<decltype(bn::running_mean)>>());
    // the name is not the tag: a plain variable named like the layer's counter is not one
    static_assert(!ctgrad::detail::is_dropout_counter<
                  ctgrad::variable<"drop.step", ctgrad::tensor<float, 1>>>());
    static_assert(!ctgrad::detail::is_dropout_counter<
                  ctgrad::variable<"x.step", ctgrad::tensor<float, 1>>>());
    // a pack lists (and `pack[v]` finds) a tagged counter as the plain variable
    static_assert(
        ctgrad::detail::list_contains_v<state_t::variables,
                                        ctgrad::variable<"drop.step", ctgrad::tensor<float, 1>>>);
    BOOST_TEST(true);
}

// A user's state variable that happens to be named "x.step" (a tensor [1] of float, like a
// counter) holds a number: a version-1 file's 937.0f stays 937.0f (read as a counter it was
// converted to the integer 937 in the element's bits, a subnormal float).
BOOST_AUTO_TEST_CASE(a_user_variable_named_step_is_not_a_counter) {
    scratch s;
    constexpr auto xs = ctgrad::var<"x.step", ctgrad::tensor<float, 1>>;
    using user_state = nn::state<ctgrad::detail::type_list<std::remove_cvref_t<decltype(xs)>>>;
    user_state st;
    const fs::path file = s.dir / "user.ckpt";
    for (const float x : {1.0f, 937.0f, 2.5f}) {
        st[xs](0) = x;
        io::save(file, st);
        user_state back;
        io::load(file, back);
        BOOST_TEST(back[xs](0) == x);  // version 2
        make_v1(file, "x.step", x);
        user_state back1;
        io::load(file, back1);
        BOOST_TEST(back1[xs](0) == x);  // version 1: not converted
    }
}

BOOST_AUTO_TEST_CASE(version_2_keeps_the_counter_bit_for_bit) {
    scratch s;
    params_t p;
    nn::init::he(p, 3);
    state_t st;
    const fs::path file = s.dir / "v2.ckpt";
    // small (subnormal bits), past 2^24 (where a float count stalls), and in the NaN range
    for (const std::uint64_t n : {std::uint64_t{5}, (std::uint64_t{1} << 24) + 1,
                                  std::uint64_t{0x7f800001}, std::uint64_t{0xffffffff}}) {
        ctgrad::set_dropout_step(st[drop::step], n);
        io::save(file, p, st);
        BOOST_TEST(read_bytes(file)[8] == 2u);  // version 2
        state_t back;
        io::load(file, p, back);
        BOOST_TEST(ctgrad::dropout_step(back[drop::step]) == n);
    }
}

BOOST_AUTO_TEST_CASE(version_1_float_counts_are_converted) {
    scratch s;
    params_t p;
    nn::init::he(p, 3);
    state_t st;
    st[bn::running_mean](1) = 0.25f;
    const fs::path file = s.dir / "v1.ckpt";
    for (const float count : {1.0f, 937.0f, 9380.0f, 16777216.0f}) {
        io::save(file, p, st);
        make_v1(file, "drop.step", count);
        state_t back;
        io::load(file, p, back);
        BOOST_TEST(ctgrad::dropout_step(back[drop::step]) == std::uint64_t(count));
        BOOST_TEST(back[bn::running_mean](1) == 0.25f);  // other state as stored
    }
    // a version-1 file written after the counter moved into the bits: kept as it is
    for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{937}, std::uint64_t{1} << 23,
                                  (std::uint64_t{1} << 23) + 7}) {
        io::save(file, p, st);
        make_v1(file, "drop.step", ctgrad::detail::dropout_counter_write<float>(n));
        state_t back;
        io::load(file, p, back);
        BOOST_TEST(ctgrad::dropout_step(back[drop::step]) == n);
    }
}

BOOST_AUTO_TEST_CASE(version_1_double_counts_are_converted) {
    scratch s;
    dstate_t st;
    const fs::path file = s.dir / "v1d.ckpt";
    io::save(file, st);
    make_v1(file, "ddrop.step", 123456.0);
    dstate_t back;
    io::load(file, back);
    BOOST_TEST(ctgrad::dropout_step(back[ddrop::step]) == 123456u);
}

BOOST_AUTO_TEST_CASE(adams_step_count_is_not_a_dropout_counter) {
    scratch s;
    params_t p;
    nn::init::he(p, 3);
    state_t st;
    nn::adam opt(p);
    // 3 steps on a zero gradient: steps() = 3, stored as the double 3.0 in every version
    ctgrad::program prog(ctgrad::sum(net(ctgrad::var<"X", ctgrad::tensor<float, 2, 3>>)), p.wrt());
    ctgrad::tensor<float, 2, 3> x{};
    for (int i = 0; i < 3; ++i) {
        opt.step(p, prog.gradient(p, st, ctgrad::var<"X", ctgrad::tensor<float, 2, 3>> = x));
    }
    BOOST_REQUIRE(opt.steps() == 3u);
    const fs::path file = s.dir / "adam.ckpt";
    io::save(file, p, opt, st);
    make_v1(file, "drop.step", 3.0f);
    nn::adam back(p);
    state_t sb;
    io::load(file, p, back, sb);
    BOOST_TEST(back.steps() == 3u);
    BOOST_TEST(ctgrad::dropout_step(sb[drop::step]) == 3u);
}
