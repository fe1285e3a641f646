/* rtp.c - RTP/RTCP header reading for the forwarder. */
#include "rtp.h"

#include <string.h>

pkt_kind pkt_classify(const uint8_t *b, size_t n) {
    if (n == 0) return PKT_UNKNOWN;
    uint8_t f = b[0];
    if (f <= 3) return PKT_STUN;
    if (f >= 20 && f <= 63) return PKT_DTLS;
    if (f >= 128 && f <= 191) {
        if (n < 2) return PKT_UNKNOWN;
        uint8_t pt = b[1];
        return pt >= 192 && pt <= 223 ? PKT_RTCP : PKT_RTP;
    }
    return PKT_UNKNOWN;
}

bool rtp_parse(const uint8_t *b, size_t n, rtp_header *h) {
    if (n < 12 || (b[0] >> 6) != 2) return false;
    size_t len = 12 + 4 * (size_t)(b[0] & 0x0f);
    if (len > n) return false;
    if (b[0] & 0x10) { /* extension: 4-byte header then length words */
        if (len + 4 > n) return false;
        len += 4 + 4 * (size_t)((b[len + 2] << 8) | b[len + 3]);
        if (len > n) return false;
    }
    size_t pad = 0;
    if (b[0] & 0x20) {
        pad = b[n - 1];
        if (pad == 0 || pad > n - len) return false;
    }
    h->marker = (b[1] & 0x80) != 0;
    h->pt = b[1] & 0x7f;
    h->seq = be16_get(b + 2);
    h->ts = be32_get(b + 4);
    h->ssrc = be32_get(b + 8);
    h->header_len = len;
    h->payload_len = n - len - pad;
    return true;
}

int rtcp_each_feedback(const uint8_t *b, size_t n, void (*fn)(void *ctx, const rtcp_fb *fb), void *ctx) {
    size_t at = 0;
    int count = 0;
    while (at < n) {
        if (n - at < 4 || (b[at] >> 6) != 2) return -1;
        size_t len = 4 * ((size_t)((b[at + 2] << 8) | b[at + 3]) + 1);
        if (len > n - at) return -1;
        uint8_t fmt = b[at] & 0x1f, pt = b[at + 1];
        const uint8_t *p = b + at;
        if (len >= 28 && pt == 200) {
            rtcp_fb fb = {.kind = RTCP_SR, .media_ssrc = be32_get(p + 4), .ntp_hi = be32_get(p + 8),
                          .ntp_lo = be32_get(p + 12), .rtp_ts = be32_get(p + 16), .packets = be32_get(p + 20),
                          .octets = be32_get(p + 24)};
            fn(ctx, &fb);
        } else if (len >= 24 && pt == 206 && fmt == 15 && memcmp(p + 12, "REMB", 4) == 0) {
            int nremb = p[16];
            if (20 + 4 * (size_t)nremb <= len) {
                rtcp_fb fb = {.kind = RTCP_FB_REMB};
                uint8_t exp = p[17] >> 2;
                uint64_t mantissa = (uint64_t)(p[17] & 3) << 16 | (uint64_t)p[18] << 8 | p[19];
                fb.bitrate = exp > 46 ? UINT64_MAX >> 1 : mantissa << exp; /* 18 + 46 bits fit */
                for (int i = 0; i < nremb && i < RTCP_REMB_SSRCS; i++) fb.ssrcs[fb.nssrcs++] = be32_get(p + 20 + 4 * i);
                fn(ctx, &fb);
            }
        } else if (len >= 12 && pt == 206 && fmt == 1) {
            rtcp_fb fb = {.kind = RTCP_FB_PLI, .media_ssrc = be32_get(p + 8)};
            fn(ctx, &fb);
        } else if (len >= 20 && pt == 206 && fmt == 4) {
            /* FIR's FCI carries the SSRC asked for (RFC 5104 §4.3.1) */
            for (size_t i = 12; i + 8 <= len; i += 8) {
                rtcp_fb fb = {.kind = RTCP_FB_FIR, .media_ssrc = be32_get(p + i)};
                fn(ctx, &fb);
            }
        } else if (len >= 16 && pt == 205 && fmt == 1) {
            for (size_t i = 12; i + 4 <= len; i += 4) {
                rtcp_fb fb = {.kind = RTCP_FB_NACK,
                              .media_ssrc = be32_get(p + 8),
                              .pid = be16_get(p + i),
                              .blp = be16_get(p + i + 2)};
                fn(ctx, &fb);
            }
        }
        at += len;
        count++;
    }
    return count;
}

size_t rtcp_build_pli(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc) {
    out[0] = 0x80 | 1; /* V=2, FMT=1 */
    out[1] = 206;
    out[2] = 0;
    out[3] = 2; /* length in words minus one */
    be32_put(out + 4, sender_ssrc);
    be32_put(out + 8, media_ssrc);
    return 12;
}

size_t rtcp_build_sr(uint8_t *out, uint32_t ssrc, const rtcp_fb *sr) {
    out[0] = 0x80; /* V=2, no report blocks */
    out[1] = 200;
    be16_put(out + 2, 6);
    be32_put(out + 4, ssrc);
    be32_put(out + 8, sr->ntp_hi);
    be32_put(out + 12, sr->ntp_lo);
    be32_put(out + 16, sr->rtp_ts);
    be32_put(out + 20, sr->packets);
    be32_put(out + 24, sr->octets);
    return 28;
}

size_t rtcp_build_rr(uint8_t *out, uint32_t sender_ssrc, const rtcp_report_block *b, int n) {
    if (n > 31) n = 31;
    out[0] = (uint8_t)(0x80 | n);
    out[1] = 201;
    be16_put(out + 2, (uint16_t)(1 + 6 * n));
    be32_put(out + 4, sender_ssrc);
    uint8_t *q = out + 8;
    for (int i = 0; i < n; i++, q += 24) {
        int32_t lost = b[i].cumulative_lost;
        if (lost > 0x7FFFFF) lost = 0x7FFFFF;
        if (lost < -0x800000) lost = -0x800000;
        be32_put(q, b[i].ssrc);
        be32_put(q + 4, (uint32_t)b[i].fraction_lost << 24 | ((uint32_t)lost & 0xFFFFFF));
        be32_put(q + 8, b[i].highest_seq);
        be32_put(q + 12, b[i].jitter);
        be32_put(q + 16, b[i].lsr);
        be32_put(q + 20, b[i].dlsr);
    }
    return 8 + 24 * (size_t)n;
}

size_t rtcp_build_remb(uint8_t *out, uint32_t sender_ssrc, uint64_t bitrate, const uint32_t *ssrcs, int n) {
    if (n > RTCP_REMB_SSRCS) n = RTCP_REMB_SSRCS;
    uint8_t exp = 0;
    while ((bitrate >> exp) > 0x3FFFF) exp++; /* an 18-bit mantissa */
    uint32_t mantissa = (uint32_t)(bitrate >> exp);
    out[0] = 0x80 | 15;
    out[1] = 206;
    be16_put(out + 2, (uint16_t)(4 + n));
    be32_put(out + 4, sender_ssrc);
    be32_put(out + 8, 0); /* media source: unused by REMB */
    memcpy(out + 12, "REMB", 4);
    out[16] = (uint8_t)n;
    out[17] = (uint8_t)(exp << 2 | (mantissa >> 16));
    out[18] = (uint8_t)(mantissa >> 8);
    out[19] = (uint8_t)mantissa;
    for (int i = 0; i < n; i++) be32_put(out + 20 + 4 * i, ssrcs[i]);
    return 20 + 4 * (size_t)n;
}

int rtcp_nack_seqs(const rtcp_fb *fb, uint16_t out[17]) {
    int n = 0;
    out[n++] = fb->pid;
    for (int i = 0; i < 16; i++)
        if (fb->blp & (1u << i)) out[n++] = (uint16_t)(fb->pid + i + 1);
    return n;
}
