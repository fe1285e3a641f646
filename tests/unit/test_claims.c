/* test_claims.c - channel claims on three members (a, b, c) with real
 * lease cores, messages passed by hand: a majority records the first
 * claimant; a second claimant is refused while the holder's lease is
 * answered; once the holder is cut off past the fence the channel moves,
 * and the old holder's claim is no longer valid at that moment; a member
 * that restarted no longer counts; a released channel is free at once; the
 * instant a claim would end with no answer any more is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "claims.h"
#include "lease.h"

#define N 3
static const char *NAMES[N] = {"a@10.0.0.1", "b@10.0.0.2", "c@10.0.0.3"};

typedef struct world {
    lease *l[N];
    claims *c[N];
    raft_roster ro;
    bool cut[N];        /* node i hears nobody and nobody hears it */
    int64_t now;
} world;

static int idx(const char *name) {
    for (int i = 0; i < N; i++)
        if (strcmp(NAMES[i], name) == 0) return i;
    return -1;
}

static void make_node(world *w, int i, uint32_t boot) {
    lease_config lc;
    lease_config_default(&lc);
    snprintf(lc.node_name, sizeof lc.node_name, "%s", NAMES[i]);
    snprintf(lc.cluster_name, sizeof lc.cluster_name, "t");
    lc.boot_id = boot;
    w->l[i] = lease_new(&lc, w->now);
    lease_set_roster(w->l[i], &w->ro);
    claims_config cc;
    claims_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, "%s", NAMES[i]);
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "t");
    w->c[i] = claims_new(&cc);
}

static void setup(world *w) {
    memset(w, 0, sizeof *w);
    w->now = 1000;
    w->ro.cluster_id = 1;
    w->ro.n = N;
    for (int i = 0; i < N; i++) snprintf(w->ro.names[i], sizeof w->ro.names[i], "%s", NAMES[i]);
    for (int i = 0; i < N; i++) make_node(w, i, 100 + (uint32_t)i);
}

static void teardown(world *w) {
    for (int i = 0; i < N; i++) {
        lease_free(w->l[i]);
        claims_free(w->c[i]);
    }
}

/* Delivers every queued datagram (lease and claims) until quiet. */
static void pump(world *w) {
    for (int round = 0; round < 20; round++) {
        bool any = false;
        for (int i = 0; i < N; i++) {
            uint32_t n;
            outbox taken = {0}; /* taken out first: an answer queues more */
            outbox_move(&taken, lease_outbox(w->l[i]));
            const core_out *lo = outbox_items(&taken, &n);
            for (uint32_t j = 0; j < n; j++) {
                int to = idx(lo[j].to);
                any = true;
                if (to >= 0 && !w->cut[i] && !w->cut[to]) lease_recv(w->l[to], w->now, lo[j].data, lo[j].len);
            }
            outbox_free(&taken);
            const core_out *co = outbox_items(claims_outbox(w->c[i]), &n);
            for (uint32_t j = 0; j < n; j++) {
                int to = idx(co[j].to);
                any = true;
                if (to >= 0 && !w->cut[i] && !w->cut[to])
                    claims_recv(w->c[to], w->now, w->l[to], &w->ro, co[j].data, co[j].len);
            }
            outbox_clear(claims_outbox(w->c[i]));
        }
        if (!any) return;
    }
}

/* Time passes in 100 ms steps, with lease renewals and claim refreshes. */
static void run(world *w, int64_t ms) {
    for (int64_t t = 0; t < ms; t += 100) {
        w->now += 100;
        for (int i = 0; i < N; i++) {
            lease_tick(w->l[i], w->now);
            claims_tick(w->c[i], w->now, w->l[i], &w->ro);
        }
        pump(w);
    }
}

static bool valid(world *w, int i) { return claims_valid(w->c[i], w->now, w->l[i], &w->ro, "room"); }

static claims_event_type last_event(world *w, int i, char *holder) {
    uint32_t n;
    const claims_event *e = claims_events(w->c[i], &n);
    assert_true(n > 0);
    claims_event_type t = e[n - 1].type;
    if (holder) snprintf(holder, WIRE_NAME_MAX + 1, "%s", e[n - 1].holder);
    claims_events_clear(w->c[i]);
    return t;
}

static void first_claim_wins_second_is_refused(void **state) {
    (void)state;
    world w;
    setup(&w);
    run(&w, 1000); /* leases established */
    claims_acquire(w.c[0], w.now, w.l[0], &w.ro, "room");
    pump(&w);
    assert_int_equal(last_event(&w, 0, NULL), CLAIMS_EV_HELD);
    assert_true(valid(&w, 0));
    claims_acquire(w.c[1], w.now, w.l[1], &w.ro, "room");
    pump(&w);
    char holder[WIRE_NAME_MAX + 1];
    assert_int_equal(last_event(&w, 1, holder), CLAIMS_EV_REFUSED);
    assert_string_equal(holder, NAMES[0]);
    assert_false(valid(&w, 1));
    run(&w, 10000); /* refreshed: still valid, still a's */
    assert_true(valid(&w, 0));
    assert_string_equal(claims_recorded(w.c[2], "room"), NAMES[0]);
    teardown(&w);
}

static void moves_only_after_the_fence(void **state) {
    (void)state;
    world w;
    setup(&w);
    run(&w, 1000);
    claims_acquire(w.c[0], w.now, w.l[0], &w.ro, "room");
    pump(&w);
    claims_events_clear(w.c[0]);
    w.cut[0] = true; /* a is cut off: its lease and its claim run out */
    int64_t cut_at = w.now;
    bool moved = false;
    while (!moved && w.now < cut_at + 20000) {
        run(&w, 100);
        claims_acquire(w.c[1], w.now, w.l[1], &w.ro, "room");
        pump(&w);
        uint32_t n;
        const claims_event *e = claims_events(w.c[1], &n);
        for (uint32_t i = 0; i < n; i++)
            if (e[i].type == CLAIMS_EV_HELD) moved = true;
        claims_events_clear(w.c[1]);
        if (moved) {
            assert_true(valid(&w, 1));
            assert_false(valid(&w, 0)); /* never two valid holders at one instant */
        } else if (!claims_pending(w.c[1], "room")) {
            /* refused or failed: try again next step */
        }
        if (valid(&w, 1)) assert_false(valid(&w, 0));
    }
    assert_true(moved);
    /* not before a's lease ran out: a could not serve any more */
    assert_false(lease_valid(w.l[0], w.now));
    assert_true(w.now - cut_at >= 1500); /* fence 2.2 s from the last answer; renewals every 0.5 s */
    teardown(&w);
}

/* What a holder may lend (relay grants) ends exactly where its claim would
 * end with no answer any more: valid at every instant before, not at it. */
static void valid_until_is_exact(void **state) {
    (void)state;
    world w;
    setup(&w);
    run(&w, 1000);
    assert_int_equal(claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room"), w.now); /* no claim: now */
    claims_acquire(w.c[0], w.now, w.l[0], &w.ro, "room");
    pump(&w);
    run(&w, 1300); /* renewals at different phases */
    int64_t until = claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room");
    assert_true(until > w.now);
    assert_true(until <= w.now + 2500); /* bounded by the lease: never beyond a grant's life */
    for (int64_t t = w.now; t <= until + 50; t++)
        assert_int_equal(claims_valid(w.c[0], t, w.l[0], &w.ro, "room"), t < until);
    /* answers keep coming: it moves forward */
    run(&w, 600);
    assert_true(claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room") > until);
    /* cut off: it stops moving, and past it the claim is gone */
    w.cut[0] = true;
    int64_t last = claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room");
    run(&w, 300);
    assert_true(claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room") <= last);
    while (w.now < last) run(&w, 100);
    assert_false(valid(&w, 0));
    assert_int_equal(claims_valid_until(w.c[0], w.now, w.l[0], &w.ro, "room"), w.now);
    teardown(&w);
}

static void restarted_member_no_longer_counts(void **state) {
    (void)state;
    world w;
    setup(&w);
    run(&w, 1000);
    claims_acquire(w.c[0], w.now, w.l[0], &w.ro, "room");
    pump(&w);
    assert_true(valid(&w, 0));
    /* c restarts (new boot id, no records); b is cut off: a keeps only its
     * own record, one of three, until it has c's record again */
    lease_free(w.l[2]);
    claims_free(w.c[2]);
    make_node(&w, 2, 999);
    w.cut[1] = true;
    run(&w, 600); /* c answers a's pings with its new boot id */
    /* a's claim counts c again only once c recorded it anew (refresh) */
    run(&w, 3000);
    assert_string_equal(claims_recorded(w.c[2], "room"), NAMES[0]);
    assert_true(valid(&w, 0));
    teardown(&w);
}

static void release_frees_the_channel(void **state) {
    (void)state;
    world w;
    setup(&w);
    run(&w, 1000);
    claims_acquire(w.c[0], w.now, w.l[0], &w.ro, "room");
    pump(&w);
    claims_release(w.c[0], w.now, &w.ro, "room");
    pump(&w);
    assert_string_equal(claims_recorded(w.c[1], "room"), "");
    claims_events_clear(w.c[0]);
    claims_acquire(w.c[1], w.now, w.l[1], &w.ro, "room");
    pump(&w);
    assert_int_equal(last_event(&w, 1, NULL), CLAIMS_EV_HELD);
    assert_false(valid(&w, 0));
    teardown(&w);
}

static void garbage_is_ignored(void **state) {
    (void)state;
    world w;
    setup(&w);
    uint8_t junk[64];
    for (int i = 0; i < 2000; i++) {
        for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)(i * 31 + k * 7);
        junk[0] = 0x9a; /* an array of 10 */
        junk[1] = CLAIMS_WIRE_KIND;
        claims_recv(w.c[0], w.now, w.l[0], &w.ro, junk, (size_t)(i % (int)sizeof junk));
    }
    assert_int_equal(claims_record_count(w.c[0]), 0);
    teardown(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_claim_wins_second_is_refused),
        cmocka_unit_test(moves_only_after_the_fence),
        cmocka_unit_test(valid_until_is_exact),
        cmocka_unit_test(restarted_member_no_longer_counts),
        cmocka_unit_test(release_frees_the_channel),
        cmocka_unit_test(garbage_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
