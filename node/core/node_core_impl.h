/* node_core_impl.h - the node core's state, shared by its files
 * (node_core.c: the wiring; admission.c: the clients). Not for callers. */
#ifndef SHOAL_NODE_CORE_IMPL_H
#define SHOAL_NODE_CORE_IMPL_H

#include "keyed.h"
#include "node_core.h"
#include "vec.h"
#include "view.h"

typedef enum adm_phase {
    ADM_FREE,                          /* the slot is unused */
    ADM_OPEN,                          /* a socket, no connect decided yet (or decided and gone elsewhere) */
    ADM_WAITING,                       /* for the channel's claim */
    ADM_AUTH,                          /* for the auth webhook */
    ADM_ADMITTED,
    ADM_HELD,                          /* its node is suspected: decided again every ADM_TICK_MS */
} adm_phase;

typedef struct adm_client {
    void *user;
    uint8_t phase;                     /* adm_phase */
    uint8_t role;                      /* NCORE_ROLE_* */
    bool connected;                    /* a connect came */
    bool redirected, authorized, closing;
    uint32_t chan;                     /* index in chans while waiting, authorizing or admitted */
    int32_t prev, next;                /* in its channel's list, or the held list; -1 none */
    int64_t held_ms;                   /* first held, 0 never */
    char channel[CLAIMS_CHANNEL_MAX + 1];
} adm_client;

typedef struct adm_chan {
    char id[CLAIMS_CHANNEL_MAX + 1];
    int32_t members, waiting;          /* list heads (client slots), -1 none */
    uint32_t nmembers, nauth;
    uint32_t counts[NCORE_ROLES];      /* admitted, by role */
    uint64_t created_ms;               /* wall clock of its first admission */
} adm_chan;

typedef struct admission {
    vec clients;                       /* adm_client slots; handle = slot + 1 */
    int32_t free_head;                 /* free slots, linked by next */
    uint32_t nclients;                 /* slots in use */
    keyed chans;                       /* adm_chan by id */
    int32_t held;                      /* held list head */
    uint32_t nsessions, npending, nheld;
    uint32_t nopen;                    /* channels with admitted clients */
    int64_t next_enforce, next_load;
    uint64_t others_load;              /* the other members' gossiped loads */
    uint32_t published_load;
    view_ring ring;                    /* the placement ring of this node's view */
} admission;

struct node_core {
    ncore_config cfg;                  /* contacts and state are not kept */
    ncore_env env;
    swim *gossip;
    cluster_core *cluster;
    claims *claims;
    chtable *table;
    uint32_t table_cursor;             /* the member the last table digest went to */
    bool leaving, left;                /* ncore_leave called; NCORE_EV_LEFT told */
    bool touched;                      /* called since ncore_untouched last said so */
    outbox out;                        /* swim_out_kind PACKET or STREAM, by address */
    vec events;                        /* ncore_event */
    vec cluster_events;                /* ccore_event */
    ncore_stats stats;
    admission adm;
};

/* node_core.c */
void ncore_push_event(node_core *n, const ncore_event *e);
void ncore_settle(node_core *n, int64_t now);

/* admission.c */
void adm_init(node_core *n);
void adm_free(node_core *n);
void adm_on_claim(node_core *n, int64_t now, const claims_event *ev);
void adm_tick(node_core *n, int64_t now);
int64_t adm_next_deadline(const node_core *n);

#endif
