/* shim.c - see shim.h. */
#include "shim.h"
#include "_cgo_export.h"

static int on_delta(void *user, const tks_delta *d) {
    return tksgoDelta((uintptr_t)user, (tks_delta *)d);
}

static int on_text(void *user, const char *text, size_t len) {
    return tksgoText((uintptr_t)user, (char *)text, len);
}

static int on_event(void *user, const tks_event *e) {
    return tksgoEvent((uintptr_t)user, (tks_event *)e, TKSGO_EV_EVENT);
}

static int on_comment(void *user, const tks_event *e) {
    return tksgoEvent((uintptr_t)user, (tks_event *)e, TKSGO_EV_COMMENT);
}

static int on_retry(void *user, const tks_event *e) {
    return tksgoEvent((uintptr_t)user, (tks_event *)e, TKSGO_EV_RETRY);
}

int tksgo_client_new(tks_client **out, const tks_client_config *cfg, uintptr_t h) {
    return tks_client_new(out, cfg, on_delta, (void *)h);
}

int tksgo_detok_new(tks_detok **out, const tks_vocab *v, const tks_detok_config *cfg,
                    uintptr_t h) {
    return tks_detok_new(out, v, cfg, on_text, (void *)h);
}

int tksgo_parser_new(void **out, int kind, const tksgo_parser_opts *o, uintptr_t h) {
    void *user = (void *)h;
    switch (kind) {
    case TKSGO_SSE: {
        tks_sse_config c = {0};
        c.max_line = o->max_line;
        c.max_event = o->max_event;
        c.flags = o->flags;
        if (o->comments) c.on_comment = on_comment;
        if (o->retry) c.on_retry = on_retry;
        return tks_sse_parser_new((tks_sse_parser **)out, &c, on_event, user);
    }
    case TKSGO_NDJSON: {
        tks_ndjson_config c = {0};
        c.max_line = o->max_line;
        return tks_ndjson_parser_new((tks_ndjson_parser **)out, &c, on_event, user);
    }
    case TKSGO_JSON_ARRAY: {
        tks_json_array_config c = {0};
        c.max_element = o->max_event;
        c.max_depth = o->max_depth;
        return tks_json_array_parser_new((tks_json_array_parser **)out, &c, on_event, user);
    }
    case TKSGO_EVENTSTREAM: {
        tks_eventstream_config c = {0};
        c.max_frame = o->max_event;
        return tks_eventstream_parser_new((tks_eventstream_parser **)out, &c, on_event, user);
    }
    }
    return TKS_EINVAL;
}

int tksgo_parser_push(void *p, int kind, const void *data, size_t len) {
    switch (kind) {
    case TKSGO_SSE: return tks_sse_parser_push(p, data, len);
    case TKSGO_NDJSON: return tks_ndjson_parser_push(p, data, len);
    case TKSGO_JSON_ARRAY: return tks_json_array_parser_push(p, data, len);
    case TKSGO_EVENTSTREAM: return tks_eventstream_parser_push(p, data, len);
    }
    return TKS_EINVAL;
}

int tksgo_parser_finish(void *p, int kind) {
    switch (kind) {
    case TKSGO_SSE: return tks_sse_parser_finish(p);
    case TKSGO_NDJSON: return tks_ndjson_parser_finish(p);
    case TKSGO_JSON_ARRAY: return tks_json_array_parser_finish(p);
    case TKSGO_EVENTSTREAM: return tks_eventstream_parser_finish(p);
    }
    return TKS_EINVAL;
}

void tksgo_parser_reset(void *p, int kind) {
    switch (kind) {
    case TKSGO_SSE: tks_sse_parser_reset(p); break;
    case TKSGO_NDJSON: tks_ndjson_parser_reset(p); break;
    case TKSGO_JSON_ARRAY: tks_json_array_parser_reset(p); break;
    case TKSGO_EVENTSTREAM: tks_eventstream_parser_reset(p); break;
    }
}

void tksgo_parser_free(void *p, int kind) {
    switch (kind) {
    case TKSGO_SSE: tks_sse_parser_free(p); break;
    case TKSGO_NDJSON: tks_ndjson_parser_free(p); break;
    case TKSGO_JSON_ARRAY: tks_json_array_parser_free(p); break;
    case TKSGO_EVENTSTREAM: tks_eventstream_parser_free(p); break;
    }
}

const char *tksgo_parser_error(const void *p, int kind) {
    switch (kind) {
    case TKSGO_SSE: return tks_sse_parser_error(p);
    case TKSGO_NDJSON: return tks_ndjson_parser_error(p);
    case TKSGO_JSON_ARRAY: return tks_json_array_parser_error(p);
    case TKSGO_EVENTSTREAM: return tks_eventstream_parser_error(p);
    }
    return "";
}

uint64_t tksgo_parser_offset(const void *p, int kind) {
    switch (kind) {
    case TKSGO_SSE: return tks_sse_parser_offset(p);
    case TKSGO_NDJSON: return tks_ndjson_parser_offset(p);
    case TKSGO_JSON_ARRAY: return tks_json_array_parser_offset(p);
    case TKSGO_EVENTSTREAM: return tks_eventstream_parser_offset(p);
    }
    return 0;
}
