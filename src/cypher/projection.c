/* projection.c — RETURN and WITH: projecting items (with `*`, aliases and the written text as column names),
 * aggregation (count, collect, sum, avg, min, max, with DISTINCT) grouped by the items that are not aggregates,
 * DISTINCT, ORDER BY (Cypher's total order, nulls last ascending), SKIP, LIMIT, and WITH's WHERE.
 *
 * Grouping keys and DISTINCT compare by Cypher equivalence (null equals null, 1 equals 1.0), through a hash set
 * of values. */
#include "cypher/executor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a hash set of values ---- */

typedef struct value_set {
    eg_ps_value *items;
    uint64_t *hashes;
    size_t count, capacity;
    size_t *slots; /* index + 1, 0 for empty */
    size_t slot_count;
} value_set;

static void value_set_free(value_set *s) {
    for (size_t i = 0; i < s->count; i++) eg_ps_value_free(&s->items[i]);
    free(s->items);
    free(s->hashes);
    free(s->slots);
    *s = (value_set){0};
}

/* Finds v, or adds it (taking it: *v is left null) when absent. *index is its position. */
static bool value_set_insert(cy_run *run, value_set *s, eg_ps_value *v, size_t *index, bool *added) {
    uint64_t h = cy_hash(v);
    *added = false;
    if (s->slot_count) {
        for (size_t i = h & (s->slot_count - 1); s->slots[i]; i = (i + 1) & (s->slot_count - 1)) {
            size_t k = s->slots[i] - 1;
            if (s->hashes[k] == h && cy_equivalent(&s->items[k], v)) {
                *index = k;
                return true;
            }
        }
    }
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 16;
        eg_ps_value *items = realloc(s->items, capacity * sizeof *items);
        if (items) s->items = items;
        uint64_t *hashes = items ? realloc(s->hashes, capacity * sizeof *hashes) : NULL;
        if (!hashes) return cy_out_of_memory(run);
        s->hashes = hashes;
        s->capacity = capacity;
    }
    if ((s->count + 1) * 2 > s->slot_count) {
        size_t slot_count = s->slot_count ? s->slot_count * 2 : 32;
        size_t *slots = calloc(slot_count, sizeof *slots);
        if (!slots) return cy_out_of_memory(run);
        for (size_t k = 0; k < s->count; k++) {
            size_t i = s->hashes[k] & (slot_count - 1);
            while (slots[i]) i = (i + 1) & (slot_count - 1);
            slots[i] = k + 1;
        }
        free(s->slots);
        s->slots = slots;
        s->slot_count = slot_count;
    }
    size_t i = h & (s->slot_count - 1);
    while (s->slots[i]) i = (i + 1) & (s->slot_count - 1);
    s->slots[i] = s->count + 1;
    s->hashes[s->count] = h;
    cy_move(&s->items[s->count], v);
    *index = s->count++;
    *added = true;
    return true;
}

/* ---- aggregation ---- */

typedef struct aggregate_state {
    int64_t count;
    bool is_float; /* sum/avg: a float was added */
    int64_t int_sum;
    double float_sum;
    eg_ps_value value; /* collect: the list; min/max: the best so far */
    value_set seen;    /* DISTINCT */
} aggregate_state;

typedef struct aggregates {
    const cy_expr **calls;
    size_t count, capacity;
} aggregates;

static bool find_aggregates(cy_run *run, const cy_expr *e, aggregates *found, bool inside) {
    if (!e) return true;
    if (cy_is_aggregate_call(e)) {
        if (inside) return cy_fail(run, CY_SYNTAX_ERROR, "Can't use aggregate functions inside of aggregate functions");
        if (found->count == found->capacity) {
            size_t capacity = found->capacity ? found->capacity * 2 : 8;
            const cy_expr **calls = realloc(found->calls, capacity * sizeof *calls);
            if (!calls) return cy_out_of_memory(run);
            found->calls = calls;
            found->capacity = capacity;
        }
        found->calls[found->count++] = e;
        for (size_t i = 0; i < e->count; i++)
            if (!find_aggregates(run, e->items[i], found, true)) return false;
        return true;
    }
    for (size_t i = 0; i < e->count; i++)
        if (e->items && !find_aggregates(run, e->items[i], found, inside)) return false;
    return find_aggregates(run, e->operand, found, inside) && find_aggregates(run, e->left, found, inside) &&
           find_aggregates(run, e->right, found, inside) && find_aggregates(run, e->filter, found, inside) &&
           find_aggregates(run, e->projection, found, inside) && find_aggregates(run, e->otherwise, found, inside);
}

/* Whether e, outside its aggregate calls, reads a variable that is not one of the grouping keys (Cypher refuses
 * that: the value would be ambiguous within a group). */
static bool reads_outside_keys(const cy_expr *e, const cy_expr *const *keys, size_t key_count, const char *local) {
    if (!e || cy_is_aggregate_call(e)) return false;
    for (size_t i = 0; i < key_count; i++)
        if (cy_expr_same(e, keys[i])) return false;
    if (e->kind == CY_EXPR_VARIABLE) return !local || strcmp(local, e->name) != 0;
    if (e->kind == CY_EXPR_COMPREHENSION) local = e->name;
    for (size_t i = 0; e->items && i < e->count; i++)
        if (reads_outside_keys(e->items[i], keys, key_count, local)) return true;
    return reads_outside_keys(e->operand, keys, key_count, local) ||
           reads_outside_keys(e->left, keys, key_count, local) ||
           reads_outside_keys(e->right, keys, key_count, local) ||
           reads_outside_keys(e->filter, keys, key_count, local) ||
           reads_outside_keys(e->projection, keys, key_count, local) ||
           reads_outside_keys(e->otherwise, keys, key_count, local);
}

static bool name_is(const cy_expr *call, const char *name) { return strcasecmp(call->name, name) == 0; }

static bool aggregate_add(cy_run *run, const cy_expr *call, aggregate_state *st, const cy_env *env) {
    if (call->kind == CY_EXPR_COUNT_STAR) {
        st->count++;
        return true;
    }
    if (call->count != 1)
        return cy_fail(run, CY_SYNTAX_ERROR, "%s() takes one argument, %zu given", call->name, call->count);
    eg_ps_value v;
    if (!cy_eval(env, call->items[0], &v)) return false;
    if (v.kind == EG_PS_NULL) return true;
    if (call->distinct) {
        eg_ps_value key;
        size_t index;
        bool added;
        if (!cy_copy(run, &v, &key) || !value_set_insert(run, &st->seen, &key, &index, &added)) {
            eg_ps_value_free(&v);
            return false;
        }
        eg_ps_value_free(&key);
        if (!added) {
            eg_ps_value_free(&v);
            return true;
        }
    }
    st->count++;
    bool ok = true;
    if (name_is(call, "collect")) {
        if (st->value.kind == EG_PS_NULL) ok = cy_list(run, 0, &st->value);
        if (ok && st->value.as.list.count >= CY_MAX_ROWS)
            ok = cy_fail(run, CY_EXECUTION_FAILED, "collect() would hold more than %zu values", (size_t)CY_MAX_ROWS);
        if (ok) ok = cy_check_depth(run, &v);
        if (ok) return cy_list_push(run, &st->value, &v);
    } else if (name_is(call, "sum") || name_is(call, "avg")) {
        if (!cy_is_number(&v)) {
            ok = cy_fail(run, CY_TYPE_ERROR, "%s() expects numbers but got %s", call->name, cy_type_name(&v));
        } else if (v.kind == EG_PS_FLOAT || st->is_float || name_is(call, "avg")) {
            if (!st->is_float) st->float_sum = (double)st->int_sum;
            st->is_float = true;
            st->float_sum += cy_number(&v);
        } else if (__builtin_add_overflow(st->int_sum, v.as.integer, &st->int_sum)) {
            ok = cy_fail(run, CY_ARITHMETIC_ERROR, "integer overflow in sum()");
        }
    } else if (name_is(call, "min") || name_is(call, "max")) {
        int c = st->value.kind == EG_PS_NULL ? 0 : cy_order(&v, &st->value);
        if (st->value.kind == EG_PS_NULL || (name_is(call, "min") ? c < 0 : c > 0)) {
            eg_ps_value_free(&st->value);
            cy_move(&st->value, &v);
        }
    }
    eg_ps_value_free(&v);
    return ok;
}

static void aggregate_result(const cy_expr *call, aggregate_state *st, eg_ps_value *out) {
    *out = cy_null();
    if (call->kind == CY_EXPR_COUNT_STAR || name_is(call, "count"))
        *out = cy_int(st->count);
    else if (name_is(call, "collect")) {
        if (st->value.kind == EG_PS_NULL)
            *out = (eg_ps_value){.kind = EG_PS_LIST};
        else
            cy_move(out, &st->value);
    } else if (name_is(call, "sum"))
        *out = st->is_float ? cy_float(st->float_sum) : cy_int(st->int_sum);
    else if (name_is(call, "avg")) {
        if (st->count) *out = cy_float(st->float_sum / (double)st->count);
    } else
        cy_move(out, &st->value);
}

/* ---- the projection ---- */

typedef struct column {
    const cy_expr *expression; /* NULL for a `*` column (a variable carried over) */
    const char *name;
    long source; /* for `*`: the input column */
    bool aggregating;
} column;

typedef struct projected {
    cy_table table;
    eg_ps_value **sort_keys; /* per row, order_count values */
} projected;

static bool sort_keys_for(cy_run *run, const cy_projection *p, const column *columns, size_t column_count,
                          const cy_env *env, const eg_ps_value *row, eg_ps_value **out) {
    *out = NULL;
    if (!p->order_count) return true;
    eg_ps_value *keys = calloc(p->order_count, sizeof *keys);
    if (!keys) return cy_out_of_memory(run);
    for (size_t k = 0; k < p->order_count; k++) {
        const cy_expr *e = p->order[k].expression;
        long same = -1;
        for (size_t c = 0; c < column_count && same < 0; c++)
            if (columns[c].expression && cy_expr_same(columns[c].expression, e)) same = (long)c;
        bool ok = same >= 0 ? cy_copy(run, &row[same], &keys[k]) : cy_eval(env, e, &keys[k]);
        if (!ok) {
            cy_row_free(keys, p->order_count);
            return false;
        }
    }
    *out = keys;
    return true;
}

/* What the row comparison needs: the sort directions and each row's keys. */
typedef struct sort_context {
    const cy_projection *projection;
    eg_ps_value **keys;
} sort_context;

static int compare_rows(const sort_context *ctx, size_t a, size_t b) {
    for (size_t k = 0; k < ctx->projection->order_count; k++) {
        int c = cy_order(&ctx->keys[a][k], &ctx->keys[b][k]);
        if (c) return ctx->projection->order[k].descending ? -c : c;
    }
    return (a > b) - (a < b);
}

/* A stable merge sort of row indices (qsort is not stable, and its comparator takes no context). */
static void merge_sort(const sort_context *ctx, size_t *idx, size_t *tmp, size_t n) {
    if (n < 2) return;
    size_t half = n / 2;
    merge_sort(ctx, idx, tmp, half);
    merge_sort(ctx, idx + half, tmp, n - half);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) tmp[k++] = compare_rows(ctx, idx[i], idx[j]) <= 0 ? idx[i++] : idx[j++];
    while (i < half) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static bool bound_value(cy_run *run, const cy_expr *e, const char *what, int64_t *out) {
    eg_ps_value v;
    cy_env none = {.run = run};
    if (!cy_eval(&none, e, &v)) return false;
    bool ok = v.kind == EG_PS_INT && v.as.integer >= 0;
    if (ok) *out = v.as.integer;
    eg_ps_value_free(&v);
    return ok ? true : cy_fail(run, CY_ARGUMENT_ERROR, "Invalid input for %s: it must be a non-negative integer", what);
}

static bool build_columns(cy_run *run, const cy_projection *p, const cy_table *table, bool is_with, column **out,
                          size_t *count) {
    size_t star = p->star ? table->width : 0;
    column *columns = calloc(star + p->count + 1, sizeof *columns);
    if (!columns) return cy_out_of_memory(run);
    size_t n = 0;
    for (size_t i = 0; i < star; i++) columns[n++] = (column){.name = table->names[i], .source = (long)i};
    if (star && !is_with) {
        /* RETURN * lists the variables in name order, as Neo4j does. */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(columns[j - 1].name, columns[j].name) > 0; j--) {
                column t = columns[j];
                columns[j] = columns[j - 1];
                columns[j - 1] = t;
            }
    }
    for (size_t i = 0; i < p->count; i++) {
        const cy_projection_item *item = &p->items[i];
        if (is_with && !item->alias && item->expression->kind != CY_EXPR_VARIABLE) {
            free(columns);
            return cy_fail(run, CY_SYNTAX_ERROR, "Expression in WITH must be aliased (use AS): %s", item->text);
        }
        const char *name = item->alias                                  ? item->alias
                           : item->expression->kind == CY_EXPR_VARIABLE ? item->expression->name
                                                                        : item->text;
        columns[n++] = (column){.expression = item->expression, .name = name, .source = -1};
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(columns[i].name, columns[j].name) == 0) {
                bool ok =
                    cy_fail(run, CY_SYNTAX_ERROR, "Multiple result columns with the same name are not supported: `%s`",
                            columns[i].name);
                free(columns);
                return ok;
            }
    *out = columns;
    *count = n;
    return true;
}

static bool project_plain(cy_run *run, const cy_projection *p, const cy_table *table, const column *columns, size_t n,
                          projected *result) {
    /* ORDER BY sees the projected columns and, unless DISTINCT, the variables before the projection. */
    size_t wide = n + (p->distinct ? 0 : table->width);
    const char **names = malloc((wide + 1) * sizeof *names);
    eg_ps_value *combined = calloc(wide + 1, sizeof *combined);
    bool ok = names && combined ? true : cy_out_of_memory(run);
    for (size_t c = 0; ok && c < n; c++) names[c] = columns[c].name;
    for (size_t c = n; ok && c < wide; c++) names[c] = table->names[c - n];
    for (size_t r = 0; ok && r < table->count; r++) {
        cy_env env = {.run = run, .names = table->names, .width = table->width, .row = table->rows[r]};
        eg_ps_value *row = cy_row_new(run, n);
        ok = row != NULL;
        for (size_t c = 0; ok && c < n; c++)
            ok = columns[c].expression ? cy_eval(&env, columns[c].expression, &row[c])
                                       : cy_copy(run, &table->rows[r][columns[c].source], &row[c]);
        eg_ps_value *keys = NULL;
        if (ok) {
            memcpy(combined, row, n * sizeof *row);
            if (!p->distinct) memcpy(combined + n, table->rows[r], table->width * sizeof *combined);
            cy_env order_env = {.run = run, .names = names, .width = wide, .row = combined};
            ok = sort_keys_for(run, p, columns, n, &order_env, row, &keys);
        }
        if (ok) {
            result->sort_keys[result->table.count] = keys;
            ok = cy_table_add(run, &result->table, row);
            if (!ok && keys) cy_row_free(keys, p->order_count);
        } else if (row) {
            cy_row_free(row, n);
        }
    }
    free(names);
    free(combined);
    return ok;
}

typedef struct group {
    size_t representative; /* a row of the input table in this group, or SIZE_MAX for none */
    aggregate_state *states;
} group;

static bool project_aggregating(cy_run *run, const cy_projection *p, const cy_table *table, const column *columns,
                                size_t n, const aggregates *calls, projected *result) {
    const cy_expr **keys = calloc(n + 1, sizeof *keys);
    size_t key_count = 0;
    if (!keys) return cy_out_of_memory(run);
    for (size_t c = 0; c < n; c++)
        if (!columns[c].aggregating) keys[key_count++] = columns[c].expression;
    bool ok = true;
    for (size_t c = 0; ok && c < n; c++)
        if (columns[c].aggregating && reads_outside_keys(columns[c].expression, keys, key_count, NULL))
            ok = cy_fail(run, CY_SYNTAX_ERROR,
                         "Aggregation column contains implicit grouping expressions: `%s` reads a variable that is "
                         "not a grouping key",
                         columns[c].name);
    value_set group_keys = {0};
    group *groups = NULL;
    size_t group_count = 0;
    for (size_t r = 0; ok && r < table->count; r++) {
        cy_env env = {.run = run, .names = table->names, .width = table->width, .row = table->rows[r]};
        eg_ps_value key;
        ok = cy_list(run, key_count, &key);
        size_t k = 0;
        for (size_t c = 0; ok && c < n; c++)
            if (!columns[c].aggregating) ok = cy_eval(&env, columns[c].expression, &key.as.list.items[k++]);
        size_t index = 0;
        bool added = false;
        if (ok) ok = value_set_insert(run, &group_keys, &key, &index, &added);
        eg_ps_value_free(&key);
        if (ok && added) {
            group *grown = realloc(groups, (group_count + 1) * sizeof *grown);
            aggregate_state *states = calloc(calls->count + 1, sizeof *states);
            if (grown) groups = grown;
            if (!grown || !states) {
                free(states);
                ok = cy_out_of_memory(run);
                break;
            }
            groups[group_count++] = (group){.representative = r, .states = states};
            if (group_count > CY_MAX_ROWS)
                ok = cy_fail(run, CY_EXECUTION_FAILED, "more than %zu groups", (size_t)CY_MAX_ROWS);
        }
        for (size_t a = 0; ok && a < calls->count; a++)
            ok = aggregate_add(run, calls->calls[a], &groups[index].states[a], &env);
    }
    if (ok && group_count == 0 && key_count == 0) {
        /* Aggregating nothing without grouping keys still gives one row: count 0, collect [], ... */
        groups = calloc(1, sizeof *groups);
        aggregate_state *states = calloc(calls->count + 1, sizeof *states);
        eg_ps_value empty = (eg_ps_value){.kind = EG_PS_LIST};
        size_t index;
        bool added;
        ok = groups && states ? value_set_insert(run, &group_keys, &empty, &index, &added) : cy_out_of_memory(run);
        if (groups)
            groups[group_count++] = (group){.representative = SIZE_MAX, .states = states};
        else
            free(states);
    }
    eg_ps_value *values = calloc(calls->count + 1, sizeof *values);
    eg_ps_value *nulls = cy_row_new(run, table->width + 1);
    if (ok && (!values || !nulls)) ok = cy_out_of_memory(run);
    const char **names = malloc((n + 1) * sizeof *names);
    if (ok && !names) ok = cy_out_of_memory(run);
    for (size_t c = 0; ok && c < n; c++) names[c] = columns[c].name;
    for (size_t g = 0; ok && g < group_count; g++) {
        for (size_t a = 0; a < calls->count; a++) aggregate_result(calls->calls[a], &groups[g].states[a], &values[a]);
        cy_aggregate_results results = {.calls = calls->calls, .values = values, .count = calls->count};
        const eg_ps_value *source =
            groups[g].representative == SIZE_MAX ? nulls : table->rows[groups[g].representative];
        cy_env env = {.run = run, .names = table->names, .width = table->width, .row = source, .aggregates = &results};
        eg_ps_value *row = cy_row_new(run, n);
        ok = row != NULL;
        size_t k = 0;
        for (size_t c = 0; ok && c < n; c++) {
            if (!columns[c].aggregating)
                ok = cy_copy(run, &group_keys.items[g].as.list.items[k++], &row[c]);
            else
                ok = cy_eval(&env, columns[c].expression, &row[c]);
        }
        eg_ps_value *sort = NULL;
        if (ok) {
            cy_env order_env = {.run = run, .names = names, .width = n, .row = row, .aggregates = &results};
            ok = sort_keys_for(run, p, columns, n, &order_env, row, &sort);
        }
        if (ok) {
            result->sort_keys[result->table.count] = sort;
            ok = cy_table_add(run, &result->table, row);
            if (!ok && sort) cy_row_free(sort, p->order_count);
        } else if (row) {
            cy_row_free(row, n);
        }
        for (size_t a = 0; a < calls->count; a++) eg_ps_value_free(&values[a]);
    }
    for (size_t g = 0; g < group_count; g++) {
        for (size_t a = 0; a < calls->count; a++) {
            eg_ps_value_free(&groups[g].states[a].value);
            value_set_free(&groups[g].states[a].seen);
        }
        free(groups[g].states);
    }
    free(groups);
    free(values);
    free(names);
    if (nulls) cy_row_free(nulls, table->width + 1);
    value_set_free(&group_keys);
    free(keys);
    return ok;
}

static void free_sort_keys(projected *result, size_t order_count) {
    for (size_t r = 0; result->sort_keys && r < result->table.count; r++)
        if (result->sort_keys[r]) cy_row_free(result->sort_keys[r], order_count);
    free(result->sort_keys);
    result->sort_keys = NULL;
}

bool cy_project(cy_run *run, const cy_projection *p, cy_table *table, bool is_with) {
    column *columns = NULL;
    size_t n = 0;
    if (!build_columns(run, p, table, is_with, &columns, &n)) return false;
    aggregates calls = {0};
    bool ok = true;
    for (size_t c = 0; ok && c < n; c++) {
        size_t before = calls.count;
        ok = !columns[c].expression || find_aggregates(run, columns[c].expression, &calls, false);
        columns[c].aggregating = calls.count > before;
    }
    const char **names = malloc((n + 1) * sizeof *names);
    if (ok && !names) ok = cy_out_of_memory(run);
    for (size_t c = 0; ok && c < n; c++) names[c] = columns[c].name;
    projected result = {0};
    if (ok) {
        cy_table_init(&result.table, names, n);
        names = NULL;
        /* One slot per input row (a projection never has more rows than its input), plus the empty-group row. */
        result.sort_keys = calloc(table->count + 1, sizeof *result.sort_keys);
        if (!result.sort_keys) ok = cy_out_of_memory(run);
    }
    free(names);
    if (ok)
        ok = calls.count ? project_aggregating(run, p, table, columns, n, &calls, &result)
                         : project_plain(run, p, table, columns, n, &result);
    if (ok && p->distinct) {
        value_set seen = {0};
        size_t kept = 0;
        for (size_t r = 0; r < result.table.count; r++) {
            bool added = false;
            if (ok) {
                eg_ps_value key;
                size_t index;
                ok = cy_list(run, n, &key);
                for (size_t c = 0; ok && c < n; c++) ok = cy_copy(run, &result.table.rows[r][c], &key.as.list.items[c]);
                if (ok) ok = value_set_insert(run, &seen, &key, &index, &added);
                eg_ps_value_free(&key);
            }
            if (added) {
                result.table.rows[kept] = result.table.rows[r];
                result.sort_keys[kept++] = result.sort_keys[r];
            } else {
                cy_row_free(result.table.rows[r], n);
                if (result.sort_keys[r]) cy_row_free(result.sort_keys[r], p->order_count);
            }
        }
        result.table.count = kept;
        value_set_free(&seen);
    }
    if (ok && p->order_count && result.table.count > 1) {
        size_t count = result.table.count;
        size_t *idx = malloc(count * sizeof *idx), *tmp = malloc(count * sizeof *tmp);
        eg_ps_value **rows = malloc(count * sizeof *rows);
        eg_ps_value **keys = malloc(count * sizeof *keys);
        if (!idx || !tmp || !rows || !keys) {
            ok = cy_out_of_memory(run);
        } else {
            for (size_t i = 0; i < count; i++) idx[i] = i;
            sort_context ctx = {.projection = p, .keys = result.sort_keys};
            merge_sort(&ctx, idx, tmp, count);
            for (size_t i = 0; i < count; i++) {
                rows[i] = result.table.rows[idx[i]];
                keys[i] = result.sort_keys[idx[i]];
            }
            memcpy(result.table.rows, rows, count * sizeof *rows);
            memcpy(result.sort_keys, keys, count * sizeof *keys);
        }
        free(idx);
        free(tmp);
        free(rows);
        free(keys);
    }
    int64_t skip = 0, limit = -1;
    if (ok && p->skip) ok = bound_value(run, p->skip, "SKIP", &skip);
    if (ok && p->limit) ok = bound_value(run, p->limit, "LIMIT", &limit);
    if (ok && (skip || limit >= 0)) {
        size_t count = result.table.count;
        size_t from = (uint64_t)skip < count ? (size_t)skip : count;
        size_t to = limit >= 0 && (uint64_t)limit < count - from ? from + (size_t)limit : count;
        for (size_t r = 0; r < count; r++)
            if (r < from || r >= to) {
                cy_row_free(result.table.rows[r], n);
                result.table.rows[r] = NULL;
            }
        if (to > from) memmove(result.table.rows, result.table.rows + from, (to - from) * sizeof *result.table.rows);
        for (size_t r = 0; r < count; r++)
            if (result.sort_keys[r]) cy_row_free(result.sort_keys[r], p->order_count), result.sort_keys[r] = NULL;
        result.table.count = to - from;
    }
    free_sort_keys(&result, p->order_count);
    if (ok && p->where) {
        size_t kept = 0;
        for (size_t r = 0; r < result.table.count; r++) {
            cy_env env = {.run = run, .names = result.table.names, .width = n, .row = result.table.rows[r]};
            bool keep = false;
            if (ok) ok = cy_eval_predicate(&env, p->where, &keep);
            if (keep)
                result.table.rows[kept++] = result.table.rows[r];
            else
                cy_row_free(result.table.rows[r], n);
        }
        result.table.count = kept;
    }
    free(calls.calls);
    free(columns);
    if (!ok) {
        cy_table_free(&result.table);
        return false;
    }
    cy_table_free(table);
    *table = result.table;
    return true;
}
