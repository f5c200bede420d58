/// @file Version and the library's few macros. Includes nothing of ctgrad's.
#pragma once

#define CTGRAD_VERSION_MAJOR 0
#define CTGRAD_VERSION_MINOR 1
#define CTGRAD_VERSION_PATCH 0

/// Perfect forwarding without instantiating std::forward (as Hana and range-v3 do).
#define CTGRAD_FWD(x) static_cast<decltype(x)&&>(x)
