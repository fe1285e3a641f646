/* claims_io.c - channel claims bound to the cluster socket (see .h). */
#include "claims_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static const lease *lease_of(claims_io *c) { return ccore_lease(c->node->clu.core); }
static const raft_roster *roster_of(claims_io *c) { return raft_committed_roster(ccore_raft(c->node->clu.core)); }

/* Sends what the core queued, hands its outcomes on, re-arms the timer. */
static void flush(claims_io *c) {
    if (c->flushing) return; /* an outcome handler acquired or released: the outer flush goes on */
    c->flushing = true;
    for (;;) {
        uint32_t n;
        const claims_out *o = claims_outbox(c->core, &n);
        for (uint32_t i = 0; i < n; i++) {
            const swim_member *m = swim_find(c->node->core, o[i].to);
            if (m != NULL) gossip_io_send(&c->node->gio, m->addr, o[i].data, o[i].len);
        }
        claims_outbox_clear(c->core);
        const claims_event *ev = claims_events(c->core, &n);
        if (n == 0) break;
        /* handlers may call back into the core, which may queue more events */
        claims_event *copy = malloc(n * sizeof *copy);
        if (copy == NULL) { /* lost outcomes: the waiting clients time out */
            claims_events_clear(c->core);
            break;
        }
        memcpy(copy, ev, n * sizeof *copy);
        claims_events_clear(c->core);
        for (uint32_t i = 0; i < n; i++)
            if (c->on_outcome) c->on_outcome(c->outcome_ctx, &copy[i]);
        free(copy);
    }
    gossip_io_flush(&c->node->gio);
    int64_t now = gossip_now_ms(), d = claims_next_deadline(c->core);
    double delay = d == INT64_MAX ? 1.0 : (double)(d > now ? d - now : 1) / 1000.0;
    if (delay > 1.0) delay = 1.0;
    ev_timer_stop(c->node->loop, &c->timer);
    ev_timer_set(&c->timer, delay, 0.0);
    ev_timer_start(c->node->loop, &c->timer);
    c->flushing = false;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    claims_io *c = w->data;
    (void)loop;
    (void)revents;
    claims_tick(c->core, gossip_now_ms(), lease_of(c), roster_of(c));
    flush(c);
}

int claims_io_start(claims_io *c, shoal_node *node, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->node = node;
    claims_config cfg;
    claims_config_default(&cfg);
    snprintf(cfg.node_name, sizeof cfg.node_name, "%s", node->cfg.node_name);
    snprintf(cfg.cluster_name, sizeof cfg.cluster_name, "%s", node->cfg.cluster_name);
    c->core = claims_new(&cfg);
    if (c->core == NULL) {
        snprintf(err, errlen, "cannot create the channel claims: out of memory");
        return -1;
    }
    ev_timer_init(&c->timer, timer_cb, 1.0, 0.0);
    c->timer.data = c;
    ev_timer_start(node->loop, &c->timer);
    return 0;
}

void claims_io_stop(claims_io *c) {
    if (c->node) ev_timer_stop(c->node->loop, &c->timer);
    claims_free(c->core);
    c->core = NULL;
}

void claims_io_on_datagram(claims_io *c, const uint8_t *buf, size_t len) {
    claims_recv(c->core, gossip_now_ms(), lease_of(c), roster_of(c), buf, len);
    flush(c);
}

void claims_io_acquire(claims_io *c, const char *channel) {
    claims_acquire(c->core, gossip_now_ms(), lease_of(c), roster_of(c), channel);
    flush(c);
}

void claims_io_release(claims_io *c, const char *channel) {
    claims_release(c->core, gossip_now_ms(), roster_of(c), channel);
    flush(c);
}

bool claims_io_valid(claims_io *c, const char *channel) {
    return claims_valid(c->core, gossip_now_ms(), lease_of(c), roster_of(c), channel);
}

bool claims_io_pending(claims_io *c, const char *channel) { return claims_pending(c->core, channel); }

void claims_io_drop_all(claims_io *c) {
    if (claims_held_count(c->core) > 0) claims_drop_all(c->core);
}
