/* cluster.c - the cluster core bound to files, sockets, timer and log. */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fsutil.h"
#include "node.h"
#include "placement_io.h"

#define STATE_FILE "raft.state"
#define STATE_MAX (64u << 20)
#define FILE_PROBE_MS 2000      /* how often data_dir and log_dir are checked */

static json_t *roster_json(const raft_roster *ro) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < ro->n; i++) json_array_append_new(a, json_string(ro->names[i]));
    return a;
}

/* ---- environment of the core -------------------------------------------- */

static int env_persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    cluster *c = ctx;
    if (fs_write_atomic(c->node->cfg.data_dir, STATE_FILE, data, len) == 0) return 0;
    snprintf(err, errlen, "cannot write %s/%s: %s", c->node->cfg.data_dir, STATE_FILE, strerror(errno));
    return -1;
}

static void env_send(void *ctx, shoal_addr to, const uint8_t *data, size_t len) {
    cluster *c = ctx;
    gossip_io_send(&c->node->gio, to, data, len);
}

/* ---- after every call into the core --------------------------------------- */

static void log_events(cluster *c) {
    uint32_t n;
    const ccore_event *ev = ccore_events(c->core, &n);
    shoal_log *log = &c->node->log;
    for (uint32_t i = 0; i < n; i++) {
        const ccore_event *e = &ev[i];
        switch (e->type) {
        case CCORE_EV_MAJORITY:
            shoal_log_event(log, e->on ? "majority_regained" : "majority_lost",
                            json_pack("{s:I}", "lease_expires_in_ms", (json_int_t)e->value));
            break;
        case CCORE_EV_SERVING:
            shoal_log_event(log, e->on ? "serving_started" : "serving_stopped",
                            e->on ? NULL : json_pack("{s:s}", "reason", e->reason));
            break;
        case CCORE_EV_PURGED:
            shoal_log_event(log, "node_purged",
                            json_pack("{s:s}", "message",
                                      e->on ? "this node was purged from the roster: RegisterClusterNode to add it again"
                                            : "this node was purged from the roster and still holds its old data: "
                                              "stop it, wipe data_dir, start it and RegisterClusterNode"));
            break;
        case CCORE_EV_LEADER:
            shoal_log_event(log, "raft_leader", json_pack("{s:s?, s:I}", "leader", e->name[0] ? e->name : NULL,
                                                          "term", (json_int_t)e->value));
            break;
        case CCORE_EV_COMMITTED: {
            char id[32];
            snprintf(id, sizeof id, "%016llx", (unsigned long long)e->roster.cluster_id);
            shoal_log_event(log, "roster_committed",
                            json_pack("{s:I, s:s, s:o}", "index", (json_int_t)e->index, "cluster_id", id,
                                      "roster", roster_json(&e->roster)));
            break;
        }
        case CCORE_EV_PROPOSAL_DONE:
            shoal_log_event(log, "roster_change_done",
                            json_pack("{s:I, s:s, s:s}", "id", (json_int_t)e->id, "subject", e->name, "result",
                                      e->error[0] ? e->error : "committed"));
            if (c->on_done) c->on_done(c->done_ctx, e->id, e->error);
            break;
        case CCORE_EV_FILES:
            shoal_log_event(log, e->on ? "files_writable" : "files_unwritable",
                            e->on ? NULL : json_pack("{s:s}", "error", e->error));
            break;
        }
    }
    ccore_events_clear(c->core);
}

static void after(cluster *c) {
    int64_t now = gossip_now_ms();
    log_events(c);
    gossip_io_flush(&c->node->gio); /* the core may have queued gossip (metadata, probes) */
    placement_refresh(c->node);     /* this node's own serving state may have changed */
    int64_t d = ccore_next_deadline(c->core, now);
    if (c->next_file_probe < d) d = c->next_file_probe;
    int64_t delay = d - now;
    if (delay < 1) delay = 1;
    if (delay > 1000) delay = 1000; /* a heartbeat for state that time alone changes */
    ev_timer_stop(c->node->loop, &c->timer);
    ev_timer_set(&c->timer, (double)delay / 1000.0, 0.0);
    ev_timer_start(c->node->loop, &c->timer);
}

/* ---- timers --------------------------------------------------------------- */

/* The helper thread's answer (node/file_probe.h), on the loop. */
static void files_probed(void *ctx, bool ok, const char *err) {
    cluster *c = ctx;
    if (ok && !c->node->log.ok) c->node->log.ok = true; /* the probe passed: the log's last failure is over */
    ccore_set_files(c->core, gossip_now_ms(), ok, err);
    after(c);
}

static void probe_files(cluster *c, int64_t now) {
    c->next_file_probe = now + FILE_PROBE_MS;
    file_probe_request(&c->fprobe);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    cluster *c = w->data;
    (void)loop;
    (void)revents;
    int64_t now = gossip_now_ms();
    if (now >= c->next_file_probe) probe_files(c, now);
    if (!c->node->log.ok && ccore_files_ok(c->core)) probe_files(c, now);
    ccore_tick(c->core, now);
    after(c);
}

/* ---- inputs ------------------------------------------------------------- */

void cluster_on_datagram(cluster *c, int kind, const uint8_t *buf, size_t len) {
    ccore_recv(c->core, gossip_now_ms(), kind, buf, len);
    after(c);
}

void cluster_on_swim_event(cluster *c, const swim_event *ev) {
    ccore_on_swim_event(c->core, gossip_now_ms(), ev);
    after(c);
}

void cluster_set_leaving(cluster *c) {
    ccore_set_leaving(c->core, gossip_now_ms());
    after(c);
}

const char *cluster_register(cluster *c, const char *contact, uint64_t *id) {
    const char *err = ccore_register(c->core, gossip_now_ms(), contact, id);
    after(c);
    return err;
}

const char *cluster_purge(cluster *c, const char *target, uint64_t *id) {
    const char *err = ccore_purge(c->core, gossip_now_ms(), target, id);
    after(c);
    return err;
}

const char *cluster_init(cluster *c, const char names[][WIRE_NAME_MAX + 1], uint32_t n, uint64_t *id) {
    const char *err = ccore_init(c->core, gossip_now_ms(), names, n, id);
    after(c);
    return err;
}

void cluster_set_mode(cluster *c, uint8_t mode) {
    if (mode != ccore_mode(c->core))
        shoal_log_event(&c->node->log, "mode_changed", json_pack("{s:s}", "mode", wire_mode_name(mode)));
    ccore_set_mode(c->core, gossip_now_ms(), mode);
    after(c);
}

/* ---- lifecycle ------------------------------------------------------------ */

uint64_t cluster_peek_id(const char *data_dir) {
    char path[CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", data_dir, STATE_FILE);
    uint8_t *state = NULL;
    size_t len = 0;
    if (fs_read_file(path, STATE_MAX, &state, &len) != 0) return 0;
    uint64_t id = ccore_state_cluster_id(state, len);
    free(state);
    return id;
}

int cluster_start(cluster *c, struct shoal_node *node, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->node = node;
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
    ccore_config cc;
    ccore_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, "%s", cfg->node_name);
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "%s", cfg->cluster_name);
    cc.cluster_port = cfg->cluster_port;
    cc.temporary = cfg->temporary;
    for (uint32_t i = 0; i < cfg->ncontacts && cc.bootstrap.n < RAFT_MAX_MEMBERS; i++)
        snprintf(cc.bootstrap.names[cc.bootstrap.n++], WIRE_NAME_MAX + 1, "%s", cfg->contacts[i]);
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint64_t)gossip_now_ms() * 2654435761u;
    ccore_env env = {.ctx = c, .persist = env_persist, .send = env_send};
    char cerr[CCORE_ERROR_MAX];
    int64_t now = gossip_now_ms();
    c->core = ccore_new(&cc, &env, node->core, rc == 1 ? NULL : state, rc == 1 ? 0 : len, seed, now, cerr,
                        sizeof cerr);
    free(state);
    if (c->core == NULL) {
        snprintf(err, errlen, "%s: %s; refusing to start. Keep it for inspection, move it away, and register "
                 "this node again", path, cerr);
        return -1;
    }
    ev_timer_init(&c->timer, timer_cb, 0.0, 0.0);
    c->timer.data = c;
    /* The first check here and now, so that the node starts knowing; the
     * periodic ones on the prober's thread. */
    char ferr[FILE_PROBE_ERR_MAX];
    ccore_set_files(c->core, now, file_probe_now(cfg->data_dir, cfg->log_dir, ferr, sizeof ferr), ferr);
    if (file_probe_start(&c->fprobe, node->loop, cfg->data_dir, cfg->log_dir, files_probed, c) != 0) {
        snprintf(err, errlen, "cannot start the file prober's thread");
        ccore_free(c->core);
        c->core = NULL;
        return -1;
    }
    c->next_file_probe = now + FILE_PROBE_MS;
    after(c);
    return 0;
}

void cluster_stop(cluster *c) {
    if (c->node) ev_timer_stop(c->node->loop, &c->timer);
    file_probe_stop(&c->fprobe);
    ccore_free(c->core);
    c->core = NULL;
}
