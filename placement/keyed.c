/* keyed.c - an indexed array (see .h). */
#include "keyed.h"

#include <stdlib.h>
#include <string.h>

#include "vec.h"

static const char *key_of(const void *ctx, uint32_t i) {
    const keyed *k = ctx;
    return k->key(keyed_at(k, i));
}

void keyed_init(keyed *k, size_t item_size, keyed_key_fn key) {
    memset(k, 0, sizeof *k);
    k->size = item_size;
    k->key = key;
    strmap_init(&k->index, key_of, k);
}

void keyed_free(keyed *k) {
    strmap_free(&k->index);
    free(k->items);
    k->items = NULL;
    k->n = k->cap = 0;
}

int64_t keyed_find(const keyed *k, const char *key) { return strmap_find(&k->index, key); }

/* Room for n at once, for lists whose final size is known (keyed.h): one
 * allocation instead of one per doubling. */
bool keyed_reserve(keyed *k, uint32_t n) { return array_grow(&k->items, &k->cap, n, k->size); }

void keyed_clear(keyed *k) {
    strmap_free(&k->index);
    strmap_init(&k->index, key_of, k);
    k->n = 0;
}

void keyed_rebind(keyed *k) { k->index.ctx = k; }

int64_t keyed_add(keyed *k, const void *item) {
    if (!array_grow(&k->items, &k->cap, (size_t)k->n + 1, k->size)) return -1;
    memcpy(keyed_at(k, k->n), item, k->size);
    if (!strmap_insert(&k->index, k->key(keyed_at(k, k->n)), k->n)) return -1;
    return k->n++;
}

int64_t keyed_remove(keyed *k, uint32_t i) {
    if (i >= k->n) return -1;
    strmap_remove(&k->index, k->key(keyed_at(k, i)));
    uint32_t last = --k->n;
    if (i == last) return -1;
    memcpy(keyed_at(k, i), keyed_at(k, last), k->size);
    strmap_reindex(&k->index, k->key(keyed_at(k, i)), i);
    return last;
}
