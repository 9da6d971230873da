/* utf8_streamer.c - bytes in any cuts -> deltas that are always valid UTF-8.
 *
 * Valid runs inside one push go to the callback straight from the caller's buffer; at
 * most 3 bytes of a character cut by the end of a push are kept; bytes that can never
 * complete become U+FFFD at once (one per maximal subpart, like WHATWG TextDecoder), so
 * nothing stalls. Grapheme mode holds back the last extended grapheme cluster (utf8proc)
 * until the next one starts, so no delta ends inside a cluster. */
#include "internal.h"
#include "text_internal.h"

#include <utf8proc.h>

#define HOLD_INITIAL 64 /* grapheme mode: allocated at new; most clusters fit */

struct tks_utf8_streamer {
    tks_alloc alloc;
    tks_text_cb on_text;
    void *user;
    uint32_t flags;
    size_t max_hold;
    uint64_t pos;            /* bytes pushed so far */
    unsigned char pend[4];   /* valid prefix of a character cut by the end of a push */
    unsigned char npend;
    unsigned char stopped;   /* a callback asked to stop */
    unsigned char finished;
    unsigned char gate;      /* error, stopped or finished: the hot path's one check */
    unsigned char have_prev; /* grapheme mode: prev_cp is set */
    int32_t prev_cp;
    int32_t gstate;          /* utf8proc_grapheme_break_stateful state */
    tks__buf hold;           /* grapheme mode: the last, unfinished cluster */
    uint64_t work;
    tks__err err;
};

static int release_hold(tks_utf8_streamer *s) {
    if (s->hold.len == 0) return TKS_OK;
    size_t hl = s->hold.len;
    s->hold.len = 0;
    s->work += hl;
    return s->on_text(s->user, s->hold.p, hl) ? TKS_STOPPED : TKS_OK;
}

/* Adds text to the held cluster. A cluster that would pass max_hold (or that finds no
 * memory: *err) is released as it is, so the output stays complete and the hold
 * bounded. */
static int hold_add(tks_utf8_streamer *s, const char *text, size_t n, int *err) {
    if (n == 0) return TKS_OK;
    if (*err == TKS_OK && s->hold.len + n <= s->max_hold) { /* after a failure: all out */
        int rc = tks__buf_append(&s->hold, &s->alloc, text, n);
        if (rc == TKS_OK) {
            s->work += n;
            return TKS_OK;
        }
        s->gate = 1;
        *err = tks__err_at(&s->err, rc, s->pos, "out of memory growing the grapheme hold");
    }
    if (release_hold(s)) return TKS_STOPPED;
    return s->on_text(s->user, text, n) ? TKS_STOPPED : TKS_OK;
}

/* Grapheme mode: text (valid UTF-8, whole characters) through the cluster hold. The
 * held cluster goes on up to the first break in text; everything before the last break
 * is whole clusters and goes out; the cluster after the last break is held. */
static int grapheme_feed(tks_utf8_streamer *s, const char *text, size_t n) {
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, first_break = SIZE_MAX, last_break = SIZE_MAX;
    while (i < n) {
        int32_t cp;
        size_t len;
        if (p[i] < 0x80) {
            cp = p[i];
            len = 1;
        } else {
            utf8proc_ssize_t r = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
            len = r > 0 ? (size_t)r : 1; /* r <= 0 cannot happen: the text is valid */
        }
        int brk = 1;
        if (s->have_prev) brk = utf8proc_grapheme_break_stateful(s->prev_cp, cp, &s->gstate);
        s->have_prev = 1;
        s->prev_cp = cp;
        if (brk) {
            if (first_break == SIZE_MAX) first_break = i;
            last_break = i;
        }
        i += len;
    }
    s->work += n;
    int err = TKS_OK, rc;
    if (last_break == SIZE_MAX) {
        rc = hold_add(s, text, n, &err);
        return rc ? rc : err;
    }
    if ((rc = hold_add(s, text, first_break, &err)) != TKS_OK) return rc;
    if ((rc = release_hold(s)) != TKS_OK) return rc;
    if (last_break > first_break &&
        s->on_text(s->user, text + first_break, last_break - first_break))
        return TKS_STOPPED;
    if ((rc = hold_add(s, text + last_break, n - last_break, &err)) != TKS_OK) return rc;
    return err;
}

/* Valid UTF-8 out: to the caller, or through the grapheme hold. */
static int emit(tks_utf8_streamer *s, const char *text, size_t n) {
    if (s->flags & TKS_UTF8_GRAPHEME) return grapheme_feed(s, text, n);
    return s->on_text(s->user, text, n) ? TKS_STOPPED : TKS_OK;
}

static int stopped_or(tks_utf8_streamer *s, int rc) {
    if (rc == TKS_STOPPED) s->stopped = s->gate = 1;
    return rc;
}

int tks_utf8_streamer_new(tks_utf8_streamer **out, const tks_utf8_config *cfg,
                          tks_text_cb on_text, void *user) {
    if (out) *out = NULL;
    if (!out || !on_text) return TKS_EINVAL;
    tks_utf8_config dflt = {0};
    if (!cfg) cfg = &dflt;
    if (cfg->flags & ~(uint32_t)TKS_UTF8_GRAPHEME) return TKS_EINVAL;
    tks_utf8_streamer *s;
    int rc = tks__object_new((void **)&s, sizeof *s, cfg->alloc,
                             offsetof(tks_utf8_streamer, alloc));
    if (rc) return rc;
    s->on_text = on_text;
    s->user = user;
    s->flags = cfg->flags;
    s->max_hold = TKS_OR(cfg->max_hold, 4 * TKS_KIB);
    s->hold.limit = s->max_hold;
    if (s->flags & TKS_UTF8_GRAPHEME) {
        rc = tks__buf_reserve(&s->hold, &s->alloc,
                              s->max_hold < HOLD_INITIAL ? s->max_hold : HOLD_INITIAL);
        if (rc) {
            tks_utf8_streamer_free(s);
            return rc;
        }
    }
    *out = s;
    return TKS_OK;
}

#if defined(__GNUC__)
#  define TKS_NOINLINE __attribute__((noinline))
#else
#  define TKS_NOINLINE
#endif

static TKS_NOINLINE int push_slow(tks_utf8_streamer *s, const void *bytes, size_t len);

int tks_utf8_streamer_push(tks_utf8_streamer *s, const void *bytes, size_t len) {
    /* Fast path, the usual token: 1..16 ASCII bytes, no partial character, plain mode. */
    if (TKS_LIKELY(s && !s->gate && bytes && s->npend == 0 && len - 1 < 16 &&
                   !(s->flags & TKS_UTF8_GRAPHEME))) {
        const unsigned char *p = bytes;
        unsigned acc = 0;
        for (size_t k = 0; k < len; k++) acc |= p[k];
        if (acc < 0x80) {
            s->pos += len;
            s->work += len;
            if (s->on_text(s->user, bytes, len)) return stopped_or(s, TKS_STOPPED);
            return TKS_OK;
        }
    }
    return push_slow(s, bytes, len);
}

static TKS_NOINLINE int push_slow(tks_utf8_streamer *s, const void *bytes, size_t len) {
    if (!s) return TKS_EINVAL;
    if (TKS_UNLIKELY(s->gate)) {
        if (s->err.code) return s->err.code;
        if (s->stopped) return TKS_STOPPED;
        return tks__err_at(&s->err, TKS_ESTATE, s->pos, "push after finish (reset first)");
    }
    if (TKS_UNLIKELY(!bytes)) {
        if (len == 0) return TKS_OK;
        s->gate = 1;
        return tks__err_at(&s->err, TKS_EINVAL, s->pos, "NULL bytes with a length");
    }
    const char *p = bytes;
    s->pos += len;
    size_t i = 0;
    int rc;
    if (s->npend) {
        /* Finish the character the last push cut: pending bytes + up to 3 new ones. */
        unsigned char tmp[4];
        size_t k = s->npend, take = len < 4 - k ? len : 4 - k;
        memcpy(tmp, s->pend, k);
        memcpy(tmp + k, p, take);
        s->work += k + take;
        int r = tks__utf8_char(tmp, k + take);
        if (r == 0) { /* still a prefix: then take == len, all of it kept */
            memcpy(s->pend + k, p, take);
            s->npend = (unsigned char)(k + take);
            return TKS_OK;
        }
        s->npend = 0;
        if (r > 0) {
            rc = emit(s, (const char *)tmp, (size_t)r);
            i = (size_t)r - k;
        } else {
            /* The pending bytes were a valid prefix, so the first bad byte is a new one:
             * the maximal subpart ends at or after the pending bytes. */
            rc = emit(s, TKS_UTF8_REPLACEMENT, 3);
            i = (size_t)-r - k;
        }
        if (rc) return stopped_or(s, rc);
    }
    while (i < len) {
        size_t v = tks__utf8_valid_prefix((const unsigned char *)p + i, len - i);
        s->work += v;
        if (v) {
            rc = emit(s, p + i, v);
            if (rc) return stopped_or(s, rc);
            i += v;
            if (i == len) break;
        }
        int r = tks__utf8_char((const unsigned char *)p + i, len - i);
        if (r == 0) { /* a valid prefix cut by the end of the push: at most 3 bytes */
            s->work += len - i;
            memcpy(s->pend, p + i, len - i);
            s->npend = (unsigned char)(len - i);
            break;
        }
        s->work += (size_t)-r;
        rc = emit(s, TKS_UTF8_REPLACEMENT, 3);
        if (rc) return stopped_or(s, rc);
        i += (size_t)-r;
    }
    return TKS_OK;
}

int tks_utf8_streamer_finish(tks_utf8_streamer *s) {
    if (!s) return TKS_EINVAL;
    if (s->err.code) return s->err.code;
    if (s->stopped) return TKS_STOPPED;
    if (s->finished) return TKS_OK;
    s->finished = s->gate = 1;
    int rc;
    if (s->npend) {
        /* An unfinished character at the end is one maximal subpart: one U+FFFD. */
        s->npend = 0;
        rc = emit(s, TKS_UTF8_REPLACEMENT, 3);
        if (rc) return stopped_or(s, rc);
    }
    return stopped_or(s, release_hold(s));
}

void tks_utf8_streamer_reset(tks_utf8_streamer *s) {
    if (!s) return;
    s->pos = 0;
    s->npend = 0;
    s->stopped = s->finished = s->gate = 0;
    s->have_prev = 0;
    s->prev_cp = 0;
    s->gstate = 0;
    s->hold.len = 0; /* the memory is kept for the next stream */
    tks__err_clear(&s->err);
}

void tks_utf8_streamer_free(tks_utf8_streamer *s) {
    if (!s) return;
    tks_alloc a = s->alloc;
    tks__buf_free(&s->hold, &a);
    tks__free(&a, s, sizeof *s);
}

const char *tks_utf8_streamer_error(const tks_utf8_streamer *s) {
    return s ? tks__err_text(&s->err) : "";
}

uint64_t tks_utf8_streamer_offset(const tks_utf8_streamer *s) { return s ? s->err.offset : 0; }

uint64_t tks__utf8_streamer_work(const tks_utf8_streamer *s) { return s->work; }
