/* common.c - input feeding, JSON output and error reporting shared by the commands. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

FILE *cli_open(const char *path) {
    if (!path || strcmp(path, "-") == 0) return stdin;
    FILE *f = fopen(path, "rb");
    if (!f) fprintf(stderr, "tokstream: %s: %s\n", path, strerror(errno));
    return f;
}

void cli_close(FILE *f) {
    if (f && f != stdin) fclose(f);
}

int cli_feed(FILE *f, size_t chunk, cli_push_fn push, void *ctx, uint64_t *total) {
    enum { BUFSZ = 65536 };
    static char buf[BUFSZ];
    int fd = fileno(f);
    uint64_t n_total = 0;
    int rc = TKS_OK;
    size_t pending = 0; /* bytes kept back to make exact chunk sizes */
    for (;;) {
        ssize_t r = read(fd, buf + pending, BUFSZ - pending);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = TKS_EIO;
            break;
        }
        n_total += (uint64_t)r;
        size_t have = pending + (size_t)r;
        int eof = r == 0;
        if (chunk == 0) {
            if (have) rc = push(ctx, buf, have);
            pending = 0;
        } else {
            size_t off = 0;
            while (rc == TKS_OK && (have - off >= chunk || (eof && off < have))) {
                size_t n = have - off < chunk ? have - off : chunk;
                rc = push(ctx, buf + off, n);
                off += n;
            }
            pending = have - off;
            if (pending && off) memmove(buf, buf + off, pending);
            if (pending == BUFSZ) { /* chunk larger than the buffer: push what we have */
                rc = push(ctx, buf, pending);
                pending = 0;
            }
        }
        if (rc != TKS_OK || eof) break;
    }
    if (total) *total = n_total;
    return rc;
}

void cli_json_string(FILE *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    putc('"', out);
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\') j++;
            fwrite(p + i, 1, j - i, out);
            i = j;
        } else if (c < 0x80) {
            switch (c) {
            case '"': fputs("\\\"", out); break;
            case '\\': fputs("\\\\", out); break;
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default: fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]); break;
            }
            i++;
        } else {
            /* Copy a well-formed multi-byte character; anything else becomes U+FFFD. */
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            int good = len && i + len <= n && c >= 0xC2 && c <= 0xF4;
            for (size_t k = 1; good && k < len; k++) good = (p[i + k] & 0xC0) == 0x80;
            if (good && len == 3) {
                unsigned b = p[i + 1];
                good = !(c == 0xE0 && b < 0xA0) && !(c == 0xED && b > 0x9F);
            }
            if (good && len == 4) {
                unsigned b = p[i + 1];
                good = !(c == 0xF0 && b < 0x90) && !(c == 0xF4 && b > 0x8F);
            }
            if (good) {
                fwrite(p + i, 1, len, out);
                i += len;
            } else {
                fputs("\xEF\xBF\xBD", out);
                i++;
            }
        }
    }
    putc('"', out);
}

int cli_parse_size(const char *s, size_t *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v == 0 || s[0] == '-') return -1;
    *out = (size_t)v;
    return 0;
}

int cli_usage(const char *cmd, const char *msg) {
    fprintf(stderr, "tokstream %s: %s\n(see tokstream %s --help)\n", cmd, msg, cmd);
    return CLI_USAGE;
}

int cli_stream_error(const char *cmd, const char *what, uint64_t offset) {
    /* the library's messages already end "at byte N"; the others get the position here */
    if (strstr(what, "at byte ")) fprintf(stderr, "tokstream %s: %s\n", cmd, what);
    else fprintf(stderr, "tokstream %s: %s at byte %llu\n", cmd, what, (unsigned long long)offset);
    return CLI_BAD_STREAM;
}

int cli_provider_error(const char *cmd, const tks_assembler *m) {
    if (!tks_assembler_has_error(m)) return CLI_OK;
    size_t ml = 0, cl = 0, tl = 0;
    const char *msg = tks_assembler_error_message(m, &ml);
    const char *code = tks_assembler_error_code(m, &cl);
    const char *type = tks_assembler_error_type(m, &tl);
    fprintf(stderr, "tokstream %s: the provider sent an error: %.*s", cmd, (int)ml, msg ? msg : "");
    if (type) fprintf(stderr, " (type %.*s)", (int)tl, type);
    if (code) fprintf(stderr, " (code %.*s)", (int)cl, code);
    fputc('\n', stderr);
    return CLI_BAD_STREAM;
}

int cli_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }
