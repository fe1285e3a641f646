/* signaling.h - WebSocket signaling of a running node: Sora's `connect`
 * on ws[s]://HOST:signaling_port/signaling, answered by a redirect to the
 * channel's node, a rejection with a close code and reason, or admission.
 *
 * Two files share this state:
 *   signaling_ws.c     libwebsockets on the node's libev loop: sockets,
 *                      frames, one sig_session (signaling/session.h) per
 *                      socket and its timer;
 *   signaling_admit.c  the decisions: placement/route.h's policy over this
 *                      node's view, capacity, channel claims (claims_io.h),
 *                      the node's own channels and their clients, notify,
 *                      the replicated table and the gossiped load, and
 *                      closing every client when the node stops serving.
 *
 * Close codes a client sees: 1000 disconnect / redirected, 1001 the node is
 * shutting down, 1007/1008/1009 a bad message (connect.h), 1008 a policy
 * refusal (a mode that blocks, the auth webhook), 1013 "try again later"
 * (no majority, full, a claim that failed or was lost); the reason is an
 * upper-case code such as NODE-FULL, then a few words. */
#ifndef SHOAL_SIGNALING_H
#define SHOAL_SIGNALING_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"
#include "strmap.h"

struct shoal_node;
struct lws;
struct lws_vhost;

#define SIG_LATENCY_BUCKETS 12

typedef enum { ADM_NONE, ADM_WAITING, ADM_AUTH, ADM_ADMITTED, ADM_HELD } adm_phase;

typedef struct sig_conn {
    struct lws *wsi;
    struct signaling *sg;
    sig_session *s;
    ev_timer timer;
    char *rx;                        /* a fragmented message being put together */
    uint32_t rx_len;
    bool closing;                    /* the close frame is on its way */
    bool write_failed;               /* a send failed: close at the next writable callback */
    struct sig_conn *all_prev, *all_next;   /* every open socket */
    /* admission (signaling_admit.c) */
    adm_phase phase;
    uint32_t chan;                   /* index in sg->chans while waiting, authorizing or admitted */
    struct sig_conn *prev, *next;    /* in that channel's waiting or member list, or sg->held */
    int64_t held_ms;                 /* when it was first held (ROUTE_HOLD), 0 never */
    int64_t connect_ms;              /* when the connect arrived: time to admission */
    struct webhook_req *hook;        /* the auth webhook's answer is awaited */
    int64_t hook_ms;
    bool authorized;                 /* the webhook allowed it (or there is none) */
    char connection_id[27];          /* Sora's shape: 26 characters of Crockford base32 */
    struct sfu_peer *peer;           /* its media (media_io.h) while admitted */
} sig_conn;

/* A channel this node hosts or is claiming: its clients, by role. */
typedef struct local_chan {
    char id[256];
    sig_conn *members, *waiting;
    uint32_t counts[3];              /* admitted, by sig_role */
    uint32_t nmembers;
    uint32_t nauth;                  /* clients waiting for the auth webhook */
    uint64_t created_ms;             /* wall clock, for ListChannels */
} local_chan;

typedef struct sig_metrics {
    uint64_t connects, admitted, redirects, closed, holds;
    uint64_t rejected[12];           /* by reason (signaling_admit.c REASONS) */
    uint64_t hook_ms_buckets[SIG_LATENCY_BUCKETS]; /* auth webhook answers */
    double hook_ms_sum;
    uint64_t hooks;
    uint64_t admit_ms_buckets[SIG_LATENCY_BUCKETS]; /* time from connect to admission */
    double admit_ms_sum;
} sig_metrics;

typedef struct signaling {
    struct shoal_node *node;
    struct lws_vhost *vhost;
    sig_session_config scfg;
    sig_conn *all;                   /* every open socket */
    uint32_t nconns;                 /* open sockets */
    uint32_t nsessions;              /* admitted */
    uint32_t npending;               /* waiting for a claim */
    sig_conn *held;                  /* held while their node is suspected, decided again every 100 ms */
    uint32_t nheld;
    local_chan *chans;
    uint32_t nchans, capchans;
    strmap chan_map;
    ev_timer enforce_w;              /* every 100 ms: majority, claims */
    ev_timer load_w;                 /* every 1 s: load gossip, others' loads */
    uint64_t others_load;            /* sum of the other members' gossiped loads */
    uint32_t published_load;
    uint64_t ring_version;           /* loads were read for this ring */
    sig_metrics m;
    unsigned char *tx;               /* LWS_PRE + one outgoing message, reused (lws copies what it cannot send) */
    size_t tx_cap;
} signaling;

int signaling_start(signaling *sg, struct shoal_node *node, char *err, size_t errlen);
void signaling_stop(signaling *sg);
/* Prometheus text for GET /metrics. */
void signaling_metrics(const signaling *sg, FILE *f);

/* signaling_ws.c -> signaling_admit.c */
void adm_init(signaling *sg);
void adm_free(signaling *sg);
void adm_on_connect(signaling *sg, sig_conn *c);   /* a valid connect: decide */
void adm_on_closed(signaling *sg, sig_conn *c);    /* the session ended */
void adm_enforce(signaling *sg);                   /* every 100 ms: close what may not stay, decide the held */
void adm_publish_load(signaling *sg);              /* every 1 s */
/* signaling_admit.c -> signaling_ws.c: after a decision or a message queued
 * for c, let the socket send it (and events be handled). */
void sig_conn_pump(sig_conn *c);
/* Only lets the socket write what was queued for c (safe inside loops over
 * a channel's clients: no events are handled). */
void sig_conn_kick(sig_conn *c);
/* Claims outcomes reach admission (node->claims.on_outcome). */
void adm_register(signaling *sg);

#endif
