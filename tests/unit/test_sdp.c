/* test_sdp.c - the offer a browser gets and the answer Chromium sends back
 * (tests/fixtures/sora-js-sdk/chrome-answer.sdp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "sdp.h"

static void chrome_answer(void **st) {
    size_t len;
    char *text = fixture_read("sora-js-sdk/chrome-answer.sdp", &len);
    sdp_answer a;
    const char *why = NULL;
    assert_int_equal(sdp_answer_parse(text, len, &a, &why), 0);
    assert_string_equal(a.ufrag, "kR7X");
    assert_string_equal(a.pwd, "HfaRgkEKOrMU/Ft92h1YCo81");
    assert_string_equal(a.setup, "active");
    assert_int_equal(strncmp(a.fingerprint, "29:76:25:B6", 11), 0);
    assert_int_equal(a.n, 4);
    assert_string_equal(a.s[0].mid, "0");
    assert_int_equal(a.s[0].kind, SDP_AUDIO);
    assert_int_equal(a.s[0].dir, SDP_SENDONLY);
    assert_int_equal(a.s[0].ssrc, 4253508150u);
    assert_int_equal(a.s[0].pt, 111);
    assert_string_equal(a.s[0].msid_stream, "c1a14f23-40a4-4dc0-9a52-22c73240b386");
    assert_int_equal(a.s[1].kind, SDP_VIDEO);
    assert_int_equal(a.s[1].ssrc, 1256930794u);
    assert_int_equal(a.s[1].pt, 96);
    assert_string_equal(a.s[1].codec, "VP8");
    assert_string_equal(a.s[0].codec, "opus");
    assert_int_equal(a.s[2].dir, SDP_RECVONLY);
    assert_int_equal(a.s[2].ssrc, 0);
    assert_string_equal(a.s[3].mid, "3");
    free(text);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

static void offer_shape(void **st) {
    sdp_offer_section s[3] = {
        {.kind = SDP_AUDIO, .dir = SDP_RECVONLY},
        {.kind = SDP_VIDEO, .dir = SDP_RECVONLY},
        {.kind = SDP_VIDEO, .dir = SDP_SENDONLY, .stream_id = "CONN1", .track_id = "CONN1-video", .ssrc = 42},
    };
    sdp_offer o = {.session_id = 7, .version = 2, .ufrag = "abcd", .pwd = "0123456789012345678901",
                   .fingerprint = "AA:BB", .cand_ip = "127.0.0.2", .cand_port = 45000, .cname = "shoal",
                   .s = s, .n = 3};
    char out[8192];
    size_t n = sdp_offer_build(out, sizeof out, &o);
    assert_true(n > 0 && n == strlen(out));
    assert_non_null(strstr(out, "a=ice-lite\r\n"));
    assert_non_null(strstr(out, "a=group:BUNDLE 0 1 2\r\n"));
    assert_int_equal(count(out, "a=candidate:1 1 udp 2130706431 127.0.0.2 45000 typ host\r\n"), 3);
    assert_int_equal(count(out, "a=setup:actpass"), 3);
    assert_int_equal(count(out, "a=rtcp-mux"), 3);
    assert_int_equal(count(out, "a=recvonly"), 2);
    assert_non_null(strstr(out, "a=mid:2\r\na=sendonly\r\na=msid:CONN1 CONN1-video\r\n"));
    assert_non_null(strstr(out, "a=ssrc:42 msid:CONN1 CONN1-video\r\n"));
    assert_non_null(strstr(out, "a=rtcp-fb:96 nack pli\r\n"));
    assert_int_equal(sdp_offer_build(out, 100, &o), 0); /* does not fit: nothing half-written is used */
    o.video = SDP_CODEC_H264;
    assert_true(sdp_offer_build(out, sizeof out, &o) > 0);
    assert_int_equal(count(out, "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n"), 2);
    assert_int_equal(count(out, "a=rtpmap:102 H264/90000\r\n"), 2);
    assert_int_equal(count(out, "packetization-mode=1;profile-level-id=42e01f"), 2);
    assert_null(strstr(out, "VP8"));
}

static void bad_answers(void **st) {
    sdp_answer a;
    const char *why = NULL;
    const char *no_ice = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:active\r\n";
    assert_int_equal(sdp_answer_parse(no_ice, strlen(no_ice), &a, &why), -1);
    assert_string_equal(why, "no ICE ufrag/pwd in the answer");
    const char *passive = "v=0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
                          "a=fingerprint:sha-256 AA\r\na=setup:passive\r\nm=audio 9 X 111\r\n";
    assert_int_equal(sdp_answer_parse(passive, strlen(passive), &a, &why), -1);
    assert_string_equal(why, "setup must be active (the node is the DTLS server)");
    assert_int_equal(sdp_answer_parse("hello", 5, &a, &why), -1);
    /* 65 sections */
    static char many[8192];
    size_t n = (size_t)snprintf(many, sizeof many, "v=0\r\n");
    for (int i = 0; i < 65; i++) n += (size_t)snprintf(many + n, sizeof many - n, "m=audio 9 X 111\r\n");
    assert_int_equal(sdp_answer_parse(many, n, &a, &why), -1);
    assert_string_equal(why, "too many m= sections");
    const char *bad_ssrc = "v=0\r\nm=audio 9 X 111\r\na=ssrc:99999999999 cname:x\r\n";
    assert_int_equal(sdp_answer_parse(bad_ssrc, strlen(bad_ssrc), &a, &why), -1);
    assert_string_equal(why, "bad ssrc");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chrome_answer),
        cmocka_unit_test(offer_shape),
        cmocka_unit_test(bad_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
