/* guard.h — a decorator over either store interface that lets one piece of policy look at every call: refuse it
 * before it runs, and see how it ended. Fault injection (faults.h) and the circuit breaker are guards; the
 * wrappers here know nothing about either.
 *
 * A guarded store implements the same operation table as the store it wraps. Each operation asks the guard's
 * `before` first; when that refuses, the call fails with before's status and message and the inner store never
 * sees it. Otherwise the call goes to the inner store unchanged and its status is shown to `after`.
 *
 * Operation names given to the guard are exactly the field names of eg_graph_ops / eg_vectors_ops
 * ("create_node", "reweight_relationship", "search_hybrid", "delete_points", ...), listed in eg_graph_op_names and
 * eg_vectors_op_names; store names are "graph" and "vectors". `close` is never shown to the guard.
 *
 * Arguments reaching a guarded store were validated by the eg_graph_* / eg_vectors_* entry points, so caller
 * mistakes that validation catches never reach a guard. Caller errors found by the store itself (EG_NOT_FOUND,
 * EG_CONFLICT) do reach `after`, which must use eg_status_is_caller_error to tell them from store failures.
 *
 * Graph transactions: the transaction a guarded begin returns is guarded by the same guard, so every operation
 * inside it, its "commit" and its "rollback" reach the guard (a commit the guard refuses rolls the transaction
 * back). A write that fails inside it, refused by the guard or by the store, leaves it good only for rollback.
 * `before` of "rollback" gets a NULL err and its refusal is ignored: a rollback cannot fail; `after` then sees EG_OK.
 *
 * Threads: a guarded store is as thread-safe as the store it wraps, provided the guard's callbacks are: they
 * are called concurrently from every thread using the store. */
#ifndef ENGRAM_RESILIENCE_GUARD_H
#define ENGRAM_RESILIENCE_GUARD_H

#include <engram/graph.h>
#include <engram/status.h>
#include <engram/vectors.h>

typedef struct eg_guard {
    /* Runs before operation `op` (e.g. "create_node", "upsert") of store `store` ("graph" or "vectors").
     * A status other than EG_OK fails the call with that status and the message it set in err (which may be
     * NULL: fill it with eg_error_set) without running it. NULL: every call runs. */
    eg_status (*before)(void *self, const char *store, const char *op, eg_error *err);
    /* Sees how each call that ran ended (not those `before` refused): its status and the caller's error report,
     * whose message means something only when status is not EG_OK, and which is NULL when the caller passed
     * none. NULL: nothing to see. */
    void (*after)(void *self, const char *store, const char *op, eg_status status, const eg_error *err);
    void *self; /* passed to both callbacks */
} eg_guard;

/* Wraps inner, taking ownership: closing the wrapper closes inner. The guard struct is copied; guard->self is
 * borrowed and must outlive the wrapper. The wrapper's name is inner's. On failure (a NULL argument:
 * EG_INVALID_ARGUMENT, out of memory: EG_INTERNAL) nothing is taken and inner stays the caller's. */
eg_status eg_graph_guard(eg_graph *inner, const eg_guard *guard, eg_graph **out, eg_error *err);
eg_status eg_vectors_guard(eg_vectors *inner, const eg_guard *guard, eg_vectors **out, eg_error *err);

/* The operation names of each interface, in table order, NULL-terminated (close excluded). */
extern const char *const eg_graph_op_names[];
extern const char *const eg_vectors_op_names[];

/* ---- For the wrappers: one call through a guard -------------------------------------------------------- */

static inline eg_status eg_guard_before(const eg_guard *guard, const char *store, const char *op, eg_error *err) {
    return guard->before ? guard->before(guard->self, store, op, err) : EG_OK;
}

static inline void eg_guard_after(const eg_guard *guard, const char *store, const char *op, eg_status status,
                                  const eg_error *err) {
    if (guard->after) guard->after(guard->self, store, op, status, err);
}

#endif
