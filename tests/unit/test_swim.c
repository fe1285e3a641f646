/* test_swim.c - the SWIM + Lifeguard core driven by a fake clock and network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suspicion.h"
#include "awareness.h"
#include "vnet.h"

static void cluster(vnet *v, int n, uint64_t seed) {
    vnet_init(v, seed);
    for (int i = 0; i < n; i++) vnet_add(v);
    vnet_run(v, 5000);
}

static void all_alive(vnet *v) {
    for (int i = 0; i < v->n; i++)
        for (int j = 0; j < v->n; j++) assert_int_equal(vnet_state(v, i, j), SWIM_ALIVE);
}

static void test_join_all_alive(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 1);
    all_alive(&v);
    vnet_free(&v);
}

/* Probe/ack: a stable cluster probes all the time and never suspects. */
static void test_probe_ack_no_false_suspicion(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 2);
    vnet_run(&v, 60000);
    uint64_t probes = 0;
    for (int i = 0; i < v.n; i++) {
        probes += swim_get_stats(v.nodes[i].s)->probes;
        assert_int_equal(swim_get_stats(v.nodes[i].s)->probe_failures, 0);
        assert_int_equal(vnet_count_events(&v, SWIM_EV_SUSPECT, i), 0);
    }
    assert_true(probes >= 5 * 55); /* about one probe per node per second */
    vnet_free(&v);
}

/* Indirect probe: with the direct path between 0 and 1 cut both ways, the
 * probes go through others and nobody suspects anyone. */
static void test_indirect_probe(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 3);
    v.cut[0][1] = v.cut[1][0] = true;
    vnet_run(&v, 60000);
    assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, 0), 0);
    assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, 1), 0);
    assert_true(swim_get_stats(v.nodes[0].s)->probes > 0);
    all_alive(&v);
    vnet_free(&v);
}

/* A killed member is suspected, then declared dead by every other member. */
static void test_dead_after_timeout(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 6, 4);
    vnet_kill(&v, 3);
    vnet_run(&v, 2000);
    assert_int_equal(vnet_count_state(&v, 3, SWIM_DEAD), 0); /* not before the timeout */
    vnet_run(&v, 10000);
    assert_int_equal(vnet_count_state(&v, 3, SWIM_DEAD), 5);
    assert_true(vnet_count_events(&v, SWIM_EV_SUSPECT, 3) >= 1);
    vnet_free(&v);
}

/* Suspicion refuted by a higher incarnation: a member that stalls for 1.5 s
 * is suspected, learns of it when it resumes and refutes; nobody lists it
 * dead and its incarnation went up. */
static void test_suspicion_refuted(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 5);
    int refuted = 0;
    for (int round = 0; round < 10; round++) {
        vnet_pause(&v, 2, true);
        vnet_run(&v, 1500);
        vnet_pause(&v, 2, false);
        vnet_run(&v, 5000);
    }
    refuted = vnet_count_events(&v, SWIM_EV_REFUTE, 2);
    assert_true(vnet_count_events(&v, SWIM_EV_SUSPECT, 2) >= 1);
    assert_true(refuted >= 1);
    assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, 2), 0);
    assert_true(swim_find(v.nodes[0].s, v.nodes[2].name)->incarnation >= 1);
    all_alive(&v);
    vnet_free(&v);
}

/* A 2 s pause (SIGSTOP) is not a death. */
static void test_pause_two_seconds_not_dead(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 10, 6);
    for (int round = 0; round < 20; round++) {
        vnet_pause(&v, 4, true);
        vnet_run(&v, 2000);
        vnet_pause(&v, 4, false);
        vnet_run(&v, 8000);
    }
    assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, 4), 0);
    all_alive(&v);
    vnet_free(&v);
}

static void test_graceful_leave(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 7);
    swim_leave(v.nodes[1].s, v.now);
    int waited = 0;
    do vnet_run(&v, 50); /* the adapter sends what the core queued */
    while (!swim_leave_done(v.nodes[1].s, v.now) && ++waited < 50);
    assert_true(swim_leave_done(v.nodes[1].s, v.now));
    vnet_kill(&v, 1); /* the process exits */
    vnet_run(&v, 3000);
    assert_int_equal(vnet_count_state(&v, 1, SWIM_LEFT), 4);
    assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, 1), 0);
    vnet_free(&v);
}

/* Dissemination: one member's metadata change reaches all 30 members. */
static void test_dissemination_reaches_all(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 30, 8);
    vnet_run(&v, 10000);
    all_alive(&v);
    const swim_member *me = swim_member_at(v.nodes[17].s, 0);
    wire_meta m = me->meta;
    m.load = 4242;
    swim_set_meta(v.nodes[17].s, v.now, &m);
    vnet_run(&v, 3000);
    for (int i = 0; i < v.n; i++)
        assert_int_equal(swim_find(v.nodes[i].s, v.nodes[17].name)->meta.load, 4242);
    vnet_free(&v);
}

/* Every node changes its metadata at about the same moment (a roster
 * formed and all start serving); returns the virtual ms until every node
 * holds every node's new record, or -1 if some node is still stale after
 * limit_ms. */
static int64_t all_change_meta(vnet *v, int64_t limit_ms) {
    for (int k = 0; k < v->n; k++) {
        wire_meta m = swim_member_at(v->nodes[k].s, 0)->meta;
        m.load = 4242;
        swim_set_meta(v->nodes[k].s, v->now, &m);
        vnet_run(v, 37);
    }
    int64_t t0 = v->now;
    while (v->now - t0 <= limit_ms) {
        int stale = 0;
        for (int i = 0; i < v->n; i++)
            for (int k = 0; k < v->n; k++) {
                const swim_member *m = swim_find(v->nodes[i].s, v->nodes[k].name);
                if (m == NULL || m->meta.load != 4242) stale++;
            }
        if (stale == 0) return v->now - t0;
        vnet_run(v, 50);
    }
    return -1;
}

/* A small cluster's gossip reaches everyone at once: an update is sent at
 * least 8 times per node (4 left an 8-node cluster stale until the next
 * push-pull, 30 s, in a third of the seeds). */
static void test_small_cluster_meta_converges_fast(void **st) {
    (void)st;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        vnet v;
        cluster(&v, 8, 100 + seed);
        int64_t took = all_change_meta(&v, 2000);
        if (took < 0) fail_msg("seed %llu: a node's record still stale after 2 s", (unsigned long long)seed);
        vnet_free(&v);
    }
}

/* Even when gossip gives up early, pings and acks carry the sender's own
 * record: round-robin probing brings every record to every member within
 * 2 (N - 1) probe intervals. */
static void test_probes_carry_own_record(void **st) {
    (void)st;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        vnet v;
        vnet_init(&v, 200 + seed);
        v.base.retransmit_mult = 1; /* gossip alone misses members */
        for (int i = 0; i < 8; i++) vnet_add(&v);
        vnet_run(&v, 5000);
        int64_t took = all_change_meta(&v, 2 * 7 * v.base.probe_interval_ms);
        if (took < 0) fail_msg("seed %llu: a node's record still stale after 14 probe intervals", (unsigned long long)seed);
        vnet_free(&v);
    }
}

/* Killed then restarted with a fresh core: everyone lists it alive again. */
static void test_restart_rejoins(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 9);
    vnet_kill(&v, 2);
    vnet_run(&v, 15000);
    assert_int_equal(vnet_count_state(&v, 2, SWIM_DEAD), 4);
    vnet_restart(&v, 2);
    vnet_run(&v, 5000);
    all_alive(&v);
    vnet_free(&v);
}

/* A partition heals by itself: both sides list each other dead, then all
 * alive after the cut is removed (reconnect push-pull). */
static void test_partition_heals(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 10);
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) v.cut[a][b] = (a < 3) != (b < 3);
    vnet_run(&v, 20000);
    assert_int_equal(vnet_state(&v, 0, 4), SWIM_DEAD);
    assert_int_equal(vnet_state(&v, 4, 0), SWIM_DEAD);
    memset(v.cut, 0, sizeof v.cut);
    vnet_run(&v, 10000);
    all_alive(&v);
    vnet_free(&v);
}

/* Lifeguard: confirmations shorten the suspicion timeout, log-scaled. */
static void test_suspicion_confirmations(void **st) {
    (void)st;
    assert_int_equal(suspicion_timeout_ms(0, 3, 1000, 6000), 6000);
    int64_t t1 = suspicion_timeout_ms(1, 3, 1000, 6000);
    int64_t t2 = suspicion_timeout_ms(2, 3, 1000, 6000);
    assert_true(t1 < 6000 && t2 < t1 && t2 > 1000);
    assert_int_equal(suspicion_timeout_ms(3, 3, 1000, 6000), 1000);
    assert_int_equal(suspicion_timeout_ms(0, 0, 1000, 6000), 1000);
    suspicion s;
    suspicion_start(&s, 500, 11, 3, 1000, 6000);
    assert_int_equal(suspicion_deadline(&s), 6500);
    assert_false(suspicion_confirm(&s, 11)); /* the accuser itself */
    assert_true(suspicion_confirm(&s, 12));
    assert_false(suspicion_confirm(&s, 12)); /* counted once */
    assert_int_equal(suspicion_deadline(&s), 500 + t1);
    assert_true(suspicion_confirm(&s, 13));
    assert_true(suspicion_confirm(&s, 14));
    assert_int_equal(suspicion_deadline(&s), 1500);
    assert_false(suspicion_confirm(&s, 15)); /* nothing left to shorten */
}

/* Lifeguard: the health multiplier grows when our own acks go missing (we
 * hear nothing at all) and scales our probe timing. */
static void test_health_multiplier_grows(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 5, 11);
    assert_int_equal(swim_health_score(v.nodes[0].s), 0);
    for (int i = 1; i < 5; i++) v.cut[i][0] = true; /* node 0 is deaf */
    vnet_run(&v, 8000);
    assert_true(swim_health_score(v.nodes[0].s) >= 2);
    memset(v.cut, 0, sizeof v.cut);
    vnet_run(&v, 60000);
    assert_int_equal(swim_health_score(v.nodes[0].s), 0); /* healthy again */
    awareness a;
    awareness_init(&a, 8);
    awareness_apply(&a, 100);
    assert_int_equal(a.score, 7);
    assert_int_equal(awareness_scale(&a, 500), 4000);
    awareness_apply(&a, -100);
    assert_int_equal(awareness_scale(&a, 500), 500);
    vnet_free(&v);
}

/* A packet from another cluster is dropped and reported once. */
static void test_foreign_cluster_dropped(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 3, 12);
    swim_config c = v.base;
    snprintf(c.cluster_name, sizeof c.cluster_name, "other");
    snprintf(c.node_name, sizeof c.node_name, "intruder@10.0.0.9");
    c.addr = (shoal_addr){(10u << 24) | 9, 49010};
    swim_contact k = {.addr = v.nodes[0].addr};
    snprintf(k.name, sizeof k.name, "%s", v.nodes[0].name);
    c.contacts = &k;
    c.ncontacts = 1;
    swim *x = swim_new(&c, 99, v.now);
    uint32_t n;
    const core_out *o = outbox_items(swim_outbox(x), &n);
    assert_int_equal(n, 1);
    for (int rep = 0; rep < 3; rep++)
        swim_recv_stream(v.nodes[0].s, v.now, c.addr, 77, o[0].data + 4, o[0].len - 4);
    assert_null(swim_find(v.nodes[0].s, "intruder@10.0.0.9"));
    assert_int_equal(swim_get_stats(v.nodes[0].s)->foreign_packets, 3);
    const swim_event *ev = swim_events(v.nodes[0].s, &n);
    int foreign = 0;
    for (uint32_t i = 0; i < n; i++) foreign += ev[i].type == SWIM_EV_FOREIGN;
    assert_int_equal(foreign, 1);
    swim_free(x);
    vnet_free(&v);
}

/* A node holding another cluster's data (same name, other cluster id) is
 * dropped as foreign; a node without an id yet is welcome. */
static void test_other_cluster_id_dropped(void **st) {
    (void)st;
    vnet v;
    vnet_init(&v, 15);
    for (int i = 0; i < 3; i++) {
        v.base.cluster_id = i == 2 ? 0xbad : 0x600d;
        vnet_add(&v);
    }
    vnet_run(&v, 5000);
    assert_int_equal(vnet_state(&v, 0, 1), SWIM_ALIVE);
    assert_int_equal(vnet_state(&v, 0, 2), -1); /* never merged */
    assert_int_equal(vnet_state(&v, 2, 0), -1);
    assert_true(swim_get_stats(v.nodes[0].s)->foreign_packets > 0);
    assert_true(vnet_count_events(&v, SWIM_EV_FOREIGN, 2) >= 1);
    vnet_free(&v);
}

/* With 10% loss on every datagram, nobody is declared dead. */
static void test_loss_no_false_death(void **st) {
    (void)st;
    vnet v;
    cluster(&v, 10, 13);
    v.loss = 0.10;
    vnet_run(&v, 180000);
    for (int i = 0; i < v.n; i++) assert_int_equal(vnet_count_events(&v, SWIM_EV_DEAD, i), 0);
    vnet_free(&v);
}

/* Same seed, same history: the core is deterministic. */
static void test_deterministic(void **st) {
    (void)st;
    vnet a, b;
    cluster(&a, 8, 14);
    cluster(&b, 8, 14);
    a.loss = b.loss = 0.2;
    vnet_run(&a, 30000);
    vnet_run(&b, 30000);
    assert_int_equal(a.loglen, b.loglen);
    for (uint32_t i = 0; i < a.loglen; i++) {
        assert_int_equal(a.log[i].ev.type, b.log[i].ev.type);
        assert_int_equal(a.log[i].ev.at_ms, b.log[i].ev.at_ms);
        assert_string_equal(a.log[i].ev.name, b.log[i].ev.name);
    }
    vnet_free(&a);
    vnet_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_all_alive),
        cmocka_unit_test(test_probe_ack_no_false_suspicion),
        cmocka_unit_test(test_indirect_probe),
        cmocka_unit_test(test_dead_after_timeout),
        cmocka_unit_test(test_suspicion_refuted),
        cmocka_unit_test(test_pause_two_seconds_not_dead),
        cmocka_unit_test(test_graceful_leave),
        cmocka_unit_test(test_dissemination_reaches_all),
        cmocka_unit_test(test_small_cluster_meta_converges_fast),
        cmocka_unit_test(test_probes_carry_own_record),
        cmocka_unit_test(test_restart_rejoins),
        cmocka_unit_test(test_partition_heals),
        cmocka_unit_test(test_suspicion_confirmations),
        cmocka_unit_test(test_health_multiplier_grows),
        cmocka_unit_test(test_foreign_cluster_dropped),
        cmocka_unit_test(test_other_cluster_id_dropped),
        cmocka_unit_test(test_loss_no_false_death),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
