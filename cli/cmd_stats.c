/* cmd_stats.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_stats(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("stats", "PLACEHOLDER: not built yet");
}
