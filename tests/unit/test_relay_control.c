/* test_relay_control.c - the relay's control messages: each type
 * round-trips; every truncation, a byte too many, a handle of 0 or past
 * 65535, an empty channel id, an over-long name and an unknown type are
 * refused; items a later version appends are skipped; a refusal whose
 * reason is unknown here is still a refusal; the largest HELLO fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"
#include "frame.h"

/* c encoded, then its body decoded again. */
static relay_control round_trip(const relay_control *c, uint8_t *buf, size_t *body_len) {
    size_t n = relay_control_frame(c, buf, RELAY_CONTROL_MAX);
    assert_true(n > RELAY_LEN_BYTES + RELAY_HDR_LEN);
    relay_frame f;
    assert_int_equal(relay_frame_decode(buf + RELAY_LEN_BYTES, n - RELAY_LEN_BYTES, &f), RELAY_FRAME_OK);
    assert_int_equal(f.kind, RELAY_CONTROL);
    relay_control out;
    assert_true(relay_control_decode(f.body, f.body_len, &out));
    *body_len = f.body_len;
    return out;
}

static relay_control examples[6];

static void make_examples(void) {
    memset(examples, 0, sizeof examples);
    examples[0] = (relay_control){.type = RELAY_CTL_HELLO,
                                  .hello = {.protocol = 1, .cluster = "shoal", .cluster_id = 0xfedcba9876543210ull,
                                            .node = "n1@10.0.0.1", .boot_id = 4000000000u, .version = "2026.1"}};
    examples[1] = (relay_control){.type = RELAY_CTL_REFUSE, .refused = SHOAL_RELAY_NOT_A_MEMBER};
    examples[2] = (relay_control){.type = RELAY_CTL_BIND_CHANNEL, .channel = 65535, .channel_id = "sora@room/1"};
    examples[3] = (relay_control){.type = RELAY_CTL_BIND_SENDER, .channel = 3, .sender = 1,
                                  .connection_id = "0123456789ABCDEFGHJKMNPQRS", .ssrc = {0, 0xffffffffu}};
    examples[4] = (relay_control){.type = RELAY_CTL_UNBIND_SENDER, .channel = 3, .sender = 9};
    examples[5] = (relay_control){.type = RELAY_CTL_UNBIND_CHANNEL, .channel = 3};
}

static void every_type_round_trips(void **state) {
    (void)state;
    make_examples();
    uint8_t buf[RELAY_CONTROL_MAX];
    size_t bl;
    relay_control c = round_trip(&examples[0], buf, &bl);
    assert_int_equal(c.type, RELAY_CTL_HELLO);
    assert_int_equal(c.hello.cluster_id, 0xfedcba9876543210ull);
    assert_int_equal(c.hello.boot_id, 4000000000u);
    assert_string_equal(c.hello.node, "n1@10.0.0.1");
    assert_string_equal(c.hello.version, "2026.1");
    c = round_trip(&examples[1], buf, &bl);
    assert_int_equal(c.refused, SHOAL_RELAY_NOT_A_MEMBER);
    c = round_trip(&examples[2], buf, &bl);
    assert_int_equal(c.channel, 65535);
    assert_string_equal(c.channel_id, "sora@room/1");
    c = round_trip(&examples[3], buf, &bl);
    assert_int_equal(c.sender, 1);
    assert_string_equal(c.connection_id, "0123456789ABCDEFGHJKMNPQRS");
    assert_int_equal(c.ssrc[0], 0);
    assert_int_equal(c.ssrc[1], 0xffffffffu);
    c = round_trip(&examples[4], buf, &bl);
    assert_int_equal(c.type, RELAY_CTL_UNBIND_SENDER);
    assert_int_equal(c.sender, 9);
    c = round_trip(&examples[5], buf, &bl);
    assert_int_equal(c.type, RELAY_CTL_UNBIND_CHANNEL);
    assert_int_equal(c.channel, 3);
}

static void every_truncation_and_a_byte_too_many(void **state) {
    (void)state;
    make_examples();
    for (size_t i = 0; i < 6; i++) {
        uint8_t buf[RELAY_CONTROL_MAX + 1];
        size_t bl;
        round_trip(&examples[i], buf, &bl);
        const uint8_t *body = buf + RELAY_LEN_BYTES + RELAY_HDR_LEN;
        relay_control c;
        for (size_t len = 0; len < bl; len++) assert_false(relay_control_decode(body, len, &c));
        uint8_t longer[RELAY_CONTROL_MAX + 1];
        memcpy(longer, body, bl);
        longer[bl] = 0xc0; /* nil, outside the array */
        assert_false(relay_control_decode(longer, bl + 1, &c));
    }
}

static void bad_values(void **state) {
    (void)state;
    relay_control c;
    /* handles: 0, 65536 */
    uint8_t zero_handle[] = {0x93, 0x03, 0x00, 0xa1, 'r'};
    assert_false(relay_control_decode(zero_handle, sizeof zero_handle, &c));
    uint8_t big_handle[] = {0x93, 0x03, 0xce, 0x00, 0x01, 0x00, 0x00, 0xa1, 'r'};
    assert_false(relay_control_decode(big_handle, sizeof big_handle, &c));
    uint8_t ok_handle[] = {0x93, 0x03, 0xcd, 0xff, 0xff, 0xa1, 'r'};
    assert_true(relay_control_decode(ok_handle, sizeof ok_handle, &c));
    /* an empty channel id */
    uint8_t empty_id[] = {0x93, 0x03, 0x01, 0xa0};
    assert_false(relay_control_decode(empty_id, sizeof empty_id, &c));
    /* a sender of 0 */
    uint8_t zero_sender[] = {0x93, 0x05, 0x01, 0x00};
    assert_false(relay_control_decode(zero_sender, sizeof zero_sender, &c));
    /* unknown types, a type that is not a number, too few items */
    uint8_t t0[] = {0x91, 0x00}, t7[] = {0x92, 0x07, 0x01}, tstr[] = {0x92, 0xa1, 'x', 0x01}, few[] = {0x92, 0x04, 0x01};
    assert_false(relay_control_decode(t0, sizeof t0, &c));
    assert_false(relay_control_decode(t7, sizeof t7, &c));
    assert_false(relay_control_decode(tstr, sizeof tstr, &c));
    assert_false(relay_control_decode(few, sizeof few, &c));
    /* a connection id longer than RELAY_CONNECTION_ID_MAX */
    uint8_t long_id[80] = {0x96, 0x04, 0x01, 0x01, 0xd9, 70};
    memset(long_id + 6, 'A', 70);
    long_id[76] = 0x00, long_id[77] = 0x00;
    assert_false(relay_control_decode(long_id, 78, &c));
    /* items a later version appends are skipped */
    uint8_t more[] = {0x94, 0x06, 0x02, 0xa3, 'n', 'e', 'w', 0x81, 0x01, 0x02};
    assert_true(relay_control_decode(more, sizeof more, &c));
    assert_int_equal(c.type, RELAY_CTL_UNBIND_CHANNEL);
    assert_int_equal(c.channel, 2);
    /* a refusal whose reason this node does not know is still a refusal */
    uint8_t unknown[] = {0x92, 0x02, 0xa3, 'F', 'O', 'O'};
    assert_true(relay_control_decode(unknown, sizeof unknown, &c));
    assert_int_equal(c.refused, SHOAL_RELAY_REFUSED);
    uint8_t ok_reason[] = {0x92, 0x02, 0xa2, 'O', 'K'}; /* "OK" is no refusal reason */
    assert_true(relay_control_decode(ok_reason, sizeof ok_reason, &c));
    assert_int_equal(c.refused, SHOAL_RELAY_REFUSED);
}

static void the_largest_messages_fit(void **state) {
    (void)state;
    relay_control h = {.type = RELAY_CTL_HELLO, .hello = {.protocol = UINT32_MAX, .cluster_id = UINT64_MAX, .boot_id = UINT32_MAX}};
    memset(h.hello.cluster, 'c', WIRE_CLUSTER_MAX);
    memset(h.hello.node, 'n', WIRE_NAME_MAX);
    memset(h.hello.version, 'v', WIRE_VERSION_STR_MAX);
    uint8_t buf[RELAY_CONTROL_MAX];
    size_t bl;
    relay_control c = round_trip(&h, buf, &bl);
    assert_int_equal(strlen(c.hello.node), WIRE_NAME_MAX);
    relay_control b = {.type = RELAY_CTL_BIND_CHANNEL, .channel = 1};
    memset(b.channel_id, 'x', RELAY_CHANNEL_MAX);
    c = round_trip(&b, buf, &bl);
    assert_int_equal(strlen(c.channel_id), RELAY_CHANNEL_MAX);
    assert_int_equal(relay_control_frame(&b, buf, 100), 0); /* too small a buffer: nothing */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_round_trips),
        cmocka_unit_test(every_truncation_and_a_byte_too_many),
        cmocka_unit_test(bad_values),
        cmocka_unit_test(the_largest_messages_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
