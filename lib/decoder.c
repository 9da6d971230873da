/* decoder.c - tks_decoder: the object, dialect names, AUTO detection and dispatch, and
 * the delta emitters every dialect shares. The dialects themselves are decode_*.c. */
#include "decoder_internal.h"

#include <stdio.h>

/* ---- dialect names ------------------------------------------------------------------ */

static const char *const dialect_names[] = {"auto",   "openai-chat", "openai-responses", "anthropic",
                                            "gemini", "ollama",      "bedrock"};
#define N_DIALECTS ((int)(sizeof dialect_names / sizeof dialect_names[0]))

const char *tks_dialect_name(int dialect) {
    if (dialect < 0 || dialect >= N_DIALECTS) return NULL;
    return dialect_names[dialect];
}

int tks_dialect_from_name(const char *name, size_t len) {
    if (!name) return -1;
    for (int i = 0; i < N_DIALECTS; i++)
        if (strlen(dialect_names[i]) == len && memcmp(dialect_names[i], name, len) == 0) return i;
    return -1;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int tks_decoder_new(tks_decoder **out, const tks_decoder_config *cfg, tks_delta_cb on_delta,
                    void *user) {
    static const tks_decoder_config defaults = {0};
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!cfg) cfg = &defaults;
    if (cfg->dialect < 0 || cfg->dialect >= N_DIALECTS) return TKS_EINVAL;
    if ((uint64_t)cfg->max_depth > UINT32_MAX) return TKS_EINVAL;
    tks_decoder *d;
    int rc = tks__object_new((void **)&d, sizeof *d, cfg->alloc, offsetof(tks_decoder, alloc));
    if (rc) return rc;
    d->on_delta = on_delta;
    d->user = user;
    d->cfg_dialect = d->dialect = cfg->dialect;
    d->max_event = TKS_OR(cfg->max_event, 16 * TKS_MIB);
    if ((uint64_t)d->max_event >= UINT32_MAX) d->max_event = (size_t)UINT32_MAX - 1;
    tks__json_init(&d->js, (uint32_t)TKS_OR(cfg->max_depth, 128), 0);
    d->bytes.limit = d->max_event;
    *out = d;
    return TKS_OK;
}

static void clear_stream(tks_decoder *d) {
    d->started = d->complete = d->pending_done = d->error_sent = d->tool_seen = d->stop_seen = 0;
    d->role_sent = 0;
    d->next_tool = 0;
    memset(d->choice_tools, 0, sizeof d->choice_tools);
    d->n_tools = 0;
}

void tks_decoder_reset(tks_decoder *d) {
    if (!d) return;
    tks__err_clear(&d->err);
    d->stopped = 0;
    d->offset = 0;
    d->dialect = d->cfg_dialect;
    clear_stream(d);
}

void tks_decoder_free(tks_decoder *d) {
    if (!d) return;
    tks_alloc a = d->alloc;
    tks__json_free(&d->js, &a);
    tks__buf_free(&d->bytes, &a);
    tks__free(&a, d->tools, d->cap_tools * sizeof *d->tools);
    tks__free(&a, d, sizeof *d);
}

const char *tks_decoder_error(const tks_decoder *d) { return d ? tks__err_text(&d->err) : ""; }

uint64_t tks_decoder_offset(const tks_decoder *d) { return d ? d->err.offset : 0; }

int tks_decoder_dialect(const tks_decoder *d) { return d ? d->dialect : TKS_DIALECT_AUTO; }

/* ---- shared helpers ----------------------------------------------------------------- */

int tks__dec_blank(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return 0;
    }
    return 1;
}

int tks__dec_parse(tks_decoder *d, const char *data, size_t len) {
    int rc = tks__json_parse(&d->js, &d->alloc, data, len);
    if (TKS_LIKELY(rc == TKS_OK)) return TKS_OK;
    char msg[128];
    if (rc == TKS_EJSON || (rc == TKS_ELIMIT && d->js.err_msg)) {
        snprintf(msg, sizeof msg, "%s in event data (data byte %zu)",
                 d->js.err_msg ? d->js.err_msg : "malformed JSON", d->js.err_pos);
        return tks__err_at(&d->err, rc, d->offset, msg);
    }
    return tks__err_at(&d->err, rc, d->offset, rc == TKS_ENOMEM ? "out of memory decoding event" : NULL);
}

int tks__dec_start(tks_decoder *d, uint32_t id, uint32_t model) {
    tks__json *j = &d->js;
    clear_stream(d);
    d->started = 1;
    tks_delta x = {.kind = TKS_DELTA_START};
    tks__json_str(j, id, &x.id, &x.id_len);
    tks__json_str(j, model, &x.name, &x.name_len);
    if (!x.id_len) x.id = NULL;
    if (!x.name_len) x.name = NULL;
    return tks__dec_emit(d, &x);
}

int tks__dec_role(tks_decoder *d, int32_t choice, uint32_t role) {
    if (choice >= 0 && choice < 64) {
        uint64_t bit = (uint64_t)1 << choice;
        if (d->role_sent & bit) return TKS_OK;
        d->role_sent |= bit;
    }
    tks_delta x = {.kind = TKS_DELTA_ROLE, .choice = choice};
    if (role && tks__json_str(&d->js, role, &x.text, &x.text_len) && x.text_len &&
        !(x.text_len == 5 && memcmp(x.text, "model", 5) == 0)) {
        /* the provider's word */
    } else {
        x.text = "assistant";
        x.text_len = 9;
    }
    return tks__dec_emit(d, &x);
}

int tks__dec_text(tks_decoder *d, int kind, int32_t choice, uint32_t s) {
    tks_delta x = {.kind = kind, .choice = choice};
    if (!tks__json_str(&d->js, s, &x.text, &x.text_len) || x.text_len == 0) return TKS_OK;
    return tks__dec_emit(d, &x);
}

int tks__dec_tool_call(tks_decoder *d, int32_t choice, int32_t index, uint32_t id, uint32_t name) {
    tks_delta x = {.kind = TKS_DELTA_TOOL_CALL, .choice = choice, .index = index};
    tks__json_str(&d->js, id, &x.id, &x.id_len);
    tks__json_str(&d->js, name, &x.name, &x.name_len);
    if (!x.id_len) x.id = NULL;
    if (!x.name_len) x.name = NULL;
    d->tool_seen = 1;
    return tks__dec_emit(d, &x);
}

int tks__dec_tool_args(tks_decoder *d, int32_t choice, int32_t index, uint32_t args, int whole) {
    tks_delta x = {.kind = TKS_DELTA_TOOL_ARGS, .choice = choice, .index = index};
    if (whole) {
        /* a JSON string holds the arguments' text (Responses); any other value is them */
        int t = tks__json_type(&d->js, args);
        if (t == TKS__J_NONE) return TKS_OK;
        if (t == TKS__J_STRING) tks__json_str(&d->js, args, &x.text, &x.text_len);
        else x.text = tks__json_raw(&d->js, args, &x.text_len);
        x.flags = TKS_DELTA_WHOLE;
    } else if (!tks__json_str(&d->js, args, &x.text, &x.text_len) || x.text_len == 0) {
        return TKS_OK;
    }
    return tks__dec_emit(d, &x);
}

int tks__dec_finish_word(const char *s, size_t n) {
    static const struct {
        const char *w;
        int f;
    } words[] = {
        {"stop", TKS_FINISH_STOP},
        {"end_turn", TKS_FINISH_STOP},
        {"stop_sequence", TKS_FINISH_STOP},
        {"STOP", TKS_FINISH_STOP},
        {"FINISH", TKS_FINISH_STOP}, /* Titan */
        {"completed", TKS_FINISH_STOP},
        {"eos", TKS_FINISH_STOP},
        {"length", TKS_FINISH_LENGTH},
        {"max_tokens", TKS_FINISH_LENGTH},
        {"MAX_TOKENS", TKS_FINISH_LENGTH},
        {"LENGTH", TKS_FINISH_LENGTH},
        {"max_output_tokens", TKS_FINISH_LENGTH},
        {"model_context_window_exceeded", TKS_FINISH_LENGTH},
        {"tool_calls", TKS_FINISH_TOOL_CALLS},
        {"function_call", TKS_FINISH_TOOL_CALLS},
        {"tool_use", TKS_FINISH_TOOL_CALLS},
        {"content_filter", TKS_FINISH_CONTENT_FILTER},
        {"refusal", TKS_FINISH_CONTENT_FILTER},
        {"SAFETY", TKS_FINISH_CONTENT_FILTER},
        {"RECITATION", TKS_FINISH_CONTENT_FILTER},
        {"BLOCKLIST", TKS_FINISH_CONTENT_FILTER},
        {"PROHIBITED_CONTENT", TKS_FINISH_CONTENT_FILTER},
        {"SPII", TKS_FINISH_CONTENT_FILTER},
        {"IMAGE_SAFETY", TKS_FINISH_CONTENT_FILTER},
        {"guardrail_intervened", TKS_FINISH_CONTENT_FILTER},
        {"content_filtered", TKS_FINISH_CONTENT_FILTER},
        {"CONTENT_FILTERED", TKS_FINISH_CONTENT_FILTER},
        {"error", TKS_FINISH_ERROR},
        {"failed", TKS_FINISH_ERROR},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].w) == n && memcmp(words[i].w, s, n) == 0) return words[i].f;
    return TKS_FINISH_OTHER;
}

int tks__dec_finish_text(tks_decoder *d, int32_t choice, int finish, const char *raw, size_t len) {
    tks_delta x = {.kind = TKS_DELTA_FINISH, .choice = choice, .finish = finish};
    if (len) {
        x.text = raw;
        x.text_len = len;
    }
    return tks__dec_emit(d, &x);
}

int tks__dec_finish(tks_decoder *d, int32_t choice, uint32_t raw) {
    const char *s;
    size_t n;
    if (!tks__json_str(&d->js, raw, &s, &n)) return TKS_OK;
    return tks__dec_finish_text(d, choice, tks__dec_finish_word(s, n), s, n);
}

int tks__dec_usage(tks_decoder *d, uint32_t in, uint32_t out, uint32_t total, uint32_t reasoning,
                   uint32_t cached) {
    tks_delta x = {.kind = TKS_DELTA_USAGE};
    x.input_tokens = tks__dec_int(d, in, -1);
    x.output_tokens = tks__dec_int(d, out, -1);
    x.total_tokens = tks__dec_int(d, total, -1);
    x.reasoning_tokens = tks__dec_int(d, reasoning, -1);
    x.cached_tokens = tks__dec_int(d, cached, -1);
    return tks__dec_emit(d, &x);
}

/* id/name of an error from a string or number node */
static void error_word(tks__json *j, uint32_t n, const char **p, size_t *len) {
    if (tks__json_type(j, n) == TKS__J_NUMBER) {
        *p = tks__json_raw(j, n, len);
    } else if (!tks__json_str(j, n, p, len) || *len == 0) {
        *p = NULL;
        *len = 0;
    }
}

int tks__dec_error(tks_decoder *d, uint32_t e, uint32_t raw) {
    tks__json *j = &d->js;
    if (!raw) raw = e;
    tks_delta x = {.kind = TKS_DELTA_ERROR};
    if (tks__json_type(j, e) == TKS__J_OBJECT) {
        uint32_t msg = TKS__JGET(j, e, "message");
        uint32_t inner = TKS__JGET(j, e, "error");
        if (!msg && (tks__json_type(j, inner) == TKS__J_OBJECT || tks__json_type(j, inner) == TKS__J_STRING))
            return tks__dec_error(d, inner, inner);
        tks__json_str(j, msg, &x.text, &x.text_len);
        error_word(j, TKS__JGET(j, e, "code"), &x.id, &x.id_len);
        uint32_t type = TKS__JGET(j, e, "type");
        if (!type || TKS__JSTR_IS(j, type, "error")) type = TKS__JGET(j, e, "status");
        error_word(j, type, &x.name, &x.name_len);
    } else {
        tks__json_str(j, e, &x.text, &x.text_len);
    }
    if (!x.text_len) x.text = NULL;
    x.json = tks__json_raw(j, raw, &x.json_len);
    d->error_sent = 1;
    return tks__dec_emit(d, &x);
}

int tks__dec_done(tks_decoder *d) {
    if (d->complete) return TKS_OK;
    d->complete = 1;
    d->started = 0;
    d->pending_done = 0;
    tks_delta x = {.kind = TKS_DELTA_DONE};
    return tks__dec_emit(d, &x);
}

tks__dec_tool *tks__dec_tool_get(tks_decoder *d, int64_t key, int create, int *rc) {
    *rc = TKS_OK;
    for (size_t i = d->n_tools; i-- > 0;)
        if (d->tools[i].key == key) return &d->tools[i];
    if (!create) return NULL;
    if (d->n_tools == d->cap_tools) {
        if (d->cap_tools >= TKS__DEC_MAX_TOOLS) {
            *rc = tks__err_at(&d->err, TKS_ELIMIT, d->offset, "too many tool calls in one message");
            return NULL;
        }
        size_t cap = d->cap_tools ? d->cap_tools * 2 : 8;
        tks__dec_tool *t = tks__realloc(&d->alloc, d->tools, d->cap_tools * sizeof *t, cap * sizeof *t);
        if (!t) {
            *rc = tks__err_at(&d->err, TKS_ENOMEM, d->offset, "out of memory decoding event");
            return NULL;
        }
        d->tools = t;
        d->cap_tools = cap;
    }
    tks__dec_tool *t = &d->tools[d->n_tools++];
    t->key = key;
    t->tool = d->next_tool++;
    t->flags = 0;
    return t;
}

/* ---- AUTO --------------------------------------------------------------------------- */

static int is_anthropic_type(const char *s, size_t n) {
    return TKS__KEY(s, n, "message_start") || TKS__KEY(s, n, "content_block_start") ||
           TKS__KEY(s, n, "content_block_delta") || TKS__KEY(s, n, "content_block_stop") ||
           TKS__KEY(s, n, "message_delta") || TKS__KEY(s, n, "message_stop") || TKS__KEY(s, n, "ping");
}

static int is_done_marker(const char *s, size_t n) { return n == 6 && memcmp(s, "[DONE]", 6) == 0; }

/* Decides the dialect from one event when it can (TKS_DIALECT_AUTO when it cannot);
 * *rc gets a parse error. On return with AUTO and *parsed, d->js holds the data. */
static int detect(tks_decoder *d, const tks_event *ev, int *parsed, int *rc) {
    *parsed = 0;
    *rc = TKS_OK;
    if (ev->message_type_len || ev->n_headers) return TKS_DIALECT_BEDROCK;
    if (ev->type_len > 9 && memcmp(ev->type, "response.", 9) == 0) return TKS_DIALECT_OPENAI_RESPONSES;
    if (ev->type_len && is_anthropic_type(ev->type, ev->type_len)) return TKS_DIALECT_ANTHROPIC;
    const char *s = ev->data;
    size_t n = ev->data_len, i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    if (i == n || s[i] != '{') return TKS_DIALECT_AUTO;
    if ((*rc = tks__dec_parse(d, s, n)) != TKS_OK) return TKS_DIALECT_AUTO;
    *parsed = 1;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    const char *t;
    size_t tl;
    if (tks__json_str(j, TKS__JGET(j, root, "type"), &t, &tl)) {
        if (tl > 9 && memcmp(t, "response.", 9) == 0) return TKS_DIALECT_OPENAI_RESPONSES;
        if (is_anthropic_type(t, tl)) return TKS_DIALECT_ANTHROPIC;
    }
    if (TKS__JGET(j, root, "choices") || TKS__JSTR_IS(j, TKS__JGET(j, root, "object"), "chat.completion.chunk"))
        return TKS_DIALECT_OPENAI_CHAT;
    if (TKS__JGET(j, root, "candidates") || TKS__JGET(j, root, "usageMetadata") ||
        TKS__JGET(j, root, "promptFeedback"))
        return TKS_DIALECT_GEMINI;
    if (TKS__JGET(j, root, "done") &&
        (TKS__JGET(j, root, "message") || TKS__JGET(j, root, "response") || TKS__JGET(j, root, "model")))
        return TKS_DIALECT_OLLAMA;
    if (TKS__JGET(j, root, "messageStart") || TKS__JGET(j, root, "contentBlockDelta") ||
        TKS__JGET(j, root, "contentBlockStart") || TKS__JGET(j, root, "messageStop") ||
        TKS__JGET(j, root, "bytes"))
        return TKS_DIALECT_BEDROCK;
    return TKS_DIALECT_AUTO;
}

/* An event AUTO could not place: the shapes every dialect shares (errors, [DONE]). */
static int decode_undecided(tks_decoder *d, const tks_event *ev, int parsed) {
    if (is_done_marker(ev->data, ev->data_len)) return tks__dec_done(d);
    if (!parsed) return TKS_OK;
    tks__json *j = &d->js;
    uint32_t root = TKS__JROOT;
    uint32_t e = TKS__JGET(j, root, "error");
    if (tks__json_truthy(j, e)) return tks__dec_error(d, e, e);
    if (TKS__JSTR_IS(j, TKS__JGET(j, root, "object"), "error") ||
        TKS__JSTR_IS(j, TKS__JGET(j, root, "type"), "error"))
        return tks__dec_error(d, root, root);
    return TKS_OK;
}

/* ---- push / finish ------------------------------------------------------------------ */

int tks_decoder_push(tks_decoder *d, const tks_event *ev) {
    if (!d || !ev || (!ev->data && ev->data_len)) return TKS_EINVAL;
    if (TKS_UNLIKELY(d->err.code)) return d->err.code;
    if (TKS_UNLIKELY(d->stopped)) return TKS_STOPPED;
    d->offset = ev->offset;
    if (TKS_UNLIKELY(ev->data_len > d->max_event))
        return tks__err_at(&d->err, TKS_ELIMIT, ev->offset, "event data larger than max_event");
    /* The OpenAI-style sentinel is not JSON. It ends the dialects whose servers send it;
     * proxies add it to others, where it is skipped: there only the dialect's own end
     * (message_stop, a finish, done:true) makes the message complete, so a stream cut
     * upstream is not taken for a whole one. */
    if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        if (d->dialect == TKS_DIALECT_OPENAI_CHAT || d->dialect == TKS_DIALECT_OPENAI_RESPONSES ||
            d->dialect == TKS_DIALECT_AUTO)
            return tks__dec_done(d);
        if (d->dialect != TKS_DIALECT_BEDROCK) return TKS_OK;
    }
    if (TKS_UNLIKELY(d->dialect == TKS_DIALECT_AUTO)) {
        int parsed, rc;
        int dia = detect(d, ev, &parsed, &rc);
        if (rc) return rc;
        if (dia == TKS_DIALECT_AUTO) return decode_undecided(d, ev, parsed);
        d->dialect = dia;
    }
    switch (d->dialect) {
    case TKS_DIALECT_OPENAI_CHAT: return tks__dec_openai_chat(d, ev);
    case TKS_DIALECT_OPENAI_RESPONSES: return tks__dec_openai_responses(d, ev);
    case TKS_DIALECT_ANTHROPIC: return tks__dec_anthropic(d, ev);
    case TKS_DIALECT_GEMINI: return tks__dec_gemini(d, ev);
    case TKS_DIALECT_OLLAMA: return tks__dec_ollama(d, ev);
    case TKS_DIALECT_BEDROCK: return tks__dec_bedrock(d, ev);
    default: return TKS_EINVAL;
    }
}

int tks_decoder_finish(tks_decoder *d) {
    if (!d) return TKS_EINVAL;
    if (d->err.code) return d->err.code;
    if (d->stopped) return TKS_STOPPED;
    if (!d->complete && d->pending_done) {
        int rc = tks__dec_done(d);
        if (rc) return rc;
    }
    if (d->complete) return TKS_OK;
    return tks__err_at(&d->err, TKS_ETRUNC, d->offset, "stream ended before the dialect's terminal marker");
}
