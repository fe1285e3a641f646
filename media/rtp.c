/* rtp.c - RTP/RTCP header reading for the forwarder. */
#include "rtp.h"

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
        if (len >= 12 && pt == 206 && fmt == 1) {
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

int rtcp_nack_seqs(const rtcp_fb *fb, uint16_t out[17]) {
    int n = 0;
    out[n++] = fb->pid;
    for (int i = 0; i < 16; i++)
        if (fb->blp & (1u << i)) out[n++] = (uint16_t)(fb->pid + i + 1);
    return n;
}
