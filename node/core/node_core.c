/* node_core.c - the wiring between one node's cores (see node_core.h). */
#include "node_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chtable_route.h"
#include "node_core_impl.h"

#define HEARTBEAT_MS 1000 /* the longest between two ticks (node_core.h) */
#define DRAIN_ROUNDS 64   /* a core's event may make another queue more: settle, bounded */

/* ---- the outbox ------------------------------------------------------------ */

/* A copy of one datagram to `to`: dropped when memory runs out, as a full
 * socket buffer would drop it. */
static void out_packet(node_core *n, shoal_addr to, const uint8_t *data, uint32_t len) {
    core_out o = {.kind = SWIM_OUT_PACKET, .addr = to, .len = len, .data = malloc(len ? len : 1)};
    if (o.data == NULL) return;
    memcpy(o.data, data, len);
    outbox_push(&n->out, &o);
}

void ncore_push_event(node_core *n, const ncore_event *e) {
    n->touched = true;
    vec_push(&n->events, e, sizeof *e);
}

/* The cluster core's datagrams (Raft, lease). */
static void env_send(void *ctx, shoal_addr to, const uint8_t *data, size_t len) {
    out_packet(ctx, to, data, (uint32_t)len);
}

static int env_persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    node_core *n = ctx;
    return n->env.persist(n->env.ctx, data, len, err, errlen);
}

static void table_send(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len) {
    out_packet(ctx, to->addr, data, len);
}

/* ---- after every input: every core's queues into this node's ------------------ */

static bool drain_member_events(node_core *n, int64_t now) {
    uint32_t count;
    const swim_event *sev = swim_events(n->gossip, &count);
    if (count == 0) return false;
    /* copied first: the cluster core calls into gossip, which may queue more */
    swim_event *copy = malloc(count * sizeof *copy);
    if (copy == NULL) return false; /* kept in the core: handled on the next call */
    memcpy(copy, sev, count * sizeof *copy);
    swim_events_clear(n->gossip);
    for (uint32_t i = 0; i < count; i++) {
        const swim_event *e = &copy[i];
        ncore_push_event(n, &(ncore_event){.kind = NCORE_EV_MEMBER, .member = *e});
        ccore_on_swim_event(n->cluster, now, e);
        if (e->type == SWIM_EV_DEAD || e->type == SWIM_EV_LEFT) chtable_forget(n->table, e->name);
        else if (e->type == SWIM_EV_JOIN || e->type == SWIM_EV_ALIVE) chtable_member_up(n->table, e->name);
    }
    free(copy);
    return true;
}

static bool drain_queues(node_core *n, int64_t now) {
    bool any = false;
    uint32_t count;
    const ccore_event *cev = ccore_events(n->cluster, &count);
    for (uint32_t i = 0; i < count; i++) vec_push(&n->cluster_events, &cev[i], sizeof cev[i]);
    if (count) ccore_events_clear(n->cluster), any = true;

    outbox_items(swim_outbox(n->gossip), &count); /* already by address: moved as they are */
    if (count) outbox_move(&n->out, swim_outbox(n->gossip)), any = true;

    const core_out *co = outbox_items(claims_outbox(n->claims), &count);
    for (uint32_t i = 0; i < count; i++) {
        const swim_member *m = swim_find(n->gossip, co[i].to);
        if (m != NULL) out_packet(n, m->addr, co[i].data, co[i].len);
        else n->stats.unroutable++;
    }
    if (count) outbox_clear(claims_outbox(n->claims)), any = true;

    const core_out *to = outbox_items(chtable_outbox(n->table), &count);
    for (uint32_t i = 0; i < count; i++) chtable_route(n->gossip, &n->table_cursor, &to[i], table_send, n);
    if (count) outbox_clear(chtable_outbox(n->table)), any = true;

    const claims_event *ce = claims_events(n->claims, &count);
    if (count > 0) { /* copied: deciding the waiting clients claims and releases again */
        claims_event *copy = malloc(count * sizeof *copy);
        if (copy != NULL) {
            memcpy(copy, ce, count * sizeof *copy);
            claims_events_clear(n->claims);
            for (uint32_t i = 0; i < count; i++) {
                ncore_push_event(n, &(ncore_event){.kind = NCORE_EV_CLAIM, .claim = copy[i]});
                adm_on_claim(n, now, &copy[i]);
            }
            free(copy);
            any = true;
        }
    }
    return any;
}

/* After every input: until no core has anything queued (bounded). */
void ncore_settle(node_core *n, int64_t now) {
    n->touched = true;
    for (int round = 0; round < DRAIN_ROUNDS; round++) {
        bool member = drain_member_events(n, now);
        if (!drain_queues(n, now) && !member) break;
    }
    if (n->leaving && !n->left && swim_leave_done(n->gossip, now)) { /* told whoever it could, or timed out */
        n->left = true;
        ncore_push_event(n, &(ncore_event){.kind = NCORE_EV_LEFT});
    }
}

/* ---- lifecycle ------------------------------------------------------------------ */

node_core *ncore_new(const ncore_config *cfg, const ncore_env *env, int64_t now, char *err, size_t errlen) {
    node_core *n = calloc(1, sizeof *n);
    if (n == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->env = *env;
    n->cfg = *cfg;
    n->cfg.contacts = NULL; /* borrowed for this call only */
    n->cfg.ncontacts = 0;
    n->cfg.state = NULL;
    n->cfg.state_len = 0;
    adm_init(n);
    uint64_t seed = cfg->seed;

    swim_config sc;
    swim_config_default(&sc);
    snprintf(sc.cluster_name, sizeof sc.cluster_name, "%s", cfg->cluster_name);
    snprintf(sc.node_name, sizeof sc.node_name, "%s", cfg->node_name);
    sc.addr = cfg->addr;
    sc.meta = cfg->meta;
    sc.meta.node_type = cfg->temporary ? WIRE_NODE_TEMPORARY : WIRE_NODE_REGULAR;
    /* the committed cluster id, so that the first packets already carry it */
    sc.cluster_id = ccore_state_cluster_id(cfg->state, cfg->state_len);
    sc.contacts = cfg->contacts;
    sc.ncontacts = cfg->ncontacts;
    n->gossip = swim_new(&sc, shoal_splitmix64(&seed), now);

    ccore_config cc;
    ccore_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, "%s", cfg->node_name);
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "%s", cfg->cluster_name);
    cc.cluster_port = cfg->addr.port;
    cc.temporary = cfg->temporary;
    for (uint32_t i = 0; i < cfg->ncontacts && cc.bootstrap.n < RAFT_MAX_MEMBERS; i++)
        snprintf(cc.bootstrap.names[cc.bootstrap.n++], WIRE_NAME_MAX + 1, "%s", cfg->contacts[i].name);
    ccore_env ce = {.ctx = n, .persist = env_persist, .send = env_send};
    if (n->gossip == NULL) {
        snprintf(err, errlen, "cannot create the gossip core (configuration or memory)");
        ncore_free(n);
        return NULL;
    }
    n->cluster = ccore_new(&cc, &ce, n->gossip, cfg->state, cfg->state_len, shoal_splitmix64(&seed), now, err,
                           errlen);
    if (n->cluster == NULL) {
        ncore_free(n);
        return NULL;
    }

    claims_config clc;
    claims_config_default(&clc);
    snprintf(clc.node_name, sizeof clc.node_name, "%s", cfg->node_name);
    snprintf(clc.cluster_name, sizeof clc.cluster_name, "%s", cfg->cluster_name);
    n->claims = claims_new(&clc);
    /* a fresh boot id each start: what others knew of this node's channels
     * before a restart is replaced, not merged */
    n->table = chtable_new(cfg->node_name, cfg->cluster_name, (uint32_t)shoal_splitmix64(&seed) | 1);
    n->table_cursor = (uint32_t)shoal_splitmix64(&seed); /* digests start at a different member on each node */
    if (n->claims == NULL || n->table == NULL) {
        snprintf(err, errlen, "out of memory");
        ncore_free(n);
        return NULL;
    }
    ncore_settle(n, now);
    return n;
}

void ncore_free(node_core *n) {
    if (n == NULL) return;
    adm_free(n);
    chtable_free(n->table);
    claims_free(n->claims);
    ccore_free(n->cluster);
    swim_free(n->gossip);
    outbox_free(&n->out);
    free(n->events.items);
    free(n->cluster_events.items);
    free(n);
}

/* ---- inputs ------------------------------------------------------------------------ */

static const lease *lease_of(const node_core *n) { return ccore_lease(n->cluster); }
static const raft_roster *roster_of(const node_core *n) { return raft_committed_roster(ccore_raft(n->cluster)); }

void ncore_recv_packet(node_core *n, int64_t now, shoal_addr from, const uint8_t *buf, size_t len) {
    int kind = wire_datagram_kind(buf, len);
    if (kind == CHTABLE_WIRE_KIND) {
        if (chtable_from_member(n->gossip, buf, len)) chtable_recv(n->table, buf, len);
        else n->stats.table_from_strangers++;
    } else if (kind == CLAIMS_WIRE_KIND) {
        claims_recv(n->claims, now, lease_of(n), roster_of(n), buf, len);
    } else if (kind >= 0 && kind != WIRE_VERSION) {
        ccore_recv(n->cluster, now, kind, buf, len); /* Raft, lease */
    } else {
        swim_recv_packet(n->gossip, now, from, buf, len); /* gossip, or malformed: swim counts it */
    }
    ncore_settle(n, now);
}

void ncore_recv_stream(node_core *n, int64_t now, shoal_addr from, uint64_t conn_id, const uint8_t *buf,
                       size_t len) {
    swim_recv_stream(n->gossip, now, from, conn_id, buf, len);
    ncore_settle(n, now);
}

void ncore_tick(node_core *n, int64_t now) {
    swim_tick(n->gossip, now);
    /* What gossip just decided (a member dead, say) reaches the cluster
     * core, the table and the ring before anything below decides with it:
     * a held client decided again in this same tick was otherwise sent to
     * the node just declared dead, whose channels the table still listed. */
    ncore_settle(n, now);
    ccore_tick(n->cluster, now);
    claims_tick(n->claims, now, lease_of(n), roster_of(n));
    chtable_tick(n->table, now);
    adm_tick(n, now);
    ncore_settle(n, now);
}

int64_t ncore_next_deadline(const node_core *n, int64_t now) {
    int64_t d = now + HEARTBEAT_MS, c;
    if ((c = swim_next_deadline(n->gossip)) < d) d = c;
    if ((c = ccore_next_deadline(n->cluster, now)) < d) d = c;
    if ((c = claims_next_deadline(n->claims)) < d) d = c;
    if ((c = chtable_next_deadline(n->table)) < d) d = c;
    if ((c = adm_next_deadline(n)) < d) d = c;
    return d;
}

void ncore_set_files(node_core *n, int64_t now, bool ok, const char *error) {
    ccore_set_files(n->cluster, now, ok, error);
    ncore_settle(n, now);
}

void ncore_leave(node_core *n, int64_t now) {
    n->leaving = true;
    ccore_set_leaving(n->cluster, now); /* stops serving first */
    swim_leave(n->gossip, now);
    ncore_settle(n, now);
}

bool ncore_leave_done(node_core *n, int64_t now) { return swim_leave_done(n->gossip, now); }

const char *ncore_register(node_core *n, int64_t now, const char *contact, uint64_t *id) {
    const char *e = ccore_register(n->cluster, now, contact, id);
    ncore_settle(n, now);
    return e;
}

const char *ncore_purge(node_core *n, int64_t now, const char *target, uint64_t *id) {
    const char *e = ccore_purge(n->cluster, now, target, id);
    ncore_settle(n, now);
    return e;
}

const char *ncore_init(node_core *n, int64_t now, const char names[][WIRE_NAME_MAX + 1], uint32_t count,
                       uint64_t *id) {
    const char *e = ccore_init(n->cluster, now, names, count, id);
    ncore_settle(n, now);
    return e;
}

void ncore_set_mode(node_core *n, int64_t now, uint8_t mode) {
    ccore_set_mode(n->cluster, now, mode);
    ncore_settle(n, now);
}

bool ncore_claim_valid(const node_core *n, int64_t now, const char *channel) {
    return claims_valid(n->claims, now, lease_of(n), roster_of(n), channel);
}

/* ---- outputs and state -------------------------------------------------------------- */

outbox *ncore_outbox(node_core *n) { return &n->out; }

const ncore_event *ncore_events(const node_core *n, uint32_t *count) {
    *count = n->events.len;
    return n->events.items;
}

void ncore_events_clear(node_core *n) { n->events.len = 0; }

const ccore_event *ncore_cluster_events(const node_core *n, uint32_t *count) {
    *count = n->cluster_events.len;
    return n->cluster_events.items;
}

void ncore_cluster_events_clear(node_core *n) { n->cluster_events.len = 0; }

bool ncore_untouched(node_core *n) {
    bool was = !n->touched;
    n->touched = false;
    return was;
}

const swim *ncore_swim(const node_core *n) { return n->gossip; }
const cluster_core *ncore_cluster(const node_core *n) { return n->cluster; }
const claims *ncore_claims(const node_core *n) { return n->claims; }
const chtable *ncore_table(const node_core *n) { return n->table; }
const ncore_stats *ncore_stats_of(const node_core *n) { return &n->stats; }
