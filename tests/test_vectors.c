/* test_vectors.c — the vector store against an independent reference, through the public C API only.
 *
 * The reference lives in this file and shares no code with src/vector: a model of every live point (its id,
 * vector, sparse vector and payload as given), a double-precision brute-force scorer for the four distances, a
 * ranking with Qdrant's order (higher first for Cosine and Dot, lower first for Euclid and Manhattan, ties by id
 * with numbers before UUIDs), a small evaluator of the Qdrant filters the tests generate (match value / any /
 * except, range, is_empty, is_null, has_id, should, must_not, min_should, nested filters, dotted keys), and
 * reciprocal rank fusion for hybrid search.
 *
 * Every "fixture" is two collections holding the same points: one without payload indexes, one with an index on
 * every field the filters use (some created before the points, some after, so both the write path and the
 * backfill are exercised). Every read is run on both and compared with the reference, so an index can be seen
 * to change nothing; on the indexed collection a filter is also counted wrapped in a nested filter (which no
 * index serves), an index-versus-scan check that needs no reference at all.
 *
 * Covered: search (four distances, dims 1 to 1000, limit, offset, score_threshold, filters, session_id), ties
 * and the id order, count, scroll pagination, get, set_payload (merge, overwrite, refused), delete_payload_keys,
 * update_vectors, replacing upserts, deletes by ids and by filter, all-or-nothing batches, delete_collection and
 * re-creation, hybrid search against a reference RRF, payload-index edge values, and a close and reopen. Wide
 * vectors (1000 to 3000 floats) put a few dozen points in each storage chunk, so chunk boundaries and the reuse
 * of slots freed by deletes are crossed too.
 *
 * Comparisons: ids in the same order, scores within 1e-4 (relative; absolute below 1). A grid of 1/4 makes
 * Dot, Euclid and Manhattan scores exact in float, so their rankings (ties included) are checked strictly;
 * for continuous vectors and Cosine (whose normalisation rounds), points whose reference scores are within float
 * noise may trade places, but each answer must still be ordered by its own scores with equal scores by id. */
#include "test.h"

#include <math.h>
#include <stdint.h>

static eg_error err;

/* ---- Reporting ------------------------------------------------------------------------------------------ */

/* Randomised comparisons can fail thousands of times for one cause: the first few failures are described. */
static int details_left = 40;

#define EXPECT(cond, ...)                                                                                            \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            test_failures_in_current++;                                                                              \
            if (details_left > 0) {                                                                                  \
                details_left--;                                                                                      \
                fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                                    \
                fprintf(stderr, __VA_ARGS__);                                                                        \
                fputc('\n', stderr);                                                                                 \
            }                                                                                                        \
        }                                                                                                            \
    } while (0)

/* ---- Random numbers (test_random of test.h) ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL; /* test_random's state (test.h): a fixed seed */

static size_t rand_below(size_t n) { return (size_t)(test_random(&rng_state) % n); }
static bool chance(unsigned percent) { return rand_below(100) < percent; }
static double rand_unit(void) { return (double)(test_random(&rng_state) >> 11) / 9007199254740992.0; } /* [0, 1) */

#define PICK(array) ((array)[rand_below(sizeof(array) / sizeof((array)[0]))])

/* ---- Point ids (the reference's own order and text) ------------------------------------------------------ */

static int ref_id_compare(const eg_point_id *a, const eg_point_id *b) {
    if (a->is_uuid != b->is_uuid) return a->is_uuid ? 1 : -1;
    if (!a->is_uuid) return (a->num > b->num) - (a->num < b->num);
    return memcmp(a->uuid, b->uuid, 16);
}

static bool same_id(const eg_point_id *a, const eg_point_id *b) { return ref_id_compare(a, b) == 0; }

#define ID_TEXT 40

/* Decimal, or the canonical hyphenated lower-case UUID. */
static const char *id_text(const eg_point_id *id, char out[ID_TEXT]) {
    if (!id->is_uuid) {
        snprintf(out, ID_TEXT, "%llu", (unsigned long long)id->num);
        return out;
    }
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        o += (size_t)snprintf(out + o, ID_TEXT - o, "%02x", id->uuid[i]);
    }
    return out;
}

/* A JSON id for has_id; NULL for numbers beyond 2^63 - 1, which jansson cannot hold (see point_id.c). */
static json_t *id_json(const eg_point_id *id) {
    char text[ID_TEXT];
    if (!id->is_uuid) return id->num > (uint64_t)INT64_MAX ? NULL : json_integer((json_int_t)id->num);
    return json_string(id_text(id, text));
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The inverse of id_json (ids in has_id lists are written by this file, so canonical). */
static bool id_from_json(json_t *j, eg_point_id *out) {
    memset(out, 0, sizeof *out);
    if (json_is_integer(j)) {
        out->num = (uint64_t)json_integer_value(j);
        return true;
    }
    const char *s = json_string_value(j);
    if (!s) return false;
    out->is_uuid = true;
    size_t nibble = 0;
    for (; *s && nibble < 32; s++) {
        if (*s == '-') continue;
        int v = hex_digit(*s);
        if (v < 0) return false;
        out->uuid[nibble / 2] = (uint8_t)(nibble % 2 ? out->uuid[nibble / 2] | v : v << 4);
        nibble++;
    }
    return nibble == 32;
}

/* ---- Points owned by the model -------------------------------------------------------------------------- */

static void point_free(eg_point *p) {
    free(p->vector);
    free(p->sparse.indices);
    free(p->sparse.values);
    json_decref(p->payload);
    memset(p, 0, sizeof *p);
}

static void points_free(eg_point *points, size_t n) {
    for (size_t i = 0; i < n; i++) point_free(&points[i]);
    free(points);
}

static void point_copy(eg_point *dst, const eg_point *src) {
    *dst = *src;
    dst->vector = malloc(src->dim * sizeof(float));
    memcpy(dst->vector, src->vector, src->dim * sizeof(float));
    dst->sparse.indices = malloc((src->sparse.count + 1) * sizeof(uint32_t));
    dst->sparse.values = malloc((src->sparse.count + 1) * sizeof(float));
    if (src->sparse.count) {
        memcpy(dst->sparse.indices, src->sparse.indices, src->sparse.count * sizeof(uint32_t));
        memcpy(dst->sparse.values, src->sparse.values, src->sparse.count * sizeof(float));
    }
    dst->payload = src->payload ? json_deep_copy(src->payload) : NULL;
}

/* ---- The reference filter evaluator ---------------------------------------------------------------------- */

#define REACHED_MAX 64

typedef struct reached {
    json_t *values[REACHED_MAX];
    size_t count;
} reached;

/* Collects the values a dotted path reaches: "a.b" walks objects only; a step written "k[]" walks every element
 * of the array k. */
static void walk_key(json_t *value, const char *path, reached *out) {
    if (!*path) {
        if (out->count < REACHED_MAX) out->values[out->count++] = value;
        return;
    }
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    bool every = len > 2 && path[len - 2] == '[' && path[len - 1] == ']';
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(every ? len - 2 : len), path);
    const char *rest = dot ? dot + 1 : path + len;
    json_t *member = json_is_object(value) ? json_object_get(value, key) : NULL;
    if (!member) return;
    if (!every) {
        walk_key(member, rest, out);
        return;
    }
    size_t i;
    json_t *element;
    if (json_is_array(member)) json_array_foreach(member, i, element) walk_key(element, rest, out);
}

/* Equality of match values: strings, integers (never a real), booleans; types never cross. */
static bool scalar_equal(json_t *a, json_t *b) {
    if (json_is_string(a) || json_is_integer(a) || json_is_boolean(a)) return json_equal(a, b);
    return false;
}

static bool in_list(json_t *list, json_t *value) {
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) if (scalar_equal(item, value)) return true;
    return false;
}

typedef bool (*element_test)(json_t *condition, json_t *value);

static bool test_value(json_t *match, json_t *v) { return scalar_equal(json_object_get(match, "value"), v); }
static bool test_any(json_t *match, json_t *v) { return in_list(json_object_get(match, "any"), v); }

/* except: null never passes; a value of another type than the list's (strings unless it holds integers)
 * always passes; otherwise the value must be absent from the list. */
static bool test_except(json_t *match, json_t *v) {
    json_t *list = json_object_get(match, "except");
    if (json_is_null(v)) return false;
    bool integer_list = json_array_size(list) > 0 && json_is_integer(json_array_get(list, 0));
    bool fits = integer_list ? json_is_integer(v) : json_is_string(v);
    return !fits || !in_list(list, v);
}

static bool test_range(json_t *range, json_t *v) {
    if (!json_is_number(v)) return false;
    double x = json_number_value(v);
    json_t *b;
    if ((b = json_object_get(range, "gt")) && json_is_number(b) && !(x > json_number_value(b))) return false;
    if ((b = json_object_get(range, "gte")) && json_is_number(b) && !(x >= json_number_value(b))) return false;
    if ((b = json_object_get(range, "lt")) && json_is_number(b) && !(x < json_number_value(b))) return false;
    if ((b = json_object_get(range, "lte")) && json_is_number(b) && !(x <= json_number_value(b))) return false;
    return true;
}

/* A condition on values holds when a reached value, or an element of a reached array, passes the test. */
static bool some_element(const reached *r, element_test test, json_t *condition) {
    for (size_t i = 0; i < r->count; i++) {
        json_t *v = r->values[i];
        if (!json_is_array(v)) {
            if (test(condition, v)) return true;
            continue;
        }
        size_t j;
        json_t *element;
        json_array_foreach(v, j, element) if (test(condition, element)) return true;
    }
    return false;
}

static bool is_null_or_empty_array(json_t *v) {
    return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0);
}

static bool holds_null(json_t *v) {
    if (json_is_null(v)) return true;
    size_t i;
    json_t *element;
    if (json_is_array(v)) json_array_foreach(v, i, element) if (json_is_null(element)) return true;
    return false;
}

static bool ref_filter(json_t *filter, const eg_point_id *id, json_t *payload);

static bool ref_condition(json_t *c, const eg_point_id *id, json_t *payload) {
    json_t *key = json_object_get(c, "key"), *x;
    reached r = {{0}, 0};
    if (key) {
        walk_key(payload, json_string_value(key), &r);
        json_t *match = json_object_get(c, "match");
        if (match && json_object_get(match, "value")) return some_element(&r, test_value, match);
        if (match && json_object_get(match, "any")) return some_element(&r, test_any, match);
        if (match) return some_element(&r, test_except, match);
        return some_element(&r, test_range, json_object_get(c, "range"));
    }
    if ((x = json_object_get(c, "is_empty")) || (x = json_object_get(c, "is_null"))) {
        bool empty_test = json_object_get(c, "is_empty") != NULL;
        walk_key(payload, json_string_value(json_object_get(x, "key")), &r);
        for (size_t i = 0; i < r.count; i++) {
            if (empty_test && !is_null_or_empty_array(r.values[i])) return false;
            if (!empty_test && holds_null(r.values[i])) return true;
        }
        return empty_test;
    }
    if ((x = json_object_get(c, "has_id"))) {
        size_t i;
        json_t *item;
        json_array_foreach(x, i, item) {
            eg_point_id listed;
            if (id_from_json(item, &listed) && same_id(&listed, id)) return true;
        }
        return false;
    }
    return ref_filter(c, id, payload); /* a nested filter */
}

/* A clause may be an array of conditions or one condition object. */
static size_t clause_size(json_t *clause) { return json_is_array(clause) ? json_array_size(clause) : clause ? 1 : 0; }
static json_t *clause_item(json_t *clause, size_t i) {
    return json_is_array(clause) ? json_array_get(clause, i) : clause;
}

static size_t clause_hits(json_t *clause, const eg_point_id *id, json_t *payload) {
    size_t hits = 0;
    for (size_t i = 0; i < clause_size(clause); i++) hits += ref_condition(clause_item(clause, i), id, payload);
    return hits;
}

static bool ref_filter(json_t *filter, const eg_point_id *id, json_t *payload) {
    json_t *must = json_object_get(filter, "must"), *should = json_object_get(filter, "should");
    json_t *must_not = json_object_get(filter, "must_not"), *min = json_object_get(filter, "min_should");
    if (clause_hits(must, id, payload) != clause_size(must)) return false;
    if (clause_size(should) && clause_hits(should, id, payload) == 0) return false;
    if (clause_hits(must_not, id, payload) != 0) return false;
    if (min && clause_hits(json_object_get(min, "conditions"), id, payload) <
                   (size_t)json_integer_value(json_object_get(min, "min_count")))
        return false;
    return true;
}

/* The filter (NULL: none) and the session_id shorthand (NULL: none). */
static bool ref_matches(json_t *filter, const char *session, const eg_point *p) {
    if (session) {
        const char *s = json_string_value(json_object_get(p->payload, "session_id"));
        if (!s || strcmp(s, session) != 0) return false;
    }
    return !filter || ref_filter(filter, &p->id, p->payload);
}

/* ---- Fixtures: two collections (without and with payload indexes) and the model of their points ---------- */

enum { PLAIN = 0, INDEXED = 1 };

static const struct {
    const char *field;
    eg_payload_type type;
} INDEXES[] = {
    {"city", EG_PAYLOAD_KEYWORD},       {"year", EG_PAYLOAD_INTEGER},      {"tags", EG_PAYLOAD_KEYWORD},
    {"score", EG_PAYLOAD_FLOAT},        {"session_id", EG_PAYLOAD_KEYWORD}, {"meta.lang", EG_PAYLOAD_KEYWORD},
    {"meta.rank", EG_PAYLOAD_INTEGER},
};
#define INDEX_COUNT (sizeof INDEXES / sizeof INDEXES[0])
#define EARLY_INDEXES 3 /* created before the first point; the others are backfilled */

typedef struct fixture {
    eg_vectors *v;
    char name[2][64];
    eg_collection_config config;
    bool grid;        /* vector components on a grid of 1/4: Dot, Euclid and Manhattan scores exact in float */
    eg_point *points; /* the model: every live point, in no order */
    size_t count, cap;
} fixture;

static void fixture_create_collections(fixture *f) {
    for (int c = 0; c < 2; c++) CHECK_OK(eg_vectors_create_collection(f->v, f->name[c], &f->config, &err), &err);
    for (size_t i = 0; i < EARLY_INDEXES; i++)
        CHECK_OK(eg_vectors_create_payload_index(f->v, f->name[INDEXED], INDEXES[i].field, INDEXES[i].type, &err),
                 &err);
}

static void fixture_init(fixture *f, eg_vectors *v, const char *label, uint32_t dim, eg_distance d, bool sparse,
                         bool grid) {
    memset(f, 0, sizeof *f);
    f->v = v;
    f->config = (eg_collection_config){dim, d, sparse};
    f->grid = grid;
    snprintf(f->name[PLAIN], sizeof f->name[PLAIN], "%.40s-plain", label);
    snprintf(f->name[INDEXED], sizeof f->name[INDEXED], "%.40s-indexed", label);
    fixture_create_collections(f);
}

static void fixture_index_the_rest(fixture *f) {
    for (size_t i = EARLY_INDEXES; i < INDEX_COUNT; i++)
        CHECK_OK(eg_vectors_create_payload_index(f->v, f->name[INDEXED], INDEXES[i].field, INDEXES[i].type, &err),
                 &err);
}

static void fixture_free(fixture *f) {
    points_free(f->points, f->count);
    f->points = NULL;
    f->count = f->cap = 0;
}

static eg_point *model_find(fixture *f, const eg_point_id *id) {
    for (size_t i = 0; i < f->count; i++)
        if (same_id(&f->points[i].id, id)) return &f->points[i];
    return NULL;
}

static void model_put(fixture *f, const eg_point *p) {
    eg_point *old = model_find(f, &p->id);
    if (old) {
        point_free(old);
        point_copy(old, p);
        return;
    }
    if (f->count == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->points = realloc(f->points, f->cap * sizeof *f->points);
    }
    point_copy(&f->points[f->count++], p);
}

static bool model_remove(fixture *f, const eg_point_id *id) {
    eg_point *p = model_find(f, id);
    if (!p) return false;
    point_free(p);
    *p = f->points[--f->count];
    return true;
}

/* ---- Random points, payloads and filters ----------------------------------------------------------------- */

static const char *const CITIES[] = {"Paris", "Berlin", "Lima", "Oslo", "Kyoto"};
static const char *const TAGS[] = {"red", "green", "blue", "x"};
static const char *const SESSIONS[] = {"s1", "s2", "s3"};
static const char *const LANGS[] = {"en", "fr", "de"};

static json_t *random_tags(void) {
    switch (rand_below(6)) {
    case 0: return NULL;
    case 1: return json_null();
    case 2: return json_array();
    default: {
        json_t *tags = json_array();
        for (size_t n = 1 + rand_below(3); n > 0; n--) json_array_append_new(tags, json_string(PICK(TAGS)));
        return tags; /* duplicates happen: one index entry must serve both */
    }
    }
}

static json_t *random_payload(void) {
    if (chance(8)) return NULL;
    json_t *p = json_object(), *tags = random_tags();
    if (!chance(10)) json_object_set_new(p, "city", json_string(PICK(CITIES)));
    if (!chance(10)) json_object_set_new(p, "year", json_integer(1990 + (json_int_t)rand_below(36)));
    if (!chance(10)) {
        double s = (double)rand_below(41) * 0.25; /* some on range bounds; some integers (a float index holds both) */
        json_object_set_new(p, "score", chance(20) ? json_integer((json_int_t)s) : json_real(s));
    }
    if (tags) json_object_set_new(p, "tags", tags);
    if (!chance(25)) json_object_set_new(p, "session_id", json_string(PICK(SESSIONS)));
    if (chance(70)) {
        json_t *meta = json_object();
        if (!chance(20)) json_object_set_new(meta, "lang", json_string(PICK(LANGS)));
        if (!chance(20)) json_object_set_new(meta, "rank", json_integer((json_int_t)rand_below(10)));
        json_object_set_new(p, "meta", meta);
    }
    return p;
}

static float random_component(bool grid) {
    return grid ? (float)((int)rand_below(9) - 4) * 0.25f : (float)(rand_unit() * 2 - 1);
}

static void random_vector(const fixture *f, float *out) {
    for (size_t i = 0; i < f->config.dim; i++) out[i] = random_component(f->grid);
}

/* A sparse vector of 1..max_nnz distinct indices below 40 with positive values on a grid of 1/2 (so that sharing
 * an index always means a positive dot product), in random order (the store sorts). */
static void random_sparse(eg_sparse_vector *s, size_t max_nnz) {
    s->count = 1 + rand_below(max_nnz);
    s->indices = malloc(s->count * sizeof *s->indices);
    s->values = malloc(s->count * sizeof *s->values);
    for (size_t i = 0; i < s->count; i++) {
        bool fresh;
        do {
            s->indices[i] = (uint32_t)rand_below(40);
            fresh = true;
            for (size_t j = 0; j < i; j++) fresh &= s->indices[j] != s->indices[i];
        } while (!fresh);
        s->values[i] = (float)(1 + rand_below(6)) * 0.5f;
    }
}

static bool id_taken(fixture *f, const eg_point *batch, size_t n, const eg_point_id *id) {
    if (model_find(f, id)) return true;
    for (size_t i = 0; i < n; i++)
        if (same_id(&batch[i].id, id)) return true;
    return false;
}

/* Numbers (small, and a few beyond 2^63 to check unsigned order) and UUIDs (some at the ends of the byte order). */
static eg_point_id random_id(void) {
    eg_point_id id;
    memset(&id, 0, sizeof id);
    if (chance(70)) {
        id.num = chance(4) ? UINT64_MAX - rand_below(3) : chance(4) ? (1ull << 63) + rand_below(3) : rand_below(3000);
        return id;
    }
    id.is_uuid = true;
    for (size_t i = 0; i < 16; i++) id.uuid[i] = (uint8_t)test_random(&rng_state);
    if (chance(10)) id.uuid[0] = chance(50) ? 0x00 : 0xff;
    return id;
}

static eg_point_id fresh_id(fixture *f, const eg_point *batch, size_t n) {
    eg_point_id id;
    do id = random_id();
    while (id_taken(f, batch, n, &id));
    return id;
}

/* A random point with the given id: sometimes the vector of an existing point (exact ties), sometimes no sparse
 * vector. The caller frees it with point_free. */
static void random_point(fixture *f, const eg_point_id *id, eg_point *p) {
    memset(p, 0, sizeof *p);
    p->id = *id;
    p->dim = f->config.dim;
    p->vector = malloc(p->dim * sizeof(float));
    if (f->count && chance(5))
        memcpy(p->vector, f->points[rand_below(f->count)].vector, p->dim * sizeof(float));
    else
        random_vector(f, p->vector);
    if (f->config.sparse && chance(75)) random_sparse(&p->sparse, 6);
    p->payload = random_payload();
}

/* Upserts points into both collections and the model. */
static void fixture_upsert(fixture *f, const eg_point *points, size_t n) {
    for (int c = 0; c < 2; c++) CHECK_OK(eg_vectors_upsert(f->v, f->name[c], points, n, &err), &err);
    for (size_t i = 0; i < n; i++) model_put(f, &points[i]);
}

/* Adds n new points in batches of random sizes. */
static void fixture_fill(fixture *f, size_t n) {
    while (n > 0) {
        size_t batch_size = 1 + rand_below(n < 64 ? n : 64);
        eg_point *batch = calloc(batch_size, sizeof *batch);
        for (size_t i = 0; i < batch_size; i++) {
            eg_point_id id = fresh_id(f, batch, i);
            random_point(f, &id, &batch[i]);
        }
        fixture_upsert(f, batch, batch_size);
        points_free(batch, batch_size);
        n -= batch_size;
    }
}

static json_t *random_range(double low, double high, bool integers) {
    json_t *range = json_object();
    static const char *const lower[] = {"gt", "gte"}, *const upper[] = {"lt", "lte"};
    double a = low + rand_unit() * (high - low), b = a + rand_unit() * (high - low) / 2;
    bool has_low = !chance(30), has_high = !has_low || !chance(30);
    if (integers) a = floor(a), b = ceil(b);
    else if (chance(50)) a = floor(a * 4) / 4, b = ceil(b * 4) / 4; /* on stored values: strict vs inclusive */
    if (has_low) json_object_set_new(range, PICK(lower), integers ? json_integer((json_int_t)a) : json_real(a));
    if (has_high) json_object_set_new(range, PICK(upper), integers ? json_integer((json_int_t)b) : json_real(b));
    return range;
}

static json_t *string_list(const char *const *pool, size_t pool_size, size_t n) {
    json_t *list = json_array();
    while (n-- > 0) json_array_append_new(list, json_string(pool[rand_below(pool_size)]));
    return list;
}

static json_t *match_condition(const char *key, const char *kind, json_t *value) {
    return json_pack("{s:s, s:{s:o}}", "key", key, "match", kind, value);
}

static json_t *random_has_id(fixture *f) {
    json_t *ids = json_array();
    for (size_t n = 1 + rand_below(12); n > 0; n--) {
        eg_point_id id = f->count && chance(85) ? f->points[rand_below(f->count)].id : random_id();
        json_t *j = id_json(&id);
        if (j) json_array_append_new(ids, j);
    }
    return json_pack("{s:o}", "has_id", ids);
}

#define LIST_OF(pool, n) string_list(pool, sizeof pool / sizeof pool[0], n)

static json_t *random_leaf(fixture *f) {
    switch (rand_below(18)) {
    case 0: return match_condition("city", "value", json_string(PICK(CITIES)));
    case 1: return match_condition("city", "any", LIST_OF(CITIES, 1 + rand_below(3)));
    case 2: return match_condition("city", "except", LIST_OF(CITIES, 1 + rand_below(3)));
    case 3: return match_condition("year", "value", json_integer(1990 + (json_int_t)rand_below(36)));
    case 4:
        return match_condition("year", "any",
                               json_pack("[I, I, I]", (json_int_t)(1990 + rand_below(36)),
                                         (json_int_t)(1990 + rand_below(36)), (json_int_t)(1990 + rand_below(36))));
    case 5: return json_pack("{s:s, s:o}", "key", "year", "range", random_range(1988, 2027, chance(60)));
    case 6: return json_pack("{s:s, s:o}", "key", "score", "range", random_range(-0.5, 10.5, chance(30)));
    case 7: return match_condition("tags", "value", json_string(PICK(TAGS)));
    case 8: return match_condition("tags", "any", LIST_OF(TAGS, 1 + rand_below(2)));
    case 9: return match_condition("tags", "except", LIST_OF(TAGS, 1 + rand_below(2)));
    case 10: return json_pack("{s:{s:s}}", "is_empty", "key", "tags");
    case 11: return json_pack("{s:{s:s}}", "is_null", "key", "tags");
    case 12: return random_has_id(f);
    case 13: return match_condition("meta.lang", "value", json_string(PICK(LANGS)));
    case 14: return json_pack("{s:s, s:o}", "key", "meta.rank", "range", random_range(-1, 10, chance(50)));
    case 15: return match_condition("meta.rank", "any", json_pack("[I, I]", (json_int_t)rand_below(10),
                                                                  (json_int_t)rand_below(10)));
    case 16: return match_condition("session_id", "value", json_string(PICK(SESSIONS)));
    default: return match_condition("year", "except", json_pack("[I]", (json_int_t)(1990 + rand_below(36))));
    }
}

static json_t *leaves(fixture *f, size_t n) {
    json_t *list = json_array();
    while (n-- > 0) json_array_append_new(list, random_leaf(f));
    return list;
}

/* A random filter whose top-level must is never empty (so it can be wrapped as a nested filter). */
static json_t *random_filter(fixture *f) {
    json_t *must = leaves(f, 1 + rand_below(2));
    if (chance(20)) json_array_append_new(must, json_pack("{s:o}", "should", leaves(f, 2)));
    if (chance(10)) json_array_append_new(must, json_pack("{s:o}", "must_not", leaves(f, 1)));
    json_t *filter = json_pack("{s:o}", "must", must);
    if (chance(30)) json_object_set_new(filter, "should", leaves(f, 1 + rand_below(2)));
    if (chance(30)) json_object_set_new(filter, "must_not", leaves(f, 1));
    if (chance(10))
        json_object_set_new(filter, "min_should",
                            json_pack("{s:o, s:I}", "conditions", leaves(f, 3), "min_count",
                                      (json_int_t)(1 + rand_below(2))));
    return filter;
}

/* The same filter inside a nested filter: no payload index serves it, so the store scans. */
static json_t *nested(json_t *filter) { return json_pack("{s:[O]}", "must", filter); }

static eg_filter *compile(json_t *json) {
    eg_filter *f = NULL;
    CHECK_OK(eg_filter_parse(json, &f, &err), &err);
    return f;
}

/* ---- The reference ranking ------------------------------------------------------------------------------- */

static bool higher_is_better(eg_distance d) { return d == EG_DISTANCE_COSINE || d == EG_DISTANCE_DOT; }

static double ref_score(eg_distance d, size_t dim, const float *q, const float *x) {
    double dot = 0, qq = 0, xx = 0, sq = 0, abs_sum = 0;
    for (size_t i = 0; i < dim; i++) {
        double a = q[i], b = x[i];
        dot += a * b, qq += a * a, xx += b * b, sq += (a - b) * (a - b), abs_sum += fabs(a - b);
    }
    switch (d) {
    case EG_DISTANCE_COSINE: return qq == 0 || xx == 0 ? 0 : dot / (sqrt(qq) * sqrt(xx));
    case EG_DISTANCE_DOT: return dot;
    case EG_DISTANCE_EUCLID: return sqrt(sq);
    case EG_DISTANCE_MANHATTAN: return abs_sum;
    }
    return NAN;
}

typedef struct ranked {
    const eg_point *p;
    double score;
    double key; /* ascending is best first */
} ranked;

static int ranked_compare(const void *x, const void *y) {
    const ranked *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return ref_id_compare(&a->p->id, &b->p->id);
}

/* Every point matching filter and session, best first; returns how many (out holds f->count entries). */
static size_t ref_rank(const fixture *f, const float *query, json_t *filter, const char *session, ranked *out) {
    size_t n = 0;
    bool higher = higher_is_better(f->config.distance);
    for (size_t i = 0; i < f->count; i++) {
        const eg_point *p = &f->points[i];
        if (!ref_matches(filter, session, p)) continue;
        double s = ref_score(f->config.distance, f->config.dim, query, p->vector);
        out[n++] = (ranked){p, s, higher ? -s : s};
    }
    qsort(out, n, sizeof *out, ranked_compare);
    return n;
}

/* The window a search returns: those passing the threshold, then offset skipped, then at most limit. */
static size_t ref_window(const ranked *all, size_t n, bool higher, bool has_threshold, double threshold,
                         size_t offset, size_t limit, const ranked **first) {
    size_t passing = n;
    if (has_threshold) {
        passing = 0;
        while (passing < n && (higher ? all[passing].score >= threshold : all[passing].score <= threshold)) passing++;
    }
    size_t start = offset < passing ? offset : passing;
    *first = all + start;
    return passing - start < limit ? passing - start : limit;
}

/* ---- Checking what the store returns --------------------------------------------------------------------- */

#define SCORE_TOLERANCE 1e-4 /* relative, against the double-precision reference */
#define NOISE 2e-5           /* float rounding of a score: neighbours this close may swap in inexact rankings */

static bool close_enough(double got, double want, double tolerance) {
    return fabs(got - want) <= tolerance * fmax(1.0, fabs(want));
}

/* The vector the store should hold: Cosine vectors normalised (in double, then rounded). */
static void expected_vector(const fixture *f, const eg_point *p, float *out) {
    double norm = 0;
    for (size_t i = 0; i < p->dim; i++) norm += (double)p->vector[i] * p->vector[i];
    bool normalise = f->config.distance == EG_DISTANCE_COSINE && norm > 0;
    for (size_t i = 0; i < p->dim; i++) out[i] = normalise ? (float)(p->vector[i] / sqrt(norm)) : p->vector[i];
}

static void check_vector(const fixture *f, const eg_point *want, const eg_point *got, const char *ctx) {
    char t[ID_TEXT];
    EXPECT(got->vector && got->dim == want->dim, "%s: point %s: vector missing or dim %zu", ctx,
           id_text(&want->id, t), got->dim);
    if (!got->vector || got->dim != want->dim) return;
    float *expected = malloc(want->dim * sizeof *expected);
    expected_vector(f, want, expected);
    size_t bad = 0;
    for (size_t i = 0; i < want->dim; i++) bad += fabsf(expected[i] - got->vector[i]) > 1e-6f;
    EXPECT(bad == 0, "%s: point %s: %zu vector components differ (first: got %g, want %g)", ctx, id_text(&want->id, t),
           bad, got->vector[0], expected[0]);
    free(expected);
    /* the sparse vector comes sorted by index */
    size_t n = want->sparse.count;
    EXPECT(got->sparse.count == n, "%s: point %s: sparse has %zu entries, want %zu", ctx, id_text(&want->id, t),
           got->sparse.count, n);
    if (got->sparse.count != n) return;
    for (size_t i = 0; i < n; i++) {
        size_t rank = 0; /* want's entry i belongs at position rank */
        for (size_t j = 0; j < n; j++) rank += want->sparse.indices[j] < want->sparse.indices[i];
        EXPECT(got->sparse.indices[rank] == want->sparse.indices[i] &&
                   got->sparse.values[rank] == want->sparse.values[i],
               "%s: point %s: sparse entry %zu differs", ctx, id_text(&want->id, t), rank);
    }
}

static void check_payload(const eg_point *want, json_t *got, const char *ctx) {
    char t[ID_TEXT];
    json_t *empty = json_object();
    json_t *expected = want->payload ? want->payload : empty;
    EXPECT(got && json_equal(got, expected), "%s: point %s: payload differs", ctx, id_text(&want->id, t));
    json_decref(empty);
}

/* A returned point: what was asked for, equal to the model. */
static void check_point(const fixture *f, const eg_point *want, const eg_point *got, bool with_payload,
                        bool with_vectors, const char *ctx) {
    if (with_payload) check_payload(want, got->payload, ctx);
    else EXPECT(got->payload == NULL, "%s: payload returned though not asked for", ctx);
    if (with_vectors) check_vector(f, want, got, ctx);
    else EXPECT(got->vector == NULL, "%s: vector returned though not asked for", ctx);
}

typedef struct search_case {
    const float *query;
    json_t *filter_json;
    const char *session;
    size_t limit, offset;
    bool has_threshold;
    double threshold;
    bool with_payload, with_vectors;
} search_case;

/* Strict rankings need exact float scores: grid vectors, and a distance without normalisation. */
static bool exact_ranking(const fixture *f) { return f->grid && f->config.distance != EG_DISTANCE_COSINE; }

/* Does result a rank before result b by the store's own scores (better score, or equal score and smaller id)? */
static bool ranks_before(const fixture *f, const eg_scored_point *a, const eg_scored_point *b) {
    if (a->score != b->score) return higher_is_better(f->config.distance) ? a->score > b->score : a->score < b->score;
    return ref_id_compare(&a->point.id, &b->point.id) < 0;
}

/* Compares a search answer with the reference window. Exact rankings: the same ids position by position.
 * Otherwise float rounding may reorder points whose true scores are equal or nearly so: each position must hold
 * a matching point whose reference score is the reference's score there (within noise), and the answer must be
 * in order by its own scores, equal scores by id (so identical vectors still tie-break by id). */
static void check_ranking(fixture *f, const search_case *sc, const ranked *want, size_t n, const eg_scored_list *got,
                          const char *ctx) {
    char t1[ID_TEXT], t2[ID_TEXT];
    EXPECT(got->count == n, "%s: %zu results, want %zu", ctx, got->count, n);
    for (size_t i = 0; i < got->count && i < n; i++) {
        const eg_scored_point *g = &got->items[i];
        const eg_point *model = model_find(f, &g->point.id);
        EXPECT(model != NULL, "%s: result %zu is %s, which does not exist", ctx, i, id_text(&g->point.id, t1));
        if (!model) continue;
        double model_score = ref_score(f->config.distance, f->config.dim, sc->query, model->vector);
        EXPECT(close_enough(g->score, model_score, SCORE_TOLERANCE), "%s: result %zu (%s): score %.9g, want %.9g",
               ctx, i, id_text(&g->point.id, t1), g->score, model_score);
        bool placed = exact_ranking(f) ? same_id(&g->point.id, &want[i].p->id)
                                       : fabs(model_score - want[i].score) <= NOISE * fmax(1.0, fabs(want[i].score)) &&
                                             ref_matches(sc->filter_json, sc->session, model);
        EXPECT(placed, "%s: result %zu is %s (ref score %.9g), want %s (score %.9g)", ctx, i,
               id_text(&g->point.id, t1), model_score, id_text(&want[i].p->id, t2), want[i].score);
        EXPECT(i == 0 || ranks_before(f, &got->items[i - 1], g), "%s: result %zu (%s, %.9g) out of order", ctx, i,
               id_text(&g->point.id, t1), g->score);
        for (size_t j = 0; j < i; j++)
            EXPECT(!same_id(&got->items[j].point.id, &g->point.id), "%s: %s returned twice", ctx,
                   id_text(&g->point.id, t1));
        check_point(f, model, &g->point, sc->with_payload, sc->with_vectors, ctx);
    }
}

/* A threshold that does not sit within float noise of any score: a score itself when scores are exact
 * (inclusive bound), else the middle of a clear gap. */
static void pick_threshold(const fixture *f, const ranked *all, size_t n, search_case *sc) {
    bool higher = higher_is_better(f->config.distance);
    sc->has_threshold = true;
    if (n == 0) {
        sc->threshold = 0.25;
        return;
    }
    size_t j = rand_below(n);
    if (exact_ranking(f) && f->config.distance != EG_DISTANCE_EUCLID) { /* Euclid's sqrt rounds */
        sc->threshold = all[j].score;
        return;
    }
    for (size_t k = j + 1; k < n; k++)
        if (fabs(all[k].score - all[k - 1].score) >= 1e-4) { /* a clear gap between neighbours */
            sc->threshold = (all[k].score + all[k - 1].score) / 2;
            return;
        }
    sc->threshold = higher ? all[n - 1].score - 1 : all[n - 1].score + 1; /* keeps everything */
}

/* Runs one search on both collections and compares each answer with the reference. */
static void run_search(fixture *f, const search_case *sc, const char *ctx) {
    ranked *all = malloc((f->count + 1) * sizeof *all);
    size_t n = ref_rank(f, sc->query, sc->filter_json, sc->session, all);
    const ranked *window;
    size_t want = ref_window(all, n, higher_is_better(f->config.distance), sc->has_threshold, sc->threshold,
                             sc->offset, sc->limit, &window);
    eg_filter *filter = sc->filter_json ? compile(sc->filter_json) : NULL;
    eg_search_request req = {.vector = sc->query,
                             .dim = f->config.dim,
                             .limit = sc->limit,
                             .offset = sc->offset,
                             .filter = filter,
                             .session_id = sc->session,
                             .has_score_threshold = sc->has_threshold,
                             .score_threshold = sc->threshold,
                             .with_payload = sc->with_payload,
                             .with_vectors = sc->with_vectors};
    for (int c = 0; c < 2; c++) {
        char where[256];
        snprintf(where, sizeof where, "%s [%s]", ctx, f->name[c]);
        eg_scored_list got;
        CHECK_OK(eg_vectors_search(f->v, f->name[c], &req, &got, &err), &err);
        check_ranking(f, sc, window, want, &got, where);
        eg_scored_list_free(&got);
    }
    eg_filter_free(filter);
    free(all);
}

static const size_t LIMITS[] = {1, 2, 3, 5, 10, 37, 100, 1000};

/* A random search: query (random, a stored point's vector, or zero), limit, offset, filter, session, threshold. */
static void random_search(fixture *f, int number) {
    float *query = malloc(f->config.dim * sizeof *query);
    if (f->count && chance(15))
        memcpy(query, f->points[rand_below(f->count)].vector, f->config.dim * sizeof *query);
    else if (chance(3))
        memset(query, 0, f->config.dim * sizeof *query);
    else
        random_vector(f, query);
    search_case sc = {.query = query, .limit = PICK(LIMITS), .with_payload = chance(50), .with_vectors = chance(30)};
    sc.offset = chance(60) ? 0 : chance(80) ? rand_below(20) : f->count + rand_below(3) - 1;
    if (chance(60)) sc.filter_json = random_filter(f);
    if (chance(20)) sc.session = PICK(SESSIONS);
    if (chance(20)) {
        ranked *all = malloc((f->count + 1) * sizeof *all);
        pick_threshold(f, all, ref_rank(f, query, sc.filter_json, sc.session, all), &sc);
        free(all);
    }
    char ctx[256];
    char *filter_text = sc.filter_json ? json_dumps(sc.filter_json, JSON_COMPACT) : NULL;
    snprintf(ctx, sizeof ctx, "search #%d limit %zu offset %zu%s%s filter %.120s", number, sc.limit, sc.offset,
             sc.session ? " session " : "", sc.session ? sc.session : "", filter_text ? filter_text : "none");
    free(filter_text);
    run_search(f, &sc, ctx);
    json_decref(sc.filter_json);
    free(query);
}

/* ---- count, scroll and whole-state checks ---------------------------------------------------------------- */

static int point_order(const void *x, const void *y) {
    const eg_point *const *a = x, *const *b = y;
    return ref_id_compare(&(*a)->id, &(*b)->id);
}

/* The points matching filter, in id order; returns how many (out holds f->count entries). */
static size_t ref_filtered(const fixture *f, json_t *filter, const eg_point **out) {
    size_t n = 0;
    for (size_t i = 0; i < f->count; i++)
        if (ref_matches(filter, NULL, &f->points[i])) out[n++] = &f->points[i];
    qsort(out, n, sizeof *out, point_order);
    return n;
}

static uint64_t store_count(fixture *f, int c, json_t *filter_json) {
    eg_filter *filter = filter_json ? compile(filter_json) : NULL;
    uint64_t n = UINT64_MAX;
    CHECK_OK(eg_vectors_count(f->v, f->name[c], filter, &n, &err), &err);
    eg_filter_free(filter);
    return n;
}

/* count on both collections, and on the indexed one through a nested filter (a scan), against the reference. */
static void check_count(fixture *f, json_t *filter_json, const char *ctx) {
    const eg_point **expected = malloc((f->count + 1) * sizeof *expected);
    size_t want = ref_filtered(f, filter_json, expected);
    free(expected);
    for (int c = 0; c < 2; c++) {
        uint64_t got = store_count(f, c, filter_json);
        EXPECT(got == want, "%s [%s]: count %llu, want %zu", ctx, f->name[c], (unsigned long long)got, want);
    }
    if (!filter_json) return;
    json_t *wrapped = nested(filter_json);
    uint64_t scanned = store_count(f, INDEXED, wrapped), indexed = store_count(f, INDEXED, filter_json);
    EXPECT(scanned == indexed, "%s: indexed count %llu but scan count %llu", ctx, (unsigned long long)indexed,
           (unsigned long long)scanned);
    json_decref(wrapped);
}

/* Scrolls one collection page by page and checks the pages join into the reference, in id order. */
static void check_scroll_one(fixture *f, int c, json_t *filter_json, size_t page, bool with_payload,
                             bool with_vectors, const char *ctx) {
    const eg_point **expected = malloc((f->count + 1) * sizeof *expected);
    size_t want = ref_filtered(f, filter_json, expected), seen = 0;
    eg_filter *filter = filter_json ? compile(filter_json) : NULL;
    eg_point_id next;
    eg_scroll_request req = {filter, page, NULL, with_payload, with_vectors};
    char where[320], t1[ID_TEXT], t2[ID_TEXT];
    snprintf(where, sizeof where, "%s [%s] scroll page %zu", ctx, f->name[c], page);
    for (int pages = 0; pages <= (int)f->count + 1; pages++) {
        eg_point_list got;
        bool has_next = true;
        eg_status st = eg_vectors_scroll(f->v, f->name[c], &req, &got, &next, &has_next, &err);
        CHECK_OK(st, &err);
        if (st) break;
        EXPECT(got.count <= page, "%s: page of %zu", where, got.count);
        for (size_t i = 0; i < got.count; i++, seen++) {
            bool in = seen < want && same_id(&got.items[i].id, &expected[seen]->id);
            EXPECT(in, "%s: item %zu is %s, want %s", where, seen, id_text(&got.items[i].id, t1),
                   seen < want ? id_text(&expected[seen]->id, t2) : "nothing");
            if (in) check_point(f, expected[seen], &got.items[i], with_payload, with_vectors, where);
        }
        eg_point_list_free(&got);
        EXPECT(has_next == (seen < want), "%s: has_next %d after %zu of %zu", where, has_next, seen, want);
        if (!has_next || seen >= want) break;
        EXPECT(same_id(&next, &expected[seen]->id), "%s: next_offset %s, want %s", where, id_text(&next, t1),
               id_text(&expected[seen]->id, t2));
        req.offset = &next;
    }
    EXPECT(seen == want, "%s: scrolled %zu points, want %zu", where, seen, want);
    eg_filter_free(filter);
    free(expected);
}

static void check_scroll(fixture *f, json_t *filter_json, size_t page, const char *ctx) {
    bool with_payload = chance(50), with_vectors = chance(30);
    for (int c = 0; c < 2; c++) check_scroll_one(f, c, filter_json, page, with_payload, with_vectors, ctx);
}

/* Collection info: the exact count, and the indexes this fixture created. */
static void check_info(fixture *f, const char *ctx) {
    for (int c = 0; c < 2; c++) {
        eg_collection_info info;
        CHECK_OK(eg_vectors_get_collection(f->v, f->name[c], &info, &err), &err);
        EXPECT(info.points_count == f->count, "%s [%s]: points_count %llu, want %zu", ctx, f->name[c],
               (unsigned long long)info.points_count, f->count);
        EXPECT(info.config.dim == f->config.dim && info.config.distance == f->config.distance &&
                   info.config.sparse == f->config.sparse,
               "%s [%s]: configuration differs", ctx, f->name[c]);
        size_t found = 0;
        for (size_t i = 0; i < info.index_count; i++)
            for (size_t k = 0; k < INDEX_COUNT; k++)
                found += strcmp(info.indexes[i].field, INDEXES[k].field) == 0 &&
                         info.indexes[i].type == INDEXES[k].type;
        EXPECT(found == info.index_count && (c == PLAIN ? found == 0 : found >= EARLY_INDEXES),
               "%s [%s]: %zu indexes, %zu known", ctx, f->name[c], info.index_count, found);
        eg_collection_info_clear(&info);
    }
}

#define PROBES 10

/* Everything observable against the model: info, counts, a full scroll with payloads and vectors, and the
 * probe filters counted (index and scan) and scrolled. */
static void check_state(fixture *f, json_t *const probes[PROBES], const char *ctx) {
    check_info(f, ctx);
    check_count(f, NULL, ctx);
    for (int c = 0; c < 2; c++) check_scroll_one(f, c, NULL, EG_SEARCH_LIMIT_MAX, true, true, ctx);
    for (size_t i = 0; i < PROBES; i++) {
        char where[256];
        snprintf(where, sizeof where, "%s probe %zu", ctx, i);
        check_count(f, probes[i], where);
        check_scroll(f, probes[i], 1 + rand_below(40), where);
    }
}

/* Probe filters: one on each indexed field at the top of must (so the index is used), then random ones. */
static void make_probes(fixture *f, json_t *probes[PROBES]) {
    probes[0] = json_pack("{s:[o]}", "must", match_condition("city", "value", json_string("Lima")));
    probes[1] = json_pack("{s:[{s:s, s:{s:I, s:I}}]}", "must", "key", "year", "range", "gte", (json_int_t)2000,
                          "lt", (json_int_t)2010);
    probes[2] = json_pack("{s:[o]}", "must", match_condition("tags", "any", json_pack("[s, s]", "red", "x")));
    probes[3] = json_pack("{s:[{s:s, s:{s:f}}]}", "must", "key", "score", "range", "lte", 4.5);
    probes[4] = json_pack("{s:[o, o]}", "must", match_condition("session_id", "value", json_string("s2")),
                          match_condition("meta.lang", "value", json_string("fr")));
    probes[5] = json_pack("{s:[{s:s, s:{s:I}}]}", "must", "key", "meta.rank", "range", "gt", (json_int_t)4);
    for (size_t i = 6; i < PROBES; i++) probes[i] = random_filter(f);
}

static void free_probes(json_t *probes[PROBES]) {
    for (size_t i = 0; i < PROBES; i++) json_decref(probes[i]);
}

/* ---- Tests: search --------------------------------------------------------------------------------------- */

static const eg_distance DISTANCES[] = {EG_DISTANCE_COSINE, EG_DISTANCE_DOT, EG_DISTANCE_EUCLID,
                                        EG_DISTANCE_MANHATTAN};

TEST(search_matches_reference_for_every_distance_and_dim) {
    eg_db *db = test_open_fresh();
    /* 1000 floats a vector: 65 slots to a chunk, so a few hundred points span several (unaligned) chunks */
    static const uint32_t dims[] = {1, 7, 33, 128, 1000};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t k = 0; k < 4; k++)
            for (int grid = 0; grid < 2; grid++) {
                if (dims[di] == 1 && !grid) continue;    /* dim 1 is on the grid: massive ties */
                if (dims[di] == 1000 && grid) continue; /* and dim 1000 continuous only, to keep the file small */
                fixture f;
                char label[64];
                snprintf(label, sizeof label, "s-%u-%s-%s", dims[di], eg_distance_name(DISTANCES[k]),
                         grid ? "grid" : "cont");
                fixture_init(&f, eg_db_vectors(db), label, dims[di], DISTANCES[k], false, grid);
                fixture_fill(&f, 150);
                fixture_index_the_rest(&f);
                fixture_fill(&f, 100 + rand_below(100));
                int failures_before = test_failures_in_current;
                for (int q = 0; q < 60; q++) random_search(&f, q);
                if (test_failures_in_current != failures_before) fprintf(stderr, "  (in %s)\n", label);
                fixture_free(&f);
            }
    eg_close(db);
}

/* Hand-made ties and ends of the id order: equal scores rank by id, numbers before UUIDs, UUIDs bytewise. */
TEST(ties_rank_by_id_numbers_before_uuids) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "ties", 2, EG_DISTANCE_DOT, false, true);
    eg_point pts[6];
    float same[2] = {1, 0};
    eg_point_id ids[6] = {eg_point_id_num(UINT64_MAX), eg_point_id_num(0), eg_point_id_num(1ull << 63),
                          {true, 0, {0xff}},           {true, 0, {0x00, 0x01}}, eg_point_id_num(7)};
    for (int i = 0; i < 6; i++) pts[i] = (eg_point){ids[i], same, 2, {NULL, NULL, 0}, NULL};
    fixture_upsert(&f, pts, 6);
    float q[2] = {1, 1};
    search_case sc = {.query = q, .limit = 10};
    run_search(&f, &sc, "ties");
    eg_scored_list got;
    eg_search_request req = {.vector = q, .dim = 2, .limit = 10};
    CHECK_OK(eg_vectors_search(f.v, f.name[PLAIN], &req, &got, &err), &err);
    uint64_t order[] = {0, 7, 1ull << 63, UINT64_MAX};
    CHECK(got.count == 6);
    for (size_t i = 0; i < 4 && i < got.count; i++)
        CHECK(!got.items[i].point.id.is_uuid && got.items[i].point.id.num == order[i]);
    if (got.count == 6) CHECK(got.items[4].point.id.uuid[0] == 0x00 && got.items[5].point.id.uuid[0] == 0xff);
    eg_scored_list_free(&got);
    fixture_free(&f);
    eg_close(db);
}

/* ---- Tests: count, scroll, get --------------------------------------------------------------------------- */

TEST(count_and_scroll_match_reference) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "cs", 5, EG_DISTANCE_EUCLID, true, true);
    fixture_fill(&f, 120);
    fixture_index_the_rest(&f);
    fixture_fill(&f, 180);
    check_count(&f, NULL, "count all");
    for (int i = 0; i < 80; i++) {
        json_t *filter = random_filter(&f);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "filter #%d", i);
        check_count(&f, filter, ctx);
        check_scroll(&f, filter, 1 + rand_below(i % 4 ? 30 : 400), ctx);
        json_decref(filter);
    }
    static const size_t pages[] = {1, 7, 100, 299, 300, 301};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) check_scroll(&f, NULL, pages[i], "unfiltered");

    /* An offset that names no point starts at the next point in id order. */
    const eg_point **sorted = malloc(f.count * sizeof *sorted);
    size_t n = ref_filtered(&f, NULL, sorted);
    for (size_t i = 0; i < 20; i++) {
        eg_point_id probe = random_id();
        size_t expect = 0;
        while (expect < n && ref_id_compare(&sorted[expect]->id, &probe) < 0) expect++;
        eg_scroll_request req = {NULL, 3, &probe, false, false};
        eg_point_list got;
        eg_point_id next;
        bool has_next;
        CHECK_OK(eg_vectors_scroll(f.v, f.name[PLAIN], &req, &got, &next, &has_next, &err), &err);
        size_t want = n - expect < 3 ? n - expect : 3;
        CHECK(got.count == want);
        for (size_t k = 0; k < got.count && k < want; k++) CHECK(same_id(&got.items[k].id, &sorted[expect + k]->id));
        CHECK(has_next == (n - expect > 3));
        eg_point_list_free(&got);
    }
    free(sorted);
    fixture_free(&f);
    eg_close(db);
}

TEST(get_returns_existing_points_in_asked_order) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "get", 9, EG_DISTANCE_COSINE, true, false);
    fixture_fill(&f, 200);
    for (int round = 0; round < 30; round++) {
        size_t n = 1 + rand_below(40);
        eg_point_id *ids = malloc(n * sizeof *ids);
        for (size_t i = 0; i < n; i++) ids[i] = chance(70) ? f.points[rand_below(f.count)].id : random_id();
        bool with_payload = chance(50), with_vectors = chance(50);
        for (int c = 0; c < 2; c++) {
            eg_point_list got;
            CHECK_OK(eg_vectors_get(f.v, f.name[c], ids, n, with_payload, with_vectors, &got, &err), &err);
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                const eg_point *want = model_find(&f, &ids[i]);
                if (!want) continue;
                char ctx[64], t[ID_TEXT];
                snprintf(ctx, sizeof ctx, "get round %d item %zu", round, k);
                EXPECT(k < got.count && same_id(&got.items[k].id, &ids[i]), "%s: want %s", ctx, id_text(&ids[i], t));
                if (k < got.count) check_point(&f, want, &got.items[k], with_payload, with_vectors, ctx);
                k++;
            }
            EXPECT(got.count == k, "get round %d: %zu points, want %zu", round, got.count, k);
            eg_point_list_free(&got);
        }
        free(ids);
    }
    fixture_free(&f);
    eg_close(db);
}

/* ---- Tests: mutations ------------------------------------------------------------------------------------ */

static eg_point_id *random_existing_ids(fixture *f, size_t n) {
    eg_point_id *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        bool fresh;
        do {
            ids[i] = f->points[rand_below(f->count)].id;
            fresh = true;
            for (size_t j = 0; j < i; j++) fresh &= !same_id(&ids[j], &ids[i]);
        } while (!fresh);
    }
    return ids;
}

static void set_payload_both(fixture *f, const eg_point_id *ids, size_t n, json_t *payload, eg_payload_mode mode) {
    for (int c = 0; c < 2; c++) CHECK_OK(eg_vectors_set_payload(f->v, f->name[c], ids, n, payload, mode, &err), &err);
    for (size_t i = 0; i < n; i++) {
        eg_point *p = model_find(f, &ids[i]);
        if (mode == EG_PAYLOAD_OVERWRITE || !p->payload) {
            json_decref(p->payload);
            p->payload = json_deep_copy(payload);
        } else {
            json_object_update(p->payload, payload);
        }
    }
}

static void delete_both(fixture *f, const eg_point_id *ids, size_t n, json_t *filter_json, const char *ctx) {
    uint64_t want = 0;
    if (filter_json) {
        const eg_point **hit = malloc((f->count + 1) * sizeof *hit);
        want = ref_filtered(f, filter_json, hit);
        eg_point_id *doomed = malloc((want + 1) * sizeof *doomed);
        for (size_t i = 0; i < want; i++) doomed[i] = hit[i]->id;
        for (size_t i = 0; i < want; i++) model_remove(f, &doomed[i]);
        free(doomed);
        free(hit);
    } else {
        for (size_t i = 0; i < n; i++) want += model_remove(f, &ids[i]);
    }
    eg_filter *filter = filter_json ? compile(filter_json) : NULL;
    for (int c = 0; c < 2; c++) {
        uint64_t deleted = UINT64_MAX;
        CHECK_OK(eg_vectors_delete(f->v, f->name[c], filter ? NULL : ids, n, filter, &deleted, &err), &err);
        EXPECT(deleted == want, "%s [%s]: deleted %llu, want %llu", ctx, f->name[c], (unsigned long long)deleted,
               (unsigned long long)want);
    }
    eg_filter_free(filter);
}

/* update_vectors on n random points of both collections and the model: payloads and sparse vectors stay. */
static void update_vectors_both(fixture *f, size_t n) {
    eg_point_id *ids = random_existing_ids(f, n);
    eg_point *updates = calloc(n, sizeof *updates);
    for (size_t i = 0; i < n; i++) {
        updates[i] = (eg_point){ids[i], malloc(f->config.dim * sizeof(float)), f->config.dim, {NULL, NULL, 0}, NULL};
        random_vector(f, updates[i].vector);
    }
    for (int c = 0; c < 2; c++) CHECK_OK(eg_vectors_update_vectors(f->v, f->name[c], updates, n, &err), &err);
    for (size_t i = 0; i < n; i++) {
        memcpy(model_find(f, &ids[i])->vector, updates[i].vector, f->config.dim * sizeof(float));
        free(updates[i].vector);
    }
    free(updates);
    free(ids);
}

/* A mutation sequence on a sparse fixture, the whole state checked against the model after each step; the
 * last steps reuse the slots deletes freed. */
static void mutation_sequence(fixture *f) {
    fixture_fill(f, 150);
    fixture_index_the_rest(f);
    fixture_fill(f, 150);
    json_t *probes[PROBES];
    make_probes(f, probes);
    check_state(f, probes, "after fill");

    eg_point_id *ids = random_existing_ids(f, 40);
    json_t *merge = json_pack("{s:s, s:I, s:[s], s:{s:s}}", "city", "Lima", "year", (json_int_t)2005, "tags", "red",
                              "meta", "lang", "fr");
    set_payload_both(f, ids, 40, merge, EG_PAYLOAD_MERGE);
    check_state(f, probes, "after set_payload merge");
    free(ids);

    ids = random_existing_ids(f, 25);
    json_t *overwrite = json_pack("{s:[s, s], s:f, s:s}", "tags", "x", "x", "score", 1.5, "session_id", "s2");
    set_payload_both(f, ids, 25, overwrite, EG_PAYLOAD_OVERWRITE);
    check_state(f, probes, "after set_payload overwrite");
    free(ids);

    ids = random_existing_ids(f, 30);
    const char *keys[] = {"city", "tags", "meta", "absent"};
    for (int c = 0; c < 2; c++)
        CHECK_OK(eg_vectors_delete_payload_keys(f->v, f->name[c], ids, 30, keys, 4, &err), &err);
    for (size_t i = 0; i < 30; i++)
        for (size_t k = 0; k < 4; k++) json_object_del(model_find(f, &ids[i])->payload, keys[k]);
    check_state(f, probes, "after delete_payload_keys");
    free(ids);

    /* A payload update naming a missing point changes nothing. */
    ids = random_existing_ids(f, 5);
    ids[3] = eg_point_id_num(999999);
    for (int c = 0; c < 2; c++) {
        CHECK_STATUS(eg_vectors_set_payload(f->v, f->name[c], ids, 5, merge, EG_PAYLOAD_OVERWRITE, &err), EG_NOT_FOUND,
                     &err);
        CHECK(strstr(err.message, "999999") != NULL);
    }
    check_state(f, probes, "after a refused set_payload");
    free(ids);

    update_vectors_both(f, 30);
    check_state(f, probes, "after update_vectors");
    for (int q = 0; q < 20; q++) random_search(f, q);

    /* upsert over existing points: payload, vectors and sparse replaced, index entries follow */
    ids = random_existing_ids(f, 30);
    eg_point replacements[30];
    for (size_t i = 0; i < 30; i++) random_point(f, &ids[i], &replacements[i]);
    fixture_upsert(f, replacements, 30);
    for (size_t i = 0; i < 30; i++) point_free(&replacements[i]);
    check_state(f, probes, "after replacing upsert");
    free(ids);

    /* delete by ids, some missing, one twice */
    ids = random_existing_ids(f, 25);
    ids[0] = eg_point_id_num(424242);
    ids[1] = ids[2];
    delete_both(f, ids, 25, NULL, "delete by ids");
    check_state(f, probes, "after delete by ids");
    free(ids);

    /* delete by filter: one an index serves, one it cannot */
    json_t *by_index = json_pack("{s:[o]}", "must", match_condition("city", "value", json_string("Oslo")));
    delete_both(f, NULL, 0, by_index, "delete by indexed filter");
    check_state(f, probes, "after delete by indexed filter");
    json_t *by_scan = json_pack("{s:[{s:{s:s}}]}", "must", "is_empty", "key", "tags");
    delete_both(f, NULL, 0, by_scan, "delete by scanned filter");
    check_state(f, probes, "after delete by scanned filter");
    for (int q = 0; q < 20; q++) random_search(f, q);


    /* new points take the freed slots (and fresh ones), vectors are rewritten in reused slots */
    fixture_fill(f, 60);
    update_vectors_both(f, 40);
    check_state(f, probes, "after refilling freed slots");
    for (int q = 0; q < 20; q++) random_search(f, q);

    json_decref(merge), json_decref(overwrite), json_decref(by_index), json_decref(by_scan);
    free_probes(probes);
}

TEST(mutations_keep_points_counts_and_indexes_consistent) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "mut", 7, EG_DISTANCE_COSINE, true, true);
    mutation_sequence(&f);
    fixture_free(&f);
    /* 2000 floats a vector: about 32 slots to a chunk, so the points span many chunks */
    fixture_init(&f, eg_db_vectors(db), "mut-wide", 2000, EG_DISTANCE_EUCLID, true, false);
    mutation_sequence(&f);
    fixture_free(&f);
    eg_close(db);
}

TEST(delete_collection_then_recreate_is_empty) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "dc", 4, EG_DISTANCE_MANHATTAN, true, true);
    fixture_fill(&f, 100);
    fixture_index_the_rest(&f);
    json_t *probes[PROBES];
    make_probes(&f, probes);
    for (int c = 0; c < 2; c++) CHECK_OK(eg_vectors_delete_collection(f.v, f.name[c], &err), &err);
    uint64_t n;
    CHECK_STATUS(eg_vectors_count(f.v, f.name[PLAIN], NULL, &n, &err), EG_NOT_FOUND, &err);
    eg_string_list names;
    CHECK_OK(eg_vectors_list_collections(f.v, &names, &err), &err);
    CHECK(names.count == 0);
    eg_string_list_free(&names);

    fixture_free(&f);
    fixture_create_collections(&f); /* same names, same configuration: empty, and only the early indexes */
    check_state(&f, probes, "re-created");
    float q[4] = {0, 0, 0, 0};
    search_case sc = {.query = q, .limit = 10};
    run_search(&f, &sc, "search re-created");
    fixture_fill(&f, 60);
    fixture_index_the_rest(&f);
    check_state(&f, probes, "re-created and filled");
    free_probes(probes);
    fixture_free(&f);
    eg_close(db);
}

/* A batch with one bad point changes nothing. */
TEST(upsert_batch_is_all_or_nothing) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "atomic", 3, EG_DISTANCE_DOT, false, true);
    fixture_fill(&f, 30);
    json_t *probes[PROBES];
    make_probes(&f, probes);
    eg_point batch[10];
    for (int i = 0; i < 10; i++) {
        eg_point_id id = fresh_id(&f, batch, (size_t)i);
        random_point(&f, &id, &batch[i]);
    }
    batch[6].dim = 4; /* wrong dimension: the backend refuses it after six good points */
    float *longer = realloc(batch[6].vector, 4 * sizeof(float));
    batch[6].vector = longer;
    longer[3] = 1;
    for (int c = 0; c < 2; c++) {
        CHECK_STATUS(eg_vectors_upsert(f.v, f.name[c], batch, 10, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, "points[6]") != NULL);
    }
    check_state(&f, probes, "after refused upsert");
    for (int i = 0; i < 10; i++) point_free(&batch[i]);
    free_probes(probes);
    fixture_free(&f);
    eg_close(db);
}

/* ---- Tests: hybrid --------------------------------------------------------------------------------------- */

typedef struct fused {
    const eg_point *p;
    double score;
    size_t dense_rank, sparse_rank;
} fused;

static int fused_compare(const void *x, const void *y) {
    const fused *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return ref_id_compare(&a->p->id, &b->p->id);
}

typedef struct sparse_ranked {
    const eg_point *p;
    double score;
} sparse_ranked;

static int sparse_compare(const void *x, const void *y) {
    const sparse_ranked *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return ref_id_compare(&a->p->id, &b->p->id);
}

/* Dot product of two unsorted sparse vectors; *shared tells whether they have an index in common. */
static double ref_sparse_dot(const eg_sparse_vector *a, const eg_sparse_vector *b, bool *shared) {
    double sum = 0;
    *shared = false;
    for (size_t i = 0; i < a->count; i++)
        for (size_t j = 0; j < b->count; j++)
            if (a->indices[i] == b->indices[j]) {
                sum += (double)a->values[i] * b->values[j];
                *shared = true;
            }
    return sum;
}

static void add_rank(fused *all, size_t *n, const eg_point *p, size_t rank, bool dense) {
    size_t i = 0;
    while (i < *n && all[i].p != p) i++;
    if (i == *n) all[(*n)++] = (fused){p, 0, 0, 0};
    if (dense) all[i].dense_rank = rank;
    else all[i].sparse_rank = rank;
}

/* Reference RRF: dense (exact, filtered) and sparse (sharing an index, by dot product) candidate lists of
 * max(limit, ceil(1.5 limit)) each, fused as Qdrant does (k = 2); returns every fused point, best first. */
static size_t ref_hybrid(const fixture *f, const float *q, const eg_sparse_vector *sq, json_t *filter,
                         const char *session, size_t limit, fused *out) {
    size_t prefetch = (size_t)ceil(1.5 * (double)limit);
    if (prefetch < limit) prefetch = limit;
    ranked *dense = malloc((f->count + 1) * sizeof *dense);
    sparse_ranked *sparse = malloc((f->count + 1) * sizeof *sparse);
    size_t nd = ref_rank(f, q, filter, session, dense), ns = 0, n = 0;
    for (size_t i = 0; i < f->count; i++) {
        const eg_point *p = &f->points[i];
        bool shared;
        double s = ref_sparse_dot(sq, &p->sparse, &shared);
        if (shared && ref_matches(filter, session, p)) sparse[ns++] = (sparse_ranked){p, s};
    }
    qsort(sparse, ns, sizeof *sparse, sparse_compare);
    for (size_t i = 0; i < nd && i < prefetch; i++) add_rank(out, &n, dense[i].p, i + 1, true);
    for (size_t i = 0; i < ns && i < prefetch; i++) add_rank(out, &n, sparse[i].p, i + 1, false);
    for (size_t i = 0; i < n; i++) { /* Qdrant's RRF: 1 / (position + 2), position from 0, in float32 */
        float dense_share = out[i].dense_rank ? 1.0f / (float)(out[i].dense_rank + 1) : 0.0f;
        float sparse_share = out[i].sparse_rank ? 1.0f / (float)(out[i].sparse_rank + 1) : 0.0f;
        out[i].score = dense_share + sparse_share;
    }
    qsort(out, n, sizeof *out, fused_compare);
    free(dense);
    free(sparse);
    return n;
}

typedef struct hybrid_case {
    const float *query;
    eg_sparse_vector sparse;
    json_t *filter_json;
    const char *session;
    size_t limit;
    bool has_threshold;
    double threshold;
    bool with_payload, with_vectors;
} hybrid_case;

static void run_hybrid(fixture *f, const hybrid_case *hc, const char *ctx) {
    fused *all = malloc((2 * f->count + 1) * sizeof *all);
    size_t n = ref_hybrid(f, hc->query, &hc->sparse, hc->filter_json, hc->session, hc->limit, all), want = 0;
    while (want < n && want < hc->limit && (!hc->has_threshold || all[want].score >= hc->threshold)) want++;
    eg_filter *filter = hc->filter_json ? compile(hc->filter_json) : NULL;
    eg_hybrid_request req = {.vector = hc->query,
                             .dim = f->config.dim,
                             .sparse = hc->sparse,
                             .limit = hc->limit,
                             .filter = filter,
                             .session_id = hc->session,
                             .has_score_threshold = hc->has_threshold,
                             .score_threshold = hc->threshold,
                             .with_payload = hc->with_payload,
                             .with_vectors = hc->with_vectors};
    char t1[ID_TEXT], t2[ID_TEXT];
    for (int c = 0; c < 2; c++) {
        eg_scored_list got;
        CHECK_OK(eg_vectors_search_hybrid(f->v, f->name[c], &req, &got, &err), &err);
        EXPECT(got.count == want, "%s [%s]: %zu results, want %zu", ctx, f->name[c], got.count, want);
        for (size_t i = 0; i < got.count && i < want; i++) {
            const eg_scored_point *g = &got.items[i];
            EXPECT(same_id(&g->point.id, &all[i].p->id) && close_enough(g->score, all[i].score, 1e-12),
                   "%s [%s]: result %zu is %s score %.12g, want %s score %.12g (dense rank %zu, sparse rank %zu)", ctx,
                   f->name[c], i, id_text(&g->point.id, t1), g->score, id_text(&all[i].p->id, t2), all[i].score,
                   all[i].dense_rank, all[i].sparse_rank);
            if (same_id(&g->point.id, &all[i].p->id))
                check_point(f, all[i].p, &g->point, hc->with_payload, hc->with_vectors, ctx);
        }
        eg_scored_list_free(&got);
    }
    eg_filter_free(filter);
    free(all);
}

static void random_hybrid(fixture *f, int number) {
    float *query = malloc(f->config.dim * sizeof *query);
    random_vector(f, query);
    hybrid_case hc = {.query = query, .limit = PICK(LIMITS), .with_payload = chance(50), .with_vectors = chance(30)};
    random_sparse(&hc.sparse, 6);
    if (chance(50)) hc.filter_json = random_filter(f);
    if (chance(20)) hc.session = PICK(SESSIONS);
    if (chance(25)) { /* a fused score itself: the bound is inclusive */
        fused *all = malloc((2 * f->count + 1) * sizeof *all);
        size_t n = ref_hybrid(f, query, &hc.sparse, hc.filter_json, hc.session, hc.limit, all);
        hc.has_threshold = true;
        hc.threshold = n ? all[rand_below(n)].score : 0.01;
        free(all);
    }
    char ctx[128];
    snprintf(ctx, sizeof ctx, "hybrid #%d limit %zu", number, hc.limit);
    run_hybrid(f, &hc, ctx);
    json_decref(hc.filter_json);
    free(hc.sparse.indices);
    free(hc.sparse.values);
    free(query);
}

TEST(hybrid_matches_reference_rrf) {
    eg_db *db = test_open_fresh();
    static const struct {
        uint32_t dim;
        eg_distance distance;
    } shapes[] = {{1, EG_DISTANCE_MANHATTAN}, {7, EG_DISTANCE_DOT}, {33, EG_DISTANCE_EUCLID}};
    for (size_t s = 0; s < 3; s++) {
        fixture f;
        char label[32];
        snprintf(label, sizeof label, "h-%u", shapes[s].dim);
        fixture_init(&f, eg_db_vectors(db), label, shapes[s].dim, shapes[s].distance, true, true);
        fixture_fill(&f, 120);
        fixture_index_the_rest(&f);
        fixture_fill(&f, 130);
        for (int q = 0; q < 60; q++) random_hybrid(&f, q);
        fixture_free(&f);
    }
    eg_close(db);
}

/* search_sparse against the reference: the points sharing an index with the query and matching the filter, by
 * dot product (ties by id), from offset, above an inclusive floor. */
static void random_sparse_search(fixture *f, int number) {
    eg_sparse_vector query;
    random_sparse(&query, 6);
    size_t limit = PICK(LIMITS), offset = chance(70) ? 0 : rand_below(20), n = 0;
    json_t *filter_json = chance(50) ? random_filter(f) : NULL;
    const char *session = chance(20) ? PICK(SESSIONS) : NULL;
    sparse_ranked *all = malloc((f->count + 1) * sizeof *all);
    for (size_t i = 0; i < f->count; i++) {
        bool shared;
        double score = ref_sparse_dot(&query, &f->points[i].sparse, &shared);
        if (shared && ref_matches(filter_json, session, &f->points[i]))
            all[n++] = (sparse_ranked){&f->points[i], (float)score};
    }
    qsort(all, n, sizeof *all, sparse_compare);
    bool has_threshold = chance(25) && n > 0;
    double threshold = has_threshold ? all[rand_below(n)].score : 0;
    size_t passing = 0;
    while (passing < n && (!has_threshold || all[passing].score >= threshold)) passing++;
    size_t want = passing > offset ? passing - offset : 0;
    if (want > limit) want = limit;
    eg_filter *filter = filter_json ? compile(filter_json) : NULL;
    eg_sparse_request request = {.vector = query, .limit = limit, .offset = offset, .filter = filter,
                                 .session_id = session, .has_score_threshold = has_threshold,
                                 .score_threshold = threshold, .with_payload = chance(50), .with_vectors = chance(30)};
    char t1[ID_TEXT], t2[ID_TEXT];
    eg_scored_list got;
    CHECK_OK(eg_vectors_search_sparse(f->v, f->name[0], &request, &got, &err), &err);
    EXPECT(got.count == want, "sparse #%d: %zu results, want %zu", number, got.count, want);
    for (size_t i = 0; i < got.count && i < want; i++) {
        const sparse_ranked *r = &all[offset + i];
        EXPECT(same_id(&got.items[i].point.id, &r->p->id) && close_enough(got.items[i].score, r->score, 1e-5),
               "sparse #%d: result %zu is %s score %.9g, want %s score %.9g", number, i,
               id_text(&got.items[i].point.id, t1), got.items[i].score, id_text(&r->p->id, t2), r->score);
        if (same_id(&got.items[i].point.id, &r->p->id))
            check_point(f, r->p, &got.items[i].point, request.with_payload, request.with_vectors, "sparse");
    }
    eg_scored_list_free(&got);
    eg_filter_free(filter);
    json_decref(filter_json);
    free(all);
    free(query.indices);
    free(query.values);
}

TEST(sparse_search_matches_reference) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "sp", 5, EG_DISTANCE_COSINE, true, true);
    fixture_fill(&f, 200);
    for (int q = 0; q < 80; q++) random_sparse_search(&f, q);
    fixture_free(&f);
    eg_close(db);
}

/* Sparse candidates are the points sharing an index with the query, whatever the sign of their dot product:
 * a zero (a stored 0 value, or terms cancelling) or a negative product ranks low but is still a candidate. */
TEST(hybrid_sparse_candidates_include_zero_and_negative_products) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "hz", 2, EG_DISTANCE_DOT, true, true);
    float v[2] = {1, 0};
    uint32_t i1[] = {5}, i2[] = {5, 9}, i3[] = {5}, i4[] = {7, 8}, i5[] = {100};
    float v1[] = {1}, v2[] = {0, 2}, v3[] = {-1}, v4[] = {1, 1}, v5[] = {3};
    eg_point pts[6] = {
        {eg_point_id_num(1), v, 2, {i1, v1, 1}, NULL}, {eg_point_id_num(2), v, 2, {i2, v2, 2}, NULL},
        {eg_point_id_num(3), v, 2, {i3, v3, 1}, NULL}, {eg_point_id_num(4), v, 2, {i4, v4, 2}, NULL},
        {eg_point_id_num(5), v, 2, {i5, v5, 1}, NULL}, {eg_point_id_num(6), v, 2, {NULL, NULL, 0}, NULL},
    };
    fixture_upsert(&f, pts, 6);
    uint32_t qi[] = {5, 7, 8};
    float qv[] = {1, 1, -1}, q[2] = {1, 0};
    hybrid_case hc = {.query = q, .sparse = {qi, qv, 3}, .limit = 10};
    run_hybrid(&f, &hc, "zero and negative sparse products");
    fixture_free(&f);
    eg_close(db);
}

/* ---- Tests: payload indexes over mixed types ------------------------------------------------------------- */

/* An index may only make a filter faster, never change its answer (local_index.c): a range on a field indexed as
 * integer must still find points whose value there is a real number. */
TEST(integer_index_range_finds_real_values) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "mixed", 1, EG_DISTANCE_DOT, false, true); /* "year" indexed as integer */
    float v[1] = {1};
    eg_point pts[4] = {
        {eg_point_id_num(1), v, 1, {NULL, NULL, 0}, json_pack("{s:I}", "year", (json_int_t)2000)},
        {eg_point_id_num(2), v, 1, {NULL, NULL, 0}, json_pack("{s:f}", "year", 2000.5)},
        {eg_point_id_num(3), v, 1, {NULL, NULL, 0}, json_pack("{s:I}", "year", (json_int_t)2001)},
        {eg_point_id_num(4), v, 1, {NULL, NULL, 0}, json_pack("{s:[f, I]}", "year", 1999.75, (json_int_t)1900)},
    };
    fixture_upsert(&f, pts, 4);
    json_t *range = json_pack("{s:[{s:s, s:{s:I, s:I}}]}", "must", "key", "year", "range", "gte", (json_int_t)1999,
                              "lte", (json_int_t)2001);
    check_count(&f, range, "integer index, range over reals");
    check_scroll(&f, range, 10, "integer index, range over reals");
    float q[1] = {1};
    search_case sc = {.query = q, .filter_json = range, .limit = 10};
    run_search(&f, &sc, "integer index, range over reals");
    json_decref(range);
    for (int i = 0; i < 4; i++) json_decref(pts[i].payload);
    fixture_free(&f);
    eg_close(db);
}

/* Values at the edges of each index encoding, each filter counted and scrolled with the index and by a scan:
 * long keywords (hashed beyond 200 bytes, two sharing that prefix), int64 extremes and negatives, -0.0 and 0.0,
 * integers and reals in a float index (match value 3 must not match 3.0), booleans, "a[].b" paths, and a path
 * through an array that "a.b" must not enter. */
TEST(index_edge_values_agree_with_scan_and_reference) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "edge", 1, EG_DISTANCE_EUCLID, false, true);
    static const struct {
        const char *field;
        eg_payload_type type;
    } extra[] = {{"k", EG_PAYLOAD_KEYWORD}, {"i", EG_PAYLOAD_INTEGER},      {"r", EG_PAYLOAD_FLOAT},
                 {"b", EG_PAYLOAD_BOOL},    {"notes[].kind", EG_PAYLOAD_KEYWORD}, {"m.x", EG_PAYLOAD_INTEGER}};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        CHECK_OK(eg_vectors_create_payload_index(f.v, f.name[INDEXED], extra[i].field, extra[i].type, &err), &err);
    char long_a[301], long_b[301];
    memset(long_a, 'q', 300), memset(long_b, 'q', 300);
    long_a[300] = long_b[300] = 0;
    long_b[299] = 'z'; /* same first 200 bytes, another string */
    json_t *payloads[] = {
        json_pack("{s:s, s:I, s:f, s:b}", "k", long_a, "i", (json_int_t)INT64_MIN, "r", -0.0, "b", 1),
        json_pack("{s:s, s:I, s:f, s:b}", "k", long_b, "i", (json_int_t)INT64_MAX, "r", 0.0, "b", 0),
        json_pack("{s:[s, s], s:[I, I], s:I, s:[b]}", "k", "short", long_a, "i", (json_int_t)-3, (json_int_t)0, "r",
                  (json_int_t)3, "b", 1),
        json_pack("{s:s, s:I, s:f, s:[{s:s}, {s:s}]}", "k", "", "i", (json_int_t)2, "r", 3.0, "notes", "kind", "a",
                  "kind", "b"),
        json_pack("{s:I, s:f, s:[{s:s}], s:{s:I}}", "i", (json_int_t)-1, "r", -2.5, "notes", "kind", "b", "m", "x",
                  (json_int_t)5),
        json_pack("{s:f, s:I, s:[{s:I}]}", "r", 9007199254740993.0, "i", (json_int_t)9007199254740993LL, "m", "x",
                  (json_int_t)5),
        json_pack("{s:s, s:b, s:n}", "k", "short", "b", 0, "r"),
    };
    size_t n = sizeof payloads / sizeof payloads[0];
    for (size_t i = 0; i < n; i++) {
        float v[1] = {(float)i};
        eg_point p = {eg_point_id_num(i + 1), v, 1, {NULL, NULL, 0}, payloads[i]};
        fixture_upsert(&f, &p, 1);
        json_decref(payloads[i]);
    }
    json_t *conditions[] = {
        match_condition("k", "value", json_string(long_a)),
        match_condition("k", "value", json_string(long_b)),
        match_condition("k", "any", json_pack("[s, s]", long_b, "")),
        match_condition("k", "value", json_string("short")),
        match_condition("i", "value", json_integer(INT64_MIN)),
        match_condition("i", "value", json_integer(INT64_MAX)),
        match_condition("i", "any", json_pack("[I, I]", (json_int_t)-3, (json_int_t)2)),
        json_pack("{s:s, s:{s:I}}", "key", "i", "range", "lt", (json_int_t)0),
        json_pack("{s:s, s:{s:f, s:f}}", "key", "i", "range", "gt", -1.5, "lte", 2.0),
        json_pack("{s:s, s:{s:I}}", "key", "i", "range", "gte", (json_int_t)-1),
        json_pack("{s:s, s:{s:f}}", "key", "r", "range", "gte", 0.0),
        json_pack("{s:s, s:{s:f}}", "key", "r", "range", "lt", 0.0),
        json_pack("{s:s, s:{s:f, s:f}}", "key", "r", "range", "gt", -2.5, "lte", 3.0),
        json_pack("{s:s, s:{s:f}}", "key", "r", "range", "gt", 1e15),
        match_condition("r", "value", json_integer(3)),
        match_condition("r", "any", json_pack("[I, I]", (json_int_t)3, (json_int_t)0)),
        match_condition("b", "value", json_true()),
        match_condition("b", "value", json_false()),
        match_condition("notes[].kind", "value", json_string("b")),
        match_condition("notes[].kind", "any", json_pack("[s]", "a")),
        match_condition("m.x", "value", json_integer(5)),
        json_pack("{s:s, s:{s:I}}", "key", "m.x", "range", "gte", (json_int_t)5),
        /* alone in `must`, conditions without a key: no index applies, and none is looked up */
        json_pack("{s:[i, i]}", "has_id", 1, 4),
        json_pack("{s:{s:s}}", "is_empty", "key", "k"),
        json_pack("{s:{s:s}}", "is_null", "key", "r"),
    };
    for (size_t i = 0; i < sizeof conditions / sizeof conditions[0]; i++) {
        json_t *filter = json_pack("{s:[o]}", "must", conditions[i]);
        char *text = json_dumps(filter, JSON_COMPACT);
        char ctx[160];
        snprintf(ctx, sizeof ctx, "edge filter %.140s", text);
        free(text);
        check_count(&f, filter, ctx);
        check_scroll(&f, filter, 2, ctx);
        json_decref(filter);
    }
    fixture_free(&f);
    eg_close(db);
}

/* A filter an index serves but no point matches: every read answers nothing, cleanly (the index yields an empty
 * candidate list, which must be handled without undefined behaviour — the sanitizer build checks that). */
TEST(indexed_filter_without_candidates) {
    eg_db *db = test_open_fresh();
    fixture f;
    fixture_init(&f, eg_db_vectors(db), "none", 2, EG_DISTANCE_DOT, true, true);
    json_t *nothing = json_pack("{s:[o]}", "must", match_condition("city", "value", json_string("Atlantis")));
    check_count(&f, nothing, "empty collection, indexed filter"); /* no point at all */
    fixture_fill(&f, 20);
    check_count(&f, nothing, "indexed filter, no match");
    check_scroll(&f, nothing, 5, "indexed filter, no match");
    float q[2] = {1, 1};
    search_case sc = {.query = q, .filter_json = nothing, .limit = 5};
    run_search(&f, &sc, "indexed filter, no match");
    uint32_t qi[1] = {3};
    float qv[1] = {1};
    hybrid_case hc = {.query = q, .sparse = {qi, qv, 1}, .filter_json = nothing, .limit = 5};
    run_hybrid(&f, &hc, "indexed filter, no match");
    delete_both(&f, NULL, 0, nothing, "indexed filter, no match");
    json_decref(nothing);
    fixture_free(&f);
    eg_close(db);
}

/* ---- Tests: persistence ---------------------------------------------------------------------------------- */

TEST(everything_survives_close_and_reopen) {
    char path[512];
    snprintf(path, sizeof path, "%s/data", test_scratch_dir());
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db;
    REQUIRE(eg_open(path, &options, &db, &err) == EG_OK);
    fixture shapes[3];
    fixture_init(&shapes[0], eg_db_vectors(db), "p-cos", 16, EG_DISTANCE_COSINE, true, false);
    fixture_init(&shapes[1], eg_db_vectors(db), "p-dot", 3, EG_DISTANCE_DOT, false, true);
    fixture_init(&shapes[2], eg_db_vectors(db), "p-l1", 3000, EG_DISTANCE_MANHATTAN, true, true); /* 21 a chunk */
    json_t *probes[3][PROBES];
    for (int s = 0; s < 3; s++) {
        fixture_fill(&shapes[s], 100);
        fixture_index_the_rest(&shapes[s]);
        fixture_fill(&shapes[s], 100);
        eg_point_id *ids = random_existing_ids(&shapes[s], 20);
        delete_both(&shapes[s], ids, 20, NULL, "persistence delete");
        free(ids);
        make_probes(&shapes[s], probes[s]);
        check_state(&shapes[s], probes[s], "before reopen");
    }
    eg_close(db);
    REQUIRE(eg_open(path, &options, &db, &err) == EG_OK);
    eg_string_list names;
    CHECK_OK(eg_vectors_list_collections(eg_db_vectors(db), &names, &err), &err);
    CHECK(names.count == 6);
    eg_string_list_free(&names);
    for (int s = 0; s < 3; s++) {
        shapes[s].v = eg_db_vectors(db);
        check_state(&shapes[s], probes[s], "after reopen");
        for (int q = 0; q < 15; q++) random_search(&shapes[s], q);
        if (shapes[s].config.sparse)
            for (int q = 0; q < 15; q++) random_hybrid(&shapes[s], q);
        fixture_fill(&shapes[s], 20); /* still writable, numbering and counts continue */
        check_state(&shapes[s], probes[s], "written after reopen");
        free_probes(probes[s]);
        fixture_free(&shapes[s]);
    }
    eg_close(db);
}

int main(void) {
    RUN(indexed_filter_without_candidates);
    RUN(search_matches_reference_for_every_distance_and_dim);
    RUN(ties_rank_by_id_numbers_before_uuids);
    RUN(count_and_scroll_match_reference);
    RUN(get_returns_existing_points_in_asked_order);
    RUN(mutations_keep_points_counts_and_indexes_consistent);
    RUN(delete_collection_then_recreate_is_empty);
    RUN(upsert_batch_is_all_or_nothing);
    RUN(hybrid_matches_reference_rrf);
    RUN(sparse_search_matches_reference);
    RUN(hybrid_sparse_candidates_include_zero_and_negative_products);
    RUN(integer_index_range_finds_real_values);
    RUN(index_edge_values_agree_with_scan_and_reference);
    RUN(everything_survives_close_and_reopen);
    return test_summary();
}
