/* handshake.h - the first exchange on a relay connection, and the control
 * messages that carry it.
 *
 * The dialling node sends HELLO; the accepting node checks it and answers
 * with its own HELLO (the connection is open) or REFUSE with the reason, then
 * closes. The dialler checks the answer the same way. Accepted is only a
 * node of this cluster (its name and its roster's cluster_id), alive in
 * this node's gossip view, that is not this node, speaking this relay
 * protocol and running this software version (Sora's rule during a rolling
 * update: nodes of different versions never relay; their clients are
 * redirected to the holder instead). A HELLO that does not come within
 * RELAY_HANDSHAKE_MS fails the connection.
 *
 * The messages are control.h's HELLO and REFUSE. */
#ifndef SHOAL_RELAY_HANDSHAKE_H
#define SHOAL_RELAY_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "frame.h"
#include "outcome.h"

#define RELAY_PROTOCOL 1
#define RELAY_HANDSHAKE_MS 5000

/* Is node an alive member of this node's gossip view? */
typedef bool (*relay_alive_fn)(void *ctx, const char *node);

/* The peer's HELLO against this node's: SHOAL_OK, or why it is refused
 * (RELAY-PROTOCOL-MISMATCH, RELAY-FOREIGN-CLUSTER, RELAY-NOT-A-MEMBER,
 * RELAY-SELF, RELAY-VERSION-MISMATCH), checked in that order. */
shoal_outcome relay_hello_check(const relay_hello *mine, const relay_hello *theirs, relay_alive_fn alive, void *ctx);

/* One connection's handshake, either side. */
typedef enum relay_hs_state {
    RELAY_HS_WAIT,              /* the peer's HELLO is awaited */
    RELAY_HS_OPEN,              /* both HELLOs checked: media and control may flow */
    RELAY_HS_FAILED,            /* refused either way, or timed out: send out, then close */
} relay_hs_state;

typedef struct relay_hs {
    bool dialer;
    relay_hs_state state;
    shoal_outcome why;          /* FAILED: the reason (for the log and the metrics) */
    bool refused_by_peer;       /* FAILED: the peer sent REFUSE (else this node refused, or time) */
    int64_t deadline;
    relay_hello mine, peer;
    uint8_t out[RELAY_CONTROL_MAX];   /* to send now: this node's HELLO or REFUSE */
    uint32_t out_len;
} relay_hs;

/* Starts the handshake; a dialer's HELLO is in hs->out. */
void relay_hs_init(relay_hs *hs, bool dialer, const relay_hello *mine, int64_t now);
/* A frame arrived before the connection is open: the state it leads to.
 * What to send (the acceptor's HELLO, a REFUSE) is in hs->out. */
relay_hs_state relay_hs_recv(relay_hs *hs, const relay_frame *f, relay_alive_fn alive, void *ctx);
/* Time: FAILED with RELAY-HANDSHAKE-TIMEOUT once the deadline passed. */
relay_hs_state relay_hs_tick(relay_hs *hs, int64_t now);
/* Clears what was sent. */
static inline void relay_hs_sent(relay_hs *hs) { hs->out_len = 0; }

#endif
