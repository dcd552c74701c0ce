/* vector_model.c — the vector store's vocabulary: distance, quantization and payload-type names, and freeing of result
 * structures (see engram/vectors.h). Backend-independent. */
#include <engram/vectors.h>

#include "util/quote.h"

#include <stdlib.h>
#include <string.h>

static const char *const distance_names[] = {"Cosine", "Dot", "Euclid", "Manhattan"};
static const char *const payload_type_names[] = {"keyword", "integer", "float", "bool"};

const char *eg_distance_name(eg_distance d) {
    return (unsigned)d < sizeof distance_names / sizeof distance_names[0] ? distance_names[d] : "?";
}

eg_status eg_distance_parse(const char *name, eg_distance *out, eg_error *err) {
    for (size_t i = 0; name && i < sizeof distance_names / sizeof distance_names[0]; i++)
        if (strcmp(name, distance_names[i]) == 0) {
            *out = (eg_distance)i;
            return EG_OK;
        }
    char q[256];
    eg_quote_for_message(name ? name : "", q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid distance '%s': must be one of Cosine, Dot, Euclid, Manhattan",
                        q);
}

const char *eg_quantization_name(eg_quantization q) {
    return q == EG_QUANTIZATION_NONE ? "none" : q == EG_QUANTIZATION_INT8 ? "int8" : "?";
}

const char *eg_payload_type_name(eg_payload_type t) {
    return (unsigned)t < sizeof payload_type_names / sizeof payload_type_names[0] ? payload_type_names[t] : "?";
}

eg_status eg_payload_type_parse(const char *name, eg_payload_type *out, eg_error *err) {
    for (size_t i = 0; name && i < sizeof payload_type_names / sizeof payload_type_names[0]; i++)
        if (strcmp(name, payload_type_names[i]) == 0) {
            *out = (eg_payload_type)i;
            return EG_OK;
        }
    char q[256];
    eg_quote_for_message(name ? name : "", q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid payload index type '%s': must be one of keyword, integer, float, bool", q);
}

void eg_point_clear(eg_point *p) {
    if (!p) return;
    free(p->vector);
    free(p->sparse.indices);
    free(p->sparse.values);
    json_decref(p->payload);
    memset(p, 0, sizeof *p);
}

void eg_point_list_free(eg_point_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) eg_point_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void eg_scored_list_free(eg_scored_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) eg_point_clear(&list->items[i].point);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void eg_collection_info_clear(eg_collection_info *info) {
    if (!info) return;
    for (size_t i = 0; i < info->index_count; i++) free(info->indexes[i].field);
    free(info->indexes);
    info->indexes = NULL;
    info->index_count = 0;
}

void eg_string_list_free(eg_string_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
