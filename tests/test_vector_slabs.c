/* test_vector_slabs.c — the embedded vector store's files of dense vectors (format 2): a folder of format 1 (vectors
 * in LMDB chunks) is migrated at open with every point intact; a replaced vector never changes the bytes an older
 * slot holds; a deleted collection's file goes, and a file no collection owns is removed at open; a file that lost
 * its bytes is reported as damage, never read past its end. */
#include "test.h"

#include <engram/vectors.h>

#include <endian.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static eg_error err;

static bool file_exists(const char *dir, const char *name) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static void put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size, const void *value, size_t value_size) {
    MDB_val k = {key_size, (void *)key}, v = {value_size, (void *)value};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
}

static void put_counter(MDB_txn *txn, MDB_dbi meta, const char *name, uint64_t value) {
    put(txn, meta, name, strlen(name), &value, sizeof value);
}

/* Row key of collection 1's point number n: collection (BE) | kind 0 | 8 zero bytes | n (BE). */
static void row_key(uint64_t n, unsigned char out[21]) {
    uint32_t collection = htobe32(1);
    uint64_t be = htobe64(n);
    memset(out, 0, 21);
    memcpy(out, &collection, 4);
    memcpy(out + 13, &be, 8);
}

/* Writes, with LMDB directly, a vectors store of format 1: collection "old" (dim 4, Dot, 3 slots per chunk) with
 * points 1..5 in slots 0..4 (vector of point n: n, 0, 0, 0) and slot 5 empty (a deleted point), payload {"n": n}. */
static void write_format_1(const char *dir) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, collections, points, dense;
    REQUIRE(mkdir(dir, 0755) == 0);
    REQUIRE(mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 16) == 0);
    REQUIRE(mdb_env_open(env, dir, MDB_NOTLS, 0644) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta) == 0 &&
            mdb_dbi_open(txn, "collections", MDB_CREATE, &collections) == 0 &&
            mdb_dbi_open(txn, "points", MDB_CREATE, &points) == 0 && mdb_dbi_open(txn, "dense", MDB_CREATE, &dense) == 0);
    uint32_t format = 1;
    put(txn, meta, "format", 6, &format, sizeof format);
    put_counter(txn, meta, "next_collection", 2);
    put_counter(txn, meta, "count.1", 5);
    put_counter(txn, meta, "slots.1", 6);
    put_counter(txn, meta, "version.1", 1);
    const char *config = "{\"chunk\":3,\"dim\":4,\"distance\":\"Dot\",\"hnsw\":{\"ef_construct\":100,"
                         "\"full_scan_threshold\":10000,\"m\":16,\"quantization\":\"none\"},\"indexes\":{},"
                         "\"number\":1,\"sparse\":false}";
    put(txn, collections, "old", 3, config, strlen(config));
    for (uint32_t chunk = 0; chunk < 2; chunk++) {
        unsigned char value[64 + 3 * 16] = {0}; /* 3 keys padded to 64 bytes, then 3 vectors of 4 floats */
        for (uint32_t i = 0; i < 3; i++) {
            uint32_t slot = chunk * 3 + i;
            unsigned char key[21];
            if (slot == 5) {
                value[i * 17] = 0xFF;
                continue;
            }
            row_key(slot + 1, key);
            memcpy(value + i * 17, key + 4, 17);
            float vector[4] = {(float)(slot + 1), 0, 0, 0};
            memcpy(value + 64 + i * 16, vector, 16);
            char record[64];
            int len = snprintf(record + 4, sizeof record - 4, "{\"n\":%u}", slot + 1);
            memcpy(record, &slot, 4);
            put(txn, points, key, 21, record, 4 + (size_t)len);
        }
        unsigned char chunk_key[8];
        uint32_t c = htobe32(1), n = htobe32(chunk);
        memcpy(chunk_key, &c, 4);
        memcpy(chunk_key + 4, &n, 4);
        put(txn, dense, chunk_key, 8, value, sizeof value);
    }
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
}

static eg_vectors *open_store(const char *dir) {
    eg_vectors_lmdb_options options = {.no_sync = true};
    eg_vectors *v = NULL;
    CHECK_OK(eg_vectors_open_lmdb(dir, &options, &v, &err), &err);
    return v;
}

static void check_points(eg_vectors *v) {
    eg_point_id ids[6];
    for (int i = 0; i < 6; i++) ids[i] = (eg_point_id){.num = (uint64_t)i + 1};
    eg_point_list got = {0};
    CHECK_OK(eg_vectors_get(v, "old", ids, 6, true, true, &got, &err), &err);
    REQUIRE(got.count == 5);
    for (size_t i = 0; i < got.count; i++) {
        CHECK(got.items[i].id.num == i + 1);
        CHECK(got.items[i].dim == 4 && got.items[i].vector[0] == (float)(i + 1) && got.items[i].vector[1] == 0);
        CHECK(json_integer_value(json_object_get(got.items[i].payload, "n")) == (json_int_t)(i + 1));
    }
    eg_point_list_free(&got);
    float query[4] = {1, 0, 0, 0};
    eg_search_request request = {.vector = query, .dim = 4, .limit = 2};
    eg_scored_list hits = {0};
    CHECK_OK(eg_vectors_search(v, "old", &request, &hits, &err), &err);
    REQUIRE(hits.count == 2);
    CHECK(hits.items[0].point.id.num == 5 && hits.items[0].score == 5);
    CHECK(hits.items[1].point.id.num == 4);
    eg_scored_list_free(&hits);
}

TEST(format_1_is_migrated_at_open) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors", test_scratch_dir());
    write_format_1(dir);
    eg_vectors *v = open_store(dir);
    REQUIRE(v);
    check_points(v);
    CHECK(file_exists(dir, "slabs/1.f32"));
    /* the freed slot 5 is reused, and new points land in their own slots */
    eg_point p = {.id = {.num = 9}, .vector = (float[]){0, 9, 0, 0}, .dim = 4};
    CHECK_OK(eg_vectors_upsert(v, "old", &p, 1, &err), &err);
    eg_vectors_close(v);
    v = open_store(dir); /* now of format 2: opened as it is */
    check_points(v);
    uint64_t count = 0;
    CHECK_OK(eg_vectors_count(v, "old", NULL, &count, &err), &err);
    CHECK(count == 6);
    eg_vectors_close(v);
}

TEST(a_replaced_vector_takes_a_new_slot) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors", test_scratch_dir());
    eg_vectors *v = open_store(dir);
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_EUCLID};
    CHECK_OK(eg_vectors_create_collection(v, "c", &config, &err), &err);
    eg_point p = {.id = {.num = 1}, .vector = (float[]){1, 1}, .dim = 2};
    CHECK_OK(eg_vectors_upsert(v, "c", &p, 1, &err), &err);
    p.vector = (float[]){2, 2};
    CHECK_OK(eg_vectors_upsert(v, "c", &p, 1, &err), &err);
    eg_vectors_close(v);
    /* slot 0 still holds the first vector (no reader could have been told otherwise); slot 1 the new one */
    char path[4300];
    snprintf(path, sizeof path, "%s/slabs/1.f32", dir);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    float stored[4];
    REQUIRE(fread(stored, sizeof(float), 4, f) == 4);
    fclose(f);
    CHECK(stored[0] == 1 && stored[1] == 1 && stored[2] == 2 && stored[3] == 2);
    v = open_store(dir);
    eg_point_list got = {0};
    CHECK_OK(eg_vectors_get(v, "c", &p.id, 1, false, true, &got, &err), &err);
    CHECK(got.count == 1 && got.items[0].vector[0] == 2);
    eg_point_list_free(&got);
    /* with no reader left, the next write reuses the slot given up */
    eg_point q = {.id = {.num = 2}, .vector = (float[]){3, 3}, .dim = 2};
    CHECK_OK(eg_vectors_upsert(v, "c", &q, 1, &err), &err);
    eg_vectors_close(v);
    f = fopen(path, "rb");
    REQUIRE(f);
    REQUIRE(fread(stored, sizeof(float), 2, f) == 2);
    fclose(f);
    CHECK(stored[0] == 3 && stored[1] == 3);
}

TEST(deleted_and_orphan_files_are_removed) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors", test_scratch_dir());
    eg_vectors *v = open_store(dir);
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_DOT};
    CHECK_OK(eg_vectors_create_collection(v, "gone", &config, &err), &err);
    CHECK_OK(eg_vectors_create_collection(v, "kept", &config, &err), &err);
    eg_point p = {.id = {.num = 1}, .vector = (float[]){1, 0}, .dim = 2};
    CHECK_OK(eg_vectors_upsert(v, "gone", &p, 1, &err), &err);
    CHECK_OK(eg_vectors_upsert(v, "kept", &p, 1, &err), &err);
    CHECK(file_exists(dir, "slabs/1.f32") && file_exists(dir, "slabs/2.f32"));
    CHECK_OK(eg_vectors_delete_collection(v, "gone", &err), &err);
    CHECK(!file_exists(dir, "slabs/1.f32"));
    eg_vectors_close(v);
    char orphan[4300];
    snprintf(orphan, sizeof orphan, "%s/slabs/7.f32", dir);
    FILE *f = fopen(orphan, "wb"); /* as a delete cut short between its commit and the removal would leave it */
    REQUIRE(f);
    fclose(f);
    v = open_store(dir);
    CHECK(!file_exists(dir, "slabs/7.f32") && file_exists(dir, "slabs/2.f32"));
    eg_point_list got = {0};
    CHECK_OK(eg_vectors_get(v, "kept", &p.id, 1, false, true, &got, &err), &err);
    CHECK(got.count == 1 && got.items[0].vector[0] == 1);
    eg_point_list_free(&got);
    eg_vectors_close(v);
}

TEST(a_short_vectors_file_is_corrupt_not_misread) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors", test_scratch_dir());
    eg_vectors *v = open_store(dir);
    REQUIRE(v);
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_DOT};
    CHECK_OK(eg_vectors_create_collection(v, "c", &config, &err), &err);
    eg_point p = {.id = {.num = 1}, .vector = (float[]){1, 0}, .dim = 2};
    CHECK_OK(eg_vectors_upsert(v, "c", &p, 1, &err), &err);
    eg_vectors_close(v);
    char path[1100];
    snprintf(path, sizeof path, "%s/slabs/1.f32", dir);
    REQUIRE(truncate(path, 0) == 0); /* a file that lost its bytes */
    v = open_store(dir);
    REQUIRE(v);
    eg_point_list got = {0};
    CHECK_STATUS(eg_vectors_get(v, "c", &p.id, 1, false, true, &got, &err), EG_CORRUPT, &err);
    CHECK(strstr(err.message, "vectors file of collection 1 is shorter than its points") != NULL);
    eg_point_list_free(&got);
    float query[2] = {1, 0};
    eg_search_request request = {.vector = query, .dim = 2, .limit = 1};
    eg_scored_list hits = {0};
    CHECK_STATUS(eg_vectors_search(v, "c", &request, &hits, &err), EG_CORRUPT, &err);
    eg_scored_list_free(&hits);
    uint64_t count = 0; /* the point's record is untouched */
    CHECK_OK(eg_vectors_count(v, "c", NULL, &count, &err), &err);
    CHECK(count == 1);
    eg_vectors_close(v);
}

int main(void) {
    RUN(format_1_is_migrated_at_open);
    RUN(a_replaced_vector_takes_a_new_slot);
    RUN(deleted_and_orphan_files_are_removed);
    RUN(a_short_vectors_file_is_corrupt_not_misread);
    return test_summary();
}
