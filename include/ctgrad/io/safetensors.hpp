/// @file
/// Parameter packs as safetensors files (the Hugging Face format, github.com/huggingface/
/// safetensors): `io::save_safetensors(path, params)`, `io::load_safetensors(path, params)`,
/// with a name map for files written by PyTorch: `io::load_safetensors("mlp.safetensors",
/// params, io::pytorch_names)` (see ctgrad/io/weights.hpp for name maps and element types).
///
/// The format: 8 bytes N, unsigned little-endian; N bytes of UTF-8 JSON, starting with '{',
/// possibly padded with spaces: `{"fc1.weight": {"dtype": "F32", "shape": [32, 784],
/// "data_offsets": [0, 100352]}, ..., "__metadata__": {"key": "value", ...}}`; then the byte
/// buffer: each tensor's elements, row-major, little-endian, at [begin, end) of the buffer.
///
/// Loading validates as the reference implementation does, and a little more strictly: N at most
/// 100 000 000 and within the file; valid UTF-8; strict JSON (no duplicate keys at any level,
/// nesting at most 64 deep); every tensor an object with exactly the keys dtype (one of the
/// reference's dtypes), shape (non-negative integers) and data_offsets ([begin, end] with
/// end - begin = the shape's byte size); `__metadata__` an object of strings; the tensors' byte
/// ranges, in offset order, tile the buffer exactly (no overlap, no gap, nothing after the
/// last). Then the tensors are matched to the packs (every parameter present with a loadable
/// element type and its shape; unused tensors rejected unless told otherwise) and only then
/// decoded: a load that throws io::weights_error changes nothing.
///
/// Saving writes the reference writer's layout: the header is compact JSON (`__metadata__`
/// first, when given, then the tensors sorted by element type, F64 before F32, then by name),
/// padded with spaces to a multiple of 8 bytes; the data in the same order. The file is written
/// to a temporary and renamed over the target (atomic, as io::save).
#pragma once

#include <algorithm>    // std::sort
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t, std::uint32_t
#include <filesystem>   // std::filesystem::path
#include <map>          // std::map
#include <set>          // std::set
#include <string>       // std::string
#include <string_view>  // std::string_view
#include <utility>      // std::pair, std::move
#include <vector>       // std::vector

#include <ctgrad/io/weights.hpp>

namespace ctgrad::io {

/// The largest header a load accepts (the reference implementation's limit).
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

namespace detail {

/// A JSON value, as the strict parser below builds it. Numbers keep whether they are a
/// non-negative integer that fits 64 bits (the only numbers a safetensors header needs).
struct json_value {
    enum kind_t { null, boolean, number, string, array, object } kind = null;
    bool truth = false;
    bool is_size = false;  ///< a number written as digits only, < 2^64
    std::uint64_t size = 0;
    std::string text;               ///< a string's decoded UTF-8
    std::vector<json_value> items;  ///< an array's items, an object's values
    std::vector<std::string> keys;  ///< an object's keys (unique), in file order, with items
};

/// Whether b[0, n) is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
inline bool valid_utf8(const unsigned char* b, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = b[i];
        std::size_t len = 0;
        std::uint32_t cp = 0, min = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len > n - i) return false;
        for (std::size_t k = 1; k < len; ++k) {
            if ((b[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (b[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

inline void append_utf8(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xc0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xe0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        s += static_cast<char>(0xf0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

/// A strict JSON parser (RFC 8259) over a validated UTF-8 buffer: no comments, no trailing
/// commas, no duplicate keys, nesting at most max_depth. Errors throw weights_error through
/// `fail` with the byte offset.
class json_parser {
public:
    static constexpr int max_depth = 64;

    json_parser(std::string_view text, std::string prefix) : s_(text), prefix_(std::move(prefix)) {}

    /// The single value of the text (whitespace around it allowed).
    json_value parse_document() {
        skip_ws();
        json_value v = value(0);
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected characters after the JSON value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw weights_error(prefix_ + "bad JSON header at byte " + std::to_string(pos_) + ": " +
                            what);
    }

    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }

    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

    void expect(char c) {
        if (pos_ >= s_.size()) fail(std::string("expected '") + c + "', the header ends");
        if (s_[pos_] != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    void literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) fail("unexpected character");
        pos_ += word.size();
    }

    json_value value(int depth) {
        if (depth >= max_depth) fail("nested deeper than " + std::to_string(max_depth));
        json_value v;
        switch (peek()) {
        case '{':
            v.kind = json_value::object;
            ++pos_;
            skip_ws();
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            for (std::set<std::string> keys;;) {
                skip_ws();
                if (peek() != '"') fail("expected a string key");
                std::string key = string();
                if (!keys.insert(key).second) fail("duplicate key \"" + key + "\"");
                skip_ws();
                expect(':');
                skip_ws();
                json_value member = value(depth + 1);
                v.keys.push_back(std::move(key));
                v.items.push_back(std::move(member));
                skip_ws();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect('}');
                return v;
            }
        case '[':
            v.kind = json_value::array;
            ++pos_;
            skip_ws();
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                skip_ws();
                v.items.push_back(value(depth + 1));
                skip_ws();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect(']');
                return v;
            }
        case '"':
            v.kind = json_value::string;
            v.text = string();
            return v;
        case 't':
            literal("true");
            v.kind = json_value::boolean;
            v.truth = true;
            return v;
        case 'f':
            literal("false");
            v.kind = json_value::boolean;
            return v;
        case 'n':
            literal("null");
            return v;
        default:
            number(v);
            return v;
        }
    }

    void number(json_value& v) {
        v.kind = json_value::number;
        const std::size_t start = pos_;
        bool integer = true;
        if (peek() == '-') {
            integer = false;
            ++pos_;
        }
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail(pos_ >= s_.size() ? "the header ends inside a value" : "unexpected character");
        }
        if (peek() == '.') {
            integer = false;
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("a digit must follow the decimal point");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("a digit must follow the exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (integer) {
            std::uint64_t n = 0;
            v.is_size = true;
            for (std::size_t i = start; i < pos_; ++i) {
                const auto d = static_cast<std::uint64_t>(s_[i] - '0');
                if (n > (~std::uint64_t{0} - d) / 10) {
                    v.is_size = false;
                    break;
                }
                n = n * 10 + d;
            }
            v.size = n;
        }
    }

    unsigned hex4() {
        if (s_.size() - pos_ < 4) fail("truncated \\u escape");
        unsigned u = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[pos_++];
            u <<= 4;
            if (c >= '0' && c <= '9') {
                u |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                u |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                u |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                fail("bad \\u escape");
            }
        }
        return u;
    }

    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (pos_ >= s_.size()) fail("unterminated string");
            const char c = s_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) fail("unterminated string");
            switch (s_[pos_++]) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                std::uint32_t cp = hex4();
                if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone low surrogate in a \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (s_.substr(pos_, 2) != "\\u") fail("lone high surrogate in a \\u escape");
                    pos_ += 2;
                    const std::uint32_t lo = hex4();
                    if (lo < 0xdc00 || lo > 0xdfff) fail("lone high surrogate in a \\u escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                append_utf8(out, cp);
                break;
            }
            default:
                fail("bad escape in a string");
            }
        }
    }

    std::string_view s_;
    std::string prefix_;
    std::size_t pos_ = 0;
};

/// The reference implementation's dtypes and their sizes in bits.
inline std::uint64_t safetensors_dtype_bits(std::string_view d) {
    static constexpr std::pair<std::string_view, std::uint64_t> table[] = {
        {"BOOL", 8},        {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
        {"I8", 8},          {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8},
        {"F8_E5M2FNUZ", 8}, {"I16", 16},    {"U16", 16},    {"F16", 16},    {"BF16", 16},
        {"I32", 32},        {"U32", 32},    {"F32", 32},    {"C64", 64},    {"F64", 64},
        {"I64", 64},        {"U64", 64},
    };
    for (const auto& [name, bits] : table) {
        if (name == d) return bits;
    }
    return 0;
}

inline elem safetensors_elem(std::string_view d) {
    if (d == "F16") return elem::f16;
    if (d == "BF16") return elem::bf16;
    if (d == "F32") return elem::f32;
    if (d == "F64") return elem::f64;
    return elem::other;
}

/// A parsed, validated safetensors file: its tensors (pointing into the buffer) and metadata.
struct safetensors_file {
    std::vector<file_tensor> tensors;
    std::map<std::string, std::string> metadata;
};

/// Validates the whole file (see the file comment) and describes its tensors.
inline safetensors_file parse_safetensors(std::string_view fn, const std::filesystem::path& file,
                                          const std::vector<unsigned char>& b) {
    const std::string prefix = "ctgrad::io::" + std::string(fn) + ": " + file.string() + ": ";
    const auto fail = [&](const std::string& what) { throw weights_error(prefix + what); };
    if (b.size() < 8) {
        fail("truncated: " + std::to_string(b.size()) +
             " bytes, shorter than the 8-byte header length");
    }
    const std::uint64_t n = get_le(b.data(), 8);
    if (n > safetensors_max_header) {
        fail("header length " + std::to_string(n) + " is too large (at most " +
             std::to_string(safetensors_max_header) + ")");
    }
    if (n > b.size() - 8) {
        fail("truncated: the header length is " + std::to_string(n) + " bytes, the file has " +
             std::to_string(b.size() - 8) + " after it");
    }
    const unsigned char* h = b.data() + 8;
    if (n == 0 || h[0] != '{') fail("the header does not start with '{'");
    if (!valid_utf8(h, static_cast<std::size_t>(n))) fail("the header is not valid UTF-8");
    const json_value root =
        json_parser(std::string_view(reinterpret_cast<const char*>(h), static_cast<std::size_t>(n)),
                    prefix)
            .parse_document();
    if (root.kind != json_value::object) fail("the header is not a JSON object");

    const std::uint64_t buffer = b.size() - 8 - n;
    const unsigned char* data = h + n;
    safetensors_file out;
    struct range {
        std::uint64_t begin, end;
        std::size_t tensor;
    };
    std::vector<range> ranges;
    for (std::size_t m = 0; m < root.keys.size(); ++m) {
        const std::string& name = root.keys[m];
        const json_value& v = root.items[m];
        if (name == "__metadata__") {
            if (v.kind != json_value::object) fail("__metadata__ is not an object");
            for (std::size_t k = 0; k < v.keys.size(); ++k) {
                if (v.items[k].kind != json_value::string) {
                    fail("__metadata__ value of \"" + v.keys[k] + "\" is not a string");
                }
                out.metadata.emplace(v.keys[k], v.items[k].text);
            }
            continue;
        }
        const std::string who = "tensor \"" + name + "\": ";
        if (v.kind != json_value::object) fail(who + "its entry is not an object");
        const json_value *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
        for (std::size_t k = 0; k < v.keys.size(); ++k) {
            const std::string& key = v.keys[k];
            const json_value& field = v.items[k];
            if (key == "dtype") {
                dtype = &field;
            } else if (key == "shape") {
                shape = &field;
            } else if (key == "data_offsets") {
                offsets = &field;
            } else {
                fail(who + "unknown field \"" + key + "\"");
            }
        }
        if (dtype == nullptr || shape == nullptr || offsets == nullptr) {
            fail(who + "needs the fields dtype, shape and data_offsets");
        }
        if (dtype->kind != json_value::string) fail(who + "dtype is not a string");
        const std::uint64_t bits = safetensors_dtype_bits(dtype->text);
        if (bits == 0) fail(who + "unknown dtype \"" + dtype->text + "\"");
        file_tensor t;
        t.name = name;
        t.dtype = dtype->text;
        t.type = safetensors_elem(dtype->text);
        if (shape->kind != json_value::array) fail(who + "shape is not an array");
        for (const auto& d : shape->items) {
            if (d.kind != json_value::number || !d.is_size) {
                fail(who + "shape holds something other than a non-negative integer");
            }
            t.dims.push_back(d.size);
        }
        if (offsets->kind != json_value::array || offsets->items.size() != 2 ||
            offsets->items[0].kind != json_value::number || !offsets->items[0].is_size ||
            offsets->items[1].kind != json_value::number || !offsets->items[1].is_size) {
            fail(who + "data_offsets is not a pair of non-negative integers");
        }
        const std::uint64_t begin = offsets->items[0].size, end = offsets->items[1].size;
        std::uint64_t nbits = 0;
        if (!byte_size(t.dims, bits, nbits))
            fail(who + "shape " + shape_string(t.dims) + " overflows");
        if (nbits % 8 != 0) fail(who + "its data is not a whole number of bytes");
        if (end < begin) {
            fail(who + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] end before they begin");
        }
        if (end - begin != nbits / 8) {
            fail(who + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] hold " + std::to_string(end - begin) + " bytes, dtype " + t.dtype +
                 " and shape " + shape_string(t.dims) + " need " + std::to_string(nbits / 8));
        }
        if (end > buffer) {
            fail(who + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] are out of range (the data buffer has " + std::to_string(buffer) + " bytes)");
        }
        t.data = data + begin;
        ranges.push_back({begin, end, out.tensors.size()});
        out.tensors.push_back(std::move(t));
    }
    // The byte ranges, in offset order, tile the buffer exactly.
    std::sort(ranges.begin(), ranges.end(), [](const range& a, const range& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t at = 0;
    for (std::size_t k = 0; k < ranges.size(); ++k) {
        const range& r = ranges[k];
        const std::string who = "tensor \"" + out.tensors[r.tensor].name + "\": data_offsets [" +
                                std::to_string(r.begin) + ", " + std::to_string(r.end) + "] ";
        if (r.begin < at) {
            fail(who + "overlap those of tensor \"" + out.tensors[ranges[k - 1].tensor].name +
                 "\"");
        }
        if (r.begin > at) {
            fail(who + "leave bytes [" + std::to_string(at) + ", " + std::to_string(r.begin) +
                 ") of the data buffer uncovered");
        }
        at = r.end;
    }
    if (at != buffer) {
        fail("the tensors cover " + std::to_string(at) + " bytes of the data buffer, which has " +
             std::to_string(buffer) + " (bytes after the last tensor)");
    }
    return out;
}

/// JSON string literal of s (escaping as serde_json does).
inline void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (u < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

}  // namespace detail

/// Reads the safetensors file `file` into `packs` (one pack, or several as
/// `std::tie(params, state)`), the file's names given by `names` (io::ctgrad_names by default;
/// io::pytorch_names for a PyTorch state_dict). Everything is validated first (see the file
/// comment); on any problem throws io::weights_error naming the file, the tensor and the problem,
/// and leaves every pack unchanged. Tensors in the file that no parameter maps to are an error
/// unless `unused` is unused_tensors::ignore.
template <detail::packs Packs, name_map Names = ctgrad_names_t>
void load_safetensors(const std::filesystem::path& file, Packs&& packs, const Names& names = {},
                      unused_tensors unused = unused_tensors::reject) {
    constexpr std::string_view fn = "load_safetensors";
    const auto slots = detail::slots_of(fn, file, packs, names);
    const std::vector<unsigned char> buf = detail::read_weights_file(fn, file);
    const detail::safetensors_file parsed = detail::parse_safetensors(fn, file, buf);
    detail::match_and_decode(fn, file, slots, parsed.tensors, names, unused);
}

/// The `__metadata__` of a safetensors file (empty when it has none), after validating the whole
/// file as load_safetensors does; throws io::weights_error.
inline std::map<std::string, std::string> read_safetensors_metadata(
    const std::filesystem::path& file) {
    constexpr std::string_view fn = "read_safetensors_metadata";
    const std::vector<unsigned char> buf = detail::read_weights_file(fn, file);
    return detail::parse_safetensors(fn, file, buf).metadata;
}

/// Writes `packs` (one pack or a tuple of references to packs) to the safetensors file `file`,
/// named by `names` (io::pytorch_names writes a file PyTorch's load_state_dict takes), each
/// tensor in its element type (F32 for float, F64 for double), with `metadata` as the header's
/// `__metadata__` (omitted when empty). Atomic: the file is the previous one or the complete new
/// one. Throws io::weights_error.
template <detail::packs Packs, name_map Names = ctgrad_names_t>
void save_safetensors(const std::filesystem::path& file, const Packs& packs,
                      const Names& names = {},
                      const std::map<std::string, std::string>& metadata = {}) {
    constexpr std::string_view fn = "save_safetensors";
    std::vector<detail::weight_slot> slots = detail::slots_of(fn, file, packs, names);
    // the reference writer's order: larger element types first, then by name
    std::vector<const detail::weight_slot*> order;
    for (const auto& s : slots) order.push_back(&s);
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
        if (a->is_double != b->is_double) return a->is_double;
        return a->file.name < b->file.name;
    });
    const auto utf8 = [&](const std::string& s, const std::string& what) {
        if (!detail::valid_utf8(reinterpret_cast<const unsigned char*>(s.data()), s.size())) {
            throw weights_error("ctgrad::io::save_safetensors: " + file.string() + ": " + what +
                                " is not valid UTF-8");
        }
    };
    for (const auto& [k, v] : metadata) {
        utf8(k, "a __metadata__ key");
        utf8(v, "the __metadata__ value of \"" + k + "\"");
    }
    for (const auto& s : slots) utf8(s.file.name, "the file name of parameter " + s.name);
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [k, v] : metadata) {
            if (!first) header += ',';
            first = false;
            detail::append_json_string(header, k);
            header += ':';
            detail::append_json_string(header, v);
        }
        header += "},";
    }
    std::uint64_t offset = 0;
    for (const auto* s : order) {
        if (s->file.name == "__metadata__") {
            throw weights_error("ctgrad::io::save_safetensors: " + file.string() + ": parameter " +
                                s->name + " cannot be named \"__metadata__\"");
        }
        detail::append_json_string(header, s->file.name);
        header +=
            s->is_double ? ":{\"dtype\":\"F64\",\"shape\":[" : ":{\"dtype\":\"F32\",\"shape\":[";
        for (std::size_t k = 0; k < s->file_dims.size(); ++k) {
            if (k != 0) header += ',';
            header += std::to_string(s->file_dims[k]);
        }
        const std::uint64_t bytes = s->count * (s->is_double ? 8u : 4u);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
                  std::to_string(offset + bytes) + "]},";
        offset += bytes;
    }
    if (header.back() == ',') header.pop_back();
    header += '}';
    while (header.size() % 8 != 0) header += ' ';
    std::vector<unsigned char> out;
    out.reserve(8 + header.size() + static_cast<std::size_t>(offset));
    detail::put_le(out, header.size(), 8);
    out.insert(out.end(), header.begin(), header.end());
    for (const auto* s : order) detail::append_slot_le(out, *s);
    detail::write_file_atomically(fn, file, out);
}

}  // namespace ctgrad::io
