/* sim.h - the split-brain simulator: the real cores (gossip/swim, raft,
 * lease, cluster_core: the object code shoald links) driven by a virtual
 * clock, a seeded PRNG and a virtual network, under faults.
 *
 * One run ("seed") is: build a scenario (a timed list of faults and
 * operator actions) from the seed, then pop events from one queue in order
 * of virtual time: packet deliveries, node timers, scenario actions. After
 * every event the invariants (check.c) are judged; the first violation ends
 * the run and is reported with the seed and the virtual time. Nothing in a
 * run reads a real clock or an unseeded random source, so a seed always
 * gives the same run, event for event (FoundationDB's and TigerBeetle's
 * deterministic simulation).
 *
 * Time: `now` is true virtual time in microseconds. Each node has its own
 * clock (rate off by up to the scenario's drift bound, and an offset); the
 * cores see only their node's clock in milliseconds. */
#ifndef SHOAL_SIM_H
#define SHOAL_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "chtable.h"
#include "chtable_route.h"
#include "claims.h"
#include "route.h"
#include "cluster_core.h"
#include "rng.h"
#include "swim.h"
#include "vec.h"
#include "node_core.h"
#include "view.h"

#define SIM_MAX_NODES 128
#define SIM_MAX_ACTIONS 4096
#define SIM_PAUSE_BUFFER 4096          /* datagrams a stalled process's socket holds */
#define SIM_PORT 49010
#define SIM_FILE_PROBE_MS 2000         /* the adapter's check of data_dir (node/cluster.c) */
#define SIM_SECOND 1000000LL
#define SIM_CHANNELS 32                /* channel ids the simulated clients use */
#define SIM_MAX_HOPS 3                 /* redirects a client follows before it gives up */

/* ---- scenario ------------------------------------------------------------- */

typedef enum act_type {
    ACT_PARTITION,     /* groups[]: node i is in group groups[i]; cross-group links cut both ways */
    ACT_CUT_ONEWAY,    /* a's packets no longer reach b (dropped on b's input) */
    ACT_HEAL,          /* every cut removed */
    ACT_LOSS,          /* a < 0: every link; else links to and from a: loss (per mille) */
    ACT_NET,           /* duplication and reordering (per mille), jitter (us) on every link */
    ACT_CRASH,         /* process killed: state gone, disk kept */
    ACT_RESTART,       /* started again with its disk */
    ACT_WIPE_RESTART,  /* started again with an empty disk */
    ACT_PAUSE,         /* process stalled for value ms */
    ACT_CLOCK,         /* clock rate off by value ppm from now on */
    ACT_DISK,          /* value 1: writes fail; 0: writes work again */
    ACT_LEAVE,         /* graceful leave (SIGTERM), then the process stops */
    ACT_PURGE,         /* operator on node a: PurgeClusterNode b */
    ACT_REGISTER,      /* operator on node a: RegisterClusterNode through contact b */
    ACT_INIT,          /* operator on node a: InitCluster with the nodes in mask */
    ACT_MODE,          /* operator on node a: ChangeMode value */
    ACT_STABLE,        /* from here on no fault: liveness is judged at value ms after this */
} act_type;

typedef struct sim_action {
    int64_t at_ms;
    act_type type;
    int a, b;
    int64_t value;
    uint8_t groups[SIM_MAX_NODES];
    uint8_t mask[SIM_MAX_NODES];
} sim_action;

typedef struct scenario {
    char name[32];
    int nodes, regular;                /* nodes 0..regular-1 are regular, the rest temporary */
    int64_t duration_ms;
    int64_t drift_ppm;                 /* clock rates differ by at most this (|rate - 1| <= drift/2) */
    int fp_loss_permille;              /* a false death with loss at or below this fails the run */
    sim_action acts[SIM_MAX_ACTIONS];
    int nacts;
} scenario;

/* Builds scenario `name` for n nodes from seed; false if the name is
 * unknown. random_ms: the length of the random scenario (0: 120 s). */
bool scenario_build(scenario *sc, const char *name, int n, int regular, uint64_t seed, int64_t random_ms);
const char *const *scenario_names(void);

/* ---- the simulated world ------------------------------------------------- */

typedef enum ev_type {
    EV_PACKET, EV_STREAM_REQ, EV_STREAM_REPLY, EV_TIMER, EV_RESUME, EV_ACTION, EV_END,
    EV_CLIENT_NEW, EV_CLIENT_AT, EV_CLIENT_LEAVE
} ev_type;

typedef struct sim_event {
    int64_t at;                        /* true time, us */
    uint64_t seq;                      /* ties broken by insertion order */
    uint8_t type;
    int16_t node, from;
    uint32_t gen;                      /* EV_TIMER: the node's timer token; STREAM_REPLY: origin's generation */
    uint64_t conn;                     /* EV_STREAM_*: connection id at the server */
    int action;                        /* EV_ACTION; EV_CLIENT_*: the client */
    uint32_t len;
    uint8_t *data;                     /* owned by the event */
} sim_event;

typedef struct sim_heap {
    sim_event *v;
    uint32_t n, cap;
    uint64_t seq;
} sim_heap;

void heap_push(sim_heap *h, sim_event ev);
bool heap_pop(sim_heap *h, sim_event *out);
void heap_free(sim_heap *h);

struct sim;

typedef struct sim_node {
    struct sim *world;
    int id;
    char name[WIRE_NAME_MAX + 1];
    shoal_addr addr;
    bool temporary;
    node_core *nc;                     /* the node: its cores and their wiring (node/core) */
    const swim *gossip;                /* views into nc, for the checker and the clients */
    const cluster_core *core;
    view_ring ring;                    /* the placement ring of its view */
    const claims *cl;                  /* channel claims (placement/claims.h) */
    uint16_t clients[SIM_CHANNELS];    /* admitted clients per channel */
    int64_t live_since[SIM_CHANNELS];  /* true us its first client of the run of clients came */
    const chtable *table;              /* the replicated channel table (placement/chtable.h) */
    bool up, paused, leaving;
    bool was_leader;
    int64_t pause_until;               /* true us */
    sim_event *inbox;                  /* datagrams that arrived while paused */
    uint32_t ninbox;
    uint32_t gen;                      /* bumped by crash/restart: stale streams are dropped */
    uint32_t timer_token;
    int64_t timer_at;                  /* true us of the pending timer event, INT64_MAX none */
    int64_t rate_ppm, offset_us;       /* local clock = now + now*ppm/1e6 + offset */
    int64_t next_file_probe;           /* local ms */
    bool disk_fails;
    uint8_t *disk;                     /* the roster state file */
    size_t disk_len;
    uint64_t msgs_out, bytes_out;
    /* what the checker tracks about this node */
    bool serving;                      /* as the core last said */
    int64_t up_since, pause_end;       /* true us */
    int64_t cut_until;                 /* a cut touched this node until then (true us) */
    int64_t loss_until;                /* loss above the FP bound touched it until then */
    uint64_t commit_checked;           /* roster entries already checked against history */
    uint64_t checked_cluster;
} sim_node;

typedef struct sim_client {
    uint8_t chan;
    uint8_t hops;
    uint8_t state;                     /* 0 gone, 1 on its way, 2 admitted, 3 at a node, being decided */
    ncore_client handle;               /* its place in the node core of `node` (state 2, 3) */
    int16_t node;
    uint32_t gen;                      /* the node's generation when admitted */
    int64_t stay_us;
} sim_client;

typedef struct sim_stats {
    /* per partition: time until every minority node stopped serving (ms) */
    double block_ms[64];
    int nblock;
    double heal_ms[64];                /* per heal: until every eligible node serves (ms) */
    int nheal;
    int false_deaths;
    uint64_t msgs, bytes;
    double node_seconds;
    uint64_t events;
    uint64_t clients, admitted, redirects, rejected, closed, holds;
} sim_stats;

typedef struct sim {
    const scenario *sc;
    uint64_t seed;
    shoal_rng rng;                     /* network decisions */
    int64_t now;
    sim_heap heap;
    sim_node nodes[SIM_MAX_NODES];
    int n;
    /* network */
    uint8_t *cut;                      /* n*n: cut[from*n+to] */
    uint16_t *loss;                    /* n*n per mille */
    int dup_permille, reorder_permille;
    int64_t base_delay_us, jitter_us;
    uint64_t next_conn;
    struct sim_conn { int16_t client; uint32_t gen; } *conns;
    uint32_t nconns, capconns;
    /* checker */
    int64_t *nogrant_since;            /* n*n: [granter*n+member] true us, INT64_MAX: grants */
    int64_t *last_deliv;               /* n*n: [from*n+to] true us of the last datagram handled */
    int64_t lease_true_us;             /* a lease outlives its last grant by at most this */
    struct hist { uint64_t cluster_id; uint64_t n; uint32_t cap; uint64_t *digest; } *hists;
    int nhists;
    uint32_t caphists;
    int wiped_members;                 /* roster members that lost their disk */
    int64_t stable_at, liveness_at;    /* true us; INT64_MAX: none */
    int64_t partition_at, heal_at;     /* measuring blocking and heal times */
    bool minority[SIM_MAX_NODES];      /* nodes cut off from a majority at the last partition */
    bool measuring_block, measuring_heal;
    bool failed;
    char failure[512];
    int64_t failed_at;
    sim_stats stats;
    sim_client *clients;
    uint32_t nclients, capclients;
    int64_t last_reject;               /* true us of the last rejected client */
    int64_t chan_changed[SIM_CHANNELS];/* true us a channel last opened or closed anywhere */
    /* trace */
    FILE *trace;                       /* NULL: no trace */
} sim;

/* One run of one seed; returns true when no invariant was violated. */
bool sim_run(const scenario *sc, uint64_t seed, FILE *trace, sim_stats *stats, char *failure, size_t flen,
             int64_t *failed_at);

/* world.c */
int64_t node_local_ms(const sim_node *nd, int64_t now);
void node_start(sim *s, sim_node *nd, bool wipe);
void node_crash(sim *s, sim_node *nd);
void node_deliver(sim *s, sim_event *ev);
void node_timer(sim *s, sim_node *nd);
void node_resume(sim *s, sim_node *nd);
void node_schedule(sim *s, sim_node *nd);
void node_leave(sim *s, sim_node *nd);
/* After a call into the node core: its outbox and events handled, the timer set. */
void node_after(sim *s, sim_node *nd);
/* net.c */
void net_send(sim *s, int from, shoal_addr to, const uint8_t *data, size_t len);
void net_stream(sim *s, int from, const core_out *o);
int net_node_of(const sim *s, shoal_addr a);
/* clients.c */
void clients_start(sim *s);
void client_new(sim *s);
void client_at(sim *s, int client, int node);
void client_leave(sim *s, int client);
/* What the node core decided for one of its clients, or a channel event. */
void clients_on_event(sim *s, sim_node *nd, const ncore_event *ev);
void clients_node_down(sim *s, sim_node *nd);
/* check.c */
void check_channels(sim *s);
/* Running and allowed to serve: not leaving, purged or with a failing disk. */
bool sim_node_eligible(const sim_node *nd);
void check_after_event(sim *s, int node);
void check_swim_event(sim *s, int at, const swim_event *ev);
void check_serving_changed(sim *s, int node);
void check_liveness(sim *s);
void check_roster(sim *s, int node);
void check_node_down(sim *s, int node);
void check_admission(sim *s, int node, int chan);
void sim_fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sim.c */
void sim_trace(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t sim_rand(sim *s, uint32_t n);
/* The index of the node named `name` ("n<i+1>@10.0.0.x"), -1 if none. */
int sim_node_of(const sim *s, const char *name);

#endif
