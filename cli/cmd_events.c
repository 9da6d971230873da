/* cmd_events.c - PLACEHOLDER until its issue's work lands: must not survive a release. */
#include "cli.h"

int cmd_events(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_usage("events", "PLACEHOLDER: not built yet");
}
