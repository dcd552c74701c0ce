/* hnsw_file.c — an HNSW index saved to one file and loaded back without rebuilding (see hnsw.h, "Files").
 *
 * Layout, little-endian, each section straight from the index's arrays (so loading is a few large reads):
 *   header   magic "EGHNSW01", then u32: format, dim, distance, m, ef_construct, int8, trained, 0;
 *            u64: seed, rng, slots, live, removed, entry, stamp
 *   codec    int8 and trained only: lo (dim floats), step (dim floats)
 *   nodes    per slot: state (u8), level (u8)
 *   blocks   slots * block_bytes: each slot's vector (or codes) and layer-0 links (hnsw_internal.h)
 *   upper    for each slot that is not empty and has level > 0: level * (1 + m) u32
 *   crc      u32: CRC32C of every byte before it
 * Only x86-64 and other little-endian machines are supported (the arrays are written as they are in memory). */
#include "vector/hnsw_internal.h"

#include "util/crc32c.h"
#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_MAGIC "EGHNSW01"
#define FILE_FORMAT 2u
#define IO_CHUNK (1u << 24) /* one read or write call at most: short transfers are retried per chunk anyway */

typedef struct file_header {
    char magic[8];
    uint32_t format, dim, distance, m, ef_construct, int8, trained, reserved; /* reserved: 0, and no padding */
    uint64_t seed, rng, slots, live, removed, entry, stamp;
} file_header;

typedef struct stream {
    int fd;
    uint32_t crc;
} stream;

static bool put(stream *s, const void *data, size_t n) {
    s->crc = eg_crc32c(s->crc, data, n);
    for (const char *p = data; n > 0;) {
        ssize_t w = write(s->fd, p, n < IO_CHUNK ? n : IO_CHUNK);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads exactly n bytes; false at end of file or on error. */
static bool get(stream *s, void *data, size_t n) {
    size_t total = n;
    for (char *p = data; n > 0;) {
        ssize_t r = read(s->fd, p, n < IO_CHUNK ? n : IO_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= (size_t)r;
    }
    s->crc = eg_crc32c(s->crc, data, total);
    return true;
}

static bool put_body(eg_hnsw *h, stream *s, uint64_t stamp) {
    size_t slots = atomic_load(&h->slots);
    file_header hd = {FILE_MAGIC, FILE_FORMAT, (uint32_t)h->dim, (uint32_t)h->distance, h->m, h->ef_construct,
                      h->int8, h->trained, 0, h->seed, h->rng, slots, atomic_load(&h->live), atomic_load(&h->removed),
                      atomic_load(&h->entry), stamp};
    if (!put(s, &hd, sizeof hd)) return false;
    if (h->int8 && h->trained &&
        (!put(s, h->codec.lo, h->dim * sizeof(float)) || !put(s, h->codec.step, h->dim * sizeof(float))))
        return false;
    uint8_t *meta = malloc(2 * (slots ? slots : 1));
    if (!meta) return false;
    for (size_t i = 0; i < slots; i++) meta[2 * i] = h->nodes[i].state, meta[2 * i + 1] = h->nodes[i].level;
    bool ok = put(s, meta, 2 * slots);
    free(meta);
    ok = ok && put(s, h->blocks, slots * h->block_bytes);
    for (size_t i = 0; ok && i < slots; i++)
        if (h->nodes[i].state != SLOT_EMPTY && h->nodes[i].level > 0)
            ok = put(s, h->nodes[i].upper, (size_t)h->nodes[i].level * (1 + h->m) * sizeof(uint32_t));
    uint32_t crc = s->crc;
    return ok && put(s, &crc, sizeof crc);
}

eg_status eg_hnsw_save(eg_hnsw *h, const char *path, uint64_t stamp, eg_error *err) {
    if (!h || !path) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw save: index and path are required");
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw save: path is too long");
    snprintf(dir, sizeof dir, "%s", path);
    stream s = {open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644), 0};
    if (s.fd < 0) return eg_error_set(err, EG_IO, "hnsw save: cannot create %s: %s", tmp, strerror(errno));
    bool ok = put_body(h, &s, stamp) && fsync(s.fd) == 0;
    int saved_errno = errno;
    ok = close(s.fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) ok = false, saved_errno = errno;
    if (!ok) {
        unlink(tmp);
        return eg_error_set(err, EG_IO, "hnsw save: cannot write %s: %s", path, strerror(saved_errno));
    }
    return eg_sync_folder(dirname(dir), "the index folder", err);
}

/* Checks a header's values against the limits eg_hnsw_new enforces, and that its counts are consistent. */
static bool header_valid(const file_header *hd) {
    if (memcmp(hd->magic, FILE_MAGIC, 8) != 0 || hd->format != FILE_FORMAT) return false;
    if (hd->dim == 0 || hd->dim > EG_VECTOR_DIM_MAX || hd->distance > EG_DISTANCE_MANHATTAN) return false;
    if (hd->m < 2 || hd->m > EG_HNSW_M_MAX || hd->ef_construct == 0 || hd->int8 > 1 || hd->trained > 1 ||
        hd->reserved != 0)
        return false;
    if (hd->slots > (uint64_t)EG_HNSW_LABEL_MAX + 1 || hd->live + hd->removed > hd->slots) return false;
    if (hd->entry == ENTRY_NONE) return hd->live == 0;
    return hd->live > 0 && (uint32_t)hd->entry < hd->slots && (hd->entry >> 32) <= HNSW_LEVEL_MAX;
}

/* The header's counts and entry point agree with the slots' states and levels. */
static bool counts_match(const eg_hnsw *h, const file_header *hd) {
    uint64_t live = 0, removed = 0;
    for (size_t i = 0; i < hd->slots; i++) {
        live += h->nodes[i].state == SLOT_LIVE;
        removed += h->nodes[i].state == SLOT_REMOVED;
    }
    if (live != hd->live || removed != hd->removed) return false;
    if (hd->entry == ENTRY_NONE) return true;
    const hnsw_node *e = &h->nodes[(uint32_t)hd->entry];
    return e->state == SLOT_LIVE && e->level == (hd->entry >> 32);
}

/* Reads everything after the header into h; false when the file is short or a value is out of range. */
static bool get_body(eg_hnsw *h, stream *s, const file_header *hd) {
    size_t slots = hd->slots;
    if (h->int8 && h->trained) {
        float *lo = malloc(2 * h->dim * sizeof(float));
        bool ok = lo && get(s, lo, 2 * h->dim * sizeof(float)) &&
                  eg_sq8_restore(&h->codec, h->dim, lo, lo + h->dim, NULL) == EG_OK;
        free(lo);
        if (!ok) return false;
    }
    uint8_t *meta = malloc(2 * (slots ? slots : 1));
    bool ok = meta && get(s, meta, 2 * slots);
    for (size_t i = 0; ok && i < slots; i++) {
        uint8_t state = meta[2 * i], level = meta[2 * i + 1];
        ok = (state == SLOT_EMPTY || state == SLOT_LIVE || state == SLOT_REMOVED) && level <= HNSW_LEVEL_MAX;
        h->nodes[i].state = state;
        h->nodes[i].level = state == SLOT_EMPTY ? 0 : level;
    }
    free(meta);
    ok = ok && get(s, h->blocks, slots * h->block_bytes);
    for (size_t i = 0; ok && i < slots; i++) {
        const uint32_t *l = hnsw_links(h, (uint32_t)i, 0);
        ok = l[0] <= h->m0;
        for (uint32_t j = 1; ok && j <= l[0]; j++) ok = l[j] < slots;
    }
    for (size_t i = 0; ok && i < slots; i++) {
        hnsw_node *n = &h->nodes[i];
        if (n->level == 0) continue;
        size_t words = (size_t)n->level * (1 + h->m);
        ok = (n->upper = malloc(words * sizeof(uint32_t))) && get(s, n->upper, words * sizeof(uint32_t));
        h->upper_bytes += words * sizeof(uint32_t);
        for (int lc = 1; ok && lc <= n->level; lc++) {
            const uint32_t *l = hnsw_links(h, (uint32_t)i, lc);
            ok = l[0] <= h->m;
            for (uint32_t j = 1; ok && j <= l[0]; j++) ok = l[j] < slots;
        }
    }
    return ok && counts_match(h, hd);
}

eg_status eg_hnsw_load(const char *path, eg_hnsw **out, uint64_t *stamp, eg_error *err) {
    if (!path || !out || !stamp) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw load: path and outputs are required");
    stream s = {open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), 0};
    if (s.fd < 0 && errno == ENOENT) return eg_error_set(err, EG_NOT_FOUND, "hnsw load: %s does not exist", path);
    if (s.fd < 0) return eg_error_set(err, EG_IO, "hnsw load: cannot open %s: %s", path, strerror(errno));
    file_header hd;
    eg_hnsw *h = NULL;
    eg_status st = EG_OK;
    if (!get(&s, &hd, sizeof hd) || !header_valid(&hd)) {
        st = eg_error_set(err, EG_CORRUPT, "hnsw load: %s is not an index of this format or is damaged", path);
    } else {
        eg_hnsw_params p = {hd.m, hd.ef_construct, hd.seed, 0, hd.int8};
        st = hnsw_create(hd.dim, (eg_distance)hd.distance, &p, &h, err);
        if (st == EG_OK && !hnsw_reserve(h, hd.slots)) st = eg_error_set(err, EG_INTERNAL, "hnsw load: out of memory");
    }
    if (st == EG_OK) {
        h->trained = hd.trained;
        h->rng = hd.rng;
        uint32_t crc_read;
        bool ok = get_body(h, &s, &hd);
        uint32_t crc = s.crc;
        ok = ok && get(&s, &crc_read, sizeof crc_read) && crc_read == crc;
        char extra;
        ok = ok && read(s.fd, &extra, 1) == 0;
        if (!ok) st = eg_error_set(err, EG_CORRUPT, "hnsw load: %s is damaged or truncated", path);
    }
    close(s.fd);
    if (st == EG_OK) {
        atomic_store(&h->slots, hd.slots);
        atomic_store(&h->live, hd.live);
        atomic_store(&h->removed, hd.removed);
        atomic_store(&h->entry, hd.entry);
        *stamp = hd.stamp;
        *out = h;
        return EG_OK;
    }
    eg_hnsw_free(h);
    return st;
}
