/* fuzz_decoder.c - tks_decoder on arbitrary events. The first byte picks the dialect
 * (modulo 7, 0 = AUTO); the rest is split into events at newlines, and a line holding a
 * TAB gives the event type before it (for the dialects that dispatch on names). Each
 * event's data is copied into a buffer of exactly its size, so reading past it is caught.
 * The same input is decoded twice (the second time after reset): identical deltas. */
#include "tokstream.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    uint64_t hash;
    size_t n;
} sink;

static void mix(sink *s, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) s->hash = (s->hash ^ b[i]) * 1099511628211ull;
}

static int on_delta(void *user, const tks_delta *x) {
    sink *s = user;
    s->n++;
    mix(s, &x->kind, sizeof x->kind);
    mix(s, &x->choice, sizeof x->choice);
    mix(s, &x->index, sizeof x->index);
    mix(s, &x->finish, sizeof x->finish);
    if ((!x->text && x->text_len) || (!x->id && x->id_len) || (!x->name && x->name_len) || (!x->json && x->json_len))
        abort(); /* unused strings are NULL with length 0 */
    if (x->text) mix(s, x->text, x->text_len);
    if (x->id) mix(s, x->id, x->id_len);
    if (x->name) mix(s, x->name, x->name_len);
    if (x->json) mix(s, x->json, x->json_len);
    mix(s, &x->input_tokens, sizeof x->input_tokens);
    mix(s, &x->output_tokens, sizeof x->output_tokens);
    return 0;
}

static int run(tks_decoder *d, const uint8_t *data, size_t size) {
    size_t i = 1;
    int rc = TKS_OK;
    while (i <= size && rc == TKS_OK) {
        size_t ls = i;
        while (i < size && data[i] != '\n') i++;
        size_t le = i;
        size_t tab = ls;
        while (tab < le && data[tab] != '\t') tab++;
        tks_event e;
        memset(&e, 0, sizeof e);
        char *type = NULL, *body;
        size_t ds = ls;
        if (tab < le) {
            type = malloc(tab - ls + 1);
            memcpy(type, data + ls, tab - ls);
            e.type = type;
            e.type_len = tab - ls;
            ds = tab + 1;
        }
        body = malloc(le - ds + 1);
        memcpy(body, data + ds, le - ds);
        e.data = le > ds ? body : NULL;
        e.data_len = le - ds;
        e.offset = ls;
        if (e.data_len == 0) e.data = NULL;
        rc = tks_decoder_push(d, &e);
        free(type);
        free(body);
        i = le + 1;
    }
    if (rc == TKS_OK) rc = tks_decoder_finish(d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    tks_decoder_config cfg = {.dialect = data[0] % 7, .max_depth = 64};
    sink a = {14695981039346656037ull, 0}, b = {14695981039346656037ull, 0};
    tks_decoder *d;
    if (tks_decoder_new(&d, &cfg, on_delta, &a) != TKS_OK) abort();
    int rc1 = run(d, data, size);
    tks_decoder_free(d);
    if (tks_decoder_new(&d, &cfg, on_delta, &b) != TKS_OK) abort();
    tks_event junk = {.data = "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}", .data_len = 40};
    tks_decoder_push(d, &junk);
    tks_decoder_reset(d);
    b.hash = 14695981039346656037ull;
    b.n = 0;
    int rc2 = run(d, data, size);
    tks_decoder_free(d);
    if (rc1 != rc2 || a.hash != b.hash || a.n != b.n) abort();
    return 0;
}
