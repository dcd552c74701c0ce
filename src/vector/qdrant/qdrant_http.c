/* qdrant_http.c — the Qdrant backend's HTTP client: libcurl easy handles in a bounded pool (each keeps its
 * connection alive between requests), a timeout on every request, the api-key header, TLS verified by default
 * (vectors.ca_file adds a trust anchor), and the mapping of HTTP answers and transport failures to eg_status with
 * messages that never show the key or URL credentials. */
#include "vector/qdrant/qdrant_internal.h"

#include "util/byte_buffer.h"
#include "util/sanitize.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An answer larger than this is refused rather than buffered: 10,000 points of 65,536 dimensions, as JSON text,
 * fit. */
#define RESPONSE_MAX ((size_t)8 << 30)

struct qdrant_http {
    char url[QDRANT_URL_MAX + 1];
    char public_url[QDRANT_URL_MAX + 1];
    char *api_key;
    char *ca_file;
    long timeout_ms;
    struct curl_slist *headers;
    pthread_mutex_t lock;
    pthread_cond_t handle_freed;
    CURL **idle; /* handles not in use, each with its kept connection */
    size_t idle_count, created, max_handles;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

/* curl_global_init is not thread-safe and must run once per process, before any handle exists. */
static void init_curl(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

eg_status qdrant_http_new(const qdrant_http_config *config, qdrant_http **out, eg_error *err) {
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return eg_error_set(err, EG_INTERNAL, "libcurl failed to initialise: %s", curl_easy_strerror(curl_init_result));
    size_t len = strlen(config->url);
    while (len > 0 && config->url[len - 1] == '/') len--;
    if (len == 0 || len > QDRANT_URL_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "vectors.url must be an http or https URL of 1 to %d bytes",
                            QDRANT_URL_MAX);
    if (strncmp(config->url, "http://", 7) != 0 && strncmp(config->url, "https://", 8) != 0) {
        char shown[EG_ERROR_MESSAGE_MAX / 2];
        eg_sanitize_message(config->url, shown, sizeof shown);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "vectors.url '%.200s' must start with http:// or https://",
                            shown);
    }
    qdrant_http *h = calloc(1, sizeof *h);
    if (!h) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(h->url, config->url, len);
    eg_sanitize_message(h->url, h->public_url, sizeof h->public_url);
    h->timeout_ms = (long)config->timeout_ms;
    h->max_handles = config->max_handles ? config->max_handles : 1;
    h->api_key = strdup(config->api_key ? config->api_key : "");
    h->ca_file = strdup(config->ca_file ? config->ca_file : "");
    h->idle = calloc(h->max_handles, sizeof *h->idle);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->handle_freed, NULL);
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (h->headers && h->api_key && *h->api_key) {
        size_t n = strlen(h->api_key) + sizeof "api-key: ";
        char *line = malloc(n);
        struct curl_slist *with_key = NULL;
        if (line) snprintf(line, n, "api-key: %s", h->api_key);
        if (line) with_key = curl_slist_append(h->headers, line);
        if (line) memset(line, 0, n);
        free(line);
        if (!with_key) curl_slist_free_all(h->headers);
        h->headers = with_key;
    }
    if (!h->api_key || !h->ca_file || !h->idle || !h->headers) {
        qdrant_http_free(h);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    *out = h;
    return EG_OK;
}

void qdrant_http_free(qdrant_http *h) {
    if (!h) return;
    for (size_t i = 0; i < h->idle_count; i++) curl_easy_cleanup(h->idle[i]);
    curl_slist_free_all(h->headers);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->handle_freed);
    if (h->api_key) memset(h->api_key, 0, strlen(h->api_key)); /* the key does not outlive the store in memory */
    free(h->api_key);
    free(h->ca_file);
    free(h->idle);
    free(h);
}

const char *qdrant_http_public_url(const qdrant_http *h) { return h->public_url; }

/* A handle for one request: an idle one (its connection kept alive), a new one while fewer than max_handles
 * exist, else the next one given back. NULL when out of memory. */
static CURL *acquire(qdrant_http *h) {
    CURL *c = NULL;
    pthread_mutex_lock(&h->lock);
    while (h->idle_count == 0 && h->created >= h->max_handles) pthread_cond_wait(&h->handle_freed, &h->lock);
    if (h->idle_count > 0) c = h->idle[--h->idle_count];
    else if ((c = curl_easy_init())) h->created++;
    pthread_mutex_unlock(&h->lock);
    return c;
}

static void release(qdrant_http *h, CURL *c) {
    pthread_mutex_lock(&h->lock);
    h->idle[h->idle_count++] = c;
    pthread_cond_signal(&h->handle_freed);
    pthread_mutex_unlock(&h->lock);
}

/* libcurl's write callback: the answer's bytes into an eg_byte_buffer (0, which stops the transfer, past
 * RESPONSE_MAX or when out of memory). */
static size_t collect(char *chunk, size_t size, size_t n, void *ctx) {
    return eg_byte_buffer_append(ctx, chunk, size * n, RESPONSE_MAX) ? size * n : 0;
}

/* Replaces every occurrence of the key in text (in place) by '*': a server might echo what it was sent. */
static void hide_key(const qdrant_http *h, char *text) {
    size_t n = strlen(h->api_key);
    if (n == 0) return;
    for (char *at = strstr(text, h->api_key); at; at = strstr(at + n, h->api_key)) memset(at, '*', n);
}

/* Sets err from a message built here, sanitised (URL credentials, paths) and with the key hidden. */
static eg_status fail(const qdrant_http *h, eg_status code, eg_error *err, const char *text) {
    char clean[EG_ERROR_MESSAGE_MAX];
    eg_sanitize_message(text, clean, sizeof clean);
    hide_key(h, clean);
    return eg_error_set(err, code, "%s", clean);
}

static eg_status transport_error(const qdrant_http *h, CURLcode rc, const char *detail, eg_error *err) {
    char text[2 * EG_ERROR_MESSAGE_MAX];
    if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(text, sizeof text, "qdrant at %.300s: no answer within %ld ms (vectors.timeout_ms)", h->public_url,
                 h->timeout_ms);
    else
        snprintf(text, sizeof text, "qdrant at %.300s is unreachable: %s%s%s", h->public_url, curl_easy_strerror(rc),
                 *detail ? ": " : "", detail);
    return fail(h, EG_UNAVAILABLE, err, text);
}

static eg_status status_code(long status) {
    if (status == 404) return EG_NOT_FOUND;
    if (status == 409) return EG_CONFLICT;
    if (status >= 500 || status == 429 || status == 408) return EG_UNAVAILABLE;
    return EG_INVALID_ARGUMENT;
}

/* An answer other than 2xx: Qdrant's {"status": {"error": "..."}} text when there is one. */
static eg_status http_error(const qdrant_http *h, long status, json_t *answer, eg_error *err) {
    const char *said = json_string_value(json_object_get(json_object_get(answer, "status"), "error"));
    char text[2 * EG_ERROR_MESSAGE_MAX];
    if (status == 401 || status == 403)
        snprintf(text, sizeof text, "qdrant at %.300s refused the request (HTTP %ld): %s", h->public_url, status,
                 *h->api_key ? "the API key (vectors.api_key or ENGRAM_QDRANT_API_KEY) is wrong"
                             : "it needs an API key (vectors.api_key or ENGRAM_QDRANT_API_KEY)");
    else if (said)
        snprintf(text, sizeof text, "qdrant: %s", said);
    else
        snprintf(text, sizeof text, "qdrant at %.300s answered HTTP %ld", h->public_url, status);
    return fail(h, status == 401 || status == 403 ? EG_INVALID_ARGUMENT : status_code(status), err, text);
}

static void set_options(const qdrant_http *h, CURL *c, const char *method, const char *url, const char *body,
                        eg_byte_buffer *answer, char *detail) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* many threads: no SIGALRM for name resolution timeouts */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (*h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
}

eg_status qdrant_http_call(qdrant_http *h, const char *method, const char *path, json_t *body, json_t **result,
                           long *http_status, eg_error *err) {
    if (result) *result = NULL;
    if (http_status) *http_status = 0;
    char url[QDRANT_URL_MAX * 2 + 512];
    if ((size_t)snprintf(url, sizeof url, "%s%s", h->url, path) >= sizeof url)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "the request path is too long");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) return eg_error_set(err, EG_INTERNAL, "out of memory");
    CURL *c = acquire(h);
    if (!c) {
        free(text);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    eg_byte_buffer answer = {0};
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_reset(c); /* keeps the connection and caches: only the options go */
    set_options(h, c, method, url, text, &answer, detail);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    release(h, c);
    free(text);
    eg_status st;
    json_t *parsed = NULL;
    if (answer.too_large)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "qdrant's answer is larger than %zu bytes", RESPONSE_MAX);
    else if (rc != CURLE_OK)
        st = transport_error(h, rc, detail, err);
    else {
        json_error_t jerr;
        parsed = answer.data ? json_loadb(answer.data, answer.len, 0, &jerr) : NULL;
        if (http_status) *http_status = status;
        if (status < 200 || status > 299) st = http_error(h, status, parsed, err);
        else if (!json_is_object(parsed))
            st = fail(h, EG_UNAVAILABLE, err, "qdrant answered with a body that is not Qdrant's JSON envelope");
        else {
            if (result) *result = json_incref(json_object_get(parsed, "result"));
            st = EG_OK;
        }
    }
    json_decref(parsed);
    free(answer.data);
    return st;
}

eg_status qdrant_http_escape(const char *segment, char *out, size_t cap, eg_error *err) {
    char *escaped = curl_easy_escape(NULL, segment, 0);
    if (!escaped) return eg_error_set(err, EG_INTERNAL, "out of memory");
    int n = snprintf(out, cap, "%s", escaped);
    curl_free(escaped);
    if (n < 0 || (size_t)n >= cap) return eg_error_set(err, EG_INVALID_ARGUMENT, "the request path is too long");
    return EG_OK;
}
