/* vnet.h - a small virtual network and clock that drives real swim cores in
 * tests: datagrams are delivered after a fixed delay unless a cut or the
 * loss rate drops them; stream exchanges are delivered the same way. Nodes
 * can be killed (stop answering), paused (inputs held until resumed) and
 * restarted with a fresh core. Everything is deterministic for a seed. */
#ifndef SHOAL_TEST_VNET_H
#define SHOAL_TEST_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include "swim.h"

#define VNET_MAX_NODES 64

typedef struct vnet_pkt {
    int64_t at;
    uint64_t seq;
    int src, dst;
    bool stream;
    uint64_t conn_id;        /* stream: != 0 is a request expecting a reply */
    uint32_t len;
    uint8_t *data;
} vnet_pkt;

typedef struct vnet_node {
    swim *s;
    char name[64];
    shoal_addr addr;
    bool up;                 /* false: killed, drops everything */
    bool paused;             /* true: not ticked, inputs held */
    uint32_t ticks;
} vnet_node;

typedef struct vnet {
    int64_t now;
    uint64_t seq;
    shoal_rng rng;
    vnet_node nodes[VNET_MAX_NODES];
    int n;
    bool cut[VNET_MAX_NODES][VNET_MAX_NODES]; /* cut[a][b]: a's packets to b are lost */
    double loss;             /* per datagram */
    int64_t delay_ms;
    vnet_pkt *q;
    uint32_t qlen, qcap;
    swim_config base;        /* template for new nodes */
    /* Event log, for assertions: every event of every node. */
    struct { int node; swim_event ev; } *log;
    uint32_t loglen, logcap;
} vnet;

void vnet_init(vnet *v, uint64_t seed);
void vnet_free(vnet *v);
/* Adds node "nodeI@10.0.0.I" whose contact list is node 0 (unless it is
 * node 0, whose list is empty). Returns its index. */
int vnet_add(vnet *v);
void vnet_run(vnet *v, int64_t duration_ms);
void vnet_kill(vnet *v, int i);
void vnet_restart(vnet *v, int i);
void vnet_pause(vnet *v, int i, bool paused);
/* State of member `of` in node `viewer`'s table, or -1 if unknown. */
int vnet_state(vnet *v, int viewer, int of);
/* Number of up nodes (other than `of`) that list `of` in state st. */
int vnet_count_state(vnet *v, int of, swim_state st);
/* Counts logged events of type t about node `of` (any viewer). */
int vnet_count_events(vnet *v, swim_event_type t, int of);

#endif
