/* fuzz_relay.c - libFuzzer target: arbitrary bytes as a relay connection's
 * TCP stream, cut where the first byte says: every frame the reader returns
 * lies inside its buffer, every CONTROL body goes through the control
 * decoder and, when it binds or unbinds, into a receiving side's handle
 * table, which resolves every media frame; the first frame goes through an
 * acceptor's handshake. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bindings.h"
#include "frame.h"
#include "handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool alive(void *ctx, const char *node) {
    (void)ctx;
    return node[0] != 'x';
}

static relay_reader reader;
static relay_bindings bindings;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t piece = (size_t)data[0] % 97 + 1;
    data++, size--;
    relay_reader_init(&reader);
    relay_hello me = {.protocol = RELAY_PROTOCOL, .cluster = "c", .cluster_id = 1, .node = "a@1.2.3.4",
                      .version = "v"};
    relay_hs hs;
    relay_hs_init(&hs, false, &me, 0);
    relay_bindings_init(&bindings);
    for (size_t at = 0; at < size; at += piece) {
        const uint8_t *p = data + at;
        size_t len = at + piece <= size ? piece : size - at;
        relay_frame f;
        relay_frame_error err;
        relay_read_result rc;
        while ((rc = relay_reader_feed(&reader, &p, &len, &f, &err)) == RELAY_READ_FRAME) {
            if (f.body_len && (f.body < reader.buf || f.body + f.body_len > reader.buf + sizeof reader.buf))
                __builtin_trap();
            relay_control c;
            if (f.kind == RELAY_CONTROL && relay_control_decode(f.body, f.body_len, &c)) {
                if (c.type == RELAY_CTL_HELLO && strlen(c.hello.node) > WIRE_NAME_MAX) __builtin_trap();
                relay_bindings_apply(&bindings, &c);
            }
            if (f.kind == RELAY_RTP || f.kind == RELAY_RTCP) {
                const relay_bound_sender *s = relay_bindings_sender(&bindings, f.channel, f.sender);
                if (s && (s->channel != f.channel || !relay_bindings_channel(&bindings, f.channel))) __builtin_trap();
            }
            relay_hs_recv(&hs, &f, alive, NULL);
            if (hs.out_len > sizeof hs.out) __builtin_trap();
        }
        if (rc == RELAY_READ_ERROR) break;    /* the connection would be reset */
        if (len != 0) __builtin_trap();       /* MORE takes every byte */
    }
    relay_bindings_free(&bindings);
    return 0;
}
