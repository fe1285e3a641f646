/* test_view.c - the placement ring from a gossip view (placement/view.h)
 * and where channel-table datagrams go (placement/chtable_route.h), over
 * real swim cores on the virtual network: only serving members in mode
 * normal are on the ring, the ring is rebuilt only when its inputs change,
 * loads are read without a rebuild, a suspect is reported as such, and
 * table datagrams go to every live member, in turn, or to one by name,
 * and are accepted only from members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chtable_route.h"
#include "vnet.h"
#include "view.h"

static void publish(vnet *v, int i, uint8_t serving, uint8_t mode, uint32_t load) {
    wire_meta m = swim_member_at(v->nodes[i].s, 0)->meta;
    m.serving = serving;
    m.mode = mode;
    m.load = load;
    swim_set_meta(v->nodes[i].s, v->now, &m);
}

static vnet *four(void) {
    static vnet v;
    vnet_init(&v, 7);
    for (int i = 0; i < 4; i++) vnet_add(&v);
    vnet_run(&v, 5000);
    return &v;
}

static void the_ring_holds_serving_normal_members(void **state) {
    (void)state;
    vnet *v = four();
    view_ring r = {0};
    view_ring_update(&r, v->nodes[0].s);
    assert_int_equal(r.r.nnodes, 0); /* nobody serves yet */
    publish(v, 0, 1, WIRE_MODE_NORMAL, 5);
    publish(v, 1, 1, WIRE_MODE_NORMAL, 7);
    publish(v, 2, 1, WIRE_MODE_BLOCK_NEW_SESSION, 0); /* takes no new channels */
    publish(v, 3, 0, WIRE_MODE_NORMAL, 0);            /* does not serve */
    vnet_run(v, 3000);
    assert_true(view_ring_update(&r, v->nodes[3].s));
    assert_int_equal(r.r.nnodes, 2);
    assert_true(ring_find(&r.r, v->nodes[0].name) >= 0);
    assert_true(ring_find(&r.r, v->nodes[1].name) >= 0);
    uint64_t version = r.version;
    assert_false(view_ring_update(&r, v->nodes[3].s)); /* same inputs: no rebuild */
    publish(v, 0, 1, WIRE_MODE_NORMAL, 9);             /* a load change is not a ring change */
    vnet_run(v, 2000);
    assert_false(view_ring_update(&r, v->nodes[3].s));
    assert_int_equal(r.version, version);
    view_ring_refresh_loads(&r, v->nodes[3].s);
    assert_int_equal(r.total_load, 16);
    /* a killed member is suspected, then dead and off the ring */
    vnet_kill(v, 1);
    vnet_run(v, 1500);
    bool suspected = view_suspects(v->nodes[3].s, v->nodes[1].name);
    vnet_run(v, 15000);
    assert_true(suspected || vnet_state(v, 3, 1) == SWIM_DEAD);
    assert_false(view_suspects(v->nodes[3].s, "")); /* nobody named: not a suspect */
    assert_true(view_ring_update(&r, v->nodes[3].s));
    assert_int_equal(r.r.nnodes, 1);
    view_ring_free(&r);
    vnet_free(v);
}

typedef struct sent {
    char to[8][WIRE_NAME_MAX + 1];
    int n;
} sent;

static void record(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len) {
    sent *s = ctx;
    (void)data, (void)len;
    memcpy(s->to[s->n++], to->name, sizeof s->to[0]);
}

static void table_datagrams_go_to_live_members(void **state) {
    (void)state;
    vnet *v = four();
    core_out all = {.to = "*", .len = 1, .data = (uint8_t *)"x"};
    sent s = {0};
    uint32_t cursor = 0;
    chtable_route(v->nodes[0].s, &cursor, &all, record, &s);
    assert_int_equal(s.n, 3); /* every other live member, not itself */
    for (int k = 0; k < s.n; k++) assert_string_not_equal(s.to[k], v->nodes[0].name);
    /* "?": one member in turn: three digests reach three different members */
    core_out next = {.to = "?", .len = 1, .data = (uint8_t *)"x"};
    memset(&s, 0, sizeof s);
    for (int k = 0; k < 3; k++) chtable_route(v->nodes[0].s, &cursor, &next, record, &s);
    assert_int_equal(s.n, 3);
    assert_string_not_equal(s.to[0], s.to[1]);
    assert_string_not_equal(s.to[1], s.to[2]);
    assert_string_not_equal(s.to[0], s.to[2]);
    /* by name: a live member gets it, a dead one does not */
    vnet_kill(v, 2);
    vnet_run(v, 20000);
    core_out one = {.len = 1, .data = (uint8_t *)"x"};
    memcpy(one.to, v->nodes[2].name, sizeof v->nodes[2].name);
    memset(&s, 0, sizeof s);
    chtable_route(v->nodes[0].s, &cursor, &one, record, &s);
    assert_int_equal(s.n, 0);
    memcpy(one.to, v->nodes[1].name, sizeof v->nodes[1].name);
    chtable_route(v->nodes[0].s, &cursor, &one, record, &s);
    assert_int_equal(s.n, 1);
    /* not a table datagram at all: not from a member */
    const uint8_t junk[] = {0x93, 0x05, 0xa1};
    assert_false(chtable_from_member(v->nodes[0].s, junk, sizeof junk));
    vnet_free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_ring_holds_serving_normal_members),
        cmocka_unit_test(table_datagrams_go_to_live_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
