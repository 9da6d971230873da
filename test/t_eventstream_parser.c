/* t_eventstream_parser.c - the AWS eventstream framing: prelude and message CRCs, length
 * bounds, every header type, event type / message type, frames split anywhere, zero-copy,
 * truncation, limits, OOM, stop, reset, and the recorded Bedrock streams. Frames are built
 * by a tiny encoder here (with its own bitwise CRC) and by test/data/framing/
 * make-eventstream.py (zlib's CRC). */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "framing_check.h"
#include "crc32.h"

#include <cJSON.h>

static int es_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_eventstream_config c = {0};
    if (cfg) c = *(const tks_eventstream_config *)cfg;
    c.alloc = a;
    return tks_eventstream_parser_new((tks_eventstream_parser **)p, &c, rec_cb, r);
}
static int es_push(void *p, const void *d, size_t n) { return tks_eventstream_parser_push(p, d, n); }
static int es_finish(void *p) { return tks_eventstream_parser_finish(p); }
static void es_reset(void *p) { tks_eventstream_parser_reset(p); }
static void es_free(void *p) { tks_eventstream_parser_free(p); }
static const char *es_error(const void *p) { return tks_eventstream_parser_error(p); }
static uint64_t es_offset(const void *p) { return tks_eventstream_parser_offset(p); }

static const parser_ops ES = {"eventstream", es_make, es_push, es_finish, es_reset, es_free,
                              es_error, es_offset};

/* ---- the test's own encoder ------------------------------------------------------------ */

/* CRC-32 one bit at a time, straight from the definition (reflected 0xEDB88320). */
static uint32_t crc_bitwise(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static void put32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Appends a frame of the given raw headers section and payload to out. total = 0 means
 * the right total length; flip_* corrupt a CRC. */
static void enc_frame(sbuf *out, const char *hdrs, size_t hlen, const char *payload, size_t plen,
                      uint32_t total, int flip_prelude, int flip_message) {
    size_t n = 16 + hlen + plen;
    unsigned char *f = calloc(1, n);
    put32(f, total ? total : (uint32_t)n);
    put32(f + 4, (uint32_t)hlen);
    put32(f + 8, crc_bitwise(f, 8) ^ (flip_prelude ? 0x10u : 0));
    memcpy(f + 12, hdrs, hlen);
    memcpy(f + 12 + hlen, payload, plen);
    put32(f + n - 4, crc_bitwise(f, n - 4) ^ (flip_message ? 0x1000u : 0));
    sb_add(out, f, n);
    free(f);
}

/* A string header (type 7) in raw form. */
static void enc_str(sbuf *h, const char *name, const char *value) {
    unsigned char b[3];
    size_t nl = strlen(name), vl = strlen(value);
    b[0] = (unsigned char)nl;
    sb_add(h, b, 1);
    sb_add(h, name, nl);
    b[0] = 7;
    b[1] = (unsigned char)(vl >> 8);
    b[2] = (unsigned char)vl;
    sb_add(h, b, 3);
    sb_add(h, value, vl);
}

/* ---- expected logs --------------------------------------------------------------------- */

static void want_frame(sbuf *b, unsigned long long off, const char *type, const char *mt,
                       const char *data, size_t dlen, const tks_header *h, size_t nh) {
    rec r = {0};
    tks_event e = {0};
    e.type = type;
    e.type_len = strlen(type);
    e.message_type = mt;
    e.message_type_len = strlen(mt);
    e.id = "";
    e.data = data;
    e.data_len = dlen;
    e.headers = h;
    e.n_headers = nh;
    e.offset = off;
    rec_event(&r, &e);
    sb_str(b, r.log.p);
    rec_free(&r);
}

static void want_end(sbuf *b, int prc, int frc, unsigned long long off, const char *msg) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "=> push %d finish %d offset %llu %s\n", prc, frc, off, msg);
    sb_str(b, tmp);
}

#define STRH(n, v) {n, sizeof n - 1, TKS_HEADER_STRING, v, sizeof v - 1, 0}

/* ---- CRC ------------------------------------------------------------------------------- */

static void test_crc(void) {
    is_int(tks__crc32(0, "123456789", 9), 0xCBF43926u, "CRC-32 check value of \"123456789\"");
    is_int(tks__crc32(0, "", 0), 0, "CRC-32 of nothing is 0");
    unsigned char buf[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    int same = 1;
    for (size_t n = 0; n <= sizeof buf; n += 37) same &= tks__crc32(0, buf, n) == crc_bitwise(buf, n);
    ok(same, "table CRC equals the bitwise CRC on random data");
    int cont = 1;
    for (size_t k = 0; k <= 100; k++)
        cont &= tks__crc32(tks__crc32(0, buf, k), buf + k, 100 - k) == crc_bitwise(buf, 100);
    ok(cont, "CRC continues across pieces");
}

/* ---- the generated files --------------------------------------------------------------- */

static char *load(const char *name, size_t *n) {
    char rel[128];
    snprintf(rel, sizeof rel, "framing/%s", name);
    char *in = read_file(path_join(test_data_dir(), rel), n);
    ok(in != NULL, "test/data/framing/%s readable", name);
    return in;
}

/* Frame starts by walking the total-length fields (independent of the parser). */
static size_t walk(const char *in, size_t n, size_t *starts, size_t max) {
    size_t k = 0, at = 0;
    while (at + 4 <= n && k < max) {
        uint32_t tl = get32((const unsigned char *)in + at);
        if (tl < 16 || at + tl > n) break;
        starts[k++] = at;
        at += tl;
    }
    return k;
}

static const char F1_DATA[] = "{\"bytes\":\"eyJ0ZXh0IjoiaGkifQ==\"}";
static const tks_header F1_H[] = {STRH(":event-type", "chunk"), STRH(":content-type", "application/json"),
                                  STRH(":message-type", "event")};

static void test_small(void) {
    size_t n;
    char *in = load("small.eventstream", &n);
    if (!in) return;
    size_t st[8];
    is_int(walk(in, n, st, 8), 5, "small.eventstream: five frames by the length fields");
    is_int(st[1], 123, "the first frame is 123 bytes (make-eventstream.py)");
    /* What make-eventstream.py wrote, field by field. */
    static const tks_header f2h[] = {STRH(":message-type", "exception"),
                                     STRH(":exception-type", "throttlingException"),
                                     STRH(":content-type", "application/json")};
    static const unsigned char uuid[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                           0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    const tks_header f3h[] = {
        STRH(":message-type", "event"),
        STRH(":event-type", "allTypes"),
        {"t", 1, TKS_HEADER_TRUE, NULL, 0, 1},
        {"f", 1, TKS_HEADER_FALSE, NULL, 0, 0},
        {"b", 1, TKS_HEADER_BYTE, NULL, 0, -5},
        {"s", 1, TKS_HEADER_SHORT, NULL, 0, -300},
        {"i", 1, TKS_HEADER_INT, NULL, 0, 70000},
        {"l", 1, TKS_HEADER_LONG, NULL, 0, -5000000000LL},
        {"y", 1, TKS_HEADER_BYTES, "\x00\xff\x10", 3, 0},
        STRH("str", "h\xc3\xa9llo"),
        {"ts", 2, TKS_HEADER_TIMESTAMP, NULL, 0, 1700000000000LL},
        {"u", 1, TKS_HEADER_UUID, (const char *)uuid, 16, 0},
    };
    static const tks_header f5h[] = {STRH(":message-type", "error"),
                                     STRH(":error-code", "InternalFailure"),
                                     STRH(":error-message", "it broke")};
    sbuf want = {0};
    want_frame(&want, st[0], "chunk", "event", F1_DATA, sizeof F1_DATA - 1, F1_H, 3);
    want_frame(&want, st[1], "throttlingException", "exception", "{\"message\":\"slow down\"}", 23, f2h, 3);
    want_frame(&want, st[2], "allTypes", "event", "{}", 2, f3h, 12);
    want_frame(&want, st[3], "", "", "", 0, NULL, 0);
    want_frame(&want, st[4], "InternalFailure", "error", "", 0, f5h, 3);
    want_end(&want, 0, 0, 0, "");
    char *got = check_chunking(&ES, NULL, "small.eventstream", in, n, NULL);
    is_str(got, want.p, "small.eventstream: five frames with every header type decoded");

    /* Zero-copy: pushed whole, every payload is handed over in place. */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_eventstream_config cfg = {&a, 0};
    rec r = {0};
    r.in_lo = in;
    r.in_hi = in + n;
    tks_eventstream_parser *p;
    tks_eventstream_parser_new(&p, &cfg, rec_cb, &r);
    is_int(tks_eventstream_parser_push(p, in, n), TKS_OK, "push whole");
    is_int(r.in_place, 5, "all five frames are handed over in place");
    is_int(t.calls, 3, "only the object and the header array (grown once) were allocated");
    is_int(tks_eventstream_parser_finish(p), TKS_OK, "finish between frames is OK");
    is_int(tks_eventstream_parser_push(p, in, n), TKS_ESTATE, "push after finish is ESTATE");
    tks_eventstream_parser_reset(p);
    rec_free(&r);
    is_int(feed_cuts(&ES, p, &r, in, n, NULL, 0), TKS_OK, "after reset a new stream parses");
    is_str(r.log.p, got, "with the same frames");
    tks_eventstream_parser_free(p);
    rec_free(&r);
    is_int(t.live, 0, "nothing leaked");

    oom_case oc = {&ES, NULL, in, n, (const size_t[]){5, 130, 300}, 3, got};
    oom_torture("eventstream small.eventstream in four pieces", oom_body, &oc);
    check_stop_reset(&ES, NULL, in, n, 5, got);
    free(got);
    free(want.p);
    free(in);
}

static void test_bad_files(void) {
    static const struct {
        const char *file;
        int prc, frc;
        unsigned long long off;
        const char *msg;
    } cases[] = {
        {"bad-prelude-crc.eventstream", TKS_ECRC, TKS_ECRC, 123, "prelude CRC mismatch in the frame at byte 123"},
        {"bad-message-crc.eventstream", TKS_ECRC, TKS_ECRC, 123, "message CRC mismatch in the frame at byte 123"},
        {"truncated.eventstream", TKS_OK, TKS_ETRUNC, 191,
         "frame beginning at byte 123 cut short: input ended at byte 191"},
        {"bad-length.eventstream", TKS_EPROTO, TKS_EPROTO, 123,
         "frame total length 10 is below the minimum of 16 at byte 123"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        char *in = load(cases[i].file, &n);
        if (!in) continue;
        sbuf want = {0};
        want_frame(&want, 0, "chunk", "event", F1_DATA, sizeof F1_DATA - 1, F1_H, 3);
        want_end(&want, cases[i].prc, cases[i].frc, cases[i].off, cases[i].msg);
        char *got = check_chunking(&ES, NULL, cases[i].file, in, n, NULL);
        is_str(got, want.p, "%s: the good frame, then %s at byte %llu", cases[i].file,
               tks_status_name(cases[i].frc), cases[i].off);
        free(got);
        free(want.p);
        free(in);
    }
}

/* ---- frames from the test's encoder ------------------------------------------------------- */

static void test_encoded(void) {
    sbuf h = {0}, in = {0}, want = {0};
    enc_str(&h, ":message-type", "event");
    enc_str(&h, ":event-type", "contentBlockDelta");
    enc_frame(&in, h.p, h.len, "{\"delta\":1}", 11, 0, 0, 0);
    const tks_header hh[] = {STRH(":message-type", "event"), STRH(":event-type", "contentBlockDelta")};
    want_frame(&want, 0, "contentBlockDelta", "event", "{\"delta\":1}", 11, hh, 2);
    size_t good_len = in.len;

    /* The same frame again, then faults one by one. */
    static const struct {
        const char *label;
        const char *hdrs;
        size_t hlen;
        uint32_t total; /* 0: right */
        uint32_t hlen_field; /* 0: right */
        int flip_p, flip_m, prc, frc;
        unsigned long long off; /* relative to the faulty frame */
        const char *msg;
    } faults[] = {
        {"prelude CRC", "", 0, 0, 0, 1, 0, TKS_ECRC, TKS_ECRC, 0, "prelude CRC mismatch in the frame"},
        {"message CRC", "", 0, 0, 0, 0, 1, TKS_ECRC, TKS_ECRC, 0, "message CRC mismatch in the frame"},
        {"unknown header type", "\x01x\x0a", 3, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "unknown header value type 10"},
        {"empty header name", "\x00\x00", 2, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header with an empty name"},
        {"name past the section", "\x09:x\x07", 4, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header runs past the headers section"},
        {"string past the section", "\x01x\x07\x00\x09" "abc", 8, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header runs past the headers section"},
        {"string length cut", "\x01x\x07\x00", 4, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header runs past the headers section"},
        {"int cut", "\x01x\x04\x00\x00", 5, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header runs past the headers section"},
        {"uuid cut", "\x01x\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 18, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 12, "header runs past the headers section"},
        {"second header bad", "\x01x\x00\x01y\x0b", 6, 0, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 15, "unknown header value type 11"},
        {"total length 15", "", 0, 15, 0, 0, 0, TKS_EPROTO, TKS_EPROTO, 0, "frame total length 15 is below the minimum of 16"},
        {"total length 2 GiB", "", 0, 0x80000000u, 0, 0, 0, TKS_ELIMIT, TKS_ELIMIT, 0, "frame of 2147483648 bytes exceeds max_frame (16777216)"},
        {"headers longer than the frame", "", 0, 0, 1, 0, 0, TKS_EPROTO, TKS_EPROTO, 0, "headers length 1 does not fit in a frame of 16 bytes"},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        sbuf s = {0};
        sb_add(&s, in.p, good_len);
        size_t n = 16 + faults[i].hlen;
        unsigned char *f = calloc(1, n);
        put32(f, faults[i].total ? faults[i].total : (uint32_t)n);
        put32(f + 4, faults[i].hlen_field ? faults[i].hlen_field : (uint32_t)faults[i].hlen);
        put32(f + 8, crc_bitwise(f, 8) ^ (faults[i].flip_p ? 1u : 0));
        memcpy(f + 12, faults[i].hdrs, faults[i].hlen);
        put32(f + n - 4, crc_bitwise(f, n - 4) ^ (faults[i].flip_m ? 1u : 0));
        sb_add(&s, f, n);
        free(f);
        sbuf w = {0};
        sb_str(&w, want.p);
        char msg[200];
        snprintf(msg, sizeof msg, "%s at byte %llu", faults[i].msg,
                 (unsigned long long)good_len + faults[i].off);
        want_end(&w, faults[i].prc, faults[i].frc, good_len + faults[i].off, msg);
        char *got = check_chunking(&ES, NULL, faults[i].label, s.p, s.len, NULL);
        is_str(got, w.p, "eventstream: %s: %s", faults[i].label, faults[i].msg);
        free(got);
        free(w.p);
        free(s.p);
    }

    /* Truncated at every length inside the second frame: ETRUNC at finish, the first
     * frame delivered. */
    sbuf two = {0};
    sb_add(&two, in.p, good_len);
    sb_add(&two, in.p, good_len);
    int all = 1;
    for (size_t cut = good_len + 1; cut < two.len; cut++) {
        char *got = run_whole(&ES, NULL, two.p, cut, NULL);
        sbuf w = {0};
        sb_str(&w, want.p);
        char msg[200];
        snprintf(msg, sizeof msg, "frame beginning at byte %zu cut short: input ended at byte %zu",
                 good_len, cut);
        want_end(&w, 0, TKS_ETRUNC, cut, msg);
        all &= strcmp(got, w.p) == 0;
        free(got);
        free(w.p);
    }
    ok(all, "eventstream: a stream cut anywhere inside a frame is ETRUNC at finish");
    free(two.p);

    /* max_frame: a frame of exactly max_frame passes, one byte more is ELIMIT. */
    tks_eventstream_config cfg = {NULL, good_len};
    sbuf w = {0};
    sb_str(&w, want.p);
    want_end(&w, 0, 0, 0, "");
    char *got = check_chunking(&ES, &cfg, "frame of max_frame", in.p, in.len, NULL);
    is_str(got, w.p, "eventstream: a frame of exactly max_frame passes");
    free(got);
    free(w.p);
    cfg.max_frame = good_len - 1;
    w = (sbuf){0};
    char msg[200];
    snprintf(msg, sizeof msg, "frame of %zu bytes exceeds max_frame (%zu) at byte 0", good_len, good_len - 1);
    want_end(&w, TKS_ELIMIT, TKS_ELIMIT, 0, msg);
    got = check_chunking(&ES, &cfg, "frame of max_frame+1", in.p, in.len, NULL);
    is_str(got, w.p, "eventstream: a frame one byte over max_frame is ELIMIT");
    free(got);
    free(w.p);

    free(h.p);
    free(in.p);
    free(want.p);
}

/* check_sticky wants the good log: wrap it. */
static void test_sticky(void) {
    sbuf h = {0}, in = {0}, want = {0};
    enc_str(&h, ":event-type", "x");
    enc_frame(&in, h.p, h.len, "{}", 2, 0, 0, 0);
    const tks_header hh[] = {STRH(":event-type", "x")};
    want_frame(&want, 0, "x", "", "{}", 2, hh, 1);
    want_end(&want, 0, 0, 0, "");
    sbuf bad = {0};
    enc_frame(&bad, h.p, h.len, "{}", 2, 0, 0, 1);
    check_sticky(&ES, NULL, bad.p, bad.len, TKS_ECRC, in.p, in.len, want.p);
    free(h.p);
    free(in.p);
    free(want.p);
    free(bad.p);
}

static void test_api(void) {
    tks_eventstream_parser *p = (tks_eventstream_parser *)1;
    is_int(tks_eventstream_parser_new(NULL, NULL, rec_cb, NULL), TKS_EINVAL, "new(NULL out) is EINVAL");
    is_int(tks_eventstream_parser_new(&p, NULL, NULL, NULL), TKS_EINVAL, "new without callback is EINVAL");
    ok(p == NULL, "a failed new sets *out to NULL");
    rec r = {0};
    is_int(tks_eventstream_parser_new(&p, NULL, rec_cb, &r), TKS_OK, "new with defaults");
    is_int(tks_eventstream_parser_push(p, NULL, 0), TKS_OK, "empty push is fine");
    is_int(tks_eventstream_parser_push(p, NULL, 2), TKS_EINVAL, "NULL data with a length is EINVAL");
    is_int(tks_eventstream_parser_finish(p), TKS_OK, "an empty stream finishes OK");
    tks_eventstream_parser_free(p);
    tks_eventstream_parser_free(NULL);
    tks_eventstream_parser_reset(NULL);
    is_str(tks_eventstream_parser_error(NULL), "", "error(NULL) is empty");
    is_int(tks_eventstream_parser_offset(NULL), 0, "offset(NULL) is 0");
    rec_free(&r);
}

/* ---- the recorded Bedrock streams ----------------------------------------------------------- */

typedef struct frames {
    long n;
    const char *in;   /* the input and its frames by the length fields */
    const size_t *starts;
    size_t walked;
    int payloads_ok;  /* each event at its frame's offset, data = that frame's payload */
    cJSON *payloads;  /* one parsed payload per event (null when not JSON) */
    sbuf types;       /* "type/message_type\n" per event */
    int headers_ok;   /* every frame: three string headers, content-type application/json */
} frames;

static int collect(void *user, const tks_event *e) {
    frames *f = user;
    size_t k = (size_t)f->n++;
    if (k >= f->walked || e->offset != f->starts[k]) {
        f->payloads_ok = 0;
    } else {
        const unsigned char *fr = (const unsigned char *)f->in + f->starts[k];
        uint32_t tl = get32(fr), hl = get32(fr + 4);
        if (e->data_len != tl - 16 - hl || memcmp(e->data, fr + 12 + hl, e->data_len) != 0)
            f->payloads_ok = 0;
    }
    cJSON *v = cJSON_ParseWithLength(e->data, e->data_len);
    cJSON_AddItemToArray(f->payloads, v ? v : cJSON_CreateNull());
    sb_add(&f->types, e->type, e->type_len);
    sb_str(&f->types, "/");
    sb_add(&f->types, e->message_type, e->message_type_len);
    sb_str(&f->types, "\n");
    int good = e->n_headers == 3;
    for (size_t i = 0; good && i < 3; i++) {
        const tks_header *h = &e->headers[i];
        good &= h->type == TKS_HEADER_STRING;
        if (h->name_len == 13 && memcmp(h->name, ":content-type", 13) == 0)
            good &= h->value_len == 16 && memcmp(h->value, "application/json", 16) == 0;
    }
    if (!good) f->headers_ok = 0;
    return 0;
}

static int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 decoding (padding ignored); returns a malloc'd, NUL-terminated buffer. */
static char *b64dec(const char *s, size_t *n) {
    size_t len = strlen(s), o = 0;
    char *out = malloc(len + 1);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64v((unsigned char)s[i]);
        if (v < 0) continue;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits);
        }
    }
    out[o] = 0;
    *n = o;
    return out;
}

/* The key a ConverseStream payload of each event type carries (formats.md §7). */
static const char *key_for(const char *type, size_t len) {
    static const struct { const char *t, *k; } map[] = {
        {"messageStart", "role"}, {"contentBlockStart", "start"}, {"contentBlockDelta", "delta"},
        {"contentBlockStop", "contentBlockIndex"}, {"messageStop", "stopReason"}, {"metadata", "usage"},
        {"chunk", "bytes"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].t) == len && memcmp(map[i].t, type, len) == 0) return map[i].k;
    return NULL;
}

static void test_fixtures(void) {
    const char *sh = shared_dir();
    if (!sh) {
        diag("../shared is absent: the recorded Bedrock streams are not checked here");
        return;
    }
    static const struct { const char *file; long frames; const char *stop; } fx[] = {
        {"fixtures/bedrock/converse-stream-text-tool-use.bin", 26, "tool_use"},
        {"fixtures/bedrock/converse-stream-reasoning.bin", -1, "end_turn"},
        {"fixtures/bedrock/invoke-with-response-stream-titan.bin", 1, NULL},
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        size_t n;
        char *in = read_file(path_join(sh, fx[i].file), &n);
        ok(in != NULL, "%s readable", fx[i].file);
        if (!in) continue;
        size_t starts[256];
        size_t walked = walk(in, n, starts, 256);
        if (fx[i].frames > 0) is_int(walked, fx[i].frames, "%s: %ld frames (SOURCES.md)", fx[i].file, fx[i].frames);
        char *got = check_chunking(&ES, NULL, fx[i].file, in, n, NULL);
        free(got);
        frames fr = {0, in, starts, walked, 1, cJSON_CreateArray(), {0}, 1};
        tks_eventstream_parser *p;
        tks_eventstream_parser_new(&p, NULL, collect, &fr);
        tks_eventstream_parser_push(p, in, n);
        is_int(tks_eventstream_parser_finish(p), TKS_OK, "%s: OK", fx[i].file);
        tks_eventstream_parser_free(p);
        is_int(fr.n, (long)walked, "%s: one event per frame", fx[i].file);
        ok(fr.payloads_ok, "%s: each event's offset and data are its frame's start and payload",
           fx[i].file);
        ok(fr.headers_ok, "%s: three string headers per frame, :content-type application/json", fx[i].file);
        /* Type and payload agree: each type's payload carries its key and the padding p. */
        int agree = 1, all_event = 1;
        const char *line = fr.types.p;
        for (long k = 0; k < fr.n && line; k++) {
            const char *slash = strchr(line, '/');
            const char *key = key_for(line, (size_t)(slash - line));
            cJSON *v = cJSON_GetArrayItem(fr.payloads, (int)k);
            agree &= key && cJSON_IsObject(v) && cJSON_HasObjectItem(v, key) &&
                     cJSON_IsString(cJSON_GetObjectItem(v, "p"));
            all_event &= strncmp(slash, "/event\n", 7) == 0;
            line = strchr(line, '\n');
            if (line) line++;
        }
        ok(agree, "%s: each event type's payload is JSON with its key and the \"p\" padding", fx[i].file);
        ok(all_event, "%s: every :message-type is event", fx[i].file);
        if (fx[i].stop) {
            ok(strncmp(fr.types.p, "messageStart/", 13) == 0, "%s: starts with messageStart", fx[i].file);
            cJSON *last = cJSON_GetArrayItem(fr.payloads, (int)fr.n - 1);
            ok(cJSON_HasObjectItem(last, "usage") && cJSON_HasObjectItem(last, "metrics"),
               "%s: ends with metadata usage and metrics", fx[i].file);
            cJSON *ms = cJSON_GetArrayItem(fr.payloads, (int)fr.n - 2);
            cJSON *sr = cJSON_GetObjectItem(ms, "stopReason");
            is_str(cJSON_IsString(sr) ? sr->valuestring : NULL, fx[i].stop, "%s: stopReason", fx[i].file);
        } else {
            cJSON *v = cJSON_GetArrayItem(fr.payloads, 0);
            cJSON *bytes = cJSON_GetObjectItem(v, "bytes");
            is_str(fr.types.p, "chunk/event\n", "%s: one chunk event", fx[i].file);
            size_t bl = 0;
            char *dec = b64dec(cJSON_IsString(bytes) ? bytes->valuestring : "", &bl);
            cJSON *inner = cJSON_ParseWithLength(dec, bl);
            ok(cJSON_IsString(cJSON_GetObjectItem(inner, "outputText")),
               "%s: the base64 bytes decode to Titan JSON with outputText", fx[i].file);
            cJSON *cr = cJSON_GetObjectItem(inner, "completionReason");
            is_str(cJSON_IsString(cr) ? cr->valuestring : NULL, "FINISH", "%s: completionReason FINISH", fx[i].file);
            ok(cJSON_HasObjectItem(inner, "amazon-bedrock-invocationMetrics"), "%s: invocation metrics", fx[i].file);
            cJSON_Delete(inner);
            free(dec);
        }
        cJSON_Delete(fr.payloads);
        free(fr.types.p);
        free(in);
    }
}

int main(void) {
    test_api();
    test_crc();
    test_small();
    test_bad_files();
    test_encoded();
    test_sticky();
    test_fixtures();
    return done_testing();
}
