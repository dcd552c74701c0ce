/* packstream.h — PackStream v1, the value encoding of Neo4j's Bolt protocol: a value model, a streaming encoder
 * and a bounded decoder (neo4j.com/docs/bolt/current/packstream/).
 *
 * Why a value type of its own and not jansson's json_t: PackStream has values JSON lacks (byte arrays, structures
 * with a tag byte, a strict split between 64-bit integers and doubles, strings holding U+0000), and a Bolt server
 * needs all of them in one tree — message fields, query parameters, the Node/Relationship/Path and temporal values
 * of parameters and records. One tagged type keeps that in one switch; converting to the graph's json_t properties
 * is the server's job, done once, where it knows what each field means.
 *
 * Encoding is streaming (eg_ps_writer): a server writes records value by value without building a tree, always
 * with the smallest marker. Decoding (eg_ps_decode) builds a tree from a complete message, refusing anything the
 * specification does not allow — reserved markers, truncation, invalid UTF-8, non-string dictionary keys,
 * structures of the wrong size — and anything beyond the bounds below. Every refusal is EG_INVALID_ARGUMENT with
 * a message naming the byte offset and the problem. */
#ifndef ENGRAM_BOLT_PACKSTREAM_H
#define ENGRAM_BOLT_PACKSTREAM_H

#include <engram/status.h>

#include "util/byte_buffer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting of lists, dictionaries and structures: Bolt messages nest a handful of levels (a RUN's parameters
 * holding a list of maps); 32 leaves room for deep parameters while keeping the recursive decoder's stack small. */
#define EG_PS_MAX_DEPTH 32
/* Values in one decoded message, containers and their contents together: each costs a tree node
 * (sizeof(eg_ps_value)), so this bounds the memory a message can make the decoder allocate at some 32 MiB. */
#define EG_PS_MAX_VALUES (1u << 20)
/* Bytes of one encoded message, the decoder's input and the writer's output: 16 MiB holds a batch of thousands
 * of 1024-dimension vectors and keeps one connection's buffers bounded. */
#define EG_PS_MAX_MESSAGE_BYTES ((size_t)16 << 20)

typedef enum eg_ps_kind {
    EG_PS_NULL,
    EG_PS_BOOL,
    EG_PS_INT,
    EG_PS_FLOAT,
    EG_PS_BYTES,
    EG_PS_STRING,
    EG_PS_LIST,
    EG_PS_DICT,
    EG_PS_STRUCT
} eg_ps_kind;

typedef struct eg_ps_value eg_ps_value;
typedef struct eg_ps_entry eg_ps_entry;

struct eg_ps_value {
    eg_ps_kind kind;
    union {
        bool boolean;
        int64_t integer;
        double real;
        struct { /* EG_PS_BYTES and EG_PS_STRING (valid UTF-8, may hold U+0000; data[len] is '\0') */
            char *data;
            size_t len;
        } text;
        struct { /* EG_PS_LIST, and EG_PS_STRUCT's fields (tag is the structure's signature byte) */
            eg_ps_value *items;
            size_t count;
            uint8_t tag;
        } list;
        struct { /* EG_PS_DICT: keys unique, in the order they arrived */
            eg_ps_entry *entries;
            size_t count;
        } dict;
    } as;
};

struct eg_ps_entry {
    char *key; /* valid UTF-8; key[key_len] is '\0' */
    size_t key_len;
    eg_ps_value value;
};

/* Frees what v owns (not v itself) and leaves it EG_PS_NULL. */
void eg_ps_value_free(eg_ps_value *v);

/* Deep equality; floats compare by bit pattern, so NaN equals the same NaN and 0.0 differs from -0.0. */
bool eg_ps_value_equal(const eg_ps_value *a, const eg_ps_value *b);

/* The Bolt versions whose structures differ: 5.x adds element ids to Node and relationships and uses the UTC
 * DateTime tags (0x49, 0x69); 4.4 has neither, and takes both DateTime tag pairs (0x46/0x66 and, with the "utc"
 * patch, 0x49/0x69). */
typedef enum eg_ps_dialect { EG_PS_BOLT_4_4, EG_PS_BOLT_5 } eg_ps_dialect;

/* The field count of the value structure with this tag in this dialect (Node, Relationship, UnboundRelationship,
 * Path, Date, Time, LocalTime, DateTime, DateTimeZoneId, LocalDateTime, Duration, Point2D, Point3D); -1 when the
 * tag names no value structure there. */
int eg_ps_struct_fields(eg_ps_dialect dialect, uint8_t tag);

/* Decodes the one value that fills data[0..len) exactly. When top_is_message, a structure at the top is a Bolt
 * message (any tag, at most 15 fields); every other structure must be a value structure of the dialect with its
 * field count. On success *out owns the tree (eg_ps_value_free); on failure *out is EG_PS_NULL. */
eg_status eg_ps_decode(const uint8_t *data, size_t len, eg_ps_dialect dialect, bool top_is_message, eg_ps_value *out,
                       eg_error *err);

/* The encoder: appends to out, with the smallest marker for every integer and size. A failure (a string that is not
 * UTF-8, a structure of more than 15 fields, more than EG_PS_MAX_MESSAGE_BYTES, out of memory) is kept and
 * reported by eg_ps_writer_status; later writes then do nothing. Lists, dictionaries and structures are written
 * as a header with their size followed by that many values (dictionaries: key, value, key, value ...). */
typedef struct eg_ps_writer {
    eg_byte_buffer out; /* the bytes so far; free(out.data) */
    eg_status status;
    char problem[128];
} eg_ps_writer;

void eg_ps_write_null(eg_ps_writer *w);
void eg_ps_write_bool(eg_ps_writer *w, bool value);
void eg_ps_write_int(eg_ps_writer *w, int64_t value);
void eg_ps_write_float(eg_ps_writer *w, double value);
void eg_ps_write_bytes(eg_ps_writer *w, const void *bytes, size_t len);
void eg_ps_write_string(eg_ps_writer *w, const char *utf8, size_t len);
void eg_ps_write_list_header(eg_ps_writer *w, size_t count);
void eg_ps_write_dict_header(eg_ps_writer *w, size_t count);
void eg_ps_write_struct_header(eg_ps_writer *w, uint8_t tag, size_t field_count);
/* A whole tree, recursively, as it is. */
void eg_ps_write_value(eg_ps_writer *w, const eg_ps_value *v);
/* A whole tree as a client of `dialect` reads it. Values are built in Bolt 5's shape; for 4.4, a Node (4 fields),
 * Relationship (8) or UnboundRelationship (4) is written without the element ids that 5.0 appended (3, 5 and 3
 * fields), wherever it is: in a list, a dictionary or a Path. A structure of any other size is written as it is. */
void eg_ps_write_value_in(eg_ps_writer *w, const eg_ps_value *v, eg_ps_dialect dialect);

/* EG_OK, or the first failure of the writes so far (filling err). */
eg_status eg_ps_writer_status(const eg_ps_writer *w, eg_error *err);

/* True when s[0..len) is UTF-8 as the Unicode standard defines it (no overlongs, surrogates or code points past
 * U+10FFFF). */
bool eg_ps_utf8_valid(const char *s, size_t len);

#endif
