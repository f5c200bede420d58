// Counts heap allocations: replaces the global operator new/delete (every form) with malloc/free
// and a counter, `ctgrad::test::allocations`. Include it in exactly one source file of a test
// executable (the replacements are definitions).
#pragma once

#include <atomic>   // std::atomic
#include <cstddef>  // std::size_t, std::max_align_t
#include <cstdlib>  // std::malloc, std::aligned_alloc, std::free
#include <new>      // std::align_val_t, std::bad_alloc

// The replacements below pair malloc with free by design; GCC cannot see that through them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace ctgrad::test {
inline std::atomic<std::size_t> allocations{0};

inline void* counted(std::size_t n, std::size_t align) {
    ++allocations;
    if (align <= alignof(std::max_align_t)) {
        if (void* p = std::malloc(n ? n : 1)) return p;
    } else {
        if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
    }
    throw std::bad_alloc();
}
}  // namespace ctgrad::test

void* operator new(std::size_t n) {
    return ctgrad::test::counted(n, alignof(std::max_align_t));
}
void* operator new[](std::size_t n) {
    return ctgrad::test::counted(n, alignof(std::max_align_t));
}
void* operator new(std::size_t n, std::align_val_t a) {
    return ctgrad::test::counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return ctgrad::test::counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
