/* node.h - one shoald process: its config, log, node core (node/core) and
 * the adapters that bind it and the client-facing servers to the world. */
#ifndef SHOAL_NODE_H
#define SHOAL_NODE_H

#include <ev.h>
#include <stdbool.h>

#include "cluster_io.h"
#include "config.h"
#include "fd_limit.h"
#include "log.h"
#include "media_io.h"
#include "node_core.h"
#include "roster_io.h"
#include "signaling.h"
#include "view.h"

struct lws_context;

typedef struct shoal_node {
    struct ev_loop *loop;
    shoal_config cfg;
    shoal_log log;
    node_core *nc;               /* gossip, roster, lease, claims, channel table */
    cluster_io cio;              /* the cluster socket and the node core's timer */
    struct lws_context *lws;
    struct lws_vhost *hook_vhost;  /* client connections: the auth webhook */
    roster_io roster;            /* raft.state, file checks, cluster events in the log */
    signaling sig;               /* WebSocket signaling: sessions, admission */
    media_io media;              /* ICE-lite, DTLS-SRTP, RTP forwarding */
    ev_signal sigterm_w, sigint_w;
    bool leaving;
    int64_t started_ms;
    fd_limit fdl;                /* the open-file limit set at start (fd_limit.h) */
    uint64_t accept_refused;     /* sockets closed at accept: too few descriptors left */
    int64_t accept_refused_logged_ms;
} shoal_node;

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION of the API and signaling vhosts:
 * 0 keeps the socket, 1 closes it at once (too few descriptors left,
 * counted, and logged at most every 10 s). accept_guard.c. */
int node_accept_filter(shoal_node *node, int fd, uint32_t headroom);

#endif
