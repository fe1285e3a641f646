/* world.c - the simulated nodes: each one a node core (node/core: the SWIM,
 * cluster, claims and table cores and the wiring between them, exactly what
 * shoald runs), with its own clock, disk and process state (up, crashed,
 * paused, leaving). This file plays the part of shoald's adapters and
 * nothing more: datagrams to and from the virtual network, the disk, a
 * probe of it every 2 s, and one timer at the node core's deadline. */
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

/* ---- after every call into the cores ---------------------------------------- */

static const char *const EV_NAMES[] = {"majority", "serving", "purged", "leader", "committed", "proposal_done",
                                       "files"};

static void trace_ccore_event(sim *s, const sim_node *nd, const ccore_event *e) {
    switch (e->type) {
    case CCORE_EV_SERVING:
        sim_trace(s, "n%d %s%s%s", nd->id + 1, e->on ? "serving" : "not serving", e->on ? "" : ": ",
                  e->on ? "" : shoal_outcome_name(e->reason));
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

/* What the node core queued: datagrams and streams onto the network, its
 * events to the trace, the checker and the clients (whose handling may
 * call into the core again: another round). */
static void drain(sim *s, sim_node *nd) {
    for (int round = 0; round < 64 && nd->up; round++) {
        uint32_t n;
        const core_out *o = outbox_items(ncore_outbox(nd->nc), &n);
        for (uint32_t i = 0; i < n; i++) {
            if (o[i].kind == SWIM_OUT_PACKET) net_send(s, nd->id, o[i].addr, o[i].data, o[i].len);
            else net_stream(s, nd->id, &o[i]);
        }
        outbox_clear(ncore_outbox(nd->nc));
        const ccore_event *cev = ncore_cluster_events(nd->nc, &n);
        for (uint32_t i = 0; i < n; i++) { /* nothing here calls into the core */
            if (s->trace) trace_ccore_event(s, nd, &cev[i]);
            if (cev[i].type == CCORE_EV_SERVING) {
                nd->serving = cev[i].on;
                check_serving_changed(s, nd->id);
            }
        }
        ncore_cluster_events_clear(nd->nc);
        const ncore_event *ev = ncore_events(nd->nc, &n);
        ncore_event *copy = NULL;
        if (n > 0) { /* copied: a client's admission calls into the core */
            copy = malloc(n * sizeof *copy);
            if (copy == NULL) abort();
            memcpy(copy, ev, n * sizeof *copy);
            ncore_events_clear(nd->nc);
        }
        for (uint32_t i = 0; i < n; i++) {
            const ncore_event *e = &copy[i];
            if (e->kind == NCORE_EV_MEMBER) {
                if (s->trace)
                    sim_trace(s, "n%d gossip %s %s inc %u%s%s", nd->id + 1, swim_event_name(e->member.type),
                              e->member.name, e->member.incarnation, e->member.from[0] ? " from " : "",
                              e->member.from);
                check_swim_event(s, nd->id, &e->member);
            } else if (e->kind == NCORE_EV_CLAIM) {
                sim_trace(s, "n%d claim on %s: %s%s%s", nd->id + 1, e->claim.channel,
                          e->claim.type == CLAIMS_EV_HELD      ? "held"
                          : e->claim.type == CLAIMS_EV_REFUSED ? "refused"
                                                               : "failed",
                          e->claim.type == CLAIMS_EV_REFUSED ? ", holder " : "",
                          e->claim.type == CLAIMS_EV_REFUSED ? e->claim.holder : "");
            } else {
                clients_on_event(s, nd, e);
            }
        }
        free(copy);
        outbox_items(ncore_outbox(nd->nc), &n);
        uint32_t nev, ncev;
        ncore_events(nd->nc, &nev);
        ncore_cluster_events(nd->nc, &ncev);
        if (n == 0 && nev == 0 && ncev == 0) break;
    }
    check_roster(s, nd->id);
}

void node_schedule(sim *s, sim_node *nd) {
    if (!nd->up || nd->paused) return;
    int64_t local = node_local_ms(nd, s->now);
    int64_t d = ncore_next_deadline(nd->nc, local);
    if (nd->next_file_probe < d) d = nd->next_file_probe;
    if (d <= local) d = local + 1;
    int64_t t = true_time_of(nd, d, s->now);
    if (nd->timer_at != INT64_MAX && nd->timer_at <= t) return; /* an earlier wakeup is pending */
    nd->timer_at = t;
    heap_push(&s->heap, (sim_event){.at = t, .type = EV_TIMER, .node = (int16_t)nd->id, .gen = ++nd->timer_token});
}

void node_after(sim *s, sim_node *nd) {
    if (!nd->up) return;
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
    swim_contact contacts[SIM_CONTACTS];
    uint32_t nc = 0;
    for (int i = 0; i < s->sc->regular && nc < SIM_CONTACTS; i++) {
        snprintf(contacts[nc].name, sizeof contacts[nc].name, "%s", s->nodes[i].name);
        contacts[nc++].addr = s->nodes[i].addr;
    }
    /* admission as shoald's defaults, with room for every simulated client */
    ncore_config cfg = {.addr = nd->addr, .temporary = nd->temporary, .contacts = contacts, .ncontacts = nc,
                        .state = nd->disk, .state_len = nd->disk_len, .seed = x, .max_connections = 1000000,
                        .bounded_load_epsilon = 0.25};
    snprintf(cfg.cluster_name, sizeof cfg.cluster_name, "sim");
    snprintf(cfg.node_name, sizeof cfg.node_name, "%s", nd->name);
    snprintf(cfg.meta.version, sizeof cfg.meta.version, "sim");
    cfg.meta.weight = 100;
    snprintf(cfg.meta.url, sizeof cfg.meta.url, "ws://n%d/signaling", nd->id + 1);
    ncore_env env = {.ctx = nd, .persist = env_persist};
    char err[CCORE_ERROR_MAX];
    nd->nc = ncore_new(&cfg, &env, local, err, sizeof err);
    if (nd->nc == NULL) {
        sim_fail(s, "n%d cannot start: %s", nd->id + 1, err);
        return;
    }
    nd->gossip = ncore_swim(nd->nc);
    nd->core = ncore_cluster(nd->nc);
    nd->cl = ncore_claims(nd->nc);
    nd->table = ncore_table(nd->nc);
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
    node_after(s, nd);
}

static void drop_inbox(sim_node *nd) {
    for (uint32_t i = 0; i < nd->ninbox; i++) free(nd->inbox[i].data);
    nd->ninbox = 0;
}

void node_crash(sim *s, sim_node *nd) {
    if (!nd->up) return;
    clients_node_down(s, nd);
    ncore_free(nd->nc);
    nd->nc = NULL;
    nd->cl = NULL;
    nd->table = NULL;
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
    ncore_leave(nd->nc, local); /* stops serving first, as shoald does */
    node_after(s, nd);
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
        ncore_recv_packet(nd->nc, local, from, ev->data, ev->len);
    } else {
        if (s->trace)
            sim_trace(s, "n%d>n%d stream %s %uB", ev->from + 1, nd->id + 1, ev->type == EV_STREAM_REQ ? "request" : "reply",
                      ev->len);
        ncore_recv_stream(nd->nc, local, from, ev->type == EV_STREAM_REQ ? ev->conn : 0, ev->data, ev->len);
    }
    node_after(s, nd);
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
        ncore_set_files(nd->nc, local, !nd->disk_fails, "data_dir: Input/output error (simulated disk fault)");
    }
    ncore_tick(nd->nc, local);
    if (nd->leaving && ncore_leave_done(nd->nc, local)) {
        drain(s, nd);
        node_crash(s, nd); /* the process exits after its leave went out */
        return;
    }
    node_after(s, nd);
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
