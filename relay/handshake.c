/* handshake.c - the relay connection's HELLO/REFUSE exchange (see .h). */
#include "handshake.h"

#include <string.h>

static uint32_t hello_frame(const relay_hello *h, uint8_t *out, size_t cap) {
    relay_control c = {.type = RELAY_CTL_HELLO, .hello = *h};
    return (uint32_t)relay_control_frame(&c, out, cap);
}

shoal_outcome relay_hello_check(const relay_hello *mine, const relay_hello *theirs, relay_alive_fn alive, void *ctx) {
    if (theirs->protocol != mine->protocol) return SHOAL_RELAY_PROTOCOL_MISMATCH;
    if (strcmp(theirs->cluster, mine->cluster) != 0 || theirs->cluster_id != mine->cluster_id ||
        mine->cluster_id == 0)
        return SHOAL_RELAY_FOREIGN_CLUSTER;
    if (strcmp(theirs->node, mine->node) == 0) return SHOAL_RELAY_SELF;
    if (!alive(ctx, theirs->node)) return SHOAL_RELAY_NOT_A_MEMBER;
    if (strcmp(theirs->version, mine->version) != 0) return SHOAL_RELAY_VERSION_MISMATCH;
    return SHOAL_OK;
}

void relay_hs_init(relay_hs *hs, bool dialer, const relay_hello *mine, int64_t now) {
    memset(hs, 0, sizeof *hs);
    hs->dialer = dialer;
    hs->state = RELAY_HS_WAIT;
    hs->why = SHOAL_OK;
    hs->deadline = now + RELAY_HANDSHAKE_MS;
    hs->mine = *mine;
    if (dialer) hs->out_len = hello_frame(mine, hs->out, sizeof hs->out);
}

static relay_hs_state fail(relay_hs *hs, shoal_outcome why, bool tell) {
    hs->state = RELAY_HS_FAILED;
    hs->why = why;
    /* the acceptor tells the dialer why; the dialer just closes */
    relay_control c = {.type = RELAY_CTL_REFUSE, .refused = why};
    hs->out_len = tell && !hs->dialer ? (uint32_t)relay_control_frame(&c, hs->out, sizeof hs->out) : 0;
    return hs->state;
}

relay_hs_state relay_hs_recv(relay_hs *hs, const relay_frame *f, relay_alive_fn alive, void *ctx) {
    if (hs->state != RELAY_HS_WAIT) return hs->state;
    if (f->kind == RELAY_KEEPALIVE) return hs->state;
    relay_control c;
    if (f->kind != RELAY_CONTROL || !relay_control_decode(f->body, f->body_len, &c))
        return fail(hs, SHOAL_RELAY_BAD_HELLO, true);
    if (c.type == RELAY_CTL_REFUSE) {
        if (!hs->dialer) return fail(hs, SHOAL_RELAY_BAD_HELLO, false); /* only an acceptor refuses */
        hs->refused_by_peer = true;
        return fail(hs, c.refused, false);
    }
    if (c.type != RELAY_CTL_HELLO) return fail(hs, SHOAL_RELAY_BAD_HELLO, true);
    shoal_outcome why = relay_hello_check(&hs->mine, &c.hello, alive, ctx);
    if (why != SHOAL_OK) return fail(hs, why, true);
    hs->peer = c.hello;
    hs->state = RELAY_HS_OPEN;
    if (!hs->dialer) hs->out_len = hello_frame(&hs->mine, hs->out, sizeof hs->out);
    return hs->state;
}

relay_hs_state relay_hs_tick(relay_hs *hs, int64_t now) {
    if (hs->state == RELAY_HS_WAIT && now >= hs->deadline) return fail(hs, SHOAL_RELAY_HANDSHAKE_TIMEOUT, false);
    return hs->state;
}
