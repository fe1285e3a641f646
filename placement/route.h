/* route.h - where a client's connect goes: the one policy that shoald's
 * signaling and the simulator's clients both follow. A pure function.
 *
 * Sora's client carries one bit across redirects ("redirect": true), not a
 * count, so loops are prevented by the rule and not by counting:
 *   - a client that was not redirected goes to the channel table's holder
 *     if another node holds the channel, else to the ring's choice;
 *   - a client that was redirected is never redirected by this node's own
 *     view (which may be stale): the node claims the channel, and a refused
 *     claim names the real holder, recorded by a majority (claims.h). So a
 *     client takes at most entry -> chosen node -> recorded holder, and two
 *     nodes whose views disagree cannot bounce it between them.
 * A client is not sent to a node this node's gossip suspects (it may be
 * dead: the client would fail there and come back, again and again until
 * gossip decides): it is held (ROUTE_HOLD) and decided again when the
 * suspicion ends, either way; the caller bounds the hold (hold_expired:
 * then it is sent anyway, as before suspicion existed).
 * Modes: block_new_connection admits nobody (it still redirects);
 * block_new_session admits into channels it holds but opens none. */
#ifndef SHOAL_ROUTE_H
#define SHOAL_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "outcome.h"

/* Longest a client is held rather than sent to a suspect: a suspicion ends
 * in 1.6-9.6 s with the default gossip settings (swim.h), in about 1.6 s
 * once two others confirm it; past this bound the client is redirected
 * anyway, as a client of a node that is only slow should be. */
#define ROUTE_HOLD_MAX_MS 5000

typedef enum { ROUTE_ADMIT, ROUTE_WAIT, ROUTE_CLAIM, ROUTE_REDIRECT, ROUTE_REJECT, ROUTE_HOLD } route_action;

typedef struct route_in {
    const char *self;
    shoal_outcome not_serving;         /* SHOAL_OK while this node serves; else why not */
    uint8_t mode;                      /* this node's effective mode (wire.h WIRE_MODE_*) */
    bool claim_valid;                  /* this node holds a valid claim on the channel */
    bool claim_pending;                /* this node's claim is being recorded */
    const char *table_holder;          /* the channel table's holder, "" none */
    const char *ring_owner;            /* the ring's choice for a new channel, "" when the ring is full or empty */
    bool redirected;                   /* the client came with "redirect": true */
    bool table_holder_suspect;         /* this node's gossip suspects table_holder */
    bool ring_owner_suspect;           /* ... ring_owner */
    bool hold_expired;                 /* held long enough: redirect even to a suspect */
} route_in;

typedef struct route_out {
    route_action action;
    const char *to;                    /* ROUTE_REDIRECT: the node; ROUTE_HOLD: the suspect */
    shoal_outcome reason;              /* ROUTE_REJECT: why */
} route_out;

route_out route_decide(const route_in *in);
/* A claim refused by a member that names holder as the channel's: the
 * client goes there (the third hop of the rule above), or is held like any
 * client bound for a suspect: a killed holder's claim is recorded until its
 * lease fence runs out (about 2.2 s), and sending clients to it only has
 * them fail and come back. */
route_out route_refused(const char *holder, bool holder_suspect, bool hold_expired);
const char *route_action_name(route_action a);

#endif
