/* cmd_assemble.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_assemble(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("assemble", "PLACEHOLDER: not built yet");
}
