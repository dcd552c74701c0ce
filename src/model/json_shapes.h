/* json_shapes.h — the JSON shapes of store values (nodes, relationships, vectors, points), shared by the JSON
 * operation interface and the memory layer so that both answer with the same shapes (docs/operations.md).
 * Builders return a new reference, or NULL when out of memory. */
#ifndef ENGRAM_JSON_SHAPES_H
#define ENGRAM_JSON_SHAPES_H

#include <engram/graph.h>
#include <engram/vectors.h>

/* {"id", "label", "properties"} (properties left out when the node was read without them). */
json_t *eg_node_json(const eg_node *n);
/* {"source_id", "target_id", "type", "properties"} */
json_t *eg_relationship_json(const eg_relationship *r);
json_t *eg_relationship_list_json(const eg_relationship_list *list);

/* A JSON array of float32 values, each as eg_json_float holds it (util/json_text.h): it prints as the shortest
 * decimal that reads back to the same float, so a vector survives a trip through JSON unchanged. */
json_t *eg_floats_json(const float *values, size_t count);
/* {"indices": [...], "values": [...]} */
json_t *eg_sparse_json(const eg_sparse_vector *s);
/* A point as Qdrant's Record, or with a score its ScoredPoint: the payload when asked for ({} for none), the
 * vectors when they were fetched. score (a reference it takes, or NULL for none) is built by the caller, who
 * knows whether it is a float32 (dense and sparse scores) or a double (fused hybrid scores). */
json_t *eg_point_json(const eg_point *p, json_t *score, bool with_payload);

/* Element i of vector `what` as a float; a number beyond the float range is refused by name. */
eg_status eg_float_from_json(json_t *value, const char *what, size_t i, float *out, eg_error *err);
/* A JSON array of numbers as new float values (free()); *values is NULL on failure. */
eg_status eg_floats_from_json(json_t *array, const char *what, float **values, size_t *count, eg_error *err);
/* {"indices": [u32, ...], "values": [number, ...]} of equal lengths (no other member) into new arrays, freed by
 * eg_sparse_vector_clear also on failure; `what` names the vector in messages ("sparse_vector"). That the
 * indices are unique is the store's check. */
eg_status eg_sparse_from_json(json_t *object, const char *what, eg_sparse_vector *out, eg_error *err);
void eg_sparse_vector_clear(eg_sparse_vector *s);

#endif
