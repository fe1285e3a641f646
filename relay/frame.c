/* frame.c - the relay's frame codec and stream reader (see .h). */
#include "frame.h"

#include <string.h>

SHOAL_NAMED_ENUM_DEFINE(relay_frame_error, RELAY_FRAME_, RELAY_FRAME_ERROR_MAP)

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

relay_frame_error relay_frame_decode(const uint8_t *buf, size_t len, relay_frame *f) {
    memset(f, 0, sizeof *f);
    if (len < RELAY_HDR_LEN) return RELAY_FRAME_SHORT;
    uint8_t kind = buf[0], flags = buf[1], track = buf[6];
    uint16_t channel = get16(buf + 2), sender = get16(buf + 4);
    if (kind < RELAY_RTP || kind > RELAY_KEEPALIVE) return RELAY_FRAME_KIND;
    if (buf[7] != 0) return RELAY_FRAME_RESERVED;
    const uint8_t *body = buf + RELAY_HDR_LEN;
    size_t n = len - RELAY_HDR_LEN;
    bool media = kind == RELAY_RTP || kind == RELAY_RTCP;
    /* flags mean something on RTP only: a keyframe's first packet, a gap
     * the receiver must not NACK */
    if ((flags & ~RELAY_F_ALL) != 0 || (flags != 0 && kind != RELAY_RTP)) return RELAY_FRAME_FLAGS;
    if (media ? (channel == 0 || sender == 0) : (channel != 0 || sender != 0)) return RELAY_FRAME_HANDLES;
    if (media ? track > RELAY_VIDEO : track != 0) return RELAY_FRAME_TRACK;
    switch (kind) {
    case RELAY_RTP:
        if (n < RELAY_RTP_MIN) return RELAY_FRAME_BODY;
        break;
    case RELAY_RTCP:
        if (n < RELAY_RTCP_MIN) return RELAY_FRAME_BODY;
        break;
    case RELAY_CONTROL:
        if (n == 0) return RELAY_FRAME_BODY;
        break;
    default: /* KEEPALIVE */
        if (n != 0) return RELAY_FRAME_BODY;
        break;
    }
    if (media && body[0] >> 6 != 2) return RELAY_FRAME_RTP_VERSION;
    *f = (relay_frame){.kind = (relay_kind)kind, .flags = flags, .channel = channel, .sender = sender,
                       .track = (relay_track)track, .body = body, .body_len = (uint32_t)n};
    return RELAY_FRAME_OK;
}

size_t relay_frame_encode(const relay_frame *f, uint8_t *out, size_t cap) {
    if (f->body_len > RELAY_BODY_MAX) return 0;
    size_t total = RELAY_LEN_BYTES + RELAY_HDR_LEN + (size_t)f->body_len;
    if (total > cap) return 0;
    put16(out, (uint16_t)(RELAY_HDR_LEN + f->body_len));
    uint8_t *h = out + RELAY_LEN_BYTES;
    h[0] = (uint8_t)f->kind;
    h[1] = f->flags;
    put16(h + 2, f->channel);
    put16(h + 4, f->sender);
    h[6] = (uint8_t)f->track;
    h[7] = 0;
    if (f->body_len) memcpy(h + RELAY_HDR_LEN, f->body, f->body_len);
    return total;
}

relay_read_result relay_reader_feed(relay_reader *r, const uint8_t **data, size_t *len, relay_frame *f,
                                    relay_frame_error *err) {
    if (r->have >= RELAY_LEN_BYTES && r->have == RELAY_LEN_BYTES + (uint32_t)get16(r->buf))
        r->have = 0; /* the frame returned last time: it is done with */
    while (*len > 0) {
        /* the length first, then exactly that many bytes */
        uint32_t want = r->have < RELAY_LEN_BYTES ? RELAY_LEN_BYTES : RELAY_LEN_BYTES + (uint32_t)get16(r->buf);
        size_t take = want - r->have;
        if (take > *len) take = *len;
        memcpy(r->buf + r->have, *data, take);
        r->have += (uint32_t)take;
        *data += take;
        *len -= take;
        if (r->have < want) break;
        if (want == RELAY_LEN_BYTES) {
            if (get16(r->buf) < RELAY_HDR_LEN) { /* not even a header: no frame can follow it */
                *err = RELAY_FRAME_SHORT;
                return RELAY_READ_ERROR;
            }
            continue;
        }
        *err = relay_frame_decode(r->buf + RELAY_LEN_BYTES, want - RELAY_LEN_BYTES, f);
        return *err == RELAY_FRAME_OK ? RELAY_READ_FRAME : RELAY_READ_ERROR;
    }
    return RELAY_READ_MORE;
}
