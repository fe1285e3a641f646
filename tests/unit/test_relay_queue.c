/* test_relay_queue.c - a relay connection's send queues: control before
 * audio before video; a frame once started is finished; when video backs
 * up past 150 ms its queued frames go whole, the stream waits for its next
 * keyframe (asked of the sender once), which carries DISCONTINUITY, while
 * audio is untouched; audio older than 100 ms is dropped and the next says
 * so; control is never dropped but resets the connection past its bound;
 * a queue that does not move for 3 s resets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "queue.h"

static uint8_t body[1200];

/* An RTP frame of channel 1, sender `sender`, with RTP timestamp ts and
 * sequence seq (in the body, so a test can tell packets apart). */
static relay_frame rtp(uint16_t sender, relay_track track, uint32_t ts, uint16_t seq, uint8_t flags, uint32_t len) {
    memset(body, 0, sizeof body);
    body[0] = 0x80;
    body[2] = (uint8_t)(seq >> 8), body[3] = (uint8_t)seq;
    body[4] = (uint8_t)(ts >> 24), body[5] = (uint8_t)(ts >> 16), body[6] = (uint8_t)(ts >> 8), body[7] = (uint8_t)ts;
    return (relay_frame){.kind = RELAY_RTP, .flags = flags, .channel = 1, .sender = sender, .track = track,
                         .body = body, .body_len = len};
}

static relay_q_result push(relay_queue *q, int64_t now, relay_frame f) { return relay_queue_push(q, now, &f); }

/* Writes the next whole frame and decodes it; false when nothing waits. */
static bool write_one(relay_queue *q, int64_t now, relay_frame *out, uint8_t *copy) {
    size_t len;
    const uint8_t *b = relay_queue_next(q, now, &len);
    if (!b) return false;
    memcpy(copy, b, len);
    relay_queue_wrote(q, now, len);
    assert_int_equal(relay_frame_decode(copy + RELAY_LEN_BYTES, len - RELAY_LEN_BYTES, out), RELAY_FRAME_OK);
    return true;
}

static uint16_t seq_of(const relay_frame *f) { return (uint16_t)(f->body[2] << 8 | f->body[3]); }

static void control_then_audio_then_video(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    assert_int_equal(push(&q, 0, rtp(1, RELAY_VIDEO, 90, 1, RELAY_F_KEYFRAME, 1000)), RELAY_Q_QUEUED);
    assert_int_equal(push(&q, 0, rtp(1, RELAY_AUDIO, 48, 2, 0, 100)), RELAY_Q_QUEUED);
    uint8_t ctl[] = {0x91, 0x05};
    relay_frame c = {.kind = RELAY_CONTROL, .body = ctl, .body_len = sizeof ctl};
    assert_int_equal(relay_queue_push(&q, 0, &c), RELAY_Q_QUEUED);
    relay_frame out;
    static uint8_t copy[2048];
    assert_true(write_one(&q, 1, &out, copy));
    assert_int_equal(out.kind, RELAY_CONTROL);
    assert_true(write_one(&q, 1, &out, copy));
    assert_int_equal(out.track, RELAY_AUDIO);
    assert_true(write_one(&q, 1, &out, copy));
    assert_int_equal(out.track, RELAY_VIDEO);
    assert_int_equal(out.flags, RELAY_F_KEYFRAME); /* no discontinuity: nothing was dropped */
    assert_false(write_one(&q, 1, &out, copy));
    assert_int_equal(relay_queue_bytes(&q), 0);
    relay_queue_free(&q);
}

static void a_started_frame_is_finished_first(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    relay_frame v = rtp(1, RELAY_VIDEO, 90, 7, 0, 1000);
    relay_queue_push(&q, 0, &v);
    size_t len;
    const uint8_t *b = relay_queue_next(&q, 0, &len);
    assert_int_equal(len, RELAY_LEN_BYTES + RELAY_HDR_LEN + 1000);
    relay_queue_wrote(&q, 0, 300); /* the socket took 300 bytes */
    push(&q, 1, rtp(2, RELAY_AUDIO, 48, 9, 0, 100));
    b = relay_queue_next(&q, 1, &len);
    assert_int_equal(len, RELAY_LEN_BYTES + RELAY_HDR_LEN + 1000 - 300); /* the rest of the video frame, not audio */
    (void)b;
    relay_queue_wrote(&q, 1, len);
    relay_frame out;
    static uint8_t copy[2048];
    assert_true(write_one(&q, 2, &out, copy));
    assert_int_equal(seq_of(&out), 9);
    relay_queue_free(&q);
}

/* 30 fps, 5 packets a frame, on a link that writes nothing for a while. */
static void video_backs_up_audio_does_not(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    uint16_t seq = 0, aseq = 1000;
    int64_t t = 0;
    relay_frame out;
    static uint8_t copy[2048];
    int audio_written = 0;
    /* a keyframe, then delta frames every 33 ms, audio every 20 ms written
     * as it comes (the link has room for audio only) */
    for (int frame = 0; t < 200; frame++, t += 33) {
        for (int p = 0; p < 5; p++) {
            relay_frame v = rtp(1, RELAY_VIDEO, 3000u * (uint32_t)frame, seq++, frame == 0 && p == 0 ? RELAY_F_KEYFRAME : 0, 1000);
            relay_q_result r = relay_queue_push(&q, t, &v);
            if (t < RELAY_Q_VIDEO_MS) assert_int_equal(r, RELAY_Q_QUEUED);
        }
        relay_frame a = rtp(2, RELAY_AUDIO, 960u * (uint32_t)frame, aseq++, 0, 120);
        assert_int_equal(relay_queue_push(&q, t, &a), RELAY_Q_QUEUED);
        /* the writer takes only the audio: control and audio go first */
        assert_true(write_one(&q, t, &out, copy));
        assert_int_equal(out.track, RELAY_AUDIO);
        audio_written++;
    }
    /* at t = 165 the oldest video had waited 165 ms: the 5 frames queued
     * then (25 packets) went whole, and frames 5 (t = 165) and 6 (t = 198)
     * were skipped whole: no keyframe came */
    assert_int_equal(q.st.frames_dropped, 7);
    assert_int_equal(q.st.dropped[RELAY_Q_VIDEO], 35);
    assert_int_equal(q.st.dropped[RELAY_Q_AUDIO], 0); /* audio untouched */
    assert_int_equal(audio_written, 7);
    relay_q_key k[4];
    assert_int_equal(relay_queue_take_keyframe_requests(&q, k, 4), 1); /* once, for the video stream */
    assert_int_equal(k[0].sender, 1);
    assert_int_equal(k[0].track, RELAY_VIDEO);
    assert_int_equal(relay_queue_take_keyframe_requests(&q, k, 4), 0);
    /* delta frames keep being dropped until the keyframe comes */
    assert_int_equal(push(&q, t, rtp(1, RELAY_VIDEO, 90000, seq++, 0, 1000)), RELAY_Q_DROPPED);
    assert_int_equal(push(&q, t, rtp(1, RELAY_VIDEO, 93000, seq++, RELAY_F_KEYFRAME, 1000)),
                     RELAY_Q_QUEUED);
    uint16_t key_seq = (uint16_t)(seq - 1);
    assert_int_equal(push(&q, t, rtp(1, RELAY_VIDEO, 93000, seq++, 0, 1000)), RELAY_Q_QUEUED);
    assert_true(write_one(&q, t, &out, copy));
    assert_int_equal(seq_of(&out), key_seq);
    assert_int_equal(out.flags, RELAY_F_KEYFRAME | RELAY_F_DISCONTINUITY); /* the receiver does not NACK the gap */
    assert_true(write_one(&q, t, &out, copy));
    assert_int_equal(out.flags, 0); /* said once */
    relay_queue_free(&q);
}

static void late_audio_is_dropped_and_the_next_says_so(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    push(&q, 0, rtp(2, RELAY_AUDIO, 0, 1, 0, 120));
    push(&q, 50, rtp(2, RELAY_AUDIO, 960, 2, 0, 120));
    relay_frame out;
    static uint8_t copy[2048];
    /* at 100 ms the first waited 100 ms: dropped; the second (50 ms) goes, marked */
    assert_true(write_one(&q, 100, &out, copy));
    assert_int_equal(seq_of(&out), 2);
    assert_int_equal(out.flags, RELAY_F_DISCONTINUITY);
    assert_int_equal(q.st.dropped[RELAY_Q_AUDIO], 1);
    relay_queue_free(&q);
}

static void control_is_never_dropped_but_bounded(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    static uint8_t big[8000];
    big[0] = 0x80;
    relay_frame rr = {.kind = RELAY_RTCP, .channel = 1, .sender = 1, .track = RELAY_VIDEO, .body = big, .body_len = sizeof big};
    uint32_t pushed = 0;
    while (relay_queue_push(&q, (int64_t)pushed * 1000, &rr) == RELAY_Q_QUEUED) pushed++; /* old as it gets */
    assert_int_equal(pushed, RELAY_Q_CONTROL_BYTES / (RELAY_LEN_BYTES + RELAY_HDR_LEN + sizeof big));
    assert_int_equal(q.st.dropped[RELAY_Q_CONTROL], 0);
    relay_frame out;
    static uint8_t copy[9000];
    uint32_t written = 0;
    while (write_one(&q, 1000000, &out, copy)) written++;
    assert_int_equal(written, pushed);
    relay_queue_free(&q);
}

static void a_queue_that_does_not_move_resets(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    assert_int_equal(relay_queue_check(&q, 100000), RELAY_Q_QUEUED); /* empty: never blocked */
    push(&q, 1000, rtp(1, RELAY_AUDIO, 0, 1, 0, 100));
    push(&q, 1000, rtp(1, RELAY_AUDIO, 0, 2, 0, 100));
    assert_int_equal(relay_queue_check(&q, 1000 + RELAY_Q_BLOCKED_MS - 1), RELAY_Q_QUEUED);
    size_t len;
    relay_queue_next(&q, 1050, &len);
    relay_queue_wrote(&q, 1050, 10); /* a few bytes went: it moved */
    assert_int_equal(relay_queue_check(&q, 1000 + RELAY_Q_BLOCKED_MS), RELAY_Q_QUEUED);
    assert_int_equal(relay_queue_check(&q, 1050 + RELAY_Q_BLOCKED_MS), RELAY_Q_RESET);
    relay_queue_free(&q); /* frees a partly written frame and a queued one */
}

static void video_bounded_in_bytes_too(void **state) {
    (void)state;
    relay_queue q;
    relay_queue_init(&q, 0);
    uint32_t n = 0;
    /* all at one instant (no age): the byte bound drops them */
    for (; n < 5000; n++) {
        relay_frame v = rtp(1, RELAY_VIDEO, n / 10, (uint16_t)n, n % 10 == 0 ? RELAY_F_KEYFRAME : 0, 1200);
        relay_queue_push(&q, 0, &v);
        assert_true(relay_queue_bytes(&q) <= RELAY_Q_VIDEO_BYTES);
    }
    assert_true(q.st.dropped[RELAY_Q_VIDEO] > 0);
    relay_queue_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_then_audio_then_video),
        cmocka_unit_test(a_started_frame_is_finished_first),
        cmocka_unit_test(video_backs_up_audio_does_not),
        cmocka_unit_test(late_audio_is_dropped_and_the_next_says_so),
        cmocka_unit_test(control_is_never_dropped_but_bounded),
        cmocka_unit_test(a_queue_that_does_not_move_resets),
        cmocka_unit_test(video_bounded_in_bytes_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
