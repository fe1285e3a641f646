/* clients.c - simulated client load: clients arrive at random nodes for
 * one of SIM_CHANNELS channels, follow redirects along the entry node's
 * ring (at most SIM_MAX_HOPS), and are admitted only by a node that serves
 * and holds a valid claim on the channel (placement/claims.h), as the
 * signaling layer will. A node that stops serving or loses its claim
 * closes the channel's clients; the last client leaving releases the claim. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define CLIENT_EVERY_US 200000     /* mean gap between arrivals */
#define CLIENT_FIRST_US (3 * SIM_SECOND)
#define REDIRECT_US 2000           /* a client reconnecting elsewhere */
#define HOLD_TICK_US 100000        /* a held client is decided again (shoald: adm_enforce) */

static void chan_name(int c, char *out, size_t len) { snprintf(out, len, "room-%02u", (unsigned)c % 100u); }

static bool serving_now(const sim *s, const sim_node *nd) {
    return nd->up && !nd->paused && ccore_reason_now(nd->core, node_local_ms(nd, s->now)) == NULL;
}

static const raft_roster *roster_of(const sim_node *nd) { return raft_committed_roster(ccore_raft(nd->core)); }

static bool valid_claim(const sim *s, const sim_node *nd, int chan) {
    char id[32];
    chan_name(chan, id, sizeof id);
    return claims_valid(nd->cl, node_local_ms(nd, s->now), ccore_lease(nd->core), roster_of(nd), id);
}

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
    if (s->nclients == s->capclients) {
        uint32_t cap = s->capclients ? s->capclients * 2 : 256;
        sim_client *v = realloc(s->clients, cap * sizeof *v);
        if (v == NULL) abort();
        s->clients = v;
        s->capclients = cap;
    }
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

/* The node's table entry follows its client count (0: closed). */
static void table_count(sim *s, sim_node *nd, int chan) {
    char id[32];
    chan_name(chan, id, sizeof id);
    chtable_set_local(nd->table, id, nd->clients[chan], (uint64_t)node_local_ms(nd, s->now));
}

static void admit(sim *s, int i, sim_node *nd) {
    sim_client *c = &s->clients[i];
    c->state = 2;
    c->node = (int16_t)nd->id;
    c->gen = nd->gen;
    if (nd->clients[c->chan]++ == 0) {
        nd->live_since[c->chan] = s->now;
        s->chan_changed[c->chan] = s->now;
    }
    table_count(s, nd, c->chan);
    s->stats.admitted++;
    sim_trace(s, "client %d admitted into room-%02d on n%d (%u there)", i, c->chan, nd->id + 1, nd->clients[c->chan]);
    heap_push(&s->heap, (sim_event){.at = s->now + c->stay_us, .type = EV_CLIENT_LEAVE, .action = i});
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

static void flush(sim *s, sim_node *nd);

static bool hold_expired(const sim *s, const sim_client *c) {
    return c->held_us != 0 && s->now - c->held_us >= ROUTE_HOLD_MAX_MS * 1000LL;
}

/* Stays connected at node x, decided again on the next tick (ROUTE_HOLD). */
static void hold_at(sim *s, int i, int x, const char *suspect) {
    sim_client *c = &s->clients[i];
    c->state = 1;
    if (c->held_us == 0) {
        c->held_us = s->now;
        s->stats.holds++;
        sim_trace(s, "client %d (room-%02d) held at n%d: %s is suspected", i, c->chan, x + 1, suspect);
    }
    schedule_at(s, i, x, HOLD_TICK_US);
}

void client_at(sim *s, int i, int x) {
    sim_client *c = &s->clients[i];
    if (c->state != 1) return;
    c->node = (int16_t)x;
    sim_node *nd = &s->nodes[x];
    if (!serving_now(s, nd)) {
        reject(s, i, nd->up ? "not serving" : "node down");
        return;
    }
    char id[32];
    chan_name(c->chan, id, sizeof id);
    /* the policy shoald's signaling follows (placement/route.h) */
    view_ring_update(&nd->ring, nd->gossip);
    int o = ring_lookup(&nd->ring.r, id, strlen(id));
    const char *holder = chtable_holder(nd->table, id), *owner = o >= 0 ? nd->ring.r.nodes[o].name : "";
    route_in in = {.self = nd->name,
                   .mode = ccore_effective_mode(nd->core),
                   .claim_valid = valid_claim(s, nd, c->chan),
                   .claim_pending = claims_pending(nd->cl, id),
                   .table_holder = holder,
                   .ring_owner = owner,
                   .redirected = c->hops > 0,
                   .table_holder_suspect = view_suspects(nd->gossip, holder),
                   .ring_owner_suspect = view_suspects(nd->gossip, owner),
                   .hold_expired = hold_expired(s, c)};
    route_out r = route_decide(&in);
    if (r.action == ROUTE_ADMIT) {
        admit(s, i, nd);
        return;
    }
    if (r.action == ROUTE_WAIT) { /* waits for the claim's outcome */
        c->state = 3;
        return;
    }
    if (r.action == ROUTE_REDIRECT) {
        redirect(s, i, sim_node_of(s, r.to));
        return;
    }
    if (r.action == ROUTE_HOLD) {
        hold_at(s, i, x, r.to);
        return;
    }
    if (r.action == ROUTE_REJECT) {
        reject(s, i, r.reason);
        return;
    }
    c->state = 3;
    claims_acquire(nd->cl, node_local_ms(nd, s->now), ccore_lease(nd->core), roster_of(nd), id);
    flush(s, nd);
}

static void release(sim *s, sim_node *nd, int chan) {
    char id[32];
    chan_name(chan, id, sizeof id);
    claims_release(nd->cl, node_local_ms(nd, s->now), roster_of(nd), id);
    chtable_set_local(nd->table, id, 0, 0);
    s->chan_changed[chan] = s->now;
}

void client_leave(sim *s, int i) {
    sim_client *c = &s->clients[i];
    if (c->state != 2) return;
    c->state = 0;
    sim_node *nd = &s->nodes[c->node];
    if (!nd->up || nd->gen != c->gen || nd->clients[c->chan] == 0) return;
    if (--nd->clients[c->chan] == 0) {
        release(s, nd, c->chan);
        flush(s, nd);
    } else {
        table_count(s, nd, c->chan);
    }
}

/* Claim outcomes: admit, redirect to the holder, or reject the waiting. */
void clients_on_claims(sim *s, sim_node *nd) {
    uint32_t n;
    const claims_event *ev = claims_events(nd->cl, &n);
    if (n == 0) return;
    claims_event *copy = malloc(n * sizeof *copy);
    if (copy == NULL) abort();
    memcpy(copy, ev, n * sizeof *copy);
    claims_events_clear(nd->cl);
    for (uint32_t k = 0; k < n; k++) {
        int chan = atoi(copy[k].channel + 5);
        sim_trace(s, "n%d claim on %s: %s%s%s", nd->id + 1, copy[k].channel,
                  copy[k].type == CLAIMS_EV_HELD ? "held" : copy[k].type == CLAIMS_EV_REFUSED ? "refused" : "failed",
                  copy[k].type == CLAIMS_EV_REFUSED ? ", holder " : "", copy[k].type == CLAIMS_EV_REFUSED ? copy[k].holder : "");
        for (uint32_t i = 0; i < s->nclients; i++) {
            sim_client *c = &s->clients[i];
            if (c->state != 3 || c->node != nd->id || c->chan != chan) continue;
            if (copy[k].type == CLAIMS_EV_HELD) {
                if (serving_now(s, nd) && valid_claim(s, nd, chan)) admit(s, (int)i, nd);
                else reject(s, (int)i, "claim held but not valid");
            } else if (copy[k].type == CLAIMS_EV_REFUSED) {
                route_out r = route_refused(copy[k].holder, view_suspects(nd->gossip, copy[k].holder), hold_expired(s, c));
                if (r.action == ROUTE_HOLD) hold_at(s, (int)i, nd->id, r.to);
                else redirect(s, (int)i, sim_node_of(s, copy[k].holder));
            } else {
                reject(s, (int)i, "no majority recorded the claim");
            }
        }
    }
    free(copy);
}

static void close_channel(sim *s, sim_node *nd, int chan, const char *why) {
    uint32_t closed = 0;
    for (uint32_t i = 0; i < s->nclients; i++) {
        sim_client *c = &s->clients[i];
        if (c->state == 2 && c->node == nd->id && c->chan == chan && c->gen == nd->gen) {
            c->state = 0;
            closed++;
        }
    }
    s->stats.closed += closed;
    nd->clients[chan] = 0;
    table_count(s, nd, chan);
    s->chan_changed[chan] = s->now;
    sim_trace(s, "n%d closes %u clients of room-%02d: %s", nd->id + 1, closed, chan, why);
}

/* The adapter's duty: no clients without serving and a valid claim. */
void clients_enforce(sim *s, sim_node *nd) {
    if (!nd->up || nd->paused) return;
    bool serving = serving_now(s, nd);
    bool any = false;
    for (int ch = 0; ch < SIM_CHANNELS; ch++) {
        if (nd->clients[ch] == 0) continue;
        if (!serving) close_channel(s, nd, ch, "not serving");
        else if (!valid_claim(s, nd, ch)) {
            close_channel(s, nd, ch, "claim no longer valid");
            release(s, nd, ch);
            any = true;
        }
    }
    if (!serving && claims_held_count(nd->cl) > 0) claims_drop_all(nd->cl);
    if (any) flush(s, nd);
}

void clients_node_down(sim *s, sim_node *nd) {
    for (uint32_t i = 0; i < s->nclients; i++) {
        sim_client *c = &s->clients[i];
        if (c->node != nd->id) continue;
        if (c->state == 2 && c->gen == nd->gen) {
            c->state = 0;
            s->stats.closed++;
        }
        if (c->state == 3) reject(s, (int)i, "node went down");
    }
    for (int ch = 0; ch < SIM_CHANNELS; ch++)
        if (nd->clients[ch]) s->chan_changed[ch] = s->now;
    memset(nd->clients, 0, sizeof nd->clients);
}

/* Claims datagrams out, outcomes in, timer re-armed. */
static void flush(sim *s, sim_node *nd) {
    uint32_t n;
    const claims_out *o = claims_outbox(nd->cl, &n);
    for (uint32_t k = 0; k < n; k++) {
        int to = sim_node_of(s, o[k].to);
        if (to >= 0) net_send(s, nd->id, s->nodes[to].addr, o[k].data, o[k].len);
    }
    claims_outbox_clear(nd->cl);
    const chtable_out *to = chtable_outbox(nd->table, &n);
    for (uint32_t k = 0; k < n; k++) table_send(s, nd, &to[k]);
    chtable_outbox_clear(nd->table);
    clients_on_claims(s, nd);
    node_schedule(s, nd);
}
