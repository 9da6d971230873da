/* main.c - `tokstream COMMAND ...`: dispatch, --version, --help. */
#include "cli.h"

#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
    int own_help; /* the command prints a fuller --help itself */
} commands[] = {
    {"events", cmd_events, "[--chunk N] [--ndjson|--json-array|--eventstream] [--comments] [FILE|-]", 1},
    {"assemble", cmd_assemble, "[--chunk N] [--dialect D] [FILE|-]"},
    {"text", cmd_text, "[--chunk N] [--dialect D] [--json] [FILE|-]"},
    {"detok", cmd_detok, "--vocab FILE [--skip-special] [--grapheme] [--stop S]... [--chunk N] [--json] [IDS|-]"},
    {"record", cmd_record, "[--out FILE]"},
    {"stats", cmd_stats, "[--dialect D] [--json|--prometheus] [--capture FILE]... [FILE|-]"},
    {"encode", cmd_encode,
     "--dialect openai-chat|anthropic [--model M] [--id ID] [--created N] [--no-usage] [FILE|-]", 1},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
    fprintf(out, "usage:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  tokstream %-8s %s\n", commands[i].name, commands[i].synopsis);
    fprintf(out, "  tokstream --version | --help | COMMAND --help\n"
                 "exit status: 0 success, 1 malformed or truncated stream (or a provider's error),\n"
                 "2 usage or a file that cannot be opened\n"
                 "see tokstream(1)\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tokstream %s\n", tks_version());
        return CLI_OK;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (argc > 2 && cli_is_help(argv[2]) && !commands[i].own_help) {
                printf("usage: tokstream %s %s\nsee tokstream(1)\n", commands[i].name,
                       commands[i].synopsis);
                return CLI_OK;
            }
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "tokstream: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
