/* vec.h - growing arrays, written once for the tree: array_grow makes room
 * in any typed array (T *items; uint32_t cap), vec is an untyped array of
 * fixed-size items for the cores' outboxes and event queues. */
#ifndef SHOAL_VEC_H
#define SHOAL_VEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for at least `need` items of `size` bytes in the array whose
 * pointer is at items_ptr (a T ** passed as void *) and whose capacity is
 * *cap: the capacity doubles until it fits, an empty array starting at the
 * smallest power of two that holds need (small arrays stay small: an SFU
 * peer's two sections). False if memory ran out or the size overflows; the
 * array is then unchanged. */
static inline bool array_grow(void *items_ptr, uint32_t *cap, size_t need, size_t size) {
    if (need <= *cap) return true;
    if (need > UINT32_MAX || size == 0) return false; /* before doubling: c cannot wrap */
    size_t c = *cap ? *cap : 1;
    while (c < need) c *= 2;
    if (c > UINT32_MAX) c = UINT32_MAX; /* a capacity that is not a power of two doubled past it */
    if (c > SIZE_MAX / size) return false;
    void *old;
    memcpy(&old, items_ptr, sizeof old); /* T * and void * share a representation on every ABI we build for */
    void *p = realloc(old, c * size);
    if (p == NULL) return false;
    memcpy(items_ptr, &p, sizeof p);
    *cap = (uint32_t)c;
    return true;
}

typedef struct vec {
    void *items;
    uint32_t len, cap;
} vec;

/* Appends a copy of item (size bytes). False if memory ran out (nothing
 * appended). */
static inline bool vec_push(vec *v, const void *item, size_t size) {
    if (!array_grow(&v->items, &v->cap, (size_t)v->len + 1, size)) return false;
    memcpy((char *)v->items + (size_t)v->len * size, item, size);
    v->len++;
    return true;
}

#endif
