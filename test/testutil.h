/* testutil.h - files and the shared fixtures for the test programs. */
#ifndef TKS_TEST_UTIL_H
#define TKS_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads a whole file (NUL-terminated for convenience); NULL when it cannot. */
static inline char *read_file(const char *path, size_t *len) {
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap + 1);
    size_t r;
    while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *q = realloc(p, cap * 2 + 1);
            if (!q) { free(p); p = NULL; break; }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (!p) return NULL;
    p[n] = 0;
    if (len) *len = n;
    return p;
}

/* The directory of the project's own test data (test/data). */
static inline const char *test_data_dir(void) {
    const char *d = getenv("TKS_TEST_DATA");
    return d ? d : "test/data";
}

/* ../shared (recorded fixtures and vocabularies), or NULL when this checkout has none:
 * tests that need it skip with a message. */
static inline const char *shared_dir(void) {
    const char *d = getenv("TKS_SHARED");
    struct stat st;
    if (!d) d = "../shared";
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}

/* Joins a directory and a relative path into a static buffer (one at a time). */
static inline const char *path_join(const char *dir, const char *rel) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

#endif
