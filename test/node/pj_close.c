/* pj_close.c - test helper for t_node_sdk.sh: for each whole JSON document on stdin (one
 * per line), prints every prefix (trailing whitespace trimmed, as partial-json trims) and
 * tks_partial_json's result as two JSON strings separated by a tab; a status other than
 * TKS_OK is printed as "!STATUS". */
#include "tokstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jstr(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(void) {
    static char line[1 << 16], out[1 << 17];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        for (size_t k = 1; k <= n; k++) {
            size_t m = k;
            while (m && (line[m - 1] == ' ' || line[m - 1] == '\t')) m--;
            if (m == 0) continue;
            size_t len;
            int rc = tks_partial_json(line, m, out, sizeof out, &len);
            jstr(line, m);
            putchar('\t');
            if (rc == TKS_OK) {
                jstr(out, len);
            } else {
                char st[32];
                snprintf(st, sizeof st, "!%s", tks_status_name(rc));
                jstr(st, strlen(st));
            }
            putchar('\n');
        }
    }
    return 0;
}
