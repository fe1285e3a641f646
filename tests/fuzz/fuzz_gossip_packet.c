/* fuzz_gossip_packet.c - libFuzzer target: arbitrary bytes as a gossip
 * datagram, and as a push-pull TCP frame, fed to a live swim core and to
 * the wire decoder directly. Nothing may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "swim.h"
#include "wire.h"

static swim *make_core(void) {
    swim_config c;
    swim_config_default(&c);
    snprintf(c.cluster_name, sizeof c.cluster_name, "fuzz");
    snprintf(c.node_name, sizeof c.node_name, "node1@127.0.0.1");
    c.addr = (shoal_addr){0x7f000001, 49010};
    return swim_new(&c, 1, 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The wire decoder alone. */
    mp_reader r;
    wire_header h;
    uint32_t n;
    mp_reader_init(&r, data, size);
    if (wire_open_packet(&r, &h, &n)) {
        wire_msg m;
        for (uint32_t i = 0; i < n && wire_next_msg(&r, &m) >= 0; i++) {
        }
    }
    /* The core: as a datagram, as a request frame and as a reply frame, then
     * let time run so that whatever it learned is acted on. */
    swim *s = make_core();
    shoal_addr from = {0x7f000002, 49010};
    swim_recv_packet(s, 1001, from, data, size);
    swim_recv_stream(s, 1002, from, 7, data, size);
    swim_recv_stream(s, 1003, from, 0, data, size);
    for (int64_t t = 1100; t < 4000; t += 100) swim_tick(s, t);
    outbox_clear(swim_outbox(s));
    swim_events_clear(s);
    swim_free(s);
    return 0;
}
