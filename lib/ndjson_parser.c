/* ndjson_parser.c - newline-delimited JSON (Ollama's native API): one event per line.
 * The line is handed over as it is (no JSON parsing here: the decoder does that). A
 * line that lies inside one push is handed over in place; only a line cut by a push
 * boundary is copied into the line buffer. */
#include "internal.h"

#include <stdio.h>

struct tks_ndjson_parser {
    tks_alloc alloc;
    tks_event_cb on_event;
    void *user;
    size_t max_line;
    tks__buf line;     /* the start of a line cut by a push boundary */
    int in_line;       /* a line has begun (bytes seen since the last LF) */
    int finished;
    int stopped;
    uint64_t pos;      /* input bytes consumed so far */
    uint64_t line_at;  /* offset of the current line's first byte */
    tks__err err;
};

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

static int too_long(tks_ndjson_parser *p) {
    char msg[96];
    snprintf(msg, sizeof msg, "line longer than %zu bytes (max_line) beginning",
             p->max_line);
    return tks__err_at(&p->err, TKS_ELIMIT, p->line_at, msg);
}

/* Hands over one complete line (its line end already removed, a CR before LF too). */
static int dispatch(tks_ndjson_parser *p, const char *s, size_t n) {
    if (n && s[n - 1] == '\r') n--;
    if (n > p->max_line) return too_long(p);
    uint64_t at = p->line_at;
    if (at == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        /* A byte order mark an editor put at the start of the body. */
        s += 3;
        n -= 3;
        at = 3;
    }
    if (is_blank(s, n)) return TKS_OK;
    tks_event ev = {0};
    ev.type = ev.id = ev.message_type = "";
    ev.data = s;
    ev.data_len = n;
    ev.offset = at;
    if (p->on_event(p->user, &ev)) {
        p->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

int tks_ndjson_parser_new(tks_ndjson_parser **out, const tks_ndjson_config *cfg,
                          tks_event_cb on_event, void *user) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!on_event) return TKS_EINVAL;
    tks_ndjson_parser *p;
    int rc = tks__object_new((void **)&p, sizeof *p, cfg ? cfg->alloc : NULL,
                             offsetof(tks_ndjson_parser, alloc));
    if (rc) return rc;
    p->on_event = on_event;
    p->user = user;
    p->max_line = TKS_OR(cfg ? cfg->max_line : 0, TKS_MIB);
    /* One byte more than max_line: room for a CR whose LF is in the next push. */
    p->line.limit = p->max_line < SIZE_MAX ? p->max_line + 1 : SIZE_MAX;
    *out = p;
    return TKS_OK;
}

int tks_ndjson_parser_push(tks_ndjson_parser *p, const void *data, size_t len) {
    if (!p || (!data && len)) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return tks__err_set(&p->err, TKS_ESTATE, p->pos, "push after finish");
    const char *s = data, *end = s + len;
    while (s < end) {
        if (!p->in_line) {
            p->in_line = 1;
            p->line_at = p->pos;
        }
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) {
            /* The line continues in the next push: keep what we have. */
            size_t n = (size_t)(end - s);
            int rc = tks__buf_append(&p->line, &p->alloc, s, n);
            if (rc == TKS_ELIMIT) return too_long(p);
            if (rc) return tks__err_at(&p->err, rc, p->pos, "cannot grow the line buffer");
            /* A full buffer can still end in the CR of a CRLF; anything else is too long. */
            if (p->line.len == p->line.limit && p->line.p[p->line.len - 1] != '\r')
                return too_long(p);
            p->pos += n;
            break;
        }
        size_t n = (size_t)(nl - s);
        int rc;
        if (p->line.len == 0) {
            rc = dispatch(p, s, n); /* zero-copy: the whole line is in this push */
        } else {
            rc = tks__buf_append(&p->line, &p->alloc, s, n);
            if (rc == TKS_ELIMIT) return too_long(p);
            if (rc) return tks__err_at(&p->err, rc, p->pos, "cannot grow the line buffer");
            rc = dispatch(p, p->line.p, p->line.len);
            p->line.len = 0;
        }
        p->pos += n + 1;
        p->in_line = 0;
        s = nl + 1;
        if (rc) return rc;
    }
    return TKS_OK;
}

int tks_ndjson_parser_finish(tks_ndjson_parser *p) {
    if (!p) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return TKS_OK;
    p->finished = 1;
    /* A last line without its newline is still a whole line (Ollama bodies and
     * recordings often end that way): hand it over. */
    int rc = TKS_OK;
    if (p->in_line) rc = dispatch(p, p->line.p ? p->line.p : "", p->line.len);
    p->line.len = 0;
    p->in_line = 0;
    return rc;
}

void tks_ndjson_parser_reset(tks_ndjson_parser *p) {
    if (!p) return;
    p->line.len = 0; /* the buffer's memory is kept for the next stream */
    p->in_line = p->finished = p->stopped = 0;
    p->pos = p->line_at = 0;
    tks__err_clear(&p->err);
}

void tks_ndjson_parser_free(tks_ndjson_parser *p) {
    if (!p) return;
    tks_alloc a = p->alloc;
    tks__buf_free(&p->line, &a);
    tks__free(&a, p, sizeof *p);
}

const char *tks_ndjson_parser_error(const tks_ndjson_parser *p) {
    return p ? tks__err_text(&p->err) : "";
}

uint64_t tks_ndjson_parser_offset(const tks_ndjson_parser *p) { return p ? p->err.offset : 0; }
