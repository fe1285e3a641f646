/* test_rtp.c - RTP headers (CSRCs, extensions, padding, the bad ones), the
 * RFC 7983 demultiplexing, and compound RTCP: what the walker finds in
 * SR + RR + REMB + NACK + PLI + FIR, and what the builders write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "rtp.h"

static void rtp_headers(void **st) {
    rtp_header h;
    /* CSRC count 1, extension of one word, 2 bytes of padding */
    uint8_t p[40] = {0xB1, 0xE0, 0x12, 0x34, 0, 0, 0x10, 0, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3, 4,
                     0xBE, 0xDE, 0, 1, 9, 9, 9, 9};
    p[39] = 2;
    assert_true(rtp_parse(p, sizeof p, &h));
    assert_int_equal(h.pt, 96);
    assert_true(h.marker);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ssrc, 0xAABBCCDD);
    assert_int_equal(h.header_len, 24);
    assert_int_equal(h.payload_len, 40 - 24 - 2);
    p[39] = 30; /* padding longer than the payload */
    assert_false(rtp_parse(p, sizeof p, &h));
    p[39] = 2;
    p[19] = 200; /* extension running past the end */
    assert_false(rtp_parse(p, sizeof p, &h));
    assert_false(rtp_parse(p, 11, &h));
    uint8_t v1[12] = {0x40};
    assert_false(rtp_parse(v1, sizeof v1, &h));
}

static void demux(void **st) {
    const uint8_t stun[2] = {0x00, 0x01}, dtls[2] = {22, 0xfe}, rtp[2] = {0x80, 96}, rtcp[2] = {0x81, 200},
                  other[2] = {100, 0};
    assert_int_equal(pkt_classify(stun, 2), PKT_STUN);
    assert_int_equal(pkt_classify(dtls, 2), PKT_DTLS);
    assert_int_equal(pkt_classify(rtp, 2), PKT_RTP);
    assert_int_equal(pkt_classify(rtcp, 2), PKT_RTCP);
    assert_int_equal(pkt_classify(other, 2), PKT_UNKNOWN);
    assert_int_equal(pkt_classify(rtp, 0), PKT_UNKNOWN);
}

typedef struct {
    rtcp_fb got[16];
    int n;
} found;

static void collect(void *ctx, const rtcp_fb *fb) {
    found *f = ctx;
    if (f->n < 16) f->got[f->n++] = *fb;
}

static void compound(void **st) {
    uint8_t b[512];
    size_t n = 0;
    rtcp_fb info = {.ntp_hi = 1, .ntp_lo = 2, .rtp_ts = 3, .packets = 4, .octets = 5};
    n += rtcp_build_sr(b + n, 0x1111, &info);
    rtcp_report_block rb = {.ssrc = 0x2222, .fraction_lost = 64, .cumulative_lost = -3, .highest_seq = 70000};
    n += rtcp_build_rr(b + n, 0x1111, &rb, 1);
    uint32_t ssrcs[2] = {0x3333, 0x4444};
    n += rtcp_build_remb(b + n, 0x1111, 2500000, ssrcs, 2);
    uint8_t nack[16] = {0x81, 205, 0, 3, 0, 0, 0x11, 0x11, 0, 0, 0x55, 0x55, 0x00, 0x64, 0x80, 0x01};
    memcpy(b + n, nack, sizeof nack);
    n += sizeof nack;
    n += rtcp_build_pli(b + n, 0x1111, 0x6666);
    uint8_t fir[20] = {0x84, 206, 0, 4, 0, 0, 0x11, 0x11, 0, 0, 0, 0, 0, 0, 0x77, 0x77, 1, 0, 0, 0};
    memcpy(b + n, fir, sizeof fir);
    n += sizeof fir;
    found f = {0};
    assert_int_equal(rtcp_each_feedback(b, n, collect, &f), 6);
    assert_int_equal(f.n, 5); /* the RR is walked over, not reported */
    assert_int_equal(f.got[0].kind, RTCP_SR);
    assert_int_equal(f.got[0].media_ssrc, 0x1111);
    assert_int_equal(f.got[0].octets, 5);
    assert_int_equal(f.got[1].kind, RTCP_FB_REMB);
    assert_int_equal(f.got[1].nssrcs, 2);
    assert_int_equal(f.got[1].ssrcs[1], 0x4444);
    assert_true(f.got[1].bitrate <= 2500000 && f.got[1].bitrate > 2490000); /* 18-bit mantissa */
    assert_int_equal(f.got[2].kind, RTCP_FB_NACK);
    uint16_t seqs[17];
    assert_int_equal(rtcp_nack_seqs(&f.got[2], seqs), 3); /* 100, 101 and 116 */
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(seqs[2], 116);
    assert_int_equal(f.got[3].kind, RTCP_FB_PLI);
    assert_int_equal(f.got[3].media_ssrc, 0x6666);
    assert_int_equal(f.got[4].kind, RTCP_FB_FIR);
    assert_int_equal(f.got[4].media_ssrc, 0x7777);
    /* the RR's block as written: fraction, 24-bit cumulative loss, extended seq */
    const uint8_t *blk = b + 28 + 8;
    assert_int_equal(be32_get(blk), 0x2222);
    assert_int_equal(blk[4], 64);
    assert_int_equal(be32_get(blk + 4) & 0xFFFFFF, 0xFFFFFD);
    assert_int_equal(be32_get(blk + 8), 70000);
    /* a length running past the end makes the compound malformed */
    b[2] = 0x40;
    assert_int_equal(rtcp_each_feedback(b, n, collect, &f), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtp_headers),
        cmocka_unit_test(demux),
        cmocka_unit_test(compound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
