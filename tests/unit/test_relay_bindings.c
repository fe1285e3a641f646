/* test_relay_bindings.c - a relay connection's handles: what the sending
 * node binds it tells the receiving node, whose copy then resolves every
 * media frame to the same channel and sender (20,000 random binds and
 * unbinds, the two tables compared after each); freed handles are reused
 * lowest first; an unbound channel takes its senders with it; messages
 * that contradict the table are refused by name; the limits hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bindings.h"
#include "frame.h"

static const uint32_t SSRC[2] = {1111, 2222};

/* The sending side's table and the receiving side's, kept in step. */
typedef struct pair {
    relay_bindings tx, rx;
} pair;

static void deliver(pair *p, const relay_control *m) {
    if (m->type == 0) return;
    /* through the wire: encode and decode, as the connection would */
    uint8_t buf[RELAY_CONTROL_MAX];
    size_t n = relay_control_frame(m, buf, sizeof buf);
    relay_frame f;
    assert_int_equal(relay_frame_decode(buf + RELAY_LEN_BYTES, n - RELAY_LEN_BYTES, &f), RELAY_FRAME_OK);
    relay_control c;
    assert_true(relay_control_decode(f.body, f.body_len, &c));
    assert_int_equal(relay_bindings_apply(&p->rx, &c), RELAY_BIND_OK);
}

static void same_tables(const pair *p) {
    assert_int_equal(p->tx.channels.n, p->rx.channels.n);
    assert_int_equal(p->tx.senders.n, p->rx.senders.n);
    for (uint32_t i = 0; i < p->tx.senders.n; i++) {
        const relay_bound_sender *s = keyed_at(&p->tx.senders, i);
        const relay_bound_sender *r = relay_bindings_sender(&p->rx, s->channel, s->sender);
        assert_non_null(r);
        assert_string_equal(r->connection_id, s->connection_id);
        assert_memory_equal(r->ssrc, s->ssrc, sizeof s->ssrc);
        assert_string_equal(relay_bindings_channel(&p->rx, s->channel)->id, relay_bindings_channel(&p->tx, s->channel)->id);
    }
}

static void bind_tell_resolve(void **state) {
    (void)state;
    static pair p;
    relay_bindings_init(&p.tx);
    relay_bindings_init(&p.rx);
    relay_control m;
    uint16_t a = relay_bindings_bind_channel(&p.tx, "room-a", &m);
    assert_int_equal(a, 1);
    assert_int_equal(m.type, RELAY_CTL_BIND_CHANNEL);
    deliver(&p, &m);
    assert_int_equal(relay_bindings_bind_channel(&p.tx, "room-a", &m), 1); /* bound already: nothing to send */
    assert_int_equal(m.type, 0);
    uint16_t b = relay_bindings_bind_channel(&p.tx, "room-b", &m);
    deliver(&p, &m);
    assert_int_equal(b, 2);
    uint16_t s1 = relay_bindings_bind_sender(&p.tx, a, "CONN-A1", SSRC, &m);
    deliver(&p, &m);
    uint16_t s2 = relay_bindings_bind_sender(&p.tx, a, "CONN-A2", SSRC, &m);
    deliver(&p, &m);
    uint16_t s3 = relay_bindings_bind_sender(&p.tx, b, "CONN-B1", SSRC, &m);
    deliver(&p, &m);
    assert_int_equal(s1, 1);
    assert_int_equal(s2, 2);
    assert_int_equal(s3, 1); /* handles are per channel */
    assert_string_equal(relay_bindings_sender(&p.rx, a, 2)->connection_id, "CONN-A2");
    assert_string_equal(relay_bindings_sender(&p.rx, b, 1)->connection_id, "CONN-B1");
    assert_null(relay_bindings_sender(&p.rx, b, 2));
    assert_int_equal(relay_bindings_find_channel(&p.rx, "room-b"), 2);
    /* the same connection twice in a channel: refused */
    assert_int_equal(relay_bindings_bind_sender(&p.tx, a, "CONN-A1", SSRC, &m), 0);
    /* a sender leaves; its handle is the lowest free again */
    assert_int_equal(relay_bindings_unbind_sender(&p.tx, a, 1, &m), RELAY_BIND_OK);
    deliver(&p, &m);
    assert_null(relay_bindings_sender(&p.rx, a, 1));
    assert_int_equal(relay_bindings_bind_sender(&p.tx, a, "CONN-A3", SSRC, &m), 1);
    deliver(&p, &m);
    /* a channel goes with its senders; room-b is untouched */
    assert_int_equal(relay_bindings_unbind_channel(&p.tx, a, &m), RELAY_BIND_OK);
    deliver(&p, &m);
    assert_null(relay_bindings_sender(&p.rx, a, 1));
    assert_null(relay_bindings_sender(&p.rx, a, 2));
    assert_null(relay_bindings_channel(&p.rx, a));
    assert_int_equal(relay_bindings_find_channel(&p.rx, "room-a"), 0);
    assert_non_null(relay_bindings_sender(&p.rx, b, 1));
    same_tables(&p);
    assert_int_equal(relay_bindings_bind_channel(&p.tx, "room-c", &m), 1); /* the lowest free */
    relay_bindings_free(&p.tx);
    relay_bindings_free(&p.rx);
}

static void contradictions_are_named(void **state) {
    (void)state;
    static relay_bindings rx;
    relay_bindings_init(&rx);
    relay_control ch = {.type = RELAY_CTL_BIND_CHANNEL, .channel = 5, .channel_id = "room"};
    assert_int_equal(relay_bindings_apply(&rx, &ch), RELAY_BIND_OK);
    assert_int_equal(relay_bindings_apply(&rx, &ch), RELAY_BIND_HANDLE_IN_USE);
    relay_control again = {.type = RELAY_CTL_BIND_CHANNEL, .channel = 6, .channel_id = "room"};
    assert_int_equal(relay_bindings_apply(&rx, &again), RELAY_BIND_ID_IN_USE);
    relay_control s = {.type = RELAY_CTL_BIND_SENDER, .channel = 7, .sender = 1, .connection_id = "C"};
    assert_int_equal(relay_bindings_apply(&rx, &s), RELAY_BIND_NO_SUCH_CHANNEL);
    s.channel = 5;
    assert_int_equal(relay_bindings_apply(&rx, &s), RELAY_BIND_OK);
    assert_int_equal(relay_bindings_apply(&rx, &s), RELAY_BIND_HANDLE_IN_USE);
    s.sender = 2;
    assert_int_equal(relay_bindings_apply(&rx, &s), RELAY_BIND_ID_IN_USE);
    relay_control us = {.type = RELAY_CTL_UNBIND_SENDER, .channel = 5, .sender = 9};
    assert_int_equal(relay_bindings_apply(&rx, &us), RELAY_BIND_NO_SUCH_SENDER);
    us.channel = 8;
    assert_int_equal(relay_bindings_apply(&rx, &us), RELAY_BIND_NO_SUCH_CHANNEL);
    relay_control uc = {.type = RELAY_CTL_UNBIND_CHANNEL, .channel = 8};
    assert_int_equal(relay_bindings_apply(&rx, &uc), RELAY_BIND_NO_SUCH_CHANNEL);
    relay_control hello = {.type = RELAY_CTL_HELLO};
    assert_int_equal(relay_bindings_apply(&rx, &hello), RELAY_BIND_NOT_A_BINDING);
    assert_string_equal(relay_bind_error_name(RELAY_BIND_ID_IN_USE), "id-in-use");
    relay_bindings_free(&rx);
}

static void limits(void **state) {
    (void)state;
    static relay_bindings tx;
    relay_bindings_init(&tx);
    relay_control m;
    char id[32];
    for (int i = 0; i < RELAY_BIND_CHANNELS_MAX; i++) {
        snprintf(id, sizeof id, "room-%d", i);
        assert_int_equal(relay_bindings_bind_channel(&tx, id, &m), i + 1);
    }
    assert_int_equal(relay_bindings_bind_channel(&tx, "one-more", &m), 0);
    assert_int_equal(relay_bindings_bind_channel(&tx, "", &m), 0);
    relay_bindings_free(&tx);
}

/* Random joins and leaves on the sending side, every message delivered. */
static void random_history_stays_in_step(void **state) {
    (void)state;
    static pair p;
    relay_bindings_init(&p.tx);
    relay_bindings_init(&p.rx);
    uint64_t x = 42;
    char id[40];
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        relay_control m;
        int op = (int)(x % 10);
        snprintf(id, sizeof id, "room-%u", (unsigned)(x >> 8) % 40);
        uint16_t ch = relay_bindings_find_channel(&p.tx, id);
        if (op < 2) {
            relay_bindings_bind_channel(&p.tx, id, &m);
            deliver(&p, &m);
        } else if (op < 7 && ch) {
            char conn[40];
            snprintf(conn, sizeof conn, "CONN-%u", (unsigned)(x >> 20) % 50);
            relay_bindings_bind_sender(&p.tx, ch, conn, SSRC, &m); /* 0 when bound already */
            deliver(&p, &m);
        } else if (op < 9 && ch && p.tx.senders.n) {
            const relay_bound_sender *s = keyed_at(&p.tx.senders, (uint32_t)(x >> 33) % p.tx.senders.n);
            assert_int_equal(relay_bindings_unbind_sender(&p.tx, s->channel, s->sender, &m), RELAY_BIND_OK);
            deliver(&p, &m);
        } else if (ch) {
            assert_int_equal(relay_bindings_unbind_channel(&p.tx, ch, &m), RELAY_BIND_OK);
            deliver(&p, &m);
        }
        same_tables(&p);
    }
    relay_bindings_free(&p.tx);
    relay_bindings_free(&p.rx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bind_tell_resolve),
        cmocka_unit_test(contradictions_are_named),
        cmocka_unit_test(limits),
        cmocka_unit_test(random_history_stays_in_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
