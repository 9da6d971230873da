/* decode_openai_responses.c - OpenAI Responses API stream events (typed by the JSON
 * "type"; sequence_number optional; OpenRouter's variant without event lines and with
 * a final [DONE]).
 *
 * response.created (or the first lifecycle event) -> START (response id, model);
 * output_item.added message -> ROLE; output_text.delta -> TEXT (+ LOGPROBS when the
 * array is not empty); refusal.delta -> REFUSAL; reasoning_summary_text.delta and
 * reasoning_text.delta -> REASONING; output_item.added function_call / custom_tool_call
 * -> TOOL_CALL (index = position among the response's tool calls, id = call_id, name);
 * function_call_arguments.delta / custom_tool_call_input.delta -> TOOL_ARGS;
 * output_item.done of a call whose arguments never streamed -> TOOL_ARGS (WHOLE);
 * output_item.done reasoning with encrypted_content -> SIGNATURE;
 * response.completed / incomplete / failed -> USAGE, FINISH (completed: stop, or
 * tool_calls when the response made calls; incomplete: its reason; failed: error, with an
 * ERROR from response.error unless an error event came first), then DONE;
 * type "error" (nested or flat fields) -> ERROR. Everything else is skipped. */
#include "decoder_internal.h"

static int is_lifecycle(const char *t, size_t tl) {
    return TKS__KEY(t, tl, "response.created") || TKS__KEY(t, tl, "response.in_progress") ||
           TKS__KEY(t, tl, "response.queued");
}

static int tool_added(tks_decoder *d, uint32_t root, uint32_t item) {
    tks__json *j = &d->js;
    int rc;
    int64_t key = tks__dec_int(d, TKS__JGET(j, root, "output_index"), -1);
    tks__dec_tool *t = tks__dec_tool_get(d, key, 0, &rc);
    if (t) return TKS_OK; /* already announced */
    if (!(t = tks__dec_tool_get(d, key, 1, &rc))) return rc;
    int32_t index = t->tool;
    uint32_t id = TKS__JGET(j, item, "call_id");
    if (!id) id = TKS__JGET(j, item, "id");
    if ((rc = tks__dec_tool_call(d, 0, index, id, TKS__JGET(j, item, "name")))) return rc;
    uint32_t args = TKS__JGET(j, item, "arguments");
    if (!args) args = TKS__JGET(j, item, "input");
    const char *s;
    size_t sl;
    if (tks__json_str(j, args, &s, &sl) && sl) {
        t = tks__dec_tool_get(d, key, 0, &rc);
        t->flags |= TKS__TOOL_ARGS;
        return tks__dec_tool_args(d, 0, index, args, 1);
    }
    return TKS_OK;
}

static int is_call_item(tks__json *j, uint32_t item) {
    uint32_t type = TKS__JGET(j, item, "type");
    return TKS__JSTR_IS(j, type, "function_call") || TKS__JSTR_IS(j, type, "custom_tool_call");
}

static int item_done(tks_decoder *d, uint32_t root, uint32_t item) {
    tks__json *j = &d->js;
    int rc;
    if (is_call_item(j, item)) {
        /* a proxy that only sends the finished item still gives the call */
        if ((rc = tool_added(d, root, item))) return rc;
        int64_t key = tks__dec_int(d, TKS__JGET(j, root, "output_index"), -1);
        tks__dec_tool *t = tks__dec_tool_get(d, key, 0, &rc);
        if (!t || (t->flags & TKS__TOOL_ARGS)) return TKS_OK;
        uint32_t args = TKS__JGET(j, item, "arguments");
        if (!args) args = TKS__JGET(j, item, "input");
        const char *s;
        size_t sl;
        if (!tks__json_str(j, args, &s, &sl) || !sl) return TKS_OK;
        t->flags |= TKS__TOOL_ARGS;
        return tks__dec_tool_args(d, 0, t->tool, args, 1);
    }
    if (TKS__JSTR_IS(j, TKS__JGET(j, item, "type"), "reasoning"))
        return tks__dec_text(d, TKS_DELTA_SIGNATURE, 0, TKS__JGET(j, item, "encrypted_content"));
    return TKS_OK;
}

static int args_delta(tks_decoder *d, uint32_t root) {
    tks__json *j = &d->js;
    int rc;
    uint32_t delta = TKS__JGET(j, root, "delta");
    const char *s;
    size_t sl;
    if (!tks__json_str(j, delta, &s, &sl) || !sl) return TKS_OK;
    int64_t key = tks__dec_int(d, TKS__JGET(j, root, "output_index"), -1);
    tks__dec_tool *t = tks__dec_tool_get(d, key, 0, &rc);
    if (!t) { /* arguments for a call never announced: announce it without id/name */
        if (!(t = tks__dec_tool_get(d, key, 1, &rc))) return rc;
        if ((rc = tks__dec_tool_call(d, 0, t->tool, TKS__JGET(j, root, "item_id"), 0))) return rc;
        t = tks__dec_tool_get(d, key, 0, &rc);
    }
    t->flags |= TKS__TOOL_ARGS;
    return tks__dec_tool_args(d, 0, t->tool, delta, 0);
}

static int terminal(tks_decoder *d, uint32_t resp, const char *t, size_t tl) {
    tks__json *j = &d->js;
    int rc;
    uint32_t u = TKS__JGET(j, resp, "usage");
    if (tks__json_type(j, u) == TKS__J_OBJECT &&
        (rc = tks__dec_usage(d, TKS__JGET(j, u, "input_tokens"), TKS__JGET(j, u, "output_tokens"),
                             TKS__JGET(j, u, "total_tokens"),
                             TKS__JGET(j, TKS__JGET(j, u, "output_tokens_details"), "reasoning_tokens"),
                             TKS__JGET(j, TKS__JGET(j, u, "input_tokens_details"), "cached_tokens"))))
        return rc;
    const char *st;
    size_t sl;
    if (!tks__json_str(j, TKS__JGET(j, resp, "status"), &st, &sl) || !sl) {
        st = t + 9; /* "response.completed" -> "completed" */
        sl = tl - 9;
    }
    if (TKS__KEY(st, sl, "failed")) {
        uint32_t e = TKS__JGET(j, resp, "error");
        if (!d->error_sent && tks__json_truthy(j, e) && (rc = tks__dec_error(d, e, e))) return rc;
        if ((rc = tks__dec_finish_text(d, 0, TKS_FINISH_ERROR, st, sl))) return rc;
    } else if (TKS__KEY(st, sl, "incomplete")) {
        const char *why;
        size_t wl;
        if (tks__json_str(j, TKS__JGET(j, TKS__JGET(j, resp, "incomplete_details"), "reason"), &why, &wl) && wl)
            rc = tks__dec_finish_text(d, 0, tks__dec_finish_word(why, wl), why, wl);
        else
            rc = tks__dec_finish_text(d, 0, TKS_FINISH_OTHER, st, sl);
        if (rc) return rc;
    } else if (TKS__KEY(st, sl, "completed")) {
        if ((rc = tks__dec_finish_text(d, 0, d->tool_seen ? TKS_FINISH_TOOL_CALLS : TKS_FINISH_STOP, st, sl)))
            return rc;
    } else if ((rc = tks__dec_finish_text(d, 0, TKS_FINISH_OTHER, st, sl))) { /* cancelled, ... */
        return rc;
    }
    return tks__dec_done(d);
}

int tks__dec_openai_responses(tks_decoder *d, const tks_event *ev) {
    int rc;
    if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) return tks__dec_done(d);
    if (TKS_UNLIKELY(ev->data_len == 0 || tks__dec_blank(ev->data, ev->data_len))) return TKS_OK;
    if ((rc = tks__dec_parse(d, ev->data, ev->data_len))) return rc;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK;
    const char *t;
    size_t tl;
    if (!tks__json_str(j, TKS__JGET(j, root, "type"), &t, &tl)) {
        uint32_t e = TKS__JGET(j, root, "error");
        if (tks__json_truthy(j, e)) return tks__dec_error(d, e, e);
        return TKS_OK;
    }
    if (TKS__KEY(t, tl, "error")) return tks__dec_error(d, root, root);
    if (tl < 9 || memcmp(t, "response.", 9) != 0) return TKS_OK;
    const char *s = t + 9;
    size_t sl = tl - 9;

    if (TKS__KEY(s, sl, "output_text.delta")) {
        if ((rc = tks__dec_text(d, TKS_DELTA_TEXT, 0, TKS__JGET(j, root, "delta")))) return rc;
        uint32_t lp = TKS__JGET(j, root, "logprobs");
        if (tks__json_count(j, lp) > 0) {
            tks_delta x = {.kind = TKS_DELTA_LOGPROBS};
            x.json = tks__json_raw(j, lp, &x.json_len);
            return tks__dec_emit(d, &x);
        }
        return TKS_OK;
    }
    if (TKS__KEY(s, sl, "function_call_arguments.delta") || TKS__KEY(s, sl, "custom_tool_call_input.delta"))
        return args_delta(d, root);
    if (TKS__KEY(s, sl, "reasoning_summary_text.delta") || TKS__KEY(s, sl, "reasoning_text.delta"))
        return tks__dec_text(d, TKS_DELTA_REASONING, 0, TKS__JGET(j, root, "delta"));
    if (TKS__KEY(s, sl, "refusal.delta")) return tks__dec_text(d, TKS_DELTA_REFUSAL, 0, TKS__JGET(j, root, "delta"));
    if (is_lifecycle(t, tl)) {
        if (d->started && !TKS__KEY(s, sl, "created")) return TKS_OK;
        uint32_t resp = TKS__JGET(j, root, "response");
        return tks__dec_start(d, TKS__JGET(j, resp, "id"), TKS__JGET(j, resp, "model"));
    }
    if (TKS__KEY(s, sl, "output_item.added")) {
        uint32_t item = TKS__JGET(j, root, "item");
        if (is_call_item(j, item)) return tool_added(d, root, item);
        if (TKS__JSTR_IS(j, TKS__JGET(j, item, "type"), "message"))
            return tks__dec_role(d, 0, TKS__JGET(j, item, "role"));
        return TKS_OK;
    }
    if (TKS__KEY(s, sl, "output_item.done")) return item_done(d, root, TKS__JGET(j, root, "item"));
    if (TKS__KEY(s, sl, "completed") || TKS__KEY(s, sl, "incomplete") || TKS__KEY(s, sl, "failed") ||
        TKS__KEY(s, sl, "cancelled")) {
        uint32_t resp = TKS__JGET(j, root, "response");
        if (!d->started && (rc = tks__dec_start(d, TKS__JGET(j, resp, "id"), TKS__JGET(j, resp, "model"))))
            return rc;
        return terminal(d, resp, t, tl);
    }
    return TKS_OK;
}
