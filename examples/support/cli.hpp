/// @file
/// What the example programs share (not part of the library): a command line of `--name value`
/// options with `--help`, the training progress display, and the epoch a resumed run continues
/// from.
///
///     example::command_line cli("usage: fashion_mnist [options]");
///     cli.add("--epochs", "N", "epochs to train (default 15)", o.epochs);
///     cli.parse(argc, argv);   // --help/-h: prints the options and exits 0
#pragma once

#include <unistd.h>  // isatty

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace example {

/// `--name value` options, each bound to a variable; `--help` or `-h` anywhere prints the usage
/// (the head line, then one line per option, then `--help`) and exits with status 0. A value is
/// converted to the variable's type (integers, floating point, strings, paths; a bool reads
/// "0" or "1"); an unknown option, a missing or malformed value throws std::invalid_argument
/// naming the option.
class command_line {
public:
    explicit command_line(std::string head) : head_(std::move(head)) {}

    template <class T>
    command_line& add(std::string name, std::string meta, std::string help, T& target) {
        entries_.push_back({std::move(name), std::move(meta), std::move(help),
                            [&target](const std::string& flag, const std::string& v) {
                                assign(flag, v, target);
                            }});
        return *this;
    }

    std::string usage() const {
        std::string u = head_ + "\n";
        std::size_t width = 6;  // "--help"
        for (const auto& e : entries_) width = std::max(width, e.name.size() + 1 + e.meta.size());
        const auto line = [&](const std::string& left, const std::string& help) {
            u += "  " + left + std::string(width + 2 - left.size(), ' ') + help + "\n";
        };
        for (const auto& e : entries_) line(e.name + (e.meta.empty() ? "" : " " + e.meta), e.help);
        line("--help", "this text");
        return u;
    }

    void parse(int argc, char** argv) const {
        // --help anywhere an option name stands (not as another option's value)
        for (int i = 1; i < argc; i += 2) {
            const std::string a = argv[i];
            if (a == "--help" || a == "-h") {
                std::fputs(usage().c_str(), stdout);
                std::exit(0);
            }
        }
        for (int i = 1; i < argc; i += 2) {
            const std::string k = argv[i];
            const entry* found = nullptr;
            for (const auto& e : entries_) found = e.name == k ? &e : found;
            if (found == nullptr) {
                throw std::invalid_argument("unknown option " + k + " (--help lists them)");
            }
            if (i + 1 >= argc) throw std::invalid_argument("option " + k + " needs a value");
            found->set(k, argv[i + 1]);
        }
    }

private:
    struct entry {
        std::string name, meta, help;
        std::function<void(const std::string&, const std::string&)> set;
    };

    template <class T>
    static void assign(const std::string& flag, const std::string& v, T& target) {
        std::size_t used = 0;
        try {
            if constexpr (std::is_same_v<T, bool>) {
                if (v != "0" && v != "1") throw std::invalid_argument(v);
                target = v == "1";
                used = v.size();
            } else if constexpr (std::is_same_v<T, std::string> ||
                                 std::is_same_v<T, std::filesystem::path>) {
                target = v;
                used = v.size();
            } else if constexpr (std::is_floating_point_v<T>) {
                target = static_cast<T>(std::stod(v, &used));
            } else if constexpr (std::is_signed_v<T>) {
                const long long x = std::stoll(v, &used);
                target = static_cast<T>(x);
                if (static_cast<long long>(target) != x) throw std::out_of_range(v);
            } else {
                if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0])))
                    throw std::invalid_argument(v);  // "-5", " -5": stoull would wrap them
                const unsigned long long x = std::stoull(v, &used);
                target = static_cast<T>(x);
                if (static_cast<unsigned long long>(target) != x) throw std::out_of_range(v);
            }
        } catch (const std::logic_error&) {
            used = 0;
        }
        if (used != v.size() || v.empty()) {
            throw std::invalid_argument("option " + flag + ": cannot read '" + v + "'");
        }
    }

    std::string head_;
    std::vector<entry> entries_;
};

/// Progress of an epoch: a redrawn bar on a terminal, a plain line every 200 batches (and at
/// the last) otherwise. The rate shown is the current one: samples per second over the last
/// `window` batches (an average since the start would hide a slowdown).
class progress {
public:
    using clock = std::chrono::steady_clock;
    explicit progress(std::size_t batch) : batch_(batch) {}

    bool tty() const { return tty_; }
    /// Seconds since the progress display was created.
    double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

    void show(int epoch, int epochs, std::size_t done, std::size_t total, double loss, double acc,
              std::size_t samples) {
        const double r = rate(clock::now(), samples);
        const double eta = (double(total - done) * double(batch_)) / (r > 0 ? r : 1);
        if (tty_) {
            const int width = 30;
            const int filled =
                total == 0 ? width
                           : int(width * double(done < total ? done : total) / double(total));
            std::printf(
                "\repoch %d/%d [%.*s%*s] %zu/%zu loss %.4f train acc %.1f%% %.0f samples/s ETA "
                "%.0fs ",
                epoch, epochs, filled, "==============================", width - filled, "", done,
                total, loss, 100 * acc, r, eta);
            std::fflush(stdout);
        } else if (done % 200 == 0 || done == total) {
            std::printf(
                "epoch %d/%d batch %zu/%zu loss %.4f train acc %.1f%% %.0f samples/s ETA %.0fs\n",
                epoch, epochs, done, total, loss, 100 * acc, r, eta);
        }
    }

    /// Ends the bar's line (on a terminal) before an epoch's summary line.
    void end_epoch() const {
        if (tty_) std::printf("\n");
    }

private:
    static constexpr std::size_t window = 64;

    /// Samples per second over the last `window` calls (since the start before that).
    double rate(clock::time_point now, std::size_t samples) {
        const std::size_t k = calls_ % window;
        const clock::time_point t0 = calls_ >= window ? when_[k] : start_;
        const std::size_t s0 = calls_ >= window ? seen_[k] : 0;
        when_[k] = now;
        seen_[k] = samples;
        ++calls_;
        const double secs = std::chrono::duration<double>(now - t0).count();
        return double(samples - s0) / (secs > 0 ? secs : 1e-9);
    }

    std::size_t batch_;
    bool tty_ = isatty(STDOUT_FILENO) != 0;
    clock::time_point start_ = clock::now();
    clock::time_point when_[window] = {};  // ring of the last calls' times and sample counts
    std::size_t seen_[window] = {};
    std::size_t calls_ = 0;
};

/// The first epoch of a run resumed from a checkpoint saved at the end of an epoch, from the
/// optimizer's step count; throws when the count is not a whole number of epochs (a checkpoint
/// of another run, or of other --max-batches).
inline int epoch_after(const std::string& checkpoint, std::size_t steps,
                       std::size_t steps_per_epoch) {
    if (steps_per_epoch == 0 || steps % steps_per_epoch != 0) {
        throw std::runtime_error(checkpoint + ": " + std::to_string(steps) +
                                 " steps is not a whole number of epochs of " +
                                 std::to_string(steps_per_epoch) + " steps");
    }
    return int(steps / steps_per_epoch) + 1;
}

}  // namespace example
