// NumPy .npy / .npz: files written by NumPy (checked in, test/io/data/make_numpy_files.py, and,
// when /usr/bin/python3 has numpy, generated at run time over many shapes, element types, byte
// orders, memory orders and format versions) read with the values NumPy wrote; ctgrad's files
// read back by NumPy; round trips; every kind of bad .npy header and bad zip archive rejected
// with an io::weights_error naming the file, the entry or tensor and the problem, the packs
// unchanged; fuzzing (every truncation, seeded byte flips) of .npy, stored and deflated .npz.
#define BOOST_TEST_MODULE io_numpy
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include <ctgrad/io/numpy.hpp>
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

constexpr auto W = var<"fc.W", tensor<float, 3, 4>>;
constexpr auto Bv = var<"fc.b", tensor<float, 4>>;
using fc_pack = pack_of<W, Bv>;

/// The values make_numpy_files.py (and the run-time script) write: element i (C order).
double value(std::size_t i, bool f8) {
    const double x = static_cast<double>(i);
    return f8 ? x * 0.5 - 3 + x * 1e-9 : x * 0.5 - 3;
}

template <class Tn>
void check_values(const Tn& t, bool f8) {
    for (std::size_t i = 0; i < t.size(); ++i) {
        using T = typename Tn::value_type;
        if (t.data()[i] != static_cast<T>(value(i, f8))) {
            BOOST_ERROR("element " << i << " is " << t.data()[i] << ", expected " << value(i, f8));
            return;
        }
    }
}

/// A .npy file from a header text (padded with spaces and a newline to 64 bytes) and data.
bytes npy_file(std::string header, const bytes& data, int major = 1) {
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    while ((8 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
    io::detail::put_le(out, header.size(), len_bytes);
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

/// Offsets of every occurrence of a 4-byte little-endian signature.
std::vector<std::size_t> find_sig(const bytes& b, std::uint32_t sig) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i + 4 <= b.size(); ++i) {
        if (io::detail::get_le(&b[i], 4) == sig) at.push_back(i);
    }
    return at;
}

void set_le(bytes& b, std::size_t at, std::uint64_t v, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) b[at + k] = static_cast<unsigned char>(v >> (8 * k));
}

/// An independent zip writer for the zip64 paths (stored entries): with `zip64`, every size and
/// offset of the central directory is in a zip64 extra field, local headers carry one too, and
/// the archive ends with the zip64 end record and locator (what writers emit past 4 GiB or 65535
/// entries); `comment` goes into the end record.
bytes make_zip(const std::vector<std::pair<std::string, bytes>>& entries, bool zip64,
               const std::string& comment = "") {
    bytes out, cd;
    const auto put = [](bytes& b, std::uint64_t v, std::size_t n) { io::detail::put_le(b, v, n); };
    for (const auto& [name, data] : entries) {
        const std::uint64_t offset = out.size();
        const auto crc = crc32(crc32(0L, Z_NULL, 0), data.data(), static_cast<uInt>(data.size()));
        const std::uint64_t size32 = zip64 ? 0xffffffffu : data.size();
        put(out, 0x04034b50u, 4);
        put(out, 45, 2);
        put(out, 0, 2);
        put(out, 0, 2);
        put(out, 0, 2);
        put(out, 0x21, 2);
        put(out, crc, 4);
        put(out, size32, 4);
        put(out, size32, 4);
        put(out, name.size(), 2);
        put(out, zip64 ? 20 : 0, 2);
        out.insert(out.end(), name.begin(), name.end());
        if (zip64) {
            put(out, 1, 2);
            put(out, 16, 2);
            put(out, data.size(), 8);
            put(out, data.size(), 8);
        }
        out.insert(out.end(), data.begin(), data.end());
        put(cd, 0x02014b50u, 4);
        put(cd, 45, 2);
        put(cd, 45, 2);
        put(cd, 0, 2);
        put(cd, 0, 2);
        put(cd, 0, 2);
        put(cd, 0x21, 2);
        put(cd, crc, 4);
        put(cd, size32, 4);
        put(cd, size32, 4);
        put(cd, name.size(), 2);
        put(cd, zip64 ? 28 : 0, 2);
        put(cd, 0, 2);
        put(cd, 0, 2);
        put(cd, 0, 2);
        put(cd, 0, 4);
        put(cd, zip64 ? 0xffffffffu : offset, 4);
        cd.insert(cd.end(), name.begin(), name.end());
        if (zip64) {
            put(cd, 1, 2);
            put(cd, 24, 2);
            put(cd, data.size(), 8);
            put(cd, data.size(), 8);
            put(cd, offset, 8);
        }
    }
    const std::uint64_t cd_offset = out.size();
    out.insert(out.end(), cd.begin(), cd.end());
    if (zip64) {
        const std::uint64_t rec = out.size();
        put(out, 0x06064b50u, 4);
        put(out, 44, 8);
        put(out, 45, 2);
        put(out, 45, 2);
        put(out, 0, 4);
        put(out, 0, 4);
        put(out, entries.size(), 8);
        put(out, entries.size(), 8);
        put(out, cd.size(), 8);
        put(out, cd_offset, 8);
        put(out, 0x07064b50u, 4);
        put(out, 0, 4);
        put(out, rec, 8);
        put(out, 1, 4);
    }
    put(out, 0x06054b50u, 4);
    put(out, 0, 4);
    put(out, zip64 ? 0xffff : entries.size(), 2);
    put(out, zip64 ? 0xffff : entries.size(), 2);
    put(out, zip64 ? 0xffffffffu : cd.size(), 4);
    put(out, zip64 ? 0xffffffffu : cd_offset, 4);
    put(out, comment.size(), 2);
    out.insert(out.end(), comment.begin(), comment.end());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(zip64_records_and_archive_comments) {
    tmp_dir t;
    fc_pack p;
    fill(p, 4.0);
    io::save_npy(t / "w.npy", p[W]);
    io::save_npy(t / "b.npy", p[Bv]);
    const std::vector<std::pair<std::string, bytes>> entries = {
        {"fc.W.npy", read_bytes(t / "w.npy")}, {"fc.b.npy", read_bytes(t / "b.npy")}};
    for (const bool zip64 : {false, true}) {
        for (const std::string comment : {"", "made by a test"}) {
            BOOST_TEST_CONTEXT("zip64 " << zip64 << ", comment \"" << comment << "\"") {
                const fs::path f = t / "z.npz";
                write_bytes(f, make_zip(entries, zip64, comment));
                fc_pack q;
                io::load_npz(f, q);
                BOOST_TEST((snapshot(q) == snapshot(p)));
                if (python_has("numpy")) {
                    // the archive is one NumPy (Python's zipfile) reads too
                    std::ostringstream want;
                    want.precision(17);
                    for (float x : p[W]) want << double(x) << ",";
                    BOOST_TEST(run_python(t,
                                          "import sys, numpy as np\n"
                                          "z = np.load(sys.argv[1])\n"
                                          "assert (z['fc.W'].ravel() == np.array([" +
                                              want.str() + "], dtype=np.float32)).all()\n",
                                          f.string()));
                }
            }
        }
    }
    // a zip64 locator pointing at something that is not a zip64 end record
    bytes b = make_zip(entries, true);
    const auto rec = find_sig(b, 0x06064b50u);
    BOOST_TEST_REQUIRE(rec.size() == 1u);
    b[rec[0]] ^= 1;
    write_bytes(t / "bad.npz", b);
    expect_error(
        p, [&] { io::load_npz(t / "bad.npz", p); }, t / "bad.npz",
        "bad zip64 end-of-central-directory record");
    // a zip64 extra field too short for the sizes it must hold
    b = make_zip(entries, true);
    const auto central = find_sig(b, 0x02014b50u);
    set_le(b, central[0] + 46 + 8 + 2, 8, 2);  // the extra's length: 8 of its 24 bytes
    write_bytes(t / "bad.npz", b);
    expect_error(
        p, [&] { io::load_npz(t / "bad.npz", p); }, t / "bad.npz", "entry \"fc.W.npy\"");
}

BOOST_AUTO_TEST_CASE(npy_files_written_by_numpy) {
    const fs::path d = data_dir();
    tensor<float, 2, 3, 4> a;
    io::load_npy(d / "f4_v1.npy", a);
    check_values(a, false);
    tensor<double, 3, 5> be;
    io::load_npy(d / "f8_big_endian.npy", be);  // '>f8': converted
    check_values(be, true);
    tensor<float, 2, 5> h;
    io::load_npy(d / "f2.npy", h);  // '<f2': converted exactly
    check_values(h, false);
    tensor<double, 2, 5> hd;
    io::load_npy(d / "f2.npy", hd);
    check_values(hd, false);
    tensor<float, 3, 4> fo;
    io::load_npy(d / "f4_fortran.npy", fo);  // fortran_order True: the same values at each index
    check_values(fo, false);
    tensor<double, 2, 3, 4> fo3;
    io::load_npy(d / "f8_fortran_3d.npy", fo3);
    check_values(fo3, true);
    tensor<double> s;
    io::load_npy(d / "f8_scalar.npy", s);
    BOOST_TEST(s.data()[0] == 2.5);
    tensor<float, 7> v;
    io::load_npy(d / "f4_vector.npy", v);
    check_values(v, false);
    for (const char* f : {"f4_v2.npy", "f4_v3.npy"}) {
        tensor<float, 4, 3> x;
        io::load_npy(d / f, x);
        check_values(x, false);
    }
    const io::npy_array r = io::read_npy(d / "f8_fortran_3d.npy");
    BOOST_TEST((r.shape == std::vector<std::size_t>{2, 3, 4}));
    for (std::size_t i = 0; i < 24; ++i) BOOST_TEST(r.values[i] == value(i, true));
    // refused: integers, the wrong shape, narrowing
    tensor<float, 2, 3> i8;
    expect_error(
        i8, [&] { io::load_npy(d / "i8.npy", i8); }, d / "i8.npy", "dtype '<i8' cannot be loaded");
    tensor<float, 4, 3, 2> wrong;
    expect_error(
        wrong, [&] { io::load_npy(d / "f4_v1.npy", wrong); }, d / "f4_v1.npy",
        "shape [2, 3, 4] in the file, the tensor is [4, 3, 2]");
    tensor<float, 3, 5> narrow;
    expect_error(
        narrow, [&] { io::load_npy(d / "f8_big_endian.npy", narrow); }, d / "f8_big_endian.npy",
        "element type '>f8' in the file, the tensor is float");
}

BOOST_AUTO_TEST_CASE(npz_files_written_by_numpy) {
    for (const char* f : {"pack.npz", "pack_compressed.npz"}) {
        BOOST_TEST_CONTEXT(f) {
            fc_pack p;
            io::load_npz(data_dir() / f, p);
            check_values(p[W], false);
            check_values(p[Bv], false);
            fc_pack q;
            expect_error(
                q, [&] { io::load_npz(data_dir() / f, q, io::pytorch_names); }, data_dir() / f,
                "tensor \"fc.weight\" (parameter fc.W): missing from the file (no entry "
                "\"fc.weight.npy\")");
            pack_of<W> only;
            expect_error(
                only, [&] { io::load_npz(data_dir() / f, only); }, data_dir() / f,
                "entry \"fc.b.npy\" is in the file but no parameter maps to it");
            io::load_npz(data_dir() / f, only, io::ctgrad_names, io::unused_tensors::ignore);
            check_values(only[W], false);
        }
    }
}

BOOST_AUTO_TEST_CASE(saved_npy_is_what_numpy_save_writes) {
    // the same bytes as numpy.save for C-order little-endian arrays
    tmp_dir t;
    tensor<float, 2, 3, 4> a;
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(value(i, false));
    io::save_npy(t / "a.npy", a);
    BOOST_TEST((read_bytes(t / "a.npy") == read_bytes(data_dir() / "f4_v1.npy")));
    tensor<float, 7> v;
    for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = static_cast<float>(value(i, false));
    io::save_npy(t / "v.npy", v);
    BOOST_TEST((read_bytes(t / "v.npy") == read_bytes(data_dir() / "f4_vector.npy")));
    tensor<double> s;
    s.data()[0] = 2.5;
    io::save_npy(t / "s.npy", s);
    BOOST_TEST((read_bytes(t / "s.npy") == read_bytes(data_dir() / "f8_scalar.npy")));
}

BOOST_AUTO_TEST_CASE(round_trips) {
    using net_t = decltype(nn::sequential(nn::dense<"fc1", 5, 3>{}, nn::relu,
                                          nn::dense<"fc2", 3, 2, double>{}));
    constexpr auto S = var<"s", tensor<double>>;
    constexpr auto K = var<"c.W", tensor<float, 2, 3, 2, 2>>;
    tmp_dir t;
    for (auto c : {io::npz_compression::stored, io::npz_compression::deflated}) {
        nn::parameters_of<net_t> p, p2, p3;
        pack_of<S, K> q, q2, q3;
        fill(std::tie(p, q), 0.25);
        io::save_npz(t / "w.npz", std::tie(p, q), io::ctgrad_names, c);
        io::load_npz(t / "w.npz", std::tie(p2, q2));
        BOOST_TEST((snapshot(std::tie(p2, q2)) == snapshot(std::tie(p, q))));
        io::save_npz(t / "pt.npz", std::tie(p, q), io::pytorch_names, c);
        io::load_npz(t / "pt.npz", std::tie(p3, q3), io::pytorch_names);
        BOOST_TEST((snapshot(std::tie(p3, q3)) == snapshot(std::tie(p, q))));
        // fc1.weight is [3, 5] in the file: fc1.W transposed
        const bytes z = read_bytes(t / "pt.npz");
        const std::string zs(z.begin(), z.end());
        BOOST_TEST(zs.find("fc1.weight.npy") != std::string::npos);
        if (c == io::npz_compression::stored) {
            BOOST_TEST(zs.find("'shape': (3, 5), }") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(numpy_at_run_time) {
    if (!python_has("numpy")) {
        BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 with numpy is not installed");
        return;
    }
    tmp_dir t;
    // NumPy writes arrays of random shapes, element types, byte orders, memory orders and
    // format versions, and a manifest; ctgrad reads each one
    const std::string writer = R"(
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
lines = []
for k in range(60):
    rank = int(rng.integers(0, 5))
    shape = tuple(int(x) for x in rng.integers(1, 6, size=rank))
    dt = ["<f2", "<f4", "<f8", ">f2", ">f4", ">f8"][k % 6]
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.float64)
    v = i * 0.5 - 3
    if dt.endswith("8"):
        v = v + i * 1e-9
    a = v.astype(dt).reshape(shape)
    if k % 3 == 0:
        a = np.asfortranarray(a)
    version = [(1, 0), (2, 0), (3, 0)][k % 4 % 3]
    with open("%s/a%d.npy" % (d, k), "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    lines.append(" ".join([str(k), dt] + [str(x) for x in a.shape]))  # asfortranarray: ndim >= 1
open(d + "/manifest.txt", "w").write("\n".join(lines) + "\n")
)";
    BOOST_TEST_REQUIRE(run_python(t, writer, t.dir.string()));
    std::ifstream manifest(t / "manifest.txt");
    std::string line;
    std::size_t n = 0;
    while (std::getline(manifest, line)) {
        std::istringstream in(line);
        std::string k, dt;
        in >> k >> dt;
        std::vector<std::size_t> shape;
        for (std::size_t x; in >> x;) shape.push_back(x);
        BOOST_TEST_CONTEXT("a" << k << ".npy " << dt) {
            const io::npy_array a = io::read_npy(t / ("a" + k + ".npy"));
            BOOST_TEST((a.shape == shape));
            const bool f8 = dt.back() == '8';
            for (std::size_t i = 0; i < a.values.size(); ++i) {
                const double want =
                    dt.back() == '4' ? double(static_cast<float>(value(i, false))) : value(i, f8);
                if (a.values[i] != want) {
                    BOOST_ERROR("element " << i << ": " << a.values[i] << " != " << want);
                    break;
                }
            }
        }
        ++n;
    }
    BOOST_TEST(n == 60u);
    // fixed shapes into tensors, through savez and savez_compressed
    const std::string npz = R"(
import sys
import numpy as np
d = sys.argv[1]
i = np.arange(12, dtype=np.float64)
W = (i * 0.5 - 3).astype("<f4").reshape(3, 4)
b = (i[:4] * 0.5 - 3).astype(">f4")
np.savez(d + "/s.npz", **{"fc.W": np.asfortranarray(W), "fc.b": b})
np.savez_compressed(d + "/c.npz", **{"fc.W": W, "fc.b": b})
)";
    BOOST_TEST_REQUIRE(run_python(t, npz, t.dir.string()));
    for (const char* f : {"s.npz", "c.npz"}) {
        fc_pack p;
        io::load_npz(t / f, p);
        check_values(p[W], false);
        check_values(p[Bv], false);
    }
    // NumPy reads what ctgrad writes
    fc_pack p;
    fill(p, 0.75);
    io::save_npz(t / "ours.npz", p, io::ctgrad_names, io::npz_compression::deflated);
    io::save_npz(t / "ours_stored.npz", p);
    io::save_npy(t / "ours.npy", p[W]);
    std::ostringstream expect;
    expect.precision(17);
    for (float x : p[W]) expect << double(x) << ",";
    const std::string reader = R"(
import sys
import numpy as np
d = sys.argv[1]
want = np.array([)" + expect.str() +
                               R"(], dtype=np.float32).reshape(3, 4)
for f in ["ours.npz", "ours_stored.npz"]:
    with np.load(d + "/" + f) as z:
        assert sorted(z.files) == ["fc.W", "fc.b"], z.files
        assert z["fc.W"].dtype == np.float32 and z["fc.W"].shape == (3, 4)
        assert (z["fc.W"] == want).all()
a = np.load(d + "/ours.npy")
assert a.dtype == np.float32 and (a == want).all()
)";
    BOOST_TEST(run_python(t, reader, t.dir.string()));
}

BOOST_AUTO_TEST_CASE(bad_npy_files) {
    tmp_dir t;
    tensor<float, 2, 3> x;
    fill(x, 1.0);
    const fs::path f = t / "bad.npy";
    const bytes data(24, 0);
    const auto check = [&](const bytes& contents, const std::string& expect) {
        write_bytes(f, contents);
        expect_error(
            x, [&] { io::load_npy(f, x); }, f, expect);
    };
    const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    write_bytes(f, npy_file(good, data));
    io::load_npy(f, x);
    BOOST_TEST(x(1, 2) == 0.0f);
    fill(x, 1.0);
    check({}, "truncated: 0 bytes");
    check({0x93, 'N', 'U', 'M'}, "truncated: 4 bytes");
    check(bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, "not a .npy file");
    bytes v4 = npy_file(good, data);
    v4[6] = 4;
    check(v4, ".npy format version 4.0 is not supported");
    bytes v11 = npy_file(good, data);
    v11[7] = 1;
    check(v11, "format version 1.1");
    bytes longh = npy_file(good, data);
    set_le(longh, 8, 60000, 2);
    check(longh, "header length 60000 is too large (at most 10000)");
    bytes shorth = npy_file(good, {});
    shorth.resize(40);
    check(shorth, "truncated: the header length is");
    check(npy_file("['descr', '<f4']", data), "the header is not a dict");
    check(npy_file("{'descr': '<f4', 'shape': (2, 3), }", data), "lacks one of");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", data),
          "unexpected key 'x'");
    check(
        npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", data),
        "duplicate key 'descr'");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", data),
          "shape (n) is not a tuple");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", data),
          "shape is not a tuple");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", data),
          "non-negative integer");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3)}", data),
          "leading zero");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3)}",
                   data),
          "overflows 64 bits");
    check(npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", data),
          "fortran_order is not True or False");
    check(npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}", data),
          "descr is not a string");
    check(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)}", data),
          "dtype '<i4' cannot be loaded");
    check(npy_file("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3)}", data),
          "escapes are not supported");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", data),
          "unexpected characters after the dict");
    check(npy_file("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", data),
          "expected ',' or '}'");
    check(npy_file(good, bytes(20)), "truncated: dtype '<f4' and shape [2, 3] need 24 bytes");
    check(npy_file(good, bytes(28)), "need 24 bytes of data, 28 follow the header");
    check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", data),
          "shape [3, 2] in the file, the tensor is [2, 3]");
    // version 2.0 headers (u32 length) and Python 2's 'L' suffix load
    write_bytes(f, npy_file(good, data, 2));
    io::load_npy(f, x);
    write_bytes(f, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", data));
    io::load_npy(f, x);
    BOOST_TEST(x(0, 0) == 0.0f);
}

BOOST_AUTO_TEST_CASE(bad_npz_files) {
    tmp_dir t;
    fc_pack p;
    fill(p, 2.0);
    const fs::path f = t / "bad.npz";
    const auto check = [&](const bytes& contents, const std::string& expect) {
        write_bytes(f, contents);
        expect_error(
            p, [&] { io::load_npz(f, p); }, f, expect);
    };
    const bytes stored = read_bytes(data_dir() / "pack.npz");
    const bytes deflated = read_bytes(data_dir() / "pack_compressed.npz");
    const auto local = find_sig(stored, 0x04034b50u);
    const auto central = find_sig(stored, 0x02014b50u);
    const auto eocd = find_sig(stored, 0x06054b50u);
    BOOST_TEST_REQUIRE(local.size() == 2u);
    BOOST_TEST_REQUIRE(central.size() == 2u);
    BOOST_TEST_REQUIRE(eocd.size() == 1u);

    check({}, "not a zip file (truncated");
    check(bytes(stored.begin(), stored.end() - 1), "no end-of-central-directory record");
    check(concat_bytes(stored, {0}), "no end-of-central-directory record");
    check(read_bytes(data_dir() / "f4_v1.npy"), "no end-of-central-directory record");
    {  // a data byte of a stored entry: CRC
        bytes b = stored;
        b[local[1] - 3] ^= 0x10;  // the last data byte of the first entry
        check(b, "entry \"fc.W.npy\": CRC-32 mismatch");
    }
    {  // deflated data corrupted
        const auto dl = find_sig(deflated, 0x04034b50u);
        bytes b = deflated;
        for (std::size_t k = 0; k < 8; ++k) b[dl[0] + 60 + k] ^= 0xa5;
        write_bytes(f, b);
        try {
            io::load_npz(f, p);
            BOOST_ERROR("corrupt deflate data loaded");
        } catch (const io::weights_error& e) {
            const std::string m = e.what();
            BOOST_TEST_MESSAGE(m);
            BOOST_TEST(m.find("entry \"fc.W.npy\"") != std::string::npos);
        }
    }
    {  // duplicate names: the second entry renamed to the first in both headers
        bytes b = stored;
        for (std::size_t at : {local[1] + 30, central[1] + 46}) {
            b[at + 3] = 'W';  // "fc.b.npy" -> "fc.W.npy"
        }
        check(b, "entry \"fc.W.npy\": duplicate entry");
    }
    {  // compression method 12 (bzip2) in both headers
        bytes b = stored;
        set_le(b, local[0] + 8, 12, 2);
        set_le(b, central[0] + 10, 12, 2);
        check(b, "entry \"fc.W.npy\": compression method 12 is not supported");
    }
    {  // encrypted
        bytes b = stored;
        set_le(b, central[0] + 8, 1, 2);
        check(b, "entry \"fc.W.npy\": encrypted entries are not supported");
    }
    {  // local header disagrees with the central directory
        bytes b = stored;
        b[local[0] + 30] = 'x';
        check(b, "entry \"fc.W.npy\": the local header does not match the central directory");
    }
    {  // overlapping entries: the second entry's local header offset is the first's
        bytes b = stored;
        set_le(b, central[1] + 42, local[0], 4);
        check(b, "the local header does not match");
        b = stored;
        set_le(b, central[1] + 42, local[1] + 1, 4);
        check(b, "bad local header offset");
        // the first entry's data (as the central directory says) run into the second's header
        b = stored;
        set_le(b, central[0] + 20, io::detail::get_le(&b[central[0] + 20], 4) + 10, 4);
        check(b, "entries \"fc.W.npy\" and \"fc.b.npy\" overlap");
        // a size marked as zip64 without the zip64 extra field
        b = stored;
        set_le(b, central[0] + 24, 0xffffffffu, 4);
        check(b, "entry \"fc.W.npy\": sizes need a zip64 extra field, which is missing");
    }
    {  // an entry claims far more bytes than the parameter needs (a zip bomb's header)
        bytes b = stored;
        // numpy writes zip64 extra fields: set the central directory sizes to the zip64 marker
        // and the zip64 values to 1 GB
        const std::size_t c = central[0];
        const std::size_t nlen = io::detail::get_le(&b[c + 28], 2);
        const std::size_t xlen = io::detail::get_le(&b[c + 30], 2);
        BOOST_TEST_MESSAGE("central extra length " << xlen);
        set_le(b, c + 24, 1'000'000'000, 4);
        check(b, "entry \"fc.W.npy\": declares 1000000000 bytes, more than the parameter can need");
        static_cast<void>(nlen);
    }
    {  // the central directory does not end at the end record
        bytes b = stored;
        set_le(b, eocd[0] + 16, io::detail::get_le(&b[eocd[0] + 16], 4) - 1, 4);
        check(b, "the central directory");
        b = stored;
        set_le(b, eocd[0] + 10, 3, 2);
        set_le(b, eocd[0] + 8, 3, 2);
        check(b, "central directory");
        b = stored;
        set_le(b, eocd[0] + 4, 1, 2);
        check(b, "multi-disk zip archives are not supported");
    }
    {  // a truncated npy inside a valid zip: rewrite the stored entry's sizes
        fc_pack q;
        fill(q, 9.0);
        io::save_npz(t / "q.npz", q);
        bytes b = read_bytes(t / "q.npz");
        const auto ql = find_sig(b, 0x04034b50u);
        const auto qc = find_sig(b, 0x02014b50u);
        // the second entry ("fc.b.npy", 128 + 16 bytes): declare 4 bytes less, fix the CRC
        const std::size_t size = io::detail::get_le(&b[qc[1] + 24], 4);
        const std::size_t data = ql[1] + 30 + 8;
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), &b[data], static_cast<uInt>(size - 4));
        for (std::size_t h : {ql[1] + 14, qc[1] + 16}) {
            set_le(b, h, crc, 4);
            set_le(b, h + 4, size - 4, 4);
            set_le(b, h + 8, size - 4, 4);
        }
        check(b, "entry \"fc.b.npy\": truncated: dtype '<f4' and shape [4] need 16 bytes");
    }
    expect_error(
        p, [&] { io::load_npz(t / "none.npz", p); }, t / "none.npz", "no such file");
}

BOOST_AUTO_TEST_CASE(fuzz_truncations_and_byte_flips) {
    tmp_dir t;
    {
        tensor<float, 2, 3, 4> a;
        const bytes good = read_bytes(data_dir() / "f4_v1.npy");
        const auto [ok, rejected] = weights_test::fuzz(
            t, good, a, [&](const fs::path& f) { io::load_npy(f, a); }, 3000, 1);
        BOOST_TEST_MESSAGE("npy: " << ok << " loaded, " << rejected << " rejected");
        BOOST_TEST(ok > 0u);
        BOOST_TEST(rejected > 0u);
        // every byte set to each of the header's structural characters, digits, 0, 0xff
        const auto [ok2, rejected2] = weights_test::fuzz_every_byte(
            t, good, a, [&](const fs::path& f) { io::load_npy(f, a); },
            weights_test::chars("{}()'\":, 09LTF<>\n\x00\xff"));
        BOOST_TEST_MESSAGE("npy, every byte: " << ok2 << " loaded, " << rejected2 << " rejected");
        BOOST_TEST(ok2 > 0u);
        BOOST_TEST(rejected2 > 0u);
    }
    for (const char* name : {"pack.npz", "pack_compressed.npz"}) {
        fc_pack p;
        const bytes good = read_bytes(data_dir() / name);
        const auto [ok, rejected] = weights_test::fuzz(
            t, good, p, [&](const fs::path& f) { io::load_npz(f, p); }, 3000, 2);
        BOOST_TEST_MESSAGE(name << ": " << ok << " loaded, " << rejected << " rejected");
        BOOST_TEST(ok > 0u);  // flips in fields nobody checks (times, versions) load
        BOOST_TEST(rejected > 0u);
    }
}
