/* cmd_record.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_record(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("record", "PLACEHOLDER: not built yet");
}
