/* main.c - build/tokstream-bench MODE ...: one benchmark program, one mode per stage. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } modes[] = {
        {"sse", bench_sse},
        {"client", bench_client},
        {"detok", bench_detok},
        {"timer", bench_timer},
    };
    if (argc >= 2)
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (strcmp(argv[1], modes[i].name) == 0) return modes[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: tokstream-bench sse|client [--chunk N|random] [--repeat N] CORPUS.sse\n"
                    "       tokstream-bench detok|timer [options]   (see BENCHMARKS.md)\n");
    return 2;
}
