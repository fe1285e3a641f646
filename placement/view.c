/* view.c - the placement ring from a gossip view (see view.h). */
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

bool view_takes_channels(const swim_member *m) {
    return (m->state == SWIM_ALIVE || m->state == SWIM_SUSPECT) && m->meta.serving &&
           m->meta.mode == WIRE_MODE_NORMAL;
}

void view_ring_refresh_loads(view_ring *v, const swim *s) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < v->r.nnodes; i++) {
        const swim_member *sm = swim_find(s, v->r.nodes[i].name);
        v->loads[i] = sm ? sm->meta.load : 0;
        total += v->loads[i];
    }
    v->total_load = total;
}

bool view_ring_update(view_ring *v, const swim *s) {
    uint32_t n = swim_member_count(s), k = 0;
    /* a sum of per-member hashes: the gossip core reorders its members */
    uint64_t fp = 0x5a17;
    for (uint32_t i = 0; i < n; i++) {
        const swim_member *sm = swim_member_at(s, i);
        if (view_takes_channels(sm)) fp += XXH3_64bits_withSeed(sm->name, strlen(sm->name), sm->meta.weight);
    }
    if (v->built && fp == v->inputs) return false;
    ring_member *m = malloc((n ? n : 1) * sizeof *m);
    if (m == NULL) return false;
    for (uint32_t i = 0; i < n && k < RING_MAX_NODES; i++) {
        const swim_member *sm = swim_member_at(s, i);
        if (view_takes_channels(sm)) m[k++] = (ring_member){sm->name, sm->meta.weight};
    }
    ring next;
    if (!ring_build(&next, m, k)) {
        free(m);
        return false;
    }
    free(m);
    uint32_t *loads = calloc(next.nnodes ? next.nnodes : 1, sizeof *loads);
    if (loads == NULL) {
        ring_free(&next);
        return false;
    }
    bool changed = !v->built || next.checksum != v->r.checksum || next.nnodes != v->r.nnodes;
    ring_free(&v->r);
    free(v->loads);
    v->r = next;
    v->loads = loads;
    v->inputs = fp;
    v->built = true;
    view_ring_refresh_loads(v, s);
    if (changed) v->version++;
    return changed;
}

void view_ring_free(view_ring *v) {
    ring_free(&v->r);
    free(v->loads);
    v->loads = NULL;
}

bool view_suspects(const swim *s, const char *name) {
    if (name == NULL || name[0] == '\0') return false;
    const swim_member *m = swim_find(s, name);
    return m != NULL && m->state == SWIM_SUSPECT;
}
