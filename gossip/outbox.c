/* outbox.c - the one outbox of the cores (see outbox.h). */
#include "outbox.h"

#include <stdlib.h>

bool outbox_push(outbox *o, const core_out *m) {
    if (vec_push(&o->v, m, sizeof *m)) return true;
    free(m->data);
    return false;
}

bool outbox_push_sbuffer(outbox *o, const core_out *m, msgpack_sbuffer *sb) {
    core_out with = *m;
    with.len = (uint32_t)sb->size;
    with.data = (uint8_t *)msgpack_sbuffer_release(sb);
    return with.data != NULL && outbox_push(o, &with);
}

void outbox_move(outbox *o, outbox *src) {
    core_out *m = src->v.items;
    for (uint32_t i = 0; i < src->v.len; i++) outbox_push(o, &m[i]);
    src->v.len = 0;
}

const core_out *outbox_items(const outbox *o, uint32_t *n) {
    *n = o->v.len;
    return o->v.items;
}

void outbox_clear(outbox *o) {
    core_out *m = o->v.items;
    for (uint32_t i = 0; i < o->v.len; i++) free(m[i].data);
    o->v.len = 0;
}

void outbox_free(outbox *o) {
    outbox_clear(o);
    free(o->v.items);
    o->v = (vec){0};
}
