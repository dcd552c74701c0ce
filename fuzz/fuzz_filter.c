/* fuzz_filter.c — Qdrant filters from outside: a filter JSON compiled (eg_filter_parse, src/vector/filter.c) and
 * evaluated (eg_filter_matches) against a point's payload and id, as a search, scroll, count or delete request
 * that arrives through `engram exec` would have it.
 *
 * Input: up to three parts separated by NUL bytes (a NUL cannot occur inside a JSON text that the exec layer
 * accepts, so nothing is lost):
 *   part 1  the filter JSON (parsed with the exec layer's flag, JSON_REJECT_DUPLICATES, plus JSON_ALLOW_NUL:
 *           a C caller can hand over strings holding "\u0000", in keys, key paths and match values);
 *   part 2  the payload JSON (same flags, plus JSON_DECODE_ANY so that a payload of any JSON kind is evaluated:
 *           matching must not assume an object); missing: {}
 *   part 3  the point id JSON (eg_point_id_from_json, src/vector/point_id.c: an integer, a UUID string or a large
 *           decimal string); missing or invalid: the id 1.
 * A filter that parses is evaluated with (id, payload), (NULL, payload), (id, NULL) and (NULL, NULL); its JSON is
 * read back with eg_filter_json. A bare part 1 that is an id (not an object) also exercises eg_point_id_from_json
 * and its round trip through eg_point_id_to_json / eg_point_id_format / eg_point_id_parse. */
#include <engram/vectors.h>

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* The next part of data[*pos..size) up to a NUL (or the end); false when there is none. */
static bool next_part(const uint8_t *data, size_t size, size_t *pos, const char **part, size_t *len) {
    if (*pos > size) return false;
    const uint8_t *start = data + *pos;
    const uint8_t *nul = memchr(start, 0, size - *pos);
    *part = (const char *)start;
    *len = nul ? (size_t)(nul - start) : size - *pos;
    *pos += *len + 1; /* past the NUL; beyond size when there was none */
    return true;
}

/* Round trip of an id through its text and JSON forms: each must give the same id back. */
static void check_id_round_trip(const eg_point_id *id) {
    char text[EG_POINT_ID_TEXT];
    eg_point_id back;
    eg_error err;
    eg_point_id_format(id, text);
    if (eg_point_id_parse(text, &back, &err) != EG_OK || eg_point_id_compare(id, &back) != 0) abort();
    json_t *j = eg_point_id_to_json(id);
    if (!j) abort();
    if (eg_point_id_from_json(j, &back, &err) != EG_OK || eg_point_id_compare(id, &back) != 0) abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t pos = 0, len = 0;
    const char *part = NULL;
    eg_error err;

    if (!next_part(data, size, &pos, &part, &len)) return 0;
    json_t *filter_json = json_loadb(part, len, FLAGS | JSON_DECODE_ANY, NULL);
    if (!filter_json) return 0;

    json_t *payload = NULL;
    if (next_part(data, size, &pos, &part, &len)) payload = json_loadb(part, len, FLAGS | JSON_DECODE_ANY, NULL);
    if (!payload) payload = json_object();

    eg_point_id id = eg_point_id_num(1);
    if (next_part(data, size, &pos, &part, &len)) {
        json_t *id_json = json_loadb(part, len, FLAGS | JSON_DECODE_ANY, NULL);
        eg_point_id parsed;
        if (id_json && eg_point_id_from_json(id_json, &parsed, &err) == EG_OK) {
            check_id_round_trip(&parsed);
            id = parsed;
        }
        json_decref(id_json);
    }

    if (!json_is_object(filter_json)) {
        /* Not a filter (eg_filter_parse refuses it below): try it as a point id. */
        eg_point_id as_id;
        if (eg_point_id_from_json(filter_json, &as_id, &err) == EG_OK) check_id_round_trip(&as_id);
        if (json_is_string(filter_json) && eg_point_id_parse(json_string_value(filter_json), &as_id, &err) == EG_OK)
            check_id_round_trip(&as_id);
    }

    eg_filter *f = NULL;
    if (eg_filter_parse(filter_json, &f, &err) == EG_OK) {
        if (eg_filter_json(f) != filter_json) abort();
        bool with_both = eg_filter_matches(f, &id, payload);
        bool no_id = eg_filter_matches(f, NULL, payload);
        bool no_payload = eg_filter_matches(f, &id, NULL);
        bool neither = eg_filter_matches(f, NULL, NULL);
        /* Evaluation is pure: the same question gives the same answer. */
        if (eg_filter_matches(f, &id, payload) != with_both) abort();
        (void)no_id, (void)no_payload, (void)neither;
        eg_filter_free(f);
    } else if (f) {
        abort(); /* a failed parse must leave nothing behind */
    }
    json_decref(payload);
    json_decref(filter_json);
    return 0;
}
