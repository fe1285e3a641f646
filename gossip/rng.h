/* rng.h - the cores' only source of randomness: a seeded xoshiro256**.
 *
 * Every core owns one, seeded by its adapter (getrandom in production, a
 * sub-seed of the simulator's root seed in bench/), so that a run is
 * reproducible from its seed. */
#ifndef SHOAL_RNG_H
#define SHOAL_RNG_H

#include <stdint.h>

typedef struct shoal_rng {
    uint64_t s[4];
} shoal_rng;

static inline uint64_t shoal_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void shoal_rng_seed(shoal_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = shoal_splitmix64(&seed);
}

static inline uint64_t shoal_rng_next(shoal_rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n); n > 0. The modulo bias is below 2^-32 for n < 2^32. */
static inline uint32_t shoal_rng_below(shoal_rng *r, uint32_t n) {
    return (uint32_t)(shoal_rng_next(r) % n);
}

#endif
