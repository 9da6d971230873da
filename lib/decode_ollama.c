/* decode_ollama.c - being written: not supported yet. */
#include "decoder_internal.h"

int tks__dec_ollama(tks_decoder *d, const tks_event *ev) {
    (void)ev;
    return tks__err_at(&d->err, TKS_EUNSUPPORTED, d->offset, "dialect not implemented yet");
}
