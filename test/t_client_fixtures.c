/* t_client_fixtures.c - every recorded stream in ../shared/fixtures through tks_client:
 *  1. the assembled message equals what this test accumulates on its own: it splits the
 *     file into events with its own simple framing code, reads each event's JSON with
 *     cJSON and adds up the obvious fields per dialect (no tokstream code involved);
 *  2. every cut point (two pushes) and byte by byte give the same JSON as one push;
 *  3. the stream truncated at every byte offset: no crash, complete:false before the
 *     end of the terminal event, finish says TKS_ETRUNC exactly when not complete, and
 *     the content equals the TEXT deltas received (and is a prefix of the full content).
 * t_client runs the same checks over the project's own streams in test/data/client/, so
 * a checkout without ../shared tests the same rules. */
#define _POSIX_C_SOURCE 200809L
#include "tokstream.h"
#include "tap.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- a tiny string builder ------------------------------------------------------------ */

typedef struct sb {
    char *p;
    size_t n, cap;
    int present;
} sb;

static void sb_add(sb *s, const char *t, size_t n) {
    s->present = 1;
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = 0;
}
static void sb_set(sb *s, const char *t) {
    s->n = 0;
    sb_add(s, t, strlen(t));
}
static void sb_free(sb *s) {
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* ---- the expectation ---------------------------------------------------------------- */

enum { MAXC = 8, MAXT = 16 };

typedef struct exp_call {
    sb id, name, args;
    int key; /* the provider's index or block index, to find the call again */
} exp_call;

typedef struct exp_choice {
    int index, used;
    sb role, content, reasoning, refusal, raw_finish;
    exp_call calls[MAXT];
    int ncalls;
} exp_choice;

typedef struct expect {
    int dialect;
    sb id, model, err_msg;
    int has_error, complete, whole_args;
    long long in, out;
    exp_choice ch[MAXC];
    size_t term_end; /* end offset of the first terminal event (SIZE_MAX: none) */
} expect;

static exp_choice *choice(expect *e, int index) {
    for (int i = 0; i < MAXC; i++)
        if (e->ch[i].used && e->ch[i].index == index) return &e->ch[i];
    for (int i = 0; i < MAXC; i++)
        if (!e->ch[i].used) {
            e->ch[i].used = 1;
            e->ch[i].index = index;
            return &e->ch[i];
        }
    return &e->ch[0];
}

static exp_call *call(exp_choice *c, int key) {
    for (int i = 0; i < c->ncalls; i++)
        if (c->calls[i].key == key) return &c->calls[i];
    if (c->ncalls == MAXT) return &c->calls[0];
    exp_call *t = &c->calls[c->ncalls++];
    t->key = key;
    return t;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static const cJSON *get(const cJSON *o, const char *k) {
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}
static long long num(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}
static void add_nonempty(sb *s, const char *t) {
    if (t && *t) sb_add(s, t, strlen(t));
}
static void first_nonempty(sb *s, const char *t) {
    if (!s->present && t && *t) sb_set(s, t);
}
static void error_from(expect *e, const cJSON *err) {
    if (e->has_error) return;
    e->has_error = 1;
    const char *m = cJSON_IsString(err) ? err->valuestring : str(err, "message");
    sb_set(&e->err_msg, m ? m : "");
}

/* ---- per-dialect accumulation, the obvious reading of each format ------------------- */

static int openai_chat(expect *e, const char *data, const cJSON *j) {
    if (strcmp(data, "[DONE]") == 0) return 1;
    if (!j) return 0;
    first_nonempty(&e->id, str(j, "id"));
    first_nonempty(&e->model, str(j, "model"));
    const cJSON *c;
    cJSON_ArrayForEach(c, get(j, "choices")) {
        exp_choice *ch = choice(e, (int)num(c, "index"));
        const cJSON *d = get(c, "delta");
        if (str(d, "role")) sb_set(&ch->role, str(d, "role"));
        add_nonempty(&ch->content, str(d, "content"));
        add_nonempty(&ch->reasoning, str(d, "reasoning_content"));
        add_nonempty(&ch->reasoning, str(d, "reasoning"));
        add_nonempty(&ch->refusal, str(d, "refusal"));
        const cJSON *tc;
        cJSON_ArrayForEach(tc, get(d, "tool_calls")) {
            exp_call *t = call(ch, (int)num(tc, "index"));
            first_nonempty(&t->id, str(tc, "id"));
            first_nonempty(&t->name, str(get(tc, "function"), "name"));
            add_nonempty(&t->args, str(get(tc, "function"), "arguments"));
        }
        if (str(c, "finish_reason")) sb_set(&ch->raw_finish, str(c, "finish_reason"));
    }
    const cJSON *u = get(j, "usage");
    if (cJSON_IsObject(u)) {
        e->in = num(u, "prompt_tokens");
        e->out = num(u, "completion_tokens");
    }
    if (cJSON_IsObject(get(j, "error"))) error_from(e, get(j, "error"));
    return 0;
}

static int anthropic(expect *e, const cJSON *j) {
    const char *type = str(j, "type");
    if (!type) return 0;
    exp_choice *ch = choice(e, 0);
    if (!strcmp(type, "message_start")) {
        const cJSON *m = get(j, "message");
        first_nonempty(&e->id, str(m, "id"));
        first_nonempty(&e->model, str(m, "model"));
        if (str(m, "role")) sb_set(&ch->role, str(m, "role"));
        if (num(get(m, "usage"), "input_tokens") >= 0) e->in = num(get(m, "usage"), "input_tokens");
        if (num(get(m, "usage"), "output_tokens") >= 0) e->out = num(get(m, "usage"), "output_tokens");
    } else if (!strcmp(type, "content_block_start")) {
        const cJSON *b = get(j, "content_block");
        const char *bt = str(b, "type");
        if (bt && !strcmp(bt, "tool_use")) {
            exp_call *t = call(ch, (int)num(j, "index"));
            first_nonempty(&t->id, str(b, "id"));
            first_nonempty(&t->name, str(b, "name"));
        }
        if (bt && !strcmp(bt, "text")) add_nonempty(&ch->content, str(b, "text"));
    } else if (!strcmp(type, "content_block_delta")) {
        const cJSON *d = get(j, "delta");
        const char *dt = str(d, "type");
        if (!dt) return 0;
        if (!strcmp(dt, "text_delta")) add_nonempty(&ch->content, str(d, "text"));
        if (!strcmp(dt, "thinking_delta")) add_nonempty(&ch->reasoning, str(d, "thinking"));
        if (!strcmp(dt, "input_json_delta"))
            add_nonempty(&call(ch, (int)num(j, "index"))->args, str(d, "partial_json"));
    } else if (!strcmp(type, "message_delta")) {
        if (str(get(j, "delta"), "stop_reason")) sb_set(&ch->raw_finish, str(get(j, "delta"), "stop_reason"));
        if (num(get(j, "usage"), "input_tokens") >= 0) e->in = num(get(j, "usage"), "input_tokens");
        if (num(get(j, "usage"), "output_tokens") >= 0) e->out = num(get(j, "usage"), "output_tokens");
    } else if (!strcmp(type, "error")) {
        error_from(e, get(j, "error"));
    } else if (!strcmp(type, "message_stop")) {
        return 1;
    }
    return 0;
}

static int gemini(expect *e, const cJSON *j) {
    int done = 0;
    first_nonempty(&e->id, str(j, "responseId"));
    first_nonempty(&e->model, str(j, "modelVersion"));
    const cJSON *c;
    int ci = 0;
    cJSON_ArrayForEach(c, get(j, "candidates")) {
        exp_choice *ch = choice(e, num(c, "index") >= 0 ? (int)num(c, "index") : ci);
        ci++;
        const cJSON *p;
        cJSON_ArrayForEach(p, get(get(c, "content"), "parts")) {
            if (cJSON_IsTrue(get(p, "thought"))) add_nonempty(&ch->reasoning, str(p, "text"));
            else add_nonempty(&ch->content, str(p, "text"));
            const cJSON *fc = get(p, "functionCall");
            if (fc) {
                exp_call *t = call(ch, ch->ncalls);
                first_nonempty(&t->id, str(fc, "id"));
                first_nonempty(&t->name, str(fc, "name"));
                char *args = cJSON_PrintUnformatted(get(fc, "args"));
                if (args) sb_set(&t->args, args);
                free(args);
            }
        }
        if (str(c, "finishReason")) {
            sb_set(&ch->raw_finish, str(c, "finishReason"));
            done = 1;
        }
    }
    const cJSON *u = get(j, "usageMetadata");
    if (u && num(u, "promptTokenCount") >= 0) e->in = num(u, "promptTokenCount");
    if (get(j, "error")) error_from(e, get(j, "error"));
    return done;
}

static int ollama(expect *e, const cJSON *j) {
    exp_choice *ch = choice(e, 0);
    first_nonempty(&e->model, str(j, "model"));
    const cJSON *m = get(j, "message");
    if (str(m, "role")) sb_set(&ch->role, str(m, "role"));
    add_nonempty(&ch->content, str(m, "content"));
    add_nonempty(&ch->content, str(j, "response"));
    add_nonempty(&ch->reasoning, str(m, "thinking"));
    add_nonempty(&ch->reasoning, str(j, "thinking"));
    const cJSON *tc;
    cJSON_ArrayForEach(tc, get(m, "tool_calls")) {
        exp_call *t = call(ch, ch->ncalls);
        first_nonempty(&t->id, str(tc, "id"));
        first_nonempty(&t->name, str(get(tc, "function"), "name"));
        char *args = cJSON_PrintUnformatted(get(get(tc, "function"), "arguments"));
        if (args) sb_set(&t->args, args);
        free(args);
    }
    if (get(j, "error")) error_from(e, get(j, "error"));
    if (cJSON_IsTrue(get(j, "done"))) {
        if (str(j, "done_reason")) sb_set(&ch->raw_finish, str(j, "done_reason"));
        if (num(j, "prompt_eval_count") >= 0) e->in = num(j, "prompt_eval_count");
        if (num(j, "eval_count") >= 0) e->out = num(j, "eval_count");
        return 1;
    }
    return 0;
}

static int responses(expect *e, const char *data, const cJSON *j) {
    if (strcmp(data, "[DONE]") == 0) return 1;
    const char *type = str(j, "type");
    if (!type) return 0;
    exp_choice *ch = choice(e, 0);
    const cJSON *r = get(j, "response");
    if (!strcmp(type, "response.created")) {
        first_nonempty(&e->id, str(r, "id"));
        first_nonempty(&e->model, str(r, "model"));
    } else if (!strcmp(type, "response.output_text.delta")) {
        add_nonempty(&ch->content, str(j, "delta"));
    } else if (!strcmp(type, "response.refusal.delta")) {
        add_nonempty(&ch->refusal, str(j, "delta"));
    } else if (!strcmp(type, "response.reasoning_summary_text.delta") ||
               !strcmp(type, "response.reasoning_text.delta")) {
        add_nonempty(&ch->reasoning, str(j, "delta"));
    } else if (!strcmp(type, "response.output_item.added")) {
        const cJSON *it = get(j, "item");
        if (str(it, "type") && !strcmp(str(it, "type"), "function_call")) {
            exp_call *t = call(ch, (int)num(j, "output_index") + 1000 * e->ch[0].ncalls);
            first_nonempty(&t->id, str(it, "call_id"));
            first_nonempty(&t->name, str(it, "name"));
        }
    } else if (!strcmp(type, "response.function_call_arguments.delta")) {
        /* the call opened last with this output_index */
        for (int i = ch->ncalls - 1; i >= 0; i--)
            if (ch->calls[i].key % 1000 == (int)num(j, "output_index")) {
                add_nonempty(&ch->calls[i].args, str(j, "delta"));
                break;
            }
    } else if (!strcmp(type, "error")) {
        const cJSON *err = get(j, "error");
        error_from(e, err ? err : j);
    } else if (!strcmp(type, "response.completed") || !strcmp(type, "response.failed") ||
               !strcmp(type, "response.incomplete")) {
        const cJSON *u = get(r, "usage");
        if (num(u, "input_tokens") >= 0) e->in = num(u, "input_tokens");
        if (num(u, "output_tokens") >= 0) e->out = num(u, "output_tokens");
        if (!strcmp(type, "response.failed") && get(r, "error")) error_from(e, get(r, "error"));
        return 1;
    }
    return 0;
}

static int bedrock(expect *e, const cJSON *j) {
    exp_choice *ch = choice(e, 0);
    if (get(j, "role")) sb_set(&ch->role, str(j, "role"));
    const cJSON *d = get(j, "delta");
    if (d && get(j, "contentBlockIndex")) {
        add_nonempty(&ch->content, str(d, "text"));
        add_nonempty(&ch->reasoning, str(get(d, "reasoningContent"), "text"));
        if (get(d, "toolUse"))
            add_nonempty(&call(ch, (int)num(j, "contentBlockIndex"))->args,
                         str(get(d, "toolUse"), "input"));
    }
    const cJSON *st = get(get(j, "start"), "toolUse");
    if (st) {
        exp_call *t = call(ch, (int)num(j, "contentBlockIndex"));
        first_nonempty(&t->id, str(st, "toolUseId"));
        first_nonempty(&t->name, str(st, "name"));
    }
    if (str(j, "stopReason")) {
        sb_set(&ch->raw_finish, str(j, "stopReason"));
        return 1;
    }
    const cJSON *u = get(j, "usage");
    if (u) {
        e->in = num(u, "inputTokens");
        e->out = num(u, "outputTokens");
    }
    /* InvokeModelWithResponseStream (Titan): the model's JSON is base64 in "bytes" */
    if (str(j, "outputText")) add_nonempty(&ch->content, str(j, "outputText"));
    if (str(j, "completionReason")) {
        sb_set(&ch->raw_finish, str(j, "completionReason"));
        return 1;
    }
    return 0;
}

/* ---- framing, the test's own ------------------------------------------------------------ */

static void on_event(expect *e, const char *data, size_t len, size_t end) {
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = 0;
    cJSON *j = cJSON_Parse(s);
    int term = 0;
    switch (e->dialect) {
    case TKS_DIALECT_OPENAI_CHAT: term = openai_chat(e, s, j); break;
    case TKS_DIALECT_ANTHROPIC: term = j && anthropic(e, j); break;
    case TKS_DIALECT_GEMINI: term = j && gemini(e, j); break;
    case TKS_DIALECT_OLLAMA: term = j && ollama(e, j); break;
    case TKS_DIALECT_OPENAI_RESPONSES: term = responses(e, s, j); break;
    case TKS_DIALECT_BEDROCK: term = j && bedrock(e, j); break;
    default: break;
    }
    if (term) {
        e->complete = 1;
        if (e->term_end == SIZE_MAX) e->term_end = end;
    }
    cJSON_Delete(j);
    free(s);
}

static void frame_sse(expect *e, const char *p, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
    sb data = {0};
    int has_data = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && p[i] != '\n' && p[i] != '\r') i++;
        if (i == n) break; /* an unterminated last line is never part of an event */
        size_t len = i - s;
        size_t eol = i + 1; /* the line has ended once its first end byte is read */
        i += (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
        if (len == 0) {
            if (has_data) on_event(e, data.p ? data.p : "", data.n, eol);
            data.n = 0;
            has_data = 0;
        } else if (len >= 5 && !memcmp(p + s, "data:", 5)) {
            size_t v = s + 5;
            if (v < s + len && p[v] == ' ') v++;
            if (has_data) sb_add(&data, "\n", 1);
            sb_add(&data, p + v, s + len - v);
            has_data = 1;
        }
    }
    sb_free(&data);
}

static void frame_lines(expect *e, const char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && p[i] != '\n') i++;
        size_t len = i - s;
        if (len && p[s + len - 1] == '\r') len--;
        /* a last line is complete at the end of input even without its newline */
        if (len) on_event(e, p + s, len, s + len);
        i = i < n ? i + 1 : n;
    }
}

/* Elements of a top-level array, each handed over when its last byte is read. */
static void frame_array(expect *e, const char *p, size_t n) {
    size_t i = 0, start = 0;
    int depth = 0, in_str = 0, esc = 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
    for (; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        if (c == '[' || c == '{') {
            if (depth++ == 1) start = i;
        } else if (c == ']' || c == '}') {
            if (--depth == 1) on_event(e, p + start, i + 1 - start, i + 1);
        }
    }
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static size_t b64dec(const char *in, unsigned char *out) {
    static const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (; *in && *in != '='; in++) {
        const char *q = strchr(tab, *in);
        if (!q) continue;
        acc = acc << 6 | (uint32_t)(q - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

static void frame_eventstream(expect *e, const char *p, size_t n) {
    const unsigned char *u = (const unsigned char *)p;
    size_t off = 0;
    while (off + 16 <= n) {
        uint32_t total = be32(u + off), hlen = be32(u + off + 4);
        if (total < 16 || off + total > n) break;
        const char *payload = p + off + 12 + hlen;
        size_t plen = total - 16 - hlen;
        char *s = malloc(plen + 1);
        memcpy(s, payload, plen);
        s[plen] = 0;
        cJSON *j = cJSON_Parse(s);
        const char *b = str(j, "bytes");
        if (b) { /* InvokeModelWithResponseStream: the model's own JSON, base64 */
            unsigned char *dec = malloc(strlen(b) + 1);
            size_t dn = b64dec(b, dec);
            on_event(e, (const char *)dec, dn, off + total);
            free(dec);
        } else {
            on_event(e, s, plen, off + total);
        }
        cJSON_Delete(j);
        free(s);
        off += total;
    }
}

/* ---- the fixtures ------------------------------------------------------------------------- */

static const struct {
    const char *path;
    int dialect;
} fixtures[] = {
    {"anthropic/text-padded-json.sse", TKS_DIALECT_ANTHROPIC},
    {"anthropic/thinking-signature.sse", TKS_DIALECT_ANTHROPIC},
    {"anthropic/tool-use-input-json.chunks.jsonl", TKS_DIALECT_ANTHROPIC},
    {"azure-openai/content-filter-model-router.chunks.jsonl", TKS_DIALECT_OPENAI_CHAT},
    {"bedrock/converse-stream-reasoning.bin", TKS_DIALECT_BEDROCK},
    {"bedrock/converse-stream-text-tool-use.bin", TKS_DIALECT_BEDROCK},
    {"bedrock/invoke-with-response-stream-titan.bin", TKS_DIALECT_BEDROCK},
    {"deepseek/reasoning-content-emoji.sse", TKS_DIALECT_OPENAI_CHAT},
    {"gemini/json-array-stream-bom.json", TKS_DIALECT_GEMINI},
    {"gemini/sse-function-call-thought-signature.sse", TKS_DIALECT_GEMINI},
    {"gemini/sse-text-crlf.sse", TKS_DIALECT_GEMINI},
    {"gemini/sse-thought-parts.sse", TKS_DIALECT_GEMINI},
    {"gemini/sse-utf8-cjk.sse", TKS_DIALECT_GEMINI},
    {"groq/event-error-tool-use-failed.sse", TKS_DIALECT_OPENAI_CHAT},
    {"ollama/chat-stream.ndjson", TKS_DIALECT_OLLAMA},
    {"ollama/generate-stream-context.ndjson", TKS_DIALECT_OLLAMA},
    {"openai-chat/parallel-tool-calls-usage.sse", TKS_DIALECT_OPENAI_CHAT},
    {"openai-chat/refusal-logprobs-usage.sse", TKS_DIALECT_OPENAI_CHAT},
    {"openai-chat/text-n3-choices-usage.sse", TKS_DIALECT_OPENAI_CHAT},
    {"openai-chat/tool-call-usage-obfuscation.sse", TKS_DIALECT_OPENAI_CHAT},
    {"openai-responses/error-insufficient-quota.chunks.jsonl", TKS_DIALECT_OPENAI_RESPONSES},
    {"openai-responses/function-call-no-sequence-number.sse", TKS_DIALECT_OPENAI_RESPONSES},
    {"openai-responses/reasoning-summary-function-calls.chunks.jsonl", TKS_DIALECT_OPENAI_RESPONSES},
    {"openrouter/chat-inband-error-comments.sse", TKS_DIALECT_OPENAI_CHAT},
    {"openrouter/responses-reasoning-text-no-event-lines.sse", TKS_DIALECT_OPENAI_RESPONSES},
};

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void build_expect(expect *e, int dialect, const char *path, const char *p, size_t n) {
    memset(e, 0, sizeof *e);
    e->dialect = dialect;
    e->in = e->out = -1;
    e->term_end = SIZE_MAX;
    e->whole_args = dialect == TKS_DIALECT_GEMINI || dialect == TKS_DIALECT_OLLAMA;
    if (ends_with(path, ".sse")) frame_sse(e, p, n);
    else if (ends_with(path, ".json")) frame_array(e, p, n);
    else if (ends_with(path, ".bin")) frame_eventstream(e, p, n);
    else frame_lines(e, p, n);
}

static void free_expect(expect *e) {
    sb_free(&e->id);
    sb_free(&e->model);
    sb_free(&e->err_msg);
    for (int i = 0; i < MAXC; i++) {
        exp_choice *c = &e->ch[i];
        sb *f[] = {&c->role, &c->content, &c->reasoning, &c->refusal, &c->raw_finish};
        for (size_t k = 0; k < 5; k++) sb_free(f[k]);
        for (int t = 0; t < c->ncalls; t++) {
            sb_free(&c->calls[t].id);
            sb_free(&c->calls[t].name);
            sb_free(&c->calls[t].args);
        }
    }
}

/* ---- running the client -------------------------------------------------------------------- */

typedef struct run {
    sb text0;  /* TEXT deltas of choice 0, as received */
    int dialect;
} run;

static int collect(void *user, const tks_delta *d) {
    run *r = user;
    if (d->kind == TKS_DELTA_TEXT && d->choice == 0) sb_add(&r->text0, d->text, d->text_len);
    return 0;
}

/* Feeds p[0..n) cut at `cuts` (sorted, inside 1..n-1), or byte by byte when bytewise;
 * returns the finish status and the JSON in *json (malloc'd). */
static int assemble(int dialect, const char *p, size_t n, const size_t *cuts, size_t ncuts,
                    int bytewise, char **json, run *r) {
    tks_client_config cfg = {0};
    cfg.dialect = dialect;
    tks_client *c;
    if (tks_client_new(&c, &cfg, r ? collect : NULL, r) != TKS_OK) return -1000;
    int rc = TKS_OK;
    size_t at = 0;
    if (bytewise) {
        for (size_t i = 0; i < n && rc == TKS_OK; i++) rc = tks_client_push(c, p + i, 1);
    } else {
        for (size_t k = 0; k <= ncuts && rc == TKS_OK; k++) {
            size_t to = k < ncuts ? cuts[k] : n;
            rc = tks_client_push(c, p + at, to - at);
            at = to;
        }
    }
    if (rc == TKS_OK) rc = tks_client_finish(c);
    const tks_assembler *m = tks_client_message(c);
    size_t need = 0, len;
    tks_assembler_json(m, NULL, 0, &need);
    *json = malloc(need + 1);
    if (tks_assembler_json(m, *json, need + 1, &len) != TKS_OK) (*json)[0] = 0;
    tks_client_free(c);
    return rc;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int same_text(const char *got, const sb *want) {
    if (!want->present) return got == NULL;
    return got && strlen(got) == want->n && memcmp(got, want->p, want->n) == 0;
}

static int same_json_text(const char *a, const char *b) {
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int same = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            diag(__VA_ARGS__);                                                             \
            bad++;                                                                         \
        }                                                                                  \
    } while (0)

/* Compares the client's JSON with the expectation; returns the number of mismatches. */
static int compare(const char *name, const char *json, expect *e) {
    int bad = 0;
    cJSON *m = cJSON_Parse(json);
    if (!m) {
        diag("%s: the export is not JSON", name);
        return 1;
    }
    CHECK(cJSON_IsTrue(get(m, "complete")) == e->complete, "%s: complete %d, want %d", name,
          cJSON_IsTrue(get(m, "complete")), e->complete);
    const char *dn = jstr(m, "dialect");
    CHECK(dn && tks_dialect_from_name(dn, strlen(dn)) == e->dialect, "%s: dialect %s", name,
          dn ? dn : "(null)");
    if (e->id.present) CHECK(same_text(jstr(m, "id"), &e->id), "%s: id %s", name, jstr(m, "id"));
    if (e->model.present)
        CHECK(same_text(jstr(m, "model"), &e->model), "%s: model %s", name, jstr(m, "model"));
    const cJSON *chs = get(m, "choices");
    int nexp = 0;
    for (int i = 0; i < MAXC; i++) nexp += e->ch[i].used && (e->ch[i].content.present ||
                                                            e->ch[i].reasoning.present ||
                                                            e->ch[i].refusal.present ||
                                                            e->ch[i].ncalls ||
                                                            e->ch[i].raw_finish.present);
    CHECK(cJSON_GetArraySize(chs) >= nexp, "%s: %d choices, want %d", name,
          cJSON_GetArraySize(chs), nexp);
    for (int i = 0; i < MAXC; i++) {
        exp_choice *ec = &e->ch[i];
        if (!ec->used) continue;
        const cJSON *gc = NULL, *it;
        cJSON_ArrayForEach(it, chs) if (num(it, "index") == ec->index) gc = it;
        if (!ec->content.present && !ec->reasoning.present && !ec->refusal.present &&
            !ec->ncalls && !ec->raw_finish.present)
            continue;
        if (!gc) {
            CHECK(0, "%s: choice %d missing", name, ec->index);
            continue;
        }
        CHECK(same_text(jstr(gc, "content"), &ec->content), "%s: choice %d content differs",
              name, ec->index);
        CHECK(same_text(jstr(gc, "reasoning"), &ec->reasoning), "%s: choice %d reasoning differs",
              name, ec->index);
        CHECK(same_text(jstr(gc, "refusal"), &ec->refusal), "%s: choice %d refusal differs", name,
              ec->index);
        if (ec->raw_finish.present)
            CHECK(same_text(jstr(gc, "raw_finish_reason"), &ec->raw_finish),
                  "%s: choice %d raw finish %s", name, ec->index, jstr(gc, "raw_finish_reason"));
        if (ec->role.present && (e->dialect == TKS_DIALECT_OPENAI_CHAT || e->dialect == TKS_DIALECT_ANTHROPIC))
            CHECK(same_text(jstr(gc, "role"), &ec->role), "%s: role", name);
        const cJSON *tcs = get(gc, "tool_calls");
        CHECK(cJSON_GetArraySize(tcs) == ec->ncalls, "%s: %d tool calls, want %d", name,
              cJSON_GetArraySize(tcs), ec->ncalls);
        /* calls in the order of their keys (index or block) */
        int order[MAXT];
        for (int t = 0; t < ec->ncalls; t++) order[t] = t;
        for (int a = 0; a < ec->ncalls; a++)
            for (int b = a + 1; b < ec->ncalls; b++)
                if (ec->calls[order[b]].key < ec->calls[order[a]].key) {
                    int x = order[a];
                    order[a] = order[b];
                    order[b] = x;
                }
        for (int t = 0; t < ec->ncalls && t < cJSON_GetArraySize(tcs); t++) {
            exp_call *w = &ec->calls[order[t]];
            const cJSON *g = cJSON_GetArrayItem(tcs, t);
            if (w->id.present) CHECK(same_text(jstr(g, "id"), &w->id), "%s: call %d id", name, t);
            CHECK(same_text(jstr(g, "name"), &w->name), "%s: call %d name %s", name, t,
                  jstr(g, "name"));
            const char *ga = jstr(g, "arguments");
            if (e->whole_args)
                CHECK(ga && same_json_text(ga, w->args.p ? w->args.p : "{}"),
                      "%s: call %d arguments %s", name, t, ga);
            else
                CHECK(ga && strlen(ga) == w->args.n && !memcmp(ga, w->args.p ? w->args.p : "", w->args.n),
                      "%s: call %d arguments %s", name, t, ga);
        }
    }
    const cJSON *u = get(m, "usage");
    if (e->in >= 0) CHECK(num(u, "input_tokens") == e->in, "%s: input tokens %lld, want %lld",
                          name, num(u, "input_tokens"), e->in);
    if (e->out >= 0) CHECK(num(u, "output_tokens") == e->out, "%s: output tokens %lld, want %lld",
                           name, num(u, "output_tokens"), e->out);
    const cJSON *err = get(m, "error");
    CHECK(cJSON_IsObject(err) == e->has_error, "%s: error present %d, want %d", name,
          cJSON_IsObject(err), e->has_error);
    if (e->has_error && cJSON_IsObject(err))
        CHECK(same_text(jstr(err, "message"), &e->err_msg), "%s: error message %s", name,
              jstr(err, "message"));
    cJSON_Delete(m);
    return bad;
}

/* The content of choice 0 in an export (NULL-safe), as a new string. */
static char *content0(const char *json) {
    cJSON *m = cJSON_Parse(json);
    const cJSON *c = cJSON_GetArrayItem(get(m, "choices"), 0);
    const char *s = c && num(c, "index") == 0 ? jstr(c, "content") : NULL;
    char *out = s ? strdup(s) : strdup("");
    cJSON_Delete(m);
    return out;
}

static void check_stream(const char *name, int dialect, const char *p, size_t n, expect *e) {
    char *whole = NULL;
    int rc = assemble(TKS_DIALECT_AUTO, p, n, NULL, 0, 0, &whole, NULL);
    if (e) {
        int bad = compare(name, whole, e);
        ok(bad == 0, "%s: the message equals the independent accumulation", name);
        if (bad) diag("%s: got %.600s", name, whole);
        is_int(rc, e->complete ? TKS_OK : TKS_ETRUNC, "%s: finish status", name);
    }
    char *with_dialect = NULL;
    assemble(dialect, p, n, NULL, 0, 0, &with_dialect, NULL);
    is_str(with_dialect, whole, "%s: --dialect given: same message as auto", name);
    free(with_dialect);

    /* every cut point, and byte by byte */
    int diff = 0;
    for (size_t k = 1; k < n && diff < 3; k++) {
        char *j;
        int rk = assemble(TKS_DIALECT_AUTO, p, n, &k, 1, 0, &j, NULL);
        if (rk != rc || strcmp(j, whole)) {
            diag("%s: cut at %zu differs (status %d)", name, k, rk);
            diff++;
        }
        free(j);
    }
    ok(diff == 0, "%s: all %zu cut points give the same message", name, n ? n - 1 : 0);
    char *bytes;
    int rb = assemble(TKS_DIALECT_AUTO, p, n, NULL, 0, 1, &bytes, NULL);
    ok(rb == rc && !strcmp(bytes, whole), "%s: byte by byte gives the same message", name);
    free(bytes);

    /* truncated at every offset (read through the getters: cheaper than exporting) */
    char *full_content = content0(whole);
    size_t term_end = e ? e->term_end : SIZE_MAX;
    int tbad = 0;
    for (size_t k = 0; k < n && tbad < 3; k++) {
        run r = {0};
        tks_client *c;
        tks_client_new(&c, NULL, collect, &r);
        int rk = tks_client_push(c, p, k);
        if (rk == TKS_OK) rk = tks_client_finish(c);
        const tks_assembler *m = tks_client_message(c);
        int complete = tks_assembler_complete(m);
        size_t clen = 0;
        const char *c0 = NULL;
        if (tks_assembler_choices(m) && tks_assembler_choice_index(m, 0) == 0)
            c0 = tks_assembler_content(m, 0, &clen);
        if (!c0) c0 = "";
        if (k < term_end && complete) tbad++, diag("%s: cut %zu: complete before the end", name, k);
        if ((rk == TKS_OK) != complete && rk != TKS_EPROTO && rk != TKS_EJSON)
            tbad++, diag("%s: cut %zu: status %d with complete %d", name, k, rk, complete);
        if (clen != r.text0.n || memcmp(c0, r.text0.p ? r.text0.p : "", clen))
            tbad++, diag("%s: cut %zu: content is not the TEXT deltas received", name, k);
        if (clen > strlen(full_content) || memcmp(full_content, c0, clen))
            tbad++, diag("%s: cut %zu: content is not a prefix of the full content", name, k);
        if (rk != TKS_OK && !*tks_client_error(c))
            tbad++, diag("%s: cut %zu: status %d without a message", name, k, rk);
        tks_client_free(c);
        sb_free(&r.text0);
    }
    ok(tbad == 0, "%s: truncated at each of %zu offsets: consistent partial messages", name, n);
    free(full_content);
    free(whole);
}

int main(void) {
    const char *shared = shared_dir();
    if (!shared) return skip_all("no ../shared fixtures (set TKS_SHARED)");
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fixtures/%s", shared, fixtures[i].path);
        size_t n;
        char *p = read_file(path, &n);
        if (!p) {
            ok(0, "read %s", path);
            continue;
        }
        expect e;
        build_expect(&e, fixtures[i].dialect, fixtures[i].path, p, n);
        check_stream(fixtures[i].path, fixtures[i].dialect, p, n, &e);
        free_expect(&e);
        free(p);
    }
    return done_testing();
}
