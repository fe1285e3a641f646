/* gossip_io.h - binds the swim core to the world: a UDP socket and a TCP
 * listener on the cluster port, outgoing push-pull connections, and one
 * libev timer at the core's next deadline.
 *
 * After every call into the core the adapter drains its outbox (sendmmsg
 * for datagrams, non-blocking TCP for frames) and its events (handed to
 * on_events), then re-arms the timer. Code outside that calls the core
 * directly (leave, metadata) must call gossip_io_flush afterwards. */
#ifndef SHOAL_GOSSIP_IO_H
#define SHOAL_GOSSIP_IO_H

#include <ev.h>
#include <stdint.h>

#include "swim.h"

#define GOSSIP_IO_MAX_CONNS 256        /* concurrent TCP streams; more are refused */
#define GOSSIP_IO_STREAM_TIMEOUT 5.0   /* seconds a stream may take in all */

typedef void (*gossip_events_fn)(void *ctx, const swim_event *ev, uint32_t n);
/* A datagram that is not gossip (Raft, lease): its first field is `kind`. */
typedef void (*gossip_other_fn)(void *ctx, int kind, shoal_addr from, const uint8_t *buf, size_t len);

typedef struct stream_conn stream_conn;

typedef struct gossip_io {
    struct ev_loop *loop;
    swim *core;
    int udp_fd, tcp_fd;
    ev_io udp_w, tcp_w;
    ev_timer timer;
    ev_timer accept_pause;             /* out of descriptors: the listener rests, then accepts again */
    stream_conn *conns;                /* doubly linked list */
    uint32_t nconns;
    uint64_t next_conn_id;
    gossip_events_fn on_events;
    gossip_other_fn on_other;          /* set after start; NULL: other datagrams dropped */
    void *ctx;
    bool flushing, flush_again;        /* gossip_io_flush is running / was called again */
    uint64_t send_errors;              /* datagrams the kernel refused */
    uint64_t refused_conns;            /* TCP connections over GOSSIP_IO_MAX_CONNS */
    uint64_t bad_frames;               /* TCP frames with a zero or oversized length */
} gossip_io;

/* Binds UDP and TCP on ip:port and starts watching. Returns 0, or -1 with a
 * message in err (e.g. the address is in use). */
int gossip_io_start(gossip_io *io, struct ev_loop *loop, swim *core, uint32_t ip, uint16_t port,
                    gossip_events_fn on_events, void *ctx, char *err, size_t errlen);
void gossip_io_flush(gossip_io *io);

/* Sends one datagram from the cluster socket (Raft, lease). */
void gossip_io_send(gossip_io *io, shoal_addr to, const uint8_t *data, size_t len);
void gossip_io_stop(gossip_io *io);

/* The cores' clock in production: CLOCK_MONOTONIC in ms (never jumps with
 * the wall clock, unlike ev_now). */
int64_t gossip_now_ms(void);

#endif
