/* mode_sse.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "bench.h"

#include <stdio.h>

int bench_sse(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tokstream-bench sse: PLACEHOLDER: not built yet\n");
    return 2;
}
