/* encoder.c - tks_encoder: normalized deltas -> the openai-chat or anthropic dialect's
 * SSE events, written through a tks_sse_writer. The server-side mirror of the decoder. */
#include "internal.h"

#include <stdio.h>

#define ENC_DEFAULT_MAX_CHUNK TKS_MIB
#define ENC_DEFAULT_MAX_ITEMS 1024
#define ENC_MAX_NAME (64 * TKS_KIB) /* id and model taken from a START delta */
#define ENC_JSON_MAX_DEPTH 64        /* nesting allowed in verbatim logprobs JSON */

/* What the open Anthropic content block holds. */
enum { BLK_NONE, BLK_TEXT, BLK_THINKING, BLK_TOOL };

/* One choice (openai-chat) seen in this stream. */
typedef struct enc_choice {
    int32_t choice;
    int role_sent;
} enc_choice;

/* One tool call started in this stream; block = its Anthropic content block index. */
typedef struct enc_tool {
    int32_t choice;
    int32_t index;
    int32_t block;
    int args_sent; /* a WHOLE arguments delta after some arguments adds nothing */
} enc_tool;

struct tks_encoder {
    tks_alloc alloc;
    tks_bytes_cb on_bytes;
    void *user;
    tks_sse_writer *writer;
    tks__err err;
    int stopped;

    /* configuration (strings owned) */
    int dialect;
    uint32_t flags;
    int64_t created;
    size_t max_items;
    char *cfg_model, *cfg_id, *seed_id; /* seed_id: the id generated from id_seed */
    size_t cfg_model_len, cfg_id_len;

    /* the stream */
    uint64_t n_deltas;
    tks__buf json;         /* the payload being built */
    tks__buf head;         /* openai-chat: the start every chunk of the stream shares */
    tks__buf id, model;    /* from a START delta when the config has none */
    int have_start_id, have_start_model;
    int started;           /* an event was written: id and model are fixed */
    int ended;             /* the terminal event (or an error event) was written */
    int64_t in_tok, out_tok, total_tok, reasoning_tok, cached_tok; /* -1 = unknown */
    int have_usage;
    enc_choice *choices;
    size_t n_choices, cap_choices;
    enc_tool *tools;
    size_t n_tools, cap_tools;

    /* anthropic */
    int blk;               /* BLK_* of the open block */
    int32_t blk_index;     /* index of the open block */
    int32_t blk_tool;      /* BLK_TOOL: the tool call's index */
    int blk_signed;        /* BLK_THINKING: a signature was written */
    int32_t n_blocks;      /* blocks started so far */
    const char *stop_reason; /* NULL = none yet; else static or stop_raw.p */
    tks__buf stop_raw;
};

/* ---- small helpers ------------------------------------------------------------------ */

static char *dup_cstr(const tks_alloc *a, const char *s, size_t *len) {
    size_t n = strlen(s);
    char *p = tks__malloc(a, n + 1);
    if (p) memcpy(p, s, n + 1);
    *len = n;
    return p;
}

static void free_cstr(const tks_alloc *a, char *p, size_t len) {
    if (p) tks__free(a, p, len + 1);
}

/* FNV-1a 64 of the seed, then splitmix64 to spread it: a stable id for a given seed
 * (no clock, no global random state). */
static void make_seed_id(char *dst, const char *prefix, const char *seed) {
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)seed; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    size_t n = strlen(prefix);
    memcpy(dst, prefix, n);
    for (int i = 0; i < 24; i++) {
        h += 0x9e3779b97f4a7c15ull;
        uint64_t z = h;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        dst[n++] = b62[z % 62];
    }
    dst[n] = 0;
}

static int fail(tks_encoder *e, int code, const char *msg) {
    return tks__err_set(&e->err, code, e->n_deltas, msg);
}

static int fail_no_call(tks_encoder *e, const tks_delta *d) {
    char msg[120];
    snprintf(msg, sizeof msg, "arguments for tool call %ld (choice %ld) before its TOOL_CALL delta",
             (long)d->index, (long)d->choice);
    return fail(e, TKS_ESTATE, msg);
}

/* ---- a strict JSON validator for the verbatim logprobs value -------------------------- */

typedef struct jv {
    const unsigned char *s;
    size_t n, i;
} jv;

static void jv_ws(jv *v) {
    while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' || v->s[v->i] == '\n' ||
                           v->s[v->i] == '\r'))
        v->i++;
}

static int jv_lit(jv *v, const char *lit) {
    size_t k = strlen(lit);
    if (v->n - v->i < k || memcmp(v->s + v->i, lit, k) != 0) return 0;
    v->i += k;
    return 1;
}

static int jv_digits(jv *v) {
    size_t start = v->i;
    while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9') v->i++;
    return v->i > start;
}

static int jv_number(jv *v) {
    if (v->i < v->n && v->s[v->i] == '-') v->i++;
    if (v->i < v->n && v->s[v->i] == '0') v->i++;
    else if (!jv_digits(v)) return 0;
    if (v->i < v->n && v->s[v->i] == '.') {
        v->i++;
        if (!jv_digits(v)) return 0;
    }
    if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
        v->i++;
        if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-')) v->i++;
        if (!jv_digits(v)) return 0;
    }
    return 1;
}

/* Four hex digits at v->i: their value, or -1. */
static long jv_hex4(jv *v) {
    long u = 0;
    for (int k = 0; k < 4; k++, v->i++) {
        if (v->i >= v->n) return -1;
        unsigned char h = v->s[v->i];
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return -1;
        u = u * 16 + d;
    }
    return u;
}

static int jv_string(jv *v) {
    v->i++; /* the opening quote */
    while (v->i < v->n) {
        unsigned char c = v->s[v->i];
        if (c == '"') {
            v->i++;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (++v->i >= v->n) return 0;
            c = v->s[v->i++];
            if (c == 'u') {
                /* a surrogate escape must be a high + low pair (I-JSON, RFC 7493): a lone
                 * one has no UTF-8 form, and strict readers refuse it */
                long u = jv_hex4(v);
                if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF)) return 0;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (v->n - v->i < 2 || v->s[v->i] != '\\' || v->s[v->i + 1] != 'u') return 0;
                    v->i += 2;
                    u = jv_hex4(v);
                    if (u < 0xDC00 || u > 0xDFFF) return 0;
                }
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            v->i++;
            continue;
        }
        int k = tks__utf8_char(v->s + v->i, v->n - v->i);
        if (k <= 0) return 0;
        v->i += (size_t)k;
    }
    return 0;
}

static int jv_value(jv *v, int depth) {
    jv_ws(v);
    if (v->i >= v->n) return 0;
    unsigned char c = v->s[v->i];
    if (c == '"') return jv_string(v);
    if (c == 't') return jv_lit(v, "true");
    if (c == 'f') return jv_lit(v, "false");
    if (c == 'n') return jv_lit(v, "null");
    if (c == '-' || (c >= '0' && c <= '9')) return jv_number(v);
    if (c != '[' && c != '{') return 0;
    if (depth >= ENC_JSON_MAX_DEPTH) return 0;
    unsigned char close = c == '[' ? ']' : '}';
    v->i++;
    jv_ws(v);
    if (v->i < v->n && v->s[v->i] == close) {
        v->i++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != '"' || !jv_string(v)) return 0;
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != ':') return 0;
            v->i++;
        }
        if (!jv_value(v, depth + 1)) return 0;
        jv_ws(v);
        if (v->i >= v->n) return 0;
        if (v->s[v->i] == close) {
            v->i++;
            return 1;
        }
        if (v->s[v->i] != ',') return 0;
        v->i++;
    }
}

/* Appends valid JSON without the whitespace between tokens, so a CR or LF there cannot
 * split the payload over several data: lines. */
static int json_minify(tks__buf *b, const tks_alloc *a, const char *s, size_t n) {
    int in_str = 0;
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            int rc = tks__buf_append(b, a, s + run, i - run);
            if (rc) return rc;
            run = i + 1;
        }
    }
    return tks__buf_append(b, a, s + run, n - run);
}

/* True when s is exactly one JSON value (RFC 8259), nested at most ENC_JSON_MAX_DEPTH. */
static int json_valid(const char *s, size_t n) {
    jv v = {(const unsigned char *)s, n, 0};
    if (!jv_value(&v, 0)) return 0;
    jv_ws(&v);
    return v.i == n;
}

/* ---- output ------------------------------------------------------------------------- */

static int writer_sink(void *user, const char *bytes, size_t len) {
    tks_encoder *e = user;
    return e->on_bytes(e->user, bytes, len);
}

/* Writes one event whose data is the JSON built in e->json. */
static int emit(tks_encoder *e, const char *type) {
    tks_sse_out ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.type_len = type ? strlen(type) : 0;
    ev.data = e->json.p;
    ev.data_len = e->json.len;
    ev.retry_ms = -1;
    int rc = tks_sse_writer_event(e->writer, &ev);
    e->started = 1;
    if (rc == TKS_STOPPED) {
        e->stopped = 1;
        return TKS_STOPPED;
    }
    if (rc < 0) return fail(e, rc, rc == TKS_ENOMEM ? "out of memory writing an event"
                                                    : tks_sse_writer_error(e->writer));
    return TKS_OK;
}

/* Appenders on e->json; each returns a status, and the B(...) chain stops at the first. */
#define B(call)                                                                           \
    do {                                                                                  \
        int rc_ = (call);                                                                 \
        if (rc_) return rc_;                                                              \
    } while (0)

static int put_n(tks_encoder *e, const char *s, size_t n) {
    return tks__buf_append(&e->json, &e->alloc, s, n);
}
/* A string literal, its length known at compile time. */
#define put(e, lit) put_n((e), "" lit, sizeof(lit) - 1)
static int put_s(tks_encoder *e, const char *s) { return put_n(e, s, strlen(s)); }
static int put_str(tks_encoder *e, const char *s, size_t n) {
    return tks__json_string(&e->json, &e->alloc, s, n);
}
static int put_int(tks_encoder *e, int64_t v) {
    if (v >= 0 && v < 10) return tks__buf_putc(&e->json, &e->alloc, (char)('0' + v)); /* indices */
    return tks__json_int(&e->json, &e->alloc, v);
}

/* The id and model in effect: the config's, else a START delta's, else "" / the seed's. */
static void cur_id(const tks_encoder *e, const char **p, size_t *n) {
    if (e->cfg_id) *p = e->cfg_id, *n = e->cfg_id_len;
    else if (e->have_start_id) *p = e->id.p ? e->id.p : "", *n = e->id.len;
    else *p = e->seed_id, *n = strlen(e->seed_id);
}

static void cur_model(const tks_encoder *e, const char **p, size_t *n) {
    if (e->cfg_model) *p = e->cfg_model, *n = e->cfg_model_len;
    else if (e->have_start_model) *p = e->model.p ? e->model.p : "", *n = e->model.len;
    else *p = "", *n = 0;
}

/* Buffer results other than TKS_OK while building a payload. */
static int build_fail(tks_encoder *e, int rc) {
    if (rc == TKS_ELIMIT)
        return fail(e, rc, "an event's JSON would exceed max_chunk");
    return fail(e, rc, NULL);
}

/* ---- per-stream bookkeeping --------------------------------------------------------- */

static int choice_find(tks_encoder *e, int32_t choice, enc_choice **out) {
    for (size_t i = 0; i < e->n_choices; i++)
        if (e->choices[i].choice == choice) {
            *out = &e->choices[i];
            return TKS_OK;
        }
    if (e->n_choices + e->n_tools >= e->max_items)
        return fail(e, TKS_ELIMIT, "more choices and tool calls than max_items");
    if (e->n_choices == e->cap_choices) {
        size_t cap = e->cap_choices ? e->cap_choices * 2 : 4;
        enc_choice *p = tks__realloc(&e->alloc, e->choices, e->cap_choices * sizeof *p,
                                     cap * sizeof *p);
        if (!p) return fail(e, TKS_ENOMEM, NULL);
        e->choices = p;
        e->cap_choices = cap;
    }
    enc_choice *c = &e->choices[e->n_choices++];
    c->choice = choice;
    c->role_sent = 0;
    *out = c;
    return TKS_OK;
}

static enc_tool *tool_find(tks_encoder *e, int32_t choice, int32_t index) {
    for (size_t i = 0; i < e->n_tools; i++)
        if (e->tools[i].choice == choice && e->tools[i].index == index) return &e->tools[i];
    return NULL;
}

static int tool_add(tks_encoder *e, int32_t choice, int32_t index, int32_t block) {
    if (e->n_choices + e->n_tools >= e->max_items)
        return fail(e, TKS_ELIMIT, "more choices and tool calls than max_items");
    if (e->n_tools == e->cap_tools) {
        size_t cap = e->cap_tools ? e->cap_tools * 2 : 4;
        enc_tool *p = tks__realloc(&e->alloc, e->tools, e->cap_tools * sizeof *p,
                                   cap * sizeof *p);
        if (!p) return fail(e, TKS_ENOMEM, NULL);
        e->tools = p;
        e->cap_tools = cap;
    }
    enc_tool *t = &e->tools[e->n_tools++];
    t->choice = choice;
    t->index = index;
    t->block = block;
    t->args_sent = 0;
    return TKS_OK;
}

/* ---- openai-chat -------------------------------------------------------------------- */

/* Starts a chunk: {"id":..,"object":..,"created":..,"model":..,"choices": -- the same
 * bytes for the whole stream, built once (id and model are fixed by the first chunk). */
static int oa_head(tks_encoder *e) {
    e->json.len = 0;
    if (e->head.len == 0) {
        const char *s;
        size_t n;
        cur_id(e, &s, &n);
        B(put(e, "{\"id\":"));
        B(put_str(e, s, n));
        B(put(e, ",\"object\":\"chat.completion.chunk\",\"created\":"));
        B(put_int(e, e->created));
        cur_model(e, &s, &n);
        B(put(e, ",\"model\":"));
        B(put_str(e, s, n));
        B(put(e, ",\"choices\":"));
        B(tks__buf_append(&e->head, &e->alloc, e->json.p, e->json.len));
        return TKS_OK;
    }
    return tks__buf_append(&e->json, &e->alloc, e->head.p, e->head.len);
}

/* Starts a one-choice chunk up to the inside of "delta":{ ... with the role first on a
 * choice's first chunk. */
static int oa_open(tks_encoder *e, enc_choice *c, const char *role, size_t role_len,
                   int *need_comma) {
    B(oa_head(e));
    B(put(e, "[{\"index\":"));
    B(put_int(e, c->choice));
    B(put(e, ",\"delta\":{"));
    *need_comma = 0;
    if (!c->role_sent) {
        B(put(e, "\"role\":"));
        B(role ? put_str(e, role, role_len) : put(e, "\"assistant\""));
        *need_comma = 1;
    }
    return TKS_OK;
}

static int oa_close(tks_encoder *e, const char *logprobs, size_t logprobs_len,
                    const char *finish, size_t finish_len) {
    B(put(e, "},\"logprobs\":"));
    B(logprobs ? json_minify(&e->json, &e->alloc, logprobs, logprobs_len) : put(e, "null"));
    B(put(e, ",\"finish_reason\":"));
    B(finish ? put_str(e, finish, finish_len) : put(e, "null"));
    return put(e, "}]}");
}

/* A chunk whose delta holds one string field (content, refusal, reasoning_content), or a
 * tool call's argument fragment when tool >= 0. */
static int oa_build_piece(tks_encoder *e, enc_choice *c, const char *field, int32_t tool,
                          const char *s, size_t n) {
    int comma;
    B(oa_open(e, c, NULL, 0, &comma));
    if (comma) B(put(e, ","));
    if (tool >= 0) {
        B(put(e, "\"tool_calls\":[{\"index\":"));
        B(put_int(e, tool));
        B(put(e, ",\"function\":{\"arguments\":"));
        B(put_str(e, s, n));
        B(put(e, "}}]"));
    } else {
        B(put(e, "\""));
        B(put_s(e, field));
        B(put(e, "\":"));
        B(put_str(e, s, n));
    }
    return oa_close(e, NULL, 0, NULL, 0);
}

static int oa_emit(tks_encoder *e, enc_choice *c) {
    int rc = emit(e, NULL);
    if (rc == TKS_OK || rc == TKS_STOPPED) c->role_sent = 1;
    return rc;
}

static const char *oa_finish_word(const tks_delta *d) {
    switch (d->finish) {
    case TKS_FINISH_STOP: return "stop";
    case TKS_FINISH_LENGTH: return "length";
    case TKS_FINISH_TOOL_CALLS: return "tool_calls";
    case TKS_FINISH_CONTENT_FILTER: return "content_filter";
    case TKS_FINISH_ERROR: return "error";
    default: return NULL; /* OTHER, NONE: the provider's own word, else "stop" */
    }
}

static int oa_usage(tks_encoder *e) {
    int64_t in = e->in_tok >= 0 ? e->in_tok : 0, out = e->out_tok >= 0 ? e->out_tok : 0;
    B(oa_head(e));
    B(put(e, "[],\"usage\":{\"prompt_tokens\":"));
    B(put_int(e, in));
    B(put(e, ",\"completion_tokens\":"));
    B(put_int(e, out));
    B(put(e, ",\"total_tokens\":"));
    B(put_int(e, e->total_tok >= 0 ? e->total_tok : in + out));
    if (e->cached_tok >= 0) {
        B(put(e, ",\"prompt_tokens_details\":{\"cached_tokens\":"));
        B(put_int(e, e->cached_tok));
        B(put(e, "}"));
    }
    if (e->reasoning_tok >= 0) {
        B(put(e, ",\"completion_tokens_details\":{\"reasoning_tokens\":"));
        B(put_int(e, e->reasoning_tok));
        B(put(e, "}"));
    }
    return put(e, "}}");
}

static int oa_end(tks_encoder *e) {
    int rc;
    if (e->have_usage && !(e->flags & TKS_ENCODER_OMIT_USAGE)) {
        if ((rc = oa_usage(e))) return build_fail(e, rc);
        if ((rc = emit(e, NULL))) return rc;
    }
    e->json.len = 0;
    if ((rc = put(e, "[DONE]"))) return build_fail(e, rc);
    e->ended = 1;
    return emit(e, NULL);
}

static int error_payload(tks_encoder *e, const tks_delta *d, int anthropic) {
    e->json.len = 0;
    B(anthropic ? put(e, "{\"type\":\"error\",\"error\":{\"type\":") : put(e, "{\"error\":{\"message\":"));
    if (anthropic) {
        B(d->name_len ? put_str(e, d->name, d->name_len) : put(e, "\"api_error\""));
        B(put(e, ",\"message\":"));
        B(put_str(e, d->text, d->text_len));
        return put(e, "}}");
    }
    B(put_str(e, d->text, d->text_len));
    B(put(e, ",\"type\":"));
    B(d->name_len ? put_str(e, d->name, d->name_len) : put(e, "\"server_error\""));
    B(put(e, ",\"param\":null,\"code\":"));
    B(d->id_len ? put_str(e, d->id, d->id_len) : put(e, "null"));
    return put(e, "}}");
}

/* ---- text pieces: a long text goes out over several chunks ----------------------------- */

/* The longest prefix of s (at most max bytes, at least one character or maximal subpart)
 * that ends on a character boundary, so U+FFFD replacement is the same as for the whole. */
static size_t piece_len(const char *s, size_t n, size_t max) {
    if (n <= max) return n;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        int k = p[i] < 0x80 ? 1 : tks__utf8_char(p + i, n - i);
        size_t step = k > 0 ? (size_t)k : k < 0 ? (size_t)-k : n - i;
        if (i + step > max && i > 0) break;
        i += step;
    }
    return i;
}

typedef int (*piece_fn)(tks_encoder *e, void *ctx, const char *s, size_t n);

static int for_pieces(tks_encoder *e, const char *s, size_t n, piece_fn fn, void *ctx) {
    /* Room for the piece: what the chunk holds besides it is the head (openai-chat) and
     * at most 256 bytes of fixed syntax; escaping at most sextuples a byte. */
    size_t fixed = e->head.len + 256;
    size_t max = e->json.limit > fixed + 6 * 16 ? (e->json.limit - fixed) / 6 : 16;
    size_t i = 0;
    do {
        size_t k = piece_len(s + i, n - i, max);
        int rc = fn(e, ctx, s + i, k);
        if (rc) return rc;
        i += k;
    } while (i < n);
    return TKS_OK;
}

typedef struct oa_piece_ctx {
    enc_choice *c;
    const char *field;
    int32_t tool;
} oa_piece_ctx;

static int oa_piece(tks_encoder *e, void *ctx, const char *s, size_t n) {
    oa_piece_ctx *p = ctx;
    int rc = oa_build_piece(e, p->c, p->field, p->tool, s, n);
    if (rc) return build_fail(e, rc);
    return oa_emit(e, p->c);
}

static int oa_push(tks_encoder *e, const tks_delta *d) {
    enc_choice *c = NULL;
    int rc, comma = 0;
    switch (d->kind) {
    case TKS_DELTA_USAGE:
    case TKS_DELTA_START:
    case TKS_DELTA_SIGNATURE: /* no place in a chat.completion.chunk: dropped */
        return TKS_OK;
    case TKS_DELTA_ERROR:
        /* Not the end: like OpenRouter and vLLM, usage and [DONE] may follow (the SDKs
         * stop reading at the error anyway). */
        if ((rc = error_payload(e, d, 0))) return build_fail(e, rc);
        return emit(e, NULL);
    case TKS_DELTA_DONE:
        return oa_end(e);
    default:
        break;
    }
    if ((rc = choice_find(e, d->choice, &c))) return rc;
    switch (d->kind) {
    case TKS_DELTA_ROLE:
        if (c->role_sent) return TKS_OK;
        if ((rc = oa_open(e, c, d->text_len ? d->text : NULL, d->text_len, &comma)) ||
            (rc = put(e, ",\"content\":\"\"")) || (rc = oa_close(e, NULL, 0, NULL, 0)))
            return build_fail(e, rc);
        return oa_emit(e, c);
    case TKS_DELTA_TEXT:
    case TKS_DELTA_REASONING:
    case TKS_DELTA_REFUSAL: {
        if (d->text_len == 0) return TKS_OK;
        if ((rc = oa_head(e))) return build_fail(e, rc); /* its size sets the piece size */
        oa_piece_ctx p = {c, d->kind == TKS_DELTA_TEXT        ? "content"
                             : d->kind == TKS_DELTA_REFUSAL ? "refusal"
                                                            : "reasoning_content",
                          -1};
        return for_pieces(e, d->text, d->text_len, oa_piece, &p);
    }
    case TKS_DELTA_TOOL_CALL:
        if (tool_find(e, d->choice, d->index)) return TKS_OK; /* a repeated start adds nothing */
        if (d->index < 0) return fail(e, TKS_EINVAL, "negative tool call index");
        if ((rc = tool_add(e, d->choice, d->index, -1))) return rc;
        if ((rc = oa_open(e, c, NULL, 0, &comma)) ||
            (rc = comma ? put(e, ",\"tool_calls\":[{\"index\":") : put(e, "\"tool_calls\":[{\"index\":")) ||
            (rc = put_int(e, d->index)) || (rc = put(e, ",\"id\":")) ||
            (rc = put_str(e, d->id, d->id_len)) ||
            (rc = put(e, ",\"type\":\"function\",\"function\":{\"name\":")) ||
            (rc = put_str(e, d->name, d->name_len)) ||
            (rc = put(e, ",\"arguments\":\"\"}}]")) || (rc = oa_close(e, NULL, 0, NULL, 0)))
            return build_fail(e, rc);
        return oa_emit(e, c);
    case TKS_DELTA_TOOL_ARGS: {
        enc_tool *t = tool_find(e, d->choice, d->index);
        if (!t) return fail_no_call(e, d);
        if (d->text_len == 0 || (t->args_sent && (d->flags & TKS_DELTA_WHOLE))) return TKS_OK;
        t->args_sent = 1;
        if ((rc = oa_head(e))) return build_fail(e, rc);
        oa_piece_ctx p = {c, NULL, d->index};
        return for_pieces(e, d->text, d->text_len, oa_piece, &p);
    }
    case TKS_DELTA_LOGPROBS:
        if (!d->json_len || !json_valid(d->json, d->json_len))
            return fail(e, TKS_EJSON, "logprobs delta: json is not one valid JSON value");
        if ((rc = oa_open(e, c, NULL, 0, &comma)) ||
            (rc = oa_close(e, d->json, d->json_len, NULL, 0)))
            return build_fail(e, rc);
        return oa_emit(e, c);
    case TKS_DELTA_FINISH: {
        const char *w = oa_finish_word(d);
        size_t wn = w ? strlen(w) : d->text_len;
        if (!w) w = d->text_len ? d->text : (wn = 4, "stop");
        if ((rc = oa_open(e, c, NULL, 0, &comma)) || (rc = oa_close(e, NULL, 0, w, wn)))
            return build_fail(e, rc);
        return oa_emit(e, c);
    }
    default:
        return TKS_OK;
    }
}

/* ---- anthropic ---------------------------------------------------------------------- */

static int an_emit(tks_encoder *e, const char *type) { return emit(e, type); }

static int an_message_start(tks_encoder *e) {
    if (e->started) return TKS_OK;
    const char *s;
    size_t n;
    int rc;
    e->json.len = 0;
    cur_id(e, &s, &n);
    if ((rc = put(e, "{\"type\":\"message_start\",\"message\":{\"id\":")) ||
        (rc = put_str(e, s, n)) ||
        (rc = put(e, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":")))
        return build_fail(e, rc);
    cur_model(e, &s, &n);
    if ((rc = put_str(e, s, n)) ||
        (rc = put(e, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
                     "\"usage\":{\"input_tokens\":")) ||
        (rc = put_int(e, e->in_tok >= 0 ? e->in_tok : 0)))
        return build_fail(e, rc);
    if (e->cached_tok >= 0 &&
        ((rc = put(e, ",\"cache_read_input_tokens\":")) || (rc = put_int(e, e->cached_tok))))
        return build_fail(e, rc);
    if ((rc = put(e, ",\"output_tokens\":")) ||
        (rc = put_int(e, e->out_tok >= 0 ? e->out_tok : 0)) || (rc = put(e, "}}}")))
        return build_fail(e, rc);
    return an_emit(e, "message_start");
}

static int an_close_block(tks_encoder *e) {
    if (e->blk == BLK_NONE) return TKS_OK;
    int rc;
    e->json.len = 0;
    if ((rc = put(e, "{\"type\":\"content_block_stop\",\"index\":")) ||
        (rc = put_int(e, e->blk_index)) || (rc = put(e, "}")))
        return build_fail(e, rc);
    e->blk = BLK_NONE;
    return an_emit(e, "content_block_stop");
}

/* Closes the open block and starts a new one of the kind (a tool_use block takes the
 * call's id and name from d). */
static int an_open_block(tks_encoder *e, int kind, const tks_delta *d) {
    int rc;
    if ((rc = an_close_block(e))) return rc;
    if (e->n_blocks == INT32_MAX) return fail(e, TKS_ELIMIT, "too many content blocks");
    int32_t idx = e->n_blocks;
    e->json.len = 0;
    if ((rc = put(e, "{\"type\":\"content_block_start\",\"index\":")) || (rc = put_int(e, idx)) ||
        (rc = put(e, ",\"content_block\":")))
        return build_fail(e, rc);
    if (kind == BLK_TEXT) rc = put(e, "{\"type\":\"text\",\"text\":\"\"}}");
    else if (kind == BLK_THINKING) rc = put(e, "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}");
    else {
        if ((rc = put(e, "{\"type\":\"tool_use\",\"id\":")) || (rc = put_str(e, d->id, d->id_len)) ||
            (rc = put(e, ",\"name\":")) || (rc = put_str(e, d->name, d->name_len)))
            return build_fail(e, rc);
        rc = put(e, ",\"input\":{}}}");
    }
    if (rc) return build_fail(e, rc);
    if (kind == BLK_TOOL && (rc = tool_add(e, 0, d->index, idx))) return rc;
    e->n_blocks++;
    e->blk = kind;
    e->blk_index = idx;
    e->blk_tool = kind == BLK_TOOL ? d->index : -1;
    e->blk_signed = 0;
    return an_emit(e, "content_block_start");
}

typedef struct an_piece_ctx {
    int32_t block;
    const char *type;  /* delta type */
    const char *field; /* its string field */
} an_piece_ctx;

static int an_piece(tks_encoder *e, void *ctx, const char *s, size_t n) {
    an_piece_ctx *p = ctx;
    int rc;
    e->json.len = 0;
    if ((rc = put(e, "{\"type\":\"content_block_delta\",\"index\":")) ||
        (rc = put_int(e, p->block)) || (rc = put(e, ",\"delta\":{\"type\":\"")) ||
        (rc = put_s(e, p->type)) || (rc = put(e, "\",\"")) || (rc = put_s(e, p->field)) ||
        (rc = put(e, "\":")) || (rc = put_str(e, s, n)) || (rc = put(e, "}}")))
        return build_fail(e, rc);
    return an_emit(e, "content_block_delta");
}

/* The stop_reason for a FINISH delta: a static word, or "" meaning the provider's own
 * (copied into stop_raw); NULL when that copy failed (*rc says why). */
static const char *an_stop_word(tks_encoder *e, const tks_delta *d, int *rc) {
    static const char *const words[] = {"end_turn", "max_tokens", "stop_sequence", "tool_use",
                                        "pause_turn", "refusal", "model_context_window_exceeded"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (d->text_len == strlen(words[i]) && memcmp(d->text, words[i], d->text_len) == 0)
            return words[i]; /* the provider's own Anthropic word, kept */
    switch (d->finish) {
    case TKS_FINISH_STOP: return "end_turn";
    case TKS_FINISH_LENGTH: return "max_tokens";
    case TKS_FINISH_TOOL_CALLS: return "tool_use";
    case TKS_FINISH_CONTENT_FILTER: return "refusal";
    default: break;
    }
    if (d->text_len) {
        e->stop_raw.len = 0;
        *rc = tks__buf_append(&e->stop_raw, &e->alloc, d->text, d->text_len);
        return *rc ? NULL : "";
    }
    return "end_turn";
}

static int an_end(tks_encoder *e) {
    int rc;
    if ((rc = an_message_start(e)) || (rc = an_close_block(e))) return rc;
    e->json.len = 0;
    if ((rc = put(e, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":")))
        return build_fail(e, rc);
    if (!e->stop_reason) rc = put(e, "null");
    else if (*e->stop_reason) rc = put_str(e, e->stop_reason, strlen(e->stop_reason));
    else rc = put_str(e, e->stop_raw.p, e->stop_raw.len);
    if (rc || (rc = put(e, ",\"stop_sequence\":null},\"usage\":{")))
        return build_fail(e, rc);
    if (e->in_tok >= 0 &&
        ((rc = put(e, "\"input_tokens\":")) || (rc = put_int(e, e->in_tok)) || (rc = put(e, ","))))
        return build_fail(e, rc);
    if (e->cached_tok >= 0 &&
        ((rc = put(e, "\"cache_read_input_tokens\":")) || (rc = put_int(e, e->cached_tok)) ||
         (rc = put(e, ","))))
        return build_fail(e, rc);
    if ((rc = put(e, "\"output_tokens\":")) ||
        (rc = put_int(e, e->out_tok >= 0 ? e->out_tok : 0)) || (rc = put(e, "}}")))
        return build_fail(e, rc);
    if ((rc = an_emit(e, "message_delta"))) return rc;
    e->json.len = 0;
    if ((rc = put(e, "{\"type\":\"message_stop\"}"))) return build_fail(e, rc);
    e->ended = 1;
    return an_emit(e, "message_stop");
}

static int an_push(tks_encoder *e, const tks_delta *d) {
    int rc;
    if (d->choice != 0)
        return fail(e, TKS_EUNSUPPORTED, "anthropic streams have one choice: delta for choice > 0");
    switch (d->kind) {
    case TKS_DELTA_USAGE:
    case TKS_DELTA_LOGPROBS: /* no place in the anthropic events: dropped */
        return TKS_OK;
    case TKS_DELTA_START:
    case TKS_DELTA_ROLE:
        return an_message_start(e);
    case TKS_DELTA_ERROR:
        if ((rc = error_payload(e, d, 1))) return build_fail(e, rc);
        e->ended = 1;
        return an_emit(e, "error");
    case TKS_DELTA_DONE:
        return an_end(e);
    case TKS_DELTA_FINISH: {
        const char *w = an_stop_word(e, d, &rc);
        if (!w) return fail(e, rc, rc == TKS_ELIMIT ? "FINISH delta: reason too long" : NULL);
        e->stop_reason = w;
        if ((rc = an_message_start(e))) return rc;
        return an_close_block(e);
    }
    case TKS_DELTA_TEXT:
    case TKS_DELTA_REFUSAL: /* Anthropic has no refusal text: it is the message text */
    case TKS_DELTA_REASONING: {
        if (d->text_len == 0) return an_message_start(e);
        int kind = d->kind == TKS_DELTA_REASONING ? BLK_THINKING : BLK_TEXT;
        if ((rc = an_message_start(e))) return rc;
        if ((e->blk != kind || (kind == BLK_THINKING && e->blk_signed)) &&
            (rc = an_open_block(e, kind, d)))
            return rc;
        an_piece_ctx p = {e->blk_index, kind == BLK_TEXT ? "text_delta" : "thinking_delta",
                          kind == BLK_TEXT ? "text" : "thinking"};
        return for_pieces(e, d->text, d->text_len, an_piece, &p);
    }
    case TKS_DELTA_SIGNATURE: {
        if ((rc = an_message_start(e))) return rc;
        if ((e->blk != BLK_THINKING || e->blk_signed) && (rc = an_open_block(e, BLK_THINKING, d)))
            return rc;
        an_piece_ctx p = {e->blk_index, "signature_delta", "signature"};
        /* one piece: the SDKs keep the last signature_delta, they do not join them */
        if ((rc = an_piece(e, &p, d->text, d->text_len))) return rc;
        e->blk_signed = 1;
        return TKS_OK;
    }
    case TKS_DELTA_TOOL_CALL:
        if (tool_find(e, 0, d->index)) return TKS_OK;
        if (d->index < 0) return fail(e, TKS_EINVAL, "negative tool call index");
        if ((rc = an_message_start(e))) return rc;
        return an_open_block(e, BLK_TOOL, d);
    case TKS_DELTA_TOOL_ARGS: {
        enc_tool *t = tool_find(e, 0, d->index);
        if (!t) return fail_no_call(e, d);
        if (d->text_len == 0 || (t->args_sent && (d->flags & TKS_DELTA_WHOLE))) return TKS_OK;
        t->args_sent = 1;
        /* A call whose block was closed keeps its block index (clients join by index). */
        an_piece_ctx p = {t->block, "input_json_delta", "partial_json"};
        return for_pieces(e, d->text, d->text_len, an_piece, &p);
    }
    default:
        return TKS_OK;
    }
}

/* ---- public ------------------------------------------------------------------------- */

static void stream_clear(tks_encoder *e) {
    e->n_deltas = 0;
    e->json.len = 0;
    e->head.len = 0;
    e->id.len = 0;
    e->model.len = 0;
    e->have_start_id = e->have_start_model = 0;
    e->started = e->ended = 0;
    e->in_tok = e->out_tok = e->total_tok = e->reasoning_tok = e->cached_tok = -1;
    e->have_usage = 0;
    e->n_choices = e->n_tools = 0;
    e->blk = BLK_NONE;
    e->blk_index = e->blk_tool = -1;
    e->blk_signed = 0;
    e->n_blocks = 0;
    e->stop_reason = NULL;
    e->stop_raw.len = 0;
    e->stopped = 0;
    tks__err_clear(&e->err);
}

int tks_encoder_new(tks_encoder **out, const tks_encoder_config *cfg, tks_bytes_cb on_bytes,
                    void *user) {
    static const tks_encoder_config defaults;
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!cfg) cfg = &defaults;
    if (!on_bytes) return TKS_EINVAL;
    int dialect = cfg->dialect ? cfg->dialect : TKS_DIALECT_OPENAI_CHAT;
    if (dialect < TKS_DIALECT_AUTO || dialect > TKS_DIALECT_BEDROCK) return TKS_EINVAL;
    if (dialect != TKS_DIALECT_OPENAI_CHAT && dialect != TKS_DIALECT_ANTHROPIC)
        return TKS_EUNSUPPORTED;

    tks_encoder *e;
    int rc = tks__object_new((void **)&e, sizeof *e, cfg->alloc, offsetof(tks_encoder, alloc));
    if (rc) return rc;
    e->on_bytes = on_bytes;
    e->user = user;
    e->dialect = dialect;
    e->flags = cfg->flags;
    e->created = cfg->created;
    e->max_items = TKS_OR(cfg->max_items, ENC_DEFAULT_MAX_ITEMS);
    e->json.limit = e->head.limit = TKS_OR(cfg->max_chunk, ENC_DEFAULT_MAX_CHUNK);
    e->id.limit = e->model.limit = ENC_MAX_NAME;
    e->stop_raw.limit = 4 * TKS_KIB;

    size_t seed_len = 0;
    char seed[40];
    make_seed_id(seed, dialect == TKS_DIALECT_ANTHROPIC ? "msg_" : "chatcmpl-",
                 cfg->id_seed ? cfg->id_seed : "");
    rc = TKS_ENOMEM;
    if ((cfg->model && !(e->cfg_model = dup_cstr(&e->alloc, cfg->model, &e->cfg_model_len))) ||
        (cfg->id && !(e->cfg_id = dup_cstr(&e->alloc, cfg->id, &e->cfg_id_len))) ||
        !(e->seed_id = dup_cstr(&e->alloc, seed, &seed_len)))
        goto fail;
    tks_sse_writer_config wc;
    memset(&wc, 0, sizeof wc);
    wc.alloc = &e->alloc;
    if ((rc = tks_sse_writer_new(&e->writer, &wc, writer_sink, e))) goto fail;
    stream_clear(e);
    *out = e;
    return TKS_OK;
fail:
    tks_encoder_free(e);
    return rc;
}

int tks_encoder_push(tks_encoder *e, const tks_delta *d) {
    if (!e) return TKS_EINVAL;
    if (e->err.code) return e->err.code;
    if (e->stopped) return TKS_STOPPED;
    if (!d || (d->text_len && !d->text) || (d->id_len && !d->id) || (d->name_len && !d->name) ||
        (d->json_len && !d->json))
        return fail(e, TKS_EINVAL, "NULL delta or string");
    int rc = TKS_OK;
    if (d->kind < TKS_DELTA_START || d->kind > TKS_DELTA_DONE) {
        e->n_deltas++; /* a kind this version does not know (as the assembler): skipped */
        return TKS_OK;
    }
    if (d->kind == TKS_DELTA_USAGE) {
        /* totals, not increments: a later known count replaces an earlier one */
        if (d->input_tokens >= 0) e->in_tok = d->input_tokens;
        if (d->output_tokens >= 0) e->out_tok = d->output_tokens;
        if (d->total_tokens >= 0) e->total_tok = d->total_tokens;
        if (d->reasoning_tokens >= 0) e->reasoning_tok = d->reasoning_tokens;
        if (d->cached_tokens >= 0) e->cached_tok = d->cached_tokens;
        e->have_usage = 1;
    } else if (d->kind == TKS_DELTA_START && !e->started) {
        if (d->id_len) {
            e->id.len = 0;
            if ((rc = tks__buf_append(&e->id, &e->alloc, d->id, d->id_len)))
                return fail(e, rc, rc == TKS_ELIMIT ? "START delta: id too long" : NULL);
            e->have_start_id = 1;
        }
        if (d->name_len) {
            e->model.len = 0;
            if ((rc = tks__buf_append(&e->model, &e->alloc, d->name, d->name_len)))
                return fail(e, rc, rc == TKS_ELIMIT ? "START delta: model too long" : NULL);
            e->have_start_model = 1;
        }
    }
    if (e->ended) {
        /* After [DONE], message_stop or an error event nothing more can be written: late
         * bookkeeping deltas are accepted and dropped, content is an error. */
        switch (d->kind) {
        case TKS_DELTA_TEXT:
        case TKS_DELTA_REASONING:
        case TKS_DELTA_SIGNATURE:
        case TKS_DELTA_REFUSAL:
        case TKS_DELTA_TOOL_CALL:
        case TKS_DELTA_TOOL_ARGS:
            return fail(e, TKS_ESTATE, "content delta after the stream ended");
        default:
            e->n_deltas++;
            return TKS_OK;
        }
    }
    rc = e->dialect == TKS_DIALECT_ANTHROPIC ? an_push(e, d) : oa_push(e, d);
    if (rc == TKS_OK) e->n_deltas++;
    return rc;
}

int tks_encoder_finish(tks_encoder *e) {
    if (!e) return TKS_EINVAL;
    if (e->err.code) return e->err.code;
    if (e->stopped) return TKS_STOPPED;
    if (e->ended) return TKS_OK;
    return e->dialect == TKS_DIALECT_ANTHROPIC ? an_end(e) : oa_end(e);
}

void tks_encoder_reset(tks_encoder *e) {
    if (!e) return;
    tks_sse_writer_reset(e->writer);
    stream_clear(e);
}

void tks_encoder_free(tks_encoder *e) {
    if (!e) return;
    tks_alloc a = e->alloc;
    tks_sse_writer_free(e->writer);
    tks__buf_free(&e->json, &a);
    tks__buf_free(&e->head, &a);
    tks__buf_free(&e->id, &a);
    tks__buf_free(&e->model, &a);
    tks__buf_free(&e->stop_raw, &a);
    tks__free(&a, e->choices, e->cap_choices * sizeof *e->choices);
    tks__free(&a, e->tools, e->cap_tools * sizeof *e->tools);
    free_cstr(&a, e->cfg_model, e->cfg_model_len);
    free_cstr(&a, e->cfg_id, e->cfg_id_len);
    if (e->seed_id) free_cstr(&a, e->seed_id, strlen(e->seed_id));
    tks__free(&a, e, sizeof *e);
}

const char *tks_encoder_error(const tks_encoder *e) { return e ? tks__err_text(&e->err) : ""; }

uint64_t tks_encoder_offset(const tks_encoder *e) { return e ? e->err.offset : 0; }
