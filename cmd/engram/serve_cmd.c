/* serve_cmd.c — `engram serve`: run the network server over the data folder until SIGINT or SIGTERM, then stop
 * accepting, let the requests in flight finish (a bounded wait), and close the folder cleanly. */
#include "cli.h"

#include <engram/serve.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_WAIT_MS 10000 /* how long requests in flight may take to finish after a stop signal */

const char cli_serve_help[] =
    "usage: engram [--data DIR] serve [--http HOST:PORT] [--api-key KEY] [--tls-cert FILE --tls-key FILE]\n"
    "                                 [--insecure]\n"
    "\n"
    "Serves the data folder over HTTP: engram's API (/v1/...), a Qdrant-compatible REST API, health probes and\n"
    "Prometheus metrics (docs/serve.md). Runs until SIGINT or SIGTERM, then finishes the requests in flight\n"
    "(up to 10 s) and closes the folder.\n"
    "\n"
    "options (each overrides the setting in brackets; engram config lists them):\n"
    "  --http HOST:PORT   address to listen on [serve.http], default 127.0.0.1:6333; [::1]:PORT for IPv6\n"
    "  --api-key KEY      require this key (header api-key or Authorization: Bearer) [serve.api_key,\n"
    "                     else $ENGRAM_API_KEY]\n"
    "  --tls-cert FILE    serve HTTPS with this PEM certificate chain ...\n"
    "  --tls-key FILE     ... and this PEM private key\n"
    "  --insecure         allow an address other than loopback without an API key\n"
    "Also: serve.threads, serve.max_body_bytes, serve.max_connections, serve.idle_timeout_ms (--set).\n";

static void stop_signal_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* SIGINT and SIGTERM must be blocked in every thread, so that only sigwait in cli_serve_run receives them: a
 * thread that left them unblocked would take the default action and kill the process mid-request. Threads inherit
 * the mask when they start, and opening the folder already starts some (the log's), so the mask is set here, once
 * the arguments are known good and before main opens the folder. */
static void block_stop_signals(void) {
    sigset_t stop_signals;
    stop_signal_set(&stop_signals);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
}

int cli_serve_parse(int argc, char **argv, eg_server_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char **target = NULL;
        if (strcmp(argv[i], "--http") == 0) target = &o->http;
        else if (strcmp(argv[i], "--api-key") == 0) target = &o->api_key;
        else if (strcmp(argv[i], "--tls-cert") == 0) target = &o->tls_cert_file;
        else if (strcmp(argv[i], "--tls-key") == 0) target = &o->tls_key_file;
        else if (strcmp(argv[i], "--insecure") == 0) {
            o->insecure = true;
            continue;
        } else {
            fprintf(stderr, "engram serve: unknown argument '%s'\nTry 'engram serve --help'.\n", argv[i]);
            return EXIT_USAGE;
        }
        if (++i == argc || !*argv[i]) {
            fprintf(stderr, "engram serve: %s needs a value\nTry 'engram serve --help'.\n", argv[i - 1]);
            return EXIT_USAGE;
        }
        *target = argv[i];
    }
    if (!o->tls_cert_file != !o->tls_key_file) {
        fprintf(stderr, "engram serve: --tls-cert and --tls-key go together\n");
        return EXIT_USAGE;
    }
    block_stop_signals();
    return EXIT_OK;
}

int cli_serve_run(eg_db *db, const eg_server_options *options) {
    sigset_t stop_signals; /* blocked in every thread since cli_serve_parse */
    stop_signal_set(&stop_signals);
    signal(SIGPIPE, SIG_IGN);
    eg_server *server;
    eg_error err;
    if (eg_server_start(db, options, &server, &err) != EG_OK) {
        fprintf(stderr, "engram serve: %s (%s)\n", err.message, eg_status_name(err.code));
        return EXIT_FAILED;
    }
    const char *address = options->http && *options->http ? options->http
                                                           : eg_settings_text(eg_db_settings(db), "serve.http");
    fprintf(stderr, "engram serve: listening on %s://%s (port %u); SIGINT or SIGTERM stops\n",
            options->tls_cert_file ? "https" : "http", address, (unsigned)eg_server_port(server));
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    fprintf(stderr, "engram serve: %s: finishing the requests in flight\n", strsignal(signal_number));
    eg_server_stop(server, STOP_WAIT_MS);
    return EXIT_OK;
}
