/* cmd_text.c - `tokstream text [--chunk N] [--dialect D] [--json] [FILE|-]`: writes the
 * content of a stream (choice 0) to stdout as each delta arrives, flushed per delta; with
 * --json every delta instead, one JSON object per line with its kind. Exit 1 (with the
 * byte position on stderr) for a malformed or truncated stream. */
#include "cli.h"

#include <string.h>

static const char *kind_name(int kind) {
    static const char *const names[] = {NULL,      "start",     "role",      "text",
                                        "reasoning", "signature", "refusal", "tool_call",
                                        "tool_args", "logprobs",  "finish",  "usage",
                                        "error",     "done"};
    return kind > 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "unknown";
}

static const char *finish_name(int f) {
    static const char *const names[] = {"none", "stop", "length", "tool_calls",
                                        "content_filter", "error", "other"};
    return f >= 0 && f < (int)(sizeof names / sizeof names[0]) ? names[f] : "other";
}

static int on_text(void *user, const tks_delta *d) {
    (void)user;
    if (d->kind == TKS_DELTA_TEXT && d->choice == 0 && d->text_len) {
        fwrite(d->text, 1, d->text_len, stdout);
        fflush(stdout);
    }
    return 0;
}

static void count(const char *key, int64_t v) {
    if (v >= 0) printf(",\"%s\":%lld", key, (long long)v);
}

static int on_json(void *user, const tks_delta *d) {
    (void)user;
    printf("{\"kind\":\"%s\",\"choice\":%ld", kind_name(d->kind), (long)d->choice);
    if (d->kind == TKS_DELTA_TOOL_CALL || d->kind == TKS_DELTA_TOOL_ARGS)
        printf(",\"index\":%ld", (long)d->index);
    if (d->kind == TKS_DELTA_TOOL_ARGS && (d->flags & TKS_DELTA_WHOLE)) printf(",\"whole\":true");
    if (d->kind == TKS_DELTA_FINISH) printf(",\"finish\":\"%s\"", finish_name(d->finish));
    if (d->text) {
        fputs(",\"text\":", stdout);
        cli_json_string(stdout, d->text, d->text_len);
    }
    if (d->id) {
        fputs(",\"id\":", stdout);
        cli_json_string(stdout, d->id, d->id_len);
    }
    if (d->name) {
        fputs(",\"name\":", stdout);
        cli_json_string(stdout, d->name, d->name_len);
    }
    if (d->json) { /* verbatim provider JSON, given as a string so the line stays valid */
        fputs(",\"json\":", stdout);
        cli_json_string(stdout, d->json, d->json_len);
    }
    if (d->kind == TKS_DELTA_USAGE) {
        count("input_tokens", d->input_tokens);
        count("output_tokens", d->output_tokens);
        count("total_tokens", d->total_tokens);
        count("reasoning_tokens", d->reasoning_tokens);
        count("cached_tokens", d->cached_tokens);
    }
    printf(",\"offset\":%llu}\n", (unsigned long long)d->offset);
    fflush(stdout);
    return 0;
}

static int push(void *ctx, const void *data, size_t len) { return tks_client_push(ctx, data, len); }

int cmd_text(int argc, char **argv) {
    size_t chunk = 0;
    int json = 0;
    const char *path = NULL;
    tks_client_config cfg = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            if (cli_parse_size(argv[++i], &chunk)) return cli_usage("text", "bad --chunk");
        } else if (strcmp(argv[i], "--dialect") == 0 && i + 1 < argc) {
            i++;
            cfg.dialect = tks_dialect_from_name(argv[i], strlen(argv[i]));
            if (cfg.dialect < 0) return cli_usage("text", "unknown --dialect");
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--chunk") == 0 || strcmp(argv[i], "--dialect") == 0) {
            return cli_usage("text", strcmp(argv[i], "--chunk") == 0 ? "--chunk needs a number of bytes"
                                                                    : "--dialect needs a name");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage("text", "unknown option");
        } else if (path) {
            return cli_usage("text", "more than one input");
        } else {
            path = argv[i];
        }
    }
    FILE *f = cli_open(path);
    if (!f) return CLI_USAGE; /* an input that cannot be opened, as in every command */
    tks_client *c;
    int rc = tks_client_new(&c, &cfg, json ? on_json : on_text, NULL);
    if (rc) {
        cli_close(f);
        fprintf(stderr, "tokstream text: %s\n", tks_strerror(rc));
        return CLI_BAD_STREAM;
    }
    uint64_t total = 0;
    rc = cli_feed(f, chunk, push, c, &total);
    cli_close(f);
    int status = CLI_OK;
    if (rc == TKS_EIO) {
        tks_client_finish(c);
        status = cli_stream_error("text", "read error", total);
    } else {
        if (rc == TKS_OK) rc = tks_client_finish(c);
        status = cli_provider_error("text", tks_client_message(c));
        if (rc != TKS_OK && status == CLI_OK) {
            const char *why = tks_client_error(c);
            status = cli_stream_error("text", *why ? why : tks_strerror(rc), tks_client_offset(c));
        }
    }
    fflush(stdout);
    tks_client_free(c);
    return status;
}
