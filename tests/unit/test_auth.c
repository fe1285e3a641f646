/* test_auth.c - the auth webhook's answer: only HTTP 200 with a boolean
 * "allowed": true admits; every other answer rejects with a clear reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static void decode(int status, const char *body, sig_auth_answer *a) { sig_auth_decode(status, body, strlen(body), a); }

static void allowed_and_denied(void **state) {
    (void)state;
    sig_auth_answer a;
    decode(200, "{\"allowed\":true}", &a);
    assert_true(a.allowed);
    decode(200, "{\"allowed\":true,\"metadata\":{\"x\":1},\"unknown\":[]}", &a);
    assert_true(a.allowed);
    decode(200, "{\"allowed\":false,\"reason\":\"bad token\"}", &a);
    assert_false(a.allowed);
    assert_string_equal(shoal_outcome_name(a.code), "AUTH-REJECTED");
    assert_string_equal(a.words, "bad token");
    decode(200, "{\"allowed\":false}", &a);
    assert_string_equal(a.words, "not allowed");
}

static void errors_never_admit(void **state) {
    (void)state;
    static const struct { int status; const char *body, *words; } cases[] = {
        {500, "{\"allowed\":true}", "HTTP status 500"},
        {302, "", "HTTP status 302"},
        {200, "", "no boolean"},
        {200, "true", "no boolean"},
        {200, "{\"allowed\":\"true\"}", "no boolean"},
        {200, "{\"allowed\":1}", "no boolean"},
        {200, "[{\"allowed\":true}]", "no boolean"},
        {200, "{\"allowed\":true", "no boolean"},
        {200, "{\"Allowed\":true}", "no boolean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sig_auth_answer a;
        decode(cases[i].status, cases[i].body, &a);
        if (a.allowed) fail_msg("case %zu (%s) admitted", i, cases[i].body);
        assert_string_equal(shoal_outcome_name(a.code), "AUTH-WEBHOOK-ERROR");
        if (strstr(a.words, cases[i].words) == NULL) fail_msg("case %zu: \"%s\" lacks \"%s\"", i, a.words, cases[i].words);
    }
}

static void reason_fits_a_close_frame(void **state) {
    (void)state;
    char longer[301]; /* longer than a close frame's 123 bytes */
    memset(longer, 'x', 300);
    longer[300] = '\0';
    char body[600];
    snprintf(body, sizeof body, "{\"allowed\":false,\"reason\":\"%s\\n\\u0001end\"}", longer);
    sig_auth_answer a;
    decode(200, body, &a);
    assert_false(a.allowed);
    assert_true(strlen(a.words) <= SIG_REASON_MAX);
    decode(200, "{\"allowed\":false,\"reason\":\"a\\nb\\u0007c\"}", &a);
    assert_string_equal(a.words, "a?b?c");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allowed_and_denied),
        cmocka_unit_test(errors_never_admit),
        cmocka_unit_test(reason_fits_a_close_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
