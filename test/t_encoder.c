/* t_encoder.c - tks_encoder: hand-checked golden encodings of every delta kind in both
 * dialects, JSON validity of every payload for thousands of random strings (control
 * characters, NUL, quotes, U+2028/9, emoji, invalid bytes), the decoder round trip
 * (random deltas -> encoder -> SSE -> parser + decoder + assembler -> the same message),
 * real fixtures re-encoded, splitting of long text, errors, OOM torture, stop, reset. */
#define _POSIX_C_SOURCE 200809L
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output sink ------------------------------------------------------------------- */

typedef struct sink {
    char *p;
    size_t n, cap;
    long calls;
    long stop_at; /* 1-based call that answers "stop"; 0 = never */
} sink;

static void sink_add(sink *s, const void *b, size_t len) {
    if (s->n + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + len + 1) cap *= 2;
        s->p = realloc(s->p, cap);
        if (!s->p) abort();
        s->cap = cap;
    }
    if (len) memcpy(s->p + s->n, b, len);
    s->n += len;
    s->p[s->n] = 0;
}

static int sink_cb(void *user, const char *bytes, size_t len) {
    sink *s = user;
    s->calls++;
    sink_add(s, bytes, len);
    return s->stop_at && s->calls == s->stop_at;
}

static void sink_clear(sink *s) {
    s->n = 0;
    s->calls = 0;
    if (s->p) s->p[0] = 0;
}

static void sink_free(sink *s) {
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* ---- reading back our own output: events and payloads ------------------------------ */

typedef struct sse_ev {
    char type[64];
    const char *data;
    size_t data_len;
} sse_ev;

/* Splits the output (blank-line separated events of "event: T" and one "data: D" line,
 * the only shapes the encoder writes) into at most max events; -1 on any other shape. */
static int split_events(const char *p, size_t n, sse_ev *ev, int max) {
    size_t i = 0;
    int k = 0;
    while (i < n) {
        if (k == max) return -1;
        sse_ev *e = &ev[k];
        e->type[0] = 0;
        e->data = NULL;
        if (n - i > 7 && memcmp(p + i, "event: ", 7) == 0) {
            const char *nl = memchr(p + i, '\n', n - i);
            if (!nl || (size_t)(nl - (p + i + 7)) >= sizeof e->type) return -1;
            memcpy(e->type, p + i + 7, (size_t)(nl - (p + i + 7)));
            e->type[nl - (p + i + 7)] = 0;
            i = (size_t)(nl - p) + 1;
        }
        if (n - i < 6 || memcmp(p + i, "data: ", 6) != 0) return -1;
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl || nl + 1 >= p + n || nl[1] != '\n') return -1;
        e->data = p + i + 6;
        e->data_len = (size_t)(nl - e->data);
        if (memchr(e->data, '\r', e->data_len)) return -1;
        i = (size_t)(nl - p) + 2;
        k++;
    }
    return k;
}

#define MAX_EV 20000
static sse_ev evs[MAX_EV];

/* Parses every payload but [DONE] with cJSON; returns the number that are not one valid
 * JSON text (or -1 when the framing itself is wrong). */
static int bad_payloads(const sink *s) {
    int n = split_events(s->p, s->n, evs, MAX_EV);
    if (n < 0) return -1;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data_len == 6 && memcmp(evs[i].data, "[DONE]", 6) == 0) continue;
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(evs[i].data, evs[i].data_len, &end, 0);
        if (!j || end != evs[i].data + evs[i].data_len) {
            if (bad < 3) diag_bytes("invalid payload", evs[i].data, evs[i].data_len);
            bad++;
        }
        cJSON_Delete(j);
    }
    return bad;
}

/* Joins, with cJSON, the content strings (openai: choices[].delta.<field>; anthropic:
 * content_block_delta delta.<field>) into out; cJSON strings end at a NUL, so callers
 * only use this for text without NUL. Returns the number of payloads it could not read. */
static int join_field(const sink *s, int anthropic, const char *field, sink *out) {
    int n = split_events(s->p, s->n, evs, MAX_EV), bad = 0;
    sink_clear(out);
    if (n < 0) return 1;
    for (int i = 0; i < n; i++) {
        if (evs[i].data_len == 6 && memcmp(evs[i].data, "[DONE]", 6) == 0) continue;
        cJSON *j = cJSON_ParseWithLength(evs[i].data, evs[i].data_len);
        if (!j) {
            bad++;
            continue;
        }
        const cJSON *v = NULL;
        if (anthropic) {
            v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "delta"), field);
        } else {
            const cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "choices")) {
                v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "delta"),
                                                     field);
            }
        }
        if (cJSON_IsString(v)) sink_add(out, v->valuestring, strlen(v->valuestring));
        cJSON_Delete(j);
    }
    return bad;
}

/* ---- the JSON-lines delta format (as `tokstream encode` reads it) ---------------------- */

typedef struct deltas {
    tks_delta d[256];
    int n;
    cJSON *trees[256];
    char *owned[256];
} deltas;

static const char *jstr(const cJSON *o, const char *k, size_t *len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v)) {
        *len = 0;
        return NULL;
    }
    *len = strlen(v->valuestring);
    return v->valuestring;
}

static int64_t jint(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static int load_deltas(const char *name, deltas *ds) {
    char path[512];
    snprintf(path, sizeof path, "%s/encoder/%s.jsonl", test_data_dir(), name);
    size_t len;
    char *text = read_file(path, &len);
    memset(ds, 0, sizeof *ds);
    if (!text) return -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        if (!o || ds->n == 256) {
            free(text);
            return -1;
        }
        tks_delta *d = &ds->d[ds->n];
        ds->trees[ds->n] = o;
        memset(d, 0, sizeof *d);
        d->input_tokens = d->output_tokens = d->total_tokens = d->reasoning_tokens =
            d->cached_tokens = -1;
        d->choice = jint(o, "choice") > 0 ? (int32_t)jint(o, "choice") : 0;
        const cJSON *v;
        if ((v = cJSON_GetObjectItemCaseSensitive(o, "text"))) {
            d->kind = TKS_DELTA_TEXT;
            d->text = jstr(o, "text", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "reasoning"))) {
            d->kind = TKS_DELTA_REASONING;
            d->text = jstr(o, "reasoning", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "signature"))) {
            d->kind = TKS_DELTA_SIGNATURE;
            d->text = jstr(o, "signature", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "refusal"))) {
            d->kind = TKS_DELTA_REFUSAL;
            d->text = jstr(o, "refusal", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "role"))) {
            d->kind = TKS_DELTA_ROLE;
            d->text = jstr(o, "role", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "start"))) {
            d->kind = TKS_DELTA_START;
            d->id = jstr(v, "id", &d->id_len);
            d->name = jstr(v, "model", &d->name_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "tool_call"))) {
            d->kind = TKS_DELTA_TOOL_CALL;
            d->index = (int32_t)jint(v, "index");
            d->id = jstr(v, "id", &d->id_len);
            d->name = jstr(v, "name", &d->name_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "tool_args"))) {
            d->kind = TKS_DELTA_TOOL_ARGS;
            d->index = (int32_t)jint(v, "index");
            d->text = jstr(v, "text", &d->text_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "logprobs"))) {
            d->kind = TKS_DELTA_LOGPROBS;
            ds->owned[ds->n] = cJSON_PrintUnformatted(v);
            d->json = ds->owned[ds->n];
            d->json_len = strlen(d->json);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "finish"))) {
            static const char *w[] = {"stop", "length", "tool_calls", "content_filter", "error"};
            d->kind = TKS_DELTA_FINISH;
            d->finish = TKS_FINISH_OTHER;
            for (int i = 0; i < 5; i++)
                if (!strcmp(v->valuestring, w[i])) d->finish = TKS_FINISH_STOP + i;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "usage"))) {
            d->kind = TKS_DELTA_USAGE;
            d->input_tokens = jint(v, "input_tokens");
            d->output_tokens = jint(v, "output_tokens");
            d->total_tokens = jint(v, "total_tokens");
            d->reasoning_tokens = jint(v, "reasoning_tokens");
            d->cached_tokens = jint(v, "cached_tokens");
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "error"))) {
            d->kind = TKS_DELTA_ERROR;
            d->text = jstr(v, "message", &d->text_len);
            d->name = jstr(v, "type", &d->name_len);
            d->id = jstr(v, "code", &d->id_len);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(o, "done"))) {
            d->kind = TKS_DELTA_DONE;
        } else {
            free(text);
            return -1;
        }
        ds->n++;
    }
    free(text);
    return 0;
}

static void free_deltas(deltas *ds) {
    for (int i = 0; i < ds->n; i++) {
        cJSON_Delete(ds->trees[i]);
        cJSON_free(ds->owned[i]);
    }
}

static char *load_expected(const char *name, const char *dialect, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/encoder/%s.%s.sse", test_data_dir(), name, dialect);
    return read_file(path, len);
}

static tks_encoder_config golden_cfg(int dialect, const tks_alloc *a) {
    tks_encoder_config c;
    memset(&c, 0, sizeof c);
    c.alloc = a;
    c.dialect = dialect;
    c.id = "id-1";
    c.model = "m-1";
    c.created = 1700000000;
    return c;
}

/* Encodes a delta list then finishes; returns the first status other than TKS_OK and
 * the position it came at (n for finish). */
static int encode_list(tks_encoder *e, const tks_delta *d, int n, int *at) {
    for (int i = 0; i < n; i++) {
        int rc = tks_encoder_push(e, &d[i]);
        if (rc) {
            if (at) *at = i;
            return rc;
        }
    }
    if (at) *at = n;
    return tks_encoder_finish(e);
}

static const char *const golden_names[] = {"basic", "kinds", "error", "choices", "refusal",
                                           "escapes"};
#define N_GOLDEN (int)(sizeof golden_names / sizeof golden_names[0])

static void test_golden(void) {
    for (int g = 0; g < N_GOLDEN; g++) {
        deltas ds;
        if (load_deltas(golden_names[g], &ds)) {
            ok(0, "load %s.jsonl", golden_names[g]);
            continue;
        }
        for (int an = 0; an <= 1; an++) {
            const char *dn = an ? "anthropic" : "openai-chat";
            tks_encoder_config cfg = golden_cfg(an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, NULL);
            tks_encoder *e;
            sink s = {0};
            is_int(tks_encoder_new(&e, &cfg, sink_cb, &s), TKS_OK, "new %s", dn);
            int at;
            int rc = encode_list(e, ds.d, ds.n, &at);
            if (an && !strcmp(golden_names[g], "choices")) {
                /* Anthropic has one choice: the second delta (choice 1) is refused. */
                is_int(rc, TKS_EUNSUPPORTED, "%s/%s: choice 1 refused", golden_names[g], dn);
                is_int(at, 1, "%s/%s: at the second delta", golden_names[g], dn);
                is_int(tks_encoder_offset(e), 1, "%s/%s: offset = deltas accepted", golden_names[g], dn);
                ok(strstr(tks_encoder_error(e), "choice") != NULL, "%s/%s: error says why: %s",
                   golden_names[g], dn, tks_encoder_error(e));
            } else {
                size_t wl;
                char *want = load_expected(golden_names[g], dn, &wl);
                is_int(rc, TKS_OK, "%s/%s: encodes", golden_names[g], dn);
                ok(want != NULL, "%s/%s: expected file", golden_names[g], dn);
                if (want) is_mem(s.p, s.n, want, wl, "%s/%s: the hand-written stream", golden_names[g], dn);
                is_int(bad_payloads(&s), 0, "%s/%s: every payload is JSON", golden_names[g], dn);
                free(want);
            }
            tks_encoder_free(e);
            sink_free(&s);
        }
        free_deltas(&ds);
    }
}

/* ---- OOM torture, stop, reset ------------------------------------------------------- */

typedef struct oom_ctx {
    deltas *ds;
    int dialect;
    const char *want;
    size_t want_len;
} oom_ctx;

static int oom_body(const tks_alloc *a, void *vctx) {
    oom_ctx *c = vctx;
    tks_encoder_config cfg = golden_cfg(c->dialect, a);
    tks_encoder *e;
    sink s = {0};
    int rc = tks_encoder_new(&e, &cfg, sink_cb, &s);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    rc = encode_list(e, c->ds->d, c->ds->n, NULL);
    int r;
    if (rc == TKS_ENOMEM) {
        /* sticky, and the object works again after reset */
        r = tks_encoder_push(e, &c->ds->d[0]) == TKS_ENOMEM ? 1 : 2;
        tks_encoder_reset(e);
    } else {
        r = rc == TKS_OK && s.n == c->want_len && memcmp(s.p, c->want, s.n) == 0 ? 0 : 2;
    }
    tks_encoder_free(e);
    sink_free(&s);
    return r;
}

/* A stream that reaches every allocation: START adoption (id, model), 3 choices, 9 tool
 * calls (the arrays grow), a provider's own finish word (kept), long text. Its answer is
 * the output of a run without faults (whose pieces the other tests check by hand). */
static tks_delta wide[64];
static int n_wide;
static char wide_text[3000];

static void make_wide(void) {
    memset(wide_text, 'x', sizeof wide_text);
    n_wide = 0;
    wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_START, .id = "start-id", .id_len = 8,
                                 .name = "start-model", .name_len = 11};
    for (int c = 0; c < 3; c++)
        wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_TEXT, .choice = c, .text = wide_text,
                                     .text_len = sizeof wide_text};
    for (int t = 0; t < 9; t++) {
        wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_TOOL_CALL, .index = t, .id = "id", .id_len = 2,
                                     .name = "fn", .name_len = 2};
        wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_TOOL_ARGS, .index = t, .text = "{}", .text_len = 2};
    }
    wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_FINISH, .finish = TKS_FINISH_OTHER, .text = "pause_turn",
                                 .text_len = 10};
    wide[n_wide++] = (tks_delta){.kind = TKS_DELTA_USAGE, .input_tokens = 1, .output_tokens = 2,
                                 .total_tokens = -1, .reasoning_tokens = 4, .cached_tokens = 5};
}

typedef struct wide_ctx {
    int dialect;
    sink want;
} wide_ctx;

static int wide_body(const tks_alloc *a, void *vctx) {
    wide_ctx *c = vctx;
    tks_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = a;
    cfg.dialect = c->dialect;
    cfg.max_chunk = 1024;
    tks_encoder *e;
    sink s = {0};
    int rc = tks_encoder_new(&e, &cfg, sink_cb, &s);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    /* anthropic has one choice: only choice 0's deltas */
    int r = 0;
    for (int i = 0; i < n_wide && rc == TKS_OK; i++)
        if (c->dialect != TKS_DIALECT_ANTHROPIC || wide[i].choice == 0) rc = tks_encoder_push(e, &wide[i]);
    if (rc == TKS_OK) rc = tks_encoder_finish(e);
    if (rc == TKS_ENOMEM) r = 1;
    else if (rc != TKS_OK) r = 2;
    else if (c->want.p && (s.n != c->want.n || memcmp(s.p, c->want.p, s.n) != 0)) r = 2;
    else if (!c->want.p) sink_add(&c->want, s.p, s.n);
    tks_encoder_free(e);
    sink_free(&s);
    return r;
}

static void test_oom_wide(void) {
    make_wide();
    for (int an = 0; an <= 1; an++) {
        wide_ctx c = {an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, {0}};
        is_int(wide_body(NULL, &c), 0, "wide stream encodes");
        ok(c.want.n > 3 * 3000 && bad_payloads(&c.want) == 0, "wide stream: %zu bytes of valid payloads",
           c.want.n);
        oom_torture(an ? "wide/anthropic" : "wide/openai-chat", wide_body, &c);
        sink_free(&c.want);
    }
}

static void test_oom_stop_reset(void) {
    deltas ds;
    if (load_deltas("kinds", &ds)) {
        ok(0, "load kinds.jsonl");
        return;
    }
    for (int an = 0; an <= 1; an++) {
        const char *dn = an ? "anthropic" : "openai-chat";
        int dialect = an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT;
        size_t wl;
        char *want = load_expected("kinds", dn, &wl);
        if (!want) {
            ok(0, "kinds.%s.sse", dn);
            continue;
        }
        oom_ctx c = {&ds, dialect, want, wl};
        char label[64];
        snprintf(label, sizeof label, "kinds/%s", dn);
        oom_torture(label, oom_body, &c);

        /* Stop at every callback call: TKS_STOPPED at once, sticky, output a prefix, and
         * after reset the whole stream again. */
        int bad = 0;
        long k;
        for (k = 1; k < 10000; k++) {
            tks_encoder_config cfg = golden_cfg(dialect, NULL);
            tks_encoder *e;
            sink s = {0};
            s.stop_at = k;
            if (tks_encoder_new(&e, &cfg, sink_cb, &s)) {
                bad++;
                break;
            }
            int rc = encode_list(e, ds.d, ds.n, NULL);
            if (s.calls < k) { /* never stopped: every call point was tried */
                bad += rc != TKS_OK;
                tks_encoder_free(e);
                sink_free(&s);
                break;
            }
            if (rc != TKS_STOPPED || s.calls != k || s.n > wl || memcmp(s.p, want, s.n) != 0 ||
                tks_encoder_push(e, &ds.d[0]) != TKS_STOPPED ||
                tks_encoder_finish(e) != TKS_STOPPED || s.calls != k)
                bad++;
            tks_encoder_reset(e);
            sink_clear(&s);
            s.stop_at = 0;
            rc = encode_list(e, ds.d, ds.n, NULL);
            if (rc != TKS_OK || s.n != wl || memcmp(s.p, want, wl) != 0) bad++;
            tks_encoder_free(e);
            sink_free(&s);
        }
        ok(bad == 0 && k > 5, "%s: stop at each of %ld callback calls, then reset", dn, k - 1);

        /* A warm encoder allocates nothing: the second stream after reset. */
        {
            talloc t;
            tks_alloc ta = talloc_make(&t);
            tks_encoder_config wc = golden_cfg(dialect, &ta);
            tks_encoder *we;
            sink ws = {0};
            tks_encoder_new(&we, &wc, sink_cb, &ws);
            encode_list(we, ds.d, ds.n, NULL);
            tks_encoder_reset(we);
            long calls = t.calls;
            sink_clear(&ws);
            is_int(encode_list(we, ds.d, ds.n, NULL), TKS_OK, "%s: second stream", dn);
            is_int(t.calls - calls, 0, "%s: a warm encoder allocates nothing", dn);
            is_mem(ws.p, ws.n, want, wl, "%s: and writes the same bytes", dn);
            tks_encoder_free(we);
            is_int(t.live, 0, "%s: free releases every block", dn);
            sink_free(&ws);
        }

        /* Reset in the middle of a stream, and after an error. */
        tks_encoder_config cfg = golden_cfg(dialect, NULL);
        tks_encoder *e;
        sink s = {0};
        tks_encoder_new(&e, &cfg, sink_cb, &s);
        for (int i = 0; i < ds.n / 2; i++) tks_encoder_push(e, &ds.d[i]);
        tks_encoder_reset(e);
        sink_clear(&s);
        is_int(encode_list(e, ds.d, ds.n, NULL), TKS_OK, "%s: stream after a mid-stream reset", dn);
        is_mem(s.p, s.n, want, wl, "%s: same bytes as a fresh encoder", dn);
        tks_delta bad_args = {.kind = TKS_DELTA_TOOL_ARGS, .index = 9, .text = "x", .text_len = 1};
        tks_encoder_reset(e);
        is_int(tks_encoder_push(e, &bad_args), TKS_ESTATE, "%s: arguments of an unknown call", dn);
        is_int(tks_encoder_push(e, &ds.d[0]), TKS_ESTATE, "%s: the error is sticky", dn);
        is_int(tks_encoder_finish(e), TKS_ESTATE, "%s: finish too", dn);
        tks_encoder_reset(e);
        sink_clear(&s);
        is_str(tks_encoder_error(e), "", "%s: reset clears the error", dn);
        is_int(encode_list(e, ds.d, ds.n, NULL), TKS_OK, "%s: stream after reset from an error", dn);
        is_mem(s.p, s.n, want, wl, "%s: same bytes again", dn);
        tks_encoder_free(e);
        sink_free(&s);
        free(want);
    }
    free_deltas(&ds);
}

/* ---- random strings: every payload valid JSON, text kept ------------------------------ */

static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Atoms of random text: the bytes, and what a correct encoder makes of them after JSON
 * decoding (invalid sequences -> U+FFFD per maximal subpart, by hand). `cut` marks a
 * lead byte waiting for continuation bytes (must not be followed by "\x80"). */
typedef struct atom {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
    int cut;
} atom;

#define A(s, o) {s, sizeof(s) - 1, o, sizeof(o) - 1, 0}
#define R "\xEF\xBF\xBD"
static const atom atoms[] = {
    A("a", "a"), A("Hello", "Hello"), A(" ", " "), A("\"", "\""), A("\\", "\\"), A("/", "/"),
    A("\\u0041", "\\u0041"), A("\xE2\x80\xA8", "\xE2\x80\xA8"), A("\xE2\x80\xA9", "\xE2\x80\xA9"),
    A("\xC3\xA9", "\xC3\xA9"), A("\xE4\xB8\xAD", "\xE4\xB8\xAD"), A("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"),
    A("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB", "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB"),
    A("\xEF\xBF\xBD", "\xEF\xBF\xBD"), A("\x7F", "\x7F"), A("\xEF\xBB\xBF", "\xEF\xBB\xBF"),
    A("\x80", R), A("\xFF", R), A("\xED\xA0\x80", R R R), A("\xC0\xAF", R R),
    A("\xF4\x90\x80\x80", R R R R), A("\xF8\x88\x80\x80\x80", R R R R R),
    {"\xC3", 1, R, 3, 1}, {"\xE2\x82", 2, R, 3, 1}, {"\xF0\x9F\x98", 3, R, 3, 1},
};
#undef A

/* Random text of up to ~60 atoms (plus any control character, NUL included). */
static void random_text(sink *in, sink *want, int allow_invalid, int allow_nul) {
    sink_clear(in);
    sink_clear(want);
    int n = (int)(rnd() % 60);
    int prev_cut = 0;
    for (int i = 0; i < n; i++) {
        uint32_t r = rnd() % 100;
        if (r < 25) { /* a control character */
            char c = (char)(rnd() % 32);
            if (c == 0 && !allow_nul) c = '\t';
            sink_add(in, &c, 1);
            sink_add(want, &c, 1);
            prev_cut = 0;
            continue;
        }
        const atom *a;
        do {
            a = &atoms[rnd() % (sizeof atoms / sizeof atoms[0])];
        } while ((!allow_invalid && strstr(a->out, R) && strcmp(a->in, R) != 0) ||
                 (prev_cut && a->in[0] == '\x80'));
        sink_add(in, a->in, a->in_len);
        sink_add(want, a->out, a->out_len);
        prev_cut = a->cut;
    }
}

static void test_random_strings(void) {
    rng_state = 0x9E3779B97F4A7C15ull;
    sink in = {0}, want = {0}, out = {0}, joined = {0};
    long payloads_bad = 0, text_bad = 0, runs = 0, nul_runs = 0;
    for (int iter = 0; iter < 3000; iter++) {
        int nul = iter % 4 == 3;
        random_text(&in, &want, 1, nul);
        nul_runs += nul;
        for (int an = 0; an <= 1; an++) {
            tks_encoder_config cfg = golden_cfg(an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, NULL);
            /* the random text also goes into the model name (no NUL in a C string) */
            char model[512];
            size_t ml = strnlen(in.p ? in.p : "", sizeof model - 1);
            memcpy(model, in.p ? in.p : "", ml);
            model[ml] = 0;
            cfg.model = model;
            tks_encoder *e;
            sink_clear(&out);
            if (tks_encoder_new(&e, &cfg, sink_cb, &out)) abort();
            tks_delta d[8];
            memset(d, 0, sizeof d);
            d[0].kind = TKS_DELTA_TEXT;
            d[0].text = in.p;
            d[0].text_len = in.n;
            d[1].kind = TKS_DELTA_REASONING;
            d[1].text = in.p;
            d[1].text_len = in.n;
            d[2].kind = TKS_DELTA_TOOL_CALL;
            d[2].id = in.p;
            d[2].id_len = in.n;
            d[2].name = in.p;
            d[2].name_len = in.n;
            d[3].kind = TKS_DELTA_TOOL_ARGS;
            d[3].text = in.p;
            d[3].text_len = in.n;
            d[4].kind = TKS_DELTA_REFUSAL;
            d[4].text = in.p;
            d[4].text_len = in.n;
            d[5].kind = TKS_DELTA_SIGNATURE;
            d[5].text = in.p;
            d[5].text_len = in.n;
            d[6].kind = TKS_DELTA_FINISH;
            d[6].finish = TKS_FINISH_OTHER;
            d[6].text = in.p;
            d[6].text_len = in.n;
            d[7].kind = TKS_DELTA_ERROR;
            d[7].text = d[7].name = d[7].id = in.p;
            d[7].text_len = d[7].name_len = d[7].id_len = in.n;
            int rc = TKS_OK;
            for (int i = 0; i < 8 && rc == TKS_OK; i++) rc = tks_encoder_push(e, &d[i]);
            if (rc != TKS_OK) text_bad++;
            if (bad_payloads(&out) != 0) payloads_bad++;
            if (!nul && !an) { /* the content text comes back (cJSON strings end at NUL) */
                join_field(&out, an, "content", &joined);
                if (joined.n != want.n || memcmp(joined.p, want.p, want.n) != 0) {
                    if (text_bad < 3) {
                        diag_bytes("in", in.p, in.n);
                        diag_bytes("got", joined.p, joined.n);
                        diag_bytes("want", want.p, want.n);
                    }
                    text_bad++;
                }
            }
            if (!nul && an) { /* TEXT and REFUSAL both become text_delta */
                join_field(&out, an, "text", &joined);
                if (joined.n != 2 * want.n || memcmp(joined.p, want.p, want.n) != 0 ||
                    memcmp(joined.p + want.n, want.p, want.n) != 0)
                    text_bad++;
            }
            tks_encoder_free(e);
            runs++;
        }
    }
    ok(payloads_bad == 0, "random strings: every payload is valid JSON (%ld encodings, %ld with NUL)",
       runs, nul_runs * 2);
    ok(text_bad == 0, "random strings: content decodes to the text with U+FFFD for invalid bytes");
    sink_free(&in);
    sink_free(&want);
    sink_free(&out);
    sink_free(&joined);
}

/* ---- small behaviours --------------------------------------------------------------- */

static int encode1(int dialect, const tks_delta *d, int n, sink *s, tks_encoder_config *cfg_in) {
    tks_encoder_config cfg = cfg_in ? *cfg_in : golden_cfg(dialect, NULL);
    cfg.dialect = dialect;
    tks_encoder *e;
    sink_clear(s);
    int rc = tks_encoder_new(&e, &cfg, sink_cb, s);
    if (rc) return rc;
    rc = encode_list(e, d, n, NULL);
    tks_encoder_free(e);
    return rc;
}

/* The value of a top-level string field `key` in the event payload number `ev`. */
static int payload_has(const sink *s, int ev, const char *needle) {
    int n = split_events(s->p, s->n, evs, MAX_EV);
    if (ev < 0) ev += n;
    if (ev < 0 || ev >= n) return 0;
    char tmp[4096];
    size_t l = evs[ev].data_len < sizeof tmp - 1 ? evs[ev].data_len : sizeof tmp - 1;
    memcpy(tmp, evs[ev].data, l);
    tmp[l] = 0;
    return strstr(tmp, needle) != NULL;
}

static void test_finish_words(void) {
    static const struct {
        int finish;
        const char *raw, *openai, *anthropic;
    } t[] = {
        {TKS_FINISH_STOP, NULL, "\"finish_reason\":\"stop\"", "\"stop_reason\":\"end_turn\""},
        {TKS_FINISH_LENGTH, NULL, "\"finish_reason\":\"length\"", "\"stop_reason\":\"max_tokens\""},
        {TKS_FINISH_TOOL_CALLS, NULL, "\"finish_reason\":\"tool_calls\"", "\"stop_reason\":\"tool_use\""},
        {TKS_FINISH_CONTENT_FILTER, NULL, "\"finish_reason\":\"content_filter\"", "\"stop_reason\":\"refusal\""},
        {TKS_FINISH_ERROR, NULL, "\"finish_reason\":\"error\"", "\"stop_reason\":\"end_turn\""},
        {TKS_FINISH_OTHER, "abort", "\"finish_reason\":\"abort\"", "\"stop_reason\":\"abort\""},
        {TKS_FINISH_OTHER, NULL, "\"finish_reason\":\"stop\"", "\"stop_reason\":\"end_turn\""},
        {TKS_FINISH_STOP, "stop_sequence", "\"finish_reason\":\"stop\"", "\"stop_reason\":\"stop_sequence\""},
        {TKS_FINISH_STOP, "end_turn", "\"finish_reason\":\"stop\"", "\"stop_reason\":\"end_turn\""},
        {TKS_FINISH_OTHER, "pause_turn", "\"finish_reason\":\"pause_turn\"", "\"stop_reason\":\"pause_turn\""},
    };
    sink s = {0};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tks_delta d = {.kind = TKS_DELTA_FINISH, .finish = t[i].finish};
        if (t[i].raw) {
            d.text = t[i].raw;
            d.text_len = strlen(t[i].raw);
        }
        is_int(encode1(TKS_DIALECT_OPENAI_CHAT, &d, 1, &s, NULL), TKS_OK, "finish %d/%s", t[i].finish,
               t[i].raw ? t[i].raw : "-");
        /* events: the finish chunk (with the role first), [DONE] */
        ok(payload_has(&s, 0, t[i].openai) && payload_has(&s, 0, "\"role\":\"assistant\""),
           "openai: %s", t[i].openai);
        is_int(encode1(TKS_DIALECT_ANTHROPIC, &d, 1, &s, NULL), TKS_OK, "anthropic finish");
        ok(payload_has(&s, -2, t[i].anthropic), "anthropic: %s", t[i].anthropic);
    }
    sink_free(&s);
}

static void test_ids(void) {
    sink s = {0};
    tks_delta text = {.kind = TKS_DELTA_TEXT, .text = "x", .text_len = 1};
    tks_delta start = {.kind = TKS_DELTA_START, .id = "from-start", .id_len = 10,
                       .name = "model-s", .name_len = 7};
    tks_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);

    tks_delta two[2] = {start, text};
    is_int(encode1(TKS_DIALECT_OPENAI_CHAT, two, 2, &s, &cfg), TKS_OK, "START then text");
    ok(payload_has(&s, 0, "\"id\":\"from-start\"") && payload_has(&s, 0, "\"model\":\"model-s\""),
       "openai: id and model from the START delta");
    is_int(encode1(TKS_DIALECT_ANTHROPIC, two, 2, &s, &cfg), TKS_OK, "anthropic START");
    ok(payload_has(&s, 0, "\"id\":\"from-start\"") && payload_has(&s, 0, "\"model\":\"model-s\""),
       "anthropic: message_start carries the START delta's id and model");

    cfg.id = "cfg-id";
    cfg.model = "cfg-model";
    is_int(encode1(TKS_DIALECT_OPENAI_CHAT, two, 2, &s, &cfg), TKS_OK, "config id wins");
    ok(payload_has(&s, 0, "\"id\":\"cfg-id\"") && payload_has(&s, 0, "\"model\":\"cfg-model\""),
       "the config's id and model win over START");

    /* START after output has started changes nothing */
    tks_delta late[2] = {text, start};
    memset(&cfg, 0, sizeof cfg);
    cfg.id_seed = "req-1";
    is_int(encode1(TKS_DIALECT_OPENAI_CHAT, late, 2, &s, &cfg), TKS_OK, "late START");
    ok(!strstr(s.p, "from-start"), "a START after the first chunk is ignored");

    /* generated ids: prefix + 24 characters of [0-9A-Za-z], stable per seed */
    char ids[3][64];
    const char *seeds[3] = {"req-1", "req-1", "req-2"};
    for (int i = 0; i < 3; i++) {
        cfg.id_seed = seeds[i];
        encode1(TKS_DIALECT_OPENAI_CHAT, &text, 1, &s, &cfg);
        const char *p = strstr(s.p, "\"id\":\"");
        ids[i][0] = 0;
        if (p) sscanf(p + 6, "%63[^\"]", ids[i]);
    }
    int shape = strlen(ids[0]) == 9 + 24 && strncmp(ids[0], "chatcmpl-", 9) == 0 &&
                strspn(ids[0] + 9, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 24;
    ok(shape, "generated id has the chatcmpl- shape: %s", ids[0]);
    ok(!strcmp(ids[0], ids[1]) && strcmp(ids[0], ids[2]) != 0, "same seed same id, other seed other id");
    cfg.id_seed = "req-1";
    encode1(TKS_DIALECT_ANTHROPIC, &text, 1, &s, &cfg);
    ok(strstr(s.p, "\"id\":\"msg_") != NULL, "anthropic generated id starts with msg_");
    sink_free(&s);
}

static void test_errors(void) {
    tks_encoder *e = (tks_encoder *)1;
    sink s = {0};
    tks_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    is_int(tks_encoder_new(NULL, NULL, sink_cb, &s), TKS_EINVAL, "new: NULL out");
    is_int(tks_encoder_new(&e, NULL, NULL, &s), TKS_EINVAL, "new: NULL callback");
    ok(e == NULL, "new: *out NULL on failure");
    cfg.dialect = TKS_DIALECT_GEMINI;
    is_int(tks_encoder_new(&e, &cfg, sink_cb, &s), TKS_EUNSUPPORTED, "new: gemini not encodable");
    cfg.dialect = 99;
    is_int(tks_encoder_new(&e, &cfg, sink_cb, &s), TKS_EINVAL, "new: unknown dialect");
    tks_alloc half = {talloc_malloc_, NULL, talloc_free_, NULL};
    cfg.dialect = 0;
    cfg.alloc = &half;
    is_int(tks_encoder_new(&e, &cfg, sink_cb, &s), TKS_EINVAL, "new: allocator without realloc");
    cfg.alloc = NULL;
    is_int(tks_encoder_new(&e, NULL, sink_cb, &s), TKS_OK, "new: NULL config = openai-chat");
    tks_delta text = {.kind = TKS_DELTA_TEXT, .text = "hi", .text_len = 2};
    is_int(tks_encoder_push(e, &text), TKS_OK, "push text");
    ok(strstr(s.p, "chat.completion.chunk") != NULL, "default dialect is openai-chat");
    tks_delta unknown = {.kind = 99, .text = "x", .text_len = 1};
    size_t before = s.n;
    is_int(tks_encoder_push(e, &unknown), TKS_OK, "a kind this version does not know is skipped");
    is_int(s.n, before, "and writes nothing");
    unknown.kind = 0;
    is_int(tks_encoder_push(e, &unknown), TKS_OK, "kind 0 too");
    is_int(tks_encoder_push(e, NULL), TKS_EINVAL, "push NULL delta");
    tks_encoder_reset(e);
    tks_delta nul_text = {.kind = TKS_DELTA_TEXT, .text = NULL, .text_len = 3};
    is_int(tks_encoder_push(e, &nul_text), TKS_EINVAL, "NULL text with a length");
    tks_encoder_reset(e);
    tks_delta lp = {.kind = TKS_DELTA_LOGPROBS, .json = "{\"content\":[1,2", .json_len = 15};
    is_int(tks_encoder_push(e, &lp), TKS_EJSON, "logprobs that are not JSON");
    ok(strstr(tks_encoder_error(e), "logprobs") != NULL, "error names it: %s", tks_encoder_error(e));
    tks_encoder_reset(e);
    static const char *const bad_json[] = {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\x01\"",
                                           "\"\\x\"", "tru", "{} {}", "\"\xC3\"", "-", "[\"\\u12\"]",
                                           "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\""};
    static const char *const good_json[] = {"null", "{\"content\":null,\"refusal\":[]}", "-0.5e+3",
                                            " [ {\"a\" : [true,false]} ] ", "\"\\u00e9\\n\"", "0",
                                            "\"\\ud83d\\ude00\"", "1e999"};
    int bad = 0;
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        tks_delta l = {.kind = TKS_DELTA_LOGPROBS, .json = bad_json[i], .json_len = strlen(bad_json[i])};
        if (tks_encoder_push(e, &l) != TKS_EJSON) bad++, diag("accepted: %s", bad_json[i]);
        tks_encoder_reset(e);
    }
    for (size_t i = 0; i < sizeof good_json / sizeof good_json[0]; i++) {
        tks_delta l = {.kind = TKS_DELTA_LOGPROBS, .json = good_json[i], .json_len = strlen(good_json[i])};
        if (tks_encoder_push(e, &l) != TKS_OK) bad++, diag("refused: %s", good_json[i]);
        tks_encoder_reset(e);
    }
    ok(bad == 0, "logprobs JSON validation");
    static const char spaced[] = " {\n \"a\" : [1,\r\n 2] ,\t\"s\":\"x y\\n\"}\n";
    tks_delta sp = {.kind = TKS_DELTA_LOGPROBS, .json = spaced, .json_len = sizeof spaced - 1};
    sink_clear(&s);
    is_int(tks_encoder_push(e, &sp), TKS_OK, "logprobs with CR/LF between tokens");
    ok(strstr(s.p, "\"logprobs\":{\"a\":[1,2],\"s\":\"x y\\n\"}") != NULL &&
           split_events(s.p, s.n, evs, MAX_EV) == 1,
       "copied without the whitespace between tokens: one data line");
    tks_encoder_reset(e);
    char deep[300];
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    tks_delta l = {.kind = TKS_DELTA_LOGPROBS, .json = deep, .json_len = 300};
    is_int(tks_encoder_push(e, &l), TKS_EJSON, "logprobs nested 150 deep refused");
    tks_encoder_reset(e);

    /* content after the end */
    tks_delta done = {.kind = TKS_DELTA_DONE};
    tks_delta usage = {.kind = TKS_DELTA_USAGE, .input_tokens = 1, .output_tokens = -1,
                       .total_tokens = -1, .reasoning_tokens = -1, .cached_tokens = -1};
    sink_clear(&s);
    is_int(tks_encoder_push(e, &done), TKS_OK, "done");
    is_int(tks_encoder_push(e, &done), TKS_OK, "a second done is accepted");
    is_int(tks_encoder_push(e, &usage), TKS_OK, "late usage is accepted (and dropped)");
    is_int(tks_encoder_finish(e), TKS_OK, "finish after done");
    is_mem(s.p, s.n, "data: [DONE]\n\n", 14, "only [DONE] was written");
    is_int(tks_encoder_push(e, &text), TKS_ESTATE, "text after done");
    is_int(tks_encoder_offset(e), 3, "offset: three deltas accepted before it");
    tks_encoder_free(e);
    tks_encoder_free(NULL);
    is_str(tks_encoder_error(NULL), "", "error(NULL)");

    /* arguments given whole (Gemini, Ollama) after some were sent add nothing */
    sink_clear(&s);
    tks_encoder *w;
    tks_encoder_new(&w, NULL, sink_cb, &s);
    tks_delta wc = {.kind = TKS_DELTA_TOOL_CALL, .id = "c1", .id_len = 2, .name = "f", .name_len = 1};
    tks_delta wa = {.kind = TKS_DELTA_TOOL_ARGS, .flags = TKS_DELTA_WHOLE, .text = "{\"a\":1}", .text_len = 7};
    is_int(tks_encoder_push(w, &wc), TKS_OK, "whole: call");
    is_int(tks_encoder_push(w, &wa), TKS_OK, "whole: arguments");
    is_int(tks_encoder_push(w, &wa), TKS_OK, "whole: the same arguments again");
    int seen = 0;
    for (const char *q = s.p; (q = strstr(q, "\"arguments\":\"{\\\"a\\\":1}\"")) != NULL; q++) seen++;
    is_int(seen, 1, "whole arguments are written once");
    tks_encoder_free(w);

    /* max_items */
    cfg.max_items = 3;
    is_int(tks_encoder_new(&e, &cfg, sink_cb, &s), TKS_OK, "new max_items 3");
    tks_delta call = {.kind = TKS_DELTA_TOOL_CALL, .id = "c", .id_len = 1, .name = "n", .name_len = 1};
    int rc = TKS_OK, i;
    for (i = 0; i < 10 && rc == TKS_OK; i++) {
        call.index = i;
        rc = tks_encoder_push(e, &call);
    }
    is_int(rc, TKS_ELIMIT, "one choice + 2 calls fit, the third call is TKS_ELIMIT");
    is_int(i, 3, "at the third call");
    tks_encoder_free(e);
    sink_free(&s);
}

/* Long text is split over several chunks, each within max_chunk, at character bounds. */
static void test_split(void) {
    sink in = {0}, out = {0}, joined = {0};
    static const char piece[] = "ab\"\\\x01\xF0\x9F\x98\x80\xE4\xB8\xAD\n";
    for (int i = 0; i < 400; i++) sink_add(&in, piece, sizeof piece - 1);
    for (int an = 0; an <= 1; an++) {
        tks_encoder_config cfg = golden_cfg(an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, NULL);
        cfg.max_chunk = 512;
        char long_model[121];
        memset(long_model, 'M', 120);
        long_model[120] = 0;
        cfg.model = long_model; /* a long head leaves less room for the text */
        tks_delta d[2] = {{.kind = TKS_DELTA_TEXT, .text = in.p, .text_len = in.n},
                          {.kind = TKS_DELTA_REASONING, .text = in.p, .text_len = in.n}};
        is_int(encode1(cfg.dialect, d, 2, &out, &cfg), TKS_OK, "split: %d bytes with max_chunk 512",
               (int)in.n);
        int n = split_events(out.p, out.n, evs, MAX_EV), over = 0;
        for (int k = 0; k < n; k++) over += evs[k].data_len > 512;
        ok(n > 20 && over == 0, "split: %d events, none over 512 bytes", n);
        is_int(bad_payloads(&out), 0, "split: every piece is JSON");
        join_field(&out, an, an ? "text" : "content", &joined);
        is_mem(joined.p, joined.n, in.p, in.n, "split: the pieces join to the text");
        join_field(&out, an, an ? "thinking" : "reasoning_content", &joined);
        is_mem(joined.p, joined.n, in.p, in.n, "split: reasoning too");
        tks_delta err = {.kind = TKS_DELTA_ERROR, .text = in.p, .text_len = in.n};
        is_int(encode1(cfg.dialect, &err, 1, &out, &cfg), TKS_ELIMIT,
               "an error message longer than max_chunk is TKS_ELIMIT");
    }
    sink_free(&in);
    sink_free(&out);
    sink_free(&joined);
}

/* Cutting a text into two deltas at every character boundary gives the same content. */
static void test_cuts(void) {
    static const char text[] = "Hi \"you\"\n\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\\ end";
    size_t n = sizeof text - 1;
    sink out = {0}, joined = {0};
    int bad = 0, cuts = 0;
    for (int an = 0; an <= 1; an++)
        for (size_t k = 1; k < n; k++) {
            if (((unsigned char)text[k] & 0xC0) == 0x80) continue; /* inside a character */
            tks_delta d[2] = {{.kind = TKS_DELTA_TEXT, .text = text, .text_len = k},
                              {.kind = TKS_DELTA_TEXT, .text = text + k, .text_len = n - k}};
            if (encode1(an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, d, 2, &out, NULL)) bad++;
            join_field(&out, an, an ? "text" : "content", &joined);
            if (joined.n != n || memcmp(joined.p, text, n) != 0) bad++;
            if (an && strstr(out.p, "\"index\":1")) bad++; /* one text block */
            cuts++;
        }
    ok(bad == 0, "text cut into two deltas at each of %d character boundaries: same content", cuts);
    sink_free(&out);
    sink_free(&joined);
}


/* ---- round trip: encoder -> SSE -> tks_client ---------------------------------------- */

#define RT_CHOICES 3
#define RT_TOOLS 6

typedef struct rt_tool {
    int32_t index;
    char id[32], name[64];
    sink args;
} rt_tool;

/* What the message must be, kept by hand from the deltas pushed. */
typedef struct rt_choice {
    sink content, reasoning, refusal, signature;
    int finish;
    int n_tools;
    rt_tool tools[RT_TOOLS];
} rt_choice;

typedef struct rt_model {
    rt_choice c[RT_CHOICES];
    int n_choices;
    int64_t in_tok, out_tok;
} rt_model;

static void rt_model_clear(rt_model *m) {
    for (int i = 0; i < RT_CHOICES; i++) {
        rt_choice *c = &m->c[i];
        sink_clear(&c->content);
        sink_clear(&c->reasoning);
        sink_clear(&c->refusal);
        sink_clear(&c->signature);
        c->finish = TKS_FINISH_NONE;
        for (int t = 0; t < RT_TOOLS; t++) sink_clear(&c->tools[t].args);
        c->n_tools = 0;
    }
    m->in_tok = m->out_tok = -1;
}

static void rt_model_free(rt_model *m) {
    for (int i = 0; i < RT_CHOICES; i++) {
        rt_choice *c = &m->c[i];
        sink_free(&c->content);
        sink_free(&c->reasoning);
        sink_free(&c->refusal);
        sink_free(&c->signature);
        for (int t = 0; t < RT_TOOLS; t++) sink_free(&c->tools[t].args);
    }
}

static int same_text(const char *what, int ch, const char *got, size_t gl, const sink *want) {
    if (!got) gl = 0; /* NULL: no such delta came, which is "" for the comparison */
    if (gl == want->n && (gl == 0 || memcmp(got, want->p, gl) == 0)) return 0;
    diag("choice %d: %s differs", ch, what);
    diag_bytes("got", got ? got : "", gl);
    diag_bytes("want", want->p ? want->p : "", want->n);
    return 1;
}

/* Differences between the client's message and the model. anthropic: refusal text is
 * content; tool calls are compared in order (the decoder numbers them itself). */
static int rt_compare(const tks_assembler *a, const rt_model *m, int anthropic, int check_sig) {
    int bad = 0;
    size_t l;
    const char *p;
    if (tks_assembler_choices(a) != (size_t)m->n_choices) {
        diag("choices: got %zu want %d", tks_assembler_choices(a), m->n_choices);
        return 1;
    }
    for (int i = 0; i < m->n_choices; i++) {
        const rt_choice *c = &m->c[i];
        if (tks_assembler_choice_index(a, (size_t)i) != i) bad++;
        p = tks_assembler_content(a, (size_t)i, &l);
        bad += same_text("content", i, p, l, &c->content);
        p = tks_assembler_reasoning(a, (size_t)i, &l);
        bad += same_text("reasoning", i, p, l, &c->reasoning);
        if (!anthropic) {
            p = tks_assembler_refusal(a, (size_t)i, &l);
            bad += same_text("refusal", i, p, l, &c->refusal);
        }
        if (check_sig) {
            p = tks_assembler_signature(a, (size_t)i, &l);
            bad += same_text("signature", i, p, l, &c->signature);
        }
        if (tks_assembler_finish_reason(a, (size_t)i) != c->finish) {
            diag("choice %d: finish %d want %d", i, tks_assembler_finish_reason(a, (size_t)i), c->finish);
            bad++;
        }
        if (tks_assembler_tool_calls(a, (size_t)i) != (size_t)c->n_tools) {
            diag("choice %d: %zu tool calls, want %d", i, tks_assembler_tool_calls(a, (size_t)i), c->n_tools);
            bad++;
            continue;
        }
        for (int t = 0; t < c->n_tools; t++) {
            const rt_tool *w = &c->tools[t];
            size_t pos = (size_t)t;
            if (!anthropic) { /* by index */
                for (pos = 0; pos < (size_t)c->n_tools; pos++)
                    if (tks_assembler_tool_index(a, (size_t)i, pos) == w->index) break;
                if (pos == (size_t)c->n_tools) {
                    diag("choice %d: no tool call with index %d", i, w->index);
                    bad++;
                    continue;
                }
            }
            sink tmp = {0};
            sink_add(&tmp, w->id, strlen(w->id));
            p = tks_assembler_tool_id(a, (size_t)i, pos, &l);
            bad += same_text("tool id", i, p, l, &tmp);
            sink_clear(&tmp);
            sink_add(&tmp, w->name, strlen(w->name));
            p = tks_assembler_tool_name(a, (size_t)i, pos, &l);
            bad += same_text("tool name", i, p, l, &tmp);
            sink_free(&tmp);
            p = tks_assembler_tool_args(a, (size_t)i, pos, &l);
            bad += same_text("tool arguments", i, p, l, &w->args);
        }
    }
    int64_t in = tks_assembler_usage(a, TKS_USAGE_INPUT), out = tks_assembler_usage(a, TKS_USAGE_OUTPUT);
    if (in != m->in_tok || out != m->out_tok) {
        diag("usage got %lld/%lld want %lld/%lld", (long long)in, (long long)out,
             (long long)m->in_tok, (long long)m->out_tok);
        bad++;
    }
    return bad;
}

static const char *const tool_names[] = {"get_weather", "f", "lookup_\xC3\xA9t\xC3\xA9", "x.y-z"};

/* One random stream: pushes its deltas to the encoder and keeps the model. */
static int rt_stream(tks_encoder *e, rt_model *m, int anthropic, sink *in, sink *want) {
    rt_model_clear(m);
    m->n_choices = anthropic ? 1 : 1 + (int)(rnd() % RT_CHOICES);
    int n_ops = 1 + (int)(rnd() % 30);
    int last_tool = -1; /* anthropic: arguments only right after their call */
    tks_delta d;
    int rc = TKS_OK;
    if (rnd() % 2) { /* usage up front (input tokens known at the start) */
        memset(&d, 0, sizeof d);
        d.kind = TKS_DELTA_USAGE;
        d.input_tokens = rnd() % 5000;
        d.output_tokens = d.total_tokens = d.reasoning_tokens = d.cached_tokens = -1;
        m->in_tok = d.input_tokens;
        if ((rc = tks_encoder_push(e, &d))) return rc;
    }
    for (int op = 0; op < n_ops; op++) {
        int ch = (int)(rnd() % (uint32_t)m->n_choices);
        rt_choice *c = &m->c[ch];
        memset(&d, 0, sizeof d);
        d.choice = ch;
        uint32_t k = rnd() % (anthropic ? 6 : 5);
        random_text(in, want, 0, 1);
        d.text = in->p;
        d.text_len = in->n;
        if (k == 3 && c->n_tools == RT_TOOLS) k = 0;
        if (k == 4 && (c->n_tools == 0 || (anthropic && last_tool < 0))) k = 3;
        if (k == 3 && c->n_tools == RT_TOOLS) k = 0;
        switch (k) {
        case 0:
            d.kind = TKS_DELTA_TEXT;
            sink_add(&c->content, want->p, want->n);
            last_tool = -1;
            break;
        case 1:
            d.kind = TKS_DELTA_REASONING;
            sink_add(&c->reasoning, want->p, want->n);
            last_tool = -1;
            break;
        case 2:
            d.kind = TKS_DELTA_REFUSAL;
            sink_add(anthropic ? &c->content : &c->refusal, want->p, want->n);
            last_tool = -1;
            break;
        case 3: {
            rt_tool *t = &c->tools[c->n_tools];
            t->index = c->n_tools;
            snprintf(t->id, sizeof t->id, "call_%d_%d", ch, c->n_tools);
            snprintf(t->name, sizeof t->name, "%s", tool_names[rnd() % 4]);
            d.kind = TKS_DELTA_TOOL_CALL;
            d.index = t->index;
            d.id = t->id;
            d.id_len = strlen(t->id);
            d.name = t->name;
            d.name_len = strlen(t->name);
            d.text = NULL;
            d.text_len = 0;
            last_tool = c->n_tools++;
            break;
        }
        case 4: {
            int t = anthropic ? last_tool : (int)(rnd() % (uint32_t)c->n_tools);
            d.kind = TKS_DELTA_TOOL_ARGS;
            d.index = c->tools[t].index;
            sink_add(&c->tools[t].args, want->p, want->n);
            break;
        }
        default: /* anthropic only */
            d.kind = TKS_DELTA_SIGNATURE;
            d.text = "c2lnbmF0dXJl+/=";
            d.text_len = 15;
            sink_add(&c->signature, d.text, d.text_len);
            last_tool = -1;
            break;
        }
        if ((rc = tks_encoder_push(e, &d))) return rc;
    }
    static const int finishes[] = {TKS_FINISH_STOP, TKS_FINISH_LENGTH, TKS_FINISH_TOOL_CALLS};
    for (int ch = 0; ch < m->n_choices; ch++) {
        memset(&d, 0, sizeof d);
        d.kind = TKS_DELTA_FINISH;
        d.choice = ch;
        d.finish = finishes[rnd() % 3];
        m->c[ch].finish = d.finish;
        if ((rc = tks_encoder_push(e, &d))) return rc;
    }
    if (rnd() % 4) {
        memset(&d, 0, sizeof d);
        d.kind = TKS_DELTA_USAGE;
        d.input_tokens = m->in_tok >= 0 ? m->in_tok : rnd() % 5000;
        d.output_tokens = rnd() % 5000;
        d.total_tokens = d.reasoning_tokens = d.cached_tokens = -1;
        m->in_tok = d.input_tokens;
        m->out_tok = d.output_tokens;
        if ((rc = tks_encoder_push(e, &d))) return rc;
    } else if (m->in_tok >= 0 || anthropic) {
        /* openai: no usage chunk without a usage delta after the start one... it is
         * written at the end all the same; anthropic always reports usage */
        if (m->in_tok < 0) m->in_tok = 0;
        m->out_tok = 0;
    }
    return rnd() % 2 ? tks_encoder_finish(e) : tks_encoder_push(e, &(tks_delta){.kind = TKS_DELTA_DONE});
}

static void test_round_trip(void) {
    rng_state = 0x2545F4914F6CDD1Dull;
    sink in = {0}, want = {0}, out = {0};
    rt_model m;
    memset(&m, 0, sizeof m);
    for (int an = 0; an <= 1; an++) {
        const char *dn = an ? "anthropic" : "openai-chat";
        int streams = 0, bad = 0, incomplete = 0, enc_fail = 0;
        long byte_cuts = 0;
        tks_encoder_config cfg = golden_cfg(an ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT, NULL);
        tks_encoder *e;
        tks_client *cl;
        if (tks_encoder_new(&e, &cfg, sink_cb, &out) || tks_client_new(&cl, NULL, NULL, NULL)) {
            ok(0, "%s: new encoder and client", dn);
            continue;
        }
        for (int s = 0; s < 400; s++) {
            tks_encoder_reset(e);
            sink_clear(&out);
            if (rt_stream(e, &m, an, &in, &want) != TKS_OK) {
                if (enc_fail++ < 3) diag("encoder: %s", tks_encoder_error(e));
                continue;
            }
            /* whole, then (every 20th stream) byte by byte: the same message */
            for (int pass = 0; pass < (s % 20 == 0 ? 2 : 1); pass++) {
                tks_client_reset(cl);
                int rc = TKS_OK;
                if (pass == 0) rc = tks_client_push(cl, out.p, out.n);
                else
                    for (size_t i = 0; i < out.n && rc == TKS_OK; i++, byte_cuts++)
                        rc = tks_client_push(cl, out.p + i, 1);
                if (rc == TKS_OK) rc = tks_client_finish(cl);
                if (rc != TKS_OK) {
                    if (incomplete++ < 3) diag("client: %s: %s", tks_strerror(rc), tks_client_error(cl));
                    continue;
                }
                int b = rt_compare(tks_client_message(cl), &m, an, an);
                if (b && bad < 3) diag_bytes("stream", out.p, out.n);
                bad += b != 0;
            }
            streams++;
        }
        is_int(enc_fail, 0, "%s round trip: the encoder took every random stream", dn);
        is_int(incomplete, 0, "%s round trip: tks_client read every stream to its end", dn);
        ok(bad == 0 && streams == 400, "%s round trip: %d random streams (text with NUL and control "
           "characters, reasoning, refusal, tool calls, finish, usage) give the same message "
           "(also byte by byte: %ld pushes)", dn, streams, byte_cuts);
        tks_encoder_free(e);
        tks_client_free(cl);
    }
    rt_model_free(&m);
    sink_free(&in);
    sink_free(&want);
    sink_free(&out);
}


/* ---- real fixtures: decode, re-encode, decode again: the same message ------------------- */

typedef struct fx_ctx {
    tks_encoder *enc;
    int rc;
} fx_ctx;

static int fx_on_delta(void *user, const tks_delta *d) {
    fx_ctx *c = user;
    c->rc = tks_encoder_push(c->enc, d);
    return c->rc != TKS_OK;
}

static int same_str(const char *what, size_t ch, const char *a, size_t al, const char *b, size_t bl) {
    if (!a) al = 0;
    if (!b) bl = 0;
    if (al == bl && (al == 0 || memcmp(a, b, al) == 0)) return 0;
    diag("choice %zu: %s differs", ch, what);
    diag_bytes("re-encoded", a ? a : "", al);
    diag_bytes("original", b ? b : "", bl);
    return 1;
}

/* Differences between two assembled messages (a: re-encoded, b: the original). */
static int same_message(const tks_assembler *a, const tks_assembler *b, int to_openai,
                        int to_anthropic) {
    int bad = 0;
    size_t al, bl;
    const char *ap, *bp;
    if (tks_assembler_choices(a) != tks_assembler_choices(b)) {
        diag("choices %zu vs %zu", tks_assembler_choices(a), tks_assembler_choices(b));
        return 1;
    }
#define CMP(fn, what)                                                      \
    ap = fn(a, i, &al);                                                    \
    bp = fn(b, i, &bl);                                                    \
    bad += same_str(what, i, ap, al, bp, bl)
    for (size_t i = 0; i < tks_assembler_choices(a); i++) {
        CMP(tks_assembler_content, "content");
        CMP(tks_assembler_reasoning, "reasoning");
        CMP(tks_assembler_refusal, "refusal");
        if (!to_openai) { CMP(tks_assembler_signature, "signature"); }
        if (tks_assembler_finish_reason(a, i) != tks_assembler_finish_reason(b, i)) {
            diag("choice %zu: finish %d vs %d", i, tks_assembler_finish_reason(a, i),
                 tks_assembler_finish_reason(b, i));
            bad++;
        }
        size_t n = tks_assembler_tool_calls(a, i);
        if (n != tks_assembler_tool_calls(b, i)) {
            diag("choice %zu: %zu vs %zu tool calls", i, n, tks_assembler_tool_calls(b, i));
            bad++;
            continue;
        }
        for (size_t t = 0; t < n; t++) {
            ap = tks_assembler_tool_id(a, i, t, &al);
            bp = tks_assembler_tool_id(b, i, t, &bl);
            bad += same_str("tool id", i, ap, al, bp, bl);
            ap = tks_assembler_tool_name(a, i, t, &al);
            bp = tks_assembler_tool_name(b, i, t, &bl);
            bad += same_str("tool name", i, ap, al, bp, bl);
            ap = tks_assembler_tool_args(a, i, t, &al);
            bp = tks_assembler_tool_args(b, i, t, &bl);
            bad += same_str("tool arguments", i, ap, al, bp, bl);
        }
    }
#undef CMP
    for (int f = TKS_USAGE_INPUT; f <= TKS_USAGE_OUTPUT; f++) {
        int64_t want = tks_assembler_usage(b, f);
        if (want < 0 && to_anthropic) want = 0; /* anthropic always reports usage */
        if (tks_assembler_usage(a, f) != want) {
            diag("usage %d: %lld vs %lld", f, (long long)tks_assembler_usage(a, f),
                 (long long)tks_assembler_usage(b, f));
            bad++;
        }
    }
    if (tks_assembler_has_error(a) != tks_assembler_has_error(b)) bad++, diag("error presence differs");
    if (tks_assembler_has_error(a)) {
        ap = tks_assembler_error_message(a, &al);
        bp = tks_assembler_error_message(b, &bl);
        bad += same_str("error message", 0, ap, al, bp, bl);
    }
    if (tks_assembler_complete(a) != tks_assembler_complete(b)) bad++, diag("completeness differs");
    return bad;
}

static void test_fixtures(void) {
    enum { OA = 1, AN = 2 }; /* the dialects to re-encode in */
    static const struct {
        const char *path;
        int to;
    } fx[] = {
        {"fixtures/openai-chat/parallel-tool-calls-usage.sse", OA | AN},
        {"fixtures/openai-chat/refusal-logprobs-usage.sse", OA},
        {"fixtures/openai-chat/text-n3-choices-usage.sse", OA},
        {"fixtures/openai-chat/tool-call-usage-obfuscation.sse", OA | AN},
        {"fixtures/deepseek/reasoning-content-emoji.sse", OA | AN},
        {"fixtures/openrouter/chat-inband-error-comments.sse", OA},
        {"fixtures/groq/event-error-tool-use-failed.sse", OA},
        {"fixtures/anthropic/text-padded-json.sse", OA | AN},
        {"fixtures/anthropic/thinking-signature.sse", OA | AN},
        /* whole tool arguments (TKS_DELTA_WHOLE), other framings */
        {"fixtures/gemini/sse-function-call-thought-signature.sse", OA | AN},
        {"fixtures/gemini/sse-utf8-cjk.sse", OA | AN},
        {"fixtures/ollama/chat-stream.ndjson", OA | AN},
        {"fixtures/bedrock/converse-stream-text-tool-use.bin", OA | AN},
    };
    const char *sh = shared_dir();
    if (!sh) {
        diag("no shared fixtures (TKS_SHARED): the real-stream re-encoding is not run; "
             "test/data/encoder covers the same delta kinds");
        return;
    }
    for (size_t f = 0; f < sizeof fx / sizeof fx[0]; f++) {
        size_t len;
        char *src = read_file(path_join(sh, fx[f].path), &len);
        if (!src) {
            ok(0, "read %s", fx[f].path);
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (!(fx[f].to & (k ? AN : OA))) continue;
            tks_client *orig, *again;
            tks_client_new(&orig, NULL, NULL, NULL);
            tks_client_push(orig, src, len);
            int truncated = tks_client_finish(orig) != TKS_OK; /* then so is the copy */
            int src_dialect = tks_client_dialect(orig);
            int to = k ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT;
            tks_encoder_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.dialect = to;
            sink out = {0};
            fx_ctx ctx = {NULL, TKS_OK};
            tks_encoder_new(&ctx.enc, &cfg, sink_cb, &out);
            tks_client *dec;
            tks_client_new(&dec, NULL, fx_on_delta, &ctx);
            tks_client_push(dec, src, len);
            tks_client_finish(dec);
            int rc = ctx.rc == TKS_OK && !truncated ? tks_encoder_finish(ctx.enc) : ctx.rc;
            is_int(rc, TKS_OK, "%s -> %s: encoded (%s)", fx[f].path, tks_dialect_name(to),
                   tks_encoder_error(ctx.enc));
            is_int(bad_payloads(&out), 0, "%s -> %s: every payload is JSON", fx[f].path,
                   tks_dialect_name(to));
            tks_client_new(&again, NULL, NULL, NULL);
            tks_client_push(again, out.p, out.n);
            tks_client_finish(again);
            is_int(tks_client_dialect(again), to, "%s -> %s: detected as written", fx[f].path,
                   tks_dialect_name(to));
            int bad = same_message(tks_client_message(again), tks_client_message(orig),
                                   to == TKS_DIALECT_OPENAI_CHAT && src_dialect != to,
                                   to == TKS_DIALECT_ANTHROPIC);
            ok(bad == 0, "%s -> %s: decodes to the same message", fx[f].path, tks_dialect_name(to));
            tks_client_free(orig);
            tks_client_free(again);
            tks_client_free(dec);
            tks_encoder_free(ctx.enc);
            sink_free(&out);
        }
        free(src);
    }
}

int main(void) {
    test_golden();
    test_oom_stop_reset();
    test_oom_wide();
    test_random_strings();
    test_finish_words();
    test_ids();
    test_errors();
    test_split();
    test_cuts();
    test_round_trip();
    test_fixtures();
    return done_testing();
}
