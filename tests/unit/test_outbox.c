/* test_outbox.c - the cores' one outbox: messages come back in the order
 * pushed with every field, the outbox owns their data (clear and free free
 * it, a push that fails frees it, move hands it over without copying, and
 * an sbuffer's bytes are taken, not copied), and a cleared or freed outbox
 * takes messages again. Leaks and double frees fail the test under ASan
 * (SHOAL_SANITIZE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outbox.h"

static core_out msg(int kind, const char *to, const char *text) {
    core_out m = {.kind = kind, .addr = {0x0a000001u + (uint32_t)kind, 49010}, .conn_id = (uint64_t)kind * 7,
                  .len = (uint32_t)strlen(text)};
    snprintf(m.to, sizeof m.to, "%s", to);
    m.data = malloc(m.len ? m.len : 1);
    assert_non_null(m.data);
    memcpy(m.data, text, m.len);
    return m;
}

/* An outbox whose array cannot grow (full at UINT32_MAX items, the most a
 * capacity can say): the next push fails without touching memory. */
static void make_full(outbox *o) { o->v = (vec){.items = NULL, .len = UINT32_MAX, .cap = UINT32_MAX}; }

static void push_keeps_order_fields_and_data(void **state) {
    (void)state;
    outbox o = {0};
    uint32_t n = 99;
    assert_null(outbox_items(&o, &n));
    assert_int_equal(n, 0);
    const char *texts[] = {"first", "second", "third"};
    uint8_t *datas[3];
    for (int i = 0; i < 3; i++) {
        core_out m = msg(i + 1, i == 2 ? "*" : "n1@10.0.0.1", texts[i]);
        datas[i] = m.data;
        assert_true(outbox_push(&o, &m));
    }
    const core_out *it = outbox_items(&o, &n);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(it[i].kind, i + 1);
        assert_string_equal(it[i].to, i == 2 ? "*" : "n1@10.0.0.1");
        assert_int_equal(it[i].addr.ip, 0x0a000001u + (uint32_t)i + 1);
        assert_int_equal(it[i].addr.port, 49010);
        assert_int_equal(it[i].conn_id, (uint64_t)(i + 1) * 7);
        assert_ptr_equal(it[i].data, datas[i]); /* taken, not copied */
        assert_int_equal(it[i].len, strlen(texts[i]));
        assert_memory_equal(it[i].data, texts[i], it[i].len);
    }
    outbox_free(&o);
}

static void clear_frees_data_and_keeps_the_array(void **state) {
    (void)state;
    outbox o = {0};
    for (int i = 0; i < 20; i++) { /* past the first capacity */
        core_out m = msg(0, "a", "payload");
        assert_true(outbox_push(&o, &m));
    }
    uint32_t cap = o.v.cap, n;
    outbox_clear(&o); /* a leak here: LeakSanitizer reports the 20 payloads */
    assert_non_null(outbox_items(&o, &n));
    assert_int_equal(n, 0);
    assert_int_equal(o.v.cap, cap);
    core_out m = msg(0, "b", "again");
    assert_true(outbox_push(&o, &m));
    assert_string_equal(outbox_items(&o, &n)[0].to, "b");
    assert_int_equal(n, 1);
    outbox_clear(&o);
    outbox_clear(&o); /* twice: nothing freed twice */
    outbox_free(&o);
}

static void empty_messages_carry_no_data(void **state) {
    (void)state;
    outbox o = {0};
    core_out m = {.kind = 1, .len = 0, .data = NULL};
    assert_true(outbox_push(&o, &m));
    uint32_t n;
    assert_null(outbox_items(&o, &n)[0].data);
    outbox_free(&o);
}

static void a_failed_push_frees_the_data(void **state) {
    (void)state;
    outbox o = {0};
    make_full(&o);
    core_out m = msg(0, "a", "lost"); /* a leak here if the push keeps it */
    assert_false(outbox_push(&o, &m));
    assert_int_equal(o.v.len, UINT32_MAX); /* nothing appended */
    o.v = (vec){0};
    outbox_free(&o);
}

static void an_sbuffer_is_taken(void **state) {
    (void)state;
    outbox o = {0};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_write(&sb, "packed", 6);
    char *bytes = sb.data;
    core_out m = {.kind = 1, .to = "n2@10.0.0.2"};
    assert_true(outbox_push_sbuffer(&o, &m, &sb));
    assert_null(sb.data); /* emptied: destroying it frees nothing of the outbox's */
    assert_int_equal(sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
    uint32_t n;
    const core_out *it = outbox_items(&o, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(it[0].data, bytes);
    assert_int_equal(it[0].len, 6);
    assert_string_equal(it[0].to, "n2@10.0.0.2");
    msgpack_sbuffer_init(&sb); /* no memory: nothing appended */
    assert_false(outbox_push_sbuffer(&o, &m, &sb));
    msgpack_sbuffer_write(&sb, "lost", 4);
    outbox full = {0};
    make_full(&full);
    assert_false(outbox_push_sbuffer(&full, &m, &sb)); /* a leak here if the bytes are kept */
    assert_null(sb.data);
    outbox_items(&o, &n);
    assert_int_equal(n, 1);
    outbox_free(&o);
}

static void move_hands_every_message_over(void **state) {
    (void)state;
    outbox dst = {0}, src = {0};
    core_out a = msg(1, "a", "to-a");
    assert_true(outbox_push(&dst, &a));
    uint8_t *moved[2];
    for (int i = 0; i < 2; i++) {
        core_out m = msg(2 + i, "b", i ? "two" : "one");
        moved[i] = m.data;
        assert_true(outbox_push(&src, &m));
    }
    outbox_move(&dst, &src);
    uint32_t n;
    outbox_items(&src, &n);
    assert_int_equal(n, 0);
    const core_out *it = outbox_items(&dst, &n);
    assert_int_equal(n, 3);
    assert_int_equal(it[0].kind, 1);
    assert_ptr_equal(it[1].data, moved[0]); /* the same bytes: now dst's */
    assert_ptr_equal(it[2].data, moved[1]);
    assert_memory_equal(it[2].data, "two", 3);
    outbox_free(&src); /* frees nothing of dst's: a double free here otherwise */
    outbox_free(&dst);
}

static void move_into_a_full_outbox_frees_what_does_not_fit(void **state) {
    (void)state;
    outbox dst = {0}, src = {0};
    for (int i = 0; i < 3; i++) {
        core_out m = msg(0, "a", "dropped");
        assert_true(outbox_push(&src, &m));
    }
    make_full(&dst);
    outbox_move(&dst, &src); /* a leak here if the dropped ones are kept */
    uint32_t n;
    outbox_items(&src, &n);
    assert_int_equal(n, 0);
    assert_int_equal(dst.v.len, UINT32_MAX);
    dst.v = (vec){0};
    outbox_free(&src);
}

static void a_freed_outbox_is_empty_and_reusable(void **state) {
    (void)state;
    outbox o = {0};
    core_out m = msg(0, "a", "x");
    assert_true(outbox_push(&o, &m));
    outbox_free(&o);
    uint32_t n = 99;
    assert_null(outbox_items(&o, &n));
    assert_int_equal(n, 0);
    m = msg(0, "a", "y");
    assert_true(outbox_push(&o, &m));
    outbox_free(&o);
    outbox_free(&o); /* twice: harmless */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_keeps_order_fields_and_data),
        cmocka_unit_test(clear_frees_data_and_keeps_the_array),
        cmocka_unit_test(empty_messages_carry_no_data),
        cmocka_unit_test(a_failed_push_frees_the_data),
        cmocka_unit_test(an_sbuffer_is_taken),
        cmocka_unit_test(move_hands_every_message_over),
        cmocka_unit_test(move_into_a_full_outbox_frees_what_does_not_fit),
        cmocka_unit_test(a_freed_outbox_is_empty_and_reusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
