/* t_decoder.c - tks_decoder on the project's own small streams (test/data/decoder/), one
 * or more per dialect, with expectations read by hand from those files; plus the object
 * contract: names, arguments, AUTO, stop, sticky errors, reset, truncation, buffer reuse,
 * OOM torture. (Recorded provider fixtures: t_decoder_fixtures.c.) */
#include "dec_common.h"
#include "testalloc.h"
#include "testutil.h"

static char *load(const char *name, size_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/decoder/%s", test_data_dir(), name);
    char *s = read_file(path, n);
    if (!s) {
        ok(0, "read %s", path);
        exit(done_testing());
    }
    return s;
}

static void load_sse(const char *name, tevs *evs) {
    size_t n;
    char *s = load(name, &n);
    sse_split(s, n, evs);
    free(s);
}

/* frames any of the project's files by its extension */
static void load_any(const char *name, tevs *evs) {
    size_t n;
    char *s = load(name, &n);
    const char *ext = strrchr(name, '.');
    if (!strcmp(ext, ".sse")) sse_split(s, n, evs);
    else if (!strcmp(ext, ".bin")) frames_split(s, n, evs);
    else if (!strcmp(ext, ".json")) array_split(s, n, evs);
    else line_split(s, n, evs);
    free(s);
}

/* Runs evs in both buffer modes and under AUTO: all three logs must be identical.
 * Returns finish's status of the first run; r holds the first run. */
static int run3(const char *what, const tevs *evs, int dialect, rec *r) {
    rec r2, r3;
    rec_init(r);
    rec_init(&r2);
    rec_init(&r3);
    int dia = -1;
    int rc = decode_all(evs, dialect, NULL, r, 0, NULL);
    int rc2 = decode_all(evs, dialect, NULL, &r2, 1, NULL);
    int rc3 = decode_all(evs, TKS_DIALECT_AUTO, NULL, &r3, 1, &dia);
    is_int(rc2, rc, "%s: same status with a reused, poisoned event buffer", what);
    is_str(ds_str(&r2.log), ds_str(&r->log), "%s: same deltas with a reused, poisoned event buffer", what);
    is_int(dia, dialect, "%s: AUTO picks %s", what, tks_dialect_name(dialect));
    is_int(rc3, rc, "%s: same status under AUTO", what);
    is_str(ds_str(&r3.log), ds_str(&r->log), "%s: same deltas under AUTO", what);
    rec_free(&r2);
    rec_free(&r3);
    return rc;
}

/* ---- dialect names, arguments --------------------------------------------------------- */

static void test_names(void) {
    static const char *names[] = {"auto", "openai-chat", "openai-responses", "anthropic",
                                  "gemini", "ollama", "bedrock"};
    for (int i = 0; i < 7; i++) {
        is_str(tks_dialect_name(i), names[i], "tks_dialect_name(%d)", i);
        is_int(tks_dialect_from_name(names[i], strlen(names[i])), i, "tks_dialect_from_name(%s)", names[i]);
    }
    ok(tks_dialect_name(7) == NULL && tks_dialect_name(-1) == NULL, "unknown dialect numbers have no name");
    is_int(tks_dialect_from_name("openai", 6), -1, "a prefix is not a name");
    is_int(tks_dialect_from_name("openai-chatx", 12), -1, "a longer word is not a name");
    is_int(tks_dialect_from_name("gemini-extra", 6), TKS_DIALECT_GEMINI, "the length is honoured (no NUL needed)");
    is_int(tks_dialect_from_name(NULL, 0), -1, "NULL name");
    is_int(TKS_DIALECT_OPENAI_CHAT, 1, "enum values are stable");
    is_int(TKS_DIALECT_BEDROCK, 6, "enum values are stable (bedrock)");
}

static void test_args(void) {
    tks_decoder *d = (tks_decoder *)1;
    is_int(tks_decoder_new(NULL, NULL, rec_cb, NULL), TKS_EINVAL, "new(NULL out)");
    tks_decoder_config bad = {.dialect = 7};
    is_int(tks_decoder_new(&d, &bad, rec_cb, NULL), TKS_EINVAL, "new with an unknown dialect");
    ok(d == NULL, "out is NULL after a failed new");
    tks_alloc half = {NULL, NULL, NULL, NULL};
    tks_decoder_config badalloc = {.alloc = &half};
    is_int(tks_decoder_new(&d, &badalloc, rec_cb, NULL), TKS_EINVAL, "new with an incomplete allocator");
    tks_decoder_free(NULL);
    tks_decoder_reset(NULL);
    is_str(tks_decoder_error(NULL), "", "error(NULL) is \"\"");
    is_int(tks_decoder_dialect(NULL), TKS_DIALECT_AUTO, "dialect(NULL)");
    is_int(tks_decoder_new(&d, NULL, NULL, NULL), TKS_OK, "new with NULL config and no callback");
    is_int(tks_decoder_dialect(d), TKS_DIALECT_AUTO, "NULL config means AUTO");
    is_int(tks_decoder_push(d, NULL), TKS_EINVAL, "push(NULL event)");
    tks_event e = {.data = "[DONE]", .data_len = 6};
    is_int(tks_decoder_push(d, &e), TKS_OK, "deltas without a callback are dropped");
    is_int(tks_decoder_finish(d), TKS_OK, "[DONE] completes even undecided");
    is_str(tks_decoder_error(d), "", "no error text when there is no error");
    tks_decoder_free(d);
}

/* ---- openai-chat ------------------------------------------------------------------------ */

static void test_openai_tools(void) {
    tevs evs = {0};
    rec r;
    load_sse("openai-chat-tools.sse", &evs);
    is_int(evs.n, 10, "openai-chat-tools.sse: 10 events");
    int rc = run3("openai-chat-tools", &evs, TKS_DIALECT_OPENAI_CHAT, &r);
    is_int(rc, TKS_OK, "openai-chat-tools: finish OK ([DONE] seen)");
    is_int(r.n_start, 1, "one START (the Azure-style empty-id chunk is not a start)");
    is_str(ds_str(&r.start_id), "chatcmpl-1", "START id");
    is_str(ds_str(&r.start_model), "gpt-x", "START model");
    is_str(ds_str(&r.role[0]), "assistant", "ROLE once");
    is_str(ds_str(&r.text[0]), "Hello \xC3\xA9\xF0\x9F\x98\x80\n", "content joined, escapes and a surrogate pair decoded");
    is_str(ds_str(&r.refusal[0]), "", "no refusal (null is not text)");
    is_int(r.tool[0][0].calls, 1, "one TOOL_CALL (the name:\"\" continuation is not a new call)");
    is_str(ds_str(&r.tool[0][0].id), "call_1", "tool id");
    is_str(ds_str(&r.tool[0][0].name), "get_weather", "tool name");
    is_str(ds_str(&r.tool[0][0].args), "{\"city\": \"Paris\"}", "tool arguments joined");
    is_int(r.tool[0][0].whole, 0, "OpenAI arguments are fragments");
    is_str(ds_str(&r.logprobs[0]),
           "{\"content\":[{\"token\":\"Hel\",\"logprob\":-0.5,\"bytes\":[72,101,108],\"top_logprobs\":[]}],"
           "\"refusal\":null}\n",
           "logprobs verbatim, only where not null");
    is_int(r.n_finish, 1, "one FINISH");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "finish tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "tool_calls", "raw finish reason");
    is_int(r.n_usage, 1, "one USAGE (usage:null is not usage)");
    is_int(r.usage[0], 10, "input tokens");
    is_int(r.usage[1], 5, "output tokens");
    is_int(r.usage[2], 15, "total tokens");
    is_int(r.usage[3], 2, "reasoning tokens");
    is_int(r.usage[4], 3, "cached tokens");
    is_int(r.n_done, 1, "DONE");
    is_int(r.n_error, 0, "no error");
    /* the DONE is last, usage right before it */
    const char *last = strrchr(ds_str(&r.log), '\n');
    ok(r.log.len > 0 && last, "log present");
    rec_free(&r);
    tevs_free(&evs);
}

static void test_openai_reasoning_error(void) {
    tevs evs = {0};
    rec r;
    load_sse("openai-chat-reasoning-error.sse", &evs);
    int rc = run3("openai-chat-reasoning-error", &evs, TKS_DIALECT_OPENAI_CHAT, &r);
    is_int(rc, TKS_ETRUNC, "ends with an error and no [DONE]: ETRUNC");
    is_str(ds_str(&r.reasoning[0]), "Thinking.More.", "reasoning_content and reasoning both read");
    is_str(ds_str(&r.text[0]), "A", "choice 0 content");
    is_str(ds_str(&r.text[1]), "B", "choice 1 content");
    is_str(ds_str(&r.role[1]), "assistant", "choice 1 role");
    is_str(ds_str(&r.refusal[1]), "no", "choice 1 refusal");
    is_int(r.finish[0], TKS_FINISH_LENGTH, "choice 0 finish length");
    is_int(r.finish[1], TKS_FINISH_CONTENT_FILTER, "choice 1 finish content_filter");
    is_int(r.n_usage, 2, "usage on the finish chunk and x_groq.usage");
    is_int(r.usage[0], 7, "input");
    is_int(r.usage[1], 10, "output: the later total replaces the earlier");
    is_int(r.usage[2], 17, "total");
    is_int(r.usage[3], -1, "no reasoning count given");
    is_int(r.usage[4], 4, "DeepSeek prompt_cache_hit_tokens as cached");
    is_int(r.n_error, 1, "one ERROR");
    is_str(ds_str(&r.err_msg), "Token limit reached", "error message");
    is_str(ds_str(&r.err_code), "400", "numeric code as its text");
    is_str(ds_str(&r.err_type), "invalid_request_error", "error type");
    is_str(ds_str(&r.err_json),
           "{\"message\":\"Token limit reached\",\"type\":\"invalid_request_error\",\"code\":400}",
           "error json verbatim");
    is_int(r.n_done, 0, "no DONE");
    rec_free(&r);
    tevs_free(&evs);
}

static void test_openai_legacy(void) {
    tevs evs = {0};
    rec r;
    load_sse("openai-chat-legacy-function.sse", &evs);
    int rc = run3("openai-chat-legacy-function", &evs, TKS_DIALECT_OPENAI_CHAT, &r);
    is_int(rc, TKS_OK, "legacy function_call stream completes");
    is_str(ds_str(&r.tool[0][0].name), "lookup", "function_call name as tool call 0");
    is_str(ds_str(&r.tool[0][0].args), "{\"q\":1}", "function_call arguments");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "function_call finish is tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "function_call", "raw finish function_call");
    is_int(r.n_error, 1, "flat {\"object\":\"error\"} error");
    is_str(ds_str(&r.err_msg), "flat vllm error", "flat error message");
    is_str(ds_str(&r.err_type), "BadRequestError", "flat error type");
    is_str(ds_str(&r.err_code), "400", "flat error code");
    rec_free(&r);
    tevs_free(&evs);
}

/* ---- anthropic ---------------------------------------------------------------------- */

static void test_anthropic(void) {
    tevs evs = {0};
    rec r;
    load_sse("anthropic-thinking-tool.sse", &evs);
    is_int(evs.n, 19, "anthropic-thinking-tool.sse: 19 events");
    int rc = run3("anthropic-thinking-tool", &evs, TKS_DIALECT_ANTHROPIC, &r);
    is_int(rc, TKS_OK, "message_stop completes");
    is_int(r.n_start, 1, "one START");
    is_str(ds_str(&r.start_id), "msg_1", "START id");
    is_str(ds_str(&r.start_model), "claude-x", "START model");
    is_str(ds_str(&r.role[0]), "assistant", "ROLE");
    is_str(ds_str(&r.reasoning[0]), "Let me think.", "thinking deltas");
    is_str(ds_str(&r.signature), "EqQBsig==", "signature verbatim");
    is_str(ds_str(&r.text[0]), "Hi \xE2\x80\xA8 there", "text with U+2028 kept");
    is_int(r.tool[0][0].calls, 1, "tool_use block is tool call 0 (block index 2)");
    is_str(ds_str(&r.tool[0][0].id), "toolu_1", "tool id");
    is_str(ds_str(&r.tool[0][0].name), "get_weather", "tool name");
    is_str(ds_str(&r.tool[0][0].args), "{\"city\": \"Paris\"}", "partial_json joined");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "tool_use -> tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "tool_use", "raw stop_reason");
    is_int(r.usage[0], 12, "input tokens from message_start");
    is_int(r.usage[1], 40, "output tokens from message_delta (cumulative)");
    is_int(r.usage[2], -1, "no total from Anthropic");
    is_int(r.usage[4], 4, "cache_read_input_tokens as cached");
    is_int(r.n_done, 1, "DONE");
    is_int(r.n_error, 0, "no error");
    rec_free(&r);
    tevs_free(&evs);

    load_sse("anthropic-error.sse", &evs);
    rc = run3("anthropic-error", &evs, TKS_DIALECT_ANTHROPIC, &r);
    is_int(rc, TKS_ETRUNC, "error event then end: ETRUNC");
    is_str(ds_str(&r.text[0]), "Partial", "text before the error kept");
    is_str(ds_str(&r.signature), "REDACTED==", "redacted_thinking data kept as SIGNATURE");
    ok(strstr(ds_str(&r.log), "name[17]=redacted_thinking") != NULL, "redacted_thinking SIGNATURE is named");
    is_int(r.n_error, 1, "ERROR");
    is_str(ds_str(&r.err_msg), "Overloaded", "error message");
    is_str(ds_str(&r.err_type), "overloaded_error", "error type");
    is_str(ds_str(&r.err_json), "{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}", "error json");
    rec_free(&r);
    tevs_free(&evs);
}


/* ---- the other dialects ------------------------------------------------------------- */

static void test_responses(void) {
    tevs evs = {0};
    rec r;
    load_any("responses-reasoning-tools.sse", &evs);
    is_int(evs.n, 17, "responses-reasoning-tools.sse: 17 events");
    int rc = run3("responses-reasoning-tools", &evs, TKS_DIALECT_OPENAI_RESPONSES, &r);
    is_int(rc, TKS_OK, "response.completed completes (no [DONE] needed)");
    is_int(r.n_start, 1, "START once (created, not in_progress)");
    is_str(ds_str(&r.start_id), "resp_1", "START id");
    is_str(ds_str(&r.start_model), "gpt-r", "START model");
    is_str(ds_str(&r.role[0]), "assistant", "ROLE from the message item");
    is_str(ds_str(&r.reasoning[0]), "Plan: add.", "reasoning summary deltas");
    is_str(ds_str(&r.signature), "gAAAenc", "encrypted reasoning content kept as SIGNATURE");
    is_str(ds_str(&r.tool[0][0].id), "call_9", "call_id as tool id");
    is_str(ds_str(&r.tool[0][0].name), "add", "tool name");
    is_str(ds_str(&r.tool[0][0].args), "{\"a\":1}", "argument deltas (the .done repeats nothing)");
    is_int(r.tool[0][0].whole, 0, "streamed arguments are fragments");
    is_str(ds_str(&r.tool[0][1].name), "mul", "a call known only from output_item.done");
    is_str(ds_str(&r.tool[0][1].args), "{\"b\":2}", "... its arguments whole");
    is_int(r.tool[0][1].whole, 1, "... flagged WHOLE");
    is_str(ds_str(&r.text[0]), "Sum is 1", "output text deltas");
    is_str(ds_str(&r.logprobs[0]), "[{\"token\":\"is\",\"logprob\":-0.1}]\n", "non-empty logprobs only");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "completed after calls: tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "completed", "raw status");
    is_int(r.usage[0], 11, "input");
    is_int(r.usage[1], 22, "output");
    is_int(r.usage[2], 33, "total");
    is_int(r.usage[3], 9, "reasoning");
    is_int(r.usage[4], 5, "cached");
    is_int(r.n_done, 1, "DONE");
    rec_free(&r);
    tevs_free(&evs);

    load_any("responses-error-incomplete.jsonl", &evs);
    rc = run3("responses-error-incomplete", &evs, TKS_DIALECT_OPENAI_RESPONSES, &r);
    is_int(rc, TKS_OK, "second response ends with response.incomplete");
    is_int(r.n_start, 2, "two responses, two STARTs");
    is_int(r.n_error, 1, "flat error event once (response.failed does not repeat it)");
    is_str(ds_str(&r.err_msg), "flat error", "flat error message");
    is_str(ds_str(&r.err_code), "server_error", "flat error code");
    ok(strstr(ds_str(&r.log), "10 c0 i0 f5 ") != NULL, "failed -> FINISH error");
    is_str(ds_str(&r.text[0]), "Hi", "text of the failed response");
    is_str(ds_str(&r.refusal[0]), "No.", "refusal delta");
    is_int(r.finish[0], TKS_FINISH_LENGTH, "incomplete max_output_tokens -> length");
    is_str(ds_str(&r.finish_raw[0]), "max_output_tokens", "raw incomplete reason");
    rec_free(&r);
    tevs_free(&evs);
}

static void test_gemini(void) {
    tevs evs = {0};
    rec r;
    load_any("gemini-thought-call.sse", &evs);
    is_int(evs.n, 3, "gemini-thought-call.sse: 3 CRLF events");
    int rc = run3("gemini-thought-call", &evs, TKS_DIALECT_GEMINI, &r);
    is_int(rc, TKS_OK, "finishReason seen: finish delivers DONE and OK");
    is_int(r.n_done, 1, "DONE from finish");
    is_str(ds_str(&r.start_id), "g-1", "responseId");
    is_str(ds_str(&r.start_model), "gemini-t", "modelVersion");
    is_str(ds_str(&r.role[0]), "assistant", "role model reported as assistant");
    is_str(ds_str(&r.reasoning[0]), "Let me think", "thought part");
    is_str(ds_str(&r.text[0]), "<b>Hi</b>", "\\u003c escapes decoded");
    is_str(ds_str(&r.signature), "c2ln", "thoughtSignature");
    is_str(ds_str(&r.tool[0][0].name), "lookup", "functionCall name");
    is_str(ds_str(&r.tool[0][0].args), "{\"q\": \"x y\",\"n\": [1, 2]}", "args: the raw bytes");
    is_int(r.tool[0][0].whole, 1, "args WHOLE");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "STOP after a call -> tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "STOP", "raw STOP");
    is_int(r.usage[0], 8, "promptTokenCount");
    is_int(r.usage[1], 5, "candidatesTokenCount (latest)");
    is_int(r.usage[2], 17, "totalTokenCount");
    is_int(r.usage[3], 4, "thoughtsTokenCount");
    is_int(r.usage[4], 2, "cachedContentTokenCount");
    rec_free(&r);
    tevs_free(&evs);

    load_any("gemini-safety-error.json", &evs);
    is_int(evs.n, 2, "gemini-safety-error.json: 2 array elements");
    rc = run3("gemini-safety-error", &evs, TKS_DIALECT_GEMINI, &r);
    is_str(ds_str(&r.text[0]), "Blocked?", "text");
    is_int(r.finish[0], TKS_FINISH_CONTENT_FILTER, "SAFETY -> content_filter");
    is_int(r.n_error, 1, "error element");
    is_str(ds_str(&r.err_msg), "The model is overloaded.", "error message");
    is_str(ds_str(&r.err_code), "503", "error code");
    is_str(ds_str(&r.err_type), "UNAVAILABLE", "error status as type");
    is_int(rc, TKS_OK, "a finish reason was seen before the error");
    rec_free(&r);
    tevs_free(&evs);
}

static void test_ollama(void) {
    tevs evs = {0};
    rec r;
    load_any("ollama-chat-tools.ndjson", &evs);
    int rc = run3("ollama-chat-tools", &evs, TKS_DIALECT_OLLAMA, &r);
    is_int(rc, TKS_OK, "done:true completes");
    is_str(ds_str(&r.start_model), "qwen3", "START model");
    is_str(ds_str(&r.start_id), "", "no id");
    is_str(ds_str(&r.reasoning[0]), "hmm", "thinking");
    is_str(ds_str(&r.text[0]), "Tokyo & more", "content (\\u0026 decoded)");
    is_str(ds_str(&r.tool[0][0].id), "call_a", "tool id");
    is_str(ds_str(&r.tool[0][0].name), "get_weather", "tool name");
    is_str(ds_str(&r.tool[0][0].args), "{\"city\":\"Tokyo\"}", "arguments object, raw");
    is_int(r.tool[0][0].whole, 1, "WHOLE");
    is_str(ds_str(&r.tool[0][1].name), "get_time", "second call gets the next index");
    is_str(ds_str(&r.tool[0][1].args), "{}", "empty arguments");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "stop after tool calls -> tool_calls");
    is_str(ds_str(&r.finish_raw[0]), "stop", "raw done_reason");
    is_int(r.usage[0], 12, "prompt_eval_count");
    is_int(r.usage[1], 30, "eval_count");
    is_int(r.usage[2], 42, "total = their sum");
    rec_free(&r);
    tevs_free(&evs);

    load_any("ollama-generate-error.ndjson", &evs);
    rc = run3("ollama-generate-error", &evs, TKS_DIALECT_OLLAMA, &r);
    is_int(rc, TKS_ETRUNC, "error line then EOF: ETRUNC");
    is_str(ds_str(&r.text[0]), "Hello", "generate response text");
    is_str(ds_str(&r.err_msg), "model runner crashed", "error string");
    rec_free(&r);
    tevs_free(&evs);
}

static void test_bedrock(void) {
    tevs evs = {0};
    rec r;
    load_any("bedrock-converse.bin", &evs);
    is_int(evs.n, 10, "bedrock-converse.bin: 10 frames");
    int rc = run3("bedrock-converse", &evs, TKS_DIALECT_BEDROCK, &r);
    is_int(rc, TKS_OK, "metadata completes");
    is_int(r.n_start, 1, "START from messageStart");
    is_str(ds_str(&r.reasoning[0]), "Think", "reasoningContent text");
    is_str(ds_str(&r.signature), "SIG==", "reasoningContent signature");
    is_str(ds_str(&r.text[0]), "Hi", "text");
    is_str(ds_str(&r.tool[0][0].id), "tooluse_1", "toolUseId");
    is_str(ds_str(&r.tool[0][0].name), "calc", "tool name");
    is_str(ds_str(&r.tool[0][0].args), "{\"x\":2}", "toolUse input fragments");
    is_int(r.finish[0], TKS_FINISH_TOOL_CALLS, "tool_use");
    is_int(r.usage[0], 7, "inputTokens");
    is_int(r.usage[1], 9, "outputTokens");
    is_int(r.usage[2], 16, "totalTokens");
    is_int(r.usage[4], 3, "cacheReadInputTokens");
    rec_free(&r);
    tevs_free(&evs);

    /* without the metadata frame, messageStop still completes at finish */
    load_any("bedrock-converse.bin", &evs);
    evs.n--;
    rec_init(&r);
    rc = decode_all(&evs, TKS_DIALECT_BEDROCK, NULL, &r, 0, NULL);
    is_int(rc, TKS_OK, "messageStop without metadata: complete at finish");
    is_int(r.n_done, 1, "DONE from finish");
    rec_free(&r);
    evs.n++;
    tevs_free(&evs);

    load_any("bedrock-invoke-anthropic-exception.bin", &evs);
    rc = run3("bedrock-invoke-anthropic-exception", &evs, TKS_DIALECT_BEDROCK, &r);
    is_str(ds_str(&r.start_id), "msg_b", "base64 chunk holding Anthropic events: START id");
    is_str(ds_str(&r.text[0]), "Bonjour", "text from the decoded chunk");
    is_int(r.finish[0], TKS_FINISH_STOP, "end_turn");
    is_int(r.usage[1], 6, "output tokens");
    is_int(r.n_error, 1, "exception frame -> ERROR");
    is_str(ds_str(&r.err_msg), "Too many requests, please wait.", "exception message");
    is_str(ds_str(&r.err_type), "throttlingException", "exception type");
    is_int(rc, TKS_OK, "message_stop was seen");
    rec_free(&r);
    tevs_free(&evs);
}

/* ---- contract: stop, errors, reset, truncation ---------------------------------------- */

static int push_all(tks_decoder *d, const tevs *evs, size_t from, size_t to) {
    int rc = 0;
    for (size_t i = from; i < to && rc == 0; i++) {
        tks_event e;
        tev_to_event(&evs->v[i], &e);
        rc = tks_decoder_push(d, &e);
    }
    return rc;
}

static void test_stop(const char *file, int dialect) {
    tevs evs = {0};
    rec full;
    load_any(file, &evs);
    rec_init(&full);
    decode_all(&evs, dialect, NULL, &full, 0, NULL);
    int bad = 0;
    for (int k = 1; k <= full.n_deltas; k++) {
        rec r;
        rec_init(&r);
        r.stop_after = k;
        tks_decoder *d;
        tks_decoder_config cfg = {.dialect = dialect};
        tks_decoder_new(&d, &cfg, rec_cb, &r);
        int rc = push_all(d, &evs, 0, evs.n);
        if (rc == TKS_OK) rc = tks_decoder_finish(d); /* Gemini's DONE comes from finish */
        int rc2 = push_all(d, &evs, 0, 1);
        int rc3 = tks_decoder_finish(d);
        if (rc != TKS_STOPPED || rc2 != TKS_STOPPED || rc3 != TKS_STOPPED || r.n_deltas != k ||
            strncmp(ds_str(&r.log), ds_str(&full.log), r.log.len) != 0)
            bad++;
        /* reset: a whole stream again, identical */
        tks_decoder_reset(d);
        /* the callback's user pointer is fixed: reuse r with stop disabled */
        rec_free(&r);
        rec_init(&r);
        rc = push_all(d, &evs, 0, evs.n);
        if (rc == 0) rc = tks_decoder_finish(d);
        if (rc != TKS_OK || strcmp(ds_str(&r.log), ds_str(&full.log)) != 0) bad++;
        rec_free(&r);
        tks_decoder_free(d);
    }
    ok(bad == 0 && full.n_deltas > 5, "%s: stopping at each of %d deltas returns TKS_STOPPED at once, stays "
                                      "stopped, and reset decodes the whole stream again",
       file, full.n_deltas);
    rec_free(&full);
    tevs_free(&evs);
}

static void test_errors(void) {
    rec r;
    rec_init(&r);
    tks_decoder *d;
    tks_decoder_config cfg = {.dialect = TKS_DIALECT_OPENAI_CHAT};
    tks_decoder_new(&d, &cfg, rec_cb, &r);
    const char *good = "{\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}";
    tks_event e = {.data = good, .data_len = strlen(good), .offset = 100};
    is_int(tks_decoder_push(d, &e), TKS_OK, "good chunk");
    const char *badj = "{\"id\":\"x\",\"choices\":[{\"index\":0,}]}";
    tks_event b = {.data = badj, .data_len = strlen(badj), .offset = 2000};
    is_int(tks_decoder_push(d, &b), TKS_EJSON, "malformed JSON: TKS_EJSON");
    is_int(tks_decoder_offset(d), 2000, "offset is the event's offset");
    ok(strstr(tks_decoder_error(d), "at byte 2000") != NULL, "message names the byte: %s", tks_decoder_error(d));
    ok(strstr(tks_decoder_error(d), "data byte 32") != NULL, "message names the position in the data");
    is_int(tks_decoder_push(d, &e), TKS_EJSON, "sticky: the next push returns the same error");
    is_int(tks_decoder_finish(d), TKS_EJSON, "sticky: finish too");
    tks_decoder_reset(d);
    is_str(tks_decoder_error(d), "", "reset clears the error");
    is_int(tks_decoder_offset(d), 0, "reset clears the offset");
    is_int(tks_decoder_push(d, &e), TKS_OK, "usable after reset");
    is_int(tks_decoder_finish(d), TKS_ETRUNC, "no [DONE]: ETRUNC");
    ok(strstr(tks_decoder_error(d), "terminal") != NULL, "truncation explained: %s", tks_decoder_error(d));
    tks_decoder_reset(d);

    /* unknown fields, non-object JSON and blank data are skipped */
    const char *odd[] = {"{\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"future\":[1,{\"a\":null}]},\"x\":1}],\"new\":{}}",
                         "[1,2,3]", "\"just a string\"", "  ", "", "{\"choices\":\"not an array\"}",
                         "{\"choices\":[1,\"x\",null,{\"delta\":null}]}", "{\"choices\":[{\"index\":-5,\"delta\":{\"content\":\"z\"}}]}"};
    int rcs = 0;
    rec_free(&r);
    rec_init(&r);
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        tks_event o = {.data = odd[i], .data_len = strlen(odd[i])};
        rcs |= tks_decoder_push(d, &o);
    }
    is_int(rcs, TKS_OK, "unknown fields, odd shapes and blank events are not errors");
    is_int(r.n_deltas, 2, "... only START (first chunk) and the text \"z\" (a negative index means the position)");
    is_str(ds_str(&r.text[0]), "z", "the text of the choice with a bad index");
    tks_decoder_free(d);
    rec_free(&r);

    /* limits */
    tks_decoder_config small = {.dialect = TKS_DIALECT_OPENAI_CHAT, .max_event = 16, .max_depth = 3};
    rec_init(&r);
    tks_decoder_new(&d, &small, rec_cb, &r);
    const char *big = "{\"choices\":[],\"x\":12345678}";
    tks_event bg = {.data = big, .data_len = strlen(big), .offset = 7};
    is_int(tks_decoder_push(d, &bg), TKS_ELIMIT, "event larger than max_event: ELIMIT");
    is_int(tks_decoder_offset(d), 7, "ELIMIT offset");
    tks_decoder_reset(d);
    const char *deep = "[[[[1]]]]";
    tks_event dp = {.data = deep, .data_len = strlen(deep), .offset = 9};
    is_int(tks_decoder_push(d, &dp), TKS_ELIMIT, "nesting deeper than max_depth: ELIMIT");
    tks_decoder_reset(d);
    const char *ok3 = "[[[1]]]";
    tks_event o3 = {.data = ok3, .data_len = strlen(ok3)};
    is_int(tks_decoder_push(d, &o3), TKS_OK, "nesting at max_depth is fine");
    tks_decoder_free(d);
    rec_free(&r);
}

static void test_sentinel(void) {
    static const int dialects[] = {TKS_DIALECT_OPENAI_RESPONSES, TKS_DIALECT_ANTHROPIC, TKS_DIALECT_GEMINI,
                                   TKS_DIALECT_OLLAMA};
    for (size_t i = 0; i < 4; i++) {
        rec r;
        rec_init(&r);
        tks_decoder *d;
        tks_decoder_config cfg = {.dialect = dialects[i]};
        tks_decoder_new(&d, &cfg, rec_cb, &r);
        tks_event e = {.data = "[DONE]", .data_len = 6};
        int rc = tks_decoder_push(d, &e);
        int rc2 = tks_decoder_push(d, &e);
        is_int(rc | rc2, TKS_OK, "%s: [DONE] is not a JSON error", tks_dialect_name(dialects[i]));
        is_int(tks_decoder_finish(d), dialects[i] == TKS_DIALECT_OPENAI_RESPONSES ? TKS_OK : TKS_ETRUNC,
               "%s: finish after the sentinel alone", tks_dialect_name(dialects[i]));
        /* it ends OpenAI's dialects only: elsewhere a proxy's sentinel cannot make a cut stream complete */
        is_int(r.n_done, dialects[i] == TKS_DIALECT_OPENAI_RESPONSES ? 1 : 0, "%s: %s",
               tks_dialect_name(dialects[i]),
               dialects[i] == TKS_DIALECT_OPENAI_RESPONSES ? "one DONE for two sentinels" : "the sentinel is skipped");
        tks_decoder_free(d);
        rec_free(&r);
    }
}

/* ---- OOM torture ---------------------------------------------------------------------- */

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
    int res;
    if (rc == TKS_ENOMEM) res = 1;
    else if (rc == c->want_rc && strcmp(ds_str(&r.log), c->want_log) == 0) res = 0;
    else res = 2;
    rec_free(&r);
    return res;
}

static void test_oom(const char *file, int dialect) {
    tevs evs = {0};
    rec r;
    load_any(file, &evs);
    rec_init(&r);
    int rc = decode_all(&evs, dialect, NULL, &r, 0, NULL);
    oom_case c = {&evs, dialect, ds_str(&r.log), rc};
    oom_torture(file, oom_body, &c);
    rec_free(&r);
    tevs_free(&evs);
}

int main(void) {
    test_names();
    test_args();
    test_openai_tools();
    test_openai_reasoning_error();
    test_openai_legacy();
    test_anthropic();
    test_responses();
    test_gemini();
    test_ollama();
    test_bedrock();
    test_errors();
    test_sentinel();
    test_stop("openai-chat-tools.sse", TKS_DIALECT_OPENAI_CHAT);
    test_stop("anthropic-thinking-tool.sse", TKS_DIALECT_ANTHROPIC);
    test_stop("responses-reasoning-tools.sse", TKS_DIALECT_OPENAI_RESPONSES);
    test_stop("gemini-thought-call.sse", TKS_DIALECT_GEMINI);
    test_stop("ollama-chat-tools.ndjson", TKS_DIALECT_OLLAMA);
    test_stop("bedrock-converse.bin", TKS_DIALECT_BEDROCK);
    test_oom("openai-chat-tools.sse", TKS_DIALECT_OPENAI_CHAT);
    test_oom("anthropic-thinking-tool.sse", TKS_DIALECT_ANTHROPIC);
    test_oom("responses-reasoning-tools.sse", TKS_DIALECT_OPENAI_RESPONSES);
    test_oom("gemini-thought-call.sse", TKS_DIALECT_GEMINI);
    test_oom("ollama-chat-tools.ndjson", TKS_DIALECT_OLLAMA);
    test_oom("bedrock-invoke-anthropic-exception.bin", TKS_DIALECT_BEDROCK);
    return done_testing();
}
