/* fuzz_encoder.c - tks_encoder on arbitrary delta sequences: never a crash, and every
 * event it writes is `[event: T\n]data: D\n\n` with D one line of valid JSON (cJSON
 * agrees), or [DONE]. A logprobs value the encoder accepts must parse with cJSON too.
 *
 * Input: byte 0 = options (bit 0 anthropic, bit 1 OMIT_USAGE, bits 2-3 max_chunk
 * 64/256/4096/default, bit 4 random id/model from the input). Then records:
 * kind, choice (0-3), index (0-7), finish, len, then len bytes of text used for
 * text / id / name / json. Every 16th record resets; the end finishes. */
#include "tokstream.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t n, cap;
} out;

static int on_bytes(void *user, const char *b, size_t len) {
    out *o = user;
    if (o->n + len > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->n + len) cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) abort();
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, b, len);
    o->n += len;
    return 0;
}

static void check_json(const char *p, size_t n) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    while (end && end < p + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++; /* cJSON stops before trailing whitespace */
    if (!j || end != p + n) abort();
    cJSON_Delete(j);
}

/* Checks and empties the output. */
static void check_output(out *o) {
    size_t i = 0;
    while (i < o->n) {
        const char *p = o->p + i;
        size_t left = o->n - i;
        if (left > 7 && memcmp(p, "event: ", 7) == 0) {
            const char *nl = memchr(p, '\n', left);
            if (!nl || memchr(p, '\r', (size_t)(nl - p))) abort();
            i += (size_t)(nl - p) + 1;
            p = o->p + i;
            left = o->n - i;
        }
        if (left < 6 || memcmp(p, "data: ", 6) != 0) abort();
        const char *nl = memchr(p, '\n', left);
        if (!nl || (size_t)(nl - p) + 1 >= left || nl[1] != '\n') abort();
        const char *d = p + 6;
        size_t dn = (size_t)(nl - d);
        if (memchr(d, '\r', dn)) abort();
        if (!(dn == 6 && memcmp(d, "[DONE]", 6) == 0)) check_json(d, dn);
        i += (size_t)(nl - p) + 2;
    }
    o->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t opt = data[0];
    static const size_t chunks[] = {64, 256, 4096, 0};
    char model[32] = "m", id[32] = "id";
    size_t i = 1;
    if ((opt & 16) && size >= 1 + 2 * 31) {
        memcpy(model, data + 1, 31);
        memcpy(id, data + 32, 31);
        model[31] = id[31] = 0;
        i += 62;
    }
    tks_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dialect = (opt & 1) ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT;
    cfg.flags = (opt & 2) ? TKS_ENCODER_OMIT_USAGE : 0;
    cfg.max_chunk = chunks[(opt >> 2) & 3];
    cfg.model = model;
    cfg.id = (opt & 32) ? NULL : id;
    cfg.id_seed = id;
    cfg.created = 1700000000;
    cfg.max_items = 64;
    out o = {0};
    tks_encoder *e;
    if (tks_encoder_new(&e, &cfg, on_bytes, &o) != TKS_OK) abort();
    int records = 0, ended = 0; /* openai-chat: after [DONE] logprobs are dropped unread */
    while (size - i >= 5) {
        tks_delta d;
        memset(&d, 0, sizeof d);
        d.kind = data[i] % 15; /* 0 and 14: not kinds */
        d.choice = data[i + 1] % 4;
        d.index = data[i + 2] % 8;
        d.finish = data[i + 3] % 8;
        size_t len = data[i + 4];
        i += 5;
        if (len > size - i) len = size - i;
        const char *s = (const char *)data + i;
        i += len;
        d.text = d.id = d.name = d.json = s;
        d.text_len = d.id_len = d.name_len = d.json_len = len;
        d.input_tokens = (int64_t)len - 8;
        d.output_tokens = (int64_t)d.index - 2;
        d.total_tokens = d.reasoning_tokens = d.cached_tokens = (int64_t)d.choice - 1;
        int rc = tks_encoder_push(e, &d);
        if (d.kind == TKS_DELTA_LOGPROBS && rc == TKS_OK && !ended &&
            cfg.dialect == TKS_DIALECT_OPENAI_CHAT)
            check_json(s, len);
        if (d.kind == TKS_DELTA_DONE && rc == TKS_OK) ended = 1;
        if (rc == TKS_OK || rc < 0) check_output(&o);
        if (rc < 0 && tks_encoder_error(e)[0] == 0) abort(); /* an error says why */
        if (++records % 16 == 0) {
            tks_encoder_reset(e);
            o.n = 0;
            ended = 0;
        }
    }
    int rc = tks_encoder_finish(e);
    (void)rc;
    check_output(&o);
    tks_encoder_free(e);
    free(o.p);
    return 0;
}
