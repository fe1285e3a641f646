/* peers.c - other placement schemes, for comparison only (bench/placement):
 * jump consistent hash (Lamping & Veach 2014), weighted rendezvous hashing
 * (HRW, Thaler & Ravishankar 1998, weights as in Schindelhauer & Schomaker),
 * and Maglev's lookup table (Eisenbud et al. 2016). */
#include "peers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int32_t jump_hash(uint64_t key, int32_t buckets) {
    int64_t b = -1, j = 0;
    while (j < buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}

int hrw_lookup(const peer_set *p, uint64_t key) {
    double best = -INFINITY;
    int pick = -1;
    for (uint32_t i = 0; i < p->n; i++) {
        uint64_t h = XXH3_64bits_withSeed(&key, sizeof key, p->seeds[i]);
        double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* (0,1) */
        double score = -(double)p->weights[i] / log(u);
        if (score > best) {
            best = score;
            pick = (int)i;
        }
    }
    return pick;
}

bool maglev_build(maglev *m, const peer_set *p, uint32_t size) {
    m->size = size;
    m->table = malloc(size * sizeof *m->table);
    uint32_t *next = calloc(p->n, sizeof *next);
    double *credit = calloc(p->n, sizeof *credit);
    if (m->table == NULL || next == NULL || credit == NULL) {
        free(next);
        free(credit);
        return false;
    }
    for (uint32_t i = 0; i < size; i++) m->table[i] = -1;
    uint32_t wmax = 1;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->weights[i] > wmax) wmax = p->weights[i];
    uint32_t filled = 0;
    while (filled < size) {
        for (uint32_t i = 0; i < p->n && filled < size; i++) {
            credit[i] += (double)p->weights[i] / wmax; /* weighted turns */
            if (credit[i] < 1.0) continue;
            credit[i] -= 1.0;
            uint64_t offset = XXH3_64bits_withSeed(&p->seeds[i], 8, 1) % size;
            uint64_t skip = XXH3_64bits_withSeed(&p->seeds[i], 8, 2) % (size - 1) + 1;
            uint32_t c;
            do {
                c = (uint32_t)((offset + next[i] * skip) % size);
                next[i]++;
            } while (m->table[c] >= 0);
            m->table[c] = (int32_t)i;
            filled++;
        }
    }
    free(next);
    free(credit);
    return true;
}

void maglev_free(maglev *m) { free(m->table); }
