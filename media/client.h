/* client.h - a WebRTC client of this SFU without a browser, for the tests
 * and bench/media's load client: it answers an offer (its own audio/video
 * sendonly with fixed SSRCs, forwarded sections recvonly), sends ICE checks
 * with USE-CANDIDATE, runs the DTLS client, protects what it sends and
 * unprotects what it receives. Datagrams in and out; no socket. */
#ifndef SHOAL_MEDIA_CLIENT_H
#define SHOAL_MEDIA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "sdp.h"
#include "stun.h"

typedef struct media_client media_client;

typedef struct {
    uint32_t ssrc;
    uint8_t pt;
    uint16_t seq;
    const uint8_t *payload;
    size_t len;
} media_client_rtp;

media_client *media_client_new(media_dtls_ctx *ctx, uint64_t seed, bool sends);
void media_client_free(media_client *c);
/* Reads an offer (or re-offer) and writes the answer; -1 with *why. */
int media_client_offer(media_client *c, const char *sdp, size_t len, char *answer, size_t cap, const char **why);
/* The server's address from the offer's candidate. */
const stun_addr *media_client_server(const media_client *c);
/* Sends a check now and then (every 500 ms until it succeeded, then every 2.5 s) and drives DTLS. */
void media_client_tick(media_client *c, int64_t now);
/* A datagram from the server; received RTP is handed to on_rtp. */
void media_client_recv(media_client *c, int64_t now, uint8_t *b, size_t n,
                       void (*on_rtp)(void *ctx, const media_client_rtp *r), void *ctx);
/* RTCP the server sends (SR, PLI, FIR, NACK, REMB; RRs are not surfaced)
 * goes to fn from then on. */
#include "rtp.h"
void media_client_on_rtcp(media_client *c, void (*fn)(void *ctx, const rtcp_fb *fb), void *ctx);
bool media_client_connected(const media_client *c);
bool media_client_failed(const media_client *c);
/* Sends one RTP packet of its own audio (kind 0) or video (kind 1). */
void media_client_send(media_client *c, int kind, uint8_t pt, uint16_t seq, uint32_t ts, bool marker,
                       const uint8_t *payload, size_t len);
/* Sends RTCP (a PLI or NACK it built) protected. */
void media_client_send_rtcp(media_client *c, const uint8_t *rtcp, size_t len);
uint32_t media_client_ssrc(const media_client *c, int kind);
/* The SSRCs the last offer forwards to it, and from whom. */
int media_client_forwarded(const media_client *c, uint32_t *ssrcs, char (*from)[SDP_ID_MAX], int max);

/* Datagrams to send to media_client_server(), then clear. */
typedef struct {
    size_t len;
    uint8_t data[1500];
} media_client_dgram;
media_client_dgram *media_client_outbox(media_client *c, uint32_t *n);
void media_client_outbox_clear(media_client *c);

#endif
