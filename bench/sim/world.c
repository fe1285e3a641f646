/* world.c - the simulated nodes: each one a SWIM core and a cluster core
 * (exactly what shoald runs), with its own clock, disk and process state
 * (up, crashed, paused, leaving). This file plays the part of shoald's
 * adapters (node/gossip_io.c, node/cluster.c): it routes datagrams by kind,
 * drains outboxes and events after every call, probes the disk every 2 s
 * and keeps one timer at the cores' next deadline. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_CONTACTS 5 /* contact_node_name_list: the first regular nodes */

/* ---- clocks ---------------------------------------------------------------- */

static int64_t local_us(const sim_node *nd, int64_t now) {
    return now + now * nd->rate_ppm / 1000000 + nd->offset_us;
}

int64_t node_local_ms(const sim_node *nd, int64_t now) {
    int64_t u = local_us(nd, now);
    return u >= 0 ? u / 1000 : -((-u + 999) / 1000);
}

/* The first true time at which the node's clock reads at least ms. */
static int64_t true_time_of(const sim_node *nd, int64_t ms, int64_t now) {
    int64_t t = ((ms * 1000 - nd->offset_us) * 1000000) / (1000000 + nd->rate_ppm);
    if (t < now) t = now;
    while (node_local_ms(nd, t) < ms) t++;
    return t;
}

/* ---- environment of the cluster core ----------------------------------------- */

static int env_persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    sim_node *nd = ctx;
    if (nd->disk_fails) {
        snprintf(err, errlen, "cannot write raft.state: Input/output error (simulated disk fault)");
        return -1;
    }
    uint8_t *p = malloc(len);
    if (p == NULL) abort();
    memcpy(p, data, len);
    free(nd->disk);
    nd->disk = p;
    nd->disk_len = len;
    return 0;
}

static void env_send(void *ctx, shoal_addr to, const uint8_t *data, size_t len) {
    sim_node *nd = ctx;
    net_send(nd->world, nd->id, to, data, len);
}

/* ---- after every call into the cores ---------------------------------------- */

static const char *const EV_NAMES[] = {"majority", "serving", "purged", "leader", "committed", "proposal_done",
                                       "files"};

static void trace_ccore_event(sim *s, const sim_node *nd, const ccore_event *e) {
    switch (e->type) {
    case CCORE_EV_SERVING:
        sim_trace(s, "n%d %s%s%s", nd->id + 1, e->on ? "serving" : "not serving", e->on ? "" : ": ",
                  e->on ? "" : e->reason);
        break;
    case CCORE_EV_COMMITTED: {
        char names[512] = "";
        size_t o = 0;
        for (uint32_t i = 0; i < e->roster.n && o < sizeof names - 80; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%.*s", i ? "," : "",
                                  (int)strcspn(e->roster.names[i], "@"), e->roster.names[i]);
        sim_trace(s, "n%d roster committed index %llu cluster %016llx [%s]", nd->id + 1,
                  (unsigned long long)e->index, (unsigned long long)e->roster.cluster_id, names);
        break;
    }
    case CCORE_EV_LEADER:
        sim_trace(s, "n%d leader %s term %lld", nd->id + 1, e->name[0] ? e->name : "(none)", (long long)e->value);
        break;
    case CCORE_EV_PROPOSAL_DONE:
        sim_trace(s, "n%d proposal %llu %s: %s", nd->id + 1, (unsigned long long)e->id, e->name,
                  e->error[0] ? e->error : "committed");
        break;
    default:
        sim_trace(s, "n%d %s %s%s", nd->id + 1, EV_NAMES[e->type], e->on ? "on" : "off",
                  e->error[0] ? e->error : "");
    }
}

static void table_send_one(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len) {
    const sim_node *nd = ((void **)ctx)[1];
    net_send(((void **)ctx)[0], nd->id, to->addr, data, len);
}

void table_send(sim *s, sim_node *nd, const chtable_out *o) {
    void *ctx[2] = {s, nd};
    chtable_route(nd->gossip, &nd->table_cursor, o, table_send_one, ctx);
}

static void drain(sim *s, sim_node *nd) {
    int64_t local = node_local_ms(nd, s->now);
    for (int round = 0; round < 64; round++) {
        bool any = false;
        uint32_t n;
        const swim_event *sev = swim_events(nd->gossip, &n);
        if (n > 0) {
            any = true;
            swim_event *copy = malloc(n * sizeof *copy);
            if (copy == NULL) abort();
            memcpy(copy, sev, n * sizeof *copy);
            swim_events_clear(nd->gossip);
            for (uint32_t i = 0; i < n; i++) {
                if (s->trace)
                    sim_trace(s, "n%d gossip %s %s inc %u%s%s", nd->id + 1, swim_event_name(copy[i].type),
                              copy[i].name, copy[i].incarnation, copy[i].from[0] ? " from " : "", copy[i].from);
                check_swim_event(s, nd->id, &copy[i]);
                ccore_on_swim_event(nd->core, local, &copy[i]);
                if (copy[i].type == SWIM_EV_DEAD || copy[i].type == SWIM_EV_LEFT) chtable_forget(nd->table, copy[i].name);
                if (copy[i].type == SWIM_EV_JOIN || copy[i].type == SWIM_EV_ALIVE) chtable_member_up(nd->table, copy[i].name);
            }
            free(copy);
        }
        const ccore_event *cev = ccore_events(nd->core, &n);
        if (n > 0) any = true;
        for (uint32_t i = 0; i < n; i++) {
            if (s->trace) trace_ccore_event(s, nd, &cev[i]);
            if (cev[i].type == CCORE_EV_SERVING) {
                nd->serving = cev[i].on;
                check_serving_changed(s, nd->id);
            }
        }
        ccore_events_clear(nd->core);
        const swim_out *o = swim_outbox(nd->gossip, &n);
        if (n > 0) any = true;
        for (uint32_t i = 0; i < n; i++) {
            if (o[i].kind == SWIM_OUT_PACKET) net_send(s, nd->id, o[i].to, o[i].data, o[i].len);
            else net_stream(s, nd->id, &o[i]);
        }
        swim_outbox_clear(nd->gossip);
        const claims_out *co = claims_outbox(nd->cl, &n);
        if (n > 0) any = true;
        for (uint32_t i = 0; i < n; i++) {
            int to = sim_node_of(s, co[i].to);
            if (to >= 0) net_send(s, nd->id, s->nodes[to].addr, co[i].data, co[i].len);
        }
        claims_outbox_clear(nd->cl);
        const chtable_out *to = chtable_outbox(nd->table, &n);
        if (n > 0) any = true;
        for (uint32_t i = 0; i < n; i++) table_send(s, nd, &to[i]);
        chtable_outbox_clear(nd->table);
        claims_events(nd->cl, &n);
        if (n > 0) {
            any = true;
            clients_on_claims(s, nd);
        }
        if (!any) break;
    }
    clients_enforce(s, nd);
    check_roster(s, nd->id);
}

void node_schedule(sim *s, sim_node *nd) {
    if (!nd->up || nd->paused) return;
    int64_t local = node_local_ms(nd, s->now);
    int64_t d = swim_next_deadline(nd->gossip);
    int64_t c = ccore_next_deadline(nd->core, local);
    if (c < d) d = c;
    c = claims_next_deadline(nd->cl);
    if (c < d) d = c;
    if (nd->next_file_probe < d) d = nd->next_file_probe;
    if (d > local + 1000) d = local + 1000; /* the adapter's heartbeat */
    if (d <= local) d = local + 1;
    int64_t t = true_time_of(nd, d, s->now);
    if (nd->timer_at != INT64_MAX && nd->timer_at <= t) return; /* an earlier wakeup is pending */
    nd->timer_at = t;
    heap_push(&s->heap, (sim_event){.at = t, .type = EV_TIMER, .node = (int16_t)nd->id, .gen = ++nd->timer_token});
}

static void after(sim *s, sim_node *nd) {
    drain(s, nd);
    node_schedule(s, nd);
}

/* ---- lifecycle ----------------------------------------------------------------- */

void node_start(sim *s, sim_node *nd, bool wipe) {
    if (wipe) {
        free(nd->disk);
        nd->disk = NULL;
        nd->disk_len = 0;
    }
    int64_t local = node_local_ms(nd, s->now);
    uint64_t x = s->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)nd->id * 1000003u + nd->gen;
    swim_config sc;
    swim_config_default(&sc);
    snprintf(sc.cluster_name, sizeof sc.cluster_name, "sim");
    snprintf(sc.node_name, sizeof sc.node_name, "%s", nd->name);
    sc.addr = nd->addr;
    sc.meta.node_type = nd->temporary ? WIRE_NODE_TEMPORARY : WIRE_NODE_REGULAR;
    snprintf(sc.meta.version, sizeof sc.meta.version, "sim");
    sc.meta.weight = 100;
    sc.cluster_id = ccore_state_cluster_id(nd->disk, nd->disk_len);
    swim_contact contacts[SIM_CONTACTS];
    uint32_t nc = 0;
    for (int i = 0; i < s->sc->regular && nc < SIM_CONTACTS; i++) {
        snprintf(contacts[nc].name, sizeof contacts[nc].name, "%s", s->nodes[i].name);
        contacts[nc++].addr = s->nodes[i].addr;
    }
    sc.contacts = contacts;
    sc.ncontacts = nc;
    nd->gossip = swim_new(&sc, shoal_splitmix64(&x), local);
    ccore_config cc;
    ccore_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, "%s", nd->name);
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "sim");
    cc.cluster_port = SIM_PORT;
    cc.temporary = nd->temporary;
    for (uint32_t i = 0; i < nc; i++) memcpy(cc.bootstrap.names[cc.bootstrap.n++], contacts[i].name, WIRE_NAME_MAX + 1);
    ccore_env env = {.ctx = nd, .persist = env_persist, .send = env_send};
    char err[CCORE_ERROR_MAX];
    nd->core = nd->gossip ? ccore_new(&cc, &env, nd->gossip, nd->disk, nd->disk_len, shoal_splitmix64(&x), local,
                                      err, sizeof err)
                          : NULL;
    if (nd->core == NULL) {
        sim_fail(s, "n%d cannot start: %s", nd->id + 1, nd->gossip ? err : "gossip core");
        swim_free(nd->gossip);
        nd->gossip = NULL;
        return;
    }
    claims_config clc;
    claims_config_default(&clc);
    snprintf(clc.node_name, sizeof clc.node_name, "%s", nd->name);
    snprintf(clc.cluster_name, sizeof clc.cluster_name, "sim");
    nd->cl = claims_new(&clc);
    nd->table = chtable_new(nd->name, "sim", (uint32_t)shoal_splitmix64(&x) | 1);
    nd->table_cursor = (uint32_t)shoal_splitmix64(&x); /* digests start at a different member on each node */
    if (nd->cl == NULL || nd->table == NULL) abort();
    memset(nd->clients, 0, sizeof nd->clients);
    nd->up = true;
    nd->paused = false;
    nd->leaving = false;
    nd->was_leader = false;
    nd->serving = false;
    nd->gen++;
    nd->up_since = s->now;
    nd->timer_at = INT64_MAX;
    nd->next_file_probe = local + SIM_FILE_PROBE_MS;
    nd->commit_checked = 0;
    nd->checked_cluster = 0;
    for (int j = 0; j < s->n; j++) s->nogrant_since[nd->id * s->n + j] = INT64_MAX;
    sim_trace(s, "n%d started%s (roster state %zu bytes)", nd->id + 1, wipe ? " with an empty disk" : "",
              nd->disk_len);
    after(s, nd);
}

static void drop_inbox(sim_node *nd) {
    for (uint32_t i = 0; i < nd->ninbox; i++) free(nd->inbox[i].data);
    nd->ninbox = 0;
}

void node_crash(sim *s, sim_node *nd) {
    if (!nd->up) return;
    clients_node_down(s, nd);
    claims_free(nd->cl);
    nd->cl = NULL;
    chtable_free(nd->table);
    nd->table = NULL;
    ccore_free(nd->core);
    swim_free(nd->gossip);
    view_ring_free(&nd->ring);
    memset(&nd->ring, 0, sizeof nd->ring);
    nd->core = NULL;
    nd->gossip = NULL;
    nd->up = false;
    nd->paused = false;
    nd->serving = false;
    nd->gen++;
    nd->timer_at = INT64_MAX;
    drop_inbox(nd);
    check_node_down(s, nd->id);
    sim_trace(s, "n%d stopped", nd->id + 1);
}

void node_leave(sim *s, sim_node *nd) {
    if (!nd->up || nd->paused || nd->leaving) return;
    int64_t local = node_local_ms(nd, s->now);
    nd->leaving = true;
    sim_trace(s, "n%d leaving", nd->id + 1);
    ccore_set_leaving(nd->core, local); /* stops serving first, as shoald does */
    swim_leave(nd->gossip, local);
    after(s, nd);
}

/* ---- inputs ------------------------------------------------------------------- */

static void handle(sim *s, sim_node *nd, sim_event *ev) {
    int64_t local = node_local_ms(nd, s->now);
    s->last_deliv[ev->from * s->n + nd->id] = s->now;
    shoal_addr from = s->nodes[ev->from].addr;
    if (ev->type == EV_PACKET) {
        int kind = wire_datagram_kind(ev->data, ev->len);
        char what[160];
        if (s->trace && kind == CHTABLE_WIRE_KIND && chtable_describe(ev->data, ev->len, what, sizeof what))
            sim_trace(s, "n%d>n%d %s %uB", ev->from + 1, nd->id + 1, what, ev->len);
        else if (s->trace)
            sim_trace(s, "n%d>n%d kind %d %uB", ev->from + 1, nd->id + 1, kind, ev->len);
        if (kind == CHTABLE_WIRE_KIND) {
            if (chtable_from_member(nd->gossip, ev->data, ev->len)) chtable_recv(nd->table, ev->data, ev->len);
        }
        else if (kind == CLAIMS_WIRE_KIND)
            claims_recv(nd->cl, local, ccore_lease(nd->core), raft_committed_roster(ccore_raft(nd->core)), ev->data,
                        ev->len);
        else if (kind >= 0 && kind != WIRE_VERSION) ccore_recv(nd->core, local, kind, ev->data, ev->len);
        else swim_recv_packet(nd->gossip, local, from, ev->data, ev->len);
    } else {
        if (s->trace)
            sim_trace(s, "n%d>n%d stream %s %uB", ev->from + 1, nd->id + 1, ev->type == EV_STREAM_REQ ? "request" : "reply",
                      ev->len);
        swim_recv_stream(nd->gossip, local, from, ev->type == EV_STREAM_REQ ? ev->conn : 0, ev->data, ev->len);
    }
    after(s, nd);
}

/* Takes ownership of ev->data. */
void node_deliver(sim *s, sim_event *ev) {
    sim_node *nd = &s->nodes[ev->node];
    bool cut = s->cut[ev->from * s->n + ev->node] != 0;
    bool stale = ev->type == EV_STREAM_REPLY && ev->gen != nd->gen;
    if (cut || stale || !nd->up) {
        if (s->trace)
            sim_trace(s, "n%d>n%d dropped (%s)", ev->from + 1, ev->node + 1, cut ? "cut" : "not running");
        free(ev->data);
        return;
    }
    if (nd->paused) { /* the socket holds it until the process runs again */
        if (nd->ninbox < SIM_PAUSE_BUFFER) {
            nd->inbox[nd->ninbox++] = *ev;
            return;
        }
        free(ev->data);
        return;
    }
    handle(s, nd, ev);
    free(ev->data);
}

void node_timer(sim *s, sim_node *nd) {
    if (!nd->up || nd->paused) return;
    int64_t local = node_local_ms(nd, s->now);
    if (local >= nd->next_file_probe) {
        nd->next_file_probe = local + SIM_FILE_PROBE_MS;
        ccore_set_files(nd->core, local, !nd->disk_fails, "data_dir: Input/output error (simulated disk fault)");
    }
    swim_tick(nd->gossip, local);
    ccore_tick(nd->core, local);
    claims_tick(nd->cl, local, ccore_lease(nd->core), raft_committed_roster(ccore_raft(nd->core)));
    chtable_tick(nd->table, local);
    if (nd->leaving && swim_leave_done(nd->gossip, local)) {
        drain(s, nd);
        node_crash(s, nd); /* the process exits after its leave went out */
        return;
    }
    after(s, nd);
}

/* A stalled process runs again: it reads what its socket holds first. */
void node_resume(sim *s, sim_node *nd) {
    if (!nd->up || !nd->paused) return;
    nd->paused = false;
    nd->pause_end = s->now;
    sim_trace(s, "n%d resumed (%u datagrams waiting)", nd->id + 1, nd->ninbox);
    for (uint32_t i = 0; i < nd->ninbox && nd->up; i++) {
        handle(s, nd, &nd->inbox[i]);
        free(nd->inbox[i].data);
        nd->inbox[i].data = NULL;
    }
    nd->ninbox = 0;
    nd->timer_at = INT64_MAX;
    node_timer(s, nd);
}
