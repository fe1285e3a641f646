/* stun.c - STUN decoding and encoding for ICE-lite. Every length is checked
 * against the datagram before it is read; attributes after FINGERPRINT and
 * anything after MESSAGE-INTEGRITY but FINGERPRINT are refused, as RFC 5389
 * §15.4/15.5 require of receivers that check them. */
#include "stun.h"

#include <openssl/hmac.h>
#include <string.h>

#include "bytes.h"
#include "crc32.h"

#define ATTR_MAPPED 0x0001
#define ATTR_USERNAME 0x0006
#define ATTR_INTEGRITY 0x0008
#define ATTR_ERROR 0x0009
#define ATTR_XOR_MAPPED 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_FINGERPRINT 0x8028
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A
#define FINGERPRINT_XOR 0x5354554Eu



bool stun_looks_like(const uint8_t *b, size_t n) {
    return n >= STUN_HEADER && b[0] < 4 && be32_get(b + 4) == STUN_MAGIC && (be16_get(b + 2) & 3) == 0;
}

static int fail(const char **why, const char *w) {
    if (why) *why = w;
    return -1;
}

static int decode_xor_addr(const uint8_t *v, size_t len, const uint8_t *hdr, stun_addr *a) {
    if (len < 8 || v[0] != 0) return -1;
    if (v[1] == 1 && len == 8) {
        a->family = 4;
        a->port = (uint16_t)(be16_get(v + 2) ^ (STUN_MAGIC >> 16));
        for (int i = 0; i < 4; i++) a->ip[i] = v[4 + i] ^ hdr[4 + i];
        return 0;
    }
    if (v[1] == 2 && len == 20) {
        a->family = 6;
        a->port = (uint16_t)(be16_get(v + 2) ^ (STUN_MAGIC >> 16));
        for (int i = 0; i < 16; i++) a->ip[i] = v[4 + i] ^ hdr[4 + i]; /* cookie then txid */
        return 0;
    }
    return -1;
}

int stun_decode(const uint8_t *b, size_t n, stun_msg *m, const char **why) {
    memset(m, 0, sizeof *m);
    if (!stun_looks_like(b, n)) return fail(why, "not a STUN message");
    size_t len = be16_get(b + 2);
    if (STUN_HEADER + len != n) return fail(why, "length does not match the datagram");
    m->type = be16_get(b);
    memcpy(m->txid, b + 8, 12);
    size_t at = STUN_HEADER;
    while (at < n) {
        if (m->has_fingerprint) return fail(why, "attribute after FINGERPRINT");
        if (n - at < 4) return fail(why, "truncated attribute header");
        uint16_t t = be16_get(b + at), l = be16_get(b + at + 2);
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (n - at - 4 < padded) return fail(why, "attribute overruns the message");
        const uint8_t *v = b + at + 4;
        if (m->has_integrity && t != ATTR_FINGERPRINT) return fail(why, "attribute after MESSAGE-INTEGRITY");
        switch (t) {
        case ATTR_USERNAME:
            if (l == 0 || l > 513) return fail(why, "bad USERNAME length");
            m->username = v;
            m->username_len = l;
            break;
        case ATTR_PRIORITY:
            if (l != 4) return fail(why, "bad PRIORITY length");
            m->has_priority = true;
            m->priority = be32_get(v);
            break;
        case ATTR_USE_CANDIDATE:
            if (l != 0) return fail(why, "bad USE-CANDIDATE length");
            m->use_candidate = true;
            break;
        case ATTR_ICE_CONTROLLED:
        case ATTR_ICE_CONTROLLING:
            if (l != 8) return fail(why, "bad ICE-CONTROLLED/CONTROLLING length");
            m->tiebreaker = (uint64_t)be32_get(v) << 32 | be32_get(v + 4);
            if (t == ATTR_ICE_CONTROLLING) m->ice_controlling = true;
            else m->ice_controlled = true;
            break;
        case ATTR_INTEGRITY:
            if (l != 20) return fail(why, "bad MESSAGE-INTEGRITY length");
            m->has_integrity = true;
            m->integrity_at = at;
            break;
        case ATTR_FINGERPRINT: {
            if (l != 4) return fail(why, "bad FINGERPRINT length");
            if (at + 8 != n) return fail(why, "FINGERPRINT is not last");
            if ((shoal_crc32(b, at) ^ FINGERPRINT_XOR) != be32_get(v)) return fail(why, "FINGERPRINT mismatch");
            m->has_fingerprint = true;
            break;
        }
        case ATTR_XOR_MAPPED:
            if (decode_xor_addr(v, l, b, &m->mapped) != 0) return fail(why, "bad XOR-MAPPED-ADDRESS");
            m->has_mapped = true;
            break;
        case ATTR_ERROR:
            if (l < 4) return fail(why, "bad ERROR-CODE length");
            m->error_code = (v[2] & 7) * 100 + v[3];
            break;
        default:
            /* Comprehension-required attributes we do not know (below
             * 0x8000) would call for a 420; ICE-lite only needs to answer
             * Binding requests, so they are skipped, as libnice does. */
            break;
        }
        at += 4 + padded;
    }
    return 0;
}

/* HMAC-SHA1 of the message up to `upto`, with the header's length field
 * set as if the message ended with the 24-byte MESSAGE-INTEGRITY at `upto`. */
static void integrity_of(const uint8_t *b, size_t upto, const char *pwd, size_t pwd_len, uint8_t out[20]) {
    uint8_t hdr[STUN_HEADER];
    memcpy(hdr, b, STUN_HEADER);
    be16_put(hdr + 2, (uint16_t)(upto + 24 - STUN_HEADER));
    unsigned int olen = 20;
    /* Two-part input: header with the adjusted length, then the rest. */
    uint8_t buf[STUN_MAX + 64];
    if (upto > sizeof buf) {
        memset(out, 0, 20);
        return;
    }
    memcpy(buf, hdr, STUN_HEADER);
    memcpy(buf + STUN_HEADER, b + STUN_HEADER, upto - STUN_HEADER);
    HMAC(EVP_sha1(), pwd, (int)pwd_len, buf, upto, out, &olen);
}

bool stun_integrity_ok(const uint8_t *b, size_t n, const stun_msg *m, const char *pwd, size_t pwd_len) {
    if (!m->has_integrity || m->integrity_at + 24 > n) return false;
    uint8_t mac[20];
    integrity_of(b, m->integrity_at, pwd, pwd_len, mac);
    /* Constant time: the comparison must not tell how many bytes matched. */
    uint8_t diff = 0;
    for (int i = 0; i < 20; i++) diff |= (uint8_t)(mac[i] ^ b[m->integrity_at + 4 + i]);
    return diff == 0;
}

/* ---- encoding ---------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t cap, len;
    bool overflow;
} wbuf;

static uint8_t *put_attr(wbuf *w, uint16_t type, size_t len) {
    size_t padded = (len + 3) & ~(size_t)3;
    if (w->overflow || w->cap - w->len < 4 + padded) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *a = w->p + w->len;
    be16_put(a, type);
    be16_put(a + 2, (uint16_t)len);
    memset(a + 4, 0, padded);
    w->len += 4 + padded;
    return a + 4;
}

static void start(wbuf *w, uint8_t *out, size_t cap, uint16_t type, const uint8_t txid[12]) {
    w->p = out;
    w->cap = cap;
    w->len = 0;
    w->overflow = cap < STUN_HEADER;
    if (w->overflow) return;
    be16_put(out, type);
    be16_put(out + 2, 0);
    be32_put(out + 4, STUN_MAGIC);
    memcpy(out + 8, txid, 12);
    w->len = STUN_HEADER;
}

static void put_integrity(wbuf *w, const char *pwd, size_t pwd_len) {
    size_t at = w->len;
    uint8_t mac[20];
    if (w->overflow || at + 24 > STUN_MAX) {
        w->overflow = true;
        return;
    }
    integrity_of(w->p, at, pwd, pwd_len, mac);
    uint8_t *v = put_attr(w, ATTR_INTEGRITY, 20);
    if (v) memcpy(v, mac, 20);
}

static size_t finish(wbuf *w) {
    size_t at = w->len;
    uint8_t *v = put_attr(w, ATTR_FINGERPRINT, 4);
    if (!v) return 0;
    be16_put(w->p + 2, (uint16_t)(w->len - STUN_HEADER));
    be32_put(v, shoal_crc32(w->p, at) ^ FINGERPRINT_XOR);
    return w->len;
}

size_t stun_binding_success(uint8_t *out, size_t cap, const uint8_t txid[12], const stun_addr *mapped,
                            const char *pwd, size_t pwd_len) {
    wbuf w;
    start(&w, out, cap, STUN_BINDING_SUCCESS, txid);
    size_t alen = mapped->family == 6 ? 20 : 8;
    uint8_t *v = put_attr(&w, ATTR_XOR_MAPPED, alen);
    if (v) {
        v[1] = mapped->family == 6 ? 2 : 1;
        be16_put(v + 2, (uint16_t)(mapped->port ^ (STUN_MAGIC >> 16)));
        for (size_t i = 0; i < alen - 4; i++) v[4 + i] = mapped->ip[i] ^ out[4 + i];
    }
    put_integrity(&w, pwd, pwd_len);
    return finish(&w);
}

size_t stun_binding_error(uint8_t *out, size_t cap, const uint8_t txid[12], int code, const char *reason) {
    wbuf w;
    start(&w, out, cap, STUN_BINDING_ERROR, txid);
    size_t rl = strlen(reason);
    if (rl > 128) rl = 128;
    uint8_t *v = put_attr(&w, ATTR_ERROR, 4 + rl);
    if (v) {
        v[2] = (uint8_t)(code / 100);
        v[3] = (uint8_t)(code % 100);
        memcpy(v + 4, reason, rl);
    }
    return finish(&w);
}

size_t stun_binding_request(uint8_t *out, size_t cap, const uint8_t txid[12], const char *username,
                            uint32_t priority, uint64_t tiebreaker, bool use_candidate, const char *pwd,
                            size_t pwd_len) {
    wbuf w;
    start(&w, out, cap, STUN_BINDING_REQUEST, txid);
    size_t ul = strlen(username);
    uint8_t *v = put_attr(&w, ATTR_USERNAME, ul);
    if (v) memcpy(v, username, ul);
    if ((v = put_attr(&w, ATTR_PRIORITY, 4)) != NULL) be32_put(v, priority);
    if ((v = put_attr(&w, ATTR_ICE_CONTROLLING, 8)) != NULL) {
        be32_put(v, (uint32_t)(tiebreaker >> 32));
        be32_put(v + 4, (uint32_t)tiebreaker);
    }
    if (use_candidate) put_attr(&w, ATTR_USE_CANDIDATE, 0);
    put_integrity(&w, pwd, pwd_len);
    return finish(&w);
}

void stun_ice_credentials(const uint8_t rnd[32], char ufrag[9], char pwd[25]) {
    static const char ICE_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 8; i++) ufrag[i] = ICE_CHARS[rnd[i] & 63];
    for (int i = 0; i < 24; i++) pwd[i] = ICE_CHARS[rnd[8 + i] & 63]; /* 144 bits */
    ufrag[8] = pwd[24] = '\0';
}

uint32_t stun_addr_hash(const stun_addr *a) {
    uint32_t h = 2166136261u;
    size_t n = a->family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++) h = (h ^ a->ip[i]) * 16777619u;
    h = (h ^ (a->port & 0xff)) * 16777619u;
    h = (h ^ (a->port >> 8)) * 16777619u;
    return h;
}

bool stun_addr_eq(const stun_addr *a, const stun_addr *b) {
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, a->family == 6 ? 16 : 4) == 0;
}
