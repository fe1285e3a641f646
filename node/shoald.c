/* shoald.c - one node of a shoal cluster: `shoald -c FILE`.
 *
 * Wires the gossip core to libev (gossip_io), serves the HTTP API
 * (api_http), writes membership events to log_dir/cluster.jsonl, and on
 * SIGTERM or SIGINT leaves the cluster gracefully and exits 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
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

static void on_swim_events(void *ctx, const swim_event *ev, uint32_t n) {
    shoal_node *node = ctx;
    for (uint32_t i = 0; i < n; i++) {
        json_t *f = json_pack("{s:s, s:I}", "member", ev[i].name, "incarnation",
                              (json_int_t)ev[i].incarnation);
        if (ev[i].from[0] != '\0')
            json_object_set_new(f, ev[i].type == SWIM_EV_FOREIGN ? "cluster" : "from",
                                json_string(ev[i].from));
        shoal_log_event(&node->log, swim_event_name(ev[i].type), f);
        if (node->clu.core != NULL) cluster_on_swim_event(&node->clu, &ev[i]);
        if (node->chans.table != NULL) channels_on_swim_event(&node->chans, &ev[i]);
    }
    placement_refresh(node);
}

static void leave_poll_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    shoal_node *node = w->data;
    (void)revents;
    if (swim_leave_done(node->core, gossip_now_ms())) {
        ev_timer_stop(loop, w);
        ev_break(loop, EVBREAK_ALL);
    }
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    shoal_node *node = w->data;
    (void)loop;
    (void)revents;
    if (node->leaving) return;
    node->leaving = true;
    shoal_log_event(&node->log, "node_leaving", json_pack("{s:s}", "signal", strsignal(w->signum)));
    cluster_set_leaving(&node->clu); /* stops serving first */
    swim_leave(node->core, gossip_now_ms());
    gossip_io_flush(&node->gio);
    ev_timer_init(&node->leave_w, leave_poll_cb, 0.02, 0.02);
    node->leave_w.data = node;
    ev_timer_start(node->loop, &node->leave_w);
}

static void on_other_datagram(void *ctx, int kind, shoal_addr from, const uint8_t *buf, size_t len) {
    shoal_node *node = ctx;
    (void)from;
    if (kind == CHTABLE_WIRE_KIND) {
        if (node->chans.table != NULL) channels_on_datagram(&node->chans, buf, len);
    } else if (kind == CLAIMS_WIRE_KIND) {
        if (node->claims.core != NULL) claims_io_on_datagram(&node->claims, buf, len);
    } else if (node->clu.core != NULL) {
        cluster_on_datagram(&node->clu, kind, buf, len);
    }
}

static swim *make_core(const shoal_config *c) {
    swim_config sc;
    swim_config_default(&sc);
    snprintf(sc.cluster_name, sizeof sc.cluster_name, "%s", c->cluster_name);
    snprintf(sc.node_name, sizeof sc.node_name, "%s", c->node_name);
    sc.addr = (shoal_addr){c->node_ip, c->cluster_port};
    sc.meta.node_type = c->temporary ? WIRE_NODE_TEMPORARY : WIRE_NODE_REGULAR;
    snprintf(sc.meta.version, sizeof sc.meta.version, "%s", SHOAL_VERSION);
    sc.meta.weight = c->weight;
    sc.cluster_id = cluster_peek_id(c->data_dir);
    snprintf(sc.meta.url, sizeof sc.meta.url, "%s", c->public_signaling_url);
    swim_contact contacts[CONFIG_MAX_CONTACTS];
    for (uint32_t i = 0; i < c->ncontacts; i++) {
        snprintf(contacts[i].name, sizeof contacts[i].name, "%s", c->contacts[i]);
        uint32_t ip = 0;
        shoal_node_name_ip(c->contacts[i], &ip);
        contacts[i].addr = (shoal_addr){ip, c->cluster_port};
    }
    sc.contacts = contacts;
    sc.ncontacts = c->ncontacts;
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint64_t)getpid() ^ (uint64_t)gossip_now_ms();
    return swim_new(&sc, seed, gossip_now_ms());
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
    if (!shoal_config_load(path, &node.cfg, err, sizeof err)) {
        fprintf(stderr, "shoald: config error: %s\n", err);
        return 1;
    }
    if (fs_mkdir_p(node.cfg.data_dir) != 0) {
        fprintf(stderr, "shoald: cannot create data_dir %s: %s\n", node.cfg.data_dir, strerror(errno));
        return 1;
    }
    if (!shoal_log_open(&node.log, node.cfg.log_dir, node.cfg.node_name)) {
        fprintf(stderr, "shoald: cannot open %s/cluster.jsonl: %s\n", node.cfg.log_dir, strerror(errno));
        return 1;
    }
    fd_limit fl;
    if (fd_limit_apply(node.cfg.max_connections, &fl) != 0) {
        fprintf(stderr, "shoald: cannot read or set the open-file limit: %s\n", strerror(errno));
        return 1;
    }
    shoal_log_event(&node.log, fl.limit < fl.want ? "fd_limit_low" : "fd_limit",
                    json_pack("{s:I, s:I, s:I, s:i}", "limit", (json_int_t)fl.limit, "want", (json_int_t)fl.want,
                              "hard", (json_int_t)(fl.hard > INT64_MAX ? INT64_MAX : fl.hard), "max_connections",
                              (int)node.cfg.max_connections));
    node.fdl = fl;
    if (fl.limit < fl.want)
        fprintf(stderr,
                "shoald: the open-file limit (hard %llu) is below the %llu that max_connections = %u needs: "
                "raise it (ulimit -Hn, LimitNOFILE=) or lower max_connections\n",
                (unsigned long long)fl.hard, (unsigned long long)fl.want, node.cfg.max_connections);
    node.loop = ev_default_loop(EVFLAG_AUTO);
    node.started_ms = gossip_now_ms();
    node.core = make_core(&node.cfg);
    if (node.core == NULL) {
        fprintf(stderr, "shoald: cannot create the gossip core\n");
        return 1;
    }
    if (gossip_io_start(&node.gio, node.loop, node.core, node.cfg.listen_ip, node.cfg.cluster_port,
                        on_swim_events, &node, err, sizeof err) != 0 ||
        cluster_start(&node.clu, &node, err, sizeof err) != 0 ||
        channels_start(&node.chans, &node, err, sizeof err) != 0 ||
        claims_io_start(&node.claims, &node, err, sizeof err) != 0 ||
        media_io_start(&node.media, &node, err, sizeof err) != 0 ||
        api_http_start(&node, err, sizeof err) != 0 || webhook_start(&node, err, sizeof err) != 0 ||
        signaling_start(&node.sig, &node, err, sizeof err) != 0) {
        fprintf(stderr, "shoald: %s\n", err);
        shoal_log_event(&node.log, "node_start_failed", json_pack("{s:s}", "error", err));
        return 1;
    }
    node.gio.on_other = on_other_datagram;
    node.clu.on_done = api_http_proposal_done;
    node.clu.done_ctx = &node;
    ev_signal_init(&node.sigterm_w, signal_cb, SIGTERM);
    ev_signal_init(&node.sigint_w, signal_cb, SIGINT);
    node.sigterm_w.data = node.sigint_w.data = &node;
    ev_signal_start(node.loop, &node.sigterm_w);
    ev_signal_start(node.loop, &node.sigint_w);
    shoal_log_event(&node.log, "node_start",
                    json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "version", SHOAL_VERSION, "cluster",
                              node.cfg.cluster_name, "node_type",
                              node.cfg.temporary ? "temporary" : "regular", "cluster_port",
                              node.cfg.cluster_port, "api_port", node.cfg.api_port, "signaling_port",
                              node.cfg.signaling_port));

    ev_run(node.loop, 0);

    shoal_log_event(&node.log, "node_stop", json_pack("{s:s}", "reason", "left the cluster"));
    signaling_stop(&node.sig);
    api_http_stop(&node); /* closes every socket: signaling's state is freed after */
    media_io_stop(&node.media); /* after the sessions: each left its peer */
    claims_io_stop(&node.claims);
    channels_stop(&node.chans);
    cluster_stop(&node.clu);
    view_ring_free(&node.ring);
    gossip_io_stop(&node.gio);
    swim_free(node.core);
    shoal_log_close(&node.log);
    return 0;
}
