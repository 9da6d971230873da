/* cmd_record.c - `tokstream record [--out FILE]`: stdin to stdout unchanged, as it
 * arrives, while saving a capture (JSON lines): first {"tokstream_capture":1,
 * "start_ns":N} (when record started: the request was sent), then one
 * {"t_ns":N,"data":"<base64>"} per read, and a last line with empty data at end of
 * input (the close time). Times from tks_now_ns. Without --out the capture goes to
 * stderr. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void put_base64(FILE *out, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = tab[w >> 18];
        q[1] = tab[(w >> 12) & 63];
        q[2] = tab[(w >> 6) & 63];
        q[3] = tab[w & 63];
        fwrite(q, 1, 4, out);
    }
    if (i < n) {
        uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        q[0] = tab[w >> 18];
        q[1] = tab[(w >> 12) & 63];
        q[2] = i + 1 < n ? tab[(w >> 6) & 63] : '=';
        q[3] = '=';
        fwrite(q, 1, 4, out);
    }
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void line(FILE *cap, int64_t t, const unsigned char *p, size_t n) {
    fprintf(cap, "{\"t_ns\":%lld,\"data\":\"", (long long)t);
    put_base64(cap, p, n);
    fputs("\"}\n", cap);
    fflush(cap);
}

int cmd_record(int argc, char **argv) {
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
        else return cli_usage("record", "unknown argument");
    }
    FILE *cap = stderr;
    if (out_path && strcmp(out_path, "-") != 0) {
        cap = fopen(out_path, "wb");
        if (!cap) {
            fprintf(stderr, "tokstream record: %s: %s\n", out_path, strerror(errno));
            return CLI_USAGE;
        }
    }
    int64_t start = tks_now_ns();
    fprintf(cap, "{\"tokstream_capture\":1,\"start_ns\":%lld}\n", (long long)start);
    fflush(cap);
    static unsigned char buf[65536];
    int status = CLI_OK;
    for (;;) {
        ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        int64_t t = tks_now_ns();
        if (r < 0) {
            fprintf(stderr, "tokstream record: reading stdin: %s\n", strerror(errno));
            status = CLI_BAD_STREAM;
            break;
        }
        /* stdout first: a live pipe must not wait for the capture */
        if (r > 0 && write_all(1, (const char *)buf, (size_t)r) != 0) {
            fprintf(stderr, "tokstream record: writing stdout: %s\n", strerror(errno));
            status = CLI_BAD_STREAM;
            break;
        }
        line(cap, t, buf, (size_t)r); /* r == 0: the end of input, with no data */
        if (r == 0) break;
    }
    if (cap != stderr && fclose(cap) != 0) {
        fprintf(stderr, "tokstream record: %s: %s\n", out_path, strerror(errno));
        status = CLI_BAD_STREAM;
    }
    return status;
}
