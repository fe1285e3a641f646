/* heap.c - the simulator's event queue: a binary min-heap on (time, seq). */
#include <stdlib.h>

#include "sim.h"

static bool before(const sim_event *a, const sim_event *b) {
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void heap_push(sim_heap *h, sim_event ev) {
    if (!array_grow(&h->v, &h->cap, (size_t)h->n + 1, sizeof *h->v))
        abort(); /* the simulator cannot go on without its queue */
    ev.seq = h->seq++;
    uint32_t i = h->n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(&ev, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = ev;
}

bool heap_pop(sim_heap *h, sim_event *out) {
    if (h->n == 0) return false;
    *out = h->v[0];
    sim_event last = h->v[--h->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
        if (!before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0) h->v[i] = last;
    return true;
}

void heap_free(sim_heap *h) {
    for (uint32_t i = 0; i < h->n; i++) free(h->v[i].data);
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
