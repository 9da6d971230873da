/* t_detok_golden.c - tks_detok against the reference decodes of the four real
 * vocabularies in ../shared/vocab/golden (cl100k_base, o200k_base: tiktoken; llama3:
 * ByteLevel tokenizer.json; mistral7b: Replace+ByteFallback+Fuse+Strip tokenizer.json).
 * For every case: the whole list in one push, one id per push, every split into two
 * pushes, and grapheme mode; the deltas must be valid UTF-8 and join to `decoded`. */
#include "tokstream.h"
#include "tap.h"
#include "testutil.h"

#include <cJSON.h>
#include <stdint.h>

typedef struct out {
    char *p;
    size_t len, cap;
    int deltas, bad_utf8, empty;
} out;

/* Strict UTF-8 check written here (not the library's), Unicode Table 3-7. */
static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 2;
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return 0;
        if (i + k > n) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j < k; j++) if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

/* The JSON string after `key` in a line, unescaped (\uXXXX with surrogate pairs). */
static char *unescape_field(const char *line, const char *key, size_t *len) {
    const char *s = strstr(line, key);
    char *o = malloc(strlen(line) + 1);
    size_t n = 0;
    if (!s) { *len = 0; o[0] = 0; return o; }
    s += strlen(key);
    while (*s == ' ') s++;
    s++; /* opening quote */
    while (*s && *s != '"') {
        if (*s != '\\') { o[n++] = *s++; continue; }
        s++;
        char c = *s++;
        if (c == 'u') {
            unsigned cp = (unsigned)strtoul((char[5]){s[0], s[1], s[2], s[3], 0}, NULL, 16);
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && s[0] == '\\' && s[1] == 'u') {
                unsigned lo = (unsigned)strtoul((char[5]){s[2], s[3], s[4], s[5], 0}, NULL, 16);
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp < 0x80) o[n++] = (char)cp;
            else if (cp < 0x800) { o[n++] = (char)(0xC0 | cp >> 6); o[n++] = (char)(0x80 | (cp & 63)); }
            else if (cp < 0x10000) { o[n++] = (char)(0xE0 | cp >> 12); o[n++] = (char)(0x80 | (cp >> 6 & 63)); o[n++] = (char)(0x80 | (cp & 63)); }
            else { o[n++] = (char)(0xF0 | cp >> 18); o[n++] = (char)(0x80 | (cp >> 12 & 63)); o[n++] = (char)(0x80 | (cp >> 6 & 63)); o[n++] = (char)(0x80 | (cp & 63)); }
        } else {
            o[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
        }
    }
    o[n] = 0;
    *len = n;
    return o;
}

static int on_text(void *user, const char *t, size_t n) {
    out *o = user;
    o->deltas++;
    if (n == 0) o->empty++;
    if (!utf8_ok((const unsigned char *)t, n)) o->bad_utf8++;
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->len, t, n);
    o->len += n;
    o->p[o->len] = 0;
    return 0;
}

/* Decodes ids with pushes cut at the offsets in cuts (sorted, ending with n). */
static int run(const tks_vocab *v, uint32_t flags, const int32_t *ids, size_t n,
               const size_t *cuts, size_t ncuts, out *o) {
    tks_detok *d;
    tks_detok_config cfg = {0};
    cfg.flags = flags;
    o->len = 0;
    o->deltas = o->bad_utf8 = o->empty = 0;
    if (o->p) o->p[0] = 0;
    int rc = tks_detok_new(&d, v, &cfg, on_text, o);
    if (rc) return rc;
    size_t at = 0;
    for (size_t i = 0; i < ncuts && rc == TKS_OK && at < n; i++) {
        rc = tks_detok_push(d, ids + at, cuts[i] - at);
        at = cuts[i];
    }
    if (rc == TKS_OK) rc = tks_detok_finish(d);
    tks_detok_free(d);
    return rc;
}

static int same(const out *o, const char *want, size_t wl) {
    return o->len == wl && memcmp(o->p ? o->p : "", want, wl) == 0 && !o->bad_utf8 && !o->empty;
}

static void run_file(const char *shared, const char *name, const tks_vocab *v) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab/golden/%s.jsonl", shared, name);
    size_t len;
    char *text = read_file(path, &len);
    ok(text != NULL, "%s: golden file read", name);
    if (!text) return;
    int cases = 0, raw = 0, special = 0;
    char *line = text;
    out o = {0};
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        const char *raw_line = line;
        line = nl ? nl + 1 : NULL;
        if (!j) continue;
        const char *cname = cJSON_GetStringValue(cJSON_GetObjectItem(j, "name"));
        cJSON *jids = cJSON_GetObjectItem(j, "ids");
        cJSON *jdec = cJSON_GetObjectItem(j, "decoded");
        int skip = cJSON_IsTrue(cJSON_GetObjectItem(j, "skip_special"));
        if (cJSON_IsTrue(cJSON_GetObjectItem(j, "raw"))) raw++;
        if (!skip) special++;
        size_t n = (size_t)cJSON_GetArraySize(jids);
        int32_t *ids = malloc((n + 1) * sizeof *ids);
        size_t *cuts = malloc((n + 1) * sizeof *cuts);
        for (size_t i = 0; i < n; i++) ids[i] = (int32_t)cJSON_GetArrayItem(jids, (int)i)->valuedouble;
        /* cJSON strings stop at NUL (a case holds \u0000): decode `decoded` here */
        size_t wl = 0;
        char *want = unescape_field(raw_line, "\"decoded\":", &wl);
        (void)jdec;
        uint32_t flags = skip ? TKS_DETOK_SKIP_SPECIAL : 0;
        cases++;
        int good = 1;
        char why[200] = "";
        /* whole */
        cuts[0] = n;
        int rc = run(v, flags, ids, n, cuts, 1, &o);
        if (rc || !same(&o, want, wl)) { good = 0; snprintf(why, sizeof why, "one push (rc %d)", rc); }
        /* one id per push */
        for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
        if (good) {
            rc = run(v, flags, ids, n, cuts, n ? n : 1, &o);
            if (rc || !same(&o, want, wl)) { good = 0; snprintf(why, sizeof why, "one id per push (rc %d)", rc); }
        }
        /* every split into two pushes */
        for (size_t k = 1; good && k < n; k++) {
            cuts[0] = k;
            cuts[1] = n;
            rc = run(v, flags, ids, n, cuts, 2, &o);
            if (rc || !same(&o, want, wl)) { good = 0; snprintf(why, sizeof why, "split at %zu (rc %d)", k, rc); }
        }
        /* grapheme mode, one id per push: same text */
        for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
        if (good) {
            rc = run(v, flags | TKS_DETOK_GRAPHEME, ids, n, cuts, n ? n : 1, &o);
            if (rc || !same(&o, want, wl)) { good = 0; snprintf(why, sizeof why, "grapheme mode (rc %d)", rc); }
        }
        ok(good, "%s: %s (%zu ids, skip_special=%d)", name, cname, n, skip);
        if (!good) {
            diag("failed: %s; %d deltas, %d invalid, %d empty", why, o.deltas, o.bad_utf8, o.empty);
            diag_bytes("got", o.p ? o.p : "", o.len);
            diag_bytes("want", want, wl);
        }
        free(ids);
        free(cuts);
        free(want);
        cJSON_Delete(j);
    }
    free(o.p);
    free(text);
    ok(cases >= 60 && raw >= 4 && special >= 2, "%s: %d cases read (%d raw, %d with specials kept)", name,
       cases, raw, special);
}

static tks_vocab *load(const char *shared, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab/%s", shared, file);
    size_t len;
    char *data = read_file(path, &len);
    if (!data) return NULL;
    tks_vocab *v;
    if (tks_vocab_new(&v, NULL) != TKS_OK) return NULL;
    int rc;
    if (strstr(file, ".tiktoken")) {
        const tks_special_token *sp;
        size_t nsp;
        char enc[64];
        snprintf(enc, sizeof enc, "%.*s", (int)(strchr(file, '.') - file), file);
        rc = tks_vocab_tiktoken_specials(enc, &sp, &nsp);
        if (rc == TKS_OK) rc = tks_vocab_load_tiktoken(v, data, len, sp, nsp);
    } else {
        rc = tks_vocab_load_hf(v, data, len);
    }
    free(data);
    ok(rc == TKS_OK, "%s loads", file);
    if (rc) {
        diag("%s: %s at byte %llu", tks_strerror(rc), tks_vocab_error(v),
             (unsigned long long)tks_vocab_offset(v));
        tks_vocab_free(v);
        return NULL;
    }
    return v;
}

int main(void) {
    const char *shared = shared_dir();
    if (!shared) return skip_all("../shared is absent: no real vocabularies to test against");
    static const struct { const char *file, *golden; size_t size; } vocabs[] = {
        {"cl100k_base.tiktoken", "cl100k_base", 100277},
        {"o200k_base.tiktoken", "o200k_base", 200019},
        {"llama3.tokenizer.json", "llama3", 128256},
        {"mistral7b.tokenizer.json", "mistral7b", 32000},
    };
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        tks_vocab *v = load(shared, vocabs[i].file);
        if (!v) continue;
        is_int(tks_vocab_size(v), vocabs[i].size, "%s: largest id + 1", vocabs[i].file);
        run_file(shared, vocabs[i].golden, v);
        tks_vocab_free(v);
    }
    return done_testing();
}
