/* signaling.h - WebSocket signaling of a running node: Sora's `connect`
 * on ws[s]://HOST:signaling_port/signaling, answered by a redirect to the
 * channel's node, a rejection with a close code and reason, or admission.
 *
 * Three files share this state:
 *   signaling_ws.c     libwebsockets on the node's libev loop: sockets,
 *                      frames, one sig_session (signaling/session.h) per
 *                      socket and its timer;
 *   signaling_admit.c  what the node core (node/core/admission.c) decides
 *                      for each client, carried out: admission (the
 *                      session, its media, notify to the channel), redirect,
 *                      refusal, close; the auth webhook's requests;
 *   signaling_media.c  a client's media: its peer in the media plane
 *                      (media_io), offers out, answers in, media ended.
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

#include "node_core.h"
#include "session.h"
#include "sfu.h"

struct node_ctx;
struct media_io;
struct lws;
struct lws_vhost;

#define SIG_LATENCY_BUCKETS 12

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
    ncore_client client;             /* its place in the node core */
    bool admitted;
    int64_t connect_ms;              /* when the connect arrived: time to admission */
    struct webhook_req *hook;        /* the auth webhook's answer is awaited */
    int64_t hook_ms;
    char connection_id[27];          /* Sora's shape: 26 characters of Crockford base32 */
    sfu_peer *peer;                  /* its media (signaling_media.c) while admitted */
} sig_conn;

typedef struct sig_metrics {
    uint64_t connects, closed;
    uint64_t hook_ms_buckets[SIG_LATENCY_BUCKETS]; /* auth webhook answers */
    double hook_ms_sum;
    uint64_t hooks;
    uint64_t admit_ms_buckets[SIG_LATENCY_BUCKETS]; /* time from connect to admission */
    double admit_ms_sum;
} sig_metrics;

typedef struct signaling {
    struct node_ctx *node;
    struct media_io *media;          /* where admitted clients' media goes */
    struct lws_vhost *vhost;
    sig_session_config scfg;
    sig_conn *all;                   /* every open socket */
    uint32_t nconns;                 /* open sockets */
    sig_metrics m;
    unsigned char *tx;               /* LWS_PRE + one outgoing message, reused (lws copies what it cannot send) */
    uint32_t tx_cap;
} signaling;

int signaling_start(signaling *sg, struct node_ctx *node, struct media_io *media, char *err, size_t errlen);
void signaling_stop(signaling *sg);
/* Prometheus text for GET /metrics. */
void signaling_metrics(const signaling *sg, FILE *f);

/* signaling_ws.c -> signaling_admit.c */
bool adm_on_open(signaling *sg, sig_conn *c);      /* a socket: the node core knows it (false: out of memory) */
void adm_on_connect(signaling *sg, sig_conn *c);   /* a valid connect: the node core decides */
void adm_on_closed(signaling *sg, sig_conn *c);    /* the session ended */
/* signaling_admit.c -> signaling_ws.c: after a decision or a message queued
 * for c, let the socket send it (and events be handled). */
void sig_conn_pump(sig_conn *c);
/* Only lets the socket write what was queued for c (safe inside loops over
 * a channel's clients: no events are handled). */
void sig_conn_kick(sig_conn *c);
/* What the node core decided for a client (a node core event). */
void adm_on_client(signaling *sg, const ncore_client_event *e);
/* What the media plane says about a client's peer (a media_io event). */
void signaling_on_media(signaling *sg, const sfu_event *e);

/* signaling_admit.c, signaling_ws.c -> signaling_media.c */
void sig_media_join(signaling *sg, sig_conn *c);   /* admitted: its peer, the offer queued */
void sig_media_answer(signaling *sg, sig_conn *c); /* an answer or re-answer arrived */
void sig_media_leave(signaling *sg, sig_conn *c);  /* the session ended */

#endif
