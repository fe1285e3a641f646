/* clients.c - simulated client load: clients arrive at random nodes for
 * one of SIM_CHANNELS channels and go through the node core's admission
 * (node/core/admission.c) exactly as a WebSocket client goes through
 * shoald's: the core routes, holds, claims, admits, redirects, refuses and
 * closes; this file only plays the client (it follows a redirect after
 * REDIRECT_US, at most SIM_MAX_HOPS times, stays a while, leaves) and
 * keeps the per-node counts the checker reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define CLIENT_EVERY_US 200000     /* mean gap between arrivals */
#define CLIENT_FIRST_US (3 * SIM_SECOND)
#define REDIRECT_US 2000           /* a client reconnecting elsewhere */

static void chan_name(int c, char *out, size_t len) { snprintf(out, len, "room-%02u", (unsigned)c % 100u); }

void clients_start(sim *s) {
    heap_push(&s->heap, (sim_event){.at = CLIENT_FIRST_US, .type = EV_CLIENT_NEW});
}

static void schedule_at(sim *s, int client, int node, int64_t delay) {
    heap_push(&s->heap, (sim_event){.at = s->now + delay, .type = EV_CLIENT_AT, .node = (int16_t)node, .action = client});
}

void client_new(sim *s) {
    int64_t end = s->sc->duration_ms * 1000 - 5 * SIM_SECOND;
    if (s->now < end)
        heap_push(&s->heap, (sim_event){.at = s->now + 1 + sim_rand(s, 2 * CLIENT_EVERY_US), .type = EV_CLIENT_NEW});
    if (!array_grow(&s->clients, &s->capclients, (size_t)s->nclients + 1, sizeof *s->clients)) abort();
    int i = (int)s->nclients++;
    s->clients[i] = (sim_client){.chan = (uint8_t)sim_rand(s, SIM_CHANNELS), .state = 1,
                                 .stay_us = 2 * SIM_SECOND + sim_rand(s, 28 * 1000) * 1000LL};
    s->stats.clients++;
    schedule_at(s, i, (int)sim_rand(s, (uint32_t)s->n), 1000);
}

static void reject(sim *s, int i, const char *why) {
    sim_client *c = &s->clients[i];
    c->state = 0;
    s->stats.rejected++;
    /* A purged, leaving or broken entry node refuses rightly: the client
     * tries another node. Liveness is judged on the others. */
    if (c->node < 0 || sim_node_eligible(&s->nodes[c->node])) s->last_reject = s->now;
    sim_trace(s, "client %d (room-%02d) rejected at n%d: %s", i, c->chan, c->node + 1, why);
}

static void redirect(sim *s, int i, int to) {
    sim_client *c = &s->clients[i];
    if (c->hops >= SIM_MAX_HOPS || to < 0) {
        reject(s, i, "too many redirects");
        return;
    }
    c->hops++;
    c->state = 1;
    s->stats.redirects++;
    sim_trace(s, "client %d (room-%02d) redirected from n%d to n%d", i, c->chan, c->node + 1, to + 1);
    schedule_at(s, i, to, REDIRECT_US);
}

/* The client reached node x: a socket, then its connect. */
void client_at(sim *s, int i, int x) {
    sim_client *c = &s->clients[i];
    if (c->state != 1) return;
    c->node = (int16_t)x;
    sim_node *nd = &s->nodes[x];
    if (!nd->up || nd->paused) { /* no process answers: the connection fails */
        reject(s, i, nd->up ? "node stalled" : "node down");
        return;
    }
    c->handle = ncore_client_open(nd->nc, (void *)(intptr_t)(i + 1));
    if (c->handle == 0) abort();
    c->state = 3;
    c->gen = nd->gen;
    char id[32];
    chan_name(c->chan, id, sizeof id);
    ncore_client_connect(nd->nc, node_local_ms(nd, s->now), c->handle, id, 0, c->hops > 0);
    node_after(s, nd);
}

/* The client is done with node nd (it left, was refused, redirected or
 * closed): the node core forgets it. */
static void forget(sim *s, sim_node *nd, sim_client *c) {
    ncore_client_gone(nd->nc, node_local_ms(nd, s->now), c->handle);
    c->handle = 0;
}

static void admitted(sim *s, sim_node *nd, int i) {
    sim_client *c = &s->clients[i];
    check_admission(s, nd->id, c->chan);
    c->state = 2;
    if (nd->clients[c->chan]++ == 0) nd->live_since[c->chan] = s->now;
    s->stats.admitted++;
    sim_trace(s, "client %d admitted into room-%02d on n%d (%u there)", i, c->chan, nd->id + 1, nd->clients[c->chan]);
    heap_push(&s->heap, (sim_event){.at = s->now + c->stay_us, .type = EV_CLIENT_LEAVE, .action = i});
}

void clients_on_event(sim *s, sim_node *nd, const ncore_event *ev) {
    if (ev->kind == NCORE_EV_CHANNEL) {
        s->chan_changed[atoi(ev->channel.id + 5) % SIM_CHANNELS] = s->now;
        return;
    }
    if (ev->kind != NCORE_EV_CLIENT) return;
    const ncore_client_event *e = &ev->client;
    if (e->user == NULL) return; /* the client is gone */
    int i = (int)(intptr_t)e->user - 1;
    sim_client *c = &s->clients[i];
    if (c->handle != e->client || c->node != nd->id) return; /* gone from that node meanwhile */
    switch (e->action) {
    case NCORE_ADMIT: admitted(s, nd, i); break;
    case NCORE_HOLD:
        s->stats.holds++;
        sim_trace(s, "client %d (room-%02d) held at n%d: %s is suspected", i, c->chan, nd->id + 1, e->to);
        break;
    case NCORE_REDIRECT:
        forget(s, nd, c);
        redirect(s, i, sim_node_of(s, e->to));
        break;
    case NCORE_REJECT:
        forget(s, nd, c);
        reject(s, i, e->text);
        break;
    case NCORE_CLOSE:
        if (c->state == 2) {
            nd->clients[c->chan]--;
            s->stats.closed++;
            sim_trace(s, "n%d closes client %d of room-%02d: %s", nd->id + 1, i, c->chan, e->text);
            c->state = 0;
        } else {
            reject(s, i, e->text); /* still being decided: it never got in */
        }
        forget(s, nd, c);
        break;
    case NCORE_AUTH: /* the simulated nodes have no webhook */
        ncore_client_auth(nd->nc, node_local_ms(nd, s->now), c->handle, SHOAL_OK, "");
        break;
    }
}

void client_leave(sim *s, int i) {
    sim_client *c = &s->clients[i];
    if (c->state != 2) return;
    c->state = 0;
    sim_node *nd = &s->nodes[c->node];
    if (!nd->up || nd->gen != c->gen || nd->clients[c->chan] == 0) return;
    nd->clients[c->chan]--;
    forget(s, nd, c);
    node_after(s, nd);
}

/* The node's process is gone: its clients with it. */
void clients_node_down(sim *s, sim_node *nd) {
    for (uint32_t i = 0; i < s->nclients; i++) {
        sim_client *c = &s->clients[i];
        if (c->node != nd->id || c->gen != nd->gen) continue;
        if (c->state == 2) {
            c->state = 0;
            s->stats.closed++;
        }
        if (c->state == 3) reject(s, (int)i, "node went down");
        c->handle = 0;
    }
    for (int ch = 0; ch < SIM_CHANNELS; ch++)
        if (nd->clients[ch]) s->chan_changed[ch] = s->now;
    memset(nd->clients, 0, sizeof nd->clients);
}
