/// @file
/// Reader for IDX files, the format of MNIST and Fashion-MNIST: plain or gzip-compressed
/// (detected by the gzip magic 1f 8b, decompressed with zlib: link with -lz).
///
/// The format: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B 16-bit
/// int, 0x0C 32-bit int, 0x0D float, 0x0E double), the number of dimensions (1..4 here), one
/// 32-bit big-endian size per dimension, then the elements, big-endian, row-major.
///
/// Every file is validated completely before a result is returned: the magic, the type, the
/// number of dimensions, every size > 0, and the data length, which must equal the product of
/// the sizes times the element size exactly (no truncation, no trailing bytes). A header that
/// claims more data than the file holds is rejected before the data is allocated. Every error
/// throws ctgrad::io::idx_error naming the function, the file and the problem; no partial
/// result is ever returned.
#pragma once

#include <zlib.h>  // inflate

#include <algorithm>     // std::min, std::max
#include <bit>           // std::bit_cast
#include <cerrno>        // errno
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint8_t, std::uint16_t, std::uint32_t, std::uint64_t
#include <cstdio>        // std::FILE, std::fopen, std::fread, std::fclose
#include <cstring>       // std::strerror, std::memmove
#include <filesystem>    // std::filesystem::path, std::filesystem::file_size
#include <limits>        // std::numeric_limits
#include <memory>        // std::unique_ptr
#include <stdexcept>     // std::runtime_error, std::out_of_range
#include <string>        // std::string, std::to_string
#include <string_view>   // std::string_view
#include <system_error>  // std::error_code
#include <utility>       // std::move, std::pair
#include <vector>        // std::vector

namespace ctgrad::io {

/// Thrown for every unreadable or malformed IDX file. The message reads
/// "ctgrad::io::<function>: <path>: <what is wrong>".
class idx_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The element types of the IDX format (the third header byte).
namespace idx_type {
inline constexpr std::uint8_t u8 = 0x08;   ///< unsigned byte
inline constexpr std::uint8_t i8 = 0x09;   ///< signed byte
inline constexpr std::uint8_t i16 = 0x0B;  ///< 16-bit signed integer, big-endian
inline constexpr std::uint8_t i32 = 0x0C;  ///< 32-bit signed integer, big-endian
inline constexpr std::uint8_t f32 = 0x0D;  ///< IEEE float, big-endian
inline constexpr std::uint8_t f64 = 0x0E;  ///< IEEE double, big-endian
}  // namespace idx_type

/// Size in bytes of one element of an IDX type, 0 for an unknown type byte.
constexpr std::size_t idx_element_size(std::uint8_t type) {
    switch (type) {
    case idx_type::u8:
    case idx_type::i8:
        return 1;
    case idx_type::i16:
        return 2;
    case idx_type::i32:
    case idx_type::f32:
        return 4;
    case idx_type::f64:
        return 8;
    default:
        return 0;
    }
}

/// The most dimensions read_idx accepts (the format allows up to 255).
inline constexpr std::size_t idx_max_dims = 4;

/// An IDX file: its element type, its sizes (outermost first) and its elements converted to
/// float in row-major order (values.size() is the product of dims). 32-bit integers above 2^24
/// round to the nearest float; doubles round to float (out-of-range ones become ±inf).
struct idx_data {
    std::uint8_t type = 0;
    std::vector<std::size_t> dims;
    std::vector<float> values;
};

/// An image file [count, rows, cols] of unsigned bytes, as floats in [0, 1] (byte / 255),
/// image-major: image i is pixels[i * rows * cols, (i + 1) * rows * cols).
struct idx_images {
    std::size_t count = 0;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<float> pixels;
};

namespace detail {

/// A file after validation: header fields and the raw big-endian data bytes.
struct idx_raw {
    std::uint8_t type = 0;
    std::vector<std::size_t> dims;
    std::vector<unsigned char> bytes;
};

[[noreturn]] inline void idx_fail(std::string_view function, const std::filesystem::path& path,
                                  const std::string& what) {
    std::string message = "ctgrad::io::";
    message += function;
    message += ": ";
    message += path.string();
    message += ": ";
    message += what;
    throw idx_error(message);
}

/// Sequential reads from a plain file or, after the gzip magic, through zlib's inflate. gzip
/// members may be concatenated (as gunzip accepts); anything else after a complete member is an
/// error, as is a member cut short or failing its CRC/length check.
class idx_source {
public:
    idx_source(std::string_view function, const std::filesystem::path& path)
        : function_(function), path_(path) {
        errno = 0;
        file_ = std::fopen(path.c_str(), "rb");
        if (file_ == nullptr) fail_errno("cannot open");
        unsigned char magic[2] = {0, 0};
        const std::size_t got = std::fread(magic, 1, 2, file_);
        if (std::ferror(file_) != 0) {
            const int e = errno;
            std::fclose(file_);
            errno = e;
            fail_errno("cannot read");
        }
        std::rewind(file_);
        if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
            in_ = std::make_unique<unsigned char[]>(in_size);
            // 16 + MAX_WBITS: a gzip wrapper, whose header, CRC-32 and length inflate checks
            if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
                std::fclose(file_);
                fail("cannot initialise zlib");
            }
            gz_ = true;
        }
    }
    idx_source(const idx_source&) = delete;
    idx_source& operator=(const idx_source&) = delete;
    ~idx_source() {
        if (gz_) inflateEnd(&zs_);
        std::fclose(file_);
    }

    bool compressed() const { return gz_; }

    /// Reads up to n bytes, fewer only at the end of the data; throws on read errors.
    std::size_t read(unsigned char* out, std::size_t n) {
        return gz_ ? inflate_into(out, n) : read_plain(out, n);
    }

    [[noreturn]] void fail(const std::string& what) const { idx_fail(function_, path_, what); }

private:
    static constexpr std::size_t in_size = std::size_t{1} << 17;

    std::size_t read_plain(unsigned char* out, std::size_t n) {
        std::size_t total = 0;
        while (total < n) {
            errno = 0;
            const std::size_t got = std::fread(out + total, 1, n - total, file_);
            if (std::ferror(file_) != 0) fail_errno("cannot read");
            if (got == 0) break;
            total += got;
        }
        return total;
    }

    /// Refills the input buffer when it is empty; false at the end of the file.
    bool refill() {
        if (zs_.avail_in > 0) return true;
        errno = 0;
        const std::size_t got = std::fread(in_.get(), 1, in_size, file_);
        if (std::ferror(file_) != 0) fail_errno("cannot read");
        zs_.next_in = in_.get();
        zs_.avail_in = static_cast<uInt>(got);
        return got > 0;
    }

    std::size_t inflate_into(unsigned char* out, std::size_t n) {
        std::size_t total = 0;
        while (total < n) {
            if (member_done_) {
                // after a complete member: the end of the file, or the next member's magic
                if (!refill()) break;
                if (zs_.next_in[0] != 0x1f) fail("trailing bytes after the gzip stream");
                if (zs_.avail_in < 2) {
                    // the second magic byte is in the next read
                    const unsigned char first = zs_.next_in[0];
                    zs_.avail_in = 0;
                    if (!refill() || zs_.next_in[0] != 0x8b) {
                        fail("trailing bytes after the gzip stream");
                    }
                    // give inflate both bytes: put the first back in front
                    std::memmove(in_.get() + 1, zs_.next_in, zs_.avail_in);
                    in_[0] = first;
                    zs_.next_in = in_.get();
                    ++zs_.avail_in;
                } else if (zs_.next_in[1] != 0x8b) {
                    fail("trailing bytes after the gzip stream");
                }
                if (inflateReset(&zs_) != Z_OK) fail("corrupt gzip stream");
                member_done_ = false;
            }
            if (!refill()) fail("truncated gzip stream");
            const std::size_t want = std::min<std::size_t>(n - total, std::size_t{1} << 30);
            zs_.next_out = out + total;
            zs_.avail_out = static_cast<uInt>(want);
            const int r = inflate(&zs_, Z_NO_FLUSH);
            total += want - zs_.avail_out;
            if (r == Z_STREAM_END) {
                member_done_ = true;
            } else if (r == Z_DATA_ERROR || r == Z_NEED_DICT) {
                fail(std::string("corrupt gzip stream") +
                     (zs_.msg != nullptr ? std::string(": ") + zs_.msg : std::string()));
            } else if (r == Z_MEM_ERROR) {
                fail("out of memory in zlib");
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                fail("corrupt gzip stream");
            }
        }
        return total;
    }

    [[noreturn]] void fail_errno(const char* what) const {
        const int e = errno;
        fail(e != 0 ? std::string(what) + ": " + std::strerror(e) : std::string(what));
    }

    std::string_view function_;
    const std::filesystem::path& path_;
    std::FILE* file_ = nullptr;
    bool gz_ = false;
    bool member_done_ = false;
    z_stream zs_{};
    std::unique_ptr<unsigned char[]> in_;
};

inline std::uint32_t load_be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

inline std::uint64_t load_be(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

/// Reads and validates a whole IDX file (see the file comment); `function` names the caller
/// in error messages.
inline idx_raw read_idx_raw(const std::filesystem::path& path, std::string_view function) {
    idx_source src(function, path);
    auto fail = [&](const std::string& what) { src.fail(what); };

    unsigned char head[4 + 4 * 255];
    std::size_t got = src.read(head, 4);
    if (got < 4) {
        fail("truncated header: " + std::to_string(got) + " of the 4 leading bytes");
    }
    if (head[0] != 0 || head[1] != 0) {
        fail("bad magic: the first two bytes must be zero (not an IDX file)");
    }
    idx_raw raw;
    raw.type = head[2];
    const std::size_t elem = idx_element_size(raw.type);
    if (elem == 0) fail("unknown element type byte " + std::to_string(raw.type));
    const std::size_t ndims = head[3];
    if (ndims < 1 || ndims > idx_max_dims) {
        fail("unsupported number of dimensions " + std::to_string(ndims) + " (1 to " +
             std::to_string(idx_max_dims) + " are read)");
    }
    got = src.read(head + 4, 4 * ndims);
    if (got < 4 * ndims) {
        fail("truncated header: " + std::to_string(got) + " of the " + std::to_string(4 * ndims) +
             " bytes of dimension sizes");
    }
    const std::size_t header_size = 4 + 4 * ndims;

    // The element count and the byte count must be representable, and so must the float
    // vector read_idx makes of them.
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
    std::size_t count = 1;
    raw.dims.reserve(ndims);
    for (std::size_t d = 0; d < ndims; ++d) {
        const std::size_t n = load_be32(head + 4 + 4 * d);
        if (n == 0) fail("dimension " + std::to_string(d) + " has size 0");
        raw.dims.push_back(n);
        if (count > max / n) fail("dimension sizes overflow: too many elements");
        count *= n;
    }
    if (count > max / sizeof(double)) fail("dimension sizes overflow: too many elements");
    const std::size_t data_size = count * elem;

    if (!src.compressed()) {
        // Plain file: compare with its size before allocating anything.
        std::error_code ec;
        const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
        if (ec) fail("cannot determine the file size: " + ec.message());
        const std::uintmax_t have = file_size - header_size;  // file_size >= header_size here
        if (have < data_size) {
            fail("truncated: header says " + std::to_string(data_size) +
                 " bytes of data, file has " + std::to_string(have));
        }
        if (have > data_size) {
            fail("trailing bytes: header says " + std::to_string(data_size) +
                 " bytes of data, file has " + std::to_string(have));
        }
    }

    // Read in growing chunks (64 KiB, then as much as already read), so that a gzip file whose
    // header overstates its data fails at the real end of the data, having allocated at most
    // about twice what it holds instead of what the header claims.
    std::size_t have = 0;
    while (have < data_size) {
        const std::size_t want = std::min(data_size - have, std::max(have, std::size_t{1} << 16));
        raw.bytes.resize(have + want);
        got = src.read(raw.bytes.data() + have, want);
        have += got;
        if (got < want) {
            fail("truncated: header says " + std::to_string(data_size) +
                 " bytes of data, file has " + std::to_string(have));
        }
    }
    // Anything after the data (also decompresses to the end, which checks the gzip trailer).
    unsigned char extra[4096];
    std::size_t trailing = 0;
    while ((got = src.read(extra, sizeof extra)) > 0) trailing += got;
    if (trailing > 0) {
        fail("trailing bytes: header says " + std::to_string(data_size) +
             " bytes of data, file has " + std::to_string(data_size + trailing));
    }
    return raw;
}

/// The element at index i of raw big-endian data of the given type, as float.
inline float idx_element(std::uint8_t type, const unsigned char* data, std::size_t i) {
    switch (type) {
    case idx_type::u8:
        return static_cast<float>(data[i]);
    case idx_type::i8:
        return static_cast<float>(static_cast<std::int8_t>(data[i]));
    case idx_type::i16:
        return static_cast<float>(static_cast<std::int16_t>(load_be(data + 2 * i, 2)));
    case idx_type::i32:
        return static_cast<float>(static_cast<std::int32_t>(load_be(data + 4 * i, 4)));
    case idx_type::f32:
        return std::bit_cast<float>(static_cast<std::uint32_t>(load_be(data + 4 * i, 4)));
    default:
        return static_cast<float>(std::bit_cast<double>(load_be(data + 8 * i, 8)));
    }
}

}  // namespace detail

/// Reads an IDX file (plain or gzip) of any element type and 1 to 4 dimensions, converting
/// the elements to float (unscaled: bytes are 0..255). Throws idx_error for any problem.
inline idx_data read_idx(const std::filesystem::path& path) {
    detail::idx_raw raw = detail::read_idx_raw(path, "read_idx");
    idx_data out;
    out.type = raw.type;
    out.dims = std::move(raw.dims);
    const std::size_t count = raw.bytes.size() / idx_element_size(raw.type);
    out.values.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.values[i] = detail::idx_element(raw.type, raw.bytes.data(), i);
    }
    return out;
}

/// Reads an image file: unsigned bytes in 3 dimensions [count, rows, cols] (MNIST's
/// *-images-idx3-ubyte[.gz]), pixels scaled to [0, 1]. Throws idx_error for any problem,
/// including another element type or number of dimensions.
inline idx_images read_idx_images(const std::filesystem::path& path) {
    detail::idx_raw raw = detail::read_idx_raw(path, "read_idx_images");
    if (raw.type != idx_type::u8 || raw.dims.size() != 3) {
        detail::idx_fail("read_idx_images", path,
                         "expected unsigned bytes (type 8) in 3 dimensions, file has type " +
                             std::to_string(raw.type) + " in " + std::to_string(raw.dims.size()));
    }
    idx_images out{raw.dims[0], raw.dims[1], raw.dims[2], {}};
    out.pixels.resize(raw.bytes.size());
    for (std::size_t i = 0; i < raw.bytes.size(); ++i) {
        out.pixels[i] = static_cast<float>(raw.bytes[i]) / 255.0f;
    }
    return out;
}

/// Reads a label file: unsigned bytes in 1 dimension (MNIST's *-labels-idx1-ubyte[.gz]).
/// Throws idx_error for any problem, including another element type or number of dimensions.
inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
    detail::idx_raw raw = detail::read_idx_raw(path, "read_idx_labels");
    if (raw.type != idx_type::u8 || raw.dims.size() != 1) {
        detail::idx_fail("read_idx_labels", path,
                         "expected unsigned bytes (type 8) in 1 dimension, file has type " +
                             std::to_string(raw.type) + " in " + std::to_string(raw.dims.size()));
    }
    return std::vector<std::uint8_t>(raw.bytes.begin(), raw.bytes.end());
}

/// dir/stem, or dir/stem.gz when only that exists (MNIST-format files come both ways); an empty
/// path when neither does.
inline std::filesystem::path find_idx(const std::filesystem::path& dir, std::string_view stem) {
    for (const char* ext : {"", ".gz"}) {
        std::filesystem::path p = dir / (std::string(stem) + ext);
        if (std::filesystem::exists(p)) return p;
    }
    return {};
}

/// The images and labels of one part of an MNIST-format data set.
struct mnist_split {
    idx_images images;
    std::vector<std::uint8_t> labels;
};

/// An MNIST-format data set (MNIST, Fashion-MNIST): its training and test parts.
struct mnist_dataset {
    mnist_split train, test;
};

namespace detail {
inline constexpr std::string_view mnist_files[] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

inline mnist_split read_mnist_split(const std::filesystem::path& dir, std::string_view images,
                                    std::string_view labels) {
    const std::filesystem::path ip = find_idx(dir, images), lp = find_idx(dir, labels);
    for (const auto& [found, stem] : {std::pair{ip, images}, std::pair{lp, labels}}) {
        if (found.empty()) {
            idx_fail("read_mnist", dir / stem, "not found (nor with .gz)");
        }
    }
    mnist_split s{read_idx_images(ip), read_idx_labels(lp)};
    if (s.images.count != s.labels.size()) {
        idx_fail("read_mnist", lp,
                 std::to_string(s.labels.size()) + " labels for " + std::to_string(s.images.count) +
                     " images in " + ip.string());
    }
    return s;
}
}  // namespace detail

/// Whether dir holds the four files of an MNIST-format data set (plain or gzip): train-images-
/// idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.
inline bool has_mnist(const std::filesystem::path& dir) {
    for (std::string_view f : detail::mnist_files) {
        if (find_idx(dir, f).empty()) return false;
    }
    return true;
}

/// Reads the four files of an MNIST-format data set in dir (Debian's dataset-fashion-mnist:
/// /usr/share/datasets/fashion-mnist). Throws idx_error naming the file for a missing one, for
/// anything read_idx_images/read_idx_labels reject, and when a part's label count is not its
/// image count.
inline mnist_dataset read_mnist(const std::filesystem::path& dir) {
    return {detail::read_mnist_split(dir, detail::mnist_files[0], detail::mnist_files[1]),
            detail::read_mnist_split(dir, detail::mnist_files[2], detail::mnist_files[3])};
}

/// One-hot rows for labels: a row-major [labels.size(), Classes] array, row i all zeros except
/// a one at column labels[i]. Throws std::out_of_range for a label >= Classes.
template <std::size_t Classes, class T = float>
std::vector<T> one_hot(const std::vector<std::uint8_t>& labels) {
    static_assert(Classes >= 1, "ctgrad::io::one_hot: at least one class");
    std::vector<T> out(labels.size() * Classes, T(0));
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= Classes) {
            throw std::out_of_range("ctgrad::io::one_hot: label " + std::to_string(labels[i]) +
                                    " at index " + std::to_string(i) + " is not below " +
                                    std::to_string(Classes));
        }
        out[i * Classes + labels[i]] = T(1);
    }
    return out;
}

}  // namespace ctgrad::io
