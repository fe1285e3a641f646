/* dtls.c - DTLS-SRTP handshakes through OpenSSL on memory BIOs. */
#include "dtls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vec.h"

struct media_dtls_ctx {
    SSL_CTX *server, *client;
    char fingerprint[DTLS_FP_MAX];
};

struct media_dtls {
    SSL *ssl;
    BIO *rbio, *wbio;
    dtls_state state;
    char peer_fp[DTLS_FP_MAX];
    char error[160];
    uint8_t *out; /* records OpenSSL wrote, not yet taken */
    size_t out_len;
    uint32_t out_cap;
};

static int accept_any(int ok, X509_STORE_CTX *x) {
    /* Self-signed by design; the SDP's fingerprint is what authenticates it. */
    (void)ok, (void)x;
    return 1;
}

static void fp_of(X509 *cert, char *out, size_t cap) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = 0;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n * 3 > cap) return;
    for (unsigned int i = 0; i < n; i++) snprintf(out + i * 3, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
}

static X509 *self_signed(EVP_PKEY *key, uint64_t serial) {
    X509 *x = X509_new();
    if (!x) return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"shoal", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_set_pubkey(x, key) != 1 || X509_sign(x, key, EVP_sha256()) == 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static SSL_CTX *make_ctx(bool server, X509 *cert, EVP_PKEY *key) {
    SSL_CTX *c = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
    if (!c) return NULL;
    SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION);
    if (SSL_CTX_use_certificate(c, cert) != 1 || SSL_CTX_use_PrivateKey(c, key) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(c, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
        SSL_CTX_free(c);
        return NULL;
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    SSL_CTX_set_read_ahead(c, 1);
    return c;
}

media_dtls_ctx *media_dtls_ctx_new(const media_dtls_identity *id, char *err, size_t errlen) {
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    if (id->cert_pem != NULL) {
        BIO *b = BIO_new_mem_buf(id->cert_pem, (int)id->cert_len);
        if (b) cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        b = id->key_pem ? BIO_new_mem_buf(id->key_pem, (int)id->key_len) : NULL;
        if (b) key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
        if (!cert || !key) {
            snprintf(err, errlen, "the DTLS %s is not PEM that OpenSSL reads", !cert ? "certificate" : "key");
            goto fail;
        }
    } else {
        key = EVP_EC_gen("P-256");
        cert = key ? self_signed(key, id->serial) : NULL;
        if (!cert) {
            snprintf(err, errlen, "cannot make a self-signed ECDSA P-256 certificate");
            goto fail;
        }
    }
    media_dtls_ctx *c = calloc(1, sizeof *c);
    if (!c) goto fail;
    c->server = make_ctx(true, cert, key);
    c->client = make_ctx(false, cert, key);
    fp_of(cert, c->fingerprint, sizeof c->fingerprint);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!c->server || !c->client || !c->fingerprint[0]) {
        snprintf(err, errlen, "cannot set up DTLS (certificate, key or SRTP profiles refused)");
        media_dtls_ctx_free(c);
        return NULL;
    }
    return c;
fail:
    X509_free(cert);
    EVP_PKEY_free(key);
    return NULL;
}

void media_dtls_ctx_free(media_dtls_ctx *c) {
    if (!c) return;
    SSL_CTX_free(c->server);
    SSL_CTX_free(c->client);
    free(c);
}

const char *media_dtls_ctx_fingerprint(const media_dtls_ctx *c) { return c->fingerprint; }

media_dtls *media_dtls_new(media_dtls_ctx *c, bool server, const char *peer_fingerprint) {
    media_dtls *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->ssl = SSL_new(server ? c->server : c->client);
    d->rbio = BIO_new(BIO_s_mem());
    d->wbio = BIO_new(BIO_s_mem());
    if (!d->ssl || !d->rbio || !d->wbio) {
        SSL_free(d->ssl);
        BIO_free(d->rbio);
        BIO_free(d->wbio);
        free(d);
        return NULL;
    }
    BIO_set_mem_eof_return(d->rbio, -1);
    BIO_set_mem_eof_return(d->wbio, -1);
    SSL_set_bio(d->ssl, d->rbio, d->wbio);
    SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(d->ssl, DTLS_MTU);
    if (server) SSL_set_accept_state(d->ssl);
    else SSL_set_connect_state(d->ssl);
    snprintf(d->peer_fp, sizeof d->peer_fp, "%s", peer_fingerprint ? peer_fingerprint : "");
    return d;
}

void media_dtls_free(media_dtls *d) {
    if (!d) return;
    SSL_free(d->ssl); /* frees both BIOs */
    free(d->out);
    free(d);
}

static void set_failed(media_dtls *d, const char *why) {
    d->state = DTLS_FAILED;
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[120];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(d->error, sizeof d->error, "%s: %s", why, buf);
    } else {
        snprintf(d->error, sizeof d->error, "%s", why);
    }
    ERR_clear_error();
}

/* Moves what OpenSSL wrote into d->out. */
static void drain(media_dtls *d) {
    char *p = NULL;
    long n = BIO_get_mem_data(d->wbio, &p);
    if (n <= 0) return;
    if (d->out_len + (size_t)n > d->out_cap) {
        if (d->out_len + (size_t)n + 2048 > 1 << 20) { /* a flight is a few KiB; more means something is wrong */
            set_failed(d, "DTLS output grew beyond 1 MiB");
            (void)BIO_reset(d->wbio);
            return;
        }
        if (!array_grow(&d->out, &d->out_cap, d->out_len + (size_t)n, 1)) return;
    }
    memcpy(d->out + d->out_len, p, (size_t)n);
    d->out_len += (size_t)n;
    (void)BIO_reset(d->wbio);
}

static void check_peer(media_dtls *d) {
    X509 *peer = SSL_get1_peer_certificate(d->ssl);
    char fp[DTLS_FP_MAX];
    if (!peer) {
        set_failed(d, "no peer certificate");
        return;
    }
    fp_of(peer, fp, sizeof fp);
    X509_free(peer);
    if (d->peer_fp[0] && strcasecmp(fp, d->peer_fp) != 0) {
        set_failed(d, "the peer's certificate does not match the SDP fingerprint");
        return;
    }
    if (!SSL_get_selected_srtp_profile(d->ssl)) {
        set_failed(d, "no SRTP profile negotiated (use_srtp)");
        return;
    }
    d->state = DTLS_CONNECTED;
}

static void step(media_dtls *d) {
    if (d->state == DTLS_FAILED || d->state == DTLS_CLOSED) return;
    if (d->state == DTLS_HANDSHAKING) {
        int r = SSL_do_handshake(d->ssl);
        if (r == 1) {
            check_peer(d);
        } else {
            int e = SSL_get_error(d->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) set_failed(d, "DTLS handshake failed");
        }
    }
    if (d->state == DTLS_CONNECTED) {
        /* After the handshake only alerts and retransmitted handshake
         * messages arrive here (media is SRTP); no application data. */
        uint8_t sink[2048];
        int r = SSL_read(d->ssl, sink, sizeof sink);
        if (r <= 0 && SSL_get_error(d->ssl, r) == SSL_ERROR_ZERO_RETURN) d->state = DTLS_CLOSED;
        ERR_clear_error();
    }
    drain(d);
}

void media_dtls_recv(media_dtls *d, const uint8_t *b, size_t n) {
    if (n == 0 || n > 65535) return;
    if (BIO_write(d->rbio, b, (int)n) != (int)n) return;
    step(d);
    (void)BIO_reset(d->rbio); /* a datagram is read whole or not at all */
}

void media_dtls_kick(media_dtls *d) {
    if (d->state != DTLS_HANDSHAKING) return;
    if (SSL_in_init(d->ssl) && DTLSv1_handle_timeout(d->ssl) > 0) {
        drain(d);
        return;
    }
    step(d);
}

size_t media_dtls_take(media_dtls *d, uint8_t *out, size_t cap) {
    size_t used = 0;
    while (used < d->out_len) {
        if (d->out_len - used < 13) break;
        size_t rec = 13 + ((size_t)d->out[used + 11] << 8 | d->out[used + 12]);
        if (rec > d->out_len - used) break;
        if (used + rec > cap || (used > 0 && used + rec > DTLS_MTU)) break;
        used += rec;
    }
    if (used == 0) {
        if (d->out_len > 0 && d->out_len <= cap && d->out_len < 13) d->out_len = 0; /* garbage */
        return 0;
    }
    memcpy(out, d->out, used);
    memmove(d->out, d->out + used, d->out_len - used);
    d->out_len -= used;
    return used;
}

dtls_state media_dtls_state(const media_dtls *d) { return d->state; }
const char *media_dtls_error(const media_dtls *d) { return d->error; }

int64_t media_dtls_timeout_ms(media_dtls *d) {
    struct timeval tv;
    if (d->state != DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1) return -1;
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

bool media_dtls_keys(media_dtls *d, dtls_srtp_keys *k) {
    if (d->state != DTLS_CONNECTED) return false;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    if (!p) return false;
    memset(k, 0, sizeof *k);
    if (p->id == SRTP_AES128_CM_SHA1_80) {
        k->profile = SRTP_PROFILE_AES128_CM_SHA1_80;
        k->key_len = 16, k->salt_len = 14;
    } else if (p->id == SRTP_AEAD_AES_128_GCM) {
        k->profile = SRTP_PROFILE_AEAD_AES_128_GCM;
        k->key_len = 16, k->salt_len = 12;
    } else {
        return false;
    }
    uint8_t m[2 * (16 + 14)];
    size_t kl = k->key_len, sl = k->salt_len, total = 2 * (kl + sl);
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(d->ssl, m, total, label, sizeof label - 1, NULL, 0, 0) != 1) return false;
    /* client key | server key | client salt | server salt (RFC 5764 §4.2) */
    bool server = SSL_is_server(d->ssl);
    const uint8_t *ck = m, *sk = m + kl, *cs = m + 2 * kl, *ss = m + 2 * kl + sl;
    memcpy(k->local, server ? sk : ck, kl);
    memcpy(k->local + kl, server ? ss : cs, sl);
    memcpy(k->remote, server ? ck : sk, kl);
    memcpy(k->remote + kl, server ? cs : ss, sl);
    return true;
}
