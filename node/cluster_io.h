/* cluster_io.h - binds the node core (node/core/node_core.h) to the world:
 * a UDP socket and a TCP listener on the cluster port, outgoing push-pull
 * connections, one libev timer at the node core's next deadline, and one
 * prepare watcher that, before the loop blocks, hands the node core's
 * events to the node (on_cluster_event, on_event) and sends its outbox. Every call into the
 * node core, from any adapter, is followed by that drain in the same loop
 * iteration: no caller flushes anything itself. */
#ifndef SHOAL_CLUSTER_IO_H
#define SHOAL_CLUSTER_IO_H

#include <ev.h>
#include <stdint.h>

#include "node_core.h"

#define CLUSTER_IO_MAX_CONNS 256        /* concurrent TCP streams; more are refused */
#define CLUSTER_IO_STREAM_TIMEOUT 5.0   /* seconds a stream may take in all */

/* One event of the node core (it may call into the core again). */
typedef void (*cluster_event_fn)(void *ctx, const ncore_event *ev);
/* One event of the cluster core (roster, lease, serving). */
typedef void (*cluster_core_event_fn)(void *ctx, const ccore_event *ev);

typedef struct stream_conn stream_conn;

typedef struct cluster_io {
    struct ev_loop *loop;
    node_core *nc;
    int udp_fd, tcp_fd;
    ev_io udp_w, tcp_w;
    ev_timer timer;
    ev_prepare drain_w;                /* before the loop blocks: events, outbox, timer */
    ev_timer accept_pause;             /* out of descriptors: the listener rests, then accepts again */
    stream_conn *conns;                /* doubly linked list */
    uint32_t nconns;
    uint64_t next_conn_id;
    cluster_event_fn on_event;
    cluster_core_event_fn on_cluster_event;
    void *ctx;
    uint64_t send_errors;              /* datagrams the kernel refused */
    uint64_t refused_conns;            /* TCP connections over CLUSTER_IO_MAX_CONNS */
    uint64_t bad_frames;               /* TCP frames with a zero or oversized length */
} cluster_io;

/* Binds UDP and TCP on ip:port and starts watching. Returns 0, or -1 with a
 * message in err (e.g. the address is in use). */
int cluster_io_start(cluster_io *io, struct ev_loop *loop, node_core *nc, uint32_t ip, uint16_t port,
                     cluster_event_fn on_event, cluster_core_event_fn on_cluster_event, void *ctx, char *err,
                     size_t errlen);
void cluster_io_stop(cluster_io *io);

#endif
