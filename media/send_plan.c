/* send_plan.c - UDP GSO groups for a batch of outgoing datagrams. */
#include "send_plan.h"

#include <stdlib.h>
#include <string.h>

int send_plan_init(send_plan *p, uint32_t cap) {
    memset(p, 0, sizeof *p);
    p->nslots = 1;
    while (p->nslots < 2 * cap) p->nslots *= 2; /* load at most 1/2: short probes */
    p->cap = cap;
    p->groups = malloc(cap * sizeof *p->groups);
    p->idx = malloc(cap * sizeof *p->idx);
    p->group_of = malloc(cap * sizeof *p->group_of);
    p->slots = malloc(p->nslots * sizeof *p->slots);
    if (!p->groups || !p->idx || !p->group_of || !p->slots) {
        send_plan_free(p);
        return -1;
    }
    return 0;
}

void send_plan_free(send_plan *p) {
    free(p->groups);
    free(p->idx);
    free(p->group_of);
    free(p->slots);
    memset(p, 0, sizeof *p);
}

/* Can datagram len join group g (to the same address)? A group takes
 * datagrams of its segment size; a shorter one ends it. */
static int joins(const send_group *g, size_t len, uint32_t max_segs) {
    if (g->count >= max_segs || len == 0 || len > g->seg) return 0;
    if ((uint64_t)g->seg * (g->count + 1) > SEND_PLAN_MAX_BYTES) return 0;
    return 1;
}

void send_plan_make(send_plan *p, const sfu_dgram *d, uint32_t n, uint32_t max_segs) {
    if (n > p->cap) n = p->cap;
    if (max_segs < 1) max_segs = 1;
    p->ngroups = 0;
    memset(p->slots, 0, p->nslots * sizeof *p->slots);
    /* A group is open while its address's slot names it and every datagram
     * in it so far was full-sized (bytes == count * seg). */
    uint32_t *bytes = p->idx; /* scratch until the second pass: bytes per group */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = stun_addr_hash(&d[i].to) & (p->nslots - 1);
        while (p->slots[h] && !stun_addr_eq(&d[p->groups[p->slots[h] - 1].first].to, &d[i].to))
            h = (h + 1) & (p->nslots - 1);
        uint32_t g = p->slots[h];
        send_group *grp = g ? &p->groups[g - 1] : NULL;
        int open = grp && bytes[g - 1] == (uint64_t)grp->count * grp->seg;
        if (open && joins(grp, d[i].len, max_segs)) {
            grp->count++;
            bytes[g - 1] += (uint32_t)d[i].len;
            p->group_of[i] = g - 1;
            continue;
        }
        /* a new group for this address; the slot now names it (first is the
         * datagram that opened it until the second pass) */
        uint32_t ng = p->ngroups++;
        p->groups[ng] = (send_group){.first = i, .count = 1, .seg = (uint32_t)d[i].len};
        bytes[ng] = (uint32_t)d[i].len;
        p->slots[h] = ng + 1;
        p->group_of[i] = ng;
    }
    /* second pass: lay the indexes out group by group, in datagram order */
    uint32_t at = 0;
    for (uint32_t g = 0; g < p->ngroups; g++) {
        p->groups[g].first = at;
        at += p->groups[g].count;
    }
    uint32_t *fill = p->slots; /* scratch: datagrams placed per group */
    memset(fill, 0, p->ngroups * sizeof *fill);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t g = p->group_of[i];
        p->idx[p->groups[g].first + fill[g]++] = i;
    }
}
