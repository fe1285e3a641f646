/* lease.h - the majority lease that fences serving, as a core without I/O.
 *
 * A node may serve (admit clients, own channels) only while it holds a
 * lease: within the last `lease_ms` (as measured on its own clock, shrunk by
 * the allowed clock-rate drift) a majority of the roster answered its lease
 * pings. Each node pings every roster member every `renew_ms`; an answer to
 * a ping sent at local time t renews that member's grant to t (the send
 * time, not the receive time: the grant was surely given after t).
 *
 * The fence: a member never answers the pings of a node it lists as dead or
 * left (lease_revoke). So once the nodes that declared X dead form a
 * majority, X's lease ends at most lease_ms (real time) after the last of
 * them stopped answering, and every majority X could still gather contains
 * one of them. Whoever takes over X's channels must wait for that: a
 * majority of revocations, then lease_ms * (1 + drift) on its own clock
 * (placement, a later issue, builds on it). With lease_ms below SWIM's earliest possible death
 * declaration (probe + suspicion minimum), a node cut off from the majority
 * has stopped serving before anyone even declares it dead.
 *
 * Timing argument, with the defaults: lease 2000 ms, renewals every 500 ms,
 * drift 5%. A node cut off at T can use grants issued before T only:
 * it stops serving by T + 2000 ms / 1.05 * 1.05 = T + 2.0 s real time at
 * the latest. SWIM cannot declare it dead before T + 0.8 s (indirect probe
 * timeout) + 1.6 s (suspicion minimum) = T + 2.4 s. */
#ifndef SHOAL_LEASE_H
#define SHOAL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "raft.h"

#define LEASE_WIRE_KIND 3           /* first field of a lease datagram */

typedef struct lease_config {
    char node_name[WIRE_NAME_MAX + 1];
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    int64_t lease_ms;               /* 2000: how long a majority's answers keep us serving */
    int64_t renew_ms;               /* 500: ping every roster member this often */
    double drift;                   /* 0.05: clock rates may differ by this fraction */
    int64_t silent_ms;              /* 300: a ping unanswered this long names its member "silent" */
    uint32_t boot_id;               /* random per process start: answers carry it, so a pinger can
                                       tell a member that restarted (and forgot what it promised) */
} lease_config;

void lease_config_default(lease_config *c);

/* The longest lease datagram; the outbox's messages (core_out, outbox.h)
 * go to the member named `to`. */
#define LEASE_PACKET_MAX (WIRE_CLUSTER_MAX + 2 * WIRE_NAME_MAX + 32)

typedef struct lease lease;

lease *lease_new(const lease_config *cfg, int64_t now_ms);
void lease_free(lease *l);

/* The roster majority is counted against (the committed roster). */
void lease_set_roster(lease *l, const raft_roster *roster);
/* SWIM's view: a member listed dead or left gets no answers from us. */
void lease_revoke(lease *l, const char *member, bool revoked, int64_t now_ms);

void lease_recv(lease *l, int64_t now_ms, const uint8_t *buf, size_t len);
void lease_tick(lease *l, int64_t now_ms);
int64_t lease_next_deadline(const lease *l);

/* True while this node holds a majority lease. A roster of which this node
 * is the only member: always; an empty roster (not initialized): never. */
bool lease_valid(const lease *l, int64_t now_ms);
/* When the current lease ends (local clock); <= now if none. */
int64_t lease_expires(const lease *l, int64_t now_ms);

/* Members whose latest ping went unanswered for silent_ms: a hint for the
 * failure detector to probe them now (each reported once per ping). The
 * names stay valid until lease_silent_clear. */
const char (*lease_silent(const lease *l, uint32_t *n))[WIRE_NAME_MAX + 1];
void lease_silent_clear(lease *l);

/* For channel claims (placement/claims.h), which build on the lease:
 * when this node last answered `name`'s ping (local ms; INT64_MIN never),
 * and the newest grant `member` gave us with the boot id it answered with
 * (false if it is not in the roster or never answered). A grant counts for
 * lease_grant_ms after its ping was sent. */
int64_t lease_answered_at(const lease *l, const char *name);
bool lease_grant_of(const lease *l, const char *member, int64_t *granted_at, uint32_t *boot);
int64_t lease_grant_ms(const lease *l);
uint32_t lease_boot_id(const lease *l);
const lease_config *lease_get_config(const lease *l);

/* Datagrams to send: read with outbox_items, empty with outbox_clear. */
outbox *lease_outbox(lease *l);

#endif
