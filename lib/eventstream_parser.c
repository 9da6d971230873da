/* eventstream_parser.c - AWS application/vnd.amazon.eventstream (Bedrock streaming):
 * binary frames, each
 *     total_length u32 | headers_length u32 | prelude CRC32 u32 | headers | payload |
 *     message CRC32 u32        (big-endian; the message CRC covers all bytes before it)
 * The prelude is checked as soon as its 12 bytes are in, so a corrupted length is never
 * trusted; the frame is decoded once it is whole. A frame that lies inside one push is
 * decoded in place; one cut by a push boundary is gathered in the frame buffer. */
#include "internal.h"
#include "crc32.h"

#include <stdio.h>

#define PRELUDE 12u
#define OVERHEAD 16u /* prelude + message CRC */

struct tks_eventstream_parser {
    tks_alloc alloc;
    tks_event_cb on_event;
    void *user;
    size_t max_frame;
    tks__buf frame;      /* the bytes so far of a frame cut by a push boundary */
    uint32_t total;      /* the current frame's length once its prelude checked out; 0 before */
    uint32_t hlen;
    tks_header *headers; /* decoded headers of the frame being handed over */
    size_t headers_cap;
    int finished;
    int stopped;
    uint64_t pos;        /* input bytes consumed before the current push */
    uint64_t frame_at;   /* offset of the current frame's first byte */
    tks__err err;
};

static uint32_t be16(const unsigned char *b) { return (uint32_t)b[0] << 8 | b[1]; }
static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static uint64_t be64(const unsigned char *b) { return (uint64_t)be32(b) << 32 | be32(b + 4); }

/* Two's complement value of the low `bits` bits of u, without implementation-defined
 * conversions. */
static int64_t to_signed(uint64_t u, unsigned bits) {
    uint64_t sign = (uint64_t)1 << (bits - 1);
    uint64_t mask = bits == 64 ? ~(uint64_t)0 : (sign << 1) - 1;
    u &= mask;
    if (!(u & sign)) return (int64_t)u;
    return -(int64_t)((~u & mask)) - 1;
}

int tks_eventstream_parser_new(tks_eventstream_parser **out, const tks_eventstream_config *cfg,
                               tks_event_cb on_event, void *user) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!on_event) return TKS_EINVAL;
    tks_eventstream_parser *p;
    int rc = tks__object_new((void **)&p, sizeof *p, cfg ? cfg->alloc : NULL,
                             offsetof(tks_eventstream_parser, alloc));
    if (rc) return rc;
    p->on_event = on_event;
    p->user = user;
    size_t max = TKS_OR(cfg ? cfg->max_frame : 0, 16 * TKS_MIB);
    if (max < OVERHEAD) max = OVERHEAD; /* the smallest frame must always fit */
#if SIZE_MAX > UINT32_MAX
    if (max > UINT32_MAX) max = UINT32_MAX; /* the length field's own bound */
#endif
    p->max_frame = max;
    p->frame.limit = max;
    *out = p;
    return TKS_OK;
}

/* Checks a prelude and takes the frame's lengths from it. */
static int check_prelude(tks_eventstream_parser *p, const unsigned char *b) {
    uint32_t total = be32(b), hlen = be32(b + 4);
    char msg[128];
    if (tks__crc32(0, b, 8) != be32(b + 8))
        return tks__err_at(&p->err, TKS_ECRC, p->frame_at, "prelude CRC mismatch in the frame");
    if (total < OVERHEAD) {
        snprintf(msg, sizeof msg, "frame total length %lu is below the minimum of 16",
                 (unsigned long)total);
        return tks__err_at(&p->err, TKS_EPROTO, p->frame_at, msg);
    }
    if (total > p->max_frame) {
        snprintf(msg, sizeof msg, "frame of %lu bytes exceeds max_frame (%zu)",
                 (unsigned long)total, p->max_frame);
        return tks__err_at(&p->err, TKS_ELIMIT, p->frame_at, msg);
    }
    if (hlen > total - OVERHEAD) {
        snprintf(msg, sizeof msg, "headers length %lu does not fit in a frame of %lu bytes",
                 (unsigned long)hlen, (unsigned long)total);
        return tks__err_at(&p->err, TKS_EPROTO, p->frame_at, msg);
    }
    p->total = total;
    p->hlen = hlen;
    return TKS_OK;
}

static int header_error(tks_eventstream_parser *p, size_t at, const char *msg) {
    return tks__err_at(&p->err, TKS_EPROTO, p->frame_at + at, msg);
}

/* A string header's value by name, or NULL. */
static const tks_header *find(const tks_header *h, size_t n, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (h[i].type == TKS_HEADER_STRING && h[i].name_len == len &&
            memcmp(h[i].name, name, len) == 0)
            return &h[i];
    return NULL;
}

/* A whole frame f of p->total bytes (prelude already checked): message CRC, headers,
 * then the event. */
static int decode_frame(tks_eventstream_parser *p, const unsigned char *f) {
    uint32_t total = p->total, hlen = p->hlen;
    p->total = 0; /* the next frame starts afresh */
    if (tks__crc32(0, f, total - 4) != be32(f + total - 4))
        return tks__err_at(&p->err, TKS_ECRC, p->frame_at, "message CRC mismatch in the frame");
    size_t n = 0, at = PRELUDE, end = PRELUDE + hlen;
    while (at < end) {
        size_t start = at;
        size_t name_len = f[at++];
        if (name_len == 0) return header_error(p, start, "header with an empty name");
        if (end - at < name_len + 1) return header_error(p, start, "header runs past the headers section");
        if (n == p->headers_cap) {
            size_t cap = p->headers_cap ? p->headers_cap * 2 : 8;
            tks_header *h = tks__realloc(&p->alloc, p->headers, p->headers_cap * sizeof *h,
                                         cap * sizeof *h);
            if (!h) return tks__err_at(&p->err, TKS_ENOMEM, p->frame_at, "cannot grow the header array");
            p->headers = h;
            p->headers_cap = cap;
        }
        tks_header *h = &p->headers[n];
        memset(h, 0, sizeof *h);
        h->name = (const char *)f + at;
        h->name_len = name_len;
        at += name_len;
        int type = f[at++];
        size_t left = end - at, need;
        h->type = type;
        switch (type) {
        case TKS_HEADER_TRUE: h->integer = 1; need = 0; break;
        case TKS_HEADER_FALSE: h->integer = 0; need = 0; break;
        case TKS_HEADER_BYTE: need = 1; break;
        case TKS_HEADER_SHORT: need = 2; break;
        case TKS_HEADER_INT: need = 4; break;
        case TKS_HEADER_LONG:
        case TKS_HEADER_TIMESTAMP: need = 8; break;
        case TKS_HEADER_UUID: need = 16; break;
        case TKS_HEADER_BYTES:
        case TKS_HEADER_STRING:
            if (left < 2) return header_error(p, start, "header runs past the headers section");
            need = be16(f + at);
            at += 2;
            left -= 2;
            break;
        default: {
            char msg[64];
            snprintf(msg, sizeof msg, "unknown header value type %d", type);
            return header_error(p, start, msg);
        }
        }
        if (left < need) return header_error(p, start, "header runs past the headers section");
        const unsigned char *v = f + at;
        switch (type) {
        case TKS_HEADER_BYTE: h->integer = to_signed(v[0], 8); break;
        case TKS_HEADER_SHORT: h->integer = to_signed(be16(v), 16); break;
        case TKS_HEADER_INT: h->integer = to_signed(be32(v), 32); break;
        case TKS_HEADER_LONG:
        case TKS_HEADER_TIMESTAMP: h->integer = to_signed(be64(v), 64); break;
        case TKS_HEADER_UUID:
        case TKS_HEADER_BYTES:
        case TKS_HEADER_STRING:
            h->value = (const char *)v;
            h->value_len = need;
            break;
        default: break;
        }
        at += need;
        n++;
    }
    tks_event ev = {0};
    ev.type = ev.id = ev.message_type = "";
    const tks_header *mt = find(p->headers, n, ":message-type");
    if (mt) {
        ev.message_type = mt->value;
        ev.message_type_len = mt->value_len;
    }
    const char *type_name = ":event-type";
    if (mt && mt->value_len == 9 && memcmp(mt->value, "exception", 9) == 0)
        type_name = ":exception-type";
    else if (mt && mt->value_len == 5 && memcmp(mt->value, "error", 5) == 0)
        type_name = ":error-code";
    const tks_header *t = find(p->headers, n, type_name);
    if (t) {
        ev.type = t->value;
        ev.type_len = t->value_len;
    }
    ev.data = (const char *)f + end;
    ev.data_len = total - OVERHEAD - hlen;
    ev.headers = n ? p->headers : NULL;
    ev.n_headers = n;
    ev.offset = p->frame_at;
    if (p->on_event(p->user, &ev)) {
        p->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

int tks_eventstream_parser_push(tks_eventstream_parser *p, const void *data, size_t len) {
    if (!p || (!data && len)) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return tks__err_set(&p->err, TKS_ESTATE, p->pos, "push after finish");
    const unsigned char *s = data;
    size_t i = 0;
    int rc;
    while (i < len) {
        size_t avail = len - i;
        if (p->frame.len == 0) {
            p->frame_at = p->pos + i;
            if (avail >= PRELUDE) {
                if ((rc = check_prelude(p, s + i))) return rc;
                if (avail >= p->total) { /* zero-copy: the whole frame is in this push */
                    size_t total = p->total;
                    rc = decode_frame(p, s + i);
                    i += total;
                    if (rc) {
                        p->pos += i;
                        return rc;
                    }
                    continue;
                }
                rc = tks__buf_reserve(&p->frame, &p->alloc, p->total);
                if (rc) return tks__err_at(&p->err, rc, p->frame_at, "cannot allocate the frame buffer");
            }
        }
        /* Gather the frame: first its prelude, then the rest once the prelude is good. */
        size_t want = p->total ? p->total - p->frame.len : PRELUDE - p->frame.len;
        size_t take = avail < want ? avail : want;
        rc = tks__buf_append(&p->frame, &p->alloc, s + i, take);
        if (rc) return tks__err_at(&p->err, rc, p->frame_at, "cannot grow the frame buffer");
        i += take;
        if (!p->total) {
            if (p->frame.len < PRELUDE) break;
            if ((rc = check_prelude(p, (const unsigned char *)p->frame.p))) return rc;
            rc = tks__buf_reserve(&p->frame, &p->alloc, p->total - p->frame.len);
            if (rc) return tks__err_at(&p->err, rc, p->frame_at, "cannot allocate the frame buffer");
            continue;
        }
        if (p->frame.len == p->total) {
            p->frame.len = 0; /* the bytes stay readable during the callback */
            rc = decode_frame(p, (const unsigned char *)p->frame.p);
            if (rc) {
                p->pos += i;
                return rc;
            }
        }
    }
    p->pos += len;
    return TKS_OK;
}

int tks_eventstream_parser_finish(tks_eventstream_parser *p) {
    if (!p) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return TKS_OK;
    p->finished = 1;
    if (p->frame.len == 0) return TKS_OK;
    char msg[96];
    snprintf(msg, sizeof msg, "frame beginning at byte %llu cut short: input ended",
             (unsigned long long)p->frame_at);
    return tks__err_at(&p->err, TKS_ETRUNC, p->pos, msg);
}

void tks_eventstream_parser_reset(tks_eventstream_parser *p) {
    if (!p) return;
    /* A big frame's buffer is not worth keeping for the next stream. */
    if (p->frame.cap > 64 * TKS_KIB) tks__buf_free(&p->frame, &p->alloc);
    p->frame.len = 0;
    p->total = p->hlen = 0;
    p->finished = p->stopped = 0;
    p->pos = p->frame_at = 0;
    tks__err_clear(&p->err);
}

void tks_eventstream_parser_free(tks_eventstream_parser *p) {
    if (!p) return;
    tks_alloc a = p->alloc;
    tks__buf_free(&p->frame, &a);
    tks__free(&a, p->headers, p->headers_cap * sizeof *p->headers);
    tks__free(&a, p, sizeof *p);
}

const char *tks_eventstream_parser_error(const tks_eventstream_parser *p) {
    return p ? tks__err_text(&p->err) : "";
}

uint64_t tks_eventstream_parser_offset(const tks_eventstream_parser *p) {
    return p ? p->err.offset : 0;
}
