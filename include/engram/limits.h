/* limits.h — the limits every JSON document engram stores for a caller obeys: a point's payload, a node's or a
 * relationship's properties, a memory's payload and properties. Past any of them a write fails with
 * EG_INVALID_ARGUMENT and a message naming the limit, and nothing is stored; none is ever a crash or a silent
 * truncation. Other limits sit with what they limit (graph.h: ids, property names, batches; vectors.h:
 * dimension, batches, search limits, filter depth; exec.h: line length); docs/limits.md lists them all. */
#ifndef ENGRAM_LIMITS_H
#define ENGRAM_LIMITS_H

#define EG_JSON_DEPTH_MAX 64                /* nesting of objects and arrays; the document's own object is level 1 */
#define EG_JSON_DOCUMENT_MAX (16u << 20)    /* bytes of the document as compact JSON text */
#define EG_PROPERTY_COUNT_MAX 10000         /* keys of the document's own object (nested objects are not counted) */

#endif
