/* test_datadir.c — the data folder: its FORMAT record (a newer or unreadable format is refused, never misread,
 * and left unchanged), the graph store's own format record, the one-writer lock within a process and across
 * processes, and opening where the address space is too small for the default map sizes. */
#define _GNU_SOURCE
#include "test.h"
#include "util/files.h"

#include <lmdb.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static eg_error err;

static void write_text(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *dir, const char *name) {
    static char buf[256];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    eg_read_small_file(path, name, buf, sizeof buf, NULL);
    return buf;
}

TEST(new_folder_records_its_format) {
    const char *dir = test_scratch_dir();
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    eg_close(db);
    CHECK(strstr(read_text(dir, "FORMAT"), "format 1") != NULL);
}

TEST(newer_format_is_refused_and_left_unchanged) {
    const char *dir = test_scratch_dir();
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    eg_close(db);
    write_text(dir, "FORMAT", "engram data folder\nformat 999\n");
    CHECK_STATUS(eg_open(dir, NULL, &db, &err), EG_INCOMPATIBLE, &err);
    CHECK(strstr(err.message, "999") != NULL && strstr(err.message, "upgrade") != NULL);
    CHECK(strcmp(read_text(dir, "FORMAT"), "engram data folder\nformat 999\n") == 0);
    write_text(dir, "FORMAT", "garbage\n");
    CHECK_STATUS(eg_open(dir, NULL, &db, &err), EG_CORRUPT, &err);
    CHECK(strcmp(read_text(dir, "FORMAT"), "garbage\n") == 0);
}

TEST(newer_graph_format_is_refused) {
    const char *dir = test_scratch_dir();
    char graph[512];
    snprintf(graph, sizeof graph, "%s/graph", dir);
    eg_graph *g;
    CHECK_OK(eg_graph_open_lmdb(graph, NULL, &g, &err), &err);
    eg_graph_close(g);
    /* bump the stored format behind the store's back */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    uint32_t future = 77;
    MDB_val k = {6, "format"}, v = {sizeof future, &future};
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 8);
    REQUIRE(mdb_env_open(env, graph, 0, 0644) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
    CHECK_STATUS(eg_graph_open_lmdb(graph, NULL, &g, &err), EG_INCOMPATIBLE, &err);
    CHECK(strstr(err.message, "format 77") != NULL);
}

/* Writes data.mdb of the store folder `store` in dir: two pages, each filled with `fill` except for a meta page
 * header of LMDB (magic, transaction txnid) when magic is non-zero. */
static void plant_data_file(const char *dir, const char *store, unsigned char fill, uint32_t magic, uint64_t txnid) {
    char path[512];
    long page = sysconf(_SC_PAGESIZE);
    snprintf(path, sizeof path, "%s/%s", dir, store);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/data.mdb", dir, store);
    unsigned char *bytes = malloc((size_t)page * 2);
    memset(bytes, fill, (size_t)page * 2);
    if (magic) {
        memcpy(bytes + 16, &magic, sizeof magic);
        memcpy(bytes + 144, &txnid, sizeof txnid);
    }
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, (size_t)page * 2, f);
    fclose(f);
    free(bytes);
}

/* A power cut during a store's creation can leave its data file with blank meta pages (LMDB writes them without a
 * sync): no transaction was ever committed there, so the store is created again. Other damage is refused. */
TEST(a_store_whose_creation_a_power_cut_interrupted_is_created_again) {
    const char *dir = test_scratch_dir();
    plant_data_file(dir, "graph", 0, 0, 0);
    plant_data_file(dir, "vectors", 0, 0xBEEFC0DEu, 0); /* meta page 0 written, page 1 blank */
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    eg_close(db);
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    eg_close(db);

    const char *damaged = test_scratch_dir();
    plant_data_file(damaged, "graph", 0x5a, 0, 0);
    CHECK_STATUS(eg_open(damaged, NULL, &db, &err), EG_CORRUPT, &err);
    const char *committed = test_scratch_dir();
    plant_data_file(committed, "graph", 0, 0xBEEFC0DEu, 7); /* a commit happened: its other meta page is lost */
    CHECK_STATUS(eg_open(committed, NULL, &db, &err), EG_CORRUPT, &err);
}

TEST(second_opener_in_the_same_process_is_locked_out) {
    const char *dir = test_scratch_dir();
    eg_db *db, *second;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    CHECK_STATUS(eg_open(dir, NULL, &second, &err), EG_LOCKED, &err);
    CHECK(strstr(err.message, "in use") != NULL);
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "still-works", NULL, &err), &err);
    eg_close(db);
    CHECK_OK(eg_open(dir, NULL, &second, &err), &err); /* released at close */
    eg_close(second);
}

TEST(second_process_gets_a_clear_error_and_changes_nothing) {
    const char *dir = test_scratch_dir();
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "mine", NULL, &err), &err);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        eg_db *other;
        eg_error child_err;
        eg_status st = eg_open(dir, NULL, &other, &child_err);
        _exit(st == EG_LOCKED && strstr(child_err.message, "another engram process") ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    uint64_t n;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ANY, &n, &err), &err);
    CHECK(n == 1);
    eg_close(db);
}

TEST(a_folder_that_cannot_be_created_is_an_io_error_without_paths) {
    eg_db *db;
    CHECK_STATUS(eg_open("/nonexistent-parent/engram/data", NULL, &db, &err), EG_IO, &err);
    CHECK(strstr(err.message, "/nonexistent-parent") == NULL);
}

/* A process limited to 4 GiB of address space (ulimit -v) cannot reserve the default maps (64 GiB for the graph,
 * 1 TiB for the vectors): the default shrinks to what fits, while an explicit map size that does not fit is a
 * clear error. Sanitizers reserve terabytes of shadow memory, so only the plain build can run this. */
TEST(a_limited_address_space_shrinks_the_default_map_and_refuses_an_explicit_one) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return;
#endif
    const char *dir = test_scratch_dir();
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        struct rlimit limit = {4ull << 30, 4ull << 30};
        if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(2);
        eg_db *db;
        eg_error child_err;
        if (eg_open(dir, NULL, &db, &child_err) != EG_OK) _exit(3);
        eg_status st = eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "fits", NULL, &child_err);
        eg_close(db);
        if (st != EG_OK) _exit(4);
        char vectors[512];
        snprintf(vectors, sizeof vectors, "%s/explicit-vectors", dir);
        eg_vectors_lmdb_options too_big = {.map_size_bytes = 1ull << 40};
        eg_vectors *v;
        st = eg_vectors_open_lmdb(vectors, &too_big, &v, &child_err);
        _exit(st == EG_IO && strstr(child_err.message, "cannot reserve 1048576 MiB of address space") ? 0 : 5);
    }
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    uint64_t n = 0;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ANY, &n, &err), &err);
    CHECK(n == 1);
    eg_close(db);
}

int main(void) {
    RUN(new_folder_records_its_format);
    RUN(newer_format_is_refused_and_left_unchanged);
    RUN(newer_graph_format_is_refused);
    RUN(a_store_whose_creation_a_power_cut_interrupted_is_created_again);
    RUN(second_opener_in_the_same_process_is_locked_out);
    RUN(second_process_gets_a_clear_error_and_changes_nothing);
    RUN(a_folder_that_cannot_be_created_is_an_io_error_without_paths);
    RUN(a_limited_address_space_shrinks_the_default_map_and_refuses_an_explicit_one);
    return test_summary();
}
