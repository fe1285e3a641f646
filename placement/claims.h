/* claims.h - who may admit clients into a channel: channel claims granted
 * by a majority of the roster, as a core without I/O.
 *
 * The ring (ring.h) says where a new channel should go; it cannot by
 * itself stop two nodes with different views from both admitting clients
 * into one channel. A claim can. The node that is to host channel C asks
 * every roster member to record it as C's holder, and admits clients only
 * while a majority of the roster has recorded it AND still grants its
 * majority lease (lease.h) with the same boot id as when it recorded the
 * claim (a member that restarted has forgotten its records).
 *
 * A member records a new holder Y for C when it has no record for C, when
 * the record is Y's already, or when the recorded holder X has gone
 * without a lease answer from this member for longer than the fence
 * (lease_ms x (1 + drift) + margin): then X cannot count this member in its
 * claim any more. Safety: X's valid set (members with X's record that
 * granted X's lease within lease_ms) and Y's recording majority are both
 * majorities of the roster, so they share a member; that member refuses Y
 * while X's grant from it is fresh, and X cannot count it once stale. So
 * two nodes never hold a valid claim on one channel at the same instant.
 * (The roster is the committed one; single-server changes keep old and new
 * majorities overlapping.)
 *
 * Wire: datagrams of kind CLAIMS_WIRE_KIND on the cluster socket:
 *   [4, cluster, sender, type, channel, epoch, granted, holder, boot]
 * REQ (ask to be recorded), ACK (granted or refused, naming the holder, with
 * the member's boot id), REL (the channel emptied: forget the record). */
#ifndef SHOAL_CLAIMS_H
#define SHOAL_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>

#include "lease.h"
#include "raft.h"

#define CLAIMS_WIRE_KIND 4
#define CLAIMS_CHANNEL_MAX 255          /* bytes of a channel id */
#define CLAIMS_MAX_RECORDS (1u << 20)   /* records a member keeps; more are refused */

typedef struct claims_config {
    char node_name[WIRE_NAME_MAX + 1];
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    int64_t request_timeout_ms;         /* 1000: a claim not granted by then fails */
    int64_t refresh_ms;                 /* 2000: a holder renews its records this often */
    int64_t fence_margin_ms;            /* 100: added to lease_ms x (1 + drift) */
} claims_config;

void claims_config_default(claims_config *c);

typedef enum claims_event_type {
    CLAIMS_EV_HELD,                     /* the claim on channel is granted by a majority */
    CLAIMS_EV_REFUSED,                  /* a member names another holder (holder) */
    CLAIMS_EV_FAILED,                   /* no majority within request_timeout_ms */
} claims_event_type;

typedef struct claims_event {
    claims_event_type type;
    char channel[CLAIMS_CHANNEL_MAX + 1];
    char holder[WIRE_NAME_MAX + 1];
} claims_event;

typedef struct claims claims;

claims *claims_new(const claims_config *cfg);
void claims_free(claims *c);

/* Every call takes the node's lease and committed roster as they are now. */
void claims_acquire(claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel);
void claims_release(claims *c, int64_t now, const raft_roster *ro, const char *channel);
void claims_recv(claims *c, int64_t now, const lease *l, const raft_roster *ro, const uint8_t *buf, size_t len);
void claims_tick(claims *c, int64_t now, const lease *l, const raft_roster *ro);
int64_t claims_next_deadline(const claims *c);
/* Drops every claim this node holds (it stopped serving: clients closed). */
void claims_drop_all(claims *c);

/* True while this node's claim on channel is granted by a majority of the
 * roster that still grants its lease (see above): only then may it admit. */
bool claims_valid(const claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel);
/* Until when (exclusive) the claim stays valid if no answer comes any more:
 * claims_valid(t) holds for every t in [now, until) without new input, and
 * not at until. now when it is not valid now. What a holder may lend on
 * (relay/grant.h): nothing it lends outlives its claim. */
int64_t claims_valid_until(const claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel);
bool claims_pending(const claims *c, const char *channel);
/* The holder this member has recorded for channel ("" none). */
const char *claims_recorded(const claims *c, const char *channel);
uint32_t claims_held_count(const claims *c);
uint32_t claims_record_count(const claims *c);

const claims_event *claims_events(const claims *c, uint32_t *n);
void claims_events_clear(claims *c);
/* Datagrams to send, each to the member named `to` (core_out, outbox.h):
 * read with outbox_items, empty with outbox_clear. */
outbox *claims_outbox(claims *c);

#endif
