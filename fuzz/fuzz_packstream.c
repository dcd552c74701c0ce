/* fuzz_packstream.c — PackStream from outside (src/bolt/packstream.c), as a Bolt client's messages will reach it,
 * and the chunked framing they arrive in (src/bolt/chunking.c).
 *
 * Input: byte 0 chooses the dialect (bit 0: Bolt 5 or 4.4) and whether the top value is a message (bit 1); the
 * rest is decoded. A value that decodes is encoded again, and that encoding must decode to an equal value and
 * encode to the same bytes (the encoder's smallest markers are a fixed point). The same rest is also fed to the
 * chunk reassembler in two pieces split where byte 0 says, every message it completes decoded the same way. */
#include "bolt/chunking.h"
#include "bolt/packstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void decode_and_round_trip(const uint8_t *data, size_t size, eg_ps_dialect dialect, bool message) {
    eg_ps_value value, again;
    eg_error err;
    if (eg_ps_decode(data, size, dialect, message, &value, &err) != EG_OK) {
        if (err.code != EG_INVALID_ARGUMENT || value.kind != EG_PS_NULL) abort();
        return;
    }
    eg_ps_writer first = {0}, second = {0};
    eg_ps_write_value(&first, &value);
    if (eg_ps_writer_status(&first, &err) != EG_OK) abort();
    if (eg_ps_decode((const uint8_t *)first.out.data, first.out.len, dialect, message, &again, &err) != EG_OK) abort();
    if (!eg_ps_value_equal(&value, &again)) abort();
    eg_ps_write_value(&second, &again);
    if (second.out.len != first.out.len || memcmp(second.out.data, first.out.data, first.out.len) != 0) abort();
    free(first.out.data);
    free(second.out.data);
    eg_ps_value_free(&value);
    eg_ps_value_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    eg_ps_dialect dialect = data[0] & 1 ? EG_PS_BOLT_5 : EG_PS_BOLT_4_4;
    bool message = (data[0] & 2) != 0;
    const uint8_t *rest = data + 1;
    size_t rest_len = size - 1;
    decode_and_round_trip(rest, rest_len, dialect, message);

    eg_bolt_dechunker d = {.max_message = 4096};
    size_t split = rest_len ? (size_t)(data[0] >> 2) % (rest_len + 1) : 0;
    size_t pieces[2][2] = {{0, split}, {split, rest_len}};
    for (int piece = 0; piece < 2; piece++) {
        for (size_t at = pieces[piece][0]; at < pieces[piece][1];) {
            size_t used;
            eg_error err;
            if (eg_bolt_dechunker_feed(&d, rest + at, pieces[piece][1] - at, &used, &err) != EG_OK) {
                eg_bolt_dechunker_free(&d);
                return 0;
            }
            if (used == 0 && !d.complete) abort(); /* bytes offered, none taken, no message: it would spin */
            at += used;
            if (d.complete) {
                if (d.message.len == 0 || d.message.len > d.max_message) abort();
                decode_and_round_trip((const uint8_t *)d.message.data, d.message.len, dialect, true);
                eg_bolt_dechunker_next(&d);
            }
        }
    }
    eg_bolt_dechunker_free(&d);
    return 0;
}
