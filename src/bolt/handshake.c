/* handshake.c — Bolt's version negotiation, server side (see handshake.h). */
#include "bolt/handshake.h"

#include <string.h>

/* The pseudo-version 255.1 a 5.7+ client proposes to ask for the manifest (version 1) instead of a plain answer. */
#define MANIFEST_V1_MAJOR 255
#define MANIFEST_V1_MINOR 1

/* The capabilities this server announces in the manifest: none are defined that it implements. */
#define SERVER_CAPABILITIES 0

static bool version_supported(uint8_t major, uint8_t minor) {
    return (major == 5 && minor <= EG_BOLT_MAX_5_MINOR) || (major == 4 && minor == 4);
}

/* The highest supported version within one proposal — bytes [reserved, range, minor, major], covering
 * major.minor down to major.(minor - range) — or 0.0 when there is none. */
static eg_bolt_version best_in_proposal(const uint8_t proposal[4]) {
    uint8_t range = proposal[1], minor = proposal[2], major = proposal[3];
    unsigned lowest = range > minor ? 0 : (unsigned)(minor - range);
    for (int m = minor; m >= (int)lowest; m--)
        if (version_supported(major, (uint8_t)m)) return (eg_bolt_version){major, (uint8_t)m};
    return (eg_bolt_version){0, 0};
}

static void append_varint(eg_byte_buffer *out, uint64_t value) {
    do {
        char byte = (char)(value & 0x7F);
        value >>= 7;
        if (value != 0) byte = (char)(byte | 0x80);
        eg_byte_buffer_append(out, &byte, 1, SIZE_MAX);
    } while (value != 0);
}

static void append_version(eg_byte_buffer *out, uint8_t range, uint8_t minor, uint8_t major) {
    char bytes[4] = {0, (char)range, (char)minor, (char)major};
    eg_byte_buffer_append(out, bytes, 4, SIZE_MAX);
}

/* The manifest: its own version as the handshake answer, then the offered versions as ranges, then the
 * capabilities, both counts as base-128 varints (least significant group first). */
static void append_manifest(eg_byte_buffer *out) {
    append_version(out, 0, MANIFEST_V1_MINOR, MANIFEST_V1_MAJOR);
    append_varint(out, 2);
    append_version(out, EG_BOLT_MAX_5_MINOR, EG_BOLT_MAX_5_MINOR, 5);
    append_version(out, 0, 4, 4);
    append_varint(out, SERVER_CAPABILITIES);
}

static uint32_t read_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static eg_bolt_handshake_state refuse(eg_bolt_handshake *h, eg_byte_buffer *reply, bool answer) {
    if (answer) append_version(reply, 0, 0, 0);
    h->state = EG_BOLT_HANDSHAKE_REFUSED;
    return h->state;
}

static eg_bolt_handshake_state answer_proposals(eg_bolt_handshake *h, eg_byte_buffer *reply) {
    if (read_be32(h->preamble) != EG_BOLT_MAGIC) return refuse(h, reply, false);
    const uint8_t *proposals = h->preamble + 4;
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = proposals + 4 * i;
        if (p[3] == MANIFEST_V1_MAJOR && p[2] == MANIFEST_V1_MINOR) {
            append_manifest(reply);
            h->manifest_sent = true;
            return h->state;
        }
    }
    for (int i = 0; i < 4; i++) {
        eg_bolt_version v = best_in_proposal(proposals + 4 * i);
        if (v.major != 0) {
            append_version(reply, 0, v.minor, v.major);
            h->version = v;
            h->state = EG_BOLT_HANDSHAKE_AGREED;
            return h->state;
        }
    }
    return refuse(h, reply, true);
}

/* The client's answer to the manifest: the chosen version (4 bytes), then its capabilities varint. A choice of
 * 0.0 means the client found nothing it speaks; it then closes, and so does the server, without a reply. */
static eg_bolt_handshake_state read_choice(eg_bolt_handshake *h, const uint8_t *bytes, size_t len, size_t *used) {
    while (*used < len) {
        uint8_t byte = bytes[(*used)++];
        h->choice[h->choice_have++] = byte;
        bool varint_done = h->choice_have > 4 && (byte & 0x80) == 0;
        if (varint_done) {
            uint8_t minor = h->choice[2], major = h->choice[3];
            if (!version_supported(major, minor)) {
                h->state = EG_BOLT_HANDSHAKE_REFUSED;
            } else {
                h->version = (eg_bolt_version){major, minor};
                h->state = EG_BOLT_HANDSHAKE_AGREED;
            }
            return h->state;
        }
        if (h->choice_have == sizeof h->choice) { /* a varint longer than 64 bits */
            h->state = EG_BOLT_HANDSHAKE_REFUSED;
            return h->state;
        }
    }
    return h->state;
}

eg_bolt_handshake_state eg_bolt_handshake_feed(eg_bolt_handshake *h, const uint8_t *bytes, size_t len, size_t *used,
                                               eg_byte_buffer *reply) {
    *used = 0;
    if (h->state != EG_BOLT_HANDSHAKE_READING) return h->state;
    if (h->preamble_have < sizeof h->preamble) {
        size_t take = sizeof h->preamble - h->preamble_have;
        if (take > len) take = len;
        memcpy(h->preamble + h->preamble_have, bytes, take);
        h->preamble_have += take;
        *used = take;
        if (h->preamble_have < sizeof h->preamble) return h->state;
        answer_proposals(h, reply);
        if (h->state != EG_BOLT_HANDSHAKE_READING) return h->state;
    }
    return read_choice(h, bytes, len, used);
}
