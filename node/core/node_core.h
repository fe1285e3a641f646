/* node_core.h - one node of the cluster as a core with no I/O: the wiring
 * between the protocol cores that shoald and the split-brain simulator
 * both run, written once (DESIGN.md: protocol cores do no I/O, and that
 * includes the wiring between them).
 *
 * It owns the node's SWIM core (gossip/swim.h), cluster core (roster,
 * lease, serving: gossip/cluster_core.h), channel claims
 * (placement/claims.h), replicated channel table (placement/chtable.h),
 * placement ring (placement/view.h) and the admission of every client
 * (admission.c), and does what connects them:
 *   - every datagram of the cluster socket goes to the core its kind names
 *     (gossip, Raft and lease, claims, table; table datagrams only from
 *     members gossip lists);
 *   - gossip's membership events reach the cluster core and the table;
 *   - every core's outbox is drained into this one, with names resolved to
 *     addresses through the gossip view (claims, table);
 *   - a client's connect is routed (placement/route.h: table holder, ring
 *     choice, claim, modes, suspects), held, claimed, sent to the auth
 *     webhook, admitted, redirected or refused; admitted clients are closed
 *     when the node stops serving or their channel's claim lapses; the
 *     node's load is gossiped;
 *   - one deadline: the earliest of every core's (the table reports its
 *     own; nothing is polled on a fixed period).
 *
 * The caller (shoald's node/cluster_io.c, the simulator's world.c) passes
 * the clock with every call and, after calls, drains two queues:
 *   outbox  datagrams and stream frames to send (core_out: PACKET or STREAM)
 *   events  membership, claim, channel and ring events (logs, metrics)
 *           and what to do with each client (admit, redirect, refuse, close,
 *           ask the webhook); the cluster core's events (roster, lease,
 *           serving) in a queue of their own (ncore_cluster_events): each
 *           carries a whole roster, 4.5 KB, and one in the common queue would
 *           make every client event that size
 * Randomness comes from the seed given to ncore_new; durable writes of the
 * roster state go through the environment (they must finish, or fail,
 * before the call returns: the cluster core acts on the result). */
#ifndef SHOAL_NODE_CORE_H
#define SHOAL_NODE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chtable.h"
#include "claims.h"
#include "cluster_core.h"
#include "outcome.h"
#include "swim.h"
#include "view.h"

#define NCORE_ROLES 3                  /* a client's role: signaling/connect.h sig_role (sendrecv, sendonly, recvonly) */
#define NCORE_TEXT_MAX 123             /* a close reason's bytes (a WebSocket close frame's limit) */

typedef struct ncore_config {
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    char node_name[WIRE_NAME_MAX + 1];
    shoal_addr addr;                   /* this node's cluster address */
    bool temporary;
    wire_meta meta;                    /* version, weight, url: published by gossip */
    const swim_contact *contacts;      /* contact_node_name_list, borrowed for ncore_new */
    uint32_t ncontacts;
    const uint8_t *state;              /* the persisted roster state (NULL/0: an empty node) */
    size_t state_len;
    uint64_t seed;                     /* every random choice of the node's cores */
    uint32_t max_connections;          /* clients admitted, waiting and held on this node */
    uint32_t cluster_max_connections;  /* 0: no cap over the whole cluster */
    double bounded_load_epsilon;       /* the ring's bounded load (ring.h) */
    bool auth;                         /* every admission asks the auth webhook first */
    int64_t wall_offset_ms;            /* wall clock minus the core's clock: channels' creation times */
} ncore_config;

/* Effects that must complete inside the call. */
typedef struct ncore_env {
    void *ctx;
    /* Writes the roster state durably; 0, or -1 with a message in err. */
    int (*persist)(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen);
} ncore_env;

typedef uint32_t ncore_client;          /* a client of this node; 0: none */

typedef enum ncore_client_action {
    NCORE_ADMIT,                       /* admitted into its channel */
    NCORE_REDIRECT,                    /* go to node `to` at `url` */
    NCORE_REJECT,                      /* refused before admission: close with code and text */
    NCORE_CLOSE,                       /* must go now (not serving, claim lapsed): close with code and text */
    NCORE_AUTH,                        /* ask the auth webhook; answer with ncore_client_auth */
    NCORE_HOLD,                        /* held while `to` is suspected (the first time); the core decides again */
} ncore_client_action;

typedef struct ncore_client_event {
    ncore_client_action action;
    ncore_client client;
    void *user;                        /* as given to ncore_client_open; NULL: the client is gone, skip */
    shoal_outcome outcome;             /* REJECT, CLOSE: why */
    uint16_t code;                     /* REJECT, CLOSE: the WebSocket close code */
    char text[NCORE_TEXT_MAX + 1];     /* REJECT, CLOSE: the close reason ("NODE-FULL: max_connections reached") */
    char to[WIRE_NAME_MAX + 1];        /* REDIRECT, HOLD: the node */
    char url[WIRE_URL_MAX + 1];        /* REDIRECT: its public signaling URL */
} ncore_client_event;

typedef enum ncore_event_kind {
    NCORE_EV_MEMBER,                   /* gossip: .member */
    NCORE_EV_CLAIM,                    /* a claim's outcome: .claim (the waiting clients are decided already) */
    NCORE_EV_CLIENT,                   /* what to do with a client: .client */
    NCORE_EV_CHANNEL,                  /* .channel opened (first admission) or closed (last client gone) */
    NCORE_EV_RING,                     /* the placement ring changed: ncore_ring() */
    NCORE_EV_LEFT,                     /* after ncore_leave: the others were told, the process may exit */
} ncore_event_kind;

typedef struct ncore_channel_event {
    bool opened;
    char id[CLAIMS_CHANNEL_MAX + 1];
} ncore_channel_event;

typedef struct ncore_event {
    ncore_event_kind kind;
    union {
        swim_event member;
        claims_event claim;
        ncore_client_event client;
        ncore_channel_event channel;
    };
} ncore_event;

typedef struct ncore_stats {
    uint64_t table_from_strangers;     /* table datagrams from non-members, dropped */
    uint64_t unroutable;               /* claims datagrams to names gossip does not know */
    /* admission */
    uint32_t sessions, pending, held;  /* now: admitted; waiting for a claim or the webhook; held */
    uint32_t channels;                 /* now: this node's channels with clients */
    uint64_t admitted, redirects, holds, fenced;
    uint64_t rejected[SHOAL_OUTCOME_COUNT];
} ncore_stats;

typedef struct ncore_channel_info {
    uint32_t members;
    uint32_t counts[NCORE_ROLES];      /* admitted, by role */
    uint64_t created_ms;               /* wall clock */
} ncore_channel_info;

typedef struct node_core node_core;

/* NULL with a message in err when the roster state does not decode (a
 * corrupt file is never silently replaced) or memory runs out. */
node_core *ncore_new(const ncore_config *cfg, const ncore_env *env, int64_t now_ms, char *err, size_t errlen);
void ncore_free(node_core *n);

/* ---- inputs ---------------------------------------------------------------- */
/* A datagram on the cluster socket, whatever its kind. */
void ncore_recv_packet(node_core *n, int64_t now_ms, shoal_addr from, const uint8_t *buf, size_t len);
/* A stream frame's payload (gossip push-pull): conn_id names an accepted
 * connection the reply goes to, 0 the reply to a stream this node opened. */
void ncore_recv_stream(node_core *n, int64_t now_ms, shoal_addr from, uint64_t conn_id, const uint8_t *buf,
                       size_t len);
void ncore_tick(node_core *n, int64_t now_ms);
/* The earliest time any core wants ncore_tick (never later than a second:
 * states that time alone changes, such as a lease running out, are judged
 * at least that often). */
int64_t ncore_next_deadline(const node_core *n, int64_t now_ms);
/* The adapter's periodic check that data_dir and log_dir are writable. */
void ncore_set_files(node_core *n, int64_t now_ms, bool ok, const char *error);
/* Graceful leave: stop serving now, tell the others; NCORE_EV_LEFT (or
 * ncore_leave_done) says when the process may exit. */
void ncore_leave(node_core *n, int64_t now_ms);
bool ncore_leave_done(node_core *n, int64_t now_ms);

/* Operator actions (cluster_core.h): NULL and a proposal id, or an error code. */
const char *ncore_register(node_core *n, int64_t now_ms, const char *contact, uint64_t *id);
const char *ncore_purge(node_core *n, int64_t now_ms, const char *target, uint64_t *id);
const char *ncore_init(node_core *n, int64_t now_ms, const char names[][WIRE_NAME_MAX + 1], uint32_t count,
                       uint64_t *id);
void ncore_set_mode(node_core *n, int64_t now_ms, uint8_t mode);

/* Is this node's claim on the channel valid now (placement/claims.h)? */
bool ncore_claim_valid(const node_core *n, int64_t now_ms, const char *channel);

/* Clients. A client is opened with its socket (so that a node that stops
 * serving closes sockets that sent nothing yet too), then sends its
 * connect; whatever happens to it comes as NCORE_EV_CLIENT events, until
 * the caller says it is gone (after any close, or when the socket closed).
 * role: sig_role; redirected: the connect carried "redirect": true. */
ncore_client ncore_client_open(node_core *n, void *user); /* 0: out of memory */
void ncore_client_connect(node_core *n, int64_t now_ms, ncore_client c, const char *channel, uint8_t role,
                          bool redirected);
/* The webhook's verdict: SHOAL_OK admits (if the route still does), any
 * other outcome refuses with words. */
void ncore_client_auth(node_core *n, int64_t now_ms, ncore_client c, shoal_outcome result, const char *words);
void ncore_client_gone(node_core *n, int64_t now_ms, ncore_client c);
/* This node's channel: false when it has none of that id. */
bool ncore_channel(const node_core *n, const char *channel, ncore_channel_info *out);
/* Each admitted client of the channel, by its user pointer. */
void ncore_channel_each(const node_core *n, const char *channel, void (*visit)(void *ctx, void *user), void *ctx);

/* ---- outputs ----------------------------------------------------------------- */
/* Every core's datagrams and stream frames, by address (core_out with a
 * swim_out_kind, see swim.h): read with outbox_items, empty with
 * outbox_clear. */
outbox *ncore_outbox(node_core *n);
const ncore_event *ncore_events(const node_core *n, uint32_t *count);
void ncore_events_clear(node_core *n);
/* The cluster core's events (roster, lease, serving), in their order. */
const ccore_event *ncore_cluster_events(const node_core *n, uint32_t *count);
void ncore_cluster_events_clear(node_core *n);
/* True when nothing called into the core since the last call of this (so
 * its outbox, events and deadline cannot have changed); clears the mark. A
 * driver that drains once per loop iteration skips the work then. */
bool ncore_untouched(node_core *n);

/* ---- state (read-only views of the cores) --------------------------------------- */
const swim *ncore_swim(const node_core *n);
const cluster_core *ncore_cluster(const node_core *n);
const claims *ncore_claims(const node_core *n);
const chtable *ncore_table(const node_core *n);
const ncore_stats *ncore_stats_of(const node_core *n);
/* The placement ring of this node's gossip view, with the gossiped loads. */
const view_ring *ncore_ring(node_core *n);

#endif
