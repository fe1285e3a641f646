/* view.c - the placement ring from a gossip view (see view.h). */
#include "view.h"

#include <stdlib.h>
#include <string.h>

bool view_takes_channels(const swim_member *m) {
    return (m->state == SWIM_ALIVE || m->state == SWIM_SUSPECT) && m->meta.serving &&
           m->meta.mode == WIRE_MODE_NORMAL;
}

bool view_ring_update(view_ring *v, const swim *s) {
    uint32_t n = swim_member_count(s), k = 0;
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
    uint64_t total = 0;
    for (uint32_t i = 0; i < next.nnodes; i++) {
        const swim_member *sm = swim_find(s, next.nodes[i].name);
        loads[i] = sm ? sm->meta.load : 0;
        total += loads[i];
    }
    bool changed = next.checksum != v->r.checksum || next.nnodes != v->r.nnodes;
    ring_free(&v->r);
    free(v->loads);
    v->r = next;
    v->loads = loads;
    v->total_load = total;
    if (changed) v->version++;
    return changed;
}

void view_ring_free(view_ring *v) {
    ring_free(&v->r);
    free(v->loads);
    v->loads = NULL;
}
