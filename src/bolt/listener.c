/* listener.c — the Bolt transport: accept loop, a thread per connection, idle timeout, orderly stop (see
 * listener.h). */
#include "bolt/listener.h"

#include "bolt/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
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
};

struct bolt_connection {
    eg_bolt_listener *listener;
    int fd;
    uint64_t number;
    char advertised_address[80];
    bool peer_is_loopback;
    bool refusing; /* past the bound: answered with a FAILURE at HELLO */
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

static bool send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static void drain_before_close(int fd, uint8_t *buffer) {
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
    free(c);
}

/* The session's flush: records sent as they are encoded. */
static bool send_to_connection(void *context, const eg_byte_buffer *out) {
    const bolt_connection *c = context;
    return send_all(c->fd, out->data, out->len);
}

static int64_t ms_since(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
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
    eg_bolt_session *session = eg_bolt_session_new(&config, c->number);
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
        int ready = poll(&p, 1, (int)(deadline_first ? to_deadline : wait_ms));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready == 0) {
            eg_bolt_session_enforce_deadline(session);
            continue;
        }
        ssize_t n = recv(c->fd, buffer, READ_BYTES, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        clock_gettime(CLOCK_MONOTONIC, &last_heard);
        out.len = 0;
        open = eg_bolt_session_feed(session, buffer, (size_t)n, &out);
        if (out.len > 0 && !send_all(c->fd, out.data, out.len)) break;
    }
    if (!open && buffer != NULL) drain_before_close(c->fd, buffer);
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

static void free_listener(eg_bolt_listener *l) {
    if (l->listen_fd >= 0) close(l->listen_fd);
    if (l->wake_pipe[0] >= 0) close(l->wake_pipe[0]);
    if (l->wake_pipe[1] >= 0) close(l->wake_pipe[1]);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->all_closed);
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
    if (l->user == NULL || l->password == NULL || pipe(l->wake_pipe) != 0) {
        free_listener(l);
        return eg_error_set(err, EG_INTERNAL, "out of memory or descriptors");
    }
    eg_status st = bind_listener(l, options->address, err);
    if (st == EG_OK && pthread_create(&l->accept_thread, NULL, accept_loop, l) != 0)
        st = eg_error_set(err, EG_INTERNAL, "bolt: cannot start the accept thread");
    if (st != EG_OK) {
        free_listener(l);
        return st;
    }
    *out = l;
    return EG_OK;
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
