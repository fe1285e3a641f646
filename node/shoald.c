/* shoald.c - one node of a shoal cluster: `shoald -c FILE`.
 *
 * Makes the node core (node/core) and starts the adapters around it: the
 * cluster socket (cluster_io), the roster's files (roster_io), signaling,
 * media and the HTTP API; writes events to log_dir/cluster.jsonl; on
 * SIGTERM or SIGINT leaves the cluster gracefully and exits 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_http.h"
#include "fsutil.h"
#include "fd_limit.h"
#include "node.h"
#include "placement_io.h"
#include "webhook.h"

static void usage(FILE *f) {
    fprintf(f, "usage: shoald -c FILE     run a node with this config\n"
               "       shoald --version\n");
}

static void log_member_event(shoal_node *node, const swim_event *e) {
    json_t *f = json_pack("{s:s, s:I}", "member", e->name, "incarnation", (json_int_t)e->incarnation);
    if (e->from[0] != '\0')
        json_object_set_new(f, e->type == SWIM_EV_FOREIGN ? "cluster" : "from", json_string(e->from));
    shoal_log_event(&node->ctx.log, swim_event_name(e->type), f);
}

/* The cluster core's events: the log, and a finished roster change to the API. */
static void on_cluster_event(void *ctx, const ccore_event *e) {
    shoal_node *node = ctx;
    roster_io_on_event(&node->roster, e);
    if (e->type == CCORE_EV_PROPOSAL_DONE) api_http_proposal_done(node, e->id, e->error);
}

/* The media plane's events are about signaling's clients. */
static void on_media_event(void *ctx, const sfu_event *e) {
    shoal_node *node = ctx;
    signaling_on_media(&node->sig, e);
}

/* What the node core says happened (cluster_io hands each event over). */
static void on_core_event(void *ctx, const ncore_event *e) {
    shoal_node *node = ctx;
    switch (e->kind) {
    case NCORE_EV_MEMBER: log_member_event(node, &e->member); break;
    case NCORE_EV_CLAIM: break; /* its waiting clients come as NCORE_EV_CLIENT */
    case NCORE_EV_CLIENT: adm_on_client(&node->sig, &e->client); break;
    case NCORE_EV_CHANNEL:
        shoal_log_event(&node->ctx.log, e->channel.opened ? "channel_opened" : "channel_closed",
                        json_pack("{s:s}", "channel_id", e->channel.id));
        break;
    case NCORE_EV_RING: placement_log_ring(&node->ctx); break;
    case NCORE_EV_LEFT: ev_break(node->ctx.loop, EVBREAK_ALL); break; /* the leave went out */
    }
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    shoal_node *node = w->data;
    (void)loop;
    (void)revents;
    if (node->leaving) return;
    node->leaving = true;
    shoal_log_event(&node->ctx.log, "node_leaving", json_pack("{s:s}", "signal", strsignal(w->signum)));
    ncore_leave(node->ctx.nc, node_now_ms()); /* stops serving first */
}

/* The node core from the config and the roster state file; NULL with the
 * reason in err. */
static node_core *make_core(shoal_node *node, char *err, size_t errlen) {
    const shoal_config *c = &node->ctx.cfg;
    uint8_t *state;
    size_t len;
    if (roster_io_read_state(c, &state, &len, err, errlen) != 0) return NULL;
    swim_contact contacts[CONFIG_MAX_CONTACTS];
    for (uint32_t i = 0; i < c->ncontacts; i++) {
        snprintf(contacts[i].name, sizeof contacts[i].name, "%s", c->contacts[i]);
        uint32_t ip = 0;
        shoal_node_name_ip(c->contacts[i], &ip);
        contacts[i].addr = (shoal_addr){ip, c->cluster_port};
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    ncore_config nc = {.addr = {c->node_ip, c->cluster_port}, .temporary = c->temporary, .contacts = contacts,
                       .ncontacts = c->ncontacts, .state = state, .state_len = len,
                       .max_connections = c->max_connections, .cluster_max_connections = c->cluster_max_connections,
                       .bounded_load_epsilon = c->bounded_load_epsilon, .auth = c->auth_webhook_url[0] != '\0',
                       /* channels' creation times (ListChannels) are wall clock */
                       .wall_offset_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000 - node_now_ms()};
    snprintf(nc.cluster_name, sizeof nc.cluster_name, "%s", c->cluster_name);
    snprintf(nc.node_name, sizeof nc.node_name, "%s", c->node_name);
    snprintf(nc.meta.version, sizeof nc.meta.version, "%s", SHOAL_VERSION);
    nc.meta.weight = c->weight;
    snprintf(nc.meta.url, sizeof nc.meta.url, "%s", c->public_signaling_url);
    if (getrandom(&nc.seed, sizeof nc.seed, 0) != sizeof nc.seed)
        nc.seed = (uint64_t)getpid() ^ (uint64_t)node_now_ms();
    ncore_env env = {.ctx = &node->ctx, .persist = roster_io_persist};
    char cerr[CCORE_ERROR_MAX];
    node_core *core = ncore_new(&nc, &env, node_now_ms(), cerr, sizeof cerr);
    free(state);
    int k = 0; /* the length is looked at: a long data_dir may cut the message, knowingly */
    if (core == NULL && len > 0)
        k = snprintf(err, errlen, "%s/raft.state: %s; refusing to start. Keep it for inspection, move it away, and "
                     "register this node again", c->data_dir, cerr);
    else if (core == NULL)
        k = snprintf(err, errlen, "cannot create the node core: %s", cerr);
    if (k >= (int)errlen) err[errlen - 1] = '\0';
    return core;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) path = argv[++i];
        else if (strcmp(argv[i], "--version") == 0) { printf("shoald %s\n", SHOAL_VERSION); return 0; }
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (path == NULL) { usage(stderr); return 2; }

    static shoal_node node; /* large (config): not on the stack */
    char err[1024];
    if (!shoal_config_load(path, &node.ctx.cfg, err, sizeof err)) {
        fprintf(stderr, "shoald: config error: %s\n", err);
        return 1;
    }
    if (fs_mkdir_p(node.ctx.cfg.data_dir) != 0) {
        fprintf(stderr, "shoald: cannot create data_dir %s: %s\n", node.ctx.cfg.data_dir, strerror(errno));
        return 1;
    }
    if (!shoal_log_open(&node.ctx.log, node.ctx.cfg.log_dir, node.ctx.cfg.node_name)) {
        fprintf(stderr, "shoald: cannot open %s/cluster.jsonl: %s\n", node.ctx.cfg.log_dir, strerror(errno));
        return 1;
    }
    fd_limit fl;
    if (fd_limit_apply(node.ctx.cfg.max_connections, &fl) != 0) {
        fprintf(stderr, "shoald: cannot read or set the open-file limit: %s\n", strerror(errno));
        return 1;
    }
    shoal_log_event(&node.ctx.log, fl.limit < fl.want ? "fd_limit_low" : "fd_limit",
                    json_pack("{s:I, s:I, s:I, s:i}", "limit", (json_int_t)fl.limit, "want", (json_int_t)fl.want,
                              "hard", (json_int_t)(fl.hard > INT64_MAX ? INT64_MAX : fl.hard), "max_connections",
                              (int)node.ctx.cfg.max_connections));
    node.ctx.fdl = fl;
    if (fl.limit < fl.want)
        fprintf(stderr,
                "shoald: the open-file limit (hard %llu) is below the %llu that max_connections = %u needs: "
                "raise it (ulimit -Hn, LimitNOFILE=) or lower max_connections\n",
                (unsigned long long)fl.hard, (unsigned long long)fl.want, node.ctx.cfg.max_connections);
    node.ctx.loop = ev_default_loop(EVFLAG_AUTO);
    node.ctx.started_ms = node_now_ms();
    node.ctx.nc = make_core(&node, err, sizeof err);
    if (node.ctx.nc == NULL ||
        cluster_io_start(&node.cio, node.ctx.loop, node.ctx.nc, node.ctx.cfg.listen_ip, node.ctx.cfg.cluster_port, on_core_event,
                         on_cluster_event, &node, err, sizeof err) != 0 ||
        roster_io_start(&node.roster, &node.ctx, err, sizeof err) != 0 ||
        media_io_start(&node.media, &node.ctx, on_media_event, &node, err, sizeof err) != 0 ||
        api_http_start(&node, err, sizeof err) != 0 || webhook_start(&node.ctx, err, sizeof err) != 0 ||
        signaling_start(&node.sig, &node.ctx, &node.media, err, sizeof err) != 0) {
        fprintf(stderr, "shoald: %s\n", err);
        shoal_log_event(&node.ctx.log, "node_start_failed", json_pack("{s:s}", "error", err));
        return 1;
    }
    ev_signal_init(&node.sigterm_w, signal_cb, SIGTERM);
    ev_signal_init(&node.sigint_w, signal_cb, SIGINT);
    node.sigterm_w.data = node.sigint_w.data = &node;
    ev_signal_start(node.ctx.loop, &node.sigterm_w);
    ev_signal_start(node.ctx.loop, &node.sigint_w);
    shoal_log_event(&node.ctx.log, "node_start",
                    json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "version", SHOAL_VERSION, "cluster",
                              node.ctx.cfg.cluster_name, "node_type",
                              node.ctx.cfg.temporary ? "temporary" : "regular", "cluster_port",
                              node.ctx.cfg.cluster_port, "api_port", node.ctx.cfg.api_port, "signaling_port",
                              node.ctx.cfg.signaling_port));

    ev_run(node.ctx.loop, 0);

    shoal_log_event(&node.ctx.log, "node_stop", json_pack("{s:s}", "reason", "left the cluster"));
    signaling_stop(&node.sig);
    api_http_stop(&node); /* closes every socket: signaling's state is freed after */
    media_io_stop(&node.media); /* after the sessions: each left its peer */
    roster_io_stop(&node.roster);
    cluster_io_stop(&node.cio);
    ncore_free(node.ctx.nc);
    shoal_log_close(&node.ctx.log);
    return 0;
}
