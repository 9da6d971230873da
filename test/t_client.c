/* t_client.c - tks_client on the project's own streams (test/data/client, one per framing
 * and dialect, each with a hand-written expected message): the message, every cut point,
 * byte by byte, every truncation; framing detection; the delta callback and stopping;
 * the timer marks; errors with offsets, limits, state rules; OOM torture. */
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *file;
    int framing;
} streams[] = {
    {"openai-chat.sse", TKS_FRAMING_SSE},
    {"openai-tools-crlf.sse", TKS_FRAMING_SSE},
    {"anthropic-tool.sse", TKS_FRAMING_SSE},
    {"ollama-chat.ndjson", TKS_FRAMING_NDJSON},
    {"gemini-array.json", TKS_FRAMING_JSON_ARRAY},
    {"bedrock-converse.bin", TKS_FRAMING_EVENTSTREAM},
};

typedef struct collected {
    char text[8192];
    size_t n;
    int deltas, stop_at;
} collected;

static int collect(void *user, const tks_delta *d) {
    collected *c = user;
    c->deltas++;
    if (d->kind == TKS_DELTA_TEXT && d->choice == 0 && c->n + d->text_len < sizeof c->text) {
        memcpy(c->text + c->n, d->text, d->text_len);
        c->n += d->text_len;
    }
    return c->stop_at && c->deltas >= c->stop_at;
}

static char *export(const tks_client *c) {
    size_t need = 0, len;
    if (tks_assembler_json(tks_client_message(c), NULL, 0, &need)) return NULL;
    char *s = malloc(need + 1);
    if (tks_assembler_json(tks_client_message(c), s, need + 1, &len)) {
        free(s);
        return NULL;
    }
    return s;
}

/* Feeds p[0..n): cut at k when 0 < k < n, byte by byte when k == SIZE_MAX. */
static int run(const char *p, size_t n, size_t k, char **json, int *framing) {
    tks_client *c;
    if (tks_client_new(&c, NULL, NULL, NULL)) return -1000;
    int rc;
    if (k == SIZE_MAX) {
        rc = TKS_OK;
        for (size_t i = 0; i < n && rc == TKS_OK; i++) rc = tks_client_push(c, p + i, 1);
    } else {
        rc = tks_client_push(c, p, k);
        if (rc == TKS_OK) rc = tks_client_push(c, p + k, n - k);
    }
    if (rc == TKS_OK) rc = tks_client_finish(c);
    *json = export(c);
    if (framing) *framing = tks_client_framing(c);
    tks_client_free(c);
    return rc;
}

static void test_streams(void) {
    for (size_t s = 0; s < sizeof streams / sizeof streams[0]; s++) {
        const char *name = streams[s].file;
        char path[4096], epath[4096];
        snprintf(path, sizeof path, "%s/client/%s", test_data_dir(), name);
        snprintf(epath, sizeof epath, "%s/client/%.*s.expected.json", test_data_dir(),
                 (int)(strrchr(name, '.') - name), name);
        size_t n = 0, en = 0;
        char *p = read_file(path, &n), *want = read_file(epath, &en);
        if (!ok(p && want, "%s and its expected message are there", name)) {
            free(p);
            free(want);
            continue;
        }
        char *whole;
        int framing;
        int rc = run(p, n, 0, &whole, &framing);
        is_int(rc, TKS_OK, "%s: complete", name);
        is_int(framing, streams[s].framing, "%s: framing detected", name);
        cJSON *g = cJSON_Parse(whole), *w = cJSON_Parse(want);
        ok(g && w && cJSON_Compare(g, w, 1), "%s: the expected message", name);
        if (!(g && w && cJSON_Compare(g, w, 1))) diag("got %s", whole);
        cJSON_Delete(g);
        cJSON_Delete(w);

        int diff = 0;
        for (size_t k = 1; k < n; k++) {
            char *j;
            int rk = run(p, n, k, &j, NULL);
            if (rk != rc || strcmp(j, whole)) diff++;
            free(j);
        }
        ok(diff == 0, "%s: all %zu cut points give the same message", name, n - 1);
        char *b;
        int rb = run(p, n, SIZE_MAX, &b, NULL);
        ok(rb == rc && !strcmp(b, whole), "%s: byte by byte gives the same message", name);
        free(b);

        /* truncations: status and content agree with what the callback received */
        int tbad = 0;
        for (size_t k = 0; k < n; k++) {
            collected col = {0};
            tks_client *c;
            tks_client_new(&c, NULL, collect, &col);
            int rk = tks_client_push(c, p, k);
            if (rk == TKS_OK) rk = tks_client_finish(c);
            const tks_assembler *m = tks_client_message(c);
            size_t len = 0;
            const char *t = tks_assembler_choices(m) ? tks_assembler_content(m, 0, &len) : NULL;
            if ((rk == TKS_OK) != tks_assembler_complete(m)) tbad++;
            if (rk == TKS_ETRUNC && !*tks_client_error(c)) tbad++;
            if (len != col.n || (len && memcmp(t, col.text, len))) tbad++;
            tks_client_free(c);
        }
        ok(tbad == 0, "%s: truncated at each of %zu offsets: status and content consistent",
           name, n);
        free(whole);
        free(p);
        free(want);
    }
}

static char *load(const char *name, size_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/client/%s", test_data_dir(), name);
    return read_file(path, n);
}

static void test_callback_stop(void) {
    size_t n;
    char *p = load("openai-chat.sse", &n);
    collected col = {0};
    col.stop_at = 4;
    tks_client *c;
    tks_client_new(&c, NULL, collect, &col);
    is_int(tks_client_push(c, p, n), TKS_STOPPED, "a callback returning non-zero stops");
    is_int(col.deltas, 4, "no delta after the stop");
    is_int(tks_client_push(c, p, 1), TKS_STOPPED, "stays stopped");
    is_int(tks_client_finish(c), TKS_STOPPED, "finish: stopped");
    size_t len;
    tks_assembler_content(tks_client_message(c), 0, &len);
    ok(len < 20, "the stopping delta was not assembled (%zu bytes)", len);
    tks_client_reset(c);
    col.stop_at = 0;
    col.deltas = 0;
    is_int(tks_client_push(c, p, n), TKS_OK, "reset: usable again");
    is_int(tks_client_finish(c), TKS_OK, "reset: complete");
    is_int(tks_client_push(c, p, 1), TKS_ESTATE, "push after finish: TKS_ESTATE");
    is_int(tks_client_dialect(c), TKS_DIALECT_OPENAI_CHAT, "dialect decided");
    tks_client_free(c);
    free(p);
}

static int64_t fake_ns;
static int64_t fake_clock(void *ctx) {
    (void)ctx;
    return fake_ns += 1000;
}

static void test_timer(void) {
    size_t n;
    char *p = load("openai-chat.sse", &n);
    tks_timer_config tc = {0};
    tc.clock = fake_clock;
    tks_timer *t;
    is_int(tks_timer_new(&t, &tc), TKS_OK, "timer");
    tks_timer_mark_sent(t, 0);
    tks_client_config cfg = {0};
    cfg.timer = t;
    tks_client *c;
    tks_client_new(&c, &cfg, NULL, NULL);
    tks_client_push(c, p, n);
    is_int(tks_client_finish(c), TKS_OK, "complete with a timer");
    tks_timer_results r;
    is_int(tks_timer_results_get(t, &r), TKS_OK, "results");
    /* the stream has 15 content chunks (hand count of openai-chat.sse) */
    is_int(r.chunks, 15, "one token-bearing chunk per content event");
    is_int(r.chunk_tokens, 15, "one token per content delta");
    is_int(r.output_tokens, 15, "usage output tokens");
    is_int(r.input_tokens, 19, "usage input tokens");
    ok(r.first_byte_ns > 0 && r.end_ns > r.first_byte_ns, "first byte and end marked");
    is_int(r.outcome, TKS_OUTCOME_OK, "outcome OK");
    tks_client_free(c);
    tks_timer_free(t);
    free(p);
}

static void test_errors(void) {
    tks_client *c;
    /* NDJSON with a broken line: the decoder's error, with the line's offset */
    const char *bad = "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\n{\"model\":\n";
    tks_client_new(&c, NULL, NULL, NULL);
    int rc = tks_client_push(c, bad, strlen(bad));
    if (rc == TKS_OK) rc = tks_client_finish(c);
    ok(rc < 0 && rc != TKS_ETRUNC, "malformed JSON line: an error (%s)", tks_strerror(rc));
    ok(*tks_client_error(c) != 0, "error in words: %s", tks_client_error(c));
    ok(tks_client_offset(c) >= 52, "error offset at the bad line (%llu)",
       (unsigned long long)tks_client_offset(c));
    is_int(tks_client_push(c, "x", 1), rc, "sticky");
    size_t len;
    const char *t = tks_assembler_content(tks_client_message(c), 0, &len);
    is_mem(t, len, "a", 1, "what came before is kept");
    tks_client_free(c);

    /* eventstream with a broken CRC */
    size_t n;
    char *p = load("bedrock-converse.bin", &n);
    p[20] ^= 1;
    tks_client_new(&c, NULL, NULL, NULL);
    rc = tks_client_push(c, p, n);
    if (rc == TKS_OK) rc = tks_client_finish(c);
    is_int(rc, TKS_ECRC, "corrupted frame: TKS_ECRC");
    is_int(tks_client_framing(c), TKS_FRAMING_EVENTSTREAM, "still detected as eventstream");
    tks_client_free(c);
    free(p);

    /* max_message */
    p = load("openai-chat.sse", &n);
    tks_client_config cfg = {0};
    cfg.max_message = 40;
    tks_client_new(&c, &cfg, NULL, NULL);
    rc = tks_client_push(c, p, n);
    is_int(rc, TKS_ELIMIT, "max_message: TKS_ELIMIT");
    ok(tks_client_offset(c) < n && strstr(tks_client_error(c), "max_message"), "limit error: %s", tks_client_error(c));
    tks_client_free(c);

    /* truncation: the offset is the end of input */
    tks_client_new(&c, NULL, NULL, NULL);
    tks_client_push(c, p, n - 20);
    is_int(tks_client_finish(c), TKS_ETRUNC, "cut stream: TKS_ETRUNC");
    ok(*tks_client_error(c), "truncation in words: %s", tks_client_error(c));
    tks_client_free(c);

    /* a provider's in-band error ends an Anthropic stream without message_stop: still
     * TKS_ETRUNC (not complete), but the words name the provider's error, not a cut */
    static const char anth_err[] =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n"
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    tks_client_new(&c, NULL, NULL, NULL);
    is_int(tks_client_push(c, anth_err, sizeof anth_err - 1), TKS_OK, "anthropic error event: pushed");
    is_int(tks_client_finish(c), TKS_ETRUNC, "anthropic error event: not complete");
    ok(strstr(tks_client_error(c), "provider's error \"Overloaded\"") != NULL,
       "the words name the provider's error: %s", tks_client_error(c));
    tks_client_free(c);

    /* a cut after the finish: the usage that would have followed is lost, so the
     * message is not complete (Bedrock: inside the metadata frame after messageStop;
     * OpenAI: inside the usage chunk after the finish chunk) */
    size_t bn;
    char *b = load("bedrock-converse.bin", &bn);
    tks_client_new(&c, NULL, NULL, NULL);
    is_int(tks_client_push(c, b, bn - 10), TKS_OK, "bedrock cut in its last frame: pushed");
    is_int(tks_client_finish(c), TKS_ETRUNC, "bedrock cut in its last frame: TKS_ETRUNC");
    is_int(tks_assembler_complete(tks_client_message(c)), 0, "... and not complete");
    tks_client_free(c);
    free(b);

    /* NDJSON cut inside its last line: a truncation, not a JSON error */
    static const char ollama_cut[] =
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n"
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\" th";
    tks_client_new(&c, NULL, NULL, NULL);
    is_int(tks_client_push(c, ollama_cut, sizeof ollama_cut - 1), TKS_OK, "ndjson cut mid-line: pushed");
    is_int(tks_client_finish(c), TKS_ETRUNC, "ndjson cut mid-line: TKS_ETRUNC (%s)", tks_client_error(c));
    is_int(tks_client_offset(c), strchr(ollama_cut, '\n') - ollama_cut + 1, "... at the start of the cut line");
    t = tks_assembler_content(tks_client_message(c), 0, &len);
    is_mem(t, len, "Hi", 2, "... the content before it is kept");
    tks_client_free(c);
    /* the same last line whole but without its newline is dispatched */
    static const char ollama_nonl[] =
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":true}";
    tks_client_new(&c, NULL, NULL, NULL);
    tks_client_push(c, ollama_nonl, sizeof ollama_nonl - 1);
    is_int(tks_client_finish(c), TKS_OK, "ndjson last line without newline: complete");
    tks_client_free(c);

    /* explicit framing, empty input, bad config */
    cfg.max_message = 0;
    cfg.framing = TKS_FRAMING_SSE;
    tks_client_new(&c, &cfg, NULL, NULL);
    is_int(tks_client_push(c, p, n), TKS_OK, "framing SSE given");
    is_int(tks_client_finish(c), TKS_OK, "... complete");
    tks_client_free(c);
    tks_client_new(&c, NULL, NULL, NULL);
    is_int(tks_client_finish(c), TKS_ETRUNC, "empty input: TKS_ETRUNC");
    tks_client_free(c);
    cfg.framing = 99;
    is_int(tks_client_new(&c, &cfg, NULL, NULL), TKS_EINVAL, "unknown framing: TKS_EINVAL");
    cfg.framing = 0;
    cfg.dialect = -1;
    is_int(tks_client_new(&c, &cfg, NULL, NULL), TKS_EINVAL, "unknown dialect: TKS_EINVAL");
    is_int(tks_client_new(NULL, NULL, NULL, NULL), TKS_EINVAL, "out NULL: TKS_EINVAL");
    tks_client_free(NULL);
    ok(tks_client_message(NULL) == NULL, "message of NULL");
    free(p);
}

/* Whitespace and a BOM before the first byte that decides. */
static void test_sniff(void) {
    const char *ndjson = "\xEF\xBB\xBF  \n{\"model\":\"m\",\"message\":{\"content\":\"hi\"},\"done\":true}\n";
    size_t n = strlen(ndjson);
    int bad = 0;
    for (size_t k = 1; k < n; k++) {
        tks_client *c;
        tks_client_new(&c, NULL, NULL, NULL);
        tks_client_push(c, ndjson, k);
        tks_client_push(c, ndjson + k, n - k);
        tks_client_finish(c);
        if (tks_client_framing(c) != TKS_FRAMING_NDJSON) bad++;
        tks_client_free(c);
    }
    ok(!bad, "BOM and whitespace before '{': NDJSON at every cut point");
}

typedef struct oom_ctx {
    const char *p;
    size_t n;
    const char *want;
} oom_ctx;

static int oom_body(const tks_alloc *a, void *ctx) {
    oom_ctx *o = ctx;
    tks_client_config cfg = {0};
    cfg.alloc = a;
    tks_client *c;
    int rc = tks_client_new(&c, &cfg, NULL, NULL);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    int result = 0;
    for (int round = 0; round < 2 && !result; round++) {
        rc = tks_client_push(c, o->p, o->n / 2);
        if (rc == TKS_OK) rc = tks_client_push(c, o->p + o->n / 2, o->n - o->n / 2);
        if (rc == TKS_OK) rc = tks_client_finish(c);
        if (rc == TKS_ENOMEM) {
            result = tks_client_push(c, "x", 1) == TKS_ENOMEM ? 1 : 2;
            break;
        }
        if (rc) { result = 2; break; }
        size_t need, len;
        rc = tks_assembler_json(tks_client_message(c), NULL, 0, &need);
        if (rc == TKS_ENOMEM) { result = 1; break; }
        char *j = malloc(need + 1);
        rc = tks_assembler_json(tks_client_message(c), j, need + 1, &len);
        if (rc == TKS_ENOMEM) result = 1;
        else if (rc) result = 2;
        else {
            cJSON *g = cJSON_Parse(j), *w = cJSON_Parse(o->want);
            if (!g || !w || !cJSON_Compare(g, w, 1)) result = 2;
            cJSON_Delete(g);
            cJSON_Delete(w);
        }
        free(j);
        tks_client_reset(c);
    }
    tks_client_free(c);
    return result;
}

static void test_oom(void) {
    const char *files[][2] = {{"openai-tools-crlf.sse", "openai-tools-crlf.expected.json"},
                              {"anthropic-tool.sse", "anthropic-tool.expected.json"},
                              {"gemini-array.json", "gemini-array.expected.json"}};
    for (size_t i = 0; i < 3; i++) {
        oom_ctx o;
        size_t wn;
        char *p = load(files[i][0], &o.n);
        char *w = load(files[i][1], &wn);
        o.p = p;
        o.want = w;
        if (p && w) oom_torture(files[i][0], oom_body, &o);
        free(p);
        free(w);
    }
}

int main(void) {
    test_streams();
    test_callback_stop();
    test_timer();
    test_errors();
    test_sniff();
    test_oom();
    return done_testing();
}
