/* test_ring.c - the placement ring: the same answer on every node for the
 * same view, movement limited to the arcs that changed, bounded load never
 * exceeded while capacity exists, weights honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rng.h"
#include "ring.h"

#define IDS 20000

static char names[64][32];

static void members(ring_member *m, uint32_t n, uint32_t weight) {
    for (uint32_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "node%u@10.0.0.%u", i + 1, i + 1);
        m[i] = (ring_member){names[i], weight};
    }
}

static int owner_of(const ring *r, uint32_t k) {
    char id[32];
    int len = snprintf(id, sizeof id, "channel-%u", k);
    return ring_lookup(r, id, (size_t)len);
}

static void same_view_same_answer(void **state) {
    (void)state;
    ring_member m[20], shuffled[20];
    members(m, 20, 100);
    shoal_rng rng;
    shoal_rng_seed(&rng, 7);
    for (int round = 0; round < 20; round++) {
        memcpy(shuffled, m, sizeof m);
        for (uint32_t i = 19; i > 0; i--) { /* another node learns members in another order */
            uint32_t j = shoal_rng_below(&rng, i + 1);
            ring_member t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        ring a, b;
        assert_true(ring_build(&a, m, 20));
        assert_true(ring_build(&b, shuffled, 20));
        assert_int_equal(a.checksum, b.checksum);
        for (uint32_t k = 0; k < 2000; k++)
            assert_string_equal(a.nodes[owner_of(&a, k)].name, b.nodes[owner_of(&b, k)].name);
        ring_free(&a);
        ring_free(&b);
    }
}

static void movement_only_from_changed_arcs(void **state) {
    (void)state;
    ring_member m[11];
    members(m, 11, 100);
    ring small, big;
    assert_true(ring_build(&small, m, 10));
    assert_true(ring_build(&big, m, 11));
    uint32_t moved = 0;
    for (uint32_t k = 0; k < IDS; k++) {
        const char *before = small.nodes[owner_of(&small, k)].name;
        const char *after = big.nodes[owner_of(&big, k)].name;
        if (strcmp(before, after) != 0) {
            moved++;
            assert_string_equal(after, names[10]); /* on add, channels move only to the new node */
        }
    }
    /* about 1/11 of them, not more than 1.5 times that */
    assert_true(moved > IDS / 11 / 2 && moved < IDS * 3 / 2 / 11);
    /* on remove, only the removed node's channels move */
    for (uint32_t k = 0; k < IDS; k++) {
        const char *before = big.nodes[owner_of(&big, k)].name;
        const char *after = small.nodes[owner_of(&small, k)].name;
        if (strcmp(before, names[10]) != 0) assert_string_equal(before, after);
    }
    ring_free(&small);
    ring_free(&big);
}

static void bounded_load_never_exceeded(void **state) {
    (void)state;
    ring_member m[10];
    members(m, 10, 100);
    m[0].weight = 300; /* mixed weights */
    m[1].weight = 50;
    ring r;
    assert_true(ring_build(&r, m, 10));
    uint32_t loads[10] = {0};
    uint64_t total = 0;
    double eps = 0.25;
    for (uint32_t k = 0; k < IDS; k++) {
        char id[32];
        int len = snprintf(id, sizeof id, "c%u", k);
        int nd = ring_lookup_bounded(&r, ring_hash(id, (size_t)len), loads, total, eps);
        assert_true(nd >= 0); /* room exists: the caps sum to more than total + 1 */
        assert_true(loads[nd] < ring_cap(&r, (uint32_t)nd, total, eps));
        loads[nd]++;
        total++;
        for (uint32_t i = 0; i < 10; i++) assert_true(loads[i] <= ring_cap(&r, i, total, eps));
    }
    /* every node at its cap: the cluster is full, nobody is overloaded */
    for (uint32_t i = 0; i < 10; i++) loads[i] = ring_cap(&r, i, total, eps) + 1000;
    assert_int_equal(ring_lookup_bounded(&r, ring_hash("x", 1), loads, total, eps), RING_FULL);
    ring_free(&r);
}

static void weights_shape_the_share(void **state) {
    (void)state;
    ring_member m[4];
    members(m, 4, 100);
    m[3].weight = 300;
    ring r;
    assert_true(ring_build(&r, m, 4));
    uint32_t count[4] = {0};
    for (uint32_t k = 0; k < IDS; k++) count[owner_of(&r, k)]++;
    /* 300 of 600 weight: about half of the channels and of the hash space */
    assert_true(count[3] > IDS * 4 / 10 && count[3] < IDS * 6 / 10);
    double share = (double)r.nodes[3].arc / 18446744073709551616.0;
    assert_true(share > 0.4 && share < 0.6);
    ring changed;
    m[3].weight = 200;
    assert_true(ring_build(&changed, m, 4));
    assert_int_not_equal(r.checksum, changed.checksum);
    ring_free(&r);
    ring_free(&changed);
}

static void empty_and_single(void **state) {
    (void)state;
    ring r;
    assert_true(ring_build(&r, NULL, 0));
    assert_int_equal(ring_lookup(&r, "a", 1), RING_FULL);
    ring_free(&r);
    ring_member one = {"solo@10.0.0.1", 1};
    assert_true(ring_build(&r, &one, 1));
    assert_int_equal(ring_lookup(&r, "a", 1), 0);
    assert_int_equal(r.nodes[0].vnodes, 2); /* weight 1: 160/100 rounds to 2 */
    ring_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_view_same_answer),
        cmocka_unit_test(movement_only_from_changed_arcs),
        cmocka_unit_test(bounded_load_never_exceeded),
        cmocka_unit_test(weights_shape_the_share),
        cmocka_unit_test(empty_and_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
