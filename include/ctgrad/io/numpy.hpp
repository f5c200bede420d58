/// @file
/// NumPy's .npy (one array) and .npz (a zip of .npy files, as numpy.savez and
/// numpy.savez_compressed write them) for tensors and parameter packs:
/// `io::load_npy(path, tensor)`, `io::save_npy(path, tensor)`, `io::read_npy(path)` (any
/// shape), `io::load_npz(path, params, io::pytorch_names)`, `io::save_npz(path, params)`.
/// Needs zlib (deflated .npz entries, CRC-32): link with -lz (`pkg-config ctgrad-io`).
///
/// .npy (format versions 1.0, 2.0, 3.0): the magic "\x93NUMPY", the version (2 bytes), the
/// header length (u16 little-endian in 1.0, u32 in 2.0 and 3.0), the header: a Python dict
/// literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (32, 784), }` padded with
/// spaces and a newline, then the elements. Read: the three keys exactly once each (a duplicate
/// or another key is an error), descr one of '<f2' '<f4' '<f8' '>f2' '>f4' '>f8' (big-endian
/// data is converted), shape a tuple of non-negative integers, fortran_order True or False: a
/// Fortran-order (column-major) array is read into ctgrad's row-major layout with the same shape
/// (the values at each index are the same; nothing is transposed). The header is at most 10 000
/// bytes (NumPy's own limit); the data must be exactly the shape's size. Written: version 1.0,
/// descr '<f4' or '<f8', fortran_order False, the header padded to a multiple of 64 bytes, as
/// numpy.save writes it.
///
/// .npz: a zip archive with one entry "<name>.npy" per tensor. Read: the end-of-central-
/// directory record (and the zip64 records numpy.savez writes for large files; zip64 extra
/// fields, which numpy.savez always writes, are understood), the central directory, each
/// entry's local header (it must agree with the central directory; entries may not overlap),
/// stored or deflated entries only (no encryption), inflated with zlib to exactly the declared
/// size (bounded by what the parameter can need before anything is allocated), CRC-32 checked.
/// Written: stored (default) or deflated entries, a fixed timestamp (1980-01-01: the same
/// tensors give the same bytes), no zip64 (an archive over 4 GiB is refused).
///
/// Loads validate everything before writing anything and throw io::weights_error naming the
/// file, the entry or tensor, and the problem; a load that throws changes nothing. Saves are
/// atomic (see ctgrad/io/weights.hpp).
#pragma once

#include <zlib.h>  // inflate, deflate, crc32

#include <algorithm>    // std::sort, std::min
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint16_t, std::uint32_t, std::uint64_t
#include <filesystem>   // std::filesystem::path
#include <map>          // std::map
#include <string>       // std::string
#include <string_view>  // std::string_view
#include <type_traits>  // std::is_same_v
#include <utility>      // std::move
#include <vector>       // std::vector

#include <ctgrad/io/weights.hpp>

namespace ctgrad::io {

/// The largest .npy header a load accepts (NumPy's default max_header_size).
inline constexpr std::size_t npy_max_header = 10000;

/// How save_npz stores its entries: as they are (numpy.savez) or deflated
/// (numpy.savez_compressed).
enum class npz_compression { stored, deflated };

/// An array read by read_npy: its shape (outermost first) and its elements in row-major order,
/// converted exactly to double.
struct npy_array {
    std::vector<std::size_t> shape;
    std::vector<double> values;
};

namespace detail {

/// Parses the .npy bytes b[0, n) (`what` names them in messages: the file, or the file and the
/// npz entry) into a file tensor pointing into b.
inline file_tensor parse_npy(const std::string& prefix, const unsigned char* b, std::size_t n) {
    const auto fail = [&](const std::string& what) { throw weights_error(prefix + what); };
    static constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (n < 8) fail("truncated: " + std::to_string(n) + " bytes, shorter than the .npy magic");
    for (std::size_t k = 0; k < 6; ++k) {
        if (b[k] != magic[k]) fail("not a .npy file (it does not start with \"\\x93NUMPY\")");
    }
    const unsigned major = b[6], minor = b[7];
    if (minor != 0 || major < 1 || major > 3) {
        fail(".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             " is not supported (1.0, 2.0 and 3.0 are)");
    }
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    if (n < 8 + len_bytes) fail("truncated inside the header length");
    const std::uint64_t hlen = get_le(b + 8, len_bytes);
    if (hlen > npy_max_header) {
        fail("header length " + std::to_string(hlen) + " is too large (at most " +
             std::to_string(npy_max_header) + ")");
    }
    const std::size_t start = 8 + len_bytes;
    if (hlen > n - start) {
        fail("truncated: the header length is " + std::to_string(hlen) + " bytes, " +
             std::to_string(n - start) + " follow it");
    }
    const std::string_view h(reinterpret_cast<const char*>(b + start),
                             static_cast<std::size_t>(hlen));

    // The header: a Python dict literal with str keys, and str / bool / tuple-of-int values.
    std::size_t pos = 0;
    const auto bad = [&](const std::string& what) {
        fail("bad header at byte " + std::to_string(pos) + ": " + what);
    };
    const auto ws = [&] {
        while (pos < h.size() && (h[pos] == ' ' || h[pos] == '\t' || h[pos] == '\n' ||
                                  h[pos] == '\r' || h[pos] == '\f')) {
            ++pos;
        }
    };
    const auto peek = [&] { return pos < h.size() ? h[pos] : '\0'; };
    const auto str = [&] {
        const char q = peek();
        if (q != '\'' && q != '"') bad("expected a string");
        ++pos;
        std::string s;
        for (;;) {
            if (pos >= h.size() || h[pos] == '\n') bad("unterminated string");
            const char c = h[pos++];
            if (c == q) return s;
            if (c == '\\') bad("escapes are not supported in the header");
            s += c;
        }
    };
    std::string descr;
    bool fortran = false;
    std::vector<std::uint64_t> dims;
    bool have_descr = false, have_fortran = false, have_shape = false;
    ws();
    if (peek() != '{') bad("the header is not a dict");
    ++pos;
    for (;;) {
        ws();
        if (peek() == '}') break;
        const std::string key = str();
        ws();
        if (peek() != ':') bad("expected ':'");
        ++pos;
        ws();
        if (key == "descr") {
            if (have_descr) bad("duplicate key 'descr'");
            have_descr = true;
            if (peek() != '\'' && peek() != '"') bad("descr is not a string");
            descr = str();
        } else if (key == "fortran_order") {
            if (have_fortran) bad("duplicate key 'fortran_order'");
            have_fortran = true;
            if (h.substr(pos, 4) == "True") {
                fortran = true;
                pos += 4;
            } else if (h.substr(pos, 5) == "False") {
                pos += 5;
            } else {
                bad("fortran_order is not True or False");
            }
        } else if (key == "shape") {
            if (have_shape) bad("duplicate key 'shape'");
            have_shape = true;
            if (peek() != '(') bad("shape is not a tuple");
            ++pos;
            bool comma = false;  // a single element needs its comma: (3) is not a tuple
            for (;;) {
                ws();
                if (peek() == ')') break;
                if (!(peek() >= '0' && peek() <= '9'))
                    bad("shape holds something other than a non-negative integer");
                if (peek() == '0' && pos + 1 < h.size() && h[pos + 1] >= '0' && h[pos + 1] <= '9') {
                    bad("an integer with a leading zero");
                }
                std::uint64_t d = 0;
                while (peek() >= '0' && peek() <= '9') {
                    const auto digit = static_cast<std::uint64_t>(h[pos] - '0');
                    if (d > (~std::uint64_t{0} - digit) / 10) bad("a dimension overflows 64 bits");
                    d = d * 10 + digit;
                    ++pos;
                }
                if (major <= 2 && peek() == 'L') ++pos;  // Python 2's long suffix
                dims.push_back(d);
                ws();
                if (peek() == ',') {
                    ++pos;
                    comma = true;
                    continue;
                }
                if (peek() != ')') bad("expected ',' or ')' in shape");
            }
            ++pos;
            if (dims.size() == 1 && !comma) bad("shape (n) is not a tuple (a tuple is (n,))");
        } else {
            bad("unexpected key '" + key + "' (a .npy header has descr, fortran_order, shape)");
        }
        ws();
        if (peek() == ',') {
            ++pos;
            continue;
        }
        ws();
        if (peek() != '}') bad("expected ',' or '}'");
    }
    ++pos;
    ws();
    if (pos != h.size()) bad("unexpected characters after the dict");
    if (!have_descr || !have_fortran || !have_shape) {
        fail("the header lacks one of descr, fortran_order, shape");
    }
    file_tensor t;
    t.dtype = "'" + descr + "'";
    t.dims = std::move(dims);
    t.fortran = fortran;
    if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '>') && descr[1] == 'f') {
        t.big_endian = descr[0] == '>';
        if (descr[2] == '2') t.type = elem::f16;
        if (descr[2] == '4') t.type = elem::f32;
        if (descr[2] == '8') t.type = elem::f64;
    }
    if (t.type == elem::other) {
        fail("dtype " + t.dtype + " cannot be loaded ('<f2', '<f4', '<f8' and big-endian '>' can)");
    }
    std::uint64_t bytes = 0;
    if (!byte_size(t.dims, elem_bytes(t.type), bytes)) {
        fail("shape " + shape_string(t.dims) + " overflows");
    }
    const std::size_t data = start + static_cast<std::size_t>(hlen);
    if (bytes != n - data) {
        fail(std::string(bytes > n - data ? "truncated: " : "") + "dtype " + t.dtype +
             " and shape " + shape_string(t.dims) + " need " + std::to_string(bytes) +
             " bytes of data, " + std::to_string(n - data) + " follow the header");
    }
    t.data = b + data;
    return t;
}

/// A .npy file of the given shape and element type (version 1.0, as numpy.save writes).
inline std::vector<unsigned char> npy_bytes(const weight_slot& s) {
    std::string h = s.is_double ? "{'descr': '<f8', 'fortran_order': False, 'shape': ("
                                : "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (std::size_t k = 0; k < s.file_dims.size(); ++k) {
        if (k != 0) h += ", ";
        h += std::to_string(s.file_dims[k]);
    }
    h += s.file_dims.size() == 1 ? ",), }" : "), }";
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    put_le(out, h.size(), 2);
    out.insert(out.end(), h.begin(), h.end());
    append_slot_le(out, s);
    return out;
}

/// A zip entry after validation of the archive's structure.
struct zip_entry {
    std::string name;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t csize = 0, usize = 0, local = 0, data = 0;
};

/// Validates the archive's structure (see the file comment) and lists its entries.
inline std::vector<zip_entry> parse_zip(const std::string& prefix,
                                        const std::vector<unsigned char>& b) {
    const auto fail = [&](const std::string& what) { throw weights_error(prefix + what); };
    const std::size_t size = b.size();
    const auto u16 = [&](std::uint64_t at) {
        return static_cast<std::uint16_t>(get_le(&b[at], 2));
    };
    const auto u32 = [&](std::uint64_t at) {
        return static_cast<std::uint32_t>(get_le(&b[at], 4));
    };
    const auto u64 = [&](std::uint64_t at) { return get_le(&b[at], 8); };
    // the end-of-central-directory record: its comment must end the file
    if (size < 22) fail("not a zip file (truncated: no end-of-central-directory record)");
    std::size_t eocd = size;
    for (std::size_t p = size - 22 + 1; p-- > 0 && size - p <= 22 + 0xffff;) {
        if (u32(p) == 0x06054b50u && u16(p + 20) == size - p - 22) {
            eocd = p;
            break;
        }
    }
    if (eocd == size) {
        fail("not a zip file (no end-of-central-directory record: truncated or corrupt)");
    }
    std::uint64_t count = u16(eocd + 10), cd_size = u32(eocd + 12), cd_offset = u32(eocd + 16);
    std::uint64_t cd_limit = eocd;  // where the central directory must end
    if (u16(eocd + 4) != 0 || u16(eocd + 6) != 0 || u16(eocd + 8) != count) {
        fail("multi-disk zip archives are not supported");
    }
    if (eocd >= 20 && u32(eocd - 20) == 0x07064b50u) {  // zip64 locator
        const std::uint64_t rec = u64(eocd - 20 + 8);
        if (u32(eocd - 20 + 4) != 0 || u32(eocd - 20 + 16) > 1) {
            fail("multi-disk zip archives are not supported");
        }
        if (rec > eocd - 20 || eocd - 20 - rec < 56 || u32(rec) != 0x06064b50u) {
            fail("bad zip64 end-of-central-directory record");
        }
        if (u32(rec + 16) != 0 || u32(rec + 20) != 0 || u64(rec + 24) != u64(rec + 32)) {
            fail("multi-disk zip archives are not supported");
        }
        count = u64(rec + 32);
        cd_size = u64(rec + 40);
        cd_offset = u64(rec + 48);
        cd_limit = rec;
    }
    if (cd_offset > cd_limit || cd_size != cd_limit - cd_offset) {
        fail("the central directory (offset " + std::to_string(cd_offset) + ", " +
             std::to_string(cd_size) + " bytes) does not end where the end record starts");
    }
    if (count > cd_size / 46) fail("the central directory is too small for its entry count");
    std::vector<zip_entry> entries;
    std::map<std::string, bool> names;
    std::uint64_t p = cd_offset;
    for (std::uint64_t k = 0; k < count; ++k) {
        if (cd_limit - p < 46 || u32(p) != 0x02014b50u) {
            fail("corrupt central directory (entry " + std::to_string(k) + ")");
        }
        zip_entry e;
        const std::uint16_t flags = u16(p + 8);
        e.method = u16(p + 10);
        e.crc = u32(p + 16);
        e.csize = u32(p + 20);
        e.usize = u32(p + 24);
        const std::uint64_t nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
        std::uint64_t disk = u16(p + 34);
        e.local = u32(p + 42);
        if (cd_limit - p - 46 < nlen + xlen + clen) {
            fail("corrupt central directory (entry " + std::to_string(k) + ")");
        }
        e.name.assign(reinterpret_cast<const char*>(&b[p + 46]), static_cast<std::size_t>(nlen));
        const std::string who = "entry \"" + e.name + "\": ";
        // extra fields: the zip64 one holds the fields that are all ones above, in this order
        bool need64 = e.usize == 0xffffffffu || e.csize == 0xffffffffu || e.local == 0xffffffffu ||
                      disk == 0xffff;
        for (std::uint64_t x = p + 46 + nlen, end = x + xlen; x < end;) {
            if (end - x < 4) fail(who + "corrupt extra field");
            const std::uint16_t id = u16(x), len = u16(x + 2);
            if (end - x - 4 < len) fail(who + "corrupt extra field");
            if (id == 0x0001) {
                std::uint64_t at = x + 4, left = len;
                for (std::uint64_t* f : {&e.usize, &e.csize, &e.local}) {
                    if (*f != 0xffffffffu) continue;
                    if (left < 8) fail(who + "corrupt zip64 extra field");
                    *f = u64(at);
                    at += 8;
                    left -= 8;
                }
                if (disk == 0xffff) {
                    if (left < 4) fail(who + "corrupt zip64 extra field");
                    disk = u32(at);
                }
                need64 = false;
            }
            x += 4 + len;
        }
        if (need64) fail(who + "sizes need a zip64 extra field, which is missing");
        if (disk != 0) fail("multi-disk zip archives are not supported");
        if ((flags & 1) != 0) fail(who + "encrypted entries are not supported");
        if (e.method != 0 && e.method != 8) {
            fail(who + "compression method " + std::to_string(e.method) +
                 " is not supported (stored and deflated are)");
        }
        if (!names.emplace(e.name, true).second) fail(who + "duplicate entry");
        p += 46 + nlen + xlen + clen;
        entries.push_back(std::move(e));
    }
    if (p != cd_limit) fail("the central directory has bytes after its last entry");
    // local headers: agree with the central directory, data inside the archive, no overlap
    for (auto& e : entries) {
        const std::string who = "entry \"" + e.name + "\": ";
        if (e.local > cd_offset || cd_offset - e.local < 30 || u32(e.local) != 0x04034b50u) {
            fail(who + "bad local header offset " + std::to_string(e.local));
        }
        const std::uint64_t nlen = u16(e.local + 26), xlen = u16(e.local + 28);
        if (cd_offset - e.local - 30 < nlen + xlen) fail(who + "local header out of range");
        if (u16(e.local + 8) != e.method || nlen != e.name.size() ||
            std::string_view(reinterpret_cast<const char*>(&b[e.local + 30]),
                             static_cast<std::size_t>(nlen)) != e.name) {
            fail(who + "the local header does not match the central directory");
        }
        e.data = e.local + 30 + nlen + xlen;
        if (e.csize > cd_offset - e.data) fail(who + "compressed data out of range");
    }
    std::vector<const zip_entry*> by_offset;
    for (const auto& e : entries) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto* x, const auto* y) { return x->local < y->local; });
    for (std::size_t k = 1; k < by_offset.size(); ++k) {
        if (by_offset[k]->local < by_offset[k - 1]->data + by_offset[k - 1]->csize) {
            fail("entries \"" + by_offset[k - 1]->name + "\" and \"" + by_offset[k]->name +
                 "\" overlap");
        }
    }
    return entries;
}

/// The entry's bytes, inflated and CRC-checked; refuses entries larger than `limit` bytes.
inline std::vector<unsigned char> zip_extract(const std::string& prefix,
                                              const std::vector<unsigned char>& b,
                                              const zip_entry& e, std::uint64_t limit) {
    const std::string who = prefix + "entry \"" + e.name + "\": ";
    const auto fail = [&](const std::string& what) { throw weights_error(who + what); };
    if (e.usize > limit) {
        fail("declares " + std::to_string(e.usize) + " bytes, more than the parameter can need (" +
             std::to_string(limit) + ")");
    }
    std::vector<unsigned char> out(static_cast<std::size_t>(e.usize));
    const unsigned char* in = b.data() + e.data;
    if (e.method == 0) {
        if (e.csize != e.usize) fail("a stored entry whose sizes differ");
        std::copy(in, in + e.usize, out.begin());
    } else {
        z_stream zs{};
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail("cannot initialise zlib");
        constexpr std::uint64_t chunk = std::uint64_t{1} << 30;
        std::uint64_t in_left = e.csize, out_done = 0;
        unsigned char spare = 0;
        int r = Z_OK;
        zs.next_in = const_cast<unsigned char*>(in);
        zs.avail_in = 0;
        for (;;) {
            if (zs.avail_in == 0 && in_left > 0) {
                zs.avail_in = static_cast<uInt>(std::min(in_left, chunk));
                in_left -= zs.avail_in;
            }
            const bool full = out_done == e.usize;
            zs.next_out = full ? &spare : out.data() + out_done;
            zs.avail_out = full ? 1u : static_cast<uInt>(std::min(e.usize - out_done, chunk));
            const uInt before = zs.avail_out;
            r = inflate(&zs, Z_NO_FLUSH);
            if (full && zs.avail_out != before) {
                inflateEnd(&zs);
                fail("inflates to more than its declared " + std::to_string(e.usize) + " bytes");
            }
            if (!full) out_done += before - zs.avail_out;
            if (r == Z_STREAM_END) break;
            if (r == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
                inflateEnd(&zs);
                fail("compressed data truncated");
            }
            if (r != Z_OK && r != Z_BUF_ERROR) {
                inflateEnd(&zs);
                fail(r == Z_MEM_ERROR ? "out of memory in zlib" : "corrupt deflate data");
            }
        }
        const bool trailing = zs.avail_in != 0 || in_left != 0;
        inflateEnd(&zs);
        if (out_done != e.usize) {
            fail("inflates to " + std::to_string(out_done) + " bytes, its header says " +
                 std::to_string(e.usize));
        }
        if (trailing) fail("compressed data continue after the end of the deflate stream");
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t at = 0; at < out.size();) {
        const std::size_t n = std::min<std::size_t>(out.size() - at, std::size_t{1} << 30);
        crc = crc32(crc, out.data() + at, static_cast<uInt>(n));
        at += n;
    }
    if (crc != e.crc) fail("CRC-32 mismatch (the entry is corrupt)");
    return out;
}

inline std::vector<unsigned char> deflate_bytes(const std::string& prefix,
                                                const std::vector<unsigned char>& in) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        throw weights_error(prefix + "cannot initialise zlib");
    }
    std::vector<unsigned char> out(deflateBound(&zs, static_cast<uLong>(in.size())));
    zs.next_in = const_cast<unsigned char*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    const int r = deflate(&zs, Z_FINISH);
    out.resize(out.size() - zs.avail_out);
    deflateEnd(&zs);
    if (r != Z_STREAM_END) throw weights_error(prefix + "deflate failed");
    return out;
}

}  // namespace detail

/// Reads the .npy file `file` into `t` (a ctgrad::tensor of float or double): the file's shape
/// must be the tensor's; its element type converts exactly (see ctgrad/io/weights.hpp). Throws
/// io::weights_error and leaves `t` unchanged on any problem.
template <class Tensor>
void load_npy(const std::filesystem::path& file, Tensor& t) {
    constexpr std::string_view fn = "load_npy";
    using T = typename Tensor::value_type;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ctgrad::io::load_npy: reads into float and double tensors only");
    const std::string prefix = "ctgrad::io::load_npy: " + file.string() + ": ";
    const std::vector<unsigned char> buf = detail::read_weights_file(fn, file);
    detail::file_tensor f = detail::parse_npy(prefix, buf.data(), buf.size());
    detail::weight_slot s;
    s.name = s.file.name = "array";
    s.dims.assign(Tensor::shape.begin(), Tensor::shape.end());
    s.file_dims = s.dims;
    s.is_double = std::is_same_v<T, double>;
    s.data = t.data();
    s.cdata = t.data();
    s.count = t.size();
    detail::check_slot([&](const std::string& what) { throw weights_error(prefix + what); }, "",
                       "the tensor", "the tensor is", f, s);
    detail::decode_into(f, s);
}

/// Reads any float .npy file (shape and elements converted to double, row-major). Throws
/// io::weights_error.
inline npy_array read_npy(const std::filesystem::path& file) {
    constexpr std::string_view fn = "read_npy";
    const std::string prefix = "ctgrad::io::read_npy: " + file.string() + ": ";
    const std::vector<unsigned char> buf = detail::read_weights_file(fn, file);
    detail::file_tensor f = detail::parse_npy(prefix, buf.data(), buf.size());
    npy_array a;
    std::size_t n = 1;
    for (auto d : f.dims) {
        a.shape.push_back(static_cast<std::size_t>(d));
        n *= static_cast<std::size_t>(d);
    }
    a.values.resize(n);
    detail::weight_slot s;
    s.dims = f.dims;
    s.file_dims = f.dims;
    s.is_double = true;
    s.data = a.values.data();
    s.count = n;
    detail::decode_slot<double>(f, s);
    return a;
}

/// Writes the tensor `t` as a .npy file (version 1.0, '<f4' or '<f8', C order), atomically.
/// Throws io::weights_error.
template <class Tensor>
void save_npy(const std::filesystem::path& file, const Tensor& t) {
    using T = typename Tensor::value_type;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ctgrad::io::save_npy: writes float and double tensors only");
    detail::weight_slot s;
    s.dims.assign(Tensor::shape.begin(), Tensor::shape.end());
    s.file_dims = s.dims;
    s.is_double = std::is_same_v<T, double>;
    s.cdata = t.data();
    s.count = t.size();
    detail::write_file_atomically("save_npy", file, detail::npy_bytes(s));
}

/// Reads the .npz archive `file` (numpy.savez / savez_compressed) into `packs` (one pack, or
/// several as std::tie(params, state)): the entry "<name>.npy" for each parameter, `name` given
/// by `names` (io::ctgrad_names by default, io::pytorch_names for a PyTorch state_dict saved with
/// numpy.savez(path, **{k: v.numpy() for k, v in sd.items()})). Validates the whole archive and
/// every entry the packs need before writing anything; throws io::weights_error naming the
/// file, the entry or tensor, and the problem, and leaves every pack unchanged. Entries no
/// parameter maps to are an error unless `unused` is unused_tensors::ignore.
template <detail::packs Packs, name_map Names = ctgrad_names_t>
void load_npz(const std::filesystem::path& file, Packs&& packs, const Names& names = {},
              unused_tensors unused = unused_tensors::reject) {
    constexpr std::string_view fn = "load_npz";
    const std::string prefix = "ctgrad::io::load_npz: " + file.string() + ": ";
    const auto slots = detail::slots_of(fn, file, packs, names);
    const std::vector<unsigned char> buf = detail::read_weights_file(fn, file);
    const std::vector<detail::zip_entry> entries = detail::parse_zip(prefix, buf);
    std::map<std::string_view, const detail::zip_entry*> by_name;
    for (const auto& e : entries) by_name.emplace(e.name, &e);
    std::vector<const detail::zip_entry*> need;
    for (const auto& s : slots) {
        const auto it = by_name.find(s.file.name + ".npy");
        if (it == by_name.end()) {
            throw weights_error(prefix + "tensor \"" + s.file.name + "\" (parameter " + s.name +
                                "): missing from the file (no entry \"" + s.file.name + ".npy\")");
        }
        need.push_back(it->second);
    }
    if (unused == unused_tensors::reject) {
        for (const auto& e : entries) {
            if (std::find(need.begin(), need.end(), &e) != need.end()) continue;
            const std::string_view n = e.name;
            if constexpr (requires { names.ignores(n); }) {
                if (n.ends_with(".npy") && names.ignores(n.substr(0, n.size() - 4))) continue;
            }
            throw weights_error(prefix + "entry \"" + e.name +
                                "\" is in the file but no parameter maps to it (pass "
                                "io::unused_tensors::ignore to skip such entries)");
        }
    }
    std::vector<std::vector<unsigned char>> data;
    std::vector<detail::file_tensor> tensors;
    data.reserve(slots.size());
    for (std::size_t k = 0; k < slots.size(); ++k) {
        const std::uint64_t limit = 12 + npy_max_header + 8 * std::uint64_t{slots[k].count};
        data.push_back(detail::zip_extract(prefix, buf, *need[k], limit));
        detail::file_tensor t = detail::parse_npy(
            prefix + "entry \"" + need[k]->name + "\": ", data.back().data(), data.back().size());
        t.name = slots[k].file.name;
        tensors.push_back(std::move(t));
    }
    detail::match_and_decode(fn, file, slots, tensors, names, unused_tensors::ignore);
}

/// Writes `packs` (one pack or a tuple of references to packs) as a .npz archive that
/// numpy.load reads: one entry "<name>.npy" per parameter, named by `names`, each tensor in its
/// element type, stored (numpy.savez) or deflated (numpy.savez_compressed). Atomic. Throws
/// io::weights_error.
template <detail::packs Packs, name_map Names = ctgrad_names_t>
void save_npz(const std::filesystem::path& file, const Packs& packs, const Names& names = {},
              npz_compression compression = npz_compression::stored) {
    constexpr std::string_view fn = "save_npz";
    const std::string prefix = "ctgrad::io::save_npz: " + file.string() + ": ";
    const auto slots = detail::slots_of(fn, file, packs, names);
    std::vector<unsigned char> out, cd;
    for (const auto& s : slots) {
        const std::vector<unsigned char> raw = detail::npy_bytes(s);
        const std::vector<unsigned char> packed =
            compression == npz_compression::deflated ? detail::deflate_bytes(prefix, raw) : raw;
        const std::string name = s.file.name + ".npy";
        if (raw.size() >= 0xffffffffu || packed.size() >= 0xffffffffu ||
            out.size() >= 0xffffffffu || name.size() > 0xffff) {
            throw weights_error(prefix + "too large for a zip archive without zip64");
        }
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, raw.data(), static_cast<uInt>(raw.size()));
        const std::uint16_t method = compression == npz_compression::deflated ? 8 : 0;
        const auto common = [&](std::vector<unsigned char>& v) {
            detail::put_le(v, 20, 2);      // version needed: 2.0
            detail::put_le(v, 0, 2);       // flags
            detail::put_le(v, method, 2);  // compression
            detail::put_le(v, 0, 2);       // time 00:00:00
            detail::put_le(v, 0x21, 2);    // date 1980-01-01
            detail::put_le(v, crc, 4);
            detail::put_le(v, packed.size(), 4);
            detail::put_le(v, raw.size(), 4);
            detail::put_le(v, name.size(), 2);
            detail::put_le(v, 0, 2);  // extra length
        };
        detail::put_le(cd, 0x02014b50u, 4);
        detail::put_le(cd, 20, 2);  // version made by
        common(cd);
        detail::put_le(cd, 0, 2);  // comment length
        detail::put_le(cd, 0, 2);  // disk
        detail::put_le(cd, 0, 2);  // internal attributes
        detail::put_le(cd, 0, 4);  // external attributes
        detail::put_le(cd, out.size(), 4);
        cd.insert(cd.end(), name.begin(), name.end());
        detail::put_le(out, 0x04034b50u, 4);
        common(out);
        out.insert(out.end(), name.begin(), name.end());
        out.insert(out.end(), packed.begin(), packed.end());
    }
    if (out.size() >= 0xffffffffu || cd.size() >= 0xffffffffu || slots.size() >= 0xffff) {
        throw weights_error(prefix + "too large for a zip archive without zip64");
    }
    const std::size_t cd_offset = out.size();
    out.insert(out.end(), cd.begin(), cd.end());
    detail::put_le(out, 0x06054b50u, 4);
    detail::put_le(out, 0, 4);  // disk numbers
    detail::put_le(out, slots.size(), 2);
    detail::put_le(out, slots.size(), 2);
    detail::put_le(out, cd.size(), 4);
    detail::put_le(out, cd_offset, 4);
    detail::put_le(out, 0, 2);  // comment length
    detail::write_file_atomically(fn, file, out);
}

}  // namespace ctgrad::io
