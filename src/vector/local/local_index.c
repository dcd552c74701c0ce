/* local_index.c — payload indexes of the embedded vector backend.
 *
 * An index on field F of type T holds one entry per value of F in each point's payload (each element, when the
 * value is an array), keyed so that equal values are adjacent and numbers are in numeric order:
 *   collection | len(F) | F | T | encoded value | point key
 * Encodings: keyword -> length (u16 BE) | bytes, or for long strings 0xFFFF | a 64-bit hash (the index may then
 * return a few extra candidates, never miss one); integer -> the int64 with its sign bit flipped, big-endian;
 * float -> the double's bits made order-preserving, big-endian (integers are indexed as floats there too);
 * bool -> one byte. A keyword index holds strings, an integer index integers (and reals, under their floor), a
 * float index all numbers, a bool index booleans; other values are not indexed (no condition the index serves can
 * match them).
 *
 * Candidates are a superset: range bounds are widened to inclusive ones and long keywords hashed, and callers
 * always confirm a candidate with the whole filter. So an index can only make a filtered read faster, never
 * change its answer. */
#include "vector/filter_internal.h"
#include "vector/local/local_vectors.h"

#include <endian.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEYWORD_INLINE_MAX 200
#define VALUE_MAX (2 + KEYWORD_INLINE_MAX)
#define INDEX_KEY_MAX (4 + 1 + 255 + 1 + VALUE_MAX + POINT_KEY_SIZE)
_Static_assert(INDEX_KEY_MAX == INDEX_ENTRY_MAX, "local_vectors.h's INDEX_ENTRY_MAX must be this file's INDEX_KEY_MAX");

/* [collection][len][field][type]: the prefix of every entry of one index. */
static size_t index_prefix(uint32_t collection, const eg_payload_index *ix, unsigned char *out) {
    size_t n = strlen(ix->field);
    lv_collection_prefix(collection, out);
    out[4] = (unsigned char)n;
    memcpy(out + 5, ix->field, n);
    out[5 + n] = (unsigned char)ix->type;
    return 6 + n;
}

static size_t encode_u64(uint64_t v, unsigned char *out) {
    uint64_t be = htobe64(v);
    memcpy(out, &be, 8);
    return 8;
}

static size_t encode_integer(int64_t v, unsigned char *out) { return encode_u64((uint64_t)v ^ (1ull << 63), out); }

static size_t encode_double(double d, unsigned char *out) {
    uint64_t bits;
    if (d == 0) d = 0; /* -0.0 and 0.0 are one value */
    memcpy(&bits, &d, 8);
    bits = bits >> 63 ? ~bits : bits | (1ull << 63);
    return encode_u64(bits, out);
}

static size_t encode_keyword(const char *s, size_t len, unsigned char *out) {
    if (len <= KEYWORD_INLINE_MAX) {
        out[0] = (unsigned char)(len >> 8), out[1] = (unsigned char)len;
        memcpy(out + 2, s, len);
        return 2 + len;
    }
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    out[0] = out[1] = 0xFF;
    return 2 + encode_u64(h, out + 2);
}

/* Encodes one payload element for an index of type t; 0 when the element is not of that index's kind. */
static size_t encode_element(eg_payload_type t, json_t *v, unsigned char *out) {
    switch (t) {
    case EG_PAYLOAD_KEYWORD:
        return json_is_string(v) ? encode_keyword(json_string_value(v), json_string_length(v), out) : 0;
    case EG_PAYLOAD_INTEGER: /* a real is filed under its floor, so a range over the field still finds it */
        if (json_is_integer(v)) return encode_integer(json_integer_value(v), out);
        if (!json_is_real(v)) return 0;
        double d = floor(json_real_value(v));
        return encode_integer(d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d, out);
    case EG_PAYLOAD_FLOAT:
        return json_is_number(v) ? encode_double(json_number_value(v), out) : 0;
    case EG_PAYLOAD_BOOL:
        out[0] = json_is_true(v);
        return json_is_boolean(v) ? 1 : 0;
    }
    return 0;
}

typedef struct entry_writer {
    local_vectors *lv;
    MDB_txn *txn;
    const eg_payload_index *ix;
    unsigned char key[INDEX_KEY_MAX];
    size_t prefix_len;
    const unsigned char *point_key; /* the 17-byte point part of the row key */
    bool add;
    int rc;
} entry_writer;

static bool write_element(entry_writer *w, json_t *element) {
    size_t n = encode_element(w->ix->type, element, w->key + w->prefix_len);
    if (n == 0) return false;
    memcpy(w->key + w->prefix_len + n, w->point_key, POINT_KEY_SIZE);
    MDB_val k = {w->prefix_len + n + POINT_KEY_SIZE, w->key}, empty = {0, NULL};
    int rc = w->add ? mdb_put(w->txn, w->lv->pindex, &k, &empty, 0) : mdb_del(w->txn, w->lv->pindex, &k, NULL);
    if (rc && rc != MDB_NOTFOUND) w->rc = rc; /* a value twice in one array is one entry: removing it twice is fine */
    return w->rc != 0;
}

/* Path visitor: a value, or each element of an array value (conditions look one level into arrays). */
static bool write_value(json_t *value, void *ctx) {
    entry_writer *w = ctx;
    if (!json_is_array(value)) return write_element(w, value);
    size_t i;
    json_t *element;
    json_array_foreach(value, i, element) if (write_element(w, element)) return true;
    return false;
}

static eg_status index_one(local_vectors *lv, MDB_txn *txn, uint32_t collection, const eg_payload_index *ix,
                           const unsigned char row_key[ROW_KEY_SIZE], json_t *payload, bool add, eg_error *err) {
    eg_key_path path;
    eg_status st = eg_key_path_parse(ix->field, strlen(ix->field), "index field", &path, err);
    if (st) return st;
    entry_writer w = {.lv = lv, .txn = txn, .ix = ix, .point_key = row_key + 4, .add = add};
    w.prefix_len = index_prefix(collection, ix, w.key);
    eg_key_path_each(&path, payload, write_value, &w);
    eg_key_path_clear(&path);
    return w.rc ? lv_mdb_error(lv, w.rc, "update payload index", err) : EG_OK;
}

eg_status lv_index_point(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                         const unsigned char key[ROW_KEY_SIZE], json_t *payload, bool add, eg_error *err) {
    eg_status st = EG_OK;
    for (size_t i = 0; i < c->index_count && st == EG_OK && payload; i++)
        st = index_one(lv, txn, c->number, &c->indexes[i], key, payload, add, err);
    return st;
}

typedef struct backfill_ctx {
    local_vectors *lv;
    MDB_txn *txn;
    const local_collection *c;
    const eg_payload_index *ix;
} backfill_ctx;

static eg_status backfill_one(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    backfill_ctx *b = ctx;
    json_t *stored;
    eg_status st = lv_read_payload(b->lv, b->txn, key, &stored, err);
    if (st == EG_OK) st = index_one(b->lv, b->txn, b->c->number, b->ix, key, stored, true, err);
    json_decref(stored);
    return st;
}

eg_status lv_index_backfill(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_payload_index *ix,
                            eg_error *err) {
    backfill_ctx b = {lv, txn, c, ix};
    return lv_for_each_match(lv, txn, c, NULL, NULL, backfill_one, &b, err);
}

eg_status lv_index_drop(local_vectors *lv, MDB_txn *txn, uint32_t collection, const eg_payload_index *ix,
                        eg_error *err) {
    unsigned char prefix[INDEX_KEY_MAX];
    size_t prefix_len = index_prefix(collection, ix, prefix);
    return lv_drop_prefix(lv, txn, lv->pindex, prefix, prefix_len, "delete payload index", err);
}

/* ---- candidates ---------------------------------------------------------------------------------------- */

static eg_status add_candidate(lv_key_list *out, uint32_t collection, const unsigned char point_key[POINT_KEY_SIZE],
                               eg_error *err) {
    unsigned char row[ROW_KEY_SIZE];
    lv_collection_prefix(collection, row);
    memcpy(row + 4, point_key, POINT_KEY_SIZE);
    return lv_key_list_push(out, row, err);
}

/* Adds every entry whose encoded value lies in [low, high] (inclusive, both of length value_len when fixed;
 * for an exact keyword lookup low == high). */
static eg_status scan_values(local_vectors *lv, MDB_txn *txn, uint32_t collection, const unsigned char *prefix,
                             size_t prefix_len, const unsigned char *low, const unsigned char *high, size_t value_len,
                             lv_key_list *out, eg_error *err) {
    unsigned char start[INDEX_KEY_MAX];
    memcpy(start, prefix, prefix_len);
    memcpy(start + prefix_len, low, value_len);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->pindex, &cur);
    if (rc) return lv_mdb_error(lv, rc, "read payload index", err);
    eg_status st = EG_OK;
    MDB_val k = {prefix_len + value_len, start}, v;
    bool enough = false;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && st == EG_OK && !enough;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *key = k.mv_data;
        if (k.mv_size != prefix_len + value_len + POINT_KEY_SIZE || memcmp(key, prefix, prefix_len) != 0 ||
            memcmp(key + prefix_len, high, value_len) > 0)
            break;
        st = add_candidate(out, collection, key + prefix_len + value_len, err);
        enough = out->limit && out->count >= out->limit;
        if (enough) out->truncated = true;
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "read payload index", err);
    return st;
}

static const eg_payload_index *index_for(const local_collection *c, const eg_key_path *path) {
    for (size_t i = 0; i < c->index_count; i++)
        if (strcmp(c->indexes[i].field, path->text) == 0) return &c->indexes[i];
    return NULL;
}

static eg_status lookup_value(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_payload_index *ix,
                              const unsigned char *prefix, size_t prefix_len, json_t *value, lv_key_list *out,
                              eg_error *err) {
    unsigned char enc[VALUE_MAX];
    size_t n = encode_element(ix->type, value, enc);
    return n ? scan_values(lv, txn, c->number, prefix, prefix_len, enc, enc, n, out, err) : EG_OK;
}

/* Inclusive numeric bounds of a range for an integer or float index, widened so nothing matching is left out. */
static void range_bounds(const eg_range *r, eg_payload_type t, unsigned char low[8], unsigned char high[8]) {
    const eg_range_bound *lo = r->gte.set ? &r->gte : r->gt.set ? &r->gt : NULL;
    const eg_range_bound *hi = r->lte.set ? &r->lte : r->lt.set ? &r->lt : NULL;
    if (r->gte.set && r->gt.set && r->gt.real > r->gte.real) lo = &r->gt;
    if (r->lte.set && r->lt.set && r->lt.real < r->lte.real) hi = &r->lt;
    if (t == EG_PAYLOAD_INTEGER) {
        int64_t a = INT64_MIN, b = INT64_MAX;
        if (lo) a = lo->is_integer ? lo->integer : lo->real > 9.2e18 ? INT64_MAX : lo->real < -9.2e18 ? INT64_MIN : (int64_t)floor(lo->real);
        if (hi) b = hi->is_integer ? hi->integer : hi->real > 9.2e18 ? INT64_MAX : hi->real < -9.2e18 ? INT64_MIN : (int64_t)ceil(hi->real);
        encode_integer(a, low);
        encode_integer(b, high);
    } else {
        encode_double(lo ? lo->real : -INFINITY, low);
        encode_double(hi ? hi->real : INFINITY, high);
        if (lo) encode_double(nextafter(lo->real, -INFINITY), low);
        if (hi) encode_double(nextafter(hi->real, INFINITY), high);
    }
}

static int compare_keys(const void *a, const void *b) { return memcmp(a, b, ROW_KEY_SIZE); }

/* Candidates from one condition if an index can serve it; *used tells whether one did. */
static eg_status condition_candidates(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                                      const eg_condition *cond, bool *used, lv_key_list *out, eg_error *err) {
    *used = false;
    if (cond->kind != EG_COND_MATCH_VALUE && cond->kind != EG_COND_MATCH_ANY && cond->kind != EG_COND_RANGE)
        return EG_OK;
    const eg_payload_index *ix = index_for(c, &cond->key);
    if (!ix) return EG_OK;
    unsigned char prefix[INDEX_KEY_MAX];
    size_t prefix_len = index_prefix(c->number, ix, prefix);
    eg_status st = EG_OK;
    if (cond->kind == EG_COND_RANGE) {
        if (ix->type != EG_PAYLOAD_INTEGER && ix->type != EG_PAYLOAD_FLOAT) return EG_OK;
        unsigned char low[8], high[8];
        range_bounds(&cond->range, ix->type, low, high);
        *used = true;
        return scan_values(lv, txn, c->number, prefix, prefix_len, low, high, 8, out, err);
    }
    if (cond->kind == EG_COND_MATCH_VALUE) {
        const eg_match_value *m = &cond->value;
        json_t *value = m->type == EG_MATCH_KEYWORD   ? json_stringn(m->keyword.text, m->keyword.len)
                        : m->type == EG_MATCH_INTEGER ? json_integer(m->integer)
                                                      : json_boolean(m->boolean);
        unsigned char probe[VALUE_MAX];
        if (!value) return eg_error_set(err, EG_INTERNAL, "out of memory");
        if (encode_element(ix->type, value, probe)) {
            *used = true;
            st = lookup_value(lv, txn, c, ix, prefix, prefix_len, value, out, err);
        }
        json_decref(value);
        return st;
    }
    const eg_match_set *set = &cond->set;
    bool keyword = set->type == EG_MATCH_KEYWORD;
    if (keyword != (ix->type == EG_PAYLOAD_KEYWORD) || ix->type == EG_PAYLOAD_BOOL) return EG_OK;
    *used = true;
    for (size_t i = 0; i < set->count && st == EG_OK; i++) {
        json_t *value = keyword ? json_stringn(set->keywords[i].text, set->keywords[i].len) : json_integer(set->integers[i]);
        st = value ? lookup_value(lv, txn, c, ix, prefix, prefix_len, value, out, err)
                   : eg_error_set(err, EG_INTERNAL, "out of memory");
        json_decref(value);
    }
    return st;
}

/* Whether an index's entries for cond are exactly the points cond accepts: a keyword match (value or any) on a
 * keyword index with every keyword stored whole (a longer one is stored as its hash, which another may share), or
 * a boolean match on a boolean index. Not integers: an integer index files a real under its floor, which an
 * integer match does not accept. */
static bool answers_exactly(const local_collection *c, const eg_condition *cond) {
    if (cond->kind != EG_COND_MATCH_VALUE && cond->kind != EG_COND_MATCH_ANY) return false; /* others have no key */
    const eg_payload_index *ix = index_for(c, &cond->key);
    if (!ix) return false;
    if (cond->kind == EG_COND_MATCH_VALUE) {
        const eg_match_value *m = &cond->value;
        return (m->type == EG_MATCH_KEYWORD && ix->type == EG_PAYLOAD_KEYWORD && m->keyword.len <= KEYWORD_INLINE_MAX) ||
               (m->type == EG_MATCH_BOOL && ix->type == EG_PAYLOAD_BOOL);
    }
    if (cond->kind != EG_COND_MATCH_ANY || cond->set.type != EG_MATCH_KEYWORD || ix->type != EG_PAYLOAD_KEYWORD)
        return false;
    for (size_t i = 0; i < cond->set.count; i++)
        if (cond->set.keywords[i].len > KEYWORD_INLINE_MAX) return false;
    return true;
}

eg_status lv_index_candidates(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                              bool *used, lv_key_list *out, eg_error *err) {
    *used = false;
    const eg_condition_list *must = &filter->root.must;
    const eg_filter_node *root = &filter->root;
    out->exact = must->count == 1 && root->should.count == 0 && root->must_not.count == 0 && !root->has_min_should &&
                 answers_exactly(c, &must->items[0]);
    for (size_t i = 0; i < must->count && !*used; i++) {
        eg_status st = condition_candidates(lv, txn, c, &must->items[i], used, out, err);
        if (st) return st;
    }
    out->exact = out->exact && *used;
    if (!*used || out->truncated) return EG_OK; /* a truncated list only says "at least limit": left unsorted */
    if (out->count > 1) qsort(out->keys, out->count, sizeof *out->keys, compare_keys);
    size_t unique = 0;
    for (size_t i = 0; i < out->count; i++)
        if (unique == 0 || memcmp(out->keys[i], out->keys[unique - 1], ROW_KEY_SIZE) != 0)
            memmove(out->keys[unique++], out->keys[i], ROW_KEY_SIZE);
    out->count = unique;
    return EG_OK;
}

/* ---- probes ---------------------------------------------------------------------------------------------- */

eg_status lv_index_probe_init(const local_collection *c, const eg_filter *filter, lv_index_probe *probe, eg_error *err) {
    memset(probe, 0, sizeof *probe);
    const eg_condition *cond = &filter->root.must.items[0];
    const eg_payload_index *ix = index_for(c, &cond->key);
    size_t values = cond->kind == EG_COND_MATCH_ANY ? cond->set.count : 1;
    probe->entries = calloc(values ? values : 1, sizeof *probe->entries);
    probe->lengths = calloc(values ? values : 1, sizeof *probe->lengths);
    if (!probe->entries || !probe->lengths) {
        lv_index_probe_free(probe);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < values; i++) {
        unsigned char *entry = probe->entries[i];
        size_t n = index_prefix(c->number, ix, entry);
        if (cond->kind == EG_COND_MATCH_ANY) {
            n += encode_keyword(cond->set.keywords[i].text, cond->set.keywords[i].len, entry + n);
        } else if (cond->value.type == EG_MATCH_KEYWORD) {
            n += encode_keyword(cond->value.keyword.text, cond->value.keyword.len, entry + n);
        } else {
            entry[n++] = cond->value.boolean;
        }
        probe->lengths[probe->count++] = n;
    }
    return EG_OK;
}

eg_status lv_index_probe_matches(local_vectors *lv, MDB_txn *txn, const lv_index_probe *probe,
                                 const unsigned char point_key[POINT_KEY_SIZE], bool *match, eg_error *err) {
    *match = false;
    for (size_t i = 0; i < probe->count && !*match; i++) {
        unsigned char key[INDEX_KEY_MAX];
        memcpy(key, probe->entries[i], probe->lengths[i]);
        memcpy(key + probe->lengths[i], point_key, POINT_KEY_SIZE);
        MDB_val k = {probe->lengths[i] + POINT_KEY_SIZE, key}, v;
        int rc = mdb_get(txn, lv->pindex, &k, &v);
        if (rc && rc != MDB_NOTFOUND) return lv_mdb_error(lv, rc, "read payload index", err);
        *match = rc == 0;
    }
    return EG_OK;
}

void lv_index_probe_free(lv_index_probe *probe) {
    free(probe->entries);
    free(probe->lengths);
    memset(probe, 0, sizeof *probe);
}
