/* sfu.h - the node's media plane: ICE-lite, DTLS-SRTP and RTP forwarding
 * for every peer of every channel this node hosts, behind one UDP socket.
 * Datagrams and the clock in; datagrams to send and events (offers to send,
 * peers that ended) out. The socket, sendmmsg and the signaling messages
 * are node/media_io.c's.
 *
 * A peer is one admitted signaling session. Its offer has sections 0/1 for
 * what it sends (if its role sends) and a section per track of every other
 * peer of the channel; when a peer's answer tells its SSRCs, or a peer
 * leaves, the others get a re-offer (one at a time: the next waits for the
 * re-answer). Each RTP packet is unprotected once, then for each receiver
 * its SSRC is rewritten to the one that receiver's SDP announced and it is
 * protected with the receiver's keys. PLI/FIR from a receiver reach the
 * sender (at most one per 300 ms per stream); NACKs are answered from a
 * per-stream buffer of the last packets. */
#ifndef SHOAL_SFU_H
#define SHOAL_SFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "sdp.h"
#include "stun.h"

#define SFU_DGRAM_MAX 1500

typedef struct sfu sfu;
typedef struct sfu_peer sfu_peer;

typedef struct {
    stun_addr to;
    size_t len;
    uint8_t data[SFU_DGRAM_MAX];
} sfu_dgram;

typedef enum {
    SFU_EV_OFFER,     /* send peer->offer text: "offer" first, "re-offer" after */
    SFU_EV_CONNECTED, /* ICE and DTLS are up: media flows */
    SFU_EV_ENDED,     /* ICE timeout or DTLS failure: close its signaling */
} sfu_event_type;

typedef struct {
    sfu_event_type type;
    sfu_peer *peer;
    void *user;
    bool reoffer;
    const char *reason; /* ENDED: an upper-case code */
} sfu_event;

typedef struct {
    uint64_t rtp_in, rtp_out, bytes_in, bytes_out, rtcp_in, rtcp_out;
    uint64_t srtp_fail, stun_in, stun_bad, dtls_fail, nacks, retransmits, plis;
    uint64_t dropped_unknown; /* from an address no peer has */
} sfu_stats;

typedef struct {
    const char *cand_ip;  /* the host candidate in every offer */
    uint16_t cand_port;
    int64_t ice_timeout_ms;     /* no check for this long: ended (30 s) */
    int64_t connect_timeout_ms; /* not connected this long after its answer: ended (30 s). A
                                 * client that never answers stays a signaling-only session,
                                 * kept honest by pings, as before the media plane. */
} sfu_config;

sfu *sfu_new(const sfu_config *cfg, media_dtls_ctx *dtls);
void sfu_free(sfu *s);

typedef struct {
    int role;          /* 0 sendrecv, 1 sendonly, 2 recvonly (sig_role) */
    bool audio, video; /* the connect's audio/video: false leaves that kind out */
    int video_codec;   /* SDP_CODEC_*, or -1: whatever the channel has */
    bool h264_ok;      /* the client's own SDP offers H.264 */
} sfu_peer_opts;

/* A peer of a channel. rnd: 32 random bytes from the adapter (ICE
 * credentials, SSRCs). A channel's video codec is the one its first peer
 * asked for (VP8 if none); a later peer asking another gets the channel's,
 * and a peer that cannot decode it (H.264 without H.264 in its SDP) is
 * refused. Queues its offer (SFU_EV_OFFER). NULL with *why if refused. */
sfu_peer *sfu_peer_add(sfu *s, int64_t now, const char *channel_id, const char *connection_id,
                       const sfu_peer_opts *opts, const uint8_t rnd[32], void *user, const char **why);
/* The client's answer or re-answer; -1 with *why if it is unusable. */
int sfu_peer_answer(sfu *s, sfu_peer *p, int64_t now, const char *sdp, size_t len, const char **why);
/* Removes the peer (its signaling ended); others get a re-offer. */
void sfu_peer_remove(sfu *s, sfu_peer *p);

const char *sfu_peer_offer(const sfu_peer *p); /* the last offer's SDP ("" once released) */
/* The adapter sent the offer: its text is not kept (a few KB per session). */
void sfu_peer_offer_release(sfu_peer *p);
const char *sfu_peer_connection_id(const sfu_peer *p);
bool sfu_peer_connected(const sfu_peer *p);

void sfu_recv(sfu *s, int64_t now, const stun_addr *from, uint8_t *b, size_t n);
/* Timers: DTLS retransmissions, RTCP, ICE and connect timeouts. Call at
 * sfu_next_deadline (earlier is harmless). */
void sfu_tick(sfu *s, int64_t now);
/* When sfu_tick is next needed (INT64_MAX: no peer has a timer). Every
 * call into the SFU may make it sooner. */
int64_t sfu_next_deadline(const sfu *s);

/* Datagrams to send, in order; then clear. Not the cluster cores' outbox
 * (gossip/outbox.h) on purpose: that one allocates each message, this one
 * reuses fixed 1500-byte slots, contiguous for the GSO plan, because it
 * carries every forwarded RTP packet (hundreds of thousands a second). */
sfu_dgram *sfu_outbox(sfu *s, uint32_t *n);
void sfu_outbox_clear(sfu *s);
const sfu_event *sfu_events(const sfu *s, uint32_t *n);
void sfu_events_clear(sfu *s);
const sfu_stats *sfu_get_stats(const sfu *s);
uint32_t sfu_peer_count(const sfu *s);

#endif
