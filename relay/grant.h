/* grant.h - a leg's right to serve a channel, lent by the channel's holder
 * and never outliving the holder's own claim (placement/claims.h).
 *
 * The holder (the node with the channel's claim) is the one authority for
 * the channel's legs. A leg asks (REQUEST, numbered by the leg); the holder
 * answers GIVE only while it serves and holds a valid claim, for
 *   ms = min(RELAY_GRANT_MS, claim_until - now - RELAY_GRANT_MARGIN_MS)
 * where claim_until is claims_valid_until: the instant its claim would end
 * if no member answered any more. Otherwise it answers DENY with the reason.
 * The leg counts the grant from when it sent the request, not from when the
 * answer came, and shrinks it by the clock-rate drift of both nodes:
 *   valid until  sent_at + ms / (1 + RELAY_GRANT_DRIFT)^2   (the leg's clock)
 * so in real time the grant ends no later than the claim could: the request
 * reached the holder after it was sent, and each clock may run fast or slow
 * by the drift. A leg serves the channel's clients only while its grant is
 * valid (and while it serves itself). It asks again every
 * RELAY_GRANT_RENEW_MS while it wants to serve; a WITHDRAW (the holder lost
 * its claim or stops serving) or a DENY ends the grant at once. Those only
 * make a leg stop sooner: safety rests on the expiry alone, since messages
 * may be lost. No I/O: messages are structs; the node core carries them. */
#ifndef SHOAL_RELAY_GRANT_H
#define SHOAL_RELAY_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "keyed.h"
#include "outcome.h"

#define RELAY_GRANT_MS 2000             /* the longest grant */
#define RELAY_GRANT_RENEW_MS 500        /* a serving leg asks again this often */
#define RELAY_GRANT_MARGIN_MS 50        /* kept back from the claim's end */
#define RELAY_GRANT_DRIFT 0.05          /* clock rates may differ by this fraction (as the lease) */
#define RELAY_GRANT_ASKED 8             /* requests a leg remembers (answers to older ones are ignored) */

typedef enum relay_grant_type {
    RELAY_GRANT_REQUEST = 1,            /* leg -> holder */
    RELAY_GRANT_GIVE = 2,               /* holder -> leg: ms from the request */
    RELAY_GRANT_DENY = 3,               /* holder -> leg: why */
    RELAY_GRANT_WITHDRAW = 4,           /* holder -> leg: ends now */
} relay_grant_type;

typedef struct relay_grant_msg {
    relay_grant_type type;
    char channel[RELAY_CHANNEL_MAX + 1];
    char peer[WIRE_NAME_MAX + 1];       /* the other node: to (sent) or from (received) */
    uint32_t req;                       /* REQUEST, and the GIVE or DENY answering it */
    uint32_t ms;                        /* GIVE */
    shoal_outcome why;                  /* DENY: NOT-SERVING, CLAIM-LOST */
} relay_grant_msg;

/* ---- the holder's side ---- */

typedef struct relay_lent {
    char key[RELAY_CHANNEL_MAX + WIRE_NAME_MAX + 2];   /* channel "\n" leg: the index's key */
    char channel[RELAY_CHANNEL_MAX + 1];
    char leg[WIRE_NAME_MAX + 1];
    int64_t until;                      /* the holder's clock: when that grant ends at the latest */
} relay_lent;

typedef struct relay_grantor {
    keyed lent;                         /* relay_lent: grants that may still run */
} relay_grantor;

void relay_grantor_init(relay_grantor *g); /* in place: do not move it afterwards */
void relay_grantor_free(relay_grantor *g);

/* A leg's REQUEST (peer: the leg). claim_until: claims_valid_until for the
 * channel at now (now: no valid claim); serving: this node serves. The
 * answer, GIVE or DENY, is in *reply. */
void relay_grantor_request(relay_grantor *g, int64_t now, const relay_grant_msg *req, int64_t claim_until,
                           bool serving, relay_grant_msg *reply);
/* The channel's claim is gone, or this node stops serving (channel NULL:
 * every channel): a WITHDRAW for each leg whose grant may still run, into
 * out (at most max; the rest are forgotten all the same: they expire). */
uint32_t relay_grantor_withdraw(relay_grantor *g, int64_t now, const char *channel, relay_grant_msg *out, uint32_t max);
/* The legs of channel whose grant may still run, into out (max). */
uint32_t relay_grantor_legs(const relay_grantor *g, int64_t now, const char *channel, const char **out, uint32_t max);
/* Forgets grants that ran out. */
void relay_grantor_tick(relay_grantor *g, int64_t now);

/* ---- the leg's side: one per channel it serves as a leg ---- */

typedef struct relay_grant_asked {
    uint32_t req;
    int64_t sent;                       /* the leg's clock */
} relay_grant_asked;

typedef struct relay_grantee {
    char channel[RELAY_CHANNEL_MAX + 1];
    char holder[WIRE_NAME_MAX + 1];
    uint32_t next_req;
    uint32_t given_req;                 /* the newest request a GIVE answered */
    relay_grant_asked asked[RELAY_GRANT_ASKED]; /* recent requests, by req % RELAY_GRANT_ASKED */
    int64_t valid_until;                /* the leg's clock; serving while now < this */
    int64_t next_ask;
    shoal_outcome denied;               /* the last DENY's reason, SHOAL_OK after a GIVE */
} relay_grantee;

void relay_grantee_init(relay_grantee *e, const char *channel, const char *holder, int64_t now);
/* A REQUEST to send now into *req (true), when the leg wants to serve and
 * a renewal is due. */
bool relay_grantee_tick(relay_grantee *e, int64_t now, bool want, relay_grant_msg *req);
/* An answer from the holder (GIVE, DENY, WITHDRAW; others are ignored, as
 * are answers from another node or to requests it no longer remembers). */
void relay_grantee_recv(relay_grantee *e, int64_t now, const relay_grant_msg *m);
static inline bool relay_grantee_valid(const relay_grantee *e, int64_t now) { return now < e->valid_until; }
/* When to tick next (a renewal, or the grant's end). */
int64_t relay_grantee_next_deadline(const relay_grantee *e, bool want);

#endif
