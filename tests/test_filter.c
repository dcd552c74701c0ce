/* test_filter.c — Qdrant filters: every clause and condition kind against hand-made payloads (arrays, nested
 * keys, mixed integers and reals, ids of both kinds), every malformed shape with its message, and a randomized
 * comparison of eg_filter_matches against a small reference evaluator that interprets the filter JSON directly.
 *
 * Filters and payloads are written with ' for " so that they read like requests; a literal " is written \\'. */
#include "test.h"

#include "vector/filter_internal.h"

#include <engram/vectors.h>

static eg_error err;

/* Parses JSON text written with ' for ". Returns NULL (after saying why) on a bad test string. */
static json_t *load(const char *text) {
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t jerr;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) fprintf(stderr, "  bad test JSON %s: %s\n", s, jerr.text);
    free(s);
    return v;
}

static eg_filter *compile(const char *filter_text) {
    json_t *json = load(filter_text);
    eg_filter *f = NULL;
    if (json && eg_filter_parse(json, &f, &err) != EG_OK)
        fprintf(stderr, "  %s refused: %s\n", filter_text, err.message);
    json_decref(json);
    return f;
}

/* Does the filter hold for the point with this id and payload (payload text NULL: no payload)? A filter that
 * does not compile is a failure of its own and answers false. */
static bool holds_for(const char *filter_text, const eg_point_id *id, const char *payload_text) {
    eg_filter *f = compile(filter_text);
    if (!f) {
        test_failures_in_current++;
        return false;
    }
    json_t *payload = payload_text ? load(payload_text) : NULL;
    if (payload_text && !payload) test_failures_in_current++;
    bool result = eg_filter_matches(f, id, payload);
    json_decref(payload);
    eg_filter_free(f);
    return result;
}

static bool holds(const char *filter_text, const char *payload_text) {
    eg_point_id id = eg_point_id_num(7);
    return holds_for(filter_text, &id, payload_text);
}

/* One condition (JSON text) as a whole filter's only must condition. */
static bool cond(const char *condition_text, const char *payload_text) {
    char filter_text[2048];
    snprintf(filter_text, sizeof filter_text, "{'must':[%s]}", condition_text);
    return holds(filter_text, payload_text);
}

/* True when the filter is refused as invalid with exactly this message (and *out is set to NULL). */
static bool refused(const char *filter_text, const char *message) {
    json_t *json = load(filter_text);
    if (!json) return false;
    eg_filter *f = (eg_filter *)&err; /* any non-NULL value: parse must reset it */
    eg_status st = eg_filter_parse(json, &f, &err);
    json_decref(json);
    if (st == EG_INVALID_ARGUMENT && f == NULL && strcmp(err.message, message) == 0) return true;
    fprintf(stderr, "  %s -> %s '%s', expected invalid_argument '%s'\n", filter_text, eg_status_name(st),
            st == EG_OK ? "" : err.message, message);
    if (st == EG_OK) eg_filter_free(f);
    return false;
}

/* ---- Clauses -------------------------------------------------------------------------------------------- */

TEST(empty_filter_matches_everything_and_keeps_its_json) {
    json_t *json = load("{}");
    eg_filter *f;
    CHECK_OK(eg_filter_parse(json, &f, &err), &err);
    REQUIRE(f != NULL);
    CHECK(eg_filter_json(f) == json);
    json_decref(json); /* the filter holds its own reference */
    CHECK(json_is_object(eg_filter_json(f)) && json_object_size(eg_filter_json(f)) == 0);
    eg_point_id id = eg_point_id_num(1);
    CHECK(eg_filter_matches(f, &id, NULL));
    json_t *payload = load("{'a':1}");
    CHECK(eg_filter_matches(f, &id, payload));
    CHECK(eg_filter_matches(f, NULL, payload));
    json_decref(payload);
    eg_filter_free(f);
    eg_filter_free(NULL);
    CHECK(holds("{'must':[],'should':[],'must_not':[]}", "{}"));
    CHECK(holds("{'must':null,'should':null,'must_not':null,'min_should':null}", "{}"));
}

/* The six points of Qdrant's filtering documentation; returns which of them (bit i for id i) a filter keeps. */
static unsigned documented_points(const char *filter_text) {
    static const char *const payloads[] = {
        NULL,
        "{'city':'London','color':'green'}",
        "{'city':'London','color':'red'}",
        "{'city':'London','color':'blue'}",
        "{'city':'Berlin','color':'red'}",
        "{'city':'Moscow','color':'green'}",
        "{'city':'Moscow','color':'blue'}",
    };
    unsigned kept = 0;
    for (unsigned i = 1; i <= 6; i++) {
        eg_point_id id = eg_point_id_num(i);
        if (holds_for(filter_text, &id, payloads[i])) kept |= 1u << i;
    }
    return kept;
}

#define IDS(...) ids_mask((unsigned[]){__VA_ARGS__}, sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned))

static unsigned ids_mask(const unsigned *ids, size_t n) {
    unsigned m = 0;
    for (size_t i = 0; i < n; i++) m |= 1u << ids[i];
    return m;
}

TEST(clauses_behave_as_in_qdrants_documentation) {
    const char *london = "{'key':'city','match':{'value':'London'}}", *red = "{'key':'color','match':{'value':'red'}}";
    char f[1024];
    snprintf(f, sizeof f, "{'must':[%s,%s]}", london, red);
    CHECK(documented_points(f) == IDS(2));
    snprintf(f, sizeof f, "{'should':[%s,%s]}", london, red);
    CHECK(documented_points(f) == IDS(1, 2, 3, 4));
    snprintf(f, sizeof f, "{'must_not':[%s,%s]}", london, red);
    CHECK(documented_points(f) == IDS(5, 6));
    snprintf(f, sizeof f, "{'must':[%s],'must_not':[%s]}", london, red);
    CHECK(documented_points(f) == IDS(1, 3));
    snprintf(f, sizeof f, "{'must_not':[{'must':[%s,%s]}]}", london, red);
    CHECK(documented_points(f) == IDS(1, 3, 4, 5, 6));
    /* A clause may be one condition object instead of an array, as Qdrant accepts. */
    snprintf(f, sizeof f, "{'must':%s,'must_not':%s}", london, red);
    CHECK(documented_points(f) == IDS(1, 3));
    /* should together with must: both must hold. */
    snprintf(f, sizeof f, "{'must':[%s],'should':[%s,{'key':'color','match':{'value':'blue'}}]}", london, red);
    CHECK(documented_points(f) == IDS(2, 3));
}

TEST(min_should_needs_min_count_of_its_conditions) {
    const char *three =
        "{'key':'a','match':{'value':1}},{'key':'b','match':{'value':1}},{'key':'c','match':{'value':1}}";
    char f[1024];
    snprintf(f, sizeof f, "{'min_should':{'conditions':[%s],'min_count':2}}", three);
    CHECK(!holds(f, "{}"));
    CHECK(!holds(f, "{'a':1}"));
    CHECK(holds(f, "{'a':1,'c':1}"));
    CHECK(holds(f, "{'a':1,'b':1,'c':1}"));
    snprintf(f, sizeof f, "{'min_should':{'conditions':[%s],'min_count':3}}", three);
    CHECK(!holds(f, "{'a':1,'b':1}"));
    CHECK(holds(f, "{'a':1,'b':1,'c':1}"));
    /* More than there are conditions: nothing can hold. */
    snprintf(f, sizeof f, "{'min_should':{'conditions':[%s],'min_count':4}}", three);
    CHECK(!holds(f, "{'a':1,'b':1,'c':1}"));
    CHECK(!holds("{'min_should':{'conditions':[],'min_count':1}}", "{}"));
    snprintf(f, sizeof f, "{'min_should':{'conditions':[%s],'min_count':1}}", three);
    CHECK(holds(f, "{'b':1}"));
    CHECK(!holds(f, "{'b':2}"));
    /* With the other clauses, all must hold. */
    snprintf(f, sizeof f, "{'must':[{'key':'d','match':{'value':1}}],'min_should':{'conditions':[%s],'min_count':1}}",
             three);
    CHECK(!holds(f, "{'a':1}"));
    CHECK(holds(f, "{'a':1,'d':1}"));
    CHECK(!holds(f, "{'d':1}"));
    /* Conditions that are filters themselves count once each. */
    CHECK(holds("{'min_should':{'conditions':[{},{'must_not':[{}]},{}],'min_count':2}}", "{}"));
    CHECK(!holds("{'min_should':{'conditions':[{},{'must_not':[{}]},{}],'min_count':3}}", "{}"));
}

TEST(nested_filters_combine) {
    const char *f = "{'should':[{'must':[{'key':'a','match':{'value':1}},{'key':'b','match':{'value':2}}]},"
                    "{'must_not':[{'key':'c','match':{'value':'x'}}],'must':[{'key':'c','match':{'any':['x','y']}}]}]}";
    CHECK(holds(f, "{'a':1,'b':2}"));
    CHECK(!holds(f, "{'a':1,'b':3}"));
    CHECK(holds(f, "{'c':'y'}"));
    CHECK(!holds(f, "{'c':'x'}"));
    CHECK(!holds(f, "{'c':'z'}"));
    /* {} as a condition is an empty filter: it holds, and must_not of it holds for nothing. */
    CHECK(holds("{'must':[{}]}", "{}"));
    CHECK(!holds("{'must_not':[{}]}", "{}"));
    CHECK(!holds("{'should':[{'must_not':[{}]}]}", "{}"));
}

/* A filter nested `depth` deep (the outermost counting as 1), holding for every point. */
static char *nested_filter(int depth) {
    size_t cap = (size_t)depth * 16 + 16;
    char *s = malloc(cap), *p = s;
    for (int i = 1; i < depth; i++) p += sprintf(p, "{'must':[");
    p += sprintf(p, "{}");
    for (int i = 1; i < depth; i++) p += sprintf(p, "]}");
    return s;
}

TEST(nesting_is_limited) {
    char *ok = nested_filter(EG_FILTER_DEPTH_MAX), *deep = nested_filter(EG_FILTER_DEPTH_MAX + 1);
    CHECK(holds(ok, "{}"));
    json_t *json = load(deep);
    eg_filter *f;
    CHECK_STATUS(eg_filter_parse(json, &f, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "filters are nested more than 32 deep") != NULL);
    CHECK(strncmp(err.message, "filter.must[0].must[0].must[0]", 30) == 0);
    json_decref(json);
    free(ok);
    free(deep);
    /* Nesting inside min_should counts too. */
    char *inner = nested_filter(EG_FILTER_DEPTH_MAX), wrapped[4096];
    snprintf(wrapped, sizeof wrapped, "{'min_should':{'conditions':[%s],'min_count':1}}", inner);
    json = load(wrapped);
    CHECK_STATUS(eg_filter_parse(json, &f, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "filter.min_should.conditions[0]") == err.message);
    json_decref(json);
    free(inner);
}

/* ---- Match ---------------------------------------------------------------------------------------------- */

TEST(match_value_compares_within_one_type) {
    CHECK(cond("{'key':'s','match':{'value':'red'}}", "{'s':'red'}"));
    CHECK(!cond("{'key':'s','match':{'value':'red'}}", "{'s':'Red'}"));
    CHECK(!cond("{'key':'s','match':{'value':'red'}}", "{'s':'red '}"));
    CHECK(!cond("{'key':'s','match':{'value':'red'}}", "{}"));
    CHECK(!cond("{'key':'s','match':{'value':'red'}}", NULL));
    CHECK(cond("{'key':'s','match':{'value':''}}", "{'s':''}"));
    CHECK(!cond("{'key':'s','match':{'value':''}}", "{'s':null}"));
    CHECK(cond("{'key':'s','match':{'value':'a\\u0000b'}}", "{'s':'a\\u0000b'}"));
    CHECK(!cond("{'key':'s','match':{'value':'a\\u0000b'}}", "{'s':'a'}"));
    CHECK(!cond("{'key':'s','match':{'value':'5'}}", "{'s':5}"));

    CHECK(cond("{'key':'n','match':{'value':5}}", "{'n':5}"));
    CHECK(!cond("{'key':'n','match':{'value':5}}", "{'n':5.5}"));
    CHECK(!cond("{'key':'n','match':{'value':5}}", "{'n':5.0}"));
    CHECK(!cond("{'key':'n','match':{'value':5}}", "{'n':'5'}"));
    CHECK(!cond("{'key':'n','match':{'value':1}}", "{'n':true}"));
    CHECK(!cond("{'key':'n','match':{'value':0}}", "{'n':false}"));
    CHECK(!cond("{'key':'n','match':{'value':0}}", "{'n':null}"));
    CHECK(cond("{'key':'n','match':{'value':-9223372036854775808}}", "{'n':-9223372036854775808}"));
    CHECK(cond("{'key':'n','match':{'value':9223372036854775807}}", "{'n':9223372036854775807}"));
    CHECK(!cond("{'key':'n','match':{'value':9223372036854775807}}", "{'n':9223372036854775806}"));

    CHECK(cond("{'key':'b','match':{'value':true}}", "{'b':true}"));
    CHECK(!cond("{'key':'b','match':{'value':true}}", "{'b':false}"));
    CHECK(cond("{'key':'b','match':{'value':false}}", "{'b':false}"));
    CHECK(!cond("{'key':'b','match':{'value':true}}", "{'b':1}"));
    CHECK(!cond("{'key':'b','match':{'value':true}}", "{'b':'true'}"));
    CHECK(!cond("{'key':'b','match':{'value':false}}", "{}"));
    /* Objects are never equal to a match value. */
    CHECK(!cond("{'key':'o','match':{'value':'x'}}", "{'o':{'x':'x'}}"));
}

TEST(match_on_an_array_field_matches_any_element) {
    CHECK(cond("{'key':'tags','match':{'value':'b'}}", "{'tags':['a','b']}"));
    CHECK(!cond("{'key':'tags','match':{'value':'c'}}", "{'tags':['a','b']}"));
    CHECK(!cond("{'key':'tags','match':{'value':'a'}}", "{'tags':[]}"));
    CHECK(cond("{'key':'n','match':{'value':3}}", "{'n':[1.5,3,'x',null]}"));
    CHECK(!cond("{'key':'n','match':{'value':3}}", "{'n':[3.0]}"));
    /* Only one level: an array inside the array is not looked into. */
    CHECK(!cond("{'key':'n','match':{'value':1}}", "{'n':[[1]]}"));
    CHECK(cond("{'key':'n','match':{'any':[1,2]}}", "{'n':[[1],2]}"));
}

TEST(match_any_is_membership_of_one_type) {
    CHECK(cond("{'key':'c','match':{'any':['black','yellow']}}", "{'c':'black'}"));
    CHECK(!cond("{'key':'c','match':{'any':['black','yellow']}}", "{'c':'green'}"));
    CHECK(cond("{'key':'c','match':{'any':['black','yellow']}}", "{'c':['black','green']}"));
    CHECK(!cond("{'key':'c','match':{'any':['black','yellow']}}", "{}"));
    CHECK(cond("{'key':'n','match':{'any':[3,1,2,3]}}", "{'n':3}"));
    CHECK(!cond("{'key':'n','match':{'any':[3,1,2]}}", "{'n':4}"));
    CHECK(!cond("{'key':'n','match':{'any':[1]}}", "{'n':1.0}"));
    CHECK(!cond("{'key':'n','match':{'any':[1]}}", "{'n':'1'}"));
    CHECK(!cond("{'key':'n','match':{'any':['1']}}", "{'n':1}"));
    CHECK(!cond("{'key':'n','match':{'any':[1]}}", "{'n':true}"));
    /* An empty list holds for nothing. */
    CHECK(!cond("{'key':'c','match':{'any':[]}}", "{'c':'x'}"));
    CHECK(!cond("{'key':'c','match':{'any':[]}}", "{'c':1}"));
    /* Sorting and deduplication keep every member findable, prefixes included. */
    const char *many = "{'key':'c','match':{'any':['b','ab','a','abc','b','','zz','a']}}";
    const char *members[] = {"{'c':'a'}", "{'c':'ab'}", "{'c':'abc'}", "{'c':'b'}", "{'c':''}", "{'c':'zz'}"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) CHECK(cond(many, members[i]));
    CHECK(!cond(many, "{'c':'abcd'}"));
    CHECK(!cond(many, "{'c':'z'}"));
    CHECK(
        cond("{'key':'n','match':{'any':[-9223372036854775808,9223372036854775807,0]}}", "{'n':-9223372036854775808}"));
    CHECK(
        cond("{'key':'n','match':{'any':[-9223372036854775808,9223372036854775807,0]}}", "{'n':9223372036854775807}"));
}

TEST(match_except_follows_qdrant) {
    const char *except = "{'key':'c','match':{'except':['black','yellow']}}";
    CHECK(cond(except, "{'c':'green'}"));
    CHECK(!cond(except, "{'c':'black'}"));
    /* An array holds when one element is outside the list. */
    CHECK(cond(except, "{'c':['black','green']}"));
    CHECK(!cond(except, "{'c':['black','yellow']}"));
    /* No value to pass: a missing key, null, an empty array, only nulls. */
    CHECK(!cond(except, "{}"));
    CHECK(!cond(except, NULL));
    CHECK(!cond(except, "{'c':null}"));
    CHECK(!cond(except, "{'c':[]}"));
    CHECK(!cond(except, "{'c':[null]}"));
    CHECK(cond(except, "{'c':[null,'x']}"));
    /* A value of another type than the list's is not in it. */
    CHECK(cond(except, "{'c':1}"));
    CHECK(cond(except, "{'c':true}"));
    CHECK(cond(except, "{'c':1.5}"));
    CHECK(cond(except, "{'c':{'a':1}}"));
    CHECK(cond(except, "{'c':[['black']]}"));
    const char *except_numbers = "{'key':'n','match':{'except':[1,2]}}";
    CHECK(!cond(except_numbers, "{'n':1}"));
    CHECK(cond(except_numbers, "{'n':3}"));
    CHECK(cond(except_numbers, "{'n':1.0}"));
    CHECK(cond(except_numbers, "{'n':'1'}"));
    CHECK(cond(except_numbers, "{'n':false}"));
    /* An empty list: every non-null value passes. */
    CHECK(cond("{'key':'c','match':{'except':[]}}", "{'c':'x'}"));
    CHECK(cond("{'key':'c','match':{'except':[]}}", "{'c':0}"));
    CHECK(!cond("{'key':'c','match':{'except':[]}}", "{'c':null}"));
    CHECK(!cond("{'key':'c','match':{'except':[]}}", "{}"));
}

/* ---- Key paths ------------------------------------------------------------------------------------------ */

TEST(dotted_keys_walk_objects) {
    const char *payload = "{'country':{'name':'Germany','capital':{'name':'Berlin'}},'flat.key':1}";
    CHECK(cond("{'key':'country.name','match':{'value':'Germany'}}", payload));
    CHECK(cond("{'key':'country.capital.name','match':{'value':'Berlin'}}", payload));
    CHECK(!cond("{'key':'country.capital.name.x','match':{'value':'Berlin'}}", payload));
    CHECK(!cond("{'key':'country.missing','match':{'value':'Germany'}}", payload));
    CHECK(!cond("{'key':'name','match':{'value':'Germany'}}", payload));
    /* A dot inside a key is written by quoting the key. */
    CHECK(!cond("{'key':'flat.key','match':{'value':1}}", payload));
    CHECK(cond("{'key':'\\'flat.key\\'','match':{'value':1}}", payload));
    /* "a.b" does not walk into an array: that is what "a[].b" is for. */
    CHECK(!cond("{'key':'list.b','match':{'value':1}}", "{'list':[{'b':1}]}"));
    CHECK(!cond("{'key':'s.b','match':{'value':1}}", "{'s':'text'}"));
    /* Keys of letters, digits, _, - and UTF-8 need no quotes. */
    CHECK(cond("{'key':'a_1-b.ключ','match':{'value':1}}", "{'a_1-b':{'ключ':1}}"));
}

TEST(bracket_keys_walk_arrays) {
    const char *payload = "{'country':{'cities':[{'name':'Berlin','population':3.7,'sights':['Gate','Reichstag']},"
                          "{'name':'Munich','population':1.5,'sights':['Marienplatz']},'not an object',"
                          "{'population':null}]}}";
    CHECK(cond("{'key':'country.cities[].name','match':{'value':'Munich'}}", payload));
    CHECK(!cond("{'key':'country.cities[].name','match':{'value':'Hamburg'}}", payload));
    CHECK(cond("{'key':'country.cities[].population','range':{'gte':3.0}}", payload));
    CHECK(!cond("{'key':'country.cities[].population','range':{'gte':4.0}}", payload));
    /* The leaf may itself be an array. */
    CHECK(cond("{'key':'country.cities[].sights','match':{'value':'Reichstag'}}", payload));
    CHECK(cond("{'key':'country.cities[].sights[]','match':{'value':'Reichstag'}}", payload));
    /* Indexes pick one element. */
    CHECK(cond("{'key':'country.cities[0].name','match':{'value':'Berlin'}}", payload));
    CHECK(!cond("{'key':'country.cities[1].name','match':{'value':'Berlin'}}", payload));
    CHECK(!cond("{'key':'country.cities[9].name','match':{'value':'Berlin'}}", payload));
    CHECK(cond("{'key':'country.cities[0].sights[1]','match':{'value':'Reichstag'}}", payload));
    CHECK(!cond("{'key':'country.cities[0].sights[0]','match':{'value':'Reichstag'}}", payload));
    CHECK(cond("{'key':'m[1][0]','match':{'value':3}}", "{'m':[[1,2],[3,4]]}"));
    CHECK(cond("{'key':'m[][1]','match':{'value':4}}", "{'m':[[1,2],[3,4]]}"));
    CHECK(!cond("{'key':'m[][1]','match':{'value':3}}", "{'m':[[1,2],[3,4]]}"));
    /* Brackets on a value that is not an array reach nothing. */
    CHECK(!cond("{'key':'s[]','match':{'value':'x'}}", "{'s':'x'}"));
    CHECK(!cond("{'key':'s[0]','match':{'value':'x'}}", "{'s':'x'}"));
    CHECK(cond("{'key':'a[].\\'b.c\\'','match':{'value':1}}", "{'a':[{'b.c':1}]}"));
}

TEST(conditions_on_a_projected_array_hold_independently) {
    /* As Qdrant's documentation warns: each condition may be met by a different element. */
    const char *f =
        "{'must':[{'key':'diet[].food','match':{'value':'meat'}},{'key':'diet[].likes','match':{'value':true}}]}";
    CHECK(holds(f, "{'diet':[{'food':'leaves','likes':false},{'food':'meat','likes':true}]}"));
    CHECK(holds(f, "{'diet':[{'food':'leaves','likes':true},{'food':'meat','likes':false}]}"));
    CHECK(!holds(f, "{'diet':[{'food':'leaves','likes':false},{'food':'meat','likes':false}]}"));
}

/* ---- Range ---------------------------------------------------------------------------------------------- */

TEST(range_bounds) {
    CHECK(cond("{'key':'p','range':{'gt':1}}", "{'p':2}"));
    CHECK(!cond("{'key':'p','range':{'gt':1}}", "{'p':1}"));
    CHECK(cond("{'key':'p','range':{'gte':1}}", "{'p':1}"));
    CHECK(!cond("{'key':'p','range':{'gte':1}}", "{'p':0}"));
    CHECK(cond("{'key':'p','range':{'lt':1}}", "{'p':0}"));
    CHECK(!cond("{'key':'p','range':{'lt':1}}", "{'p':1}"));
    CHECK(cond("{'key':'p','range':{'lte':1}}", "{'p':1}"));
    CHECK(!cond("{'key':'p','range':{'lte':1}}", "{'p':2}"));
    const char *band = "{'key':'p','range':{'gt':null,'gte':100.0,'lt':null,'lte':450.0}}";
    CHECK(cond(band, "{'p':100}"));
    CHECK(cond(band, "{'p':450.0}"));
    CHECK(cond(band, "{'p':299.99}"));
    CHECK(!cond(band, "{'p':99.999}"));
    CHECK(!cond(band, "{'p':450.0001}"));
    CHECK(!cond("{'key':'p','range':{'gt':5,'lt':5}}", "{'p':5}"));
    CHECK(cond("{'key':'p','range':{'gte':-2.5,'lt':-1}}", "{'p':-2}"));
    CHECK(!cond("{'key':'p','range':{'gte':-2.5,'lt':-1}}", "{'p':-1}"));
}

TEST(range_compares_integers_and_reals_exactly) {
    CHECK(cond("{'key':'p','range':{'gt':1.5}}", "{'p':2}"));
    CHECK(!cond("{'key':'p','range':{'gt':1.5}}", "{'p':1}"));
    CHECK(cond("{'key':'p','range':{'gte':2.0}}", "{'p':2}"));
    CHECK(!cond("{'key':'p','range':{'gt':2.0}}", "{'p':2}"));
    CHECK(cond("{'key':'p','range':{'lt':2}}", "{'p':1.999}"));
    CHECK(!cond("{'key':'p','range':{'lt':2}}", "{'p':2.0}"));
    CHECK(cond("{'key':'p','range':{'lte':2}}", "{'p':2.0}"));
    CHECK(cond("{'key':'p','range':{'gt':-1.5}}", "{'p':-1}"));
    CHECK(!cond("{'key':'p','range':{'gt':-1.5}}", "{'p':-2}"));
    CHECK(cond("{'key':'p','range':{'lt':-0.5}}", "{'p':-1}"));
    CHECK(!cond("{'key':'p','range':{'lt':-0.5}}", "{'p':0}"));
    /* Beyond 2^53 a double cannot tell 2^53 from 2^53 + 1; the comparison still does. */
    CHECK(cond("{'key':'p','range':{'gt':9007199254740992}}", "{'p':9007199254740993}"));
    CHECK(cond("{'key':'p','range':{'gt':9007199254740992.0}}", "{'p':9007199254740993}"));
    CHECK(!cond("{'key':'p','range':{'gt':9007199254740992.0}}", "{'p':9007199254740992}"));
    CHECK(cond("{'key':'p','range':{'lt':9007199254740993}}", "{'p':9007199254740992.0}"));
    /* 2^63 as a real is above every integer; -2^63 is the least. */
    CHECK(cond("{'key':'p','range':{'lt':9223372036854775808.0}}", "{'p':9223372036854775807}"));
    CHECK(!cond("{'key':'p','range':{'gte':9223372036854775808.0}}", "{'p':9223372036854775807}"));
    CHECK(cond("{'key':'p','range':{'gte':-9223372036854775808.0}}", "{'p':-9223372036854775808}"));
    CHECK(!cond("{'key':'p','range':{'gt':-9223372036854775808.0}}", "{'p':-9223372036854775808}"));
    CHECK(cond("{'key':'p','range':{'gt':-1e300}}", "{'p':-9223372036854775808}"));
    CHECK(cond("{'key':'p','range':{'lt':1e300}}", "{'p':9223372036854775807}"));
    CHECK(!cond("{'key':'p','range':{'gt':1e300}}", "{'p':9223372036854775807}"));
}

TEST(range_ignores_non_numbers_and_looks_into_arrays) {
    const char *r = "{'key':'p','range':{'gte':1,'lte':3}}";
    CHECK(!cond(r, "{'p':'2'}"));
    CHECK(!cond(r, "{'p':true}"));
    CHECK(!cond(r, "{'p':null}"));
    CHECK(!cond(r, "{'p':{'v':2}}"));
    CHECK(!cond(r, "{}"));
    CHECK(cond(r, "{'p':[0,'x',2]}"));
    CHECK(!cond(r, "{'p':[0,4]}"));
    CHECK(!cond(r, "{'p':[[2]]}"));
    /* Every bound applies to one element: no element between 5 and 8 here. */
    CHECK(!cond("{'key':'p','range':{'gt':5,'lt':8}}", "{'p':[1,10]}"));
}

/* ---- is_empty, is_null, has_id -------------------------------------------------------------------------- */

TEST(is_empty_means_missing_null_or_empty_array) {
    const char *e = "{'is_empty':{'key':'r'}}";
    CHECK(cond(e, "{}"));
    CHECK(cond(e, NULL));
    CHECK(cond(e, "{'r':null}"));
    CHECK(cond(e, "{'r':[]}"));
    CHECK(!cond(e, "{'r':[null]}"));
    CHECK(!cond(e, "{'r':0}"));
    CHECK(!cond(e, "{'r':''}"));
    CHECK(!cond(e, "{'r':false}"));
    CHECK(!cond(e, "{'r':{}}"));
    CHECK(!cond(e, "{'r':[1]}"));
    /* Through arrays: empty only when every value reached is empty. */
    const char *nested = "{'is_empty':{'key':'a[].b'}}";
    CHECK(cond(nested, "{'a':[]}"));
    CHECK(cond(nested, "{'a':[{'c':1}]}"));
    CHECK(cond(nested, "{'a':[{'b':null},{'b':[]}]}"));
    CHECK(!cond(nested, "{'a':[{'b':1},{'b':[]}]}"));
    CHECK(cond("{'is_empty':{'key':'o.b'}}", "{'o':'x'}"));
    CHECK(!holds("{'must_not':[{'is_empty':{'key':'r'}}]}", "{'r':null}"));
    CHECK(holds("{'must_not':[{'is_empty':{'key':'r'}}]}", "{'r':[1]}"));
}

TEST(is_null_means_present_and_null) {
    const char *n = "{'is_null':{'key':'r'}}";
    CHECK(cond(n, "{'r':null}"));
    CHECK(!cond(n, "{}"));
    CHECK(!cond(n, NULL));
    CHECK(!cond(n, "{'r':[]}"));
    CHECK(!cond(n, "{'r':0}"));
    CHECK(!cond(n, "{'r':''}"));
    /* An array holding a null is null (Qdrant 1.19.1), one level deep only. */
    CHECK(cond(n, "{'r':[1,null]}"));
    CHECK(cond(n, "{'r':[null]}"));
    CHECK(!cond(n, "{'r':[[null]]}"));
    CHECK(cond("{'is_null':{'key':'a[].b'}}", "{'a':[{'b':1},{'b':null}]}"));
    CHECK(!cond("{'is_null':{'key':'a[].b'}}", "{'a':[{'b':1},{'c':null}]}"));
}

TEST(has_id_with_numbers_and_uuids) {
    const char *f = "{'must':[{'has_id':[1,3,'550E8400-E29B-41D4-A716-446655440000',3,5]}]}";
    eg_point_id id = eg_point_id_num(3);
    CHECK(holds_for(f, &id, NULL));
    id = eg_point_id_num(5);
    CHECK(holds_for(f, &id, "{}"));
    id = eg_point_id_num(2);
    CHECK(!holds_for(f, &id, NULL));
    CHECK_OK(eg_point_id_parse("550e8400-e29b-41d4-a716-446655440000", &id, &err), &err);
    CHECK(holds_for(f, &id, NULL));
    CHECK_OK(eg_point_id_parse("550e8400-e29b-41d4-a716-446655440001", &id, &err), &err);
    CHECK(!holds_for(f, &id, NULL));
    CHECK_OK(eg_point_id_parse("00000000000000000000000000000003", &id, &err), &err);
    CHECK(!holds_for(f, &id, NULL)); /* a UUID is never a number */
    id = eg_point_id_num(1);
    CHECK(!holds_for("{'must':[{'has_id':[]}]}", &id, NULL));
    CHECK(holds_for("{'must_not':[{'has_id':[2]}]}", &id, NULL));
    /* Without an id (a payload-only check) has_id holds for nothing. */
    CHECK(!holds_for(f, NULL, NULL));
    CHECK(holds_for("{'must_not':[{'has_id':[1]}]}", NULL, NULL));
}

TEST(compiled_tree_is_typed_sorted_and_split) {
    eg_filter *f =
        compile("{'must':[{'key':'a.b[].c[2]','match':{'any':[3,1,2,1]}},"
                "{'key':'s','match':{'except':['b','a','b']}},{'key':'r','range':{'gte':1,'lt':2.5}},"
                "{'has_id':[4,'550e8400-e29b-41d4-a716-446655440000',2,4]},{'key':'v','match':{'value':true}},"
                "{'is_null':{'key':'n'}},{'should':[]}],"
                "'min_should':{'conditions':[{'is_empty':{'key':'e'}}],'min_count':1}}");
    REQUIRE(f != NULL);
    const eg_filter_node *root = &f->root;
    REQUIRE(root->must.count == 7);
    CHECK(root->should.count == 0 && root->must_not.count == 0);
    CHECK(root->has_min_should && root->min_count == 1 && root->min_should.count == 1);
    CHECK(root->min_should.items[0].kind == EG_COND_IS_EMPTY);
    const eg_condition *any = &root->must.items[0];
    CHECK(any->kind == EG_COND_MATCH_ANY && any->set.type == EG_MATCH_INTEGER && any->set.count == 3);
    CHECK(any->set.integers[0] == 1 && any->set.integers[1] == 2 && any->set.integers[2] == 3);
    REQUIRE(any->key.count == 5);
    CHECK(strcmp(any->key.text, "a.b[].c[2]") == 0);
    CHECK(any->key.steps[0].kind == EG_PATH_KEY && strcmp(any->key.steps[0].key, "a") == 0);
    CHECK(any->key.steps[1].kind == EG_PATH_KEY && strcmp(any->key.steps[1].key, "b") == 0);
    CHECK(any->key.steps[2].kind == EG_PATH_EVERY);
    CHECK(any->key.steps[3].kind == EG_PATH_KEY && strcmp(any->key.steps[3].key, "c") == 0);
    CHECK(any->key.steps[4].kind == EG_PATH_INDEX && any->key.steps[4].index == 2);
    const eg_condition *except = &root->must.items[1];
    CHECK(except->kind == EG_COND_MATCH_EXCEPT && except->set.type == EG_MATCH_KEYWORD && except->set.count == 2);
    CHECK(strcmp(except->set.keywords[0].text, "a") == 0 && strcmp(except->set.keywords[1].text, "b") == 0);
    const eg_condition *range = &root->must.items[2];
    CHECK(range->kind == EG_COND_RANGE && range->range.gte.set && range->range.gte.is_integer &&
          range->range.gte.integer == 1 && range->range.lt.set && !range->range.lt.is_integer &&
          range->range.lt.real == 2.5 && !range->range.gt.set && !range->range.lte.set);
    const eg_condition *has_id = &root->must.items[3];
    CHECK(has_id->kind == EG_COND_HAS_ID && has_id->has_id.count == 3 && has_id->key.count == 0);
    CHECK(!has_id->has_id.ids[0].is_uuid && has_id->has_id.ids[0].num == 2);
    CHECK(!has_id->has_id.ids[1].is_uuid && has_id->has_id.ids[1].num == 4);
    CHECK(has_id->has_id.ids[2].is_uuid);
    const eg_condition *value = &root->must.items[4];
    CHECK(value->kind == EG_COND_MATCH_VALUE && value->value.type == EG_MATCH_BOOL && value->value.boolean);
    CHECK(root->must.items[5].kind == EG_COND_IS_NULL && strcmp(root->must.items[5].key.text, "n") == 0);
    CHECK(root->must.items[6].kind == EG_COND_FILTER && root->must.items[6].filter->should.count == 0);

    /* The accept test used for index candidates looks at one value only. */
    json_t *two = json_integer(2), *list = load("[2]");
    CHECK(eg_condition_accepts(any, two));
    CHECK(!eg_condition_accepts(any, list));
    CHECK(!eg_condition_accepts(&root->must.items[3], two));
    json_decref(two);
    json_decref(list);
    eg_filter_free(f);
}

static bool count_visit(json_t *value, void *ctx) {
    (void)value;
    (*(int *)ctx)++;
    return false;
}

static bool stop_at_two(json_t *value, void *ctx) {
    (void)ctx;
    return json_is_integer(value) && json_integer_value(value) == 2;
}

TEST(key_paths_visit_every_reached_value) {
    eg_key_path path;
    CHECK_OK(eg_key_path_parse("a[].b", 5, "field", &path, &err), &err);
    json_t *payload = load("{'a':[{'b':1},{'c':1},{'b':[2,3]},5,{'b':null}]}");
    int n = 0;
    CHECK(!eg_key_path_each(&path, payload, count_visit, &n));
    CHECK(n == 3); /* 1, [2,3] whole, null */
    CHECK(!eg_key_path_each(&path, payload, stop_at_two, NULL));
    eg_key_path_clear(&path);
    CHECK_OK(eg_key_path_parse("a[].b[]", 7, "field", &path, &err), &err);
    CHECK(eg_key_path_each(&path, payload, stop_at_two, NULL));
    n = 0;
    CHECK(!eg_key_path_each(&path, NULL, count_visit, &n) && n == 0);
    eg_key_path_clear(&path);
    json_decref(payload);
    /* A quoted key may hold anything but '"' and '\', even nothing. */
    CHECK_OK(eg_key_path_parse("\"\".\"a b[]\"", 10, "field", &path, &err), &err);
    CHECK(path.count == 2 && path.steps[0].key_len == 0 && strcmp(path.steps[1].key, "a b[]") == 0);
    eg_key_path_clear(&path);
    CHECK_STATUS(eg_key_path_parse("a..b", 4, "index field", &path, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "index field: invalid key path 'a..b': expected a key (letters, digits, _ or -, or a "
                              "quoted key) at byte 2") == 0);
    CHECK(path.count == 0 && path.text == NULL);
}

/* ---- Malformed filters ---------------------------------------------------------------------------------- */

TEST(malformed_filters_are_refused_naming_the_problem_and_place) {
    eg_filter *f = (eg_filter *)&err;
    CHECK_STATUS(eg_filter_parse(NULL, &f, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(f == NULL && strcmp(err.message, "filter: must be an object, got nothing") == 0);
    CHECK(refused("[]", "filter: must be an object, got an array"));
    CHECK(refused("'must'", "filter: must be an object, got a string"));
    CHECK(refused("{'must':[],'foo':1}", "filter: unknown key 'foo': expected must, should, must_not or min_should"));
    CHECK(refused("{'\\u0001':1}", "filter: unknown key '\\x01': expected must, should, must_not or min_should"));
    CHECK(refused("{'must':5}", "filter.must: must be an array of conditions, got an integer"));
    CHECK(refused("{'should':'x'}", "filter.should: must be an array of conditions, got a string"));
    CHECK(refused("{'must_not':true}", "filter.must_not: must be an array of conditions, got a boolean"));
    CHECK(refused("{'must':[5]}", "filter.must[0]: a condition must be an object, got an integer"));
    CHECK(refused("{'must':[{},{},{'foo':1}]}", "filter.must[2]: unknown condition key 'foo'"));
    CHECK(refused("{'must':{'foo':1}}", "filter.must: unknown condition key 'foo'"));
    CHECK(refused("{'must':[{},{'key':'a','match':{'value':1}},{'key':'a','range':{'gtx':1}}]}",
                  "filter.must[2].range: unknown bound 'gtx': expected gt, gte, lt or lte"));

    /* Field conditions. */
    CHECK(refused("{'should':[{'key':'a'}]}", "filter.should[0]: a field condition needs match or range"));
    CHECK(refused("{'must':[{'match':{'value':1}}]}", "filter.must[0]: a field condition needs a key"));
    CHECK(refused("{'must':[{'range':{'gt':1}}]}", "filter.must[0]: a field condition needs a key"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':1},'range':{'gt':1}}]}",
                  "filter.must[0]: a field condition takes match or range, not both"));
    CHECK(refused("{'must':[{'key':'','match':{'value':1}}]}", "filter.must[0].key: must not be empty"));
    CHECK(refused("{'must':[{'key':5,'match':{'value':1}}]}", "filter.must[0].key: must be a string, got an integer"));
    CHECK(refused("{'must':[{'key':null,'match':{'value':1}}]}", "filter.must[0].key: must be a string, got null"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':1},'must':[]}]}",
                  "filter.must[0]: 'must' cannot be combined with 'match' in one condition"));
    CHECK(refused("{'must':[{'must':[],'key':'a'}]}",
                  "filter.must[0]: 'key' cannot be combined with 'must' in one condition"));
    CHECK(refused("{'must':[{'is_empty':{'key':'a'},'has_id':[1]}]}",
                  "filter.must[0]: 'has_id' cannot be combined with 'is_empty' in one condition"));
    CHECK(refused("{'must':[{'key':'a','is_empty':true}]}",
                  "filter.must[0]: 'is_empty' cannot be combined with 'key' in one condition"));
    CHECK(refused("{'must':[{'nested':{'key':'a','filter':{}}}]}",
                  "filter.must[0]: 'nested' conditions are not supported"));
    CHECK(
        refused("{'must':[{'key':'a','geo_radius':{}}]}", "filter.must[0]: 'geo_radius' conditions are not supported"));
    CHECK(refused("{'must':[{'key':'a','values_count':{'gt':1}}]}",
                  "filter.must[0]: 'values_count' conditions are not supported"));

    /* Key paths. */
    const char *path_message = "filter.must[0].key: invalid key path '%s': %s at byte %d";
    struct {
        const char *key, *shown, *problem;
        int at;
    } paths[] = {
        {"a..b", "a..b", "expected a key (letters, digits, _ or -, or a quoted key)", 2},
        {".a", ".a", "expected a key (letters, digits, _ or -, or a quoted key)", 0},
        {"a.", "a.", "expected a key (letters, digits, _ or -, or a quoted key)", 2},
        {"a b", "a b", "expected '.', '[]' or '[' index ']'", 1},
        {"a[", "a[", "expected '[]' or '[' index ']'", 1},
        {"a[x]", "a[x]", "expected '[]' or '[' index ']'", 1},
        {"a[1", "a[1", "expected '[]' or '[' index ']'", 1},
        {"a[-1]", "a[-1]", "expected '[]' or '[' index ']'", 1},
        {"a[]]", "a[]]", "expected '.', '[]' or '[' index ']'", 3},
        {"[]", "[]", "expected a key (letters, digits, _ or -, or a quoted key)", 0},
        {"a.\\'b", "a.\"b", "a quoted key must end with '\"' and cannot hold '\\'", 2},
        {"a:b", "a:b", "expected '.', '[]' or '[' index ']'", 1},
        {"a[99999999999999999999999]", "a[99999999999999999999999]", "array index too large", 2},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char filter_text[512], message[512];
        snprintf(filter_text, sizeof filter_text, "{'must':[{'key':'%s','match':{'value':1}}]}", paths[i].key);
        snprintf(message, sizeof message, path_message, paths[i].shown, paths[i].problem, paths[i].at);
        CHECK(refused(filter_text, message));
    }
    char long_path[1024] = "a", filter_text[1200];
    for (int i = 0; i < EG_KEY_PATH_STEPS_MAX; i++) strcat(long_path, "[]");
    snprintf(filter_text, sizeof filter_text, "{'must':[{'key':'%s','match':{'value':1}}]}", long_path);
    json_t *json = load(filter_text);
    CHECK_STATUS(eg_filter_parse(json, &f, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "has more than 128 steps") != NULL);
    json_decref(json);
    long_path[strlen(long_path) - 2] = '\0'; /* exactly the most steps allowed */
    snprintf(filter_text, sizeof filter_text, "{'must':[{'key':'%s','match':{'value':1}}]}", long_path);
    f = compile(filter_text);
    CHECK(f != NULL && f->root.must.items[0].key.count == EG_KEY_PATH_STEPS_MAX);
    eg_filter_free(f);

    /* Match. */
    CHECK(refused("{'must':[{'key':'a','match':5}]}", "filter.must[0].match: must be an object, got an integer"));
    CHECK(refused("{'must':[{'key':'a','match':{}}]}", "filter.must[0].match: needs one of value, any or except"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':1,'any':[1]}}]}",
                  "filter.must[0].match: takes one of value, any or except, got both value and any"));
    CHECK(refused("{'must':[{'key':'a','match':{'text':'x'}}]}",
                  "filter.must[0].match: unknown key 'text': expected one of value, any or except"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':1.5}}]}",
                  "filter.must[0].match.value: must be a string, an integer or a boolean, got a real number"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':1.0}}]}",
                  "filter.must[0].match.value: must be a string, an integer or a boolean, got a real number"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':null}}]}",
                  "filter.must[0].match.value: must be a string, an integer or a boolean, got null (use is_null "
                  "to test for null)"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':[1]}}]}",
                  "filter.must[0].match.value: must be a string, an integer or a boolean, got an array"));
    CHECK(refused("{'must':[{'key':'a','match':{'value':{}}}]}",
                  "filter.must[0].match.value: must be a string, an integer or a boolean, got an object"));
    CHECK(refused("{'must':[{'key':'a','match':{'any':'x'}}]}",
                  "filter.must[0].match.any: must be an array of strings or of integers, got a string"));
    CHECK(refused("{'must':[{'key':'a','match':{'any':['a',1]}}]}",
                  "filter.must[0].match.any[1]: mixes strings and integers: the list must hold one type"));
    CHECK(refused("{'must':[{'key':'a','match':{'except':[1,2,'a']}}]}",
                  "filter.must[0].match.except[2]: mixes strings and integers: the list must hold one type"));
    CHECK(refused("{'must':[{'key':'a','match':{'any':[true]}}]}",
                  "filter.must[0].match.any[0]: must be a string or an integer, got a boolean"));
    CHECK(refused("{'must':[{'key':'a','match':{'except':['a',1.5]}}]}",
                  "filter.must[0].match.except[1]: must be a string or an integer, got a real number"));
    CHECK(refused("{'must':[{'key':'a','match':{'except':[null]}}]}",
                  "filter.must[0].match.except[0]: must be a string or an integer, got null"));

    /* Range. */
    CHECK(refused("{'must':[{'key':'a','range':5}]}",
                  "filter.must[0].range: must be an object of bounds, got an integer"));
    CHECK(
        refused("{'must':[{'key':'a','range':{}}]}", "filter.must[0].range: needs at least one of gt, gte, lt or lte"));
    CHECK(refused("{'must':[{'key':'a','range':{'gt':null,'lte':null}}]}",
                  "filter.must[0].range: needs at least one of gt, gte, lt or lte"));
    CHECK(refused("{'must':[{'key':'a','range':{'gt':'1'}}]}",
                  "filter.must[0].range.gt: must be a number, got a string"));
    CHECK(refused("{'must':[{'key':'a','range':{'gte':true}}]}",
                  "filter.must[0].range.gte: must be a number, got a boolean"));
    CHECK(refused("{'must':[{'key':'a','range':{'lt':[1]}}]}",
                  "filter.must[0].range.lt: must be a number, got an array"));

    /* is_empty, is_null, has_id. */
    CHECK(refused("{'must':[{'is_empty':'a'}]}",
                  "filter.must[0].is_empty: must be an object {\"key\": ...}, got a string"));
    CHECK(refused("{'must':[{'is_empty':{}}]}", "filter.must[0].is_empty: needs a key"));
    CHECK(refused("{'must':[{'is_empty':{'key':'a','x':1}}]}",
                  "filter.must[0].is_empty: unknown key 'x': expected only key"));
    CHECK(refused("{'must':[{'is_null':{'key':''}}]}", "filter.must[0].is_null.key: must not be empty"));
    CHECK(refused("{'must':[{'is_null':{'key':'a.'}}]}",
                  "filter.must[0].is_null.key: invalid key path 'a.': expected a key (letters, digits, _ or -, or a "
                  "quoted key) at byte 2"));
    CHECK(refused("{'must':[{'is_null':null}]}", "filter.must[0].is_null: must be an object {\"key\": ...}, got null"));
    CHECK(refused("{'must':[{'has_id':5}]}", "filter.must[0].has_id: must be an array of point ids, got an integer"));
    CHECK(refused("{'must':[{'has_id':[1,-1]}]}",
                  "filter.must[0].has_id[1]: invalid point id -1: a numeric id must not be negative"));
    CHECK(
        refused("{'must':[{'has_id':[1.0]}]}",
                "filter.must[0].has_id[0]: invalid point id 1.0: a numeric id must be an integer, not a real number"));
    CHECK(refused("{'must':[{'has_id':['abc']}]}",
                  "filter.must[0].has_id[0]: invalid point id 'abc': a string id must be a UUID (8-4-4-4-12 or 32 hex "
                  "digits)"));
    CHECK(refused("{'must':[{'has_id':[true]}]}",
                  "filter.must[0].has_id[0]: invalid point id: expected a non-negative integer or a UUID string, got a "
                  "boolean"));

    /* min_should. */
    CHECK(refused("{'min_should':5}",
                  "filter.min_should: must be an object {\"conditions\": [...], \"min_count\": n}, got an integer"));
    CHECK(refused("{'min_should':{'conditions':[]}}", "filter.min_should: needs min_count"));
    CHECK(refused("{'min_should':{'min_count':1}}", "filter.min_should: needs conditions"));
    CHECK(refused("{'min_should':{'conditions':[],'min_count':1,'x':2}}",
                  "filter.min_should: unknown key 'x': expected conditions and min_count"));
    CHECK(refused("{'min_should':{'conditions':[],'min_count':0}}",
                  "filter.min_should.min_count: must be an integer of at least 1, got 0"));
    CHECK(refused("{'min_should':{'conditions':[],'min_count':-1}}",
                  "filter.min_should.min_count: must be an integer of at least 1, got -1"));
    CHECK(refused("{'min_should':{'conditions':[],'min_count':1.5}}",
                  "filter.min_should.min_count: must be an integer of at least 1, got a real number"));
    CHECK(refused("{'min_should':{'conditions':[],'min_count':'1'}}",
                  "filter.min_should.min_count: must be an integer of at least 1, got a string"));
    CHECK(refused("{'min_should':{'conditions':{},'min_count':1}}",
                  "filter.min_should.conditions: must be an array of conditions, got an object"));
    CHECK(refused("{'min_should':{'conditions':[{},{'key':'a','match':{'any':[1,'x']}}],'min_count':1}}",
                  "filter.min_should.conditions[1].match.any[1]: mixes strings and integers: the list must hold one "
                  "type"));

    /* Problems inside nested filters name the whole way down. */
    CHECK(refused("{'must':[{'should':[{},{'key':'a','range':{'gtx':1}}]}]}",
                  "filter.must[0].should[1].range: unknown bound 'gtx': expected gt, gte, lt or lte"));
    CHECK(refused("{'must_not':[{'min_should':{'conditions':[],'min_count':0}}]}",
                  "filter.must_not[0].min_should.min_count: must be an integer of at least 1, got 0"));
    CHECK(refused("{'should':[{'must':[{'foo':1}]}]}", "filter.should[0].must[0]: unknown condition key 'foo'"));
}

/* ---- Randomized comparison with a reference evaluator --------------------------------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t pick(size_t n) { return (size_t)(next_random() % n); }

/* The few key paths of the grammar and the payload shapes that reach them. */
static const char *const field_paths[] = {"a", "b", "o.b", "l[].b"};

static json_t *random_scalar(void) {
    switch (pick(9)) {
    case 0: return json_integer((json_int_t)pick(5) - 2);
    case 1: return json_integer((json_int_t)pick(3));
    case 2: return json_real((double)pick(5) / 2.0 - 1.0); /* -1.0, -0.5, 0.0, 0.5, 1.0 */
    case 3: return json_string(pick(2) ? "x" : "y");
    case 4: return json_string("");
    case 5: return json_boolean(pick(2));
    case 6: return json_null();
    case 7: return json_object();
    default: return json_integer(1);
    }
}

static json_t *random_value(void) {
    if (pick(3)) return random_scalar();
    json_t *array = json_array();
    size_t n = pick(4);
    for (size_t i = 0; i < n; i++) json_array_append_new(array, pick(6) ? random_scalar() : json_array());
    return array;
}

static json_t *random_payload(void) {
    if (pick(12) == 0) return NULL;
    json_t *p = json_object();
    if (pick(4)) json_object_set_new(p, "a", random_value());
    if (pick(4)) json_object_set_new(p, "b", random_value());
    if (pick(3)) {
        json_t *o = pick(5) ? json_object() : random_scalar();
        if (json_is_object(o) && pick(4)) json_object_set_new(o, "b", random_value());
        json_object_set_new(p, "o", o);
    }
    if (pick(3)) {
        json_t *l = json_array();
        size_t n = pick(4);
        for (size_t i = 0; i < n; i++) {
            json_t *item = pick(5) ? json_object() : random_scalar();
            if (json_is_object(item) && pick(4)) json_object_set_new(item, "b", random_value());
            json_array_append_new(l, item);
        }
        if (pick(6) == 0) { /* sometimes l is not an array at all */
            json_decref(l);
            l = random_scalar();
        }
        json_object_set_new(p, "l", l);
    }
    return p;
}

static json_t *random_match_list(void) {
    json_t *list = json_array();
    size_t n = pick(4);
    bool strings = pick(2);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, strings ? json_string(pick(3) ? (pick(2) ? "x" : "y") : "")
                                            : json_integer((json_int_t)pick(5) - 2));
    return list;
}

static json_t *random_bound(void) {
    return pick(2) ? json_integer((json_int_t)pick(5) - 2) : json_real((double)pick(9) / 4.0 - 1.0);
}

static json_t *random_filter(int depth);

static json_t *random_condition(int depth) {
    const char *key = field_paths[pick(sizeof field_paths / sizeof field_paths[0])];
    switch (pick(depth < 3 ? 9 : 8)) {
    case 0: {
        json_t *v;
        switch (pick(3)) {
        case 0: v = json_integer((json_int_t)pick(5) - 2); break;
        case 1: v = json_string(pick(3) ? (pick(2) ? "x" : "y") : ""); break;
        default: v = json_boolean(pick(2)); break;
        }
        return json_pack("{s:s, s:{s:o}}", "key", key, "match", "value", v);
    }
    case 1: return json_pack("{s:s, s:{s:o}}", "key", key, "match", "any", random_match_list());
    case 2: return json_pack("{s:s, s:{s:o}}", "key", key, "match", "except", random_match_list());
    case 3: {
        json_t *range = json_object();
        static const char *const bounds[] = {"gt", "gte", "lt", "lte"};
        size_t first = pick(4);
        json_object_set_new(range, bounds[first], random_bound());
        for (size_t i = 0; i < 4; i++)
            if (i != first && pick(3) == 0)
                json_object_set_new(range, bounds[i], pick(4) ? random_bound() : json_null());
        return json_pack("{s:s, s:o}", "key", key, "range", range);
    }
    case 4: return json_pack("{s:{s:s}}", "is_empty", "key", key);
    case 5: return json_pack("{s:{s:s}}", "is_null", "key", key);
    case 6:
    case 7: {
        json_t *ids = json_array();
        size_t n = pick(4);
        for (size_t i = 0; i < n; i++) json_array_append_new(ids, json_integer((json_int_t)pick(6)));
        return json_pack("{s:o}", "has_id", ids);
    }
    default: return random_filter(depth + 1);
    }
}

static json_t *random_conditions(int depth) {
    json_t *list = json_array();
    size_t n = pick(4);
    for (size_t i = 0; i < n; i++) json_array_append_new(list, random_condition(depth));
    return list;
}

static json_t *random_filter(int depth) {
    json_t *f = json_object();
    if (pick(2)) json_object_set_new(f, "must", random_conditions(depth));
    if (pick(2)) json_object_set_new(f, "should", random_conditions(depth));
    if (pick(3) == 0) json_object_set_new(f, "must_not", random_conditions(depth));
    if (pick(4) == 0)
        json_object_set_new(
            f, "min_should",
            json_pack("{s:o, s:i}", "conditions", random_conditions(depth), "min_count", 1 + (int)pick(3)));
    return f;
}

/* The reference: interprets the filter JSON directly, with the rules written as plainly as possible. */

/* Appends the values `path` reaches in payload to out. Only the grammar's four paths. */
static void ref_values(const char *path, json_t *payload, json_t *out) {
    if (!json_is_object(payload)) return;
    if (strcmp(path, "a") == 0 || strcmp(path, "b") == 0) {
        json_t *v = json_object_get(payload, path);
        if (v) json_array_append(out, v);
    } else if (strcmp(path, "o.b") == 0) {
        json_t *o = json_object_get(payload, "o");
        json_t *v = json_is_object(o) ? json_object_get(o, "b") : NULL;
        if (v) json_array_append(out, v);
    } else {
        json_t *l = json_object_get(payload, "l");
        for (size_t i = 0; json_is_array(l) && i < json_array_size(l); i++) {
            json_t *item = json_array_get(l, i);
            json_t *v = json_is_object(item) ? json_object_get(item, "b") : NULL;
            if (v) json_array_append(out, v);
        }
    }
}

static bool ref_in_list(json_t *v, json_t *list) {
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_equal(v, json_array_get(list, i))) return true; /* json_equal never equates 1 and 1.0 */
    return false;
}

static bool ref_range(json_t *range, json_t *v) {
    if (!json_is_number(v)) return false;
    double x = json_number_value(v); /* the grammar's numbers are exact in a double */
    json_t *b;
    if ((b = json_object_get(range, "gt")) && !json_is_null(b) && !(x > json_number_value(b))) return false;
    if ((b = json_object_get(range, "gte")) && !json_is_null(b) && !(x >= json_number_value(b))) return false;
    if ((b = json_object_get(range, "lt")) && !json_is_null(b) && !(x < json_number_value(b))) return false;
    if ((b = json_object_get(range, "lte")) && !json_is_null(b) && !(x <= json_number_value(b))) return false;
    return true;
}

/* Does one candidate (an element, arrays already opened) pass the field condition? */
static bool ref_passes(json_t *condition, json_t *v) {
    json_t *match = json_object_get(condition, "match");
    if (!match) return ref_range(json_object_get(condition, "range"), v);
    json_t *value = json_object_get(match, "value");
    if (value) return json_equal(v, value);
    json_t *any = json_object_get(match, "any");
    if (any) return ref_in_list(v, any);
    return !json_is_null(v) && !ref_in_list(v, json_object_get(match, "except"));
}

static bool ref_filter(json_t *filter, uint64_t id, json_t *payload);

static bool ref_condition(json_t *c, uint64_t id, json_t *payload) {
    json_t *has_id = json_object_get(c, "has_id");
    if (has_id) {
        for (size_t i = 0; i < json_array_size(has_id); i++)
            if ((uint64_t)json_integer_value(json_array_get(has_id, i)) == id) return true;
        return false;
    }
    json_t *key_object =
        json_object_get(c, "is_empty") ? json_object_get(c, "is_empty") : json_object_get(c, "is_null");
    const char *key = key_object ? json_string_value(json_object_get(key_object, "key"))
                                 : json_string_value(json_object_get(c, "key"));
    if (!key) return ref_filter(c, id, payload);
    json_t *values = json_array();
    ref_values(key, payload, values);
    bool result;
    if (json_object_get(c, "is_empty")) {
        result = true;
        for (size_t i = 0; i < json_array_size(values); i++) {
            json_t *v = json_array_get(values, i);
            if (!json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0)) result = false;
        }
    } else if (json_object_get(c, "is_null")) {
        result = false;
        for (size_t i = 0; i < json_array_size(values); i++) {
            json_t *v = json_array_get(values, i);
            if (json_is_null(v)) result = true;
            for (size_t j = 0; json_is_array(v) && j < json_array_size(v); j++)
                if (json_is_null(json_array_get(v, j))) result = true;
        }
    } else {
        json_t *candidates = json_array();
        for (size_t i = 0; i < json_array_size(values); i++) {
            json_t *v = json_array_get(values, i);
            if (json_is_array(v))
                json_array_extend(candidates, v);
            else
                json_array_append(candidates, v);
        }
        result = false;
        for (size_t i = 0; i < json_array_size(candidates); i++)
            if (ref_passes(c, json_array_get(candidates, i))) result = true;
        json_decref(candidates);
    }
    json_decref(values);
    return result;
}

static size_t ref_count_holding(json_t *list, uint64_t id, json_t *payload) {
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(list); i++) n += ref_condition(json_array_get(list, i), id, payload);
    return n;
}

static bool ref_filter(json_t *filter, uint64_t id, json_t *payload) {
    json_t *must = json_object_get(filter, "must"), *should = json_object_get(filter, "should"),
           *must_not = json_object_get(filter, "must_not"), *min_should = json_object_get(filter, "min_should");
    if (must && ref_count_holding(must, id, payload) != json_array_size(must)) return false;
    if (must_not && ref_count_holding(must_not, id, payload) != 0) return false;
    if (should && json_array_size(should) > 0 && ref_count_holding(should, id, payload) == 0) return false;
    if (min_should && ref_count_holding(json_object_get(min_should, "conditions"), id, payload) <
                          (size_t)json_integer_value(json_object_get(min_should, "min_count")))
        return false;
    return true;
}

TEST(random_filters_agree_with_the_reference) {
    int mismatches = 0, holding = 0, total = 0;
    json_t *payloads[24];
    for (int round = 0; round < 3000; round++) {
        for (size_t i = 0; i < 24; i++) payloads[i] = random_payload();
        json_t *json = random_filter(1);
        eg_filter *f;
        eg_status st = eg_filter_parse(json, &f, &err);
        CHECK_OK(st, &err);
        for (size_t i = 0; st == EG_OK && i < 24; i++) {
            eg_point_id id = eg_point_id_num(i % 6);
            bool got = eg_filter_matches(f, &id, payloads[i]), want = ref_filter(json, i % 6, payloads[i]);
            total++;
            holding += want;
            if (got != want && mismatches++ < 5) {
                char *ft = json_dumps(json, JSON_COMPACT),
                     *pt = payloads[i] ? json_dumps(payloads[i], JSON_COMPACT) : NULL;
                fprintf(stderr, "  mismatch (got %d) id %zu filter %s payload %s\n", got, i % 6, ft, pt ? pt : "none");
                free(ft);
                free(pt);
            }
        }
        if (st == EG_OK) eg_filter_free(f);
        json_decref(json);
        for (size_t i = 0; i < 24; i++) json_decref(payloads[i]);
    }
    CHECK(mismatches == 0);
    /* The grammar must exercise both answers, or the comparison proves little. */
    CHECK(holding > total / 10 && holding < total - total / 10);
}

/* Replaces one randomly chosen value somewhere inside v (an object or array) by junk, if there is one. */
static void corrupt(json_t *v) {
    json_t *junk[] = {json_integer(-1), json_real(1.5), json_string("?"), json_null(),
                      json_true(),      json_array(),   json_object()};
    size_t n = sizeof junk / sizeof junk[0], chosen = pick(n);
    for (int steps = 0; steps < 6; steps++) {
        json_t *child = NULL;
        const char *key = NULL;
        size_t index = 0;
        if (json_is_object(v) && json_object_size(v) > 0) {
            size_t target = pick(json_object_size(v)), i = 0;
            const char *k;
            json_t *c;
            json_object_foreach(v, k, c) {
                if (i++ == target) {
                    key = k;
                    child = c;
                }
            }
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            index = pick(json_array_size(v));
            child = json_array_get(v, index);
        }
        if (!child) break;
        if (pick(3) == 0 || (!json_is_object(child) && !json_is_array(child))) {
            if (key)
                json_object_set(v, key, junk[chosen]);
            else
                json_array_set(v, index, junk[chosen]);
            break;
        }
        v = child;
    }
    for (size_t i = 0; i < n; i++) json_decref(junk[i]);
}

TEST(corrupted_filters_are_refused_or_work_never_crash) {
    int refusals = 0;
    for (int round = 0; round < 3000; round++) {
        json_t *json = random_filter(1);
        corrupt(json);
        eg_filter *f;
        eg_status st = eg_filter_parse(json, &f, &err);
        CHECK(st == EG_OK || st == EG_INVALID_ARGUMENT);
        if (st == EG_OK) {
            json_t *payload = random_payload();
            eg_point_id id = eg_point_id_num(pick(6));
            (void)eg_filter_matches(f, &id, payload);
            json_decref(payload);
            eg_filter_free(f);
        } else {
            CHECK(f == NULL && strncmp(err.message, "filter", 6) == 0);
            refusals++;
        }
        json_decref(json);
    }
    CHECK(refusals > 100);
}

int main(void) {
    RUN(empty_filter_matches_everything_and_keeps_its_json);
    RUN(clauses_behave_as_in_qdrants_documentation);
    RUN(min_should_needs_min_count_of_its_conditions);
    RUN(nested_filters_combine);
    RUN(nesting_is_limited);
    RUN(match_value_compares_within_one_type);
    RUN(match_on_an_array_field_matches_any_element);
    RUN(match_any_is_membership_of_one_type);
    RUN(match_except_follows_qdrant);
    RUN(dotted_keys_walk_objects);
    RUN(bracket_keys_walk_arrays);
    RUN(conditions_on_a_projected_array_hold_independently);
    RUN(range_bounds);
    RUN(range_compares_integers_and_reals_exactly);
    RUN(range_ignores_non_numbers_and_looks_into_arrays);
    RUN(is_empty_means_missing_null_or_empty_array);
    RUN(is_null_means_present_and_null);
    RUN(has_id_with_numbers_and_uuids);
    RUN(compiled_tree_is_typed_sorted_and_split);
    RUN(key_paths_visit_every_reached_value);
    RUN(malformed_filters_are_refused_naming_the_problem_and_place);
    RUN(random_filters_agree_with_the_reference);
    RUN(corrupted_filters_are_refused_or_work_never_crash);
    return test_summary();
}
