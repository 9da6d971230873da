/* cmd_assemble.c - `tokstream assemble [--chunk N] [--dialect D] [FILE|-]`: reads a
 * stream in any framing (detected), decodes and assembles it, and prints the message as
 * one JSON object (the contract in tokstream(1)). A malformed or truncated stream still
 * prints everything received (with "complete":false) and exits 1 with the byte position
 * on stderr. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int push(void *ctx, const void *data, size_t len) { return tks_client_push(ctx, data, len); }

int cmd_assemble(int argc, char **argv) {
    size_t chunk = 0;
    const char *path = NULL;
    tks_client_config cfg = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            if (cli_parse_size(argv[++i], &chunk)) return cli_usage("assemble", "bad --chunk");
        } else if (strcmp(argv[i], "--dialect") == 0 && i + 1 < argc) {
            i++;
            cfg.dialect = tks_dialect_from_name(argv[i], strlen(argv[i]));
            if (cfg.dialect < 0) return cli_usage("assemble", "unknown --dialect");
        } else if (strcmp(argv[i], "--chunk") == 0 || strcmp(argv[i], "--dialect") == 0) {
            return cli_usage("assemble", strcmp(argv[i], "--chunk") == 0 ? "--chunk needs a number of bytes"
                                                                    : "--dialect needs a name");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage("assemble", "unknown option");
        } else if (path) {
            return cli_usage("assemble", "more than one input");
        } else {
            path = argv[i];
        }
    }
    FILE *f = cli_open(path);
    if (!f) return CLI_USAGE; /* an input that cannot be opened, as in every command */
    tks_client *c;
    int rc = tks_client_new(&c, &cfg, NULL, NULL);
    if (rc) {
        cli_close(f);
        fprintf(stderr, "tokstream assemble: %s\n", tks_strerror(rc));
        return CLI_BAD_STREAM;
    }
    uint64_t total = 0;
    rc = cli_feed(f, chunk, push, c, &total);
    cli_close(f);
    int read_failed = rc == TKS_EIO;
    if (rc == TKS_OK || read_failed) {
        int frc = tks_client_finish(c);
        if (!read_failed) rc = frc;
    }
    const tks_assembler *m = tks_client_message(c);
    size_t need = 0, len = 0;
    int jrc = tks_assembler_json(m, NULL, 0, &need);
    char *json = jrc == TKS_OK ? malloc(need + 1) : NULL;
    if (json && tks_assembler_json(m, json, need + 1, &len) == TKS_OK) {
        fwrite(json, 1, len, stdout);
        putchar('\n');
        fflush(stdout);
    } else {
        fprintf(stderr, "tokstream assemble: cannot export the message: %s\n",
                tks_strerror(jrc ? jrc : TKS_ENOMEM));
        rc = rc ? rc : TKS_ENOMEM;
    }
    free(json);
    int status = CLI_OK;
    if (read_failed) {
        status = cli_stream_error("assemble", "read error", total);
    } else if ((status = cli_provider_error("assemble", m)) != CLI_OK) {
        /* the provider's error says more than the missing terminal marker after it */
    } else if (rc != TKS_OK) {
        const char *why = tks_client_error(c);
        status = cli_stream_error("assemble", *why ? why : tks_strerror(rc), tks_client_offset(c));
    }
    tks_client_free(c);
    return status;
}
