/* cmd_events.c - `tokstream events`: frame a stream (SSE by default, or NDJSON, a JSON
 * array, AWS eventstream) and print one JSON object per line for each event:
 *   {"event":T,"data":D,"id":I}            every event (eventstream adds "message_type"
 *                                          and "headers")
 *   {"retry":N}                            each valid SSE retry field
 *   {"comment":C}                          each SSE comment, with --comments only
 * Exit status 0, 1 for a malformed or truncated stream (everything received is printed
 * first), 2 for usage. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

enum { F_SSE, F_NDJSON, F_ARRAY, F_EVENTSTREAM };

typedef struct events_cmd {
    int framing;
    void *parser;
    FILE *out;
} events_cmd;

static void put_base64(FILE *out, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    putc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        putc(tab[v >> 18 & 63], out);
        putc(tab[v >> 12 & 63], out);
        putc(i + 1 < n ? tab[v >> 6 & 63] : '=', out);
        putc(i + 2 < n ? tab[v & 63] : '=', out);
    }
    putc('"', out);
}

/* A header's value as JSON: booleans, numbers, strings; bytes in base64; a UUID in its
 * usual 8-4-4-4-12 hex form. */
static void put_header_value(FILE *out, const tks_header *h) {
    switch (h->type) {
    case TKS_HEADER_TRUE: fputs("true", out); break;
    case TKS_HEADER_FALSE: fputs("false", out); break;
    case TKS_HEADER_STRING: cli_json_string(out, h->value, h->value_len); break;
    case TKS_HEADER_BYTES: put_base64(out, (const unsigned char *)h->value, h->value_len); break;
    case TKS_HEADER_UUID: {
        putc('"', out);
        for (size_t i = 0; i < h->value_len; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) putc('-', out);
            fprintf(out, "%02x", (unsigned char)h->value[i]);
        }
        putc('"', out);
        break;
    }
    default: fprintf(out, "%" PRId64, h->integer); break;
    }
}

static int on_event(void *user, const tks_event *e) {
    events_cmd *c = user;
    FILE *out = c->out;
    fputs("{\"event\":", out);
    cli_json_string(out, e->type, e->type_len);
    fputs(",\"data\":", out);
    cli_json_string(out, e->data, e->data_len);
    fputs(",\"id\":", out);
    cli_json_string(out, e->id, e->id_len);
    if (c->framing == F_EVENTSTREAM) {
        fputs(",\"message_type\":", out);
        cli_json_string(out, e->message_type, e->message_type_len);
        fputs(",\"headers\":{", out);
        for (size_t i = 0; i < e->n_headers; i++) {
            if (i) putc(',', out);
            cli_json_string(out, e->headers[i].name, e->headers[i].name_len);
            putc(':', out);
            put_header_value(out, &e->headers[i]);
        }
        putc('}', out);
    }
    fputs("}\n", out);
    return ferror(out) ? 1 : 0; /* stdout gone: stop reading */
}

static int on_comment(void *user, const tks_event *e) {
    events_cmd *c = user;
    fputs("{\"comment\":", c->out);
    cli_json_string(c->out, e->data, e->data_len);
    fputs("}\n", c->out);
    return ferror(c->out) ? 1 : 0;
}

static int on_retry(void *user, const tks_event *e) {
    events_cmd *c = user;
    fprintf(c->out, "{\"retry\":%" PRIu64 "}\n", e->retry_ms);
    return ferror(c->out) ? 1 : 0;
}

/* Each push is followed by a flush, so a live pipe streams event by event. */
static int push(void *ctx, const void *data, size_t len) {
    events_cmd *c = ctx;
    int rc;
    switch (c->framing) {
    case F_NDJSON: rc = tks_ndjson_parser_push(c->parser, data, len); break;
    case F_ARRAY: rc = tks_json_array_parser_push(c->parser, data, len); break;
    case F_EVENTSTREAM: rc = tks_eventstream_parser_push(c->parser, data, len); break;
    default: rc = tks_sse_parser_push(c->parser, data, len); break;
    }
    fflush(c->out);
    return rc;
}

static int finish(events_cmd *c) {
    switch (c->framing) {
    case F_NDJSON: return tks_ndjson_parser_finish(c->parser);
    case F_ARRAY: return tks_json_array_parser_finish(c->parser);
    case F_EVENTSTREAM: return tks_eventstream_parser_finish(c->parser);
    default: return tks_sse_parser_finish(c->parser);
    }
}

static const char *error_text(const events_cmd *c) {
    switch (c->framing) {
    case F_NDJSON: return tks_ndjson_parser_error(c->parser);
    case F_ARRAY: return tks_json_array_parser_error(c->parser);
    case F_EVENTSTREAM: return tks_eventstream_parser_error(c->parser);
    default: return tks_sse_parser_error(c->parser);
    }
}

static uint64_t error_offset(const events_cmd *c) {
    switch (c->framing) {
    case F_NDJSON: return tks_ndjson_parser_offset(c->parser);
    case F_ARRAY: return tks_json_array_parser_offset(c->parser);
    case F_EVENTSTREAM: return tks_eventstream_parser_offset(c->parser);
    default: return tks_sse_parser_offset(c->parser);
    }
}

static void free_parser(events_cmd *c) {
    switch (c->framing) {
    case F_NDJSON: tks_ndjson_parser_free(c->parser); break;
    case F_ARRAY: tks_json_array_parser_free(c->parser); break;
    case F_EVENTSTREAM: tks_eventstream_parser_free(c->parser); break;
    default: tks_sse_parser_free(c->parser); break;
    }
}

int cmd_events(int argc, char **argv) {
    events_cmd c = {F_SSE, NULL, stdout};
    size_t chunk = 0;
    int comments = 0, framing_set = 0, only_files = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int f = -1;
        if (!only_files && strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (!only_files && cli_is_help(a)) {
            printf("usage: tokstream events [--chunk N] [--ndjson|--json-array|--eventstream] "
                   "[--comments] [FILE|-]\nsee tokstream(1)\n");
            return CLI_OK;
        } else if (!only_files && (strcmp(a, "--chunk") == 0 || strncmp(a, "--chunk=", 8) == 0)) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) return cli_usage("events", "--chunk needs a number of bytes");
            if (cli_parse_size(v, &chunk) != 0)
                return cli_usage("events", "--chunk wants a positive number of bytes");
        } else if (!only_files && strcmp(a, "--comments") == 0) {
            comments = 1;
        } else if (!only_files && strcmp(a, "--ndjson") == 0) {
            f = F_NDJSON;
        } else if (!only_files && strcmp(a, "--json-array") == 0) {
            f = F_ARRAY;
        } else if (!only_files && strcmp(a, "--eventstream") == 0) {
            f = F_EVENTSTREAM;
        } else if (!only_files && a[0] == '-' && a[1] != '\0') {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown option '%.100s'", a);
            return cli_usage("events", msg);
        } else {
            if (path) return cli_usage("events", "only one input FILE may be given");
            path = a;
        }
        if (f >= 0) {
            if (framing_set)
                return cli_usage("events", "give at most one of --ndjson, --json-array, --eventstream");
            framing_set = 1;
            c.framing = f;
        }
    }

    FILE *in = cli_open(path);
    if (!in) return CLI_USAGE;
    int rc;
    switch (c.framing) {
    case F_NDJSON:
        rc = tks_ndjson_parser_new((tks_ndjson_parser **)&c.parser, NULL, on_event, &c);
        break;
    case F_ARRAY:
        rc = tks_json_array_parser_new((tks_json_array_parser **)&c.parser, NULL, on_event, &c);
        break;
    case F_EVENTSTREAM:
        rc = tks_eventstream_parser_new((tks_eventstream_parser **)&c.parser, NULL, on_event, &c);
        break;
    default: {
        tks_sse_config cfg = {0};
        cfg.on_retry = on_retry;
        if (comments) cfg.on_comment = on_comment;
        rc = tks_sse_parser_new((tks_sse_parser **)&c.parser, &cfg, on_event, &c);
        break;
    }
    }
    if (rc != TKS_OK) {
        fprintf(stderr, "tokstream events: %s\n", tks_strerror(rc));
        cli_close(in);
        return CLI_BAD_STREAM;
    }

    uint64_t total = 0;
    int status = CLI_OK;
    rc = cli_feed(in, chunk, push, &c, &total);
    if (rc == TKS_OK) rc = finish(&c);
    fflush(c.out);
    if (ferror(c.out)) {
        fprintf(stderr, "tokstream events: cannot write the output\n");
        status = CLI_BAD_STREAM;
    } else if (rc == TKS_EIO) {
        status = cli_stream_error("events", "cannot read the input", total);
    } else if (rc != TKS_OK) {
        status = cli_stream_error("events", error_text(&c), error_offset(&c));
    }
    free_parser(&c);
    cli_close(in);
    return status;
}
