/* media_io.h - the media plane of a running node: media/sfu.h behind one
 * UDP socket on listen_address:media_port (recvmmsg/sendmmsg on the libev
 * loop), tied to the signaling sessions it serves: the offer after
 * admission, re-offers when a channel's participants change, answers in,
 * and a session closed when its media ends (ICE timeout, DTLS failure). */
#ifndef SHOAL_MEDIA_IO_H
#define SHOAL_MEDIA_IO_H

#include <ev.h>
#include <stdio.h>

#define MEDIA_IO_BATCH 64

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
    unsigned long long send_errors;
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
