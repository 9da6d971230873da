/*
 * tokstream.h - the one public header of tokstream, an embeddable C library for LLM
 * token streams: SSE and other framings, provider chunk decoding, message assembly,
 * streaming detokenization and stream timing.
 *
 * Conventions (see tokstream(7)):
 *  - every object is push-based: tks_X_new, tks_X_push, tks_X_finish, tks_X_reset,
 *    tks_X_free, tks_X_error, tks_X_offset;
 *  - functions return int: TKS_OK (0), a negative TKS_E* error, or a positive status
 *    (TKS_STOPPED); errors are sticky until reset;
 *  - callbacks return 0 to go on, non-zero to stop the push at once (TKS_STOPPED);
 *    pointers given to a callback are valid only during the call;
 *  - configs may be NULL; a zero field means "the default";
 *  - no global state: distinct objects may be used from distinct threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TOKSTREAM_H
#define TOKSTREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(TKS_STATIC)
#  ifdef TKS_BUILDING
#    define TKS_API __declspec(dllexport)
#  else
#    define TKS_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define TKS_API __attribute__((visibility("default")))
#else
#  define TKS_API
#endif

/* ------------------------------------------------------------------------------------ */
/* Version                                                                              */

#define TKS_VERSION_MAJOR 0
#define TKS_VERSION_MINOR 1
#define TKS_VERSION_PATCH 0
#define TKS_VERSION_STRING "0.1.0"
/* (major << 16) | (minor << 8) | patch, comparable with >= */
#define TKS_VERSION_HEX ((TKS_VERSION_MAJOR << 16) | (TKS_VERSION_MINOR << 8) | TKS_VERSION_PATCH)

/* The version of the library actually linked, as "MAJOR.MINOR.PATCH". */
TKS_API const char *tks_version(void);
/* TKS_VERSION_HEX of the library actually linked. */
TKS_API uint32_t tks_version_hex(void);

/* ------------------------------------------------------------------------------------ */
/* Status codes                                                                         */

/*
 * One table, stable numbers: a number is never reused or renumbered. Append only.
 * XX(NAME, number, message)
 */
#define TKS_STATUS_MAP(XX)                                                                 \
    XX(OK, 0, "success")                                                                   \
    XX(STOPPED, 1, "stopped: a callback asked to stop, or the stream was stopped")         \
    XX(ENOMEM, -1, "out of memory")                                                        \
    XX(EINVAL, -2, "invalid argument")                                                     \
    XX(ELIMIT, -3, "a configured size limit was exceeded")                                 \
    XX(EPROTO, -4, "malformed input")                                                      \
    XX(EUTF8, -5, "invalid UTF-8")                                                         \
    XX(ESTATE, -6, "call not valid in the object's current state")                         \
    XX(ETRUNC, -7, "input ended before the stream was complete")                           \
    XX(EIO, -8, "input/output error")                                                      \
    XX(EUNSUPPORTED, -9, "unsupported feature or format")                                  \
    XX(ENOTFOUND, -10, "no such item (unknown token id, event id or name)")                \
    XX(EEMPTY, -11, "no data to answer from")                                              \
    XX(ETOOOLD, -12, "requested item is no longer retained")                               \
    XX(EJSON, -13, "malformed JSON")                                                       \
    XX(ECRC, -14, "checksum mismatch")

enum tks_status {
#define TKS_STATUS_ENUM_(name, num, msg) TKS_##name = (num),
    TKS_STATUS_MAP(TKS_STATUS_ENUM_)
#undef TKS_STATUS_ENUM_
    TKS_STATUS_END_ = 2 /* not a status: keeps the list syntax simple */
};

/* A fixed message for a status code; "unknown status" for a number not in the table.
 * Never NULL. */
TKS_API const char *tks_strerror(int status);
/* The code's name without the prefix ("ENOMEM", "OK"), or "UNKNOWN". Never NULL. */
TKS_API const char *tks_status_name(int status);

/* ------------------------------------------------------------------------------------ */
/* Memory                                                                               */

/*
 * Per-object allocator. Every config has a `const tks_alloc *alloc`; NULL means libc.
 * The object copies the struct at _new; all three functions are required (TKS_EINVAL
 * otherwise). realloc and free receive the size the block was allocated with; free is
 * never called with NULL. A failing malloc/realloc returns NULL and the call that needed
 * it returns TKS_ENOMEM, leaving the object usable after reset.
 */
typedef struct tks_alloc {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} tks_alloc;

/* ------------------------------------------------------------------------------------ */
/* Time                                                                                 */

/* Nanoseconds from a monotonic clock (CLOCK_MONOTONIC). Only differences mean anything. */
TKS_API int64_t tks_now_ns(void);

/* ------------------------------------------------------------------------------------ */
/* Framing: bytes -> events                                                             */

/* One typed header of an AWS eventstream frame. */
enum tks_header_type {
    TKS_HEADER_TRUE = 0,
    TKS_HEADER_FALSE = 1,
    TKS_HEADER_BYTE = 2,
    TKS_HEADER_SHORT = 3,
    TKS_HEADER_INT = 4,
    TKS_HEADER_LONG = 5,
    TKS_HEADER_BYTES = 6,
    TKS_HEADER_STRING = 7,
    TKS_HEADER_TIMESTAMP = 8, /* milliseconds since the epoch, in `integer` */
    TKS_HEADER_UUID = 9       /* 16 bytes in value */
};

typedef struct tks_header {
    const char *name;
    size_t name_len;
    int type;              /* enum tks_header_type */
    const char *value;     /* BYTES, STRING, UUID: the bytes; NULL otherwise */
    size_t value_len;
    int64_t integer;       /* TRUE/FALSE (1/0), BYTE, SHORT, INT, LONG, TIMESTAMP */
} tks_header;

/*
 * One framed event, from any framing parser. Strings are not NUL-terminated; use the
 * lengths. Valid only during the callback.
 *  - SSE: type is the event type ("message" when none was given), data the joined data
 *    lines, id the last event ID ("" when none).
 *  - NDJSON, JSON array: data is one JSON text (a line, an element); type and id are "".
 *  - AWS eventstream: data is the payload; type is the `:event-type` header (or
 *    `:exception-type` for exceptions, `:error-code` for errors), message_type the
 *    `:message-type` header ("event", "exception", "error"), headers all of the
 *    frame's headers.
 * For SSE comments (tks_sse_config.on_comment) data is the comment text after ':'.
 * For SSE retry fields (tks_sse_config.on_retry) retry_ms holds the value.
 */
typedef struct tks_event {
    const char *type;
    size_t type_len;
    const char *data;
    size_t data_len;
    const char *id;
    size_t id_len;
    const char *message_type;
    size_t message_type_len;
    const tks_header *headers;
    size_t n_headers;
    uint64_t offset;   /* input byte offset where the event (or line, or frame) began */
    uint64_t retry_ms; /* on_retry only */
} tks_event;

/* The sink of every framing parser. 0 continues; non-zero stops the push (TKS_STOPPED). */
typedef int (*tks_event_cb)(void *user, const tks_event *event);

/* ---- SSE parser (WHATWG event stream rules) ---------------------------------------- */

typedef struct tks_sse_parser tks_sse_parser;

/* tks_sse_config.flags */
#define TKS_SSE_RAW_UTF8 0x1u /* pass bytes through unvalidated instead of replacing invalid
                                 UTF-8 with U+FFFD */

typedef struct tks_sse_config {
    const tks_alloc *alloc;
    size_t max_line;       /* longest line in bytes; 0 = 1 MiB */
    size_t max_event;      /* largest event (data + type + id) in bytes; 0 = 1 MiB */
    uint32_t flags;        /* TKS_SSE_* */
    tks_event_cb on_comment; /* optional: each comment line (keep-alives); data = the text
                                after ':' exactly as sent (no space is stripped) */
    tks_event_cb on_retry;   /* optional: each valid retry field */
} tks_sse_config;

TKS_API int tks_sse_parser_new(tks_sse_parser **out, const tks_sse_config *cfg,
                               tks_event_cb on_event, void *user);
TKS_API int tks_sse_parser_push(tks_sse_parser *p, const void *data, size_t len);
TKS_API int tks_sse_parser_finish(tks_sse_parser *p);
TKS_API void tks_sse_parser_reset(tks_sse_parser *p);
TKS_API void tks_sse_parser_free(tks_sse_parser *p);
TKS_API const char *tks_sse_parser_error(const tks_sse_parser *p);
TKS_API uint64_t tks_sse_parser_offset(const tks_sse_parser *p);
/* The last event ID seen so far (to send as Last-Event-ID on reconnect). */
TKS_API const char *tks_sse_parser_last_id(const tks_sse_parser *p, size_t *len);

/* ---- NDJSON parser (Ollama) ------------------------------------------------------- */

typedef struct tks_ndjson_parser tks_ndjson_parser;

typedef struct tks_ndjson_config {
    const tks_alloc *alloc;
    size_t max_line; /* longest line, line end not counted; 0 = 1 MiB */
} tks_ndjson_config;

TKS_API int tks_ndjson_parser_new(tks_ndjson_parser **out, const tks_ndjson_config *cfg,
                                  tks_event_cb on_event, void *user);
TKS_API int tks_ndjson_parser_push(tks_ndjson_parser *p, const void *data, size_t len);
TKS_API int tks_ndjson_parser_finish(tks_ndjson_parser *p);
TKS_API void tks_ndjson_parser_reset(tks_ndjson_parser *p);
TKS_API void tks_ndjson_parser_free(tks_ndjson_parser *p);
TKS_API const char *tks_ndjson_parser_error(const tks_ndjson_parser *p);
TKS_API uint64_t tks_ndjson_parser_offset(const tks_ndjson_parser *p);

/* ---- JSON array parser (Gemini without alt=sse) ----------------------------------- */

typedef struct tks_json_array_parser tks_json_array_parser;

typedef struct tks_json_array_config {
    const tks_alloc *alloc;
    size_t max_element; /* 0 = 1 MiB */
    uint32_t max_depth; /* nesting inside one element; 0 = 256 */
} tks_json_array_config;

TKS_API int tks_json_array_parser_new(tks_json_array_parser **out,
                                      const tks_json_array_config *cfg,
                                      tks_event_cb on_event, void *user);
TKS_API int tks_json_array_parser_push(tks_json_array_parser *p, const void *data, size_t len);
TKS_API int tks_json_array_parser_finish(tks_json_array_parser *p);
TKS_API void tks_json_array_parser_reset(tks_json_array_parser *p);
TKS_API void tks_json_array_parser_free(tks_json_array_parser *p);
TKS_API const char *tks_json_array_parser_error(const tks_json_array_parser *p);
TKS_API uint64_t tks_json_array_parser_offset(const tks_json_array_parser *p);

/* ---- AWS eventstream parser (Bedrock) --------------------------------------------- */

typedef struct tks_eventstream_parser tks_eventstream_parser;

typedef struct tks_eventstream_config {
    const tks_alloc *alloc;
    size_t max_frame; /* 0 = 16 MiB (the format's own maximum); at least 16 */
} tks_eventstream_config;

TKS_API int tks_eventstream_parser_new(tks_eventstream_parser **out,
                                       const tks_eventstream_config *cfg,
                                       tks_event_cb on_event, void *user);
TKS_API int tks_eventstream_parser_push(tks_eventstream_parser *p, const void *data, size_t len);
TKS_API int tks_eventstream_parser_finish(tks_eventstream_parser *p);
TKS_API void tks_eventstream_parser_reset(tks_eventstream_parser *p);
TKS_API void tks_eventstream_parser_free(tks_eventstream_parser *p);
TKS_API const char *tks_eventstream_parser_error(const tks_eventstream_parser *p);
TKS_API uint64_t tks_eventstream_parser_offset(const tks_eventstream_parser *p);

/* ---- SSE writer ------------------------------------------------------------------- */

typedef struct tks_sse_writer tks_sse_writer;

/* The writer's sink: bytes ready for the socket. */
typedef int (*tks_bytes_cb)(void *user, const char *bytes, size_t len);

typedef struct tks_sse_writer_config {
    const tks_alloc *alloc;
} tks_sse_writer_config;

/*
 * An event to write. type/id may be NULL (no field written; an empty or "message" type is
 * left out too). data may hold CR, LF or CRLF line ends: each line becomes one `data:`
 * line (a parser reads each CR and CRLF back as LF). type and id may not hold CR or LF,
 * id may not hold NUL (TKS_EINVAL); every field must be valid UTF-8 (TKS_EUTF8).
 */
typedef struct tks_sse_out {
    const char *type;
    size_t type_len;
    const char *data;
    size_t data_len;
    const char *id;
    size_t id_len;
    int64_t retry_ms; /* >= 0: write a retry field; < 0: none */
} tks_sse_out;

TKS_API int tks_sse_writer_new(tks_sse_writer **out, const tks_sse_writer_config *cfg,
                               tks_bytes_cb on_bytes, void *user);
TKS_API int tks_sse_writer_event(tks_sse_writer *w, const tks_sse_out *event);
/* A comment line (heart-beat): ':' then text as it is; text may not hold CR or LF. */
TKS_API int tks_sse_writer_comment(tks_sse_writer *w, const char *text, size_t len);
TKS_API void tks_sse_writer_reset(tks_sse_writer *w);
TKS_API void tks_sse_writer_free(tks_sse_writer *w);
TKS_API const char *tks_sse_writer_error(const tks_sse_writer *w);

/* ------------------------------------------------------------------------------------ */
/* Text: UTF-8 streamer                                                                 */

typedef struct tks_utf8_streamer tks_utf8_streamer;

/* The sink of text stages: a piece of valid UTF-8 (never empty). */
typedef int (*tks_text_cb)(void *user, const char *text, size_t len);

/* tks_utf8_config.flags */
#define TKS_UTF8_GRAPHEME 0x1u /* never end a delta inside an extended grapheme cluster */

typedef struct tks_utf8_config {
    const tks_alloc *alloc;
    uint32_t flags;         /* TKS_UTF8_* */
    size_t max_hold;        /* grapheme mode: longest cluster held back; 0 = 4 KiB, then it
                               is released as is (a cluster that long is pathological) */
} tks_utf8_config;

TKS_API int tks_utf8_streamer_new(tks_utf8_streamer **out, const tks_utf8_config *cfg,
                                  tks_text_cb on_text, void *user);
TKS_API int tks_utf8_streamer_push(tks_utf8_streamer *s, const void *bytes, size_t len);
/* End of input: an unfinished character becomes one U+FFFD and the held cluster goes
 * out; that is not an error: TKS_OK (TKS_STOPPED if stopped). */
TKS_API int tks_utf8_streamer_finish(tks_utf8_streamer *s);
TKS_API void tks_utf8_streamer_reset(tks_utf8_streamer *s);
TKS_API void tks_utf8_streamer_free(tks_utf8_streamer *s);
TKS_API const char *tks_utf8_streamer_error(const tks_utf8_streamer *s);
TKS_API uint64_t tks_utf8_streamer_offset(const tks_utf8_streamer *s);

/* ---- stop matcher: stop strings and stop token ids ---------------------------------- */

typedef struct tks_stop tks_stop;

/* tks_stop_config.flags */
#define TKS_STOP_INCLUDE 0x1u /* keep the stop string (a stop token's text) in the output,
                                 like include_stop_str_in_output; default: cut before it */

/* What stopped the stream (tks_stop_match.kind). */
enum tks_stop_kind {
    TKS_STOP_NONE = 0,
    TKS_STOP_STRING = 1, /* a stop string matched in the text */
    TKS_STOP_TOKEN = 2   /* a stop token id was pushed (tks_stop_push_token) */
};

typedef struct tks_stop_config {
    const tks_alloc *alloc;
    const char *const *strings; /* stop strings: valid UTF-8, not empty (TKS_EINVAL);
                                   copied at _new; duplicates allowed */
    const size_t *lengths;      /* their lengths; NULL: the strings are NUL-terminated */
    size_t n_strings;
    const int32_t *tokens;      /* stop token ids (EOS, EOT...); copied at _new */
    size_t n_tokens;
    uint32_t flags;             /* TKS_STOP_* */
    size_t max_table;           /* bytes of the compiled automaton; 0 = 1 MiB; more is
                                   TKS_ELIMIT at _new */
} tks_stop_config;

/* The stop that matched; owned by the object, valid until reset or free. */
typedef struct tks_stop_match {
    int kind;          /* enum tks_stop_kind */
    size_t index;      /* index in config strings[] (STRING) or tokens[] (TOKEN) */
    const char *text;  /* STRING: the stop string (the object's copy); TOKEN: NULL */
    size_t text_len;
    int32_t token;     /* TOKEN: the id; -1 for STRING */
    uint64_t offset;   /* byte offset in the pushed text where the stop begins */
} tks_stop_match;

/*
 * Text in (valid UTF-8, whole characters per push), text out through on_text, minus the
 * stop: the earliest match (smallest start offset; ties: first in strings[]) truncates
 * the text; after it the object is stopped. Holds back exactly the longest suffix of
 * the text that is still a proper prefix of a stop string.
 * Returns TKS_OK; TKS_STOPPED when a stop matched (in this call or before: what was
 * left of the text is dropped) or on_text asked to stop; TKS_EUTF8 for text that is not
 * valid, whole UTF-8.
 */
TKS_API int tks_stop_new(tks_stop **out, const tks_stop_config *cfg, tks_text_cb on_text,
                         void *user);
TKS_API int tks_stop_push(tks_stop *s, const char *text, size_t len);
/* One token: a stop id (config tokens[]) ends the stream there (the held text is
 * released first; text is emitted only with TKS_STOP_INCLUDE); any other id is
 * tks_stop_push(s, text, len). */
TKS_API int tks_stop_push_token(tks_stop *s, int32_t id, const char *text, size_t len);
/* 1 when id is one of the config's stop token ids, else 0. */
TKS_API int tks_stop_is_stop_token(const tks_stop *s, int32_t id);
/* End of text: releases the held partial match. TKS_OK, or TKS_STOPPED when stopped. */
TKS_API int tks_stop_finish(tks_stop *s);
TKS_API void tks_stop_reset(tks_stop *s);
TKS_API void tks_stop_free(tks_stop *s);
TKS_API const char *tks_stop_error(const tks_stop *s);
TKS_API uint64_t tks_stop_offset(const tks_stop *s);
/* The stop that matched, or NULL while none has. */
TKS_API const tks_stop_match *tks_stop_matched(const tks_stop *s);
/* The text held back now (a prefix of some stop string); *len gets its length. */
TKS_API const char *tks_stop_held(const tks_stop *s, size_t *len);

/* ---- coalescer: batches deltas by tokens, bytes, or deadline ------------------------- */

typedef struct tks_coalescer tks_coalescer;

/* The coalescer's sink: one batch of text (never empty) and the tokens it carries. */
typedef int (*tks_batch_cb)(void *user, const char *text, size_t len, uint64_t n_tokens);

typedef struct tks_coalescer_config {
    const tks_alloc *alloc;
    uint64_t max_tokens;  /* send when the batch carries this many tokens; 0 = 16 */
    size_t max_bytes;     /* a batch never grows past this: it is sent before a push that
                             would overflow it; a larger push goes out alone; 0 = 4 KiB */
    int64_t max_delay_ns; /* send when the batch's oldest text is this old; 0 = 50 ms */
} tks_coalescer_config;

TKS_API int tks_coalescer_new(tks_coalescer **out, const tks_coalescer_config *cfg,
                              tks_batch_cb on_batch, void *user);
/* Adds a delta (len may be 0: tokens that made no text) at the caller's time now_ns. */
TKS_API int tks_coalescer_push(tks_coalescer *c, const char *text, size_t len,
                               uint64_t n_tokens, int64_t now_ns);
/* When the batched text must go out (caller's clock): INT64_MAX when nothing waits. */
TKS_API int64_t tks_coalescer_deadline(const tks_coalescer *c);
/* Sends the batch if its deadline is <= now_ns. */
TKS_API int tks_coalescer_poll(tks_coalescer *c, int64_t now_ns);
/* Sends the batch now. */
TKS_API int tks_coalescer_flush(tks_coalescer *c);
/* End of stream: sends the batch; later pushes are TKS_ESTATE until reset. */
TKS_API int tks_coalescer_finish(tks_coalescer *c);
TKS_API void tks_coalescer_reset(tks_coalescer *c);
TKS_API void tks_coalescer_free(tks_coalescer *c);
TKS_API const char *tks_coalescer_error(const tks_coalescer *c);
TKS_API uint64_t tks_coalescer_offset(const tks_coalescer *c);

/* @@TEXT-VOCAB@@ (tks_vocab, tks_detok: declarations go here) */

/* ------------------------------------------------------------------------------------ */
/* Text: vocabulary (token id -> bytes) and the streaming detokenizer                   */

typedef struct tks_vocab tks_vocab;

/* Token flags (tks_vocab_add, tks_vocab_token). */
#define TKS_TOKEN_SPECIAL 0x1u /* a special (control) token: dropped by a detok made with
                                  TKS_DETOK_SKIP_SPECIAL */

typedef struct tks_vocab_config {
    const tks_alloc *alloc;
    size_t max_tokens;    /* largest id + 1 accepted; 0 = 16 Mi ids (TKS_ELIMIT beyond) */
    size_t max_bytes;     /* all tokens' bytes together; 0 = 256 MiB (TKS_ELIMIT beyond) */
    uint32_t strip_start; /* for a vocabulary filled with tks_vocab_add: how many leading
                             spaces (0x20) to remove from the start of each decoded text
                             (SentencePiece's Strip(" ", 1, 0)); loaders take it from the
                             file and ignore this field */
} tks_vocab_config;

/* A special token given by name, for tiktoken files (whose specials live in code). */
typedef struct tks_special_token {
    const char *name; /* NUL-terminated UTF-8, the token's text */
    int32_t id;
} tks_special_token;

/*
 * A decode-only vocabulary: an empty one, then filled by exactly one loader or by
 * tks_vocab_add. It is read-only once filled: any number of detoks, in any threads, may
 * share it (the caller keeps it alive and unchanged while they exist).
 * A failed load leaves the error in the object (tks_vocab_error, tks_vocab_offset: the
 * input byte where it was found); the vocabulary must then be freed.
 */
TKS_API int tks_vocab_new(tks_vocab **out, const tks_vocab_config *cfg);
/* Hugging Face tokenizer.json (len bytes, not NUL-terminated): models BPE, WordPiece,
 * WordLevel, Unigram; added_tokens; decoders ByteLevel, Metaspace, ByteFallback,
 * Replace (string pattern), Fuse, Strip, WordPiece, BPEDecoder, Sequence, none.
 * A decoder it cannot reproduce exactly is TKS_EUNSUPPORTED (with the reason). */
TKS_API int tks_vocab_load_hf(tks_vocab *v, const void *json, size_t len);
/* A tiktoken file (lines of "base64 rank"), plus the special tokens given (may be
 * NULL/0; see tks_vocab_tiktoken_specials). */
TKS_API int tks_vocab_load_tiktoken(tks_vocab *v, const void *data, size_t len,
                                    const tks_special_token *specials, size_t n_specials);
/* The built-in special tokens of a tiktoken encoding ("cl100k_base", "o200k_base"), as
 * tiktoken defines them. TKS_ENOTFOUND for another name. The array is static. */
TKS_API int tks_vocab_tiktoken_specials(const char *encoding, const tks_special_token **out,
                                        size_t *n);
/* Sets token id's bytes (replacing an earlier entry) and flags (TKS_TOKEN_*). */
TKS_API int tks_vocab_add(tks_vocab *v, int32_t id, const void *bytes, size_t len,
                          uint32_t flags);
/* A token's bytes (owned by the vocabulary, not NUL-terminated) and flags; the bytes are
 * its text in the middle of a sequence (context rules aside). TKS_ENOTFOUND when absent. */
TKS_API int tks_vocab_token(const tks_vocab *v, int32_t id, const char **bytes, size_t *len,
                            uint32_t *flags);
/* Largest id + 1 (0 when empty). */
TKS_API size_t tks_vocab_size(const tks_vocab *v);
TKS_API void tks_vocab_free(tks_vocab *v);
TKS_API const char *tks_vocab_error(const tks_vocab *v);
TKS_API uint64_t tks_vocab_offset(const tks_vocab *v);

typedef struct tks_detok tks_detok;

/* tks_detok_config.flags */
#define TKS_DETOK_SKIP_SPECIAL 0x1u /* drop special tokens (skip_special_tokens) */
#define TKS_DETOK_SKIP_UNKNOWN 0x2u /* drop ids the vocabulary lacks, as HF decode does;
                                       default: TKS_ENOTFOUND naming the id */
#define TKS_DETOK_GRAPHEME 0x4u     /* never end a delta inside a grapheme cluster */

typedef struct tks_detok_config {
    const tks_alloc *alloc;
    uint32_t flags;   /* TKS_DETOK_* */
    size_t max_hold;  /* grapheme mode: see tks_utf8_config.max_hold; 0 = 4 KiB */
} tks_detok_config;

/*
 * Token ids in, text deltas (valid UTF-8) out: the vocabulary's bytes, the decoder's
 * context rules (first-token space rules, Strip at the start, WordPiece spacing,
 * BPEDecoder suffix, special tokens) and a tks_utf8_streamer. The concatenation of the
 * deltas equals the decode of the whole sequence. Work per id is proportional to its
 * bytes; no allocation per id. tks_detok_offset is the index (from 0, counting primed
 * and pushed ids) of the id that failed.
 */
TKS_API int tks_detok_new(tks_detok **out, const tks_vocab *vocab, const tks_detok_config *cfg,
                          tks_text_cb on_text, void *user);
/* The prompt's trailing ids (or bytes): they set the context (not the first token any
 * more, a character left unfinished) but are never emitted. Only before the first push;
 * TKS_ESTATE after. */
TKS_API int tks_detok_prime(tks_detok *d, const int32_t *ids, size_t n);
TKS_API int tks_detok_prime_bytes(tks_detok *d, const void *bytes, size_t len);
TKS_API int tks_detok_push(tks_detok *d, const int32_t *ids, size_t n);
/* End of the sequence: releases what was held (an unfinished character becomes U+FFFD). */
TKS_API int tks_detok_finish(tks_detok *d);
TKS_API void tks_detok_reset(tks_detok *d);
TKS_API void tks_detok_free(tks_detok *d);
TKS_API const char *tks_detok_error(const tks_detok *d);
TKS_API uint64_t tks_detok_offset(const tks_detok *d);

/* ------------------------------------------------------------------------------------ */
/* Chunk codec: events <-> deltas                                                       */

/* Wire dialects. AUTO decides from the first bytes and events. */
enum tks_dialect {
    TKS_DIALECT_AUTO = 0,
    TKS_DIALECT_OPENAI_CHAT = 1,
    TKS_DIALECT_OPENAI_RESPONSES = 2,
    TKS_DIALECT_ANTHROPIC = 3,
    TKS_DIALECT_GEMINI = 4,
    TKS_DIALECT_OLLAMA = 5,
    TKS_DIALECT_BEDROCK = 6
};

/* What one normalized delta carries. */
enum tks_delta_kind {
    TKS_DELTA_START = 1,     /* a message begins: id = message id, name = model */
    TKS_DELTA_ROLE = 2,      /* text = role ("assistant") */
    TKS_DELTA_TEXT = 3,      /* text = a piece of the content */
    TKS_DELTA_REASONING = 4, /* text = a piece of the reasoning / thinking */
    TKS_DELTA_SIGNATURE = 5, /* text = a reasoning signature, verbatim (kept, never shown) */
    TKS_DELTA_REFUSAL = 6,   /* text = a piece of a refusal */
    TKS_DELTA_TOOL_CALL = 7, /* a tool call begins: index, id, name */
    TKS_DELTA_TOOL_ARGS = 8, /* text = a fragment of tool call `index`'s JSON arguments;
                                with TKS_DELTA_WHOLE, the complete arguments */
    TKS_DELTA_LOGPROBS = 9,  /* json = the provider's logprobs value, verbatim */
    TKS_DELTA_FINISH = 10,   /* finish = enum tks_finish, text = the provider's own reason */
    TKS_DELTA_USAGE = 11,    /* token counts, see below */
    TKS_DELTA_ERROR = 12,    /* in-band error: text = message, id = code, name = type,
                                json = the error value, verbatim */
    TKS_DELTA_DONE = 13      /* the dialect's terminal marker ([DONE], message_stop, ...) */
};

/* Normalized finish reasons (OpenAI's words). */
enum tks_finish {
    TKS_FINISH_NONE = 0,
    TKS_FINISH_STOP = 1,
    TKS_FINISH_LENGTH = 2,
    TKS_FINISH_TOOL_CALLS = 3,
    TKS_FINISH_CONTENT_FILTER = 4,
    TKS_FINISH_ERROR = 5,
    TKS_FINISH_OTHER = 6
};

/* tks_delta.flags */
#define TKS_DELTA_WHOLE 0x1u /* TOOL_ARGS: the complete arguments, not a fragment */

/*
 * One normalized delta. Which fields mean something depends on kind (see above);
 * unused strings are NULL with length 0. Strings are not NUL-terminated and are valid
 * only during the callback.
 * USAGE: each count is the latest total the provider reported, -1 when it gave none;
 * a later USAGE delta's known counts replace earlier ones (they are totals, not
 * increments).
 */
typedef struct tks_delta {
    int kind;          /* enum tks_delta_kind */
    int32_t choice;    /* choice index (OpenAI n > 1); 0 otherwise */
    int32_t index;     /* TOOL_CALL, TOOL_ARGS: the tool call's index in its choice */
    int finish;        /* FINISH: enum tks_finish */
    uint32_t flags;    /* TKS_DELTA_* */
    const char *text;
    size_t text_len;
    const char *id;
    size_t id_len;
    const char *name;
    size_t name_len;
    const char *json;
    size_t json_len;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t total_tokens;
    int64_t reasoning_tokens;
    int64_t cached_tokens;
    uint64_t offset;   /* input byte offset of the event the delta came from */
} tks_delta;

typedef int (*tks_delta_cb)(void *user, const tks_delta *delta);

/* Names of dialects as the CLI and bindings spell them: "auto", "openai-chat",
 * "openai-responses", "anthropic", "gemini", "ollama", "bedrock". NULL for an unknown
 * number. */
TKS_API const char *tks_dialect_name(int dialect);
/* The dialect number for a name (len bytes, not NUL-terminated), or -1 for an unknown
 * name. */
TKS_API int tks_dialect_from_name(const char *name, size_t len);

/* ---- decoder: events -> deltas ------------------------------------------------------ */

typedef struct tks_decoder tks_decoder;

typedef struct tks_decoder_config {
    const tks_alloc *alloc;
    int dialect;         /* enum tks_dialect; 0 = AUTO: decided from the first events */
    size_t max_depth;    /* JSON nesting; 0 = 128 */
    size_t max_event;    /* largest event data decoded, in bytes; 0 = 16 MiB (TKS_ELIMIT) */
} tks_decoder_config;

TKS_API int tks_decoder_new(tks_decoder **out, const tks_decoder_config *cfg,
                            tks_delta_cb on_delta, void *user);
/* Decodes one framed event (from any framing parser) into zero or more deltas. */
TKS_API int tks_decoder_push(tks_decoder *d, const tks_event *event);
/* End of input: TKS_OK when the dialect's terminal marker was seen, else TKS_ETRUNC. */
TKS_API int tks_decoder_finish(tks_decoder *d);
TKS_API void tks_decoder_reset(tks_decoder *d);
TKS_API void tks_decoder_free(tks_decoder *d);
TKS_API const char *tks_decoder_error(const tks_decoder *d);
TKS_API uint64_t tks_decoder_offset(const tks_decoder *d);
/* The dialect in use: the configured one, or the one AUTO decided (AUTO until then). */
TKS_API int tks_decoder_dialect(const tks_decoder *d);

/* @@CLIENT-ASSEMBLER@@ (tks_assembler, tks_partial_json: declarations go here) */

/* ---- partial JSON: close a truncated JSON text ------------------------------------- */

/* Deepest nesting tks_partial_json accepts (deeper is TKS_ELIMIT). */
#define TKS_PARTIAL_JSON_MAX_DEPTH 1024

/*
 * Closes a JSON text cut anywhere into the best valid document: an open string is closed
 * (a cut escape, \u sequence or UTF-8 character is dropped), open arrays and objects are
 * closed, a dangling key (with or without its colon), a cut number ("12", "12.", "-",
 * "1e" at the very end) or literal ("tru", "nul") is dropped with its key, a trailing
 * comma is removed. Kept bytes are copied verbatim. Pure: no allocation, no state.
 * out == NULL: size query, *out_len = the length of the result. Otherwise the result and
 * a NUL are written when cap >= *out_len + 1, else TKS_ELIMIT (*out_len still set).
 * TKS_EEMPTY: no value yet (empty, whitespace, a cut top-level scalar); TKS_EJSON: the
 * input is not the beginning of a valid JSON text; TKS_ELIMIT: nesting deeper than
 * TKS_PARTIAL_JSON_MAX_DEPTH, or cap too small.
 */
TKS_API int tks_partial_json(const char *in, size_t n, char *out, size_t cap, size_t *out_len);

/* ---- assembler: deltas -> the message ----------------------------------------------- */

typedef struct tks_assembler tks_assembler;

typedef struct tks_assembler_config {
    const tks_alloc *alloc;
    size_t max_message; /* bytes of text kept for the whole message; 0 = 16 MiB */
    int dialect;        /* enum tks_dialect, reported by tks_assembler_json; 0 = AUTO */
} tks_assembler_config;

/* tks_assembler_usage fields */
enum tks_usage_field {
    TKS_USAGE_INPUT = 0,
    TKS_USAGE_OUTPUT = 1,
    TKS_USAGE_TOTAL = 2, /* input + output when the provider gave no total */
    TKS_USAGE_REASONING = 3,
    TKS_USAGE_CACHED = 4
};

/* The assembler has no callback: it only accumulates. */
TKS_API int tks_assembler_new(tks_assembler **out, const tks_assembler_config *cfg);
/* Adds one delta to the message. TKS_ELIMIT past max_message (sticky). */
TKS_API int tks_assembler_push(tks_assembler *a, const tks_delta *delta);
/* tks_assembler_push with the tks_delta_cb signature (user = the assembler), to plug an
 * assembler straight into a decoder. */
TKS_API int tks_assembler_on_delta(void *assembler, const tks_delta *delta);
/* TKS_OK when the dialect's terminal marker was seen, else TKS_ETRUNC; the message is
 * kept either way. */
TKS_API int tks_assembler_finish(tks_assembler *a);
TKS_API void tks_assembler_reset(tks_assembler *a);
TKS_API void tks_assembler_free(tks_assembler *a);
TKS_API const char *tks_assembler_error(const tks_assembler *a);
TKS_API uint64_t tks_assembler_offset(const tks_assembler *a);
/* 1 when the terminal marker (DONE delta) was seen, else 0. */
TKS_API int tks_assembler_complete(const tks_assembler *a);
TKS_API int tks_assembler_dialect(const tks_assembler *a);
TKS_API void tks_assembler_set_dialect(tks_assembler *a, int dialect);
/* Message id and model (NULL when none was given). */
TKS_API const char *tks_assembler_id(const tks_assembler *a, size_t *len);
TKS_API const char *tks_assembler_model(const tks_assembler *a, size_t *len);
/* Number of choices; getters take a position 0 .. choices-1 (in choice-index order). */
TKS_API size_t tks_assembler_choices(const tks_assembler *a);
TKS_API int32_t tks_assembler_choice_index(const tks_assembler *a, size_t choice);
/* Text of a choice: NULL when no such delta came (or no such choice). Not
 * NUL-terminated; valid until the next push, reset or free. */
TKS_API const char *tks_assembler_role(const tks_assembler *a, size_t choice, size_t *len);
TKS_API const char *tks_assembler_content(const tks_assembler *a, size_t choice, size_t *len);
TKS_API const char *tks_assembler_reasoning(const tks_assembler *a, size_t choice, size_t *len);
/* Reasoning signatures, verbatim, concatenated in arrival order. */
TKS_API const char *tks_assembler_signature(const tks_assembler *a, size_t choice, size_t *len);
TKS_API const char *tks_assembler_refusal(const tks_assembler *a, size_t choice, size_t *len);
/* The logprobs values received, verbatim, as one JSON array text "[v1,v2,...]". */
TKS_API const char *tks_assembler_logprobs(const tks_assembler *a, size_t choice, size_t *len);
/* The finish as a value of enum tks_finish, TKS_FINISH_NONE until a finish came; and the
 * provider's own reason word. */
TKS_API int tks_assembler_finish_reason(const tks_assembler *a, size_t choice);
TKS_API const char *tks_assembler_raw_finish(const tks_assembler *a, size_t choice, size_t *len);
/* Tool calls of a choice; getters take a position 0 .. count-1 (in index order). */
TKS_API size_t tks_assembler_tool_calls(const tks_assembler *a, size_t choice);
TKS_API int32_t tks_assembler_tool_index(const tks_assembler *a, size_t choice, size_t call);
TKS_API const char *tks_assembler_tool_id(const tks_assembler *a, size_t choice, size_t call,
                                          size_t *len);
TKS_API const char *tks_assembler_tool_name(const tks_assembler *a, size_t choice, size_t call,
                                            size_t *len);
/* The arguments text as received (fragments joined; "" when none). */
TKS_API const char *tks_assembler_tool_args(const tks_assembler *a, size_t choice, size_t call,
                                            size_t *len);
/* The arguments so far closed into valid JSON (tks_partial_json; "{}" while nothing
 * usable has arrived), written like tks_partial_json writes (out == NULL: size query). */
TKS_API int tks_assembler_tool_args_partial(const tks_assembler *a, size_t choice, size_t call,
                                            char *out, size_t cap, size_t *out_len);
/* Latest known token count (enum tks_usage_field), or -1 when none was reported. */
TKS_API int64_t tks_assembler_usage(const tks_assembler *a, int field);
/* The first in-band error: message, code and type (NULL when absent; the message is ""
 * for an error without one). tks_assembler_has_error says whether one came. */
TKS_API int tks_assembler_has_error(const tks_assembler *a);
TKS_API const char *tks_assembler_error_message(const tks_assembler *a, size_t *len);
TKS_API const char *tks_assembler_error_code(const tks_assembler *a, size_t *len);
TKS_API const char *tks_assembler_error_type(const tks_assembler *a, size_t *len);
/*
 * The whole message as one JSON object (the `tokstream assemble` format, tokstream(1)):
 * {"complete":bool,"dialect":S,"id":S|null,"model":S|null,"choices":[{"index":N,
 * "role":S|null,"content":S|null,"reasoning":S|null,"refusal":S|null,"tool_calls":[{
 * "index":N,"id":S|null,"name":S|null,"arguments":S}],"finish_reason":S|null,
 * "raw_finish_reason":S|null}],"usage":{"input_tokens":N|null,"output_tokens":N|null,
 * "total_tokens":N|null}|null,"error":{"message":S,"type":S|null,"code":S|null}|null}
 * Written like tks_partial_json writes: out == NULL is a size query; TKS_ELIMIT when
 * cap < *out_len + 1. TKS_ENOMEM when the temporary buffer cannot be allocated.
 */
TKS_API int tks_assembler_json(const tks_assembler *a, char *out, size_t cap, size_t *out_len);

/* @@CLIENT-ENCODER@@ (tks_encoder: declarations go here) */

/* ---- encoder: deltas -> chunk events (servers) --------------------------------------- */

/*
 * The reverse of the decoder: normalized deltas in, the dialect's SSE events out (each
 * JSON chunk on one `data:` line, written through a tks_sse_writer to on_bytes).
 * Dialects: TKS_DIALECT_OPENAI_CHAT (chat.completion.chunk objects, a finish chunk per
 * choice, a usage chunk with "choices":[] when usage was given, then `data: [DONE]`) and
 * TKS_DIALECT_ANTHROPIC (message_start, content blocks, message_delta, message_stop, each
 * with its `event:` line). See tks_encoder_new(3) for what each delta kind becomes.
 */
typedef struct tks_encoder tks_encoder;

/* tks_encoder_config.flags */
#define TKS_ENCODER_OMIT_USAGE 0x1u /* openai-chat: no usage chunk even when usage was given
                                       (the request had no stream_options.include_usage) */

typedef struct tks_encoder_config {
    const tks_alloc *alloc;
    int dialect;          /* TKS_DIALECT_OPENAI_CHAT (also 0) or TKS_DIALECT_ANTHROPIC */
    const char *model;    /* NUL-terminated, copied; NULL = from a START delta, else "" */
    const char *id;       /* message id, verbatim, copied; NULL = from a START delta, else
                             generated from id_seed */
    const char *id_seed;  /* any string unique to the stream (a request id, a counter):
                             the generated id is "chatcmpl-" or "msg_" + 24 characters
                             derived from it; NULL = "" */
    int64_t created;      /* openai-chat "created", unix seconds, written as given: the
                             library reads no clock (pass time(NULL)) */
    uint32_t flags;       /* TKS_ENCODER_* */
    size_t max_chunk;     /* largest JSON payload in bytes; 0 = 1 MiB. Longer text is split
                             over several chunks; anything else too long is TKS_ELIMIT */
    size_t max_items;     /* tool calls + choices tracked in one stream; 0 = 1024 */
} tks_encoder_config;

TKS_API int tks_encoder_new(tks_encoder **out, const tks_encoder_config *cfg,
                            tks_bytes_cb on_bytes, void *user);
/* Encodes one delta: zero or more events reach on_bytes before it returns. */
TKS_API int tks_encoder_push(tks_encoder *e, const tks_delta *delta);
/* Ends the stream (as a TKS_DELTA_DONE would): the usage chunk and `data: [DONE]`, or the
 * open block's stop, message_delta and message_stop. anthropic: nothing after an error
 * delta (its `event: error` ends the stream). */
TKS_API int tks_encoder_finish(tks_encoder *e);
TKS_API void tks_encoder_reset(tks_encoder *e);
TKS_API void tks_encoder_free(tks_encoder *e);
TKS_API const char *tks_encoder_error(const tks_encoder *e);
/* The number of deltas accepted before the one that failed. */
TKS_API uint64_t tks_encoder_offset(const tks_encoder *e);

/* ---- client recipe: bytes -> framing -> decoder -> assembler (+ timer) ---------------- */

/* Framings a client can read. AUTO decides from the first bytes. */
enum tks_framing {
    TKS_FRAMING_AUTO = 0,
    TKS_FRAMING_SSE = 1,
    TKS_FRAMING_NDJSON = 2,
    TKS_FRAMING_JSON_ARRAY = 3,
    TKS_FRAMING_EVENTSTREAM = 4
};

typedef struct tks_timer tks_timer; /* see Timing */
typedef struct tks_client tks_client;

typedef struct tks_client_config {
    const tks_alloc *alloc;
    int dialect;         /* enum tks_dialect; 0 = AUTO */
    int framing;         /* enum tks_framing; 0 = AUTO */
    size_t max_event;    /* one framed event; 0 = 1 MiB */
    size_t max_message;  /* the assembled message; 0 = 16 MiB */
    tks_timer *timer;    /* optional: marks first byte, each token-bearing chunk, end */
} tks_client_config;

/* on_delta (may be NULL) sees every delta as it arrives, before assembly. */
TKS_API int tks_client_new(tks_client **out, const tks_client_config *cfg,
                           tks_delta_cb on_delta, void *user);
TKS_API int tks_client_push(tks_client *c, const void *bytes, size_t len);
/* End of input: TKS_OK when the message is complete, TKS_ETRUNC when the stream ended
 * early (the assembler still holds everything received). */
TKS_API int tks_client_finish(tks_client *c);
TKS_API void tks_client_reset(tks_client *c);
TKS_API void tks_client_free(tks_client *c);
TKS_API const char *tks_client_error(const tks_client *c);
TKS_API uint64_t tks_client_offset(const tks_client *c);
/* The assembled message so far (owned by the client). */
TKS_API const tks_assembler *tks_client_message(const tks_client *c);
/* The framing and dialect in use (AUTO until decided). */
TKS_API int tks_client_framing(const tks_client *c);
TKS_API int tks_client_dialect(const tks_client *c);

/* ------------------------------------------------------------------------------------ */
/* Timing: per-stream timer, histograms, aggregate stats, captures                      */

/*
 * Metric identity (the names used by exporters live in the exporters, not here).
 * Times are nanoseconds; see tks_timer_get(3) for the definitions.
 */
enum tks_metric {
    TKS_METRIC_TTFC = 0,          /* first token-bearing chunk - sent */
    TKS_METRIC_TTFT = 1,          /* first chunk with visible content - sent (reasoning
                                     not counted) */
    TKS_METRIC_TTFT_REASONING = 2, /* first chunk with content or reasoning - sent */
    TKS_METRIC_ITL_CHUNK = 3,     /* gap before each token-bearing chunk after the first */
    TKS_METRIC_ITL_TOKEN = 4,     /* that gap / the chunk's tokens, weighted by its tokens */
    TKS_METRIC_TPOT = 5,          /* (last token - first token) / (N - 1), N > 1 */
    TKS_METRIC_E2EL = 6,          /* last token-bearing chunk - sent */
    TKS_METRIC_DURATION = 7,      /* end (close) - sent */
    TKS_METRIC_QUEUE = 8,         /* sent - enqueued */
    TKS_METRIC_OUTPUT_TOKENS = 9, /* N: usage output tokens, else the chunks' tokens */
    TKS_METRIC_CHUNK_TOKENS = 10, /* tokens per token-bearing chunk (a count) */
    TKS_METRIC_TOKENS_PER_S = 11, /* N / e2el, in thousandths of a token per second */
    TKS_METRIC_COUNT_ = 12        /* not a metric: the number of metrics */
};

/* How a finished stream ended (its outcome). */
enum tks_outcome {
    TKS_OUTCOME_NONE = 0,    /* not ended yet */
    TKS_OUTCOME_OK = 1,      /* ended cleanly with at least one token */
    TKS_OUTCOME_EMPTY = 2,   /* ended cleanly with zero tokens: kept out of every latency */
    TKS_OUTCOME_TIMEOUT = 3, /* a configured time-out passed before the end */
    TKS_OUTCOME_ERROR = 4    /* ended with an error status */
};

/* ---- histogram: log-linear buckets, <= 1% relative error from 1 us to 1 h ---------- */

typedef struct tks_histogram tks_histogram;

typedef struct tks_histogram_config {
    const tks_alloc *alloc;
} tks_histogram_config;

/* Values are int64 (nanoseconds, or counts). Trackable range 0 .. 2^42-1 (73 minutes in
 * ns); values outside are recorded as the nearest trackable value and counted
 * (tks_histogram_clamped). The first 64 values are also kept exactly: while a histogram
 * holds at most 64 values its percentiles are exact. No allocation after _new. */
TKS_API int tks_histogram_new(tks_histogram **out, const tks_histogram_config *cfg);
TKS_API int tks_histogram_record(tks_histogram *h, int64_t value);
TKS_API int tks_histogram_record_n(tks_histogram *h, int64_t value, uint64_t count);
/* Adds every value of src to dst (src unchanged). */
TKS_API int tks_histogram_merge(tks_histogram *dst, const tks_histogram *src);
TKS_API void tks_histogram_reset(tks_histogram *h);
TKS_API void tks_histogram_free(tks_histogram *h);
TKS_API uint64_t tks_histogram_count(const tks_histogram *h);
TKS_API uint64_t tks_histogram_clamped(const tks_histogram *h);
/* Nearest-rank percentiles (0 < p <= 100; 0 gives the minimum) of n values of pcts into
 * out[0..n). TKS_EEMPTY when the histogram is empty, TKS_EINVAL for a p outside 0..100. */
TKS_API int tks_histogram_percentiles(const tks_histogram *h, const double *pcts, size_t n,
                                      int64_t *out);
TKS_API int tks_histogram_min(const tks_histogram *h, int64_t *out);
TKS_API int tks_histogram_max(const tks_histogram *h, int64_t *out);
TKS_API int tks_histogram_mean(const tks_histogram *h, double *out);
/* Population standard deviation. */
TKS_API int tks_histogram_std(const tks_histogram *h, double *out);
/* Bytes one histogram occupies (the whole allocation). */
TKS_API size_t tks_histogram_memory(const tks_histogram *h);
/* Raw buckets for bindings: the non-empty buckets in increasing order, bucket i holding
 * counts[i] values v with lo[i] <= v <= hi[i]. Writes at most cap entries; *n gets the
 * number of non-empty buckets (call with cap 0 to size the arrays); TKS_ELIMIT when cap
 * was too small. */
TKS_API int tks_histogram_buckets(const tks_histogram *h, int64_t *lo, int64_t *hi,
                                  uint64_t *counts, size_t cap, size_t *n);

/* ---- timer: one stream ------------------------------------------------------------- */

/* tks_timer_mark_chunk flags */
#define TKS_CHUNK_CONTENT 0x1u   /* carries visible content (answer text, refusal, tool call) */
#define TKS_CHUNK_REASONING 0x2u /* carries reasoning / thinking */

/* Time-outs (bits of tks_timer_expired and tks_timer_results.timeouts) */
#define TKS_TIMEOUT_FIRST_TOKEN 0x1u /* no token-bearing chunk within first_token_ns of sent */
#define TKS_TIMEOUT_IDLE 0x2u        /* a gap of idle_ns with no token-bearing chunk */
#define TKS_TIMEOUT_TOTAL 0x4u       /* total_ns passed since sent */

/* tks_timer_deadline when no deadline is pending */
#define TKS_NO_DEADLINE INT64_MAX

/* tks_timer_config.flags */
#define TKS_TIMER_NO_HISTOGRAMS 0x1u /* keep no per-stream histograms (saves 3 x 16 KiB):
                                        ITL samples reach only on_sample */

/* One ITL sample (TKS_METRIC_ITL_CHUNK once per chunk, TKS_METRIC_ITL_TOKEN with count =
 * the chunk's tokens, TKS_METRIC_CHUNK_TOKENS). */
typedef int (*tks_sample_cb)(void *user, int metric, int64_t value, uint64_t count);

typedef struct tks_timer_config {
    const tks_alloc *alloc;
    int64_t first_token_ns; /* time-outs; 0 = none */
    int64_t idle_ns;
    int64_t total_ns;
    uint32_t flags;         /* TKS_TIMER_* */
    /* The clock tks_timer_now reads (what a tks_client marks with); NULL = tks_now_ns.
     * Replaying a recorded trace sets its own. */
    int64_t (*clock)(void *ctx);
    void *clock_ctx;
    tks_sample_cb on_sample; /* optional; a non-zero return is ignored */
    void *sample_user;
} tks_timer_config;

/* Everything the timer measured; times in ns, -1 when not defined for this stream. */
typedef struct tks_timer_results {
    int outcome;            /* enum tks_outcome */
    uint32_t timeouts;      /* TKS_TIMEOUT_* that passed before the end */
    int status;             /* the status given to tks_timer_mark_end */
    int64_t ttfc;
    int64_t ttft;
    int64_t ttft_reasoning;
    int64_t tpot;
    int64_t e2el;
    int64_t duration;
    int64_t queue;
    int64_t output_tokens;  /* N (usage when given, else chunk_tokens) */
    int64_t chunk_tokens;   /* sum of the token-bearing chunks' tokens */
    int64_t input_tokens;   /* from usage; -1 when not given */
    int64_t chunks;         /* token-bearing chunks */
    int64_t tokens_per_s_milli; /* N / e2el * 1000 */
    int64_t enqueued_ns, sent_ns, first_byte_ns, first_token_ns, first_content_ns,
            last_token_ns, end_ns; /* the marks themselves; -1 when absent */
} tks_timer_results;

TKS_API int tks_timer_new(tks_timer **out, const tks_timer_config *cfg);
/* The marks, in non-decreasing time (TKS_EINVAL otherwise). Before sent, the first mark
 * stands for sent. After mark_end, marks return TKS_ESTATE. */
TKS_API int tks_timer_mark_enqueued(tks_timer *t, int64_t ns);
TKS_API int tks_timer_mark_sent(tks_timer *t, int64_t ns);
TKS_API int tks_timer_mark_first_byte(tks_timer *t, int64_t ns);
/* One received chunk with n_tokens tokens (0: not token-bearing, e.g. a role-only or a
 * usage chunk: it moves nothing). flags: TKS_CHUNK_*. */
TKS_API int tks_timer_mark_chunk(tks_timer *t, int64_t ns, uint32_t n_tokens, uint32_t flags);
/* Token usage reported by the stream: a value > 0 replaces the earlier one; output_tokens
 * sets N for TPOT. Never moves a time. */
TKS_API int tks_timer_mark_usage(tks_timer *t, int64_t input_tokens, int64_t output_tokens);
/* End of stream (close) at ns; status TKS_OK for a clean end, an error status otherwise. */
TKS_API int tks_timer_mark_end(tks_timer *t, int64_t ns, int status);
/* The configured clock's time (tks_now_ns by default). */
TKS_API int64_t tks_timer_now(const tks_timer *t);
/* TKS_TIMEOUT_* bits of the time-outs that have passed at ns (after the end: those that
 * passed before it). */
TKS_API uint32_t tks_timer_expired(const tks_timer *t, int64_t ns);
/* The earliest pending deadline (absolute ns), or TKS_NO_DEADLINE. */
TKS_API int64_t tks_timer_deadline(const tks_timer *t);
/* enum tks_outcome; TKS_OUTCOME_ERROR as soon as a mark failed (time going backwards). */
TKS_API int tks_timer_outcome(const tks_timer *t);
/* One per-stream value (not ITL_CHUNK/ITL_TOKEN/CHUNK_TOKENS: see tks_timer_histogram);
 * TKS_EEMPTY when it is not defined for this stream. */
TKS_API int tks_timer_get(const tks_timer *t, int metric, int64_t *value);
TKS_API int tks_timer_results_get(const tks_timer *t, tks_timer_results *out);
/* The stream's own ITL_CHUNK, ITL_TOKEN or CHUNK_TOKENS histogram; NULL for other
 * metrics or with TKS_TIMER_NO_HISTOGRAMS. Owned by the timer. */
TKS_API const tks_histogram *tks_timer_histogram(const tks_timer *t, int metric);
TKS_API void tks_timer_reset(tks_timer *t);
TKS_API void tks_timer_free(tks_timer *t);
TKS_API const char *tks_timer_error(const tks_timer *t);

/* ---- stats: many streams ------------------------------------------------------------ */

typedef struct tks_stats tks_stats;

typedef struct tks_stats_config {
    const tks_alloc *alloc;
} tks_stats_config;

/* Summary of one metric; ns for times. count 0: every other field is 0 and the
 * tks_stats_summary call returns TKS_EEMPTY. */
typedef struct tks_summary {
    uint64_t count;
    int64_t min, max, mean, std;
    int64_t p50, p90, p95, p99, p999;
} tks_summary;

/* tks_stats_write formats */
enum tks_stats_format {
    TKS_STATS_JSON = 1,      /* one JSON object (the `tokstream stats --json` shape) */
    TKS_STATS_PROMETHEUS = 2 /* text exposition, OpenTelemetry GenAI buckets */
};

TKS_API int tks_stats_new(tks_stats **out, const tks_stats_config *cfg);
/* Records a finished timer (TKS_ESTATE if it has not ended). Latency metrics take only
 * TKS_OUTCOME_OK streams; every outcome is counted. */
TKS_API int tks_stats_add(tks_stats *s, const tks_timer *t);
TKS_API int tks_stats_merge(tks_stats *dst, const tks_stats *src);
/* Streams with that outcome (TKS_OUTCOME_NONE: all streams). */
TKS_API uint64_t tks_stats_count(const tks_stats *s, int outcome);
TKS_API int tks_stats_summary(const tks_stats *s, int metric, tks_summary *out);
/* The aggregate histogram of a metric (owned by the stats): raw buckets for bindings. */
TKS_API const tks_histogram *tks_stats_histogram(const tks_stats *s, int metric);
/* Writes the export in pieces through sink; allocates nothing. */
TKS_API int tks_stats_write(const tks_stats *s, int format, tks_bytes_cb sink, void *user);
TKS_API void tks_stats_reset(tks_stats *s);
TKS_API void tks_stats_free(tks_stats *s);

/* ---- capture reader: `tokstream record` files -------------------------------------- */

typedef struct tks_capture_reader tks_capture_reader;

/* One capture line. kind 1: the header (t_ns = start_ns, when the request was sent);
 * kind 2: bytes read at t_ns (data/len: the decoded bytes, valid during the call). */
enum tks_capture_kind { TKS_CAPTURE_START = 1, TKS_CAPTURE_DATA = 2 };
typedef struct tks_capture_record {
    int kind;
    int64_t t_ns;
    const char *data;
    size_t len;
    uint64_t offset; /* input byte offset of the line */
} tks_capture_record;

typedef int (*tks_capture_cb)(void *user, const tks_capture_record *rec);

typedef struct tks_capture_config {
    const tks_alloc *alloc;
    size_t max_line; /* 0 = 16 MiB */
} tks_capture_config;

TKS_API int tks_capture_reader_new(tks_capture_reader **out, const tks_capture_config *cfg,
                                   tks_capture_cb on_record, void *user);
TKS_API int tks_capture_reader_push(tks_capture_reader *r, const void *bytes, size_t len);
/* End of input: a last line without its newline is read now; TKS_ETRUNC when the
 * capture had no header line. */
TKS_API int tks_capture_reader_finish(tks_capture_reader *r);
TKS_API void tks_capture_reader_reset(tks_capture_reader *r);
TKS_API void tks_capture_reader_free(tks_capture_reader *r);
TKS_API const char *tks_capture_reader_error(const tks_capture_reader *r);
TKS_API uint64_t tks_capture_reader_offset(const tks_capture_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* TOKSTREAM_H */
