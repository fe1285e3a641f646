/* test_wire.c - gossip wire codec: round trips and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "mp_read.h"
#include "wire.h"

static msgpack_sbuffer buf;
static msgpack_packer pk;

static void reset(void) {
    msgpack_sbuffer_clear(&buf);
}

static wire_node sample_node(void) {
    wire_node n = {.addr = {0x7f000002, 49010}, .incarnation = 7, .state = 1};
    snprintf(n.name, sizeof n.name, "node2@127.0.0.2");
    n.meta.node_type = WIRE_NODE_TEMPORARY;
    snprintf(n.meta.version, sizeof n.meta.version, "0.1.0");
    n.meta.weight = 250;
    snprintf(n.meta.url, sizeof n.meta.url, "ws://127.0.0.2:5000/signaling");
    n.meta.load = 12;
    return n;
}

static void test_packet_round_trip(void **st) {
    (void)st;
    reset();
    wire_node n = sample_node();
    wire_pack_header(&pk, "prod", 99, "node1@127.0.0.1", 7);
    wire_pack_ping(&pk, 41, "node2@127.0.0.2");
    wire_pack_ping_req(&pk, 42, "node3@127.0.0.3", (shoal_addr){0x7f000003, 49010}, true);
    wire_pack_ack(&pk, 43);
    wire_pack_nack(&pk, 44);
    wire_pack_alive(&pk, &n);
    wire_pack_suspect(&pk, "node3@127.0.0.3", 5, "node1@127.0.0.1");
    wire_pack_dead(&pk, "node4@127.0.0.4", 6, "node4@127.0.0.4");

    mp_reader r;
    wire_header h;
    uint32_t count;
    wire_msg m;
    mp_reader_init(&r, buf.data, buf.size);
    assert_true(wire_open_packet(&r, &h, &count));
    assert_int_equal(h.version, WIRE_VERSION);
    assert_string_equal(h.cluster, "prod");
    assert_int_equal(h.cluster_id, 99);
    assert_string_equal(h.sender, "node1@127.0.0.1");
    assert_int_equal(count, 7);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_PING);
    assert_int_equal(m.seq, 41);
    assert_string_equal(m.target, "node2@127.0.0.2");
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_PING_REQ);
    assert_int_equal(m.target_addr.ip, 0x7f000003);
    assert_true(m.want_nack);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_ACK);
    assert_int_equal(m.seq, 43);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_NACK);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_ALIVE);
    assert_string_equal(m.node.name, n.name);
    assert_int_equal(m.node.incarnation, 7);
    assert_int_equal(m.node.meta.weight, 250);
    assert_int_equal(m.node.meta.load, 12);
    assert_int_equal(m.node.meta.node_type, WIRE_NODE_TEMPORARY);
    assert_string_equal(m.node.meta.url, n.meta.url);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_SUSPECT);
    assert_string_equal(m.from, "node1@127.0.0.1");
    assert_int_equal(m.incarnation, 5);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_DEAD);
    assert_int_equal(mp_remaining(&r), 0);
}

static void test_pushpull_round_trip(void **st) {
    (void)st;
    reset();
    wire_node n = sample_node();
    wire_pack_header(&pk, "prod", 99, "node1@127.0.0.1", 1);
    wire_pack_pushpull(&pk, true, false, 2);
    wire_pack_state(&pk, &n);
    n.state = 3;
    wire_pack_state(&pk, &n);
    mp_reader r;
    wire_header h;
    uint32_t count, nmsgs;
    bool reply, join;
    mp_reader_init(&r, buf.data, buf.size);
    assert_true(wire_open_packet(&r, &h, &nmsgs));
    assert_true(wire_open_pushpull(&r, &reply, &join, &count));
    assert_true(reply);
    assert_false(join);
    assert_int_equal(count, 2);
    wire_node out;
    assert_true(wire_next_state(&r, &out));
    assert_int_equal(out.state, 1);
    assert_true(wire_next_state(&r, &out));
    assert_int_equal(out.state, 3);
}

/* Every truncation of a valid packet is rejected without reading past it. */
static void test_truncations_rejected(void **st) {
    (void)st;
    reset();
    wire_node n = sample_node();
    wire_pack_header(&pk, "prod", 99, "node1@127.0.0.1", 2);
    wire_pack_alive(&pk, &n);
    wire_pack_suspect(&pk, "x@1.2.3.4", 1, "y@1.2.3.5");
    for (size_t len = 0; len < buf.size; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
        memcpy(copy, buf.data, len);
        mp_reader r;
        wire_header h;
        uint32_t count;
        wire_msg m;
        mp_reader_init(&r, copy, len);
        bool ok = wire_open_packet(&r, &h, &count);
        int rc = 1;
        for (uint32_t i = 0; ok && i < count && rc == 1; i++) rc = wire_next_msg(&r, &m);
        assert_true(!ok || rc == -1);
        free(copy);
    }
}

/* An array header that claims four billion elements costs nothing. */
static void test_huge_count_rejected(void **st) {
    (void)st;
    const uint8_t evil[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    mp_reader r;
    uint32_t n;
    mp_reader_init(&r, evil, sizeof evil);
    assert_false(mp_read_array(&r, &n));
    assert_true(r.err);
    const uint8_t evil_str[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
    const char *s;
    mp_reader_init(&r, evil_str, sizeof evil_str);
    assert_false(mp_read_str(&r, &s, &n));
    /* Nesting deeper than MP_MAX_DEPTH is refused, not recursed into. */
    uint8_t deep[64];
    memset(deep, 0x91, sizeof deep);
    mp_reader_init(&r, deep, sizeof deep);
    assert_false(mp_skip(&r));
}

/* Over-long names and unknown message types. */
static void test_limits_and_unknown_types(void **st) {
    (void)st;
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    reset();
    wire_pack_header(&pk, "prod", 99, longname, 0);
    mp_reader r;
    wire_header h;
    uint32_t count;
    mp_reader_init(&r, buf.data, buf.size);
    assert_false(wire_open_packet(&r, &h, &count));

    reset();
    wire_pack_header(&pk, "prod", 99, "a@1.2.3.4", 2);
    msgpack_pack_array(&pk, 3); /* type 99 from a future version */
    msgpack_pack_uint8(&pk, 99);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "z", 1);
    msgpack_pack_array(&pk, 0);
    wire_pack_ack(&pk, 5);
    mp_reader_init(&r, buf.data, buf.size);
    assert_true(wire_open_packet(&r, &h, &count));
    wire_msg m;
    assert_int_equal(wire_next_msg(&r, &m), 0);
    assert_int_equal(wire_next_msg(&r, &m), 1);
    assert_int_equal(m.type, WIRE_ACK);
    assert_int_equal(m.seq, 5);
}

static void test_addr_parsing(void **st) {
    (void)st;
    uint32_t ip;
    assert_true(shoal_node_name_ip("node1@127.0.0.2", &ip));
    assert_int_equal(ip, 0x7f000002);
    assert_false(shoal_node_name_ip("node1", &ip));
    assert_false(shoal_node_name_ip("@127.0.0.1", &ip));
    assert_false(shoal_node_name_ip("n@127.0.0.256", &ip));
    assert_false(shoal_node_name_ip("n@127.0.0", &ip));
    assert_false(shoal_node_name_ip("n@127.0.0.1x", &ip));
    assert_false(shoal_node_name_ip("n@1234.0.0.1", &ip));
    char b[32];
    shoal_addr_format((shoal_addr){0x0a000001, 49010}, b, sizeof b);
    assert_string_equal(b, "10.0.0.1:49010");
}

int main(void) {
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_round_trip),   cmocka_unit_test(test_pushpull_round_trip),
        cmocka_unit_test(test_truncations_rejected), cmocka_unit_test(test_huge_count_rejected),
        cmocka_unit_test(test_limits_and_unknown_types), cmocka_unit_test(test_addr_parsing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}
