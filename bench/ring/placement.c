/* placement.c - bench/placement: the channel ring (placement/ring.h) against
 * jump consistent hash, weighted rendezvous (HRW) and Maglev, for N = 3,
 * 10, 100 nodes with equal and mixed weights and 100k channels: lookup time
 * (p50/p99), max/average load (weighted), the fraction of channels moved
 * when a node is added (against the ideal w_new / W), the memory of the
 * lookup structure, and the memory of a node's channel table holding all
 * the channels as the scheme placed them.
 *
 *   build/bench/placement [--channels N] [--json]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "peers.h"
#include "ring.h"
#include "table_mem.h"

#define EPSILON 0.25
#define MAGLEV_SIZE 65537
#define BATCH 64

typedef enum { S_RING, S_RING_BOUNDED, S_JUMP, S_HRW, S_MAGLEV } scheme;
static const char *const SCHEME_NAMES[] = {"ring", "ring", "jump", "hrw", "maglev"};

typedef struct world {
    uint32_t n;
    char names[128][48];
    uint32_t weights[128];
    uint64_t seeds[128];
    ring r;
    maglev mg;
    peer_set ps;
} world;

static void world_build(world *w, uint32_t n, bool mixed) {
    static const uint32_t MIX[] = {50, 100, 200, 400};
    w->n = n;
    ring_member m[128];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(w->names[i], sizeof w->names[i], "node%u@10.0.%u.%u", i + 1, (i + 1) / 250, (i + 1) % 250 + 1);
        w->weights[i] = mixed ? MIX[i % 4] : 100;
        w->seeds[i] = XXH3_64bits(w->names[i], strlen(w->names[i]));
        m[i] = (ring_member){w->names[i], w->weights[i]};
    }
    /* the new node of the "add" step is always index n with weight 100 */
    if (!ring_build(&w->r, m, n)) exit(1);
    w->ps = (peer_set){n, w->weights, w->seeds};
    if (!maglev_build(&w->mg, &w->ps, MAGLEV_SIZE)) exit(1);
}

static void world_free(world *w) {
    ring_free(&w->r);
    maglev_free(&w->mg);
}

/* Owner as an index into w->names (the ring sorts its nodes by name). */
static int lookup(const world *w, scheme s, const char *id, size_t len) {
    uint64_t h = XXH3_64bits(id, len);
    switch (s) {
    case S_RING:
    case S_RING_BOUNDED: {
        int k = ring_lookup_hash(&w->r, h);
        return k;
    }
    case S_JUMP: return jump_hash(h, (int32_t)w->n);
    case S_HRW: return hrw_lookup(&w->ps, h);
    case S_MAGLEV: return maglev_lookup(&w->mg, h);
    }
    return -1;
}

/* Ring indices are by name order: map them to world order once. */
static int ring_to_world(const world *w, int k) {
    for (uint32_t i = 0; i < w->n; i++)
        if (strcmp(w->names[i], w->r.nodes[k].name) == 0) return (int)i;
    return -1;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct row {
    const char *scheme;
    uint32_t nodes;
    const char *weights;
    bool bounded;
    double p50, p99, max_over_avg, moved, ideal;
    size_t bytes;                     /* the lookup structure */
    size_t table_bytes;               /* a node's channel table with all channels */
} row;

/* Places every channel; owners[] in world order. Bounded: in order, each
 * to the first node under its cap. */
static void place_all(const world *w, scheme s, char **ids, size_t *lens, uint32_t count, int *owners) {
    uint32_t loads[128] = {0};
    uint64_t total = 0;
    int map[128];
    for (uint32_t k = 0; k < w->r.nnodes; k++) map[k] = ring_to_world(w, (int)k);
    for (uint32_t i = 0; i < count; i++) {
        int o;
        if (s == S_RING_BOUNDED) {
            int k = ring_lookup_bounded(&w->r, XXH3_64bits(ids[i], lens[i]), loads, total, EPSILON);
            if (k >= 0) loads[k]++;
            total++;
            o = k >= 0 ? map[k] : -1;
        } else if (s == S_RING) {
            o = map[lookup(w, s, ids[i], lens[i])];
        } else {
            o = lookup(w, s, ids[i], lens[i]);
        }
        owners[i] = o;
    }
}

static row measure(scheme s, uint32_t n, bool mixed, char **ids, size_t *lens, uint32_t count) {
    world *w = calloc(1, sizeof *w), *w2 = calloc(1, sizeof *w2);
    world_build(w, n, mixed);
    row r = {.scheme = SCHEME_NAMES[s], .nodes = n, .weights = mixed ? "mixed" : "equal",
             .bounded = s == S_RING_BOUNDED};
    /* lookup time, in batches so that the clock's cost vanishes */
    uint32_t nb = count / BATCH;
    double *t = malloc(nb * sizeof *t);
    volatile int sink = 0;
    for (int pass = 0; pass < 2; pass++) /* the first pass warms the caches */
        for (uint32_t b = 0; b < nb; b++) {
            double t0 = now_ns();
            for (uint32_t i = b * BATCH; i < (b + 1) * BATCH; i++) sink += lookup(w, s, ids[i], lens[i]);
            t[b] = (now_ns() - t0) / BATCH;
        }
    (void)sink;
    qsort(t, nb, sizeof *t, cmp_d);
    r.p50 = t[nb / 2];
    r.p99 = t[(size_t)(nb * 0.99)];
    free(t);
    /* load spread: count / weighted share */
    int *own = malloc(count * sizeof *own), *own2 = malloc(count * sizeof *own2);
    place_all(w, s, ids, lens, count, own);
    double cnt[128] = {0}, wsum = 0;
    for (uint32_t i = 0; i < n; i++) wsum += w->weights[i];
    for (uint32_t i = 0; i < count; i++)
        if (own[i] >= 0) cnt[own[i]]++;
    for (uint32_t i = 0; i < n; i++) {
        double ratio = cnt[i] / ((double)count * w->weights[i] / wsum);
        if (ratio > r.max_over_avg) r.max_over_avg = ratio;
    }
    /* add node n (weight 100): how many channels change owner */
    world_build(w2, n + 1, mixed);
    w2->weights[n] = 100;
    ring_free(&w2->r);
    maglev_free(&w2->mg);
    {
        ring_member m[128];
        for (uint32_t i = 0; i <= n; i++) m[i] = (ring_member){w2->names[i], w2->weights[i]};
        ring_build(&w2->r, m, n + 1);
        w2->ps = (peer_set){n + 1, w2->weights, w2->seeds};
        maglev_build(&w2->mg, &w2->ps, MAGLEV_SIZE);
    }
    place_all(w2, s, ids, lens, count, own2);
    uint32_t moved = 0;
    for (uint32_t i = 0; i < count; i++) moved += own[i] != own2[i];
    r.moved = (double)moved / count;
    r.ideal = 100.0 / (wsum + 100.0);
    switch (s) {
    case S_RING:
    case S_RING_BOUNDED: r.bytes = ring_memory(&w->r); break;
    case S_JUMP: r.bytes = 0; break;
    case S_HRW: r.bytes = n * (sizeof(uint32_t) + sizeof(uint64_t)); break;
    case S_MAGLEV: r.bytes = MAGLEV_SIZE * sizeof(int32_t); break;
    }
    r.table_bytes = table_memory((const char(*)[48])w->names, n, own, ids, count);
    free(own);
    free(own2);
    world_free(w);
    world_free(w2);
    free(w);
    free(w2);
    return r;
}

static void print_row(const row *r, bool json) {
    if (json) {
        printf("{\"scheme\":\"%s\",\"nodes\":%u,\"weights\":\"%s\",\"bounded\":%s,\"lookup_ns_p50\":%.1f,"
               "\"lookup_ns_p99\":%.1f,\"max_over_avg\":%.3f,\"moved_on_add\":%.4f,\"ideal_moved\":%.4f,"
               "\"ring_bytes\":%zu,\"table_bytes\":%zu}\n",
               r->scheme, r->nodes, r->weights, r->bounded ? "true" : "false", r->p50, r->p99, r->max_over_avg,
               r->moved, r->ideal, r->bytes, r->table_bytes);
        return;
    }
    printf("%-7s %5u %-6s %-7s %9.1f %9.1f %8.3f %8.4f %8.4f %8.2f %12zu %10.2f\n", r->scheme, r->nodes, r->weights,
           r->bounded ? "yes" : "no", r->p50, r->p99, r->max_over_avg, r->moved, r->ideal, r->moved / r->ideal,
           r->bytes, (double)r->table_bytes / (1024.0 * 1024.0));
}

int main(int argc, char **argv) {
    bool json = false;
    uint32_t count = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--channels") == 0 && i + 1 < argc) count = (uint32_t)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: placement [--channels N] [--json]\n");
            return 2;
        }
    }
    if (count < BATCH * 10) count = BATCH * 10;
    char **ids = malloc(count * sizeof *ids);
    size_t *lens = malloc(count * sizeof *lens);
    for (uint32_t i = 0; i < count; i++) {
        char buf[64];
        int len = snprintf(buf, sizeof buf, "room-%08x-%u", (unsigned)(XXH3_64bits(&i, sizeof i) >> 32), i);
        ids[i] = strdup(buf);
        lens[i] = (size_t)len;
    }
    if (!json)
        printf("%-7s %5s %-6s %-7s %9s %9s %8s %8s %8s %8s %12s %10s\n", "scheme", "nodes", "weight", "bounded",
               "ns p50", "ns p99", "max/avg", "moved", "ideal", "x ideal", "ring bytes", "table MiB");
    static const uint32_t NS[] = {3, 10, 100};
    for (int ni = 0; ni < 3; ni++)
        for (int mixed = 0; mixed <= 1; mixed++) {
            row ours = measure(S_RING, NS[ni], mixed, ids, lens, count);
            print_row(&ours, json);
            row b = measure(S_RING_BOUNDED, NS[ni], mixed, ids, lens, count);
            print_row(&b, json);
            for (scheme s = S_JUMP; s <= S_MAGLEV; s++) {
                if (s == S_JUMP && mixed) continue; /* jump hash has no weights */
                row p = measure(s, NS[ni], mixed, ids, lens, count);
                print_row(&p, json);
                if (!json)
                    printf("        ring/%s: lookup p50 %.2fx, moved %.2fx\n", p.scheme, ours.p50 / p.p50,
                           p.moved > 0 ? ours.moved / p.moved : 0);
                else
                    printf("{\"ratio\":\"ring/%s\",\"nodes\":%u,\"weights\":\"%s\",\"lookup_p50\":%.3f,"
                           "\"moved\":%.3f}\n",
                           p.scheme, NS[ni], mixed ? "mixed" : "equal", ours.p50 / p.p50,
                           p.moved > 0 ? ours.moved / p.moved : 0);
            }
        }
    for (uint32_t i = 0; i < count; i++) free(ids[i]);
    free(ids);
    free(lens);
    return 0;
}
