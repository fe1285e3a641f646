/* test_strmap.c - the string index (placement/strmap.h) on its own: keys
 * live in the caller's items and the map holds item numbers. Find, insert
 * and remove; growth from empty past 10,000 keys with the load kept at most
 * 3/4; backward-shift deletion keeping every other key of a probe run
 * findable, also where the run wraps past the table's end; reindex (an
 * item moved); the empty string as a key; item 0 and large item numbers;
 * a long random history checked against a plain array. Run under ASan
 * (SHOAL_SANITIZE) for the memory side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "strmap.h"

/* The caller's items: item i's key is keys[i] (ctx is the array). */
#define MAXKEYS 10000
#define KEYLEN 24
static char keys[MAXKEYS][KEYLEN];

static const char *key_of(const void *ctx, uint32_t item) {
    const char (*k)[KEYLEN] = ctx;
    return k[item];
}

static void name_keys(uint32_t count, const char *prefix) {
    for (uint32_t i = 0; i < count; i++) snprintf(keys[i], KEYLEN, "%s%u", prefix, i);
}

/* m holds items 0..count-1 of keys named prefix0, prefix1, ... */
static void map_of(strmap *m, uint32_t count, const char *prefix) {
    name_keys(count, prefix);
    strmap_init(m, key_of, keys);
    for (uint32_t i = 0; i < count; i++) assert_true(strmap_insert(m, keys[i], i));
    assert_int_equal(m->n, count);
}

static void assert_all_findable(const strmap *m, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) assert_int_equal(strmap_find(m, keys[i]), i);
}

static void empty_map(void **state) {
    (void)state;
    strmap m;
    strmap_init(&m, key_of, keys);
    assert_int_equal(m.n, 0);
    assert_int_equal(strmap_find(&m, "x"), -1);   /* no table yet */
    strmap_remove(&m, "x");                       /* no-op, no crash */
    strmap_reindex(&m, "x", 3);                   /* no-op: nothing to reindex */
    assert_int_equal(strmap_find(&m, "x"), -1);
    assert_int_equal(strmap_memory(&m), sizeof m); /* no slots allocated */
    strmap_free(&m);
    strmap_free(&m); /* twice: slots were reset to NULL */
    assert_null(m.slots);
}

static void insert_find_remove(void **state) {
    (void)state;
    strmap m;
    map_of(&m, 4, "ch-");
    assert_int_equal(strmap_find(&m, "ch-0"), 0); /* item 0 is stored (as slot value 1) */
    assert_int_equal(strmap_find(&m, "ch-3"), 3);
    assert_int_equal(strmap_find(&m, "ch-4"), -1);
    assert_int_equal(strmap_find(&m, "ch-"), -1);  /* a prefix of a key is another key */
    assert_int_equal(strmap_find(&m, "ch-30"), -1);
    strmap_remove(&m, "nope");                     /* absent: nothing changes */
    assert_int_equal(m.n, 4);
    strmap_remove(&m, "ch-1");
    assert_int_equal(m.n, 3);
    assert_int_equal(strmap_find(&m, "ch-1"), -1);
    strmap_remove(&m, "ch-1");                     /* removed twice: still 3 */
    assert_int_equal(m.n, 3);
    assert_int_equal(strmap_find(&m, "ch-0"), 0);
    assert_int_equal(strmap_find(&m, "ch-2"), 2);
    assert_int_equal(strmap_find(&m, "ch-3"), 3);
    assert_true(strmap_insert(&m, keys[1], 1));    /* and back */
    assert_int_equal(strmap_find(&m, "ch-1"), 1);
    strmap_free(&m);
}

/* From empty to 10,000 keys: every doubling rehashes what is there; the
 * capacity stays a power of two with the load at most 3/4, and memory is
 * what the slots take. Then half go and the other half stay findable. */
static void growth_past_ten_thousand(void **state) {
    (void)state;
    name_keys(MAXKEYS, "channel-");
    strmap m;
    strmap_init(&m, key_of, keys);
    uint32_t grows = 0, cap = 0;
    for (uint32_t i = 0; i < MAXKEYS; i++) {
        assert_true(strmap_insert(&m, keys[i], i));
        if (m.cap != cap) grows++, cap = m.cap;
        assert_true((uint64_t)m.n * 4 <= (uint64_t)m.cap * 3);
    }
    assert_int_equal(m.n, MAXKEYS);
    assert_int_equal(m.cap & (m.cap - 1), 0);
    assert_int_equal(m.cap, 16384); /* 64 doubled until 10,000 fit at 3/4 */
    assert_true(grows >= 8);        /* 64 .. 16384 */
    assert_int_equal(strmap_memory(&m), sizeof m + (size_t)m.cap * sizeof(uint32_t));
    assert_all_findable(&m, MAXKEYS);
    for (uint32_t i = 0; i < MAXKEYS; i += 2) strmap_remove(&m, keys[i]);
    assert_int_equal(m.n, MAXKEYS / 2);
    assert_int_equal(m.cap, 16384); /* removal never shrinks */
    for (uint32_t i = 0; i < MAXKEYS; i++) assert_int_equal(strmap_find(&m, keys[i]), i % 2 ? (int64_t)i : -1);
    /* no tombstones: the removed keys' slots are free again, so putting
     * them back does not grow the table */
    for (uint32_t i = 0; i < MAXKEYS; i += 2) assert_true(strmap_insert(&m, keys[i], i));
    assert_int_equal(m.cap, 16384);
    assert_all_findable(&m, MAXKEYS);
    strmap_free(&m);
}

/* keys[i] becomes a key whose home slot in a 64-slot table (as strmap.c
 * computes it) is homes[i]. If the hash ever changes these keys stop
 * colliding as planned, and the assertions still hold. */
static void keys_with_homes(const uint32_t *homes, uint32_t count) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < count; i++) {
        for (;; c++) {
            snprintf(keys[i], KEYLEN, "c%u", c);
            if ((XXH3_64bits(keys[i], strlen(keys[i])) & 63) == homes[i]) break;
        }
        c++;
    }
}

/* One probe run across the table's end, inserted in this order: homes 62,
 * 62, 0, 62, 1, 63 land in slots 62, 63, 0, 1, 2, 3. Removing any one of
 * them leaves all the others findable: the backward shift must pull a
 * key into the hole only when its home is not after the hole (cyclically:
 * the key of home 0 in slot 0 stays when slot 63 empties, the key of home
 * 62 in slot 1 moves), and must leave no hole before a key. Then the rest
 * go one by one and every slot is empty again. */
static void collisions_and_wraparound(void **state) {
    (void)state;
    static const uint32_t homes[] = {62, 62, 0, 62, 1, 63};
    enum { ALL = sizeof homes / sizeof homes[0] };
    keys_with_homes(homes, ALL);
    for (uint32_t gone = 0; gone < ALL; gone++) {
        strmap m;
        strmap_init(&m, key_of, keys);
        for (uint32_t i = 0; i < ALL; i++) assert_true(strmap_insert(&m, keys[i], i));
        assert_int_equal(m.cap, 64);
        assert_all_findable(&m, ALL);
        strmap_remove(&m, keys[gone]);
        assert_int_equal(m.n, ALL - 1);
        for (uint32_t i = 0; i < ALL; i++) assert_int_equal(strmap_find(&m, keys[i]), i == gone ? -1 : (int64_t)i);
        for (uint32_t i = 0; i < ALL; i++) {
            if (i == gone) continue;
            strmap_remove(&m, keys[i]);
            for (uint32_t j = i + 1; j < ALL; j++)
                if (j != gone) assert_int_equal(strmap_find(&m, keys[j]), j);
        }
        assert_int_equal(m.n, 0);
        for (uint32_t i = 0; i < m.cap; i++) assert_int_equal(m.slots[i], 0); /* nothing left behind */
        strmap_free(&m);
    }
}

/* reindex: the item holding a key moved (keyed's swap-remove): find
 * answers the new item; an absent key is not added. */
static void reindex_moves_an_item(void **state) {
    (void)state;
    strmap m;
    map_of(&m, 9, "k");
    memcpy(keys[9], keys[4], KEYLEN); /* item 4 moves to 9 */
    strmap_reindex(&m, "k4", 9);
    assert_int_equal(strmap_find(&m, "k4"), 9);
    assert_int_equal(m.n, 9);
    strmap_reindex(&m, "absent", 2);
    assert_int_equal(strmap_find(&m, "absent"), -1);
    assert_int_equal(strmap_find(&m, "k2"), 2);
    assert_int_equal(m.n, 9);
    strmap_remove(&m, "k4"); /* removed under its new item */
    assert_int_equal(strmap_find(&m, "k4"), -1);
    for (uint32_t i = 0; i < 9; i++)
        if (i != 4) assert_int_equal(strmap_find(&m, keys[i]), i);
    strmap_free(&m);
}

static void empty_string_key(void **state) {
    (void)state;
    strmap m;
    strmap_init(&m, key_of, keys);
    snprintf(keys[0], KEYLEN, "%s", "");
    snprintf(keys[1], KEYLEN, "%s", "a");
    assert_true(strmap_insert(&m, keys[0], 0));
    assert_true(strmap_insert(&m, keys[1], 1));
    assert_int_equal(strmap_find(&m, ""), 0);
    assert_int_equal(strmap_find(&m, "a"), 1);
    strmap_remove(&m, "");
    assert_int_equal(strmap_find(&m, ""), -1);
    assert_int_equal(strmap_find(&m, "a"), 1);
    strmap_free(&m);
}

static const char *fixed_key(const void *ctx, uint32_t item) {
    (void)item;
    return ctx;
}

/* Item numbers are opaque to the map: the largest that fits (the slot
 * holds item + 1, and 0 marks an empty slot) comes back intact. */
static void largest_item_number(void **state) {
    (void)state;
    strmap m;
    strmap_init(&m, fixed_key, "only");
    assert_true(strmap_insert(&m, "only", UINT32_MAX - 1));
    assert_int_equal(strmap_find(&m, "only"), (int64_t)(UINT32_MAX - 1));
    strmap_remove(&m, "only");
    assert_int_equal(strmap_find(&m, "only"), -1);
    strmap_free(&m);
}

/* 200,000 random inserts and removes over 3,000 keys, against a plain
 * array saying which keys are in: after every step the touched key, and
 * every 1,000 steps every key, is where the array says. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void random_history(void **state) {
    (void)state;
    enum { KEYS = 3000, STEPS = 200000 };
    static bool in[KEYS];
    memset(in, 0, sizeof in);
    name_keys(KEYS, "r/");
    strmap m;
    strmap_init(&m, key_of, keys);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint32_t count = 0;
    for (uint32_t step = 0; step < STEPS; step++) {
        uint32_t k = (uint32_t)(rng_next(&seed) % KEYS);
        if (in[k]) {
            strmap_remove(&m, keys[k]);
            count--;
        } else {
            assert_true(strmap_insert(&m, keys[k], k));
            count++;
        }
        in[k] = !in[k];
        assert_int_equal(m.n, count);
        assert_int_equal(strmap_find(&m, keys[k]), in[k] ? (int64_t)k : -1);
        if (step % 1000 == 999)
            for (uint32_t i = 0; i < KEYS; i++) assert_int_equal(strmap_find(&m, keys[i]), in[i] ? (int64_t)i : -1);
    }
    strmap_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_map),
        cmocka_unit_test(insert_find_remove),
        cmocka_unit_test(growth_past_ten_thousand),
        cmocka_unit_test(collisions_and_wraparound),
        cmocka_unit_test(reindex_moves_an_item),
        cmocka_unit_test(empty_string_key),
        cmocka_unit_test(largest_item_number),
        cmocka_unit_test(random_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
