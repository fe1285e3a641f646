/* test_chtable.c - the replicated channel table on three nodes with
 * messages passed by hand: updates spread, a lost update is repaired by a
 * pull, a digest repairs a node that heard nothing, a forgotten holder's
 * channels go, a restarted holder (new boot id) replaces its old list, and
 * a list longer than one datagram arrives in parts; gossip saying a member
 * is back repairs both sides, and a digest's receiver pushes what its
 * sender lacks; a forgotten holder is not brought back by a third node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chtable.h"

#define N 3
static const char *NAMES[N] = {"a@10.0.0.1", "b@10.0.0.2", "c@10.0.0.3"};
static chtable *T[N];
static bool drop_to[N];     /* datagrams to this node are lost */

static void pump(void) {
    for (int round = 0; round < 50; round++) {
        bool any = false;
        for (int i = 0; i < N; i++) {
            uint32_t n;
            outbox taken = {0}; /* taken out first: receiving queues more */
            outbox_move(&taken, chtable_outbox(T[i]));
            const core_out *copy = outbox_items(&taken, &n);
            for (uint32_t j = 0; j < n; j++) {
                any = true;
                for (int to = 0; to < N; to++) {
                    if (to == i || drop_to[to]) continue;
                    bool mine = strcmp(copy[j].to, "*") == 0 || strcmp(copy[j].to, NAMES[to]) == 0 ||
                                (strcmp(copy[j].to, "?") == 0 && to == (i + 1) % N);
                    if (mine) chtable_recv(T[to], copy[j].data, copy[j].len);
                }
            }
            outbox_free(&taken);
        }
        if (!any) return;
    }
}

static int setup(void **state) {
    (void)state;
    for (int i = 0; i < N; i++) {
        T[i] = chtable_new(NAMES[i], "t", 100 + (uint32_t)i);
        drop_to[i] = false;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < N; i++) chtable_free(T[i]);
    return 0;
}

static void updates_spread(void **state) {
    (void)state;
    chtable_set_local(T[0], "room-1", 1, 1000);
    chtable_set_local(T[1], "room-2", 1, 1000);
    pump();
    for (int i = 0; i < N; i++) {
        assert_string_equal(chtable_holder(T[i], "room-1"), NAMES[0]);
        assert_string_equal(chtable_holder(T[i], "room-2"), NAMES[1]);
        assert_string_equal(chtable_holder(T[i], "room-3"), "");
    }
    chtable_set_local(T[0], "room-1", 0, 0);
    pump();
    for (int i = 0; i < N; i++) assert_string_equal(chtable_holder(T[i], "room-1"), "");
}

static void gap_and_digest_repair(void **state) {
    (void)state;
    drop_to[2] = true; /* c misses a's first two updates */
    chtable_set_local(T[0], "room-1", 1, 1000);
    chtable_set_local(T[0], "room-2", 1, 1000);
    pump();
    drop_to[2] = false;
    assert_string_equal(chtable_holder(T[2], "room-1"), "");
    chtable_set_local(T[0], "room-3", 1, 1000); /* version 3 after 0: c pulls the whole list */
    pump();
    assert_string_equal(chtable_holder(T[2], "room-1"), NAMES[0]);
    assert_string_equal(chtable_holder(T[2], "room-2"), NAMES[0]);
    assert_int_equal(chtable_size(T[2]), 3);
    /* c misses a removal; b's digest to c (b -> c is "next") repairs it */
    drop_to[2] = true;
    chtable_set_local(T[0], "room-2", 0, 0);
    pump();
    drop_to[2] = false;
    assert_string_equal(chtable_holder(T[2], "room-2"), NAMES[0]);
    chtable_tick(T[1], 10000);
    pump();
    assert_string_equal(chtable_holder(T[2], "room-2"), "");
    assert_int_equal(chtable_size(T[2]), 2);
}

static void forget_and_restart(void **state) {
    (void)state;
    chtable_set_local(T[0], "room-1", 1, 1000);
    pump();
    chtable_forget(T[1], NAMES[0]);
    assert_string_equal(chtable_holder(T[1], "room-1"), "");
    /* a restarts with a new boot id and other channels */
    chtable_free(T[0]);
    T[0] = chtable_new(NAMES[0], "t", 999);
    chtable_set_local(T[0], "room-9", 1, 1000);
    pump();
    for (int i = 1; i < N; i++) {
        assert_string_equal(chtable_holder(T[i], "room-9"), NAMES[0]);
        assert_string_equal(chtable_holder(T[i], "room-1"), ""); /* the old list is gone */
    }
}

/* A holder that gossip declared dead is forgotten, and another node that
 * has not forgotten it yet must not bring its list back through a digest:
 * nothing would remove it again. Only the holder itself (it is back) or
 * gossip saying so (member_up) does. */
static void forgotten_holder_stays_forgotten(void **state) {
    (void)state;
    chtable_set_local(T[0], "room-1", 1, 1000);
    pump();
    chtable_forget(T[2], NAMES[0]);                /* c: a is dead; b does not know yet */
    chtable_tick(T[1], 10000);                      /* b's digest (to c) names a's list */
    pump();
    assert_string_equal(chtable_holder(T[2], "room-1"), "");
    assert_int_equal(chtable_holders_known(T[2]), 2);
    chtable_set_local(T[0], "room-2", 1, 2000);    /* a itself speaks: it is back */
    pump();
    assert_string_equal(chtable_holder(T[2], "room-2"), NAMES[0]);
    assert_string_equal(chtable_holder(T[2], "room-1"), NAMES[0]);
    chtable_forget(T[2], NAMES[0]);
    chtable_member_up(T[2], NAMES[0]);              /* gossip: a is alive again */
    pump();
    assert_string_equal(chtable_holder(T[2], "room-1"), NAMES[0]);
}

static void long_list_in_parts(void **state) {
    (void)state;
    drop_to[1] = true;
    char id[32];
    for (int k = 0; k < 300; k++) {
        snprintf(id, sizeof id, "r%d", k);
        chtable_set_local(T[0], id, 1, 1000);
    }
    pump();
    drop_to[1] = false;
    chtable_tick(T[0], 10000); /* a's digest goes to b */
    pump();
    assert_int_equal(chtable_size(T[1]), 300);
    assert_string_equal(chtable_holder(T[1], "r299"), NAMES[0]);
}

/* A partition heals: c, which b saw dead, missed a change of b's and b
 * missed one of c's; neither changes anything after. Gossip saying each is
 * back repairs both tables at once, with no digest. */
static void member_up_repairs_both_ways(void **state) {
    (void)state;
    chtable_set_local(T[1], "room-b", 1, 1000);
    chtable_set_local(T[2], "room-c", 1, 1000);
    pump();
    drop_to[2] = true;
    chtable_set_local(T[1], "room-b2", 1, 1000);
    pump();
    drop_to[2] = false;
    drop_to[1] = true;
    chtable_set_local(T[2], "room-c", 0, 0);
    pump();
    drop_to[1] = false;
    chtable_forget(T[1], NAMES[2]);              /* b saw c dead */
    assert_string_equal(chtable_holder(T[2], "room-b2"), "");
    chtable_member_up(T[1], NAMES[2]);           /* b sees c alive again; c never saw b go */
    pump();
    assert_string_equal(chtable_holder(T[2], "room-b2"), NAMES[1]);
    assert_string_equal(chtable_holder(T[1], "room-c"), "");
    assert_int_equal(chtable_size(T[1]), 2);
    assert_int_equal(chtable_size(T[2]), 2);
}

/* b's table is behind on a; b's digest reaches a, which pushes its list. */
static void digest_receiver_pushes_what_the_sender_lacks(void **state) {
    (void)state;
    chtable_set_local(T[0], "room-1", 1, 1000);
    pump();
    drop_to[1] = true;
    chtable_set_local(T[0], "room-1", 0, 0);
    pump();
    drop_to[1] = false;
    assert_string_equal(chtable_holder(T[1], "room-1"), NAMES[0]);
    drop_to[2] = true;                           /* b's digest goes to c ("next" of b): keep it from c */
    chtable_tick(T[1], 10000);
    uint32_t n;
    const core_out *o = outbox_items(chtable_outbox(T[1]), &n);
    assert_int_equal(n, 1);
    chtable_recv(T[0], o[0].data, o[0].len);     /* hand it to a instead */
    outbox_clear(chtable_outbox(T[1]));
    pump();
    assert_string_equal(chtable_holder(T[1], "room-1"), "");
}

typedef struct seen {
    int n;
    uint32_t conns;
    uint64_t created;
    char holder[64];
} seen;

static bool visit(void *ctx, const chtable_entry *e) {
    seen *x = ctx;
    x->n++;
    x->conns = e->connections;
    x->created = e->created_ms;
    snprintf(x->holder, sizeof x->holder, "%s", e->holder);
    return true;
}

/* Connection counts reach every node, batched: none before the holder's
 * tick, the latest after it; the creation time is the opening one. */
static void counts_are_batched_and_spread(void **state) {
    (void)state;
    chtable_set_local(T[0], "room-1", 1, 5000);
    pump();
    chtable_set_local(T[0], "room-1", 2, 6000);
    chtable_set_local(T[0], "room-1", 7, 7000);
    pump();
    seen x = {0};
    chtable_each(T[2], visit, &x);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.conns, 1);
    chtable_tick(T[0], 1); /* also a's digest, which changes nothing */
    pump();
    memset(&x, 0, sizeof x);
    chtable_each(T[2], visit, &x);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.conns, 7);
    assert_int_equal(x.created, 5000);
    assert_string_equal(x.holder, NAMES[0]);
    assert_int_equal(chtable_count_of(T[2], NAMES[0]), 1);
    assert_int_equal(chtable_count_of(T[2], NAMES[1]), 0);
}

static void garbage_is_ignored(void **state) {
    (void)state;
    uint8_t junk[80];
    for (int i = 0; i < 3000; i++) {
        for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)(i * 13 + k * 5);
        junk[0] = 0x9a;
        junk[1] = CHTABLE_WIRE_KIND;
        chtable_recv(T[0], junk, (size_t)(i % (int)sizeof junk));
    }
    assert_int_equal(chtable_size(T[0]), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(updates_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(gap_and_digest_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(forget_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(forgotten_holder_stays_forgotten, setup, teardown),
        cmocka_unit_test_setup_teardown(long_list_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(member_up_repairs_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(digest_receiver_pushes_what_the_sender_lacks, setup, teardown),
        cmocka_unit_test_setup_teardown(counts_are_batched_and_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_is_ignored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
