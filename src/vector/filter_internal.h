/* filter_internal.h — the compiled form of a Qdrant filter (see eg_filter in engram/vectors.h), for backends
 * that read it: the local backend picks candidates from payload indexes using the top-level `must` match and
 * range conditions, then confirms each candidate with eg_filter_matches.
 *
 * The tree is immutable after eg_filter_parse and owned by the eg_filter (it copies what it keeps, so it does not
 * depend on the JSON staying unchanged): readers never modify or free any part of it, and may share one eg_filter
 * between threads. Everything evaluation needs is decoded at parse time (key paths split into steps, match values
 * typed, id and value lists sorted and deduplicated), so evaluation does no parsing and no allocation. */
#ifndef ENGRAM_VECTOR_FILTER_INTERNAL_H
#define ENGRAM_VECTOR_FILTER_INTERNAL_H

#include <engram/vectors.h>

/* ---- Key paths ----------------------------------------------------------------------------------------------
 * Qdrant's JSON path syntax: a first key, then any of `.key`, `."quoted key"`, `[n]` (one array element) and `[]`
 * (every array element). A bare key is letters, digits, '_' and '-' (bytes >= 0x80 count as letters, which
 * accepts every UTF-8 letter); a quoted key is any text without '"' or '\'. "a.b" walks objects only (an array in
 * the middle ends the walk, as in Qdrant); "a[].b" walks every element of array a. A path has at most
 * EG_KEY_PATH_STEPS_MAX steps, which bounds the recursion of the walk. */

#define EG_KEY_PATH_STEPS_MAX 128

typedef enum eg_path_step_kind {
    EG_PATH_KEY = 0, /* the member `key` of an object */
    EG_PATH_INDEX,   /* the element `index` of an array */
    EG_PATH_EVERY    /* each element of an array */
} eg_path_step_kind;

typedef struct eg_path_step {
    eg_path_step_kind kind;
    char *key; /* EG_PATH_KEY: the member name (NUL-terminated, key_len bytes, may hold NUL from a quoted key) */
    size_t key_len;
    size_t index; /* EG_PATH_INDEX */
} eg_path_step;

typedef struct eg_key_path {
    char *text;          /* the path as written, for messages and index lookups */
    eg_path_step *steps; /* steps[0] is always an EG_PATH_KEY */
    size_t count;
} eg_key_path;

/* Parses a key path of len bytes; `what` names it in messages ("filter.must[0].key"). */
eg_status eg_key_path_parse(const char *text, size_t len, const char *what, eg_key_path *out, eg_error *err);
void eg_key_path_clear(eg_key_path *path);

/* Calls visit on each value the path reaches in payload (NULL or non-object: none), in document order. A value
 * that is an array is passed whole: conditions look inside it one level themselves. Stops at, and returns true
 * for, the first visit that returns true. */
typedef bool (*eg_key_path_visit)(json_t *value, void *ctx);
bool eg_key_path_each(const eg_key_path *path, json_t *payload, eg_key_path_visit visit, void *ctx);

/* ---- Conditions --------------------------------------------------------------------------------------------- */

typedef enum eg_condition_kind {
    EG_COND_MATCH_VALUE = 0, /* {"key":K,"match":{"value":v}} */
    EG_COND_MATCH_ANY,       /* {"key":K,"match":{"any":[...]}} */
    EG_COND_MATCH_EXCEPT,    /* {"key":K,"match":{"except":[...]}} */
    EG_COND_RANGE,           /* {"key":K,"range":{...}} */
    EG_COND_IS_EMPTY,        /* {"is_empty":{"key":K}} */
    EG_COND_IS_NULL,         /* {"is_null":{"key":K}} */
    EG_COND_HAS_ID,          /* {"has_id":[...]} */
    EG_COND_FILTER           /* a nested filter object */
} eg_condition_kind;

typedef enum eg_match_type { EG_MATCH_KEYWORD = 0, EG_MATCH_INTEGER, EG_MATCH_BOOL } eg_match_type;

/* A JSON string's bytes (it may hold NUL), NUL-terminated. */
typedef struct eg_keyword {
    char *text;
    size_t len;
} eg_keyword;

/* One typed match value. A keyword matches only JSON strings, an integer only JSON integers (never reals: 5 does
 * not match 5.0), a bool only JSON booleans. */
typedef struct eg_match_value {
    eg_match_type type;
    eg_keyword keyword; /* EG_MATCH_KEYWORD */
    int64_t integer;    /* EG_MATCH_INTEGER */
    bool boolean;       /* EG_MATCH_BOOL */
} eg_match_value;

/* The list of `any` / `except`: all keywords or all integers (Qdrant allows no booleans and no mixing), sorted
 * and without duplicates. An empty list has type EG_MATCH_KEYWORD, as in Qdrant. */
typedef struct eg_match_set {
    eg_match_type type;   /* EG_MATCH_KEYWORD or EG_MATCH_INTEGER */
    eg_keyword *keywords; /* EG_MATCH_KEYWORD: sorted bytewise, a prefix before its extensions */
    int64_t *integers;    /* EG_MATCH_INTEGER: sorted ascending */
    size_t count;
} eg_match_set;

/* One bound of a range: a JSON integer is kept exact, so integers beyond 2^53 compare correctly. */
typedef struct eg_range_bound {
    bool set;
    bool is_integer;
    int64_t integer; /* when is_integer */
    double real;     /* always: the bound as a double */
} eg_range_bound;

/* At least one bound is set. */
typedef struct eg_range {
    eg_range_bound gt, gte, lt, lte;
} eg_range;

typedef struct eg_id_set {
    eg_point_id *ids; /* sorted by eg_point_id_compare, without duplicates */
    size_t count;
} eg_id_set;

typedef struct eg_filter_node eg_filter_node;

typedef struct eg_condition {
    eg_condition_kind kind;
    eg_key_path key; /* all kinds but EG_COND_HAS_ID and EG_COND_FILTER (count 0 there) */
    union {
        eg_match_value value;   /* EG_COND_MATCH_VALUE */
        eg_match_set set;       /* EG_COND_MATCH_ANY, EG_COND_MATCH_EXCEPT */
        eg_range range;         /* EG_COND_RANGE */
        eg_id_set has_id;       /* EG_COND_HAS_ID */
        eg_filter_node *filter; /* EG_COND_FILTER */
    };
} eg_condition;

typedef struct eg_condition_list {
    eg_condition *items;
    size_t count;
} eg_condition_list;

/* One filter: must (all), should (at least one, when not empty), must_not (none), min_should (at least min_count
 * of its conditions). An absent clause is an empty list. */
struct eg_filter_node {
    eg_condition_list must, should, must_not;
    bool has_min_should;
    eg_condition_list min_should;
    size_t min_count; /* >= 1 when has_min_should */
};

/* The tree's root; eg_filter is the public handle of it. */
struct eg_filter {
    json_t *json; /* the filter as given (a reference held) */
    eg_filter_node root;
};

/* Does one payload value satisfy a match or range condition's test? value is a single element, never looked
 * into: the caller walks arrays. False for every other kind. */
bool eg_condition_accepts(const eg_condition *c, json_t *value);

#endif
