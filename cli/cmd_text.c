/* cmd_text.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_text(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("text", "PLACEHOLDER: not built yet");
}
