/* fault_proxy.c — the protocol-independent part of the network fault tests' proxies (fault_proxy.h). */
#define _GNU_SOURCE
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

bool send_all(int fd, const void *data, size_t len) {
    const char *at = data;
    while (len) {
        ssize_t n = send(fd, at, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        at += n, len -= (size_t)n;
    }
    return true;
}

int connect_loopback(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

typedef struct proxy_connection {
    fault_proxy *proxy;
    int fd;
} proxy_connection;

proxy_action proxy_decide(fault_proxy *p, const char *description, int *arg) {
    pthread_mutex_lock(&p->lock);
    p->requests++;
    proxy_action action = PROXY_FORWARD;
    if (p->action != PROXY_FORWARD && strstr(description, p->match)) {
        int index = p->matched++;
        if (index >= p->skip && (p->times < 0 || index < p->skip + p->times)) action = p->action;
    }
    *arg = p->arg;
    p->in_flight++;
    pthread_mutex_unlock(&p->lock);
    return action;
}

void proxy_wait_as_told(fault_proxy *p, proxy_action action, int arg) {
    pthread_mutex_lock(&p->lock);
    if (action == PROXY_HOLD) {
        p->holding++;
        pthread_cond_broadcast(&p->changed);
        while (!p->released && !p->stopping) pthread_cond_wait(&p->changed, &p->lock);
        p->holding--;
    } else if (action == PROXY_DELAY) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += arg / 1000;
        until.tv_nsec += (long)(arg % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        while (!p->stopping && pthread_cond_timedwait(&p->changed, &p->lock, &until) != ETIMEDOUT) continue;
    }
    pthread_mutex_unlock(&p->lock);
}

void proxy_done(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    p->in_flight--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

bool proxy_stopping(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return stopping;
}

static void *serve_connection(void *arg) {
    proxy_connection *c = arg;
    fault_proxy *p = c->proxy;
    p->handler(p, c->fd);
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < PROXY_CONNECTIONS_MAX; i++)
        if (p->fds[i] == c->fd) p->fds[i] = -1;
    close(c->fd);
    p->connections--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    free(c);
    return NULL;
}

static void *accept_connections(void *arg) {
    fault_proxy *p = arg;
    for (;;) {
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return NULL; /* the listening socket was shut down: proxy_stop */
        }
        pthread_mutex_lock(&p->lock);
        int slot = -1;
        for (int i = 0; i < PROXY_CONNECTIONS_MAX && slot < 0; i++)
            if (p->fds[i] < 0) slot = i;
        proxy_connection *c = slot >= 0 && !p->stopping ? malloc(sizeof *c) : NULL;
        pthread_t thread;
        if (c) {
            *c = (proxy_connection){p, fd};
            p->fds[slot] = fd;
            p->connections++;
            if (pthread_create(&thread, NULL, serve_connection, c) == 0) {
                pthread_detach(thread);
            } else {
                p->fds[slot] = -1;
                p->connections--;
                free(c);
                c = NULL;
            }
        }
        pthread_mutex_unlock(&p->lock);
        if (!c) close(fd);
    }
}

bool proxy_start(fault_proxy *p, uint16_t upstream_port, proxy_handler handler) {
    memset(p, 0, sizeof *p);
    p->upstream_port = upstream_port;
    p->handler = handler;
    for (int i = 0; i < PROXY_CONNECTIONS_MAX; i++) p->fds[i] = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(p->listen_fd, 64) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &len) != 0)
        return false;
    p->port = ntohs(a.sin_port);
    return pthread_create(&p->acceptor, NULL, accept_connections, p) == 0;
}

void proxy_rule(fault_proxy *p, const char *match, proxy_action action, int skip, int times, int arg) {
    pthread_mutex_lock(&p->lock);
    snprintf(p->match, sizeof p->match, "%s", match);
    p->action = action;
    p->skip = skip, p->times = times, p->arg = arg;
    p->matched = 0;
    p->released = false;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void proxy_fail_code(fault_proxy *p, const char *code) {
    pthread_mutex_lock(&p->lock);
    snprintf(p->fail_code, sizeof p->fail_code, "%s", code);
    pthread_mutex_unlock(&p->lock);
}

int proxy_requests(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    int n = p->requests;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int proxy_matched(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    int n = p->matched;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Waits (at most limit_ms) until done(p), read under the lock. */
static bool wait_until(fault_proxy *p, unsigned limit_ms, bool (*done)(const fault_proxy *)) {
    uint64_t deadline = now_ms() + limit_ms;
    pthread_mutex_lock(&p->lock);
    while (!done(p) && now_ms() < deadline) {
        pthread_mutex_unlock(&p->lock);
        sleep_ms(5);
        pthread_mutex_lock(&p->lock);
    }
    bool good = done(p);
    pthread_mutex_unlock(&p->lock);
    return good;
}

static bool one_held(const fault_proxy *p) { return p->holding > 0; }
static bool none_in_flight(const fault_proxy *p) { return p->in_flight == 0; }

bool proxy_wait_held(fault_proxy *p, unsigned limit_ms) { return wait_until(p, limit_ms, one_held); }
bool proxy_wait_idle(fault_proxy *p, unsigned limit_ms) { return wait_until(p, limit_ms, none_in_flight); }

void proxy_release(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    p->released = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void proxy_stop(fault_proxy *p) {
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->changed);
    for (int i = 0; i < PROXY_CONNECTIONS_MAX; i++)
        if (p->fds[i] >= 0) shutdown(p->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&p->lock);
    shutdown(p->listen_fd, SHUT_RDWR);
    pthread_join(p->acceptor, NULL);
    close(p->listen_fd);
    pthread_mutex_lock(&p->lock);
    while (p->connections) pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
}
