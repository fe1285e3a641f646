/* mp_read.c - bounds-checked msgpack decoding (see mp_read.h for why). */
#include "mp_read.h"

#include <string.h>

static bool fail(mp_reader *r) {
    r->err = true;
    return false;
}

static bool take(mp_reader *r, size_t n, const uint8_t **out) {
    if (r->err || mp_remaining(r) < n) return fail(r);
    *out = r->p;
    r->p += n;
    return true;
}

static uint64_t be(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | b[i];
    return v;
}

/* Reads a big-endian length of n bytes. */
static bool take_len(mp_reader *r, int n, uint32_t *len) {
    const uint8_t *b;
    if (!take(r, (size_t)n, &b)) return false;
    *len = (uint32_t)be(b, n);
    return true;
}

static bool tag(mp_reader *r, uint8_t *t) {
    const uint8_t *b;
    if (!take(r, 1, &b)) return false;
    *t = b[0];
    return true;
}

bool mp_read_array(mp_reader *r, uint32_t *n) {
    uint8_t t;
    if (!tag(r, &t)) return false;
    if ((t & 0xf0) == 0x90) *n = t & 0x0f;
    else if (t == 0xdc) { if (!take_len(r, 2, n)) return false; }
    else if (t == 0xdd) { if (!take_len(r, 4, n)) return false; }
    else return fail(r);
    if (*n > mp_remaining(r)) return fail(r);
    return true;
}

bool mp_read_map(mp_reader *r, uint32_t *n) {
    uint8_t t;
    if (!tag(r, &t)) return false;
    if ((t & 0xf0) == 0x80) *n = t & 0x0f;
    else if (t == 0xde) { if (!take_len(r, 2, n)) return false; }
    else if (t == 0xdf) { if (!take_len(r, 4, n)) return false; }
    else return fail(r);
    if ((uint64_t)*n * 2 > mp_remaining(r)) return fail(r);
    return true;
}

bool mp_read_uint(mp_reader *r, uint64_t *v) {
    uint8_t t;
    const uint8_t *b;
    if (!tag(r, &t)) return false;
    if (t <= 0x7f) { *v = t; return true; }
    int n;
    bool is_signed = false;
    switch (t) {
    case 0xcc: n = 1; break;
    case 0xcd: n = 2; break;
    case 0xce: n = 4; break;
    case 0xcf: n = 8; break;
    case 0xd0: n = 1; is_signed = true; break;
    case 0xd1: n = 2; is_signed = true; break;
    case 0xd2: n = 4; is_signed = true; break;
    case 0xd3: n = 8; is_signed = true; break;
    default: return fail(r);
    }
    if (!take(r, (size_t)n, &b)) return false;
    if (is_signed && (b[0] & 0x80)) return fail(r); /* negative */
    *v = be(b, n);
    return true;
}

bool mp_read_uint_max(mp_reader *r, uint64_t max, uint64_t *v) {
    if (!mp_read_uint(r, v)) return false;
    if (*v > max) return fail(r);
    return true;
}

bool mp_read_bool(mp_reader *r, bool *v) {
    uint8_t t;
    if (!tag(r, &t)) return false;
    if (t == 0xc2) *v = false;
    else if (t == 0xc3) *v = true;
    else return fail(r);
    return true;
}

bool mp_read_str(mp_reader *r, const char **s, uint32_t *len) {
    uint8_t t;
    const uint8_t *b;
    if (!tag(r, &t)) return false;
    if ((t & 0xe0) == 0xa0) *len = t & 0x1f;
    else if (t == 0xd9) { if (!take_len(r, 1, len)) return false; }
    else if (t == 0xda) { if (!take_len(r, 2, len)) return false; }
    else if (t == 0xdb) { if (!take_len(r, 4, len)) return false; }
    else return fail(r);
    if (!take(r, *len, &b)) return false;
    *s = (const char *)b;
    return true;
}

bool mp_read_str_into(mp_reader *r, char *dst, size_t cap) {
    const char *s;
    uint32_t len;
    if (!mp_read_str(r, &s, &len)) return false;
    if (len >= cap || memchr(s, '\0', len) != NULL) return fail(r);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

bool mp_read_bin(mp_reader *r, const uint8_t **b, uint32_t *len) {
    uint8_t t;
    if (!tag(r, &t)) return false;
    if (t == 0xc4) { if (!take_len(r, 1, len)) return false; }
    else if (t == 0xc5) { if (!take_len(r, 2, len)) return false; }
    else if (t == 0xc6) { if (!take_len(r, 4, len)) return false; }
    else return fail(r);
    return take(r, *len, b);
}

static bool skip_depth(mp_reader *r, int depth) {
    if (depth > MP_MAX_DEPTH) return fail(r);
    if (r->err || r->p >= r->end) return fail(r);
    uint8_t t = *r->p;
    const uint8_t *b;
    uint32_t n, len;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
        return take(r, 1, &b);
    if ((t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb)) {
        const char *s;
        return mp_read_str(r, &s, &len);
    }
    if (t >= 0xc4 && t <= 0xc6) return mp_read_bin(r, &b, &len);
    if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd) {
        if (!mp_read_array(r, &n)) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!skip_depth(r, depth + 1)) return false;
        return true;
    }
    if ((t & 0xf0) == 0x80 || t == 0xde || t == 0xdf) {
        if (!mp_read_map(r, &n)) return false;
        for (uint32_t i = 0; i < 2 * n; i++)
            if (!skip_depth(r, depth + 1)) return false;
        return true;
    }
    switch (t) {
    case 0xcc: case 0xd0: case 0xd4: return take(r, t == 0xd4 ? 3 : 2, &b);
    case 0xcd: case 0xd1: return take(r, 3, &b);
    case 0xca: case 0xce: case 0xd2: return take(r, 5, &b);
    case 0xcb: case 0xcf: case 0xd3: return take(r, 9, &b);
    case 0xd5: return take(r, 4, &b);
    case 0xd6: return take(r, 6, &b);
    case 0xd7: return take(r, 10, &b);
    case 0xd8: return take(r, 18, &b);
    case 0xc7: case 0xc8: case 0xc9: { /* ext 8/16/32: len, type, data */
        int w = t == 0xc7 ? 1 : t == 0xc8 ? 2 : 4;
        if (!take(r, 1, &b) || !take_len(r, w, &len)) return false;
        return take(r, (size_t)len + 1, &b);
    }
    default: return fail(r); /* 0xc1 is never used */
    }
}

bool mp_skip(mp_reader *r) { return skip_depth(r, 0); }
