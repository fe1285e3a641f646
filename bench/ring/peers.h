/* peers.h - comparison schemes for bench/placement (see peers.c). */
#ifndef SHOAL_BENCH_PEERS_H
#define SHOAL_BENCH_PEERS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct peer_set {
    uint32_t n;
    const uint32_t *weights;
    const uint64_t *seeds;     /* a per-node hash of its name */
} peer_set;

int32_t jump_hash(uint64_t key, int32_t buckets);
int hrw_lookup(const peer_set *p, uint64_t key);

typedef struct maglev {
    int32_t *table;
    uint32_t size;
} maglev;

bool maglev_build(maglev *m, const peer_set *p, uint32_t size);
static inline int maglev_lookup(const maglev *m, uint64_t key) { return m->table[key % m->size]; }
void maglev_free(maglev *m);

#endif
