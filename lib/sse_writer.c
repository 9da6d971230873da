/* sse_writer.c - tks_sse_writer: events -> text/event-stream bytes, written so that a
 * WHATWG parser reads back exactly the event given (see tks_sse_writer_new(3)):
 *   event: TYPE\n  id: ID\n  retry: MS\n  data: LINE\n ... \n
 * Every field value is written after ": " (one space), so a value that itself starts
 * with a space keeps it (the parser removes exactly one). Data is split at CR, LF and
 * CRLF, one data line per line; empty data is one "data:" line. Output goes through a
 * fixed 8 KiB buffer allocated at _new, so writing never allocates: an event that fits
 * reaches the callback in one call, a larger one in several consecutive calls. */
#include "internal.h"

#define WBUF_SIZE 8192u

struct tks_sse_writer {
    tks_alloc alloc;
    tks_bytes_cb on_bytes;
    void *user;
    char *buf; /* WBUF_SIZE bytes */
    size_t len;
    int stopped;
    tks__err err;
};

/* Hands the buffered bytes to the callback. */
static int flush(tks_sse_writer *w) {
    if (w->len == 0) return 0;
    size_t n = w->len;
    w->len = 0;
    if (w->on_bytes && w->on_bytes(w->user, w->buf, n)) {
        w->stopped = 1;
        return TKS_STOPPED;
    }
    return 0;
}

/* Appends bytes; a large piece goes to the callback straight from the caller's memory. */
static int put(tks_sse_writer *w, const char *s, size_t n) {
    if (n <= WBUF_SIZE - w->len) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        return 0;
    }
    int rc = flush(w);
    if (rc) return rc;
    if (n >= WBUF_SIZE / 2) {
        if (w->on_bytes && w->on_bytes(w->user, s, n)) {
            w->stopped = 1;
            return TKS_STOPPED;
        }
        return 0;
    }
    memcpy(w->buf, s, n);
    w->len = n;
    return 0;
}

/* "name: value\n" ("name:\n" for an empty value). */
static int field(tks_sse_writer *w, const char *name, size_t nlen, const char *v, size_t n) {
    int rc = put(w, name, nlen);
    if (!rc) rc = n ? put(w, ": ", 2) : put(w, ":", 1);
    if (!rc && n) rc = put(w, v, n);
    if (!rc) rc = put(w, "\n", 1);
    return rc;
}

/* A refused call: nothing was written and the writer stays usable; the words stay for
 * tks_sse_writer_error until the next refusal or reset. */
static int refuse(tks_sse_writer *w, int code, const char *msg) {
    tks__err_clear(&w->err);
    return tks__err_set(&w->err, code, 0, msg);
}

/* Does s[0..n) hold one of the two bytes (b2 < 0 for one byte)? */
static int has_byte(const char *s, size_t n, int b1, int b2) {
    return n && (memchr(s, b1, n) || (b2 >= 0 && memchr(s, b2, n)));
}

static int valid_utf8(const char *s, size_t n) {
    return tks__utf8_valid_prefix((const unsigned char *)s, n) == n;
}

int tks_sse_writer_new(tks_sse_writer **out, const tks_sse_writer_config *cfg,
                       tks_bytes_cb on_bytes, void *user) {
    void *obj;
    if (!out) return TKS_EINVAL;
    *out = NULL;
    int rc = tks__object_new(&obj, sizeof(tks_sse_writer), cfg ? cfg->alloc : NULL,
                             offsetof(tks_sse_writer, alloc));
    if (rc) return rc;
    tks_sse_writer *w = obj;
    w->buf = tks__malloc(&w->alloc, WBUF_SIZE);
    if (!w->buf) {
        tks_alloc a = w->alloc;
        tks__free(&a, w, sizeof *w);
        return TKS_ENOMEM;
    }
    w->on_bytes = on_bytes;
    w->user = user;
    *out = w;
    return TKS_OK;
}

int tks_sse_writer_event(tks_sse_writer *w, const tks_sse_out *ev) {
    if (!w) return TKS_EINVAL;
    if (w->stopped) return TKS_STOPPED;
    if (!ev) return refuse(w, TKS_EINVAL, "no event given");
    if ((!ev->type && ev->type_len) || (!ev->id && ev->id_len) || (!ev->data && ev->data_len))
        return refuse(w, TKS_EINVAL, "NULL pointer with a non-zero length");
    if (has_byte(ev->type, ev->type_len, '\r', '\n'))
        return refuse(w, TKS_EINVAL, "event type holds CR or LF");
    if (has_byte(ev->id, ev->id_len, '\r', '\n'))
        return refuse(w, TKS_EINVAL, "event id holds CR or LF");
    if (has_byte(ev->id, ev->id_len, '\0', -1))
        return refuse(w, TKS_EINVAL, "event id holds NUL (a parser would ignore it)");
    if (!valid_utf8(ev->type, ev->type_len) || !valid_utf8(ev->id, ev->id_len) ||
        !valid_utf8(ev->data, ev->data_len))
        return refuse(w, TKS_EUTF8, "event holds invalid UTF-8 (a parser would replace it)");

    int rc = 0;
    /* "message" is what a parser reports when no type is given: leave it out. */
    if (ev->type && ev->type_len && !(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0))
        rc = field(w, "event", 5, ev->type, ev->type_len);
    if (!rc && ev->id) rc = field(w, "id", 2, ev->id, ev->id_len);
    if (!rc && ev->retry_ms >= 0) {
        char num[24];
        size_t k = sizeof num;
        uint64_t v = (uint64_t)ev->retry_ms;
        do num[--k] = (char)('0' + v % 10); while ((v /= 10) != 0);
        rc = field(w, "retry", 5, num + k, sizeof num - k);
    }
    /* Data: one line per CR, LF or CRLF-terminated piece, plus the last piece. */
    const char *s = ev->data ? ev->data : "", *end = s + ev->data_len;
    while (!rc) {
        const char *e = s;
        while (e < end && *e != '\n' && *e != '\r') e++;
        rc = field(w, "data", 4, s, (size_t)(e - s));
        if (e == end) break;
        s = e + 1 + (*e == '\r' && e + 1 < end && e[1] == '\n');
    }
    if (!rc) rc = put(w, "\n", 1);
    if (!rc) rc = flush(w);
    return rc;
}

int tks_sse_writer_comment(tks_sse_writer *w, const char *text, size_t len) {
    if (!w) return TKS_EINVAL;
    if (w->stopped) return TKS_STOPPED;
    if (!text && len) return refuse(w, TKS_EINVAL, "NULL pointer with a non-zero length");
    if (has_byte(text, len, '\r', '\n')) return refuse(w, TKS_EINVAL, "comment holds CR or LF");
    if (!valid_utf8(text, len))
        return refuse(w, TKS_EUTF8, "comment holds invalid UTF-8 (a parser would replace it)");
    /* ':' then the text as it is: a parser hands back exactly the text after the ':'. */
    int rc = put(w, ":", 1);
    if (!rc && len) rc = put(w, text, len);
    if (!rc) rc = put(w, "\n", 1);
    if (!rc) rc = flush(w);
    return rc;
}

void tks_sse_writer_reset(tks_sse_writer *w) {
    if (!w) return;
    w->len = 0;
    w->stopped = 0;
    tks__err_clear(&w->err);
}

void tks_sse_writer_free(tks_sse_writer *w) {
    if (!w) return;
    tks_alloc a = w->alloc;
    tks__free(&a, w->buf, WBUF_SIZE);
    tks__free(&a, w, sizeof *w);
}

const char *tks_sse_writer_error(const tks_sse_writer *w) {
    if (!w) return "";
    if (w->stopped && w->err.code == TKS_OK) return tks_strerror(TKS_STOPPED);
    return tks__err_text(&w->err);
}
