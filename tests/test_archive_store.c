/* test_archive_store.c — the cold archive's file store: SHA-256 against the FIPS 180-4 examples; round trips of
 * every type, compressed or not, with exact metadata and deterministic bytes; files in the original system's
 * layout read back; hostile ids, types and symbolic links refused with nothing written; every kind of damage
 * reported as its own kind of corruption; listing order and paging, cleanup, removal, and an interrupted put. */
#define _GNU_SOURCE /* nftw */
#include "test.h"
#include "archive/archive_store.h"
#include "util/sha256.h"

#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static eg_error err;

/* ---- helpers -------------------------------------------------------------------------------------------- */

static int64_t fake_now;
static int64_t fake_clock(void *ctx) {
    (void)ctx;
    return fake_now;
}

/* A fresh archive at SCRATCH/archive (not created), with the fake clock. */
static eg_archive *fresh(char *dir, size_t cap) {
    snprintf(dir, cap, "%s/archive", test_scratch_dir());
    eg_archive *a;
    if (eg_archive_open(dir, &a, &err) != EG_OK) {
        fprintf(stderr, "cannot open an archive: %s\n", err.message);
        exit(2);
    }
    fake_now = 1795693200123; /* 2026-11-26T11:40:00.123Z */
    eg_archive_set_clock(a, fake_clock, NULL);
    return a;
}

static char *read_file(const char *dir, const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void mkdirs(const char *dir, const char *rel) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path) return;
    mkdir(dir, 0755);
    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    mkdir(path, 0755);
}

/* Writes a file (its folders made), gzip-compressed at level 9 when gz, as the original did. */
static void write_file(const char *dir, const char *rel, const char *text, size_t len, bool gz) {
    char path[1024], parent[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(parent, sizeof parent, "%s", rel);
    *strrchr(parent, '/') = '\0';
    mkdirs(dir, parent);
    if (gz) {
        gzFile g = gzopen(path, "wb9");
        gzwrite(g, text, (unsigned)len);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(text, 1, len, f);
        fclose(f);
    }
}

static long file_size(const char *dir, const char *rel) {
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return lstat(path, &st) == 0 ? (long)st.st_size : -1;
}

static bool exists(const char *dir, const char *rel) { return file_size(dir, rel) >= 0; }

/* Every path under a folder with its kind and size, one per line, sorted by nftw's walk (a stable order for
 * an unchanged tree). */
static char snapshot_buf[1 << 16];
static size_t snapshot_root_len;
static int snapshot_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    size_t used = strlen(snapshot_buf);
    snprintf(snapshot_buf + used, sizeof snapshot_buf - used, "%s %d %ld\n", path + snapshot_root_len, flag,
             S_ISDIR(st->st_mode) ? 0L : (long)st->st_size);
    return 0;
}
static char *snapshot(const char *dir) {
    snapshot_buf[0] = '\0';
    snapshot_root_len = strlen(dir);
    nftw(dir, snapshot_entry, 16, FTW_PHYS);
    return strdup(snapshot_buf);
}

/* The parent folder of an archive path (the scratch folder). */
static void parent_of(const char *dir, char *out, size_t cap) {
    snprintf(out, cap, "%s", dir);
    *strrchr(out, '/') = '\0';
}

static json_t *record_of(const char *text) { return json_pack("{s:s, s:i, s:[i,i]}", "text", text, "n", 7, "v", 1, 2); }

/* The one reason of the one corrupt entry of a verify report, or "" */
static const char *corrupt_reason(json_t *report, const char *id) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "corrupt"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return json_string_value(json_object_get(c, "reason"));
    }
    return "";
}

static bool has_orphan(json_t *report, const char *path, const char *reason_part) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(report, "orphans"), i, o) {
        if (strcmp(json_string_value(json_object_get(o, "path")), path) == 0 &&
            strstr(json_string_value(json_object_get(o, "reason")), reason_part))
            return true;
    }
    return false;
}

/* ---- SHA-256 -------------------------------------------------------------------------------------------- */

static void hex_of(const void *data, size_t len, char out[65]) {
    uint8_t d[32];
    eg_sha256(data, len, d);
    eg_sha256_hex(d, out);
}

TEST(sha256_matches_the_fips_examples) {
    char hex[65];
    hex_of("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    hex_of("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two_blocks, strlen(two_blocks), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    const char *long_msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                           "lmnopqrsmnopqrstnopqrstu";
    hex_of(long_msg, strlen(long_msg), hex);
    CHECK(strcmp(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1") == 0);
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    free(million);
}

/* Lengths around the padding boundaries (one or two final blocks); expected values from coreutils sha256sum. */
TEST(sha256_padding_boundaries) {
    static const struct {
        size_t len;
        const char *hex;
    } cases[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
        {1000, "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f"},
    };
    char buf[1000], hex[65];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hex_of(buf, cases[i].len, hex);
        if (strcmp(hex, cases[i].hex) != 0) fprintf(stderr, "  length %zu: %s\n", cases[i].len, hex);
        CHECK(strcmp(hex, cases[i].hex) == 0);
    }
}

/* ---- round trips ---------------------------------------------------------------------------------------- */

TEST(round_trip_every_type_compressed_and_not) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    const char *types[] = {"episodes", "entities", "procedures"};
    for (int t = 0; t < 3; t++) {
        for (int gz = 0; gz < 2; gz++) {
            char id[64];
            snprintf(id, sizeof id, "id-%d-%d", t, gz);
            json_t *rec = json_pack("{s:s, s:s, s:f, s:n, s:{s:b}}", "text", "caf\xc3\xa9 \xe2\x82\xac", "type",
                                    types[t], "w", 0.25, "none", "nested", "ok", 1);
            eg_archive_meta m;
            CHECK_OK(eg_archive_put(a, types[t], id, rec, 1700000000000, gz, &m, &err), &err);
            json_t *back = NULL;
            eg_archive_meta got;
            CHECK_OK(eg_archive_get(a, id, &back, &got, &err), &err);
            CHECK(back && json_equal(back, rec));
            CHECK(strcmp(got.memory_type, types[t]) == 0);
            CHECK(strcmp(got.compression, gz ? "gzip" : "none") == 0);
            CHECK(strcmp(got.archive_path, m.archive_path) == 0);
            CHECK(got.size_bytes == m.size_bytes && got.size_bytes > 0);
            CHECK(got.format == 1 && strlen(got.checksum) == 64);
            char rel[256];
            snprintf(rel, sizeof rel, "%s/id/%s.json%s", types[t], id, gz ? ".gz" : "");
            CHECK(strcmp(m.archive_path, rel) == 0);
            CHECK(file_size(dir, rel) == (long)m.size_bytes);
            json_decref(back);
            json_decref(rec);
        }
    }
    /* a one-character id lives in the "00" shard */
    json_t *rec = record_of("short");
    CHECK_OK(eg_archive_put(a, "entity", "x", rec, -1, true, NULL, &err), &err);
    CHECK(exists(dir, "entities/00/x.json.gz") && exists(dir, "metadata/00/x.meta.json"));
    json_t *back = NULL;
    CHECK_OK(eg_archive_get(a, "x", &back, NULL, &err), &err);
    CHECK(back && json_equal(back, rec));
    json_decref(back);
    json_decref(rec);
    eg_archive_close(a);
}

TEST(same_record_gives_same_bytes) {
    char dir1[512], dir2[512];
    eg_archive *a = fresh(dir1, sizeof dir1), *b = fresh(dir2, sizeof dir2);
    /* keys in different insertion orders: the text sorts them */
    json_t *r1 = json_pack("{s:i, s:s, s:[i]}", "z", 1, "a", "text", "m", 3);
    json_t *r2 = json_pack("{s:[i], s:s, s:i}", "m", 3, "a", "text", "z", 1);
    CHECK_OK(eg_archive_put(a, "episodes", "same", r1, -1, true, NULL, &err), &err);
    CHECK_OK(eg_archive_put(b, "episodes", "same", r2, -1, true, NULL, &err), &err);
    size_t n1, n2;
    char *d1 = read_file(dir1, "episodes/sa/same.json.gz", &n1), *d2 = read_file(dir2, "episodes/sa/same.json.gz", &n2);
    REQUIRE(d1 && d2);
    CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0);
    CHECK((unsigned char)d1[0] == 0x1f && (unsigned char)d1[1] == 0x8b);
    CHECK(d1[4] == 0 && d1[5] == 0 && d1[6] == 0 && d1[7] == 0); /* header mtime 0 */
    free(d1), free(d2);
    CHECK_OK(eg_archive_put(a, "episodes", "plain", r1, -1, false, NULL, &err), &err);
    char *plain = read_file(dir1, "episodes/pl/plain.json", &n1);
    CHECK(plain && strcmp(plain, "{\"a\":\"text\",\"m\":[3],\"z\":1}") == 0);
    free(plain);
    json_decref(r1), json_decref(r2);
    eg_archive_close(a), eg_archive_close(b);
}

TEST(metadata_file_fields_are_exact) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    json_t *rec = json_pack("{s:s}", "k", "v");
    CHECK_OK(eg_archive_put(a, "Procedure", "ab-42", rec, 1700000000000, true, NULL, &err), &err);
    size_t len = 0;
    char *text = read_file(dir, "metadata/ab/ab-42.meta.json", &len);
    REQUIRE(text);
    CHECK(strstr(text, "{\n  \"memory_id\": \"ab-42\",\n  \"memory_type\": \"procedures\",") == text);
    json_t *m = json_loads(text, 0, NULL);
    REQUIRE(m);
    CHECK(json_object_size(m) == 9);
    CHECK(strcmp(json_string_value(json_object_get(m, "memory_id")), "ab-42") == 0);
    CHECK(strcmp(json_string_value(json_object_get(m, "memory_type")), "procedures") == 0);
    CHECK(strcmp(json_string_value(json_object_get(m, "archived_at")), "2026-11-26T11:40:00.123000+00:00") == 0);
    CHECK(strcmp(json_string_value(json_object_get(m, "original_created_at")), "2023-11-14T22:13:20.000000+00:00") ==
          0);
    CHECK(json_integer_value(json_object_get(m, "size_bytes")) == file_size(dir, "procedures/ab/ab-42.json.gz"));
    CHECK(strcmp(json_string_value(json_object_get(m, "archive_path")), "procedures/ab/ab-42.json.gz") == 0);
    CHECK(strcmp(json_string_value(json_object_get(m, "compression")), "gzip") == 0);
    char hex[65];
    hex_of("{\"k\":\"v\"}", 9, hex);
    CHECK(strcmp(json_string_value(json_object_get(m, "checksum")), hex) == 0);
    CHECK(json_integer_value(json_object_get(m, "format")) == 1);
    json_decref(m);
    free(text);

    /* no original creation time: null */
    CHECK_OK(eg_archive_put(a, "episodes", "no-created", rec, -1, false, NULL, &err), &err);
    text = read_file(dir, "metadata/no/no-created.meta.json", &len);
    m = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(m && json_is_null(json_object_get(m, "original_created_at")));
    CHECK(m && strcmp(json_string_value(json_object_get(m, "compression")), "none") == 0);
    json_decref(m);
    free(text);
    json_decref(rec);
    eg_archive_close(a);
}

TEST(type_names_are_normalised) {
    const char *plural;
    const char *accepted[][2] = {{"episode", "episodes"},     {"Episodes", "episodes"}, {"EPISODE", "episodes"},
                                 {"entity", "entities"},      {"Entities", "entities"}, {"procedure", "procedures"},
                                 {"Procedures", "procedures"}};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        CHECK_OK(eg_archive_type_parse(accepted[i][0], &plural, &err), &err);
        CHECK(strcmp(plural, accepted[i][1]) == 0);
    }
    const char *refused[] = {"memo", "../episodes", "Episodes/", "", "episodess", "metadata", "entitie"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_STATUS(eg_archive_type_parse(refused[i], &plural, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, "memory type") != NULL);
    }
}

/* ---- the original's files ------------------------------------------------------------------------------- */

/* Writes an entry as the original system did: its data (gzip level 9 with the header's mtime, or plain JSON
 * with Python's separators) and metadata with a naive local archived_at, its base path in archive_path and no
 * checksum or format. */
static void write_original(const char *dir, const char *type, const char *id, const char *json, bool gz,
                           const char *archived_at) {
    char p[3] = {id[0], id[1], 0}, rel[512], meta[2048];
    snprintf(rel, sizeof rel, "%s/%s/%s.json%s", type, p, id, gz ? ".gz" : "");
    write_file(dir, rel, json, strlen(json), gz);
    snprintf(meta, sizeof meta,
             "{\n  \"memory_id\": \"%s\",\n  \"memory_type\": \"%s\",\n  \"archived_at\": \"%s\",\n"
             "  \"original_created_at\": null,\n  \"size_bytes\": %ld,\n  \"archive_path\": \"/var/ww/archive/%s\",\n"
             "  \"compression\": \"%s\"\n}",
             id, type, archived_at, file_size(dir, rel), rel, gz ? "gzip" : "none");
    char meta_rel[512];
    snprintf(meta_rel, sizeof meta_rel, "metadata/%s/%s.meta.json", p, id);
    write_file(dir, meta_rel, meta, strlen(meta), false);
}

TEST(reads_the_original_layout) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    write_original(dir, "episodes", "orig-gz", "{\"text\": \"caf\xc3\xa9\", \"n\": 1}", true,
                   "2025-01-02T03:04:05.678901");
    write_original(dir, "entities", "orig-plain", "{\"name\": \"Alice\"}", false, "2025-01-02T03:04:06");
    json_t *rec = NULL;
    eg_archive_meta m;
    CHECK_OK(eg_archive_get(a, "orig-gz", &rec, &m, &err), &err);
    CHECK(rec && strcmp(json_string_value(json_object_get(rec, "text")), "caf\xc3\xa9") == 0);
    CHECK(m.format == 0 && m.checksum[0] == '\0' && m.original_created_at_ms == -1);
    CHECK(m.archived_at_ms == 1735787045678); /* naive: read as UTC */
    CHECK(strcmp(m.archive_path, "episodes/or/orig-gz.json.gz") == 0);
    json_decref(rec);
    rec = NULL;
    CHECK_OK(eg_archive_get(a, "orig-plain", &rec, &m, &err), &err);
    CHECK(rec && strcmp(json_string_value(json_object_get(rec, "name")), "Alice") == 0);
    CHECK(strcmp(m.compression, "none") == 0 && m.archived_at_ms == 1735787046000);
    json_decref(rec);

    /* ours alongside, archived later */
    fake_now = 1735787047000;
    json_t *ours = record_of("new");
    CHECK_OK(eg_archive_put(a, "episodes", "ours", ours, -1, true, NULL, &err), &err);
    json_decref(ours);

    json_t *list;
    char next[EG_ARCHIVE_CURSOR_MAX];
    CHECK_OK(eg_archive_list(a, NULL, 10, NULL, &list, next, sizeof next, &err), &err);
    REQUIRE(json_array_size(list) == 3);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 0), "memory_id")), "orig-gz") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 1), "memory_id")), "orig-plain") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 2), "memory_id")), "ours") == 0);
    CHECK(json_is_null(json_object_get(json_array_get(list, 0), "checksum")));
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 0), "archive_path")),
                 "episodes/or/orig-gz.json.gz") == 0);
    CHECK(next[0] == '\0');
    json_decref(list);

    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 3);
    CHECK(json_integer_value(json_object_get(report, "ok")) == 1);
    CHECK(json_array_size(json_object_get(report, "corrupt")) == 0);
    CHECK(json_array_size(json_object_get(report, "unverifiable")) == 2);
    CHECK(json_array_size(json_object_get(report, "orphans")) == 0);
    json_decref(report);
    eg_archive_close(a);
}

/* ---- hostile input -------------------------------------------------------------------------------------- */

TEST(hostile_ids_and_types_write_nothing) {
    char dir[512], scratch[512];
    eg_archive *a = fresh(dir, sizeof dir);
    parent_of(dir, scratch, sizeof scratch);
    json_t *rec = record_of("x");
    char long_id[131];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    const char *ids[] = {"../x", "/etc/passwd", "a/b", "..", ".", ".hidden", long_id, "", "a b", "a\\b", "caf\xc3\xa9"};

    /* an empty archive, then one holding an entry: neither changes */
    for (int round = 0; round < 2; round++) {
        char *before = snapshot(scratch);
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            CHECK_STATUS(eg_archive_put(a, "episodes", ids[i], rec, -1, true, NULL, &err), EG_INVALID_ARGUMENT, &err);
            CHECK(strstr(err.message, "archive id") != NULL);
            CHECK_STATUS(eg_archive_get(a, ids[i], NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
            CHECK_STATUS(eg_archive_remove(a, ids[i], &err), EG_INVALID_ARGUMENT, &err);
        }
        const char *types[] = {"../episodes", "Episodes/", "memo", "metadata", ""};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            CHECK_STATUS(eg_archive_put(a, types[i], "fine", rec, -1, true, NULL, &err), EG_INVALID_ARGUMENT, &err);
        CHECK_STATUS(eg_archive_put(a, NULL, "fine", rec, -1, true, NULL, &err), EG_INVALID_ARGUMENT, &err);
        json_t *not_object = json_array();
        CHECK_STATUS(eg_archive_put(a, "episodes", "fine", not_object, -1, true, NULL, &err), EG_INVALID_ARGUMENT,
                     &err);
        json_decref(not_object);
        json_t *hidden_nul = json_object();
        json_object_set_new(hidden_nul, "t", json_stringn("a\0b", 3));
        CHECK_STATUS(eg_archive_put(a, "episodes", "fine", hidden_nul, -1, true, NULL, &err), EG_INVALID_ARGUMENT,
                     &err);
        json_decref(hidden_nul);
        char *after = snapshot(scratch);
        CHECK(strcmp(before, after) == 0);
        free(before), free(after);
        CHECK_OK(eg_archive_put(a, "episodes", "present", rec, -1, true, NULL, &err), &err);
    }
    CHECK(access("/etc/passwd.meta.json", F_OK) != 0);

    /* ids given with a length: an embedded NUL is refused, the same bytes without it pass */
    CHECK_STATUS(eg_archive_check_id_len("ab\0cd", 5, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "NUL") != NULL);
    CHECK_OK(eg_archive_check_id_len("ab\0cd", 2, &err), &err);
    CHECK_OK(eg_archive_check_id("6f1c2a4e-0000-4000-8000-000000000001", &err), &err);
    CHECK_OK(eg_archive_check_id("ns:item_1.v2", &err), &err);
    CHECK_STATUS(eg_archive_check_id(NULL, &err), EG_INVALID_ARGUMENT, &err);
    long_id[128] = '\0';
    CHECK_OK(eg_archive_check_id(long_id, &err), &err);
    json_decref(rec);
    eg_archive_close(a);
}

TEST(symlink_inside_the_archive_is_not_followed) {
    char dir[512], scratch[512], outside[600], link[600];
    eg_archive *a = fresh(dir, sizeof dir);
    parent_of(dir, scratch, sizeof scratch);
    snprintf(outside, sizeof outside, "%s/outside", scratch);
    mkdir(dir, 0755);
    mkdir(outside, 0755);
    snprintf(link, sizeof link, "%s/episodes", dir);
    REQUIRE(symlink(outside, link) == 0);
    json_t *rec = record_of("x");
    char *before = snapshot(scratch);
    CHECK_STATUS(eg_archive_put(a, "episodes", "abc", rec, -1, true, NULL, &err), EG_CORRUPT, &err);
    CHECK(strstr(err.message, "symbolic link") != NULL);
    CHECK(strstr(err.message, scratch) == NULL); /* no absolute path in the message */
    char *after = snapshot(scratch);
    CHECK(strcmp(before, after) == 0);
    free(before), free(after);
    CHECK(!exists(outside, "ab"));

    /* a planted data file behind the link is not read either */
    mkdirs(outside, "ab");
    write_file(outside, "ab/abc.json", "{}", 2, false);
    CHECK_STATUS(eg_archive_get(a, "abc", NULL, NULL, &err), EG_CORRUPT, &err);
    CHECK(strstr(err.message, "symbolic link") != NULL);

    /* a linked shard folder and a linked metadata file are refused the same way */
    unlink(link);
    CHECK_OK(eg_archive_put(a, "entities", "zz-1", rec, -1, true, NULL, &err), &err);
    char shard[700];
    snprintf(shard, sizeof shard, "%s/entities/qq", dir);
    REQUIRE(symlink(outside, shard) == 0);
    CHECK_STATUS(eg_archive_put(a, "entities", "qq-1", rec, -1, true, NULL, &err), EG_CORRUPT, &err);
    CHECK(!exists(outside, "qq-1.json.gz"));
    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(has_orphan(report, "entities/qq", "symbolic link"));
    json_decref(report);
    json_decref(rec);
    eg_archive_close(a);
}

/* ---- damage --------------------------------------------------------------------------------------------- */

static void put_one(eg_archive *a, const char *id, bool gz) {
    json_t *rec = record_of("some text that is long enough to compress into a real deflate body, some text");
    CHECK_OK(eg_archive_put(a, "episodes", id, rec, -1, gz, NULL, &err), &err);
    json_decref(rec);
}

static void expect_corrupt(eg_archive *a, const char *id, const char *what) {
    CHECK_STATUS(eg_archive_get(a, id, NULL, NULL, &err), EG_CORRUPT, &err);
    if (!strstr(err.message, what)) fprintf(stderr, "  %s: '%s' lacks '%s'\n", id, err.message, what);
    CHECK(strstr(err.message, what) != NULL);
}

TEST(damage_is_reported_distinctly) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    size_t len = 0;

    put_one(a, "flipped", true);
    char *data = read_file(dir, "episodes/fl/flipped.json.gz", &len);
    data[len / 2] ^= 0x55;
    write_file(dir, "episodes/fl/flipped.json.gz", data, len, false);
    free(data);
    expect_corrupt(a, "flipped", "gzip");

    put_one(a, "truncated", true);
    data = read_file(dir, "episodes/tr/truncated.json.gz", &len);
    write_file(dir, "episodes/tr/truncated.json.gz", data, len - 12, false);
    free(data);
    expect_corrupt(a, "truncated", "truncated gzip");

    write_original(dir, "episodes", "badjson", "{\"text\": oops", true, "2025-01-01T00:00:00");
    expect_corrupt(a, "badjson", "does not parse");

    /* other JSON of the same size under unchanged metadata: only the checksum can tell */
    put_one(a, "swapped", false);
    data = read_file(dir, "episodes/sw/swapped.json", &len);
    char *seven = strstr(data, "\"n\":7");
    REQUIRE(seven);
    seven[4] = '8';
    write_file(dir, "episodes/sw/swapped.json", data, len, false);
    free(data);
    expect_corrupt(a, "swapped", "checksum mismatch");

    char path[700];
    put_one(a, "nodata", true);
    snprintf(path, sizeof path, "%s/episodes/no/nodata.json.gz", dir);
    REQUIRE(unlink(path) == 0);
    expect_corrupt(a, "nodata", "metadata without data");

    put_one(a, "nometa", true);
    snprintf(path, sizeof path, "%s/metadata/no/nometa.meta.json", dir);
    REQUIRE(unlink(path) == 0);
    expect_corrupt(a, "nometa", "data without metadata");

    put_one(a, "other-id", true);
    data = read_file(dir, "metadata/ot/other-id.meta.json", &len);
    char *quote = strstr(data, "\"other-id\"");
    REQUIRE(quote);
    quote[1] = 'O';
    write_file(dir, "metadata/ot/other-id.meta.json", data, len, false);
    free(data);
    expect_corrupt(a, "other-id", "names another id");

    write_file(dir, "metadata/ga/garbage.meta.json", "{not json", 9, false);
    write_file(dir, "episodes/ga/garbage.json.gz", "x", 1, false);
    expect_corrupt(a, "garbage", "does not parse");

    put_one(a, "sneaky", true);
    data = read_file(dir, "metadata/sn/sneaky.meta.json", &len);
    char *p = strstr(data, "episodes/sn/sneaky.json.gz");
    REQUIRE(p);
    memcpy(p, "episodes/sn/../../../x.gz", 25); /* same length as the original path minus one */
    write_file(dir, "metadata/sn/sneaky.meta.json", data, len, false);
    free(data);
    expect_corrupt(a, "sneaky", "archive_path");

    /* a small file that inflates past the record limit stops there */
    write_original(dir, "episodes", "bomb", "{}", true, "2025-01-01T00:00:00");
    snprintf(path, sizeof path, "%s/episodes/bo/bomb.json.gz", dir);
    gzFile g = gzopen(path, "wb9");
    char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 65; i++) gzwrite(g, zeros, 1 << 20);
    gzclose(g);
    free(zeros);
    expect_corrupt(a, "bomb", "beyond the record size limit");
    CHECK_OK(eg_archive_remove(a, "bomb", &err), &err);

    put_one(a, "healthy", true);
    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 9); /* nometa is no entry */
    CHECK(json_integer_value(json_object_get(report, "ok")) == 1);
    CHECK(json_array_size(json_object_get(report, "corrupt")) == 8);
    CHECK(json_array_size(json_object_get(report, "unverifiable")) == 0);
    CHECK(strstr(corrupt_reason(report, "garbage"), "does not parse") != NULL);
    CHECK(strstr(corrupt_reason(report, "flipped"), "gzip") != NULL);
    CHECK(strstr(corrupt_reason(report, "truncated"), "truncated gzip") != NULL);
    CHECK(strstr(corrupt_reason(report, "badjson"), "does not parse") != NULL);
    CHECK(strstr(corrupt_reason(report, "swapped"), "checksum mismatch") != NULL);
    CHECK(strstr(corrupt_reason(report, "nodata"), "metadata without data") != NULL);
    CHECK(strstr(corrupt_reason(report, "other-id"), "names another id") != NULL);
    CHECK(strstr(corrupt_reason(report, "sneaky"), "archive_path") != NULL);
    CHECK(has_orphan(report, "episodes/no/nometa.json.gz", "data without metadata"));
    json_decref(report);

    /* the list skips what does not parse; remove clears damaged entries */
    json_t *list;
    char next[EG_ARCHIVE_CURSOR_MAX];
    CHECK_OK(eg_archive_list(a, NULL, 100, NULL, &list, next, sizeof next, &err), &err);
    CHECK(json_array_size(list) == 6); /* not garbage, not other-id, not sneaky; nometa has no metadata */
    json_decref(list);
    const char *ids[] = {"flipped", "truncated", "badjson", "swapped", "nodata", "nometa", "other-id", "garbage",
                         "sneaky", "healthy"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) CHECK_OK(eg_archive_remove(a, ids[i], &err), &err);
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 0);
    CHECK(json_array_size(json_object_get(report, "orphans")) == 0);
    json_decref(report);
    eg_archive_close(a);
}

TEST(newer_format_is_incompatible) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    put_one(a, "future", true);
    size_t len = 0;
    char *data = read_file(dir, "metadata/fu/future.meta.json", &len);
    char *f = strstr(data, "\"format\": 1");
    REQUIRE(f);
    f[10] = '2';
    write_file(dir, "metadata/fu/future.meta.json", data, len, false);
    free(data);
    CHECK_STATUS(eg_archive_get(a, "future", NULL, NULL, &err), EG_INCOMPATIBLE, &err);
    eg_archive_close(a);
}

/* ---- listing, cleanup, removal -------------------------------------------------------------------------- */

TEST(list_orders_by_archived_at_and_pages_with_a_cursor) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    json_t *rec = record_of("x");
    const char *types[] = {"episodes", "entities", "procedures"};
    /* 50 entries put in scrambled order; every fifth pair shares an archived_at, so ties are ordered by id */
    for (int i = 0; i < 50; i++) {
        int k = (i * 37) % 50;
        char id[32];
        snprintf(id, sizeof id, "m%02d", k);
        fake_now = 1700000000000 + (k / 2) * 1000;
        CHECK_OK(eg_archive_put(a, types[k % 3], id, rec, -1, k % 2, NULL, &err), &err);
    }
    char cursor[EG_ARCHIVE_CURSOR_MAX] = "", next[EG_ARCHIVE_CURSOR_MAX];
    int seen = 0, pages = 0;
    do {
        json_t *page;
        CHECK_OK(eg_archive_list(a, NULL, 7, cursor[0] ? cursor : NULL, &page, next, sizeof next, &err), &err);
        size_t i;
        json_t *m;
        json_array_foreach(page, i, m) {
            char id[32];
            snprintf(id, sizeof id, "m%02d", seen++);
            CHECK(strcmp(json_string_value(json_object_get(m, "memory_id")), id) == 0);
        }
        CHECK(json_array_size(page) == (next[0] ? 7u : 1u));
        json_decref(page);
        strcpy(cursor, next);
        pages++;
    } while (cursor[0] && pages < 20);
    CHECK(seen == 50 && pages == 8);

    json_t *page;
    CHECK_OK(eg_archive_list(a, "entity", 100, NULL, &page, next, sizeof next, &err), &err);
    CHECK(json_array_size(page) == 17); /* k % 3 == 1 for k < 50 */
    size_t i;
    json_t *m;
    json_array_foreach(page, i, m) CHECK(strcmp(json_string_value(json_object_get(m, "memory_type")), "entities") == 0);
    json_decref(page);

    CHECK_STATUS(eg_archive_list(a, NULL, 0, NULL, &page, next, sizeof next, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_archive_list(a, NULL, 10001, NULL, &page, next, sizeof next, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_archive_list(a, "memo", 10, NULL, &page, next, sizeof next, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_archive_list(a, NULL, 10, "garbage", &page, next, sizeof next, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_archive_list(a, NULL, 10, "12:../x", &page, next, sizeof next, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_archive_list(a, NULL, 10, NULL, &page, next, 8, &err), EG_INVALID_ARGUMENT, &err);
    json_decref(rec);
    eg_archive_close(a);
}

TEST(cleanup_removes_exactly_the_old_entries) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    json_t *rec = record_of("x");
    const int64_t day = 86400000, now = 1800000000000;
    /* day offsets before now: 0..11 days; retention 5 days removes those archived more than 5 days ago */
    for (int d = 0; d < 12; d++) {
        char id[32];
        snprintf(id, sizeof id, "day-%02d", d);
        fake_now = now - d * day - (d == 5 ? 0 : 1); /* day-05 sits exactly at the limit: kept */
        CHECK_OK(eg_archive_put(a, "episodes", id, rec, -1, true, NULL, &err), &err);
    }
    uint64_t removed = 99;
    CHECK_OK(eg_archive_cleanup(a, 5, now, &removed, &err), &err);
    CHECK(removed == 6);
    for (int d = 0; d < 12; d++) {
        char id[32];
        snprintf(id, sizeof id, "day-%02d", d);
        CHECK_STATUS(eg_archive_get(a, id, NULL, NULL, &err), d > 5 ? EG_NOT_FOUND : EG_OK, &err);
    }
    CHECK_OK(eg_archive_cleanup(a, 5, now, &removed, &err), &err);
    CHECK(removed == 0);
    CHECK_STATUS(eg_archive_cleanup(a, -1, now, &removed, &err), EG_INVALID_ARGUMENT, &err);
    json_decref(rec);
    eg_archive_close(a);
}

/* More entries than one cleanup batch. */
TEST(cleanup_goes_past_one_batch) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    json_t *rec = json_object();
    for (int i = 0; i < 1100; i++) {
        char id[32];
        snprintf(id, sizeof id, "b%04d", i);
        fake_now = 1000000 + i;
        CHECK_OK(eg_archive_put(a, "entities", id, rec, -1, false, NULL, &err), &err);
    }
    uint64_t removed;
    CHECK_OK(eg_archive_cleanup(a, 0, 1000000 + 1050, &removed, &err), &err);
    CHECK(removed == 1050);
    json_t *page;
    char next[EG_ARCHIVE_CURSOR_MAX];
    CHECK_OK(eg_archive_list(a, NULL, 10000, NULL, &page, next, sizeof next, &err), &err);
    CHECK(json_array_size(page) == 50);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(page, 0), "memory_id")), "b1050") == 0);
    json_decref(page);
    json_decref(rec);
    eg_archive_close(a);
}

TEST(remove_then_get_is_not_found) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    put_one(a, "gone", true);
    CHECK_OK(eg_archive_remove(a, "gone", &err), &err);
    CHECK(!exists(dir, "metadata/go/gone.meta.json") && !exists(dir, "episodes/go/gone.json.gz"));
    CHECK_STATUS(eg_archive_get(a, "gone", NULL, NULL, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_archive_remove(a, "gone", &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_archive_get(a, "never", NULL, NULL, &err), EG_NOT_FOUND, &err);
    eg_archive_close(a);
}

TEST(reads_never_create_folders) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    CHECK_STATUS(eg_archive_get(a, "abc", NULL, NULL, &err), EG_NOT_FOUND, &err);
    json_t *out;
    char next[EG_ARCHIVE_CURSOR_MAX];
    CHECK_OK(eg_archive_list(a, NULL, 10, NULL, &out, next, sizeof next, &err), &err);
    CHECK(json_array_size(out) == 0 && next[0] == '\0');
    json_decref(out);
    CHECK_OK(eg_archive_list(a, "episodes", 10, NULL, &out, next, sizeof next, &err), &err);
    json_decref(out);
    CHECK_OK(eg_archive_verify(a, &out, &err), &err);
    CHECK(json_integer_value(json_object_get(out, "entries")) == 0);
    json_decref(out);
    uint64_t removed;
    CHECK_OK(eg_archive_cleanup(a, 0, 1 << 30, &removed, &err), &err);
    CHECK_STATUS(eg_archive_remove(a, "abc", &err), EG_NOT_FOUND, &err);
    CHECK(!exists(dir, ""));

    /* and in an existing but empty archive folder, nothing below it appears */
    mkdir(dir, 0755);
    char *before = snapshot(dir);
    CHECK_STATUS(eg_archive_get(a, "abc", NULL, NULL, &err), EG_NOT_FOUND, &err);
    CHECK_OK(eg_archive_list(a, NULL, 10, NULL, &out, next, sizeof next, &err), &err);
    json_decref(out);
    char *after = snapshot(dir);
    CHECK(strcmp(before, after) == 0);
    free(before), free(after);
    eg_archive_close(a);
}

/* find_any answers what eg_archive_get would: anything under an id, whole or damaged, is found; nothing is
 * created by looking. */
TEST(find_any_names_the_first_id_with_anything_archived) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    const char *ids[] = {"free-1", "data-only", "whole", "free-2"};
    size_t found = 0;
    CHECK_OK(eg_archive_find_any(a, ids, 4, &found, &err), &err); /* no archive folder yet */
    CHECK(found == 4 && !exists(dir, "metadata"));
    put_one(a, "whole", true);
    CHECK_OK(eg_archive_find_any(a, ids, 4, &found, &err), &err);
    CHECK(found == 2);
    CHECK_STATUS(eg_archive_get(a, "data-only", NULL, NULL, &err), EG_NOT_FOUND, &err);
    write_file(dir, "procedures/da/data-only.json", "{}", 2, false); /* data without metadata: damaged */
    CHECK_OK(eg_archive_find_any(a, ids, 4, &found, &err), &err);
    CHECK(found == 1);
    CHECK_OK(eg_archive_find_any(a, ids + 3, 1, &found, &err), &err);
    CHECK(found == 1);
    write_file(dir, "entities/fr", "not a folder", 12, false); /* a shard that is a file */
    CHECK_OK(eg_archive_find_any(a, ids + 3, 1, &found, &err), &err);
    CHECK(found == 0);
    const char *bad[] = {"../x"};
    CHECK_STATUS(eg_archive_find_any(a, bad, 1, &found, &err), EG_INVALID_ARGUMENT, &err);
    eg_archive_close(a);
}

TEST(interrupted_put_is_an_orphan) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    /* what a crash between the data rename and the metadata rename leaves: the data file alone, plus a
     * temporary file of a write that never got renamed */
    write_file(dir, "episodes/cr/crashed.json.gz", "\x1f\x8b", 2, false);
    write_file(dir, "metadata/cr/.crashed.meta.json.tmp", "{", 1, false);
    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 0);
    CHECK(has_orphan(report, "episodes/cr/crashed.json.gz", "data without metadata"));
    CHECK(has_orphan(report, "metadata/cr/.crashed.meta.json.tmp", "temporary"));
    json_decref(report);
    expect_corrupt(a, "crashed", "data without metadata");
    json_t *list;
    char next[EG_ARCHIVE_CURSOR_MAX];
    CHECK_OK(eg_archive_list(a, NULL, 10, NULL, &list, next, sizeof next, &err), &err);
    CHECK(json_array_size(list) == 0);
    json_decref(list);

    /* retrying the put completes the entry and clears the leftovers */
    put_one(a, "crashed", true);
    CHECK_OK(eg_archive_get(a, "crashed", NULL, NULL, &err), &err);
    CHECK_OK(eg_archive_remove(a, "crashed", &err), &err);
    CHECK(!exists(dir, "metadata/cr/.crashed.meta.json.tmp"));
    eg_archive_close(a);
}

TEST(put_again_replaces) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    json_t *first = record_of("first"), *second = record_of("second"), *back = NULL;
    CHECK_OK(eg_archive_put(a, "episodes", "again", first, -1, true, NULL, &err), &err);
    fake_now += 1000;
    CHECK_OK(eg_archive_put(a, "episodes", "again", second, -1, true, NULL, &err), &err);
    eg_archive_meta m;
    CHECK_OK(eg_archive_get(a, "again", &back, &m, &err), &err);
    CHECK(back && json_equal(back, second));
    CHECK(m.archived_at_ms == fake_now);
    json_decref(back);

    /* into another type and uncompressed: the old data file goes */
    CHECK_OK(eg_archive_put(a, "procedure", "again", first, -1, false, NULL, &err), &err);
    CHECK(!exists(dir, "episodes/ag/again.json.gz") && exists(dir, "procedures/ag/again.json"));
    back = NULL;
    CHECK_OK(eg_archive_get(a, "again", &back, &m, &err), &err);
    CHECK(back && json_equal(back, first) && strcmp(m.memory_type, "procedures") == 0);
    json_decref(back);
    CHECK_OK(eg_archive_put(a, "procedures", "again", second, -1, true, NULL, &err), &err);
    CHECK(!exists(dir, "procedures/ag/again.json") && exists(dir, "procedures/ag/again.json.gz"));

    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 1);
    CHECK(json_integer_value(json_object_get(report, "ok")) == 1);
    CHECK(json_array_size(json_object_get(report, "orphans")) == 0);
    json_decref(report);

    /* a stale copy left in another type folder is an orphan of its own kind */
    write_file(dir, "entities/ag/again.json.gz", "x", 1, false);
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(has_orphan(report, "entities/ag/again.json.gz", "names another file"));
    json_decref(report);
    json_decref(first), json_decref(second);
    eg_archive_close(a);
}

TEST(verify_reports_files_outside_the_layout) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    put_one(a, "fine", true);
    write_file(dir, "episode/fi/fine.json.gz", "x", 1, false); /* the original's singular-type folder */
    write_file(dir, "episodes/fi/notes.txt", "x", 1, false);
    write_file(dir, "episodes/zz/fine.json.gz", "x", 1, false); /* right name, wrong shard */
    write_file(dir, "metadata/fine.meta.json", "{}", 2, false);  /* no shard folder */
    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 1);
    CHECK(json_integer_value(json_object_get(report, "ok")) == 1);
    CHECK(has_orphan(report, "episode", "not part of the archive layout"));
    CHECK(has_orphan(report, "episodes/fi/notes.txt", "not part of the archive layout"));
    CHECK(has_orphan(report, "episodes/zz/fine.json.gz", "not part of the archive layout"));
    CHECK(has_orphan(report, "metadata/fine.meta.json", "not part of the archive layout"));
    CHECK(json_array_size(json_object_get(report, "orphans")) == 4);
    json_decref(report);
    eg_archive_close(a);
}

/* Threads putting, reading, listing and removing at once: every call succeeds and sees whole entries. */
typedef struct worker {
    eg_archive *a;
    int index, failures;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    eg_error e;
    json_t *rec = record_of("threaded");
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "t%d-%02d", w->index, i);
        json_t *back = NULL, *list = NULL;
        char next[EG_ARCHIVE_CURSOR_MAX];
        if (eg_archive_put(w->a, "entities", id, rec, -1, i % 2, NULL, &e) != EG_OK) w->failures++;
        if (eg_archive_get(w->a, id, &back, NULL, &e) != EG_OK || !json_equal(back, rec)) w->failures++;
        if (eg_archive_list(w->a, NULL, 5, NULL, &list, next, sizeof next, &e) != EG_OK) w->failures++;
        if (i % 3 == 0 && eg_archive_remove(w->a, id, &e) != EG_OK) w->failures++;
        json_decref(back);
        json_decref(list);
    }
    json_decref(rec);
    return NULL;
}

TEST(threads_share_one_archive) {
    char dir[512];
    eg_archive *a = fresh(dir, sizeof dir);
    eg_archive_set_clock(a, NULL, NULL);
    pthread_t threads[4];
    worker workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (worker){.a = a, .index = i};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].failures == 0);
    }
    json_t *report;
    CHECK_OK(eg_archive_verify(a, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 4 * 26);
    CHECK(json_integer_value(json_object_get(report, "ok")) == 4 * 26);
    CHECK(json_array_size(json_object_get(report, "orphans")) == 0);
    json_decref(report);
    eg_archive_close(a);
}

int main(void) {
    RUN(sha256_matches_the_fips_examples);
    RUN(sha256_padding_boundaries);
    RUN(round_trip_every_type_compressed_and_not);
    RUN(same_record_gives_same_bytes);
    RUN(metadata_file_fields_are_exact);
    RUN(type_names_are_normalised);
    RUN(reads_the_original_layout);
    RUN(hostile_ids_and_types_write_nothing);
    RUN(symlink_inside_the_archive_is_not_followed);
    RUN(damage_is_reported_distinctly);
    RUN(newer_format_is_incompatible);
    RUN(list_orders_by_archived_at_and_pages_with_a_cursor);
    RUN(cleanup_removes_exactly_the_old_entries);
    RUN(cleanup_goes_past_one_batch);
    RUN(remove_then_get_is_not_found);
    RUN(reads_never_create_folders);
    RUN(find_any_names_the_first_id_with_anything_archived);
    RUN(interrupted_put_is_an_orphan);
    RUN(put_again_replaces);
    RUN(verify_reports_files_outside_the_layout);
    RUN(threads_share_one_archive);
    return test_summary();
}
