// IDX reader: every element type in 1 to 4 dimensions, plain and gzip; every kind of malformed
// file rejected with an idx_error naming the file; header bytes fuzzed against an independent
// reference decoder; the Fashion-MNIST files when the dataset-fashion-mnist package is installed.
#define BOOST_TEST_MODULE io_idx
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/io/idx.hpp>

namespace fs = std::filesystem;
using bytes = std::vector<unsigned char>;
using ctgrad::io::idx_error;
namespace idx_type = ctgrad::io::idx_type;

namespace {

/// A fresh directory under the system temporary directory, removed with its files at the end.
struct tmp_dir {
    fs::path dir;
    tmp_dir() {
        std::random_device rd;
        for (;;) {
            dir = fs::temp_directory_path() / ("ctgrad_idx_test_" + std::to_string(rd()));
            if (fs::create_directory(dir)) break;
        }
    }
    ~tmp_dir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    tmp_dir(const tmp_dir&) = delete;
    tmp_dir& operator=(const tmp_dir&) = delete;
};

void write_plain(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

void write_gz(const fs::path& p, const bytes& b) {
    gzFile f = gzopen(p.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot gzopen " + p.string());
    if (!b.empty() &&
        gzwrite(f, b.data(), static_cast<unsigned>(b.size())) != static_cast<int>(b.size())) {
        gzclose(f);
        throw std::runtime_error("cannot gzwrite " + p.string());
    }
    if (gzclose(f) != Z_OK) throw std::runtime_error("cannot gzclose " + p.string());
}

bytes read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::size_t elem_size(std::uint8_t t) {
    switch (t) {
    case 0x08:
    case 0x09:
        return 1;
    case 0x0B:
        return 2;
    case 0x0C:
    case 0x0D:
        return 4;
    case 0x0E:
        return 8;
    default:
        return 0;
    }
}

void put_be(bytes& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

/// Header bytes for a type and sizes.
bytes header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    bytes h{0, 0, type, static_cast<unsigned char>(dims.size())};
    for (auto d : dims) put_be(h, d, 4);
    return h;
}

/// Big-endian encoding of values (exactly representable in the type) of one IDX type.
bytes encode(std::uint8_t type, const std::vector<double>& values) {
    bytes out;
    for (double v : values) {
        switch (type) {
        case 0x08:
        case 0x09:
            out.push_back(static_cast<unsigned char>(static_cast<std::int64_t>(v)));
            break;
        case 0x0B:
            put_be(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(v)), 2);
            break;
        case 0x0C:
            put_be(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)), 4);
            break;
        case 0x0D:
            put_be(out, std::bit_cast<std::uint32_t>(static_cast<float>(v)), 4);
            break;
        default:
            put_be(out, std::bit_cast<std::uint64_t>(v), 8);
            break;
        }
    }
    return out;
}

bytes concat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Independent reference: what read_idx must return for these file contents, or nullopt when
/// it must throw idx_error.
std::optional<ctgrad::io::idx_data> reference(const bytes& f) {
    if (f.size() < 4 || f[0] != 0 || f[1] != 0) return std::nullopt;
    const std::size_t es = elem_size(f[2]);
    const std::size_t nd = f[3];
    if (es == 0 || nd < 1 || nd > 4 || f.size() < 4 + 4 * nd) return std::nullopt;
    ctgrad::io::idx_data d;
    d.type = f[2];
    const std::uint64_t remaining = f.size() - 4 - 4 * nd;
    std::uint64_t count = 1;
    for (std::size_t i = 0; i < nd; ++i) {
        std::uint64_t n = 0;
        for (std::size_t k = 0; k < 4; ++k) n = (n << 8) | f[4 + 4 * i + k];
        if (n == 0) return std::nullopt;
        d.dims.push_back(n);
        if (count > remaining) continue;  // already too large: no overflow possible below
        count *= n;
    }
    if (count > remaining || count * es != remaining) return std::nullopt;
    const unsigned char* p = f.data() + 4 + 4 * nd;
    for (std::uint64_t i = 0; i < count; ++i, p += es) {
        std::uint64_t u = 0;
        for (std::size_t k = 0; k < es; ++k) u = (u << 8) | p[k];
        float v = 0;
        switch (d.type) {
        case 0x08:
            v = static_cast<float>(u);
            break;
        case 0x09:
            v = static_cast<float>(static_cast<int>(u) - (u >= 128 ? 256 : 0));
            break;
        case 0x0B:
            v = static_cast<float>(static_cast<long>(u) - (u >= 32768 ? 65536L : 0L));
            break;
        case 0x0C:
            v = static_cast<float>(static_cast<long long>(u) -
                                   (u >= 0x80000000ULL ? 0x100000000LL : 0));
            break;
        case 0x0D:
            v = std::bit_cast<float>(static_cast<std::uint32_t>(u));
            break;
        default:
            v = static_cast<float>(std::bit_cast<double>(u));
            break;
        }
        d.values.push_back(v);
    }
    return d;
}

/// Same type, sizes and values bit for bit (NaN payloads included).
bool same(const ctgrad::io::idx_data& a, const ctgrad::io::idx_data& b) {
    if (a.type != b.type || a.dims != b.dims || a.values.size() != b.values.size()) return false;
    for (std::size_t i = 0; i < a.values.size(); ++i) {
        if (std::bit_cast<std::uint32_t>(a.values[i]) != std::bit_cast<std::uint32_t>(b.values[i]))
            return false;
    }
    return true;
}

/// read_idx(p) throws idx_error whose message has the prefix, the path and `what`.
void check_error(const fs::path& p, const std::string& what,
                 const std::string& function = "read_idx") {
    try {
        if (function == "read_idx") {
            (void)ctgrad::io::read_idx(p);
        } else if (function == "read_idx_images") {
            (void)ctgrad::io::read_idx_images(p);
        } else {
            (void)ctgrad::io::read_idx_labels(p);
        }
        BOOST_ERROR(p.string() << ": expected idx_error containing '" << what << "'");
    } catch (const idx_error& e) {
        const std::string m = e.what();
        BOOST_TEST_INFO("message: " << m);
        BOOST_TEST(m.rfind("ctgrad::io::" + function + ": " + p.string() + ": ", 0) == 0);
        BOOST_TEST(m.find(what) != std::string::npos);
    }
}

/// Both a plain and a gzip file with these contents are rejected with `what` in the message.
void check_both(const tmp_dir& t, const std::string& name, const bytes& contents,
                const std::string& what) {
    BOOST_TEST_CONTEXT(name) {
        write_plain(t.dir / (name + ".idx"), contents);
        check_error(t.dir / (name + ".idx"), what);
        write_gz(t.dir / (name + ".idx.gz"), contents);
        check_error(t.dir / (name + ".idx.gz"), what);
    }
}

const std::uint8_t all_types[] = {idx_type::u8,  idx_type::i8,  idx_type::i16,
                                  idx_type::i32, idx_type::f32, idx_type::f64};

/// Exactly representable sample values of each type.
double sample(std::uint8_t type, std::size_t i) {
    const double k = static_cast<double>(i);
    switch (type) {
    case 0x08:
        return static_cast<double>((i * 37) % 256);
    case 0x09:
        return static_cast<double>(static_cast<int>((i * 37) % 256) - 128);
    case 0x0B:
        return k * 1021.0 - 30000.0;
    case 0x0C:
        return (k - 20.0) * 1048573.0;  // up to ~2^25: multiples chosen exact in float?
    case 0x0D:
        return (k - 7.0) * 0.375e10;
    default:
        return (k - 7.0) * 0.0625;
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_type_and_rank_plain_and_gzip) {
    tmp_dir t;
    const std::vector<std::vector<std::uint32_t>> shapes = {{7},       {1},          {3, 4},
                                                            {2, 3, 5}, {2, 1, 3, 2}, {1, 1, 1, 1}};
    for (auto type : all_types) {
        for (const auto& shape : shapes) {
            std::size_t n = 1;
            for (auto d : shape) n *= d;
            std::vector<double> v(n);
            for (std::size_t i = 0; i < n; ++i) v[i] = sample(type, i);
            const bytes file = concat(header(type, shape), encode(type, v));
            const auto expect = reference(file);
            BOOST_TEST_REQUIRE(expect.has_value());
            // The reference agrees with the values written (converted to float).
            for (std::size_t i = 0; i < n; ++i) {
                BOOST_TEST(expect->values[i] == static_cast<float>(v[i]));
            }
            for (bool gz : {false, true}) {
                const fs::path p = t.dir / ("ok_" + std::to_string(type) + "_" +
                                            std::to_string(shape.size()) + (gz ? ".gz" : ""));
                gz ? write_gz(p, file) : write_plain(p, file);
                const auto got = ctgrad::io::read_idx(p);
                BOOST_TEST_INFO("type " << int(type) << " rank " << shape.size() << " gz " << gz);
                BOOST_TEST(same(got, *expect));
                BOOST_TEST(got.dims.size() == shape.size());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(signed_and_special_values) {
    tmp_dir t;
    const auto check = [&](std::uint8_t type, const bytes& data, const std::vector<float>& want) {
        const fs::path p = t.dir / "special.idx";
        write_plain(p, concat(header(type, {static_cast<std::uint32_t>(want.size())}), data));
        const auto got = ctgrad::io::read_idx(p);
        BOOST_TEST_REQUIRE(got.values.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            if (std::isnan(want[i])) {
                BOOST_TEST(std::isnan(got.values[i]));
            } else {
                BOOST_TEST(got.values[i] == want[i]);
                BOOST_TEST(std::signbit(got.values[i]) == std::signbit(want[i]));
            }
        }
    };
    check(idx_type::u8, {0, 1, 127, 128, 255}, {0, 1, 127, 128, 255});
    check(idx_type::i8, {0, 1, 127, 128, 255}, {0, 1, 127, -128, -1});
    check(idx_type::i16, {0x7f, 0xff, 0x80, 0x00, 0xff, 0xff, 0x01, 0x02},
          {32767, -32768, -1, 258});
    check(idx_type::i32, {0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 1, 0, 0},
          {-2147483648.0f, -2, 65536});
    check(idx_type::f32, {0x3f, 0x80, 0, 0, 0x80, 0, 0, 0, 0x7f, 0x80, 0, 0, 0x7f, 0xc0, 0, 0},
          {1.0f, -0.0f, INFINITY, NAN});
    check(idx_type::f64, encode(idx_type::f64, {-2.5, 1e300, -0.0}), {-2.5f, INFINITY, -0.0f});
}

BOOST_AUTO_TEST_CASE(images_labels_one_hot) {
    tmp_dir t;
    bytes pix;
    for (int i = 0; i < 2 * 3 * 4; ++i) pix.push_back(static_cast<unsigned char>(i * 11));
    pix.back() = 255;
    const fs::path images = t.dir / "images.gz";
    write_gz(images, concat(header(idx_type::u8, {2, 3, 4}), pix));
    const auto im = ctgrad::io::read_idx_images(images);
    BOOST_TEST(im.count == 2u);
    BOOST_TEST(im.rows == 3u);
    BOOST_TEST(im.cols == 4u);
    BOOST_TEST_REQUIRE(im.pixels.size() == 24u);
    BOOST_TEST(im.pixels[0] == 0.0f);
    BOOST_TEST(im.pixels[1] == 11.0f / 255.0f);
    BOOST_TEST(im.pixels[23] == 1.0f);

    const fs::path labels = t.dir / "labels";
    write_plain(labels, concat(header(idx_type::u8, {4}), {3, 0, 9, 3}));
    const auto lab = ctgrad::io::read_idx_labels(labels);
    BOOST_TEST(lab == (std::vector<std::uint8_t>{3, 0, 9, 3}), boost::test_tools::per_element());

    const auto oh = ctgrad::io::one_hot<10>(lab);
    BOOST_TEST_REQUIRE(oh.size() == 40u);
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t c = 0; c < 10; ++c) {
            BOOST_TEST(oh[i * 10 + c] == (c == lab[i] ? 1.0f : 0.0f));
        }
    }
    const auto ohd = ctgrad::io::one_hot<4, double>({1});
    BOOST_TEST((ohd == std::vector<double>{0, 1, 0, 0}));
    BOOST_CHECK_THROW(ctgrad::io::one_hot<9>(lab), std::out_of_range);

    // Wrong shapes or types for the convenience readers.
    check_error(labels, "expected unsigned bytes (type 8) in 3 dimensions", "read_idx_images");
    check_error(images, "expected unsigned bytes (type 8) in 1 dimension", "read_idx_labels");
    const fs::path signed_images = t.dir / "signed_images";
    write_plain(signed_images, concat(header(idx_type::i8, {2, 3, 4}), pix));
    check_error(signed_images, "file has type 9 in 3", "read_idx_images");
    // Errors of the file itself name the convenience function.
    const fs::path bad = t.dir / "bad";
    write_plain(bad, {1, 0, 8, 1, 0, 0, 0, 1, 7});
    check_error(bad, "bad magic", "read_idx_images");
    check_error(bad, "bad magic", "read_idx_labels");
}

BOOST_AUTO_TEST_CASE(malformed_headers_and_lengths) {
    tmp_dir t;
    const bytes data6 = {1, 2, 3, 4, 5, 6};
    check_both(t, "magic0", concat({1, 0, 8, 1, 0, 0, 0, 6}, data6), "bad magic");
    check_both(t, "magic1", concat({0, 8, 8, 1, 0, 0, 0, 6}, data6), "bad magic");
    for (int type : {0, 1, 7, 0x0A, 0x0F, 0x10, 0xFF}) {
        check_both(t, "type" + std::to_string(type),
                   concat({0, 0, static_cast<unsigned char>(type), 1, 0, 0, 0, 6}, data6),
                   "unknown element type byte " + std::to_string(type));
    }
    check_both(t, "dims0", concat({0, 0, 8, 0}, data6), "unsupported number of dimensions 0");
    check_both(t, "dims5", concat(header(idx_type::u8, {1, 1, 6, 1, 1}), data6),
               "unsupported number of dimensions 5");
    check_both(t, "dims255", {0, 0, 8, 255}, "unsupported number of dimensions 255");
    check_both(t, "zero_dim", concat(header(idx_type::u8, {2, 0, 3}), data6),
               "dimension 1 has size 0");
    check_both(t, "truncated_data", concat(header(idx_type::u8, {7}), data6),
               "truncated: header says 7 bytes of data, file has 6");
    check_both(t, "truncated_data_i16", concat(header(idx_type::i16, {2, 2}), data6),
               "truncated: header says 8 bytes of data, file has 6");
    check_both(t, "trailing", concat(header(idx_type::u8, {5}), data6),
               "trailing bytes: header says 5 bytes of data, file has 6");
    check_both(t, "trailing_f64", concat(header(idx_type::f64, {1}), concat(data6, data6)),
               "trailing bytes: header says 8 bytes of data, file has 12");
    check_both(t, "empty", {}, "truncated header: 0 of the 4 leading bytes");
    check_both(t, "header3", {0, 0, 8}, "truncated header: 3 of the 4 leading bytes");
    check_both(t, "header_dims", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0},
               "truncated header: 6 of the 12 bytes of dimension sizes");
    // Oversized: 10^12 elements claimed, a few bytes present. Rejected before allocating
    // (an allocation of 10^12 bytes would fail or be caught by the sanitizers).
    check_both(t, "huge", concat(header(idx_type::u8, {10000, 10000, 10000}), data6),
               "truncated: header says 1000000000000 bytes of data, file has 6");
    check_both(t, "huge_f64", concat(header(idx_type::f64, {0xFFFFFFFF, 0xFFFFFFFF}), data6),
               "overflow");
    check_both(
        t, "huge4",
        concat(header(idx_type::u8, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}), data6),
        "overflow");
    // A gzip file with no data at all: just the magic.
    check_both(t, "magic_only", {0, 0}, "truncated header: 2 of the 4 leading bytes");
}

BOOST_AUTO_TEST_CASE(message_format) {
    tmp_dir t;
    const fs::path p = t.dir / "x.idx";
    write_plain(p, concat(header(idx_type::u8, {60000, 28, 28}), bytes(1000, 7)));
    try {
        (void)ctgrad::io::read_idx(p);
        BOOST_ERROR("no exception");
    } catch (const idx_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "ctgrad::io::read_idx: " + p.string() +
                       ": truncated: header says 47040000 bytes of data, file has 1000");
        const std::runtime_error& base = e;  // derived from std::runtime_error
        BOOST_TEST(base.what() == e.what());
    }
}

BOOST_AUTO_TEST_CASE(missing_and_unreadable_files) {
    tmp_dir t;
    check_error(t.dir / "does_not_exist.idx", "cannot open: No such file or directory");
    check_error(t.dir / "does_not_exist.idx", "cannot open", "read_idx_images");
    check_error(t.dir / "does_not_exist.idx", "cannot open", "read_idx_labels");
    check_error(t.dir, "cannot");  // a directory
}

BOOST_AUTO_TEST_CASE(corrupt_gzip) {
    tmp_dir t;
    std::vector<double> v(3000);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * i * 7 + i) % 251);
    const bytes file = concat(header(idx_type::u8, {3, 1000}), encode(idx_type::u8, v));
    const fs::path good = t.dir / "good.gz";
    write_gz(good, file);
    BOOST_TEST(ctgrad::io::read_idx(good).values.size() == 3000u);
    const bytes gz = read_file(good);
    BOOST_TEST_REQUIRE(gz.size() > 40u);
    BOOST_TEST_REQUIRE((gz[0] == 0x1f && gz[1] == 0x8b));

    const fs::path p = t.dir / "bad.gz";
    // Truncated compressed streams, at many lengths (the header alone, mid-data, no trailer).
    for (std::size_t len :
         {std::size_t{2}, std::size_t{5}, std::size_t{10}, std::size_t{12}, gz.size() / 3,
          gz.size() / 2, gz.size() - 9, gz.size() - 4, gz.size() - 1}) {
        BOOST_TEST_CONTEXT("truncated to " << len) {
            write_plain(p, bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(len)));
            check_error(p, len <= 10 ? "truncated" : "gzip stream");
        }
    }
    // Flipped bytes in the deflate data and in the CRC / length trailer.
    for (std::size_t at : {std::size_t{10}, std::size_t{12}, gz.size() / 2, gz.size() - 8,
                           gz.size() - 6, gz.size() - 3}) {
        BOOST_TEST_CONTEXT("byte " << at << " flipped") {
            bytes bad = gz;
            bad[at] ^= 0x5a;
            write_plain(p, bad);
            try {
                (void)ctgrad::io::read_idx(p);
                BOOST_ERROR("corrupt gzip read without error");
            } catch (const idx_error& e) {
                BOOST_TEST_MESSAGE("flipped byte " << at << ": " << e.what());
            }
        }
    }
    // A complete gzip stream followed by bytes that are not another gzip member (gunzip
    // warns "trailing garbage ignored"; a reader must not accept it silently).
    for (const bytes& junk : {bytes{0}, bytes{0x1f}, bytes{0x1f, 0x8c}, bytes{1, 2, 3, 4}}) {
        BOOST_TEST_CONTEXT("junk of " << junk.size() << " bytes") {
            write_plain(p, concat(gz, junk));
            check_error(p, "trailing bytes after the gzip stream");
        }
    }
    // Two gzip members, concatenated, are one file (as gunzip reads them).
    {
        const fs::path first = t.dir / "first.gz", second = t.dir / "second.gz";
        const auto half = static_cast<std::ptrdiff_t>(file.size() / 2);
        write_gz(first, bytes(file.begin(), file.begin() + half));
        write_gz(second, bytes(file.begin() + half, file.end()));
        write_plain(p, concat(read_file(first), read_file(second)));
        const auto r = ctgrad::io::read_idx(p);
        BOOST_TEST(r.values.size() == 3000u);
        BOOST_TEST(r.values[2999] == v[2999]);
        // and a second member cut short is still truncated
        const bytes two = concat(read_file(first), read_file(second));
        write_plain(p, bytes(two.begin(), two.end() - 5));
        check_error(p, "gzip stream");
    }
    // The gzip magic followed by garbage.
    write_plain(p, {0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
    check_error(p, "gzip stream");
    write_plain(p, {0x1f, 0x8b});
    check_error(p, "truncated");
}

BOOST_AUTO_TEST_CASE(fuzz_header_bytes) {
    tmp_dir t;
    // A valid file: 16-bit values in 3 dimensions (16 header bytes, 60 data bytes).
    std::vector<double> v(30);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * 977.0 - 12000.0;
    const bytes base = concat(header(idx_type::i16, {3, 2, 5}), encode(idx_type::i16, v));
    const std::size_t header_size = 16;

    std::size_t ok = 0, rejected = 0;
    const auto run = [&](const bytes& contents, bool gz) {
        const fs::path p = t.dir / (gz ? "fuzz.gz" : "fuzz.idx");
        gz ? write_gz(p, contents) : write_plain(p, contents);
        const auto expect = reference(contents);
        try {
            const auto got = ctgrad::io::read_idx(p);
            if (!expect) {
                BOOST_ERROR("read a file the reference rejects (gz " << gz << ")");
            } else if (!same(got, *expect)) {
                BOOST_ERROR("wrong result (gz " << gz << ")");
            }
            ++ok;
        } catch (const idx_error& e) {
            if (expect) BOOST_ERROR("rejected a valid file: " << e.what());
            ++rejected;
        } catch (const std::exception& e) {
            BOOST_ERROR("exception other than idx_error: " << e.what());
        } catch (...) {
            BOOST_ERROR("non-std exception");
        }
    };

    // Every header byte set to every value, plain and gzip.
    for (std::size_t at = 0; at < header_size; ++at) {
        for (int value = 0; value < 256; ++value) {
            bytes f = base;
            f[at] = static_cast<unsigned char>(value);
            run(f, false);
            if (static_cast<std::size_t>(value) % 4 == at % 4)
                run(f, true);  // a quarter of them gzipped
        }
    }
    // Seeded random: 1 to 4 header bytes changed, sometimes the length changed too.
    std::mt19937 gen(20240611);
    std::uniform_int_distribution<std::size_t> pos(0, header_size - 1), nmut(1, 4);
    std::uniform_int_distribution<int> byte(0, 255), coin(0, 3);
    for (int iter = 0; iter < 3000; ++iter) {
        bytes f = base;
        if (coin(gen) == 0) {
            // A consistent header of another type and shape over the same 60 data bytes.
            const std::uint8_t type = all_types[byte(gen) % 6];
            std::size_t n = 60 / elem_size(type);
            std::vector<std::uint32_t> dims;
            const std::size_t rank = nmut(gen);
            for (std::size_t d = 1; d < rank; ++d) {
                std::size_t k = 1 + static_cast<std::size_t>(byte(gen)) % n;
                while (n % k != 0) --k;
                dims.push_back(static_cast<std::uint32_t>(k));
                n /= k;
            }
            dims.push_back(static_cast<std::uint32_t>(n));
            f = concat(header(type, dims), bytes(base.begin() + 16, base.end()));
        }
        for (std::size_t k = nmut(gen) - 1; k > 0; --k) {
            f[pos(gen)] = static_cast<unsigned char>(coin(gen) == 0 ? byte(gen) % 16 : byte(gen));
        }
        if (coin(gen) == 0) {
            const std::size_t len =
                std::uniform_int_distribution<std::size_t>(0, f.size() + 8)(gen);
            f.resize(len, static_cast<unsigned char>(byte(gen)));
        }
        run(f, iter % 3 == 0);
    }
    BOOST_TEST_MESSAGE("fuzz: " << ok << " read, " << rejected << " rejected");
    BOOST_TEST(ok > 0u);
    BOOST_TEST(rejected > 0u);
}

BOOST_AUTO_TEST_CASE(mnist_data_set_directory) {
    tmp_dir t;
    const auto images = [](std::uint32_t n) {
        std::vector<double> v(n * 4);
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i % 256);
        return concat(header(idx_type::u8, {n, 2, 2}), encode(idx_type::u8, v));
    };
    const auto labels = [](std::uint32_t n) {
        std::vector<double> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = double(i % 10);
        return concat(header(idx_type::u8, {n}), encode(idx_type::u8, v));
    };
    // plain and gzip mixed, as find_idx takes either
    write_gz(t.dir / "train-images-idx3-ubyte.gz", images(3));
    write_plain(t.dir / "train-labels-idx1-ubyte", labels(3));
    write_plain(t.dir / "t10k-images-idx3-ubyte", images(2));
    write_gz(t.dir / "t10k-labels-idx1-ubyte.gz", labels(2));
    BOOST_TEST(ctgrad::io::find_idx(t.dir, "train-images-idx3-ubyte") ==
               t.dir / "train-images-idx3-ubyte.gz");
    BOOST_TEST(ctgrad::io::find_idx(t.dir, "nothing").empty());
    BOOST_TEST(ctgrad::io::has_mnist(t.dir));
    const auto d = ctgrad::io::read_mnist(t.dir);
    BOOST_TEST(d.train.images.count == 3u);
    BOOST_TEST(d.train.labels.size() == 3u);
    BOOST_TEST(d.test.images.count == 2u);
    BOOST_TEST(d.test.labels[1] == 1);
    BOOST_TEST(d.test.images.pixels[5] == 5.0f / 255.0f);
    // labels that do not match the images
    write_plain(t.dir / "train-labels-idx1-ubyte", labels(4));
    try {
        (void)ctgrad::io::read_mnist(t.dir);
        BOOST_ERROR("mismatched label count accepted");
    } catch (const idx_error& e) {
        BOOST_TEST(std::string(e.what()).find("4 labels for 3 images") != std::string::npos);
    }
    // a missing file
    write_plain(t.dir / "train-labels-idx1-ubyte", labels(3));
    fs::remove(t.dir / "t10k-labels-idx1-ubyte.gz");
    BOOST_TEST(!ctgrad::io::has_mnist(t.dir));
    try {
        (void)ctgrad::io::read_mnist(t.dir);
        BOOST_ERROR("missing file accepted");
    } catch (const idx_error& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("t10k-labels-idx1-ubyte: not found") != std::string::npos, m);
    }
}

BOOST_AUTO_TEST_CASE(fashion_mnist) {
    const fs::path dir = "/usr/share/datasets/fashion-mnist";
    const char* names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (const char* n : names) {
        if (!fs::exists(dir / n)) {
            BOOST_TEST_MESSAGE("skipped: " << (dir / n).string()
                                           << " not found (Debian package dataset-fashion-mnist)");
            return;
        }
    }
    struct split {
        const char* images;
        const char* labels;
        std::size_t count;
    };
    for (const split s : {split{names[0], names[1], 60000}, split{names[2], names[3], 10000}}) {
        BOOST_TEST_CONTEXT(s.images) {
            const auto im = ctgrad::io::read_idx_images(dir / s.images);
            BOOST_TEST(im.count == s.count);
            BOOST_TEST(im.rows == 28u);
            BOOST_TEST(im.cols == 28u);
            BOOST_TEST(im.pixels.size() == s.count * 28 * 28);
            const auto [lo, hi] = std::minmax_element(im.pixels.begin(), im.pixels.end());
            BOOST_TEST(*lo == 0.0f);
            BOOST_TEST(*hi == 1.0f);

            const auto lab = ctgrad::io::read_idx_labels(dir / s.labels);
            BOOST_TEST(lab.size() == s.count);
            std::vector<std::size_t> per_class(10, 0);
            bool all_below_10 = true;
            for (auto l : lab) {
                if (l < 10) {
                    ++per_class[l];
                } else {
                    all_below_10 = false;
                }
            }
            BOOST_TEST(all_below_10);
            for (std::size_t c = 0; c < 10; ++c)
                BOOST_TEST(per_class[c] == s.count / 10);  // balanced
            BOOST_TEST(ctgrad::io::one_hot<10>(lab).size() == s.count * 10);

            const auto raw = ctgrad::io::read_idx(dir / s.labels);
            BOOST_TEST(raw.type == idx_type::u8);
            BOOST_TEST(raw.dims == std::vector<std::size_t>{s.count},
                       boost::test_tools::per_element());
        }
    }
}
