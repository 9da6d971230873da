/* fuzz_coalescer.c - tks_coalescer under any sequence of pushes, polls, flushes and
 * finish: the batches concatenate to the pushed text, each batch ends at a push
 * boundary, is never empty, and is no larger than max_bytes unless it is one single
 * push; tokens are never invented. Input: bytes 0..2 = config; then records
 * [op][len][time step][tokens] followed by len bytes of text for pushes. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct st {
    unsigned char *text;  /* every byte pushed */
    size_t len, cap;
    size_t *ends;         /* push boundaries (text pushes only) */
    size_t n_ends, cap_ends;
    size_t out;           /* bytes received so far */
    size_t max_bytes;
    uint64_t tokens_in, tokens_out;
} st;

static int on_batch(void *user, const char *t, size_t n, uint64_t ntok) {
    st *s = user;
    if (n == 0 || s->out + n > s->len || memcmp(t, s->text + s->out, n)) abort();
    size_t from = s->out;
    s->out += n;
    size_t j = 0;
    while (j < s->n_ends && s->ends[j] < s->out) j++;
    if (j == s->n_ends || s->ends[j] != s->out) abort();             /* ends at a push */
    if (n > s->max_bytes && (j ? s->ends[j - 1] : 0) != from) abort(); /* or one push */
    s->tokens_out += ntok;
    if (s->tokens_out > s->tokens_in) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    st s = {0};
    tks_coalescer_config cfg = {0};
    cfg.max_tokens = data[0] % 8;
    cfg.max_bytes = data[1] % 64;
    cfg.max_delay_ns = data[2] % 32;
    s.max_bytes = cfg.max_bytes ? cfg.max_bytes : 4096;
    tks_coalescer *c;
    if (tks_coalescer_new(&c, &cfg, on_batch, &s) != TKS_OK) abort();
    int64_t now = 0;
    size_t i = 3;
    int finished = 0;
    while (i + 4 <= size) {
        unsigned op = data[i] % 8, len = data[i + 1] % 96, step = data[i + 2] % 16, nt = data[i + 3] % 4;
        i += 4;
        now += step;
        if (op < 5) {
            if (len > size - i) len = (unsigned)(size - i);
            if (!finished) { /* recorded first: the batch may go out inside the push */
                if (s.len + len > s.cap) {
                    s.cap = (s.len + len) * 2 + 64;
                    s.text = realloc(s.text, s.cap);
                    if (!s.text) abort();
                }
                if (len) memcpy(s.text + s.len, data + i, len);
                s.len += len;
                s.tokens_in += nt;
                if (len) {
                    if (s.n_ends == s.cap_ends) {
                        s.cap_ends = s.cap_ends * 2 + 16;
                        s.ends = realloc(s.ends, s.cap_ends * sizeof *s.ends);
                        if (!s.ends) abort();
                    }
                    s.ends[s.n_ends++] = s.len;
                }
            }
            int rc = tks_coalescer_push(c, (const char *)data + i, len, nt, now);
            if (finished ? rc != TKS_ESTATE : rc != TKS_OK) abort();
            i += len;
        } else if (op == 5) {
            int64_t d = tks_coalescer_deadline(c);
            if (tks_coalescer_poll(c, now) < 0 && !finished) abort();
            if (!finished && d <= now && tks_coalescer_deadline(c) != INT64_MAX) abort();
        } else if (op == 6) {
            if (tks_coalescer_flush(c) < 0 && !finished) abort();
            if (!finished && s.out != s.len) abort();
        } else {
            if (!finished && tks_coalescer_finish(c) != TKS_OK) abort();
            if (!finished && s.out != s.len) abort();
            finished = 1;
        }
    }
    if (!finished && tks_coalescer_finish(c) != TKS_OK) abort();
    if (s.out != s.len) abort();
    tks_coalescer_free(c);
    free(s.text);
    free(s.ends);
    return 0;
}
