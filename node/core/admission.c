/* admission.c - what the node core does with a client's connect: route it
 * (placement/route.h) over this node's view, check capacity, claim the
 * channel, ask the auth webhook, admit it into the node's own channel,
 * redirect it, hold it while its node is suspected, or refuse it; close
 * the clients of a node that stops serving or of a channel whose claim
 * lapsed; gossip the node's load. shoald's signaling and the simulator's
 * clients both go through here (node_core.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_core_impl.h"
#include "route.h"

#define ADM_TICK_MS 100  /* held clients decided again; closing what may not stay (claims.h's fence allows it) */
#define LOAD_MS 1000     /* the others' loads read, this node's gossiped when it changed */

static const lease *lease_of(const node_core *n) { return ccore_lease(n->cluster); }
static const raft_roster *roster_of(const node_core *n) { return raft_committed_roster(ccore_raft(n->cluster)); }

#ifdef SHOAL_PLANTED_FAULT_ADMIT_WITHOUT_CLAIM
/* Planted fault for bench/splitbrain's self-test only: the route is told
 * that the claim is valid without asking claims. Never built into shoald. */
static bool claim_counts(const node_core *n, int64_t now, const char *id) {
    (void)n, (void)now, (void)id;
    return true;
}
#else
static bool claim_counts(const node_core *n, int64_t now, const char *id) {
    return claims_valid(n->claims, now, lease_of(n), roster_of(n), id);
}
#endif

/* The gauges callers read (ncore_stats). */
static void sync_counts(node_core *n) {
    n->stats.sessions = n->adm.nsessions;
    n->stats.pending = n->adm.npending;
    n->stats.held = n->adm.nheld;
    n->stats.channels = n->adm.nopen;
}

static adm_client *slot(const node_core *n, ncore_client c) {
    if (c == 0 || c > n->adm.clients.len) return NULL;
    adm_client *a = &((adm_client *)n->adm.clients.items)[c - 1];
    return a->phase == ADM_FREE ? NULL : a;
}

static adm_client *at(const node_core *n, int32_t i) { return &((adm_client *)n->adm.clients.items)[i]; }
static int32_t index_of(const node_core *n, const adm_client *a) {
    return (int32_t)(a - (adm_client *)n->adm.clients.items);
}
static adm_chan *chan_at(const node_core *n, uint32_t i) { return keyed_at(&n->adm.chans, i); }

/* ---- lists of clients (a channel's members, its waiting, the held) ------------- */

static void list_push(node_core *n, int32_t *head, adm_client *a) {
    int32_t i = index_of(n, a);
    a->prev = -1;
    a->next = *head;
    if (*head >= 0) at(n, *head)->prev = i;
    *head = i;
}

static void list_remove(node_core *n, int32_t *head, adm_client *a) {
    if (a->prev >= 0) at(n, a->prev)->next = a->next;
    else *head = a->next;
    if (a->next >= 0) at(n, a->next)->prev = a->prev;
    a->prev = a->next = -1;
}

/* ---- the node's own channels -------------------------------------------------------- */

static const char *chan_key(const void *item) { return ((const adm_chan *)item)->id; }

static int64_t chan_get(node_core *n, const char *id) {
    int64_t i = keyed_find(&n->adm.chans, id);
    if (i >= 0) return i;
    adm_chan ch = {.members = -1, .waiting = -1};
    snprintf(ch.id, sizeof ch.id, "%s", id);
    return keyed_add(&n->adm.chans, &ch);
}

/* Drops the channel when nobody is in it or waiting for it, and with it
 * this node's claim (swap-remove: the moved channel's clients learn its new
 * index). */
static void chan_tidy(node_core *n, int64_t now, const char *id) {
    int64_t i = keyed_find(&n->adm.chans, id);
    if (i < 0) return;
    adm_chan *ch = chan_at(n, (uint32_t)i);
    if (ch->members >= 0 || ch->waiting >= 0 || ch->nauth > 0) return;
    claims_release(n->claims, now, roster_of(n), id); /* nothing to release when no claim was made */
    int64_t moved = keyed_remove(&n->adm.chans, (uint32_t)i);
    if (moved < 0) return;
    adm_chan *m = chan_at(n, (uint32_t)i);
    for (int32_t k = m->members; k >= 0; k = at(n, k)->next) at(n, k)->chan = (uint32_t)i;
    for (int32_t k = m->waiting; k >= 0; k = at(n, k)->next) at(n, k)->chan = (uint32_t)i;
    adm_client *cs = n->adm.clients.items;
    for (uint32_t k = 0; k < n->adm.clients.len; k++) /* authorizing clients are on no list */
        if (cs[k].phase == ADM_AUTH && cs[k].chan == (uint32_t)moved) cs[k].chan = (uint32_t)i;
}

static void table_update(node_core *n, const adm_chan *ch) {
    chtable_set_local(n->table, ch->id, ch->nmembers, ch->nmembers ? ch->created_ms : 0);
}

/* ---- what the caller is told -------------------------------------------------------- */

static ncore_client handle_of(const node_core *n, const adm_client *a) { return (ncore_client)index_of(n, a) + 1; }

static void tell(node_core *n, adm_client *a, ncore_client_action action, const ncore_client_event *more) {
    ncore_event e = {.kind = NCORE_EV_CLIENT};
    if (more) e.client = *more;
    e.client.action = action;
    e.client.client = handle_of(n, a);
    e.client.user = a->user;
    ncore_push_event(n, &e);
}

/* Refused before admission: "NAME: words", the outcome's close code. */
static void reject(node_core *n, adm_client *a, shoal_outcome why, const char *words) {
    ncore_client_event e = {.outcome = why, .code = shoal_outcome_close(why)};
    snprintf(e.text, sizeof e.text, "%s%s%s", shoal_outcome_name(why), words ? ": " : "", words ? words : "");
    n->stats.rejected[why]++;
    a->phase = ADM_OPEN;
    a->closing = true;
    tell(n, a, NCORE_REJECT, &e);
}

static void close_client(node_core *n, adm_client *a, shoal_outcome why, uint16_t code, const char *words) {
    if (a->closing) return; /* told once: the caller closes it and says it is gone */
    ncore_client_event e = {.outcome = why, .code = code};
    snprintf(e.text, sizeof e.text, "%s: %s", shoal_outcome_name(why), words);
    a->closing = true;
    tell(n, a, NCORE_CLOSE, &e);
}

static void redirect(node_core *n, adm_client *a, const char *to) {
    const swim_member *m = swim_find(n->gossip, to);
    if (m == NULL || m->meta.url[0] == '\0') {
        reject(n, a, SHOAL_NO_SIGNALING_URL, "the channel's node publishes no public_signaling_url");
        return;
    }
    ncore_client_event e = {0};
    snprintf(e.to, sizeof e.to, "%s", to);
    snprintf(e.url, sizeof e.url, "%s", m->meta.url);
    n->stats.redirects++;
    a->phase = ADM_OPEN;
    a->closing = true; /* it leaves by itself, or the session's grace closes it */
    tell(n, a, NCORE_REDIRECT, &e);
}

static void admit(node_core *n, int64_t now, adm_client *a, uint32_t idx) {
    adm_chan *ch = chan_at(n, idx);
    a->phase = ADM_ADMITTED;
    a->chan = idx;
    list_push(n, &ch->members, a);
    ch->nmembers++;
    ch->counts[a->role]++;
    n->adm.nsessions++;
    n->stats.admitted++;
    tell(n, a, NCORE_ADMIT, NULL);
    if (ch->nmembers == 1) {
        n->adm.nopen++;
        ch->created_ms = (uint64_t)(now + n->cfg.wall_offset_ms);
        ncore_event e = {.kind = NCORE_EV_CHANNEL, .channel = {.opened = true}};
        snprintf(e.channel.id, sizeof e.channel.id, "%s", ch->id);
        ncore_push_event(n, &e);
    }
    table_update(n, ch);
}

/* ---- capacity and the ring ------------------------------------------------------------ */

static shoal_outcome capacity_full(const node_core *n) {
    uint64_t here = (uint64_t)n->adm.nsessions + n->adm.npending;
    /* the cluster's cap first: when both are reached, the cluster is what is full */
    if (n->cfg.cluster_max_connections && n->adm.others_load + here >= n->cfg.cluster_max_connections)
        return SHOAL_CLUSTER_FULL;
    if (here >= n->cfg.max_connections) return SHOAL_NODE_FULL;
    return SHOAL_OK;
}

/* The ring is rebuilt lazily (a decision, ncore_ring, the load tick each
 * second), not on every gossip event: with 100 members, each gossiping its
 * load, eager rebuilds were most of a node's CPU in the simulator. */
static void ring_refresh(node_core *n) {
    if (!view_ring_update(&n->adm.ring, n->gossip)) return;
    ncore_push_event(n, &(ncore_event){.kind = NCORE_EV_RING});
}

/* The ring's choice for a new channel: the bounded-load lookup over the
 * gossiped loads ("" when every serving node is at its cap, or none serves). */
static const char *ring_choice(node_core *n, const char *id) {
    ring_refresh(n);
    const ring *r = &n->adm.ring.r;
    if (r->nnodes == 0 || n->adm.ring.loads == NULL) return "";
    int o = ring_lookup_bounded(r, ring_hash(id, strlen(id)), n->adm.ring.loads, n->adm.ring.total_load,
                                n->cfg.bounded_load_epsilon);
    return o >= 0 ? r->nodes[o].name : "";
}

/* ---- holding -------------------------------------------------------------------------- */

/* Held sockets count against max_connections with the sessions: a flood
 * during a suspicion is redirected as before rather than kept here. */
static bool room_to_hold(const node_core *n) {
    return (uint64_t)n->adm.nsessions + n->adm.npending + n->adm.nheld < n->cfg.max_connections;
}

/* Held for ROUTE_HOLD_MAX_MS at most, and only while there is room. */
static bool hold_expired(const node_core *n, const adm_client *a, int64_t now) {
    return (a->held_ms != 0 && now - a->held_ms >= ROUTE_HOLD_MAX_MS) || !room_to_hold(n);
}

static void hold(node_core *n, int64_t now, adm_client *a, const char *suspect) {
    if (a->held_ms == 0) {
        a->held_ms = now;
        n->stats.holds++;
        ncore_client_event e = {0};
        snprintf(e.to, sizeof e.to, "%s", suspect);
        tell(n, a, NCORE_HOLD, &e);
    }
    a->phase = ADM_HELD;
    list_push(n, &n->adm.held, a);
    n->adm.nheld++;
}

/* ---- the decision --------------------------------------------------------------------- */

static void wait_claim(node_core *n, adm_client *a, uint32_t idx) {
    a->phase = ADM_WAITING;
    a->chan = idx;
    list_push(n, &chan_at(n, idx)->waiting, a);
    n->adm.npending++;
}

static void ask_auth(node_core *n, adm_client *a, uint32_t idx) {
    a->phase = ADM_AUTH;
    a->chan = idx;
    chan_at(n, idx)->nauth++;
    n->adm.npending++;
    tell(n, a, NCORE_AUTH, NULL);
}

/* A client with its connect, on no list: where it goes. */
static void decide(node_core *n, int64_t now, adm_client *a) {
    const char *id = a->channel;
    const char *holder = chtable_holder(n->table, id), *owner = ring_choice(n, id);
    route_in in = {.self = n->cfg.node_name,
                   .not_serving = ccore_reason_now(n->cluster, now),
                   .mode = ccore_effective_mode(n->cluster),
                   .claim_valid = claim_counts(n, now, id),
                   .claim_pending = claims_pending(n->claims, id),
                   .table_holder = holder,
                   .ring_owner = owner,
                   .redirected = a->redirected,
                   .table_holder_suspect = view_suspects(n->gossip, holder),
                   .ring_owner_suspect = view_suspects(n->gossip, owner),
                   .hold_expired = hold_expired(n, a, now)};
    route_out r = route_decide(&in);
    shoal_outcome full;
    if ((r.action == ROUTE_ADMIT || r.action == ROUTE_CLAIM) && (full = capacity_full(n)) != SHOAL_OK) {
        reject(n, a, full, full == SHOAL_NODE_FULL ? "max_connections reached" : "cluster_max_connections reached");
        return;
    }
    int64_t idx = -1;
    if (r.action == ROUTE_ADMIT || r.action == ROUTE_CLAIM || r.action == ROUTE_WAIT) {
        idx = chan_get(n, id);
        if (idx < 0) {
            reject(n, a, SHOAL_NODE_FULL, "out of memory");
            return;
        }
    }
    switch (r.action) {
    case ROUTE_ADMIT:
        if (n->cfg.auth && !a->authorized) ask_auth(n, a, (uint32_t)idx);
        else admit(n, now, a, (uint32_t)idx);
        break;
    case ROUTE_WAIT: wait_claim(n, a, (uint32_t)idx); break;
    case ROUTE_CLAIM:
        wait_claim(n, a, (uint32_t)idx);
        claims_acquire(n->claims, now, lease_of(n), roster_of(n), id); /* the outcome comes through adm_on_claim */
        break;
    case ROUTE_REDIRECT: redirect(n, a, r.to); break;
    case ROUTE_HOLD: hold(n, now, a, r.to); break;
    case ROUTE_REJECT:
        reject(n, a, r.reason, r.reason == SHOAL_CLUSTER_FULL ? "every node is at its load cap" : "this node does not serve");
        break;
    }
}

/* A member named another holder: go there, or wait here while it is suspected. */
static void refused(node_core *n, int64_t now, adm_client *a, const char *holder) {
    route_out r = route_refused(holder, view_suspects(n->gossip, holder), hold_expired(n, a, now));
    if (r.action == ROUTE_HOLD) hold(n, now, a, holder);
    else redirect(n, a, holder);
}

void adm_on_claim(node_core *n, int64_t now, const claims_event *ev) {
    int64_t idx = keyed_find(&n->adm.chans, ev->channel);
    if (idx < 0 || chan_at(n, (uint32_t)idx)->waiting < 0) return;
    int32_t w = chan_at(n, (uint32_t)idx)->waiting;
    chan_at(n, (uint32_t)idx)->waiting = -1;
    while (w >= 0) {
        adm_client *a = at(n, w);
        int32_t next = a->next;
        a->phase = ADM_OPEN;
        a->prev = a->next = -1;
        n->adm.npending--;
        if (ev->type == CLAIMS_EV_HELD) decide(n, now, a); /* the route now admits, unless the node stopped */
        else if (ev->type == CLAIMS_EV_REFUSED) refused(n, now, a, ev->holder);
        else reject(n, a, SHOAL_CLAIM_FAILED, "no majority of the roster recorded this node as the channel's");
        w = next;
    }
    chan_tidy(n, now, ev->channel);
    sync_counts(n);
}

/* ---- clients: the caller's calls -------------------------------------------------------- */

ncore_client ncore_client_open(node_core *n, void *user) {
    admission *m = &n->adm;
    adm_client fresh = {.user = user, .phase = ADM_OPEN, .prev = -1, .next = -1};
    int32_t i;
    if (m->free_head >= 0) {
        i = m->free_head;
        m->free_head = at(n, i)->next;
        *at(n, i) = fresh;
    } else {
        if (!vec_push(&m->clients, &fresh, sizeof fresh)) return 0;
        i = (int32_t)m->clients.len - 1;
    }
    m->nclients++;
    return (ncore_client)i + 1;
}

void ncore_client_connect(node_core *n, int64_t now, ncore_client c, const char *channel, uint8_t role,
                          bool redirected) {
    adm_client *a = slot(n, c);
    if (a == NULL || a->connected || a->closing) return;
    a->connected = true;
    a->role = role < NCORE_ROLES ? role : 0;
    a->redirected = redirected;
    snprintf(a->channel, sizeof a->channel, "%s", channel);
    decide(n, now, a);
    ncore_settle(n, now);
    sync_counts(n);
}

void ncore_client_auth(node_core *n, int64_t now, ncore_client c, shoal_outcome result, const char *words) {
    adm_client *a = slot(n, c);
    if (a == NULL || a->phase != ADM_AUTH) return;
    adm_chan *ch = chan_at(n, a->chan);
    char id[sizeof ch->id];
    snprintf(id, sizeof id, "%s", ch->id);
    ch->nauth--;
    n->adm.npending--;
    a->phase = ADM_OPEN;
    if (result == SHOAL_OK) {
        a->authorized = true;
        decide(n, now, a); /* the route is checked again: the claim may have lapsed meanwhile */
    } else {
        reject(n, a, result, words);
    }
    chan_tidy(n, now, id);
    ncore_settle(n, now);
    sync_counts(n);
}

void ncore_client_gone(node_core *n, int64_t now, ncore_client c) {
    adm_client *a = slot(n, c);
    if (a == NULL) return;
    admission *m = &n->adm;
    char id[CLAIMS_CHANNEL_MAX + 1] = "";
    if (a->phase == ADM_HELD) {
        list_remove(n, &m->held, a);
        m->nheld--;
    } else if (a->phase == ADM_WAITING || a->phase == ADM_AUTH || a->phase == ADM_ADMITTED) {
        adm_chan *ch = chan_at(n, a->chan);
        snprintf(id, sizeof id, "%s", ch->id);
        if (a->phase == ADM_WAITING) {
            list_remove(n, &ch->waiting, a);
            m->npending--;
        } else if (a->phase == ADM_AUTH) {
            ch->nauth--;
            m->npending--;
        } else {
            list_remove(n, &ch->members, a);
            ch->nmembers--;
            ch->counts[a->role]--;
            m->nsessions--;
            table_update(n, ch);
            if (ch->nmembers == 0) { /* the claim goes with the entry (chan_tidy) */
                m->nopen--;
                ncore_event e = {.kind = NCORE_EV_CHANNEL, .channel = {.opened = false}};
                snprintf(e.channel.id, sizeof e.channel.id, "%s", id);
                ncore_push_event(n, &e);
            }
        }
    }
    /* what was queued for it and not yet taken is dropped: its user may be
     * freed by the time the caller would read it */
    ncore_event *q = n->events.items;
    for (uint32_t k = 0; k < n->events.len; k++)
        if (q[k].kind == NCORE_EV_CLIENT && q[k].client.client == c) q[k].client.user = NULL;
    a->phase = ADM_FREE;
    a->user = NULL;
    a->next = m->free_head;
    m->free_head = index_of(n, a);
    m->nclients--;
    if (id[0]) chan_tidy(n, now, id);
    ncore_settle(n, now);
    sync_counts(n);
}

bool ncore_channel(const node_core *n, const char *channel, ncore_channel_info *out) {
    int64_t i = keyed_find(&n->adm.chans, channel);
    if (i < 0) return false;
    const adm_chan *ch = chan_at(n, (uint32_t)i);
    out->members = ch->nmembers;
    memcpy(out->counts, ch->counts, sizeof out->counts);
    out->created_ms = ch->created_ms;
    return true;
}

void ncore_channel_each(const node_core *n, const char *channel, void (*visit)(void *ctx, void *user), void *ctx) {
    int64_t i = keyed_find(&n->adm.chans, channel);
    if (i < 0) return;
    for (int32_t k = chan_at(n, (uint32_t)i)->members; k >= 0;) {
        int32_t next = at(n, k)->next; /* visit may not change the list; still, read ahead */
        visit(ctx, at(n, k)->user);
        k = next;
    }
}

const view_ring *ncore_ring(node_core *n) {
    ring_refresh(n);
    view_ring_refresh_loads(&n->adm.ring, n->gossip); /* loads change without a ring change */
    return &n->adm.ring;
}

/* ---- time ----------------------------------------------------------------------------- */

/* No client may stay on a node that does not serve, or in a channel whose
 * claim is no longer valid: within ADM_TICK_MS of either (claims.h's lease
 * bound is what makes that safe). */
static void enforce(node_core *n, int64_t now) {
    admission *m = &n->adm;
    shoal_outcome why = ccore_reason_now(n->cluster, now);
    if (why != SHOAL_OK) {
        adm_client *cs = m->clients.items;
        for (uint32_t k = 0; k < m->clients.len; k++)
            if (cs[k].phase != ADM_FREE)
                close_client(n, &cs[k], why, n->leaving ? 1001 : 1013,
                             n->leaving ? "the node is shutting down" : "this node does not serve now");
        if (claims_held_count(n->claims) > 0) claims_drop_all(n->claims);
        return;
    }
    for (uint32_t i = 0; i < m->chans.n; i++) {
        adm_chan *ch = chan_at(n, i);
        if (ch->nmembers == 0 || claims_valid(n->claims, now, lease_of(n), roster_of(n), ch->id)) continue;
        /* the last one gone releases the claim (ncore_client_gone) */
        for (int32_t k = ch->members; k >= 0; k = at(n, k)->next) {
            if (!at(n, k)->closing) n->stats.fenced++;
            close_client(n, at(n, k), SHOAL_CLAIM_LOST, 1013, "the channel's claim lapsed; connect again");
        }
    }
    /* The held, decided again: their node's suspicion may have ended (alive:
     * redirected there; dead: its channels left the table and the ring, so
     * they go to the new node), or the hold reached its bound. */
    int32_t h = m->held;
    m->held = -1;
    m->nheld = 0;
    while (h >= 0) {
        adm_client *a = at(n, h);
        int32_t next = a->next;
        a->phase = ADM_OPEN;
        a->prev = a->next = -1;
        decide(n, now, a); /* may hold it again */
        h = next;
    }
}

/* The others' loads (the cluster cap, the ring's bounded lookup) and this
 * node's own, gossiped when it changed. */
static void publish_load(node_core *n, int64_t now) {
    admission *m = &n->adm;
    uint64_t others = 0;
    for (uint32_t i = 1; i < swim_member_count(n->gossip); i++) {
        const swim_member *mb = swim_member_at(n->gossip, i);
        if (mb->state == SWIM_ALIVE || mb->state == SWIM_SUSPECT) others += mb->meta.load;
    }
    m->others_load = others;
    ring_refresh(n);
    view_ring_refresh_loads(&m->ring, n->gossip);
    uint32_t load = m->nsessions + m->npending;
    if (load != m->published_load) {
        wire_meta meta = swim_member_at(n->gossip, 0)->meta;
        meta.load = load;
        swim_set_meta(n->gossip, now, &meta);
        m->published_load = load;
    }
}

void adm_tick(node_core *n, int64_t now) {
    admission *m = &n->adm;
    if (now >= m->next_enforce) {
        m->next_enforce = now + ADM_TICK_MS;
        enforce(n, now);
    }
    if (now >= m->next_load) {
        m->next_load = now + LOAD_MS;
        publish_load(n, now);
    }
    sync_counts(n);
}

int64_t adm_next_deadline(const node_core *n) {
    const admission *m = &n->adm;
    /* enforcing only matters while there are clients, or claims to drop */
    int64_t d = m->next_load;
    if ((m->nclients > 0 || claims_held_count(n->claims) > 0) && m->next_enforce < d) d = m->next_enforce;
    return d;
}

void adm_init(node_core *n) {
    admission *m = &n->adm;
    memset(m, 0, sizeof *m);
    m->free_head = m->held = -1;
    keyed_init(&m->chans, sizeof(adm_chan), chan_key);
}

void adm_free(node_core *n) {
    keyed_free(&n->adm.chans);
    free(n->adm.clients.items);
    view_ring_free(&n->adm.ring);
    memset(&n->adm, 0, sizeof n->adm);
}
