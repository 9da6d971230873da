/* decode_ollama.c - Ollama's native NDJSON lines (/api/chat and /api/generate).
 *
 * The first line -> START (no id; name = model). /api/chat: message.role -> ROLE once,
 * message.thinking -> REASONING, message.content -> TEXT, message.tool_calls[] (whole
 * calls) -> TOOL_CALL (index = function.index when given, else the next position; id
 * when given; name) then TOOL_ARGS with TKS_DELTA_WHOLE and the raw JSON of arguments.
 * /api/generate: thinking -> REASONING, response -> TEXT. done:true -> FINISH
 * (done_reason; "stop" after tool calls is reported as tool_calls, the raw word kept),
 * USAGE (prompt_eval_count, eval_count, their sum as the total; durations are not
 * token counts and are skipped), DONE. {"error":"..."} -> ERROR. */
#include "decoder_internal.h"

static int tool_calls(tks_decoder *d, uint32_t arr) {
    tks__json *j = &d->js;
    int rc;
    for (uint32_t t = tks__json_first(j, arr); t; t = tks__json_next(j, arr, t)) {
        uint32_t fn = TKS__JGET(j, t, "function");
        if (tks__json_type(j, fn) != TKS__J_OBJECT) continue;
        int64_t idx = tks__dec_int(d, TKS__JGET(j, fn, "index"), -1);
        if (idx < 0 || idx > INT32_MAX - 1) idx = d->next_tool;
        if (idx >= d->next_tool) d->next_tool = (int32_t)idx + 1;
        if ((rc = tks__dec_tool_call(d, 0, (int32_t)idx, TKS__JGET(j, t, "id"), TKS__JGET(j, fn, "name")))) return rc;
        if ((rc = tks__dec_tool_args(d, 0, (int32_t)idx, TKS__JGET(j, fn, "arguments"), 1))) return rc;
    }
    return TKS_OK;
}

int tks__dec_ollama(tks_decoder *d, const tks_event *ev) {
    int rc;
    if (TKS_UNLIKELY(ev->data_len == 0 || tks__dec_blank(ev->data, ev->data_len))) return TKS_OK;
    if ((rc = tks__dec_parse(d, ev->data, ev->data_len))) return rc;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK;
    uint32_t model = 0, msg = 0, resp = 0, thinking = 0, done = 0, error = 0;
    for (uint32_t k = tks__json_first(j, root); k; k = tks__json_next(j, root, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        if (TKS__KEY(key, kl, "model")) model = k + 1;
        else if (TKS__KEY(key, kl, "message")) msg = k + 1;
        else if (TKS__KEY(key, kl, "response")) resp = k + 1;
        else if (TKS__KEY(key, kl, "thinking")) thinking = k + 1;
        else if (TKS__KEY(key, kl, "done")) done = k + 1;
        else if (TKS__KEY(key, kl, "error")) error = k + 1;
    }
    if (error && tks__json_truthy(j, error)) return tks__dec_error(d, error, error);
    if (!d->started && (rc = tks__dec_start(d, 0, model))) return rc;
    if (tks__json_type(j, msg) == TKS__J_OBJECT) {
        uint32_t role = TKS__JGET(j, msg, "role");
        if (role && (rc = tks__dec_role(d, 0, role))) return rc;
        if ((rc = tks__dec_text(d, TKS_DELTA_REASONING, 0, TKS__JGET(j, msg, "thinking")))) return rc;
        if ((rc = tks__dec_text(d, TKS_DELTA_TEXT, 0, TKS__JGET(j, msg, "content")))) return rc;
        if ((rc = tool_calls(d, TKS__JGET(j, msg, "tool_calls")))) return rc;
    } else {
        if ((rc = tks__dec_text(d, TKS_DELTA_REASONING, 0, thinking))) return rc;
        if ((rc = tks__dec_text(d, TKS_DELTA_TEXT, 0, resp))) return rc;
    }
    int is_done = 0;
    if (!tks__json_bool(j, done, &is_done) || !is_done) return TKS_OK;
    const char *s;
    size_t sl;
    if (tks__json_str(j, TKS__JGET(j, root, "done_reason"), &s, &sl) && sl) {
        int f = tks__dec_finish_word(s, sl);
        if (f == TKS_FINISH_STOP && d->tool_seen) f = TKS_FINISH_TOOL_CALLS;
        if ((rc = tks__dec_finish_text(d, 0, f, s, sl))) return rc;
    } else if ((rc = tks__dec_finish_text(d, 0, d->tool_seen ? TKS_FINISH_TOOL_CALLS : TKS_FINISH_STOP, NULL, 0))) {
        return rc;
    }
    uint32_t pin = TKS__JGET(j, root, "prompt_eval_count"), pout = TKS__JGET(j, root, "eval_count");
    if (pin || pout) {
        tks_delta x = {.kind = TKS_DELTA_USAGE};
        x.input_tokens = tks__dec_int(d, pin, -1);
        x.output_tokens = tks__dec_int(d, pout, -1);
        x.total_tokens = x.input_tokens >= 0 && x.output_tokens >= 0 && x.input_tokens < INT64_MAX / 2 && x.output_tokens < INT64_MAX / 2 ? x.input_tokens + x.output_tokens : -1;
        x.reasoning_tokens = x.cached_tokens = -1;
        if ((rc = tks__dec_emit(d, &x))) return rc;
    }
    return tks__dec_done(d);
}
