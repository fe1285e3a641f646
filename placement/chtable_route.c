/* chtable_route.c - where a channel-table datagram goes (see chtable_route.h). */
#include "chtable_route.h"

#include <string.h>

static bool live(const swim_member *m) { return m->state == SWIM_ALIVE || m->state == SWIM_SUSPECT; }

void chtable_route(const swim *g, uint32_t *cursor, const core_out *o, chtable_send_fn send, void *ctx) {
    uint32_t n = swim_member_count(g); /* member 0 is this node */
    if (n < 2) return;
    if (strcmp(o->to, "?") == 0) {
        for (uint32_t step = 0; step < n - 1; step++) {
            *cursor = *cursor % (n - 1) + 1;
            const swim_member *m = swim_member_at(g, *cursor);
            if (live(m)) {
                send(ctx, m, o->data, o->len);
                return;
            }
        }
        return;
    }
    bool all = strcmp(o->to, "*") == 0;
    for (uint32_t k = 1; k < n; k++) {
        const swim_member *m = swim_member_at(g, k);
        if (!live(m)) continue;
        if (all) send(ctx, m, o->data, o->len);
        else if (strcmp(o->to, m->name) == 0) {
            send(ctx, m, o->data, o->len);
            return;
        }
    }
}

bool chtable_from_member(const swim *g, const uint8_t *buf, size_t len) {
    char sender[WIRE_NAME_MAX + 1];
    if (!chtable_sender(buf, len, sender, sizeof sender)) return false;
    const swim_member *m = swim_find(g, sender);
    return m != NULL && live(m);
}
