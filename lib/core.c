/* core.c - library-wide functions: the linked version and the monotonic clock. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <time.h>

const char *tks_version(void) { return TKS_VERSION_STRING; }

uint32_t tks_version_hex(void) { return TKS_VERSION_HEX; }

int64_t tks_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
