/* chunking.h — Bolt's message framing: a message travels as chunks of at most 65535 bytes, each preceded by its
 * size as a 2-byte big-endian number, and ends with an empty chunk (0x00 0x00). An empty chunk where no message
 * has begun is a NOOP, the keep-alive either side may send between messages. */
#ifndef ENGRAM_BOLT_CHUNKING_H
#define ENGRAM_BOLT_CHUNKING_H

#include <engram/status.h>

#include "util/byte_buffer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EG_BOLT_MAX_CHUNK 65535

/* Appends message[0..len) to out as chunks and the end marker; false when out would pass max bytes or memory ran
 * out (out may then hold part of the framing and must be discarded). len 0 is refused: Bolt has no empty
 * message, and its framing would read as a NOOP. */
bool eg_bolt_chunk_message(const uint8_t *message, size_t len, eg_byte_buffer *out, size_t max);

/* The reassembler of incoming bytes. Zero-initialise, set max_message (the bound on one message's bytes), feed it
 * bytes in any split. */
typedef struct eg_bolt_dechunker {
    size_t max_message;
    eg_byte_buffer message; /* the message being assembled; complete when `complete` is set */
    bool complete;
    bool failed; /* an oversized message: the stream cannot be resynchronised */
    uint8_t header[2];
    size_t header_have; /* bytes of the next chunk header received */
    size_t chunk_left;  /* bytes of the current chunk still to come */
} eg_bolt_dechunker;

/* Takes bytes[0..len) up to the end of the next complete message: *used says how many were taken (the rest
 * belong to later messages: feed them after taking this one). When d->complete is set, d->message holds the
 * message; eg_bolt_dechunker_next then starts the next. A message passing max_message is EG_INVALID_ARGUMENT,
 * and every later call fails the same way. */
eg_status eg_bolt_dechunker_feed(eg_bolt_dechunker *d, const uint8_t *bytes, size_t len, size_t *used, eg_error *err);

/* Forgets the complete message, keeping the buffer for the next. */
void eg_bolt_dechunker_next(eg_bolt_dechunker *d);

/* Frees the buffer. */
void eg_bolt_dechunker_free(eg_bolt_dechunker *d);

#endif
