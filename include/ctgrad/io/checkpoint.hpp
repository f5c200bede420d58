/// @file
/// Checkpoints: `io::save(path, params)` writes a parameter pack (and, optionally, further
/// packs such as optimizer state: `io::save(path, params, m, v)`) to a small binary file,
/// atomically; `io::load(path, params)` (`io::load(path, params, m, v)`) reads it back after
/// validating everything, or throws io::checkpoint_error and leaves the packs untouched.
///
/// File format (version 2). All integers are unsigned little-endian; floating-point elements
/// are IEEE 754 (binary32 for float, binary64 for double) stored little-endian, bit-exact
/// (signed zeros, infinities and NaN payloads survive a round trip).
///
///     offset  size      field
///     0       8         magic: the ASCII bytes "CTGRADCK" (no terminator)
///     8       4         format version, u32 (= 2; 1 is read too, see below)
///     12      4         number of tensors n, u32 (all packs together, in argument order)
///     16      ...       n tensor records, one after the other, each:
///                         4         name length L, u32
///                         L         name bytes (the variable's name, e.g. "fc1.W"; no NUL)
///                         1         element type code, u8: 4 = float, 8 = double
///                         1         rank r, u8
///                         8 * r     dimensions, u64 each, outermost first
///                         c * N     data: N = product of the dimensions (1 for rank 0)
///                                   elements of c = code bytes each, row-major
///     end - 8 8         checksum: FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
///                       0x100000001b3) of every byte before it, u64
///
/// The checksum detects every change of a single byte (each FNV-1a step is a bijection of
/// the state), so a bit flip anywhere is reported; it is not a cryptographic hash.
///
/// Saving writes to a temporary file in the target's directory (`<path>.tmp-<random hex>`),
/// checks every stream operation, closes it and renames it over the target
/// (std::filesystem::rename, atomic on POSIX file systems). On any failure the temporary is
/// removed and the previous file at `path`, if any, is left as it was. On POSIX systems the
/// temporary file is fsync'ed before the rename and the directory after it, so a completed
/// save also survives a power loss.
///
/// Versions: 2 is 1 with dropout step counters (state variables declared with
/// ctgrad::dropout_counter, known by their type: ctgrad::detail::is_dropout_counter) stored as
/// the unsigned integer in their element's bits (tensor/dropout.hpp). Version-1 files are read as well: before the counter moved into the
/// element's bits, a version-1 file held it as a float count (1.0f after one step), which read
/// as bits would be over 10^9 steps; such a count (a whole number ≥ 1) is converted on load,
/// and anything else (a count already held as bits) is kept as is. Saving always writes
/// version 2.
///
/// Loading reads the whole file into one buffer, checks it (magic, version, structure:
/// truncation and trailing bytes, checksum, then the number of tensors and each name,
/// element type and shape against the packs' variables, in order) and only then decodes the
/// elements into the packs, which cannot fail: a load that throws changes nothing.
#pragma once

#include <array>         // std::array
#include <atomic>        // std::atomic
#include <bit>           // std::bit_cast
#include <cerrno>        // errno
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint8_t, std::uint32_t, std::uint64_t
#include <cstring>       // std::strerror
#include <filesystem>    // std::filesystem::path, rename, remove
#include <fstream>       // std::ifstream, std::ofstream
#include <functional>    // std::function
#include <limits>        // std::numeric_limits
#include <random>        // std::random_device
#include <stdexcept>     // std::runtime_error
#include <string>        // std::string, std::to_string
#include <string_view>   // std::string_view
#include <system_error>  // std::error_code
#include <type_traits>   // std::remove_cvref_t, std::is_same_v
#include <utility>       // std::forward
#include <vector>        // std::vector

#include <ctgrad/nn/parameters.hpp>
#include <ctgrad/tensor/dropout.hpp>  // detail::is_dropout_counter, dropout_counter_from_v1

#if __has_include(<unistd.h>) && __has_include(<fcntl.h>)
#include <fcntl.h>   // ::open, O_RDONLY, O_DIRECTORY
#include <unistd.h>  // ::fsync, ::close
#define CTGRAD_CHECKPOINT_POSIX 1
#else
#define CTGRAD_CHECKPOINT_POSIX 0
#endif

namespace ctgrad::io {

/// The error of a failed save or load. The message names the operation, the file and the
/// problem: "ctgrad::io::load: run.ckpt: parameter fc1.W has shape [784, 100] in the file,
/// the network expects [784, 128]".
class checkpoint_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The format version this header writes; it reads this one and version 1 (see above).
inline constexpr std::uint32_t checkpoint_version = 2;

/// The 8 bytes every checkpoint starts with.
inline constexpr std::string_view checkpoint_magic = "CTGRADCK";

namespace detail {

/// Test-only failure injection: when set, save() calls it after each chunk of the file has
/// been handed to the stream, with the number of bytes written so far (the checksum
/// included, at the end). Throwing from it aborts the save as a failed write would: the
/// temporary is removed and the exception propagates. Not synchronized: set it only while
/// no other thread saves.
inline std::function<void(std::uint64_t bytes_written)> write_hook;

/// Bytes the writer buffers before handing them to the stream (and calling write_hook).
inline constexpr std::size_t write_chunk = std::size_t{1} << 16;

/// FNV-1a, 64 bits.
struct fnv1a64 {
    std::uint64_t state = 0xcbf29ce484222325ULL;
    void update(const unsigned char* p, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
            state ^= p[i];
            state *= 0x100000001b3ULL;
        }
    }
};

/// The element type code of T (4 = float, 8 = double).
template <class T>
constexpr std::uint8_t element_code() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ctgrad::io: checkpoints hold float and double tensors only");
    static_assert(std::numeric_limits<T>::is_iec559,
                  "ctgrad::io: checkpoints need IEEE 754 float and double");
    return static_cast<std::uint8_t>(sizeof(T));
}

inline std::string type_name(std::uint8_t code) {
    if (code == 4) return "float";
    if (code == 8) return "double";
    return "element type code " + std::to_string(code);
}

inline std::string dims_string(const std::uint64_t* d, std::size_t rank) {
    std::string s = "[";
    for (std::size_t i = 0; i < rank; ++i) {
        if (i != 0) s += ", ";
        s += std::to_string(d[i]);
    }
    return s + "]";
}

/// Something that holds named tensors like nn::parameters: `p.for_each(f)` calls
/// `f(variable, tensor&)` for each, in a fixed order.
struct any_tensor_visitor {
    template <class V, class T>
    void operator()(V, T&) const {}
};

template <class P>
concept tensor_pack = requires(P& p) {
    p.for_each(any_tensor_visitor{});
};

[[noreturn]] inline void fail(std::string_view op, const std::filesystem::path& file,
                              const std::string& what) {
    throw checkpoint_error("ctgrad::io::" + std::string(op) + ": " + file.string() + ": " + what);
}

/// A buffered little-endian writer to a file that checksums what it writes.
class writer {
public:
    writer(const std::filesystem::path& target, const std::filesystem::path& tmp)
        : target_(target), out_(tmp, std::ios::binary | std::ios::out | std::ios::trunc) {
        if (!out_) fail("save", target_, "cannot create the temporary file " + tmp.string());
        buf_.reserve(write_chunk);
    }

    void u8(std::uint8_t v) {
        buf_.push_back(v);
        if (buf_.size() >= write_chunk) flush_chunk();
    }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void bytes(std::string_view s) {
        for (char c : s) u8(static_cast<std::uint8_t>(static_cast<unsigned char>(c)));
    }
    template <class T>
    void elements(const T* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            if constexpr (sizeof(T) == 4) {
                u32(std::bit_cast<std::uint32_t>(p[i]));
            } else {
                u64(std::bit_cast<std::uint64_t>(p[i]));
            }
        }
    }

    /// Appends the checksum of everything written so far, flushes and closes the file.
    void finish() {
        flush_chunk();
        hashing_ = false;
        u64(sum_.state);
        flush_chunk();
        out_.flush();
        if (!out_) fail("save", target_, "writing the temporary file failed");
        out_.close();
        if (out_.fail()) fail("save", target_, "closing the temporary file failed");
    }

private:
    void flush_chunk() {
        if (buf_.empty()) return;
        if (hashing_) sum_.update(buf_.data(), buf_.size());
        out_.write(reinterpret_cast<const char*>(buf_.data()),
                   static_cast<std::streamsize>(buf_.size()));
        if (!out_) fail("save", target_, "writing the temporary file failed");
        written_ += buf_.size();
        buf_.clear();
        if (write_hook) write_hook(written_);
    }

    const std::filesystem::path& target_;
    std::ofstream out_;
    std::vector<unsigned char> buf_;
    fnv1a64 sum_;
    bool hashing_ = true;
    std::uint64_t written_ = 0;
};

/// "<path>.tmp-<16 hex digits>", in the target's directory.
inline std::filesystem::path temporary_for(const std::filesystem::path& target) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t r = counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL;
    try {
        std::random_device rd;
        r ^= (std::uint64_t{rd()} << 32) ^ rd();
    } catch (...) {
        // no entropy source: the counter and the address below still differ between saves
    }
    r ^= static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&counter));
    static constexpr char hex[] = "0123456789abcdef";
    std::string suffix = ".tmp-";
    for (int i = 15; i >= 0; --i) suffix += hex[(r >> (4 * i)) & 0xf];
    std::filesystem::path tmp = target;
    tmp += suffix;
    return tmp;
}

/// Flushes a file (or, with `directory`, a directory entry) to the storage device, so that a
/// completed save survives a power loss, not only a crash of the process. POSIX only; elsewhere
/// a no-op. Returns an error message, empty on success.
inline std::string sync_to_disk(const std::filesystem::path& p, bool directory) {
#if CTGRAD_CHECKPOINT_POSIX
    const int fd = ::open(p.c_str(), O_RDONLY | (directory ? O_DIRECTORY : 0));
    if (fd < 0) return directory ? std::string() : std::string(std::strerror(errno));
    const int r = ::fsync(fd);
    const int e = errno;
    ::close(fd);
    // some file systems cannot sync a directory (EINVAL): the rename is then as durable as
    // they make it
    if (r != 0 && !(directory && e == EINVAL)) return std::strerror(e);
#else
    static_cast<void>(p);
    static_cast<void>(directory);
#endif
    return {};
}

/// A tensor record as the file describes it.
struct record {
    std::string_view name;
    std::uint8_t code = 0;
    std::vector<std::uint64_t> dims;
    std::size_t data = 0;  ///< offset of the elements in the file
};

/// A tensor as the packs expect it.
struct expected {
    std::string_view name;
    std::uint8_t code = 0;
    std::vector<std::uint64_t> dims;
    std::size_t pack = 0;
};

/// The n-byte little-endian unsigned integer at p (n <= 8), and its writer: the byte order of
/// every file format of ctgrad/io (checkpoints, safetensors, .npy, .npz).
inline std::uint64_t get_le(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t k = n; k-- > 0;) v = (v << 8) | p[k];
    return v;
}
inline void put_le(std::vector<unsigned char>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) out.push_back(static_cast<unsigned char>(v >> (8 * k)));
}
inline std::uint32_t get_u32(const unsigned char* p) {
    return static_cast<std::uint32_t>(get_le(p, 4));
}
inline std::uint64_t get_u64(const unsigned char* p) {
    return get_le(p, 8);
}

/// Reads a whole file, or calls `error(problem)` (which throws: checkpoint_error for load, the
/// weight formats' weights_error for theirs).
template <class Error>
std::vector<unsigned char> read_file(const std::filesystem::path& file, Error&& error) {
    std::error_code ec;
    const auto st = std::filesystem::status(file, ec);
    if (st.type() == std::filesystem::file_type::not_found) error("no such file");
    if (ec) error("cannot open: " + ec.message());
    if (std::filesystem::is_directory(st)) error("is a directory");
    std::ifstream in(file, std::ios::binary);
    if (!in) error("cannot open");
    std::vector<unsigned char> buf;
    std::array<char, 1 << 16> chunk;
    while (in) {
        in.read(chunk.data(), chunk.size());
        const auto n = static_cast<std::size_t>(in.gcount());
        buf.insert(buf.end(), chunk.data(), chunk.data() + n);
    }
    if (in.bad() || !in.eof()) error("reading failed");
    return buf;
}

/// Reads a whole file, or throws checkpoint_error.
inline std::vector<unsigned char> read_file(const std::filesystem::path& file) {
    return read_file(file, [&](const std::string& problem) { fail("load", file, problem); });
}

/// Replaces `file` atomically by what `write(tmp)` writes into (and closes) a temporary file in
/// the same directory: the temporary is flushed to disk, renamed over the file, and the
/// directory flushed, so the file is either the previous one or the complete new one; on any
/// failure (`error(problem)`, which throws, or an exception of `write`) the temporary is
/// removed. Shared by checkpoints and the weight formats (io/weights.hpp).
template <class Write, class Error>
void replace_atomically(const std::filesystem::path& file, Write&& write, Error&& error) {
    const std::filesystem::path tmp = temporary_for(file);
    try {
        write(tmp);
        if (const std::string e = sync_to_disk(tmp, false); !e.empty()) {
            error("cannot flush the temporary file " + tmp.string() + " to disk: " + e);
        }
        std::error_code ec;
        std::filesystem::rename(tmp, file, ec);
        if (ec) {
            error("cannot rename the temporary file " + tmp.string() + " over it: " + ec.message());
        }
        // the rename itself is durable once the directory is
        const std::filesystem::path dir =
            file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
        if (const std::string e = sync_to_disk(dir, true); !e.empty()) {
            error("cannot flush its directory to disk: " + e);
        }
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw;
    }
}

/// Checks magic, version, structure and checksum; returns the records and sets `version`.
inline std::vector<record> parse(const std::filesystem::path& file,
                                 const std::vector<unsigned char>& b, std::uint32_t& version) {
    const std::size_t size = b.size();
    const auto truncated = [&] {
        fail("load", file,
             "truncated (" + std::to_string(size) + " bytes end inside the data they describe)");
    };
    if (size < checkpoint_magic.size()) {
        if (size == 0) fail("load", file, "empty file (truncated)");
        truncated();
    }
    if (std::string_view(reinterpret_cast<const char*>(b.data()), checkpoint_magic.size()) !=
        checkpoint_magic) {
        fail("load", file, "not a ctgrad checkpoint (the file does not start with \"CTGRADCK\")");
    }
    std::size_t pos = checkpoint_magic.size();
    const auto need = [&](std::uint64_t n) {
        if (n > size - pos) truncated();
    };
    need(4);
    version = get_u32(b.data() + pos);
    pos += 4;
    if (version != checkpoint_version && version != 1) {
        fail("load", file,
             "format version " + std::to_string(version) + " is not supported (this build reads " +
                 "1 and " + std::to_string(checkpoint_version) + ")");
    }
    need(4);
    const std::uint32_t count = get_u32(b.data() + pos);
    pos += 4;
    std::vector<record> records;
    for (std::uint32_t k = 0; k < count; ++k) {
        record r;
        need(4);
        const std::uint32_t len = get_u32(b.data() + pos);
        pos += 4;
        need(len);
        r.name = std::string_view(reinterpret_cast<const char*>(b.data() + pos), len);
        pos += len;
        need(2);
        r.code = b[pos];
        const std::uint8_t rank = b[pos + 1];
        pos += 2;
        if (r.code != 4 && r.code != 8) {
            fail("load", file,
                 "tensor " + std::to_string(k) + " (\"" + std::string(r.name) +
                     "\") has unknown element type code " + std::to_string(r.code) +
                     " (corrupt file?)");
        }
        need(std::uint64_t{8} * rank);
        std::uint64_t bytes = r.code;
        bool overflow = false;
        for (std::uint8_t d = 0; d < rank; ++d) {
            const std::uint64_t dim = get_u64(b.data() + pos);
            pos += 8;
            r.dims.push_back(dim);
            if (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / dim) {
                overflow = true;
            } else {
                bytes *= dim;
            }
        }
        if (overflow) truncated();
        need(bytes);
        r.data = pos;
        pos += static_cast<std::size_t>(bytes);
        records.push_back(std::move(r));
    }
    need(8);
    if (size - pos > 8) {
        fail("load", file,
             std::to_string(size - pos - 8) + " trailing bytes after the checksum (the file is " +
                 std::to_string(size) + " bytes, its contents end at " + std::to_string(pos + 8) +
                 ")");
    }
    fnv1a64 sum;
    sum.update(b.data(), pos);
    const std::uint64_t stored = get_u64(b.data() + pos);
    if (stored != sum.state) {
        fail("load", file, "checksum mismatch (the file is corrupt)");
    }
    return records;
}

template <class T>
void decode(const unsigned char* p, T* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (sizeof(T) == 4) {
            out[i] = std::bit_cast<T>(get_u32(p + 4 * i));
        } else {
            out[i] = std::bit_cast<T>(get_u64(p + 8 * i));
        }
    }
}

}  // namespace detail

/// Writes the tensors of `first` and then of each of `rest` (parameters, then e.g. optimizer
/// state packs: `save("run.ckpt", params, adam_m, adam_v)`) to `file` in the format above,
/// atomically: the file is either the previous one or the complete new one. Throws
/// checkpoint_error (or what detail::write_hook throws) on failure.
template <detail::tensor_pack First, detail::tensor_pack... Rest>
void save(const std::filesystem::path& file, const First& first, const Rest&... rest) {
    std::uint64_t count = 0;
    const auto counter = [&](auto, const auto&) { ++count; };
    first.for_each(counter);
    (rest.for_each(counter), ...);
    if (count > std::numeric_limits<std::uint32_t>::max()) {
        detail::fail("save", file, "too many tensors");
    }

    const auto write = [&](const std::filesystem::path& tmp) {
        detail::writer w(file, tmp);
        w.bytes(checkpoint_magic);
        w.u32(checkpoint_version);
        w.u32(static_cast<std::uint32_t>(count));
        const auto put = [&](auto v, const auto& t) {
            using V = decltype(v);
            using Tn = std::remove_cvref_t<decltype(t)>;
            using T = typename Tn::value_type;
            constexpr std::string_view name = V::name.view();
            static_assert(name.size() <= std::numeric_limits<std::uint32_t>::max());
            static_assert(Tn::rank <= 255, "ctgrad::io: a checkpoint tensor has rank < 256");
            w.u32(static_cast<std::uint32_t>(name.size()));
            w.bytes(name);
            w.u8(detail::element_code<T>());
            w.u8(static_cast<std::uint8_t>(Tn::rank));
            for (std::size_t d : Tn::shape) w.u64(d);
            w.template elements<T>(t.data(), t.size());
        };
        first.for_each(put);
        (rest.for_each(put), ...);
        w.finish();
    };
    detail::replace_atomically(file, write,
                               [&](const std::string& what) { detail::fail("save", file, what); });
}

/// Reads `file` into `first` and then each of `rest` (the packs given to save, in the same
/// order). Everything is checked before any tensor is written; on failure throws
/// checkpoint_error and leaves every pack unchanged.
template <detail::tensor_pack First, detail::tensor_pack... Rest>
void load(const std::filesystem::path& file, First& first, Rest&... rest) {
    const std::vector<unsigned char> buf = detail::read_file(file);
    std::uint32_t version = 0;
    const std::vector<detail::record> records = detail::parse(file, buf, version);

    constexpr std::size_t packs = 1 + sizeof...(Rest);
    std::vector<detail::expected> want;
    std::size_t pack = 0;
    const auto expect = [&](auto v, const auto& t) {
        using V = decltype(v);
        using Tn = std::remove_cvref_t<decltype(t)>;
        detail::expected e;
        e.name = V::name.view();
        e.code = detail::element_code<typename Tn::value_type>();
        e.dims.assign(Tn::shape.begin(), Tn::shape.end());
        e.pack = pack;
        want.push_back(std::move(e));
    };
    std::as_const(first).for_each(expect);
    ((++pack, std::as_const(rest).for_each(expect)), ...);

    const std::string who = packs == 1 ? "the network expects" : "the packs being loaded expect";
    if (records.size() != want.size()) {
        detail::fail("load", file,
                     "the file holds " + std::to_string(records.size()) + " tensors, " + who + " " +
                         std::to_string(want.size()));
    }
    for (std::size_t k = 0; k < want.size(); ++k) {
        const auto& r = records[k];
        const auto& e = want[k];
        const std::string where = packs == 1 ? std::string()
                                             : " (pack " + std::to_string(e.pack + 1) + " of " +
                                                   std::to_string(packs) + ")";
        if (r.name != e.name) {
            detail::fail("load", file,
                         "tensor " + std::to_string(k) + " is \"" + std::string(r.name) +
                             "\" in the file, " + who + " \"" + std::string(e.name) + "\"" + where);
        }
        if (r.code != e.code) {
            detail::fail("load", file,
                         "parameter " + std::string(e.name) + where + " holds " +
                             detail::type_name(r.code) + " in the file, " + who + " " +
                             detail::type_name(e.code));
        }
        if (r.dims != e.dims) {
            detail::fail("load", file,
                         "parameter " + std::string(e.name) + where + " has shape " +
                             detail::dims_string(r.dims.data(), r.dims.size()) + " in the file, " +
                             who + " " + detail::dims_string(e.dims.data(), e.dims.size()));
        }
    }

    // Validated: decoding cannot fail from here on.
    std::size_t k = 0;
    const auto get_pack = [&](auto& pack) {
        pack.for_each([&](auto v, auto& t) {
            using T = typename std::remove_cvref_t<decltype(t)>::value_type;
            detail::decode<T>(buf.data() + records[k].data, t.data(), t.size());
            // dropout counters by their type (not e.g. Adam's "adam.step" or a user's "x.step")
            if constexpr (ctgrad::detail::is_dropout_counter<decltype(v)>()) {
                if (version == 1) {
                    ctgrad::set_dropout_step(t,
                                             ctgrad::detail::dropout_counter_from_v1(t.data()[0]));
                }
            }
            ++k;
        });
    };
    get_pack(first);
    (get_pack(rest), ...);
}

}  // namespace ctgrad::io
