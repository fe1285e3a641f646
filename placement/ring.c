/* ring.c - weighted consistent-hash ring with bounded load (see ring.h). */
#include "ring.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t ring_hash(const char *id, size_t len) { return XXH3_64bits(id, len); }

static int cmp_member(const void *a, const void *b) {
    return strcmp(((const ring_member *)a)->name, ((const ring_member *)b)->name);
}

typedef struct point {
    uint64_t h;
    uint32_t node;
} point;

static int cmp_point(const void *a, const void *b) {
    const point *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->node < y->node ? -1 : (x->node > y->node); /* a 64-bit tie: the lower name wins, everywhere */
}

void ring_free(ring *r) {
    free(r->nodes);
    free(r->hashes);
    free(r->owner);
    free(r->index);
    memset(r, 0, sizeof *r);
}

bool ring_build(ring *r, const ring_member *members, uint32_t n) {
    memset(r, 0, sizeof *r);
    if (n > RING_MAX_NODES) return false;
    ring_member *m = malloc((n ? n : 1) * sizeof *m);
    r->nodes = calloc(n ? n : 1, sizeof *r->nodes);
    if (m == NULL || r->nodes == NULL) {
        free(m);
        ring_free(r);
        return false;
    }
    if (n > 0) memcpy(m, members, n * sizeof *m);
    qsort(m, n, sizeof *m, cmp_member);
    uint64_t total_points = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (r->nnodes > 0 && strcmp(r->nodes[r->nnodes - 1].name, m[i].name) == 0) continue;
        ring_node *nd = &r->nodes[r->nnodes++];
        snprintf(nd->name, sizeof nd->name, "%s", m[i].name);
        nd->weight = m[i].weight ? m[i].weight : 1;
        uint64_t v = ((uint64_t)nd->weight * RING_VNODES_PER_100 + 50) / 100;
        nd->vnodes = (uint32_t)(v < 1 ? 1 : (v > RING_VNODES_MAX ? RING_VNODES_MAX : v));
        r->total_weight += nd->weight;
        total_points += nd->vnodes;
    }
    free(m);
    point *p = malloc((total_points ? total_points : 1) * sizeof *p);
    r->hashes = malloc((total_points ? total_points : 1) * sizeof *r->hashes);
    r->owner = malloc((total_points ? total_points : 1) * sizeof *r->owner);
    if (p == NULL || r->hashes == NULL || r->owner == NULL) {
        free(p);
        ring_free(r);
        return false;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->nnodes; i++) {
        size_t len = strlen(r->nodes[i].name);
        for (uint32_t v = 0; v < r->nodes[i].vnodes; v++)
            p[k++] = (point){XXH3_64bits_withSeed(r->nodes[i].name, len, v), i};
    }
    qsort(p, k, sizeof *p, cmp_point);
    r->npoints = k;
    XXH3_state_t *st = XXH3_createState();
    if (st) XXH3_64bits_reset(st);
    for (uint32_t i = 0; i < r->nnodes && st; i++) {
        XXH3_64bits_update(st, r->nodes[i].name, strlen(r->nodes[i].name) + 1);
        XXH3_64bits_update(st, &r->nodes[i].weight, sizeof r->nodes[i].weight);
    }
    for (uint32_t i = 0; i < k; i++) {
        r->hashes[i] = p[i].h;
        r->owner[i] = (uint16_t)p[i].node;
        /* point i owns (previous point, this point]; the first one wraps */
        uint64_t prev = i ? p[i - 1].h : p[k - 1].h;
        r->nodes[p[i].node].arc += p[i].h - prev; /* unsigned: wraps correctly for i == 0 */
        if (st) XXH3_64bits_update(st, &p[i].h, sizeof p[i].h);
    }
    if (k == 1) r->nodes[p[0].node].arc = UINT64_MAX;
    /* A prefix index narrows each binary search to a point or two: about
     * two slots per point, at most 2^16 slots (256 KiB). */
    uint32_t bits = 1;
    while (bits < 16 && (1u << bits) < 2 * k) bits++;
    r->index_bits = bits;
    r->index = malloc(((1u << bits) + 1) * sizeof *r->index);
    if (r->index == NULL) {
        free(p);
        XXH3_freeState(st);
        ring_free(r);
        return false;
    }
    for (uint32_t slot = 0, i = 0; slot <= (1u << bits); slot++) {
        while (i < k && slot < (1u << bits) && (r->hashes[i] >> (64 - bits)) < slot) i++;
        r->index[slot] = slot == (1u << bits) ? k : i;
    }
    r->checksum = st ? XXH3_64bits_digest(st) : 0;
    XXH3_freeState(st);
    free(p);
    return true;
}

/* First point with hash >= h (wrapping). */
static uint32_t first_point(const ring *r, uint64_t h) {
    uint64_t slot = h >> (64 - r->index_bits);
    uint32_t lo = r->index[slot], hi = r->index[slot + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->hashes[mid] < h) lo = mid + 1;
        else hi = mid;
    }
    return lo == r->npoints ? 0 : lo;
}

int ring_lookup_hash(const ring *r, uint64_t h) {
    if (r->npoints == 0) return RING_FULL;
    return r->owner[first_point(r, h)];
}

int ring_lookup(const ring *r, const char *id, size_t len) { return ring_lookup_hash(r, ring_hash(id, len)); }

uint32_t ring_cap(const ring *r, uint32_t node, uint64_t total, double epsilon) {
    double c = ceil((1.0 + epsilon) * (double)(total + 1) * (double)r->nodes[node].weight / (double)r->total_weight);
    return c > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

int ring_lookup_bounded(const ring *r, uint64_t h, const uint32_t *loads, uint64_t total, double epsilon) {
    if (r->npoints == 0) return RING_FULL;
    uint32_t i = first_point(r, h);
    /* Walk clockwise; every node is met within npoints steps. */
    for (uint32_t step = 0; step < r->npoints; step++, i = i + 1 == r->npoints ? 0 : i + 1) {
        uint32_t nd = r->owner[i];
        if (loads[nd] < ring_cap(r, nd, total, epsilon)) return (int)nd;
    }
    return RING_FULL;
}

int ring_find(const ring *r, const char *name) {
    uint32_t lo = 0, hi = r->nnodes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->nodes[mid].name, name);
        if (c == 0) return (int)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

size_t ring_memory(const ring *r) {
    return sizeof *r + r->nnodes * sizeof *r->nodes + r->npoints * (sizeof *r->hashes + sizeof *r->owner) +
           (r->index ? ((1u << r->index_bits) + 1) * sizeof *r->index : 0);
}
