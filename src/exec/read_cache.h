/* read_cache.h — the fallback read cache (internal): recent read results kept to answer reads while a store is
 * unavailable.
 *
 * A bounded, thread-safe LRU map from a request key (eg_read_cache_key: a canonical text of a read request)
 * to that request's result, kept as its compact JSON text. It never serves data that a later acknowledged write
 * changed: the cache owns a write generation counter per store, every acknowledged write to a store bumps it
 * (eg_read_cache_note_write), each entry remembers the generations of the stores its read used, and a lookup
 * returns the entry only while those generations are unchanged; a stale entry found by a lookup is removed.
 *
 * The protocol for one cacheable read:
 *
 *     uint64_t gens[EG_READ_CACHE_STORES];
 *     for (int s = 0; s < EG_READ_CACHE_STORES; s++) gens[s] = eg_read_cache_generation(cache, s);
 *     ... run the read against the stores ...
 *     eg_read_cache_put(cache, key, result, mask, gens);
 *
 * and, when the stores cannot answer, `json_t *r = eg_read_cache_get(cache, key);`. Reading the generations
 * *before* the read is what makes it safe: if a write is acknowledged while the read runs, the entry is put with
 * the older generation and is stale from birth (put refuses it), so a read that may have missed the write is never
 * served after it. Writers must call eg_read_cache_note_write after the write is durable and before acknowledging
 * it, so that any read starting after the acknowledgement observes the new generation; and also after a write
 * that failed in a way that may have taken effect (EG_TIMEOUT, a compensated saga): a needless bump costs only
 * misses, a missing one serves stale data.
 *
 * Results are copied, not shared: put stores the result's text and every lookup parses a new value that belongs
 * to its caller, who may modify it (add a "cached" flag, say) without touching the cache or other callers. So no
 * jansson value ever crosses threads through the cache. Text is also several times smaller than parsed values.
 *
 * Memory is bounded by the number of entries (max_entries) and by refusing any key or result whose compact JSON
 * text exceeds EG_READ_CACHE_ITEM_MAX bytes (1 MiB): at most max_entries * 2 MiB of text, plus about a hundred
 * bytes per entry.
 *
 * A disabled cache (max_entries 0) is cheap: put and get return at once, take no lock and count nothing (its
 * generations still count writes). Every function also accepts a NULL cache, which behaves as a disabled one whose
 * generations stay 0. get and put are O(1): a hash table with a bucket per entry, and a doubly linked recency
 * list. */
#ifndef ENGRAM_EXEC_READ_CACHE_H
#define ENGRAM_EXEC_READ_CACHE_H

#include <engram/status.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define EG_READ_CACHE_STORES 2  /* the stores whose writes are counted: */
#define EG_READ_CACHE_GRAPH 0   /*   the graph store, mask bit 1u << 0 */
#define EG_READ_CACHE_VECTORS 1 /*   the vector store, mask bit 1u << 1 */
#define EG_READ_CACHE_ALL_STORES ((1u << EG_READ_CACHE_STORES) - 1u)

#define EG_READ_CACHE_ITEM_MAX (1024u * 1024u) /* bytes of a key, or of a result's compact JSON text */
#define EG_READ_CACHE_ENTRIES_MAX (1u << 24)   /* the largest max_entries accepted */

typedef struct eg_read_cache eg_read_cache;

typedef struct eg_read_cache_stats {
    size_t entries;         /* held now (fresh or not yet found stale) */
    size_t max_entries;     /* the bound given to eg_read_cache_new; 0 for a disabled cache */
    uint64_t hits;          /* lookups that returned a result */
    uint64_t misses;        /* lookups that returned NULL (absent or stale) */
    uint64_t stale_dropped; /* entries removed by a lookup as stale, plus puts refused as stale from birth */
    uint64_t evictions;     /* entries removed to make room for a new key (the least recently used) */
} eg_read_cache_stats;

/* A cache of at most max_entries results; 0 makes a disabled cache. EG_INVALID_ARGUMENT above
 * EG_READ_CACHE_ENTRIES_MAX, EG_INTERNAL when memory runs out. Free with eg_read_cache_free. */
eg_status eg_read_cache_new(size_t max_entries, eg_read_cache **out, eg_error *err);

/* Drops every entry and frees the cache. NULL is ignored. No other thread may be using the cache. */
void eg_read_cache_free(eg_read_cache *c);

/* The key of a request: its compact JSON text with object keys sorted at every level, nothing left out (the caller
 * decides what goes in the request it passes), except that a real is written as '#' and the 16 hex digits of its
 * bits (a request's vector of 384 floats written in shortest decimals cost 0.46 ms, 80 times what this does) and a
 * byte that JSON escapes as \xHH. Requests equal as JSON values give the same key whatever their key order;
 * different requests give different keys (1 and 1.0 too, as jansson keeps integers and reals apart). Returns a
 * malloc'd string (free() it), or NULL when request is NULL, its key would pass EG_READ_CACHE_ITEM_MAX bytes (put
 * would refuse it) or memory runs out. */
char *eg_read_cache_key(json_t *request);

/* The write generation of a store (EG_READ_CACHE_GRAPH or EG_READ_CACHE_VECTORS): how many writes to it were
 * noted. Read it before a read starts and pass it to put. 0 for a store out of range. */
uint64_t eg_read_cache_generation(eg_read_cache *c, int store);

/* Notes an acknowledged write to a store; any thread, lock-free. A store out of range bumps every store's
 * generation, so that a mistaken index invalidates too much rather than too little. */
void eg_read_cache_note_write(eg_read_cache *c, int store);

/* Caches result under key. store_mask: the stores the read used (bit 1u << store; 0, a read of no store, never
 * goes stale); generations: the generation of every store, read before the read started (only the masked ones are
 * looked at). An existing entry with the same
 * key is replaced; a new key in a full cache evicts the least recently used entry. The new entry becomes the most
 * recently used. Nothing is cached (silently: the cache is an optimisation) when the cache is disabled, key or
 * result is NULL, store_mask has a bit beyond EG_READ_CACHE_ALL_STORES, a masked generation already changed
 * (stale from birth; counted in stale_dropped), the key is longer or the result's compact JSON text larger than
 * EG_READ_CACHE_ITEM_MAX bytes, or memory runs out. The cache keeps the result's text, not the value: the caller
 * keeps its reference and may change or free the value afterwards. */
void eg_read_cache_put(eg_read_cache *c, const char *key, json_t *result, unsigned store_mask,
                       const uint64_t generations[EG_READ_CACHE_STORES]);

/* A new value, equal to the result cached under key, that the caller owns (json_decref it); the entry becomes the
 * most recently used. NULL when there is none, when it is stale (it is then removed) or when memory runs out.
 * Never returns a result that a write noted before this call began could have changed. */
json_t *eg_read_cache_get(eg_read_cache *c, const char *key);

/* The counters, read together under the cache's lock. A disabled cache reports zeros. */
void eg_read_cache_stats_get(eg_read_cache *c, eg_read_cache_stats *out);

#endif
