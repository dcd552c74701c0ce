/* test_powercut.c — acknowledged memories survive a simulated power cut at any instant (issue 13).
 *
 * A killed process loses nothing it wrote: the kernel still has it. A power cut loses every write that was not
 * synced, in any order, possibly torn. So a child process runs a seeded random mix of memory writes on a fresh
 * data folder — creates with relationships, updates, deletes, archive runs, restores, and close/reopen cycles (each
 * close is a checkpoint) — under the recorder (powercut/recorder.h), which logs every file call with its bytes
 * and, in the same sequence, the child's marks: "begin OP ID VERSION" before a call and "ack OP ID VERSION" once it
 * returned EG_OK. Then, for many cut points over the log (always the very end and a few right after an ack,
 * the rest at random), the parent builds the folder a power cut there could leave (powercut/crash_state.h, under
 * both journal models), opens it, and checks:
 *   - eg_open succeeds, and eg_memory_check finds no orphan and no dead letter;
 *   - every memory whose last acknowledged operation left it hot is hot and whole at that version (vector,
 *     payload, node properties, relationships), a deleted one is gone, an archived one is in the archive, whole;
 *   - a memory whose operation was in flight at the cut is in the state before it or the state after it, whole.
 *
 * Environment: ENGRAM_POWERCUT_SEED (the workload and the cuts; default 1), ENGRAM_POWERCUT_OPS (operations,
 * default 60, or an eighth of the cuts when that is more), ENGRAM_POWERCUT_CUTS (cut points, default
 * 200 / TEST_WORK_DIVISOR), ENGRAM_POWERCUT_CUT (replay this one cut point only, under both models). A failure
 * prints the seed, the cut and the model; the crash state at a cut follows from those alone. The long run:
 * ENGRAM_POWERCUT_CUTS=5000 build/tests/test_powercut (docs/powercut.md). */
#define _GNU_SOURCE
#include "test.h"

#include "powercut/crash_state.h"
#include "powercut/recorder.h"

#include <engram/archive.h>
#include <engram/engram.h>

#include <ftw.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIM 8
#define ENTITIES 3
#define ENTITY_BASE 9001
#define MAX_EPISODES 1000
#define CREATED_BASE_MS 1600000000000LL /* episode n was created n seconds after this: oldest first is lowest n */
#define DEFAULT_OPS 60
#define DEFAULT_CUTS (200 / TEST_WORK_DIVISOR) /* 2-10 s optimised, with the disk quiet or busy */
#define ACK_CUTS 4 /* cuts right after an acknowledgement, among the total */

static eg_error err;

static uint64_t env_number(const char *name, uint64_t fallback) {
    const char *text = getenv(name);
    return text && *text ? strtoull(text, NULL, 10) : fallback;
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* ---- The memories ------------------------------------------------------------------------------------------- */

/* Unit length (0.6 and 0.8 in two different components, so a Cosine collection stores it unchanged), varied
 * with n. */
static void vector_of(int n, float v[DIM]) {
    for (int i = 0; i < DIM; i++) v[i] = 0.0f;
    v[n % DIM] = (n / DIM) % 2 ? -0.6f : 0.6f;
    v[(n % DIM + 1 + (n / DIM) % (DIM - 1)) % DIM] = (n / (2 * DIM)) % 2 ? -0.8f : 0.8f;
}

static bool vector_is(const float *got, size_t dim, int n) {
    float want[DIM];
    vector_of(n, want);
    if (dim != DIM) return false;
    for (int i = 0; i < DIM; i++) /* the collection normalises: equal to within rounding */
        if (got[i] - want[i] > 1e-6f || want[i] - got[i] > 1e-6f) return false;
    return true;
}

static int64_t created_at(int n) { return CREATED_BASE_MS + (int64_t)n * 1000; }

/* Episode n relates to one entity, and even ones to a second with another type. */
static size_t relationships_of(int n, eg_memory_relationship out[2], char targets[2][16]) {
    snprintf(targets[0], 16, "%d", ENTITY_BASE + n % ENTITIES);
    out[0] = (eg_memory_relationship){targets[0], EG_REL_RELATES_TO, NULL};
    if (n % 2) return 1;
    snprintf(targets[1], 16, "%d", ENTITY_BASE + (n + 1) % ENTITIES);
    out[1] = (eg_memory_relationship){targets[1], EG_REL_PART_OF, NULL};
    return 2;
}

/* What the stores hold for episode n at version v (the create is version 0, each update one more). */
static json_t *stored_payload(int n, int version) {
    return json_pack("{s:i, s:i, s:I}", "n", n, "v", version, "created_at", (json_int_t)created_at(n));
}

static json_t *stored_properties(int n, int version) {
    return json_pack("{s:i, s:i, s:I}", "n", n, "v", version, "created_at", (json_int_t)created_at(n));
}

/* rels holds exactly episode n's relationships (JSON objects with source_id, target_id, type). */
static bool relationships_are(json_t *rels, int n) {
    eg_memory_relationship want[2];
    char targets[2][16], source[16];
    size_t count = relationships_of(n, want, targets);
    snprintf(source, sizeof source, "%d", n);
    if (json_array_size(rels) != count) return false;
    for (size_t r = 0; r < count; r++) {
        bool found = false;
        for (size_t i = 0; i < count && !found; i++) {
            json_t *rel = json_array_get(rels, i);
            const char *s = json_string_value(json_object_get(rel, "source_id")),
                       *t = json_string_value(json_object_get(rel, "target_id")),
                       *type = json_string_value(json_object_get(rel, "type"));
            found = s && t && type && strcmp(s, source) == 0 && strcmp(t, want[r].target_id) == 0 &&
                    strcmp(type, eg_rel_type_name(want[r].type)) == 0;
        }
        if (!found) return false;
    }
    return true;
}

/* ---- The child: the recorded workload ----------------------------------------------------------------------- */

static void mark(const char *what, int n, int version) {
    char text[64];
    snprintf(text, sizeof text, "%s %d %d", what, n, version);
    powercut_mark(text);
}

static void child_fails(const char *what, int n) {
    fprintf(stderr, "  child: %s %d: %s\n", what, n, err.message);
    _exit(1);
}

static eg_db *child_open(const char *dir) {
    eg_options options = {.durability = EG_DURABILITY_GROUP};
    eg_db *db = NULL;
    if (eg_open(dir, &options, &db, &err) != EG_OK) child_fails("open", 0);
    return db;
}

static void create_entity(eg_db *db, int e) {
    char id[16];
    float v[DIM];
    snprintf(id, sizeof id, "%d", ENTITY_BASE + e);
    vector_of(ENTITY_BASE + e, v);
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = DIM};
    mark("begin create", ENTITY_BASE + e, 0);
    if (eg_memory_create(db, &spec, NULL, &err) != EG_OK) child_fails("create entity", ENTITY_BASE + e);
    mark("ack create", ENTITY_BASE + e, 0);
}

static void create_episode(eg_db *db, int n) {
    char id[16], targets[2][16];
    float v[DIM];
    eg_memory_relationship rels[2];
    snprintf(id, sizeof id, "%d", n);
    vector_of(n, v);
    size_t rel_count = relationships_of(n, rels, targets);
    json_t *payload = json_pack("{s:i, s:i}", "n", n, "v", 0), *properties = json_pack("{s:i, s:i}", "n", n, "v", 0);
    eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = id, .vector = v, .dim = DIM, .payload = payload,
                           .properties = properties, .has_created_at = true, .created_at = created_at(n),
                           .relationships = rels, .relationship_count = rel_count};
    mark("begin create", n, 0);
    if (eg_memory_create(db, &spec, NULL, &err) != EG_OK) child_fails("create", n);
    mark("ack create", n, 0);
    json_decref(payload);
    json_decref(properties);
}

static void update_episode(eg_db *db, int n, int version) {
    char id[16];
    snprintf(id, sizeof id, "%d", n);
    json_t *payload = json_pack("{s:i}", "v", version), *properties = json_pack("{s:i}", "v", version);
    mark("begin update", n, version);
    if (eg_memory_update(db, EG_MEMORY_EPISODE, id, payload, properties, &err) != EG_OK) child_fails("update", n);
    mark("ack update", n, version);
    json_decref(payload);
    json_decref(properties);
}

static void delete_episode(eg_db *db, int n, int version) {
    char id[16];
    snprintf(id, sizeof id, "%d", n);
    mark("begin delete", n, version);
    if (eg_memory_delete(db, EG_MEMORY_EPISODE, id, &err) != EG_OK) child_fails("delete", n);
    mark("ack delete", n, version);
}

/* Archives the `limit` oldest hot episodes (lowest numbers) in one run, each id announced before it. */
static void archive_oldest(eg_db *db, const char *state, const int *version, int episodes, int limit) {
    int chosen[4], count = 0;
    for (int n = 1; n <= episodes && count < limit; n++)
        if (state[n] == 'h') chosen[count++] = n;
    for (int i = 0; i < count; i++) mark("begin archive", chosen[i], version[chosen[i]]);
    eg_archive_request request = {.type = EG_MEMORY_EPISODE, .older_than_days = 0, .limit = (size_t)count};
    eg_archive_result result;
    if (eg_archive_older_than(db, &request, &result, &err) != EG_OK || result.archived != (uint64_t)count)
        child_fails("archive run of", count);
    for (int i = 0; i < count; i++) mark("ack archive", chosen[i], version[chosen[i]]);
}

static void restore_episode(eg_db *db, int n, int version) {
    char id[16];
    snprintf(id, sizeof id, "%d", n);
    mark("begin restore", n, version);
    if (eg_restore_archived(db, id, &err) != EG_OK) child_fails("restore", n);
    mark("ack restore", n, version);
}

static void child(const char *dir, const char *log_path, uint64_t seed, int ops) {
    static char state[MAX_EPISODES + 1]; /* 'h' hot, 'a' archived, 0 none */
    static int version[MAX_EPISODES + 1];
    if (!powercut_record_start(dir, log_path)) child_fails("recording to", 0);
    uint64_t rng = mix(seed + 0x9E3779B97F4A7C15ULL) | 1; /* mixed: nearby seeds give unrelated workloads */
    eg_db *db = child_open(dir);
    for (int e = 0; e < ENTITIES; e++) create_entity(db, e);
    int episodes = 0;
    for (int op = 0; op < ops; op++) {
        int hot[MAX_EPISODES], hot_count = 0, archived[MAX_EPISODES], archived_count = 0;
        for (int n = 1; n <= episodes; n++) {
            if (state[n] == 'h') hot[hot_count++] = n;
            if (state[n] == 'a') archived[archived_count++] = n;
        }
        int pick = hot_count ? hot[test_random(&rng) % (uint64_t)hot_count] : 0;
        uint64_t roll = test_random(&rng) % 100;
        if (roll < 40 || !hot_count) {
            if (episodes == MAX_EPISODES) break;
            create_episode(db, ++episodes);
            state[episodes] = 'h';
        } else if (roll < 65) {
            update_episode(db, pick, ++version[pick]);
        } else if (roll < 78) {
            delete_episode(db, pick, version[pick]);
            state[pick] = 0;
        } else if (roll < 88) {
            int limit = 1 + (int)(test_random(&rng) % 2);
            archive_oldest(db, state, version, episodes, limit);
            for (int n = 1, done = 0; n <= episodes && done < limit; n++)
                if (state[n] == 'h') state[n] = 'a', done++;
        } else if (roll < 93 && archived_count) {
            int n = archived[test_random(&rng) % (uint64_t)archived_count];
            restore_episode(db, n, version[n]);
            state[n] = 'h';
        } else {
            eg_close(db);
            powercut_mark("reopen");
            db = child_open(dir);
        }
    }
    eg_close(db);
    powercut_record_stop();
    _exit(0);
}

/* ---- The parent: what a cut must show ----------------------------------------------------------------------- */

/* A memory's state: where ('h' hot, 'a' archived, 0 nowhere) and at which version. */
typedef struct memory_state {
    char where;
    int version;
} memory_state;

typedef struct expectation {
    memory_state settled[MAX_EPISODES + ENTITIES + 1]; /* by slot (slot_of) */
    memory_state after[MAX_EPISODES + ENTITIES + 1];   /* in flight: the state once its operation is done */
    bool in_flight[MAX_EPISODES + ENTITIES + 1];
    bool seen[MAX_EPISODES + ENTITIES + 1]; /* named by a mark before the cut */
    int slots; /* 1..slots are in use */
} expectation;

static int slot_of(int id) { return id >= ENTITY_BASE ? MAX_EPISODES + 1 + id - ENTITY_BASE : id; }
static int id_of(int slot) { return slot > MAX_EPISODES ? ENTITY_BASE + slot - MAX_EPISODES - 1 : slot; }

/* Reads the marks before the cut: acknowledged operations are settled, begun ones without their ack in flight. */
static void expect(const powercut_log *log, size_t cut, expectation *x) {
    memset(x, 0, sizeof *x);
    x->slots = MAX_EPISODES + ENTITIES;
    for (size_t i = 0; i < cut; i++) {
        const char *text = powercut_log_mark(log, i);
        char phase[8], op[8];
        int id, version;
        if (!text || sscanf(text, "%7s %7s %d %d", phase, op, &id, &version) != 4) continue; /* not an operation */
        int s = slot_of(id);
        x->seen[s] = true;
        memory_state next = {strcmp(op, "delete") == 0 ? 0 : strcmp(op, "archive") == 0 ? 'a' : 'h', version};
        if (strcmp(phase, "begin") == 0) {
            x->in_flight[s] = true;
            x->after[s] = next;
        } else {
            x->in_flight[s] = false;
            x->settled[s] = next;
        }
    }
}

/* Where memory `id` is in the opened crash state, and whether it is whole there: returns its state, or where =
 * '?' (described on stderr) when it is broken — in both places, half in one, or not as any version left it. */
static memory_state locate(eg_db *db, int id, const memory_state *hint) {
    bool entity = id >= ENTITY_BASE;
    eg_memory_type type = entity ? EG_MEMORY_ENTITY : EG_MEMORY_EPISODE;
    char text[16];
    snprintf(text, sizeof text, "%d", id);
    eg_point_id pid = eg_point_id_num((uint64_t)id);
    eg_point_list points = {0};
    eg_status pst = eg_vectors_get(eg_db_vectors(db), eg_memory_collection(type), &pid, 1, true, true, &points, &err);
    bool has_point = pst == EG_OK && points.count == 1;
    eg_node node;
    eg_status nst = eg_graph_get_node(eg_db_graph(db), text, EG_LABEL_ANY, &node, &err);
    bool has_node = nst == EG_OK;
    json_t *archived = NULL;
    eg_status ast = entity ? EG_NOT_FOUND : eg_retrieve_archived(db, text, &archived, &err);
    memory_state found = {'?', 0};
    const char *why = NULL;
    if ((pst != EG_OK && pst != EG_NOT_FOUND) || (nst != EG_OK && nst != EG_NOT_FOUND) ||
        (ast != EG_OK && ast != EG_NOT_FOUND)) {
        why = "a read failed";
    } else if (has_point != has_node) {
        why = has_point ? "a point without its node" : "a node without its point";
    } else if (has_point && ast == EG_OK) {
        why = "both hot and archived";
    } else if (!has_point && ast != EG_OK) {
        found.where = 0;
    } else if (entity) {
        if (vector_is(points.items[0].vector, points.items[0].dim, id)) found.where = 'h';
        else why = "its vector is not the one written";
    } else {
        json_t *payload = has_point ? points.items[0].payload
                                    : json_object_get(json_object_get(archived, "record"), "payload");
        int version = (int)json_integer_value(json_object_get(payload, "v"));
        json_t *want_payload = stored_payload(id, version), *want_properties = stored_properties(id, version);
        if (has_point) {
            eg_relationship_list rels = {0};
            json_t *shown = json_array();
            if (eg_graph_get_relationships(eg_db_graph(db), text, EG_REL_ANY, EG_DIR_BOTH, &rels, &err) == EG_OK) {
                for (size_t i = 0; i < rels.count; i++)
                    json_array_append_new(shown, json_pack("{s:s, s:s, s:s}", "source_id", rels.items[i].source_id,
                                                           "target_id", rels.items[i].target_id, "type",
                                                           eg_rel_type_name(rels.items[i].type)));
                eg_relationship_list_free(&rels);
            }
            if (!vector_is(points.items[0].vector, points.items[0].dim, id)) why = "its vector is not the one written";
            else if (!json_equal(payload, want_payload)) why = "its payload is not any version's";
            else if (node.label != EG_LABEL_EPISODE || !json_equal(node.properties, want_properties))
                why = "its node is not the same version as its point";
            else if (!relationships_are(shown, id)) why = "its relationships are not the ones written";
            else found = (memory_state){'h', version};
            json_decref(shown);
        } else {
            json_t *record = json_object_get(archived, "record"), *node_json = json_object_get(record, "node");
            json_t *vector = json_object_get(record, "vector");
            float v[DIM];
            for (size_t i = 0; i < DIM; i++) v[i] = (float)json_number_value(json_array_get(vector, i));
            const char *label = json_string_value(json_object_get(node_json, "label"));
            if (json_array_size(vector) != DIM || !vector_is(v, DIM, id)) why = "its archived vector is wrong";
            else if (!json_equal(payload, want_payload)) why = "its archived payload is not any version's";
            else if (!label || strcmp(label, "Episode") != 0 ||
                     !json_equal(json_object_get(node_json, "properties"), want_properties))
                why = "its archived node is not the same version as its payload";
            else if (!relationships_are(json_object_get(record, "relationships"), id))
                why = "its archived relationships are not the ones written";
            else found = (memory_state){'a', version};
        }
        json_decref(want_payload);
        json_decref(want_properties);
    }
    if (why) {
        fprintf(stderr, "  memory %d (expected %c v%d): %s\n", id, hint->where ? hint->where : '-', hint->version,
                why);
    }
    json_decref(archived);
    if (has_node) eg_node_clear(&node);
    if (pst == EG_OK) eg_point_list_free(&points);
    return found;
}

static bool same(memory_state a, memory_state b) { return a.where == b.where && (!a.where || a.version == b.version); }

typedef struct totals {
    uint64_t cuts, in_flight_done, in_flight_undone, acknowledged_checked;
    uint64_t torn_bytes; /* torn log tails cut at open */
    powercut_build_stats build;
    double build_seconds, open_seconds;
} totals;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Builds the crash state at cut under model, opens it and checks it against the marks. */
static bool check_cut(const powercut_log *log, size_t cut, powercut_commit_model model, uint64_t seed, int ops,
                      const char *scratch, totals *sum) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cut", scratch);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    uint64_t build_seed = mix(seed ^ mix((uint64_t)cut * 2 + (uint64_t)model));
    powercut_build_stats stats;
    double started = now_seconds();
    if (mkdir(dir, 0755) != 0 || !powercut_build(log, cut, build_seed, model, dir, &stats)) return false;
    double built = now_seconds();
    sum->build_seconds += built - started;
    sum->build.writes_synced += stats.writes_synced, sum->build.writes_lost += stats.writes_lost;
    sum->build.writes_whole += stats.writes_whole, sum->build.writes_torn += stats.writes_torn;
    sum->build.names_committed += stats.names_committed, sum->build.names_kept += stats.names_kept;
    sum->build.names_lost += stats.names_lost;
    sum->cuts++;

    int failures_before = test_failures_in_current;
    eg_options options = {.durability = EG_DURABILITY_NONE}; /* checking needs no sync of its own */
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    if (st != EG_OK) {
        fprintf(stderr, "  eg_open: %s: %s\n", eg_status_name(st), err.message);
        test_failures_in_current++;
    } else {
        eg_recovery_report report;
        eg_db_recovery(db, &report);
        sum->torn_bytes += report.wal_torn_bytes;
        json_t *check = NULL;
        st = eg_memory_check(db, false, &check, &err);
        CHECK_OK(st, &err);
        bool consistent = st == EG_OK && json_is_true(json_object_get(check, "consistent")) &&
                          json_array_size(json_object_get(check, "orphans")) == 0 &&
                          json_array_size(json_object_get(check, "dead_letters")) == 0;
        if (!consistent && check) {
            char *shown = json_dumps(check, JSON_COMPACT);
            fprintf(stderr, "  eg_memory_check: %s\n", shown);
            free(shown);
        }
        CHECK(consistent);
        json_decref(check);
        static expectation x;
        expect(log, cut, &x);
        for (int s = 1; s <= x.slots; s++) {
            if (!x.seen[s]) continue;
            int id = id_of(s);
            memory_state got = locate(db, id, &x.settled[s]);
            if (x.in_flight[s]) {
                bool ok = same(got, x.settled[s]) || same(got, x.after[s]);
                if (!ok)
                    fprintf(stderr, "  memory %d in flight: found %c v%d, expected %c v%d or %c v%d\n", id,
                            got.where ? got.where : '-', got.version, x.settled[s].where ? x.settled[s].where : '-',
                            x.settled[s].version, x.after[s].where ? x.after[s].where : '-', x.after[s].version);
                CHECK(ok);
                if (ok) *(same(got, x.after[s]) ? &sum->in_flight_done : &sum->in_flight_undone) += 1;
            } else {
                bool ok = same(got, x.settled[s]);
                if (!ok)
                    fprintf(stderr, "  memory %d: found %c v%d, acknowledged %c v%d\n", id, got.where ? got.where : '-',
                            got.version, x.settled[s].where ? x.settled[s].where : '-', x.settled[s].version);
                CHECK(ok);
                sum->acknowledged_checked += x.settled[s].where != 0;
            }
        }
        eg_close(db);
    }
    sum->open_seconds += now_seconds() - built;
    if (test_failures_in_current != failures_before) {
        fprintf(stderr, "  ^ seed %" PRIu64 " cut %zu of %zu, model %s (replay: ENGRAM_POWERCUT_SEED=%" PRIu64
                        " ENGRAM_POWERCUT_OPS=%d ENGRAM_POWERCUT_CUT=%zu)\n",
                seed, cut, powercut_log_size(log), powercut_commit_model_name(model), seed, ops, cut);
        return false;
    }
    return true;
}

/* ---- The run ------------------------------------------------------------------------------------------------ */

static bool record_workload(const char *scratch, const char *log_path, uint64_t seed, int ops) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/recorded", scratch);
    if (mkdir(dir, 0755) != 0) return false; /* the base state: an empty folder */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) child(dir, log_path, seed, ops);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The cut points: the very end, right after a few acknowledgements, the rest uniform over the log. */
static size_t choose_cuts(const powercut_log *log, uint64_t *rng, size_t wanted, size_t *cuts) {
    size_t size = powercut_log_size(log), count = 0, acks = 0;
    for (size_t i = 0; i < size; i++) {
        const char *text = powercut_log_mark(log, i);
        acks += text && strncmp(text, "ack ", 4) == 0;
    }
    cuts[count++] = size;
    for (size_t k = 0; k < ACK_CUTS && acks && count < wanted; k++) {
        size_t which = (size_t)(test_random(rng) % acks), seen = 0;
        for (size_t i = 0; i < size; i++) {
            const char *text = powercut_log_mark(log, i);
            if (text && strncmp(text, "ack ", 4) == 0 && seen++ == which) {
                cuts[count++] = i + 1;
                break;
            }
        }
    }
    while (count < wanted) cuts[count++] = (size_t)(test_random(rng) % (size + 1));
    return count;
}

TEST(powercut) {
    uint64_t seed = env_number("ENGRAM_POWERCUT_SEED", 1);
    size_t wanted = (size_t)env_number("ENGRAM_POWERCUT_CUTS", DEFAULT_CUTS);
    /* a long run gets a longer workload, so that its cuts fall on different events (about 40 per operation) */
    int ops = (int)env_number("ENGRAM_POWERCUT_OPS", wanted / 8 > DEFAULT_OPS ? wanted / 8 : DEFAULT_OPS);
    const char *only = getenv("ENGRAM_POWERCUT_CUT");
    if (wanted < 1) wanted = 1;
    const char *scratch = test_scratch_dir();
    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/powercut.log", scratch);
    printf("  seed %" PRIu64 ", %d operations, %zu cuts\n", seed, ops, only && *only ? (size_t)1 : wanted);
    double started = now_seconds();
    REQUIRE(record_workload(scratch, log_path, seed, ops));
    double recorded = now_seconds();
    powercut_log *log = powercut_log_load(log_path);
    REQUIRE(log);
    size_t kinds[POWERCUT_MARK + 1] = {0};
    for (size_t i = 0; i < powercut_log_size(log); i++) kinds[powercut_log_kind(log, i)]++;
    CHECK(kinds[POWERCUT_MARK] > (size_t)ops); /* every operation marked, and the entities' creates */
    CHECK(kinds[POWERCUT_WRITE] > 0 && kinds[POWERCUT_FDATASYNC] > 0 && kinds[POWERCUT_RENAME] > 0);
    printf("  recorded in %.2f s: %zu events: %zu opens, %zu writes, %zu truncates, %zu fsyncs, %zu fdatasyncs, "
           "%zu renames, %zu unlinks, %zu mkdirs, %zu rmdirs, %zu closes, %zu marks\n",
           recorded - started, powercut_log_size(log), kinds[POWERCUT_OPEN], kinds[POWERCUT_WRITE],
           kinds[POWERCUT_TRUNCATE], kinds[POWERCUT_FSYNC], kinds[POWERCUT_FDATASYNC], kinds[POWERCUT_RENAME],
           kinds[POWERCUT_UNLINK], kinds[POWERCUT_MKDIR], kinds[POWERCUT_RMDIR], kinds[POWERCUT_CLOSE],
           kinds[POWERCUT_MARK]);

    size_t *cuts = malloc(wanted * sizeof *cuts);
    REQUIRE(cuts);
    uint64_t rng = mix(seed) | 1;
    size_t count = 1;
    if (only && *only) cuts[0] = (size_t)strtoull(only, NULL, 10);
    else count = choose_cuts(log, &rng, wanted, cuts);
    totals sum = {0};
    size_t failed = 0;
    for (size_t c = 0; c < count; c++) {
        /* the journal models alternate; a replayed cut runs under both */
        int first = only && *only ? 0 : (int)(c % 2), last = only && *only ? 1 : first;
        for (int m = first; m <= last; m++)
            failed += !check_cut(log, cuts[c], (powercut_commit_model)m, seed, ops, scratch, &sum);
        if (failed >= 10) {
            fprintf(stderr, "  stopping after %zu failed cuts\n", failed);
            break;
        }
    }
    CHECK(failed == 0);
    if (!(only && *only)) CHECK(sum.acknowledged_checked > 0); /* the end of the log is always among the cuts */
    printf("  %" PRIu64 " crash states (%.1f ms each to build, %.1f ms to open and check); %" PRIu64
           " acknowledged memories found whole; in flight: %" PRIu64 " done, %" PRIu64 " undone\n",
           sum.cuts, sum.cuts ? 1000 * sum.build_seconds / (double)sum.cuts : 0.0,
           sum.cuts ? 1000 * sum.open_seconds / (double)sum.cuts : 0.0, sum.acknowledged_checked, sum.in_flight_done,
           sum.in_flight_undone);
    printf("  writes: %" PRIu64 " synced, %" PRIu64 " lost, %" PRIu64 " whole, %" PRIu64 " torn; names: %" PRIu64
           " committed, %" PRIu64 " kept, %" PRIu64 " lost; torn log tails cut: %" PRIu64 " bytes\n",
           sum.build.writes_synced, sum.build.writes_lost, sum.build.writes_whole, sum.build.writes_torn,
           sum.build.names_committed, sum.build.names_kept, sum.build.names_lost, sum.torn_bytes);
    free(cuts);
    powercut_log_free(log);
}

int main(void) {
    RUN(powercut);
    return test_summary();
}
