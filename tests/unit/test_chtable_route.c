/* test_chtable_route.c - where channel-table datagrams go
 * (placement/chtable_route.h), from a real swim core's view on the virtual
 * network (vnet.h): "?" is the next live (alive or suspect) member after
 * the cursor in the member list, a rotation that reaches every live member
 * once per round and never this node, a dead or left one, nor anybody when
 * there is nobody; "*" is every live member but this node, each once; a
 * name is that member if live, else nobody; the datagram is passed on as
 * it is. chtable_from_member accepts table datagrams from live members
 * only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chtable_route.h"
#include "vnet.h"

#define SENT_MAX 32

typedef struct sent {
    const swim_member *to[SENT_MAX];
    const uint8_t *data[SENT_MAX];
    uint32_t len[SENT_MAX];
    int n;
} sent;

static void record(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len) {
    sent *s = ctx;
    assert_true(s->n < SENT_MAX);
    s->to[s->n] = to;
    s->data[s->n] = data;
    s->len[s->n] = len;
    s->n++;
}

static uint8_t payload[] = {5, 1, 2, 3};

static sent route(const swim *g, uint32_t *cursor, const char *to, int times) {
    core_out o = {.len = sizeof payload, .data = payload};
    snprintf(o.to, sizeof o.to, "%s", to);
    sent s = {0};
    for (int k = 0; k < times; k++) chtable_route(g, cursor, &o, record, &s);
    return s;
}

/* count nodes, converged; reap_ms: when the dead are forgotten. */
static vnet *cluster(int count, int64_t reap_ms) {
    vnet *v = calloc(1, sizeof *v);
    assert_non_null(v);
    vnet_init(v, 11);
    v->base.reap_ms = reap_ms;
    for (int i = 0; i < count; i++) vnet_add(v);
    vnet_run(v, 5000);
    assert_int_equal(swim_member_count(v->nodes[0].s), count);
    return v;
}

static void cluster_free(vnet *v) {
    vnet_free(v);
    free(v);
}

static int sent_to(const sent *s, const char *name) {
    int c = 0;
    for (int k = 0; k < s->n; k++) c += strcmp(s->to[k]->name, name) == 0;
    return c;
}

/* Runs until `viewer` holds `of` in state st (-1: forgotten), at most
 * 30 s; false if never. */
static bool run_until(vnet *v, int viewer, int of, int st) {
    for (int t = 0; t < 600; t++) {
        if (vnet_state(v, viewer, of) == st) return true;
        vnet_run(v, 50);
    }
    return false;
}

static void next_rotates_in_member_order(void **state) {
    (void)state;
    vnet *v = cluster(5, 86400000);
    const swim *g = v->nodes[0].s;
    uint32_t cursor = 0;
    sent s = route(g, &cursor, "?", 8);
    assert_int_equal(s.n, 8); /* one datagram per call */
    /* member 0 is this node; from cursor 0 the turn goes 1, 2, 3, 4, 1, ... */
    for (int k = 0; k < 8; k++) assert_ptr_equal(s.to[k], swim_member_at(g, (uint32_t)(k % 4) + 1));
    for (int i = 1; i < 5; i++) assert_int_equal(sent_to(&s, v->nodes[i].name), 2);
    assert_int_equal(sent_to(&s, v->nodes[0].name), 0);
    assert_int_equal(cursor, 4);
    /* the turn continues from the cursor the caller keeps */
    cursor = 2;
    s = route(g, &cursor, "?", 1);
    assert_ptr_equal(s.to[0], swim_member_at(g, 3));
    /* a cursor past the list (members were forgotten since) wraps */
    cursor = 1000;
    s = route(g, &cursor, "?", 1);
    assert_ptr_equal(s.to[0], swim_member_at(g, 1000 % 4 + 1));
    cursor = UINT32_MAX;
    s = route(g, &cursor, "?", 1);
    assert_int_equal(s.n, 1);
    assert_true(cursor >= 1 && cursor <= 4);
    /* the datagram is handed over untouched */
    for (int k = 0; k < s.n; k++) {
        assert_ptr_equal(s.data[k], payload);
        assert_int_equal(s.len[k], sizeof payload);
    }
    /* the same view and cursor always give the same member */
    uint32_t c1 = 3, c2 = 3;
    sent a = route(g, &c1, "?", 6), b = route(g, &c2, "?", 6);
    assert_int_equal(c1, c2);
    assert_memory_equal(a.to, b.to, sizeof a.to[0] * 6);
    cluster_free(v);
}

static void everyone_is_every_other_live_member(void **state) {
    (void)state;
    vnet *v = cluster(5, 86400000);
    uint32_t cursor = 0;
    sent s = route(v->nodes[0].s, &cursor, "*", 1);
    assert_int_equal(s.n, 4);
    for (int i = 1; i < 5; i++) assert_int_equal(sent_to(&s, v->nodes[i].name), 1);
    assert_int_equal(sent_to(&s, v->nodes[0].name), 0);
    assert_int_equal(cursor, 0); /* "*" does not move the turn */
    for (int k = 0; k < s.n; k++) assert_ptr_equal(s.data[k], payload);
    cluster_free(v);
}

static void by_name(void **state) {
    (void)state;
    vnet *v = cluster(4, 86400000);
    const swim *g = v->nodes[0].s;
    uint32_t cursor = 0;
    sent s = route(g, &cursor, v->nodes[2].name, 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.to[0]->name, v->nodes[2].name);
    assert_int_equal(s.len[0], sizeof payload);
    assert_int_equal(route(g, &cursor, v->nodes[0].name, 1).n, 0); /* itself: no */
    assert_int_equal(route(g, &cursor, "node9@10.0.0.10", 1).n, 0); /* unknown */
    assert_int_equal(route(g, &cursor, "node2", 1).n, 0);          /* a prefix is not a name */
    assert_int_equal(route(g, &cursor, "", 1).n, 0);
    assert_int_equal(cursor, 0);
    cluster_free(v);
}

/* Killed: first suspect, still live (it may only be slow), then dead and
 * skipped by all three forms. */
static void suspect_counts_dead_does_not(void **state) {
    (void)state;
    vnet *v = cluster(5, 86400000);
    const swim *g = v->nodes[0].s;
    vnet_kill(v, 2);
    assert_true(run_until(v, 0, 2, SWIM_SUSPECT));
    uint32_t cursor = 0;
    sent s = route(g, &cursor, "*", 1);
    assert_int_equal(s.n, 4);
    assert_int_equal(sent_to(&s, v->nodes[2].name), 1);
    assert_int_equal(route(g, &cursor, v->nodes[2].name, 1).n, 1);
    s = route(g, &cursor, "?", 4);
    assert_int_equal(sent_to(&s, v->nodes[2].name), 1);

    assert_true(run_until(v, 0, 2, SWIM_DEAD));
    assert_int_equal(swim_member_count(g), 5); /* still listed, not reaped */
    s = route(g, &cursor, "*", 1);
    assert_int_equal(s.n, 3);
    assert_int_equal(sent_to(&s, v->nodes[2].name), 0);
    assert_int_equal(route(g, &cursor, v->nodes[2].name, 1).n, 0);
    s = route(g, &cursor, "?", 6); /* three live others, twice each */
    assert_int_equal(s.n, 6);
    assert_int_equal(sent_to(&s, v->nodes[2].name), 0);
    for (int i = 1; i < 5; i++)
        if (i != 2) assert_int_equal(sent_to(&s, v->nodes[i].name), 2);
    cluster_free(v);
}

static void left_member_is_skipped(void **state) {
    (void)state;
    vnet *v = cluster(4, 86400000);
    const swim *g = v->nodes[0].s;
    swim_leave(v->nodes[3].s, v->now);
    assert_true(run_until(v, 0, 3, SWIM_LEFT));
    uint32_t cursor = 0;
    assert_int_equal(route(g, &cursor, "*", 1).n, 2);
    assert_int_equal(route(g, &cursor, v->nodes[3].name, 1).n, 0);
    sent s = route(g, &cursor, "?", 4);
    assert_int_equal(sent_to(&s, v->nodes[3].name), 0);
    assert_int_equal(sent_to(&s, v->nodes[1].name), 2);
    assert_int_equal(sent_to(&s, v->nodes[2].name), 2);
    cluster_free(v);
}

/* Dead members forgotten (reaped): the list shrinks under a cursor that
 * pointed past its new end; the turn goes on over who is left. */
static void reaped_members_shrink_the_turn(void **state) {
    (void)state;
    vnet *v = cluster(4, 2000);
    const swim *g = v->nodes[0].s;
    uint32_t cursor = 0;
    route(g, &cursor, "?", 3);
    assert_int_equal(cursor, 3);
    vnet_kill(v, 1);
    vnet_kill(v, 2);
    assert_true(run_until(v, 0, 1, -1));
    assert_true(run_until(v, 0, 2, -1));
    assert_int_equal(swim_member_count(g), 2);
    sent s = route(g, &cursor, "?", 3);
    assert_int_equal(s.n, 3);
    for (int k = 0; k < 3; k++) assert_string_equal(s.to[k]->name, v->nodes[3].name);
    cluster_free(v);
}

/* Nobody to send to: alone, or every other member dead. Nothing is sent
 * (and the turn does not loop forever looking). */
static void nobody_live(void **state) {
    (void)state;
    vnet *alone = cluster(1, 86400000);
    uint32_t cursor = 7;
    assert_int_equal(route(alone->nodes[0].s, &cursor, "?", 3).n, 0);
    assert_int_equal(route(alone->nodes[0].s, &cursor, "*", 1).n, 0);
    assert_int_equal(route(alone->nodes[0].s, &cursor, alone->nodes[0].name, 1).n, 0);
    assert_int_equal(cursor, 7);
    cluster_free(alone);

    vnet *v = cluster(3, 86400000);
    vnet_kill(v, 1);
    vnet_kill(v, 2);
    assert_true(run_until(v, 0, 1, SWIM_DEAD));
    assert_true(run_until(v, 0, 2, SWIM_DEAD));
    cursor = 0;
    assert_int_equal(route(v->nodes[0].s, &cursor, "?", 3).n, 0);
    assert_int_equal(route(v->nodes[0].s, &cursor, "*", 1).n, 0);
    assert_int_equal(route(v->nodes[0].s, &cursor, v->nodes[1].name, 1).n, 0);
    cluster_free(v);
}

/* A table datagram that `name` sends (its first UPDATE). */
static uint8_t *table_datagram(const char *name, uint32_t *len) {
    chtable *t = chtable_new(name, "test", 1);
    chtable_set_local(t, "room", 1, 0);
    chtable_tick(t, 0);
    uint32_t n = 0;
    const core_out *o = outbox_items(chtable_outbox(t), &n);
    assert_true(n >= 1);
    uint8_t *copy = malloc(o[0].len);
    assert_non_null(copy);
    memcpy(copy, o[0].data, o[0].len);
    *len = o[0].len;
    chtable_free(t);
    return copy;
}

static void accepted_only_from_live_members(void **state) {
    (void)state;
    vnet *v = cluster(3, 86400000);
    const swim *g = v->nodes[0].s;
    uint32_t len1, len_x;
    uint8_t *from1 = table_datagram(v->nodes[1].name, &len1);
    uint8_t *from_x = table_datagram("stranger@10.9.9.9", &len_x);
    assert_true(chtable_from_member(g, from1, len1));
    assert_false(chtable_from_member(g, from_x, len_x));       /* not a member */
    assert_false(chtable_from_member(g, from1, 3));            /* cut short */
    assert_false(chtable_from_member(g, from1, 0));
    vnet_kill(v, 1);
    assert_true(run_until(v, 0, 1, SWIM_SUSPECT));
    assert_true(chtable_from_member(g, from1, len1));          /* suspect: still a member */
    assert_true(run_until(v, 0, 1, SWIM_DEAD));
    assert_false(chtable_from_member(g, from1, len1));         /* dead: dropped */
    free(from1);
    free(from_x);
    cluster_free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_rotates_in_member_order),
        cmocka_unit_test(everyone_is_every_other_live_member),
        cmocka_unit_test(by_name),
        cmocka_unit_test(suspect_counts_dead_does_not),
        cmocka_unit_test(left_member_is_skipped),
        cmocka_unit_test(reaped_members_shrink_the_turn),
        cmocka_unit_test(nobody_live),
        cmocka_unit_test(accepted_only_from_live_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
