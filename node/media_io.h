/* media_io.h - the media plane of a running node: media/sfu.h behind one
 * UDP socket on listen_address:media_port (recvmmsg/sendmmsg on the libev
 * loop), tied to the signaling sessions it serves: the offer after
 * admission, re-offers when a channel's participants change, answers in,
 * and a session closed when its media ends (ICE timeout, DTLS failure). */
#ifndef SHOAL_MEDIA_IO_H
#define SHOAL_MEDIA_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>

#include "send_plan.h"

#define MEDIA_IO_BATCH 64      /* datagrams per recvmmsg, messages per sendmmsg */
#define MEDIA_IO_TX_WINDOW 2048 /* outgoing datagrams planned together for GSO */
#define MEDIA_IO_HOLD_NS 400000 /* longest a forwarded copy waits for its batch */
#define MEDIA_IO_HOLD_BACKLOG_NS 2000000 /* the same while input queues up in the socket */
#define MEDIA_IO_LINGER_PPS 20000 /* datagrams/s in from which the node waits for more */

struct shoal_node;
struct sig_conn;
struct sfu;
struct media_dtls_ctx;

typedef struct media_io {
    struct shoal_node *node;
    struct sfu *sfu;
    struct media_dtls_ctx *dtls;
    int fd;
    ev_io io_w;
    ev_timer tick_w;
    unsigned long long send_errors;   /* datagrams the kernel refused (full buffer, ...) */
    unsigned long long send_messages; /* messages sent: datagrams / this is GSO's gain */
    bool gso;                         /* UDP_SEGMENT in use: off once the kernel refuses it */
    bool linger;                      /* the last 100 ms had MEDIA_IO_LINGER_PPS in */
    unsigned long long rx_datagrams, rx_at_tick;
    send_plan plan;
    unsigned char rx[MEDIA_IO_BATCH][1500]; /* one recvmmsg batch; SFU_DGRAM_MAX each */
} media_io;

int media_io_start(media_io *m, struct shoal_node *node, char *err, size_t errlen);
void media_io_stop(media_io *m);
/* After admission: the client's peer, and its offer queued on the session
 * (before notify connection.created, as Sora's clients expect). */
void media_io_join(media_io *m, struct sig_conn *c);
/* An answer or re-answer arrived on c's session. */
void media_io_answer(media_io *m, struct sig_conn *c);
/* c's session ended. */
void media_io_leave(media_io *m, struct sig_conn *c);
/* Prometheus text for GET /metrics. */
void media_io_metrics(const media_io *m, FILE *f);

#endif
