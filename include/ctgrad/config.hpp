/// @file
/// The library's few macros, and the version when ctgrad was built or installed by meson.
#pragma once

// CTGRAD_VERSION_MAJOR/MINOR/PATCH, CTGRAD_VERSION_STRING and CTGRAD_VERSION live in a header
// meson generates from project() (include/ctgrad/version.hpp.in); it is in the build tree and in
// an installed ctgrad, not in the source tree's include/ (include <ctgrad/version.hpp> directly to
// require it).
#if __has_include(<ctgrad/version.hpp>)
#include <ctgrad/version.hpp>
#endif

/// Perfect forwarding without instantiating std::forward (as Hana and range-v3 do).
#define CTGRAD_FWD(x) static_cast<decltype(x)&&>(x)
