/* decode_bedrock.c - AWS Bedrock over application/vnd.amazon.eventstream frames (from
 * tks_eventstream_parser: type = :event-type, message_type = :message-type).
 *
 * ConverseStream: messageStart -> START (Bedrock has no id or model in the stream) and
 * ROLE; contentBlockStart.start.toolUse -> TOOL_CALL (index = position among tool calls,
 * id = toolUseId, name); contentBlockDelta: text -> TEXT, toolUse.input -> TOOL_ARGS,
 * reasoningContent.text -> REASONING, reasoningContent.signature -> SIGNATURE,
 * reasoningContent.redactedContent -> SIGNATURE named "redacted"; messageStop.stopReason
 * -> FINISH; metadata.usage -> USAGE then DONE (the stream's last frame; when a stream
 * ends after messageStop without metadata, tks_decoder_finish delivers the DONE).
 * Payloads wrapped as {"messageStart":{...}} (no :event-type) are read the same way.
 * InvokeModelWithResponseStream: chunk {"bytes": base64} is decoded and its JSON read:
 * Anthropic events go through the Anthropic dialect; Titan (outputText,
 * completionReason), Llama (generation, stop_reason) and Mistral (outputs[]) are read
 * for text and finish; amazon-bedrock-invocationMetrics -> USAGE then DONE.
 * :message-type exception -> ERROR (name = the exception type, text = message, json =
 * payload); error -> ERROR from the :error-code / :error-message headers. The "p"
 * padding and unknown events are skipped. */
#include "decoder_internal.h"

static const tks_header *header(const tks_event *ev, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < ev->n_headers; i++)
        if (ev->headers[i].name_len == n && memcmp(ev->headers[i].name, name, n) == 0) return &ev->headers[i];
    return NULL;
}

static int exception(tks_decoder *d, const tks_event *ev) {
    tks_delta x = {.kind = TKS_DELTA_ERROR};
    x.name = ev->type_len ? ev->type : NULL;
    x.name_len = ev->type_len;
    x.json = ev->data_len ? ev->data : NULL;
    x.json_len = ev->data_len;
    /* the payload is {"message": ...} JSON; read it without making bad JSON fatal */
    if (ev->data_len && tks__json_parse(&d->js, &d->alloc, ev->data, ev->data_len) == TKS_OK) {
        uint32_t m = TKS__JGET(&d->js, TKS__JROOT, "message");
        if (!m) m = TKS__JGET(&d->js, TKS__JROOT, "Message");
        tks__json_str(&d->js, m, &x.text, &x.text_len);
    } else if (ev->data_len) {
        x.text = ev->data;
        x.text_len = ev->data_len;
    }
    if (!x.text_len) x.text = NULL;
    d->error_sent = 1;
    return tks__dec_emit(d, &x);
}

static int error_frame(tks_decoder *d, const tks_event *ev) {
    tks_delta x = {.kind = TKS_DELTA_ERROR};
    const tks_header *code = header(ev, ":error-code"), *msg = header(ev, ":error-message");
    if (code && code->value_len) {
        x.id = code->value;
        x.id_len = code->value_len;
    }
    if (msg && msg->value_len) {
        x.text = msg->value;
        x.text_len = msg->value_len;
    }
    if (ev->data_len) {
        x.json = ev->data;
        x.json_len = ev->data_len;
    }
    d->error_sent = 1;
    return tks__dec_emit(d, &x);
}

/* ---- base64 (standard alphabet, padding optional) ------------------------------------ */

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes into d->bytes; TKS_OK, or TKS_EPROTO/ELIMIT/ENOMEM (recorded). */
static int b64decode(tks_decoder *d, const char *s, size_t n) {
    d->bytes.len = 0;
    int rc = tks__buf_reserve(&d->bytes, &d->alloc, n / 4 * 3 + 3);
    if (rc)
        return tks__err_at(&d->err, rc, d->offset,
                           rc == TKS_ENOMEM ? "out of memory decoding event" : "decoded chunk larger than max_event");
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    char *o = d->bytes.p;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') break;
        int v = b64val(c);
        if (v < 0) return tks__err_at(&d->err, TKS_EPROTO, d->offset, "invalid base64 in chunk bytes");
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((acc >> bits) & 0xFF);
        }
    }
    for (; i < n; i++)
        if (s[i] != '=') return tks__err_at(&d->err, TKS_EPROTO, d->offset, "invalid base64 in chunk bytes");
    d->bytes.len = (size_t)(o - d->bytes.p);
    return TKS_OK;
}

static int metrics_usage(tks_decoder *d, uint32_t m) {
    tks__json *j = &d->js;
    return tks__dec_usage(d, TKS__JGET(j, m, "inputTokenCount"), TKS__JGET(j, m, "outputTokenCount"), 0, 0,
                          TKS__JGET(j, m, "cacheReadInputTokenCount"));
}

/* The native JSON of an InvokeModelWithResponseStream chunk. */
static int invoke_chunk(tks_decoder *d, uint32_t outer) {
    tks__json *j = &d->js;
    const char *b64;
    size_t bl;
    int rc;
    if (!tks__json_str(j, TKS__JGET(j, outer, "bytes"), &b64, &bl)) return TKS_OK;
    /* the base64 text may sit in the tape's scratch: decode before parsing again */
    if ((rc = b64decode(d, b64, bl))) return rc;
    if ((rc = tks__dec_parse(d, d->bytes.p, d->bytes.len))) return rc;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK;
    uint32_t metrics = TKS__JGET(j, root, "amazon-bedrock-invocationMetrics");
    if (TKS__JGET(j, root, "type")) { /* Anthropic's own events */
        const char *t;
        size_t tl;
        tks__json_str(j, TKS__JGET(j, root, "type"), &t, &tl);
        if (tks__json_type(j, metrics) == TKS__J_OBJECT && TKS__KEY(t, tl, "message_stop") &&
            (rc = metrics_usage(d, metrics)))
            return rc;
        return tks__dec_anthropic_obj(d, root);
    }
    if (!d->started && (rc = tks__dec_start(d, 0, 0))) return rc;
    uint32_t outputs = TKS__JGET(j, root, "outputs"); /* Mistral */
    uint32_t first = tks__json_first(j, outputs);
    uint32_t text = TKS__JGET(j, root, "outputText");
    if (!text) text = TKS__JGET(j, root, "generation");
    if (!text) text = TKS__JGET(j, root, "completion");
    if (!text) text = TKS__JGET(j, first, "text");
    if ((rc = tks__dec_text(d, TKS_DELTA_TEXT, 0, text))) return rc;
    uint32_t why = TKS__JGET(j, root, "completionReason");
    if (!why || tks__json_is_null(j, why)) why = TKS__JGET(j, root, "stop_reason");
    if (!why || tks__json_is_null(j, why)) why = TKS__JGET(j, first, "stop_reason");
    if ((rc = tks__dec_finish(d, 0, why))) return rc;
    if (tks__json_type(j, metrics) == TKS__J_OBJECT) {
        if ((rc = metrics_usage(d, metrics))) return rc;
        return tks__dec_done(d);
    }
    return TKS_OK;
}

int tks__dec_bedrock(tks_decoder *d, const tks_event *ev) {
    int rc;
    const char *mt = ev->message_type;
    size_t ml = ev->message_type_len;
    if (TKS__KEY(mt, ml, "exception")) return exception(d, ev);
    if (TKS__KEY(mt, ml, "error")) return error_frame(d, ev);
    if (TKS_UNLIKELY(ev->data_len == 0 || tks__dec_blank(ev->data, ev->data_len))) return TKS_OK;
    if ((rc = tks__dec_parse(d, ev->data, ev->data_len))) return rc;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK;
    const char *t = ev->type;
    size_t tl = ev->type_len;
    uint32_t p = root;
    if (!tl || TKS__KEY(t, tl, "message")) {
        /* no :event-type: the wrapped shape {"contentBlockDelta": {...}} */
        for (uint32_t k = tks__json_first(j, root); k; k = tks__json_next(j, root, k + 1)) {
            const char *key;
            size_t kl;
            tks__json_str(j, k, &key, &kl);
            if (tks__json_type(j, k + 1) == TKS__J_OBJECT && !TKS__KEY(key, kl, "p")) {
                t = key;
                tl = kl;
                p = k + 1;
                break;
            }
        }
        if (p == root && TKS__JGET(j, root, "bytes")) return invoke_chunk(d, root);
    }
    if (TKS__KEY(t, tl, "contentBlockDelta")) {
        uint32_t delta = TKS__JGET(j, p, "delta");
        uint32_t text = TKS__JGET(j, delta, "text");
        if (text) return tks__dec_text(d, TKS_DELTA_TEXT, 0, text);
        uint32_t tu = TKS__JGET(j, delta, "toolUse");
        if (tu) {
            uint32_t input = TKS__JGET(j, tu, "input");
            const char *s;
            size_t sl;
            if (!tks__json_str(j, input, &s, &sl) || !sl) return TKS_OK;
            int64_t block = tks__dec_int(d, TKS__JGET(j, p, "contentBlockIndex"), -1);
            tks__dec_tool *tool = tks__dec_tool_get(d, block, 0, &rc);
            if (!tool) {
                if (!(tool = tks__dec_tool_get(d, block, 1, &rc))) return rc;
                if ((rc = tks__dec_tool_call(d, 0, tool->tool, 0, 0))) return rc;
                tool = tks__dec_tool_get(d, block, 0, &rc);
            }
            tool->flags |= TKS__TOOL_ARGS;
            return tks__dec_tool_args(d, 0, tool->tool, input, 0);
        }
        uint32_t rcn = TKS__JGET(j, delta, "reasoningContent");
        if (rcn) {
            if ((rc = tks__dec_text(d, TKS_DELTA_REASONING, 0, TKS__JGET(j, rcn, "text")))) return rc;
            if ((rc = tks__dec_text(d, TKS_DELTA_SIGNATURE, 0, TKS__JGET(j, rcn, "signature")))) return rc;
            tks_delta x = {.kind = TKS_DELTA_SIGNATURE, .name = "redacted", .name_len = 8};
            if (tks__json_str(j, TKS__JGET(j, rcn, "redactedContent"), &x.text, &x.text_len) && x.text_len)
                return tks__dec_emit(d, &x);
        }
        return TKS_OK;
    }
    if (TKS__KEY(t, tl, "messageStart")) {
        if ((rc = tks__dec_start(d, 0, 0))) return rc;
        return tks__dec_role(d, 0, TKS__JGET(j, p, "role"));
    }
    if (TKS__KEY(t, tl, "contentBlockStart")) {
        uint32_t tu = TKS__JGET(j, TKS__JGET(j, p, "start"), "toolUse");
        if (tks__json_type(j, tu) != TKS__J_OBJECT) return TKS_OK;
        int64_t block = tks__dec_int(d, TKS__JGET(j, p, "contentBlockIndex"), -1);
        tks__dec_tool *tool = tks__dec_tool_get(d, block, 1, &rc);
        if (!tool) return rc;
        return tks__dec_tool_call(d, 0, tool->tool, TKS__JGET(j, tu, "toolUseId"), TKS__JGET(j, tu, "name"));
    }
    if (TKS__KEY(t, tl, "messageStop")) {
        d->stop_seen = 1;
        d->pending_done = 1;
        return tks__dec_finish(d, 0, TKS__JGET(j, p, "stopReason"));
    }
    if (TKS__KEY(t, tl, "metadata")) {
        uint32_t u = TKS__JGET(j, p, "usage");
        if (tks__json_type(j, u) == TKS__J_OBJECT &&
            (rc = tks__dec_usage(d, TKS__JGET(j, u, "inputTokens"), TKS__JGET(j, u, "outputTokens"),
                                 TKS__JGET(j, u, "totalTokens"), 0, TKS__JGET(j, u, "cacheReadInputTokens"))))
            return rc;
        return tks__dec_done(d);
    }
    if (TKS__KEY(t, tl, "chunk")) return invoke_chunk(d, p);
    return TKS_OK;
}
