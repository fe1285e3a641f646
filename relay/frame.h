/* frame.h - the relay's frames on a TCP connection between two nodes.
 *
 * Each frame is RFC 4571's framing (a 16-bit big-endian length, then that
 * many bytes) around an 8-byte header and a body:
 *
 *   0      kind      RTP 1, RTCP 2, CONTROL 3, KEEPALIVE 4
 *   1      flags     KEYFRAME 0x01 (RTP: the first packet of a keyframe),
 *                    DISCONTINUITY 0x02 (packets of this stream were dropped
 *                    before this one: the receiver does not NACK the gap)
 *   2..3   channel   the channel's handle on this connection (RTP, RTCP)
 *   4..5   sender    the sender's handle within the channel (RTP, RTCP)
 *   6      track     AUDIO 0, VIDEO 1 (RTP, RTCP)
 *   7      reserved  0
 *
 * Handles are small numbers bound by CONTROL messages (control.h) so that a
 * packet names its channel and sender in 4 bytes; CONTROL and KEEPALIVE
 * frames carry zeros there. An RTP body is the packet as the sender's node
 * unprotected it, byte for byte (header extensions included); an RTCP body
 * is one unprotected RTCP packet; a CONTROL body is one control message;
 * a KEEPALIVE has none.
 *
 * The decoder checks every field: a frame that breaks a rule is a protocol
 * error and the connection is reset (there is no resynchronising a TCP
 * stream). The reader keeps at most one frame (64 KiB) per connection. */
#ifndef SHOAL_RELAY_FRAME_H
#define SHOAL_RELAY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "named_enum.h"

#define RELAY_LEN_BYTES 2                       /* RFC 4571 */
#define RELAY_HDR_LEN 8
#define RELAY_FRAME_MAX 65535                   /* header and body, as the 16-bit length allows */
#define RELAY_BODY_MAX (RELAY_FRAME_MAX - RELAY_HDR_LEN)
#define RELAY_RTP_MIN 12                        /* a fixed RTP header */
#define RELAY_RTCP_MIN 8                        /* the smallest RTCP packet (an empty RR) */

typedef enum relay_kind {
    RELAY_RTP = 1,
    RELAY_RTCP = 2,
    RELAY_CONTROL = 3,
    RELAY_KEEPALIVE = 4,
} relay_kind;

#define RELAY_F_KEYFRAME 0x01
#define RELAY_F_DISCONTINUITY 0x02
#define RELAY_F_ALL (RELAY_F_KEYFRAME | RELAY_F_DISCONTINUITY)

typedef enum relay_track { RELAY_AUDIO = 0, RELAY_VIDEO = 1 } relay_track;

typedef struct relay_frame {
    relay_kind kind;
    uint8_t flags;
    uint16_t channel, sender;   /* handles; 0 on CONTROL and KEEPALIVE */
    relay_track track;
    const uint8_t *body;        /* decoded: points into the decoder's input */
    uint32_t body_len;
} relay_frame;

/* Why a frame was refused: one table of names and messages. */
#define RELAY_FRAME_ERROR_MAP(X, P)                                                                     \
    X(P, OK, "ok", "a valid frame")                                                                    \
    X(P, SHORT, "short", "fewer bytes than a frame header")                                            \
    X(P, KIND, "kind", "an unknown frame kind")                                                        \
    X(P, FLAGS, "flags", "unknown flags, or flags on a frame kind that has none")                      \
    X(P, RESERVED, "reserved", "the reserved header byte is not 0")                                    \
    X(P, HANDLES, "handles", "RTP/RTCP without channel and sender handles, or CONTROL/KEEPALIVE with") \
    X(P, TRACK, "track", "a track other than audio or video, or one on CONTROL/KEEPALIVE")             \
    X(P, BODY, "body", "a body too short for its kind, or a body on a KEEPALIVE")                      \
    X(P, RTP_VERSION, "rtp-version", "an RTP or RTCP body whose version is not 2")

SHOAL_NAMED_ENUM(relay_frame_error, RELAY_FRAME_, RELAY_FRAME_ERROR_MAP)

/* Decodes one frame's header and body (the bytes after the 16-bit length).
 * f->body points into buf. */
relay_frame_error relay_frame_decode(const uint8_t *buf, size_t len, relay_frame *f);

/* Writes the whole frame, length first: RELAY_LEN_BYTES + RELAY_HDR_LEN +
 * body_len bytes. 0 if it does not fit in cap or the body is too long. The
 * frame is not checked: encode only frames that relay_frame_decode takes. */
size_t relay_frame_encode(const relay_frame *f, uint8_t *out, size_t cap);

/* A connection's reader: bytes from TCP in, whole frames out. */
typedef struct relay_reader {
    uint32_t have;                          /* bytes of the current frame, length included */
    uint8_t buf[RELAY_LEN_BYTES + RELAY_FRAME_MAX];
} relay_reader;

typedef enum relay_read_result {
    RELAY_READ_MORE = 0,        /* every byte given was taken: give more */
    RELAY_READ_FRAME = 1,       /* *f holds a frame, valid until the next call */
    RELAY_READ_ERROR = -1,      /* a protocol error (*err): reset the connection */
} relay_read_result;

static inline void relay_reader_init(relay_reader *r) { r->have = 0; }

/* Takes bytes from *data (advancing *data and *len) up to the end of one
 * frame. Call again with what is left after each FRAME. */
relay_read_result relay_reader_feed(relay_reader *r, const uint8_t **data, size_t *len, relay_frame *f,
                                    relay_frame_error *err);

#endif
