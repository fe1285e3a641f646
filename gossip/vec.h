/* vec.h - a growable array of fixed-size items, for the cores' outboxes and
 * event queues. */
#ifndef SHOAL_VEC_H
#define SHOAL_VEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct vec {
    void *items;
    uint32_t len, cap;
} vec;

/* Appends a copy of item (size bytes). False if memory ran out (nothing
 * appended). */
static inline bool vec_push(vec *v, const void *item, size_t size) {
    if (v->len == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 8;
        void *p = realloc(v->items, (size_t)cap * size);
        if (p == NULL) return false;
        v->items = p;
        v->cap = cap;
    }
    memcpy((char *)v->items + (size_t)v->len * size, item, size);
    v->len++;
    return true;
}

#endif
