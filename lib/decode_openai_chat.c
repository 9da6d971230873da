/* decode_openai_chat.c - OpenAI Chat Completions chunks (chat.completion.chunk) and the
 * compatible servers (Azure, DeepSeek, vLLM, SGLang, llama.cpp, Groq, OpenRouter, xAI).
 * Hot path: one pass over each object's members, no allocation once warm.
 *
 * Choices: role (once per choice), reasoning_content / reasoning, content, refusal,
 * tool_calls by index (id/name start a call; arguments are fragments), legacy
 * function_call (tool call 0), logprobs verbatim, finish_reason. Then usage (only when
 * it is an object: Azure's first chunk has choices: [] and no usage), x_groq.usage
 * when there is no usage, and an in-band error (top-level "error", or the flat
 * {"object":"error",...} shape). llama.cpp `timings`, obfuscation, content filter
 * results and every other field are skipped. `data: [DONE]` is DONE. */
#include "decoder_internal.h"

static int decode_tool_calls(tks_decoder *d, int32_t choice, uint32_t arr) {
    tks__json *j = &d->js;
    int32_t pos = 0;
    int rc;
    for (uint32_t t = tks__json_first(j, arr); t; t = tks__json_next(j, arr, t), pos++) {
        if (tks__json_type(j, t) != TKS__J_OBJECT) continue;
        uint32_t id = 0, fn = 0, idx = 0;
        for (uint32_t k = tks__json_first(j, t); k; k = tks__json_next(j, t, k + 1)) {
            const char *key;
            size_t kl;
            tks__json_str(j, k, &key, &kl);
            if (TKS__KEY(key, kl, "index")) idx = k + 1;
            else if (TKS__KEY(key, kl, "id")) id = k + 1;
            else if (TKS__KEY(key, kl, "function")) fn = k + 1;
        }
        /* servers that omit index (some compatible ones) mean the array position */
        int64_t index = tks__dec_int(d, idx, pos);
        if (index < 0 || index > INT32_MAX) continue;
        uint32_t name = TKS__JGET(j, fn, "name");
        const char *s;
        size_t sl, nl = 0;
        tks__json_str(j, name, &s, &nl);
        if ((tks__json_str(j, id, &s, &sl) && sl) || nl) {
            if ((rc = tks__dec_tool_call(d, choice, (int32_t)index, id, name))) return rc;
        }
        if ((rc = tks__dec_tool_args(d, choice, (int32_t)index, TKS__JGET(j, fn, "arguments"), 0)))
            return rc;
    }
    return TKS_OK;
}

static int decode_choice(tks_decoder *d, uint32_t c, int32_t pos) {
    tks__json *j = &d->js;
    uint32_t idx = 0, delta = 0, logprobs = 0, finish = 0;
    int rc;
    for (uint32_t k = tks__json_first(j, c); k; k = tks__json_next(j, c, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        switch (kl) {
        case 5:
            if (TKS__KEY(key, kl, "delta")) delta = k + 1;
            else if (TKS__KEY(key, kl, "index")) idx = k + 1;
            break;
        case 8:
            if (TKS__KEY(key, kl, "logprobs")) logprobs = k + 1;
            break;
        case 13:
            if (TKS__KEY(key, kl, "finish_reason")) finish = k + 1;
            break;
        case 7:
            /* legacy completions-style choice (some servers): "text" */
            break;
        }
    }
    int64_t ci = tks__dec_int(d, idx, pos);
    if (ci < 0 || ci > INT32_MAX) ci = pos;
    int32_t choice = (int32_t)ci;

    if (tks__json_type(j, delta) == TKS__J_OBJECT) {
        uint32_t role = 0, content = 0, refusal = 0, rc1 = 0, rc2 = 0, tools = 0, fcall = 0;
        for (uint32_t k = tks__json_first(j, delta); k; k = tks__json_next(j, delta, k + 1)) {
            const char *key;
            size_t kl;
            tks__json_str(j, k, &key, &kl);
            switch (kl) {
            case 4:
                if (TKS__KEY(key, kl, "role")) role = k + 1;
                break;
            case 7:
                if (TKS__KEY(key, kl, "content")) content = k + 1;
                else if (TKS__KEY(key, kl, "refusal")) refusal = k + 1;
                break;
            case 9:
                if (TKS__KEY(key, kl, "reasoning")) rc2 = k + 1;
                break;
            case 10:
                if (TKS__KEY(key, kl, "tool_calls")) tools = k + 1;
                break;
            case 13:
                if (TKS__KEY(key, kl, "function_call")) fcall = k + 1;
                break;
            case 17:
                if (TKS__KEY(key, kl, "reasoning_content")) rc1 = k + 1;
                break;
            }
        }
        if (role && tks__json_type(j, role) == TKS__J_STRING && (rc = tks__dec_role(d, choice, role)))
            return rc;
        /* reasoning_content (DeepSeek, older vLLM, llama.cpp) or reasoning (vLLM, Groq,
         * OpenRouter): one text under two names; when both hold text, reasoning_content */
        {
            const char *rs;
            size_t rl;
            uint32_t r = tks__json_str(j, rc1, &rs, &rl) && rl ? rc1 : rc2;
            if ((rc = tks__dec_text(d, TKS_DELTA_REASONING, choice, r))) return rc;
        }
        if ((rc = tks__dec_text(d, TKS_DELTA_TEXT, choice, content))) return rc;
        if ((rc = tks__dec_text(d, TKS_DELTA_REFUSAL, choice, refusal))) return rc;
        if (tools && (rc = decode_tool_calls(d, choice, tools))) return rc;
        if (tks__json_type(j, fcall) == TKS__J_OBJECT) {
            uint32_t name = TKS__JGET(j, fcall, "name");
            const char *s;
            size_t sl;
            if (tks__json_str(j, name, &s, &sl) && sl && (rc = tks__dec_tool_call(d, choice, 0, 0, name)))
                return rc;
            if ((rc = tks__dec_tool_args(d, choice, 0, TKS__JGET(j, fcall, "arguments"), 0))) return rc;
        }
    }
    if (logprobs && tks__json_type(j, logprobs) != TKS__J_NULL) {
        tks_delta x = {.kind = TKS_DELTA_LOGPROBS, .choice = choice};
        x.json = tks__json_raw(j, logprobs, &x.json_len);
        if ((rc = tks__dec_emit(d, &x))) return rc;
    }
    if (finish && (rc = tks__dec_finish(d, choice, finish))) return rc;
    return TKS_OK;
}

static int decode_usage(tks_decoder *d, uint32_t u) {
    tks__json *j = &d->js;
    uint32_t in = 0, out = 0, total = 0, reasoning = 0, cached = 0, hit = 0;
    for (uint32_t k = tks__json_first(j, u); k; k = tks__json_next(j, u, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        if (TKS__KEY(key, kl, "prompt_tokens")) in = k + 1;
        else if (TKS__KEY(key, kl, "completion_tokens")) out = k + 1;
        else if (TKS__KEY(key, kl, "total_tokens")) total = k + 1;
        else if (TKS__KEY(key, kl, "completion_tokens_details"))
            reasoning = TKS__JGET(j, k + 1, "reasoning_tokens");
        else if (TKS__KEY(key, kl, "prompt_tokens_details"))
            cached = TKS__JGET(j, k + 1, "cached_tokens");
        else if (TKS__KEY(key, kl, "prompt_cache_hit_tokens")) /* DeepSeek */
            hit = k + 1;
    }
    if (tks__json_type(j, cached) != TKS__J_NUMBER) cached = hit;
    return tks__dec_usage(d, in, out, total, reasoning, cached);
}

int tks__dec_openai_chat(tks_decoder *d, const tks_event *ev) {
    const char *s = ev->data;
    size_t n = ev->data_len;
    int rc;
    if (n == 6 && memcmp(s, "[DONE]", 6) == 0) return tks__dec_done(d);
    if (TKS_UNLIKELY(n == 0 || tks__dec_blank(s, n))) return TKS_OK;
    if ((rc = tks__dec_parse(d, s, n))) return rc;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    if (tks__json_type(j, root) != TKS__J_OBJECT) return TKS_OK; /* not a chunk: skipped */

    uint32_t id = 0, model = 0, choices = 0, usage = 0, error = 0, xgroq = 0, object = 0;
    for (uint32_t k = tks__json_first(j, root); k; k = tks__json_next(j, root, k + 1)) {
        const char *key;
        size_t kl;
        tks__json_str(j, k, &key, &kl);
        switch (kl) {
        case 2:
            if (TKS__KEY(key, kl, "id")) id = k + 1;
            break;
        case 5:
            if (TKS__KEY(key, kl, "model")) model = k + 1;
            else if (TKS__KEY(key, kl, "usage")) usage = k + 1;
            else if (TKS__KEY(key, kl, "error")) error = k + 1;
            break;
        case 6:
            if (TKS__KEY(key, kl, "object")) object = k + 1;
            else if (TKS__KEY(key, kl, "x_groq")) xgroq = k + 1;
            break;
        case 7:
            if (TKS__KEY(key, kl, "choices")) choices = k + 1;
            break;
        }
    }
    if (TKS_UNLIKELY(object && TKS__JSTR_IS(j, object, "error"))) /* vLLM's flat error */
        return tks__dec_error(d, root, root);

    if (!d->started) {
        const char *p;
        size_t il = 0, ml = 0;
        tks__json_str(j, id, &p, &il);
        tks__json_str(j, model, &p, &ml);
        /* Azure's prompt_filter_results chunk has id "" and model "": not a start */
        if ((il || ml) && (rc = tks__dec_start(d, id, model))) return rc;
    }
    if (tks__json_type(j, choices) == TKS__J_ARRAY) {
        int32_t pos = 0;
        for (uint32_t c = tks__json_first(j, choices); c; c = tks__json_next(j, choices, c), pos++) {
            if (tks__json_type(j, c) != TKS__J_OBJECT) continue;
            if ((rc = decode_choice(d, c, pos))) return rc;
        }
    }
    if (tks__json_type(j, usage) != TKS__J_OBJECT && tks__json_type(j, xgroq) == TKS__J_OBJECT)
        usage = TKS__JGET(j, xgroq, "usage");
    if (tks__json_type(j, usage) == TKS__J_OBJECT && (rc = decode_usage(d, usage))) return rc;
    if (TKS_UNLIKELY(error && tks__json_truthy(j, error))) return tks__dec_error(d, error, error);
    return TKS_OK;
}
