/* test_relay_frame.c - the relay's frame codec and stream reader: frames
 * of every kind survive encoding, every truncation and every broken rule of
 * the header is refused with its name, and the reader puts frames back
 * together from a TCP stream cut anywhere, one byte at a time included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static uint8_t rtp[200];

static void setup_rtp(void) {
    for (size_t i = 0; i < sizeof rtp; i++) rtp[i] = (uint8_t)(i * 7);
    rtp[0] = 0x90; /* version 2, an extension */
    rtp[1] = 96;
}

static relay_frame video(void) {
    return (relay_frame){.kind = RELAY_RTP, .flags = RELAY_F_KEYFRAME, .channel = 7, .sender = 300,
                         .track = RELAY_VIDEO, .body = rtp, .body_len = sizeof rtp};
}

static void round_trip_every_kind(void **state) {
    (void)state;
    setup_rtp();
    uint8_t rtcp[8] = {0x80, 201, 0, 1, 1, 2, 3, 4}; /* an empty RR */
    uint8_t ctl[3] = {0x91, 0x01, 0x02};
    relay_frame in[] = {
        video(),
        {.kind = RELAY_RTP, .flags = RELAY_F_DISCONTINUITY, .channel = 65535, .sender = 1, .track = RELAY_AUDIO,
         .body = rtp, .body_len = RELAY_RTP_MIN},
        {.kind = RELAY_RTCP, .channel = 1, .sender = 2, .track = RELAY_VIDEO, .body = rtcp, .body_len = sizeof rtcp},
        {.kind = RELAY_CONTROL, .body = ctl, .body_len = sizeof ctl},
        {.kind = RELAY_KEEPALIVE},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t buf[512];
        size_t n = relay_frame_encode(&in[i], buf, sizeof buf);
        assert_int_equal(n, RELAY_LEN_BYTES + RELAY_HDR_LEN + in[i].body_len);
        assert_int_equal(buf[0] << 8 | buf[1], n - RELAY_LEN_BYTES); /* RFC 4571: what follows the length */
        relay_frame out;
        assert_int_equal(relay_frame_decode(buf + RELAY_LEN_BYTES, n - RELAY_LEN_BYTES, &out), RELAY_FRAME_OK);
        assert_int_equal(out.kind, in[i].kind);
        assert_int_equal(out.flags, in[i].flags);
        assert_int_equal(out.channel, in[i].channel);
        assert_int_equal(out.sender, in[i].sender);
        assert_int_equal(out.track, in[i].track);
        assert_int_equal(out.body_len, in[i].body_len);
        if (in[i].body_len) assert_memory_equal(out.body, in[i].body, in[i].body_len); /* byte for byte */
    }
}

static void encode_refuses_what_does_not_fit(void **state) {
    (void)state;
    setup_rtp();
    relay_frame f = video();
    uint8_t buf[RELAY_LEN_BYTES + RELAY_HDR_LEN + sizeof rtp];
    assert_int_equal(relay_frame_encode(&f, buf, sizeof buf - 1), 0);
    assert_int_equal(relay_frame_encode(&f, buf, sizeof buf), sizeof buf);
    f.body_len = RELAY_BODY_MAX + 1; /* the 16-bit length cannot say it */
    assert_int_equal(relay_frame_encode(&f, buf, sizeof buf), 0);
}

/* Every prefix of a valid frame shorter than its kind's minimum is refused. */
static void every_truncation(void **state) {
    (void)state;
    setup_rtp();
    relay_frame f = video();
    f.body_len = RELAY_RTP_MIN;
    uint8_t buf[64];
    size_t n = relay_frame_encode(&f, buf, sizeof buf) - RELAY_LEN_BYTES;
    const uint8_t *h = buf + RELAY_LEN_BYTES;
    relay_frame out;
    for (size_t len = 0; len < n; len++) {
        relay_frame_error e = relay_frame_decode(h, len, &out);
        assert_int_equal(e, len < RELAY_HDR_LEN ? RELAY_FRAME_SHORT : RELAY_FRAME_BODY);
    }
    assert_int_equal(relay_frame_decode(h, n, &out), RELAY_FRAME_OK);
    /* RTCP needs 8 bytes, CONTROL one */
    uint8_t rtcp[RELAY_HDR_LEN + RELAY_RTCP_MIN] = {RELAY_RTCP, 0, 0, 1, 0, 1, 0, 0, 0x80, 200};
    for (size_t len = RELAY_HDR_LEN; len < sizeof rtcp; len++)
        assert_int_equal(relay_frame_decode(rtcp, len, &out), RELAY_FRAME_BODY);
    assert_int_equal(relay_frame_decode(rtcp, sizeof rtcp, &out), RELAY_FRAME_OK);
    uint8_t ctl[RELAY_HDR_LEN + 1] = {RELAY_CONTROL};
    assert_int_equal(relay_frame_decode(ctl, RELAY_HDR_LEN, &out), RELAY_FRAME_BODY);
    assert_int_equal(relay_frame_decode(ctl, sizeof ctl, &out), RELAY_FRAME_OK);
}

/* One broken rule at a time, each with its own name. */
static void each_rule_of_the_header(void **state) {
    (void)state;
    setup_rtp();
    relay_frame f = video();
    uint8_t good[RELAY_LEN_BYTES + RELAY_HDR_LEN + sizeof rtp];
    size_t n = relay_frame_encode(&f, good, sizeof good) - RELAY_LEN_BYTES;
    struct {
        size_t at;
        uint8_t value;
        relay_frame_error want;
    } cases[] = {
        {0, 0, RELAY_FRAME_KIND},          {0, 5, RELAY_FRAME_KIND},       {0, 255, RELAY_FRAME_KIND},
        {1, 0x04, RELAY_FRAME_FLAGS},      {1, 0x80, RELAY_FRAME_FLAGS},   {7, 1, RELAY_FRAME_RESERVED},
        {3, 0, RELAY_FRAME_HANDLES},       /* channel 7 -> 0 */
        {6, 2, RELAY_FRAME_TRACK},         {8, 0x40, RELAY_FRAME_RTP_VERSION}, {8, 0x00, RELAY_FRAME_RTP_VERSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[sizeof good];
        memcpy(b, good + RELAY_LEN_BYTES, n);
        b[cases[i].at] = cases[i].value;
        relay_frame out;
        relay_frame_error e = relay_frame_decode(b, n, &out);
        assert_int_equal(e, cases[i].want);
        assert_string_not_equal(relay_frame_error_name(e), "ok");
    }
    /* a sender handle of 0 on RTP, handles or a track or flags on CONTROL and KEEPALIVE */
    uint8_t b[RELAY_HDR_LEN + RELAY_RTP_MIN];
    relay_frame out;
    memcpy(b, good + RELAY_LEN_BYTES, sizeof b);
    b[4] = b[5] = 0;
    assert_int_equal(relay_frame_decode(b, sizeof b, &out), RELAY_FRAME_HANDLES);
    uint8_t ka[RELAY_HDR_LEN] = {RELAY_KEEPALIVE};
    assert_int_equal(relay_frame_decode(ka, sizeof ka, &out), RELAY_FRAME_OK);
    ka[3] = 1;
    assert_int_equal(relay_frame_decode(ka, sizeof ka, &out), RELAY_FRAME_HANDLES);
    ka[3] = 0, ka[6] = 1;
    assert_int_equal(relay_frame_decode(ka, sizeof ka, &out), RELAY_FRAME_TRACK);
    ka[6] = 0, ka[1] = RELAY_F_KEYFRAME;
    assert_int_equal(relay_frame_decode(ka, sizeof ka, &out), RELAY_FRAME_FLAGS);
    uint8_t ka_body[RELAY_HDR_LEN + 1] = {RELAY_KEEPALIVE};
    assert_int_equal(relay_frame_decode(ka_body, sizeof ka_body, &out), RELAY_FRAME_BODY);
    uint8_t rtcp_flags[RELAY_HDR_LEN + RELAY_RTCP_MIN] = {RELAY_RTCP, RELAY_F_KEYFRAME, 0, 1, 0, 1, 0, 0, 0x80, 200};
    assert_int_equal(relay_frame_decode(rtcp_flags, sizeof rtcp_flags, &out), RELAY_FRAME_FLAGS);
    assert_string_equal(relay_frame_error_name(RELAY_FRAME_TRACK), "track");
    assert_string_equal(relay_frame_error_name((relay_frame_error)99), "unknown");
}

/* A stream of frames cut into pieces of every size from 1 byte up. */
static void reader_reassembles_any_cut(void **state) {
    (void)state;
    setup_rtp();
    uint8_t stream[4096];
    size_t total = 0;
    relay_frame f = video();
    uint8_t ctl[1] = {0x90};
    relay_frame frames[] = {f, {.kind = RELAY_KEEPALIVE}, {.kind = RELAY_CONTROL, .body = ctl, .body_len = 1}, f};
    frames[3].body_len = RELAY_RTP_MIN; /* the smallest RTP last */
    for (size_t i = 0; i < 4; i++) total += relay_frame_encode(&frames[i], stream + total, sizeof stream - total);
    static relay_reader r;
    for (size_t piece = 1; piece <= total; piece++) {
        relay_reader_init(&r);
        size_t got = 0;
        for (size_t at = 0; at < total; at += piece) {
            const uint8_t *p = stream + at;
            size_t len = at + piece <= total ? piece : total - at;
            relay_frame out;
            relay_frame_error err;
            relay_read_result rc;
            while ((rc = relay_reader_feed(&r, &p, &len, &out, &err)) == RELAY_READ_FRAME) {
                assert_true(got < 4);
                assert_int_equal(out.kind, frames[got].kind);
                assert_int_equal(out.body_len, frames[got].body_len);
                if (out.body_len) assert_memory_equal(out.body, frames[got].body, out.body_len);
                got++;
            }
            assert_int_equal(rc, RELAY_READ_MORE);
            assert_int_equal(len, 0);
        }
        assert_int_equal(got, 4);
    }
}

static void reader_stops_at_a_bad_frame(void **state) {
    (void)state;
    static relay_reader r;
    relay_reader_init(&r);
    relay_frame out;
    relay_frame_error err = RELAY_FRAME_OK;
    /* a length shorter than a header: no frame can be read after it */
    uint8_t tiny[] = {0, 3, 1, 2, 3};
    const uint8_t *p = tiny;
    size_t len = sizeof tiny;
    assert_int_equal(relay_reader_feed(&r, &p, &len, &out, &err), RELAY_READ_ERROR);
    assert_int_equal(err, RELAY_FRAME_SHORT);
    /* a whole frame of an unknown kind */
    relay_reader_init(&r);
    uint8_t bad[2 + RELAY_HDR_LEN] = {0, RELAY_HDR_LEN, 9};
    p = bad, len = sizeof bad;
    assert_int_equal(relay_reader_feed(&r, &p, &len, &out, &err), RELAY_READ_ERROR);
    assert_int_equal(err, RELAY_FRAME_KIND);
    /* the largest frame the length allows fits the reader */
    relay_reader_init(&r);
    static uint8_t big[RELAY_LEN_BYTES + RELAY_FRAME_MAX];
    static uint8_t body[RELAY_BODY_MAX];
    body[0] = 0x80;
    relay_frame f = {.kind = RELAY_RTP, .channel = 1, .sender = 1, .track = RELAY_VIDEO, .body = body,
                     .body_len = RELAY_BODY_MAX};
    assert_int_equal(relay_frame_encode(&f, big, sizeof big), sizeof big);
    p = big, len = sizeof big;
    assert_int_equal(relay_reader_feed(&r, &p, &len, &out, &err), RELAY_READ_FRAME);
    assert_int_equal(out.body_len, RELAY_BODY_MAX);
    assert_int_equal(len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_kind),
        cmocka_unit_test(encode_refuses_what_does_not_fit),
        cmocka_unit_test(every_truncation),
        cmocka_unit_test(each_rule_of_the_header),
        cmocka_unit_test(reader_reassembles_any_cut),
        cmocka_unit_test(reader_stops_at_a_bad_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
