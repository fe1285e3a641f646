/* view.h - which nodes the placement ring holds, from a node's gossip view:
 * a pure function, so that every node with the same view builds the same
 * ring (DESIGN.md "Placement").
 *
 * A member is on the ring when it is alive or only suspected (a suspicion
 * that is refuted must not move channels), publishes serving = 1 (it holds
 * the majority lease, is initialized and can write its files: cluster_core
 * puts that in its metadata) and mode normal (block_new_session and
 * block_new_connection nodes take no new channels). */
#ifndef SHOAL_PLACEMENT_VIEW_H
#define SHOAL_PLACEMENT_VIEW_H

#include <stdint.h>

#include "ring.h"
#include "swim.h"

typedef struct view_ring {
    ring r;
    uint32_t *loads;          /* loads[i]: gossiped connection count of r.nodes[i] */
    uint64_t total_load;
    uint64_t version;         /* bumped by view_ring_update whenever the checksum changes */
    uint64_t inputs;          /* fingerprint of the members the ring was built from */
    bool built;
} view_ring;

bool view_takes_channels(const swim_member *m);
/* True when this view suspects the member named (route.h holds clients
 * rather than send them to it); false for "" and unknown names. */
bool view_suspects(const swim *s, const char *name);

/* Rebuilds the ring from the gossip core's members when they changed (a
 * fingerprint of names, weights and eligibility, O(N) to compute). Returns true when the ring changed (another
 * checksum); false on no change or out of memory (the previous ring
 * stays). */
bool view_ring_update(view_ring *v, const swim *s);
/* Loads change without the ring changing: read them again (O(N log N)). */
void view_ring_refresh_loads(view_ring *v, const swim *s);
void view_ring_free(view_ring *v);

#endif
