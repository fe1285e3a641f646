/* roster_io.c - the roster's files and log (see .h). */
#include "roster_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "node_ctx.h"

#define STATE_FILE "raft.state"
#define STATE_MAX (64u << 20)
#define FILE_PROBE_MS 2000      /* how often data_dir and log_dir are checked */
#define FILE_TIMER_S 0.25       /* how soon a failed log write gets its own check */

int roster_io_read_state(const shoal_config *cfg, uint8_t **state, size_t *len, char *err, size_t errlen) {
    char path[CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", cfg->data_dir, STATE_FILE);
    *state = NULL;
    *len = 0;
    int rc = fs_read_file(path, STATE_MAX, state, len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (rc == 1) { /* none yet */
        free(*state);
        *state = NULL;
        *len = 0;
    }
    return 0;
}

int roster_io_persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    node_ctx *node = ctx;
    if (fs_write_atomic(node->cfg.data_dir, STATE_FILE, data, len) == 0) return 0;
    snprintf(err, errlen, "cannot write %s/%s: %s", node->cfg.data_dir, STATE_FILE, strerror(errno));
    return -1;
}

static json_t *roster_json(const raft_roster *ro) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < ro->n; i++) json_array_append_new(a, json_string(ro->names[i]));
    return a;
}

void roster_io_on_event(roster_io *r, const ccore_event *e) {
    shoal_log *log = &r->node->log;
    switch (e->type) {
    case CCORE_EV_MAJORITY:
        shoal_log_event(log, e->on ? "majority_regained" : "majority_lost",
                        json_pack("{s:I}", "lease_expires_in_ms", (json_int_t)e->value));
        break;
    case CCORE_EV_SERVING:
        shoal_log_event(log, e->on ? "serving_started" : "serving_stopped",
                        e->on ? NULL : json_pack("{s:s}", "reason", shoal_outcome_name(e->reason)));
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
                        json_pack("{s:I, s:s, s:o}", "index", (json_int_t)e->index, "cluster_id", id, "roster",
                                  roster_json(&e->roster)));
        break;
    }
    case CCORE_EV_PROPOSAL_DONE:
        shoal_log_event(log, "roster_change_done",
                        json_pack("{s:I, s:s, s:s}", "id", (json_int_t)e->id, "subject", e->name, "result",
                                  e->error[0] ? e->error : "committed"));
        break;
    case CCORE_EV_FILES:
        shoal_log_event(log, e->on ? "files_writable" : "files_unwritable",
                        e->on ? NULL : json_pack("{s:s}", "error", e->error));
        break;
    }
}

/* The helper thread's answer (node/file_probe.h), on the loop. */
static void files_probed(void *ctx, bool ok, const char *err) {
    roster_io *r = ctx;
    if (ok && !r->node->log.ok) r->node->log.ok = true; /* the probe passed: the log's last failure is over */
    ncore_set_files(r->node->nc, node_now_ms(), ok, err);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    roster_io *r = w->data;
    (void)loop;
    (void)revents;
    int64_t now = node_now_ms();
    bool log_failed = !r->node->log.ok && ccore_files_ok(ncore_cluster(r->node->nc));
    if (now >= r->next_file_probe || log_failed) {
        r->next_file_probe = now + FILE_PROBE_MS;
        file_probe_request(&r->fprobe);
    }
}

int roster_io_start(roster_io *r, node_ctx *node, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->node = node;
    const shoal_config *cfg = &node->cfg;
    char ferr[FILE_PROBE_ERR_MAX];
    int64_t now = node_now_ms();
    ncore_set_files(node->nc, now, file_probe_now(cfg->data_dir, cfg->log_dir, ferr, sizeof ferr), ferr);
    if (file_probe_start(&r->fprobe, node->loop, cfg->data_dir, cfg->log_dir, files_probed, r) != 0) {
        snprintf(err, errlen, "cannot start the file prober's thread");
        return -1;
    }
    r->next_file_probe = now + FILE_PROBE_MS;
    ev_timer_init(&r->timer, timer_cb, FILE_TIMER_S, FILE_TIMER_S);
    r->timer.data = r;
    ev_timer_start(node->loop, &r->timer);
    return 0;
}

void roster_io_stop(roster_io *r) {
    if (r->node) ev_timer_stop(r->node->loop, &r->timer);
    file_probe_stop(&r->fprobe);
}
