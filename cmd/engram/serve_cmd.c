/* serve_cmd.c — `engram serve`: run the network servers (HTTP and Bolt, either of which can be turned off, not
 * both) over the data folder until SIGINT or SIGTERM, then stop accepting, let the requests in flight finish (a
 * bounded wait), and close the folder cleanly. While it runs, the HTTP URL it listens on is in DATA/serve.url, for
 * the commands that find the folder locked to quote. */
#include "cli.h"

#include <engram/serve.h>
#include <engram/settings.h>

#include "bolt/cypher_statements.h"
#include "bolt/listener.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_WAIT_MS 10000 /* how long requests in flight may take to finish after a stop signal */
#define BOLT_ROUTING_TTL_SECONDS 300 /* how long a driver keeps the one-server routing table before asking again */

const char cli_serve_help[] =
    "usage: engram [--data DIR] serve [--http HOST:PORT] [--bolt HOST:PORT] [--api-key KEY]\n"
    "                                 [--tls-cert FILE --tls-key FILE] [--insecure]\n"
    "\n"
    "Serves the data folder over HTTP: engram's API (/v1/...), a Qdrant-compatible REST API, health probes and\n"
    "Prometheus metrics (docs/serve.md); and Neo4j's Bolt protocol, running Cypher over the folder's graph\n"
    "(docs/bolt.md). Runs until SIGINT or SIGTERM, then finishes the requests in flight (up to 10 s) and closes\n"
    "the folder.\n"
    "\n"
    "options (each overrides the setting in brackets; engram config lists them):\n"
    "  --http HOST:PORT   address to listen on [serve.http], default 127.0.0.1:6333; [::1]:PORT for IPv6;\n"
    "                     '' turns HTTP off (Bolt only)\n"
    "  --api-key KEY      require this key (header api-key or Authorization: Bearer) [serve.api_key,\n"
    "                     else $ENGRAM_API_KEY]\n"
    "  --tls-cert FILE    serve HTTPS and Bolt over TLS with this PEM certificate chain ...\n"
    "  --tls-key FILE     ... and this PEM private key\n"
    "  --insecure         allow an address other than loopback without an API key\n"
    "  --bolt HOST:PORT   the Bolt address [serve.bolt], default 127.0.0.1:7687; '' turns Bolt off; clients log\n"
    "                     in as serve.bolt_user with serve.bolt_password (else $ENGRAM_BOLT_PASSWORD; none:\n"
    "                     loopback clients only)\n"
    "Also: serve.threads, serve.max_body_bytes, serve.max_connections, serve.idle_timeout_ms (--set); the last\n"
    "two bound Bolt connections as well; serve.bolt_tx_timeout_ms bounds a Bolt transaction.\n";

int cli_serve_parse(int argc, char **argv, cli_serve_options *options) {
    memset(options, 0, sizeof *options);
    eg_server_options *o = &options->http;
    for (int i = 0; i < argc; i++) {
        const char **target = NULL;
        bool is_bolt = strcmp(argv[i], "--bolt") == 0;
        if (is_bolt || strcmp(argv[i], "--http") == 0) { /* may be empty: that server is off */
            if (++i == argc) {
                fprintf(stderr, "engram serve: %s needs a value\nTry 'engram serve --help'.\n", argv[i - 1]);
                return EXIT_USAGE;
            }
            *(is_bolt ? &options->bolt : &o->http) = argv[i];
            continue;
        }
        if (strcmp(argv[i], "--api-key") == 0) target = &o->api_key;
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
    if (o->http && !*o->http && options->bolt && !*options->bolt) {
        fprintf(stderr, "engram serve: --http '' and --bolt '' turn both servers off: nothing to serve\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The URL a command on this machine reaches the server at: the address's host (loopback for a wildcard one) and
 * the port it listens on. */
static void local_url(const char *address, bool tls, uint16_t port, char *out, size_t size) {
    size_t host_len = strrchr(address, ':') ? (size_t)(strrchr(address, ':') - address) : strlen(address);
    const char *host = address;
    if (host_len == 7 && strncmp(address, "0.0.0.0", 7) == 0) host = "127.0.0.1";
    else if (host_len == 4 && strncmp(address, "[::]", 4) == 0) host = "[::1]";
    if (host != address) host_len = strlen(host);
    snprintf(out, size, "%s://%.*s:%u", tls ? "https" : "http", (int)host_len, host, (unsigned)port);
}

/* Written in place: only a command reading it to word a message depends on it, and a torn one is not quoted
 * (explain_locked keeps printable characters only). */
static void write_url_file(const char *path, const char *url) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%s\n", url);
    fclose(f);
}

static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* SIGINT and SIGTERM must be blocked in every thread, so that only sigwait in cli_serve_run receives them: a
 * thread that left them unblocked would take the default action and kill the process mid-request. Threads inherit
 * the mask when they start, and opening the folder already starts some (the log's, the write queue's), so main
 * calls this before it opens the folder. */
void cli_serve_block_signals(void) {
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Starts the Bolt listener on `address`, running Cypher through `engine` over the folder's graph (engine must
 * outlive the listener). Its connections are bounded by the same settings as HTTP's, and it speaks TLS with HTTP's
 * certificate. */
static eg_status start_bolt(eg_db *db, const cli_serve_options *options, const char *address,
                            eg_bolt_cypher_engine *engine, eg_bolt_listener **out, eg_error *err) {
    const eg_settings *settings = eg_db_settings(db);
    const char *password = eg_settings_text(settings, "serve.bolt_password");
    if (!*password && getenv("ENGRAM_BOLT_PASSWORD")) password = getenv("ENGRAM_BOLT_PASSWORD");
    eg_bolt_listener_options bolt = {
        .address = address,
        .user = eg_settings_text(settings, "serve.bolt_user"),
        .password = password,
        .max_connections = (unsigned)eg_settings_int(settings, "serve.max_connections"),
        .idle_timeout_ms = (unsigned)eg_settings_int(settings, "serve.idle_timeout_ms"),
        .max_message_bytes = EG_PS_MAX_MESSAGE_BYTES,
        .routing_ttl_seconds = BOLT_ROUTING_TTL_SECONDS,
        .statements = eg_bolt_cypher_engine_init(engine, eg_db_graph(db)),
        .tx_timeout_ms = (uint64_t)eg_settings_int(settings, "serve.bolt_tx_timeout_ms"),
        .tls_cert_file = options->http.tls_cert_file,
        .tls_key_file = options->http.tls_key_file,
    };
    return eg_bolt_listener_start(&bolt, out, err);
}

int cli_serve_run(eg_db *db, const char *data_dir, const cli_serve_options *serve_options) {
    const eg_server_options *options = &serve_options->http;
    const eg_settings *settings = eg_db_settings(db);
    /* given on the command line (even empty: that server is off), else the setting */
    const char *address = options->http ? options->http : eg_settings_text(settings, "serve.http");
    const char *bolt_address = serve_options->bolt ? serve_options->bolt : eg_settings_text(settings, "serve.bolt");
    if (!*address && !*bolt_address) {
        fprintf(stderr, "engram serve: HTTP and Bolt are both off (serve.http and serve.bolt, or --http and --bolt, "
                        "are empty): nothing to serve\n");
        return EXIT_USAGE;
    }
    sigset_t stop_set;
    stop_signals(&stop_set);
    signal(SIGPIPE, SIG_IGN);
    eg_server *server = NULL;
    eg_error err;
    eg_server_options http_options = *options;
    http_options.http = address;
    if (*address && eg_server_start(db, &http_options, &server, &err) != EG_OK) {
        fprintf(stderr, "engram serve: %s (%s)\n", err.message, eg_status_name(err.code));
        return EXIT_FAILED;
    }
    eg_bolt_listener *bolt = NULL;
    eg_bolt_cypher_engine cypher_engine;
    if (*bolt_address && start_bolt(db, serve_options, bolt_address, &cypher_engine, &bolt, &err) != EG_OK) {
        fprintf(stderr, "engram serve: %s (%s)\n", err.message, eg_status_name(err.code));
        if (server) eg_server_stop(server, 0);
        return EXIT_FAILED;
    }
    bool tls = options->tls_cert_file != NULL;
    /* Before the HTTP line, which watchers wait for: both are up once it is printed. Worded without "(port", the
     * pattern they read the HTTP port with. */
    if (bolt)
        fprintf(stderr, "engram serve: Bolt on %s://%s, port %u (Cypher over the graph)\n",
                tls ? "bolt+s" : "bolt", bolt_address, (unsigned)eg_bolt_listener_port(bolt));
    char url_path[4096];
    snprintf(url_path, sizeof url_path, "%s/%s", data_dir, CLI_SERVE_URL_FILE);
    if (server) {
        /* The file is there before the line that tells a watcher the server is up. */
        char url[320];
        local_url(address, tls, eg_server_port(server), url, sizeof url);
        write_url_file(url_path, url);
        fprintf(stderr, "engram serve: listening on %s://%s (port %u); SIGINT or SIGTERM stops\n",
                tls ? "https" : "http", address, (unsigned)eg_server_port(server));
    } else {
        fprintf(stderr, "engram serve: HTTP is off, Bolt only; SIGINT or SIGTERM stops\n");
    }
    int signal_number = 0;
    sigwait(&stop_set, &signal_number);
    /* Stopping has begun: further stop signals (a service manager's second one, a process-group kill) are dropped,
     * pending ones included, so that no thread started from now on, blocked or not, can take one and die. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    fprintf(stderr, "engram serve: %s: finishing the requests in flight\n", strsignal(signal_number));
    eg_bolt_listener_stop(bolt);
    if (server) {
        eg_server_stop(server, STOP_WAIT_MS);
        remove(url_path);
    }
    return EXIT_OK;
}
