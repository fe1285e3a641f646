/* strmap.c - see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void strmap_init(strmap *m, strmap_key_fn key, const void *ctx) {
    memset(m, 0, sizeof *m);
    m->key = key;
    m->ctx = ctx;
}

void strmap_free(strmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static uint32_t home(const strmap *m, const char *key) {
    return (uint32_t)XXH3_64bits(key, strlen(key)) & (m->cap - 1);
}

int64_t strmap_find(const strmap *m, const char *key) {
    if (m->cap == 0) return -1;
    for (uint32_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        uint32_t s = m->slots[i];
        if (s == 0) return -1;
        if (strcmp(m->key(m->ctx, s - 1), key) == 0) return (int64_t)(s - 1);
    }
}

static bool grow(strmap *m) {
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *old = m->slots, oldcap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (m->slots == NULL) {
        m->slots = old;
        return false;
    }
    m->cap = cap;
    for (uint32_t i = 0; i < oldcap; i++) {
        if (old[i] == 0) continue;
        uint32_t j = home(m, m->key(m->ctx, old[i] - 1));
        while (m->slots[j] != 0) j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
    return true;
}

bool strmap_insert(strmap *m, const char *key, uint32_t item) {
    if ((m->n + 1) * 4 > m->cap * 3 && !grow(m)) return false; /* load at most 3/4 */
    uint32_t i = home(m, key);
    while (m->slots[i] != 0) i = (i + 1) & (m->cap - 1);
    m->slots[i] = item + 1;
    m->n++;
    return true;
}

static int64_t slot_of(const strmap *m, const char *key) {
    if (m->cap == 0) return -1;
    for (uint32_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i] == 0) return -1;
        if (strcmp(m->key(m->ctx, m->slots[i] - 1), key) == 0) return i;
    }
}

void strmap_remove(strmap *m, const char *key) {
    int64_t at = slot_of(m, key);
    if (at < 0) return;
    uint32_t i = (uint32_t)at, mask = m->cap - 1;
    m->slots[i] = 0;
    m->n--;
    /* backward shift: pull later entries of the run into the hole */
    for (uint32_t j = (i + 1) & mask; m->slots[j] != 0; j = (j + 1) & mask) {
        uint32_t h = home(m, m->key(m->ctx, m->slots[j] - 1));
        /* the entry at j may move to i if its home is not in (i, j] cyclically */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays) continue;
        m->slots[i] = m->slots[j];
        m->slots[j] = 0;
        i = j;
    }
}

void strmap_reindex(strmap *m, const char *key, uint32_t item) {
    int64_t at = slot_of(m, key);
    if (at >= 0) m->slots[at] = item + 1;
}

size_t strmap_memory(const strmap *m) { return sizeof *m + (size_t)m->cap * sizeof *m->slots; }
