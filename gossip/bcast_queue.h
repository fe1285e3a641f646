/* bcast_queue.h - updates waiting to be piggybacked on outgoing packets.
 *
 * Each entry is one encoded message about one member (its key). A newer
 * update about a member replaces the older one still queued. Entries are
 * handed out least-transmitted first, newest first among equals, and are
 * dropped after `limit` transmissions (SWIM's lambda * log N). */
#ifndef SHOAL_BCAST_QUEUE_H
#define SHOAL_BCAST_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define BCAST_KEY_MAX (2 * WIRE_NAME_MAX + 2)

typedef struct bcast_item {
    char key[BCAST_KEY_MAX];
    uint64_t id;        /* insertion order: larger is newer */
    uint32_t transmits;
    uint32_t len;
    uint8_t *data;      /* owned */
} bcast_item;

typedef struct bcast_queue {
    bcast_item *items;
    uint32_t len, cap;
    uint64_t next_id;
} bcast_queue;

void bcast_queue_init(bcast_queue *q);
void bcast_queue_free(bcast_queue *q);

/* Queues a copy of data under key, replacing any entry with that key.
 * Returns false if memory ran out (the update is then lost; SWIM's
 * push-pull repairs it). */
bool bcast_queue_push(bcast_queue *q, const char *key, const void *data, uint32_t len);

/* Calls emit for up to max_msgs entries whose sizes fit in budget bytes
 * together, in priority order; each emitted entry counts one transmission
 * and is removed once it reached limit. Returns the number emitted. */
typedef void (*bcast_emit_fn)(void *ctx, const uint8_t *data, uint32_t len);
uint32_t bcast_queue_fill(bcast_queue *q, uint32_t limit, size_t budget, uint32_t max_msgs,
                          bcast_emit_fn emit, void *ctx);

/* Drops every entry whose key is prefix followed by sep and anything. */
void bcast_queue_drop_prefix(bcast_queue *q, const char *prefix, char sep);

/* True while an entry with this key is queued. */
bool bcast_queue_has(const bcast_queue *q, const char *key);

#endif
