/* bcast_queue.c - retransmit-count priority queue of updates (see .h). */
#include "bcast_queue.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "vec.h"

void bcast_queue_init(bcast_queue *q) { memset(q, 0, sizeof *q); }

void bcast_queue_free(bcast_queue *q) {
    for (uint32_t i = 0; i < q->len; i++) free(q->items[i].data);
    free(q->items);
    memset(q, 0, sizeof *q);
}

static void remove_at(bcast_queue *q, uint32_t i) {
    free(q->items[i].data);
    q->items[i] = q->items[--q->len];
}

void bcast_queue_drop_prefix(bcast_queue *q, const char *prefix, char sep) {
    size_t n = strlen(prefix);
    for (uint32_t i = 0; i < q->len;) {
        const char *k = q->items[i].key;
        if (strncmp(k, prefix, n) == 0 && k[n] == sep) remove_at(q, i);
        else i++;
    }
}

bool bcast_queue_has(const bcast_queue *q, const char *key) {
    for (uint32_t i = 0; i < q->len; i++)
        if (strcmp(q->items[i].key, key) == 0) return true;
    return false;
}

bool bcast_queue_push(bcast_queue *q, const char *key, const void *data, uint32_t len) {
    for (uint32_t i = 0; i < q->len; i++)
        if (strcmp(q->items[i].key, key) == 0) {
            remove_at(q, i);
            break;
        }
    if (!array_grow(&q->items, &q->cap, (size_t)q->len + 1, sizeof *q->items)) return false;
    uint8_t *copy = malloc(len);
    if (copy == NULL) return false;
    memcpy(copy, data, len);
    bcast_item *it = &q->items[q->len++];
    snprintf(it->key, sizeof it->key, "%s", key);
    it->id = q->next_id++;
    it->transmits = 0;
    it->len = len;
    it->data = copy;
    return true;
}

/* Least transmitted first; among equals the newest first. */
static int priority_cmp(const void *a, const void *b) {
    const bcast_item *x = a, *y = b;
    if (x->transmits != y->transmits) return x->transmits < y->transmits ? -1 : 1;
    return x->id > y->id ? -1 : (x->id < y->id ? 1 : 0);
}

uint32_t bcast_queue_fill(bcast_queue *q, uint32_t limit, size_t budget, uint32_t max_msgs,
                          bcast_emit_fn emit, void *ctx) {
    if (q->len == 0) return 0;
    qsort(q->items, q->len, sizeof *q->items, priority_cmp);
    uint32_t sent = 0;
    for (uint32_t i = 0; i < q->len && sent < max_msgs; i++) {
        bcast_item *it = &q->items[i];
        if (it->len > budget) continue;
        emit(ctx, it->data, it->len);
        budget -= it->len;
        sent++;
        it->transmits++;
    }
    /* Drop the exhausted ones after the pass so the order above held. */
    for (uint32_t i = 0; i < q->len;) {
        if (q->items[i].transmits >= limit) remove_at(q, i);
        else i++;
    }
    return sent;
}
