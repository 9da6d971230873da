/* cmd_detok.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_detok(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("detok", "PLACEHOLDER: not built yet");
}
