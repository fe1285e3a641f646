/* test_stun.c - STUN against RFC 5769's test vectors, round trips of what
 * the node sends, and malformed messages refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "stun.h"

static const char PWD[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 §2.1 Sample Request */
static const uint8_t REQ[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* RFC 5769 §2.2 Sample IPv4 Response */
static const uint8_t RESP4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* RFC 5769 §2.3 Sample IPv6 Response */
static const uint8_t RESP6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

static void rfc5769_request(void **st) {
    stun_msg m;
    const char *why = NULL;
    assert_int_equal(stun_decode(REQ, sizeof REQ, &m, &why), 0);
    assert_int_equal(m.type, STUN_BINDING_REQUEST);
    assert_int_equal(m.username_len, 9);
    assert_memory_equal(m.username, "evtj:h6vY", 9);
    assert_true(m.has_priority);
    assert_int_equal(m.priority, 0x6e0001ff);
    assert_true(m.ice_controlled);
    assert_false(m.use_candidate);
    assert_true(m.has_fingerprint);
    assert_true(stun_integrity_ok(REQ, sizeof REQ, &m, PWD, strlen(PWD)));
    assert_false(stun_integrity_ok(REQ, sizeof REQ, &m, "wrong", 5));
}

static void rfc5769_responses(void **st) {
    stun_msg m;
    assert_int_equal(stun_decode(RESP4, sizeof RESP4, &m, NULL), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_true(m.has_mapped);
    assert_int_equal(m.mapped.family, 4);
    assert_int_equal(m.mapped.port, 32853);
    const uint8_t ip4[4] = {192, 0, 2, 1};
    assert_memory_equal(m.mapped.ip, ip4, 4);
    assert_true(stun_integrity_ok(RESP4, sizeof RESP4, &m, PWD, strlen(PWD)));

    assert_int_equal(stun_decode(RESP6, sizeof RESP6, &m, NULL), 0);
    assert_int_equal(m.mapped.family, 6);
    assert_int_equal(m.mapped.port, 32853);
    const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                             0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    assert_memory_equal(m.mapped.ip, ip6, 16);
    assert_true(stun_integrity_ok(RESP6, sizeof RESP6, &m, PWD, strlen(PWD)));
}

/* What the node answers decodes, verifies and maps back to the asker. */
static void success_round_trip(void **st) {
    uint8_t out[STUN_MAX];
    const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    stun_addr a = {.family = 4, .port = 50123, .ip = {127, 0, 0, 3}};
    const char *pwd = "0123456789abcdefghijklmn";
    size_t n = stun_binding_success(out, sizeof out, txid, &a, pwd, strlen(pwd));
    assert_true(n > 0);
    stun_msg m;
    assert_int_equal(stun_decode(out, n, &m, NULL), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_memory_equal(m.txid, txid, 12);
    assert_int_equal(m.mapped.port, 50123);
    assert_memory_equal(m.mapped.ip, a.ip, 4);
    assert_true(stun_integrity_ok(out, n, &m, pwd, strlen(pwd)));
    assert_int_equal(stun_binding_success(out, 40, txid, &a, pwd, strlen(pwd)), 0); /* too small */
}

static void request_round_trip(void **st) {
    uint8_t out[STUN_MAX];
    const uint8_t txid[12] = {9};
    size_t n = stun_binding_request(out, sizeof out, txid, "srv:cli", 12345, 77, true, "pw-pw-pw", 8);
    stun_msg m;
    assert_int_equal(stun_decode(out, n, &m, NULL), 0);
    assert_true(m.use_candidate && m.ice_controlling && m.tiebreaker == 77 && m.priority == 12345);
    assert_memory_equal(m.username, "srv:cli", 7);
    assert_true(stun_integrity_ok(out, n, &m, "pw-pw-pw", 8));
    n = stun_binding_error(out, sizeof out, txid, 401, "Unauthorized");
    assert_int_equal(stun_decode(out, n, &m, NULL), 0);
    assert_int_equal(m.error_code, 401);
}

static void bad_messages(void **st) {
    uint8_t b[sizeof REQ];
    stun_msg m;
    const char *why = NULL;
    memcpy(b, REQ, sizeof b);
    assert_int_equal(stun_decode(b, sizeof b - 4, &m, &why), -1); /* length mismatch */
    assert_non_null(why);
    b[sizeof b - 1] ^= 1; /* FINGERPRINT */
    assert_int_equal(stun_decode(b, sizeof b, &m, &why), -1);
    assert_string_equal(why, "FINGERPRINT mismatch");
    memcpy(b, REQ, sizeof b);
    b[22] = 0x7f; /* SOFTWARE's length overruns */
    assert_int_equal(stun_decode(b, sizeof b, &m, &why), -1);
    memcpy(b, REQ, sizeof b);
    b[4] = 0; /* magic cookie */
    assert_int_equal(stun_decode(b, sizeof b, &m, &why), -1);
    assert_false(stun_looks_like((const uint8_t *)"\x80\x60", 2)); /* RTP */
    /* A changed USERNAME breaks MESSAGE-INTEGRITY (the fingerprint is recomputed by no one). */
    memcpy(b, REQ, sizeof b);
    b[64] = 'X';
    assert_int_equal(stun_decode(b, sizeof b, &m, &why), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5769_request),    cmocka_unit_test(rfc5769_responses),
        cmocka_unit_test(success_round_trip), cmocka_unit_test(request_round_trip),
        cmocka_unit_test(bad_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
