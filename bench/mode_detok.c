/* mode_detok.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "bench.h"

#include <stdio.h>

int bench_detok(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tokstream-bench detok: PLACEHOLDER: not built yet\n");
    return 2;
}
