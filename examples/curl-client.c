/* curl-client.c - stream a chat completion with libcurl and tokstream: the text is
 * printed as it arrives, the whole message is printed as JSON at the end, and the
 * stream is timed (time to first token, tokens per second).
 *
 * Build (needs libcurl: `pkg-config --exists libcurl`), from the top of the tree after
 * `make`:
 *   cc -std=c11 -Iinclude examples/curl-client.c build/libtokstream.a \
 *      $(pkg-config --cflags --libs libcurl libutf8proc libcjson) -lm -o build/curl-client
 * Run:
 *   OPENAI_API_KEY=... build/curl-client "Say hello in French"
 *   build/curl-client --url http://localhost:8080/v1/chat/completions "Hi"   (any
 *   OpenAI-compatible server: llama.cpp, vLLM, Ollama's /v1, ...)
 * or read a recorded stream without the network:
 *   build/curl-client --file examples/streams/openai-chat.sse
 *
 * The client detects the framing and the dialect by itself, so the same program reads an
 * Anthropic, Gemini or Ollama stream given the right URL and request body.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <tokstream.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints content as it streams; a non-zero return would stop the transfer. */
static int on_delta(void *user, const tks_delta *d) {
    (void)user;
    if (d->kind == TKS_DELTA_TEXT && d->choice == 0) {
        fwrite(d->text, 1, d->text_len, stdout);
        fflush(stdout);
    }
    return 0;
}

/* libcurl hands the body over as it arrives: feed it to the client. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user) {
    tks_client *c = user;
    size_t n = size * nmemb;
    int rc = tks_client_push(c, ptr, n);
    return rc == TKS_OK ? n : 0; /* 0 makes libcurl stop with CURLE_WRITE_ERROR */
}

static void print_message(const tks_client *c) {
    size_t need = 0, len = 0;
    const tks_assembler *m = tks_client_message(c);
    if (tks_assembler_json(m, NULL, 0, &need) != TKS_OK) return;
    char *json = malloc(need + 1);
    if (json && tks_assembler_json(m, json, need + 1, &len) == TKS_OK)
        fprintf(stderr, "\n\nmessage: %s\n", json);
    free(json);
}

static void print_timing(const tks_timer *t) {
    tks_timer_results r;
    if (tks_timer_results_get(t, &r) != TKS_OK) return;
    if (r.ttft >= 0) fprintf(stderr, "time to first token: %.1f ms\n", (double)r.ttft / 1e6);
    if (r.tokens_per_s_milli >= 0)
        fprintf(stderr, "tokens/s: %.1f (%lld tokens)\n", (double)r.tokens_per_s_milli / 1000.0,
                (long long)r.output_tokens);
}

int main(int argc, char **argv) {
    const char *url = "https://api.openai.com/v1/chat/completions", *file = NULL;
    const char *model = getenv("OPENAI_MODEL") ? getenv("OPENAI_MODEL") : "gpt-4o-mini";
    const char *prompt = "Say hello in French.";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) url = argv[++i];
        else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) file = argv[++i];
        else prompt = argv[i];
    }

    tks_timer *timer;
    if (tks_timer_new(&timer, NULL) != TKS_OK) return 1;
    tks_client_config cfg = {0};
    cfg.timer = timer;
    tks_client *client;
    if (tks_client_new(&client, &cfg, on_delta, NULL) != TKS_OK) return 1;
    tks_timer_mark_sent(timer, tks_timer_now(timer));

    int ok = 1;
    if (file) {
        FILE *f = fopen(file, "rb");
        char buf[4096];
        size_t n;
        if (!f) {
            perror(file);
            return 1;
        }
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            if (tks_client_push(client, buf, n) != TKS_OK) break;
        fclose(f);
    } else {
        /* the request: prompt escaped as a JSON string by hand (quotes and backslashes) */
        char body[8192], esc[4096];
        size_t o = 0;
        for (const char *p = prompt; *p && o + 2 < sizeof esc; p++) {
            if (*p == '"' || *p == '\\') esc[o++] = '\\';
            esc[o++] = *p;
        }
        esc[o] = 0;
        snprintf(body, sizeof body,
                 "{\"model\":\"%s\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", model, esc);
        char auth[1024];
        const char *key = getenv("OPENAI_API_KEY");
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        CURL *h = curl_easy_init();
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        hdr = curl_slist_append(hdr, "Accept: text/event-stream");
        if (key) hdr = curl_slist_append(hdr, auth);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, client);
        CURLcode res = curl_easy_perform(h);
        if (res != CURLE_OK && res != CURLE_WRITE_ERROR) {
            fprintf(stderr, "curl: %s\n", curl_easy_strerror(res));
            ok = 0;
        }
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        curl_global_cleanup();
    }

    int rc = tks_client_finish(client);
    if (rc != TKS_OK) {
        fprintf(stderr, "\nstream: %s (%s)\n", tks_strerror(rc), tks_client_error(client));
        ok = 0;
    }
    print_message(client);
    print_timing(timer);
    tks_client_free(client);
    tks_timer_free(timer);
    return ok ? 0 : 1;
}
