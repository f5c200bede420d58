// What the weight-interchange tests share: a temporary directory, byte files, the checked-in
// data directory, a pack snapshot (to check that a failed load changed nothing), the fuzz
// drivers (every truncation, seeded byte flips) and running /usr/bin/python3 when it has numpy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/io/weights.hpp>

namespace weights_test {

namespace fs = std::filesystem;
using bytes = std::vector<unsigned char>;

/// The checked-in files (test/io/data), from the build's definition.
inline fs::path data_dir() {
    return fs::path(CTGRAD_TEST_DATA_DIR);
}

/// Where test files go: $TMPDIR when set, else /dev/shm when it is there (the fuzz tests write
/// thousands of small files: on a busy disk that is 70 times slower), else the system's
/// temporary directory.
inline fs::path tmp_root() {
    std::error_code ec;
    if (std::getenv("TMPDIR") == nullptr && fs::is_directory("/dev/shm", ec)) return "/dev/shm";
    return fs::temp_directory_path();
}

/// A fresh directory under tmp_root(), removed with its files at the end.
struct tmp_dir {
    fs::path dir;
    tmp_dir() {
        std::random_device rd;
        for (const fs::path& root : {tmp_root(), fs::temp_directory_path()}) {
            try {
                for (;;) {
                    dir = root / ("ctgrad_weights_test_" + std::to_string(rd()));
                    if (fs::create_directory(dir)) return;
                }
            } catch (const fs::filesystem_error&) {
                // not writable: the next root
            }
        }
        throw std::runtime_error("cannot create a temporary directory");
    }
    ~tmp_dir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    tmp_dir(const tmp_dir&) = delete;
    tmp_dir& operator=(const tmp_dir&) = delete;
    fs::path operator/(const std::string& name) const { return dir / name; }
};

inline void write_bytes(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline bytes read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// f(0, tensor&) for every tensor of the packs (or for the one tensor `p`).
template <class P, class F>
void each_tensor(P&& p, F&& f) {
    if constexpr (requires { std::remove_cvref_t<P>::shape; }) {
        f(0, p);
    } else {
        ctgrad::io::detail::for_each_tensor(p, f);
    }
}

/// Every byte of every tensor of the packs, in order (a failed load must leave them equal).
template <class P>
bytes snapshot(const P& packs) {
    bytes out;
    each_tensor(packs, [&](auto, const auto& t) {
        const auto* p = reinterpret_cast<const unsigned char*>(t.data());
        out.insert(out.end(), p, p + t.size() * sizeof(*t.data()));
    });
    return out;
}

/// Fills every tensor of the packs with distinct values from `seed`.
template <class P>
void fill(P&& packs, double seed) {
    double x = seed;
    each_tensor(packs, [&](auto, auto& t) {
        for (auto& e : t) {
            x = x * 1.0001 + 0.37;
            e = static_cast<std::remove_cvref_t<decltype(e)>>(x - static_cast<double>(long(x)) -
                                                              0.5);
        }
    });
}

/// `load()` must throw io::weights_error whose message contains `file` and `expect`, and
/// leave `packs` unchanged.
template <class P, class Load>
void expect_error(const P& packs, Load&& load, const fs::path& file, const std::string& expect) {
    const bytes before = snapshot(packs);
    try {
        load();
        BOOST_ERROR("no error for " << file << " (expected \"" << expect << "\")");
    } catch (const ctgrad::io::weights_error& e) {
        const std::string m = e.what();
        BOOST_TEST_MESSAGE(m);
        BOOST_TEST(m.find(file.string()) != std::string::npos, "message lacks the file: " << m);
        BOOST_TEST(m.find(expect) != std::string::npos,
                   "message \"" << m << "\" lacks \"" << expect << "\"");
    }
    BOOST_TEST((snapshot(packs) == before), "the packs changed after a failed load");
}

/// Loads every truncation of `good` (lengths 0 to size − 1) and `flips` seeded random
/// corruptions (1 to 3 bytes set to random values): a load either succeeds or throws
/// io::weights_error, and a load that throws leaves the packs unchanged. Every truncation must
/// throw (each format knows its length). Returns {loaded, rejected} of the flips.
template <class P, class Load>
std::pair<std::size_t, std::size_t> fuzz(const tmp_dir& t, const bytes& good, P& packs, Load&& load,
                                         int flips, std::uint32_t seed) {
    const fs::path p = t / "fuzz.bin";
    const auto run = [&](const bytes& b, bool must_fail) {
        write_bytes(p, b);
        const bytes before = snapshot(packs);
        try {
            load(p);
            if (must_fail) BOOST_ERROR("a truncation to " << b.size() << " bytes loaded");
            return true;
        } catch (const ctgrad::io::weights_error&) {
            BOOST_TEST((snapshot(packs) == before), "a failed load changed the packs");
            return false;
        } catch (const std::exception& e) {
            BOOST_ERROR("an exception other than weights_error: " << e.what());
        }
        return false;
    };
    for (std::size_t len = 0; len < good.size(); ++len) {
        run(bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)), true);
    }
    std::mt19937 gen(seed);
    std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1), count(1, 3);
    std::uniform_int_distribution<int> byte(0, 255);
    std::size_t ok = 0, rejected = 0;
    for (int i = 0; i < flips; ++i) {
        bytes b = good;
        for (std::size_t k = count(gen); k > 0; --k) {
            b[pos(gen)] = static_cast<unsigned char>(byte(gen));
        }
        (run(b, false) ? ok : rejected)++;
    }
    return {ok, rejected};
}

/// The characters of a string literal, embedded NULs included.
template <std::size_t N>
std::string chars(const char (&s)[N]) {
    return std::string(s, N - 1);
}

/// Sets every byte of `good` in turn to each of `values` (the format's structural characters,
/// 0x00, 0xff...) and loads: each load succeeds or throws io::weights_error and a throw leaves
/// the packs unchanged. Returns {loaded, rejected}.
template <class P, class Load>
std::pair<std::size_t, std::size_t> fuzz_every_byte(const tmp_dir& t, const bytes& good, P& packs,
                                                    Load&& load, const std::string& values) {
    const fs::path p = t / "fuzz_byte.bin";
    std::size_t ok = 0, rejected = 0;
    for (std::size_t at = 0; at < good.size(); ++at) {
        for (const char v : values) {
            if (good[at] == static_cast<unsigned char>(v)) continue;
            bytes b = good;
            b[at] = static_cast<unsigned char>(v);
            write_bytes(p, b);
            const bytes before = snapshot(packs);
            try {
                load(p);
                ++ok;
            } catch (const ctgrad::io::weights_error&) {
                if (snapshot(packs) != before) {
                    BOOST_ERROR("a failed load changed the packs (byte " << at << ")");
                }
                ++rejected;
            } catch (const std::exception& e) {
                BOOST_ERROR("an exception other than weights_error: " << e.what());
            }
        }
    }
    return {ok, rejected};
}

/// Whether /usr/bin/python3 runs with numpy (and torch, when asked).
inline bool python_has(const std::string& modules) {
    const std::string cmd = "/usr/bin/python3 -c 'import " + modules + "' >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

/// Runs a Python script with /usr/bin/python3 (arguments appended); true on exit status 0.
inline bool run_python(const tmp_dir& t, const std::string& script, const std::string& args) {
    const fs::path p = t / "script.py";
    std::ofstream(p) << script;
    const std::string cmd = "/usr/bin/python3 " + p.string() + " " + args;
    return std::system(cmd.c_str()) == 0;
}

}  // namespace weights_test

namespace weights_test {
inline bytes concat_bytes(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
}  // namespace weights_test
