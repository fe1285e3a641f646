/* test_dtls.c - a DTLS-SRTP handshake between the node's server side and
 * the load client's side, in memory: both export the same keys, SRTP
 * protects on one side and unprotects on the other, a wrong fingerprint
 * fails the handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dtls.h"
#include "fixture.h"
#include "srtp_session.h"

static void pump(media_dtls *a, media_dtls *b) {
    uint8_t buf[2048];
    for (int round = 0; round < 20; round++) {
        size_t n;
        bool moved = false;
        while ((n = media_dtls_take(a, buf, sizeof buf)) > 0) {
            assert_true(n <= DTLS_MTU || n < 1500);
            media_dtls_recv(b, buf, n);
            moved = true;
        }
        while ((n = media_dtls_take(b, buf, sizeof buf)) > 0) {
            media_dtls_recv(a, buf, n);
            moved = true;
        }
        if (!moved) break;
    }
}

static void handshake_and_srtp(void **st) {
    char err[200];
    media_dtls_ctx *sc = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    media_dtls_ctx *cc = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    assert_non_null(sc);
    assert_non_null(cc);
    assert_int_equal(strlen(media_dtls_ctx_fingerprint(sc)), 95);
    media_dtls *srv = media_dtls_new(sc, true, media_dtls_ctx_fingerprint(cc));
    media_dtls *cli = media_dtls_new(cc, false, media_dtls_ctx_fingerprint(sc));
    media_dtls_kick(cli); /* ClientHello */
    pump(cli, srv);
    assert_int_equal(media_dtls_state(srv), DTLS_CONNECTED);
    assert_int_equal(media_dtls_state(cli), DTLS_CONNECTED);
    dtls_srtp_keys ks, kc;
    assert_true(media_dtls_keys(srv, &ks));
    assert_true(media_dtls_keys(cli, &kc));
    assert_int_equal(ks.profile, SRTP_PROFILE_AEAD_AES_128_GCM);
    assert_memory_equal(ks.local, kc.remote, ks.key_len + ks.salt_len);
    assert_memory_equal(ks.remote, kc.local, ks.key_len + ks.salt_len);

    assert_true(srtp_session_library_init());
    srtp_session *a = srtp_session_new(&kc), *b = srtp_session_new(&ks);
    uint8_t pkt[200 + SRTP_TRAILER_MAX] = {0x80, 96, 0, 1, 0, 0, 0, 9, 0x11, 0x22, 0x33, 0x44};
    memset(pkt + 12, 0xab, 100);
    size_t len = 112;
    assert_int_equal(srtp_session_protect(a, pkt, &len), 0);
    assert_true(len > 112);
    assert_int_equal(srtp_session_unprotect(b, pkt, &len), 0);
    assert_int_equal(len, 112);
    assert_int_equal(pkt[20], 0xab);
    pkt[30] ^= 1; /* tampered: refused */
    size_t len2 = 112;
    assert_int_equal(srtp_session_protect(a, pkt, &len2), 0);
    pkt[30] ^= 1;
    assert_int_not_equal(srtp_session_unprotect(b, pkt, &len2), 0);
    srtp_session_free(a);
    srtp_session_free(b);
    media_dtls_free(srv);
    media_dtls_free(cli);
    media_dtls_ctx_free(sc);
    media_dtls_ctx_free(cc);
}

static void wrong_fingerprint(void **st) {
    char err[200];
    media_dtls_ctx *sc = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    media_dtls_ctx *cc = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    media_dtls *srv = media_dtls_new(sc, true, media_dtls_ctx_fingerprint(sc)); /* not the client's */
    media_dtls *cli = media_dtls_new(cc, false, NULL);
    media_dtls_kick(cli);
    pump(cli, srv);
    assert_int_equal(media_dtls_state(srv), DTLS_FAILED);
    assert_non_null(strstr(media_dtls_error(srv), "fingerprint"));
    /* garbage never crashes and never connects */
    media_dtls *g = media_dtls_new(sc, true, NULL);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 7 + 22);
    media_dtls_recv(g, junk, sizeof junk);
    assert_int_not_equal(media_dtls_state(g), DTLS_CONNECTED);
    media_dtls_free(g);
    media_dtls_free(srv);
    media_dtls_free(cli);
    media_dtls_ctx_free(sc);
    media_dtls_ctx_free(cc);
}

/* The certificate comes as PEM bytes (the node reads dtls_cert_file and
 * dtls_key_file itself): its fingerprint is the one the SDP offers; bytes
 * that are not PEM are refused with a reason. */
static void certificate_from_pem_bytes(void **st) {
    (void)st;
    size_t clen, klen;
    char *cert = fixture_read("dtls/cert.pem", &clen), *key = fixture_read("dtls/key.pem", &klen);
    char err[200];
    media_dtls_identity id = {.cert_pem = cert, .cert_len = clen, .key_pem = key, .key_len = klen};
    media_dtls_ctx *c = media_dtls_ctx_new(&id, err, sizeof err);
    assert_non_null(c);
    /* openssl x509 -in tests/fixtures/dtls/cert.pem -noout -fingerprint -sha256 */
    assert_string_equal(media_dtls_ctx_fingerprint(c), "FE:A5:FA:91:C0:38:E4:2C:60:AB:36:20:34:CD:BD:14:24:57:24:80:"
                                                       "BD:BB:13:CD:BA:CD:6E:7C:39:42:3B:4A");
    media_dtls_ctx_free(c);
    id.key_pem = "not a key";
    id.key_len = 9;
    assert_null(media_dtls_ctx_new(&id, err, sizeof err));
    assert_non_null(strstr(err, "key is not PEM"));
    free(cert);
    free(key);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_and_srtp),
        cmocka_unit_test(wrong_fingerprint),
        cmocka_unit_test(certificate_from_pem_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
