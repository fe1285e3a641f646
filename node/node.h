/* node.h - one shoald process: its config, log, gossip core and adapters. */
#ifndef SHOAL_NODE_H
#define SHOAL_NODE_H

#include <ev.h>
#include <stdbool.h>

#include "channels_io.h"
#include "claims_io.h"
#include "cluster.h"
#include "config.h"
#include "fd_limit.h"
#include "gossip_io.h"
#include "log.h"
#include "media_io.h"
#include "signaling.h"
#include "swim.h"
#include "view.h"

struct lws_context;

typedef struct shoal_node {
    struct ev_loop *loop;
    shoal_config cfg;
    shoal_log log;
    swim *core;
    gossip_io gio;
    struct lws_context *lws;
    struct lws_vhost *hook_vhost;  /* client connections: the auth webhook */
    cluster clu;                 /* roster, lease, serving state */
    channels_io chans;           /* the replicated channel table */
    claims_io claims;            /* who may admit into which channel */
    signaling sig;               /* WebSocket signaling: sessions, admission */
    media_io media;              /* ICE-lite, DTLS-SRTP, RTP forwarding */
    view_ring ring;              /* placement ring of serving nodes (placement_io.h) */
    ev_signal sigterm_w, sigint_w;
    ev_timer leave_w;            /* polls swim_leave_done while leaving */
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
