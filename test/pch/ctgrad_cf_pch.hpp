// The compile-fail tests' precompiled header (test/meson.build): <ctgrad/ctgrad.hpp> compiled
// once per build with the tests' flags (cf_flags), so that each of the 2 x 52 syntax-only
// compiles of test/tools/compile_fail.py loads it instead of parsing every header again (1.3 s of
// the 1.6 s of a compile on the AMD EPYC, bench/README.md, "Test-suite time, eleventh pass").
// compile_fail.py uses it only for a test whose first directive is `#include <ctgrad/ctgrad.hpp>`:
// the same header, read before the same code, so the diagnostics are those of a plain compile.
#include <ctgrad/ctgrad.hpp>
