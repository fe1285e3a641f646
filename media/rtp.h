/* rtp.h - the RTP/RTCP header fields a forwarder touches (RFC 3550,
 * RFC 4585 feedback, RFC 5761 mux, RFC 7983 first-byte demux). No I/O. */
#ifndef SHOAL_RTP_H
#define SHOAL_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

typedef enum { PKT_UNKNOWN, PKT_STUN, PKT_DTLS, PKT_RTP, PKT_RTCP } pkt_kind;

/* RFC 7983: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP (RTCP by payload type 192-223). */
pkt_kind pkt_classify(const uint8_t *b, size_t n);


/* A plain RTP header's fields; false if the packet is not valid RTP v2
 * (too short, CSRCs or extension running past the end, bad padding). */
typedef struct {
    uint8_t pt;
    bool marker;
    uint16_t seq;
    uint32_t ts, ssrc;
    size_t header_len; /* with CSRCs and extension */
    size_t payload_len;
} rtp_header;
bool rtp_parse(const uint8_t *b, size_t n, rtp_header *h);

/* One feedback request found in a compound RTCP packet. */
typedef enum { RTCP_FB_PLI, RTCP_FB_FIR, RTCP_FB_NACK } rtcp_fb_kind;
typedef struct {
    rtcp_fb_kind kind;
    uint32_t media_ssrc;
    uint16_t pid, blp; /* NACK: lost seq pid, and the 16 after it by bitmask */
} rtcp_fb;

/* Walks a compound RTCP packet; calls fn for each PLI, FIR and NACK item.
 * Returns the number of packets walked, -1 if the compound is malformed. */
int rtcp_each_feedback(const uint8_t *b, size_t n, void (*fn)(void *ctx, const rtcp_fb *fb), void *ctx);

/* A PLI (RFC 4585 §6.3.1) from sender_ssrc about media_ssrc: 12 bytes. */
size_t rtcp_build_pli(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc);

/* The lost sequence numbers a NACK item names, ascending: 1 to 17. */
int rtcp_nack_seqs(const rtcp_fb *fb, uint16_t out[17]);

#endif
