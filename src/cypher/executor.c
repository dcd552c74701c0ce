/* executor.c — running a parsed statement: the clause pipeline (each clause turns the table of rows into the
 * next), UNWIND, the schema statements (which engram's model answers without storing anything), the result and
 * its counters, and what the other executor files share: failures with Neo4j status codes, label and type
 * names, row tables. */
#include "cypher/executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures ---- */

bool cy_fail(cy_run *run, const char *code, const char *fmt, ...) {
    /* The first failure is the one reported: later ones are consequences of unwinding. */
    if (run->failure->code[0]) return false;
    snprintf(run->failure->code, sizeof run->failure->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->failure->message, sizeof run->failure->message, fmt, ap);
    va_end(ap);
    return false;
}

bool cy_out_of_memory(cy_run *run) { return cy_fail(run, CY_UNKNOWN_ERROR, "out of memory"); }

const char *cy_status_code(eg_status status) {
    switch (status) {
    case EG_INVALID_ARGUMENT: return CY_ARGUMENT_ERROR;
    case EG_NOT_FOUND: return CY_ENTITY_NOT_FOUND;
    case EG_CONFLICT: return CY_CONSTRAINT_FAILED;
    case EG_UNAVAILABLE:
    case EG_TIMEOUT:
    case EG_LOCKED: return CY_UNAVAILABLE;
    default: return CY_UNKNOWN_ERROR;
    }
}

bool cy_fail_status(cy_run *run, eg_status status, const eg_error *err, const char *doing) {
    /* engram's messages name no server paths (engram/status.h), so they pass through. */
    return cy_fail(run, cy_status_code(status), "%s: %s", doing, err->message);
}

/* ---- names: the one place deciding which labels and relationship types exist ---- */

bool cy_resolve_label(const char *name, eg_label *out) { return eg_label_parse(name, out, NULL) == EG_OK; }

bool cy_resolve_rel_type(const char *name, eg_rel_type *out) { return eg_rel_type_parse(name, out, NULL) == EG_OK; }

bool cy_require_label(cy_run *run, const char *name, eg_label *out) {
    eg_error err;
    if (eg_label_parse(name, out, &err) == EG_OK) return true;
    return cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
}

bool cy_require_rel_type(cy_run *run, const char *name, eg_rel_type *out) {
    eg_error err;
    if (eg_rel_type_parse(name, out, &err) == EG_OK) return true;
    return cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
}

/* ---- tables ---- */

void cy_table_init(cy_table *t, const char **names, size_t width) { *t = (cy_table){.names = names, .width = width}; }

void cy_row_free(eg_ps_value *row, size_t width) {
    if (!row) return;
    for (size_t i = 0; i < width; i++) eg_ps_value_free(&row[i]);
    free(row);
}

void cy_table_free(cy_table *t) {
    for (size_t r = 0; r < t->count; r++) cy_row_free(t->rows[r], t->width);
    free(t->rows);
    free(t->names);
    *t = (cy_table){0};
}

bool cy_table_add(cy_run *run, cy_table *t, eg_ps_value *row) {
    if (t->count >= CY_MAX_ROWS) {
        cy_row_free(row, t->width);
        return cy_fail(run, CY_EXECUTION_FAILED,
                       "the statement would hold more than %zu rows at once, engram's bound; narrow it with WHERE, "
                       "LIMIT or smaller batches",
                       (size_t)CY_MAX_ROWS);
    }
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 16;
        eg_ps_value **rows = realloc(t->rows, capacity * sizeof *rows);
        if (!rows) {
            cy_row_free(row, t->width);
            return cy_out_of_memory(run);
        }
        t->rows = rows;
        t->capacity = capacity;
    }
    t->rows[t->count++] = row;
    return true;
}

eg_ps_value *cy_row_new(cy_run *run, size_t width) {
    eg_ps_value *row = calloc(width ? width : 1, sizeof *row);
    if (!row) cy_out_of_memory(run);
    return row;
}

long cy_scope_find(const char *const *names, size_t width, const char *name) {
    for (size_t i = 0; i < width; i++)
        if (strcmp(names[i], name) == 0) return (long)i;
    return -1;
}

eg_ps_value *cy_row_widen(cy_run *run, const eg_ps_value *row, size_t width, size_t new_width) {
    eg_ps_value *wide = cy_row_new(run, new_width);
    for (size_t i = 0; wide && i < width; i++)
        if (!cy_copy(run, &row[i], &wide[i])) {
            cy_row_free(wide, new_width);
            return NULL;
        }
    return wide;
}

bool cy_scope_add(cy_run *run, const char ***names, size_t *width, const char *name) {
    if (cy_scope_find(*names, *width, name) >= 0) return true;
    const char **grown = realloc(*names, (*width + 2) * sizeof *grown);
    if (!grown) return cy_out_of_memory(run);
    grown[(*width)++] = name;
    *names = grown;
    return true;
}

/* ---- clauses ---- */

static bool unwind(cy_run *run, const cy_clause *clause, cy_table *table) {
    const char **names = malloc((table->width + 1) * sizeof *names);
    if (!names) return cy_out_of_memory(run);
    if (table->width) memcpy(names, table->names, table->width * sizeof *names);
    size_t width = table->width;
    if (cy_scope_find(names, width, clause->variable) >= 0) {
        free(names);
        return cy_fail(run, CY_SYNTAX_ERROR, "Variable `%s` already declared", clause->variable);
    }
    names[width++] = clause->variable;
    cy_table out;
    cy_table_init(&out, names, width);
    bool ok = true;
    for (size_t r = 0; ok && r < table->count; r++) {
        cy_env env = {.run = run, .names = table->names, .width = table->width, .row = table->rows[r]};
        eg_ps_value list;
        if (!(ok = cy_eval(&env, clause->expression, &list))) break;
        /* A list gives a row per item, null gives none, any other value one row. */
        size_t n = list.kind == EG_PS_LIST ? list.as.list.count : list.kind == EG_PS_NULL ? 0 : 1;
        for (size_t i = 0; ok && i < n; i++) {
            eg_ps_value *row = cy_row_widen(run, table->rows[r], table->width, width);
            ok = row != NULL;
            if (ok) cy_move(&row[width - 1], list.kind == EG_PS_LIST ? &list.as.list.items[i] : &list);
            if (ok) ok = cy_table_add(run, &out, row);
        }
        eg_ps_value_free(&list);
    }
    if (!ok) {
        cy_table_free(&out);
        return false;
    }
    cy_table_free(table);
    *table = out;
    return true;
}

static bool run_clause(cy_run *run, const cy_clause *clause, cy_table *table) {
    switch (clause->kind) {
    case CY_CLAUSE_MATCH: return cy_match(run, clause, table);
    case CY_CLAUSE_UNWIND: return unwind(run, clause, table);
    case CY_CLAUSE_WITH: return cy_project(run, &clause->projection, table, true);
    case CY_CLAUSE_RETURN: return cy_project(run, &clause->projection, table, false);
    case CY_CLAUSE_CREATE: return cy_create(run, clause, table);
    case CY_CLAUSE_MERGE: return cy_merge(run, clause, table);
    case CY_CLAUSE_SET:
    case CY_CLAUSE_REMOVE:
        for (size_t r = 0; r < table->count; r++)
            if (!cy_set(run, &clause->set, table, r)) return false;
        return true;
    case CY_CLAUSE_DELETE: return cy_delete(run, clause, table);
    case CY_CLAUSE_CALL:
        return cy_fail(run, CY_PROCEDURE_NOT_FOUND,
                       "There is no procedure with the name `%s` registered for this database instance: engram "
                       "supports no procedures",
                       clause->variable ? clause->variable : "");
    }
    return cy_fail(run, CY_SYNTAX_ERROR, "unsupported clause");
}

bool cy_is_update_clause(cy_clause_kind kind) {
    return kind == CY_CLAUSE_CREATE || kind == CY_CLAUSE_MERGE || kind == CY_CLAUSE_SET || kind == CY_CLAUSE_REMOVE ||
           kind == CY_CLAUSE_DELETE;
}

/* ---- results ---- */

static bool put_count(cy_run *run, eg_ps_value *stats, const char *name, int64_t count) {
    if (!count) return true;
    eg_ps_value v = cy_int(count);
    return cy_dict_put(run, stats, name, strlen(name), &v);
}

static bool stats_value(cy_run *run, eg_ps_value *out) {
    const cy_stats *s = &run->stats;
    *out = cy_dict_empty();
    bool ok = put_count(run, out, "nodes-created", s->nodes_created) &&
              put_count(run, out, "nodes-deleted", s->nodes_deleted) &&
              put_count(run, out, "relationships-created", s->relationships_created) &&
              put_count(run, out, "relationships-deleted", s->relationships_deleted) &&
              put_count(run, out, "properties-set", s->properties_set) &&
              put_count(run, out, "labels-added", s->labels_added) &&
              put_count(run, out, "labels-removed", s->labels_removed) &&
              put_count(run, out, "indexes-added", s->indexes_added) &&
              put_count(run, out, "indexes-removed", s->indexes_removed) &&
              put_count(run, out, "constraints-added", s->constraints_added) &&
              put_count(run, out, "constraints-removed", s->constraints_removed);
    if (ok && out->as.dict.count) {
        eg_ps_value yes = cy_bool(true);
        ok = cy_dict_put(run, out, "contains-updates", 16, &yes);
    }
    if (ok && !out->as.dict.count) *out = cy_null();
    if (!ok) eg_ps_value_free(out);
    return ok;
}

/* The table as Bolt fields and records (its cells move into the result). */
static bool table_result(cy_run *run, cy_table *table, bool returns, eg_bolt_result *result) {
    size_t width = returns ? table->width : 0, count = returns ? table->count : 0;
    if (!cy_list(run, width, &result->fields) || !cy_list(run, count, &result->records)) return false;
    for (size_t c = 0; c < width; c++)
        if (!cy_string(run, table->names[c], strlen(table->names[c]), &result->fields.as.list.items[c])) return false;
    for (size_t r = 0; r < count; r++) {
        eg_ps_value *record = &result->records.as.list.items[r];
        if (!cy_list(run, width, record)) return false;
        for (size_t c = 0; c < width; c++) {
            if (!cy_refresh_entities(run, &table->rows[r][c])) return false;
            cy_move(&record->as.list.items[c], &table->rows[r][c]);
        }
    }
    return true;
}

/* ---- schema statements ---- */

static bool string_list(cy_run *run, const char *item, eg_ps_value *out) {
    return cy_list(run, 1, out) && cy_string(run, item, strlen(item), &out->as.list.items[0]);
}

static bool put_text(cy_run *run, eg_ps_value *row, size_t column, const char *text) {
    return text ? cy_string(run, text, strlen(text), &row[column]) : true;
}

/* SHOW CONSTRAINTS / SHOW INDEXES: one row per label for the id uniqueness engram keeps (ids are unique across
 * labels, which is stronger) and the id lookup that serves it. */
static bool show_schema(cy_run *run, bool indexes, cy_table *table) {
    static const char *const constraint_columns[] = {
        "id", "name", "type", "entityType", "labelsOrTypes", "properties", "ownedIndex", "propertyType"};
    static const char *const index_columns[] = {
        "id",         "name",          "state",      "populationPercent", "type",
        "entityType", "labelsOrTypes", "properties", "indexProvider",     "owningConstraint",
        "lastRead",   "readCount"};
    const char *const *columns = indexes ? index_columns : constraint_columns;
    size_t width = indexes ? 12 : 8;
    const char **names = malloc(width * sizeof *names);
    if (!names) return cy_out_of_memory(run);
    memcpy(names, columns, width * sizeof *names);
    cy_table_init(table, names, width);
    for (int label = 0; label < EG_LABEL_COUNT; label++) {
        const char *label_name = eg_label_name((eg_label)label);
        char name[64];
        snprintf(name, sizeof name, "%s_id", label_name);
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        eg_ps_value *row = cy_row_new(run, width);
        if (!row) return false;
        row[0] = cy_int(label + 1);
        bool ok = put_text(run, row, 1, name);
        if (indexes) {
            row[3] = cy_float(100.0);
            ok = ok && put_text(run, row, 2, "ONLINE") && put_text(run, row, 4, "RANGE") &&
                 put_text(run, row, 5, "NODE") && string_list(run, label_name, &row[6]) &&
                 string_list(run, "id", &row[7]) && put_text(run, row, 8, "engram-lmdb") && put_text(run, row, 9, name);
        } else {
            ok = ok && put_text(run, row, 2, "UNIQUENESS") && put_text(run, row, 3, "NODE") &&
                 string_list(run, label_name, &row[4]) && string_list(run, "id", &row[5]) &&
                 put_text(run, row, 6, name);
        }
        if (!ok) {
            cy_row_free(row, width);
            return false;
        }
        if (!cy_table_add(run, table, row)) return false;
    }
    return true;
}

static bool schema_statement(cy_run *run, const cy_statement *s, cy_table *table, bool *returns) {
    *returns = false;
    switch (s->kind) {
    case CY_STATEMENT_CREATE_CONSTRAINT:
        if (!s->schema_property || strcmp(s->schema_property, "id") != 0)
            return cy_fail(run, CY_ARGUMENT_ERROR,
                           "engram cannot enforce uniqueness of property '%s': only `id` is unique (across all "
                           "labels)",
                           s->schema_property ? s->schema_property : "");
        return true;
    case CY_STATEMENT_CREATE_INDEX:
    case CY_STATEMENT_DROP_INDEX: return true;
    case CY_STATEMENT_DROP_CONSTRAINT:
        return cy_fail(run, CY_ARGUMENT_ERROR,
                       "engram's id uniqueness is part of its model and cannot be dropped ('%s')",
                       s->schema_name ? s->schema_name : "");
    case CY_STATEMENT_SHOW_CONSTRAINTS:
    case CY_STATEMENT_SHOW_INDEXES:
        *returns = true;
        cy_table_free(table);
        return show_schema(run, s->kind == CY_STATEMENT_SHOW_INDEXES, table);
    default: return cy_fail(run, CY_SYNTAX_ERROR, "unsupported statement");
    }
}

static const char *query_type(const cy_statement *s) {
    if (s->kind == CY_STATEMENT_SHOW_CONSTRAINTS || s->kind == CY_STATEMENT_SHOW_INDEXES) return "r";
    if (s->kind != CY_STATEMENT_QUERY) return "s";
    bool writes = false, reads = false;
    for (size_t i = 0; i < s->clause_count; i++) {
        cy_clause_kind k = s->clauses[i].kind;
        if (cy_is_update_clause(k)) writes = true;
        if (k == CY_CLAUSE_MATCH || k == CY_CLAUSE_RETURN) reads = true;
    }
    return writes ? (reads ? "rw" : "w") : "r";
}

bool cy_execute(const cy_statement *statement, eg_graph *graph, const eg_ps_value *parameters, int64_t now_ms,
                eg_bolt_result *result, eg_bolt_failure *failure) {
    *result = (eg_bolt_result){.type = "r"};
    *failure = (eg_bolt_failure){0};
    cy_run run = {.graph = graph, .parameters = parameters, .now_ms = now_ms, .failure = failure};
    cy_table table;
    cy_table_init(&table, NULL, 0);
    eg_ps_value *empty = cy_row_new(&run, 0);
    bool ok = empty && cy_table_add(&run, &table, empty);
    bool returns = false;
    if (ok && statement->kind == CY_STATEMENT_QUERY) {
        ok = cy_check_statement(&run, statement);
        for (size_t i = 0; ok && i < statement->clause_count; i++)
            ok = run_clause(&run, &statement->clauses[i], &table);
        returns = ok && statement->clauses[statement->clause_count - 1].kind == CY_CLAUSE_RETURN;
    } else if (ok) {
        ok = schema_statement(&run, statement, &table, &returns);
    }
    if (ok) ok = table_result(&run, &table, returns, result) && stats_value(&run, &result->stats);
    cy_table_free(&table);
    cy_string_set_free(&run.changed);
    cy_string_set_free(&run.deleted);
    if (!ok) {
        eg_bolt_result_free(result);
        *result = (eg_bolt_result){.type = "r"};
        if (!failure->code[0]) cy_out_of_memory(&run);
        return false;
    }
    result->type = query_type(statement);
    return true;
}
