/* error.c - status names and messages from the one table in tokstream.h, and the
 * sticky per-object error record. */
#include "internal.h"

#include <stdio.h>

const char *tks_strerror(int status) {
    switch (status) {
#define TKS_MSG_(name, num, msg) \
    case num:                    \
        return msg;
        TKS_STATUS_MAP(TKS_MSG_)
#undef TKS_MSG_
    default:
        return "unknown status";
    }
}

const char *tks_status_name(int status) {
    switch (status) {
#define TKS_NAME_(name, num, msg) \
    case num:                     \
        return #name;
        TKS_STATUS_MAP(TKS_NAME_)
#undef TKS_NAME_
    default:
        return "UNKNOWN";
    }
}

int tks__err_set(tks__err *e, int code, uint64_t offset, const char *msg) {
    if (e->code != TKS_OK) return e->code; /* the first error sticks */
    e->code = code;
    e->offset = offset;
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : tks_strerror(code));
    return code;
}

int tks__err_at(tks__err *e, int code, uint64_t offset, const char *msg) {
    if (e->code != TKS_OK) return e->code;
    e->code = code;
    e->offset = offset;
    snprintf(e->msg, sizeof e->msg, "%s at byte %llu", msg ? msg : tks_strerror(code),
             (unsigned long long)offset);
    return code;
}

void tks__err_clear(tks__err *e) {
    e->code = TKS_OK;
    e->offset = 0;
    e->msg[0] = '\0';
}

const char *tks__err_text(const tks__err *e) { return e->code == TKS_OK ? "" : e->msg; }
