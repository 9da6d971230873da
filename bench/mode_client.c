/* mode_client.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "bench.h"

#include <stdio.h>

int bench_client(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tokstream-bench client: PLACEHOLDER: not built yet\n");
    return 2;
}
