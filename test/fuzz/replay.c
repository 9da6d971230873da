/* replay.c - runs a libFuzzer harness over its corpus without the fuzzer runtime, so
 * `make check` replays every corpus with any compiler. Prints TAP: one line per input.
 * Usage: fuzz_X DIR|FILE...   (no arguments: test/fuzz/corpus/<name of the program>) */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("not ok %d - cannot open %s\n", ++count, path);
        return;
    }
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) { printf("not ok %d - out of memory\n", ++count); return; }
    /* A copy of exactly n bytes, so ASan sees any read past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n); /* a crash or sanitizer report ends the program */
    free(exact);
    printf("ok %d - %s\n", ++count, path);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_path(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("not ok %d - no such corpus %s\n", ++count, path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    if (d) closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run_path(argv[i]);
    } else {
        const char *top = getenv("TKS_TOP");
        const char *name = strrchr(argv[0], '/');
        name = name ? name + 1 : argv[0];
        if (strncmp(name, "fuzz_", 5) == 0) name += 5;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/test/fuzz/corpus/%s", top ? top : ".", name);
        run_path(dir);
    }
    printf("1..%d\n", count);
    return count ? 0 : 1;
}
