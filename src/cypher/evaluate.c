/* evaluate.c — evaluating a Cypher expression in a row: variables, parameters, property access, indexing,
 * literals, comprehensions, CASE, and the operators with Cypher's semantics (three-valued logic with null,
 * integer arithmetic that fails on overflow and on division by zero instead of wrapping, float arithmetic that
 * follows IEEE 754, string and list concatenation). Function calls are in functions.c. */
#include "cypher/executor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool cy_lookup(const cy_env *env, const char *name, const eg_ps_value **out) {
    for (const cy_local *l = env->locals; l; l = l->next)
        if (strcmp(l->name, name) == 0) {
            *out = l->value;
            return true;
        }
    long column = cy_scope_find(env->names, env->width, name);
    if (column < 0) return cy_fail(env->run, CY_SYNTAX_ERROR, "Variable `%s` not defined", name);
    *out = &env->row[column];
    return true;
}

bool cy_property_of(cy_run *run, const eg_ps_value *value, const char *key, eg_ps_value *out) {
    *out = cy_null();
    if (value->kind == EG_PS_NULL) return true;
    if (value->kind == EG_PS_DICT) {
        const eg_ps_value *v = cy_dict_get(value, key);
        return v ? cy_copy(run, v, out) : true;
    }
    if ((cy_is_node(value) || cy_is_relationship(value)) && !cy_string_set_has(&run->changed, cy_element_id(value))) {
        const eg_ps_value *v = cy_dict_get(cy_entity_properties(value), key);
        return v ? cy_copy(run, v, out) : true;
    }
    if (cy_is_node(value) || cy_is_relationship(value)) {
        eg_ps_value current;
        bool gone;
        if (!cy_entity_current(run, value, &current, &gone)) return false;
        if (gone) {
            eg_ps_value_free(&current);
            return cy_fail(run, CY_ENTITY_NOT_FOUND, "%s '%s' has been deleted in this transaction",
                           cy_is_node(value) ? "Node" : "Relationship", cy_element_id(value));
        }
        const eg_ps_value *v = cy_dict_get(cy_entity_properties(&current), key);
        bool ok = v ? cy_copy(run, v, out) : true;
        eg_ps_value_free(&current);
        return ok;
    }
    return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: expected a map, node or relationship but was %s (reading '%s')",
                   cy_type_name(value), key);
}

/* Evaluates e, borrowing the value when e is a variable (no copy); *owned receives the evaluated value
 * otherwise, and *view points at whichever holds it. */
static bool eval_view(const cy_env *env, const cy_expr *e, eg_ps_value *owned, const eg_ps_value **view) {
    *owned = cy_null();
    if (e->kind == CY_EXPR_VARIABLE) return cy_lookup(env, e->name, view);
    if (!cy_eval(env, e, owned)) return false;
    *view = owned;
    return true;
}

static bool to_truth(cy_run *run, const eg_ps_value *v, const char *op, cy_truth *out) {
    if (v->kind == EG_PS_NULL)
        *out = CY_UNKNOWN;
    else if (v->kind == EG_PS_BOOL)
        *out = v->as.boolean ? CY_TRUE : CY_FALSE;
    else
        return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: %s expects a Boolean but was %s", op, cy_type_name(v));
    return true;
}

static eg_ps_value truth_value(cy_truth t) { return t == CY_UNKNOWN ? cy_null() : cy_bool(t == CY_TRUE); }

bool cy_eval_predicate(const cy_env *env, const cy_expr *e, bool *keep) {
    eg_ps_value v;
    *keep = false;
    if (!cy_eval(env, e, &v)) return false;
    cy_truth t = CY_UNKNOWN;
    bool ok = to_truth(env->run, &v, "WHERE", &t);
    eg_ps_value_free(&v);
    *keep = ok && t == CY_TRUE;
    return ok;
}

static bool overflow(cy_run *run, const char *op) {
    return cy_fail(run, CY_ARITHMETIC_ERROR, "integer overflow in %s", op);
}

static bool concatenate_lists(cy_run *run, const eg_ps_value *a, const eg_ps_value *b, eg_ps_value *out) {
    const eg_ps_value *parts[2] = {a, b};
    if (!cy_list(run, 0, out)) return false;
    for (int p = 0; p < 2; p++) {
        bool is_list = parts[p]->kind == EG_PS_LIST;
        size_t n = is_list ? parts[p]->as.list.count : 1;
        for (size_t i = 0; i < n; i++) {
            eg_ps_value item;
            if (!cy_copy(run, is_list ? &parts[p]->as.list.items[i] : parts[p], &item) ||
                !cy_list_push(run, out, &item)) {
                eg_ps_value_free(out);
                return false;
            }
        }
    }
    return true;
}

/* a + b when either is a string: the other (a string, number or boolean) is printed. */
static bool concatenate_text(cy_run *run, const eg_ps_value *a, const eg_ps_value *b, eg_ps_value *out) {
    const eg_ps_value *parts[2] = {a, b};
    char buffers[2][40];
    const char *text[2];
    size_t len[2];
    for (int p = 0; p < 2; p++) {
        const eg_ps_value *v = parts[p];
        if (v->kind == EG_PS_STRING) {
            text[p] = v->as.text.data;
            len[p] = v->as.text.len;
            continue;
        }
        if (v->kind == EG_PS_INT)
            snprintf(buffers[p], sizeof buffers[p], "%lld", (long long)v->as.integer);
        else if (v->kind == EG_PS_FLOAT)
            cy_format_float(v->as.real, buffers[p], sizeof buffers[p]);
        else if (v->kind == EG_PS_BOOL)
            snprintf(buffers[p], sizeof buffers[p], "%s", v->as.boolean ? "true" : "false");
        else
            return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: cannot add %s and %s", cy_type_name(a), cy_type_name(b));
        text[p] = buffers[p];
        len[p] = strlen(buffers[p]);
    }
    char *joined = malloc(len[0] + len[1] + 1);
    if (!joined) return cy_out_of_memory(run);
    memcpy(joined, text[0], len[0]);
    memcpy(joined + len[0], text[1], len[1]);
    joined[len[0] + len[1]] = '\0';
    *out = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = joined, .len = len[0] + len[1]}};
    return true;
}

static bool arithmetic(cy_run *run, cy_operator op, const eg_ps_value *a, const eg_ps_value *b, eg_ps_value *out) {
    *out = cy_null();
    if (a->kind == EG_PS_NULL || b->kind == EG_PS_NULL) return true;
    if (op == CY_OP_ADD) {
        if (a->kind == EG_PS_LIST || b->kind == EG_PS_LIST) return concatenate_lists(run, a, b, out);
        if (a->kind == EG_PS_STRING || b->kind == EG_PS_STRING) return concatenate_text(run, a, b, out);
    }
    static const char *const symbols[] = {[CY_OP_ADD] = "+",    [CY_OP_SUBTRACT] = "-", [CY_OP_MULTIPLY] = "*",
                                          [CY_OP_DIVIDE] = "/", [CY_OP_MODULO] = "%",   [CY_OP_POWER] = "^"};
    if (!cy_is_number(a) || !cy_is_number(b))
        return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: cannot compute %s %s %s", cy_type_name(a), symbols[op],
                       cy_type_name(b));
    if (a->kind == EG_PS_INT && b->kind == EG_PS_INT && op != CY_OP_POWER) {
        int64_t x = a->as.integer, y = b->as.integer, r = 0;
        switch (op) {
        case CY_OP_ADD:
            if (__builtin_add_overflow(x, y, &r)) return overflow(run, "+");
            break;
        case CY_OP_SUBTRACT:
            if (__builtin_sub_overflow(x, y, &r)) return overflow(run, "-");
            break;
        case CY_OP_MULTIPLY:
            if (__builtin_mul_overflow(x, y, &r)) return overflow(run, "*");
            break;
        case CY_OP_DIVIDE:
        case CY_OP_MODULO:
            if (y == 0) return cy_fail(run, CY_ARITHMETIC_ERROR, "/ by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == CY_OP_DIVIDE) return overflow(run, "/");
                r = 0;
            } else {
                r = op == CY_OP_DIVIDE ? x / y : x % y;
            }
            break;
        default: break;
        }
        *out = cy_int(r);
        return true;
    }
    double x = cy_number(a), y = cy_number(b), r;
    switch (op) {
    case CY_OP_ADD: r = x + y; break;
    case CY_OP_SUBTRACT: r = x - y; break;
    case CY_OP_MULTIPLY: r = x * y; break;
    case CY_OP_DIVIDE: r = x / y; break;
    case CY_OP_MODULO: r = fmod(x, y); break;
    default: r = pow(x, y); break;
    }
    *out = cy_float(r);
    return true;
}

static bool string_predicate(cy_operator op, const eg_ps_value *a, const eg_ps_value *b, eg_ps_value *out) {
    *out = cy_null();
    if (a->kind != EG_PS_STRING || b->kind != EG_PS_STRING) return true;
    size_t n = a->as.text.len, m = b->as.text.len;
    bool r;
    if (op == CY_OP_STARTS_WITH)
        r = m <= n && memcmp(a->as.text.data, b->as.text.data, m) == 0;
    else if (op == CY_OP_ENDS_WITH)
        r = m <= n && memcmp(a->as.text.data + n - m, b->as.text.data, m) == 0;
    else if (m == 0)
        r = true;
    else {
        r = false;
        for (size_t i = 0; !r && i + m <= n; i++) r = memcmp(a->as.text.data + i, b->as.text.data, m) == 0;
    }
    *out = cy_bool(r);
    return true;
}

static bool membership(cy_run *run, const eg_ps_value *item, const eg_ps_value *list, eg_ps_value *out) {
    *out = cy_null();
    if (list->kind == EG_PS_NULL) return true;
    if (list->kind != EG_PS_LIST)
        return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: IN expects a List but was %s", cy_type_name(list));
    cy_truth result = CY_FALSE;
    for (size_t i = 0; i < list->as.list.count && result != CY_TRUE; i++) {
        cy_truth t = cy_equals(item, &list->as.list.items[i]);
        if (t == CY_TRUE || (t == CY_UNKNOWN && result == CY_FALSE)) result = t;
    }
    *out = truth_value(result);
    return true;
}

static bool logic(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    static const char *const names[] = {[CY_OP_AND] = "AND", [CY_OP_OR] = "OR", [CY_OP_XOR] = "XOR"};
    eg_ps_value a, b;
    cy_truth x = CY_UNKNOWN, y = CY_UNKNOWN;
    if (!cy_eval(env, e->left, &a)) return false;
    bool ok = to_truth(env->run, &a, names[e->op], &x);
    eg_ps_value_free(&a);
    if (!ok || !cy_eval(env, e->right, &b)) return false;
    ok = to_truth(env->run, &b, names[e->op], &y);
    eg_ps_value_free(&b);
    if (!ok) return false;
    cy_truth r;
    if (e->op == CY_OP_AND)
        r = (x == CY_FALSE || y == CY_FALSE) ? CY_FALSE : (x == CY_TRUE && y == CY_TRUE) ? CY_TRUE : CY_UNKNOWN;
    else if (e->op == CY_OP_OR)
        r = (x == CY_TRUE || y == CY_TRUE) ? CY_TRUE : (x == CY_FALSE && y == CY_FALSE) ? CY_FALSE : CY_UNKNOWN;
    else
        r = (x == CY_UNKNOWN || y == CY_UNKNOWN) ? CY_UNKNOWN : (x != y) ? CY_TRUE : CY_FALSE;
    *out = truth_value(r);
    return true;
}

static bool binary(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    cy_run *run = env->run;
    if (e->op == CY_OP_AND || e->op == CY_OP_OR || e->op == CY_OP_XOR) return logic(env, e, out);
    if (e->op == CY_OP_REGEX)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "regular expressions (=~) are not supported by engram (line %u, column %u); use STARTS WITH, "
                       "ENDS WITH or CONTAINS",
                       e->at.line, e->at.column);
    eg_ps_value left_owned, right_owned;
    const eg_ps_value *a, *b;
    if (!eval_view(env, e->left, &left_owned, &a)) return false;
    if (!eval_view(env, e->right, &right_owned, &b)) {
        eg_ps_value_free(&left_owned);
        return false;
    }
    bool ok = true;
    *out = cy_null();
    switch (e->op) {
    case CY_OP_EQ:
    case CY_OP_NE: {
        cy_truth t = cy_equals(a, b);
        if (e->op == CY_OP_NE && t != CY_UNKNOWN) t = t == CY_TRUE ? CY_FALSE : CY_TRUE;
        *out = truth_value(t);
        break;
    }
    case CY_OP_LT:
    case CY_OP_LE:
    case CY_OP_GT:
    case CY_OP_GE: {
        int c;
        if (a->kind != EG_PS_NULL && b->kind != EG_PS_NULL && cy_compare(a, b, &c))
            *out = cy_bool(e->op == CY_OP_LT ? c < 0 : e->op == CY_OP_LE ? c <= 0 : e->op == CY_OP_GT ? c > 0 : c >= 0);
        break;
    }
    case CY_OP_IN: ok = membership(run, a, b, out); break;
    case CY_OP_STARTS_WITH:
    case CY_OP_ENDS_WITH:
    case CY_OP_CONTAINS: ok = string_predicate(e->op, a, b, out); break;
    default: ok = arithmetic(run, e->op, a, b, out); break;
    }
    eg_ps_value_free(&left_owned);
    eg_ps_value_free(&right_owned);
    return ok;
}

static bool unary(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value v;
    if (!cy_eval(env, e->operand, &v)) return false;
    *out = cy_null();
    bool ok = true;
    if (e->op == CY_OP_NOT) {
        cy_truth t = CY_UNKNOWN;
        ok = to_truth(env->run, &v, "NOT", &t);
        if (ok) *out = truth_value(t == CY_UNKNOWN ? t : t == CY_TRUE ? CY_FALSE : CY_TRUE);
    } else if (v.kind == EG_PS_NULL) {
        ok = true;
    } else if (!cy_is_number(&v)) {
        ok = cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: unary %s expects a number but was %s",
                     e->op == CY_OP_NEGATE ? "-" : "+", cy_type_name(&v));
    } else if (e->op == CY_OP_PLUS) {
        *out = v;
    } else if (v.kind == EG_PS_INT) {
        if (v.as.integer == INT64_MIN)
            ok = overflow(env->run, "unary -");
        else
            *out = cy_int(-v.as.integer);
    } else {
        *out = cy_float(-v.as.real);
    }
    eg_ps_value_free(&v);
    return ok;
}

/* list[index] and map[key] (also node/relationship[key]). */
static bool subscript(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value owned, index;
    const eg_ps_value *container;
    *out = cy_null();
    if (!eval_view(env, e->operand, &owned, &container)) return false;
    if (!cy_eval(env, e->right, &index)) {
        eg_ps_value_free(&owned);
        return false;
    }
    bool ok = true;
    if (container->kind == EG_PS_NULL || index.kind == EG_PS_NULL) {
        ok = true;
    } else if (container->kind == EG_PS_LIST) {
        if (index.kind != EG_PS_INT) {
            ok = cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: a list index must be an Integer but was %s",
                         cy_type_name(&index));
        } else {
            int64_t n = (int64_t)container->as.list.count, i = index.as.integer;
            if (i < 0) i += n;
            if (i >= 0 && i < n) ok = cy_copy(env->run, &container->as.list.items[i], out);
        }
    } else if (index.kind == EG_PS_STRING) {
        ok = cy_property_of(env->run, container, index.as.text.data, out);
    } else {
        ok = cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: cannot index %s with %s", cy_type_name(container),
                     cy_type_name(&index));
    }
    eg_ps_value_free(&owned);
    eg_ps_value_free(&index);
    return ok;
}

static bool slice(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value owned, from = cy_null(), to = cy_null();
    const eg_ps_value *list;
    *out = cy_null();
    if (!eval_view(env, e->operand, &owned, &list)) return false;
    bool ok = (!e->left || cy_eval(env, e->left, &from)) && (!e->right || cy_eval(env, e->right, &to));
    if (ok && list->kind != EG_PS_NULL && (!e->left || from.kind != EG_PS_NULL) &&
        (!e->right || to.kind != EG_PS_NULL)) {
        if (list->kind != EG_PS_LIST || (e->left && from.kind != EG_PS_INT) || (e->right && to.kind != EG_PS_INT)) {
            ok = cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: a slice takes a List and Integer bounds");
        } else {
            int64_t n = (int64_t)list->as.list.count;
            int64_t lo = e->left ? from.as.integer : 0, hi = e->right ? to.as.integer : n;
            if (lo < 0) lo += n;
            if (hi < 0) hi += n;
            lo = lo < 0 ? 0 : lo > n ? n : lo;
            hi = hi < lo ? lo : hi > n ? n : hi;
            ok = cy_list(env->run, (size_t)(hi - lo), out);
            for (int64_t i = lo; ok && i < hi; i++)
                ok = cy_copy(env->run, &list->as.list.items[i], &out->as.list.items[i - lo]);
        }
    }
    eg_ps_value_free(&owned);
    eg_ps_value_free(&from);
    eg_ps_value_free(&to);
    return ok;
}

static bool comprehension(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value owned;
    const eg_ps_value *list;
    *out = cy_null();
    if (!eval_view(env, e->operand, &owned, &list)) return false;
    if (list->kind == EG_PS_NULL) return true;
    if (list->kind != EG_PS_LIST) {
        eg_ps_value_free(&owned);
        return cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: a list comprehension iterates a List but was %s",
                       cy_type_name(list));
    }
    bool ok = cy_list(env->run, 0, out);
    for (size_t i = 0; ok && i < list->as.list.count; i++) {
        cy_local local = {e->name, &list->as.list.items[i], env->locals};
        cy_env inner = *env;
        inner.locals = &local;
        bool keep = true;
        if (e->filter) ok = cy_eval_predicate(&inner, e->filter, &keep);
        if (!ok || !keep) continue;
        eg_ps_value item;
        ok = (e->projection ? cy_eval(&inner, e->projection, &item) : cy_copy(env->run, local.value, &item)) &&
             cy_list_push(env->run, out, &item);
    }
    eg_ps_value_free(&owned);
    if (!ok) eg_ps_value_free(out);
    return ok;
}

static bool case_expression(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value subject = cy_null();
    if (e->operand && !cy_eval(env, e->operand, &subject)) return false;
    bool ok = true;
    for (size_t i = 0; ok && i + 1 < e->count; i += 2) {
        bool chosen;
        if (e->operand) {
            eg_ps_value candidate;
            ok = cy_eval(env, e->items[i], &candidate);
            chosen = ok && cy_equals(&subject, &candidate) == CY_TRUE;
            eg_ps_value_free(&candidate);
        } else {
            ok = cy_eval_predicate(env, e->items[i], &chosen);
        }
        if (ok && chosen) {
            eg_ps_value_free(&subject);
            return cy_eval(env, e->items[i + 1], out);
        }
    }
    eg_ps_value_free(&subject);
    if (!ok) return false;
    if (e->otherwise) return cy_eval(env, e->otherwise, out);
    *out = cy_null();
    return true;
}

static bool has_labels(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    eg_ps_value owned;
    const eg_ps_value *node;
    *out = cy_null();
    if (!eval_view(env, e->operand, &owned, &node)) return false;
    bool ok = true;
    if (cy_is_node(node)) {
        bool all = true;
        for (size_t i = 0; i < e->count; i++) all = all && strcmp(e->keys[i], cy_node_label(node)) == 0;
        *out = cy_bool(all);
    } else if (node->kind != EG_PS_NULL) {
        ok = cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: a label test expects a Node but was %s",
                     cy_type_name(node));
    }
    eg_ps_value_free(&owned);
    return ok;
}

static bool is_list_predicate(const cy_expr *e) {
    static const char *const names[] = {"all", "any", "none", "single"};
    if (e->kind != CY_EXPR_CALL || e->count != 1 || e->items[0]->kind != CY_EXPR_COMPREHENSION) return false;
    for (size_t i = 0; i < 4; i++)
        if (strcasecmp(e->name, names[i]) == 0) return true;
    return false;
}

/* all / any / none / single(x IN list WHERE predicate), three-valued: a null predicate result makes the answer
 * null when the true and false ones do not decide it. */
static bool list_predicate(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    const cy_expr *c = e->items[0];
    eg_ps_value owned;
    const eg_ps_value *list;
    *out = cy_null();
    if (!eval_view(env, c->operand, &owned, &list)) return false;
    if (list->kind == EG_PS_NULL) return true;
    if (list->kind != EG_PS_LIST) {
        eg_ps_value_free(&owned);
        return cy_fail(env->run, CY_TYPE_ERROR, "Type mismatch: %s() iterates a List but was %s", e->name,
                       cy_type_name(list));
    }
    size_t trues = 0, falses = 0, unknowns = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < list->as.list.count; i++) {
        cy_local local = {c->name, &list->as.list.items[i], env->locals};
        cy_env inner = *env;
        inner.locals = &local;
        eg_ps_value v;
        cy_truth t = CY_UNKNOWN;
        ok = c->filter ? cy_eval(&inner, c->filter, &v) : cy_copy(env->run, local.value, &v);
        if (ok) ok = to_truth(env->run, &v, e->name, &t);
        eg_ps_value_free(&v);
        trues += t == CY_TRUE;
        falses += t == CY_FALSE;
        unknowns += t == CY_UNKNOWN;
    }
    eg_ps_value_free(&owned);
    if (!ok) return false;
    cy_truth r;
    if (strcasecmp(e->name, "all") == 0)
        r = falses ? CY_FALSE : unknowns ? CY_UNKNOWN : CY_TRUE;
    else if (strcasecmp(e->name, "any") == 0)
        r = trues ? CY_TRUE : unknowns ? CY_UNKNOWN : CY_FALSE;
    else if (strcasecmp(e->name, "none") == 0)
        r = trues ? CY_FALSE : unknowns ? CY_UNKNOWN : CY_TRUE;
    else
        r = trues > 1 ? CY_FALSE : unknowns ? CY_UNKNOWN : trues == 1 ? CY_TRUE : CY_FALSE;
    *out = truth_value(r);
    return true;
}

static bool call(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    if (is_list_predicate(e)) return list_predicate(env, e, out);
    if (cy_is_aggregate_call(e)) {
        for (size_t i = 0; env->aggregates && i < env->aggregates->count; i++)
            if (env->aggregates->calls[i] == e) return cy_copy(env->run, &env->aggregates->values[i], out);
        return cy_fail(env->run, CY_SYNTAX_ERROR,
                       "aggregation (%s) is only allowed in RETURN and WITH items (line %u, column %u)",
                       e->kind == CY_EXPR_COUNT_STAR ? "count(*)" : e->name, e->at.line, e->at.column);
    }
    eg_ps_value *args = calloc(e->count ? e->count : 1, sizeof *args);
    if (!args) return cy_out_of_memory(env->run);
    bool ok = true;
    for (size_t i = 0; ok && i < e->count; i++) ok = cy_eval(env, e->items[i], &args[i]);
    if (ok) ok = cy_call_function(env, e, args, e->count, out);
    for (size_t i = 0; i < e->count; i++) eg_ps_value_free(&args[i]);
    free(args);
    return ok;
}

static bool evaluate(const cy_env *env, const cy_expr *e, eg_ps_value *out);

bool cy_eval(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    if (!evaluate(env, e, out)) return false;
    /* The expressions that build containers are where a value can grow deeper. */
    bool builds = e->kind == CY_EXPR_LIST || e->kind == CY_EXPR_MAP || e->kind == CY_EXPR_COMPREHENSION ||
                  (e->kind == CY_EXPR_BINARY && e->op == CY_OP_ADD);
    if (!builds || cy_check_depth(env->run, out)) return true;
    eg_ps_value_free(out);
    return false;
}

static bool evaluate(const cy_env *env, const cy_expr *e, eg_ps_value *out) {
    cy_run *run = env->run;
    *out = cy_null();
    switch (e->kind) {
    case CY_EXPR_LITERAL: return cy_copy(run, &e->literal, out);
    case CY_EXPR_PARAMETER: {
        const eg_ps_value *v = cy_dict_get(run->parameters, e->name);
        if (!v) return cy_fail(run, CY_PARAMETER_MISSING, "Expected parameter(s): %s", e->name);
        return cy_copy(run, v, out);
    }
    case CY_EXPR_VARIABLE: {
        const eg_ps_value *v;
        return cy_lookup(env, e->name, &v) && cy_copy(run, v, out);
    }
    case CY_EXPR_PROPERTY: {
        eg_ps_value owned;
        const eg_ps_value *v;
        if (!eval_view(env, e->operand, &owned, &v)) return false;
        bool ok = cy_property_of(run, v, e->name, out);
        eg_ps_value_free(&owned);
        return ok;
    }
    case CY_EXPR_INDEX: return subscript(env, e, out);
    case CY_EXPR_SLICE: return slice(env, e, out);
    case CY_EXPR_LIST: {
        if (!cy_list(run, e->count, out)) return false;
        for (size_t i = 0; i < e->count; i++)
            if (!cy_eval(env, e->items[i], &out->as.list.items[i])) {
                eg_ps_value_free(out);
                return false;
            }
        return true;
    }
    case CY_EXPR_MAP: {
        *out = cy_dict_empty();
        for (size_t i = 0; i < e->count; i++) {
            eg_ps_value v;
            if (!cy_eval(env, e->items[i], &v) || !cy_dict_put(run, out, e->keys[i], strlen(e->keys[i]), &v)) {
                eg_ps_value_free(out);
                return false;
            }
        }
        return true;
    }
    case CY_EXPR_COMPREHENSION: return comprehension(env, e, out);
    case CY_EXPR_CALL:
    case CY_EXPR_COUNT_STAR: return call(env, e, out);
    case CY_EXPR_UNARY: return unary(env, e, out);
    case CY_EXPR_BINARY: return binary(env, e, out);
    case CY_EXPR_IS_NULL: {
        eg_ps_value owned;
        const eg_ps_value *v;
        if (!eval_view(env, e->operand, &owned, &v)) return false;
        *out = cy_bool((v->kind == EG_PS_NULL) != e->negated);
        eg_ps_value_free(&owned);
        return true;
    }
    case CY_EXPR_HAS_LABELS: return has_labels(env, e, out);
    case CY_EXPR_CASE: return case_expression(env, e, out);
    case CY_EXPR_PATTERN:
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "pattern expressions (line %u, column %u) are not supported by engram; match the pattern with "
                       "MATCH or OPTIONAL MATCH instead",
                       e->at.line, e->at.column);
    }
    return cy_fail(run, CY_SYNTAX_ERROR, "unsupported expression");
}

static bool same_strings(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

bool cy_expr_same(const cy_expr *a, const cy_expr *b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->op != b->op || a->negated != b->negated || a->distinct != b->distinct ||
        a->count != b->count || !same_strings(a->name, b->name))
        return false;
    if (a->kind == CY_EXPR_LITERAL && !eg_ps_value_equal(&a->literal, &b->literal)) return false;
    if (a->kind == CY_EXPR_PATTERN) return false;
    if (a->kind == CY_EXPR_CALL && strcasecmp(a->name, b->name) != 0) return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->items && !cy_expr_same(a->items[i], b->items[i])) return false;
        if (a->keys && !same_strings(a->keys[i], b->keys[i])) return false;
    }
    return cy_expr_same(a->operand, b->operand) && cy_expr_same(a->left, b->left) && cy_expr_same(a->right, b->right) &&
           cy_expr_same(a->filter, b->filter) && cy_expr_same(a->projection, b->projection) &&
           cy_expr_same(a->otherwise, b->otherwise);
}
