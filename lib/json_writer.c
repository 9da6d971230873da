/* json_writer.c - appending JSON scalars to a buffer; always valid JSON out. */
#include "internal.h"

#include <stdio.h>

static int escape_byte(tks__buf *b, const tks_alloc *a, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    const char *e = NULL;
    switch (c) {
    case '"': e = "\\\""; break;
    case '\\': e = "\\\\"; break;
    case '\n': e = "\\n"; break;
    case '\r': e = "\\r"; break;
    case '\t': e = "\\t"; break;
    case '\b': e = "\\b"; break;
    case '\f': e = "\\f"; break;
    default: break;
    }
    if (e) return tks__buf_append(b, a, e, 2);
    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    return tks__buf_append(b, a, u, 6);
}

int tks__json_string(tks__buf *b, const tks_alloc *a, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    int rc = tks__buf_putc(b, a, '"');
    size_t i = 0;
    while (rc == TKS_OK && i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            rc = tks__buf_append(b, a, p + i, run - i);
            i = run;
            continue;
        }
        if (p[i] < 0x80) {
            rc = escape_byte(b, a, p[i]);
            i++;
            continue;
        }
        int k = tks__utf8_char(p + i, n - i);
        if (k > 0) {
            rc = tks__buf_append(b, a, p + i, (size_t)k);
            i += (size_t)k;
        } else {
            rc = tks__buf_append(b, a, TKS_UTF8_REPLACEMENT, 3);
            i += k < 0 ? (size_t)-k : n - i; /* a cut character at the end: one U+FFFD */
        }
    }
    return rc ? rc : tks__buf_putc(b, a, '"');
}

int tks__json_int(tks__buf *b, const tks_alloc *a, int64_t v) {
    char tmp[24];
    int len = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return tks__buf_append(b, a, tmp, (size_t)len);
}
