/* executor_internal.h — what the pieces of the Cypher executor share: the statement's run state (graph,
 * parameters, clock, counters, failure), the row table every clause transforms, the expression environment, and
 * the value helpers of values.c.
 *
 * Rows are arrays of owned eg_ps_value cells, one per variable in scope; a clause reads a table and builds the
 * next one, so every intermediate row set is materialised and bounded by CY_MAX_ROWS. Functions that can fail
 * return false after filling run->failure with a Neo4j status code; out-of-memory is one such failure. */
#ifndef ENGRAM_CYPHER_EXECUTOR_INTERNAL_H
#define ENGRAM_CYPHER_EXECUTOR_INTERNAL_H

#include "cypher/cypher.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CY_SYNTAX_ERROR "Neo.ClientError.Statement.SyntaxError"
#define CY_SEMANTIC_ERROR "Neo.ClientError.Statement.SemanticError"
#define CY_ARGUMENT_ERROR "Neo.ClientError.Statement.ArgumentError"
#define CY_TYPE_ERROR "Neo.ClientError.Statement.TypeError"
#define CY_ARITHMETIC_ERROR "Neo.ClientError.Statement.ArithmeticError"
#define CY_ENTITY_NOT_FOUND "Neo.ClientError.Statement.EntityNotFound"
#define CY_PARAMETER_MISSING "Neo.ClientError.Statement.ParameterMissing"
#define CY_EXECUTION_FAILED "Neo.ClientError.Statement.ExecutionFailed"
#define CY_CONSTRAINT_FAILED "Neo.ClientError.Schema.ConstraintValidationFailed"
#define CY_PROCEDURE_NOT_FOUND "Neo.ClientError.Procedure.ProcedureNotFound"
#define CY_UNAVAILABLE "Neo.TransientError.General.DatabaseUnavailable"
#define CY_UNKNOWN_ERROR "Neo.DatabaseError.General.UnknownError"

/* PackStream structure tags of graph values (Bolt 5 field layouts). */
#define CY_TAG_NODE 0x4E         /* id, labels, properties, element_id */
#define CY_TAG_RELATIONSHIP 0x52 /* id, start id, end id, type, properties, element_id, start/end element ids */
#define CY_TAG_UNBOUND_REL 0x72  /* id, type, properties, element_id */
#define CY_TAG_PATH 0x50         /* nodes, unbound relationships, indices */

/* Nesting of a value a statement builds (lists, maps, structures inside each other): values are copied, compared
 * and freed recursively, and statements can nest one level per clause, so a hostile one could otherwise build a
 * value deep enough to overflow the stack. */
#define CY_MAX_VALUE_DEPTH 64
/* Node patterns in one clause's pattern (all its parts): the search recurses a few frames per element. */
#define CY_MAX_PATTERN_NODES 64
/* Relationship types shortestPath may name as alternatives (-[:A|B*..3]-): find_path takes them as a list. */
#define CY_MAX_PATTERN_TYPES 64

/* What a statement changed, in the order of Neo4j's counter names. */
typedef struct cy_stats {
    int64_t nodes_created, nodes_deleted, relationships_created, relationships_deleted, properties_set, labels_added,
        labels_removed, indexes_added, indexes_removed, constraints_added, constraints_removed;
} cy_stats;

/* A set of strings (open addressing); used for the element ids a statement wrote or deleted. */
typedef struct cy_string_set {
    char **slots;
    size_t capacity, count;
} cy_string_set;

typedef struct cy_run {
    eg_graph *graph;
    const eg_ps_value *parameters; /* an EG_PS_DICT or NULL */
    int64_t now_ms;
    eg_bolt_failure *failure;
    cy_stats stats;
    /* Element ids of nodes and relationships this statement changed: a row's copy of one of them may be stale,
     * so reading its properties goes back to the graph (cy_entity_current). */
    cy_string_set changed;
    /* Element ids this statement deleted: a later write to one fails instead of recreating it. */
    cy_string_set deleted;
} cy_run;

/* Variables in scope (names borrowed from the syntax tree) and the rows holding their values. */
typedef struct cy_table {
    const char **names;
    size_t width;
    eg_ps_value **rows;
    size_t count, capacity;
} cy_table;

/* A comprehension's variable, shadowing the row's. */
typedef struct cy_local {
    const char *name;
    const eg_ps_value *value;
    const struct cy_local *next;
} cy_local;

/* The results of the aggregate calls of a projection item, for evaluating the item once per group. */
typedef struct cy_aggregate_results {
    const cy_expr *const *calls;
    const eg_ps_value *values;
    size_t count;
} cy_aggregate_results;

typedef struct cy_env {
    cy_run *run;
    const char *const *names;
    size_t width;
    const eg_ps_value *row;
    const cy_local *locals;
    const cy_aggregate_results *aggregates;
} cy_env;

typedef enum cy_truth { CY_FALSE, CY_TRUE, CY_UNKNOWN } cy_truth;

/* ---- failures (executor.c) ---- */
bool cy_fail(cy_run *run, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The Neo4j status code of a graph status (INVALID_ARGUMENT: ArgumentError, NOT_FOUND: EntityNotFound, CONFLICT:
 * ConstraintValidationFailed, UNAVAILABLE/TIMEOUT/LOCKED: DatabaseUnavailable, others: UnknownError). */
const char *cy_status_code(eg_status status);
/* Fails with the code of a graph status. */
bool cy_fail_status(cy_run *run, eg_status status, const eg_error *err, const char *doing);
bool cy_out_of_memory(cy_run *run);

/* ---- names (executor.c): the one place that decides which labels and types exist ---- */
/* False for a name the graph's schema does not take: a pattern naming it matches nothing. */
bool cy_resolve_label(const eg_graph *graph, const char *name, eg_label *out);
bool cy_resolve_rel_type(const eg_graph *graph, const char *name, eg_rel_type *out);
/* The same, failing with ArgumentError naming the allowed names (for CREATE and MERGE). */
bool cy_require_label(cy_run *run, const char *name, eg_label *out);
bool cy_require_rel_type(cy_run *run, const char *name, eg_rel_type *out);

/* ---- values (values.c) ---- */
static inline eg_ps_value cy_null(void) { return (eg_ps_value){.kind = EG_PS_NULL}; }
static inline eg_ps_value cy_bool(bool b) { return (eg_ps_value){.kind = EG_PS_BOOL, .as.boolean = b}; }
static inline eg_ps_value cy_int(int64_t i) { return (eg_ps_value){.kind = EG_PS_INT, .as.integer = i}; }
static inline eg_ps_value cy_float(double d) { return (eg_ps_value){.kind = EG_PS_FLOAT, .as.real = d}; }
bool cy_string(cy_run *run, const char *text, size_t len, eg_ps_value *out);
/* A list of count nulls for the caller to fill. */
bool cy_list(cy_run *run, size_t count, eg_ps_value *out);
/* Appends value (taken) to list, growing it. */
bool cy_list_push(cy_run *run, eg_ps_value *list, eg_ps_value *value);
/* Adds or replaces key in dict with value (taken). */
bool cy_dict_put(cy_run *run, eg_ps_value *dict, const char *key, size_t key_len, eg_ps_value *value);
const eg_ps_value *cy_dict_get(const eg_ps_value *dict, const char *key);
static inline eg_ps_value cy_dict_empty(void) { return (eg_ps_value){.kind = EG_PS_DICT}; }
bool cy_copy(cy_run *run, const eg_ps_value *from, eg_ps_value *to);
/* Moves *from into *to (which must hold nothing) and leaves *from null. */
void cy_move(eg_ps_value *to, eg_ps_value *from);

bool cy_is_node(const eg_ps_value *v);
bool cy_is_relationship(const eg_ps_value *v);
bool cy_is_path(const eg_ps_value *v);
static inline bool cy_is_number(const eg_ps_value *v) { return v->kind == EG_PS_INT || v->kind == EG_PS_FLOAT; }
static inline double cy_number(const eg_ps_value *v) {
    return v->kind == EG_PS_INT ? (double)v->as.integer : v->as.real;
}
/* A node's id (its element id), a relationship's "source>TYPE>target". */
const char *cy_element_id(const eg_ps_value *entity);
/* A relationship's ends and type name (borrowed). */
void cy_relationship_ends(const eg_ps_value *rel, const char **source, const char **type, const char **target);
/* The properties dict of a node or relationship value (as held; see cy_entity_current for fresh ones). */
const eg_ps_value *cy_entity_properties(const eg_ps_value *entity);
/* The one label of a node value. */
const char *cy_node_label(const eg_ps_value *node);

/* The Cypher value of a graph node / relationship. */
bool cy_node_value(cy_run *run, const eg_node *node, eg_ps_value *out);
bool cy_relationship_value(cy_run *run, const eg_relationship *rel, eg_ps_value *out);
/* A 63-bit non-negative hash: id() of a node (of its id) and of a relationship (source, type, target). */
int64_t cy_node_identity(const char *id);
int64_t cy_relationship_identity(const char *source, const char *type, const char *target);

/* The relationship (source, type, target) from the graph; *found false when there is none. */
bool cy_fetch_relationship(cy_run *run, const char *source, const char *type, const char *target, eg_ps_value *out,
                           bool *found);
/* Replaces, inside *v (lists, maps and paths included), every node and relationship this statement changed by
 * its current value (deleted ones stay as they were): what RETURN sends. */
bool cy_refresh_entities(cy_run *run, eg_ps_value *v);
/* Marks an element id as changed (and deleted). */
bool cy_mark_changed(cy_run *run, const char *element_id, bool deleted);

/* The entity as it is now: a copy of *entity, or, when this statement changed it, read back from the graph.
 * *gone is set when it was deleted (then *out is a copy of what the row held). */
bool cy_entity_current(cy_run *run, const eg_ps_value *entity, eg_ps_value *out, bool *gone);

bool cy_json_to_value(cy_run *run, const json_t *json, eg_ps_value *out);
/* A value that may be stored as property `name`: TypeError (naming it) for maps, bytes, structures, NaN or
 * infinities, lists of mixed or unstorable items. */
bool cy_property_json(cy_run *run, const char *name, const eg_ps_value *value, json_t **out);

/* Fails with ExecutionFailed when v nests deeper than CY_MAX_VALUE_DEPTH (looking no deeper than that). */
bool cy_check_depth(cy_run *run, const eg_ps_value *v);

/* Three-valued equality (=): null when either side is or holds null where it matters. */
cy_truth cy_equals(const eg_ps_value *a, const eg_ps_value *b);
/* <, <=, >, >= : false when the values are not comparable (the comparison is then null), else *order is set. */
bool cy_compare(const eg_ps_value *a, const eg_ps_value *b, int *order);
/* Equivalence for DISTINCT and grouping (null equals null, 1 equals 1.0) and its hash. */
bool cy_equivalent(const eg_ps_value *a, const eg_ps_value *b);
uint64_t cy_hash(const eg_ps_value *v);
/* The total order of ORDER BY (ascending; null last). */
int cy_order(const eg_ps_value *a, const eg_ps_value *b);
/* The Cypher type name of a value, for messages ("Integer", "String", "Node", ...). */
const char *cy_type_name(const eg_ps_value *v);
/* toString of a number (floats as Neo4j prints them: 1.0, 0.1). */
void cy_format_float(double d, char *out, size_t cap);

uint64_t cy_fnv1a(const void *data, size_t len, uint64_t h);
#define CY_FNV_OFFSET 1469598103934665603ULL

bool cy_string_set_add(cy_string_set *set, const char *s);
bool cy_string_set_has(const cy_string_set *set, const char *s);
void cy_string_set_free(cy_string_set *set);

/* ---- rows (executor.c) ---- */
void cy_table_init(cy_table *t, const char **names, size_t width);
void cy_table_free(cy_table *t);
/* Appends row (taken, width cells), failing with ExecutionFailed past CY_MAX_ROWS. */
bool cy_table_add(cy_run *run, cy_table *t, eg_ps_value *row);
eg_ps_value *cy_row_new(cy_run *run, size_t width);
void cy_row_free(eg_ps_value *row, size_t width);
/* The column of name, or -1. */
long cy_scope_find(const char *const *names, size_t width, const char *name);
/* A copy of table t's row widened to new_width (the added cells null). */
eg_ps_value *cy_row_widen(cy_run *run, const eg_ps_value *row, size_t width, size_t new_width);
/* names plus name (when absent); returns the new width. */
bool cy_scope_add(cy_run *run, const char ***names, size_t *width, const char *name);
/* names plus every variable a pattern introduces (nodes, relationships, paths), in order (match.c). */
bool cy_scope_add_pattern(cy_run *run, const cy_pattern *pattern, const char ***names, size_t *width);

/* ---- expressions (evaluate.c, functions.c) ---- */
bool cy_eval(const cy_env *env, const cy_expr *e, eg_ps_value *out);
/* WHERE: true only for true (null and false drop the row). */
bool cy_eval_predicate(const cy_env *env, const cy_expr *e, bool *keep);
/* The variable's value without a copy, or NULL (unbound names fail with a SyntaxError). */
bool cy_lookup(const cy_env *env, const char *name, const eg_ps_value **out);
bool cy_is_aggregate_call(const cy_expr *e);
/* Whether engram knows the function (or aggregation) name; the failure naming an unknown one. */
bool cy_function_known(const char *name);
bool cy_unknown_function(cy_run *run, const cy_expr *call);
bool cy_call_function(const cy_env *env, const cy_expr *call, eg_ps_value *args, size_t count, eg_ps_value *out);
/* A property of a value: of a map, node or relationship (current), else TypeError; null of null. */
bool cy_property_of(cy_run *run, const eg_ps_value *value, const char *key, eg_ps_value *out);
/* Structural equality of two expressions (ORDER BY naming a projected expression). */
bool cy_expr_same(const cy_expr *a, const cy_expr *b);

/* ---- before running (check.c) ---- */
/* Refuses, whatever the data, what the statement's text shows is outside the subset or wrong: clause order,
 * unknown functions, =~, pattern expressions, variables not defined where they are used. */
bool cy_check_statement(cy_run *run, const cy_statement *statement);
/* Whether the clause changes the graph (CREATE, MERGE, SET, REMOVE, DELETE). */
bool cy_is_update_clause(cy_clause_kind kind);

/* ---- clauses ---- */
bool cy_match(cy_run *run, const cy_clause *clause, cy_table *table);  /* match.c */
bool cy_create(cy_run *run, const cy_clause *clause, cy_table *table); /* writes.c */
bool cy_merge(cy_run *run, const cy_clause *clause, cy_table *table);
bool cy_set(cy_run *run, const cy_set_list *items, const cy_table *table, size_t row);
bool cy_delete(cy_run *run, const cy_clause *clause, const cy_table *table);
/* RETURN (is_with false) and WITH; the table becomes the projection's. */
bool cy_project(cy_run *run, const cy_projection *projection, cy_table *table, bool is_with); /* projection.c */
/* Binds a pattern's path variable: the path through nodes[0..rels] with rels[i] between nodes[i] and nodes[i+1]. */
bool cy_path_value(cy_run *run, const eg_ps_value *nodes, const eg_ps_value *rels, size_t rel_count, eg_ps_value *out);
/* The node a relationship starts or ends at, read from the graph. */
bool cy_fetch_node(cy_run *run, const char *id, eg_ps_value *out, bool *found);

#endif
