/* cmd_encode.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_encode(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("encode", "PLACEHOLDER: not built yet");
}
