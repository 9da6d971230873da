/* cmd_encode.c - `tokstream encode`: JSON-lines deltas in, an SSE stream in the
 * openai-chat or anthropic dialect out (tks_encoder + tks_sse_writer). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char encode_help[] =
    "usage: tokstream encode --dialect openai-chat|anthropic [--model M] [--id ID]\n"
    "                        [--created N] [--no-usage] [FILE|-]\n"
    "\n"
    "Reads deltas as JSON lines (one object per line; blank lines are skipped) and writes\n"
    "the SSE stream a server in that dialect would send. Each line has exactly one of\n"
    "these keys, and may add \"choice\":N (openai-chat, n > 1; default 0):\n"
    "  {\"start\":{\"id\":S,\"model\":S}}      message id and model (when --id/--model are absent)\n"
    "  {\"role\":S}                          the role (\"assistant\")\n"
    "  {\"text\":S}                          a piece of the content\n"
    "  {\"reasoning\":S}                     a piece of the reasoning / thinking\n"
    "  {\"signature\":S}                     a reasoning signature (anthropic only)\n"
    "  {\"refusal\":S}                       a piece of a refusal\n"
    "  {\"tool_call\":{\"index\":N,\"id\":S,\"name\":S}}   a tool call begins\n"
    "  {\"tool_args\":{\"index\":N,\"text\":S}}          a fragment of its JSON arguments\n"
    "  {\"logprobs\":V}                      any JSON value, copied (openai-chat only)\n"
    "  {\"finish\":R[,\"raw\":S]}             R: stop, length, tool_calls, content_filter,\n"
    "                                      error, or another word kept as it is\n"
    "  {\"usage\":{\"input_tokens\":N,\"output_tokens\":N,\"total_tokens\":N,\n"
    "            \"reasoning_tokens\":N,\"cached_tokens\":N}}   each optional; totals\n"
    "  {\"error\":{\"message\":S,\"type\":S,\"code\":S|N}}   an in-band error (anthropic: ends\n"
    "                                      the stream; openai-chat: a chunk, the stream goes on)\n"
    "  {\"done\":true}                       end the stream now (end of input does too)\n"
    "Strings cannot carry U+0000 (it ends the string). The id defaults to a fresh one,\n"
    "--created to the current time.\n"
    "Exit status: 0 success; 1 a malformed line or a delta the dialect refuses (stderr\n"
    "names the line; stdout holds the events written before it); 2 usage or an input\n"
    "file that cannot be opened.\n";

typedef struct enc_cli {
    int write_failed;
} enc_cli;

static int write_out(void *user, const char *bytes, size_t len) {
    enc_cli *c = user;
    if (fwrite(bytes, 1, len, stdout) != len) {
        c->write_failed = 1;
        return 1;
    }
    return 0;
}

/* A JSON number that is an integer in [0, max]. */
static int get_uint(const cJSON *v, double max, int64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= max) || floor(d) != d) return -1;
    *out = (int64_t)d;
    return 0;
}

static int get_str(const cJSON *v, const char **s, size_t *n) {
    if (!cJSON_IsString(v) || !v->valuestring) return -1;
    *s = v->valuestring;
    *n = strlen(*s);
    return 0;
}

/* Only the named keys may appear in obj (a typo is an error, not a silent drop). */
static const char *unknown_key(const cJSON *obj, const char *const *keys) {
    for (const cJSON *m = obj->child; m; m = m->next) {
        int known = 0;
        for (const char *const *k = keys; *k; k++) known |= strcmp(m->string, *k) == 0;
        if (!known) return m->string;
    }
    return NULL;
}

static const char *finish_words[] = {"stop", "length", "tool_calls", "content_filter", "error"};
static const int finish_codes[] = {TKS_FINISH_STOP, TKS_FINISH_LENGTH, TKS_FINISH_TOOL_CALLS,
                                   TKS_FINISH_CONTENT_FILTER, TKS_FINISH_ERROR};

/* Turns one parsed line into a delta (strings point into the cJSON tree). NULL on success,
 * else what is wrong. *json_out receives a string to free (logprobs) or NULL. */
static const char *line_to_delta(const cJSON *o, tks_delta *d, char **json_out) {
    static const char *const kinds[] = {"start", "role", "text", "reasoning", "signature",
                                        "refusal", "tool_call", "tool_args", "logprobs",
                                        "finish", "usage", "error", "done", NULL};
    *json_out = NULL;
    memset(d, 0, sizeof *d);
    d->input_tokens = d->output_tokens = d->total_tokens = d->reasoning_tokens =
        d->cached_tokens = -1;
    if (!cJSON_IsObject(o)) return "not a JSON object";
    const cJSON *kv = NULL;
    int which = -1;
    for (const cJSON *m = o->child; m; m = m->next) {
        if (strcmp(m->string, "choice") == 0 || strcmp(m->string, "raw") == 0) continue;
        int k;
        for (k = 0; kinds[k] && strcmp(kinds[k], m->string) != 0; k++) {}
        if (!kinds[k]) {
            static char msg[200];
            snprintf(msg, sizeof msg, "unknown key \"%.64s\" (see tokstream encode --help)",
                     m->string);
            return msg;
        }
        if (kv) return "more than one delta key on the line";
        kv = m;
        which = k;
    }
    if (!kv) return "no delta key (text, finish, ...)";
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "choice");
    if (ch) {
        int64_t v;
        if (get_uint(ch, INT32_MAX, &v)) return "\"choice\" must be an integer >= 0";
        d->choice = (int32_t)v;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "raw") && strcmp(kinds[which], "finish") != 0)
        return "\"raw\" goes with \"finish\" only";
    const char *name = kinds[which];
    if (!strcmp(name, "start")) {
        static const char *const keys[] = {"id", "model", NULL};
        d->kind = TKS_DELTA_START;
        if (!cJSON_IsObject(kv) || unknown_key(kv, keys)) return "\"start\" must be {\"id\":S,\"model\":S}";
        const cJSON *v;
        if ((v = cJSON_GetObjectItemCaseSensitive(kv, "id")) && get_str(v, &d->id, &d->id_len))
            return "start.id must be a string";
        if ((v = cJSON_GetObjectItemCaseSensitive(kv, "model")) &&
            get_str(v, &d->name, &d->name_len))
            return "start.model must be a string";
    } else if (!strcmp(name, "role") || !strcmp(name, "text") || !strcmp(name, "reasoning") ||
               !strcmp(name, "signature") || !strcmp(name, "refusal")) {
        d->kind = !strcmp(name, "role")        ? TKS_DELTA_ROLE
                  : !strcmp(name, "text")      ? TKS_DELTA_TEXT
                  : !strcmp(name, "reasoning") ? TKS_DELTA_REASONING
                  : !strcmp(name, "signature") ? TKS_DELTA_SIGNATURE
                                               : TKS_DELTA_REFUSAL;
        if (get_str(kv, &d->text, &d->text_len)) return "the value must be a string";
    } else if (!strcmp(name, "tool_call") || !strcmp(name, "tool_args")) {
        static const char *const call_keys[] = {"index", "id", "name", NULL};
        static const char *const args_keys[] = {"index", "text", NULL};
        int call = !strcmp(name, "tool_call");
        d->kind = call ? TKS_DELTA_TOOL_CALL : TKS_DELTA_TOOL_ARGS;
        if (!cJSON_IsObject(kv) || unknown_key(kv, call ? call_keys : args_keys))
            return call ? "\"tool_call\" must be {\"index\":N,\"id\":S,\"name\":S}"
                        : "\"tool_args\" must be {\"index\":N,\"text\":S}";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "index");
        int64_t idx = 0;
        if (v && get_uint(v, INT32_MAX, &idx)) return "index must be an integer >= 0";
        d->index = (int32_t)idx;
        if (call) {
            if ((v = cJSON_GetObjectItemCaseSensitive(kv, "id")) && get_str(v, &d->id, &d->id_len))
                return "tool_call.id must be a string";
            if ((v = cJSON_GetObjectItemCaseSensitive(kv, "name")) &&
                get_str(v, &d->name, &d->name_len))
                return "tool_call.name must be a string";
        } else if ((v = cJSON_GetObjectItemCaseSensitive(kv, "text")) &&
                   get_str(v, &d->text, &d->text_len)) {
            return "tool_args.text must be a string";
        }
    } else if (!strcmp(name, "logprobs")) {
        d->kind = TKS_DELTA_LOGPROBS;
        *json_out = cJSON_PrintUnformatted(kv);
        if (!*json_out) return "out of memory";
        d->json = *json_out;
        d->json_len = strlen(*json_out);
    } else if (!strcmp(name, "finish")) {
        const char *s;
        size_t n;
        d->kind = TKS_DELTA_FINISH;
        if (get_str(kv, &s, &n)) return "\"finish\" must be a string";
        d->finish = TKS_FINISH_OTHER;
        d->text = s; /* a word of our own is the provider's reason */
        d->text_len = n;
        for (size_t i = 0; i < sizeof finish_words / sizeof finish_words[0]; i++)
            if (!strcmp(s, finish_words[i])) {
                d->finish = finish_codes[i];
                d->text = NULL;
                d->text_len = 0;
            }
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(o, "raw");
        if (raw && get_str(raw, &d->text, &d->text_len)) return "\"raw\" must be a string";
    } else if (!strcmp(name, "usage")) {
        static const char *const keys[] = {"input_tokens", "output_tokens", "total_tokens",
                                           "reasoning_tokens", "cached_tokens", NULL};
        int64_t *dst[] = {&d->input_tokens, &d->output_tokens, &d->total_tokens,
                          &d->reasoning_tokens, &d->cached_tokens};
        d->kind = TKS_DELTA_USAGE;
        if (!cJSON_IsObject(kv) || unknown_key(kv, keys))
            return "\"usage\" must be an object of input_tokens, output_tokens, total_tokens, "
                   "reasoning_tokens, cached_tokens";
        for (int i = 0; keys[i]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, keys[i]);
            if (v && get_uint(v, 9007199254740991.0, dst[i]))
                return "token counts must be integers >= 0";
        }
    } else if (!strcmp(name, "error")) {
        static const char *const keys[] = {"message", "type", "code", NULL};
        d->kind = TKS_DELTA_ERROR;
        if (!cJSON_IsObject(kv) || unknown_key(kv, keys))
            return "\"error\" must be {\"message\":S,\"type\":S,\"code\":S|N}";
        const cJSON *v;
        if ((v = cJSON_GetObjectItemCaseSensitive(kv, "message")) &&
            get_str(v, &d->text, &d->text_len))
            return "error.message must be a string";
        if ((v = cJSON_GetObjectItemCaseSensitive(kv, "type")) && get_str(v, &d->name, &d->name_len))
            return "error.type must be a string";
        if ((v = cJSON_GetObjectItemCaseSensitive(kv, "code"))) {
            if (cJSON_IsNumber(v)) {
                *json_out = cJSON_PrintUnformatted(v); /* the code as written */
                if (!*json_out) return "out of memory";
                d->id = *json_out;
                d->id_len = strlen(*json_out);
            } else if (get_str(v, &d->id, &d->id_len)) {
                return "error.code must be a string or a number";
            }
        }
    } else { /* done */
        d->kind = TKS_DELTA_DONE;
        if (!cJSON_IsTrue(kv)) return "\"done\" must be true";
    }
    return NULL;
}

int cmd_encode(int argc, char **argv) {
    const char *dialect_name = NULL, *model = NULL, *id = NULL, *path = NULL;
    int64_t created = -1;
    uint32_t flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(encode_help, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--dialect") || !strcmp(a, "--model") || !strcmp(a, "--id") ||
                   !strcmp(a, "--created")) {
            if (i + 1 >= argc) return cli_usage("encode", "an option needs a value");
            const char *v = argv[++i];
            if (!strcmp(a, "--dialect")) dialect_name = v;
            else if (!strcmp(a, "--model")) model = v;
            else if (!strcmp(a, "--id")) id = v;
            else {
                char *end;
                errno = 0;
                long long n = strtoll(v, &end, 10);
                if (!*v || *end || errno || n < 0) return cli_usage("encode", "--created needs unix seconds");
                created = n;
            }
        } else if (!strcmp(a, "--no-usage")) {
            flags |= TKS_ENCODER_OMIT_USAGE;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage("encode", "unknown option");
        } else if (path) {
            return cli_usage("encode", "more than one input file");
        } else {
            path = a;
        }
    }
    if (!dialect_name) return cli_usage("encode", "--dialect openai-chat|anthropic is required");
    int dialect = tks_dialect_from_name(dialect_name, strlen(dialect_name));
    if (dialect != TKS_DIALECT_OPENAI_CHAT && dialect != TKS_DIALECT_ANTHROPIC)
        return cli_usage("encode", "--dialect must be openai-chat or anthropic");

    FILE *in = cli_open(path);
    if (!in) return CLI_USAGE; /* an input that cannot be opened, as in every command */

    /* A fresh id for each run unless --id: the library makes it from this seed. */
    char seed[64];
    snprintf(seed, sizeof seed, "%lld-%ld-%lld", (long long)time(NULL), (long)getpid(),
             (long long)tks_now_ns());
    tks_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dialect = dialect;
    cfg.model = model;
    cfg.id = id;
    cfg.id_seed = seed;
    cfg.created = created >= 0 ? created : (int64_t)time(NULL);
    cfg.flags = flags;
    enc_cli ctx = {0};
    tks_encoder *enc;
    int rc = tks_encoder_new(&enc, &cfg, write_out, &ctx);
    if (rc) {
        cli_close(in);
        fprintf(stderr, "tokstream encode: %s\n", tks_strerror(rc));
        return CLI_BAD_STREAM;
    }

    int status = CLI_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned long lineno = 0;
    uint64_t offset = 0;
    while ((got = getline(&line, &cap, in)) >= 0) {
        lineno++;
        uint64_t line_start = offset;
        offset += (uint64_t)got;
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == n) continue;
        cJSON *o = cJSON_ParseWithLength(line, n);
        tks_delta d;
        char *extra = NULL;
        const char *why = o ? line_to_delta(o, &d, &extra) : "not valid JSON";
        if (!why) {
            rc = tks_encoder_push(enc, &d);
            if (rc != TKS_OK) why = rc == TKS_STOPPED ? "cannot write the output" : tks_encoder_error(enc);
        }
        if (why)
            fprintf(stderr, "tokstream encode: line %lu (input byte %llu): %s\n", lineno,
                    (unsigned long long)line_start, why);
        cJSON_free(extra);
        cJSON_Delete(o);
        if (why) {
            status = CLI_BAD_STREAM;
            break;
        }
        if (fflush(stdout) != 0) ctx.write_failed = 1; /* a live pipe sees each delta */
    }
    if (status == CLI_OK && ferror(in)) {
        fprintf(stderr, "tokstream encode: read error: %s\n", strerror(errno));
        status = CLI_BAD_STREAM;
    }
    if (status == CLI_OK) {
        rc = tks_encoder_finish(enc);
        if (rc != TKS_OK) {
            fprintf(stderr, "tokstream encode: %s\n",
                    rc == TKS_STOPPED ? "cannot write the output" : tks_encoder_error(enc));
            status = CLI_BAD_STREAM;
        }
    }
    if (fflush(stdout) != 0 || ctx.write_failed) {
        if (status == CLI_OK) fprintf(stderr, "tokstream encode: cannot write the output\n");
        status = CLI_BAD_STREAM;
    }
    free(line);
    tks_encoder_free(enc);
    cli_close(in);
    return status;
}
