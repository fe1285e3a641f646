/* test_sfu.c - the media plane end to end in memory: clients (media/client.c)
 * answer the node's offers, pass ICE-lite checks and DTLS, and the SFU
 * forwards one client's RTP to the others with the SSRC their SDP names;
 * a joining client re-offers the others, a PLI reaches the sender, a NACK
 * is answered from the buffer, a leaver's sections go inactive, a client
 * whose checks stop is ended, a wrong ICE password is refused; the SFU is
 * ticked only at the deadline it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "rtp.h"
#include "sfu.h"
#include "srtp_session.h"

#define NCLI 3

typedef struct {
    media_client *c;
    sfu_peer *p;
    stun_addr addr;
    char id[16];
    uint32_t got_ssrc, got_count;
    uint8_t got_first;
    int offers, reoffers;
    bool ended;
    rtcp_fb last_rtcp[5]; /* by kind: the last SR, PLI, FIR, NACK, REMB it received */
    int rtcp_count[5];
} cli;

typedef struct {
    sfu *s;
    media_dtls_ctx *ctx;
    cli c[NCLI];
    int64_t now;
    uint16_t lose_to; /* datagrams from the node to this port are lost */
} world;

static void on_rtp(void *ctx, const media_client_rtp *r) {
    cli *c = ctx;
    c->got_ssrc = r->ssrc;
    c->got_count++;
    c->got_first = r->len ? r->payload[0] : 0;
}

static void on_rtcp(void *ctx, const rtcp_fb *fb) {
    cli *c = ctx;
    c->last_rtcp[fb->kind] = *fb;
    c->rtcp_count[fb->kind]++;
}

static cli *by_peer(world *w, sfu_peer *p) {
    for (int i = 0; i < NCLI; i++)
        if (w->c[i].p == p) return &w->c[i];
    return NULL;
}

static void events(world *w) {
    uint32_t n;
    const sfu_event *ev = sfu_events(w->s, &n);
    sfu_event copy[64];
    assert_true(n <= 64);
    memcpy(copy, ev, n * sizeof *ev);
    sfu_events_clear(w->s);
    for (uint32_t i = 0; i < n; i++) {
        cli *c = by_peer(w, copy[i].peer);
        assert_non_null(c);
        if (copy[i].type == SFU_EV_OFFER) {
            char answer[16384];
            const char *why = NULL, *offer = sfu_peer_offer(c->p);
            assert_int_equal(media_client_offer(c->c, offer, strlen(offer), answer, sizeof answer, &why), 0);
            if (copy[i].reoffer) c->reoffers++;
            else c->offers++;
            assert_int_equal(sfu_peer_answer(w->s, c->p, w->now, answer, strlen(answer), &why), 0);
        } else if (copy[i].type == SFU_EV_ENDED) {
            c->ended = true;
        }
    }
}

/* Moves datagrams both ways until nothing moves. The SFU is ticked only
 * when its reported deadline has come, as media_io does: a timer it forgot
 * to report (RTCP, ICE or connect timeouts) fails the tests that need it. */
static void run(world *w, int64_t ms) {
    for (int64_t t = 0; t <= ms; t += 10) {
        w->now += 10;
        if (w->now >= sfu_next_deadline(w->s)) sfu_tick(w->s, w->now);
        for (int i = 0; i < NCLI; i++)
            if (w->c[i].c) media_client_tick(w->c[i].c, w->now);
        for (int round = 0; round < 8; round++) {
            bool moved = false;
            for (int i = 0; i < NCLI; i++) {
                if (!w->c[i].c) continue;
                uint32_t n;
                media_client_dgram *d = media_client_outbox(w->c[i].c, &n);
                for (uint32_t k = 0; k < n; k++) sfu_recv(w->s, w->now, &w->c[i].addr, d[k].data, d[k].len);
                media_client_outbox_clear(w->c[i].c);
                moved |= n > 0;
            }
            events(w);
            uint32_t n;
            sfu_dgram *d = sfu_outbox(w->s, &n);
            for (uint32_t k = 0; k < n; k++)
                for (int i = 0; i < NCLI; i++)
                    if (w->c[i].c && d[k].to.port == w->c[i].addr.port && d[k].to.port != w->lose_to)
                        media_client_recv(w->c[i].c, w->now, d[k].data, d[k].len, on_rtp, &w->c[i]);
            sfu_outbox_clear(w->s);
            moved |= n > 0;
            if (!moved) break;
        }
    }
}

static void join(world *w, int i) {
    cli *c = &w->c[i];
    snprintf(c->id, sizeof c->id, "CONN%d", i);
    c->addr = (stun_addr){.family = 4, .port = (uint16_t)(40000 + i), .ip = {10, 0, 0, (uint8_t)(i + 1)}};
    c->c = media_client_new(w->ctx, (uint64_t)(i + 11) * 7919, true);
    media_client_on_rtcp(c->c, on_rtcp, c);
    uint8_t rnd[32];
    for (int k = 0; k < 32; k++) rnd[k] = (uint8_t)(k * 31 + i * 7 + 1);
    sfu_peer_opts o = {.role = 0, .audio = true, .video = true, .video_codec = -1};
    const char *why = NULL;
    c->p = sfu_peer_add(w->s, w->now, "room", c->id, &o, rnd, c, &why);
    assert_non_null(c->p);
}

static void setup_world(world *w) {
    memset(w, 0, sizeof *w);
    char err[200];
    assert_true(srtp_session_library_init());
    w->ctx = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    assert_non_null(w->ctx);
    sfu_config cfg = {.cand_ip = "127.0.0.9", .cand_port = 5004};
    w->s = sfu_new(&cfg, w->ctx);
    w->now = 1000;
}

static void teardown_world(world *w) {
    for (int i = 0; i < NCLI; i++) media_client_free(w->c[i].c);
    sfu_free(w->s);
    media_dtls_ctx_free(w->ctx);
}

/* The SSRC client `to`'s latest offer announces for `from`'s video. */
static uint32_t forwarded_video(world *w, int to, int from) {
    uint32_t ssrcs[SDP_MAX_SECTIONS];
    char who[SDP_MAX_SECTIONS][SDP_ID_MAX];
    int n = media_client_forwarded(w->c[to].c, ssrcs, who, SDP_MAX_SECTIONS);
    uint32_t found = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(who[i], w->c[from].id) == 0) found = ssrcs[i]; /* audio first, then video */
    return found;
}

static void forwarding(void **st) {
    world w;
    setup_world(&w);
    join(&w, 0);
    run(&w, 300);
    assert_true(media_client_connected(w.c[0].c));
    assert_true(sfu_peer_connected(w.c[0].p));
    join(&w, 1);
    run(&w, 300);
    assert_true(media_client_connected(w.c[1].c));
    assert_int_equal(w.c[1].offers, 1);
    assert_int_equal(w.c[0].reoffers, 1); /* told of client 1's tracks */
    uint32_t v01 = forwarded_video(&w, 1, 0), v10 = forwarded_video(&w, 0, 1);
    assert_true(v01 != 0 && v10 != 0);
    assert_int_not_equal(v01, media_client_ssrc(w.c[0].c, 1)); /* rewritten per receiver */

    /* A VP8 keyframe from 0 reaches 1 on the SSRC 1's SDP announced. */
    const uint8_t key[] = {0x10, 0x00, 0x9d, 0x01, 0x2a, 0x55};
    media_client_send(w.c[0].c, 1, SDP_PT_VP8, 100, 9000, true, key, sizeof key);
    run(&w, 20);
    assert_int_equal(w.c[1].got_count, 1);
    assert_int_equal(w.c[1].got_ssrc, v01);
    assert_int_equal(w.c[1].got_first, 0x10);
    assert_int_equal(w.c[0].got_count, 0); /* never back to its sender */

    /* 1 asks for a keyframe: a PLI goes to 0. */
    uint64_t plis = sfu_get_stats(w.s)->plis;
    uint8_t pli[12];
    rtcp_build_pli(pli, media_client_ssrc(w.c[1].c, 1), v01);
    w.now += 1000;
    media_client_send_rtcp(w.c[1].c, pli, sizeof pli);
    run(&w, 20);
    assert_int_equal(sfu_get_stats(w.s)->plis, plis + 1);
    assert_int_equal(w.c[0].last_rtcp[RTCP_FB_PLI].media_ssrc, media_client_ssrc(w.c[0].c, 1));

    /* 0's sender report reaches 1 under the SSRC 1 knows, times unchanged. */
    uint8_t sr[28];
    rtcp_fb info = {.ntp_hi = 0x11223344, .ntp_lo = 0x55667788, .rtp_ts = 9000, .packets = 1, .octets = 6};
    rtcp_build_sr(sr, media_client_ssrc(w.c[0].c, 1), &info);
    media_client_send_rtcp(w.c[0].c, sr, sizeof sr);
    run(&w, 20);
    assert_int_equal(w.c[1].rtcp_count[RTCP_SR], 1);
    assert_int_equal(w.c[1].last_rtcp[RTCP_SR].media_ssrc, v01);
    assert_int_equal(w.c[1].last_rtcp[RTCP_SR].ntp_hi, 0x11223344);
    assert_int_equal(w.c[1].last_rtcp[RTCP_SR].rtp_ts, 9000);

    /* 1 estimates 300 kbit/s for 0's video: 0 is told within a second. */
    uint8_t remb[24];
    size_t rn = rtcp_build_remb(remb, media_client_ssrc(w.c[1].c, 1), 300000, &v01, 1);
    media_client_send_rtcp(w.c[1].c, remb, rn);
    run(&w, 1100);
    assert_true(w.c[0].rtcp_count[RTCP_FB_REMB] >= 1);
    assert_int_equal(w.c[0].last_rtcp[RTCP_FB_REMB].ssrcs[0], media_client_ssrc(w.c[0].c, 1));
    assert_true(w.c[0].last_rtcp[RTCP_FB_REMB].bitrate >= 299000 && w.c[0].last_rtcp[RTCP_FB_REMB].bitrate <= 300000);

    /* 1 loses seq 101: a NACK brings it. */
    const uint8_t delta[] = {0x00, 0x01, 0x02};
    w.lose_to = w.c[1].addr.port;
    media_client_send(w.c[0].c, 1, SDP_PT_VP8, 101, 9000, true, delta, sizeof delta);
    run(&w, 0);
    w.lose_to = 0;
    assert_int_equal(w.c[1].got_count, 1);
    uint8_t nack[16] = {0x81, 205, 0, 3};
    be32_put(nack + 4, media_client_ssrc(w.c[1].c, 1));
    be32_put(nack + 8, v01);
    nack[12] = 0, nack[13] = 101;
    media_client_send_rtcp(w.c[1].c, nack, sizeof nack);
    run(&w, 20);
    assert_int_equal(w.c[1].got_count, 2);
    assert_int_equal(sfu_get_stats(w.s)->retransmits, 1);
    /* a NACK for what never reached the node goes on to the sender */
    nack[13] = 250;
    media_client_send_rtcp(w.c[1].c, nack, sizeof nack);
    run(&w, 20);
    assert_int_equal(w.c[0].rtcp_count[RTCP_FB_NACK], 1);
    assert_int_equal(w.c[0].last_rtcp[RTCP_FB_NACK].media_ssrc, media_client_ssrc(w.c[0].c, 1));
    assert_int_equal(w.c[0].last_rtcp[RTCP_FB_NACK].pid, 250);

    /* A third joins: both others are re-offered, it gets both's tracks. */
    join(&w, 2);
    run(&w, 300);
    assert_true(media_client_connected(w.c[2].c));
    assert_true(forwarded_video(&w, 2, 0) != 0 && forwarded_video(&w, 2, 1) != 0);
    assert_true(forwarded_video(&w, 0, 2) != 0 && forwarded_video(&w, 1, 2) != 0);

    /* 0 leaves: the others' offers no longer forward it. */
    sfu_peer_remove(w.s, w.c[0].p);
    media_client_free(w.c[0].c);
    w.c[0].c = NULL;
    w.c[0].p = NULL;
    run(&w, 50);
    assert_int_equal(forwarded_video(&w, 1, 0), 0);
    assert_int_equal(forwarded_video(&w, 2, 0), 0);
    assert_int_equal(sfu_peer_count(w.s), 2);
    teardown_world(&w);
}

/* A channel opened for H.264 offers H.264 to everyone, forwards an IDR as a
 * keyframe, and refuses a client whose SDP has no H.264; a client that
 * connected with audio false gets no audio section. */
static void h264_channel_and_kinds(void **st) {
    world w;
    setup_world(&w);
    uint8_t rnd[32] = {1};
    const char *why = NULL;
    for (int i = 0; i < 2; i++) {
        cli *c = &w.c[i];
        snprintf(c->id, sizeof c->id, "H%d", i);
        c->addr = (stun_addr){.family = 4, .port = (uint16_t)(41000 + i), .ip = {10, 0, 1, (uint8_t)(i + 1)}};
        c->c = media_client_new(w.ctx, (uint64_t)(i + 3) * 131, true);
        rnd[0] = (uint8_t)i;
        sfu_peer_opts o = {.role = 0, .audio = i == 0, .video = true, .video_codec = SDP_CODEC_H264, .h264_ok = true};
        c->p = sfu_peer_add(w.s, w.now, "h264-room", c->id, &o, rnd, c, &why);
        assert_non_null(c->p);
        run(&w, 300);
        assert_true(media_client_connected(c->c));
    }
    assert_non_null(strstr(sfu_peer_offer(w.c[0].p), "a=rtpmap:102 H264/90000"));
    assert_null(strstr(sfu_peer_offer(w.c[1].p), "VP8"));
    /* client 1 said audio false: its own audio section is inactive, 0's audio is not offered to it */
    uint32_t ssrcs[8];
    char who[8][SDP_ID_MAX];
    assert_int_equal(media_client_forwarded(w.c[1].c, ssrcs, who, 8), 1);
    assert_non_null(strstr(sfu_peer_offer(w.c[1].p), "a=mid:0\r\na=inactive"));
    /* an IDR in a STAP-A (SPS, PPS, IDR) from 0 reaches 1 */
    const uint8_t stap[] = {0x18, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce, 0, 2, 0x65, 0x88};
    media_client_send(w.c[0].c, 1, SDP_PT_H264, 7, 90000, true, stap, sizeof stap);
    run(&w, 20);
    assert_int_equal(w.c[1].got_count, 1);
    assert_int_equal(w.c[1].got_first, 0x18);
    /* a third client without H.264 in its SDP is refused */
    sfu_peer_opts o = {.role = 2, .audio = true, .video = true, .video_codec = -1, .h264_ok = false};
    assert_null(sfu_peer_add(w.s, w.now, "h264-room", "H2", &o, rnd, NULL, &why));
    assert_non_null(strstr(why, "MEDIA-CODEC"));
    /* without video it may join */
    o.video = false;
    sfu_peer *audio_only = sfu_peer_add(w.s, w.now, "h264-room", "H3", &o, rnd, NULL, &why);
    assert_non_null(audio_only);
    sfu_events_clear(w.s);
    sfu_peer_remove(w.s, audio_only);
    teardown_world(&w);
}

static void timeouts_and_bad_checks(void **st) {
    world w;
    setup_world(&w);
    join(&w, 0);
    run(&w, 300);
    assert_true(media_client_connected(w.c[0].c));
    /* a check with a wrong password is refused */
    uint8_t req[STUN_MAX], txid[12] = {1};
    char user[64];
    snprintf(user, sizeof user, "%.8s:x", "AAAAAAAA");
    size_t n = stun_binding_request(req, sizeof req, txid, user, 1, 2, true, "not-the-password-at-all", 23);
    uint64_t bad = sfu_get_stats(w.s)->stun_bad;
    stun_addr other = {.family = 4, .port = 1, .ip = {10, 9, 9, 9}};
    sfu_recv(w.s, w.now, &other, req, n);
    assert_int_equal(sfu_get_stats(w.s)->stun_bad, bad + 1);
    uint32_t nout;
    sfu_dgram *d = sfu_outbox(w.s, &nout);
    assert_int_equal(nout, 1);
    stun_msg m;
    assert_int_equal(stun_decode(d[0].data, d[0].len, &m, NULL), 0);
    assert_int_equal(m.error_code, 401);
    sfu_outbox_clear(w.s);
    /* junk from anywhere is dropped, never answered */
    uint8_t junk[40] = {0x80, 0x60};
    sfu_recv(w.s, w.now, &other, junk, sizeof junk);
    d = sfu_outbox(w.s, &nout);
    assert_int_equal(nout, 0);
    /* the client goes quiet: ended after the ICE timeout */
    media_client *quiet = w.c[0].c;
    w.c[0].c = NULL;
    run(&w, 31000);
    assert_true(w.c[0].ended);
    w.c[0].c = quiet;
    teardown_world(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forwarding),
        cmocka_unit_test(h264_channel_and_kinds),
        cmocka_unit_test(timeouts_and_bad_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
