/* keyed.h - a growable array of fixed-size items with a string index
 * (strmap.h) and swap-remove: find by key in O(1), iterate densely, remove
 * by moving the last item into the hole. The key lives in the item (key()
 * reads it). The index points back at this struct: do not move a keyed
 * once items were added (keep it in a struct that stays put). */
#ifndef SHOAL_KEYED_H
#define SHOAL_KEYED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

typedef const char *(*keyed_key_fn)(const void *item);

typedef struct keyed {
    char *items;
    uint32_t n, cap;
    size_t size;
    keyed_key_fn key;
    strmap index;
} keyed;

void keyed_init(keyed *k, size_t item_size, keyed_key_fn key);
void keyed_free(keyed *k);
static inline void *keyed_at(const keyed *k, uint32_t i) { return k->items + (size_t)i * k->size; }
int64_t keyed_find(const keyed *k, const char *key);             /* its index, or -1 */
/* Appends a copy of item, whose key must be new. Its index, or -1 when
 * memory ran out (nothing added). */
int64_t keyed_add(keyed *k, const void *item);
/* Makes room for n items in all (never shrinks; the capacity rounds up to
 * a power of two, as every array grows): for a list whose size is known.
 * False: out of memory. */
bool keyed_reserve(keyed *k, uint32_t n);
/* Forgets every item (keeps the memory). */
void keyed_clear(keyed *k);
/* The keyed struct itself moved (an array of structs holding one was
 * reallocated): its index is pointed at its new place. */
void keyed_rebind(keyed *k);
/* Removes item i: the last item moves into i. Returns the index the moved
 * item had (so that whoever knew it by index can follow), -1 when none. */
int64_t keyed_remove(keyed *k, uint32_t i);

#endif
