/* queue.h - what one relay connection has to send, and what it gives up
 * when the link is slower than the media.
 *
 * Three classes, written in this order: CONTROL (control messages and
 * RTCP: never dropped), AUDIO, VIDEO. So audio and control never wait
 * behind video; a slow link delays video first.
 *
 *   video  When its oldest queued packet has waited RELAY_Q_VIDEO_MS (about
 *          150 ms of video) or the class holds RELAY_Q_VIDEO_BYTES, every
 *          stream with packets queued loses them all (whole frames: the
 *          frame being written is finished first) and is skipped until its
 *          next keyframe. Its sending node is asked for that keyframe (an
 *          event: relay_queue_take_keyframe_requests), and the keyframe's
 *          first packet carries DISCONTINUITY, so that the receiving node
 *          does not NACK the gap and marks its receivers as needing it.
 *   audio  A packet that waited RELAY_Q_AUDIO_MS (about 100 ms) is dropped;
 *          the stream's next packet carries DISCONTINUITY.
 *   control  Never dropped; past RELAY_Q_CONTROL_BYTES the connection is
 *          to be reset (RELAY_Q_RESET).
 *
 * A connection whose queue has not moved for RELAY_Q_BLOCKED_MS while it
 * holds something is to be reset too. Memory per connection is bounded by
 * the three byte limits. No I/O: the adapter writes what relay_queue_next
 * returns and reports how much the socket took. */
#ifndef SHOAL_RELAY_QUEUE_H
#define SHOAL_RELAY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "keyed.h"

#define RELAY_Q_VIDEO_MS 150
#define RELAY_Q_AUDIO_MS 100
#define RELAY_Q_BLOCKED_MS 3000
#define RELAY_Q_VIDEO_BYTES (4u << 20)
#define RELAY_Q_AUDIO_BYTES (512u << 10)
#define RELAY_Q_CONTROL_BYTES (1u << 20)
#define RELAY_Q_STREAMS_MAX 4096        /* streams whose state a connection keeps */

typedef enum relay_q_class { RELAY_Q_CONTROL, RELAY_Q_AUDIO, RELAY_Q_VIDEO, RELAY_Q_CLASSES } relay_q_class;

typedef enum relay_q_result {
    RELAY_Q_QUEUED,             /* the frame waits to be written */
    RELAY_Q_DROPPED,            /* given up (video skipped until a keyframe, audio too late) */
    RELAY_Q_RESET,              /* the connection must be reset: control overflow or blocked */
} relay_q_result;

typedef struct relay_q_stats {
    uint64_t queued[RELAY_Q_CLASSES], dropped[RELAY_Q_CLASSES]; /* packets */
    uint64_t frames_dropped;            /* video frames given up (whole) */
    uint64_t keyframe_requests;         /* asked of senders because of drops */
    uint64_t bytes_written;
} relay_q_stats;

typedef struct relay_q_key {
    uint16_t channel, sender;
    relay_track track;
} relay_q_key;

typedef struct relay_q_entry {
    relay_q_key key;
    uint32_t ts;                        /* RTP timestamp: packets of one frame share it */
    int64_t enq_ms;
    uint32_t len;
    uint8_t *bytes;                     /* the whole frame, length included */
} relay_q_entry;

typedef struct relay_q_fifo {
    relay_q_entry *items;               /* live entries are items[head .. head + n) */
    uint32_t head, n, cap;
    size_t bytes;
} relay_q_fifo;

typedef struct relay_queue {
    relay_q_fifo cls[RELAY_Q_CLASSES];
    relay_q_entry writing;              /* bytes != NULL: a frame partly written, finished first */
    uint32_t written;                   /* of writing's bytes */
    keyed streams;                      /* relay_q_stream (queue.c) by (channel, sender, track) */
    relay_q_key *kf;                    /* keyframe requests not taken yet */
    uint32_t nkf, capkf;
    int64_t moved_ms;                   /* the last time bytes left, or the queue became non-empty */
    relay_q_stats st;
} relay_queue;

void relay_queue_init(relay_queue *q, int64_t now);
void relay_queue_free(relay_queue *q);

/* Queues f (copied) at now. RTP on the video track with KEYFRAME starts a
 * keyframe; its packets until the next keyframe's belong to that frame. */
relay_q_result relay_queue_push(relay_queue *q, int64_t now, const relay_frame *f);

/* The bytes to write next (a frame or what is left of one), in class
 * order; NULL when nothing waits. Expired audio is dropped here. */
const uint8_t *relay_queue_next(relay_queue *q, int64_t now, size_t *len);
/* The socket took n of the bytes relay_queue_next returned. */
void relay_queue_wrote(relay_queue *q, int64_t now, size_t n);

/* RELAY_Q_RESET when the queue has not moved for RELAY_Q_BLOCKED_MS while
 * holding something, else RELAY_Q_QUEUED. */
relay_q_result relay_queue_check(const relay_queue *q, int64_t now);

/* Streams whose sender must be asked for a keyframe (drops); clears them. */
uint32_t relay_queue_take_keyframe_requests(relay_queue *q, relay_q_key *out, uint32_t max);

size_t relay_queue_bytes(const relay_queue *q);

#endif
