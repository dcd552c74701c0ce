/* fuzz_archive.c — the cold archive's files read back (src/archive/archive_store.c): a metadata file and a data
 * file planted at the layout's paths (archive_store.h), then read by eg_archive_get, listed by eg_archive_list,
 * checked by eg_archive_verify and, on request, removed by eg_archive_remove. An archive folder is someone
 * else's bytes as soon as it is copied between machines or systems (the original T4DM writes the same layout).
 *
 * Input layout:
 *   byte 0       flags:
 *                  bits 0-1  the data file's type folder: 0 episodes, 1 entities, 2 procedures, 3 no data file
 *                            (then the metadata names episodes in fix-up mode)
 *                  bit 2     the data file is <id>.json.gz (set) or the uncompressed <id>.json (clear)
 *                  bit 3     fix-up mode: the data part is the record's JSON text, which the harness writes
 *                            gzip'd (bit 2) or as is, with a metadata file it builds itself (right size, SHA-256
 *                            checksum, path, format 1) so that the record's parsing is reached; the metadata
 *                            part is then the archived_at text. Clear: both parts are written byte for byte.
 *                  bit 4     call eg_archive_remove at the end
 *                  bit 5     also plant the data file in the next type folder (data of an entry stored elsewhere)
 *                  bit 6     also plant a leftover temporary file ".<id>.json.gz.tmp" and a stray file
 *                  bit 7     the data file is a symbolic link to a file outside the archive (must be refused)
 *   byte 1       n, the id's length; then n bytes of id (an id the store refuses is only given to eg_archive_get:
 *                no file is written for it, which would otherwise escape the archive folder)
 *   2 bytes      L, the data part's length, little-endian (cut to what is left)
 *   L bytes      the data part
 *   the rest     the metadata part
 * LLVMFuzzerInitialize makes a scratch folder (in /dev/shm when it exists, so that the store's fsyncs are cheap);
 * each input starts from an empty archive folder inside it and removes everything it wrote, so the outcome of an
 * input never depends on the ones before. The scratch folder is removed at exit. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH | FTW_PHYS, mkdtemp */
#include "archive/archive_store.h"
#include "fuzz_scratch.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char archive_dir[4200];  /* <scratch>/a: the archive folder */
static char outside_file[4200]; /* <scratch>/outside: where a planted link points */

static const char *const TYPE_NAMES[3] = {"episodes", "entities", "procedures"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *scratch = fuzz_scratch("archive");
    snprintf(archive_dir, sizeof archive_dir, "%s/a", scratch);
    snprintf(outside_file, sizeof outside_file, "%s/outside", scratch);
    return 0;
}

/* Writes path (creating its two parent folders below the archive folder) with len bytes of data. */
static void plant(const char *folder, const char *prefix, const char *name, const void *data, size_t len) {
    char path[8800];
    snprintf(path, sizeof path, "%s/%s", archive_dir, folder);
    mkdir(archive_dir, 0700);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", archive_dir, folder, prefix);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s/%s", archive_dir, folder, prefix, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (len) fwrite(data, 1, len, f);
    fclose(f);
}

static void plant_link(const char *folder, const char *prefix, const char *name, const void *data, size_t len) {
    FILE *f = fopen(outside_file, "wb");
    if (f) {
        if (len) fwrite(data, 1, len, f);
        fclose(f);
    }
    plant(folder, prefix, "x", "", 0); /* makes the folders */
    char path[8800];
    snprintf(path, sizeof path, "%s/%s/%s/x", archive_dir, folder, prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s/%s/%s", archive_dir, folder, prefix, name);
    if (symlink(outside_file, path) != 0) return;
}

static void exercise(eg_archive *a, const char *id, const char *type, bool remove_it) {
    eg_error err;
    json_t *record = NULL;
    eg_archive_meta meta;
    if (eg_archive_get(a, id, &record, &meta, &err) == EG_OK) {
        if (!json_is_object(record)) abort();
        json_t *m = eg_archive_meta_json(&meta);
        char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        free(text);
        json_decref(m);
    }
    json_decref(record);
    eg_archive_get(a, id, NULL, NULL, &err);

    char cursor[EG_ARCHIVE_CURSOR_MAX], next[EG_ARCHIVE_CURSOR_MAX];
    json_t *list = NULL;
    if (eg_archive_list(a, NULL, 1, NULL, &list, cursor, sizeof cursor, &err) == EG_OK && cursor[0]) {
        json_t *more = NULL;
        if (eg_archive_list(a, NULL, 1, cursor, &more, next, sizeof next, &err) == EG_OK) json_decref(more);
    }
    json_decref(list);
    list = NULL;
    if (eg_archive_list(a, type, 10, NULL, &list, cursor, sizeof cursor, &err) == EG_OK) json_decref(list);

    json_t *report = NULL;
    if (eg_archive_verify(a, &report, &err) == EG_OK) json_decref(report);

    if (remove_it) eg_archive_remove(a, id, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t flags = data[0];
    size_t id_len = data[1], pos = 2;
    if (id_len > size - pos) id_len = size - pos;
    char id[256];
    memcpy(id, data + pos, id_len);
    id[id_len] = '\0';
    pos += id_len;
    size_t data_len = 0;
    if (size - pos >= 2) {
        data_len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
        pos += 2;
    } else {
        pos = size;
    }
    if (data_len > size - pos) data_len = size - pos;
    const uint8_t *body = data + pos;
    const uint8_t *meta_bytes = body + data_len;
    size_t meta_len = size - pos - data_len;

    int type_bits = flags & 3;
    bool gz = flags & 4, fixup = flags & 8, remove_it = flags & 16, elsewhere = flags & 32, strays = flags & 64,
         link = flags & 128;
    const char *type = TYPE_NAMES[type_bits == 3 ? 0 : type_bits];

    eg_archive *a = NULL;
    eg_error err;
    if (eg_archive_open(archive_dir, &a, &err) != EG_OK) abort();

    if (eg_archive_check_id_len(id, id_len, &err) != EG_OK) {
        /* Refused ids reach no file: only the checks run. */
        if (!memchr(id, 0, id_len)) {
            json_t *record = NULL;
            if (eg_archive_get(a, id, &record, NULL, &err) != EG_INVALID_ARGUMENT) abort();
            json_decref(record);
            if (eg_archive_remove(a, id, &err) != EG_INVALID_ARGUMENT) abort();
        }
        eg_archive_close(a);
        return 0;
    }

    char prefix[3] = "00";
    if (id_len >= 2) prefix[0] = id[0], prefix[1] = id[1];
    char data_name[300], meta_name[300], tmp_name[300];
    snprintf(data_name, sizeof data_name, "%s%s", id, gz ? ".json.gz" : ".json");
    snprintf(meta_name, sizeof meta_name, "%s.meta.json", id);
    snprintf(tmp_name, sizeof tmp_name, ".%s.json.gz.tmp", id);

    unsigned char *file = NULL; /* the data file's bytes */
    size_t file_len = 0;
    char *meta_text = NULL; /* the metadata file's bytes (fix-up mode) */
    if (fixup) {
        if (gz) {
            if (eg_archive_gzip((const char *)body, data_len, &file, &file_len, NULL) != EG_OK) file = NULL;
        } else if ((file = malloc(data_len + 1))) {
            memcpy(file, body, data_len);
            file_len = data_len;
        }
        uint8_t digest[EG_SHA256_BYTES];
        char hex[EG_SHA256_HEX_BYTES];
        eg_sha256(body, data_len, digest);
        eg_sha256_hex(digest, hex);
        json_t *at = json_stringn((const char *)meta_bytes, meta_len);
        char path[400];
        snprintf(path, sizeof path, "%s/%s/%s", type, prefix, data_name);
        json_t *m = json_pack("{s:s, s:s, s:o, s:n, s:I, s:s, s:s, s:s, s:i}", "memory_id", id, "memory_type", type,
                              "archived_at", at ? at : json_string("2026-11-26T11:40:00.123000+00:00"),
                              "original_created_at", "size_bytes", (json_int_t)file_len, "archive_path", path,
                              "compression", gz ? "gzip" : "none", "checksum", hex, "format", EG_ARCHIVE_FORMAT);
        meta_text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(m);
        if (meta_text) plant("metadata", prefix, meta_name, meta_text, strlen(meta_text));
    } else {
        plant("metadata", prefix, meta_name, meta_bytes, meta_len);
    }
    const void *bytes = fixup ? (const void *)file : (const void *)body;
    size_t bytes_len = fixup ? file_len : data_len;
    if (type_bits != 3 && (bytes || bytes_len == 0)) {
        if (link)
            plant_link(type, prefix, data_name, bytes, bytes_len);
        else
            plant(type, prefix, data_name, bytes, bytes_len);
    }
    if (elsewhere && (bytes || bytes_len == 0))
        plant(TYPE_NAMES[(type_bits + 1) % 3], prefix, data_name, bytes, bytes_len);
    if (strays) {
        plant(type, prefix, tmp_name, bytes, bytes && bytes_len > 16 ? 16 : 0);
        plant("metadata", "zz", "stray.txt", "x", 1);
    }

    exercise(a, id, type, remove_it);

    free(file);
    free(meta_text);
    eg_archive_close(a);
    fuzz_remove_tree(archive_dir);
    unlink(outside_file);
    return 0;
}
