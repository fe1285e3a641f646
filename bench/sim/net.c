/* net.c - the virtual network: per-link delay, jitter, loss, duplication
 * and reordering decided when a datagram is sent; cuts (partitions,
 * one-way cuts) applied when it arrives, as an input drop on a real host
 * would. Streams (SWIM's push-pull over TCP) are not lost but are cut. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_BASE_IP 0x0a000000u /* 10.0.0.0: node i is 10.0.0.0 + i + 1 */
#define REORDER_MAX_US 20000    /* a reordered datagram is held up to this much longer */

int net_node_of(const sim *s, shoal_addr a) {
    if (a.port != SIM_PORT || a.ip <= SIM_BASE_IP) return -1;
    uint32_t i = a.ip - SIM_BASE_IP - 1;
    return i < (uint32_t)s->n ? (int)i : -1;
}

static int64_t link_delay(sim *s) {
    int64_t d = s->base_delay_us;
    if (s->jitter_us > 0) d += sim_rand(s, (uint32_t)s->jitter_us);
    if (s->reorder_permille > 0 && (int)sim_rand(s, 1000) < s->reorder_permille) d += sim_rand(s, REORDER_MAX_US);
    return d;
}

static uint8_t *copy(const uint8_t *data, size_t len) {
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL) abort();
    memcpy(p, data, len);
    return p;
}

void net_send(sim *s, int from, shoal_addr to, const uint8_t *data, size_t len) {
    sim_node *src = &s->nodes[from];
    src->msgs_out++;
    src->bytes_out += len;
    int dst = net_node_of(s, to);
    if (dst < 0) return;
    uint16_t loss = s->loss[from * s->n + dst];
    if (loss > 0 && sim_rand(s, 1000) < loss) {
        if (s->trace) sim_trace(s, "n%d>n%d lost %zuB", from + 1, dst + 1, len);
        return;
    }
    int copies = (s->dup_permille > 0 && (int)sim_rand(s, 1000) < s->dup_permille) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        sim_event ev = {.at = s->now + link_delay(s), .type = EV_PACKET, .node = (int16_t)dst,
                        .from = (int16_t)from, .len = (uint32_t)len, .data = copy(data, len)};
        heap_push(&s->heap, ev);
    }
}

/* A STREAM message's data holds a 4-byte length prefix: the core takes the
 * payload. A new connection costs a round trip before its request. */
void net_stream(sim *s, int from, const core_out *o) {
    sim_node *src = &s->nodes[from];
    src->msgs_out++;
    src->bytes_out += o->len;
    if (o->len < 4) return;
    if (o->conn_id == 0) {
        int dst = net_node_of(s, o->addr);
        if (dst < 0) return;
        if (!array_grow(&s->conns, &s->capconns, (size_t)s->nconns + 1, sizeof *s->conns)) abort();
        s->conns[s->nconns] = (struct sim_conn){.client = (int16_t)from, .gen = src->gen};
        uint64_t conn = ++s->nconns; /* ids start at 1: 0 means "a reply" to the core */
        sim_event ev = {.at = s->now + 3 * link_delay(s), .type = EV_STREAM_REQ, .node = (int16_t)dst,
                        .from = (int16_t)from, .conn = conn, .len = o->len - 4, .data = copy(o->data + 4, o->len - 4)};
        heap_push(&s->heap, ev);
        return;
    }
    if (o->conn_id > s->nconns) return;
    const struct sim_conn *c = &s->conns[o->conn_id - 1];
    sim_event ev = {.at = s->now + link_delay(s), .type = EV_STREAM_REPLY, .node = c->client,
                    .from = (int16_t)from, .gen = c->gen, .conn = o->conn_id, .len = o->len - 4,
                    .data = copy(o->data + 4, o->len - 4)};
    heap_push(&s->heap, ev);
}
