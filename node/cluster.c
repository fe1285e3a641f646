/* cluster.c - roster (Raft) and majority lease bound to the node (see .h). */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fsutil.h"
#include "node.h"

#define STATE_FILE "raft.state"
#define STATE_MAX (64u << 20)
#define FILE_PROBE_MS 2000      /* how often data_dir and log_dir are checked */
#define REGISTER_RETRY_MS 2000  /* automatic registration attempts */

static const char *MODE_NAMES[] = {"normal", "block_new_session", "block_new_connection"};

const char *wire_mode_name(uint8_t mode) { return mode <= 2 ? MODE_NAMES[mode] : "unknown"; }

int wire_mode_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, MODE_NAMES[i]) == 0) return i;
    return -1;
}

static bool in_roster(const raft_roster *ro, const char *name) {
    for (uint32_t i = 0; i < ro->n; i++)
        if (strcmp(ro->names[i], name) == 0) return true;
    return false;
}

static json_t *roster_json(const raft_roster *ro) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < ro->n; i++) json_array_append_new(a, json_string(ro->names[i]));
    return a;
}

static bool name_addr(const cluster *c, const char *name, shoal_addr *a) {
    uint32_t ip;
    if (!shoal_node_name_ip(name, &ip)) return false;
    a->ip = ip;
    a->port = c->node->cfg.cluster_port;
    return true;
}

/* The newest roster entry about this node is its removal: it was purged. */
static bool purged(const cluster *c) {
    const char *me = c->node->cfg.node_name;
    for (uint64_t i = raft_commit_index(c->raft); i >= 1; i--) {
        const raft_entry *e = raft_entry_at(c->raft, i);
        if (e->kind == RAFT_REMOVE && strcmp(e->subject, me) == 0) return true;
        if ((e->kind == RAFT_ADD && strcmp(e->subject, me) == 0) || e->kind == RAFT_INIT) return false;
    }
    return false;
}

bool cluster_is_member(const cluster *c, const char *name) {
    return in_roster(raft_committed_roster(c->raft), name);
}

uint8_t cluster_effective_mode(const cluster *c) {
    return c->files_ok ? c->mode : WIRE_MODE_BLOCK_NEW_CONNECTION;
}

bool cluster_serving(const cluster *c) { return c->serving; }
const char *cluster_not_serving_reason(const cluster *c) { return c->reason; }

/* ---- serving state ------------------------------------------------------ */

static const char *compute_reason(cluster *c, int64_t now) {
    const raft_roster *ro = raft_committed_roster(c->raft);
    const shoal_config *cfg = &c->node->cfg;
    c->majority = ro->cluster_id != 0 && lease_valid(c->lease, now);
    if (c->node->leaving) return "NODE-LEAVING";
    if (!c->files_ok) return "FILES-NOT-WRITABLE";
    if (ro->cluster_id == 0) return "CLUSTER-NOT-INITIALIZED";
    if (!in_roster(ro, cfg->node_name) && !cfg->temporary)
        return purged(c) ? "NODE-PURGED" : "NODE-NOT-REGISTERED";
    if (!c->majority) return "CLUSTER-NOT-MAJORITY";
    return NULL;
}

static void publish_mode(cluster *c) {
    const swim_member *me = swim_member_at(c->node->core, 0);
    wire_meta m = me->meta;
    m.mode = cluster_effective_mode(c);
    swim_set_meta(c->node->core, gossip_now_ms(), &m);
    gossip_io_flush(&c->node->gio);
}

static void update_serving(cluster *c, int64_t now) {
    bool was_serving = c->serving, had_majority = c->majority;
    const char *old_reason = c->reason;
    c->reason = compute_reason(c, now);
    c->serving = c->reason == NULL;
    shoal_log *log = &c->node->log;
    if (had_majority != c->majority)
        shoal_log_event(log, c->majority ? "majority_regained" : "majority_lost",
                        json_pack("{s:I}", "lease_expires_in_ms",
                                  (json_int_t)(lease_expires(c->lease, now) - now)));
    if (was_serving != c->serving || (old_reason != c->reason && !c->serving))
        shoal_log_event(log, c->serving ? "serving_started" : "serving_stopped",
                        c->serving ? NULL : json_pack("{s:s}", "reason", c->reason));
    if (c->reason != old_reason && c->reason != NULL && strcmp(c->reason, "NODE-PURGED") == 0)
        shoal_log_event(log, "node_purged",
                        json_pack("{s:s}", "message",
                                  c->started_empty
                                      ? "this node was purged from the roster: RegisterClusterNode to add it again"
                                      : "this node was purged from the roster and still holds its old data: "
                                        "stop it, wipe data_dir, start it and RegisterClusterNode"));
}

/* ---- output ------------------------------------------------------------- */

static void rearm(cluster *c, int64_t now);

static void handle_raft_events(cluster *c, int64_t now) {
    uint32_t n;
    const raft_event *ev = raft_events(c->raft, &n);
    if (n == 0) return;
    /* A copy: handling an event may call the core, which appends events. */
    raft_event *copy = malloc(n * sizeof *copy);
    if (copy == NULL) return; /* kept in the core: handled on the next flush */
    memcpy(copy, ev, n * sizeof *ev);
    raft_events_clear(c->raft);
    shoal_log *log = &c->node->log;
    for (uint32_t i = 0; i < n; i++) {
        const raft_event *e = &copy[i];
        switch (e->type) {
        case RAFT_EV_LEADER: {
            shoal_log_event(log, "raft_leader", json_pack("{s:s?, s:I}", "leader", e->name[0] ? e->name : NULL,
                                                          "term", (json_int_t)raft_term(c->raft)));
            break;
        }
        case RAFT_EV_COMMITTED: {
            const raft_roster *ro = raft_committed_roster(c->raft);
            lease_set_roster(c->lease, ro);
            swim_set_cluster_id(c->node->core, ro->cluster_id);
            if (e->index > c->last_commit_logged) {
                c->last_commit_logged = e->index;
                char id[32];
                snprintf(id, sizeof id, "%016llx", (unsigned long long)ro->cluster_id);
                shoal_log_event(log, "roster_committed",
                                json_pack("{s:I, s:s, s:o}", "index", (json_int_t)e->index, "cluster_id", id,
                                          "roster", roster_json(ro)));
            }
            break;
        }
        case RAFT_EV_PROPOSAL_DONE:
            shoal_log_event(log, "roster_change_done",
                            json_pack("{s:I, s:s, s:s}", "id", (json_int_t)e->id, "subject", e->name,
                                      "result", e->error[0] ? e->error : "committed"));
            if (c->on_done) c->on_done(c->done_ctx, e->id, e->error);
            break;
        }
    }
    free(copy);
}

static void send_raft_outbox(cluster *c, int64_t now) {
    uint32_t n;
    const raft_out *o = raft_outbox(c->raft, &n);
    bool failed = false;
    for (uint32_t i = 0; i < n; i++) {
        if (o[i].kind == RAFT_OUT_PERSIST) {
            if (failed) continue;
            if (fs_write_atomic(c->node->cfg.data_dir, STATE_FILE, o[i].data, o[i].len) != 0) {
                failed = true;
                c->files_ok = false;
                snprintf(c->files_error, sizeof c->files_error, "cannot write %s/%s: %s",
                         c->node->cfg.data_dir, STATE_FILE, strerror(errno));
                shoal_log_event(&c->node->log, "files_unwritable",
                                json_pack("{s:s}", "error", c->files_error));
            }
            continue;
        }
        if (failed) continue; /* depended on the lost write: never sent */
        shoal_addr a;
        if (name_addr(c, o[i].to, &a)) gossip_io_send(&c->node->gio, a, o[i].data, o[i].len);
    }
    raft_outbox_clear(c->raft);
    if (failed) {
        raft_persist_failed(c->raft, now);
        raft_outbox_clear(c->raft);
        publish_mode(c);
    }
}

static void send_lease_outbox(cluster *c) {
    uint32_t n;
    const lease_out *o = lease_outbox(c->lease, &n);
    for (uint32_t i = 0; i < n; i++) {
        shoal_addr a;
        if (name_addr(c, o[i].to, &a)) gossip_io_send(&c->node->gio, a, o[i].data, o[i].len);
    }
    lease_outbox_clear(c->lease);
    /* A member that missed a lease ping: SWIM probes it now (indirectly). */
    const char(*silent)[WIRE_NAME_MAX + 1] = lease_silent(c->lease, &n);
    if (n == 0) return;
    int64_t now = gossip_now_ms();
    for (uint32_t i = 0; i < n; i++) swim_probe_now(c->node->core, now, silent[i]);
    lease_silent_clear(c->lease);
    gossip_io_flush(&c->node->gio);
}

/* After every input: events, writes, datagrams, state, timer. */
static void flush(cluster *c) {
    int64_t now = gossip_now_ms();
    for (int round = 0; round < 8; round++) {
        uint32_t ne, no;
        raft_events(c->raft, &ne);
        raft_outbox(c->raft, &no);
        if (ne == 0 && no == 0) break;
        handle_raft_events(c, now);
        send_raft_outbox(c, now);
    }
    send_lease_outbox(c);
    update_serving(c, now);
    rearm(c, now);
}

/* ---- timers ------------------------------------------------------------- */

static void probe_files(cluster *c, int64_t now) {
    c->next_file_probe = now + FILE_PROBE_MS;
    const shoal_config *cfg = &c->node->cfg;
    bool ok = true;
    char err[CONFIG_PATH_MAX + 160] = "";
    if (fs_probe_writable(cfg->data_dir) != 0) {
        ok = false;
        snprintf(err, sizeof err, "data_dir %s: %s", cfg->data_dir, strerror(errno));
    } else if (fs_probe_writable(cfg->log_dir) != 0) {
        ok = false;
        snprintf(err, sizeof err, "log_dir %s: %s", cfg->log_dir, strerror(errno));
    } else if (!c->node->log.ok) {
        /* the probe passed: the log's last failure is over, try again */
        c->node->log.ok = true;
    }
    if (ok == c->files_ok) return;
    c->files_ok = ok;
    snprintf(c->files_error, sizeof c->files_error, "%s", err);
    shoal_log_event(&c->node->log, ok ? "files_writable" : "files_unwritable",
                    ok ? NULL : json_pack("{s:s}", "error", err));
    publish_mode(c);
}

static void maybe_register(cluster *c, int64_t now) {
    const raft_roster *ro = raft_committed_roster(c->raft);
    const shoal_config *cfg = &c->node->cfg;
    if (cfg->temporary || ro->cluster_id == 0 || in_roster(ro, cfg->node_name) || purged(c)) return;
    if (now < c->next_register || raft_leader(c->raft)[0] == '\0') return;
    c->next_register = now + REGISTER_RETRY_MS;
    raft_propose(c->raft, now, RAFT_ADD, cfg->node_name, NULL, 0);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    cluster *c = w->data;
    (void)loop;
    (void)revents;
    int64_t now = gossip_now_ms();
    if (now >= c->next_file_probe) probe_files(c, now);
    if (!c->node->log.ok && c->files_ok) probe_files(c, now);
    raft_tick(c->raft, now);
    lease_tick(c->lease, now);
    maybe_register(c, now);
    flush(c);
}

static void rearm(cluster *c, int64_t now) {
    int64_t d = raft_next_deadline(c->raft);
    int64_t l = lease_next_deadline(c->lease);
    if (l < d) d = l;
    if (c->next_file_probe < d) d = c->next_file_probe;
    if (c->serving) {
        int64_t e = lease_expires(c->lease, now);
        if (e < d) d = e;
    }
    if (!c->serving && c->next_register < d && c->next_register > now) d = c->next_register;
    int64_t delay = d - now;
    if (delay < 1) delay = 1;
    if (delay > 1000) delay = 1000; /* a heartbeat for state that time alone changes */
    ev_timer_stop(c->node->loop, &c->timer);
    ev_timer_set(&c->timer, (double)delay / 1000.0, 0.0);
    ev_timer_start(c->node->loop, &c->timer);
}

void cluster_poke(cluster *c) { flush(c); }

/* ---- inputs ------------------------------------------------------------- */

void cluster_on_datagram(cluster *c, int kind, const uint8_t *buf, size_t len) {
    int64_t now = gossip_now_ms();
    if (kind == RAFT_WIRE_KIND) raft_recv(c->raft, now, "", buf, len);
    else if (kind == LEASE_WIRE_KIND) lease_recv(c->lease, now, buf, len);
    else return;
    flush(c);
}

void cluster_on_swim_event(cluster *c, const swim_event *ev) {
    int64_t now = gossip_now_ms();
    bool down = ev->type == SWIM_EV_DEAD || ev->type == SWIM_EV_LEFT;
    bool up = ev->type == SWIM_EV_JOIN || ev->type == SWIM_EV_ALIVE;
    if (!down && !up && ev->type != SWIM_EV_SUSPECT) return;
    if (strcmp(ev->name, c->node->cfg.node_name) == 0) return;
    if (down || up) lease_revoke(c->lease, ev->name, down, now);
    raft_set_member_down(c->raft, now, ev->name, !up);
    flush(c);
}

/* ---- operator actions ---------------------------------------------------- */

const char *cluster_register(cluster *c, const char *contact, uint64_t *id) {
    const shoal_config *cfg = &c->node->cfg;
    int64_t now = gossip_now_ms();
    if (cfg->temporary) return "TEMPORARY-NODE";
    if (cluster_is_member(c, cfg->node_name)) return "ALREADY-REGISTERED";
    if (purged(c) && !c->started_empty) return "WIPE-DATA-FIRST";
    shoal_addr a;
    if (contact != NULL && contact[0]) {
        if (!name_addr(c, contact, &a)) return "INVALID-CONTACT";
        swim_add_contact(c->node->core, now, contact, a);
        gossip_io_flush(&c->node->gio);
        raft_add_peer_hint(c->raft, contact);
    }
    *id = raft_propose(c->raft, now, RAFT_ADD, cfg->node_name, NULL, 0);
    c->next_register = now + REGISTER_RETRY_MS;
    flush(c);
    return NULL;
}

const char *cluster_purge(cluster *c, const char *target, uint64_t *id) {
    *id = raft_propose(c->raft, gossip_now_ms(), RAFT_REMOVE, target, NULL, 0);
    flush(c);
    return NULL;
}

/* *id == 0 with no error: already done. */
const char *cluster_init(cluster *c, const char names[][WIRE_NAME_MAX + 1], uint32_t n, uint64_t *id) {
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
    *id = raft_propose(c->raft, gossip_now_ms(), RAFT_INIT, NULL, &ro, 0);
    flush(c);
    return NULL;
}

void cluster_set_mode(cluster *c, uint8_t mode) {
    if (mode == c->mode) return;
    c->mode = mode;
    shoal_log_event(&c->node->log, "mode_changed", json_pack("{s:s}", "mode", wire_mode_name(mode)));
    publish_mode(c);
    flush(c);
}

/* ---- lifecycle ------------------------------------------------------------ */

uint64_t cluster_peek_id(const char *data_dir) {
    char path[CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", data_dir, STATE_FILE);
    uint8_t *state = NULL;
    size_t len = 0;
    if (fs_read_file(path, STATE_MAX, &state, &len) != 0) return 0;
    uint64_t term, commit, n, id = 0;
    char voted[WIRE_NAME_MAX + 1];
    raft_entry *e = NULL;
    if (raft_decode_state(state, len, &term, voted, &commit, &e, &n) && commit >= 1)
        id = e[commit - 1].roster.cluster_id;
    free(e);
    free(state);
    return id;
}

int cluster_start(cluster *c, struct shoal_node *node, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->node = node;
    c->files_ok = true;
    const shoal_config *cfg = &node->cfg;
    char path[CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", cfg->data_dir, STATE_FILE);
    uint8_t *state = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, STATE_MAX, &state, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    c->started_empty = rc == 1;
    raft_config rc_cfg;
    raft_config_default(&rc_cfg);
    snprintf(rc_cfg.node_name, sizeof rc_cfg.node_name, "%s", cfg->node_name);
    snprintf(rc_cfg.cluster_name, sizeof rc_cfg.cluster_name, "%s", cfg->cluster_name);
    rc_cfg.learner = cfg->temporary;
    raft_roster boot = {0};
    for (uint32_t i = 0; i < cfg->ncontacts && boot.n < RAFT_MAX_MEMBERS; i++)
        snprintf(boot.names[boot.n++], WIRE_NAME_MAX + 1, "%s", cfg->contacts[i]);
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint64_t)gossip_now_ms() * 2654435761u;
    int64_t now = gossip_now_ms();
    c->raft = raft_new(&rc_cfg, state, len, &boot, seed, now);
    free(state);
    if (c->raft == NULL) {
        snprintf(err, errlen,
                 "%s is corrupt (bad magic, version, checksum or bounds); refusing to start. "
                 "Keep it for inspection, move it away, and register this node again",
                 path);
        return -1;
    }
    lease_config lc;
    lease_config_default(&lc);
    snprintf(lc.node_name, sizeof lc.node_name, "%s", cfg->node_name);
    snprintf(lc.cluster_name, sizeof lc.cluster_name, "%s", cfg->cluster_name);
    c->lease = lease_new(&lc, now);
    if (c->lease == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const raft_roster *ro = raft_committed_roster(c->raft);
    lease_set_roster(c->lease, ro);
    swim_set_cluster_id(node->core, ro->cluster_id);
    c->last_commit_logged = raft_commit_index(c->raft);
    c->reason = "CLUSTER-NOT-INITIALIZED";
    ev_timer_init(&c->timer, timer_cb, 0.0, 0.0);
    c->timer.data = c;
    probe_files(c, now);
    flush(c);
    return 0;
}

void cluster_stop(cluster *c) {
    if (c->node) ev_timer_stop(c->node->loop, &c->timer);
    raft_free(c->raft);
    lease_free(c->lease);
    c->raft = NULL;
    c->lease = NULL;
}
