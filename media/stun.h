/* stun.h - STUN messages for ICE-lite (RFC 5389, RFC 8445 §7): decoding with
 * bounds checks, MESSAGE-INTEGRITY (HMAC-SHA1, short-term credentials) and
 * FINGERPRINT (CRC-32), and encoding of Binding requests and responses.
 * No I/O: bytes in, bytes out. */
#ifndef SHOAL_STUN_H
#define SHOAL_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER 20
#define STUN_MAGIC 0x2112A442u
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111
#define STUN_MAX 1280 /* what we build; what we read is bounded by the datagram */

/* A transport address as plain bytes (the core keeps no sockaddr). */
typedef struct {
    uint8_t family; /* 4 or 6 */
    uint16_t port;
    uint8_t ip[16]; /* 4 bytes used for IPv4 */
} stun_addr;

/* FNV-1a over the address bytes and port, for hash tables keyed by peer. */
uint32_t stun_addr_hash(const stun_addr *a);
bool stun_addr_eq(const stun_addr *a, const stun_addr *b);

typedef struct {
    uint16_t type;
    uint8_t txid[12];
    const uint8_t *username; /* points into the decoded buffer */
    size_t username_len;
    bool has_priority, use_candidate, ice_controlling, ice_controlled;
    uint32_t priority;
    uint64_t tiebreaker;
    bool has_integrity;
    size_t integrity_at; /* offset of the MESSAGE-INTEGRITY attribute header */
    bool has_fingerprint;
    bool has_mapped;
    stun_addr mapped; /* XOR-MAPPED-ADDRESS, decoded */
    int error_code;   /* ERROR-CODE class*100+number, 0 when absent */
} stun_msg;

/* Is this datagram STUN by its first byte and magic cookie (RFC 7983 demux)? */
bool stun_looks_like(const uint8_t *b, size_t n);

/* Decodes and checks structure and, when present, the FINGERPRINT.
 * Returns 0, or -1 with a reason in *why. */
int stun_decode(const uint8_t *b, size_t n, stun_msg *m, const char **why);

/* Checks MESSAGE-INTEGRITY with a short-term password (RFC 5389 §15.4). */
bool stun_integrity_ok(const uint8_t *b, size_t n, const stun_msg *m, const char *pwd, size_t pwd_len);

/* Binding success response with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY keyed
 * with pwd and FINGERPRINT. Returns its length, 0 if cap is too small. */
size_t stun_binding_success(uint8_t *out, size_t cap, const uint8_t txid[12], const stun_addr *mapped,
                            const char *pwd, size_t pwd_len);

/* Binding error response (e.g. 400, 401, 487) with FINGERPRINT. */
size_t stun_binding_error(uint8_t *out, size_t cap, const uint8_t txid[12], int code, const char *reason);

/* Binding request of an ICE agent (the load client and the tests):
 * USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE when asked,
 * MESSAGE-INTEGRITY keyed with pwd, FINGERPRINT. */
size_t stun_binding_request(uint8_t *out, size_t cap, const uint8_t txid[12], const char *username,
                            uint32_t priority, uint64_t tiebreaker, bool use_candidate, const char *pwd,
                            size_t pwd_len);

/* ICE credentials from 32 random bytes: an 8-character ufrag and a
 * 24-character password of ice-chars (RFC 8839 §5.4; 144 bits). */
void stun_ice_credentials(const uint8_t rnd[32], char ufrag[9], char pwd[25]);

#endif
