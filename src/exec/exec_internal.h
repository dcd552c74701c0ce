/* exec_internal.h — how operations plug into the JSON operation interface (internal).
 *
 * Each operation is a row of a table: its name, the arguments it accepts, and a handler that reads typed
 * arguments from the request object and returns a JSON result. Argument readers reject missing, mistyped and
 * out-of-range values with a message naming the argument. */
#ifndef ENGRAM_EXEC_INTERNAL_H
#define ENGRAM_EXEC_INTERNAL_H

#include <engram/exec.h>

typedef eg_status (*eg_exec_handler)(eg_db *db, json_t *args, json_t **result, eg_error *err);

typedef struct eg_exec_op {
    const char *name;
    eg_exec_handler handler;
    const char *const *arguments; /* NULL-terminated; "op" is implicit */
    /* A read: the stores it reads (EG_READS_GRAPH | EG_READS_VECTORS). Its results feed the fallback read cache,
     * which answers it when a store is unavailable. 0: not a read. */
    unsigned reads;
} eg_exec_op;

#define EG_READS_GRAPH 1u   /* 1u << EG_READ_CACHE_GRAPH */
#define EG_READS_VECTORS 2u /* 1u << EG_READ_CACHE_VECTORS */

/* The graph operations (ops_graph.c); terminated by a row with name NULL. */
extern const eg_exec_op eg_exec_graph_ops[];
/* The vector store operations (ops_vectors.c); terminated the same way. */
extern const eg_exec_op eg_exec_vector_ops[];
/* The memory operations (ops_memory.c); terminated the same way. */
extern const eg_exec_op eg_exec_memory_ops[];
/* The cold archive's operations (ops_archive.c); terminated the same way. */
extern const eg_exec_op eg_exec_archive_ops[];
/* The operations on the engine itself: health, config, set_faults (ops_admin.c); terminated the same way. */
extern const eg_exec_op eg_exec_admin_ops[];
/* The Cypher statement operation, `cypher` (ops_cypher.c); terminated the same way. */
extern const eg_exec_op eg_exec_cypher_ops[];

/* The graph the graph operations of this thread act on: its open transaction on db
 * (eg_exec_begin_graph_transaction), else db's graph. */
eg_graph *eg_exec_graph(eg_db *db);

/* Argument readers. `required` false: a missing (or null) argument leaves *out as the caller set it. */
eg_status eg_arg_string(json_t *args, const char *name, bool required, const char **out, eg_error *err);
eg_status eg_arg_int(json_t *args, const char *name, bool required, long long min, long long max, long long *out,
                     eg_error *err);
eg_status eg_arg_number(json_t *args, const char *name, bool required, double *out, eg_error *err);
eg_status eg_arg_object(json_t *args, const char *name, bool required, json_t **out, eg_error *err);
eg_status eg_arg_array(json_t *args, const char *name, bool required, json_t **out, eg_error *err);
/* A boolean flag; a missing (or null) one keeps the caller's default in *out. */
eg_status eg_arg_bool(json_t *args, const char *name, bool *out, eg_error *err);
/* The `filter` argument compiled (NULL when absent or null; free with eg_filter_free). */
eg_status eg_arg_filter(json_t *args, eg_filter **out, eg_error *err);
/* Any JSON value (including null); required means present. */
eg_status eg_arg_value(json_t *args, const char *name, json_t **out, eg_error *err);

/* Is name one of the NULL-terminated names? */
bool eg_name_in(const char *const *names, const char *name);
/* Rejects a member of a nested object (a batch item, a point) outside the NULL-terminated `allowed`. */
eg_status eg_check_fields(json_t *object, const char *const *allowed, eg_error *err);
/* Refuses an array of more than max items before any of it is decoded. */
eg_status eg_check_batch(json_t *items, size_t max, const char *what, eg_error *err);

/* The `quantization_config` argument (Qdrant's shape: {"scalar": {"type": "int8", ...}} or null) into *out,
 * which a missing or null one leaves as it is; every other kind of quantization is refused by name. Shared with
 * the Qdrant routes of `engram serve`, which take the same member. */
eg_status eg_quantization_config_from_json(json_t *args, eg_quantization *out, eg_error *err);

/* Out of memory while building a result. */
eg_status eg_exec_no_memory(eg_error *err);
/* Hands a built result to the caller: value (NULL means building it ran out of memory) becomes *result. */
eg_status eg_exec_result(json_t *value, json_t **result, eg_error *err);

#endif
