/* fuzz_sse_parser.c - tks_sse_parser on arbitrary bytes. The first byte picks options
 * (raw UTF-8, small limits) and a cut; the input is parsed whole, in two pushes at the
 * cut, and byte by byte, and the three must report exactly the same events, comments,
 * retries and final status. Without RAW, every string handed out must be valid UTF-8. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 (Unicode Table 3-7), written here independently of the library. */
static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 2;
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return 0;
        if (i + k > n) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j < k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k;
    }
    return 1;
}

typedef struct run {
    uint64_t h;
    int raw;
} run;

static void mix(run *r, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) r->h = (r->h ^ s[i]) * 0x100000001b3u;
    r->h = (r->h ^ n) * 0x100000001b3u;
}

static void check_text(const run *r, const char *s, size_t n) {
    if (!r->raw && !utf8_ok((const unsigned char *)s, n)) abort();
}

static int on_event(void *user, const tks_event *ev) {
    run *r = user;
    if (!ev->type || !ev->data || !ev->id || ev->type_len == 0) abort();
    check_text(r, ev->type, ev->type_len);
    check_text(r, ev->data, ev->data_len);
    check_text(r, ev->id, ev->id_len);
    if (memchr(ev->id, 0, ev->id_len)) abort();
    mix(r, "E", 1);
    mix(r, ev->type, ev->type_len);
    mix(r, ev->id, ev->id_len);
    mix(r, ev->data, ev->data_len);
    mix(r, &ev->offset, sizeof ev->offset);
    return 0;
}

static int on_comment(void *user, const tks_event *ev) {
    run *r = user;
    check_text(r, ev->data, ev->data_len);
    mix(r, "C", 1);
    mix(r, ev->data, ev->data_len);
    return 0;
}

static int on_retry(void *user, const tks_event *ev) {
    run *r = user;
    mix(r, "R", 1);
    mix(r, &ev->retry_ms, sizeof ev->retry_ms);
    return 0;
}

/* Parses in pieces of `step` bytes, except a first piece of `first` bytes (0 = none). */
static uint64_t parse(const uint8_t *d, size_t n, const tks_sse_config *cfg, size_t first,
                      size_t step) {
    run r = {0xcbf29ce484222325u, (cfg->flags & TKS_SSE_RAW_UTF8) != 0};
    tks_sse_parser *p;
    if (tks_sse_parser_new(&p, cfg, on_event, &r) != TKS_OK) abort();
    size_t i = 0;
    int rc = TKS_OK;
    if (first) {
        rc = tks_sse_parser_push(p, d, first);
        i = first;
    }
    while (i < n && rc == TKS_OK) {
        size_t k = n - i < step ? n - i : step;
        /* a heap copy freed at once: a reference kept past the push is caught by ASan */
        uint8_t *piece = malloc(k);
        memcpy(piece, d + i, k);
        rc = tks_sse_parser_push(p, piece, k);
        free(piece);
        i += k;
    }
    if (rc == TKS_OK) rc = tks_sse_parser_finish(p);
    mix(&r, &rc, sizeof rc);
    if (rc < 0) {
        uint64_t off = tks_sse_parser_offset(p);
        mix(&r, &off, sizeof off);
        if (!tks_sse_parser_error(p)[0]) abort();
    }
    size_t idl;
    const char *id = tks_sse_parser_last_id(p, &idl);
    mix(&r, id, idl);
    tks_sse_parser_free(p);
    return r.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = opt & 1 ? TKS_SSE_RAW_UTF8 : 0;
    if (opt & 2) cfg.max_line = 1 + (opt >> 4);
    if (opt & 4) cfg.max_event = 1 + (opt >> 3);
    cfg.on_comment = on_comment;
    cfg.on_retry = on_retry;
    uint64_t whole = parse(data, size, &cfg, 0, size ? size : 1);
    size_t cut = size ? (size_t)opt * 7919u % (size + 1) : 0;
    if (parse(data, size, &cfg, cut, size ? size : 1) != whole) abort();
    if (parse(data, size, &cfg, 0, 1) != whole) abort();
    return 0;
}
