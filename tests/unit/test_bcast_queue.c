/* test_bcast_queue.c - gossip's piggyback queue: a newer update about a
 * member replaces the queued one, the least-sent go first (newest among
 * equals), each leaves after `limit` sends, the byte budget and message
 * cap hold, and a member's entries can be dropped by prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bcast_queue.h"

typedef struct got {
    char msgs[16][32];
    int n;
} got;

static void emit(void *ctx, const uint8_t *data, uint32_t len) {
    got *g = ctx;
    memcpy(g->msgs[g->n], data, len);
    g->msgs[g->n++][len] = '\0';
}

static uint32_t fill(bcast_queue *q, uint32_t limit, size_t budget, uint32_t max, got *g) {
    memset(g, 0, sizeof *g);
    return bcast_queue_fill(q, limit, budget, max, emit, g);
}

static void newer_replaces_and_order(void **state) {
    (void)state;
    bcast_queue q;
    bcast_queue_init(&q);
    assert_true(bcast_queue_push(&q, "alive:a", "a1", 2));
    assert_true(bcast_queue_push(&q, "alive:b", "b1", 2));
    assert_true(bcast_queue_push(&q, "alive:a", "a2", 2)); /* replaces a1 */
    assert_int_equal(q.len, 2);
    got g;
    assert_int_equal(fill(&q, 3, 100, 10, &g), 2);
    assert_string_equal(g.msgs[0], "a2"); /* equal sends: newest first */
    assert_string_equal(g.msgs[1], "b1");
    assert_true(bcast_queue_push(&q, "alive:c", "c1", 2));
    fill(&q, 3, 100, 1, &g);
    assert_string_equal(g.msgs[0], "c1"); /* never sent beats sent once */
    bcast_queue_free(&q);
}

static void limits_budget_and_prefix(void **state) {
    (void)state;
    bcast_queue q;
    bcast_queue_init(&q);
    bcast_queue_push(&q, "alive:a", "aaaa", 4);
    got g;
    for (int i = 0; i < 3; i++) assert_int_equal(fill(&q, 3, 100, 10, &g), 1);
    assert_int_equal(fill(&q, 3, 100, 10, &g), 0); /* gone after 3 sends */
    assert_false(bcast_queue_has(&q, "alive:a"));
    bcast_queue_push(&q, "alive:a", "aaaa", 4);
    bcast_queue_push(&q, "alive:b", "bbbb", 4);
    assert_int_equal(fill(&q, 3, 5, 10, &g), 1); /* 5 bytes hold one 4-byte message */
    bcast_queue_push(&q, "suspect:a", "s", 1);
    bcast_queue_push(&q, "alive:ab", "x", 1);
    bcast_queue_drop_prefix(&q, "alive", ':'); /* every alive:* entry */
    assert_true(bcast_queue_has(&q, "suspect:a"));
    assert_false(bcast_queue_has(&q, "alive:b"));
    assert_false(bcast_queue_has(&q, "alive:ab"));
    bcast_queue_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(newer_replaces_and_order),
        cmocka_unit_test(limits_budget_and_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
