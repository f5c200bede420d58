/* Forces flush-to-zero and denormals-are-zero on from outside a program (the main thread of
 * the process), for comparing a run against the same binary without subnormals (issue 13):
 *
 *   cc -shared -fPIC -O2 -o ftz_preload.so bench/tools/ftz_preload.c
 *   LD_PRELOAD=$PWD/ftz_preload.so ./build/examples/fashion_mnist
 */
#include <xmmintrin.h>

__attribute__((constructor)) static void ctgrad_force_ftz_daz(void) {
    _mm_setcsr(_mm_getcsr() | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
}
