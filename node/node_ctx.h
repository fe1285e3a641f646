/* node_ctx.h - what the adapters of a running node share: its loop, config,
 * log, node core and libwebsockets context, and the accept guard that every
 * client-facing server applies.
 *
 * Adapters (cluster_io, roster_io, media_io, signaling, webhook, placement_io)
 * see the node through this and nothing more: none of them includes node.h,
 * so none can reach into another. What one adapter's event means for another
 * is decided in one place, shoald.c's dispatch. */
#ifndef SHOAL_NODE_CTX_H
#define SHOAL_NODE_CTX_H

#include <ev.h>
#include <stdint.h>

#include "config.h"
#include "fd_limit.h"
#include "log.h"
#include "node_core.h"

struct lws_context;
struct lws_vhost;
struct lws_context_creation_info;

typedef struct node_ctx {
    struct ev_loop *loop;
    shoal_config cfg;
    shoal_log log;
    node_core *nc;               /* gossip, roster, lease, claims, channel table, admission */
    struct lws_context *lws;     /* made by api_http_start; signaling and the webhook add vhosts */
    struct lws_vhost *hook_vhost;  /* client connections: the auth webhook */
    int64_t started_ms;
    fd_limit fdl;                /* the open-file limit set at start (fd_limit.h) */
    uint64_t accept_refused;     /* sockets closed at accept: too few descriptors left */
    int64_t accept_refused_logged_ms;
} node_ctx;

/* The cores' clock in production: CLOCK_MONOTONIC in ms (never jumps with
 * the wall clock, unlike ev_now). */
int64_t node_now_ms(void);

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION of the API and signaling vhosts:
 * 0 keeps the socket, 1 closes it at once (too few descriptors left,
 * counted, and logged at most every 10 s). */
int node_accept_filter(node_ctx *node, int fd, uint32_t headroom);

/* What every vhost of the node shares: the listen address, and TLS when
 * tls_cert_file/tls_key_file are set (the API and signaling both). */
void node_vhost_info(const node_ctx *node, struct lws_context_creation_info *info);

#endif
