/*
 * shim.h - C glue of the Go binding: the callbacks the library calls, which hand the
 * user pointer (a runtime/cgo.Handle, an integer) to the exported Go trampolines, and
 * one entry point per framing parser kind so Go needs a single parser type.
 * Not part of tokstream's public API.
 */
#ifndef TOKSTREAM_GO_SHIM_H
#define TOKSTREAM_GO_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include "tokstream.h"

/* Parser kinds. */
enum { TKSGO_SSE = 1, TKSGO_NDJSON = 2, TKSGO_JSON_ARRAY = 3, TKSGO_EVENTSTREAM = 4 };

/* Event kinds handed to the Go trampoline. */
enum { TKSGO_EV_EVENT = 0, TKSGO_EV_COMMENT = 1, TKSGO_EV_RETRY = 2 };

typedef struct tksgo_parser_opts {
    size_t max_line;
    size_t max_event;
    uint32_t max_depth;
    uint32_t flags;
    int comments;
    int retry;
} tksgo_parser_opts;

int tksgo_client_new(tks_client **out, const tks_client_config *cfg, uintptr_t h);
int tksgo_detok_new(tks_detok **out, const tks_vocab *v, const tks_detok_config *cfg,
                    uintptr_t h);

int tksgo_parser_new(void **out, int kind, const tksgo_parser_opts *o, uintptr_t h);
int tksgo_parser_push(void *p, int kind, const void *data, size_t len);
int tksgo_parser_finish(void *p, int kind);
void tksgo_parser_reset(void *p, int kind);
void tksgo_parser_free(void *p, int kind);
const char *tksgo_parser_error(const void *p, int kind);
uint64_t tksgo_parser_offset(const void *p, int kind);

#endif
