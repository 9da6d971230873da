/* decode_anthropic.c - Anthropic Messages stream events (message_start,
 * content_block_start/delta/stop, message_delta, message_stop, ping, error). Dispatch is
 * on the JSON "type" (the SSE event name is the same word; Bedrock's InvokeModel stream
 * carries the same objects without SSE).
 *
 * Tool calls are numbered in the order their blocks start (the content block index
 * counts text and thinking blocks too; tks_delta.index is the position among tool calls).
 * Usage: input_tokens, output_tokens and cache_read_input_tokens (as cached_tokens) as
 * reported; Anthropic gives no total (-1). redacted_thinking blocks become a SIGNATURE
 * delta whose name is "redacted_thinking" and whose text is the block's data. */
#include "decoder_internal.h"

static int usage(tks_decoder *d, uint32_t u) {
    tks__json *j = &d->js;
    if (tks__json_type(j, u) != TKS__J_OBJECT) return TKS_OK;
    return tks__dec_usage(d, TKS__JGET(j, u, "input_tokens"), TKS__JGET(j, u, "output_tokens"), 0, 0,
                          TKS__JGET(j, u, "cache_read_input_tokens"));
}

/* The tool for a block index; creates it (with a TOOL_CALL of no id/name) when the
 * block's start was never seen, so indices stay consistent. */
static tks__dec_tool *tool_for_block(tks_decoder *d, int64_t block, int *rc) {
    tks__dec_tool *t = tks__dec_tool_get(d, block, 0, rc);
    if (t) return t;
    t = tks__dec_tool_get(d, block, 1, rc);
    if (!t) return NULL;
    if ((*rc = tks__dec_tool_call(d, 0, t->tool, 0, 0))) return NULL;
    return t;
}

static int block_start(tks_decoder *d, uint32_t root) {
    tks__json *j = &d->js;
    uint32_t cb = TKS__JGET(j, root, "content_block");
    uint32_t type = TKS__JGET(j, cb, "type");
    int64_t block = tks__dec_int(d, TKS__JGET(j, root, "index"), -1);
    int rc;
    const char *t;
    size_t tl;
    if (!tks__json_str(j, type, &t, &tl)) return TKS_OK;
    if (TKS__KEY(t, tl, "text")) return tks__dec_text(d, TKS_DELTA_TEXT, 0, TKS__JGET(j, cb, "text"));
    if (TKS__KEY(t, tl, "thinking")) {
        if ((rc = tks__dec_text(d, TKS_DELTA_REASONING, 0, TKS__JGET(j, cb, "thinking")))) return rc;
        return tks__dec_text(d, TKS_DELTA_SIGNATURE, 0, TKS__JGET(j, cb, "signature"));
    }
    if (TKS__KEY(t, tl, "redacted_thinking")) {
        tks_delta x = {.kind = TKS_DELTA_SIGNATURE, .name = "redacted_thinking", .name_len = 17};
        if (!tks__json_str(j, TKS__JGET(j, cb, "data"), &x.text, &x.text_len) || !x.text_len) return TKS_OK;
        return tks__dec_emit(d, &x);
    }
    if (TKS__KEY(t, tl, "tool_use") || TKS__KEY(t, tl, "server_tool_use") || TKS__KEY(t, tl, "mcp_tool_use")) {
        tks__dec_tool *tool = tks__dec_tool_get(d, block, 1, &rc);
        if (!tool) return rc;
        int32_t index = tool->tool;
        if ((rc = tks__dec_tool_call(d, 0, index, TKS__JGET(j, cb, "id"), TKS__JGET(j, cb, "name")))) return rc;
        uint32_t input = TKS__JGET(j, cb, "input");
        if (tks__json_count(j, input) > 0) { /* arguments given whole at the start */
            tool->flags |= TKS__TOOL_ARGS;
            return tks__dec_tool_args(d, 0, index, input, 1);
        }
    }
    return TKS_OK; /* other block types: skipped */
}

/* content_block_delta: the hot path, one pass over each object's members */
static int block_delta(tks_decoder *d, uint32_t index, uint32_t delta) {
    tks__json *j = &d->js;
    uint32_t type = 0, text = 0, thinking = 0, sig = 0, pj = 0;
    int rc;
    for (uint32_t k = tks__json_first(j, delta); k; k = tks__json_next(j, delta, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        switch (kl) {
        case 4:
            if (TKS__KEY(key, kl, "type")) type = k + 1;
            else if (TKS__KEY(key, kl, "text")) text = k + 1;
            break;
        case 8:
            if (TKS__KEY(key, kl, "thinking")) thinking = k + 1;
            break;
        case 9:
            if (TKS__KEY(key, kl, "signature")) sig = k + 1;
            break;
        case 12:
            if (TKS__KEY(key, kl, "partial_json")) pj = k + 1;
            break;
        }
    }
    const char *t;
    size_t tl;
    if (!tks__json_str(j, type, &t, &tl)) return TKS_OK;
    if (TKS__KEY(t, tl, "text_delta")) return tks__dec_text(d, TKS_DELTA_TEXT, 0, text);
    if (TKS__KEY(t, tl, "thinking_delta")) return tks__dec_text(d, TKS_DELTA_REASONING, 0, thinking);
    if (TKS__KEY(t, tl, "signature_delta")) return tks__dec_text(d, TKS_DELTA_SIGNATURE, 0, sig);
    if (TKS__KEY(t, tl, "input_json_delta")) {
        const char *s;
        size_t sl;
        if (!tks__json_str(j, pj, &s, &sl) || sl == 0) return TKS_OK; /* the first is often "" */
        tks__dec_tool *tool = tool_for_block(d, tks__dec_int(d, index, -1), &rc);
        if (!tool) return rc;
        tool->flags |= TKS__TOOL_ARGS;
        return tks__dec_tool_args(d, 0, tool->tool, pj, 0);
    }
    return TKS_OK; /* citations_delta and newer kinds: skipped */
}

int tks__dec_anthropic_obj(tks_decoder *d, uint32_t root) {
    tks__json *j = &d->js;
    const char *t;
    size_t tl;
    int rc;
    uint32_t type = 0, index = 0, delta = 0;
    for (uint32_t k = tks__json_first(j, root); k; k = tks__json_next(j, root, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        if (kl == 4 && TKS__KEY(key, kl, "type")) type = k + 1;
        else if (kl == 5 && TKS__KEY(key, kl, "index")) index = k + 1;
        else if (kl == 5 && TKS__KEY(key, kl, "delta")) delta = k + 1;
    }
    if (!tks__json_str(j, type, &t, &tl)) {
        uint32_t e = TKS__JGET(j, root, "error");
        if (tks__json_truthy(j, e)) return tks__dec_error(d, e, e);
        return TKS_OK;
    }
    switch (tl) {
    case 19:
        if (TKS__KEY(t, tl, "content_block_delta")) return block_delta(d, index, delta);
        if (TKS__KEY(t, tl, "content_block_start")) return block_start(d, root);
        break;
    case 13:
        if (TKS__KEY(t, tl, "message_start")) {
            uint32_t m = TKS__JGET(j, root, "message");
            if ((rc = tks__dec_start(d, TKS__JGET(j, m, "id"), TKS__JGET(j, m, "model")))) return rc;
            if ((rc = tks__dec_role(d, 0, TKS__JGET(j, m, "role")))) return rc;
            return usage(d, TKS__JGET(j, m, "usage"));
        }
        if (TKS__KEY(t, tl, "message_delta")) {
            uint32_t sr = TKS__JGET(j, TKS__JGET(j, root, "delta"), "stop_reason");
            if ((rc = tks__dec_finish(d, 0, sr))) return rc;
            return usage(d, TKS__JGET(j, root, "usage"));
        }
        break;
    case 12:
        if (TKS__KEY(t, tl, "message_stop")) return tks__dec_done(d);
        break;
    case 5:
        if (TKS__KEY(t, tl, "error")) {
            uint32_t e = TKS__JGET(j, root, "error");
            return tks__dec_error(d, e ? e : root, e ? e : root);
        }
        break;
    }
    return TKS_OK; /* ping, content_block_stop, unknown events: nothing to say */
}

int tks__dec_anthropic(tks_decoder *d, const tks_event *ev) {
    int rc;
    if (TKS_UNLIKELY(ev->data_len == 0 || tks__dec_blank(ev->data, ev->data_len))) return TKS_OK;
    if ((rc = tks__dec_parse(d, ev->data, ev->data_len))) return rc;
    if (tks__json_type(&d->js, TKS__JROOT) != TKS__J_OBJECT) return TKS_OK;
    return tks__dec_anthropic_obj(d, TKS__JROOT);
}
