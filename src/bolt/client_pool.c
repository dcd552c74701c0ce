/* client_pool.c — the connections of the Bolt client to one server (client_internal.h): at most max_connections
 * out at once, idle ones kept for reuse until their max lifetime, and a caller that finds all of them busy waits
 * up to the acquisition timeout for one to come back.
 *
 * An idle connection is checked before reuse (a server that restarted has closed it; reusing it would fail the
 * request after it was sent, where a retry is no longer safe for writes); a broken or too old connection is
 * closed when it comes back, never kept. Connections are opened and closed outside the lock. */
#include "bolt/client_internal.h"

#include "util/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct eg_bolt_pool {
    char address[EG_BOLT_ADDRESS_MAX];
    eg_bolt_connect_config config;
    uint32_t max_connections, acquisition_timeout_ms;
    uint64_t max_lifetime_ns;
    pthread_mutex_t lock;
    pthread_cond_t returned; /* a connection came back, or a slot came free */
    eg_bolt_conn **idle;     /* max_connections slots */
    size_t idle_count;
    uint32_t open_count; /* idle and acquired */
};

eg_bolt_pool *eg_bolt_pool_new(const char *address, const eg_bolt_connect_config *config, uint32_t max_connections,
                               uint32_t acquisition_timeout_ms, uint32_t max_lifetime_ms) {
    eg_bolt_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->idle = calloc(max_connections, sizeof *pool->idle);
    if (pool->idle == NULL) {
        free(pool);
        return NULL;
    }
    snprintf(pool->address, sizeof pool->address, "%s", address);
    pool->config = *config;
    pool->max_connections = max_connections;
    pool->acquisition_timeout_ms = acquisition_timeout_ms;
    pool->max_lifetime_ns = (uint64_t)max_lifetime_ms * 1000000u;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->returned, &monotonic);
    pthread_condattr_destroy(&monotonic);
    return pool;
}

void eg_bolt_pool_free(eg_bolt_pool *pool) {
    if (pool == NULL) return;
    for (size_t i = 0; i < pool->idle_count; i++) eg_bolt_conn_close(pool->idle[i]);
    pthread_cond_destroy(&pool->returned);
    pthread_mutex_destroy(&pool->lock);
    free(pool->idle);
    free(pool);
}

const char *eg_bolt_pool_address(const eg_bolt_pool *pool) { return pool->address; }

static bool too_old(const eg_bolt_pool *pool, const eg_bolt_conn *conn) {
    return eg_monotonic_ns() - conn->opened_ns >= pool->max_lifetime_ns;
}

/* Gives up a slot whose connection is gone, waking a waiter. Called with the lock held. */
static void slot_freed(eg_bolt_pool *pool) {
    pool->open_count--;
    pthread_cond_signal(&pool->returned);
}

eg_status eg_bolt_pool_acquire(eg_bolt_pool *pool, eg_bolt_conn **out, eg_bolt_outcome *outcome, eg_error *err) {
    *out = NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += pool->acquisition_timeout_ms / 1000;
    deadline.tv_nsec += (long)(pool->acquisition_timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->idle_count > 0) {
            eg_bolt_conn *conn = pool->idle[--pool->idle_count];
            if (!too_old(pool, conn) && eg_bolt_conn_alive(conn)) {
                pthread_mutex_unlock(&pool->lock);
                *out = conn;
                return EG_OK;
            }
            pool->open_count--; /* its slot goes to this caller's new connection, or the next waiter */
            pthread_mutex_unlock(&pool->lock);
            eg_bolt_conn_close(conn);
            pthread_mutex_lock(&pool->lock);
        }
        if (pool->open_count < pool->max_connections) break;
        if (pthread_cond_timedwait(&pool->returned, &pool->lock, &deadline) == ETIMEDOUT &&
            pool->idle_count == 0 && pool->open_count >= pool->max_connections) {
            pthread_mutex_unlock(&pool->lock);
            return eg_error_set(err, EG_UNAVAILABLE, "bolt: no connection free within %u ms (pool of %u)",
                                pool->acquisition_timeout_ms, pool->max_connections);
        }
    }
    pool->open_count++;
    pthread_mutex_unlock(&pool->lock);
    eg_status s = eg_bolt_conn_open(pool->address, &pool->config, out, outcome, err);
    if (s != EG_OK) {
        pthread_mutex_lock(&pool->lock);
        slot_freed(pool);
        pthread_mutex_unlock(&pool->lock);
    }
    return s;
}

void eg_bolt_pool_release(eg_bolt_pool *pool, eg_bolt_conn *conn) {
    if (conn->broken || too_old(pool, conn)) {
        eg_bolt_conn_close(conn);
        pthread_mutex_lock(&pool->lock);
        slot_freed(pool);
        pthread_mutex_unlock(&pool->lock);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->idle[pool->idle_count++] = conn;
    pthread_cond_signal(&pool->returned);
    pthread_mutex_unlock(&pool->lock);
}
