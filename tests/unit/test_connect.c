/* test_connect.c - the `connect` decoder against what sora-js-sdk really
 * sends (tests/fixtures/sora-js-sdk) and against every rule it enforces: each bad
 * input gets its close code and a reason that fits a close frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connect.h"
#include "fixture.h"

static void real_client_connect(void **state) {
    (void)state;
    size_t len;
    char *text = fixture_read("sora-js-sdk/connect-message.sendrecv.json", &len);
    sig_connect c;
    sig_error e;
    assert_true(sig_connect_parse(text, len, &c, &e));
    assert_int_equal(c.role, SIG_SENDRECV);
    assert_string_equal(c.channel_id, "harness");
    assert_false(c.redirect);
    assert_true(c.audio && c.video);
    assert_null(c.metadata); /* the SDK sends "metadata": null */
    assert_non_null(c.sdp);
    assert_non_null(strstr(c.sdp, "m=audio"));
    assert_string_equal(c.sora_client, "Sora JavaScript SDK 2025.2.0");
    sig_connect_free(&c);
    free(text);
    text = fixture_read("sora-js-sdk/connect-message.after-redirect.json", &len);
    assert_true(sig_connect_parse(text, len, &c, &e));
    assert_true(c.redirect);
    sig_connect_free(&c);
    free(text);
}

static void accepted_variants(void **state) {
    (void)state;
    sig_connect c;
    sig_error e;
    const char *ok = "{\"type\":\"connect\",\"role\":\"recvonly\",\"channel_id\":\"a:b@c/d\",\"metadata\":{\"k\":[1,2]},"
                     "\"audio\":{\"codec_type\":\"OPUS\"},\"video\":false,\"client_id\":\"me\",\"future\":{\"x\":1}}";
    assert_true(sig_connect_parse(ok, strlen(ok), &c, &e));
    assert_int_equal(c.role, SIG_RECVONLY);
    assert_string_equal(c.metadata, "{\"k\":[1,2]}");
    assert_true(c.audio);
    assert_false(c.video);
    assert_string_equal(c.client_id, "me");
    assert_null(c.sdp);
    assert_string_equal(c.video_codec, "");
    sig_connect_free(&c);
    const char *h264 = "{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"video\":{\"codec_type\":\"H264\"}}";
    assert_true(sig_connect_parse(h264, strlen(h264), &c, &e));
    assert_true(c.video);
    assert_string_equal(c.video_codec, "H264");
    sig_connect_free(&c);
}

typedef struct bad {
    const char *text;
    uint16_t code;
    const char *reason_has;
} bad;

static void rejected_with_reason(void **state) {
    (void)state;
    char long_id[400], long_md[SIG_METADATA_MAX + 200], long_client[400];
    memset(long_id, 'x', 256);
    long_id[256] = '\0';
    memset(long_client, 'c', 300);
    long_client[300] = '\0';
    char *msg_id = malloc(1024), *msg_md = malloc(sizeof long_md + 200), *msg_client = malloc(1024);
    snprintf(msg_id, 1024, "{\"type\":\"connect\",\"role\":\"sendonly\",\"channel_id\":\"%s\"}", long_id);
    memset(long_md, 'm', SIG_METADATA_MAX);
    long_md[SIG_METADATA_MAX] = '\0';
    snprintf(msg_md, sizeof long_md + 200, "{\"type\":\"connect\",\"role\":\"sendonly\",\"channel_id\":\"r\",\"metadata\":\"%s\"}",
             long_md);
    snprintf(msg_client, 1024, "{\"type\":\"connect\",\"role\":\"sendonly\",\"channel_id\":\"r\",\"client_id\":\"%s\"}",
             long_client);
    const bad cases[] = {
        {"", 1007, "not JSON"},
        {"{\"type\":\"connect\"", 1007, "not JSON"},
        {"[1,2]", 1007, "JSON object"},
        {"\"connect\"", 1007, "JSON object"},
        {"{}", 1008, "type"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"video\":{\"codec_type\":\"VP9\"}}", 1008,
         "VP9 is not served here"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"video\":{\"codec_type\":5}}", 1008,
         "codec_type"},
        {"{\"type\":\"offer\"}", 1008, "must be connect"},
        {"{\"type\":\"connect\",\"channel_id\":\"r\"}", 1008, "role"},
        {"{\"type\":\"connect\",\"role\":\"publisher\",\"channel_id\":\"r\"}", 1008, "role"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\"}", 1008, "channel_id"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":7}", 1008, "channel_id"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"\"}", 1008, "channel_id"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"a b\"}", 1008, "channel_id"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"caf\xc3\xa9\"}", 1008, "channel_id"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"a\\u0000b\"}", 1007, "not JSON"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"channel_id\":\"s\"}", 1007, "duplicate"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"redirect\":\"yes\"}", 1008, "redirect"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"audio\":1}", 1008, "audio"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"sdp\":5}", 1008, "sdp"},
        {"{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"r\",\"client_id\":[]}", 1008, "client_id"},
        {msg_id, 1008, "channel_id"},
        {msg_md, 1008, "metadata"},
        {msg_client, 1008, "client_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sig_connect c;
        sig_error e;
        if (sig_connect_parse(cases[i].text, strlen(cases[i].text), &c, &e))
            fail_msg("case %zu was accepted: %.80s", i, cases[i].text);
        if (e.close_code != cases[i].code || strstr(e.reason, cases[i].reason_has) == NULL)
            fail_msg("case %zu: got %u \"%s\", want %u with \"%s\"", i, e.close_code, e.reason, cases[i].code,
                     cases[i].reason_has);
        assert_true(strlen(e.reason) <= SIG_REASON_MAX);
        assert_null(c.sdp);
        assert_null(c.metadata);
    }
    free(msg_id);
    free(msg_md);
    free(msg_client);
}

static void oversized_message(void **state) {
    (void)state;
    size_t n = SIG_MESSAGE_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    sig_connect c;
    sig_error e;
    assert_false(sig_connect_parse(big, n, &c, &e));
    assert_int_equal(e.close_code, 1009);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_client_connect),
        cmocka_unit_test(accepted_variants),
        cmocka_unit_test(rejected_with_reason),
        cmocka_unit_test(oversized_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
