/* fuzz_node_core.c - libFuzzer target: arbitrary bytes into a node core
 * (node/core) as cluster datagrams and stream frames of every kind, between
 * ticks, with a client admitted or waiting: the routing by kind, the
 * decoders behind it and what their outcomes drive (claims, the table,
 * admission) must never crash, hang or leak. The first byte says how the
 * rest is cut into messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "node_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int persist(void *ctx, const uint8_t *d, size_t len, char *err, size_t errlen) {
    (void)ctx, (void)d, (void)len, (void)err, (void)errlen;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    swim_contact contacts[2] = {{.name = "n1@10.0.0.1", .addr = {0x0a000001u, 49010}},
                                {.name = "n2@10.0.0.2", .addr = {0x0a000002u, 49010}}};
    ncore_config c = {.addr = {0x0a000001u, 49010}, .contacts = contacts, .ncontacts = 2, .seed = 9,
                      .max_connections = 10, .bounded_load_epsilon = 0.25};
    snprintf(c.cluster_name, sizeof c.cluster_name, "fuzz");
    snprintf(c.node_name, sizeof c.node_name, "n1@10.0.0.1");
    ncore_env env = {.persist = persist};
    char err[256];
    node_core *n = ncore_new(&c, &env, 1000, err, sizeof err);
    if (n == NULL) return 0;
    ncore_client a = ncore_client_open(n, (void *)1);
    ncore_client_connect(n, 1000, a, "room", 0, true);
    uint8_t cut = data[0];
    size_t at = 1, piece = (size_t)(cut & 0x3f) + 16;
    int64_t now = 1000;
    for (int k = 0; at < size && k < 64; k++) {
        size_t len = size - at < piece ? size - at : piece;
        shoal_addr from = {0x0a000002u, 49010};
        if ((cut >> 6) == 1 && (k & 1)) ncore_recv_stream(n, now, from, (uint64_t)k, data + at, len);
        else ncore_recv_packet(n, now, from, data + at, len);
        at += len;
        now += 37;
        if (ncore_next_deadline(n, now) <= now) ncore_tick(n, now);
        outbox_clear(ncore_outbox(n));
        ncore_events_clear(n);
        ncore_cluster_events_clear(n);
    }
    ncore_client_gone(n, now, a);
    ncore_free(n);
    return 0;
}
