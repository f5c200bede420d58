#define BOOST_TEST_MODULE io_checkpoint
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <ctgrad/ad/program.hpp>
#include <ctgrad/io/checkpoint.hpp>
#include <ctgrad/nn.hpp>

namespace fs = std::filesystem;
namespace io = ctgrad::io;
namespace nn = ctgrad::nn;

namespace {

using fc1 = nn::dense<"fc1", 3, 5, float>;
using fc2 = nn::dense<"fc2", 5, 2, float>;
constexpr auto net = nn::sequential(fc1{}, nn::relu, fc2{});
using params = nn::parameters_of<decltype(net)>;

using dfc1 = nn::dense<"fc1", 3, 5, double>;
using dfc2 = nn::dense<"fc2", 5, 2, double>;
constexpr auto dnet = nn::sequential(dfc1{}, nn::tanh, dfc2{});
using dparams = nn::parameters_of<decltype(dnet)>;

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct scratch {
    fs::path dir;
    scratch() {
        static int n = 0;
        dir = fs::temp_directory_path() /
              ("ctgrad_checkpoint_test_" + std::to_string(std::random_device{}()) + "_" +
               std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
        io::detail::write_hook = nullptr;
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    /// The names of the files in the directory, sorted.
    std::vector<std::string> listing() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) {
            names.push_back(e.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }
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

/// Fills every element of a pack with distinct values derived from `seed`.
template <class P>
void fill(P& p, double seed) {
    double x = seed;
    p.for_each([&](auto, auto& t) {
        using T = typename std::remove_cvref_t<decltype(t)>::value_type;
        for (auto& e : t) {
            x = x * 1.37 + 0.1;
            if (x > 10) x -= 20;
            e = static_cast<T>(x);
        }
    });
}

/// The bytes of every tensor of a pack, in order: equality is bit-exactness.
template <class P>
std::vector<unsigned char> bits(const P& p) {
    std::vector<unsigned char> b;
    p.for_each([&](auto, const auto& t) {
        const auto* c = reinterpret_cast<const unsigned char*>(t.data());
        b.insert(b.end(), c, c + t.size() * sizeof(*t.data()));
    });
    return b;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const io::checkpoint_error& e) {
        return e.what();
    }
    BOOST_ERROR("no checkpoint_error");
    return {};
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(checkpoint_error_is_a_runtime_error) {
    static_assert(std::is_base_of_v<std::runtime_error, io::checkpoint_error>);
}

BOOST_AUTO_TEST_CASE(round_trip_float_is_bit_exact) {
    scratch s;
    params p;
    nn::init::xavier(p, 1);
    // values that only survive a bit-exact format
    auto& w = p[fc1::W];
    w(0, 0) = -0.0f;
    w(0, 1) = std::numeric_limits<float>::infinity();
    w(0, 2) = -std::numeric_limits<float>::infinity();
    w(0, 3) = std::numeric_limits<float>::denorm_min();
    w(0, 4) = std::bit_cast<float>(std::uint32_t{0x7fc12345});  // NaN with a payload
    w(1, 0) = std::numeric_limits<float>::max();
    w(1, 1) = 0.1f;
    const fs::path file = s.dir / "run.ckpt";
    io::save(file, p);
    params q;
    fill(q, 0.5);
    io::load(file, q);
    BOOST_TEST(bits(q) == bits(p));
    BOOST_TEST(s.listing() == std::vector<std::string>{"run.ckpt"});  // no temporary left
}

BOOST_AUTO_TEST_CASE(a_file_name_without_a_directory_is_saved_in_the_working_directory) {
    // the save flushes the file's directory after the rename: "." when the path has none
    scratch s;
    const fs::path before = fs::current_path();
    fs::current_path(s.dir);
    params p;
    nn::init::xavier(p, 3);
    io::save("plain.ckpt", p);
    params q;
    io::load("plain.ckpt", q);
    fs::current_path(before);
    BOOST_TEST(bits(q) == bits(p));
    BOOST_TEST(s.listing() == std::vector<std::string>{"plain.ckpt"});
}

BOOST_AUTO_TEST_CASE(state_packs_round_trip) {
    // batch normalisation's running estimates are saved like parameters
    using bn_net_t = decltype(nn::sequential(fc1{}, nn::batch_norm<"bn1", 5, float>{}, fc2{}));
    scratch s;
    nn::parameters_of<bn_net_t> p;
    nn::init::xavier(p, 4);
    nn::state_of<bn_net_t> st;
    std::size_t i = 0;
    st.for_each([&](auto, auto& t) {
        for (auto& e : t) e = 0.25f * static_cast<float>(i++);
    });
    io::save(s.dir / "bn.ckpt", p, st);
    nn::parameters_of<bn_net_t> p2;
    nn::state_of<bn_net_t> st2;
    io::load(s.dir / "bn.ckpt", p2, st2);
    BOOST_TEST(bits(p2) == bits(p));
    i = 0;
    st2.for_each([&](auto, const auto& t) {
        for (float e : t) BOOST_TEST(e == 0.25f * static_cast<float>(i++));
    });
}

BOOST_AUTO_TEST_CASE(round_trip_double_is_bit_exact) {
    scratch s;
    dparams p;
    nn::init::he(p, 2);
    p[dfc2::b](0) = -0.0;
    p[dfc2::b](1) = std::bit_cast<double>(std::uint64_t{0xfff0000000000abcULL});  // NaN
    p[dfc1::W](2, 4) = std::numeric_limits<double>::denorm_min();
    p[dfc1::W](1, 3) = 1.0 / 3.0;
    const fs::path file = s.dir / "d.ckpt";
    io::save(file, p);
    dparams q;
    io::load(file, q);
    BOOST_TEST(bits(q) == bits(p));
    // saving again over the previous checkpoint replaces it
    nn::init::he(p, 3);
    io::save(file, p);
    io::load(file, q);
    BOOST_TEST(bits(q) == bits(p));
    BOOST_TEST(s.listing() == std::vector<std::string>{"d.ckpt"});
}

BOOST_AUTO_TEST_CASE(the_format_is_as_documented) {
    // one dense layer 1 -> 2 of float: "l.W" [1, 2], "l.b" [2]
    using l = nn::dense<"l", 1, 2, float>;
    nn::parameters<l::parameters> p;
    p[l::W](0, 0) = 1.0f;
    p[l::W](0, 1) = -2.0f;
    p[l::b](0) = 0.5f;
    p[l::b](1) = -0.0f;
    scratch s;
    io::save(s.dir / "f.ckpt", p);
    const auto got = read_bytes(s.dir / "f.ckpt");

    std::vector<unsigned char> want;
    const auto u8 = [&](unsigned v) { want.push_back(static_cast<unsigned char>(v)); };
    const auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) u8((v >> (8 * i)) & 0xff);
    };
    const auto u64 = [&](std::uint64_t v) {
        for (int i = 0; i < 8; ++i) u8(static_cast<unsigned>((v >> (8 * i)) & 0xff));
    };
    const auto str = [&](std::string_view t) {
        for (char c : t) u8(static_cast<unsigned char>(c));
    };
    str("CTGRADCK");
    u32(2);  // version
    u32(2);  // tensors
    u32(3), str("l.W"), u8(4), u8(2), u64(1), u64(2);
    u32(0x3f800000), u32(0xc0000000);  // 1.0f, -2.0f
    u32(3), str("l.b"), u8(4), u8(1), u64(2);
    u32(0x3f000000), u32(0x80000000);  // 0.5f, -0.0f
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : want) h = (h ^ c) * 0x100000001b3ULL;
    u64(h);
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

namespace {
constexpr auto CX = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
constexpr auto CY = ctgrad::var<"Y", ctgrad::tensor<float, 4, 2>>;

/// k steps of optimizer opt on a fixed batch, the network's mse loss.
template <class Opt>
void train(params& p, Opt& opt, int k) {
    ctgrad::tensor<float, 4, 3> x{};
    ctgrad::tensor<float, 4, 2> y{};
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * float(i) - 0.5f;
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = 0.3f * float(i % 3);
    ctgrad::program prog(ctgrad::mse(net(CX), CY), p.wrt());
    for (int i = 0; i < k; ++i) opt.step(p, prog.gradient(p, CX = x, CY = y));
}
}  // namespace

BOOST_AUTO_TEST_CASE(optimizer_state_resumes_exactly) {
    // 5 steps, a checkpoint of parameters and optimizer, 5 more steps; then a fresh network
    // and optimizer loaded from the checkpoint take the same 5 steps: bit-identical results,
    // for Adam (moments and step count: the bias correction depends on it) and momentum
    scratch s;
    {
        params p;
        nn::init::xavier(p, 5);
        nn::adam opt(p, {.lr = 0.01f});
        train(p, opt, 5);
        io::save(s.dir / "adam.ckpt", p, opt);
        train(p, opt, 5);

        params q;
        nn::adam<params> resumed({.lr = 0.01f});
        io::load(s.dir / "adam.ckpt", q, resumed);
        BOOST_TEST(resumed.steps() == 5u);
        train(q, resumed, 5);
        BOOST_TEST(bits(q) == bits(p));
        BOOST_TEST(resumed.steps() == opt.steps());
    }
    {
        params p;
        nn::init::xavier(p, 6);
        nn::momentum opt(p, {.lr = 0.05f, .mu = 0.9f, .nesterov = true});
        train(p, opt, 5);
        io::save(s.dir / "momentum.ckpt", p, opt);
        train(p, opt, 5);
        params q;
        nn::momentum<params> resumed({.lr = 0.05f, .mu = 0.9f, .nesterov = true});
        io::load(s.dir / "momentum.ckpt", q, resumed);
        train(q, resumed, 5);
        BOOST_TEST(bits(q) == bits(p));
    }
    // the state's names in the file, and a mismatch (Adam state into a momentum optimizer)
    params p;
    nn::adam<params> a;
    io::save(s.dir / "a.ckpt", p, a);
    nn::momentum<params> m;
    const std::string e = error_of([&] { io::load(s.dir / "a.ckpt", p, m); });
    BOOST_TEST(contains(e, "the file holds 13 tensors"));
    std::ifstream in(s.dir / "a.ckpt", std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(contains(file, "adam.m.fc1.W"));
    BOOST_TEST(contains(file, "adam.v.fc2.b"));
    BOOST_TEST(contains(file, "adam.step"));
}

BOOST_AUTO_TEST_CASE(several_packs_in_one_file) {
    scratch s;
    params p, m, v;
    fill(p, 0.1);
    fill(m, 0.2);
    fill(v, 0.3);
    const fs::path file = s.dir / "adam.ckpt";
    io::save(file, p, m, v);
    params p2, m2, v2;
    io::load(file, p2, m2, v2);
    BOOST_TEST(bits(p2) == bits(p));
    BOOST_TEST(bits(m2) == bits(m));
    BOOST_TEST(bits(v2) == bits(v));

    // mixed element types across packs
    dparams d;
    fill(d, 0.7);
    io::save(file, p, d);
    params p3;
    dparams d3;
    io::load(file, p3, d3);
    BOOST_TEST(bits(p3) == bits(p));
    BOOST_TEST(bits(d3) == bits(d));

    // the packs must be given in the saved order and number
    io::save(file, p, m, v);
    params a, b;
    fill(a, 0.9);
    const auto before = bits(a);
    const std::string e1 = error_of([&] { io::load(file, a, b); });
    BOOST_TEST(contains(e1, "the file holds 12 tensors"));
    BOOST_TEST(contains(e1, "expect 8"));
    const std::string e2 = error_of([&] { io::load(file, a); });
    BOOST_TEST(contains(e2, "the file holds 12 tensors, the network expects 4"));
    io::save(file, p, d);
    params c;
    const std::string e3 = error_of([&] { io::load(file, a, c); });
    BOOST_TEST(contains(e3, "(pack 2 of 2)"));
    BOOST_TEST(contains(e3, "holds double in the file"));
    BOOST_TEST(bits(a) == before);
}

BOOST_AUTO_TEST_CASE(shape_mismatch_names_the_parameter_and_both_shapes) {
    scratch s;
    const fs::path file = s.dir / "run.ckpt";
    params p;
    nn::init::xavier(p, 4);
    io::save(file, p);
    // the same network with a wider hidden layer
    using wide1 = nn::dense<"fc1", 3, 6, float>;
    using wide2 = nn::dense<"fc2", 6, 2, float>;
    constexpr auto wide = nn::sequential(wide1{}, nn::relu, wide2{});
    nn::parameters_of<decltype(wide)> q;
    fill(q, 0.25);
    const auto before = bits(q);
    const std::string e = error_of([&] { io::load(file, q); });
    BOOST_TEST(e == "ctgrad::io::load: " + file.string() +
                        ": parameter fc1.W has shape [3, 5] in the file, the network expects "
                        "[3, 6]");
    BOOST_TEST(bits(q) == before);
}

BOOST_AUTO_TEST_CASE(name_mismatch) {
    scratch s;
    const fs::path file = s.dir / "run.ckpt";
    params p;
    io::save(file, p);
    using enc = nn::dense<"enc", 3, 5, float>;
    constexpr auto other = nn::sequential(enc{}, nn::relu, fc2{});
    nn::parameters_of<decltype(other)> q;
    fill(q, 0.5);
    const auto before = bits(q);
    const std::string e = error_of([&] { io::load(file, q); });
    BOOST_TEST(contains(e, file.string()));
    BOOST_TEST(contains(e, "\"fc1.W\" in the file"));
    BOOST_TEST(contains(e, "\"enc.W\""));
    BOOST_TEST(bits(q) == before);
}

BOOST_AUTO_TEST_CASE(number_of_tensors_mismatch) {
    scratch s;
    const fs::path file = s.dir / "run.ckpt";
    params p;
    io::save(file, p);
    nn::parameters<fc1::parameters> one;
    fill(one, 0.5);
    const auto before = bits(one);
    const std::string e = error_of([&] { io::load(file, one); });
    BOOST_TEST(contains(e, file.string() + ": the file holds 4 tensors, the network expects 2"));
    BOOST_TEST(bits(one) == before);

    constexpr auto deeper = nn::sequential(fc1{}, nn::relu, fc2{}, nn::dense<"fc3", 2, 2>{});
    nn::parameters_of<decltype(deeper)> more;
    BOOST_TEST(contains(error_of([&] { io::load(file, more); }),
                        "the file holds 4 tensors, the network expects 6"));
}

BOOST_AUTO_TEST_CASE(element_type_mismatch) {
    scratch s;
    const fs::path file = s.dir / "run.ckpt";
    params p;
    io::save(file, p);
    dparams q;
    fill(q, 0.5);
    const auto before = bits(q);
    const std::string e = error_of([&] { io::load(file, q); });
    BOOST_TEST(contains(e, "parameter fc1.W holds float in the file, the network expects double"));
    BOOST_TEST(bits(q) == before);
}

BOOST_AUTO_TEST_CASE(every_bit_flip_is_an_error) {
    using tiny = nn::dense<"t", 2, 1, float>;
    nn::parameters<tiny::parameters> p;
    fill(p, 0.3);
    scratch s;
    const fs::path good = s.dir / "good.ckpt";
    const fs::path bad = s.dir / "bad.ckpt";
    io::save(good, p);
    const auto bytes = read_bytes(good);
    BOOST_TEST_REQUIRE(bytes.size() > 40u);
    nn::parameters<tiny::parameters> q;
    fill(q, 0.9);
    const auto before = bits(q);
    std::size_t errors = 0, checksum_errors = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto b = bytes;
            b[i] ^= static_cast<unsigned char>(1u << bit);
            write_bytes(bad, b);
            try {
                io::load(bad, q);
            } catch (const io::checkpoint_error& e) {
                ++errors;
                if (contains(e.what(), "checksum mismatch")) ++checksum_errors;
            }
        }
    }
    BOOST_TEST(errors == bytes.size() * 8);
    BOOST_TEST(bits(q) == before);
    // every bit of the data and of the checksum is caught by the checksum
    BOOST_TEST(checksum_errors >= (2 * 4 + 1 * 4 + 8) * 8u);
    // a flipped data bit reports the checksum
    auto b = bytes;
    b[bytes.size() - 9] ^= 0x10;
    write_bytes(bad, b);
    BOOST_TEST(error_of([&] { io::load(bad, q); }) ==
               "ctgrad::io::load: " + bad.string() + ": checksum mismatch (the file is corrupt)");
    io::load(good, q);
    BOOST_TEST(bits(q) == bits(p));
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_error) {
    scratch s;
    params p;
    fill(p, 0.4);
    const fs::path good = s.dir / "good.ckpt";
    const fs::path bad = s.dir / "bad.ckpt";
    io::save(good, p);
    const auto bytes = read_bytes(good);
    params q;
    fill(q, 0.8);
    const auto before = bits(q);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(bad, std::vector<unsigned char>(
                             bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
        const std::string e = error_of([&] { io::load(bad, q); });
        BOOST_TEST((contains(e, "truncated") || contains(e, "checksum")), n << ": " << e);
        BOOST_TEST(contains(e, bad.string()));
    }
    BOOST_TEST(bits(q) == before);
}

BOOST_AUTO_TEST_CASE(trailing_bytes_are_an_error) {
    scratch s;
    params p;
    const fs::path file = s.dir / "run.ckpt";
    io::save(file, p);
    const auto bytes = read_bytes(file);
    params q;
    fill(q, 0.8);
    const auto before = bits(q);
    for (std::size_t extra : {1u, 7u, 8u, 100u}) {
        auto b = bytes;
        b.resize(b.size() + extra, 0);
        write_bytes(file, b);
        const std::string e = error_of([&] { io::load(file, q); });
        BOOST_TEST(contains(e, std::to_string(extra) + " trailing bytes"), e);
    }
    BOOST_TEST(bits(q) == before);
}

BOOST_AUTO_TEST_CASE(not_a_checkpoint_and_other_versions) {
    scratch s;
    params p;
    const fs::path file = s.dir / "run.ckpt";
    io::save(file, p);
    auto b = read_bytes(file);
    b[0] = 'X';
    write_bytes(file, b);
    BOOST_TEST(contains(error_of([&] { io::load(file, p); }), "not a ctgrad checkpoint"));
    b[0] = 'C';
    b[8] = 3;  // version 3 (1 and 2 are read)
    write_bytes(file, b);
    BOOST_TEST(contains(error_of([&] { io::load(file, p); }), "format version 3 is not supported"));
    write_bytes(file, {});
    BOOST_TEST(contains(error_of([&] { io::load(file, p); }), "empty file"));
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_error) {
    scratch s;
    params p;
    fill(p, 0.5);
    const auto before = bits(p);
    const fs::path file = s.dir / "nope.ckpt";
    BOOST_TEST(error_of([&] { io::load(file, p); }) ==
               "ctgrad::io::load: " + file.string() + ": no such file");
    BOOST_TEST(contains(error_of([&] { io::load(s.dir, p); }), "is a directory"));
    BOOST_TEST(bits(p) == before);
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_the_old_checkpoint) {
    // big enough for several write chunks
    using big = nn::dense<"big", 400, 300, float>;
    nn::parameters<big::parameters> p;
    nn::init::xavier(p, 1);
    scratch s;
    const fs::path file = s.dir / "run.ckpt";
    io::save(file, p);
    const auto old = read_bytes(file);
    BOOST_TEST_REQUIRE(old.size() > 4 * io::detail::write_chunk);

    nn::init::xavier(p, 2);
    for (std::uint64_t fail_at : {std::uint64_t{1}, std::uint64_t{3 * io::detail::write_chunk},
                                  std::uint64_t{old.size()}}) {
        bool temporary_seen = false;
        io::detail::write_hook = [&](std::uint64_t written) {
            if (written >= fail_at) {
                // the failure happens mid-save: the temporary is there, the target is old
                temporary_seen = s.listing().size() == 2;
                throw std::runtime_error("injected write failure");
            }
        };
        BOOST_CHECK_THROW(io::save(file, p), std::runtime_error);
        io::detail::write_hook = nullptr;
        BOOST_TEST(temporary_seen);
        BOOST_TEST(read_bytes(file) == old);
        BOOST_TEST(s.listing() == std::vector<std::string>{"run.ckpt"});
    }
    // the old checkpoint still loads, and saving without the failure works
    nn::parameters<big::parameters> q;
    io::load(file, q);
    BOOST_TEST(std::memcmp(read_bytes(file).data(), old.data(), old.size()) == 0);
    io::save(file, p);
    io::load(file, q);
    BOOST_TEST(bits(q) == bits(p));
}

BOOST_AUTO_TEST_CASE(a_failed_rename_or_open_leaves_no_temporary) {
    scratch s;
    params p;
    // the target is a non-empty directory: the rename fails
    const fs::path target = s.dir / "taken";
    fs::create_directories(target / "inside");
    const std::string e = error_of([&] { io::save(target, p); });
    BOOST_TEST(contains(e, "ctgrad::io::save: " + target.string() + ": cannot rename"));
    BOOST_TEST(s.listing() == std::vector<std::string>{"taken"});
    // the directory does not exist: the temporary cannot be created
    const fs::path nowhere = s.dir / "no" / "such" / "dir" / "run.ckpt";
    BOOST_TEST(contains(error_of([&] { io::save(nowhere, p); }), "cannot create the temporary"));
    BOOST_TEST(s.listing() == std::vector<std::string>{"taken"});
}
