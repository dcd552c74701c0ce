/* remote.c — the `engram` command's client mode (--url): each exec request goes to POST /v1/exec of a running
 * `engram serve` instead of into a folder this process opens, and the answer comes back in the same words, so that
 * every command prints what it prints locally. One libcurl handle is kept for the whole run, so that the lines of
 * `exec` share one connection. */
#include "cli.h"
#include "util/byte_buffer.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_BYTES_MAX (512u * 1024u * 1024u) /* an answer larger than this is refused, not buffered */
#define CONNECT_TIMEOUT_MS 10000L

struct cli_remote {
    CURL *curl;
    struct curl_slist *headers;
    char *url;      /* as given, for messages */
    char *exec_url; /* url + "/v1/exec" */
    char curl_error[CURL_ERROR_SIZE];
};

/* libcurl's write callback: the answer's bytes into an eg_byte_buffer (0, which stops the transfer, past
 * RESPONSE_BYTES_MAX or when out of memory). */
static size_t collect(char *data, size_t size, size_t count, void *ctx) {
    return eg_byte_buffer_append(ctx, data, size * count, RESPONSE_BYTES_MAX) ? size * count : 0;
}

int cli_remote_open(const char *url, const char *api_key, cli_remote **out) {
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        fprintf(stderr, "engram: --url takes http://HOST:PORT or https://HOST:PORT, got '%s'\nTry 'engram --help'.\n",
                url);
        return EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "engram: cannot initialise libcurl\n");
        return EXIT_FAILED;
    }
    cli_remote *r = calloc(1, sizeof *r);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/') len--; /* "http://h:p/" and "http://h:p" name the same server */
    bool ok = r && (r->url = strdup(url)) && (r->exec_url = malloc(len + sizeof "/v1/exec")) &&
              (r->curl = curl_easy_init());
    if (ok) {
        memcpy(r->exec_url, url, len);
        memcpy(r->exec_url + len, "/v1/exec", sizeof "/v1/exec");
        r->headers = curl_slist_append(NULL, "Content-Type: application/json");
        ok = r->headers != NULL;
    }
    if (ok && api_key && *api_key) {
        size_t header_len = strlen(api_key) + sizeof "api-key: ";
        char *header = malloc(header_len);
        if (header) snprintf(header, header_len, "api-key: %s", api_key);
        struct curl_slist *more = header ? curl_slist_append(r->headers, header) : NULL;
        free(header);
        if (more) r->headers = more;
        ok = more != NULL;
    }
    if (!ok) {
        fprintf(stderr, "engram: out of memory\n");
        cli_remote_close(r);
        return EXIT_FAILED;
    }
    curl_easy_setopt(r->curl, CURLOPT_URL, r->exec_url);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->curl_error);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    *out = r;
    return EXIT_OK;
}

void cli_remote_close(cli_remote *r) {
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    free(r->url);
    free(r->exec_url);
    free(r);
    curl_global_cleanup();
}

/* POSTs body; returns the answer's parsed JSON when it is exec's (an object with "ok", or an array of them), else
 * NULL with the reason on stderr: the server could not be reached, or it answered something else (a 401 for a
 * missing or wrong key, a 413 for a body over its limit, a proxy's page...). */
static json_t *post(cli_remote *r, const char *body, size_t len) {
    eg_byte_buffer a = {0};
    r->curl_error[0] = '\0';
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(r->curl);
    long status = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    json_t *parsed = NULL;
    if (rc != CURLE_OK) {
        if (a.too_large)
            fprintf(stderr, "engram: the answer of %s is larger than %u MiB\n", r->url, RESPONSE_BYTES_MAX >> 20);
        else
            fprintf(stderr, "engram: cannot reach engram serve at %s: %s\n", r->url,
                    r->curl_error[0] ? r->curl_error : curl_easy_strerror(rc));
    } else if (!(parsed = a.data ? json_loadb(a.data, a.len, 0, NULL) : NULL) ||
               !(json_is_array(parsed) || json_object_get(parsed, "ok"))) {
        /* Qdrant's envelope, which the router answers before reaching a route, carries the reason here. */
        const char *reason = json_string_value(json_object_get(json_object_get(parsed, "status"), "error"));
        fprintf(stderr, "engram: %s answered HTTP %ld%s%s\n", r->url, status, reason ? ": " : "",
                reason ? reason : "");
        json_decref(parsed);
        parsed = NULL;
    }
    free(a.data);
    return parsed;
}

json_t *cli_remote_exec(cli_remote *r, json_t *request) {
    char *body = eg_json_text(request, JSON_COMPACT);
    if (!body) {
        fprintf(stderr, "engram: out of memory\n");
        return NULL;
    }
    json_t *response = post(r, body, strlen(body));
    free(body);
    if (response && !json_is_object(response)) {
        fprintf(stderr, "engram: %s answered an array to one operation\n", r->url);
        json_decref(response);
        return NULL;
    }
    return response;
}

char *cli_remote_exec_line(cli_remote *r, const char *line, size_t len) {
    /* The server runs an array as a batch, where `engram exec` refuses any line that is not one object; so a line
     * that is an array goes as a batch of one, and its one answer is exec's refusal. Any other line goes as it is:
     * an object is one operation, and a line that does not parse (read with exec's own flags) is refused by the
     * server in exec's words. */
    json_t *parsed = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *response;
    if (json_is_array(parsed)) {
        json_t *batch = json_pack("[O]", parsed);
        char *body = batch ? eg_json_text(batch, JSON_COMPACT) : NULL;
        json_decref(batch);
        json_t *answers = body ? post(r, body, strlen(body)) : NULL;
        free(body);
        response = json_incref(json_array_get(answers, 0));
        json_decref(answers);
    } else {
        response = post(r, line, len);
    }
    json_decref(parsed);
    char *text = response ? eg_json_text(response, JSON_COMPACT) : NULL;
    json_decref(response);
    return text;
}
