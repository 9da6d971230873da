/* t_decoder_fixtures.c - tks_decoder on every recorded provider stream in
 * ../shared/fixtures. Each file is framed by the test's own small framers (SSE lines,
 * JSON lines, JSON-array elements, eventstream frames) and decoded; the expectations
 * come from an independent reading of the same events with cJSON (text joined per
 * choice, reasoning, refusals, tool calls, finish words, usage, errors, the terminal
 * marker), plus values read by hand from the files. Each stream is also decoded under
 * AUTO, with a reused poisoned event buffer, and under OOM torture. */
#include "dec_common.h"
#include "testalloc.h"
#include "testutil.h"

#include <cJSON.h>

/* ---- the reference reading (cJSON) ---------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static int64_t jint(const cJSON *o, const char *k, int64_t dflt) {
    const cJSON *v = jget(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}
static void app(dstr *d, const char *s) {
    if (s) ds_puts(d, s);
}
static void setstr(dstr *d, const char *s) {
    if (s && *s) {
        d->len = 0;
        ds_puts(d, s);
    }
}
static int cidx(int64_t i) { return i >= 0 && i < REC_CHOICES ? (int)i : REC_CHOICES - 1; }

static void ref_error(rec *w, const cJSON *e) {
    if (cJSON_IsString(e)) {
        w->n_error++;
        setstr(&w->err_msg, e->valuestring);
    } else if (cJSON_IsObject(e)) {
        w->n_error++;
        w->err_msg.len = 0;
        app(&w->err_msg, jstr(e, "message"));
    }
}

static void ref_openai_chat(const tevs *evs, rec *w) {
    for (size_t i = 0; i < evs->n; i++) {
        if (strcmp(evs->v[i].data, "[DONE]") == 0) {
            w->n_done++;
            continue;
        }
        cJSON *o = cJSON_Parse(evs->v[i].data);
        const cJSON *c;
        cJSON_ArrayForEach(c, jget(o, "choices")) {
            int ci = cidx(jint(c, "index", 0));
            const cJSON *d = jget(c, "delta");
            app(&w->text[ci], jstr(d, "content"));
            app(&w->refusal[ci], jstr(d, "refusal"));
            const char *r = jstr(d, "reasoning_content");
            app(&w->reasoning[ci], r && *r ? r : jstr(d, "reasoning"));
            const cJSON *tc;
            cJSON_ArrayForEach(tc, jget(d, "tool_calls")) {
                rec_tool *t = &w->tool[ci][jint(tc, "index", 0)];
                setstr(&t->id, jstr(tc, "id"));
                setstr(&t->name, jstr(jget(tc, "function"), "name"));
                app(&t->args, jstr(jget(tc, "function"), "arguments"));
            }
            if (jstr(c, "finish_reason")) setstr(&w->finish_raw[ci], jstr(c, "finish_reason"));
        }
        const cJSON *u = jget(o, "usage");
        if (cJSON_IsObject(u)) {
            w->usage[0] = jint(u, "prompt_tokens", w->usage[0]);
            w->usage[1] = jint(u, "completion_tokens", w->usage[1]);
            w->usage[2] = jint(u, "total_tokens", w->usage[2]);
            w->usage[3] = jint(jget(u, "completion_tokens_details"), "reasoning_tokens", w->usage[3]);
            int64_t cached = jint(jget(u, "prompt_tokens_details"), "cached_tokens", -1);
            if (cached < 0) cached = jint(u, "prompt_cache_hit_tokens", -1);
            if (cached >= 0) w->usage[4] = cached;
        }
        if (cJSON_IsTrue(jget(o, "error")) || cJSON_IsObject(jget(o, "error"))) ref_error(w, jget(o, "error"));
        cJSON_Delete(o);
    }
}

static void ref_anthropic_obj(const cJSON *o, rec *w, int *tool_of_block, int *ntools) {
    const char *t = jstr(o, "type");
    if (!t) return;
    if (!strcmp(t, "message_start")) {
        const cJSON *u = jget(jget(o, "message"), "usage");
        w->usage[0] = jint(u, "input_tokens", -1);
        w->usage[1] = jint(u, "output_tokens", -1);
        w->usage[4] = jint(u, "cache_read_input_tokens", -1);
        *ntools = 0;
        w->n_done = 0;
    } else if (!strcmp(t, "content_block_start")) {
        const cJSON *cb = jget(o, "content_block");
        const char *bt = jstr(cb, "type");
        if (bt && !strcmp(bt, "tool_use")) {
            int k = *ntools;
            tool_of_block[jint(o, "index", 0) & 63] = k;
            (*ntools)++;
            setstr(&w->tool[0][k].id, jstr(cb, "id"));
            setstr(&w->tool[0][k].name, jstr(cb, "name"));
        } else if (bt && !strcmp(bt, "text")) {
            app(&w->text[0], jstr(cb, "text"));
        }
    } else if (!strcmp(t, "content_block_delta")) {
        const cJSON *d = jget(o, "delta");
        const char *dt = jstr(d, "type");
        if (!strcmp(dt, "text_delta")) app(&w->text[0], jstr(d, "text"));
        if (!strcmp(dt, "thinking_delta")) app(&w->reasoning[0], jstr(d, "thinking"));
        if (!strcmp(dt, "signature_delta")) app(&w->signature, jstr(d, "signature"));
        if (!strcmp(dt, "input_json_delta"))
            app(&w->tool[0][tool_of_block[jint(o, "index", 0) & 63]].args, jstr(d, "partial_json"));
    } else if (!strcmp(t, "message_delta")) {
        setstr(&w->finish_raw[0], jstr(jget(o, "delta"), "stop_reason"));
        const cJSON *u = jget(o, "usage");
        w->usage[0] = jint(u, "input_tokens", w->usage[0]);
        w->usage[1] = jint(u, "output_tokens", w->usage[1]);
        w->usage[4] = jint(u, "cache_read_input_tokens", w->usage[4]);
    } else if (!strcmp(t, "message_stop")) {
        w->n_done = 1;
    } else if (!strcmp(t, "error")) {
        ref_error(w, jget(o, "error"));
    }
}

static void ref_anthropic(const tevs *evs, rec *w) {
    int map[64] = {0}, n = 0;
    for (size_t i = 0; i < evs->n; i++) {
        cJSON *o = cJSON_Parse(evs->v[i].data);
        ref_anthropic_obj(o, w, map, &n);
        cJSON_Delete(o);
    }
}

static void ref_responses(const tevs *evs, rec *w) {
    int map[64] = {0}, n = 0;
    for (size_t i = 0; i < evs->n; i++) {
        if (strcmp(evs->v[i].data, "[DONE]") == 0) {
            w->n_done = 1;
            continue;
        }
        cJSON *o = cJSON_Parse(evs->v[i].data);
        const char *t = jstr(o, "type");
        const cJSON *resp = jget(o, "response");
        int64_t oi = jint(o, "output_index", 0) & 63;
        if (!strcmp(t, "response.created")) {
            n = 0;
            w->n_done = 0;
        } else if (!strcmp(t, "response.output_text.delta")) {
            app(&w->text[0], jstr(o, "delta"));
        } else if (!strcmp(t, "response.reasoning_summary_text.delta") || !strcmp(t, "response.reasoning_text.delta")) {
            app(&w->reasoning[0], jstr(o, "delta"));
        } else if (!strcmp(t, "response.output_item.added") && !strcmp(jstr(jget(o, "item"), "type"), "function_call")) {
            map[oi] = n++;
            setstr(&w->tool[0][map[oi]].id, jstr(jget(o, "item"), "call_id"));
            setstr(&w->tool[0][map[oi]].name, jstr(jget(o, "item"), "name"));
        } else if (!strcmp(t, "response.output_item.done") && !strcmp(jstr(jget(o, "item"), "type"), "reasoning")) {
            app(&w->signature, jstr(jget(o, "item"), "encrypted_content"));
        } else if (!strcmp(t, "response.function_call_arguments.delta")) {
            app(&w->tool[0][map[oi]].args, jstr(o, "delta"));
        } else if (!strcmp(t, "response.completed") || !strcmp(t, "response.failed") ||
                   !strcmp(t, "response.incomplete")) {
            const cJSON *u = jget(resp, "usage");
            if (cJSON_IsObject(u)) {
                w->usage[0] = jint(u, "input_tokens", -1);
                w->usage[1] = jint(u, "output_tokens", -1);
                w->usage[2] = jint(u, "total_tokens", -1);
                w->usage[3] = jint(jget(u, "output_tokens_details"), "reasoning_tokens", -1);
                w->usage[4] = jint(jget(u, "input_tokens_details"), "cached_tokens", -1);
            }
            setstr(&w->finish_raw[0], jstr(resp, "status"));
            w->n_done = 1;
        } else if (!strcmp(t, "error")) {
            ref_error(w, jget(o, "error") ? jget(o, "error") : o);
        }
        cJSON_Delete(o);
    }
}

static void ref_gemini(const tevs *evs, rec *w) {
    int calls[REC_CHOICES] = {0};
    for (size_t i = 0; i < evs->n; i++) {
        cJSON *o = cJSON_Parse(evs->v[i].data);
        const cJSON *c;
        int pos = 0;
        cJSON_ArrayForEach(c, jget(o, "candidates")) {
            int ci = cidx(jint(c, "index", pos++));
            const cJSON *p;
            cJSON_ArrayForEach(p, jget(jget(c, "content"), "parts")) {
                if (cJSON_IsTrue(jget(p, "thought"))) app(&w->reasoning[ci], jstr(p, "text"));
                else app(&w->text[ci], jstr(p, "text"));
                const cJSON *fc = jget(p, "functionCall");
                if (fc) {
                    rec_tool *t = &w->tool[ci][calls[ci]++];
                    setstr(&t->name, jstr(fc, "name"));
                    char *a = cJSON_PrintUnformatted(jget(fc, "args"));
                    app(&t->args, a);
                    free(a);
                }
                app(&w->signature, jstr(p, "thoughtSignature"));
            }
            if (jstr(c, "finishReason")) {
                setstr(&w->finish_raw[ci], jstr(c, "finishReason"));
                w->n_done = 1;
            }
        }
        const cJSON *u = jget(o, "usageMetadata");
        if (u) {
            w->usage[0] = jint(u, "promptTokenCount", -1);
            w->usage[1] = jint(u, "candidatesTokenCount", -1);
            w->usage[2] = jint(u, "totalTokenCount", -1);
            w->usage[3] = jint(u, "thoughtsTokenCount", -1);
            w->usage[4] = jint(u, "cachedContentTokenCount", -1);
        }
        ref_error(w, jget(o, "error"));
        cJSON_Delete(o);
    }
}

static void ref_ollama(const tevs *evs, rec *w) {
    for (size_t i = 0; i < evs->n; i++) {
        cJSON *o = cJSON_Parse(evs->v[i].data);
        const cJSON *m = jget(o, "message");
        app(&w->text[0], m ? jstr(m, "content") : jstr(o, "response"));
        app(&w->reasoning[0], m ? jstr(m, "thinking") : jstr(o, "thinking"));
        if (cJSON_IsTrue(jget(o, "done"))) {
            setstr(&w->finish_raw[0], jstr(o, "done_reason"));
            w->usage[0] = jint(o, "prompt_eval_count", -1);
            w->usage[1] = jint(o, "eval_count", -1);
            w->usage[2] = w->usage[0] + w->usage[1];
            w->n_done = 1;
        }
        ref_error(w, jget(o, "error"));
        cJSON_Delete(o);
    }
}

static size_t b64dec(const char *s, char *out) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(al, *s);
        if (!p) continue;
        acc = acc << 6 | (uint32_t)(p - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)(acc >> bits & 0xFF);
        }
    }
    out[n] = 0;
    return n;
}

static void ref_bedrock(const tevs *evs, rec *w) {
    int map[64] = {0}, n = 0;
    for (size_t i = 0; i < evs->n; i++) {
        const char *t = evs->v[i].type;
        cJSON *o = cJSON_Parse(evs->v[i].data);
        int64_t bi = jint(o, "contentBlockIndex", 0) & 63;
        if (!strcmp(t, "contentBlockDelta")) {
            const cJSON *d = jget(o, "delta");
            app(&w->text[0], jstr(d, "text"));
            app(&w->reasoning[0], jstr(jget(d, "reasoningContent"), "text"));
            app(&w->signature, jstr(jget(d, "reasoningContent"), "signature"));
            if (jget(d, "toolUse")) app(&w->tool[0][map[bi]].args, jstr(jget(d, "toolUse"), "input"));
        } else if (!strcmp(t, "contentBlockStart")) {
            const cJSON *tu = jget(jget(o, "start"), "toolUse");
            map[bi] = n++;
            setstr(&w->tool[0][map[bi]].id, jstr(tu, "toolUseId"));
            setstr(&w->tool[0][map[bi]].name, jstr(tu, "name"));
        } else if (!strcmp(t, "messageStop")) {
            setstr(&w->finish_raw[0], jstr(o, "stopReason"));
        } else if (!strcmp(t, "metadata")) {
            const cJSON *u = jget(o, "usage");
            w->usage[0] = jint(u, "inputTokens", -1);
            w->usage[1] = jint(u, "outputTokens", -1);
            w->usage[2] = jint(u, "totalTokens", -1);
            w->n_done = 1;
        } else if (!strcmp(t, "chunk")) {
            const char *b = jstr(o, "bytes");
            char *raw = malloc(strlen(b) + 1);
            b64dec(b, raw);
            cJSON *in = cJSON_Parse(raw);
            app(&w->text[0], jstr(in, "outputText"));
            setstr(&w->finish_raw[0], jstr(in, "completionReason"));
            const cJSON *m = jget(in, "amazon-bedrock-invocationMetrics");
            if (m) {
                w->usage[0] = jint(m, "inputTokenCount", -1);
                w->usage[1] = jint(m, "outputTokenCount", -1);
                w->n_done = 1;
            }
            cJSON_Delete(in);
            free(raw);
        }
        cJSON_Delete(o);
    }
}

/* ---- comparison ---------------------------------------------------------------------- */

static int json_same(const char *a, const char *b) {
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int same = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

static void compare(const char *what, rec *got, rec *want, int args_as_json) {
    int c;
    for (c = 0; c < REC_CHOICES; c++) {
        if (!want->text[c].len && !got->text[c].len && !want->reasoning[c].len && !got->reasoning[c].len &&
            !want->finish_raw[c].len && !got->finish_raw[c].len && !want->refusal[c].len && !got->refusal[c].len &&
            !got->tool[c][0].name.len && !want->tool[c][0].name.len)
            continue;
        is_str(ds_str(&got->text[c]), ds_str(&want->text[c]), "%s: choice %d text", what, c);
        is_str(ds_str(&got->reasoning[c]), ds_str(&want->reasoning[c]), "%s: choice %d reasoning", what, c);
        is_str(ds_str(&got->refusal[c]), ds_str(&want->refusal[c]), "%s: choice %d refusal", what, c);
        is_str(ds_str(&got->finish_raw[c]), ds_str(&want->finish_raw[c]), "%s: choice %d raw finish", what, c);
        for (int t = 0; t < REC_TOOLS; t++) {
            rec_tool *g = &got->tool[c][t], *w = &want->tool[c][t];
            if (!g->name.len && !w->name.len && !g->args.len && !w->args.len) continue;
            is_str(ds_str(&g->name), ds_str(&w->name), "%s: choice %d tool %d name", what, c, t);
            is_str(ds_str(&g->id), ds_str(&w->id), "%s: choice %d tool %d id", what, c, t);
            if (args_as_json)
                ok(json_same(ds_str(&g->args), ds_str(&w->args)), "%s: choice %d tool %d args (as JSON): %s", what, c,
                   t, ds_str(&g->args));
            else
                is_str(ds_str(&g->args), ds_str(&w->args), "%s: choice %d tool %d args", what, c, t);
        }
    }
    is_str(ds_str(&got->signature), ds_str(&want->signature), "%s: signatures", what);
    static const char *un[] = {"input", "output", "total", "reasoning", "cached"};
    for (int i = 0; i < 5; i++) is_int(got->usage[i], want->usage[i], "%s: usage %s", what, un[i]);
    is_int(got->n_error > 0, want->n_error > 0, "%s: error or not", what);
    is_str(ds_str(&got->err_msg), ds_str(&want->err_msg), "%s: error message", what);
    is_int(got->n_done > 0, want->n_done > 0, "%s: DONE or not", what);
}

/* ---- per file ------------------------------------------------------------------------ */

typedef struct oom_case {
    const tevs *evs;
    int dialect;
    const char *want_log;
    int want_rc;
} oom_case;

static int oom_body(const tks_alloc *a, void *ctx) {
    oom_case *c = ctx;
    rec r;
    rec_init(&r);
    int rc = decode_all(c->evs, c->dialect, a, &r, 0, NULL);
    int res = rc == TKS_ENOMEM ? 1 : (rc == c->want_rc && strcmp(ds_str(&r.log), c->want_log) == 0) ? 0 : 2;
    rec_free(&r);
    return res;
}

enum { F_SSE, F_LINES, F_ARRAY, F_FRAMES };

static rec got;

static void run(const char *file, int framing, int dialect, int want_rc, int args_as_json) {
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/%s", shared_dir(), file);
    size_t n;
    char *s = read_file(path, &n);
    if (!ok(s != NULL, "read %s", file)) return;
    tevs evs = {0};
    switch (framing) {
    case F_SSE: sse_split(s, n, &evs); break;
    case F_LINES: line_split(s, n, &evs); break;
    case F_ARRAY: array_split(s, n, &evs); break;
    default: frames_split(s, n, &evs); break;
    }
    free(s);
    ok(evs.n > 0, "%s: %zu events", file, evs.n);
    rec want, r2, r3;
    rec_free(&got);
    rec_init(&got);
    rec_init(&want);
    rec_init(&r2);
    rec_init(&r3);
    int rc = decode_all(&evs, dialect, NULL, &got, 0, NULL);
    is_int(rc, want_rc, "%s: decoder status %s", file, tks_status_name(want_rc));
    int dia;
    int rc2 = decode_all(&evs, dialect, NULL, &r2, 1, NULL);
    int rc3 = decode_all(&evs, TKS_DIALECT_AUTO, NULL, &r3, 1, &dia);
    ok(rc2 == rc && strcmp(ds_str(&r2.log), ds_str(&got.log)) == 0, "%s: identical deltas with a reused event buffer",
       file);
    is_int(dia, dialect, "%s: AUTO decides %s", file, tks_dialect_name(dialect));
    ok(rc3 == rc && strcmp(ds_str(&r3.log), ds_str(&got.log)) == 0, "%s: identical deltas under AUTO", file);
    is_int(got.after_done, 0, "%s: nothing after DONE", file);
    switch (dialect) {
    case TKS_DIALECT_OPENAI_CHAT: ref_openai_chat(&evs, &want); break;
    case TKS_DIALECT_ANTHROPIC: ref_anthropic(&evs, &want); break;
    case TKS_DIALECT_OPENAI_RESPONSES: ref_responses(&evs, &want); break;
    case TKS_DIALECT_GEMINI: ref_gemini(&evs, &want); break;
    case TKS_DIALECT_OLLAMA: ref_ollama(&evs, &want); break;
    default: ref_bedrock(&evs, &want); break;
    }
    compare(file, &got, &want, args_as_json);
    oom_case c = {&evs, dialect, ds_str(&got.log), rc};
    oom_torture(file, oom_body, &c);
    rec_free(&want);
    rec_free(&r2);
    rec_free(&r3);
    tevs_free(&evs);
}

int main(void) {
    if (!shared_dir()) return skip_all("no ../shared fixtures (TKS_SHARED unset or absent)");
    rec_init(&got);
    const int C = TKS_DIALECT_OPENAI_CHAT, R = TKS_DIALECT_OPENAI_RESPONSES, A = TKS_DIALECT_ANTHROPIC,
              G = TKS_DIALECT_GEMINI, O = TKS_DIALECT_OLLAMA, B = TKS_DIALECT_BEDROCK;

    run("openai-chat/text-n3-choices-usage.sse", F_SSE, C, TKS_OK, 0);
    is_int(got.finish[0] + got.finish[1] + got.finish[2], 3 * TKS_FINISH_STOP, "n=3: three stop finishes");
    is_int(got.n_finish, 3, "n=3: one FINISH per choice");
    is_int(got.usage[0], 79, "n=3: prompt_tokens 79 (read by hand)");
    is_int(got.usage[1], 42, "n=3: completion_tokens 42");
    is_int(got.usage[2], 121, "n=3: total 121");
    ok(got.text[2].len > 0 && got.role[2].len == 9, "n=3: choice 2 has text and its role");

    run("openai-chat/parallel-tool-calls-usage.sse", F_SSE, C, TKS_OK, 0);
    is_str(ds_str(&got.tool[0][0].name), "GetWeatherArgs", "parallel: tool 0 name (by hand)");
    is_str(ds_str(&got.tool[0][1].name), "get_stock_price", "parallel: tool 1 name");
    ok(json_same(ds_str(&got.tool[0][1].args), "{\"ticker\":\"AAPL\",\"exchange\":\"NASDAQ\"}"),
       "parallel: tool 1 arguments: %s", ds_str(&got.tool[0][1].args));
    is_int(got.finish[0], TKS_FINISH_TOOL_CALLS, "parallel: finish tool_calls");
    is_int(got.usage[2], 209, "parallel: total 209");

    run("openai-chat/refusal-logprobs-usage.sse", F_SSE, C, TKS_OK, 0);
    ok(got.refusal[0].len > 10 && got.text[0].len == 0, "refusal: refusal text, no content");
    ok(strstr(ds_str(&got.logprobs[0]), "\"refusal\":[{\"token\":") != NULL, "refusal: logprobs kept verbatim");

    run("openai-chat/tool-call-usage-obfuscation.sse", F_SSE, C, TKS_OK, 0);
    is_str(ds_str(&got.tool[0][0].name), "get_capital", "obfuscation: tool name");
    is_str(ds_str(&got.tool[0][0].args), "{\"country\":\"UK\"}", "obfuscation: arguments (by hand)");
    is_int(got.usage[4], 0, "obfuscation: cached_tokens 0");

    run("azure-openai/content-filter-model-router.chunks.jsonl", F_LINES, C, TKS_ETRUNC, 0);
    is_int(got.n_start, 1, "azure: one START, not from the empty-id chunk");
    ok(got.start_id.len > 0, "azure: START has the real id: %s", ds_str(&got.start_id));
    is_int(got.n_usage, 1, "azure: one USAGE (the choices:[] prompt filter chunk is not usage)");
    is_int(got.usage[3], 64, "azure: reasoning_tokens 64 (by hand)");

    run("deepseek/reasoning-content-emoji.sse", F_SSE, C, TKS_OK, 0);
    ok(strstr(ds_str(&got.text[0]), "\xF0\x9F\x98\x8A") != NULL, "deepseek: emoji in content");
    is_int(got.usage[3], 198, "deepseek: reasoning_tokens 198 (by hand)");
    is_int(got.usage[1], 212, "deepseek: completion_tokens 212");

    run("openrouter/chat-inband-error-comments.sse", F_SSE, C, TKS_OK, 0);
    is_str(ds_str(&got.err_msg), "Token limit reached", "openrouter: in-band error message (by hand)");
    is_str(ds_str(&got.err_code), "400", "openrouter: error code");
    is_int(got.finish[0], TKS_FINISH_LENGTH, "openrouter: finish length");

    run("groq/event-error-tool-use-failed.sse", F_SSE, C, TKS_ETRUNC, 0);
    is_str(ds_str(&got.err_code), "tool_use_failed", "groq: error code");
    is_str(ds_str(&got.err_type), "invalid_request_error", "groq: error type");
    ok(got.reasoning[0].len > 100, "groq: reasoning text");

    run("openai-responses/function-call-no-sequence-number.sse", F_SSE, R, TKS_OK, 0);
    is_str(ds_str(&got.tool[0][0].name), "get_capital", "responses: tool name");
    is_str(ds_str(&got.tool[0][0].id), "call_kL0PCQV7M2WMoVX8V8OtYSAL", "responses: call_id as id");
    is_str(ds_str(&got.tool[0][0].args), "{\"country\":\"France\"}", "responses: arguments");
    is_int(got.finish[0], TKS_FINISH_TOOL_CALLS, "responses: completed with a call is tool_calls");

    run("openai-responses/reasoning-summary-function-calls.chunks.jsonl", F_LINES, R, TKS_OK, 0);
    is_int(got.n_start, 4, "responses: four concatenated responses, four STARTs");
    ok(strstr(ds_str(&got.text[0]), "570") != NULL, "responses: final text");
    is_int(got.usage[2], 311, "responses: last total 311 (by hand)");

    run("openai-responses/error-insufficient-quota.chunks.jsonl", F_LINES, R, TKS_OK, 0);
    is_int(got.n_error, 1, "responses error: one ERROR (response.failed repeats it)");
    is_str(ds_str(&got.err_code), "insufficient_quota", "responses error: code");
    is_int(got.finish[0], TKS_FINISH_ERROR, "responses error: finish error");

    run("openrouter/responses-reasoning-text-no-event-lines.sse", F_SSE, R, TKS_OK, 0);
    ok(got.reasoning[0].len > 20, "openrouter responses: reasoning text");
    is_int(got.n_done, 1, "openrouter responses: one DONE ([DONE] after completed is not a second)");

    run("anthropic/text-padded-json.sse", F_SSE, A, TKS_OK, 0);
    is_int(got.usage[0], 20, "anthropic: input 20 (by hand)");
    is_int(got.usage[1], 5, "anthropic: output 5");
    is_int(got.finish[0], TKS_FINISH_STOP, "anthropic: end_turn is stop");

    run("anthropic/thinking-signature.sse", F_SSE, A, TKS_OK, 0);
    ok(got.reasoning[0].len > 100 && got.signature.len > 50, "anthropic thinking: reasoning and signature");
    is_int(got.usage[1], 282, "anthropic thinking: output 282");

    run("anthropic/tool-use-input-json.chunks.jsonl", F_LINES, A, TKS_OK, 0);
    is_int(got.finish[0], TKS_FINISH_TOOL_CALLS, "anthropic tool: tool_use is tool_calls");
    is_int(got.usage[0], 849, "anthropic tool: input 849");

    run("gemini/sse-text-crlf.sse", F_SSE, G, TKS_OK, 1);
    is_int(got.finish[0], TKS_FINISH_STOP, "gemini: STOP");
    run("gemini/sse-thought-parts.sse", F_SSE, G, TKS_OK, 1);
    is_int(got.usage[3] > 0, 1, "gemini thoughts: thoughtsTokenCount");
    ok(got.reasoning[0].len > 100 && got.text[0].len > 100, "gemini thoughts: reasoning and text");
    run("gemini/sse-function-call-thought-signature.sse", F_SSE, G, TKS_OK, 1);
    is_str(ds_str(&got.tool[0][0].name), "get_country", "gemini: function name (by hand)");
    is_int(got.tool[0][0].whole, 1, "gemini: args given whole");
    is_str(ds_str(&got.tool[0][0].args), "{}", "gemini: raw args bytes");
    is_int(got.finish[0], TKS_FINISH_TOOL_CALLS, "gemini: STOP after a call is tool_calls");
    is_str(ds_str(&got.finish_raw[0]), "STOP", "gemini: raw STOP kept");
    is_str(ds_str(&got.start_model), "gemini-3-pro-preview", "gemini: model");
    run("gemini/sse-utf8-cjk.sse", F_SSE, G, TKS_OK, 1);
    run("gemini/json-array-stream-bom.json", F_ARRAY, G, TKS_OK, 1);
    ok(strncmp(ds_str(&got.text[0]), "Once upon a time", 16) == 0, "gemini array: text");

    run("ollama/chat-stream.ndjson", F_LINES, O, TKS_OK, 1);
    is_str(ds_str(&got.text[0]), "This is test completion response", "ollama chat: text (by hand)");
    is_int(got.usage[1], 239, "ollama chat: eval_count");
    run("ollama/generate-stream-context.ndjson", F_LINES, O, TKS_OK, 1);
    is_int(got.usage[1], 304, "ollama generate: eval_count (by hand)");

    run("bedrock/converse-stream-text-tool-use.bin", F_FRAMES, B, TKS_OK, 0);
    is_str(ds_str(&got.tool[0][0].name), "get_temperature", "bedrock: tool name (by hand)");
    is_str(ds_str(&got.tool[0][0].args), "{\"city\":\"Paris\"}", "bedrock: tool input");
    is_int(got.usage[2], 562, "bedrock: total 562");
    is_int(got.finish[0], TKS_FINISH_TOOL_CALLS, "bedrock: tool_use");
    run("bedrock/converse-stream-reasoning.bin", F_FRAMES, B, TKS_OK, 0);
    is_str(ds_str(&got.text[0]), "Hello! It's nice to meet you. How can I help you today?", "bedrock: text (by hand)");
    run("bedrock/invoke-with-response-stream-titan.bin", F_FRAMES, B, TKS_OK, 0);
    ok(strstr(ds_str(&got.text[0]), "The sky is typically blue") != NULL, "titan: decoded base64 text");
    is_int(got.usage[1], 37, "titan: output tokens (by hand)");
    is_int(got.finish[0], TKS_FINISH_STOP, "titan: FINISH is stop");

    rec_free(&got);
    return done_testing();
}
