/* test_archive_crash.c — the cold archive survives kill -9 at random moments: every memory stays exactly once,
 * hot or archived, whole, and nothing acknowledged is lost. Everything goes through the public API, in one real
 * data folder.
 *
 * The parent makes N episodes (with relationships to a few entities, so that relationships go to the archive and
 * come back) whose content follows from their number, then runs rounds on the same folder. In each round a child
 * opens the folder and loops: eg_archive_older_than with a random age and limit, then eg_restore_archived of a few
 * entries eg_list_archived shows. The child knows which episodes are hot, so it announces on a pipe, before each
 * call, exactly which ids the call will move, and acknowledges the call after it returned EG_OK with the counts it
 * predicted. The parent SIGKILLs the child a random time after its first report, reopens the folder and checks:
 *   - each of the N episodes is hot (vector point and graph node) or archived (eg_retrieve_archived succeeds),
 *     never both, never neither, never a point without its node or the reverse;
 *   - an acknowledged move holds; an announced one in flight is done or undone, and of an archive run cut short
 *     the done ones are the oldest (it goes one saga at a time, oldest first);
 *   - the content is intact wherever the memory is: vector bits, payload, node properties, relationships;
 *   - eg_memory_check is consistent, eg_verify_archive finds no corrupt entry and no orphan other than a
 *     leftover temporary file of an interrupted write (which an interrupted atomic write may leave and which no
 *     read takes for an entry), and the recovery report shows no failed saga.
 * Rounds: ENGRAM_ARCHIVE_CRASH_KILLS (default 60); ENGRAM_ARCHIVE_CRASH_SEED replays a run's choices (the kill
 * moments still depend on timing). */
#include "test.h"

#include <engram/archive.h>
#include <engram/engram.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 300          /* episodes, ids 1..N */
#define ENTITIES 5     /* entities, ids ENTITY_BASE+0.. : never archived, so every relationship can come back */
#define ENTITY_BASE 5001
#define DIM 8
#define DAY_MS 86400000LL
/* Episode i is (i - 1/2) spacings old: ages spread over the last 100 days, and an age threshold of a whole
 * number of spacings falls half a spacing (4 hours) from any memory, far more than a run lasts, so the child
 * knows exactly which memories a threshold selects. */
#define SPACING_MS (100 * DAY_MS / N)

#define DEFAULT_ROUNDS 60 /* about 8 s with AddressSanitizer on 2 cores, 6 s optimised: mostly archive fsyncs */
#define MAX_DELAY_MS 120 /* the kill comes 0..this after the child's first report: a few loops of work */

static eg_error err;
static int64_t base_ms; /* "now" when the episodes were made: their created_at are counted back from it */

/* The state of one episode as the parent knows it; IN_FLIGHT: a move was announced and not acknowledged. */
enum { HOT, ARCHIVED, IN_FLIGHT };

static uint64_t next_random(uint64_t *s) {
    /* splitmix64: any seed, including 0, gives a good sequence */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int64_t wall_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- The originals ------------------------------------------------------------------------------------------ */

/* Four components of ±1/2 and four zeros: length exactly 1, which a Cosine collection stores unchanged, so the
 * stored vector must equal this one bit for bit. Which four (one of the 70 ways) and their signs (16) come from
 * n, distinct for every n below 1120. */
static void original_vector(int n, float v[DIM]) {
    int masks[70], count = 0;
    for (int m = 0; m < 256; m++)
        if (__builtin_popcount((unsigned)m) == 4) masks[count++] = m;
    int mask = masks[n % 70], signs = (n / 70) % 16, k = 0;
    for (int i = 0; i < DIM; i++) {
        v[i] = 0.0f;
        if (mask & (1 << i)) v[i] = (signs >> k++) & 1 ? -0.5f : 0.5f;
    }
}

static int64_t created_at(int n) { return base_ms - (int64_t)n * SPACING_MS + SPACING_MS / 2; }

static void session_of(int n, char out[16]) { snprintf(out, 16, "s-%d", n % 3); }

/* The caller's part of the payload and properties (what eg_memory_create is given). */
static json_t *given_payload(int n) {
    char text[48];
    snprintf(text, sizeof text, "episode %d of the crash test", n);
    return json_pack("{s:i, s:s}", "n", n, "text", text);
}

static json_t *given_properties(int n) {
    char title[32];
    snprintf(title, sizeof title, "memory %d", n);
    return json_pack("{s:i, s:s}", "n", n, "title", title);
}

/* What the stores hold: the caller's part plus created_at and the session (memory.h, "What is stored"). */
static json_t *stored_payload(int n) {
    char session[16];
    session_of(n, session);
    json_t *p = given_payload(n);
    json_object_set_new(p, "created_at", json_integer(created_at(n)));
    json_object_set_new(p, "session_id", json_string(session));
    return p;
}

static json_t *stored_properties(int n) {
    char session[16];
    session_of(n, session);
    json_t *p = given_properties(n);
    json_object_set_new(p, "created_at", json_integer(created_at(n)));
    json_object_set_new(p, "sessionId", json_string(session));
    return p;
}

/* Episode n relates to one entity, and every third episode to a second one with another type. */
static size_t original_relationships(int n, eg_memory_relationship out[2], char targets[2][16]) {
    snprintf(targets[0], 16, "%d", ENTITY_BASE + n % ENTITIES);
    out[0] = (eg_memory_relationship){targets[0], EG_REL_RELATES_TO, NULL};
    if (n % 3) return 1;
    snprintf(targets[1], 16, "%d", ENTITY_BASE + (n + 2) % ENTITIES);
    out[1] = (eg_memory_relationship){targets[1], EG_REL_PART_OF, NULL};
    return 2;
}

static double original_weight(int n, size_t which) { return which ? 0.5 : (double)(n % 10) / 10.0 + 0.05; }

/* ---- Setup -------------------------------------------------------------------------------------------------- */

static eg_db *open_folder(const char *dir) {
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    if (st != EG_OK) fprintf(stderr, "  eg_open(%s): %s: %s\n", dir, eg_status_name(st), err.message);
    return db;
}

static bool make_episodes(const char *dir) {
    eg_db *db = open_folder(dir);
    if (!db) return false;
    base_ms = wall_ms();
    bool ok = true;
    for (int e = 0; ok && e < ENTITIES; e++) {
        char id[16];
        float v[DIM];
        snprintf(id, sizeof id, "%d", ENTITY_BASE + e);
        original_vector(N + 1 + e, v);
        eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = DIM};
        ok = eg_memory_create(db, &spec, NULL, &err) == EG_OK;
    }
    for (int n = 1; ok && n <= N; n++) {
        char id[16], session[16], targets[2][16];
        float v[DIM];
        eg_memory_relationship rels[2];
        snprintf(id, sizeof id, "%d", n);
        session_of(n, session);
        original_vector(n, v);
        size_t rel_count = original_relationships(n, rels, targets);
        for (size_t r = 0; r < rel_count; r++) rels[r].properties = json_pack("{s:f}", "weight", original_weight(n, r));
        json_t *payload = given_payload(n), *properties = given_properties(n);
        eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = id, .vector = v, .dim = DIM, .payload = payload,
                               .properties = properties, .session_id = session, .has_created_at = true,
                               .created_at = created_at(n), .relationships = rels, .relationship_count = rel_count};
        ok = eg_memory_create(db, &spec, NULL, &err) == EG_OK;
        json_decref(payload);
        json_decref(properties);
        for (size_t r = 0; r < rel_count; r++) json_decref(rels[r].properties);
    }
    if (!ok) fprintf(stderr, "  setup: %s\n", err.message);
    eg_close(db);
    return ok;
}

/* ---- The child ---------------------------------------------------------------------------------------------- */

/* One report line, one write(2): shorter than PIPE_BUF, so a kill never leaves half a line. */
static void say(int fd, const char *format, ...) {
    char text[4096];
    va_list ap;
    va_start(ap, format);
    int len = vsnprintf(text, sizeof text - 1, format, ap);
    va_end(ap);
    if (len < 0 || len > (int)sizeof text - 2) len = (int)sizeof text - 2;
    text[len++] = '\n';
    while (write(fd, text, (size_t)len) < 0 && errno == EINTR) {
    }
}

/* Reports what went wrong and ends the child: the parent counts an "x" line as a failure. */
static void fail_child(int fd, const char *what, eg_status st, const eg_error *e) {
    say(fd, "x %s: %s: %s", what, eg_status_name(st), e->message);
    _exit(4);
}

/* Archives with a threshold of k spacings and a limit, after announcing the ids it will take: the hot episodes
 * older than k spacings, oldest (highest id) first. */
static void child_archive(eg_db *db, unsigned char *state, int *archived_count, uint64_t *rng, int fd) {
    int k = (int)(next_random(rng) % N), limit = 1 + (int)(next_random(rng) % 8), chosen = 0;
    uint64_t candidates = 0;
    char line[128]; /* "b" and at most 8 ids */
    int len = snprintf(line, sizeof line, "b");
    int ids[8];
    for (int n = N; n > k; n--) {
        if (state[n] != HOT) continue;
        if (chosen < limit) {
            ids[chosen++] = n;
            len += snprintf(line + len, sizeof line - (size_t)len, " %d", n);
        }
        candidates++;
    }
    say(fd, "%s", line);
    eg_archive_request r = {.type = EG_MEMORY_EPISODE, .older_than_days = (double)(k * SPACING_MS) / DAY_MS,
                            .limit = (size_t)limit};
    eg_archive_result result;
    eg_error e;
    eg_status st = eg_archive_older_than(db, &r, &result, &e);
    if (st != EG_OK) fail_child(fd, "archive_older_than", st, &e);
    if (result.archived != (uint64_t)chosen || result.candidates != candidates || result.failed) {
        say(fd, "x archive_older_than(%d spacings, limit %d): archived %" PRIu64 " of %" PRIu64
                " candidates (%" PRIu64 " failed); expected %d of %" PRIu64,
            k, limit, result.archived, result.candidates, result.failed, chosen, candidates);
        _exit(4);
    }
    for (int i = 0; i < chosen; i++) state[ids[i]] = ARCHIVED;
    *archived_count += chosen;
    say(fd, "a %" PRIu64 " %" PRIu64, result.archived, result.candidates);
}

/* The id of entry i of a listing, as a number (0 when it is none of ours). */
static int listed_id(json_t *entries, size_t i) {
    const char *id = json_string_value(json_object_get(json_array_get(entries, i), "memory_id"));
    return id ? atoi(id) : 0;
}

/* Restores a few of the entries the archive lists first (the longest archived). More when most episodes are
 * archived, fewer when most are hot, so that the folder keeps plenty of both whatever the seed. */
static void child_restore(eg_db *db, unsigned char *state, int *archived_count, uint64_t *rng, int fd) {
    eg_memory_type episode = EG_MEMORY_EPISODE;
    json_t *list = NULL;
    eg_error e;
    eg_status st = eg_list_archived(db, &episode, 100, NULL, &list, &e);
    if (st != EG_OK) fail_child(fd, "list_archived", st, &e);
    json_t *entries = json_object_get(list, "entries");
    size_t count = json_array_size(entries);
    for (size_t i = 0; i < count; i++) {
        int n = listed_id(entries, i);
        if (n < 1 || n > N || state[n] != ARCHIVED) {
            say(fd, "x list_archived shows %d, which is not archived", n);
            _exit(4);
        }
    }
    int restores = (int)(next_random(rng) % (*archived_count > N / 2 ? 10 : 4));
    for (int r = 0; r < restores && count; r++) {
        int n = listed_id(entries, next_random(rng) % count);
        if (state[n] != ARCHIVED) continue; /* picked twice */
        char id[16];
        snprintf(id, sizeof id, "%d", n);
        say(fd, "s %d", n);
        st = eg_restore_archived(db, id, &e);
        if (st != EG_OK) fail_child(fd, "restore_archived", st, &e);
        state[n] = HOT;
        (*archived_count)--;
        say(fd, "r %d", n);
    }
    json_decref(list);
}

/* Never returns: archives and restores until killed. state is the child's copy of the parent's exact knowledge. */
static void child(const char *dir, unsigned char *state, uint64_t seed, int fd) {
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db;
    eg_error e;
    eg_status st = eg_open(dir, &options, &db, &e);
    if (st != EG_OK) fail_child(fd, "open", st, &e);
    int archived_count = 0;
    for (int n = 1; n <= N; n++) archived_count += state[n] == ARCHIVED;
    say(fd, "o");
    for (;;) {
        child_archive(db, state, &archived_count, &seed, fd);
        child_restore(db, state, &archived_count, &seed, fd);
    }
}

/* ---- The parent's checks ------------------------------------------------------------------------------------ */

typedef struct totals {
    int rounds;
    uint64_t archives_acknowledged, restores_acknowledged, lines;
    uint64_t restores_cut, restores_cut_done;              /* a restore announced, not acknowledged */
    uint64_t runs_cut, runs_cut_announced, runs_cut_archived; /* an archive run announced, not acknowledged */
    uint64_t unfinished, compensated, rolled_forward;
    uint64_t temporaries; /* leftover temporary files verify reported */
} totals;

static bool vector_is(const float *got, size_t dim, int n) {
    float want[DIM];
    original_vector(n, want);
    return dim == DIM && memcmp(got, want, sizeof want) == 0;
}

static bool json_vector_is(json_t *got, int n) {
    float v[DIM];
    if (json_array_size(got) != DIM) return false;
    for (size_t i = 0; i < DIM; i++) v[i] = (float)json_number_value(json_array_get(got, i));
    return vector_is(v, DIM, n);
}

/* rels (relationship JSON: source_id, target_id, type, properties) must be exactly episode n's originals: as
 * many, and each original's ends, type and weight among them. */
static bool relationships_are(json_t *rels, int n) {
    eg_memory_relationship want[2];
    char targets[2][16], source[16];
    size_t count = original_relationships(n, want, targets);
    snprintf(source, sizeof source, "%d", n);
    if (json_array_size(rels) != count) return false;
    for (size_t r = 0; r < count; r++) {
        bool found = false;
        for (size_t i = 0; i < count && !found; i++) {
            json_t *rel = json_array_get(rels, i);
            found = strcmp(json_string_value(json_object_get(rel, "source_id")), source) == 0 &&
                    strcmp(json_string_value(json_object_get(rel, "target_id")), want[r].target_id) == 0 &&
                    strcmp(json_string_value(json_object_get(rel, "type")), eg_rel_type_name(want[r].type)) == 0 &&
                    json_number_value(json_object_get(json_object_get(rel, "properties"), "weight")) ==
                        original_weight(n, r);
        }
        if (!found) return false;
    }
    return true;
}

/* Where episode n is: 'h' hot, 'a' archived; anything else is wrong and reported ('2' both, '0' neither,
 * 'p' point only, 'g' node only, 'c' archive entry unreadable, 'x' content not the original). */
static char locate(eg_db *db, int n) {
    char id[16];
    snprintf(id, sizeof id, "%d", n);
    eg_point_id pid = eg_point_id_num((uint64_t)n);
    eg_point_list points = {0};
    eg_status pst = eg_vectors_get(eg_db_vectors(db), eg_memory_collection(EG_MEMORY_EPISODE), &pid, 1, true, true,
                                   &points, &err);
    CHECK(pst == EG_OK);
    bool has_point = pst == EG_OK && points.count == 1;
    eg_node node;
    eg_status nst = eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ANY, &node, &err);
    CHECK(nst == EG_OK || nst == EG_NOT_FOUND);
    bool has_node = nst == EG_OK;
    json_t *found = NULL;
    eg_status ast = eg_retrieve_archived(db, id, &found, &err);
    if (ast != EG_OK && ast != EG_NOT_FOUND) fprintf(stderr, "  retrieve_archived(%d): %s\n", n, err.message);

    char where = 'x';
    json_t *payload = stored_payload(n), *properties = stored_properties(n);
    if (ast != EG_OK && ast != EG_NOT_FOUND) {
        where = 'c';
    } else if (has_point != has_node) {
        where = has_point ? 'p' : 'g';
    } else if (has_point && ast == EG_OK) {
        where = '2';
    } else if (!has_point && ast != EG_OK) {
        where = '0';
    } else if (has_point) {
        eg_relationship_list rels;
        bool whole = vector_is(points.items[0].vector, points.items[0].dim, n) &&
                     json_equal(points.items[0].payload, payload) && node.label == EG_LABEL_EPISODE &&
                     json_equal(node.properties, properties);
        if (whole && eg_graph_get_relationships(eg_db_graph(db), id, EG_REL_ANY, EG_DIR_BOTH, &rels, &err) == EG_OK) {
            json_t *shown = json_array();
            for (size_t i = 0; i < rels.count; i++)
                json_array_append_new(shown, json_pack("{s:s, s:s, s:s, s:O}", "source_id", rels.items[i].source_id,
                                                       "target_id", rels.items[i].target_id, "type",
                                                       eg_rel_type_name(rels.items[i].type), "properties",
                                                       rels.items[i].properties));
            if (relationships_are(shown, n)) where = 'h';
            json_decref(shown);
            eg_relationship_list_free(&rels);
        }
    } else {
        json_t *record = json_object_get(found, "record"), *node_json = json_object_get(record, "node");
        if (json_vector_is(json_object_get(record, "vector"), n) &&
            json_equal(json_object_get(record, "payload"), payload) &&
            strcmp(json_string_value(json_object_get(node_json, "label")), "Episode") == 0 &&
            json_equal(json_object_get(node_json, "properties"), properties) &&
            relationships_are(json_object_get(record, "relationships"), n))
            where = 'a';
    }
    if (where != 'h' && where != 'a') {
        char *shown = found ? json_dumps(found, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "  episode %d: %s; point %d, node %d, archive %s%s%s\n", n,
                where == '2'   ? "hot AND archived"
                : where == '0' ? "neither hot nor archived"
                : where == 'p' ? "a point without its node"
                : where == 'g' ? "a node without its point"
                : where == 'c' ? "its archive entry is unreadable"
                               : "its content is not the original",
                has_point, has_node, eg_status_name(ast), shown ? ": " : "", shown ? shown : "");
        free(shown);
    }
    json_decref(payload);
    json_decref(properties);
    json_decref(found);
    if (has_node) eg_node_clear(&node);
    if (pst == EG_OK) eg_point_list_free(&points);
    return where;
}

static void check_stores(eg_db *db, int hot_count) {
    json_t *report = NULL;
    eg_status st = eg_memory_check(db, false, &report, &err);
    CHECK_OK(st, &err);
    if (st != EG_OK) return;
    bool fine = json_is_true(json_object_get(report, "consistent")) &&
                json_array_size(json_object_get(report, "orphans")) == 0 &&
                json_array_size(json_object_get(report, "dead_letters")) == 0 &&
                json_integer_value(json_object_get(report, "memories")) == hot_count + ENTITIES;
    CHECK(fine);
    if (!fine) {
        char *text = json_dumps(report, JSON_COMPACT);
        fprintf(stderr, "  check (expecting %d memories): %s\n", hot_count + ENTITIES, text);
        free(text);
    }
    json_decref(report);
}

static void check_archive(eg_db *db, int archived_count, totals *sum) {
    json_t *report = NULL;
    eg_status st = eg_verify_archive(db, &report, &err);
    CHECK_OK(st, &err);
    if (st != EG_OK) return;
    json_t *orphans = json_object_get(report, "orphans");
    size_t other_orphans = 0;
    for (size_t i = 0; i < json_array_size(orphans); i++) {
        const char *reason = json_string_value(json_object_get(json_array_get(orphans, i), "reason"));
        if (reason && strstr(reason, "temporary file")) sum->temporaries++;
        else other_orphans++;
    }
    bool fine = json_array_size(json_object_get(report, "corrupt")) == 0 &&
                json_array_size(json_object_get(report, "unverifiable")) == 0 && other_orphans == 0 &&
                json_integer_value(json_object_get(report, "entries")) == archived_count &&
                json_integer_value(json_object_get(report, "ok")) == archived_count;
    CHECK(fine);
    if (!fine) {
        char *text = json_dumps(report, JSON_COMPACT);
        fprintf(stderr, "  verify (expecting %d entries): %s\n", archived_count, text);
        free(text);
    }
    json_decref(report);
}

/* ---- Rounds ------------------------------------------------------------------------------------------------- */

/* Takes the child's reports, read from the pipe once the child is dead, into state: acknowledged moves are
 * settled, announced ones without their acknowledgement are in flight: *restoring (0: none) the restore,
 * batch/batch_count the ids of the archive run, oldest first. */
static bool take_reports(FILE *in, unsigned char *state, int *restoring, int batch[8], int *batch_count,
                         totals *sum) {
    bool fine = true, opened = false;
    char *s = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&s, &cap, in)) > 0) {
        if (s[len - 1] != '\n') break; /* cannot happen: each line is one atomic write */
        s[len - 1] = '\0';
        sum->lines++;
        int n = 0;
        if (s[0] == 'o') {
            opened = true;
        } else if (s[0] == 'b') {
            *batch_count = 0;
            int id;
            for (char *p = s + 1; *batch_count < 8 && sscanf(p, " %d%n", &id, &n) == 1 && id >= 1 && id <= N; p += n)
                state[batch[(*batch_count)++] = id] = IN_FLIGHT;
        } else if (s[0] == 'a') {
            for (int i = 0; i < *batch_count; i++) state[batch[i]] = ARCHIVED;
            sum->archives_acknowledged += (uint64_t)*batch_count;
            *batch_count = 0;
        } else if (s[0] == 's' && sscanf(s + 1, "%d", &n) == 1 && n >= 1 && n <= N) {
            state[n] = IN_FLIGHT;
            *restoring = n;
        } else if (s[0] == 'r' && sscanf(s + 1, "%d", &n) == 1 && n >= 1 && n <= N) {
            state[n] = HOT;
            *restoring = 0;
            sum->restores_acknowledged++;
        } else {
            fprintf(stderr, "  child: %s\n", s);
            fine = false;
        }
    }
    free(s);
    if (!opened) {
        fprintf(stderr, "  the child never reported its open\n");
        fine = false;
    }
    return fine;
}

/* One child's life and death, then the checks; state is exact again afterwards. Returns false to stop. */
static bool one_round(const char *dir, unsigned char *state, uint64_t *rng, totals *sum) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    uint64_t child_seed = next_random(rng);
    int delay_ms = (int)(next_random(rng) % (MAX_DELAY_MS + 1));
    fflush(NULL); /* the child must not write the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        close(fds[0]);
        child(dir, state, child_seed, fds[1]);
    }
    close(fds[1]);
    struct pollfd p = {fds[0], POLLIN, 0};
    poll(&p, 1, 60000); /* the first report: the open is done and the work begins */
    struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    FILE *reports = fdopen(fds[0], "r");
    if (!reports) return false;
    sum->rounds++;
    bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!killed) fprintf(stderr, "  the child ended by itself (status %d)\n", WEXITSTATUS(status));
    int batch[8], batch_count = 0, restoring = 0;
    bool fine = take_reports(reports, state, &restoring, batch, &batch_count, sum);
    fclose(reports);
    CHECK(killed && fine);

    eg_db *db = open_folder(dir);
    CHECK(db);
    if (!db) return false;
    int failures = test_failures_in_current;
    eg_recovery_report r;
    eg_db_recovery(db, &r);
    CHECK(r.sagas_failed == 0);
    sum->unfinished += r.sagas_unfinished, sum->compensated += r.sagas_compensated;
    sum->rolled_forward += r.sagas_rolled_forward;
    int hot_count = 0, archived_count = 0;
    char where[N + 1];
    for (int n = 1; n <= N; n++) {
        where[n] = locate(db, n);
        CHECK(where[n] == 'h' || where[n] == 'a'); /* locate has said what is wrong */
        bool expected = state[n] == IN_FLIGHT || (state[n] == HOT && where[n] == 'h') ||
                        (state[n] == ARCHIVED && where[n] == 'a');
        if (!expected && (where[n] == 'h' || where[n] == 'a'))
            fprintf(stderr, "  episode %d: acknowledged %s, found %s\n", n, state[n] == HOT ? "hot" : "archived",
                    where[n] == 'h' ? "hot" : "archived");
        CHECK(expected);
        hot_count += where[n] == 'h';
        archived_count += where[n] == 'a';
        state[n] = where[n] == 'a' ? ARCHIVED : HOT;
    }
    if (restoring) sum->restores_cut++, sum->restores_cut_done += where[restoring] == 'h';
    if (batch_count) sum->runs_cut++, sum->runs_cut_announced += (uint64_t)batch_count;
    for (int i = 0; i < batch_count; i++) sum->runs_cut_archived += where[batch[i]] == 'a';
    /* The cut-short archive run took its memories one at a time, oldest first: what it archived is a prefix. */
    for (int i = 1; i < batch_count; i++)
        if (where[batch[i]] == 'a' && where[batch[i - 1]] != 'a') {
            fprintf(stderr, "  the interrupted archive run took %d but not %d, which is older\n", batch[i],
                    batch[i - 1]);
            CHECK(false);
        }
    for (int e = 0; e < ENTITIES; e++) {
        char id[16];
        eg_node node;
        snprintf(id, sizeof id, "%d", ENTITY_BASE + e);
        eg_status st = eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ENTITY, &node, &err);
        CHECK_OK(st, &err);
        if (st == EG_OK) eg_node_clear(&node);
    }
    check_stores(db, hot_count);
    check_archive(db, archived_count, sum);
    eg_close(db);
    return test_failures_in_current == failures;
}

/* ENGRAM_ARCHIVE_CRASH_KILLS, when set, must be a whole number of rounds from 1 to a million. */
static int round_count(void) {
    const char *text = getenv("ENGRAM_ARCHIVE_CRASH_KILLS");
    if (!text) return DEFAULT_ROUNDS;
    int rounds = 0, used = 0;
    if (sscanf(text, "%d%n", &rounds, &used) != 1 || text[used] || rounds < 1 || rounds > 1000000) {
        fprintf(stderr, "ENGRAM_ARCHIVE_CRASH_KILLS='%s': expected a number of rounds from 1 to 1000000\n", text);
        exit(2);
    }
    return rounds;
}

static uint64_t seed_of_run(void) {
    const char *s = getenv("ENGRAM_ARCHIVE_CRASH_SEED");
    return s ? strtoull(s, NULL, 10) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
}

TEST(every_memory_is_hot_or_archived_once_and_whole_after_random_kills) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    REQUIRE(make_episodes(dir));
    uint64_t seed = seed_of_run(), rng = seed;
    int rounds = round_count();
    printf("  seed %" PRIu64 " (ENGRAM_ARCHIVE_CRASH_SEED replays the choices), %d rounds\n", seed, rounds);
    unsigned char state[N + 1];
    memset(state, HOT, sizeof state);
    totals sum = {0};
    uint64_t start = mono_ms();
    for (int k = 0; k < rounds; k++)
        if (!one_round(dir, state, &rng, &sum)) {
            fprintf(stderr, "  stopped at round %d of %d (seed %" PRIu64 ")\n", k + 1, rounds, seed);
            break;
        }
    int archived = 0;
    for (int n = 1; n <= N; n++) archived += state[n] == ARCHIVED;
    printf("  %d rounds in %.1f s: %" PRIu64 " archives and %" PRIu64 " restores acknowledged (%" PRIu64
           " report lines); cut by the kill: %" PRIu64 " restores (%" PRIu64 " done), %" PRIu64
           " archive runs (%" PRIu64 " of their %" PRIu64 " memories archived); recovery: %" PRIu64
           " unfinished sagas, %" PRIu64 " compensated, %" PRIu64 " rolled forward; %" PRIu64
           " leftover temporary files; now %d hot, %d archived\n",
           sum.rounds, (double)(mono_ms() - start) / 1000.0, sum.archives_acknowledged, sum.restores_acknowledged,
           sum.lines, sum.restores_cut, sum.restores_cut_done, sum.runs_cut,
           sum.runs_cut_archived, sum.runs_cut_announced, sum.unfinished, sum.compensated, sum.rolled_forward,
           sum.temporaries, N - archived, archived);
    CHECK(sum.archives_acknowledged > 0 && sum.restores_acknowledged > 0);
}

int main(void) {
    /* Lines out as they are printed: a sanitizer abort must not swallow what was reported before. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    RUN(every_memory_is_hot_or_archived_once_and_whole_after_random_kills);
    return test_summary();
}
