/* bytes.h - network byte order reads and writes, and the small PRNG the
 * media plane uses for SSRCs (not for secrets: ICE passwords and keys come
 * from getrandom and OpenSSL). */
#ifndef SHOAL_MEDIA_BYTES_H
#define SHOAL_MEDIA_BYTES_H

#include <stdint.h>

static inline uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32_get(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void be16_put(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void be32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* xorshift64*: state must not be 0. */
static inline uint64_t xorshift64s(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

#endif
