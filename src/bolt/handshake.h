/* handshake.h — the server side of Bolt's version negotiation: the 0x6060B017 preamble, the client's four version
 * proposals (each a major.minor with a range of earlier minors), and the manifest negotiation of Bolt 5.7+, in
 * which a client proposing the pseudo-version 255.1 gets the list of versions the server offers and answers
 * with its choice (neo4j.com/docs/bolt/current/bolt/handshake/).
 *
 * The negotiator is fed the bytes that arrive, in any split, and appends what the server must send back. It knows
 * nothing of sockets, so the tests drive it with byte buffers. */
#ifndef ENGRAM_BOLT_HANDSHAKE_H
#define ENGRAM_BOLT_HANDSHAKE_H

#include "util/byte_buffer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The preamble every Bolt connection starts with. */
#define EG_BOLT_MAGIC 0x6060B017u

/* The versions this server speaks: 4.4, and 5.0 to 5.8 (5.7: FAILURE as GQL status objects; 5.8: the home
 * database in BEGIN's and RUN's SUCCESS). */
#define EG_BOLT_MAX_5_MINOR 8

typedef struct eg_bolt_version {
    uint8_t major, minor;
} eg_bolt_version;

typedef enum eg_bolt_handshake_state {
    EG_BOLT_HANDSHAKE_READING,          /* more bytes are needed */
    EG_BOLT_HANDSHAKE_AGREED,           /* `version` holds the agreed version; Bolt messages follow */
    EG_BOLT_HANDSHAKE_REFUSED           /* no version in common, a wrong preamble or a bad manifest choice: close
                                           after sending the reply */
} eg_bolt_handshake_state;

typedef struct eg_bolt_handshake {
    eg_bolt_handshake_state state;
    eg_bolt_version version;
    /* The manifest went out (the client proposed 255.1): the client's choice is read after it, and HELLO's SUCCESS
     * then names the agreed version (5.7+). */
    bool manifest_sent;
    /* internal */
    uint8_t preamble[20];
    size_t preamble_have;
    uint8_t choice[4 + 10]; /* the chosen version and the capabilities varint (at most 10 bytes for 64 bits) */
    size_t choice_have;
} eg_bolt_handshake;

/* Takes bytes[0..len) up to the end of the handshake (*used says how many; the rest are Bolt messages) and
 * appends the server's reply to `reply`. Returns the state reached. A refusal appends 00 00 00 00 when the
 * preamble was right and nothing when it was not (there is no one to answer). Once AGREED or REFUSED, further
 * calls take nothing. */
eg_bolt_handshake_state eg_bolt_handshake_feed(eg_bolt_handshake *h, const uint8_t *bytes, size_t len, size_t *used,
                                               eg_byte_buffer *reply);

#endif
