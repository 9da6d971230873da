/* mode_timer.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "bench.h"

#include <stdio.h>

int bench_timer(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tokstream-bench timer: PLACEHOLDER: not built yet\n");
    return 2;
}
