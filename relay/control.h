/* control.h - the relay's control messages: CONTROL frames (frame.h) whose
 * body is a msgpack array, its first item the message's type.
 *
 *   HELLO           [1, protocol, cluster_name, cluster_id, node, boot_id, version]
 *   REFUSE          [2, "RELAY-VERSION-MISMATCH"]   (an outcome's name, outcome.h)
 *   BIND_CHANNEL    [3, channel, channel_id]        the handle now names that channel
 *   BIND_SENDER     [4, channel, sender, connection_id, audio_ssrc, video_ssrc]
 *                                                   (an SSRC 0: no such track)
 *   UNBIND_SENDER   [5, channel, sender]            the sender left: its handle is free
 *   UNBIND_CHANNEL  [6, channel]                    the channel's handle and its senders' are free
 *
 * Handles are 1..65535, chosen by the sending side of a connection; a
 * receiver resolves an RTP or RTCP frame's (channel, sender) through them
 * (bindings.h). Items appended after the known ones are skipped, so a later
 * protocol version may add some; a type this node does not know is a
 * protocol error. */
#ifndef SHOAL_RELAY_CONTROL_H
#define SHOAL_RELAY_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "wire.h"

#define RELAY_CHANNEL_MAX 255           /* a channel_id, as signaling's connect allows */
#define RELAY_CONNECTION_ID_MAX 63      /* Sora's are 26 characters */
#define RELAY_CONTROL_MAX 512           /* the largest control frame, length included */

typedef enum relay_control_type {
    RELAY_CTL_HELLO = 1,
    RELAY_CTL_REFUSE = 2,
    RELAY_CTL_BIND_CHANNEL = 3,
    RELAY_CTL_BIND_SENDER = 4,
    RELAY_CTL_UNBIND_SENDER = 5,
    RELAY_CTL_UNBIND_CHANNEL = 6,
} relay_control_type;

typedef struct relay_hello {
    uint32_t protocol;                          /* RELAY_PROTOCOL */
    char cluster[WIRE_CLUSTER_MAX + 1];         /* cluster_name */
    uint64_t cluster_id;                        /* the roster's; 0: not in an initialized cluster */
    char node[WIRE_NAME_MAX + 1];
    uint32_t boot_id;                           /* a restarted node is a new peer */
    char version[WIRE_VERSION_STR_MAX + 1];     /* software version */
} relay_hello;

typedef struct relay_control {
    relay_control_type type;
    relay_hello hello;                          /* HELLO */
    shoal_outcome refused;                      /* REFUSE */
    uint16_t channel, sender;                   /* BIND_*, UNBIND_*: handles */
    char channel_id[RELAY_CHANNEL_MAX + 1];     /* BIND_CHANNEL */
    char connection_id[RELAY_CONNECTION_ID_MAX + 1]; /* BIND_SENDER */
    uint32_t ssrc[2];                           /* BIND_SENDER: by relay_track; 0: none */
} relay_control;

/* The whole CONTROL frame (length included) for c into out: its size, 0 if
 * cap is too small. */
size_t relay_control_frame(const relay_control *c, uint8_t *out, size_t cap);

/* A CONTROL frame's body. False: malformed, a handle of 0, or a type not
 * known here. */
bool relay_control_decode(const uint8_t *body, size_t len, relay_control *c);

#endif
