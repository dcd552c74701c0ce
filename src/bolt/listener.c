/* listener.c — the Bolt transport: accept loop, a thread per connection (in the clear or over TLS with GnuTLS,
 * the library libmicrohttpd uses for HTTPS), idle timeout, transaction deadlines, orderly stop (see listener.h). */
#include "bolt/listener.h"

#include "bolt/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BYTES 65536 /* bytes taken from the socket per read */
/* Connections past the bound that are still answered, with a FAILURE at HELLO, so that a driver reports why; more
 * than these are closed at once. They get a short idle timeout: they have nothing else to wait for. */
#define REFUSING_MAX 4
#define REFUSING_IDLE_MS 2000
/* After the server ends a connection (GOODBYE, refused credentials, a broken protocol) it reads and drops what
 * the client already sent, for this long at most: closing a socket with unread bytes resets the connection, and a
 * reset can destroy the FAILURE that explains the close before the client reads it. */
#define DRAIN_MS 500
#define DRAIN_BYTES (1u << 20)
#define REFUSAL_CODE "Neo.TransientError.Request.NoThreadsAvailable"
#define REFUSAL_MESSAGE "engram serve has serve.max_connections Bolt connections open; try again later"

typedef struct bolt_connection bolt_connection;

struct eg_bolt_listener {
    int listen_fd;
    int wake_pipe[2]; /* written to on stop: wakes the accept loop out of poll */
    uint16_t port;
    char *user, *password;
    eg_bolt_listener_options options;
    pthread_t accept_thread;
    pthread_mutex_t lock;
    pthread_cond_t all_closed;
    bolt_connection *connections; /* open ones, a doubly linked list under lock */
    unsigned open_count;          /* served connections, within options.max_connections */
    unsigned refusing_count;      /* connections past the bound being refused, within REFUSING_MAX */
    uint64_t connection_serial;
    atomic_bool stopping;
    gnutls_certificate_credentials_t tls_credentials; /* NULL: plain TCP */
    /* eg_bolt_listener_totals, added to by every connection's thread */
    atomic_uint_fast64_t messages, batches, handling_ns;
};

struct bolt_connection {
    eg_bolt_listener *listener;
    int fd;
    uint64_t number;
    char advertised_address[80];
    bool peer_is_loopback;
    bool refusing; /* past the bound: answered with a FAILURE at HELLO */
    gnutls_session_t tls; /* NULL: plain TCP */
    bolt_connection *prev, *next;
};

static bool is_loopback(const struct sockaddr_storage *a) {
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss_family == AF_INET6) {
        const struct in6_addr *v6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(v6)) return true;
        return IN6_IS_ADDR_V4MAPPED(v6) && v6->s6_addr[12] == 127;
    }
    return false;
}

/* "host:port" of a socket address, IPv6 in brackets. */
static void format_address(const struct sockaddr_storage *a, char *out, size_t size) {
    char host[INET6_ADDRSTRLEN] = "";
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, (unsigned)ntohs(v6->sin6_port));
        return;
    }
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    snprintf(out, size, "%s:%u", host, (unsigned)ntohs(v4->sin_port));
}

static bool send_all(const bolt_connection *c, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = c->tls ? gnutls_record_send(c->tls, data, len) : send(c->fd, data, len, MSG_NOSIGNAL);
        if (c->tls ? n == GNUTLS_E_INTERRUPTED : n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* What the client sent next: a count of bytes, or 0 when the connection is over (closed, broken, or for TLS
 * stalled inside a record past the receive timeout). */
static size_t read_some(const bolt_connection *c, uint8_t *buffer) {
    for (;;) {
        ssize_t n = c->tls ? gnutls_record_recv(c->tls, buffer, READ_BYTES) : recv(c->fd, buffer, READ_BYTES, 0);
        if (c->tls ? n == GNUTLS_E_INTERRUPTED : n < 0 && errno == EINTR) continue;
        return n > 0 ? (size_t)n : 0;
    }
}

/* The TLS handshake of a new connection, within the idle timeout. A receive timeout on the socket bounds every
 * later read too: poll only sees that bytes arrived, and a client that stops in the middle of a TLS record would
 * otherwise hold the thread in gnutls_record_recv for ever. */
static bool start_tls(eg_bolt_listener *l, bolt_connection *c, unsigned timeout_ms) {
    struct timeval receive_timeout = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout) != 0 ||
        gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) != GNUTLS_E_SUCCESS) {
        c->tls = NULL;
        return false;
    }
    if (gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, l->tls_credentials) != GNUTLS_E_SUCCESS ||
        gnutls_set_default_priority(c->tls) != GNUTLS_E_SUCCESS)
        return false;
    gnutls_transport_set_int(c->tls, c->fd);
    gnutls_handshake_set_timeout(c->tls, timeout_ms);
    int done;
    do done = gnutls_handshake(c->tls);
    while (done == GNUTLS_E_INTERRUPTED);
    return done == GNUTLS_E_SUCCESS;
}

static void drain_before_close(const bolt_connection *c, uint8_t *buffer) {
    int fd = c->fd;
    if (c->tls) gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* close_notify: the client sees an orderly end of TLS */
    shutdown(fd, SHUT_WR);
    size_t drained = 0;
    while (drained < DRAIN_BYTES) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, DRAIN_MS) <= 0) return;
        ssize_t n = recv(fd, buffer, READ_BYTES, 0);
        if (n <= 0) return;
        drained += (size_t)n;
    }
}

static void forget_connection(bolt_connection *c) {
    eg_bolt_listener *l = c->listener;
    pthread_mutex_lock(&l->lock);
    if (c->prev) c->prev->next = c->next;
    else l->connections = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->refusing) l->refusing_count--;
    else l->open_count--;
    close(c->fd);
    if (l->open_count == 0 && l->refusing_count == 0) pthread_cond_broadcast(&l->all_closed);
    pthread_mutex_unlock(&l->lock);
    if (c->tls) gnutls_deinit(c->tls);
    free(c);
}

/* The session's flush: records sent as they are encoded. */
static bool send_to_connection(void *context, const eg_byte_buffer *out) {
    return send_all(context, out->data, out->len);
}

static int64_t ms_since(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Adds one read's work to the listener's totals: its messages, whether it was answered, and the time since fed. */
static void account(eg_bolt_listener *l, uint64_t messages, bool answered, const struct timespec *fed) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)(now.tv_sec - fed->tv_sec) * 1000000000 + (now.tv_nsec - fed->tv_nsec);
    atomic_fetch_add_explicit(&l->messages, messages, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->batches, answered ? 1u : 0u, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->handling_ns, ns > 0 ? (uint64_t)ns : 0u, memory_order_relaxed);
}

static void *serve_connection(void *arg) {
    bolt_connection *c = arg;
    eg_bolt_listener *l = c->listener;
    eg_bolt_session_config config = {.user = l->user,
                                     .password = l->password,
                                     .peer_is_loopback = c->peer_is_loopback,
                                     .advertised_address = c->advertised_address,
                                     .routing_ttl_seconds = l->options.routing_ttl_seconds,
                                     .max_message_bytes = l->options.max_message_bytes,
                                     .statements = l->options.statements,
                                     .refusal_code = c->refusing ? REFUSAL_CODE : NULL,
                                     .refusal_message = c->refusing ? REFUSAL_MESSAGE : NULL,
                                     .tx_timeout_ms = l->options.tx_timeout_ms,
                                     .flush = send_to_connection,
                                     .flush_context = c};
    unsigned idle_timeout_ms = c->refusing && l->options.idle_timeout_ms > REFUSING_IDLE_MS
                                   ? REFUSING_IDLE_MS
                                   : l->options.idle_timeout_ms;
    bool secured = l->tls_credentials == NULL || start_tls(l, c, idle_timeout_ms);
    eg_bolt_session *session = secured ? eg_bolt_session_new(&config, c->number) : NULL;
    uint8_t *buffer = malloc(READ_BYTES);
    eg_byte_buffer out = {0};
    bool open = session != NULL && buffer != NULL;
    struct timespec last_heard;
    clock_gettime(CLOCK_MONOTONIC, &last_heard);
    while (open && !atomic_load(&l->stopping)) {
        int64_t wait_ms = (int64_t)idle_timeout_ms - ms_since(&last_heard);
        if (wait_ms <= 0) break; /* idle too long */
        /* a transaction's deadline wakes this thread even when the client is silent: its rollback belongs here */
        int64_t to_deadline = eg_bolt_session_ms_to_deadline(session);
        bool deadline_first = to_deadline >= 0 && to_deadline < wait_ms;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        /* bytes GnuTLS already decrypted are not on the socket any more: poll would not see them */
        bool buffered = c->tls && gnutls_record_check_pending(c->tls) > 0;
        int ready = buffered ? 1 : poll(&p, 1, (int)(deadline_first ? to_deadline : wait_ms));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready == 0) {
            eg_bolt_session_enforce_deadline(session);
            continue;
        }
        size_t n = read_some(c, buffer);
        if (n == 0) break;
        clock_gettime(CLOCK_MONOTONIC, &last_heard);
        out.len = 0;
        uint64_t messages_before = eg_bolt_session_messages(session);
        struct timespec fed;
        clock_gettime(CLOCK_MONOTONIC, &fed);
        open = eg_bolt_session_feed(session, buffer, n, &out);
        account(l, eg_bolt_session_messages(session) - messages_before, out.len > 0, &fed);
        if (out.len > 0 && !send_all(c, out.data, out.len)) break;
    }
    if (!open && session != NULL && buffer != NULL) drain_before_close(c, buffer);
    free(out.data);
    free(buffer);
    eg_bolt_session_free(session);
    forget_connection(c);
    return NULL;
}

/* Takes one accepted socket and gives it a thread: to be served, or, past the bound, to be refused at HELLO;
 * past REFUSING_MAX refusals too, it is closed at once. */
static void admit(eg_bolt_listener *l, int fd) {
    struct sockaddr_storage peer, local;
    socklen_t peer_len = sizeof peer, local_len = sizeof local;
    bolt_connection *c = calloc(1, sizeof *c);
    if (c == NULL || getpeername(fd, (struct sockaddr *)&peer, &peer_len) != 0 ||
        getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) {
        free(c);
        close(fd);
        return;
    }
    /* Answers are small and a driver may send one round trip's requests in two writes: with Nagle's algorithm
     * the second answer waited for the client's delayed ACK, some 40 ms (bench/bolt_driver_bench.mjs). The
     * session already hands whole answers (or 64 KiB pieces) to the socket, so nothing gains by coalescing. */
    int no_delay = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
    c->listener = l;
    c->fd = fd;
    c->peer_is_loopback = is_loopback(&peer);
    /* the address the client reached this server at is the one it can reach it at again */
    format_address(&local, c->advertised_address, sizeof c->advertised_address);
    pthread_mutex_lock(&l->lock);
    c->refusing = l->open_count >= l->options.max_connections;
    if (c->refusing && l->refusing_count >= REFUSING_MAX) {
        pthread_mutex_unlock(&l->lock);
        free(c);
        close(fd);
        return;
    }
    c->number = ++l->connection_serial;
    c->next = l->connections;
    if (c->next) c->next->prev = c;
    l->connections = c;
    if (c->refusing) l->refusing_count++;
    else l->open_count++;
    pthread_mutex_unlock(&l->lock);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, serve_connection, c) != 0) {
        shutdown(fd, SHUT_RDWR);
        forget_connection(c);
    }
    pthread_attr_destroy(&attr);
}

static void *accept_loop(void *arg) {
    eg_bolt_listener *l = arg;
    while (!atomic_load(&l->stopping)) {
        struct pollfd p[2] = {{.fd = l->listen_fd, .events = POLLIN}, {.fd = l->wake_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) continue;
        if (p[1].revents != 0) break;
        if (p[0].revents & POLLIN) {
            int fd = accept(l->listen_fd, NULL, NULL);
            if (fd >= 0) {
                admit(l, fd);
            } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the pending connection stays pending, so the next poll would return at once: pause instead of
                 * spinning until descriptors or memory free up (a stop still wakes the pause) */
                struct pollfd wake = {.fd = l->wake_pipe[0], .events = POLLIN};
                poll(&wake, 1, 100);
            }
        }
    }
    return NULL;
}

/* HOST:PORT or [IPv6]:PORT into host and port texts; the port a decimal number up to 65535 (getaddrinfo would
 * take a larger one modulo 65536). */
static bool split_address(const char *address, char *host, size_t host_size, char *port, size_t port_size) {
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= port_size) return false;
    unsigned long number = 0;
    for (const char *p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return false;
        number = number * 10 + (unsigned long)(*p - '0');
    }
    if (number > 65535) return false;
    const char *start = address, *end = colon;
    if (*start == '[') {
        if (end == start || end[-1] != ']') return false;
        start++;
        end--;
    }
    if (end <= start || (size_t)(end - start) >= host_size) return false;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    strcpy(port, colon + 1);
    return true;
}

static eg_status bind_listener(eg_bolt_listener *l, const char *address, eg_error *err) {
    char host[256], port[16];
    if (!split_address(address, host, sizeof host, port, sizeof port))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: '%s' is not HOST:PORT", address);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, port, &hints, &found) != 0 || found == NULL)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: cannot resolve '%s'", address);
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    bool bound = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) == 0 &&
                 bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 128) == 0;
    freeaddrinfo(found);
    if (!bound) {
        int saved = errno;
        if (fd >= 0) close(fd);
        return eg_error_set(err, EG_IO, "bolt: cannot listen on %s: %s", address, strerror(saved));
    }
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &local_len);
    l->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                                : ((struct sockaddr_in *)&local)->sin_port);
    l->listen_fd = fd;
    return EG_OK;
}

/* The certificate chain and key, when TLS is asked for, read once for every connection. */
static eg_status load_tls(eg_bolt_listener *l, const eg_bolt_listener_options *options, eg_error *err) {
    bool has_cert = options->tls_cert_file != NULL && *options->tls_cert_file;
    bool has_key = options->tls_key_file != NULL && *options->tls_key_file;
    if (!has_cert && !has_key) return EG_OK;
    if (!has_cert || !has_key)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: TLS needs both a certificate and its key");
    if (gnutls_certificate_allocate_credentials(&l->tls_credentials) != GNUTLS_E_SUCCESS) {
        l->tls_credentials = NULL;
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    int loaded = gnutls_certificate_set_x509_key_file(l->tls_credentials, options->tls_cert_file,
                                                      options->tls_key_file, GNUTLS_X509_FMT_PEM);
    if (loaded < 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: cannot use the TLS certificate %s with the key %s: %s",
                            options->tls_cert_file, options->tls_key_file, gnutls_strerror(loaded));
    return EG_OK;
}

static void free_listener(eg_bolt_listener *l) {
    if (l->listen_fd >= 0) close(l->listen_fd);
    if (l->wake_pipe[0] >= 0) close(l->wake_pipe[0]);
    if (l->wake_pipe[1] >= 0) close(l->wake_pipe[1]);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->all_closed);
    if (l->tls_credentials) gnutls_certificate_free_credentials(l->tls_credentials);
    free(l->user);
    free(l->password);
    free(l);
}

eg_status eg_bolt_listener_start(const eg_bolt_listener_options *options, eg_bolt_listener **out, eg_error *err) {
    eg_bolt_listener *l = calloc(1, sizeof *l);
    if (l == NULL) return eg_error_set(err, EG_INTERNAL, "out of memory");
    l->listen_fd = l->wake_pipe[0] = l->wake_pipe[1] = -1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->all_closed, NULL);
    l->options = *options;
    l->user = strdup(options->user != NULL ? options->user : "neo4j");
    l->password = strdup(options->password != NULL ? options->password : "");
    l->options.user = l->options.password = NULL; /* the copies above are the ones used */
    l->options.tls_cert_file = l->options.tls_key_file = NULL; /* read into tls_credentials below */
    if (l->user == NULL || l->password == NULL || pipe(l->wake_pipe) != 0) {
        free_listener(l);
        return eg_error_set(err, EG_INTERNAL, "out of memory or descriptors");
    }
    eg_status st = load_tls(l, options, err);
    if (st == EG_OK) st = bind_listener(l, options->address, err);
    if (st == EG_OK && pthread_create(&l->accept_thread, NULL, accept_loop, l) != 0)
        st = eg_error_set(err, EG_INTERNAL, "bolt: cannot start the accept thread");
    if (st != EG_OK) {
        free_listener(l);
        return st;
    }
    *out = l;
    return EG_OK;
}

eg_bolt_listener_totals eg_bolt_listener_read_totals(const eg_bolt_listener *l) {
    return (eg_bolt_listener_totals){atomic_load_explicit(&l->messages, memory_order_relaxed),
                                     atomic_load_explicit(&l->batches, memory_order_relaxed),
                                     atomic_load_explicit(&l->handling_ns, memory_order_relaxed)};
}

uint16_t eg_bolt_listener_port(const eg_bolt_listener *listener) { return listener->port; }

void eg_bolt_listener_stop(eg_bolt_listener *l) {
    if (l == NULL) return;
    atomic_store(&l->stopping, true);
    ssize_t written = write(l->wake_pipe[1], "x", 1);
    (void)written; /* a full pipe already wakes the loop */
    pthread_join(l->accept_thread, NULL);
    pthread_mutex_lock(&l->lock);
    for (bolt_connection *c = l->connections; c != NULL; c = c->next) shutdown(c->fd, SHUT_RDWR);
    while (l->open_count > 0 || l->refusing_count > 0) pthread_cond_wait(&l->all_closed, &l->lock);
    pthread_mutex_unlock(&l->lock);
    free_listener(l);
}
