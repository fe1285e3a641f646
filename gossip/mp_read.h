/* mp_read.h - a bounds-checked msgpack reader over one buffer.
 *
 * Why not msgpack_unpack_next: msgpack-c allocates count*sizeof(object) for
 * an array header before it has seen a single element, so five hostile bytes
 * could ask for gigabytes. This reader allocates nothing, checks every
 * declared count against the bytes that remain (each element takes at least
 * one byte) and limits nesting. Encoding uses msgpack-c's packer.
 *
 * Errors are sticky: after the first failure every call returns false and
 * r->err stays set, so a decoder may check once at the end of a record. */
#ifndef SHOAL_MP_READ_H
#define SHOAL_MP_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_reader {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last byte */
    bool err;           /* set on the first malformed or truncated item */
} mp_reader;

#define MP_MAX_DEPTH 16

static inline void mp_reader_init(mp_reader *r, const void *buf, size_t len) {
    r->p = (const uint8_t *)buf;
    r->end = r->p + len;
    r->err = false;
}

static inline size_t mp_remaining(const mp_reader *r) { return (size_t)(r->end - r->p); }

/* An array header; *n is at most the number of bytes left. */
bool mp_read_array(mp_reader *r, uint32_t *n);
/* A map header; *n pairs, at most half the bytes left. */
bool mp_read_map(mp_reader *r, uint32_t *n);
/* A non-negative integer (positive fixint, uint8..64, or int8..64 >= 0). */
bool mp_read_uint(mp_reader *r, uint64_t *v);
/* Like mp_read_uint but fails if the value exceeds max. */
bool mp_read_uint_max(mp_reader *r, uint64_t max, uint64_t *v);
bool mp_read_bool(mp_reader *r, bool *v);
/* A str; *s points into the buffer (not NUL-terminated). */
bool mp_read_str(mp_reader *r, const char **s, uint32_t *len);
/* A str copied into dst with a NUL; fails if len >= cap or it holds a NUL
 * byte (names must be C strings). */
bool mp_read_str_into(mp_reader *r, char *dst, size_t cap);
/* A bin; *b points into the buffer. */
bool mp_read_bin(mp_reader *r, const uint8_t **b, uint32_t *len);
/* Skips one object of any type, nested at most MP_MAX_DEPTH deep. */
bool mp_skip(mp_reader *r);

#endif
