/* bindings.h - the handles of one relay connection's direction: which
 * channel and which sender an RTP or RTCP frame's (channel, sender) pair
 * names.
 *
 * The sending node chooses handles (relay_bindings_bind_*: the lowest free
 * one) and tells the receiving node with the control message it fills in;
 * the receiving node applies those messages to its own copy
 * (relay_bindings_apply) and resolves each media frame through it. A frame
 * with an unbound pair, or a control message that contradicts the table
 * (a handle bound twice, a sender in an unbound channel), is a protocol
 * error: the connection is reset. At most RELAY_BIND_CHANNELS_MAX channels
 * and RELAY_BIND_SENDERS_MAX senders per direction. No I/O. */
#ifndef SHOAL_RELAY_BINDINGS_H
#define SHOAL_RELAY_BINDINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "keyed.h"
#include "named_enum.h"

#define RELAY_BIND_CHANNELS_MAX 4096
#define RELAY_BIND_SENDERS_MAX 16384

#define RELAY_BIND_ERROR_MAP(X, P)                                                                  \
    X(P, OK, "ok", "applied")                                                                      \
    X(P, HANDLE_IN_USE, "handle-in-use", "the handle is bound already")                            \
    X(P, ID_IN_USE, "id-in-use", "the channel or sender is bound already under another handle")    \
    X(P, NO_SUCH_CHANNEL, "no-such-channel", "the channel handle is not bound")                    \
    X(P, NO_SUCH_SENDER, "no-such-sender", "the sender handle is not bound")                       \
    X(P, FULL, "full", "no handle left, or too many bound")                                        \
    X(P, NOT_A_BINDING, "not-a-binding", "not a BIND or UNBIND message")                           \
    X(P, NO_MEMORY, "no-memory", "out of memory")

SHOAL_NAMED_ENUM(relay_bind_error, RELAY_BIND_, RELAY_BIND_ERROR_MAP)

typedef struct relay_bound_channel {
    char key[6];                                /* the handle in hex: the index's key */
    uint16_t handle;
    uint32_t senders;                           /* bound in it */
    char id[RELAY_CHANNEL_MAX + 1];
} relay_bound_channel;

typedef struct relay_bound_sender {
    char key[10];                               /* "cccc:ssss" in hex */
    uint16_t channel, sender;
    char connection_id[RELAY_CONNECTION_ID_MAX + 1];
    uint32_t ssrc[2];                           /* by relay_track; 0: none */
} relay_bound_sender;

typedef struct relay_channel_name {
    char id[RELAY_CHANNEL_MAX + 1];             /* the index's key */
    uint16_t handle;
} relay_channel_name;

typedef struct relay_bindings {
    keyed channels;                             /* relay_bound_channel by handle */
    keyed names;                                /* relay_channel_name by channel id */
    keyed senders;                              /* relay_bound_sender by (channel, sender) */
} relay_bindings;

/* In place (the index points back at the struct: do not move it). */
void relay_bindings_init(relay_bindings *b);
void relay_bindings_free(relay_bindings *b);

/* The receiving side: a BIND or UNBIND message from the peer. */
relay_bind_error relay_bindings_apply(relay_bindings *b, const relay_control *c);
/* The sender an RTP/RTCP frame names; NULL: unbound (a protocol error). */
const relay_bound_sender *relay_bindings_sender(const relay_bindings *b, uint16_t channel, uint16_t sender);
const relay_bound_channel *relay_bindings_channel(const relay_bindings *b, uint16_t channel);

/* The sending side: binds (or finds) channel_id's handle; a new binding
 * also fills *msg with the BIND_CHANNEL to send first (msg->type 0 when the
 * channel was bound already). 0: no handle left or out of memory. */
uint16_t relay_bindings_bind_channel(relay_bindings *b, const char *channel_id, relay_control *msg);
/* Binds a sender in channel handle ch; *msg is the BIND_SENDER to send.
 * 0: unknown channel, the connection id bound already, no handle left. */
uint16_t relay_bindings_bind_sender(relay_bindings *b, uint16_t ch, const char *connection_id, const uint32_t ssrc[2],
                                    relay_control *msg);
/* The handle of channel_id on this connection, 0 if unbound. */
uint16_t relay_bindings_find_channel(const relay_bindings *b, const char *channel_id);
/* Fills *msg with the UNBIND to send and applies it here. */
relay_bind_error relay_bindings_unbind_sender(relay_bindings *b, uint16_t ch, uint16_t sender, relay_control *msg);
relay_bind_error relay_bindings_unbind_channel(relay_bindings *b, uint16_t ch, relay_control *msg);

#endif
