/* ring.h - the weighted consistent-hash ring that places channels, as a
 * core without I/O.
 *
 * Every serving node (majority side, mode normal) gets virtual nodes in
 * proportion to its weight: RING_VNODES_PER_100 per 100 of weight, so the
 * default weight of 100 gives 160 points (the point count at which a plain
 * ring's max/average load settles near 1.1-1.2 for 10-100 nodes), capped at
 * RING_VNODES_MAX. A point of node X is XXH3-64(X's name, seed = point
 * number); a channel hashes to XXH3-64(channel id) and belongs to the first
 * point clockwise. Lookup is a pure function of the member list, so every
 * node with the same view gives the same answer.
 *
 * Bounded load (Mirrokni, Thorup, Zadimoghaddam 2017): a new channel goes to
 * the first node clockwise whose load is below its cap
 *   cap_i = ceil((1 + epsilon) * (total_load + 1) * weight_i / total_weight),
 * so no node takes more than (1+eps) times its weighted share while others
 * have room; when every node is at its cap the lookup says "full" rather
 * than overload one (a lost node must not cascade onto its neighbour). */
#ifndef SHOAL_RING_H
#define SHOAL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_VNODES_PER_100 160
#define RING_VNODES_MAX 1600
#define RING_NAME_MAX 255
#define RING_MAX_NODES 4096
#define RING_FULL (-1)

typedef struct ring_member {
    const char *name;
    uint32_t weight;          /* 1..10000 */
} ring_member;

typedef struct ring_node {
    char name[RING_NAME_MAX + 1];
    uint32_t weight;
    uint32_t vnodes;
    uint64_t arc;             /* hash space owned, out of 2^64 (share = arc / 2^64) */
} ring_node;

typedef struct ring {
    ring_node *nodes;         /* sorted by name */
    uint32_t nnodes;
    uint64_t *hashes;         /* points, ascending */
    uint16_t *owner;          /* owner[i]: node index of hashes[i] (RING_MAX_NODES <= 65536) */
    uint32_t npoints;
    uint32_t *index;          /* index[p]: first point whose top index_bits bits are >= p */
    uint32_t index_bits;
    uint64_t total_weight;
    uint64_t checksum;        /* XXH3 of the names, weights and points: equal rings, equal sums */
} ring;

/* Builds the ring of these members (any order; duplicates by name are
 * ignored). Returns false on out of memory or more than RING_MAX_NODES.
 * An empty ring is valid: every lookup says RING_FULL. */
bool ring_build(ring *r, const ring_member *members, uint32_t n);
void ring_free(ring *r);

uint64_t ring_hash(const char *id, size_t len);

/* The node owning this hash (index into r->nodes), RING_FULL if empty. */
int ring_lookup_hash(const ring *r, uint64_t h);
int ring_lookup(const ring *r, const char *id, size_t len);

/* The first node clockwise whose load (loads[i] for r->nodes[i]) is under
 * its cap; RING_FULL when all are at their caps. total: sum of loads. */
int ring_lookup_bounded(const ring *r, uint64_t h, const uint32_t *loads, uint64_t total, double epsilon);
uint32_t ring_cap(const ring *r, uint32_t node, uint64_t total, double epsilon);

int ring_find(const ring *r, const char *name);
size_t ring_memory(const ring *r);

#endif
