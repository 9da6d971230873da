/* decode_gemini.c - Google Gemini streamGenerateContent chunks (GenerateContentResponse),
 * from SSE (alt=sse) events or JSON-array elements alike.
 *
 * The first chunk -> START (responseId, modelVersion; either may be missing). Per
 * candidate (choice = its index): ROLE once ("model" is reported as "assistant"); parts
 * in order: text -> TEXT, text with thought:true -> REASONING, functionCall -> TOOL_CALL
 * (index = position among the candidate's calls, id when given, name) then TOOL_ARGS with
 * TKS_DELTA_WHOLE and the raw JSON of args, thoughtSignature (on any part) -> SIGNATURE
 * after the part; executableCode, inlineData and others are skipped. finishReason ->
 * FINISH (STOP with function calls in that candidate is reported as tool_calls; the raw
 * word is kept). usageMetadata (running totals) -> USAGE: promptTokenCount,
 * candidatesTokenCount, totalTokenCount, thoughtsTokenCount, cachedContentTokenCount as
 * reported. promptFeedback.blockReason -> FINISH content_filter. {"error":{...}} ->
 * ERROR (id = code, name = status).
 * Gemini sends no terminal marker: DONE is delivered by tks_decoder_finish once a
 * finishReason (or a block) has been seen. */
#include "decoder_internal.h"

static int decode_candidate(tks_decoder *d, uint32_t cand, int32_t pos) {
    tks__json *j = &d->js;
    int rc;
    int64_t ci = tks__dec_int(d, TKS__JGET(j, cand, "index"), pos);
    if (ci < 0 || ci > INT32_MAX) ci = pos;
    int32_t choice = (int32_t)ci;
    int32_t *counter = choice < 8 ? &d->choice_tools[choice] : &d->next_tool;
    uint32_t content = TKS__JGET(j, cand, "content");
    uint32_t role = TKS__JGET(j, content, "role");
    uint32_t parts = TKS__JGET(j, content, "parts");
    if (role && (rc = tks__dec_role(d, choice, role))) return rc;
    int calls = 0;
    for (uint32_t p = tks__json_first(j, parts); p; p = tks__json_next(j, parts, p)) {
        if (tks__json_type(j, p) != TKS__J_OBJECT) continue;
        uint32_t text = 0, thought = 0, fc = 0, sig = 0;
        for (uint32_t k = tks__json_first(j, p); k; k = tks__json_next(j, p, k + 1)) {
            const char *key;
            size_t kl;
            tks__json_str(j, k, &key, &kl);
            if (TKS__KEY(key, kl, "text")) text = k + 1;
            else if (TKS__KEY(key, kl, "thought")) thought = k + 1;
            else if (TKS__KEY(key, kl, "functionCall")) fc = k + 1;
            else if (TKS__KEY(key, kl, "thoughtSignature")) sig = k + 1;
        }
        int is_thought = 0;
        tks__json_bool(j, thought, &is_thought);
        if (text && (rc = tks__dec_text(d, is_thought ? TKS_DELTA_REASONING : TKS_DELTA_TEXT, choice, text)))
            return rc;
        if (tks__json_type(j, fc) == TKS__J_OBJECT) {
            int32_t index = (*counter)++;
            calls++;
            if ((rc = tks__dec_tool_call(d, choice, index, TKS__JGET(j, fc, "id"), TKS__JGET(j, fc, "name"))))
                return rc;
            if ((rc = tks__dec_tool_args(d, choice, index, TKS__JGET(j, fc, "args"), 1))) return rc;
        }
        if (sig && (rc = tks__dec_text(d, TKS_DELTA_SIGNATURE, choice, sig))) return rc;
    }
    uint32_t fr = TKS__JGET(j, cand, "finishReason");
    const char *s;
    size_t sl;
    if (tks__json_str(j, fr, &s, &sl) && sl) {
        int f = tks__dec_finish_word(s, sl);
        if (f == TKS_FINISH_STOP && (calls || *counter > 0)) f = TKS_FINISH_TOOL_CALLS;
        if ((rc = tks__dec_finish_text(d, choice, f, s, sl))) return rc;
        d->pending_done = 1;
    }
    return TKS_OK;
}

int tks__dec_gemini(tks_decoder *d, const tks_event *ev) {
    int rc;
    if (TKS_UNLIKELY(ev->data_len == 0 || tks__dec_blank(ev->data, ev->data_len))) return TKS_OK;
    if ((rc = tks__dec_parse(d, ev->data, ev->data_len))) return rc;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK;
    uint32_t cands = 0, usage = 0, feedback = 0, error = 0, model = 0, id = 0;
    for (uint32_t k = tks__json_first(j, root); k; k = tks__json_next(j, root, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        if (TKS__KEY(key, kl, "candidates")) cands = k + 1;
        else if (TKS__KEY(key, kl, "usageMetadata")) usage = k + 1;
        else if (TKS__KEY(key, kl, "promptFeedback")) feedback = k + 1;
        else if (TKS__KEY(key, kl, "error")) error = k + 1;
        else if (TKS__KEY(key, kl, "modelVersion")) model = k + 1;
        else if (TKS__KEY(key, kl, "responseId")) id = k + 1;
    }
    if (error && tks__json_truthy(j, error)) return tks__dec_error(d, error, error);
    if (!d->started && (rc = tks__dec_start(d, id, model))) return rc;
    int32_t pos = 0;
    for (uint32_t c = tks__json_first(j, cands); c; c = tks__json_next(j, cands, c), pos++) {
        if (tks__json_type(j, c) != TKS__J_OBJECT) continue;
        if ((rc = decode_candidate(d, c, pos))) return rc;
    }
    const char *s;
    size_t sl;
    if (tks__json_str(j, TKS__JGET(j, feedback, "blockReason"), &s, &sl) && sl) {
        if ((rc = tks__dec_finish_text(d, 0, TKS_FINISH_CONTENT_FILTER, s, sl))) return rc;
        d->pending_done = 1;
    }
    if (tks__json_type(j, usage) == TKS__J_OBJECT &&
        (rc = tks__dec_usage(d, TKS__JGET(j, usage, "promptTokenCount"), TKS__JGET(j, usage, "candidatesTokenCount"),
                             TKS__JGET(j, usage, "totalTokenCount"), TKS__JGET(j, usage, "thoughtsTokenCount"),
                             TKS__JGET(j, usage, "cachedContentTokenCount"))))
        return rc;
    return TKS_OK;
}
