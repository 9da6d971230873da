/* assembler.c - normalized deltas -> the message: per choice role, content, reasoning,
 * refusal, tool calls joined by index, finish reason and logprobs; usage, id, model,
 * the first in-band error, and whether the terminal marker came.
 *
 * Choices and tool calls are kept in arrays sorted by their index (n > 1 and parallel
 * calls are few), with the last one used cached: the hot path (text of choice 0) is a
 * compare and a memcpy. Every byte kept, and every choice or call record, counts
 * against max_message. reset keeps the records and their buffers for the next stream, so
 * a warm assembler allocates nothing. */
#include "internal.h"

typedef struct asm_call {
    int32_t index;
    int has_id, has_name;
    tks__buf id, name, args;
} asm_call;

typedef struct asm_choice {
    int32_t index;
    int finish;
    /* which text fields were seen at all (absent -> null, even when empty) */
    int has_role, has_content, has_reasoning, has_signature, has_refusal, has_raw_finish;
    tks__buf role, content, reasoning, signature, refusal, raw_finish, logprobs;
    asm_call *calls;
    size_t ncalls, calls_cap; /* calls_cap records allocated, their buffers kept on reset */
    size_t last_call;
} asm_choice;

struct tks_assembler {
    tks_alloc alloc;
    size_t max_message;
    size_t used; /* bytes and records charged against max_message */
    int dialect;
    tks__err err;
    int complete, has_id, has_model, has_usage, has_error;
    tks__buf id, model;
    int64_t usage[5];
    tks__buf err_msg, err_code, err_type;
    asm_choice *choices;
    size_t nchoices, choices_cap;
    size_t last_choice;
    int32_t tool_base; /* added to tool indexes: a message after DONE appends its calls */
};

/* Buffers bigger than this are released by reset instead of kept for reuse. */
#define KEEP_ON_RESET (256 * TKS_KIB)

int tks_assembler_new(tks_assembler **out, const tks_assembler_config *cfg) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    tks_assembler *a;
    int rc = tks__object_new((void **)&a, sizeof *a, cfg ? cfg->alloc : NULL,
                             offsetof(tks_assembler, alloc));
    if (rc) return rc;
    a->max_message = TKS_OR(cfg ? cfg->max_message : 0, 16 * TKS_MIB);
    a->dialect = cfg ? cfg->dialect : 0;
    for (int i = 0; i < 5; i++) a->usage[i] = -1;
    *out = a;
    return TKS_OK;
}

static void buf_release(tks__buf *b, const tks_alloc *al, int keep) {
    if (!keep || b->cap > KEEP_ON_RESET) tks__buf_free(b, al);
    b->len = 0;
}

static void call_clear(asm_call *c, const tks_alloc *al, int keep) {
    buf_release(&c->id, al, keep);
    buf_release(&c->name, al, keep);
    buf_release(&c->args, al, keep);
    c->has_id = c->has_name = 0;
    c->index = 0;
}

static void choice_clear(asm_choice *ch, const tks_alloc *al, int keep) {
    tks__buf *bufs[] = {&ch->role, &ch->content, &ch->reasoning, &ch->signature,
                        &ch->refusal, &ch->raw_finish, &ch->logprobs};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) buf_release(bufs[i], al, keep);
    for (size_t i = 0; i < ch->calls_cap; i++) call_clear(&ch->calls[i], al, keep);
    if (!keep && ch->calls) {
        tks__free(al, ch->calls, ch->calls_cap * sizeof *ch->calls);
        ch->calls = NULL;
        ch->calls_cap = 0;
    }
    ch->ncalls = 0;
    ch->last_call = 0;
    ch->finish = TKS_FINISH_NONE;
    ch->has_role = ch->has_content = ch->has_reasoning = ch->has_signature = 0;
    ch->has_refusal = ch->has_raw_finish = 0;
    ch->index = 0;
}

static void clear_all(tks_assembler *a, int keep) {
    for (size_t i = 0; i < a->choices_cap; i++) choice_clear(&a->choices[i], &a->alloc, keep);
    if (!keep && a->choices) {
        tks__free(&a->alloc, a->choices, a->choices_cap * sizeof *a->choices);
        a->choices = NULL;
        a->choices_cap = 0;
    }
    a->nchoices = 0;
    a->last_choice = 0;
    a->tool_base = 0;
    tks__buf *bufs[] = {&a->id, &a->model, &a->err_msg, &a->err_code, &a->err_type};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) buf_release(bufs[i], &a->alloc, keep);
    a->used = 0;
    a->complete = a->has_id = a->has_model = a->has_usage = a->has_error = 0;
    for (int i = 0; i < 5; i++) a->usage[i] = -1;
    tks__err_clear(&a->err);
}

void tks_assembler_reset(tks_assembler *a) {
    if (a) clear_all(a, 1);
}

void tks_assembler_free(tks_assembler *a) {
    if (!a) return;
    clear_all(a, 0);
    tks_alloc al = a->alloc;
    tks__free(&al, a, sizeof *a);
}

const char *tks_assembler_error(const tks_assembler *a) { return a ? tks__err_text(&a->err) : ""; }
uint64_t tks_assembler_offset(const tks_assembler *a) { return a ? a->err.offset : 0; }
int tks_assembler_complete(const tks_assembler *a) { return a && a->complete; }
int tks_assembler_dialect(const tks_assembler *a) { return a ? a->dialect : 0; }
void tks_assembler_set_dialect(tks_assembler *a, int dialect) {
    if (a) a->dialect = dialect;
}

int tks_assembler_finish(tks_assembler *a) {
    if (!a) return TKS_EINVAL;
    if (a->err.code) return a->err.code;
    return a->complete ? TKS_OK : TKS_ETRUNC;
}

/* ---- growing the message ---------------------------------------------------------- */

static int charge(tks_assembler *a, size_t n, uint64_t off) {
    if (n > a->max_message - a->used)
        return tks__err_at(&a->err, TKS_ELIMIT, off, "assembled message exceeds max_message");
    a->used += n;
    return TKS_OK;
}

static int fail_nomem(tks_assembler *a, uint64_t off) {
    return tks__err_at(&a->err, TKS_ENOMEM, off, "out of memory assembling the message");
}

static int put(tks_assembler *a, tks__buf *b, const char *s, size_t n, uint64_t off) {
    if (n == 0) return TKS_OK;
    int rc = charge(a, n, off);
    if (rc) return rc;
    if (tks__buf_append(b, &a->alloc, s, n)) {
        a->used -= n;
        return fail_nomem(a, off);
    }
    return TKS_OK;
}

/* Replaces the content of b with s (used for values given whole). */
static int set(tks_assembler *a, tks__buf *b, const char *s, size_t n, uint64_t off) {
    a->used -= b->len;
    b->len = 0;
    return put(a, b, s, n, off);
}

/* Grows an array of records to hold one more; new records are zeroed. */
static int grow(tks_assembler *a, void **arr, size_t *cap, size_t need, size_t elem,
                uint64_t off) {
    if (need <= *cap) return TKS_OK;
    size_t ncap = *cap ? *cap * 2 : 2;
    if (ncap > SIZE_MAX / elem) return fail_nomem(a, off);
    int rc = charge(a, (ncap - *cap) * elem, off);
    if (rc) return rc;
    void *p = *arr ? tks__realloc(&a->alloc, *arr, *cap * elem, ncap * elem)
                   : tks__malloc(&a->alloc, ncap * elem);
    if (!p) {
        a->used -= (ncap - *cap) * elem;
        return fail_nomem(a, off);
    }
    memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return TKS_OK;
}

static asm_choice *get_choice(tks_assembler *a, int32_t index, uint64_t off) {
    if (a->nchoices && a->choices[a->last_choice].index == index)
        return &a->choices[a->last_choice];
    size_t pos = 0;
    while (pos < a->nchoices && a->choices[pos].index < index) pos++;
    if (pos < a->nchoices && a->choices[pos].index == index) {
        a->last_choice = pos;
        return &a->choices[pos];
    }
    if (grow(a, (void **)&a->choices, &a->choices_cap, a->nchoices + 1, sizeof *a->choices, off))
        return NULL;
    /* The spare record at the end (kept buffers, cleared) moves into place. */
    asm_choice spare = a->choices[a->nchoices];
    memmove(&a->choices[pos + 1], &a->choices[pos], (a->nchoices - pos) * sizeof *a->choices);
    a->choices[pos] = spare;
    a->choices[pos].index = index;
    a->nchoices++;
    a->last_choice = pos;
    return &a->choices[pos];
}

static asm_call *get_call(tks_assembler *a, asm_choice *ch, int32_t index, uint64_t off) {
    if (ch->ncalls && ch->calls[ch->last_call].index == index) return &ch->calls[ch->last_call];
    size_t pos = 0;
    while (pos < ch->ncalls && ch->calls[pos].index < index) pos++;
    if (pos < ch->ncalls && ch->calls[pos].index == index) {
        ch->last_call = pos;
        return &ch->calls[pos];
    }
    if (grow(a, (void **)&ch->calls, &ch->calls_cap, ch->ncalls + 1, sizeof *ch->calls, off))
        return NULL;
    asm_call spare = ch->calls[ch->ncalls];
    memmove(&ch->calls[pos + 1], &ch->calls[pos], (ch->ncalls - pos) * sizeof *ch->calls);
    ch->calls[pos] = spare;
    ch->calls[pos].index = index;
    ch->ncalls++;
    ch->last_call = pos;
    return &ch->calls[pos];
}

static int push_logprobs(tks_assembler *a, asm_choice *ch, const tks_delta *d) {
    /* kept as one closed array: "[" v1 "," v2 "]"; each push replaces the "]" */
    const char *v = d->json ? d->json : "null";
    size_t n = d->json ? d->json_len : 4;
    int rc;
    if (ch->logprobs.len == 0) {
        rc = put(a, &ch->logprobs, "[", 1, d->offset);
    } else {
        ch->logprobs.len--; /* drop the "]" */
        a->used--;
        rc = put(a, &ch->logprobs, ",", 1, d->offset);
    }
    if (!rc) rc = put(a, &ch->logprobs, v, n, d->offset);
    if (!rc) rc = put(a, &ch->logprobs, "]", 1, d->offset);
    return rc;
}

static int push_tool(tks_assembler *a, asm_choice *ch, const tks_delta *d) {
    int64_t index = (int64_t)d->index + a->tool_base;
    asm_call *c = get_call(a, ch, index > INT32_MAX ? INT32_MAX : (int32_t)index, d->offset);
    if (!c) return a->err.code;
    int rc = TKS_OK;
    if (d->kind == TKS_DELTA_TOOL_CALL) {
        /* the first non-empty id and name stick: continuation fragments may repeat them
         * empty (or, from some servers, differently) */
        if (!c->has_id && d->id_len) {
            rc = set(a, &c->id, d->id, d->id_len, d->offset);
            c->has_id = !rc;
        }
        if (!rc && !c->has_name && d->name_len) {
            rc = set(a, &c->name, d->name, d->name_len, d->offset);
            c->has_name = !rc;
        }
        return rc;
    }
    if (d->flags & TKS_DELTA_WHOLE) return set(a, &c->args, d->text, d->text_len, d->offset);
    return put(a, &c->args, d->text, d->text_len, d->offset);
}

int tks_assembler_push(tks_assembler *a, const tks_delta *d) {
    if (!a || !d) return TKS_EINVAL;
    if (a->err.code) return a->err.code;
    int rc = TKS_OK;
    switch (d->kind) {
    case TKS_DELTA_START:
        if (a->complete) {
            /* A new message in the same stream (concatenated responses): it is assembled
             * after the first, its tool calls numbered after the ones already kept. */
            a->complete = 0;
            for (size_t i = 0; i < a->nchoices; i++)
                if (a->choices[i].ncalls) {
                    int32_t top = a->choices[i].calls[a->choices[i].ncalls - 1].index;
                    if (top >= a->tool_base) a->tool_base = top == INT32_MAX ? top : top + 1;
                }
        }
        if (!a->has_id && d->id_len) {
            rc = set(a, &a->id, d->id, d->id_len, d->offset);
            a->has_id = !rc;
        }
        if (!rc && !a->has_model && d->name_len) {
            rc = set(a, &a->model, d->name, d->name_len, d->offset);
            a->has_model = !rc;
        }
        return rc;
    case TKS_DELTA_USAGE: {
        const int64_t v[5] = {d->input_tokens, d->output_tokens, d->total_tokens,
                              d->reasoning_tokens, d->cached_tokens};
        for (int i = 0; i < 5; i++)
            if (v[i] >= 0) a->usage[i] = v[i];
        a->has_usage = 1;
        return TKS_OK;
    }
    case TKS_DELTA_ERROR:
        if (a->has_error) return TKS_OK; /* the first error is the cause; keep it */
        rc = set(a, &a->err_msg, d->text, d->text_len, d->offset);
        if (!rc && d->id_len) rc = set(a, &a->err_code, d->id, d->id_len, d->offset);
        if (!rc && d->name_len) rc = set(a, &a->err_type, d->name, d->name_len, d->offset);
        if (!rc) a->has_error = 1;
        return rc;
    case TKS_DELTA_DONE:
        a->complete = 1;
        return TKS_OK;
    case TKS_DELTA_ROLE:
    case TKS_DELTA_TEXT:
    case TKS_DELTA_REASONING:
    case TKS_DELTA_SIGNATURE:
    case TKS_DELTA_REFUSAL:
    case TKS_DELTA_TOOL_CALL:
    case TKS_DELTA_TOOL_ARGS:
    case TKS_DELTA_LOGPROBS:
    case TKS_DELTA_FINISH:
        break;
    default:
        return TKS_OK; /* a kind this version does not know: not fatal */
    }

    asm_choice *ch = get_choice(a, d->choice, d->offset);
    if (!ch) return a->err.code;
    switch (d->kind) {
    case TKS_DELTA_TEXT:
        ch->has_content = 1;
        return put(a, &ch->content, d->text, d->text_len, d->offset);
    case TKS_DELTA_REASONING:
        ch->has_reasoning = 1;
        return put(a, &ch->reasoning, d->text, d->text_len, d->offset);
    case TKS_DELTA_SIGNATURE:
        ch->has_signature = 1;
        return put(a, &ch->signature, d->text, d->text_len, d->offset);
    case TKS_DELTA_REFUSAL:
        ch->has_refusal = 1;
        return put(a, &ch->refusal, d->text, d->text_len, d->offset);
    case TKS_DELTA_ROLE:
        if (ch->has_role && !d->text_len) return TKS_OK;
        ch->has_role = 1;
        return set(a, &ch->role, d->text, d->text_len, d->offset);
    case TKS_DELTA_FINISH:
        /* the latest reason wins (Anthropic may send several message_delta) */
        if (d->finish != TKS_FINISH_NONE) ch->finish = d->finish;
        if (d->text_len) {
            ch->has_raw_finish = 1;
            return set(a, &ch->raw_finish, d->text, d->text_len, d->offset);
        }
        return TKS_OK;
    case TKS_DELTA_LOGPROBS:
        return push_logprobs(a, ch, d);
    default:
        return push_tool(a, ch, d);
    }
}

int tks_assembler_on_delta(void *assembler, const tks_delta *delta) {
    return tks_assembler_push(assembler, delta);
}

/* ---- getters ---------------------------------------------------------------------- */

static const char *text_of(const tks__buf *b, int present, size_t *len) {
    if (len) *len = present ? b->len : 0;
    if (!present) return NULL;
    return b->p ? b->p : "";
}

static const asm_choice *choice_at(const tks_assembler *a, size_t i) {
    return a && i < a->nchoices ? &a->choices[i] : NULL;
}

static const asm_call *call_at(const tks_assembler *a, size_t i, size_t k) {
    const asm_choice *ch = choice_at(a, i);
    return ch && k < ch->ncalls ? &ch->calls[k] : NULL;
}

const char *tks_assembler_id(const tks_assembler *a, size_t *len) {
    return text_of(a ? &a->id : NULL, a && a->has_id, len);
}
const char *tks_assembler_model(const tks_assembler *a, size_t *len) {
    return text_of(a ? &a->model : NULL, a && a->has_model, len);
}
size_t tks_assembler_choices(const tks_assembler *a) { return a ? a->nchoices : 0; }
int32_t tks_assembler_choice_index(const tks_assembler *a, size_t i) {
    const asm_choice *ch = choice_at(a, i);
    return ch ? ch->index : -1;
}

#define CHOICE_TEXT(fn, field, flag)                                                    \
    const char *fn(const tks_assembler *a, size_t i, size_t *len) {                     \
        const asm_choice *ch = choice_at(a, i);                                         \
        return text_of(ch ? &ch->field : NULL, ch && ch->flag, len);                    \
    }
CHOICE_TEXT(tks_assembler_role, role, has_role)
CHOICE_TEXT(tks_assembler_content, content, has_content)
CHOICE_TEXT(tks_assembler_reasoning, reasoning, has_reasoning)
CHOICE_TEXT(tks_assembler_signature, signature, has_signature)
CHOICE_TEXT(tks_assembler_refusal, refusal, has_refusal)
CHOICE_TEXT(tks_assembler_raw_finish, raw_finish, has_raw_finish)
CHOICE_TEXT(tks_assembler_logprobs, logprobs, logprobs.len)
#undef CHOICE_TEXT

int tks_assembler_finish_reason(const tks_assembler *a, size_t i) {
    const asm_choice *ch = choice_at(a, i);
    return ch ? ch->finish : TKS_FINISH_NONE;
}

size_t tks_assembler_tool_calls(const tks_assembler *a, size_t i) {
    const asm_choice *ch = choice_at(a, i);
    return ch ? ch->ncalls : 0;
}
int32_t tks_assembler_tool_index(const tks_assembler *a, size_t i, size_t k) {
    const asm_call *c = call_at(a, i, k);
    return c ? c->index : -1;
}
const char *tks_assembler_tool_id(const tks_assembler *a, size_t i, size_t k, size_t *len) {
    const asm_call *c = call_at(a, i, k);
    return text_of(c ? &c->id : NULL, c && c->has_id, len);
}
const char *tks_assembler_tool_name(const tks_assembler *a, size_t i, size_t k, size_t *len) {
    const asm_call *c = call_at(a, i, k);
    return text_of(c ? &c->name : NULL, c && c->has_name, len);
}
const char *tks_assembler_tool_args(const tks_assembler *a, size_t i, size_t k, size_t *len) {
    const asm_call *c = call_at(a, i, k);
    return text_of(c ? &c->args : NULL, c != NULL, len);
}

int tks_assembler_tool_args_partial(const tks_assembler *a, size_t i, size_t k, char *out,
                                    size_t cap, size_t *out_len) {
    if (out_len) *out_len = 0;
    if (!out_len) return TKS_EINVAL;
    const asm_call *c = call_at(a, i, k);
    if (!c) return TKS_ENOTFOUND;
    int rc = tks_partial_json(c->args.p, c->args.len, out, cap, out_len);
    if (rc != TKS_EEMPTY) return rc;
    /* nothing usable yet: an empty object, the arguments of a call without any */
    *out_len = 2;
    if (!out) return TKS_OK;
    if (cap < 3) return TKS_ELIMIT;
    memcpy(out, "{}", 3);
    return TKS_OK;
}

int64_t tks_assembler_usage(const tks_assembler *a, int field) {
    if (!a || field < 0 || field > TKS_USAGE_CACHED) return -1;
    if (field == TKS_USAGE_TOTAL && a->usage[2] < 0 && a->usage[0] >= 0 && a->usage[1] >= 0)
        return a->usage[0] + a->usage[1];
    return a->usage[field];
}

int tks_assembler_has_error(const tks_assembler *a) { return a && a->has_error; }
const char *tks_assembler_error_message(const tks_assembler *a, size_t *len) {
    return text_of(a ? &a->err_msg : NULL, a && a->has_error, len);
}
const char *tks_assembler_error_code(const tks_assembler *a, size_t *len) {
    return text_of(a ? &a->err_code : NULL, a && a->has_error && a->err_code.len, len);
}
const char *tks_assembler_error_type(const tks_assembler *a, size_t *len) {
    return text_of(a ? &a->err_type : NULL, a && a->has_error && a->err_type.len, len);
}

/* ---- JSON export ------------------------------------------------------------------ */

static int j_key(tks__buf *b, const tks_alloc *al, const char *key) {
    return tks__buf_puts(b, al, key);
}

static int j_text(tks__buf *b, const tks_alloc *al, const tks__buf *v, int present) {
    if (!present) return tks__buf_puts(b, al, "null");
    return tks__json_string(b, al, v->p ? v->p : "", v->len);
}

static int j_count(tks__buf *b, const tks_alloc *al, int64_t v) {
    return v < 0 ? tks__buf_puts(b, al, "null") : tks__json_int(b, al, v);
}

static const char *finish_word(int f) {
    switch (f) {
    case TKS_FINISH_STOP: return "stop";
    case TKS_FINISH_LENGTH: return "length";
    case TKS_FINISH_TOOL_CALLS: return "tool_calls";
    case TKS_FINISH_CONTENT_FILTER: return "content_filter";
    case TKS_FINISH_ERROR: return "error";
    case TKS_FINISH_OTHER: return "other";
    default: return NULL;
    }
}

static const char *dialect_word(int d) {
    const char *name = tks_dialect_name(d);
    return name ? name : "auto";
}

static int build_json(const tks_assembler *a, tks__buf *b) {
    const tks_alloc *al = &a->alloc;
    const char *dn = dialect_word(a->dialect);
    int rc = j_key(b, al, a->complete ? "{\"complete\":true,\"dialect\":" : "{\"complete\":false,\"dialect\":");
    if (!rc) rc = tks__json_string(b, al, dn, strlen(dn));
    if (!rc) rc = j_key(b, al, ",\"id\":");
    if (!rc) rc = j_text(b, al, &a->id, a->has_id);
    if (!rc) rc = j_key(b, al, ",\"model\":");
    if (!rc) rc = j_text(b, al, &a->model, a->has_model);
    if (!rc) rc = j_key(b, al, ",\"choices\":[");
    for (size_t i = 0; !rc && i < a->nchoices; i++) {
        const asm_choice *ch = &a->choices[i];
        if (i) rc = tks__buf_putc(b, al, ',');
        if (!rc) rc = j_key(b, al, "{\"index\":");
        if (!rc) rc = tks__json_int(b, al, ch->index);
        if (!rc) rc = j_key(b, al, ",\"role\":");
        if (!rc) rc = j_text(b, al, &ch->role, ch->has_role);
        if (!rc) rc = j_key(b, al, ",\"content\":");
        if (!rc) rc = j_text(b, al, &ch->content, ch->has_content);
        if (!rc) rc = j_key(b, al, ",\"reasoning\":");
        if (!rc) rc = j_text(b, al, &ch->reasoning, ch->has_reasoning);
        if (!rc) rc = j_key(b, al, ",\"refusal\":");
        if (!rc) rc = j_text(b, al, &ch->refusal, ch->has_refusal);
        if (!rc) rc = j_key(b, al, ",\"tool_calls\":[");
        for (size_t k = 0; !rc && k < ch->ncalls; k++) {
            const asm_call *c = &ch->calls[k];
            if (k) rc = tks__buf_putc(b, al, ',');
            if (!rc) rc = j_key(b, al, "{\"index\":");
            if (!rc) rc = tks__json_int(b, al, c->index);
            if (!rc) rc = j_key(b, al, ",\"id\":");
            if (!rc) rc = j_text(b, al, &c->id, c->has_id);
            if (!rc) rc = j_key(b, al, ",\"name\":");
            if (!rc) rc = j_text(b, al, &c->name, c->has_name);
            if (!rc) rc = j_key(b, al, ",\"arguments\":");
            if (!rc) rc = j_text(b, al, &c->args, 1);
            if (!rc) rc = tks__buf_putc(b, al, '}');
        }
        const char *fw = finish_word(ch->finish);
        if (!rc) rc = j_key(b, al, "],\"finish_reason\":");
        if (!rc) rc = fw ? tks__json_string(b, al, fw, strlen(fw)) : j_key(b, al, "null");
        if (!rc) rc = j_key(b, al, ",\"raw_finish_reason\":");
        if (!rc) rc = j_text(b, al, &ch->raw_finish, ch->has_raw_finish);
        if (!rc) rc = tks__buf_putc(b, al, '}');
    }
    if (!rc) rc = j_key(b, al, "],\"usage\":");
    if (!rc && !a->has_usage) rc = j_key(b, al, "null");
    if (!rc && a->has_usage) {
        rc = j_key(b, al, "{\"input_tokens\":");
        if (!rc) rc = j_count(b, al, tks_assembler_usage(a, TKS_USAGE_INPUT));
        if (!rc) rc = j_key(b, al, ",\"output_tokens\":");
        if (!rc) rc = j_count(b, al, tks_assembler_usage(a, TKS_USAGE_OUTPUT));
        if (!rc) rc = j_key(b, al, ",\"total_tokens\":");
        if (!rc) rc = j_count(b, al, tks_assembler_usage(a, TKS_USAGE_TOTAL));
        if (!rc) rc = tks__buf_putc(b, al, '}');
    }
    if (!rc) rc = j_key(b, al, ",\"error\":");
    if (!rc && !a->has_error) rc = j_key(b, al, "null");
    if (!rc && a->has_error) {
        rc = j_key(b, al, "{\"message\":");
        if (!rc) rc = j_text(b, al, &a->err_msg, 1);
        if (!rc) rc = j_key(b, al, ",\"type\":");
        if (!rc) rc = j_text(b, al, &a->err_type, a->err_type.len > 0);
        if (!rc) rc = j_key(b, al, ",\"code\":");
        if (!rc) rc = j_text(b, al, &a->err_code, a->err_code.len > 0);
        if (!rc) rc = tks__buf_putc(b, al, '}');
    }
    if (!rc) rc = tks__buf_putc(b, al, '}');
    return rc;
}

int tks_assembler_json(const tks_assembler *a, char *out, size_t cap, size_t *out_len) {
    if (out_len) *out_len = 0;
    if (!a || !out_len) return TKS_EINVAL;
    tks__buf b = {0};
    int rc = build_json(a, &b);
    if (rc) {
        tks__buf_free(&b, &a->alloc);
        return rc;
    }
    *out_len = b.len;
    if (out) {
        if (cap < b.len + 1) {
            rc = TKS_ELIMIT;
        } else {
            memcpy(out, b.p, b.len);
            out[b.len] = 0;
        }
    }
    tks__buf_free(&b, &a->alloc);
    return rc;
}
