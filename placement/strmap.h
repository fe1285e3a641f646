/* strmap.h - string key -> uint32 index, open addressing with linear
 * probing and backward-shift deletion; the keys live with the caller's
 * items (get_key reads the key of item i). For the claims tables. */
#ifndef SHOAL_STRMAP_H
#define SHOAL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*strmap_key_fn)(const void *ctx, uint32_t item);

typedef struct strmap {
    uint32_t *slots;            /* item + 1; 0: empty */
    uint32_t cap, n;            /* cap: power of two */
    strmap_key_fn key;
    const void *ctx;
} strmap;

void strmap_init(strmap *m, strmap_key_fn key, const void *ctx);
void strmap_free(strmap *m);
int64_t strmap_find(const strmap *m, const char *key);          /* item or -1 */
bool strmap_insert(strmap *m, const char *key, uint32_t item);   /* false: out of memory */
void strmap_remove(strmap *m, const char *key);
void strmap_reindex(strmap *m, const char *key, uint32_t item);  /* key's item moved */
size_t strmap_memory(const strmap *m);

#endif
