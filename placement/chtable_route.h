/* chtable_route.h - where a channel-table datagram goes, decided from the
 * gossip view: written once for shoald and the simulator, which differ
 * only in how they send. */
#ifndef SHOAL_CHTABLE_ROUTE_H
#define SHOAL_CHTABLE_ROUTE_H

#include <stdint.h>

#include "chtable.h"
#include "swim.h"

typedef void (*chtable_send_fn)(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len);

/* "*": every member gossip lists alive or suspect. "?": the next such
 * member after *cursor in the member list (a rotation, so that every member
 * hears a digest from every node within one round of digests, where a
 * random pick can pass one over for long). A name: that member, if gossip
 * lists it alive or suspect. */
void chtable_route(const swim *g, uint32_t *cursor, const core_out *o, chtable_send_fn send, void *ctx);

/* Is this datagram from a member gossip lists alive or suspect? Others
 * are dropped: a node that is not a member (or not yet) could otherwise
 * plant entries that no death would ever remove; a new member's list is
 * pulled when gossip reports it (chtable_member_up). */
bool chtable_from_member(const swim *g, const uint8_t *buf, size_t len);

#endif
