// The one TU of a test_pch_* library: meson compiles the precompiled header
// (ctgrad_test_pch.hpp) of that library's flags, which the test executables then include.
namespace ctgrad_test_pch {
int anchor = 0;
}
