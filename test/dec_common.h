/* dec_common.h - helpers of the decoder tests: a delta recorder (a text log of every
 * delta plus per-field aggregates), and small independent framers used to feed the
 * decoder (an SSE splitter for the LF/CRLF streams of the fixtures, a line splitter). */
#ifndef TKS_TEST_DEC_COMMON_H
#define TKS_TEST_DEC_COMMON_H

#include "tokstream.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable string ---------------------------------------------------------------- */

typedef struct dstr {
    char *p;
    size_t len, cap;
} dstr;

static inline void ds_add(dstr *s, const void *p, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1) cap *= 2;
        s->p = realloc(s->p, cap);
        if (!s->p) abort();
        s->cap = cap;
    }
    if (n) memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = 0;
}
static inline void ds_puts(dstr *s, const char *z) { ds_add(s, z, strlen(z)); }
static inline void ds_free(dstr *s) {
    free(s->p);
    memset(s, 0, sizeof *s);
}
static inline const char *ds_str(dstr *s) { return s->p ? s->p : ""; }

/* ---- delta recorder ----------------------------------------------------------------- */

#define REC_CHOICES 8
#define REC_TOOLS 32

typedef struct rec_tool {
    dstr id, name, args;
    int calls;     /* TOOL_CALL deltas */
    int whole;     /* TOOL_ARGS with TKS_DELTA_WHOLE */
} rec_tool;

typedef struct rec {
    dstr log;                       /* one line per delta, every field */
    dstr text[REC_CHOICES], reasoning[REC_CHOICES], refusal[REC_CHOICES], role[REC_CHOICES];
    dstr signature, logprobs[REC_CHOICES];
    rec_tool tool[REC_CHOICES][REC_TOOLS];
    int finish[REC_CHOICES];
    dstr finish_raw[REC_CHOICES];
    int n_finish;
    int64_t usage[5]; /* input, output, total, reasoning, cached: merged (latest known) */
    int n_usage;
    dstr err_msg, err_code, err_type, err_json;
    int n_error;
    int n_done, n_start, n_deltas;
    dstr start_id, start_model;
    int stop_after; /* > 0: the callback returns non-zero on that delta */
    int after_done; /* deltas seen after a DONE (other than START) */
} rec;

static inline void rec_init(rec *r) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 5; i++) r->usage[i] = -1;
}

static inline void rec_free(rec *r) {
    ds_free(&r->log);
    for (int c = 0; c < REC_CHOICES; c++) {
        ds_free(&r->text[c]);
        ds_free(&r->reasoning[c]);
        ds_free(&r->refusal[c]);
        ds_free(&r->role[c]);
        ds_free(&r->logprobs[c]);
        ds_free(&r->finish_raw[c]);
        for (int t = 0; t < REC_TOOLS; t++) {
            ds_free(&r->tool[c][t].id);
            ds_free(&r->tool[c][t].name);
            ds_free(&r->tool[c][t].args);
        }
    }
    ds_free(&r->signature);
    ds_free(&r->err_msg);
    ds_free(&r->err_code);
    ds_free(&r->err_type);
    ds_free(&r->err_json);
    ds_free(&r->start_id);
    ds_free(&r->start_model);
}

static inline void log_field(dstr *s, const char *label, const char *p, size_t n) {
    char buf[32];
    if (!p) {
        if (n) ds_puts(s, " BADNULL");
        return;
    }
    snprintf(buf, sizeof buf, " %s[%zu]=", label, n);
    ds_puts(s, buf);
    ds_add(s, p, n);
}

static inline int rec_cb(void *user, const tks_delta *x) {
    rec *r = user;
    char buf[256];
    r->n_deltas++;
    snprintf(buf, sizeof buf, "%d c%d i%d f%d fl%u u%lld,%lld,%lld,%lld,%lld @%llu", x->kind,
             (int)x->choice, (int)x->index, x->finish, x->flags, (long long)x->input_tokens,
             (long long)x->output_tokens, (long long)x->total_tokens, (long long)x->reasoning_tokens,
             (long long)x->cached_tokens, (unsigned long long)x->offset);
    ds_puts(&r->log, buf);
    log_field(&r->log, "text", x->text, x->text_len);
    log_field(&r->log, "id", x->id, x->id_len);
    log_field(&r->log, "name", x->name, x->name_len);
    log_field(&r->log, "json", x->json, x->json_len);
    ds_puts(&r->log, "\n");
    if (r->n_done && x->kind != TKS_DELTA_START && x->kind != TKS_DELTA_DONE) r->after_done++;
    int c = x->choice >= 0 && x->choice < REC_CHOICES ? x->choice : REC_CHOICES - 1;
    int t = x->index >= 0 && x->index < REC_TOOLS ? x->index : REC_TOOLS - 1;
    switch (x->kind) {
    case TKS_DELTA_START:
        r->n_start++;
        r->n_done = 0;
        r->start_id.len = r->start_model.len = 0;
        ds_add(&r->start_id, x->id, x->id_len);
        ds_add(&r->start_model, x->name, x->name_len);
        break;
    case TKS_DELTA_ROLE: ds_add(&r->role[c], x->text, x->text_len); break;
    case TKS_DELTA_TEXT: ds_add(&r->text[c], x->text, x->text_len); break;
    case TKS_DELTA_REASONING: ds_add(&r->reasoning[c], x->text, x->text_len); break;
    case TKS_DELTA_SIGNATURE: ds_add(&r->signature, x->text, x->text_len); break;
    case TKS_DELTA_REFUSAL: ds_add(&r->refusal[c], x->text, x->text_len); break;
    case TKS_DELTA_TOOL_CALL:
        r->tool[c][t].calls++;
        if (x->id_len) {
            r->tool[c][t].id.len = 0;
            ds_add(&r->tool[c][t].id, x->id, x->id_len);
        }
        if (x->name_len) {
            r->tool[c][t].name.len = 0;
            ds_add(&r->tool[c][t].name, x->name, x->name_len);
        }
        break;
    case TKS_DELTA_TOOL_ARGS:
        if (x->flags & TKS_DELTA_WHOLE) r->tool[c][t].whole++;
        ds_add(&r->tool[c][t].args, x->text, x->text_len);
        break;
    case TKS_DELTA_LOGPROBS:
        ds_add(&r->logprobs[c], x->json, x->json_len);
        ds_puts(&r->logprobs[c], "\n");
        break;
    case TKS_DELTA_FINISH:
        r->n_finish++;
        r->finish[c] = x->finish;
        r->finish_raw[c].len = 0;
        ds_add(&r->finish_raw[c], x->text, x->text_len);
        break;
    case TKS_DELTA_USAGE: {
        int64_t v[5] = {x->input_tokens, x->output_tokens, x->total_tokens, x->reasoning_tokens,
                        x->cached_tokens};
        for (int i = 0; i < 5; i++)
            if (v[i] >= 0) r->usage[i] = v[i];
        r->n_usage++;
        break;
    }
    case TKS_DELTA_ERROR:
        r->n_error++;
        r->err_msg.len = r->err_code.len = r->err_type.len = r->err_json.len = 0;
        ds_add(&r->err_msg, x->text, x->text_len);
        ds_add(&r->err_code, x->id, x->id_len);
        ds_add(&r->err_type, x->name, x->name_len);
        ds_add(&r->err_json, x->json, x->json_len);
        break;
    case TKS_DELTA_DONE: r->n_done++; break;
    default: ds_puts(&r->log, "UNKNOWN KIND\n"); break;
    }
    if (r->stop_after && r->n_deltas >= r->stop_after) return 1;
    return 0;
}

/* ---- independent framers ------------------------------------------------------------ */

/* One event: type, data, offset, copied into owned memory. */
typedef struct tev {
    char *type;
    size_t type_len;
    char *data;
    size_t data_len;
    uint64_t offset;
    /* eventstream */
    char *mtype;
    size_t mtype_len;
    tks_header *headers; /* deep-copied */
    size_t n_headers;
} tev;

typedef struct tevs {
    tev *v;
    size_t n, cap;
} tevs;

static inline tev *tevs_add(tevs *e) {
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v) abort();
    }
    tev *t = &e->v[e->n++];
    memset(t, 0, sizeof *t);
    return t;
}

static inline char *memdup_(const void *p, size_t n) {
    char *q = malloc(n + 1);
    if (!q) abort();
    if (n) memcpy(q, p, n);
    q[n] = 0;
    return q;
}

static inline void tevs_free(tevs *e) {
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].type);
        free(e->v[i].data);
        free(e->v[i].mtype);
        for (size_t h = 0; h < e->v[i].n_headers; h++) {
            free((char *)e->v[i].headers[h].name);
            free((char *)e->v[i].headers[h].value);
        }
        free(e->v[i].headers);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* A plain SSE splitter for the fixtures (LF, CRLF or CR line ends; data/event fields,
 * one optional space, comments; an event is dispatched on a blank line when it has
 * data). Not the library's parser: an independent reading of the same rules. */
static inline void sse_split(const char *s, size_t n, tevs *out) {
    dstr data = {0}, type = {0};
    int have_data = 0;
    size_t i = 0, ev_start = 0, line_no = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n) {
        size_t ls = i;
        while (i < n && s[i] != '\n' && s[i] != '\r') i++;
        if (i >= n) break; /* unterminated last line: not dispatched */
        size_t le = i;
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') i += 2;
        else i++;
        if (le == ls) {
            if (have_data) {
                tev *t = tevs_add(out);
                if (data.len && data.p[data.len - 1] == '\n') data.len--;
                t->data = memdup_(data.p ? data.p : "", data.len);
                t->data_len = data.len;
                if (type.len) {
                    t->type = memdup_(type.p, type.len);
                    t->type_len = type.len;
                } else {
                    t->type = memdup_("message", 7);
                    t->type_len = 7;
                }
                t->offset = ev_start;
            }
            data.len = type.len = 0;
            have_data = 0;
            line_no = 0;
            continue;
        }
        if (line_no++ == 0) ev_start = ls;
        if (s[ls] == ':') continue;
        size_t c = ls;
        while (c < le && s[c] != ':') c++;
        size_t vs = c < le ? c + 1 : le;
        if (vs < le && s[vs] == ' ') vs++;
        if (c - ls == 4 && memcmp(s + ls, "data", 4) == 0) {
            ds_add(&data, s + vs, le - vs);
            ds_add(&data, "\n", 1);
            have_data = 1;
        } else if (c - ls == 5 && memcmp(s + ls, "event", 5) == 0) {
            type.len = 0;
            ds_add(&type, s + vs, le - vs);
        }
    }
    ds_free(&data);
    ds_free(&type);
}

/* One event per non-empty line (JSON lines, NDJSON); the last line may lack its LF. */
static inline void line_split(const char *s, size_t n, tevs *out) {
    size_t i = 0;
    while (i < n) {
        size_t ls = i;
        while (i < n && s[i] != '\n') i++;
        size_t le = i;
        if (le > ls && s[le - 1] == '\r') le--;
        if (le > ls) {
            tev *t = tevs_add(out);
            t->data = memdup_(s + ls, le - ls);
            t->data_len = le - ls;
            t->type = memdup_("", 0);
            t->offset = ls;
        }
        i++;
    }
}

/* ---- framers for the other formats ---------------------------------------------------- */

/* Elements of a top-level JSON array (Gemini without alt=sse): string-aware bracket
 * matching, BOM skipped. */
static inline void array_split(const char *s, size_t n, tevs *out) {
    size_t i = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n && s[i] != '[') i++;
    i++;
    while (i < n) {
        while (i < n && s[i] != '{' && s[i] != ']') i++;
        if (i >= n || s[i] == ']') break;
        size_t st = i;
        int depth = 0, in_str = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (in_str) {
                if (c == '\\') i++;
                else if (c == '"') in_str = 0;
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) break;
            }
        }
        tev *t = tevs_add(out);
        t->data = memdup_(s + st, i + 1 - st);
        t->data_len = i + 1 - st;
        t->type = memdup_("", 0);
        t->offset = st;
        i++;
    }
}

static inline uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* AWS eventstream frames (CRCs are the framer's business, not checked here). */
static inline void frames_split(const char *s, size_t n, tevs *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i + 16 <= n) {
        uint32_t total = be32(u + i), hlen = be32(u + i + 4);
        if (total < 16 || i + total > n || hlen > total - 16) break;
        tev *t = tevs_add(out);
        t->offset = i;
        size_t h = i + 12, he = h + hlen;
        while (h < he) {
            size_t nl = u[h];
            const char *name = s + h + 1;
            h += 1 + nl;
            int type = u[h++];
            tks_header hd = {0};
            hd.name = memdup_(name, nl);
            hd.name_len = nl;
            hd.type = type;
            size_t vl = 0;
            switch (type) {
            case 0: case 1: hd.integer = type == 0; break;
            case 2: vl = 1; break;
            case 3: vl = 2; break;
            case 4: vl = 4; break;
            case 5: case 8: vl = 8; break;
            case 9: vl = 16; hd.value = memdup_(s + h, 16); hd.value_len = 16; break;
            case 6:
            case 7:
                vl = (size_t)u[h] << 8 | u[h + 1];
                hd.value = memdup_(s + h + 2, vl);
                hd.value_len = vl;
                vl += 2;
                break;
            }
            h += vl;
            t->headers = realloc(t->headers, (t->n_headers + 1) * sizeof *t->headers);
            t->headers[t->n_headers++] = hd;
            if (type == 7 && nl == 11 && memcmp(name, ":event-type", 11) == 0) {
                t->type = memdup_(hd.value, hd.value_len);
                t->type_len = hd.value_len;
            } else if (type == 7 && nl == 15 && memcmp(name, ":exception-type", 15) == 0) {
                t->type = memdup_(hd.value, hd.value_len);
                t->type_len = hd.value_len;
            } else if (type == 7 && nl == 13 && memcmp(name, ":message-type", 13) == 0) {
                t->mtype = memdup_(hd.value, hd.value_len);
                t->mtype_len = hd.value_len;
            }
        }
        if (!t->type) t->type = memdup_("", 0);
        t->data_len = total - hlen - 16;
        t->data = memdup_(s + he, t->data_len);
        i += total;
    }
}

static inline void tev_to_event(const tev *t, tks_event *e) {
    memset(e, 0, sizeof *e);
    e->type = t->type;
    e->type_len = t->type_len;
    e->data = t->data;
    e->data_len = t->data_len;
    e->id = "";
    e->message_type = t->mtype;
    e->message_type_len = t->mtype_len;
    e->headers = t->headers;
    e->n_headers = t->n_headers;
    e->offset = t->offset;
}

/* Decodes every event with a fresh decoder; returns finish's status (or the first
 * failing push's). reuse: copy each event into ONE reused buffer, poisoned after the
 * push, to prove nothing points into a past event. */
static inline int decode_all(const tevs *evs, int dialect, const tks_alloc *alloc, rec *r, int reuse,
                             int *dialect_out) {
    tks_decoder *d;
    tks_decoder_config cfg = {.alloc = alloc, .dialect = dialect};
    int rc = tks_decoder_new(&d, &cfg, rec_cb, r);
    if (rc) return rc;
    char *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < evs->n && rc == 0; i++) {
        tks_event e;
        tev_to_event(&evs->v[i], &e);
        if (reuse) {
            size_t need = e.data_len + e.type_len + 1;
            if (need > cap) {
                free(buf);
                cap = need * 2;
                buf = malloc(cap);
            }
            memcpy(buf, e.data, e.data_len);
            memcpy(buf + e.data_len, e.type, e.type_len);
            e.data = buf;
            e.type = buf + e.data_len;
        }
        rc = tks_decoder_push(d, &e);
        if (reuse) memset(buf, 'X', cap);
    }
    if (rc == 0) rc = tks_decoder_finish(d);
    if (dialect_out) *dialect_out = tks_decoder_dialect(d);
    tks_decoder_free(d);
    free(buf);
    return rc;
}

#endif
