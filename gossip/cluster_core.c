/* cluster_core.c - roster, lease and serving decision of one node (see .h). */
#include "cluster_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

struct cluster_core {
    ccore_config cfg;
    ccore_env env;
    swim *gossip;                /* borrowed */
    raft *raft;
    lease *lease;
    bool started_empty;          /* no roster data at start: may be registered again */
    bool files_ok, leaving;
    char files_error[CCORE_ERROR_MAX];
    int64_t next_register;
    uint8_t mode;                /* the operator's mode (wire_mode) */
    bool majority, serving;      /* as of the last input */
    shoal_outcome reason;        /* why not serving, SHOAL_OK when serving */
    uint64_t last_commit_seen;
    vec events;                  /* of ccore_event */
};

static const char *MODE_NAMES[] = {"normal", "block_new_session", "block_new_connection"};

const char *wire_mode_name(uint8_t mode) { return mode <= 2 ? MODE_NAMES[mode] : "unknown"; }

int wire_mode_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, MODE_NAMES[i]) == 0) return i;
    return -1;
}

void ccore_config_default(ccore_config *c) {
    memset(c, 0, sizeof *c);
    c->cluster_port = 49010;
    raft_config_default(&c->raft);
    lease_config_default(&c->lease);
}

static bool in_roster(const raft_roster *ro, const char *name) {
    for (uint32_t i = 0; i < ro->n; i++)
        if (strcmp(ro->names[i], name) == 0) return true;
    return false;
}

static ccore_event *push_event(cluster_core *c, ccore_event_type type) {
    ccore_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    if (!vec_push(&c->events, &e, sizeof e)) return NULL; /* out of memory: the event is lost, not the state */
    return (ccore_event *)c->events.items + c->events.len - 1;
}

static bool name_addr(const cluster_core *c, const char *name, shoal_addr *a) {
    uint32_t ip;
    if (!shoal_node_name_ip(name, &ip)) return false;
    a->ip = ip;
    a->port = c->cfg.cluster_port;
    return true;
}

/* The newest roster entry about this node is its removal: it was purged. */
bool ccore_purged(const cluster_core *c) {
    const char *me = c->cfg.node_name;
    for (uint64_t i = raft_commit_index(c->raft); i >= 1; i--) {
        const raft_entry *e = raft_entry_at(c->raft, i);
        if (e->kind == RAFT_REMOVE && strcmp(e->subject, me) == 0) return true;
        if ((e->kind == RAFT_ADD && strcmp(e->subject, me) == 0) || e->kind == RAFT_INIT) return false;
    }
    return false;
}

bool ccore_is_member(const cluster_core *c, const char *name) {
    return in_roster(raft_committed_roster(c->raft), name);
}

/* ---- serving state ------------------------------------------------------ */

static bool has_majority(const cluster_core *c, int64_t now) {
#ifdef SHOAL_PLANTED_FAULT_NO_MAJORITY
    /* Planted fault for bench/splitbrain's self-test only: serve without
     * the majority lease. Never built into shoald. */
    (void)now;
    return raft_committed_roster(c->raft)->cluster_id != 0;
#else
    return raft_committed_roster(c->raft)->cluster_id != 0 && lease_valid(c->lease, now);
#endif
}

static shoal_outcome compute_reason(const cluster_core *c, int64_t now) {
    const raft_roster *ro = raft_committed_roster(c->raft);
    if (c->leaving) return SHOAL_NODE_LEAVING;
    if (!c->files_ok) return SHOAL_FILES_NOT_WRITABLE;
    if (ro->cluster_id == 0) return SHOAL_CLUSTER_NOT_INITIALIZED;
    if (!in_roster(ro, c->cfg.node_name) && !c->cfg.temporary)
        return ccore_purged(c) ? SHOAL_NODE_PURGED : SHOAL_NODE_NOT_REGISTERED;
    if (!has_majority(c, now)) return SHOAL_CLUSTER_NOT_MAJORITY;
    return SHOAL_OK;
}

static void publish_mode(cluster_core *c, int64_t now);

static void update_serving(cluster_core *c, int64_t now) {
    bool was_serving = c->serving, had_majority = c->majority;
    shoal_outcome old_reason = c->reason;
    c->majority = has_majority(c, now);
    c->reason = compute_reason(c, now);
    c->serving = c->reason == SHOAL_OK;
    ccore_event *e;
    if (had_majority != c->majority && (e = push_event(c, CCORE_EV_MAJORITY)) != NULL) {
        e->on = c->majority;
        e->value = lease_expires(c->lease, now) - now;
    }
    if (was_serving != c->serving) publish_mode(c, now);
    if ((was_serving != c->serving || (old_reason != c->reason && !c->serving)) &&
        (e = push_event(c, CCORE_EV_SERVING)) != NULL) {
        e->on = c->serving;
        e->reason = c->reason;
    }
    if (c->reason != old_reason && c->reason == SHOAL_NODE_PURGED &&
        (e = push_event(c, CCORE_EV_PURGED)) != NULL)
        e->on = c->started_empty;
}

/* Metadata carries the effective mode and whether this node serves, so
 * that every node's placement ring holds exactly the nodes that may take
 * channels (placement/view.h). Published only when one of them changes. */
static void publish_mode(cluster_core *c, int64_t now) {
    wire_meta m = swim_member_at(c->gossip, 0)->meta;
    m.mode = ccore_effective_mode(c);
    m.serving = c->serving;
    if (!wire_meta_equal(&m, &swim_member_at(c->gossip, 0)->meta)) swim_set_meta(c->gossip, now, &m);
}

/* ---- output ------------------------------------------------------------- */

static void handle_raft_events(cluster_core *c) {
    uint32_t n;
    const raft_event *ev = raft_events(c->raft, &n);
    for (uint32_t i = 0; i < n; i++) {
        const raft_event *re = &ev[i];
        ccore_event *e;
        switch (re->type) {
        case RAFT_EV_LEADER:
            if ((e = push_event(c, CCORE_EV_LEADER)) == NULL) break;
            snprintf(e->name, sizeof e->name, "%s", re->name);
            e->value = (int64_t)raft_term(c->raft);
            break;
        case RAFT_EV_COMMITTED: {
            const raft_roster *ro = raft_committed_roster(c->raft);
            lease_set_roster(c->lease, ro);
            swim_set_cluster_id(c->gossip, ro->cluster_id);
            if (re->index > c->last_commit_seen) {
                c->last_commit_seen = re->index;
                if ((e = push_event(c, CCORE_EV_COMMITTED)) == NULL) break;
                e->index = re->index;
                e->roster = *ro;
            }
            break;
        }
        case RAFT_EV_PROPOSAL_DONE:
            if ((e = push_event(c, CCORE_EV_PROPOSAL_DONE)) == NULL) break;
            e->id = re->id;
            snprintf(e->name, sizeof e->name, "%s", re->name);
            snprintf(e->error, sizeof e->error, "%s", re->error);
            break;
        }
    }
    raft_events_clear(c->raft);
}

/* Writes before the messages that depend on them: a failed write drops the
 * rest of the outbox (raft.h's contract) and blocks new connections. */
static void send_raft_outbox(cluster_core *c, int64_t now) {
    uint32_t n;
    const core_out *o = outbox_items(raft_outbox(c->raft), &n);
    bool failed = false;
    for (uint32_t i = 0; i < n && !failed; i++) {
        if (o[i].kind == RAFT_OUT_PERSIST) {
            char err[CCORE_ERROR_MAX] = "";
            if (c->env.persist(c->env.ctx, o[i].data, o[i].len, err, sizeof err) == 0) continue;
            failed = true;
            c->files_ok = false;
            snprintf(c->files_error, sizeof c->files_error, "%s", err);
            ccore_event *e = push_event(c, CCORE_EV_FILES);
            if (e != NULL) snprintf(e->error, sizeof e->error, "%s", err);
            continue;
        }
        shoal_addr a;
        if (name_addr(c, o[i].to, &a)) c->env.send(c->env.ctx, a, o[i].data, o[i].len);
    }
    outbox_clear(raft_outbox(c->raft));
    if (failed) {
        raft_persist_failed(c->raft, now);
        outbox_clear(raft_outbox(c->raft));
        publish_mode(c, now);
    }
}

static void send_lease_outbox(cluster_core *c, int64_t now) {
    uint32_t n;
    const core_out *o = outbox_items(lease_outbox(c->lease), &n);
    for (uint32_t i = 0; i < n; i++) {
        shoal_addr a;
        if (name_addr(c, o[i].to, &a)) c->env.send(c->env.ctx, a, o[i].data, o[i].len);
    }
    outbox_clear(lease_outbox(c->lease));
    /* A member that missed a lease ping: SWIM probes it now (indirectly). */
    const char(*silent)[WIRE_NAME_MAX + 1] = lease_silent(c->lease, &n);
    for (uint32_t i = 0; i < n; i++) swim_probe_now(c->gossip, now, silent[i]);
    lease_silent_clear(c->lease);
}

/* After every input: events, writes, datagrams, state. */
static void flush(cluster_core *c, int64_t now) {
    for (int round = 0; round < 8; round++) {
        uint32_t ne, no;
        raft_events(c->raft, &ne);
        outbox_items(raft_outbox(c->raft), &no);
        if (ne == 0 && no == 0) break;
        handle_raft_events(c);
        send_raft_outbox(c, now);
    }
    send_lease_outbox(c, now);
    update_serving(c, now);
}

/* ---- inputs ------------------------------------------------------------- */

static void maybe_register(cluster_core *c, int64_t now) {
    const raft_roster *ro = raft_committed_roster(c->raft);
    if (c->cfg.temporary || ro->cluster_id == 0 || in_roster(ro, c->cfg.node_name) || ccore_purged(c)) return;
    if (now < c->next_register || raft_leader(c->raft)[0] == '\0') return;
    c->next_register = now + CCORE_REGISTER_RETRY_MS;
    raft_propose(c->raft, now, RAFT_ADD, c->cfg.node_name, NULL, 0);
}

void ccore_tick(cluster_core *c, int64_t now) {
    raft_tick(c->raft, now);
    lease_tick(c->lease, now);
    maybe_register(c, now);
    flush(c, now);
}

int64_t ccore_next_deadline(const cluster_core *c, int64_t now) {
    int64_t d = raft_next_deadline(c->raft);
    int64_t l = lease_next_deadline(c->lease);
    if (l < d) d = l;
    if (c->serving) {
        int64_t e = lease_expires(c->lease, now);
        if (e < d) d = e;
    }
    if (!c->serving && c->next_register < d && c->next_register > now) d = c->next_register;
    return d;
}

void ccore_recv(cluster_core *c, int64_t now, int kind, const uint8_t *buf, size_t len) {
    if (kind == RAFT_WIRE_KIND) raft_recv(c->raft, now, "", buf, len);
    else if (kind == LEASE_WIRE_KIND) lease_recv(c->lease, now, buf, len);
    else return;
    flush(c, now);
}

void ccore_on_swim_event(cluster_core *c, int64_t now, const swim_event *ev) {
    bool down = ev->type == SWIM_EV_DEAD || ev->type == SWIM_EV_LEFT;
    bool up = ev->type == SWIM_EV_JOIN || ev->type == SWIM_EV_ALIVE;
    if (!down && !up && ev->type != SWIM_EV_SUSPECT) return;
    if (strcmp(ev->name, c->cfg.node_name) == 0) return;
    if (down || up) lease_revoke(c->lease, ev->name, down, now);
    raft_set_member_down(c->raft, now, ev->name, !up);
    flush(c, now);
}

void ccore_set_files(cluster_core *c, int64_t now, bool ok, const char *error) {
    if (ok == c->files_ok) return;
    c->files_ok = ok;
    snprintf(c->files_error, sizeof c->files_error, "%s", ok ? "" : error);
    ccore_event *e = push_event(c, CCORE_EV_FILES);
    if (e != NULL) {
        e->on = ok;
        snprintf(e->error, sizeof e->error, "%s", c->files_error);
    }
    publish_mode(c, now);
    flush(c, now);
}

void ccore_set_leaving(cluster_core *c, int64_t now) {
    c->leaving = true;
    flush(c, now);
}

/* ---- operator actions ---------------------------------------------------- */

const char *ccore_register(cluster_core *c, int64_t now, const char *contact, uint64_t *id) {
    if (c->cfg.temporary) return "TEMPORARY-NODE";
    if (ccore_is_member(c, c->cfg.node_name)) return "ALREADY-REGISTERED";
    if (ccore_purged(c) && !c->started_empty) return "WIPE-DATA-FIRST";
    if (contact != NULL && contact[0]) {
        shoal_addr a;
        if (!name_addr(c, contact, &a)) return "INVALID-CONTACT";
        swim_add_contact(c->gossip, now, contact, a);
        raft_add_peer_hint(c->raft, contact);
    }
    *id = raft_propose(c->raft, now, RAFT_ADD, c->cfg.node_name, NULL, 0);
    c->next_register = now + CCORE_REGISTER_RETRY_MS;
    flush(c, now);
    return NULL;
}

const char *ccore_purge(cluster_core *c, int64_t now, const char *target, uint64_t *id) {
    *id = raft_propose(c->raft, now, RAFT_REMOVE, target, NULL, 0);
    flush(c, now);
    return NULL;
}

const char *ccore_init(cluster_core *c, int64_t now, const char names[][WIRE_NAME_MAX + 1], uint32_t n,
                       uint64_t *id) {
    raft_roster ro = {0};
    if (n == 0 || n > RAFT_MAX_MEMBERS) return "INVALID-NODE-LIST";
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ip;
        if (!shoal_node_name_ip(names[i], &ip)) return "INVALID-NODE-LIST";
        if (!in_roster(&ro, names[i])) snprintf(ro.names[ro.n++], WIRE_NAME_MAX + 1, "%s", names[i]);
    }
    /* Following the recovery procedure on a cluster that already came back
     * with exactly this roster (from a survivor's data, or formed from the
     * contact lists) is not an error: nothing to do. */
    const raft_roster *cur = raft_committed_roster(c->raft);
    bool same = cur->cluster_id != 0 && cur->n == ro.n;
    for (uint32_t i = 0; same && i < ro.n; i++) same = in_roster(cur, ro.names[i]);
    if (same) {
        *id = 0;
        return NULL;
    }
    *id = raft_propose(c->raft, now, RAFT_INIT, NULL, &ro, 0);
    flush(c, now);
    return NULL;
}

void ccore_set_mode(cluster_core *c, int64_t now, uint8_t mode) {
    if (mode == c->mode || mode > WIRE_MODE_BLOCK_NEW_CONNECTION) return;
    c->mode = mode;
    publish_mode(c, now);
    flush(c, now);
}

/* ---- lifecycle and views -------------------------------------------------- */

cluster_core *ccore_new(const ccore_config *cfg, const ccore_env *env, swim *gossip, const uint8_t *state,
                        size_t state_len, uint64_t seed, int64_t now, char *err, size_t errlen) {
    cluster_core *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->env = *env;
    c->gossip = gossip;
    c->files_ok = true;
    c->started_empty = state == NULL || state_len == 0;
    raft_config rc = cfg->raft;
    snprintf(rc.node_name, sizeof rc.node_name, "%s", cfg->node_name);
    snprintf(rc.cluster_name, sizeof rc.cluster_name, "%s", cfg->cluster_name);
    rc.learner = cfg->temporary;
    c->raft = raft_new(&rc, state, state_len, &cfg->bootstrap, seed, now);
    if (c->raft == NULL) {
        snprintf(err, errlen, "roster state is corrupt (bad magic, version, checksum or bounds)");
        free(c);
        return NULL;
    }
    lease_config lc = cfg->lease;
    uint64_t sx = seed ^ 0xb007b007b007ULL;
    lc.boot_id = (uint32_t)shoal_splitmix64(&sx) | 1; /* never 0: 0 means "an old node, no boot id" */
    snprintf(lc.node_name, sizeof lc.node_name, "%s", cfg->node_name);
    snprintf(lc.cluster_name, sizeof lc.cluster_name, "%s", cfg->cluster_name);
    c->lease = lease_new(&lc, now);
    if (c->lease == NULL) {
        snprintf(err, errlen, "out of memory");
        raft_free(c->raft);
        free(c);
        return NULL;
    }
    const raft_roster *ro = raft_committed_roster(c->raft);
    lease_set_roster(c->lease, ro);
    swim_set_cluster_id(gossip, ro->cluster_id);
    c->last_commit_seen = raft_commit_index(c->raft);
    c->reason = SHOAL_CLUSTER_NOT_INITIALIZED;
    flush(c, now);
    return c;
}

uint64_t ccore_state_cluster_id(const uint8_t *state, size_t len) {
    uint64_t term, commit, n, id = 0;
    char voted[WIRE_NAME_MAX + 1];
    raft_entry *e = NULL;
    if (state != NULL && raft_decode_state(state, len, &term, voted, &commit, &e, &n) && commit >= 1)
        id = e[commit - 1].roster.cluster_id;
    free(e);
    return id;
}

void ccore_free(cluster_core *c) {
    if (c == NULL) return;
    raft_free(c->raft);
    lease_free(c->lease);
    free(c->events.items);
    free(c);
}

const ccore_event *ccore_events(const cluster_core *c, uint32_t *n) {
    *n = c->events.len;
    return c->events.items;
}

void ccore_events_clear(cluster_core *c) { c->events.len = 0; }

shoal_outcome ccore_reason_now(const cluster_core *c, int64_t now) { return compute_reason(c, now); }
bool ccore_serving(const cluster_core *c) { return c->serving; }
bool ccore_majority(const cluster_core *c) { return c->majority; }
shoal_outcome ccore_reason(const cluster_core *c) { return c->reason; }
uint8_t ccore_mode(const cluster_core *c) { return c->mode; }
uint8_t ccore_effective_mode(const cluster_core *c) {
    return c->files_ok ? c->mode : WIRE_MODE_BLOCK_NEW_CONNECTION;
}
bool ccore_files_ok(const cluster_core *c) { return c->files_ok; }
const char *ccore_files_error(const cluster_core *c) { return c->files_error; }
bool ccore_started_empty(const cluster_core *c) { return c->started_empty; }
const raft *ccore_raft(const cluster_core *c) { return c->raft; }
const lease *ccore_lease(const cluster_core *c) { return c->lease; }
