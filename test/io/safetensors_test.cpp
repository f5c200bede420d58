// safetensors: round trips of float and double packs (several packs, metadata); the element
// types of a file written by an independent writer (test/io/data/make_pytorch_mlp.py: F16,
// BF16, F32, F64, __metadata__); the name maps (PyTorch's transposed linear weights, unchanged
// kernels, batch norm, ignored counters, a custom map); every kind of bad file rejected with an
// io::weights_error naming the file, the tensor and the problem, the packs unchanged; fuzzing
// (every truncation, seeded byte flips).
#define BOOST_TEST_MODULE io_safetensors
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/io/safetensors.hpp>
#include <ctgrad/nn.hpp>

#include "weights_test_support.hpp"

namespace io = ctgrad::io;
namespace nn = ctgrad::nn;
using namespace weights_test;
using ctgrad::tensor;
using ctgrad::var;

namespace {

template <auto... V>
using pack_of = nn::parameters<ctgrad::detail::type_list<std::remove_cvref_t<decltype(V)>...>>;

constexpr auto A = var<"a", tensor<float, 2, 3>>;
constexpr auto B = var<"b", tensor<float, 3>>;
using small_pack = pack_of<A, B>;

/// A safetensors file from a header text and data bytes (the header padded to `align`).
bytes st_file(std::string header, const bytes& data, std::size_t align = 8) {
    while (header.size() % align != 0) header += ' ';
    bytes out;
    io::detail::put_le(out, header.size(), 8);
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

bytes f32_bytes(std::initializer_list<float> v) {
    bytes out;
    for (float x : v) io::detail::put_le(out, std::bit_cast<std::uint32_t>(x), 4);
    return out;
}

const std::string good_header = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                                R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})";
const bytes good_data = f32_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9});

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_several_packs_and_metadata) {
    using net_t = decltype(nn::sequential(nn::dense<"fc1", 5, 3>{}, nn::relu,
                                          nn::dense<"fc2", 3, 2, float>{}));
    constexpr auto S = var<"s", tensor<double>>;  // rank 0
    constexpr auto V3 = var<"v3", tensor<double, 2, 1, 3>>;
    nn::parameters_of<net_t> p, p2;
    pack_of<S, V3> q, q2;
    fill(std::tie(p, q), 0.5);
    q[V3](1, 0, 2) = -0.0;
    q[S].data()[0] = std::numeric_limits<double>::infinity();
    tmp_dir t;
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"quote\"", "é\n"}};
    io::save_safetensors(t / "w.safetensors", std::tie(p, q), io::ctgrad_names, meta);
    io::load_safetensors(t / "w.safetensors", std::tie(p2, q2));
    BOOST_TEST((snapshot(std::tie(p2, q2)) == snapshot(std::tie(p, q))));
    BOOST_TEST((io::read_safetensors_metadata(t / "w.safetensors") == meta));
    const bytes f = read_bytes(t / "w.safetensors");
    const std::uint64_t n = io::detail::get_le(f.data(), 8);
    BOOST_TEST(n % 8 == 0u);
    BOOST_TEST(f.size() == 8 + n + 4 * (15 + 3 + 6 + 2) + 8 * (1 + 6));
    // the reference writer's order: F64 tensors first, then by name; __metadata__ first
    const std::string h(f.begin() + 8, f.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    BOOST_TEST(h.find("{\"__metadata__\":{") == 0u);
    BOOST_TEST(h.find("\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}") !=
               std::string::npos);
    BOOST_TEST(h.find("\"v3\"") < h.find("\"fc1.W\""));
    // with PyTorch names: fc1.weight [3, 5]
    io::save_safetensors(t / "pt.safetensors", p, io::pytorch_names);
    const bytes g = read_bytes(t / "pt.safetensors");
    const std::string hp(
        g.begin() + 8,
        g.begin() + 8 + static_cast<std::ptrdiff_t>(io::detail::get_le(g.data(), 8)));
    BOOST_TEST(hp.find("\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,5]") != std::string::npos);
    nn::parameters_of<net_t> p3;
    io::load_safetensors(t / "pt.safetensors", p3, io::pytorch_names);
    BOOST_TEST((snapshot(p3) == snapshot(p)));
    // a file saved with PyTorch names is not one with ctgrad names
    nn::parameters_of<net_t> p4;
    expect_error(
        p4, [&] { io::load_safetensors(t / "pt.safetensors", p4); }, t / "pt.safetensors",
        "tensor \"fc1.W\" (parameter fc1.W): missing from the file");
}

BOOST_AUTO_TEST_CASE(element_types_of_an_independent_writer) {
    constexpr auto H16 = var<"h.f16", tensor<float, 3, 4>>;
    constexpr auto HB = var<"h.bf16", tensor<double, 3, 4>>;
    constexpr auto H32 = var<"h.f32", tensor<double, 3, 4>>;
    constexpr auto H64 = var<"h.f64", tensor<double, 3, 4>>;
    pack_of<H16, HB, H32, H64> p;
    const fs::path file = data_dir() / "halves.safetensors";
    io::load_safetensors(file, p);
    for (std::size_t i = 0; i < 12; ++i) {
        const double v = static_cast<double>(i) * 0.5 - 3;
        BOOST_TEST(p[H16].data()[i] == static_cast<float>(v));
        BOOST_TEST(p[HB].data()[i] == v);
        BOOST_TEST(p[H32].data()[i] == v);
        BOOST_TEST(p[H64].data()[i] == v + static_cast<double>(i) * 1e-9);
    }
    const auto meta = io::read_safetensors_metadata(file);
    BOOST_TEST(meta.size() == 2u);
    BOOST_TEST(meta.at("format") == "pt");
    // F64 into a float parameter would round: refused
    constexpr auto F64f = var<"h.f64", tensor<float, 3, 4>>;
    pack_of<F64f> q;
    expect_error(
        q, [&] { io::load_safetensors(file, q, io::ctgrad_names, io::unused_tensors::ignore); },
        file,
        "tensor \"h.f64\" (parameter h.f64): element type F64 in the file, the parameter is float");
}

BOOST_AUTO_TEST_CASE(half_precision_special_values) {
    // F16: ±0, subnormals, the largest, ±inf, NaN; BF16: truncated float bits
    const std::uint16_t h[] = {0x0000, 0x8000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x3c00};
    bytes d;
    for (auto x : h) io::detail::put_le(d, x, 2);
    for (auto x : {0x3f80u, 0xc049u, 0x7f80u, 0x0001u}) io::detail::put_le(d, x, 2);
    d.push_back(0);  // one more F16 element for a NaN
    d.push_back(0x7e);
    tmp_dir t;
    write_bytes(t / "h.safetensors",
                st_file(R"({"h":{"dtype":"F16","shape":[8],"data_offsets":[0,16]},)"
                        R"("g":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},)"
                        R"("n":{"dtype":"F16","shape":[],"data_offsets":[24,26]}})",
                        d));
    constexpr auto Hv = var<"h", tensor<float, 8>>;
    constexpr auto G = var<"g", tensor<float, 4>>;
    constexpr auto N = var<"n", tensor<double>>;
    pack_of<Hv, G, N> p;
    io::load_safetensors(t / "h.safetensors", p);
    const float* x = p[Hv].data();
    BOOST_TEST((x[0] == 0.0f && !std::signbit(x[0])));
    BOOST_TEST((x[1] == 0.0f && std::signbit(x[1])));
    BOOST_TEST(x[2] == 0x1p-24f);
    BOOST_TEST(x[3] == 1023 * 0x1p-24f);
    BOOST_TEST(x[4] == 65504.0f);
    BOOST_TEST(x[5] == std::numeric_limits<float>::infinity());
    BOOST_TEST(x[6] == -std::numeric_limits<float>::infinity());
    BOOST_TEST(x[7] == 1.0f);
    BOOST_TEST(p[G].data()[0] == 1.0f);
    BOOST_TEST(p[G].data()[1] == std::bit_cast<float>(0xc0490000u));
    BOOST_TEST(p[G].data()[2] == std::numeric_limits<float>::infinity());
    BOOST_TEST(p[G].data()[3] == std::bit_cast<float>(0x00010000u));
    BOOST_TEST(std::isnan(p[N].data()[0]));
}

BOOST_AUTO_TEST_CASE(name_maps) {
    // PyTorch: conv kernel unchanged, linear transposed, batch norm weight/bias, running stats,
    // num_batches_tracked (I64) ignored
    constexpr auto C1 = var<"c1.W", tensor<float, 2, 3, 1, 2>>;
    constexpr auto C1b = var<"c1.b", tensor<float, 2>>;
    constexpr auto L = var<"fc.W", tensor<float, 3, 2>>;
    // batch norm's scale and shift as its layers list them (tagged with their role: a plain
    // variable named "bn.gamma" keeps its name, test pytorch_names_know_batch_norm_by_its_role)
    using bn_vars = nn::detail::batch_norm_variables<"bn", 2, float>;
    constexpr auto G = ctgrad::detail::at_t<bn_vars::parameters, 0>{};
    constexpr auto Bt = ctgrad::detail::at_t<bn_vars::parameters, 1>{};
    constexpr auto M = var<"bn.running_mean", tensor<float, 2>>;
    pack_of<C1, C1b, L, G, Bt> p;
    pack_of<M> s;
    bytes d;
    for (int i = 0; i < 12 + 2 + 6 + 2 + 2 + 2; ++i) {
        io::detail::put_le(d, std::bit_cast<std::uint32_t>(static_cast<float>(i)), 4);
    }
    for (int i = 0; i < 8; ++i) d.push_back(i == 0 ? 7 : 0);  // num_batches_tracked = 7
    const std::string h =
        R"({"c1.weight":{"dtype":"F32","shape":[2,3,1,2],"data_offsets":[0,48]},)"
        R"("c1.bias":{"dtype":"F32","shape":[2],"data_offsets":[48,56]},)"
        R"("fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[56,80]},)"
        R"("bn.weight":{"dtype":"F32","shape":[2],"data_offsets":[80,88]},)"
        R"("bn.bias":{"dtype":"F32","shape":[2],"data_offsets":[88,96]},)"
        R"("bn.running_mean":{"dtype":"F32","shape":[2],"data_offsets":[96,104]},)"
        R"("bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[104,112]}})";
    tmp_dir t;
    write_bytes(t / "pt.safetensors", st_file(h, d));
    io::load_safetensors(t / "pt.safetensors", std::tie(p, s), io::pytorch_names);
    for (std::size_t i = 0; i < 12; ++i) BOOST_TEST(p[C1].data()[i] == float(i));
    BOOST_TEST(p[C1b](1) == 13.0f);
    // fc.weight [2, 3] = [[14, 15, 16], [17, 18, 19]]: fc.W(i, o) = weight(o, i)
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t o = 0; o < 2; ++o) BOOST_TEST(p[L](i, o) == float(14 + 3 * o + i));
    }
    BOOST_TEST(p[G](0) == 20.0f);
    BOOST_TEST(p[Bt](1) == 23.0f);
    BOOST_TEST(s[M](1) == 25.0f);
    // ctgrad names: nothing maps to these names
    pack_of<C1> only;
    expect_error(
        only, [&] { io::load_safetensors(t / "pt.safetensors", only); }, t / "pt.safetensors",
        "missing from the file");
    // unused tensors: rejected by default, ignored on request
    pack_of<C1> c;
    expect_error(
        c, [&] { io::load_safetensors(t / "pt.safetensors", c, io::pytorch_names); },
        t / "pt.safetensors", "tensor \"c1.bias\" is in the file but no parameter maps to it");
    io::load_safetensors(t / "pt.safetensors", c, io::pytorch_names, io::unused_tensors::ignore);
    BOOST_TEST(c[C1](1, 2, 0, 1) == 11.0f);
    // a custom map: nn.Sequential's indices ("0.weight") for the layer named "c1"
    const auto seq = [](std::string_view n, std::size_t rank) {
        io::mapped_name m = io::pytorch_names(n, rank);
        if (m.name.starts_with("c1.")) m.name = "0." + m.name.substr(3);
        return m;
    };
    pack_of<C1, C1b> q;
    fill(q, 1.0);
    io::save_safetensors(t / "seq.safetensors", q, seq);
    pack_of<C1, C1b> q2;
    io::load_safetensors(t / "seq.safetensors", q2, seq);
    BOOST_TEST((snapshot(q2) == snapshot(q)));
    BOOST_TEST(io::read_safetensors_metadata(t / "seq.safetensors").empty());
    expect_error(
        q2, [&] { io::load_safetensors(t / "seq.safetensors", q2, io::pytorch_names); },
        t / "seq.safetensors", "tensor \"c1.weight\" (parameter c1.W): missing");
    // two parameters mapping to one name
    const auto clash = [](std::string_view, std::size_t) { return io::mapped_name{"x", false}; };
    expect_error(
        q2, [&] { io::load_safetensors(t / "seq.safetensors", q2, clash); }, t / "seq.safetensors",
        "parameters c1.W and c1.b both map to the file name \"x\"");
    BOOST_CHECK_THROW(io::save_safetensors(t / "clash.safetensors", q2, clash), io::weights_error);
    BOOST_TEST(!fs::exists(t / "clash.safetensors"));
}

BOOST_AUTO_TEST_CASE(pytorch_names_know_batch_norm_by_its_role) {
    // nn::batch_norm's scale and shift are PyTorch's BatchNorm "weight" and "bias"; a parameter
    // of yours named "ls.gamma" / "ls.beta" (timm's LayerScale names its scale "gamma") keeps its
    // name: PyTorch's state_dict calls it that too.
    using bn = nn::batch_norm<"bn", 2, float>;
    constexpr auto LG = var<"ls.gamma", tensor<float, 3>>;
    constexpr auto LB = var<"ls.beta", tensor<float, 3>>;
    using bn_vars = nn::detail::batch_norm_variables<"bn", 2, float>;
    using mixed = nn::parameters<ctgrad::detail::type_list<
        ctgrad::detail::at_t<bn_vars::parameters, 0>, ctgrad::detail::at_t<bn_vars::parameters, 1>,
        std::remove_cvref_t<decltype(LG)>, std::remove_cvref_t<decltype(LB)>>>;
    using layer_list = nn::parameters_t<decltype(nn::sequential(bn{}))>;
    static_assert(io::detail::role_of<ctgrad::detail::at_t<layer_list, 0>>() ==
                  io::parameter_role::batch_norm_scale);
    static_assert(io::detail::role_of<ctgrad::detail::at_t<layer_list, 1>>() ==
                  io::parameter_role::batch_norm_shift);
    mixed p;
    for (std::size_t i = 0; i < 2; ++i)
        p[bn::gamma](i) = float(1 + i), p[bn::beta](i) = float(3 + i);
    for (std::size_t i = 0; i < 3; ++i) p[LG](i) = float(5 + i), p[LB](i) = float(8 + i);
    tmp_dir t;
    io::save_safetensors(t / "pt.safetensors", p, io::pytorch_names);
    // the file's names, read with the identity map
    constexpr auto FW = var<"bn.weight", tensor<float, 2>>;
    constexpr auto FB = var<"bn.bias", tensor<float, 2>>;
    pack_of<FW, FB, LG, LB> f;
    io::load_safetensors(t / "pt.safetensors", f);
    BOOST_TEST(f[FW](1) == 2.0f);
    BOOST_TEST(f[FB](0) == 3.0f);
    BOOST_TEST(f[LG](2) == 7.0f);
    BOOST_TEST(f[LB](0) == 8.0f);
    // and back through pytorch_names
    mixed q;
    io::load_safetensors(t / "pt.safetensors", q, io::pytorch_names);
    BOOST_TEST((snapshot(q) == snapshot(p)));
    // a name map of yours that takes the role and forwards it
    const auto seq = [](std::string_view n, std::size_t rank, io::parameter_role role) {
        io::mapped_name m = io::pytorch_names(n, rank, role);
        if (m.name.starts_with("bn.")) m.name = "1." + m.name.substr(3);
        return m;
    };
    io::save_safetensors(t / "seq.safetensors", p, seq);
    constexpr auto SW = var<"1.weight", tensor<float, 2>>;
    constexpr auto SB = var<"1.bias", tensor<float, 2>>;
    pack_of<SW, SB, LG, LB> g;
    io::load_safetensors(t / "seq.safetensors", g);
    BOOST_TEST(g[SW](0) == 1.0f);
    BOOST_TEST(g[SB](1) == 4.0f);
    // the role is read from the declaration: numpy's .npz writer takes the same map
    static_assert(io::detail::role_of<std::remove_cvref_t<decltype(LG)>>() ==
                  io::parameter_role::other);
}

BOOST_AUTO_TEST_CASE(bad_files) {
    tmp_dir t;
    small_pack p;
    fill(p, 3.0);
    const fs::path f = t / "bad.safetensors";
    const auto check = [&](const bytes& contents, const std::string& expect) {
        write_bytes(f, contents);
        expect_error(
            p, [&] { io::load_safetensors(f, p); }, f, expect);
    };
    // the good file loads
    write_bytes(f, st_file(good_header, good_data));
    small_pack ok;
    io::load_safetensors(f, ok);
    BOOST_TEST(ok[A](1, 2) == 6.0f);
    BOOST_TEST(ok[B](2) == 9.0f);

    check({}, "truncated: 0 bytes");
    check({1, 2, 3}, "truncated: 3 bytes");
    bytes huge;
    io::detail::put_le(huge, 100'000'001, 8);
    check(huge, "header length 100000001 is too large");
    bytes big;
    io::detail::put_le(big, ~std::uint64_t{0}, 8);
    check(big, "is too large");
    bytes longer = st_file(good_header, good_data);
    longer[0] = static_cast<unsigned char>(longer.size());
    check(longer, "truncated: the header length is");
    check(st_file(" " + good_header, good_data), "does not start with '{'");
    check(st_file("{\"a\xff\":1}", {}), "not valid UTF-8");
    check(st_file("{\"a\xc0\x80\":1}", {}), "not valid UTF-8");  // overlong
    check(st_file(R"({"a":{"dtype":"F32",}})", {}), "bad JSON header at byte");
    check(st_file(R"({"a":{"dtype":"F32")", {}), "bad JSON header");
    check(st_file(R"({"a":[1,2]} x)", {}), "unexpected characters after the JSON value");
    check(st_file(R"({"__metadata__":{"k":"\ud800"}})", {}), "lone high surrogate");
    check(st_file(R"({"__metadata__":{"k":"a)"
                  "\x01"
                  R"("}})",
                  {}),
          "control character");
    check(st_file("{\"x\":" + std::string(200, '[') + std::string(200, ']') + "}", {}),
          "nested deeper than 64");
    check(st_file(good_header.substr(0, good_header.size() - 1) +
                      R"(,"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
                  good_data),
          "duplicate key \"a\"");
    check(st_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
                  good_data),
          "duplicate key \"dtype\"");
    check(st_file(R"([1])", {}), "does not start with '{'");
    check(st_file(R"({"a":7})", {}), "tensor \"a\": its entry is not an object");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24],"x":1}})", {}),
          "tensor \"a\": unknown field \"x\"");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6]}})", {}),
          "tensor \"a\": needs the fields dtype, shape and data_offsets");
    check(st_file(R"({"a":{"dtype":"F33","shape":[6],"data_offsets":[0,24]}})", bytes(24)),
          "tensor \"a\": unknown dtype \"F33\"");
    check(st_file(R"({"a":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}})", bytes(24)),
          "tensor \"a\": shape holds something other than a non-negative integer");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6.0],"data_offsets":[0,24]}})", bytes(24)),
          "shape holds something other than a non-negative integer");
    check(st_file(R"({"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,24]}})",
                  bytes(24)),
          "shape holds something other than a non-negative integer");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0]}})", bytes(24)),
          "tensor \"a\": data_offsets is not a pair");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,20]}})", bytes(20)),
          "tensor \"a\": data_offsets [0, 20] hold 20 bytes, dtype F32 and shape [6] need 24");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[24,0]}})", bytes(24)),
          "end before they begin");
    check(st_file(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[8,32]}})", bytes(24)),
          "tensor \"a\": data_offsets [8, 32] are out of range (the data buffer has 24 bytes)");
    check(st_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}})",
                  bytes(24)),
          "overflows");
    check(st_file(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})", bytes(1)),
          "not a whole number of bytes");
    check(st_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                  R"("b":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}})",
                  bytes(36)),
          "tensor \"b\": data_offsets [20, 32] overlap those of tensor \"a\"");
    check(st_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[4,28]},)"
                  R"("b":{"dtype":"F32","shape":[3],"data_offsets":[28,40]}})",
                  bytes(40)),
          "leave bytes [0, 4) of the data buffer uncovered");
    check(st_file(good_header, concat_bytes(good_data, bytes{0})),
          "the tensors cover 36 bytes of the data buffer, which has 37");
    check(st_file(R"({"__metadata__":{"k":1},)" + good_header.substr(1), good_data),
          "__metadata__ value of \"k\" is not a string");
    check(st_file(R"({"__metadata__":[],)" + good_header.substr(1), good_data),
          "__metadata__ is not an object");
    // valid files that do not fit the pack
    check(st_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
                  bytes(good_data.begin(), good_data.begin() + 24)),
          "tensor \"b\" (parameter b): missing from the file");
    check(st_file(R"({"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
                  R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})",
                  good_data),
          "tensor \"a\" (parameter a): shape [3, 2] in the file, expected [2, 3]");
    check(st_file(R"({"a":{"dtype":"I32","shape":[2,3],"data_offsets":[0,24]},)"
                  R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})",
                  good_data),
          "tensor \"a\" (parameter a): element type I32 cannot be loaded");
    check(st_file(good_header.substr(0, good_header.size() - 1) +
                      R"(,"c":{"dtype":"U8","shape":[0],"data_offsets":[36,36]}})",
                  good_data),
          "tensor \"c\" is in the file but no parameter maps to it");
    // files that are not there
    expect_error(
        p, [&] { io::load_safetensors(t / "nope.safetensors", p); }, t / "nope.safetensors",
        "no such file");
    expect_error(
        p, [&] { io::load_safetensors(t.dir, p); }, t.dir, "is a directory");
    // names and metadata must be UTF-8 (the reader requires it)
    BOOST_CHECK_THROW(io::save_safetensors(t / "m.safetensors", p, io::ctgrad_names,
                                           {{"k", std::string("\xff")}}),
                      io::weights_error);
    const auto latin1 = [](std::string_view n, std::size_t) {
        return io::mapped_name{std::string(n) + "\xe9", false};
    };
    BOOST_CHECK_THROW(io::save_safetensors(t / "m.safetensors", p, latin1), io::weights_error);
    BOOST_TEST(!fs::exists(t / "m.safetensors"));
    // a save into a directory that does not exist fails cleanly
    BOOST_CHECK_THROW(io::save_safetensors(t / "no" / "w.safetensors", p), io::weights_error);
}

BOOST_AUTO_TEST_CASE(offsets_in_any_order_and_empty_tensors) {
    // the header lists tensors in any order; a zero-size tensor takes no bytes
    constexpr auto E = var<"e", tensor<float, 1>>;
    static_cast<void>(E);
    tmp_dir t;
    write_bytes(t / "o.safetensors",
                st_file(R"({"b":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                        R"("z":{"dtype":"F32","shape":[0,5],"data_offsets":[12,12]},)"
                        R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[12,36]}})",
                        good_data));
    small_pack p;
    io::load_safetensors(t / "o.safetensors", p, io::ctgrad_names, io::unused_tensors::ignore);
    BOOST_TEST(p[B](0) == 1.0f);
    BOOST_TEST(p[A](0, 0) == 4.0f);
}

BOOST_AUTO_TEST_CASE(fuzz_truncations_and_byte_flips) {
    tmp_dir t;
    using net_t = decltype(nn::sequential(nn::dense<"fc1", 4, 3>{}, nn::relu,
                                          nn::dense<"fc2", 3, 2, double>{}));
    nn::parameters_of<net_t> p;
    fill(p, 7.0);
    io::save_safetensors(t / "good.safetensors", p, io::pytorch_names, {{"k", "v"}});
    const bytes good = read_bytes(t / "good.safetensors");
    nn::parameters_of<net_t> q;
    const auto [ok, rejected] = weights_test::fuzz(
        t, good, q, [&](const fs::path& f) { io::load_safetensors(f, q, io::pytorch_names); }, 4000,
        20261206);
    BOOST_TEST_MESSAGE("fuzz: " << good.size() << " truncations rejected; of 4000 corruptions "
                                << ok << " loaded, " << rejected << " rejected");
    BOOST_TEST(ok > 0u);        // flips in the data bytes load (no checksum in the format)
    BOOST_TEST(rejected > 0u);  // flips in the header are caught
    // every byte set to each of JSON's structural characters, digits, quotes, escapes, 0, 0xff
    const auto [ok2, rejected2] = weights_test::fuzz_every_byte(
        t, good, q, [&](const fs::path& f) { io::load_safetensors(f, q, io::pytorch_names); },
        weights_test::chars("{}[]\":,0 9-.eu\\\x00\xff\x80"));
    BOOST_TEST_MESSAGE("every byte: " << ok2 << " loaded, " << rejected2 << " rejected");
    BOOST_TEST(ok2 > 0u);
    BOOST_TEST(rejected2 > 0u);
}
