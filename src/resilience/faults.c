/* faults.c — fault rules (see faults.h): their parser, and the guard that applies them to each call.
 *
 * The rules in force are an immutable, reference-counted rule_set (only its counters change). A call takes a
 * reference under a short mutex and applies the rules without holding any lock, so a rule that sleeps never holds
 * up eg_faults_set, and a set being replaced is freed by whichever of the replacer and the last call still using
 * it lets go last. With no rules, `current` is NULL and a call looks no further than that one atomic load. */
#include "resilience/faults.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RULE_TEXT_MAX 192  /* a rule's text as quoted in messages (longer ones are cut) */
#define DELAY_MS_MAX 3600000
#define EFFECT_PARTS_MAX 4 /* name and up to two arguments, plus one to notice a surplus */

typedef enum fault_effect {
    EFFECT_FAIL,
    EFFECT_FAIL_RATE,
    EFFECT_FAIL_AFTER,
    EFFECT_FAIL_TIMES,
    EFFECT_DELAY,
    EFFECT_KILL_AT
} fault_effect;

typedef struct fault_rule {
    char text[RULE_TEXT_MAX]; /* "store.op=effect", whitespace removed, for messages */
    const char *store;        /* "graph" or "vectors" */
    const char *op;           /* one of the store's operation names, or NULL for every operation */
    fault_effect effect;
    double rate;              /* fail_rate: P */
    uint64_t n;               /* fail_after, fail_times, delay_ms, kill_at: N */
    _Atomic uint64_t calls;   /* matching calls seen so far */
    _Atomic uint64_t random;  /* fail_rate: the position in the rule's sequence (starts at the seed) */
} fault_rule;

typedef struct rule_set {
    _Atomic size_t refs; /* one for being current, one per call applying it */
    size_t count;
    fault_rule rules[];
} rule_set;

struct eg_faults {
    _Atomic(rule_set *) current; /* NULL: no rules */
    pthread_mutex_t mutex;       /* held to replace current, or to take a reference to it */
};

/* ---- Parsing -------------------------------------------------------------------------------------------- */

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
    return s;
}

/* A plain decimal integer: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out) {
    if (!*s || strspn(s, "0123456789") != strlen(s)) return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE) return false;
    *out = v;
    return true;
}

/* A plain decimal fraction from 0 to 1 ("0.25", "1", ".5"). */
static bool parse_probability(const char *s, double *out) {
    if (!*s || strspn(s, "0123456789.") != strlen(s)) return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= 0.0 && v <= 1.0)) return false;
    *out = v;
    return true;
}

/* Splits s at each ':' into at most max trimmed parts; returns how many there were (max + 1 means too many). */
static size_t split_effect(char *s, char *parts[], size_t max) {
    size_t n = 0;
    for (char *next = s; next && n <= max; n++) {
        char *colon = strchr(next, ':');
        if (colon) *colon = '\0';
        if (n < max) parts[n] = trim(next);
        next = colon ? colon + 1 : NULL;
    }
    return n;
}

static const char *find_op(const char *const *names, const char *op) {
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], op) == 0) return names[i];
    return NULL;
}

/* Reads the effect parts into rule. On a problem, returns false with `why` filled. */
static bool parse_effect(char *parts[], size_t n, fault_rule *rule, char *why, size_t why_size) {
    const char *name = parts[0];
    uint64_t seed = 1;
    bool ok;
    if (strcmp(name, "fail") == 0) {
        rule->effect = EFFECT_FAIL;
        ok = n == 1;
        if (!ok) snprintf(why, why_size, "effect 'fail' takes no argument");
        return ok;
    }
    if (strcmp(name, "fail_rate") == 0) {
        rule->effect = EFFECT_FAIL_RATE;
        if (n < 2 || n > 3) {
            snprintf(why, why_size, "effect 'fail_rate' takes P[:SEED]");
            return false;
        }
        if (!parse_probability(parts[1], &rule->rate)) {
            snprintf(why, why_size, "bad number '%.40s' for P: expected a decimal from 0 to 1", parts[1]);
            return false;
        }
        if (n == 3 && !parse_u64(parts[2], &seed)) {
            snprintf(why, why_size, "bad number '%.40s' for SEED: expected an unsigned 64-bit integer", parts[2]);
            return false;
        }
        atomic_init(&rule->random, seed);
        return true;
    }
    if (strcmp(name, "fail_after") == 0) rule->effect = EFFECT_FAIL_AFTER;
    else if (strcmp(name, "fail_times") == 0) rule->effect = EFFECT_FAIL_TIMES;
    else if (strcmp(name, "delay_ms") == 0) rule->effect = EFFECT_DELAY;
    else if (strcmp(name, "kill_at") == 0) rule->effect = EFFECT_KILL_AT;
    else {
        snprintf(why, why_size,
                 "unknown effect '%.40s' (expected fail, fail_rate:P[:SEED], fail_after:N, fail_times:N, delay_ms:N "
                 "or kill_at:N)",
                 name);
        return false;
    }
    if (n != 2) {
        snprintf(why, why_size, "effect '%s' takes one argument N", name);
        return false;
    }
    ok = parse_u64(parts[1], &rule->n);
    if (ok && rule->effect == EFFECT_DELAY) ok = rule->n <= DELAY_MS_MAX;
    if (ok && rule->effect == EFFECT_KILL_AT) ok = rule->n >= 1;
    if (!ok)
        snprintf(why, why_size, "bad number '%.40s' for N of %s: expected an integer %s", parts[1], name,
                 rule->effect == EFFECT_DELAY     ? "from 0 to 3600000"
                 : rule->effect == EFFECT_KILL_AT ? ">= 1"
                                                  : ">= 0");
    return ok;
}

/* Parses one non-empty, trimmed rule (modifying text) into rule. On a problem, returns false with `why` filled. */
static bool parse_rule(char *text, fault_rule *rule, char *why, size_t why_size) {
    char *eq = strchr(text, '='), *dot = strchr(text, '.');
    if (!eq || !dot || dot > eq) {
        snprintf(why, why_size, "expected STORE.OP=EFFECT");
        return false;
    }
    *dot = *eq = '\0';
    atomic_init(&rule->calls, 0);
    const char *store = trim(text), *op = trim(dot + 1);
    const char *const *names;
    if (strcmp(store, "graph") == 0) rule->store = "graph", names = eg_graph_op_names;
    else if (strcmp(store, "vectors") == 0) rule->store = "vectors", names = eg_vectors_op_names;
    else {
        snprintf(why, why_size, "unknown store '%.40s' (expected graph or vectors)", store);
        return false;
    }
    if (strcmp(op, "*") == 0) rule->op = NULL;
    else if (!(rule->op = find_op(names, op))) {
        snprintf(why, why_size, "unknown operation '%.40s' of the %s store", op, rule->store);
        return false;
    }
    char *parts[EFFECT_PARTS_MAX];
    size_t n = split_effect(eq + 1, parts, EFFECT_PARTS_MAX); /* beyond 3, parse_effect refuses before reading */
    if (!parse_effect(parts, n, rule, why, why_size)) return false;
    int len = snprintf(rule->text, sizeof rule->text, "%s.%s=%s", rule->store, rule->op ? rule->op : "*", parts[0]);
    for (size_t i = 1; i < n && len >= 0 && (size_t)len < sizeof rule->text; i++)
        len += snprintf(rule->text + len, sizeof rule->text - (size_t)len, ":%s", parts[i]);
    return true;
}

/* Parses rules text into a new set with one reference, or *out = NULL when it holds no rules. */
static eg_status parse_rules(const char *text, rule_set **out, eg_error *err) {
    *out = NULL;
    if (!text) return EG_OK;
    size_t max = 1;
    for (const char *p = text; *p; p++) max += *p == ';';
    char *copy = strdup(text);
    rule_set *set = calloc(1, sizeof *set + max * sizeof set->rules[0]);
    if (!copy || !set) {
        free(copy);
        free(set);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    eg_status st = EG_OK;
    char *next = copy;
    while (next && st == EG_OK) {
        char *semicolon = strchr(next, ';');
        if (semicolon) *semicolon = '\0';
        char *rule = trim(next);
        next = semicolon ? semicolon + 1 : NULL;
        if (!*rule) continue;
        char shown[RULE_TEXT_MAX], why[256];
        snprintf(shown, sizeof shown, "%s", rule);
        if (parse_rule(rule, &set->rules[set->count], why, sizeof why)) set->count++;
        else st = eg_error_set(err, EG_INVALID_ARGUMENT, "invalid fault rule '%s': %s", shown, why);
    }
    free(copy);
    if (st != EG_OK || set->count == 0) {
        free(set);
        return st;
    }
    atomic_init(&set->refs, 1);
    *out = set;
    return EG_OK;
}

/* ---- Applying ------------------------------------------------------------------------------------------- */

static rule_set *acquire(eg_faults *f) {
    pthread_mutex_lock(&f->mutex);
    rule_set *set = atomic_load(&f->current);
    if (set) atomic_fetch_add(&set->refs, 1);
    pthread_mutex_unlock(&f->mutex);
    return set;
}

static void release(rule_set *set) {
    if (set && atomic_fetch_sub(&set->refs, 1) == 1) free(set);
}

/* The rule's next number in [0, 1): splitmix64 stepped atomically, so threads share one sequence and a single
 * thread's calls always draw the same values for the same seed. */
static double next_random(fault_rule *rule) {
    uint64_t z = atomic_fetch_add(&rule->random, 0x9e3779b97f4a7c15u) + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static void sleep_ms(uint64_t ms) {
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) continue;
}

/* Applies one matching rule to a call; true when the rule fails it. */
static bool apply(fault_rule *rule) {
    uint64_t nth = atomic_fetch_add(&rule->calls, 1) + 1;
    switch (rule->effect) {
    case EFFECT_FAIL: return true;
    case EFFECT_FAIL_RATE: return next_random(rule) < rule->rate;
    case EFFECT_FAIL_AFTER: return nth > rule->n;
    case EFFECT_FAIL_TIMES: return nth <= rule->n;
    case EFFECT_DELAY: sleep_ms(rule->n); return false;
    case EFFECT_KILL_AT:
        if (nth == rule->n) raise(SIGKILL);
        return false;
    }
    return false;
}

static eg_status faults_before(void *self, const char *store, const char *op, eg_error *err) {
    eg_faults *f = self;
    if (!atomic_load_explicit(&f->current, memory_order_acquire)) return EG_OK;
    rule_set *set = acquire(f);
    eg_status st = EG_OK;
    for (size_t i = 0; set && i < set->count; i++) {
        fault_rule *rule = &set->rules[i];
        if (strcmp(rule->store, store) != 0 || (rule->op && strcmp(rule->op, op) != 0)) continue;
        if (apply(rule) && st == EG_OK) {
            if (rule->op) st = eg_error_set(err, EG_UNAVAILABLE, "injected fault: %s", rule->text);
            else st = eg_error_set(err, EG_UNAVAILABLE, "injected fault: %s (%s.%s)", rule->text, store, op);
        }
    }
    release(set);
    return st;
}

/* ---- The API -------------------------------------------------------------------------------------------- */

eg_status eg_faults_new(const char *rules, eg_faults **out, eg_error *err) {
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_faults_new: out is NULL");
    rule_set *set;
    eg_status st = parse_rules(rules, &set, err);
    if (st != EG_OK) return st;
    eg_faults *f = calloc(1, sizeof *f);
    if (!f) {
        release(set);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    pthread_mutex_init(&f->mutex, NULL);
    atomic_init(&f->current, set);
    *out = f;
    return EG_OK;
}

eg_status eg_faults_set(eg_faults *f, const char *rules, eg_error *err) {
    if (!f) return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_faults_set: faults handle is NULL");
    rule_set *set;
    eg_status st = parse_rules(rules, &set, err);
    if (st != EG_OK) return st;
    pthread_mutex_lock(&f->mutex);
    rule_set *old = atomic_exchange(&f->current, set);
    pthread_mutex_unlock(&f->mutex);
    release(old);
    return EG_OK;
}

eg_guard eg_faults_guard(eg_faults *f) {
    eg_guard guard = {.before = faults_before, .after = NULL, .self = f};
    return guard;
}

void eg_faults_free(eg_faults *f) {
    if (!f) return;
    release(atomic_load(&f->current));
    pthread_mutex_destroy(&f->mutex);
    free(f);
}

bool eg_faults_allowed(void) {
    const char *value = getenv("ENGRAM_ALLOW_FAULTS");
    return value && strcmp(value, "1") == 0;
}
