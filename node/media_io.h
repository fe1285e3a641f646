/* media_io.h - the media plane of a running node: media/sfu.h behind one
 * UDP socket on listen_address:media_port (recvmmsg/sendmmsg on the libev
 * loop) and one timer set from sfu_next_deadline.
 *
 * It knows peers, not clients: whoever joins a peer gets its events (an
 * offer to send, media connected, media ended) through the callback given
 * at start, with the user pointer it joined with. shoald.c hands them to
 * signaling (signaling_media.c), which owns the WebSocket side. */
#ifndef SHOAL_MEDIA_IO_H
#define SHOAL_MEDIA_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "send_plan.h"
#include "sfu.h"

#define MEDIA_IO_BATCH 64      /* datagrams per recvmmsg, messages per sendmmsg */
#define MEDIA_IO_TX_WINDOW 2048 /* outgoing datagrams planned together for GSO */
#define MEDIA_IO_HOLD_NS 400000 /* longest a forwarded copy waits for its batch */
#define MEDIA_IO_HOLD_BACKLOG_NS 2000000 /* the same while input queues up in the socket */
#define MEDIA_IO_LINGER_PPS 20000 /* datagrams/s in from which the node waits for more */

struct node_ctx;
struct media_dtls_ctx;

/* An SFU event (offer, connected, ended) for the peer's user; ctx is the
 * one given to media_io_start. The handler may leave peers. */
typedef void (*media_event_fn)(void *ctx, const sfu_event *e);

typedef struct media_io {
    struct node_ctx *node;
    media_event_fn on_event;
    void *ctx;
    sfu *sfu;
    struct media_dtls_ctx *dtls;
    int fd;
    ev_io io_w;
    ev_timer tick_w;                  /* at sfu_next_deadline */
    int64_t tick_at;                  /* the deadline tick_w is set for (INT64_MAX: stopped) */
    unsigned long long send_errors;   /* datagrams the kernel refused (full buffer, ...) */
    unsigned long long send_messages; /* messages sent: datagrams / this is GSO's gain */
    bool gso;                         /* UDP_SEGMENT in use: off once the kernel refuses it */
    bool linger;                      /* the last 100 ms had MEDIA_IO_LINGER_PPS in */
    unsigned long long rx_datagrams, rx_at_rate; /* datagrams in: all, and at rate_ms */
    int64_t rate_ms;                  /* when the input rate was last measured */
    send_plan plan;
    unsigned char rx[MEDIA_IO_BATCH][1500]; /* one recvmmsg batch; SFU_DGRAM_MAX each */
} media_io;

int media_io_start(media_io *m, struct node_ctx *node, media_event_fn on_event, void *ctx, char *err,
                   size_t errlen);
void media_io_stop(media_io *m);
/* A client's media in channel_id: its peer, stored at *peer before its
 * first event (the offer, SFU_EV_OFFER) is handed over, which is before
 * this returns. -1 with the WebSocket close code and reason (and *peer
 * NULL) when it cannot have media (codec, out of memory). */
int media_io_join(media_io *m, const char *channel_id, const char *connection_id, const sfu_peer_opts *o,
                  void *user, sfu_peer **peer, uint16_t *code, const char **why);
/* The peer's answer or re-answer: 0, or -1 with why (the answer was bad). */
int media_io_answer(media_io *m, sfu_peer *p, const char *sdp, const char **why);
/* The peer's client is gone. */
void media_io_leave(media_io *m, sfu_peer *p);
/* Prometheus text for GET /metrics. */
void media_io_metrics(const media_io *m, FILE *f);

#endif
