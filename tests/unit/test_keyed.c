/* test_keyed.c - the string index (strmap) and the indexed array over it
 * (keyed): find, insert past many resizes, backward-shift deletion keeps
 * every other key findable, swap-remove reports the moved item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keyed.h"

typedef struct item {
    char id[16];
    int value;
} item;

static const char *item_key(const void *p) { return ((const item *)p)->id; }

static void add_find_remove(void **state) {
    (void)state;
    keyed k;
    keyed_init(&k, sizeof(item), item_key);
    enum { COUNT = 5000 };
    for (int i = 0; i < COUNT; i++) {
        item it = {.value = i};
        snprintf(it.id, sizeof it.id, "ch-%d", i);
        assert_int_equal(keyed_add(&k, &it), i);
    }
    assert_int_equal(k.n, COUNT);
    assert_int_equal(keyed_find(&k, "ch-4242"), 4242);
    assert_int_equal(keyed_find(&k, "nope"), -1);
    /* removing item 10 moves the last (4999) into its place */
    assert_int_equal(keyed_remove(&k, 10), COUNT - 1);
    assert_int_equal(keyed_find(&k, "ch-10"), -1);
    assert_int_equal(keyed_find(&k, "ch-4999"), 10);
    assert_int_equal(((item *)keyed_at(&k, 10))->value, 4999);
    assert_int_equal(keyed_remove(&k, k.n - 1), -1); /* the last: nothing moves */
    /* remove every other one: all the rest stay findable at their index */
    for (int i = 0; i < COUNT; i += 2) {
        char id[16];
        snprintf(id, sizeof id, "ch-%d", i);
        int64_t at = keyed_find(&k, id);
        if (at >= 0) keyed_remove(&k, (uint32_t)at);
    }
    for (uint32_t i = 0; i < k.n; i++) {
        const item *it = keyed_at(&k, i);
        assert_int_equal(keyed_find(&k, it->id), i);
        assert_int_equal(it->value % 2, 1);
    }
    keyed_free(&k);
}

static const char *const NAMES[] = {"a", "b", "c", "d"};
static const char *name_key(const void *ctx, uint32_t i) {
    (void)ctx;
    return NAMES[i];
}

static void strmap_basics(void **state) {
    (void)state;
    strmap m;
    strmap_init(&m, name_key, NULL);
    for (uint32_t i = 0; i < 4; i++) assert_true(strmap_insert(&m, NAMES[i], i));
    assert_int_equal(strmap_find(&m, "c"), 2);
    strmap_remove(&m, "b");
    assert_int_equal(strmap_find(&m, "b"), -1);
    assert_int_equal(strmap_find(&m, "d"), 3);
    assert_true(strmap_memory(&m) > 0);
    strmap_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_find_remove),
        cmocka_unit_test(strmap_basics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
