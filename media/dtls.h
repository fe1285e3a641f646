/* dtls.h - DTLS 1.2 with use_srtp (RFC 5764) on memory buffers: datagrams
 * in, datagrams out, SRTP keys exported with EXTRACTOR-dtls_srtp. OpenSSL 3
 * does the protocol; this file owns no socket. Its retransmission timer is
 * OpenSSL's (the one clock read of the media plane, left to the library).
 *
 * The node is the DTLS server (it offers actpass, browsers answer active);
 * the client side exists for bench/media's load client. The peer's
 * certificate is accepted during the handshake and then checked against
 * the SHA-256 fingerprint of its SDP (RFC 8122). */
#ifndef SHOAL_DTLS_H
#define SHOAL_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_MTU 1200
#define DTLS_FP_MAX 100 /* "AB:CD:..." of 32 bytes is 95 characters */

typedef enum { SRTP_PROFILE_NONE = 0, SRTP_PROFILE_AES128_CM_SHA1_80 = 1, SRTP_PROFILE_AEAD_AES_128_GCM = 7 } srtp_profile_id;

typedef struct {
    srtp_profile_id profile;
    uint8_t local[46], remote[46]; /* master key then master salt */
    size_t key_len, salt_len;
} dtls_srtp_keys;

typedef struct media_dtls_ctx media_dtls_ctx;
typedef struct media_dtls media_dtls;
typedef enum { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED } dtls_state;

/* The node's certificate: PEM bytes (the caller reads the files), or none
 * for a fresh self-signed ECDSA P-256 one whose serial the caller draws
 * (this file takes no randomness of its own; the key's generation and the
 * handshake's randomness are OpenSSL's). */
typedef struct media_dtls_identity {
    const char *cert_pem, *key_pem;    /* NULL cert_pem: self-signed */
    size_t cert_len, key_len;
    uint64_t serial;                   /* of the self-signed certificate */
} media_dtls_identity;

/* NULL on failure with the reason in err. */
media_dtls_ctx *media_dtls_ctx_new(const media_dtls_identity *id, char *err, size_t errlen);
void media_dtls_ctx_free(media_dtls_ctx *c);
const char *media_dtls_ctx_fingerprint(const media_dtls_ctx *c); /* "AB:CD:..." */

media_dtls *media_dtls_new(media_dtls_ctx *c, bool server, const char *peer_fingerprint);
void media_dtls_free(media_dtls *d);
/* Feeds one received datagram; drives the handshake. */
void media_dtls_recv(media_dtls *d, const uint8_t *b, size_t n);
/* Starts the handshake (client side) or re-sends after a timeout. */
void media_dtls_kick(media_dtls *d);
/* The next datagram to send (records packed up to DTLS_MTU); 0 when none. */
size_t media_dtls_take(media_dtls *d, uint8_t *out, size_t cap);
dtls_state media_dtls_state(const media_dtls *d);
const char *media_dtls_error(const media_dtls *d);
/* Milliseconds until OpenSSL wants media_dtls_kick, -1 if it does not. */
int64_t media_dtls_timeout_ms(media_dtls *d);
/* After DTLS_CONNECTED: the negotiated SRTP profile and keys (local = ours). */
bool media_dtls_keys(media_dtls *d, dtls_srtp_keys *k);

#endif
