/* neo4j_relationships.c — relationship operations of the Neo4j graph backend: create-or-merge with MERGE (single
 * and batch), delete, reads by node (one or many), counts, and the Hebbian strengthen / weaken / elapsed-time
 * decay computed by the server on the relationships' weight, coAccessCount, lastAccessed and decayedThrough. */
#include "graph/neo4j/neo4j_graph.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATEMENT_MAX (2 * NJ_FIND_NODE_MAX + 512) /* the longest: both ends found by id, then a SET */

/* ---- create ---- */

/* One statement per type: a relationship not there yet gets lastAccessed = now (a value given in properties wins),
 * then the properties are merged in (a null removes one). */
static void merge_statement(eg_graph_schema schema, eg_rel_type type, char out[STATEMENT_MAX]) {
    char type_clause[NJ_NAME_CLAUSE_MAX], find_a[NJ_FIND_NODE_MAX], find_b[NJ_FIND_NODE_MAX];
    nj_type_clause(type, type_clause);
    nj_find_node(schema, "a", "rel.source", "rel", find_a);
    nj_find_node(schema, "b", "rel.target", "rel, a", find_b);
    snprintf(out, STATEMENT_MAX,
             "UNWIND $relationships AS rel %s %s "
             "MERGE (a)-[r%s]->(b) ON CREATE SET r.lastAccessed = $now SET r += rel.properties "
             "RETURN count(r) AS count",
             find_a, find_b, type_clause);
}

/* The clauses binding a to node $source_param and b to node $target_param. */
static void match_ends(eg_graph_schema schema, const char *source_param, const char *target_param,
                       char out[2 * NJ_FIND_NODE_MAX]) {
    char find_a[NJ_FIND_NODE_MAX], find_b[NJ_FIND_NODE_MAX];
    nj_find_node(schema, "a", source_param, "", find_a);
    nj_find_node(schema, "b", target_param, "a", find_b);
    snprintf(out, 2 * NJ_FIND_NODE_MAX, "%s %s", find_a, find_b);
}

/* The relationships of rels[] with `type`, as the $relationships parameter. */
static eg_status relationship_rows(const eg_relationship_spec *rels, size_t count, eg_rel_type type,
                                   eg_ps_value *out, size_t *rows, eg_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < count; i++) n += rels[i].type == type;
    if (!nj_ps_list(n, out)) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = EG_OK;
    for (size_t i = 0, at = 0; i < count && st == EG_OK; i++) {
        if (rels[i].type != type) continue;
        nj_params row;
        nj_params_init(&row);
        nj_param_string(&row, "source", rels[i].source_id);
        nj_param_string(&row, "target", rels[i].target_id);
        eg_ps_value props;
        if ((st = nj_properties_to_ps(rels[i].properties, true, true, NULL, &props, err)) == EG_OK)
            nj_param_take(&row, "properties", &props);
        if (st == EG_OK) st = nj_params_status(&row, err);
        if (st) {
            nj_params_free(&row);
            if (count > 1) eg_error_prefix(err, st, "relationships[%zu]: ", i);
        } else {
            out->as.list.items[at++] = row.dict;
        }
    }
    if (st) eg_ps_value_free(out);
    *rows = n;
    return st;
}

/* Writes every relationship, one statement per type (each type once, in order of first appearance). *written
 * counts the rows the statements matched: fewer than count means an end was missing. */
static eg_status merge_relationships(neo4j_graph *ng, const eg_relationship_spec *rels, size_t count,
                                     int64_t now, size_t *written, eg_error *err) {
    eg_status st = EG_OK;
    *written = 0;
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        bool first = true;
        for (size_t j = 0; first && j < i; j++) first = rels[j].type != rels[i].type;
        if (!first) continue;
        nj_params p;
        nj_params_init(&p);
        eg_ps_value list;
        size_t rows;
        if ((st = relationship_rows(rels, count, rels[i].type, &list, &rows, err))) break;
        nj_param_take(&p, "relationships", &list);
        nj_param_int(&p, "now", now);
        char statement[STATEMENT_MAX];
        merge_statement(ng->base.schema, rels[i].type, statement);
        eg_bolt_result r;
        if ((st = nj_params_status(&p, err)) == EG_OK &&
            (st = nj_run(ng, EG_BOLT_WRITE, statement, &p.dict, &r, err)) == EG_OK) {
            uint64_t matched;
            if ((st = nj_count_of(&r, "count", &matched, err)) == EG_OK) *written += (size_t)matched;
            eg_bolt_result_free(&r);
        }
        nj_params_free(&p);
    }
    return st;
}

/* Names the first relationship with a missing end (EG_NOT_FOUND). */
static eg_status name_missing_end(neo4j_graph *ng, const eg_relationship_spec *rels, size_t count, eg_error *err) {
    for (size_t i = 0; i < count; i++) {
        eg_status st = nj_check_ends(ng, rels[i].source_id, rels[i].target_id, err);
        if (st) return count > 1 ? eg_error_prefix(err, st, "relationships[%zu]: ", i) : st;
    }
    return eg_error_set(err, EG_NOT_FOUND, "an end node of a relationship does not exist");
}

typedef struct relationship_batch {
    const eg_relationship_spec *rels;
    size_t count;
    int64_t now;
} relationship_batch;

static eg_status write_relationships(neo4j_graph *ng, void *context, eg_error *err) {
    relationship_batch *batch = context;
    size_t written;
    eg_status st = merge_relationships(ng, batch->rels, batch->count, batch->now, &written, err);
    if (st == EG_OK && written < batch->count) st = name_missing_end(ng, batch->rels, batch->count, err);
    return st;
}

static eg_status create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err) {
    for (size_t i = 0; i < count; i++) { /* refuse unstorable properties before anything is sent */
        eg_ps_value v;
        eg_status st = nj_properties_to_ps(rels[i].properties, true, true, NULL, &v, err);
        if (st) return count > 1 ? eg_error_prefix(err, st, "relationships[%zu]: ", i) : st;
        eg_ps_value_free(&v);
    }
    relationship_batch batch = {rels, count, eg_now_ms()};
    return nj_write(neo4j_of(g), write_relationships, &batch, err);
}

eg_status nj_create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err) {
    return create_relationships(g, rel, 1, err);
}

eg_status nj_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err) {
    return create_relationships(g, rels, count, err);
}

/* ---- delete ---- */

typedef struct relationship_delete {
    const char *statement;
    const eg_ps_value *parameters;
    const char *source_id, *target_id;
    eg_rel_type type;
} relationship_delete;

static eg_status delete_relationship(neo4j_graph *ng, void *context, eg_error *err) {
    relationship_delete *d = context;
    eg_bolt_result r;
    eg_status st = nj_run(ng, EG_BOLT_WRITE, d->statement, d->parameters, &r, err);
    if (st) return st;
    if (nj_row_count(&r) == 0 && (st = nj_check_ends(ng, d->source_id, d->target_id, err)) == EG_OK)
        st = eg_error_set(err, EG_NOT_FOUND, "relationship '%s' -[%s]-> '%s' does not exist", d->source_id,
                          eg_rel_type_name(d->type), d->target_id);
    eg_bolt_result_free(&r);
    return st;
}

eg_status nj_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                 eg_error *err) {
    char type_clause[NJ_NAME_CLAUSE_MAX], ends[2 * NJ_FIND_NODE_MAX], statement[STATEMENT_MAX];
    nj_type_clause(type, type_clause);
    match_ends(g->schema, "$source", "$target", ends);
    snprintf(statement, sizeof statement, "%s MATCH (a)-[r%s]->(b) WITH r, type(r) AS type DELETE r RETURN type", ends,
             type_clause);
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "source", source_id);
    nj_param_string(&p, "target", target_id);
    relationship_delete d = {statement, &p.dict, source_id, target_id, type};
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_write(neo4j_of(g), delete_relationship, &d, err);
    nj_params_free(&p);
    return st;
}

/* ---- reads ---- */

/* The relationships of the nodes `ids` (an UNWIND over $ids): one row per node without any (source null) and per
 * relationship; DISTINCT lists a self-loop once in both directions. */
static void read_statement(eg_graph_schema schema, eg_rel_type type, eg_direction dir, char out[STATEMENT_MAX]) {
    char type_clause[NJ_NAME_CLAUSE_MAX], find[NJ_FIND_NODE_MAX];
    nj_type_clause(type, type_clause);
    nj_find_node(schema, "n", "id", "id", find);
    const char *left = dir == EG_DIR_IN ? "<-" : "-", *right = dir == EG_DIR_OUT ? "->" : "-";
    snprintf(out, STATEMENT_MAX,
             "UNWIND $ids AS id %s OPTIONAL MATCH (n)%s[r%s]%s(m) "
             "RETURN DISTINCT id, startNode(r).id AS source, type(r) AS type, endNode(r).id AS target, "
             "properties(r) AS properties",
             find, left, type_clause, right);
}

static eg_status append_relationship(eg_relationship_list *list, const eg_bolt_result *r, size_t row,
                                     eg_error *err) {
    eg_relationship *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
    list->items = grown;
    eg_status st = nj_relationship_from_ps(nj_column(r, row, "source"), nj_column(r, row, "type"),
                                           nj_column(r, row, "target"), nj_column(r, row, "properties"),
                                           &list->items[list->count], err);
    if (st == EG_OK) list->count++;
    return st;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads the relationships of ids[0..count) (each id once in the statement; a repeated id gets its list twice).
 * found[i] says whether ids[i] exists. */
static eg_status read_relationships(neo4j_graph *ng, const char *const *ids, size_t count, eg_rel_type type,
                                    eg_direction dir, eg_relationship_list *out, bool *found, eg_error *err) {
    const char **unique = malloc(count * sizeof *unique);
    if (!unique) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(unique, ids, count * sizeof *unique);
    qsort(unique, count, sizeof *unique, compare_strings);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (n == 0 || strcmp(unique[n - 1], unique[i]) != 0) unique[n++] = unique[i];
    nj_params p;
    nj_params_init(&p);
    eg_ps_value list;
    if (nj_ps_string_list(unique, n, &list))
        nj_param_take(&p, "ids", &list);
    else
        p.failed = true;
    free(unique);
    char statement[STATEMENT_MAX];
    read_statement(ng->base.schema, type, dir, statement);
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(ng, EG_BOLT_READ, statement, &p.dict, &r, err);
    nj_params_free(&p);
    if (st) return st;
    memset(found, 0, count * sizeof *found);
    for (size_t row = 0; row < nj_row_count(&r) && st == EG_OK; row++) {
        const eg_ps_value *id = nj_column(&r, row, "id"), *source = nj_column(&r, row, "source");
        if (!id || id->kind != EG_PS_STRING) {
            st = nj_bad_answer(err, "a row without its node id");
            break;
        }
        for (size_t i = 0; i < count && st == EG_OK; i++) {
            if (strcmp(ids[i], id->as.text.data) != 0) continue;
            found[i] = true;
            if (source && source->kind != EG_PS_NULL) st = append_relationship(&out[i], &r, row, err);
        }
    }
    eg_bolt_result_free(&r);
    if (st)
        for (size_t i = 0; i < count; i++) eg_relationship_list_free(&out[i]);
    return st;
}

eg_status nj_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                               eg_relationship_list *out, eg_error *err) {
    bool found;
    eg_status st = read_relationships(neo4j_of(g), &id, 1, type, dir, out, &found, err);
    if (st == EG_OK && !found) st = eg_error_set(err, EG_NOT_FOUND, "node '%s' does not exist", id);
    return st;
}

eg_status nj_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                     eg_direction dir, eg_relationship_list *out, eg_error *err) {
    if (count == 0) return EG_OK;
    bool *found = malloc(count * sizeof *found);
    if (!found) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = read_relationships(neo4j_of(g), ids, count, type, dir, out, found, err);
    free(found);
    return st;
}

eg_status nj_count_relationships(eg_graph *g, uint64_t *out, eg_error *err) {
    eg_bolt_result r;
    eg_status st = nj_run(neo4j_of(g), EG_BOLT_READ, "MATCH ()-[r]->() RETURN count(r) AS count", NULL, &r, err);
    if (st) return st;
    st = nj_count_of(&r, "count", out, err);
    eg_bolt_result_free(&r);
    return st;
}

/* ---- Hebbian strengthen / weaken ---- */

/* The same arithmetic as the embedded store, in the same order: w + rate * (1 - w) and w * (1 - rate), a missing
 * weight counting as 0.1. */
static void reweight_statement(eg_graph_schema schema, eg_rel_type type, bool strengthen, char out[STATEMENT_MAX]) {
    char type_clause[NJ_NAME_CLAUSE_MAX], ends[2 * NJ_FIND_NODE_MAX];
    nj_type_clause(type, type_clause);
    match_ends(schema, "$from", "$to", ends);
    snprintf(out, STATEMENT_MAX, "%s MATCH (a)-[r%s]->(b) %s RETURN r.weight AS weight", ends, type_clause,
             strengthen ? "SET r.weight = coalesce(r.weight, 0.1) + $rate * (1 - coalesce(r.weight, 0.1)), "
                          "r.coAccessCount = coalesce(r.coAccessCount, 0) + 1, r.lastAccessed = $now"
                        : "SET r.weight = coalesce(r.weight, 0.1) * (1 - $rate)");
}

/* Reweights the relationships from -> to; *changed counts them, *best is the highest new weight. */
static eg_status reweight_direction(neo4j_graph *ng, const char *statement, const char *from, const char *to,
                                    double rate, int64_t now, size_t *changed, double *best, eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "from", from);
    nj_param_string(&p, "to", to);
    nj_param_float(&p, "rate", rate);
    nj_param_int(&p, "now", now);
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(ng, EG_BOLT_WRITE, statement, &p.dict, &r, err);
    nj_params_free(&p);
    if (st) return st;
    for (size_t row = 0; row < nj_row_count(&r) && st == EG_OK; row++) {
        const eg_ps_value *w = nj_column(&r, row, "weight");
        if (!w || w->kind != EG_PS_FLOAT) {
            st = nj_bad_answer(err, "a weight that is not a float");
            break;
        }
        if (*changed == 0 || w->as.real > *best) *best = w->as.real;
        (*changed)++;
    }
    eg_bolt_result_free(&r);
    return st;
}

typedef struct reweight {
    char statement[STATEMENT_MAX];
    const char *source_id, *target_id;
    eg_rel_type type;
    double rate;
    int64_t now;
    double best; /* the highest new weight */
} reweight;

/* Forward first; the reverse direction only when nothing goes forward. */
static eg_status reweight_relationships(neo4j_graph *ng, void *context, eg_error *err) {
    reweight *r = context;
    size_t changed = 0;
    eg_status st = reweight_direction(ng, r->statement, r->source_id, r->target_id, r->rate, r->now, &changed,
                                      &r->best, err);
    if (st == EG_OK && changed == 0)
        st = reweight_direction(ng, r->statement, r->target_id, r->source_id, r->rate, r->now, &changed, &r->best,
                                err);
    if (st == EG_OK && changed == 0 && (st = nj_check_ends(ng, r->source_id, r->target_id, err)) == EG_OK)
        st = eg_error_set(err, EG_NOT_FOUND, "no %s relationship between '%s' and '%s'",
                          r->type == EG_REL_ANY ? "" : eg_rel_type_name(r->type), r->source_id, r->target_id);
    return st;
}

eg_status nj_reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                   double rate, bool strengthen, double *new_weight, eg_error *err) {
    reweight r = {.source_id = source_id, .target_id = target_id, .type = type, .rate = rate, .now = eg_now_ms()};
    reweight_statement(g->schema, type, strengthen, r.statement);
    eg_status st = nj_write(neo4j_of(g), reweight_relationships, &r, err);
    if (st == EG_OK) *new_weight = r.best;
    return st;
}

/* ---- decay ---- */

/* A relationship is stale when lastAccessed < $cutoff (now - stale days); in scope when $session_id is null or its
 * source node's sessionId. Decay is elapsed-time based, as the embedded store's: from start = the later of
 * lastAccessed + stale time and decayedThrough, every whole day up to now costs a factor (1 - rate), and
 * decayedThrough moves to the end of the last whole day applied, so a second run in a row changes nothing. */
#define STALE_SCOPE                                                                                                  \
    "MATCH (a)-[r]->() WHERE r.lastAccessed < $cutoff AND ($session_id IS NULL OR a.sessionId = $session_id) "

static const char DECAY[] =
    STALE_SCOPE
    "WITH r, r.lastAccessed + $stale_ms AS became_stale, coalesce(r.decayedThrough, 0) AS decayed_through "
    "WITH r, CASE WHEN decayed_through > became_stale THEN decayed_through ELSE became_stale END AS start "
    "WITH r, start, ($now - start) / $day_ms AS days WHERE days > 0 "
    "SET r.weight = coalesce(r.weight, 0.1) * (1 - $rate) ^ days, r.decayedThrough = start + days * $day_ms "
    "RETURN count(r) AS count";

/* After decay: stale relationships below min_weight go. */
static const char PRUNE[] = STALE_SCOPE "AND coalesce(r.weight, 0.1) < $min_weight "
                                        "WITH r, type(r) AS type DELETE r RETURN count(type) AS count";

static const char COUNT_STALE[] = STALE_SCOPE "RETURN count(r) AS count";

static void stale_params(nj_params *p, double stale_days, const char *session_id, int64_t now) {
    int64_t stale_ms = (int64_t)(stale_days * EG_MS_PER_DAY);
    nj_param_int(p, "cutoff", now - stale_ms);
    nj_param_int(p, "stale_ms", stale_ms);
    if (session_id)
        nj_param_string(p, "session_id", session_id);
    else
        nj_param_null(p, "session_id");
}

static eg_status run_count(neo4j_graph *ng, eg_bolt_access access, const char *statement, const nj_params *p,
                           uint64_t *out, eg_error *err) {
    eg_bolt_result r;
    eg_status st = nj_params_status(p, err);
    if (st == EG_OK) st = nj_run(ng, access, statement, &p->dict, &r, err);
    if (st) return st;
    st = nj_count_of(&r, "count", out, err);
    eg_bolt_result_free(&r);
    return st;
}

typedef struct decay {
    const nj_params *parameters;
    bool decays; /* a rate of 0 only prunes */
    eg_decay_result result;
} decay;

static eg_status decay_and_prune(neo4j_graph *ng, void *context, eg_error *err) {
    decay *d = context;
    d->result = (eg_decay_result){0, 0};
    eg_status st = EG_OK;
    if (d->decays) st = run_count(ng, EG_BOLT_WRITE, DECAY, d->parameters, &d->result.decayed, err);
    if (st == EG_OK) st = run_count(ng, EG_BOLT_WRITE, PRUNE, d->parameters, &d->result.pruned, err);
    return st;
}

eg_status nj_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                       const char *session_id, eg_decay_result *out, eg_error *err) {
    int64_t now = eg_now_ms();
    nj_params p;
    nj_params_init(&p);
    stale_params(&p, stale_days, session_id, now);
    nj_param_int(&p, "now", now);
    nj_param_int(&p, "day_ms", (int64_t)EG_MS_PER_DAY);
    nj_param_float(&p, "rate", decay_rate);
    nj_param_float(&p, "min_weight", min_weight);
    decay d = {&p, decay_rate > 0, {0, 0}};
    eg_status st = nj_write(neo4j_of(g), decay_and_prune, &d, err);
    nj_params_free(&p);
    if (st == EG_OK) *out = d.result;
    return st;
}

eg_status nj_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                       eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    stale_params(&p, stale_days, session_id, eg_now_ms());
    eg_status st = run_count(neo4j_of(g), EG_BOLT_READ, COUNT_STALE, &p, out, err);
    nj_params_free(&p);
    return st;
}
