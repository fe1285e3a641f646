/* chtable.h - the replicated channel table: every node knows every live
 * channel's holder (with its connection count and creation time), so any
 * node can redirect any client and answer ListChannels. A core without
 * I/O.
 *
 * Each holder is the authority for its own channels: it numbers its
 * changes (boot id, version) and sends them to every member (UPDATE; opens
 * and closes at once, connection counts at most once a second, batched).
 * A receiver applies version v of holder H only after v - 1; a gap, or a
 * digest showing a newer version makes it ask for H's whole list (PULL ->
 * FULL, in parts). Every 2 s a node sends a digest (this node's and up to
 * 255 other holders' boot and version) to the next member in turn; its
 * receiver pulls what it lacks and pushes what the sender lacks (as
 * Cassandra's gossip digests). A holder's entries go when gossip says it
 * is dead or left; when gossip says a member is back, each side pulls the
 * other's list and pushes its own; a new boot id replaces everything known
 * of a holder. Which node may hold a channel at all is decided by claims
 * (claims.h); this table only spreads the answer.
 *
 * Wire: datagrams of kind CHTABLE_WIRE_KIND:
 *   [5, cluster, sender, type, holder, boot, version, body...]
 * an entry on the wire is [channel, connections, created_ms]; connections
 * 0 in an UPDATE means the channel closed. */
#ifndef SHOAL_CHTABLE_H
#define SHOAL_CHTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claims.h"

#define CHTABLE_WIRE_KIND 5
#define CHTABLE_PART_MAX 64            /* entries per FULL or UPDATE datagram */
#define CHTABLE_PARTS_MAX 1024         /* FULL parts: lists up to 65536 channels per holder */

typedef struct chtable_entry {
    const char *channel;
    const char *holder;
    uint32_t connections;
    uint64_t created_ms;               /* unix ms, from the holder's clock */
} chtable_entry;

typedef struct chtable chtable;

chtable *chtable_new(const char *self, const char *cluster, uint32_t boot);
void chtable_free(chtable *t);

/* This node's channel now has `connections` clients; 0: it no longer holds
 * it. created_ms is kept from the call that opened it. */
void chtable_set_local(chtable *t, const char *channel, uint32_t connections, uint64_t created_ms);
/* Gossip says this member is dead or left: its channels are gone. */
void chtable_forget(chtable *t, const char *holder);
/* Gossip says this member joined or is alive again (after suspect, dead or
 * left): ask it for its list if it changed since what this node knows, and
 * send it ours, so that updates missed while it was cut off are repaired
 * at once and not only when a digest happens to come by. */
void chtable_member_up(chtable *t, const char *name);

void chtable_recv(chtable *t, const uint8_t *buf, size_t len);
void chtable_tick(chtable *t, int64_t now);     /* digests, batched counts */
/* When chtable_tick has work: the next digest, or counts waiting to go. */
int64_t chtable_next_deadline(const chtable *t);

/* The holder of channel ("" none): with several (a change in flight),
 * the lowest name, so that every node answers alike. */
const char *chtable_holder(const chtable *t, const char *channel);
uint32_t chtable_size(const chtable *t);
uint32_t chtable_count_of(const chtable *t, const char *holder);
/* Holders whose list this node has (this node included): every live
 * member once the table has converged. */
uint32_t chtable_holders_known(const chtable *t);
/* The sender named in a datagram (false: not a table datagram). */
bool chtable_sender(const uint8_t *buf, size_t len, char *sender, size_t cap);
/* Every entry, holder by holder; visit returns false to stop. */
void chtable_each(const chtable *t, bool (*visit)(void *ctx, const chtable_entry *e), void *ctx);

/* One line for a trace: "table update n1@... boot 1a2b3c4d v7". */
bool chtable_describe(const uint8_t *buf, size_t len, char *out, size_t cap);

/* Datagrams to send (core_out, outbox.h), each to `to`: a member's name,
 * "*" every live member or "?" the next live member in turn (chtable_route).
 * Read with outbox_items, empty with outbox_clear. */
outbox *chtable_outbox(chtable *t);

#endif
