/* node.h - one shoald process: the context its adapters share (node_ctx.h)
 * and the adapters themselves. Only the top of the node includes this:
 * shoald.c, which wires the adapters' events to each other, and the HTTP
 * API (api_http.c, actions.c), which reads every part for /metrics and
 * /debug. An adapter never does (check: scripts/check_includes.py). */
#ifndef SHOAL_NODE_H
#define SHOAL_NODE_H

#include <ev.h>
#include <stdbool.h>

#include "cluster_io.h"
#include "media_io.h"
#include "node_ctx.h"
#include "roster_io.h"
#include "signaling.h"

typedef struct shoal_node {
    node_ctx ctx;                /* loop, config, log, node core, lws: what adapters see */
    cluster_io cio;              /* the cluster socket and the node core's timer */
    roster_io roster;            /* raft.state, file checks, cluster events in the log */
    signaling sig;               /* WebSocket signaling: sessions, admission */
    media_io media;              /* ICE-lite, DTLS-SRTP, RTP forwarding */
    ev_signal sigterm_w, sigint_w;
    bool leaving;
} shoal_node;

#endif
