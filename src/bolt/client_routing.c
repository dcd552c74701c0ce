/* client_routing.c — the routing of a neo4j:// target (client_internal.h): the cluster's routing table, asked for
 * with ROUTE (the database and the last bookmark) from a router it names, or from the URI's server when none
 * answers; writers for writes, readers round-robin for reads, a pool of connections per server.
 *
 * The table lives for its ttl. A server that failed a request in a way that says it cannot serve the role (a
 * dropped connection, NotALeader, a database unavailable) is forgotten for that role and the table marked stale,
 * so that the next acquisition asks again: after a leader change the new writer is found within one retry. A
 * client serves one database (client.h), so one table is the table of that database. Pools are kept until the
 * client closes, so that a connection released after its server left the table still finds its pool. */
#include "bolt/client_internal.h"

#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct server_list {
    char (*addresses)[EG_BOLT_ADDRESS_MAX];
    size_t count;
} server_list;

struct eg_bolt_router {
    char seed[EG_BOLT_ADDRESS_MAX];
    char *database;
    eg_bolt_connect_config config;
    uint32_t max_connections, acquisition_timeout_ms, max_lifetime_ms;
    pthread_mutex_t lock;         /* everything below */
    pthread_mutex_t refresh_lock; /* one ROUTE at a time; taken before lock */
    eg_bolt_pool **pools;
    size_t pool_count;
    server_list writers, readers, routers;
    uint64_t expires_ns;
    bool stale;
    size_t next_reader, next_writer;
};

eg_bolt_router *eg_bolt_router_new(const char *seed_address, const eg_bolt_connect_config *config,
                                   const eg_bolt_client_options *options) {
    eg_bolt_router *router = calloc(1, sizeof *router);
    if (router == NULL) return NULL;
    if (options->database != NULL && options->database[0] != '\0') {
        router->database = strdup(options->database);
        if (router->database == NULL) {
            free(router);
            return NULL;
        }
    }
    snprintf(router->seed, sizeof router->seed, "%s", seed_address);
    router->config = *config;
    router->max_connections = options->max_connections;
    router->acquisition_timeout_ms = options->acquisition_timeout_ms;
    router->max_lifetime_ms = options->max_lifetime_ms;
    router->stale = true;
    pthread_mutex_init(&router->lock, NULL);
    pthread_mutex_init(&router->refresh_lock, NULL);
    return router;
}

void eg_bolt_router_free(eg_bolt_router *router) {
    if (router == NULL) return;
    for (size_t i = 0; i < router->pool_count; i++) eg_bolt_pool_free(router->pools[i]);
    free(router->pools);
    free(router->writers.addresses);
    free(router->readers.addresses);
    free(router->routers.addresses);
    free(router->database);
    pthread_mutex_destroy(&router->refresh_lock);
    pthread_mutex_destroy(&router->lock);
    free(router);
}

/* The pool of address, made on first use. Called with the lock held; NULL when out of memory. */
static eg_bolt_pool *pool_for(eg_bolt_router *router, const char *address) {
    for (size_t i = 0; i < router->pool_count; i++)
        if (strcmp(eg_bolt_pool_address(router->pools[i]), address) == 0) return router->pools[i];
    eg_bolt_pool **grown = realloc(router->pools, (router->pool_count + 1) * sizeof *grown);
    if (grown == NULL) return NULL;
    router->pools = grown;
    eg_bolt_pool *pool = eg_bolt_pool_new(address, &router->config, router->max_connections,
                                          router->acquisition_timeout_ms, router->max_lifetime_ms);
    if (pool != NULL) router->pools[router->pool_count++] = pool;
    return pool;
}

/* ---- the table ---- */

/* The addresses of the servers of role in the ROUTE answer's "servers"; false when the answer is malformed. */
static bool read_role(const eg_ps_value *servers, const char *role, server_list *out) {
    *out = (server_list){0};
    size_t total = 0;
    for (size_t i = 0; i < servers->as.list.count; i++) {
        const eg_ps_value *entry = &servers->as.list.items[i];
        if (entry->kind != EG_PS_DICT) return false;
        const eg_ps_value *name = NULL, *addresses = NULL;
        for (size_t j = 0; j < entry->as.dict.count; j++) {
            if (strcmp(entry->as.dict.entries[j].key, "role") == 0) name = &entry->as.dict.entries[j].value;
            if (strcmp(entry->as.dict.entries[j].key, "addresses") == 0) addresses = &entry->as.dict.entries[j].value;
        }
        if (name == NULL || name->kind != EG_PS_STRING || addresses == NULL || addresses->kind != EG_PS_LIST)
            return false;
        if (strcmp(name->as.text.data, role) != 0) continue;
        for (size_t j = 0; j < addresses->as.list.count; j++) {
            const eg_ps_value *a = &addresses->as.list.items[j];
            if (a->kind != EG_PS_STRING || a->as.text.len == 0 || a->as.text.len >= EG_BOLT_ADDRESS_MAX ||
                strlen(a->as.text.data) != a->as.text.len)
                return false;
            void *grown = realloc(out->addresses, (total + 1) * sizeof *out->addresses);
            if (grown == NULL) return false;
            out->addresses = grown;
            memcpy(out->addresses[total++], a->as.text.data, a->as.text.len + 1);
            out->count = total;
        }
    }
    return true;
}

/* Installs the table of a ROUTE answer ("rt": ttl, servers); false when it is malformed. */
static bool install_table(eg_bolt_router *router, const eg_ps_value *table) {
    const eg_ps_value *ttl = NULL, *servers = NULL;
    for (size_t i = 0; i < table->as.dict.count; i++) {
        if (strcmp(table->as.dict.entries[i].key, "ttl") == 0) ttl = &table->as.dict.entries[i].value;
        if (strcmp(table->as.dict.entries[i].key, "servers") == 0) servers = &table->as.dict.entries[i].value;
    }
    if (ttl == NULL || ttl->kind != EG_PS_INT || servers == NULL || servers->kind != EG_PS_LIST) return false;
    server_list writers, readers, routers;
    bool read = read_role(servers, "WRITE", &writers);
    read = read_role(servers, "READ", &readers) && read;
    read = read_role(servers, "ROUTE", &routers) && read;
    if (!read || routers.count == 0) {
        free(writers.addresses), free(readers.addresses), free(routers.addresses);
        return false;
    }
    /* a day bounds a hostile ttl; a table is asked for again when a server fails anyway */
    int64_t seconds = ttl->as.integer < 0 ? 0 : ttl->as.integer > 86400 ? 86400 : ttl->as.integer;
    pthread_mutex_lock(&router->lock);
    free(router->writers.addresses), free(router->readers.addresses), free(router->routers.addresses);
    router->writers = writers;
    router->readers = readers;
    router->routers = routers;
    router->expires_ns = eg_monotonic_ns() + (uint64_t)seconds * 1000000000u;
    router->stale = false;
    pthread_mutex_unlock(&router->lock);
    return true;
}

/* Whether the table must be asked for again before a server of the role is picked. Called with the lock held. */
static bool needs_refresh(const eg_bolt_router *router, eg_bolt_access access) {
    const server_list *role = access == EG_BOLT_WRITE ? &router->writers : &router->readers;
    return router->stale || eg_monotonic_ns() >= router->expires_ns || role->count == 0;
}

/* ROUTE through one router. */
static eg_status route_through(eg_bolt_router *router, const char *address, const char *bookmark,
                               eg_bolt_outcome *outcome, eg_error *err) {
    pthread_mutex_lock(&router->lock);
    eg_bolt_pool *pool = pool_for(router, address);
    pthread_mutex_unlock(&router->lock);
    if (pool == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a pool");
    eg_bolt_conn *conn;
    eg_status s = eg_bolt_pool_acquire(pool, &conn, outcome, err);
    if (s != EG_OK) return s;
    eg_ps_value table;
    s = eg_bolt_conn_route(conn, router->database, bookmark, &table, outcome, err);
    eg_bolt_pool_release(pool, conn);
    if (s == EG_OK && !install_table(router, &table))
        s = eg_error_set(err, EG_UNAVAILABLE, "bolt: router %s answered a malformed routing table", address);
    eg_ps_value_free(&table);
    return s;
}

/* Asks the known routers, then the URI's server, for the table, unless another thread just did. */
static eg_status refresh(eg_bolt_router *router, eg_bolt_access access, const char *bookmark,
                         eg_bolt_outcome *outcome, eg_error *err) {
    pthread_mutex_lock(&router->refresh_lock);
    pthread_mutex_lock(&router->lock);
    bool needed = needs_refresh(router, access);
    server_list routers = {0};
    if (needed && router->routers.count > 0) {
        routers.addresses = malloc(router->routers.count * sizeof *routers.addresses);
        if (routers.addresses != NULL) {
            memcpy(routers.addresses, router->routers.addresses, router->routers.count * sizeof *routers.addresses);
            routers.count = router->routers.count;
        }
    }
    pthread_mutex_unlock(&router->lock);
    eg_status s = EG_OK;
    if (needed) {
        s = EG_UNAVAILABLE;
        for (size_t i = 0; i < routers.count && s != EG_OK; i++) {
            *outcome = (eg_bolt_outcome){{{0}}};
            s = route_through(router, routers.addresses[i], bookmark, outcome, err);
        }
        if (s != EG_OK) {
            *outcome = (eg_bolt_outcome){{{0}}};
            s = route_through(router, router->seed, bookmark, outcome, err);
        }
    }
    free(routers.addresses);
    pthread_mutex_unlock(&router->refresh_lock);
    return s;
}

eg_status eg_bolt_router_acquire(eg_bolt_router *router, eg_bolt_access access, const char *bookmark,
                                 eg_bolt_pool **pool_out, eg_bolt_conn **out, eg_bolt_outcome *outcome,
                                 eg_error *err) {
    *pool_out = NULL;
    *out = NULL;
    pthread_mutex_lock(&router->lock);
    bool stale = needs_refresh(router, access);
    pthread_mutex_unlock(&router->lock);
    if (stale) {
        eg_status s = refresh(router, access, bookmark, outcome, err);
        if (s != EG_OK) return s;
    }
    pthread_mutex_lock(&router->lock);
    server_list *role = access == EG_BOLT_WRITE ? &router->writers : &router->readers;
    if (role->count == 0) {
        pthread_mutex_unlock(&router->lock);
        outcome->connection_failed = true; /* a cluster between leaders: asking again later may find one */
        return eg_error_set(err, EG_UNAVAILABLE, "bolt: the routing table names no %s",
                            access == EG_BOLT_WRITE ? "writer" : "reader");
    }
    size_t *next = access == EG_BOLT_WRITE ? &router->next_writer : &router->next_reader;
    eg_bolt_pool *pool = pool_for(router, role->addresses[(*next)++ % role->count]);
    pthread_mutex_unlock(&router->lock);
    if (pool == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a pool");
    *pool_out = pool;
    return eg_bolt_pool_acquire(pool, out, outcome, err);
}

void eg_bolt_router_forget(eg_bolt_router *router, eg_bolt_access access, const char *address) {
    pthread_mutex_lock(&router->lock);
    server_list *role = access == EG_BOLT_WRITE ? &router->writers : &router->readers;
    for (size_t i = 0; i < role->count; i++)
        if (strcmp(role->addresses[i], address) == 0) {
            memmove(role->addresses[i], role->addresses[i + 1], (role->count - i - 1) * sizeof *role->addresses);
            role->count--;
            break;
        }
    router->stale = true;
    pthread_mutex_unlock(&router->lock);
}
