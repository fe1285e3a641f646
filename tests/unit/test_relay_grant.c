/* test_relay_grant.c - a leg's grant from the channel's holder: given only
 * while the holder serves with a valid claim, bounded by what is left of
 * it; kept without a gap by renewals; ended at once by WITHDRAW or DENY;
 * answers from another node, to forgotten requests or overtaken ones
 * ignored; and, over 200,000 random clock rates (within the drift), delays
 * and claim ends, a leg's grant never outlives the holder's claim in real
 * time. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grant.h"

#define HOLDER "h@10.0.0.1"
#define LEG "l@10.0.0.2"

/* What the holder receives: the request with the leg as peer. */
static relay_grant_msg arrived(relay_grant_msg m, const char *from) {
    snprintf(m.peer, sizeof m.peer, "%s", from);
    return m;
}

/* The same, where a call wants a pointer. */
static relay_grant_msg slot;
static const relay_grant_msg *from_(relay_grant_msg m, const char *from) {
    slot = arrived(m, from);
    return &slot;
}

static void given_and_renewed_without_a_gap(void **state) {
    (void)state;
    static relay_grantor g;
    relay_grantor_init(&g);
    relay_grantee e;
    relay_grantee_init(&e, "room", HOLDER, 0);
    assert_false(relay_grantee_valid(&e, 0));
    relay_grant_msg req, reply;
    bool started = false;
    for (int64_t now = 0; now < 10000; now += 10) {
        relay_grantor_tick(&g, now);
        if (relay_grantee_tick(&e, now, true, &req)) {
            assert_string_equal(req.peer, HOLDER);
            /* 20 ms each way; the claim is renewed, always 2.5 s ahead */
            relay_grantor_request(&g, now + 20, from_(req, LEG), now + 2520, true, &reply);
            assert_int_equal(reply.type, RELAY_GRANT_GIVE);
            assert_int_equal(reply.ms, RELAY_GRANT_MS);
            relay_grantee_recv(&e, now + 40, from_(reply, HOLDER));
            started = true;
        }
        if (started && now >= 40) assert_true(relay_grantee_valid(&e, now));
    }
    const char *legs[4];
    assert_int_equal(relay_grantor_legs(&g, 10000, "room", legs, 4), 1);
    assert_string_equal(legs[0], LEG);
    assert_int_equal(relay_grantor_legs(&g, 10000, "other", legs, 4), 0);
    /* the leg stops wanting: no more requests, the grant runs out */
    assert_false(relay_grantee_tick(&e, 10000, false, &req));
    assert_false(relay_grantee_valid(&e, 10000 + RELAY_GRANT_MS));
    relay_grantor_tick(&g, 10000 + RELAY_GRANT_MS + 100);
    assert_int_equal(relay_grantor_legs(&g, 10000, "room", legs, 4), 0);
    relay_grantor_free(&g);
}

static void bounded_by_the_claim_and_denied_without_one(void **state) {
    (void)state;
    static relay_grantor g;
    relay_grantor_init(&g);
    relay_grantee e;
    relay_grantee_init(&e, "room", HOLDER, 1000);
    relay_grant_msg req, reply;
    assert_true(relay_grantee_tick(&e, 1000, true, &req));
    relay_grantor_request(&g, 1000, from_(req, LEG), 1700, true, &reply);
    assert_int_equal(reply.type, RELAY_GRANT_GIVE);
    assert_int_equal(reply.ms, 700 - RELAY_GRANT_MARGIN_MS); /* what is left of the claim */
    relay_grantee_recv(&e, 1010, from_(reply, HOLDER));
    assert_true(relay_grantee_valid(&e, 1500));
    assert_false(relay_grantee_valid(&e, 1000 + 650)); /* shrunk by the drift */
    /* no valid claim (claim_until == now), or not serving: DENY, ends at once */
    assert_true(relay_grantee_tick(&e, 1500, true, &req));
    relay_grantor_request(&g, 1500, from_(req, LEG), 1500, true, &reply);
    assert_int_equal(reply.type, RELAY_GRANT_DENY);
    assert_int_equal(reply.why, SHOAL_CLAIM_LOST);
    relay_grantee_recv(&e, 1510, from_(reply, HOLDER));
    assert_false(relay_grantee_valid(&e, 1510));
    assert_int_equal(e.denied, SHOAL_CLAIM_LOST);
    assert_true(relay_grantee_tick(&e, 2000, true, &req));
    relay_grantor_request(&g, 2000, from_(req, LEG), 9000, false, &reply);
    assert_int_equal(reply.why, SHOAL_NOT_SERVING);
    /* a claim ending within the margin gives nothing either */
    relay_grantor_request(&g, 2000, from_(req, LEG), 2000 + RELAY_GRANT_MARGIN_MS, true, &reply);
    assert_int_equal(reply.type, RELAY_GRANT_DENY);
    relay_grantor_free(&g);
}

static void withdrawn_at_once_per_channel(void **state) {
    (void)state;
    static relay_grantor g;
    relay_grantor_init(&g);
    relay_grantee a, b, c;
    relay_grantee_init(&a, "room", HOLDER, 0);
    relay_grantee_init(&b, "room", HOLDER, 0);
    relay_grantee_init(&c, "hall", HOLDER, 0);
    relay_grantee *legs[] = {&a, &b, &c};
    const char *names[] = {"a@10.0.0.3", "b@10.0.0.4", "a@10.0.0.3"};
    for (int i = 0; i < 3; i++) {
        relay_grant_msg req, reply;
        assert_true(relay_grantee_tick(legs[i], 0, true, &req));
        relay_grantor_request(&g, 0, from_(req, names[i]), 5000, true, &reply);
        relay_grantee_recv(legs[i], 0, from_(reply, HOLDER));
        assert_true(relay_grantee_valid(legs[i], 100));
    }
    relay_grant_msg out[4];
    uint32_t n = relay_grantor_withdraw(&g, 100, "room", out, 4); /* room's claim lapsed */
    assert_int_equal(n, 2);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(out[i].type, RELAY_GRANT_WITHDRAW);
        assert_string_equal(out[i].channel, "room");
        relay_grantee *to = strcmp(out[i].peer, "a@10.0.0.3") == 0 ? &a : &b;
        relay_grantee_recv(to, 110, from_(out[i], HOLDER));
    }
    assert_false(relay_grantee_valid(&a, 110));
    assert_false(relay_grantee_valid(&b, 110));
    assert_true(relay_grantee_valid(&c, 110)); /* another channel, untouched */
    const char *l[4];
    assert_int_equal(relay_grantor_legs(&g, 110, "hall", l, 4), 1);
    assert_int_equal(relay_grantor_withdraw(&g, 110, NULL, out, 4), 1); /* this node stops serving */
    relay_grantor_free(&g);
}

static void stray_answers_are_ignored(void **state) {
    (void)state;
    relay_grantee e;
    relay_grantee_init(&e, "room", HOLDER, 0);
    relay_grant_msg r1, r2;
    assert_true(relay_grantee_tick(&e, 0, true, &r1));
    assert_false(relay_grantee_tick(&e, 100, true, &r2)); /* not due yet */
    assert_true(relay_grantee_tick(&e, RELAY_GRANT_RENEW_MS, true, &r2));
    relay_grant_msg give = {.type = RELAY_GRANT_GIVE, .channel = "room", .peer = "other@10.0.0.9", .req = r2.req,
                            .ms = 2000};
    relay_grantee_recv(&e, 600, &give); /* from a node that is not the holder */
    assert_false(relay_grantee_valid(&e, 600));
    snprintf(give.peer, sizeof give.peer, HOLDER);
    give.req = 77; /* a request it never sent */
    relay_grantee_recv(&e, 600, &give);
    assert_false(relay_grantee_valid(&e, 600));
    give.req = r2.req;
    relay_grantee_recv(&e, 600, &give);
    assert_true(relay_grantee_valid(&e, 600));
    /* the DENY of the older request, overtaken on the way, ends nothing */
    relay_grant_msg deny = {.type = RELAY_GRANT_DENY, .channel = "room", .peer = HOLDER, .req = r1.req,
                            .why = SHOAL_CLAIM_LOST};
    relay_grantee_recv(&e, 610, &deny);
    assert_true(relay_grantee_valid(&e, 610));
    /* a request forgotten (RELAY_GRANT_ASKED newer ones since) */
    uint32_t old = r2.req;
    for (int i = 0; i < RELAY_GRANT_ASKED; i++) assert_true(relay_grantee_tick(&e, 1000 + i * 1000, true, &r1));
    give.req = old;
    int64_t before = e.valid_until;
    relay_grantee_recv(&e, 9000, &give);
    assert_int_equal(e.valid_until, before);
}

/* Real time t; a clock runs at rate r from offset o: floor(o + r t). */
static int64_t clock_at(double o, double r, double t) { return (int64_t)floor(o + r * t); }

static void never_outlives_the_claim(void **state) {
    (void)state;
    static relay_grantor g;
    relay_grantor_init(&g);
    uint64_t x = 7;
    double lo = 1.0 / (1.0 + RELAY_GRANT_DRIFT), hi = 1.0 + RELAY_GRANT_DRIFT;
    int given = 0;
    for (int trial = 0; trial < 200000; trial++) {
        double u[6];
        for (int k = 0; k < 6; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            u[k] = (double)(x >> 11) / 9007199254740992.0;
        }
        double rh = lo + (hi - lo) * u[0], rl = lo + (hi - lo) * u[1];
        double oh = 1e6 * u[2], ol = 1e6 * u[3];
        double ts = 1000.0 + 1000.0 * u[4];                 /* real time the leg asks */
        double th = ts + 300.0 * u[5];                      /* the holder receives it up to 300 ms later */
        double t_claim = th + 3000.0 * u[(trial % 4) + 1];  /* the claim ends (real time) */
        int64_t claim_until = clock_at(oh, rh, t_claim);    /* in the holder's clock */
        relay_grantee e;
        relay_grantee_init(&e, "room", HOLDER, clock_at(ol, rl, 0));
        relay_grant_msg req, reply;
        assert_true(relay_grantee_tick(&e, clock_at(ol, rl, ts), true, &req));
        relay_grantor_request(&g, clock_at(oh, rh, th), from_(req, LEG), claim_until, true, &reply);
        if (reply.type != RELAY_GRANT_GIVE) continue;
        given++;
        relay_grantee_recv(&e, clock_at(ol, rl, th + 10), from_(reply, HOLDER));
        /* the last real instant the leg still counts itself granted */
        double t_end = ((double)e.valid_until - ol) / rl;
        assert_true(t_end <= t_claim);
        relay_grantor_tick(&g, INT64_MAX / 2);
    }
    assert_true(given > 100000);
    relay_grantor_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_and_renewed_without_a_gap),
        cmocka_unit_test(bounded_by_the_claim_and_denied_without_one),
        cmocka_unit_test(withdrawn_at_once_per_channel),
        cmocka_unit_test(stray_answers_are_ignored),
        cmocka_unit_test(never_outlives_the_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
