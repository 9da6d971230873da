/* client.c - the client recipe: bytes -> framing parser -> decoder -> assembler, with an
 * optional timer and one delta callback.
 *
 * With framing AUTO the first bytes are held (at most max_event) until they decide:
 * 12 bytes whose CRC-32 matches an AWS eventstream prelude -> eventstream; otherwise,
 * after an optional BOM and whitespace, '[' -> JSON array, '{' -> NDJSON, anything else
 * -> SSE. Every parser is created when first needed and kept across reset, so a client
 * reused stream after stream allocates nothing once warm.
 *
 * Errors of any stage become the client's (sticky) error with that stage's detail and
 * input byte offset. A stage's callback cannot return an error code, so the client keeps
 * the real status in `why` and asks the stage above to stop. */
#include "internal.h"
#include "crc32.h"

#include <stdio.h>

struct tks_client {
    tks_alloc alloc;
    int cfg_framing, cfg_dialect;
    size_t max_event, max_message;
    tks_timer *timer;
    tks_delta_cb on_delta;
    void *user;

    int framing;          /* decided framing (AUTO until then) */
    tks__buf pending;     /* bytes held while AUTO decides */
    tks_sse_parser *sse;
    tks_ndjson_parser *ndjson;
    tks_json_array_parser *array;
    tks_eventstream_parser *es;
    tks_decoder *dec;
    tks_assembler *asm_;

    tks__err err;
    int why;              /* status a callback stopped a stage with (STOPPED or an error) */
    int stopped, finished;
    int finishing;        /* inside the parser's finish: a last line without its newline */
    uint64_t pushed;      /* bytes received */
    int first_byte_marked;
    /* the current event's token-bearing deltas, for the timer */
    uint32_t ev_tokens, ev_flags;
};

/* ---- delta and event sinks ----------------------------------------------------------- */

static int on_delta(void *user, const tks_delta *d) {
    tks_client *c = user;
    if (c->on_delta && c->on_delta(c->user, d)) {
        c->why = TKS_STOPPED;
        return 1;
    }
    if (TKS_UNLIKELY(tks_assembler_dialect(c->asm_) == TKS_DIALECT_AUTO))
        tks_assembler_set_dialect(c->asm_, tks_decoder_dialect(c->dec));
    int rc = tks_assembler_push(c->asm_, d);
    if (TKS_UNLIKELY(rc)) {
        tks__err_set(&c->err, rc, tks_assembler_offset(c->asm_), tks_assembler_error(c->asm_));
        c->why = rc;
        return 1;
    }
    if (c->timer) {
        switch (d->kind) {
        case TKS_DELTA_TEXT:
        case TKS_DELTA_REFUSAL:
        case TKS_DELTA_TOOL_ARGS:
            if (d->text_len) {
                c->ev_tokens++;
                c->ev_flags |= TKS_CHUNK_CONTENT;
            }
            break;
        case TKS_DELTA_REASONING:
            if (d->text_len) {
                c->ev_tokens++;
                c->ev_flags |= TKS_CHUNK_REASONING;
            }
            break;
        case TKS_DELTA_USAGE:
            tks_timer_mark_usage(c->timer, d->input_tokens, d->output_tokens);
            break;
        default:
            break;
        }
    }
    return 0;
}

static int on_event(void *user, const tks_event *ev) {
    tks_client *c = user;
    c->ev_tokens = c->ev_flags = 0;
    int rc = tks_decoder_push(c->dec, ev);
    if (TKS_UNLIKELY(rc != TKS_OK)) {
        if (!c->why && c->finishing && rc == TKS_EJSON && !tks_assembler_complete(c->asm_)) {
            /* NDJSON's last line came without its newline and is not whole JSON: the
             * stream was cut inside it, which is a truncation, not bad JSON (after the
             * terminal marker such a line stays a JSON error) */
            tks__err_at(&c->err, TKS_ETRUNC, ev->offset, "stream cut inside its last line");
            c->why = TKS_ETRUNC;
        } else if (!c->why) {
            /* the decoder's own failure (c->why is set when a delta sink stopped it) */
            tks__err_set(&c->err, rc, tks_decoder_offset(c->dec), tks_decoder_error(c->dec));
            c->why = rc;
        }
        return 1;
    }
    if (c->timer && c->ev_tokens)
        tks_timer_mark_chunk(c->timer, tks_timer_now(c->timer), c->ev_tokens, c->ev_flags);
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

void tks_client_free(tks_client *c) {
    if (!c) return;
    tks_sse_parser_free(c->sse);
    tks_ndjson_parser_free(c->ndjson);
    tks_json_array_parser_free(c->array);
    tks_eventstream_parser_free(c->es);
    tks_decoder_free(c->dec);
    tks_assembler_free(c->asm_);
    tks__buf_free(&c->pending, &c->alloc);
    tks_alloc a = c->alloc;
    tks__free(&a, c, sizeof *c);
}

int tks_client_new(tks_client **out, const tks_client_config *cfg, tks_delta_cb cb, void *user) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (cfg && (cfg->framing < TKS_FRAMING_AUTO || cfg->framing > TKS_FRAMING_EVENTSTREAM ||
                cfg->dialect < TKS_DIALECT_AUTO || cfg->dialect > TKS_DIALECT_BEDROCK))
        return TKS_EINVAL;
    tks_client *c;
    int rc = tks__object_new((void **)&c, sizeof *c, cfg ? cfg->alloc : NULL,
                             offsetof(tks_client, alloc));
    if (rc) return rc;
    c->cfg_framing = c->framing = cfg ? cfg->framing : TKS_FRAMING_AUTO;
    c->cfg_dialect = cfg ? cfg->dialect : TKS_DIALECT_AUTO;
    c->max_event = TKS_OR(cfg ? cfg->max_event : 0, TKS_MIB);
    c->max_message = TKS_OR(cfg ? cfg->max_message : 0, 16 * TKS_MIB);
    c->timer = cfg ? cfg->timer : NULL;
    c->on_delta = cb;
    c->user = user;
    c->pending.limit = c->max_event;

    tks_decoder_config dc = {0};
    dc.alloc = &c->alloc;
    dc.dialect = c->cfg_dialect;
    dc.max_event = c->max_event;
    tks_assembler_config ac = {0};
    ac.alloc = &c->alloc;
    ac.max_message = c->max_message;
    ac.dialect = c->cfg_dialect;
    rc = tks_decoder_new(&c->dec, &dc, on_delta, c);
    if (!rc) rc = tks_assembler_new(&c->asm_, &ac);
    if (rc) {
        tks_client_free(c);
        return rc;
    }
    *out = c;
    return TKS_OK;
}

void tks_client_reset(tks_client *c) {
    if (!c) return;
    tks_sse_parser_reset(c->sse);
    tks_ndjson_parser_reset(c->ndjson);
    tks_json_array_parser_reset(c->array);
    tks_eventstream_parser_reset(c->es);
    tks_decoder_reset(c->dec);
    tks_assembler_reset(c->asm_);
    tks_assembler_set_dialect(c->asm_, c->cfg_dialect);
    c->pending.len = 0;
    c->framing = c->cfg_framing;
    tks__err_clear(&c->err);
    c->why = c->stopped = c->finished = 0;
    c->pushed = 0;
    c->first_byte_marked = 0;
}

const char *tks_client_error(const tks_client *c) { return c ? tks__err_text(&c->err) : ""; }
uint64_t tks_client_offset(const tks_client *c) { return c ? c->err.offset : 0; }
const tks_assembler *tks_client_message(const tks_client *c) { return c ? c->asm_ : NULL; }
int tks_client_framing(const tks_client *c) { return c ? c->framing : TKS_FRAMING_AUTO; }
int tks_client_dialect(const tks_client *c) { return c ? tks_decoder_dialect(c->dec) : 0; }

/* ---- framing ----------------------------------------------------------------------------- */

static int is_space(unsigned char b) { return b == ' ' || b == '\t' || b == '\r' || b == '\n'; }

/* The framing the first bytes s[0..n) show, or AUTO when they cannot tell yet (at the end
 * of input `final` forces an answer). */
static int sniff(const unsigned char *s, size_t n, int final) {
    if (n == 0) return final ? TKS_FRAMING_SSE : TKS_FRAMING_AUTO;
    if (s[0] < 0x09) {
        /* a binary start: an eventstream prelude is total length, headers length and
         * the CRC-32 of those 8 bytes */
        if (n < 12) return final ? TKS_FRAMING_EVENTSTREAM : TKS_FRAMING_AUTO;
        uint32_t want = (uint32_t)s[8] << 24 | (uint32_t)s[9] << 16 | (uint32_t)s[10] << 8 | s[11];
        return tks__crc32(0, s, 8) == want ? TKS_FRAMING_EVENTSTREAM : TKS_FRAMING_SSE;
    }
    size_t i = 0;
    if (s[0] == 0xEF) {
        static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
        size_t k = 0;
        while (k < 3 && k < n && s[k] == bom[k]) k++;
        if (k < 3 && k == n) return final ? TKS_FRAMING_SSE : TKS_FRAMING_AUTO;
        if (k < 3) return TKS_FRAMING_SSE;
        i = 3;
    }
    while (i < n && is_space(s[i])) i++;
    if (i == n) return final ? TKS_FRAMING_SSE : TKS_FRAMING_AUTO;
    return s[i] == '[' ? TKS_FRAMING_JSON_ARRAY : s[i] == '{' ? TKS_FRAMING_NDJSON : TKS_FRAMING_SSE;
}

/* Creates the parser of the decided framing (kept for later streams). */
static int make_parser(tks_client *c) {
    switch (c->framing) {
    case TKS_FRAMING_SSE: {
        if (c->sse) return TKS_OK;
        tks_sse_config cfg = {0};
        cfg.alloc = &c->alloc;
        cfg.max_line = c->max_event;
        cfg.max_event = c->max_event;
        return tks_sse_parser_new(&c->sse, &cfg, on_event, c);
    }
    case TKS_FRAMING_NDJSON: {
        if (c->ndjson) return TKS_OK;
        tks_ndjson_config cfg = {0};
        cfg.alloc = &c->alloc;
        cfg.max_line = c->max_event;
        return tks_ndjson_parser_new(&c->ndjson, &cfg, on_event, c);
    }
    case TKS_FRAMING_JSON_ARRAY: {
        if (c->array) return TKS_OK;
        tks_json_array_config cfg = {0};
        cfg.alloc = &c->alloc;
        cfg.max_element = c->max_event;
        return tks_json_array_parser_new(&c->array, &cfg, on_event, c);
    }
    default: {
        if (c->es) return TKS_OK;
        tks_eventstream_config cfg = {0};
        cfg.alloc = &c->alloc;
        cfg.max_frame = c->max_event > 16 * TKS_MIB ? c->max_event : 16 * TKS_MIB;
        return tks_eventstream_parser_new(&c->es, &cfg, on_event, c);
    }
    }
}

static int parser_push(tks_client *c, const void *data, size_t len) {
    switch (c->framing) {
    case TKS_FRAMING_SSE: return tks_sse_parser_push(c->sse, data, len);
    case TKS_FRAMING_NDJSON: return tks_ndjson_parser_push(c->ndjson, data, len);
    case TKS_FRAMING_JSON_ARRAY: return tks_json_array_parser_push(c->array, data, len);
    default: return tks_eventstream_parser_push(c->es, data, len);
    }
}

static int parser_finish(tks_client *c) {
    switch (c->framing) {
    case TKS_FRAMING_SSE: return tks_sse_parser_finish(c->sse);
    case TKS_FRAMING_NDJSON: return tks_ndjson_parser_finish(c->ndjson);
    case TKS_FRAMING_JSON_ARRAY: return tks_json_array_parser_finish(c->array);
    default: return tks_eventstream_parser_finish(c->es);
    }
}

static void parser_failure(tks_client *c, int rc) {
    const char *msg;
    uint64_t off;
    switch (c->framing) {
    case TKS_FRAMING_SSE:
        msg = tks_sse_parser_error(c->sse);
        off = tks_sse_parser_offset(c->sse);
        break;
    case TKS_FRAMING_NDJSON:
        msg = tks_ndjson_parser_error(c->ndjson);
        off = tks_ndjson_parser_offset(c->ndjson);
        break;
    case TKS_FRAMING_JSON_ARRAY:
        msg = tks_json_array_parser_error(c->array);
        off = tks_json_array_parser_offset(c->array);
        break;
    default:
        msg = tks_eventstream_parser_error(c->es);
        off = tks_eventstream_parser_offset(c->es);
        break;
    }
    if (msg && *msg) tks__err_set(&c->err, rc, off, msg);
    else tks__err_at(&c->err, rc, c->pushed, rc == TKS_ETRUNC ? "stream cut inside an event" : NULL);
}

/* The status of a parser call, with what the sinks recorded. */
static int settle(tks_client *c, int rc) {
    if (TKS_LIKELY(rc == TKS_OK)) return TKS_OK;
    if (c->why == TKS_STOPPED) {
        c->stopped = 1;
        return TKS_STOPPED;
    }
    if (c->why) return c->err.code;
    if (rc == TKS_STOPPED) { /* cannot happen: only our sinks stop a parser */
        c->stopped = 1;
        return TKS_STOPPED;
    }
    if (rc == TKS_ENOMEM)
        return tks__err_set(&c->err, rc, c->pushed, "out of memory");
    parser_failure(c, rc);
    return c->err.code;
}

int tks_client_push(tks_client *c, const void *bytes, size_t len) {
    if (!c || (!bytes && len)) return TKS_EINVAL;
    if (c->err.code) return c->err.code;
    if (c->stopped) return TKS_STOPPED;
    if (c->finished) return TKS_ESTATE;
    if (len == 0) return TKS_OK;
    if (c->timer && !c->first_byte_marked) {
        c->first_byte_marked = 1;
        tks_timer_mark_first_byte(c->timer, tks_timer_now(c->timer));
    }
    c->pushed += len;
    if (TKS_UNLIKELY(c->framing == TKS_FRAMING_AUTO)) {
        int rc;
        if (c->pending.len == 0) {
            c->framing = sniff(bytes, len, 0);
            if (c->framing == TKS_FRAMING_AUTO) {
                rc = tks__buf_append(&c->pending, &c->alloc, bytes, len);
                if (rc) return tks__err_set(&c->err, rc, c->pushed - len,
                                            rc == TKS_ELIMIT ? "too many bytes before the framing is known" : NULL);
                return TKS_OK;
            }
        } else {
            rc = tks__buf_append(&c->pending, &c->alloc, bytes, len);
            if (rc) return tks__err_set(&c->err, rc, c->pushed - len,
                                        rc == TKS_ELIMIT ? "too many bytes before the framing is known" : NULL);
            c->framing = sniff((const unsigned char *)c->pending.p, c->pending.len, 0);
            if (c->framing == TKS_FRAMING_AUTO) return TKS_OK;
            bytes = c->pending.p;
            len = c->pending.len;
        }
        rc = make_parser(c);
        if (rc) return tks__err_set(&c->err, rc, 0, NULL);
        rc = settle(c, parser_push(c, bytes, len));
        c->pending.len = 0;
        return rc;
    } else if (TKS_UNLIKELY(!c->sse && !c->ndjson && !c->array && !c->es)) {
        int rc = make_parser(c);
        if (rc) return tks__err_set(&c->err, rc, 0, NULL);
    }
    return settle(c, parser_push(c, bytes, len));
}

static int end(tks_client *c, int status) {
    if (c->timer) tks_timer_mark_end(c->timer, tks_timer_now(c->timer), status);
    return status;
}

int tks_client_finish(tks_client *c) {
    if (!c) return TKS_EINVAL;
    if (c->finished || c->stopped || c->err.code) {
        if (c->err.code) return c->err.code;
        return c->stopped ? TKS_STOPPED : TKS_OK;
    }
    c->finished = 1;
    int rc;
    if (c->framing == TKS_FRAMING_AUTO) {
        c->framing = sniff((const unsigned char *)c->pending.p, c->pending.len, 1);
        if ((rc = make_parser(c)) != TKS_OK) return end(c, tks__err_set(&c->err, rc, 0, NULL));
        rc = settle(c, parser_push(c, c->pending.p, c->pending.len));
        c->pending.len = 0;
        if (rc) return end(c, rc);
    } else if (!c->sse && !c->ndjson && !c->array && !c->es) {
        if ((rc = make_parser(c)) != TKS_OK) return end(c, tks__err_set(&c->err, rc, 0, NULL));
    }
    /* The parser may dispatch a last event (a final line without its newline). */
    c->finishing = c->framing == TKS_FRAMING_NDJSON;
    int prc = parser_finish(c);
    c->finishing = 0;
    if (prc != TKS_OK && prc != TKS_ETRUNC) return end(c, settle(c, prc));
    if (c->why) return end(c, settle(c, TKS_STOPPED));
    /* The decoder may still emit what it held back: a DONE waiting for usage, which
     * stays back when the framing was cut (the usage frame or event after a finish, or
     * a JSON array without its ']', is what was lost). */
    int drc = prc == TKS_ETRUNC ? TKS_ETRUNC : tks_decoder_finish(c->dec);
    if (c->why) return end(c, settle(c, TKS_STOPPED));
    if (tks_assembler_dialect(c->asm_) == TKS_DIALECT_AUTO)
        tks_assembler_set_dialect(c->asm_, tks_decoder_dialect(c->dec));
    if (drc != TKS_OK && drc != TKS_ETRUNC)
        return end(c, tks__err_set(&c->err, drc, tks_decoder_offset(c->dec),
                                   tks_decoder_error(c->dec)));
    if (tks_assembler_complete(c->asm_)) return end(c, TKS_OK);
    /* Not complete: say where the input ended, and what was cut when the parser knows. */
    if (prc == TKS_ETRUNC) {
        parser_failure(c, TKS_ETRUNC);
        return end(c, c->err.code);
    }
    if (tks_assembler_has_error(c->asm_)) {
        /* the provider's error ended the stream: say so rather than "cut" */
        size_t ml = 0;
        const char *m = tks_assembler_error_message(c->asm_, &ml);
        char why[256];
        ml = m ? tks__utf8_valid_prefix((const unsigned char *)m, ml > 160 ? 160 : ml) : 0;
        snprintf(why, sizeof why, "stream ended after the provider's error \"%.*s\"", (int)ml,
                 m ? m : "");
        return end(c, tks__err_at(&c->err, TKS_ETRUNC, c->pushed, why));
    }
    return end(c, tks__err_at(&c->err, TKS_ETRUNC, c->pushed,
                              "stream ended before its terminal marker"));
}
