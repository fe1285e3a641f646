/* test_relay_handshake.c - a relay connection's HELLO/REFUSE exchange:
 * two nodes of one cluster and version open it from either side; each
 * refusal (another protocol, another cluster by name or roster, itself, a
 * node not alive in gossip, another version, a first frame that is not a
 * HELLO, silence) has its name, the acceptor tells the dialer why and the
 * dialer reports it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"

static relay_hello node(const char *name, const char *version) {
    relay_hello h = {.protocol = RELAY_PROTOCOL, .cluster_id = 0x1234abcd5678ef01ull, .boot_id = 77};
    snprintf(h.cluster, sizeof h.cluster, "shoal");
    snprintf(h.node, sizeof h.node, "%s", name);
    snprintf(h.version, sizeof h.version, "%s", version);
    return h;
}

/* Gossip's view for the check: every name but "ghost@10.0.0.9" is alive. */
static bool alive(void *ctx, const char *name) {
    (*(int *)ctx)++;
    return strcmp(name, "ghost@10.0.0.9") != 0;
}

/* Decodes a whole frame (length included) as the reader would. */
static relay_frame frame_of(const uint8_t *b, size_t n) {
    relay_frame f;
    assert_true(n > RELAY_LEN_BYTES);
    assert_int_equal(relay_frame_decode(b + RELAY_LEN_BYTES, n - RELAY_LEN_BYTES, &f), RELAY_FRAME_OK);
    return f;
}

/* Runs a dialer against an acceptor; returns the acceptor's verdict. */
static shoal_outcome connect_pair(relay_hello d, relay_hello a, relay_hs *dh, relay_hs *ah) {
    int calls = 0;
    relay_hs_init(dh, true, &d, 1000);
    relay_hs_init(ah, false, &a, 1000);
    assert_int_equal(ah->out_len, 0); /* the acceptor speaks second */
    assert_true(dh->out_len > 0);
    relay_frame f = frame_of(dh->out, dh->out_len);
    relay_hs_recv(ah, &f, alive, &calls);
    relay_hs_sent(dh);
    assert_true(ah->out_len > 0); /* a HELLO or a REFUSE, either way */
    f = frame_of(ah->out, ah->out_len);
    relay_hs_recv(dh, &f, alive, &calls);
    return ah->why;
}

static void same_cluster_and_version_open(void **state) {
    (void)state;
    relay_hs d, a;
    assert_int_equal(connect_pair(node("n1@10.0.0.1", "2026.1"), node("n2@10.0.0.2", "2026.1"), &d, &a), SHOAL_OK);
    assert_int_equal(a.state, RELAY_HS_OPEN);
    assert_int_equal(d.state, RELAY_HS_OPEN);
    assert_string_equal(a.peer.node, "n1@10.0.0.1");
    assert_string_equal(d.peer.node, "n2@10.0.0.2");
    assert_int_equal(a.peer.boot_id, 77);
    assert_int_equal(d.peer.cluster_id, 0x1234abcd5678ef01ull);
    assert_int_equal(d.out_len, 0); /* nothing more to say */
}

static void each_refusal_is_named_and_told(void **state) {
    (void)state;
    relay_hello me = node("n2@10.0.0.2", "2026.1");
    struct {
        relay_hello dialer;
        shoal_outcome want;
    } cases[7];
    int k = 0;
    cases[k].dialer = node("n1@10.0.0.1", "2026.1"), cases[k].dialer.protocol = 2,
    cases[k++].want = SHOAL_RELAY_PROTOCOL_MISMATCH;
    cases[k].dialer = node("n1@10.0.0.1", "2026.1"), snprintf(cases[k].dialer.cluster, 8, "other"),
    cases[k++].want = SHOAL_RELAY_FOREIGN_CLUSTER;
    cases[k].dialer = node("n1@10.0.0.1", "2026.1"), cases[k].dialer.cluster_id ^= 1,
    cases[k++].want = SHOAL_RELAY_FOREIGN_CLUSTER; /* same name, another formation */
    cases[k].dialer = node("n2@10.0.0.2", "2026.1"), cases[k++].want = SHOAL_RELAY_SELF;
    cases[k].dialer = node("ghost@10.0.0.9", "2026.1"), cases[k++].want = SHOAL_RELAY_NOT_A_MEMBER;
    cases[k].dialer = node("n1@10.0.0.1", "2026.2"), cases[k++].want = SHOAL_RELAY_VERSION_MISMATCH;
    for (int i = 0; i < k; i++) {
        relay_hs d, a;
        assert_int_equal(connect_pair(cases[i].dialer, me, &d, &a), cases[i].want);
        assert_int_equal(a.state, RELAY_HS_FAILED);
        assert_int_equal(d.state, RELAY_HS_FAILED);
        assert_int_equal(d.why, cases[i].want); /* the dialer learns why */
        assert_true(d.refused_by_peer);
        assert_false(a.refused_by_peer);
        assert_int_equal(d.out_len, 0);
    }
    /* a node not yet in an initialized cluster (cluster_id 0) relays with nobody */
    relay_hs d, a;
    relay_hello fresh = node("n1@10.0.0.1", "2026.1"), me0 = me;
    fresh.cluster_id = me0.cluster_id = 0;
    assert_int_equal(connect_pair(fresh, me0, &d, &a), SHOAL_RELAY_FOREIGN_CLUSTER);
    assert_string_equal(shoal_outcome_name(SHOAL_RELAY_VERSION_MISMATCH), "RELAY-VERSION-MISMATCH");
}

static void first_frame_not_a_hello(void **state) {
    (void)state;
    int calls = 0;
    relay_hello me = node("n2@10.0.0.2", "2026.1");
    uint8_t rtp[RELAY_RTP_MIN] = {0x80};
    uint8_t junk[] = {0x92, 0x09, 0x01}; /* [9, 1]: a type this node does not know */
    uint8_t refuse[RELAY_CONTROL_MAX];
    relay_control rc = {.type = RELAY_CTL_REFUSE, .refused = SHOAL_RELAY_VERSION_MISMATCH};
    size_t rn = relay_control_frame(&rc, refuse, sizeof refuse);
    relay_frame bad[] = {
        {.kind = RELAY_RTP, .channel = 1, .sender = 1, .body = rtp, .body_len = sizeof rtp},
        {.kind = RELAY_CONTROL, .body = junk, .body_len = sizeof junk},
        frame_of(refuse, rn), /* only an acceptor refuses */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        relay_hs a;
        relay_hs_init(&a, false, &me, 0);
        assert_int_equal(relay_hs_recv(&a, &bad[i], alive, &calls), RELAY_HS_FAILED);
        assert_int_equal(a.why, SHOAL_RELAY_BAD_HELLO);
    }
    /* a keepalive before the HELLO is harmless */
    relay_hs a;
    relay_hs_init(&a, false, &me, 0);
    relay_frame ka = {.kind = RELAY_KEEPALIVE};
    assert_int_equal(relay_hs_recv(&a, &ka, alive, &calls), RELAY_HS_WAIT);
}

static void silence_times_out(void **state) {
    (void)state;
    relay_hello me = node("n2@10.0.0.2", "2026.1");
    relay_hs a;
    relay_hs_init(&a, false, &me, 1000);
    assert_int_equal(relay_hs_tick(&a, 1000 + RELAY_HANDSHAKE_MS - 1), RELAY_HS_WAIT);
    assert_int_equal(relay_hs_tick(&a, 1000 + RELAY_HANDSHAKE_MS), RELAY_HS_FAILED);
    assert_int_equal(a.why, SHOAL_RELAY_HANDSHAKE_TIMEOUT);
    /* an open connection does not time out */
    relay_hs d, b;
    connect_pair(node("n1@10.0.0.1", "v"), node("n3@10.0.0.3", "v"), &d, &b);
    assert_int_equal(relay_hs_tick(&b, 1000000), RELAY_HS_OPEN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_cluster_and_version_open),
        cmocka_unit_test(each_refusal_is_named_and_told),
        cmocka_unit_test(first_frame_not_a_hello),
        cmocka_unit_test(silence_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
