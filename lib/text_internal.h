/* text_internal.h - private hooks of the text stages (utf8_streamer.c, stop.c) for the
 * tests: counters of the bytes each object examined or copied, so tests can check that
 * the work is linear in the input without timing anything. Not installed. */
#ifndef TKS_TEXT_INTERNAL_H
#define TKS_TEXT_INTERNAL_H

#include "tokstream.h"

/* Bytes examined, decoded or copied since new (not cleared by reset). */
uint64_t tks__utf8_streamer_work(const tks_utf8_streamer *s);
uint64_t tks__stop_work(const tks_stop *s);
/* The automaton's state count (for the tests' size report). */
size_t tks__stop_states(const tks_stop *s);

#endif
