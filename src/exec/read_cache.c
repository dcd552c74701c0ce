/* read_cache.c — the fallback read cache (see read_cache.h): a chained hash table whose entries are also on a
 * doubly linked list ordered by recency, all under one mutex; the write generations are atomics outside it, so
 * that noting a write never waits for a lookup.
 *
 * Entries hold a result's JSON text, not the json_t: every lookup parses its own copy, so no jansson value is ever
 * shared between threads (jansson's json_decref reads the reference count non-atomically before its atomic
 * decrement, which a race detector rightly reports when one value is released by two threads) and callers may
 * modify what they get. Dumping, parsing and freeing run outside the mutex so other threads do not queue behind
 * a large result. */
#include "exec/read_cache.h"
#include "util/byte_buffer.h"
#include "util/json_text.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *chain;         /* the next entry in the same bucket */
    struct entry *newer, *older; /* neighbours on the recency list */
    char *text;                  /* the result's compact JSON text, text_length bytes (no terminator) */
    size_t text_length;
    uint64_t hash;
    uint64_t generations[EG_READ_CACHE_STORES]; /* as observed before the read; only masked stores are meaningful */
    unsigned store_mask;
    size_t key_length;
    char key[];
} entry;

struct eg_read_cache {
    size_t max_entries; /* 0: disabled, and nothing below the generations is used */
    _Atomic uint64_t generation[EG_READ_CACHE_STORES];
    pthread_mutex_t mutex; /* guards everything below */
    entry **buckets;
    size_t bucket_mask; /* bucket count - 1; a power of two at least max_entries, so chains stay short */
    entry *newest, *oldest;
    size_t entries;
    uint64_t hits, misses, stale_dropped, evictions;
};

eg_status eg_read_cache_new(size_t max_entries, eg_read_cache **out, eg_error *err) {
    *out = NULL;
    if (max_entries > EG_READ_CACHE_ENTRIES_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "read cache size %zu is above the limit of %u entries",
                            max_entries, (unsigned)EG_READ_CACHE_ENTRIES_MAX);
    eg_read_cache *c = calloc(1, sizeof *c);
    if (!c) return eg_error_set(err, EG_INTERNAL, "out of memory creating the read cache");
    for (int s = 0; s < EG_READ_CACHE_STORES; s++) atomic_init(&c->generation[s], 0);
    c->max_entries = max_entries;
    if (max_entries) {
        size_t buckets = 1;
        while (buckets < max_entries) buckets <<= 1;
        c->buckets = calloc(buckets, sizeof *c->buckets);
        c->bucket_mask = buckets - 1;
        if (!c->buckets || pthread_mutex_init(&c->mutex, NULL) != 0) {
            free(c->buckets);
            free(c);
            return eg_error_set(err, EG_INTERNAL, "out of memory creating the read cache");
        }
    }
    *out = c;
    return EG_OK;
}

static void release(entry *e) {
    if (!e) return;
    free(e->text);
    free(e);
}

void eg_read_cache_free(eg_read_cache *c) {
    if (!c) return;
    if (c->max_entries) {
        for (entry *e = c->newest, *next; e; e = next) {
            next = e->older;
            release(e);
        }
        pthread_mutex_destroy(&c->mutex);
        free(c->buckets);
    }
    free(c);
}

/* ---- Keys ---- */

/* A key being written: its text, and whether it is over the size a key may have (or memory ran out). */
typedef struct key_text {
    eg_byte_buffer b;
    bool failed;
} key_text;

static void put_bytes(key_text *k, const char *bytes, size_t n) {
    if (!k->failed && !eg_byte_buffer_append(&k->b, bytes, n, EG_READ_CACHE_ITEM_MAX)) k->failed = true;
}

static const char HEX_DIGITS[] = "0123456789abcdef";

/* A string as JSON writes it, but with every byte that JSON escapes written \xHH. */
static void put_key_string(key_text *k, const char *s, size_t n) {
    put_bytes(k, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put_bytes(k, s + run, i - run);
        char escape[4] = {'\\', 'x', HEX_DIGITS[c >> 4], HEX_DIGITS[c & 15]};
        put_bytes(k, escape, 4);
        run = i + 1;
    }
    put_bytes(k, s + run, n - run);
    put_bytes(k, "\"", 1);
}

static int by_key(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void put_key_value(key_text *k, const json_t *v) {
    char number[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = malloc((n ? n : 1) * sizeof *keys);
        if (!keys) {
            k->failed = true;
            return;
        }
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)v, key, member) keys[i++] = key;
        qsort(keys, n, sizeof *keys, by_key);
        put_bytes(k, "{", 1);
        for (i = 0; i < n && !k->failed; i++) {
            if (i) put_bytes(k, ",", 1);
            put_key_string(k, keys[i], strlen(keys[i]));
            put_bytes(k, ":", 1);
            put_key_value(k, json_object_get(v, keys[i]));
        }
        put_bytes(k, "}", 1);
        free(keys);
        return;
    }
    case JSON_ARRAY:
        put_bytes(k, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && !k->failed; i++) {
            if (i) put_bytes(k, ",", 1);
            put_key_value(k, json_array_get(v, i));
        }
        put_bytes(k, "]", 1);
        return;
    case JSON_STRING: put_key_string(k, json_string_value(v), json_string_length(v)); return;
    case JSON_INTEGER:
        put_bytes(k, number, (size_t)snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        return;
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        number[0] = '#';
        for (int i = 0; i < 16; i++) number[1 + i] = HEX_DIGITS[(bits >> (60 - 4 * i)) & 15];
        put_bytes(k, number, 17);
        return;
    }
    case JSON_TRUE: put_bytes(k, "true", 4); return;
    case JSON_FALSE: put_bytes(k, "false", 5); return;
    case JSON_NULL: put_bytes(k, "null", 4); return;
    }
}

char *eg_read_cache_key(json_t *request) {
    if (!request) return NULL;
    key_text k = {{0}, false};
    put_key_value(&k, request);
    if (k.failed || !k.b.data) {
        free(k.b.data);
        return NULL;
    }
    return k.b.data;
}

uint64_t eg_read_cache_generation(eg_read_cache *c, int store) {
    if (!c || store < 0 || store >= EG_READ_CACHE_STORES) return 0;
    return atomic_load(&c->generation[store]);
}

void eg_read_cache_note_write(eg_read_cache *c, int store) {
    if (!c) return;
    if (store >= 0 && store < EG_READ_CACHE_STORES) {
        atomic_fetch_add(&c->generation[store], 1);
        return;
    }
    for (int s = 0; s < EG_READ_CACHE_STORES; s++) atomic_fetch_add(&c->generation[s], 1);
}

/* FNV-1a over the key. Its low bits depend only on the low bits of each byte (a product's carries run upwards),
 * and the low bits pick the bucket, so a finaliser folds the high half down first. */
static uint64_t hash_key(const char *key, size_t length) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < length; i++) h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

/* Are the generations of every store in mask still those observed before the read? */
static bool is_fresh(eg_read_cache *c, unsigned mask, const uint64_t generations[EG_READ_CACHE_STORES]) {
    for (int s = 0; s < EG_READ_CACHE_STORES; s++)
        if ((mask & (1u << s)) && atomic_load(&c->generation[s]) != generations[s]) return false;
    return true;
}

/* The helpers below run with the mutex held. */

static entry *find(eg_read_cache *c, uint64_t hash, const char *key, size_t length) {
    for (entry *e = c->buckets[hash & c->bucket_mask]; e; e = e->chain)
        if (e->hash == hash && e->key_length == length && memcmp(e->key, key, length) == 0) return e;
    return NULL;
}

static void push_newest(eg_read_cache *c, entry *e) {
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest) c->newest->newer = e;
    else c->oldest = e;
    c->newest = e;
}

static void unlink_recency(eg_read_cache *c, entry *e) {
    if (e->newer) e->newer->older = e->older;
    else c->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else c->oldest = e->newer;
}

/* Takes e out of the table and the recency list; the caller releases it after unlocking. */
static void remove_entry(eg_read_cache *c, entry *e) {
    entry **link = &c->buckets[e->hash & c->bucket_mask];
    while (*link != e) link = &(*link)->chain;
    *link = e->chain;
    unlink_recency(c, e);
    c->entries--;
}

static void insert_entry(eg_read_cache *c, entry *e) {
    entry **bucket = &c->buckets[e->hash & c->bucket_mask];
    e->chain = *bucket;
    *bucket = e;
    push_newest(c, e);
    c->entries++;
}

typedef struct text_buffer {
    char *data;
    size_t length, capacity;
} text_buffer;

/* Collects the encoder's output, and stops the encoder as soon as the limit is passed, so that a huge result
 * costs no more than the limit to refuse. */
static int append_text(const char *piece, size_t size, void *data) {
    text_buffer *b = data;
    if (size > EG_READ_CACHE_ITEM_MAX - b->length) return -1;
    if (b->length + size > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity < b->length + size) capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown) return -1;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, piece, size);
    b->length += size;
    return 0;
}

/* The result's compact JSON text, or false when it is over the limit or memory runs out. */
static bool dump_result(json_t *result, text_buffer *b) {
    *b = (text_buffer){0};
    if (json_dump_callback(result, append_text, b, JSON_COMPACT | JSON_ENCODE_ANY) == 0) return true;
    free(b->data);
    return false;
}

void eg_read_cache_put(eg_read_cache *c, const char *key, json_t *result, unsigned store_mask,
                       const uint64_t generations[EG_READ_CACHE_STORES]) {
    if (!c || !c->max_entries || !key || !result || !generations) return;
    if (store_mask & ~EG_READ_CACHE_ALL_STORES) return; /* a store whose writes nobody counts */
    size_t length = strlen(key);
    if (length > EG_READ_CACHE_ITEM_MAX) return;
    entry *e = NULL;
    /* Checked first so that a result stale from birth is not dumped for nothing, and again under the mutex,
     * since a write may be noted while it is dumped. */
    if (is_fresh(c, store_mask, generations)) {
        text_buffer text;
        if (!dump_result(result, &text)) return;
        e = malloc(sizeof *e + length + 1);
        if (!e) {
            free(text.data);
            return;
        }
        memcpy(e->key, key, length + 1);
        e->key_length = length;
        e->hash = hash_key(key, length);
        e->store_mask = store_mask;
        memcpy(e->generations, generations, sizeof e->generations);
        e->text = text.data;
        e->text_length = text.length;
    }

    entry *garbage = NULL;
    pthread_mutex_lock(&c->mutex);
    if (!e || !is_fresh(c, store_mask, generations)) {
        /* A write was noted after the read began: the result may predate it. Refusing it here also keeps a
         * fresher entry under the same key from being replaced by an older result. */
        c->stale_dropped++;
        garbage = e;
    } else {
        entry *old = find(c, e->hash, key, length);
        if (old) {
            remove_entry(c, old);
            garbage = old;
        } else if (c->entries == c->max_entries) {
            garbage = c->oldest;
            remove_entry(c, garbage);
            c->evictions++;
        }
        insert_entry(c, e);
    }
    pthread_mutex_unlock(&c->mutex);
    release(garbage);
}

json_t *eg_read_cache_get(eg_read_cache *c, const char *key) {
    if (!c || !c->max_entries || !key) return NULL;
    size_t length = strlen(key);
    uint64_t hash = hash_key(key, length);
    char *text = NULL;
    size_t text_length = 0;
    entry *garbage = NULL;
    pthread_mutex_lock(&c->mutex);
    entry *e = find(c, hash, key, length);
    if (e && is_fresh(c, e->store_mask, e->generations)) {
        unlink_recency(c, e);
        push_newest(c, e);
        /* A private copy to parse after unlocking: the entry may be evicted and freed meanwhile. */
        text_length = e->text_length;
        text = malloc(text_length);
        if (text) memcpy(text, e->text, text_length);
        c->hits++;
    } else {
        if (e) {
            remove_entry(c, e);
            garbage = e;
            c->stale_dropped++;
        }
        c->misses++;
    }
    pthread_mutex_unlock(&c->mutex);
    release(garbage);
    if (!text) return NULL; /* a miss, or out of memory */
    /* JSON_ALLOW_NUL: a string with a NUL byte was written as \u0000 and must read back the same. */
    json_t *found = json_loadb(text, text_length, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    free(text);
    return found;
}

void eg_read_cache_stats_get(eg_read_cache *c, eg_read_cache_stats *out) {
    memset(out, 0, sizeof *out);
    if (!c || !c->max_entries) return;
    pthread_mutex_lock(&c->mutex);
    out->entries = c->entries;
    out->max_entries = c->max_entries;
    out->hits = c->hits;
    out->misses = c->misses;
    out->stale_dropped = c->stale_dropped;
    out->evictions = c->evictions;
    pthread_mutex_unlock(&c->mutex);
}
