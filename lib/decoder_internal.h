/* decoder_internal.h - the decoder object shared by decoder.c (lifecycle, dispatch,
 * AUTO detection, shared emitters) and the per-dialect files decode_*.c. Private. */
#ifndef TKS_DECODER_INTERNAL_H
#define TKS_DECODER_INTERNAL_H

#include "internal.h"
#include "json_reader.h"

/* A tool call known by a provider key (Anthropic block index, Responses output index,
 * Bedrock contentBlockIndex) -> its index among the message's tool calls. */
typedef struct tks__dec_tool {
    int64_t key;
    int32_t tool;
    uint32_t flags; /* TKS__TOOL_* */
} tks__dec_tool;

#define TKS__TOOL_ARGS 0x1u /* argument text was emitted for it */

#define TKS__DEC_MAX_TOOLS ((size_t)1 << 16) /* tool calls tracked per message */

struct tks_decoder {
    tks_alloc alloc;
    tks_delta_cb on_delta;
    void *user;
    int cfg_dialect;   /* as configured */
    int dialect;       /* in use (AUTO until decided) */
    size_t max_event;
    tks__err err;
    int stopped;
    uint64_t offset;   /* the current event's offset */
    tks__json js;      /* reused tape */
    tks__buf bytes;    /* base64-decoded payloads (Bedrock InvokeModelWithResponseStream) */

    /* stream / message state (cleared by reset) */
    int started;       /* START sent for the current message */
    int complete;      /* DONE sent, nothing started since */
    int pending_done;  /* a DONE is due at finish (Gemini, Bedrock without metadata) */
    int error_sent;    /* an ERROR was sent in the current message */
    int tool_seen;     /* tool calls were seen in the current message (finish words) */
    int stop_seen;     /* Bedrock messageStop seen */
    uint64_t role_sent;    /* choices (< 64) whose ROLE was sent */
    int32_t next_tool;     /* the next tool index to hand out */
    int32_t choice_tools[8]; /* Gemini: next tool index per candidate (< 8) */
    tks__dec_tool *tools;
    size_t n_tools, cap_tools;
};

/* ---- shared helpers (decoder.c) ---------------------------------------------------- */

/* Sends one delta (sets its offset). TKS_OK or TKS_STOPPED (the decoder is then stopped). */
static inline int tks__dec_emit(tks_decoder *d, tks_delta *x) {
    x->offset = d->offset;
    if (d->on_delta && d->on_delta(d->user, x)) {
        d->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

/* Parses an event's data into d->js; a malformed text is a sticky TKS_EJSON at the
 * event's offset. */
int tks__dec_parse(tks_decoder *d, const char *data, size_t len);
/* Blank data (only JSON whitespace)? Such events carry nothing and are skipped. */
int tks__dec_blank(const char *data, size_t len);

/* Begins a message: clears the message state, sends START (id/model nodes may be 0,
 * the strings may be given instead when the nodes are 0). */
int tks__dec_start(tks_decoder *d, uint32_t id, uint32_t model);
/* ROLE for a choice, once per choice (role node; 0 or "model" means "assistant"). */
int tks__dec_role(tks_decoder *d, int32_t choice, uint32_t role);
/* Sends kind with the text of string node s, unless it is missing or empty. */
int tks__dec_text(tks_decoder *d, int kind, int32_t choice, uint32_t s);
/* TOOL_CALL for (choice, index) with id and name nodes (either may be 0). */
int tks__dec_tool_call(tks_decoder *d, int32_t choice, int32_t index, uint32_t id, uint32_t name);
/* TOOL_ARGS: a string fragment (whole = 0), or the complete arguments (whole = 1): the
 * text of a string node, the raw JSON of any other value. */
int tks__dec_tool_args(tks_decoder *d, int32_t choice, int32_t index, uint32_t args, int whole);
/* FINISH with the normalized reason of raw string node `raw` (or the text given). */
int tks__dec_finish(tks_decoder *d, int32_t choice, uint32_t raw);
int tks__dec_finish_text(tks_decoder *d, int32_t choice, int finish, const char *raw, size_t len);
/* The normalized reason for a provider's word. */
int tks__dec_finish_word(const char *s, size_t n);
/* USAGE from count nodes (0 = unknown). */
int tks__dec_usage(tks_decoder *d, uint32_t in, uint32_t out, uint32_t total, uint32_t reasoning,
                   uint32_t cached);
/* ERROR from an error value in any common shape: a string (the message), an object
 * with message/code/type/status, or an object wrapping one in "error". raw is the node
 * whose bytes go to json (0: e itself). */
int tks__dec_error(tks_decoder *d, uint32_t e, uint32_t raw);
/* DONE, once per message. */
int tks__dec_done(tks_decoder *d);

/* The tool index for a provider key: existing (found = 1) or newly assigned. NULL on
 * ENOMEM/ELIMIT (recorded as the sticky error). */
tks__dec_tool *tks__dec_tool_get(tks_decoder *d, int64_t key, int create, int *rc);

/* Reads an integer node (0 when missing or not an integer). */
static inline int64_t tks__dec_int(const tks_decoder *d, uint32_t n, int64_t dflt) {
    int64_t v;
    return tks__json_int64(&d->js, n, &v) ? v : dflt;
}

/* Does the unescaped key (p, n) equal the literal? */
#define TKS__KEY(p, n, lit) ((n) == sizeof(lit) - 1 && memcmp((p), lit, sizeof(lit) - 1) == 0)

/* ---- dialects (decode_*.c) ----------------------------------------------------------- */

int tks__dec_openai_chat(tks_decoder *d, const tks_event *ev);
int tks__dec_openai_responses(tks_decoder *d, const tks_event *ev);
int tks__dec_anthropic(tks_decoder *d, const tks_event *ev);
/* An already parsed Anthropic event object (also used for Bedrock-wrapped events). */
int tks__dec_anthropic_obj(tks_decoder *d, uint32_t root);
int tks__dec_gemini(tks_decoder *d, const tks_event *ev);
int tks__dec_ollama(tks_decoder *d, const tks_event *ev);
int tks__dec_bedrock(tks_decoder *d, const tks_event *ev);

#endif
