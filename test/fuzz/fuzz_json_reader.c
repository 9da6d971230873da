/* fuzz_json_reader.c - the internal JSON reader on arbitrary bytes: never crashes or
 * reads outside the input; an accepted text has a consistent tape (spans inside the
 * input, every string unescapes to valid UTF-8, every number converts); and whatever
 * it accepts cJSON accepts too (when the text has no \u escapes, which cJSON checks
 * more strictly for lone surrogates, and no NUL bytes, where cJSON stops reading). */
#include "json_reader.h"

#include <cJSON.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tks_alloc a;
    tks__alloc_init(&a, NULL);
    tks__json j;
    tks__json_init(&j, 64, 1 << 16);
    int rc = tks__json_parse(&j, &a, (const char *)data, size);
    if (rc == TKS_EJSON && j.err_pos > size) abort();
    if (rc == TKS_OK) {
        for (uint32_t i = 1; i < j.n; i++) {
            tks__jnode *v = &j.v[i];
            if ((size_t)v->start + v->len > size || v->end <= i || v->end > j.n) abort();
            const char *p;
            size_t n;
            if (v->type == TKS__J_STRING) {
                if (!tks__json_str(&j, i, &p, &n)) abort();
                if (tks__utf8_valid_prefix((const unsigned char *)p, n) != n) abort();
            } else if (v->type == TKS__J_NUMBER) {
                double d;
                if (!tks__json_double(&j, i, &d)) abort();
                int64_t k;
                (void)tks__json_int64(&j, i, &k);
            } else if (v->type == TKS__J_OBJECT) {
                for (uint32_t k = tks__json_first(&j, i); k; k = tks__json_next(&j, i, k + 1))
                    if (j.v[k].type != TKS__J_STRING) abort();
            }
        }
        int has_u = 0, has_nul = 0;
        for (size_t i = 0; i + 1 < size; i++)
            if (data[i] == '\\' && data[i + 1] == 'u') has_u = 1;
        for (size_t i = 0; i < size; i++)
            if (data[i] == 0) has_nul = 1;
        if (!has_u && !has_nul) {
            char *copy = malloc(size + 1);
            memcpy(copy, data, size);
            copy[size] = 0;
            const char *end = NULL;
            cJSON *c = cJSON_ParseWithLengthOpts(copy, size + 1, &end, 1);
            if (!c) abort(); /* strict accepted what lenient cJSON refused */
            cJSON_Delete(c);
            free(copy);
        }
    }
    tks__json_free(&j, &a);
    return 0;
}
