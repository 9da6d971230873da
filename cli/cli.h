/* cli.h - shared pieces of the tokstream command-line tool (built on the public API). */
#ifndef TKS_CLI_H
#define TKS_CLI_H

#include "tokstream.h"

#include <stdint.h>
#include <stdio.h>

/* Exit statuses (tokstream(1)). */
#define CLI_OK 0
#define CLI_BAD_STREAM 1 /* malformed or truncated input; stdout still holds all it gave */
#define CLI_USAGE 2

/* Each command: argv[0] is the command name. Returns the exit status. */
int cmd_events(int argc, char **argv);
int cmd_assemble(int argc, char **argv);
int cmd_text(int argc, char **argv);
int cmd_detok(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_encode(int argc, char **argv);

/* Opens FILE, or stdin for NULL or "-". NULL (and a message on stderr) on failure. */
FILE *cli_open(const char *path);
void cli_close(FILE *f);

/*
 * Feeds the whole input to push: `chunk` bytes per call when chunk > 0, otherwise each
 * piece as read(2) returns it (a live pipe streams). Stops at the first status other
 * than TKS_OK and returns it; TKS_EIO when reading fails. *total receives the number of
 * bytes read.
 */
typedef int (*cli_push_fn)(void *ctx, const void *data, size_t len);
int cli_feed(FILE *f, size_t chunk, cli_push_fn push, void *ctx, uint64_t *total);

/* Writes s as a JSON string literal (quotes included) to out; invalid UTF-8 becomes
 * U+FFFD so the line stays valid JSON. */
void cli_json_string(FILE *out, const char *s, size_t n);

/* Parses a positive decimal size for --chunk N and the like: 0 ok, -1 bad. */
int cli_parse_size(const char *s, size_t *out);

/* Prints "tokstream CMD: MSG" and a hint to stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *msg);

/* Reports a stream failure on stderr ("tokstream CMD: what at byte N") and returns
 * CLI_BAD_STREAM. */
int cli_stream_error(const char *cmd, const char *what, uint64_t offset);
/* When the message carries a provider's in-band error: says so on stderr and returns
 * CLI_BAD_STREAM; else CLI_OK. */
int cli_provider_error(const char *cmd, const tks_assembler *m);

/* True when arg is "--help" or "-h". */
int cli_is_help(const char *arg);

#endif
