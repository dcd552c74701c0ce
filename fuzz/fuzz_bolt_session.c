/* fuzz_bolt_session.c — one Bolt connection from outside (src/bolt/session.c with handshake.c, chunking.c and the
 * RETURN-only statements): whatever a client sends, in whatever split.
 *
 * Input: byte 0 says where to split the rest into two reads; the rest is the client's bytes from the first (the
 * handshake) on. Checked: once the version is agreed, everything the session writes in a read is whole chunked
 * messages, each a response structure (SUCCESS, RECORD, IGNORED or FAILURE); once it says to close, it takes and
 * writes nothing more. Sanitizers catch the rest. */
#include "bolt/chunking.h"
#include "bolt/packstream.h"
#include "bolt/session.h"

#include <stdint.h>
#include <stdlib.h>

static void check_answers(const eg_byte_buffer *out, size_t from) {
    eg_bolt_dechunker d = {.max_message = EG_PS_MAX_MESSAGE_BYTES};
    for (size_t at = from; at < out->len;) {
        size_t used;
        eg_error err;
        if (eg_bolt_dechunker_feed(&d, (const uint8_t *)out->data + at, out->len - at, &used, &err) != EG_OK) abort();
        at += used;
        if (!d.complete) continue;
        eg_ps_value v;
        if (eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true, &v, &err) != EG_OK)
            abort();
        if (v.kind != EG_PS_STRUCT || v.as.list.tag < 0x70 || (v.as.list.tag > 0x71 && v.as.list.tag < 0x7E)) abort();
        eg_ps_value_free(&v);
        eg_bolt_dechunker_next(&d);
    }
    if (d.header_have != 0 || d.chunk_left != 0 || d.message.len != 0) abort(); /* a partial answer */
    eg_bolt_dechunker_free(&d);
}

/* Feeds one read; returns whether the connection stays open. */
static bool feed(eg_bolt_session *s, const uint8_t *data, size_t size, bool was_open, eg_byte_buffer *out) {
    bool agreed_before = eg_bolt_session_version(s).major != 0;
    size_t before = out->len;
    bool open = eg_bolt_session_feed(s, data, size, out);
    if (!was_open && (open || out->len != before)) abort();
    if (agreed_before) check_answers(out, before);
    return open;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const eg_bolt_session_config config = {.user = "neo4j",
                                           .password = "",
                                           .peer_is_loopback = true,
                                           .advertised_address = "127.0.0.1:7687",
                                           .routing_ttl_seconds = 300,
                                           .max_message_bytes = 1 << 16,
                                           .statements = eg_bolt_literal_return_statements()};
    eg_bolt_session *s = eg_bolt_session_new(&config, 1);
    if (s == NULL) return 0;
    size_t rest = size - 1, split = rest == 0 ? 0 : data[0] % (rest + 1);
    eg_byte_buffer out = {0};
    bool open = feed(s, data + 1, split, true, &out);
    open = feed(s, data + 1 + split, rest - split, open, &out);
    feed(s, data + 1, rest, open, &out);
    free(out.data);
    eg_bolt_session_free(s);
    return 0;
}
