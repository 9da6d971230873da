/* capture.c - tks_capture_reader: reads the capture files `tokstream record` writes
 * (JSON lines: {"tokstream_capture":1,"start_ns":N}, then {"t_ns":N,"data":"<base64>"}
 * per read) so that recorded traces can be replayed with their own times. Push-based:
 * the result does not depend on how the input is cut.
 *
 * Each line is one flat JSON object whose values are strings, integers, true, false or
 * null; unknown keys are skipped. A line that is whole inside one push is read in place;
 * otherwise it is gathered in a buffer (max_line). */
#include "internal.h"

#include <stdio.h>

struct tks_capture_reader {
    tks_alloc alloc;
    tks_capture_cb cb;
    void *user;
    tks__err err;
    int stopped;
    int have_header;
    uint64_t offset;    /* input bytes consumed so far */
    uint64_t line_off;  /* offset of the line being gathered */
    tks__buf line;
    tks__buf scratch;   /* unescaped + decoded data */
};

int tks_capture_reader_new(tks_capture_reader **out, const tks_capture_config *cfg,
                           tks_capture_cb on_record, void *user) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!on_record) return TKS_EINVAL;
    void *p;
    int rc = tks__object_new(&p, sizeof(tks_capture_reader), cfg ? cfg->alloc : NULL,
                             offsetof(tks_capture_reader, alloc));
    if (rc) return rc;
    tks_capture_reader *r = p;
    r->cb = on_record;
    r->user = user;
    size_t max = cfg && cfg->max_line ? cfg->max_line : 16 * TKS_MIB;
    r->line.limit = max;
    r->scratch.limit = max;
    *out = r;
    return TKS_OK;
}

void tks_capture_reader_reset(tks_capture_reader *r) {
    if (!r) return;
    tks__err_clear(&r->err);
    r->stopped = 0;
    r->have_header = 0;
    r->offset = 0;
    r->line_off = 0;
    r->line.len = 0;
}

void tks_capture_reader_free(tks_capture_reader *r) {
    if (!r) return;
    tks__buf_free(&r->line, &r->alloc);
    tks__buf_free(&r->scratch, &r->alloc);
    tks_alloc a = r->alloc;
    tks__free(&a, r, sizeof *r);
}

const char *tks_capture_reader_error(const tks_capture_reader *r) {
    return r ? tks__err_text(&r->err) : "";
}

uint64_t tks_capture_reader_offset(const tks_capture_reader *r) { return r ? r->err.offset : 0; }

/* ---- one line ----------------------------------------------------------------------- */

typedef struct cursor {
    const unsigned char *p;
    size_t n, i;
    uint64_t base; /* input offset of p[0] */
} cursor;

static void skip_ws(cursor *c) {
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' || c->p[c->i] == '\r')) c->i++;
}

static int fail(tks_capture_reader *r, const cursor *c, int code, const char *msg) {
    return tks__err_at(&r->err, code, c->base + c->i, msg);
}

static int hexval(unsigned char h) {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}

/* Reads a JSON string at c->i (the opening quote). With out, its unescaped bytes are
 * appended there (a character above U+007F becomes 0xFF: no capture field needs one,
 * and base64 rejects it). */
static int read_string(tks_capture_reader *r, cursor *c, tks__buf *out) {
    c->i++; /* the quote */
    for (;;) {
        if (c->i >= c->n) return fail(r, c, TKS_EJSON, "unterminated string");
        unsigned char ch = c->p[c->i];
        if (ch == '"') {
            c->i++;
            return TKS_OK;
        }
        if (ch < 0x20) return fail(r, c, TKS_EJSON, "control character in a string");
        if (ch == '\\') {
            if (c->i + 1 >= c->n) return fail(r, c, TKS_EJSON, "unterminated string");
            unsigned char e = c->p[c->i + 1], v;
            switch (e) {
            case '"': v = '"'; break;
            case '\\': v = '\\'; break;
            case '/': v = '/'; break;
            case 'b': v = '\b'; break;
            case 'f': v = '\f'; break;
            case 'n': v = '\n'; break;
            case 'r': v = '\r'; break;
            case 't': v = '\t'; break;
            case 'u': {
                if (c->i + 6 > c->n) return fail(r, c, TKS_EJSON, "bad \\u escape");
                unsigned u = 0;
                for (int k = 2; k < 6; k++) {
                    int h = hexval(c->p[c->i + (size_t)k]);
                    if (h < 0) return fail(r, c, TKS_EJSON, "bad \\u escape");
                    u = u * 16 + (unsigned)h;
                }
                v = u < 0x80 ? (unsigned char)u : 0xFF;
                c->i += 4;
                break;
            }
            default: return fail(r, c, TKS_EJSON, "bad escape in a string");
            }
            c->i += 2;
            if (out) {
                int rc = tks__buf_putc(out, &r->alloc, (char)v);
                if (rc) return fail(r, c, rc, "data too large");
            }
            continue;
        }
        size_t j = c->i;
        while (j < c->n && c->p[j] != '"' && c->p[j] != '\\' && c->p[j] >= 0x20) j++;
        if (out) {
            int rc = tks__buf_append(out, &r->alloc, c->p + c->i, j - c->i);
            if (rc) return fail(r, c, rc, "data too large");
        }
        c->i = j;
    }
}

/* An integer (no fraction, no exponent) into *v; any other number is an error when
 * v is wanted, skipped otherwise. */
static int read_number(tks_capture_reader *r, cursor *c, int64_t *v) {
    size_t start = c->i;
    int neg = 0;
    if (c->p[c->i] == '-') {
        neg = 1;
        c->i++;
    }
    if (c->i >= c->n || c->p[c->i] < '0' || c->p[c->i] > '9')
        return fail(r, c, TKS_EJSON, "bad number");
    uint64_t acc = 0;
    int overflow = 0;
    while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9') {
        unsigned d = c->p[c->i] - '0';
        if (acc > (UINT64_MAX - d) / 10) overflow = 1;
        else acc = acc * 10 + d;
        c->i++;
    }
    int fraction = 0;
    while (c->i < c->n && (c->p[c->i] == '.' || c->p[c->i] == 'e' || c->p[c->i] == 'E' ||
                           c->p[c->i] == '+' || c->p[c->i] == '-' ||
                           (c->p[c->i] >= '0' && c->p[c->i] <= '9'))) {
        fraction = 1;
        c->i++;
    }
    if (!v) return TKS_OK;
    if (fraction || overflow || acc > (uint64_t)INT64_MAX + (uint64_t)neg) {
        c->i = start;
        return fail(r, c, TKS_EPROTO, "time is not an int64 integer");
    }
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return TKS_OK;
}

static int b64val(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Decodes standard base64 (with its '=' padding) in place; -1 when malformed. */
static long b64_decode(unsigned char *s, size_t n) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int pad = 0, v[4];
        for (int k = 0; k < 4; k++) {
            unsigned char ch = s[i + (size_t)k];
            if (ch == '=' && i + 4 == n && k >= 2) {
                pad++;
                v[k] = 0;
                continue;
            }
            if (pad) return -1; /* data after '=' */
            v[k] = b64val(ch);
            if (v[k] < 0) return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* The bits the padding drops must be zero (canonical form). */
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF))) return -1;
        s[o++] = (unsigned char)(w >> 16);
        if (pad < 2) s[o++] = (unsigned char)(w >> 8);
        if (pad < 1) s[o++] = (unsigned char)w;
    }
    return (long)o;
}

enum { K_OTHER, K_CAPTURE, K_START, K_T, K_DATA };

static int key_of(const char *k, size_t n) {
    if (n == 17 && memcmp(k, "tokstream_capture", 17) == 0) return K_CAPTURE;
    if (n == 8 && memcmp(k, "start_ns", 8) == 0) return K_START;
    if (n == 4 && memcmp(k, "t_ns", 4) == 0) return K_T;
    if (n == 4 && memcmp(k, "data", 4) == 0) return K_DATA;
    return K_OTHER;
}

static int parse_line(tks_capture_reader *r, const unsigned char *p, size_t n, uint64_t base) {
    cursor c = {p, n, 0, base};
    skip_ws(&c);
    if (c.i == n) return TKS_OK; /* blank line */
    if (p[c.i] != '{') return fail(r, &c, TKS_EPROTO, "a capture line must be a JSON object");
    c.i++;
    int64_t version = -1, start = 0, t = 0;
    int have_start = 0, have_t = 0, have_data = 0, rc;
    size_t data_len = 0;
    r->scratch.len = 0;
    skip_ws(&c);
    if (c.i < n && p[c.i] == '}') {
        c.i++;
    } else {
        for (;;) {
            skip_ws(&c);
            if (c.i >= n || p[c.i] != '"') return fail(r, &c, TKS_EJSON, "expected a key");
            /* keys are short: unescape them into a small local buffer */
            size_t kstart = r->scratch.len;
            if ((rc = read_string(r, &c, &r->scratch))) return rc;
            int key = key_of(r->scratch.p + kstart, r->scratch.len - kstart);
            r->scratch.len = kstart;
            skip_ws(&c);
            if (c.i >= n || p[c.i] != ':') return fail(r, &c, TKS_EJSON, "expected ':'");
            c.i++;
            skip_ws(&c);
            if (c.i >= n) return fail(r, &c, TKS_EJSON, "expected a value");
            unsigned char ch = p[c.i];
            if (ch == '"') {
                if (key == K_START || key == K_T || key == K_CAPTURE)
                    return fail(r, &c, TKS_EPROTO, "expected an integer");
                if (key == K_DATA) {
                    r->scratch.len = 0;
                    if ((rc = read_string(r, &c, &r->scratch))) return rc;
                    data_len = r->scratch.len;
                    have_data = 1;
                } else if ((rc = read_string(r, &c, NULL))) {
                    return rc;
                }
            } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
                int64_t v = 0;
                int want = key == K_START || key == K_T || key == K_CAPTURE;
                if (key == K_DATA) return fail(r, &c, TKS_EPROTO, "data must be a string");
                if ((rc = read_number(r, &c, want ? &v : NULL))) return rc;
                if (key == K_START) start = v, have_start = 1;
                if (key == K_T) t = v, have_t = 1;
                if (key == K_CAPTURE) version = v;
            } else {
                static const char *const lits[] = {"true", "false", "null"};
                size_t k = 0;
                for (; k < 3; k++) {
                    size_t ln = strlen(lits[k]);
                    if (n - c.i >= ln && memcmp(p + c.i, lits[k], ln) == 0) {
                        c.i += ln;
                        break;
                    }
                }
                if (k == 3) return fail(r, &c, TKS_EJSON, "unexpected character");
                if (key != K_OTHER) return fail(r, &c, TKS_EPROTO, "wrong type for a capture field");
            }
            skip_ws(&c);
            if (c.i < n && p[c.i] == ',') {
                c.i++;
                continue;
            }
            if (c.i < n && p[c.i] == '}') {
                c.i++;
                break;
            }
            return fail(r, &c, TKS_EJSON, "expected ',' or '}'");
        }
    }
    skip_ws(&c);
    if (c.i != n) return fail(r, &c, TKS_EJSON, "text after the object");
    c.i = 0;
    tks_capture_record rec = {0};
    rec.offset = base;
    if (version != -1) {
        if (r->have_header) return fail(r, &c, TKS_EPROTO, "a second capture header");
        if (version != 1) return fail(r, &c, TKS_EUNSUPPORTED, "unknown capture version");
        if (!have_start) return fail(r, &c, TKS_EPROTO, "capture header without start_ns");
        r->have_header = 1;
        rec.kind = TKS_CAPTURE_START;
        rec.t_ns = start;
    } else {
        if (!r->have_header) return fail(r, &c, TKS_EPROTO, "not a capture: no header line first");
        if (!have_t || !have_data) return fail(r, &c, TKS_EPROTO, "a data line needs t_ns and data");
        long len = b64_decode((unsigned char *)r->scratch.p, data_len);
        if (len < 0) return fail(r, &c, TKS_EPROTO, "data is not valid base64");
        rec.kind = TKS_CAPTURE_DATA;
        rec.t_ns = t;
        rec.data = r->scratch.p ? r->scratch.p : "";
        rec.len = (size_t)len;
    }
    if (r->cb(r->user, &rec)) {
        r->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

int tks_capture_reader_push(tks_capture_reader *r, const void *bytes, size_t len) {
    if (!r || (!bytes && len)) return TKS_EINVAL;
    if (r->err.code) return r->err.code;
    if (r->stopped) return TKS_STOPPED;
    const unsigned char *p = bytes;
    size_t i = 0;
    while (i < len) {
        const unsigned char *nl = memchr(p + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - p) : len;
        int rc;
        if (!nl) {
            if (r->line.len == 0) r->line_off = r->offset;
            rc = tks__buf_append(&r->line, &r->alloc, p + i, end - i);
            if (rc) return tks__err_at(&r->err, rc, r->line_off,
                                       rc == TKS_ELIMIT ? "capture line too long" : NULL);
            r->offset += len - i;
            return TKS_OK;
        }
        if (r->line.len == 0) {
            if (end - i > r->line.limit)
                return tks__err_at(&r->err, TKS_ELIMIT, r->offset, "capture line too long");
            rc = parse_line(r, p + i, end - i, r->offset); /* in place */
        } else {
            rc = tks__buf_append(&r->line, &r->alloc, p + i, end - i);
            if (rc) return tks__err_at(&r->err, rc, r->line_off,
                                       rc == TKS_ELIMIT ? "capture line too long" : NULL);
            rc = parse_line(r, (const unsigned char *)r->line.p, r->line.len, r->line_off);
            r->line.len = 0;
        }
        if (rc == TKS_STOPPED) {
            r->offset += end + 1 - i;
            return rc;
        }
        if (rc) return rc;
        r->offset += end + 1 - i;
        i = end + 1;
    }
    return TKS_OK;
}

int tks_capture_reader_finish(tks_capture_reader *r) {
    if (!r) return TKS_EINVAL;
    if (r->err.code) return r->err.code;
    if (r->stopped) return TKS_STOPPED;
    if (r->line.len) {
        int rc = parse_line(r, (const unsigned char *)r->line.p, r->line.len, r->line_off);
        r->line.len = 0;
        if (rc) return rc;
    }
    if (!r->have_header)
        return tks__err_at(&r->err, TKS_ETRUNC, r->offset, "capture has no header line");
    return TKS_OK;
}
