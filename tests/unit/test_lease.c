/* test_lease.c - the majority lease that fences serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lease.h"
#include "rng.h"

#define N 6

typedef struct lnet {
    int64_t now;
    lease *node[N];
    bool cut[N][N];
    double loss;
    shoal_rng rng;
    struct { int64_t at; int src, dst; uint32_t len; uint8_t data[512]; } q[4096];
    int qlen;
} lnet;

static void nm(int i, char *b) { snprintf(b, WIRE_NAME_MAX + 1, "n%d@10.0.0.%d", i, i + 1); }

static void setup(lnet *t, int roster_n, int nodes) {
    memset(t, 0, sizeof *t);
    t->now = 1000;
    shoal_rng_seed(&t->rng, 42);
    raft_roster ro = {.cluster_id = 1, .n = (uint32_t)roster_n};
    for (int i = 0; i < roster_n; i++) nm(i, ro.names[i]);
    for (int i = 0; i < nodes; i++) {
        lease_config c;
        lease_config_default(&c);
        nm(i, c.node_name);
        snprintf(c.cluster_name, sizeof c.cluster_name, "t");
        t->node[i] = lease_new(&c, t->now);
        lease_set_roster(t->node[i], &ro);
    }
}

static void teardown_net(lnet *t) {
    for (int i = 0; i < N; i++) lease_free(t->node[i]);
}

static void flush(lnet *t, int i) {
    uint32_t n;
    const core_out *o = outbox_items(lease_outbox(t->node[i]), &n);
    for (uint32_t k = 0; k < n && t->qlen < 4096; k++) {
        int dst;
        if (sscanf(o[k].to, "n%d@", &dst) != 1 || dst >= N || !t->node[dst]) continue;
        t->q[t->qlen].at = t->now + 1;
        t->q[t->qlen].src = i;
        t->q[t->qlen].dst = dst;
        t->q[t->qlen].len = o[k].len;
        memcpy(t->q[t->qlen].data, o[k].data, o[k].len);
        t->qlen++;
    }
    outbox_clear(lease_outbox(t->node[i]));
}

/* Runs ms, calling check(t) every ms. */
static void run(lnet *t, int64_t ms, void (*check)(lnet *)) {
    for (int64_t end = t->now + ms; t->now < end;) {
        t->now++;
        for (int k = 0; k < t->qlen;) {
            if (t->q[k].at > t->now) { k++; continue; }
            int s = t->q[k].src, d = t->q[k].dst;
            bool lost = t->cut[s][d] || (t->loss > 0 && (double)(shoal_rng_next(&t->rng) >> 11) / 9007199254740992.0 < t->loss);
            if (!lost && t->node[d]) {
                lease_recv(t->node[d], t->now, t->q[k].data, t->q[k].len);
                flush(t, d);
            }
            t->q[k] = t->q[--t->qlen];
        }
        for (int i = 0; i < N; i++) {
            if (!t->node[i] || lease_next_deadline(t->node[i]) > t->now) continue;
            lease_tick(t->node[i], t->now);
            flush(t, i);
        }
        if (check) check(t);
    }
}

static void majority_serves(lnet *t) {
    for (int i = 0; i < 3; i++)
        if (!lease_valid(t->node[i], t->now)) fail_msg("majority node %d lost its lease at %ld", i, (long)t->now);
}

static void test_all_connected(void **st) {
    (void)st;
    lnet t;
    setup(&t, 5, 5);
    for (int i = 0; i < 5; i++) assert_false(lease_valid(t.node[i], t.now)); /* nobody answered yet */
    run(&t, 100, NULL);
    for (int i = 0; i < 5; i++) assert_true(lease_valid(t.node[i], t.now));
    run(&t, 60000, majority_serves);
    teardown_net(&t);
}

/* 3|2: the minority stops within the lease (2 s / 1.05) of the cut, the
 * majority never stops; after heal all serve again. */
static void test_partition_minority_stops(void **st) {
    (void)st;
    lnet t;
    setup(&t, 5, 5);
    run(&t, 3000, NULL);
    int64_t cut_at = t.now;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) t.cut[a][b] = (a < 3) != (b < 3);
    run(&t, 1904, majority_serves);
    run(&t, 2, majority_serves);
    for (int i = 3; i < 5; i++) assert_false(lease_valid(t.node[i], t.now));
    assert_true(t.now - cut_at <= 1906);
    run(&t, 5000, majority_serves);
    for (int i = 3; i < 5; i++) assert_false(lease_valid(t.node[i], t.now));
    memset(t.cut, 0, sizeof t.cut);
    run(&t, 600, majority_serves);
    for (int i = 0; i < 5; i++) assert_true(lease_valid(t.node[i], t.now));
    teardown_net(&t);
}

/* Revocation: members that list node 4 dead stop answering it; once they
 * are a majority it loses its lease although every link works. */
static void test_revocation_fences(void **st) {
    (void)st;
    lnet t;
    setup(&t, 5, 5);
    run(&t, 1000, NULL);
    assert_true(lease_valid(t.node[4], t.now));
    char victim[WIRE_NAME_MAX + 1];
    nm(4, victim);
    lease_revoke(t.node[0], victim, true, t.now);
    lease_revoke(t.node[1], victim, true, t.now);
    run(&t, 3000, NULL);
    assert_true(lease_valid(t.node[4], t.now)); /* 2 of 5 revoked: still a majority */
    lease_revoke(t.node[2], victim, true, t.now);
    run(&t, 2000, majority_serves);
    assert_false(lease_valid(t.node[4], t.now));
    lease_revoke(t.node[2], victim, false, t.now);
    run(&t, 600, NULL);
    assert_true(lease_valid(t.node[4], t.now));
    teardown_net(&t);
}

static void test_roster_of_one_and_empty(void **st) {
    (void)st;
    lnet t;
    setup(&t, 1, 1);
    assert_true(lease_valid(t.node[0], t.now));
    raft_roster empty = {0};
    lease_set_roster(t.node[0], &empty);
    assert_false(lease_valid(t.node[0], t.now));
    teardown_net(&t);
}

/* A temporary node (not in the roster) serves with a majority of the roster. */
static void test_temporary_node(void **st) {
    (void)st;
    lnet t;
    setup(&t, 3, 4); /* node 3 is temporary */
    run(&t, 1000, NULL);
    assert_true(lease_valid(t.node[3], t.now));
    t.cut[0][3] = t.cut[1][3] = true; /* it hears only node 2: 1 of 3 */
    run(&t, 2500, NULL);
    assert_false(lease_valid(t.node[3], t.now));
    teardown_net(&t);
}

/* 10% loss everywhere for 3 minutes: the majority never stops serving. */
static void test_loss_keeps_lease(void **st) {
    (void)st;
    lnet t;
    setup(&t, 5, 5);
    run(&t, 1000, NULL);
    t.loss = 0.10;
    run(&t, 180000, majority_serves);
    teardown_net(&t);
}

/* A member that stops answering is named silent once per unanswered ping,
 * silent_ms after it; one that answers is never named. */
static void test_silent_hint(void **st) {
    (void)st;
    lnet t;
    setup(&t, 3, 3);
    run(&t, 2000, NULL);
    uint32_t n;
    lease_silent(t.node[0], &n);
    assert_int_equal(n, 0);
    lease_free(t.node[2]); /* node 2 dies */
    t.node[2] = NULL;
    run(&t, 700, NULL);
    const char(*names)[WIRE_NAME_MAX + 1] = lease_silent(t.node[0], &n);
    assert_true(n >= 1);
    char expect[WIRE_NAME_MAX + 1];
    nm(2, expect);
    for (uint32_t i = 0; i < n; i++) assert_string_equal(names[i], expect);
    teardown_net(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_connected),
        cmocka_unit_test(test_partition_minority_stops),
        cmocka_unit_test(test_revocation_fences),
        cmocka_unit_test(test_roster_of_one_and_empty),
        cmocka_unit_test(test_temporary_node),
        cmocka_unit_test(test_loss_keeps_lease),
        cmocka_unit_test(test_silent_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
