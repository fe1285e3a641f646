/* outbox.h - the one outbox of the cores: the datagrams, stream frames and
 * writes a core asks its caller to carry out, each owning its bytes.
 *
 * swim, raft, lease, claims, chtable and the node core each keep one and
 * hand it out (swim_outbox(s), ...); the caller reads outbox_items and then
 * calls outbox_clear, which frees every message's data. Pointers from
 * outbox_items stay valid until the next push, clear or free. */
#ifndef SHOAL_OUTBOX_H
#define SHOAL_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "addr.h"
#include "vec.h"
#include "wire.h"

typedef struct core_out {
    int kind;                          /* the core's own kind (swim_out_kind, raft_out_kind); 0 in cores with one kind */
    char to[WIRE_NAME_MAX + 1];        /* destination by member name (raft, lease, claims; chtable's "*" and "?") */
    shoal_addr addr;                   /* destination by address (swim, the node core) */
    uint64_t conn_id;                  /* swim streams: the accepted connection to answer, 0 a new one */
    uint32_t len;
    uint8_t *data;                     /* malloc'd; owned by the outbox once pushed */
} core_out;

typedef struct outbox {
    vec v;                             /* core_out */
} outbox;                              /* zeroed: empty */

/* Appends a copy of *m and takes m->data (malloc'd, or NULL when len is 0):
 * the outbox frees it. False if memory ran out: m->data was freed then, and
 * nothing was appended. */
bool outbox_push(outbox *o, const core_out *m);
/* outbox_push of *m with sb's bytes as its data and len: takes sb's memory
 * and leaves sb empty (as msgpack_sbuffer_init does). An sb with no memory
 * (packing ran out of it) appends nothing. False if nothing was appended. */
bool outbox_push_sbuffer(outbox *o, const core_out *m, msgpack_sbuffer *sb);
/* Appends every message of src after those of o, data included; src is left
 * empty. A message that does not fit (out of memory) is freed, as a full
 * socket buffer would drop it. */
void outbox_move(outbox *o, outbox *src);
/* The messages in the order pushed; *n gets their count. */
const core_out *outbox_items(const outbox *o, uint32_t *n);
/* Frees every message's data; keeps the array for the next ones. */
void outbox_clear(outbox *o);
/* outbox_clear and the array itself: the outbox is empty (and reusable). */
void outbox_free(outbox *o);

#endif
