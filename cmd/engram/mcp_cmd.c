/* mcp_cmd.c — `engram mcp`: engram as an MCP server over stdio (docs/mcp.md), for the clients that launch their
 * servers. Newline-delimited JSON-RPC in on stdin, one answer per line out on stdout; stderr only for what goes
 * wrong. The tools run on the data folder, or with --url on a running `engram serve` (POST /v1/exec).
 *
 * The reader answers at once what needs no store (initialize, ping, tools/list, notifications — a cancellation
 * among them) and hands tool calls to a few workers, so that a slow call delays neither a ping nor the
 * cancellation of itself. A cancelled call still waiting in the queue is dropped, never run; one a worker has
 * taken runs on, and its answer is dropped. Each answer is written whole under one lock. The end of the input finishes the calls in
 * flight and exits 0; SIGINT or SIGTERM drops the calls not begun, finishes those begun, and exits 0 too. */
#include "cli.h"
#include "mcp/mcp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 4         /* tool calls run at once */
#define QUEUED_MAX 1024   /* tool calls read and not yet begun; the reader waits past it */
#define PARSE_ERROR (-32700) /* JSON-RPC's code for text that is not JSON */
#define LINE_MAX_BYTES ((size_t)EG_EXEC_LINE_MAX) /* the same bound as `engram exec` */

const char cli_mcp_help[] =
    "usage: engram mcp [--data DIR]\n"
    "       engram mcp --url URL [--api-key KEY]\n"
    "\n"
    "Serves engram's MCP tools over stdio: newline-delimited JSON-RPC 2.0 on stdin and stdout (docs/mcp.md), for\n"
    "MCP clients that launch their servers, e.g. in their configuration:\n"
    "  {\"mcpServers\": {\"engram\": {\"command\": \"engram\", \"args\": [\"mcp\", \"--data\", \"/path/to/data\"]}}}\n"
    "Logs go to stderr only. Runs until the end of its input or SIGINT/SIGTERM, then finishes the calls begun.\n"
    "\n"
    "options:\n"
    "  --data DIR     the data folder (default: $ENGRAM_DATA, else ./engram-data)\n"
    "  --url URL      run the tools on a running engram serve (http://HOST:PORT) instead: its folder is locked\n"
    "  --api-key KEY  that server's API key (default: $ENGRAM_API_KEY)\n"
    "Exit status 0 at the end of input or on a stop signal; 1 if the folder cannot be opened or stdout fails;\n"
    "2 usage error.\n";

/* ---- backends ---- */

/* One connection per worker: a cli_remote is one libcurl handle, which one thread at a time may use. */
typedef struct remote_pool {
    pthread_mutex_t lock;
    pthread_cond_t returned;
    cli_remote *items[WORKERS];
    bool busy[WORKERS];
    const char *url;
} remote_pool;

static json_t *exec_remote(void *context, json_t *request) {
    remote_pool *pool = context;
    size_t i = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        for (i = 0; i < WORKERS && pool->busy[i]; i++) continue;
        if (i < WORKERS) break;
        pthread_cond_wait(&pool->returned, &pool->lock);
    }
    pool->busy[i] = true;
    pthread_mutex_unlock(&pool->lock);
    json_t *response = cli_remote_exec(pool->items[i], request);
    pthread_mutex_lock(&pool->lock);
    pool->busy[i] = false;
    pthread_cond_signal(&pool->returned);
    pthread_mutex_unlock(&pool->lock);
    if (response) return response;
    /* cli_remote_exec said why on stderr; the tool failure tells the model where to look. */
    return json_pack("{s:b, s:{s:s, s:s++}}", "ok", 0, "error", "code", "unavailable", "message",
                     "engram serve at ", pool->url, " did not answer (the reason is on engram mcp's stderr)");
}

/* ---- the run ---- */

typedef struct server {
    eg_mcp_session *session;
    pthread_mutex_t lock; /* guards the queue and the flags below */
    pthread_cond_t queued, dequeued;
    json_t *queue[QUEUED_MAX];
    size_t head, count;
    json_t *taken[WORKERS];        /* the message each worker is handling, or NULL */
    bool taken_cancelled[WORKERS]; /* its request was cancelled: its answer is dropped */
    bool closing;          /* no more input: workers stop once the queue is empty */
    bool output_failed;    /* stdout refused an answer: the client is gone */
    pthread_mutex_t write_lock;
} server;

static void write_answer(server *s, json_t *answer) {
    if (!answer) return;
    char *text = eg_json_text(answer, JSON_COMPACT);
    json_decref(answer);
    pthread_mutex_lock(&s->write_lock);
    bool ok = text && fputs(text, stdout) != EOF && fputc('\n', stdout) != EOF && fflush(stdout) != EOF;
    pthread_mutex_unlock(&s->write_lock);
    if (!text) fprintf(stderr, "engram mcp: out of memory writing an answer\n");
    free(text);
    if (!ok && text) {
        pthread_mutex_lock(&s->lock);
        if (!s->output_failed) fprintf(stderr, "engram mcp: cannot write to stdout: %s\n", strerror(errno));
        s->output_failed = true;
        pthread_mutex_unlock(&s->lock);
    }
}

typedef struct worker_arg {
    server *s;
    size_t index;
} worker_arg;

static void *worker(void *arg) {
    server *s = ((worker_arg *)arg)->s;
    size_t w = ((worker_arg *)arg)->index;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->count == 0 && !s->closing) pthread_cond_wait(&s->queued, &s->lock);
        if (s->count == 0) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        json_t *message = s->queue[s->head];
        s->head = (s->head + 1) % QUEUED_MAX;
        s->count--;
        s->taken[w] = message;
        s->taken_cancelled[w] = false;
        pthread_cond_signal(&s->dequeued);
        pthread_mutex_unlock(&s->lock);
        json_t *answer = eg_mcp_handle(s->session, message);
        pthread_mutex_lock(&s->lock);
        bool cancelled = s->taken_cancelled[w];
        s->taken[w] = NULL;
        pthread_mutex_unlock(&s->lock);
        if (cancelled) json_decref(answer);
        else write_answer(s, answer);
        json_decref(message);
    }
}

static bool is_request_with_id(json_t *message, json_t *id) {
    return json_is_object(message) && json_object_get(message, "method") && json_equal(json_object_get(message, "id"), id);
}

/* A notifications/cancelled for request id: drops it from the queue (from a queued batch, the item) and marks it
 * for the worker handling it, whose answer is then dropped. */
static void cancel_queued(server *s, json_t *id) {
    pthread_mutex_lock(&s->lock);
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        json_t *message = s->queue[(s->head + i) % QUEUED_MAX];
        if (json_is_array(message))
            for (size_t j = json_array_size(message); j-- > 0;)
                if (is_request_with_id(json_array_get(message, j), id)) json_array_remove(message, j);
        if (is_request_with_id(message, id) || (json_is_array(message) && json_array_size(message) == 0)) {
            json_decref(message);
            continue;
        }
        s->queue[(s->head + kept++) % QUEUED_MAX] = message;
    }
    if (kept < s->count) pthread_cond_broadcast(&s->dequeued);
    s->count = kept;
    for (size_t w = 0; w < WORKERS; w++)
        if (s->taken[w] && is_request_with_id(s->taken[w], id)) s->taken_cancelled[w] = true;
    pthread_mutex_unlock(&s->lock);
}

/* Whether message waits for the store: a tool call, or a batch (which may hold some). */
static bool needs_worker(json_t *message) {
    if (json_is_array(message)) return true;
    const char *method = json_string_value(json_object_get(message, "method"));
    return method && strcmp(method, "tools/call") == 0 && json_object_get(message, "id");
}


static void take_line(server *s, char *line, size_t len) {
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
    if (strspn(line, " \t") >= len) return;
    json_error_t jerr;
    /* JSON_ALLOW_NUL: "\u0000" is valid JSON, and a client may send it in any string. */
    json_t *message = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!message) {
        write_answer(s, eg_mcp_error(NULL, PARSE_ERROR, "parse error: %s (line %d, column %d)", jerr.text, jerr.line,
                                     jerr.column));
        return;
    }
    const char *method = json_string_value(json_object_get(message, "method"));
    json_t *params = json_object_get(message, "params");
    if (method && strcmp(method, "notifications/cancelled") == 0 && !json_object_get(message, "id") &&
        json_object_get(params, "requestId"))
        cancel_queued(s, json_object_get(params, "requestId"));
    if (!needs_worker(message)) {
        write_answer(s, eg_mcp_handle(s->session, message));
        json_decref(message);
        return;
    }
    pthread_mutex_lock(&s->lock);
    while (s->count == QUEUED_MAX) pthread_cond_wait(&s->dequeued, &s->lock);
    s->queue[(s->head + s->count) % QUEUED_MAX] = message;
    s->count++;
    pthread_cond_signal(&s->queued);
    pthread_mutex_unlock(&s->lock);
}

static bool output_failed(server *s) {
    pthread_mutex_lock(&s->lock);
    bool failed = s->output_failed;
    pthread_mutex_unlock(&s->lock);
    return failed;
}

/* Reads stdin until its end, a stop (stop_fd readable) or a failed stdout; true on a stop signal. A line longer
 * than LINE_MAX_BYTES is read through and answered with a parse error, without keeping more than the limit. */
static bool read_input(server *s, int stop_fd) {
    size_t cap = 1 << 16, len = 0, scanned = 0;
    char *buf = malloc(cap);
    bool overlong = false, stopped = false;
    while (buf && !output_failed(s)) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) {
            stopped = true;
            break;
        }
        if (len == cap) { /* below the limit, or it would have been dropped */
            char *grown = realloc(buf, 2 * cap);
            if (!grown) break;
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
        char *newline;
        while ((newline = memchr(buf + scanned, '\n', len - scanned))) {
            size_t line_len = (size_t)(newline - buf);
            if (overlong)
                write_answer(s, eg_mcp_error(NULL, PARSE_ERROR, "the line is longer than %zu bytes", LINE_MAX_BYTES));
            else take_line(s, buf, line_len);
            overlong = false;
            memmove(buf, newline + 1, len - line_len - 1);
            len -= line_len + 1;
            scanned = 0;
        }
        scanned = len;
        if (len >= LINE_MAX_BYTES) { /* drop what is read of it, and the rest up to its newline */
            overlong = true;
            len = scanned = 0;
        }
    }
    if (!buf) fprintf(stderr, "engram mcp: out of memory reading stdin\n");
    /* A last line without its newline is still a message. */
    else if (!stopped && len > 0 && !overlong && !output_failed(s)) take_line(s, buf, len);
    free(buf);
    return stopped;
}

typedef struct stop_watch {
    sigset_t set;
    int write_fd;
} stop_watch;

/* Waits for SIGINT or SIGTERM (blocked in every thread) and wakes the reader through the pipe. The run's end sends
 * this thread a SIGTERM of its own to end it, unless a signal ended it already. */
static void *watch_signals(void *arg) {
    stop_watch *w = arg;
    int signal_number;
    sigwait(&w->set, &signal_number);
    if (write(w->write_fd, "x", 1) < 0) fprintf(stderr, "engram mcp: cannot wake the reader: %s\n", strerror(errno));
    return NULL;
}

static int serve_stdio(const eg_mcp_backend *backend) {
    server s = {.session = eg_mcp_session_new(backend)};
    int pipe_fds[2];
    if (!s.session || pipe(pipe_fds) != 0) {
        fprintf(stderr, "engram mcp: cannot start: %s\n", s.session ? strerror(errno) : "out of memory");
        eg_mcp_session_free(s.session);
        return EXIT_FAILED;
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&s.write_lock, NULL);
    pthread_cond_init(&s.queued, NULL);
    pthread_cond_init(&s.dequeued, NULL);
    stop_watch watch = {.write_fd = pipe_fds[1]};
    sigemptyset(&watch.set);
    sigaddset(&watch.set, SIGINT);
    sigaddset(&watch.set, SIGTERM);
    pthread_t watcher, workers[WORKERS];
    worker_arg args[WORKERS];
    size_t started = 0;
    bool watching = pthread_create(&watcher, NULL, watch_signals, &watch) == 0;
    for (; started < WORKERS; started++) {
        args[started] = (worker_arg){&s, started};
        if (pthread_create(&workers[started], NULL, worker, &args[started]) != 0) break;
    }
    int rc = EXIT_OK;
    bool stopped = false;
    if (!watching || started == 0) {
        fprintf(stderr, "engram mcp: cannot start its threads\n");
        rc = EXIT_FAILED;
    } else if ((stopped = read_input(&s, pipe_fds[0]))) {
        /* A stop signal: the calls not begun are dropped, unanswered, as a killed server's would be. */
        pthread_mutex_lock(&s.lock);
        for (; s.count > 0; s.count--, s.head = (s.head + 1) % QUEUED_MAX) json_decref(s.queue[s.head]);
        pthread_mutex_unlock(&s.lock);
    }
    pthread_mutex_lock(&s.lock);
    s.closing = true;
    pthread_cond_broadcast(&s.queued);
    pthread_mutex_unlock(&s.lock);
    for (size_t i = 0; i < started; i++) pthread_join(workers[i], NULL);
    if (watching) {
        if (!stopped) pthread_kill(watcher, SIGTERM);
        pthread_join(watcher, NULL);
    }
    if (output_failed(&s)) rc = EXIT_FAILED;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    pthread_cond_destroy(&s.queued);
    pthread_cond_destroy(&s.dequeued);
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&s.write_lock);
    eg_mcp_session_free(s.session);
    return rc;
}

static int mcp_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "engram mcp: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'engram mcp --help'.\n");
    return EXIT_USAGE;
}

int cli_mcp(int argc, char **argv, const char *data, const char *url, const char *api_key, const eg_options *options) {
    bool own_data = false;
    for (int i = 0; i < argc; i++) {
        const char **target = strcmp(argv[i], "--data") == 0      ? &data
                              : strcmp(argv[i], "--url") == 0     ? &url
                              : strcmp(argv[i], "--api-key") == 0 ? &api_key
                                                                  : NULL;
        if (!target) return mcp_usage("unknown argument '%s'", argv[i]);
        if (++i == argc || !*argv[i]) return mcp_usage("%s needs a value", argv[i - 1]);
        *target = argv[i];
        own_data |= target == &data;
    }
    if (url && (own_data || options->setting_count > 0))
        return mcp_usage("%s", "--url runs the tools on the server's folder: give --url or --data (and --set), "
                               "not both");
    if (api_key && !url) return mcp_usage("%s goes with --url", "--api-key");
    if (url && !api_key) api_key = getenv("ENGRAM_API_KEY");
    /* Only the signal watcher takes SIGINT and SIGTERM: blocked before any other thread starts (the engine's
     * included), as every thread inherits the mask. A client that hangs up must not kill the process mid-write. */
    cli_serve_block_signals();
    signal(SIGPIPE, SIG_IGN);
    if (url) {
        remote_pool pool = {.url = url};
        int rc = EXIT_OK;
        size_t opened = 0;
        while (opened < WORKERS && (rc = cli_remote_open(url, api_key, &pool.items[opened])) == EXIT_OK) opened++;
        if (rc == EXIT_OK) {
            pthread_mutex_init(&pool.lock, NULL);
            pthread_cond_init(&pool.returned, NULL);
            eg_mcp_backend backend = {exec_remote, &pool, NULL, NULL};
            rc = serve_stdio(&backend);
            pthread_cond_destroy(&pool.returned);
            pthread_mutex_destroy(&pool.lock);
        }
        for (size_t i = 0; i < opened; i++) cli_remote_close(pool.items[i]);
        return rc;
    }
    eg_db *db;
    eg_error err;
    if (eg_open(data, options, &db, &err) != EG_OK) {
        if (err.code == EG_LOCKED) cli_explain_locked(data);
        else
            fprintf(stderr, "engram mcp: cannot open the data folder: %s (%s)\n", err.message,
                    eg_status_name(err.code));
        return EXIT_FAILED;
    }
    eg_mcp_backend backend = eg_mcp_local_backend(db);
    int rc = serve_stdio(&backend);
    eg_close(db);
    return rc;
}
