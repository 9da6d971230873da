/* t_assembler.c - tks_assembler fed hand-built deltas: every field of the message, the
 * JSON export (exact text, written by hand), n > 1 choices, tool calls joined by index,
 * whole arguments, usage merging, errors, limits, reset, OOM torture. */
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static tks_delta D(int kind) {
    tks_delta d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.input_tokens = d.output_tokens = d.total_tokens = -1;
    d.reasoning_tokens = d.cached_tokens = -1;
    return d;
}

static tks_delta T(int kind, int32_t choice, const char *text) {
    tks_delta d = D(kind);
    d.choice = choice;
    d.text = text;
    d.text_len = text ? strlen(text) : 0;
    return d;
}

static tks_delta CALL(int32_t choice, int32_t index, const char *id, const char *name) {
    tks_delta d = D(TKS_DELTA_TOOL_CALL);
    d.choice = choice;
    d.index = index;
    d.id = id;
    d.id_len = id ? strlen(id) : 0;
    d.name = name;
    d.name_len = name ? strlen(name) : 0;
    return d;
}

static tks_delta ARGS(int32_t choice, int32_t index, const char *frag, int whole) {
    tks_delta d = T(TKS_DELTA_TOOL_ARGS, choice, frag);
    d.index = index;
    d.flags = whole ? TKS_DELTA_WHOLE : 0;
    return d;
}

static tks_delta FIN(int32_t choice, int finish, const char *raw) {
    tks_delta d = T(TKS_DELTA_FINISH, choice, raw);
    d.finish = finish;
    return d;
}

static tks_delta USAGE(int64_t in, int64_t out, int64_t total) {
    tks_delta d = D(TKS_DELTA_USAGE);
    d.input_tokens = in;
    d.output_tokens = out;
    d.total_tokens = total;
    return d;
}

static tks_delta START(const char *id, const char *model) {
    tks_delta d = D(TKS_DELTA_START);
    d.id = id;
    d.id_len = id ? strlen(id) : 0;
    d.name = model;
    d.name_len = model ? strlen(model) : 0;
    return d;
}

static char *to_json(const tks_assembler *a) {
    size_t need = 0, len = 0;
    if (tks_assembler_json(a, NULL, 0, &need) != TKS_OK) return NULL;
    char *s = malloc(need + 1);
    if (tks_assembler_json(a, s, need + 1, &len) != TKS_OK || len != need) {
        free(s);
        return NULL;
    }
    return s;
}

/* An OpenAI-style stream: text, then two tool calls whose fragments repeat an empty
 * name, finish, usage, done. */
static int feed_openai(tks_assembler *a) {
    tks_delta ds[] = {
        START("chatcmpl-1", "gpt-x"),
        START("", ""), /* later empty id/model never overwrite */
        T(TKS_DELTA_ROLE, 0, "assistant"),
        T(TKS_DELTA_TEXT, 0, ""),
        T(TKS_DELTA_TEXT, 0, "Hel"),
        T(TKS_DELTA_TEXT, 0, "lo \"w\"\n"),
        CALL(0, 0, "call_a", "get_weather"),
        ARGS(0, 0, "", 0),
        ARGS(0, 0, "{\"ci", 0),
        CALL(0, 0, "", ""),
        ARGS(0, 0, "ty\": \"Par", 0),
        CALL(0, 1, "call_b", "get_time"),
        ARGS(0, 1, "{}", 0),
        ARGS(0, 0, "is\"}", 0),
        FIN(0, TKS_FINISH_TOOL_CALLS, "tool_calls"),
        USAGE(10, 5, -1),
        USAGE(-1, 7, 17),
        T(TKS_DELTA_DONE, 0, NULL),
    };
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        ds[i].offset = 100 * i;
        int rc = tks_assembler_push(a, &ds[i]);
        if (rc) return rc;
    }
    return TKS_OK;
}

static const char openai_json[] =
    "{\"complete\":true,\"dialect\":\"openai-chat\",\"id\":\"chatcmpl-1\",\"model\":\"gpt-x\","
    "\"choices\":[{\"index\":0,\"role\":\"assistant\",\"content\":\"Hello \\\"w\\\"\\n\","
    "\"reasoning\":null,\"refusal\":null,\"tool_calls\":["
    "{\"index\":0,\"id\":\"call_a\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"},"
    "{\"index\":1,\"id\":\"call_b\",\"name\":\"get_time\",\"arguments\":\"{}\"}],"
    "\"finish_reason\":\"tool_calls\",\"raw_finish_reason\":\"tool_calls\"}],"
    "\"usage\":{\"input_tokens\":10,\"output_tokens\":7,\"total_tokens\":17},\"error\":null}";

static void test_openai(void) {
    tks_assembler_config cfg = {0};
    cfg.dialect = TKS_DIALECT_OPENAI_CHAT;
    tks_assembler *a;
    is_int(tks_assembler_new(&a, &cfg), TKS_OK, "new");
    is_int(feed_openai(a), TKS_OK, "pushes");
    is_int(tks_assembler_finish(a), TKS_OK, "finish: complete");
    is_int(tks_assembler_complete(a), 1, "complete");
    size_t len;
    const char *s;
    s = tks_assembler_id(a, &len);
    is_mem(s, len, "chatcmpl-1", 10, "id");
    s = tks_assembler_model(a, &len);
    is_mem(s, len, "gpt-x", 5, "model");
    is_int(tks_assembler_choices(a), 1, "one choice");
    s = tks_assembler_content(a, 0, &len);
    is_mem(s, len, "Hello \"w\"\n", 10, "content");
    s = tks_assembler_role(a, 0, &len);
    is_mem(s, len, "assistant", 9, "role");
    ok(tks_assembler_reasoning(a, 0, &len) == NULL && len == 0, "no reasoning: NULL");
    ok(tks_assembler_refusal(a, 0, &len) == NULL, "no refusal: NULL");
    is_int(tks_assembler_tool_calls(a, 0), 2, "two tool calls");
    s = tks_assembler_tool_name(a, 0, 0, &len);
    is_mem(s, len, "get_weather", 11, "an empty name never overwrites the known one");
    s = tks_assembler_tool_id(a, 0, 0, &len);
    is_mem(s, len, "call_a", 6, "an empty id never overwrites the known one");
    s = tks_assembler_tool_args(a, 0, 0, &len);
    is_mem(s, len, "{\"city\": \"Paris\"}", 17, "fragments joined by index");
    s = tks_assembler_tool_args(a, 0, 1, &len);
    is_mem(s, len, "{}", 2, "second call's arguments");
    is_int(tks_assembler_tool_index(a, 0, 1), 1, "second call's index");
    is_int(tks_assembler_finish_reason(a, 0), TKS_FINISH_TOOL_CALLS, "finish reason");
    s = tks_assembler_raw_finish(a, 0, &len);
    is_mem(s, len, "tool_calls", 10, "raw finish reason");
    is_int(tks_assembler_usage(a, TKS_USAGE_INPUT), 10, "usage input kept from the first");
    is_int(tks_assembler_usage(a, TKS_USAGE_OUTPUT), 7, "usage output: latest total");
    is_int(tks_assembler_usage(a, TKS_USAGE_TOTAL), 17, "usage total");
    is_int(tks_assembler_usage(a, TKS_USAGE_REASONING), -1, "reasoning tokens unknown");
    is_int(tks_assembler_usage(a, 99), -1, "unknown usage field");
    ok(!tks_assembler_has_error(a), "no error");
    ok(tks_assembler_tool_id(a, 0, 2, &len) == NULL, "no third call");
    ok(tks_assembler_content(a, 1, &len) == NULL, "no second choice");
    char *j = to_json(a);
    is_str(j, openai_json, "JSON export, exactly the tokstream(1) shape");
    cJSON *doc = cJSON_Parse(j);
    ok(doc != NULL, "export parses as JSON");
    cJSON_Delete(doc);
    free(j);

    /* reset and the same stream: the same message */
    tks_assembler_reset(a);
    is_int(tks_assembler_choices(a), 0, "reset empties the message");
    ok(tks_assembler_id(a, &len) == NULL, "reset forgets the id");
    is_int(tks_assembler_finish(a), TKS_ETRUNC, "reset: not complete");
    is_int(feed_openai(a), TKS_OK, "pushes after reset");
    j = to_json(a);
    is_str(j, openai_json, "same JSON after reset");
    free(j);

    /* size query and short buffers */
    size_t need;
    char small[16];
    is_int(tks_assembler_json(a, NULL, 0, &need), TKS_OK, "size query");
    is_int(need, strlen(openai_json), "size query: the length");
    is_int(tks_assembler_json(a, small, sizeof small, &len), TKS_ELIMIT, "short buffer");
    is_int(len, need, "short buffer: length still given");
    tks_assembler_free(a);
    tks_assembler_free(NULL);
}

/* n = 3 choices interleaved, arriving out of order; reasoning, refusal, logprobs. */
static void test_choices(void) {
    tks_assembler *a;
    tks_assembler_new(&a, NULL);
    tks_delta lp1 = T(TKS_DELTA_LOGPROBS, 1, NULL), lp2 = lp1;
    lp1.json = "{\"content\":[{\"token\":\"a\"}]}";
    lp1.json_len = strlen(lp1.json);
    lp2.json = "{\"content\":null}";
    lp2.json_len = strlen(lp2.json);
    tks_delta ds[] = {
        T(TKS_DELTA_ROLE, 2, "assistant"), T(TKS_DELTA_ROLE, 0, "assistant"),
        T(TKS_DELTA_TEXT, 2, "two"),       T(TKS_DELTA_REASONING, 0, "think "),
        T(TKS_DELTA_REFUSAL, 1, "I can"),  T(TKS_DELTA_TEXT, 0, "zero"),
        T(TKS_DELTA_REASONING, 0, "more"), T(TKS_DELTA_SIGNATURE, 0, "sig=="),
        lp1,                               T(TKS_DELTA_REFUSAL, 1, "not"),
        lp2,                               FIN(2, TKS_FINISH_LENGTH, "length"),
        FIN(0, TKS_FINISH_STOP, "end_turn"), FIN(1, TKS_FINISH_CONTENT_FILTER, ""),
    };
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) tks_assembler_push(a, &ds[i]);
    is_int(tks_assembler_choices(a), 3, "three choices");
    is_int(tks_assembler_choice_index(a, 0), 0, "sorted: 0");
    is_int(tks_assembler_choice_index(a, 1), 1, "sorted: 1");
    is_int(tks_assembler_choice_index(a, 2), 2, "sorted: 2");
    size_t len;
    const char *s = tks_assembler_reasoning(a, 0, &len);
    is_mem(s, len, "think more", 10, "reasoning joined");
    s = tks_assembler_signature(a, 0, &len);
    is_mem(s, len, "sig==", 5, "signature verbatim");
    s = tks_assembler_refusal(a, 1, &len);
    is_mem(s, len, "I cannot", 8, "refusal joined");
    s = tks_assembler_logprobs(a, 1, &len);
    const char *want_lp = "[{\"content\":[{\"token\":\"a\"}]},{\"content\":null}]";
    is_mem(s, len, want_lp, strlen(want_lp), "logprobs kept as one array");
    ok(tks_assembler_logprobs(a, 0, &len) == NULL, "no logprobs: NULL");
    ok(tks_assembler_role(a, 1, &len) == NULL, "choice 1 had no role");
    is_int(tks_assembler_finish_reason(a, 1), TKS_FINISH_CONTENT_FILTER, "choice 1 finish");
    ok(tks_assembler_raw_finish(a, 1, &len) == NULL, "empty raw reason: none");
    is_int(tks_assembler_finish(a), TKS_ETRUNC, "no DONE: truncated");
    char *j = to_json(a);
    const char *want =
        "{\"complete\":false,\"dialect\":\"auto\",\"id\":null,\"model\":null,\"choices\":["
        "{\"index\":0,\"role\":\"assistant\",\"content\":\"zero\",\"reasoning\":\"think more\","
        "\"refusal\":null,\"tool_calls\":[],\"finish_reason\":\"stop\",\"raw_finish_reason\":\"end_turn\"},"
        "{\"index\":1,\"role\":null,\"content\":null,\"reasoning\":null,\"refusal\":\"I cannot\","
        "\"tool_calls\":[],\"finish_reason\":\"content_filter\",\"raw_finish_reason\":null},"
        "{\"index\":2,\"role\":\"assistant\",\"content\":\"two\",\"reasoning\":null,\"refusal\":null,"
        "\"tool_calls\":[],\"finish_reason\":\"length\",\"raw_finish_reason\":\"length\"}],"
        "\"usage\":null,\"error\":null}";
    is_str(j, want, "JSON with three choices in index order");
    free(j);
    tks_assembler_free(a);
}

/* Arguments given whole (Gemini, Ollama) are stored once, replacing fragments. */
static void test_whole_args(void) {
    tks_assembler *a;
    tks_assembler_new(&a, NULL);
    tks_delta ds[] = {
        CALL(0, 0, NULL, "f"),  ARGS(0, 0, "{\"a\":1}", 1), ARGS(0, 0, "{\"a\":1}", 1),
        ARGS(0, 3, "{\"x\"", 0), ARGS(0, 3, "{\"x\":2}", 1),
        CALL(0, 3, "id3", "later"), CALL(0, 3, "other", "other"),
    };
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) tks_assembler_push(a, &ds[i]);
    size_t len;
    const char *s = tks_assembler_tool_args(a, 0, 0, &len);
    is_mem(s, len, "{\"a\":1}", 7, "whole arguments twice: stored once");
    s = tks_assembler_tool_args(a, 0, 1, &len);
    is_mem(s, len, "{\"x\":2}", 7, "whole arguments replace earlier fragments");
    is_int(tks_assembler_tool_index(a, 0, 1), 3, "index kept as given");
    ok(tks_assembler_tool_id(a, 0, 0, &len) == NULL, "no id given: NULL");
    s = tks_assembler_tool_name(a, 0, 1, &len);
    is_mem(s, len, "later", 5, "name arriving after the arguments");
    s = tks_assembler_tool_id(a, 0, 1, &len);
    is_mem(s, len, "id3", 3, "the first id sticks");
    tks_assembler_free(a);
}

/* Best-effort arguments at every prefix of the fragments. */
static void test_args_partial(void) {
    const char *args = "{\"city\": \"Paris\", \"days\": [1, 2], \"unit\": \"c\"}";
    tks_assembler *a;
    tks_assembler_new(&a, NULL);
    tks_delta c = CALL(0, 0, "id", "f");
    tks_assembler_push(a, &c);
    char out[128];
    size_t len;
    is_int(tks_assembler_tool_args_partial(a, 0, 0, out, sizeof out, &len), TKS_OK,
           "no arguments yet");
    is_mem(out, len, "{}", 2, "no arguments yet: {}");
    struct { size_t cut; const char *closed; } points[] = {
        {1, "{}"},
        {8, "{}"},
        {10, "{\"city\": \"\"}"},
        {13, "{\"city\": \"Par\"}"},
        {17, "{\"city\": \"Paris\"}"},
        {28, "{\"city\": \"Paris\", \"days\": []}"},
        {29, "{\"city\": \"Paris\", \"days\": [1]}"},
        {32, "{\"city\": \"Paris\", \"days\": [1, 2]}"},
        {strlen(args), args},
    };
    size_t fed = 0;
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
        tks_delta f = ARGS(0, 0, args + fed, 0);
        f.text_len = points[p].cut - fed;
        tks_assembler_push(a, &f);
        fed = points[p].cut;
        int rc = tks_assembler_tool_args_partial(a, 0, 0, out, sizeof out, &len);
        is_int(rc, TKS_OK, "partial arguments after %zu bytes", fed);
        is_mem(out, len, points[p].closed, strlen(points[p].closed), "closed after %zu bytes", fed);
    }
    is_int(tks_assembler_tool_args_partial(a, 0, 1, out, sizeof out, &len), TKS_ENOTFOUND,
           "no such call");
    is_int(tks_assembler_tool_args_partial(a, 0, 0, NULL, 0, &len), TKS_OK, "size query");
    is_int(len, strlen(args), "size query length");
    tks_assembler_free(a);
}

/* Content split into two deltas at every byte gives the same message. */
static void test_every_split(void) {
    const char *text = "caf\xc3\xa9 \xf0\x9f\x98\x80 end";
    size_t n = strlen(text);
    int bad = 0;
    for (size_t k = 0; k <= n; k++) {
        tks_assembler *a;
        tks_assembler_new(&a, NULL);
        tks_delta d1 = T(TKS_DELTA_TEXT, 0, text), d2 = T(TKS_DELTA_TEXT, 0, text + k);
        d1.text_len = k;
        d2.text_len = n - k;
        tks_assembler_push(a, &d1);
        tks_assembler_push(a, &d2);
        size_t len;
        const char *s = tks_assembler_content(a, 0, &len);
        if (len != n || memcmp(s, text, n)) bad = 1;
        tks_assembler_free(a);
    }
    ok(!bad, "text split at each of %zu points: same content", n + 1);
}

static void test_error_and_misc(void) {
    tks_assembler *a;
    tks_assembler_new(&a, NULL);
    tks_delta e1 = T(TKS_DELTA_ERROR, 0, "Token limit reached");
    e1.id = "400";
    e1.id_len = 3;
    tks_delta e2 = T(TKS_DELTA_ERROR, 0, "second");
    e2.name = "api_error";
    e2.name_len = 9;
    tks_delta odd = D(77);
    is_int(tks_assembler_push(a, &e1), TKS_OK, "error delta");
    is_int(tks_assembler_push(a, &e2), TKS_OK, "second error delta");
    is_int(tks_assembler_push(a, &odd), TKS_OK, "unknown kind: skipped");
    ok(tks_assembler_has_error(a), "has error");
    size_t len;
    const char *s = tks_assembler_error_message(a, &len);
    is_mem(s, len, "Token limit reached", 19, "the first error is kept");
    s = tks_assembler_error_code(a, &len);
    is_mem(s, len, "400", 3, "error code");
    ok(tks_assembler_error_type(a, &len) == NULL, "no type in the first error");
    is_int(tks_assembler_choices(a), 0, "message-level deltas make no choice");
    tks_delta u = USAGE(3, 4, -1);
    tks_assembler_push(a, &u);
    is_int(tks_assembler_usage(a, TKS_USAGE_TOTAL), 7, "total from input + output");
    char *j = to_json(a);
    is_str(j,
           "{\"complete\":false,\"dialect\":\"auto\",\"id\":null,\"model\":null,\"choices\":[],"
           "\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7},"
           "\"error\":{\"message\":\"Token limit reached\",\"type\":null,\"code\":\"400\"}}",
           "JSON with error and usage");
    free(j);
    /* a START after DONE begins a new message: no longer complete */
    tks_delta done = D(TKS_DELTA_DONE), st = START("m2", NULL);
    tks_assembler_push(a, &done);
    is_int(tks_assembler_complete(a), 1, "done: complete");
    tks_assembler_push(a, &st);
    is_int(tks_assembler_complete(a), 0, "start after done: not complete");
    tks_assembler_set_dialect(a, TKS_DIALECT_ANTHROPIC);
    is_int(tks_assembler_dialect(a), TKS_DIALECT_ANTHROPIC, "set_dialect");
    is_int(tks_assembler_push(NULL, &done), TKS_EINVAL, "push NULL");
    is_int(tks_assembler_push(a, NULL), TKS_EINVAL, "push NULL delta");
    is_int(tks_assembler_new(NULL, NULL), TKS_EINVAL, "new NULL");
    is_str(tks_assembler_error(a), "", "no object error");
    tks_assembler_free(a);
}

static void test_limit(void) {
    tks_assembler_config cfg = {0};
    cfg.max_message = 4096;
    tks_assembler *a;
    tks_assembler_new(&a, &cfg);
    char piece[100 + 1];
    memset(piece, 'x', 100);
    piece[100] = 0;
    int rc = TKS_OK;
    size_t pushed = 0;
    for (int i = 0; i < 100 && rc == TKS_OK; i++) {
        tks_delta d = T(TKS_DELTA_TEXT, 0, piece);
        d.text_len = 100;
        d.offset = 1000 + (uint64_t)i;
        rc = tks_assembler_push(a, &d);
        if (rc == TKS_OK) pushed += 100;
    }
    is_int(rc, TKS_ELIMIT, "max_message: TKS_ELIMIT");
    ok(pushed < 4096 && pushed > 3000, "stopped near the limit (%zu bytes)", pushed);
    ok(strstr(tks_assembler_error(a), "max_message") != NULL, "error says why: %s",
       tks_assembler_error(a));
    ok(tks_assembler_offset(a) >= 1000, "error offset from the delta");
    tks_delta d = T(TKS_DELTA_TEXT, 0, "y");
    is_int(tks_assembler_push(a, &d), TKS_ELIMIT, "sticky");
    is_int(tks_assembler_finish(a), TKS_ELIMIT, "finish reports it");
    size_t len;
    tks_assembler_content(a, 0, &len);
    is_int(len, pushed, "what was received is kept");
    tks_assembler_reset(a);
    is_int(tks_assembler_push(a, &d), TKS_OK, "reset clears the error");
    tks_assembler_free(a);
}

static int oom_body(const tks_alloc *al, void *ctx) {
    (void)ctx;
    tks_assembler_config cfg = {0};
    cfg.alloc = al;
    cfg.dialect = TKS_DIALECT_OPENAI_CHAT;
    tks_assembler *a;
    int rc = tks_assembler_new(&a, &cfg);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    int result = 0;
    for (int round = 0; round < 2 && !result; round++) {
        rc = feed_openai(a);
        if (rc == TKS_ENOMEM) {
            if (tks_assembler_push(a, &(tks_delta){.kind = TKS_DELTA_DONE}) != TKS_ENOMEM)
                result = 2; /* sticky */
            else
                result = 1;
            break;
        }
        if (rc) { result = 2; break; }
        size_t need;
        rc = tks_assembler_json(a, NULL, 0, &need);
        if (rc == TKS_ENOMEM) { result = 1; break; }
        char *j = malloc(need + 1);
        size_t len;
        rc = tks_assembler_json(a, j, need + 1, &len);
        if (rc == TKS_ENOMEM) result = 1;
        else if (rc || strcmp(j, openai_json)) result = 2;
        free(j);
        tks_assembler_reset(a);
    }
    tks_assembler_free(a);
    return result;
}

int main(void) {
    test_openai();
    test_choices();
    test_whole_args();
    test_args_partial();
    test_every_split();
    test_error_and_misc();
    test_limit();
    oom_torture("assembler", oom_body, NULL);
    return done_testing();
}
