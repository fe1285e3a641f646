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

/* One item found in a compound RTCP packet: a sender report, or feedback. */
typedef enum { RTCP_FB_PLI, RTCP_FB_FIR, RTCP_FB_NACK, RTCP_FB_REMB, RTCP_SR } rtcp_fb_kind;
#define RTCP_REMB_SSRCS 8
typedef struct {
    rtcp_fb_kind kind;
    uint32_t media_ssrc; /* PLI, FIR, NACK: the stream; SR: the sender's SSRC */
    uint16_t pid, blp;   /* NACK: lost seq pid, and the 16 after it by bitmask */
    uint64_t bitrate;    /* REMB: bits per second */
    uint32_t ssrcs[RTCP_REMB_SSRCS]; /* REMB: the streams it covers */
    int nssrcs;
    uint32_t ntp_hi, ntp_lo, rtp_ts, packets, octets; /* SR's sender info */
} rtcp_fb;

/* Walks a compound RTCP packet; calls fn for each SR, PLI, FIR, NACK and
 * REMB item. Returns the number of packets walked, -1 if the compound is
 * malformed. */
int rtcp_each_feedback(const uint8_t *b, size_t n, void (*fn)(void *ctx, const rtcp_fb *fb), void *ctx);

/* A PLI (RFC 4585 §6.3.1) from sender_ssrc about media_ssrc: 12 bytes. */
size_t rtcp_build_pli(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc);

/* A sender report without report blocks (RFC 3550 §6.4.1): 28 bytes. */
size_t rtcp_build_sr(uint8_t *out, uint32_t ssrc, const rtcp_fb *sr);

/* A receiver report with one block per stream (at most 31): 8 + 24 n bytes. */
typedef struct {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost;  /* 24 bits on the wire */
    uint32_t highest_seq;     /* extended */
    uint32_t jitter, lsr, dlsr;
} rtcp_report_block;
size_t rtcp_build_rr(uint8_t *out, uint32_t sender_ssrc, const rtcp_report_block *b, int n);

/* REMB (draft-alvestrand-rmcat-remb): 20 + 4 n bytes, n <= RTCP_REMB_SSRCS. */
size_t rtcp_build_remb(uint8_t *out, uint32_t sender_ssrc, uint64_t bitrate, const uint32_t *ssrcs, int n);

/* The lost sequence numbers a NACK item names, ascending: 1 to 17. */
int rtcp_nack_seqs(const rtcp_fb *fb, uint16_t out[17]);

#endif
