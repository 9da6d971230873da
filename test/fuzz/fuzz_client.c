/* fuzz_client.c - tks_client in auto mode on any bytes, cut where the input says: the
 * first byte picks a cut point; the result (status, message JSON) must be the same as
 * with one push and as byte by byte, and the export must always be valid JSON. */
#include "tokstream.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *run(const uint8_t *p, size_t n, size_t cut, int bytewise, int *rc) {
    tks_client_config cfg = {0};
    cfg.max_event = 64 * 1024;
    cfg.max_message = 256 * 1024;
    tks_client *c;
    if (tks_client_new(&c, &cfg, NULL, NULL) != TKS_OK) abort();
    int r = TKS_OK;
    if (bytewise) {
        for (size_t i = 0; i < n && r == TKS_OK; i++) r = tks_client_push(c, p + i, 1);
    } else {
        r = tks_client_push(c, p, cut);
        if (r == TKS_OK) r = tks_client_push(c, p + cut, n - cut);
    }
    if (r == TKS_OK) r = tks_client_finish(c);
    *rc = r;
    size_t need = 0, len = 0;
    if (tks_assembler_json(tks_client_message(c), NULL, 0, &need) != TKS_OK) abort();
    char *s = malloc(need + 1);
    if (!s || tks_assembler_json(tks_client_message(c), s, need + 1, &len) != TKS_OK) abort();
    /* the partial arguments of every call are valid JSON too */
    const tks_assembler *m = tks_client_message(c);
    for (size_t i = 0; i < tks_assembler_choices(m); i++)
        for (size_t k = 0; k < tks_assembler_tool_calls(m, i); k++) {
            size_t pl;
            int prc = tks_assembler_tool_args_partial(m, i, k, NULL, 0, &pl);
            if (prc != TKS_OK && prc != TKS_EJSON && prc != TKS_ELIMIT) abort();
        }
    tks_client_free(c);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t cut = data[0] % size;
    int r1, r2, r3;
    char *a = run(data, size, 0, 0, &r1);
    char *b = run(data, size, cut, 0, &r2);
    char *c = run(data, size, 0, 1, &r3);
    if (r1 != r2 || strcmp(a, b)) abort();
    if (size <= 4096 && (r1 != r3 || strcmp(a, c))) abort();
    cJSON *j = cJSON_Parse(a);
    if (!j) abort();
    cJSON_Delete(j);
    free(a);
    free(b);
    free(c);
    return 0;
}
