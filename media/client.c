/* client.c - the SFU's client side without a browser (see client.h). */
#include "client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "srtp_session.h"

#define CLIENT_OUT_MAX 256

struct media_client {
    media_dtls_ctx *ctx;
    media_dtls *dtls;
    srtp_session *srtp;
    uint64_t rng;
    bool sends, checked, failed;
    char ufrag[9], pwd[25];
    char server_ufrag[257], server_pwd[257];
    stun_addr server;
    int64_t next_check;
    uint32_t ssrc[2];
    sdp_answer offer;
    void (*on_rtcp)(void *ctx, const rtcp_fb *fb);
    void *rtcp_ctx;
    media_client_dgram out[CLIENT_OUT_MAX];
    uint32_t nout;
};

media_client *media_client_new(media_dtls_ctx *ctx, uint64_t seed, bool sends) {
    media_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ctx = ctx;
    c->rng = seed ? seed : 1;
    c->sends = sends;
    uint8_t r[32];
    for (int i = 0; i < 32; i++) r[i] = (uint8_t)xorshift64s(&c->rng); /* a test client: not secret */
    stun_ice_credentials(r, c->ufrag, c->pwd);
    c->ssrc[0] = (uint32_t)xorshift64s(&c->rng) | 1;
    c->ssrc[1] = (uint32_t)xorshift64s(&c->rng) | 1;
    return c;
}

void media_client_free(media_client *c) {
    if (!c) return;
    media_dtls_free(c->dtls);
    srtp_session_free(c->srtp);
    free(c);
}

static media_client_dgram *slot(media_client *c) {
    if (c->nout == CLIENT_OUT_MAX) return NULL;
    media_client_dgram *d = &c->out[c->nout++];
    d->len = 0;
    return d;
}

int media_client_offer(media_client *c, const char *sdp, size_t len, char *answer, size_t cap, const char **why) {
    if (sdp_parse(sdp, len, &c->offer, why) != 0) return -1;
    sdp_answer *o = &c->offer;
    if (!o->ufrag[0] || !o->pwd[0] || !o->fingerprint[0] || !o->cand_ip[0] || o->n < 2) {
        *why = "the offer lacks ICE credentials, a fingerprint, a candidate or sections";
        return -1;
    }
    snprintf(c->server_ufrag, sizeof c->server_ufrag, "%s", o->ufrag);
    snprintf(c->server_pwd, sizeof c->server_pwd, "%s", o->pwd);
    memset(&c->server, 0, sizeof c->server);
    if (inet_pton(AF_INET, o->cand_ip, c->server.ip) == 1) c->server.family = 4;
    else if (inet_pton(AF_INET6, o->cand_ip, c->server.ip) == 1) c->server.family = 6;
    else {
        *why = "the offer's candidate is not an IP address";
        return -1;
    }
    c->server.port = o->cand_port;
    if (!c->dtls) c->dtls = media_dtls_new(c->ctx, false, o->fingerprint);
    sdp_offer_section sec[SDP_MAX_SECTIONS];
    memset(sec, 0, sizeof sec);
    for (int i = 0; i < o->n; i++) {
        sec[i].kind = o->s[i].kind;
        if (i < 2 && c->sends && o->s[i].dir == SDP_RECVONLY) {
            sec[i].dir = SDP_SENDONLY;
            snprintf(sec[i].stream_id, sizeof sec[i].stream_id, "client-%s", c->ufrag);
            snprintf(sec[i].track_id, sizeof sec[i].track_id, "%s-%d", c->ufrag, i);
            sec[i].ssrc = c->ssrc[i];
        } else {
            sec[i].dir = o->s[i].dir == SDP_SENDONLY ? SDP_RECVONLY : SDP_INACTIVE;
        }
    }
    sdp_offer a = {.session_id = 1, .version = 1, .ufrag = c->ufrag, .pwd = c->pwd,
                   .fingerprint = media_dtls_ctx_fingerprint(c->ctx), .cand_ip = "0.0.0.0", .cand_port = 9,
                   .cname = c->ufrag, .s = sec, .n = o->n, .answer = true,
                   .video = strcmp(o->s[1].codec, "H264") == 0 ? SDP_CODEC_H264 : SDP_CODEC_VP8};
    if (sdp_offer_build(answer, cap, &a) == 0) {
        *why = "answer does not fit";
        return -1;
    }
    return 0;
}

const stun_addr *media_client_server(const media_client *c) { return &c->server; }

static void flush_dtls(media_client *c) {
    media_client_dgram *d;
    while ((d = slot(c)) != NULL) {
        d->len = media_dtls_take(c->dtls, d->data, sizeof d->data);
        if (d->len == 0) {
            c->nout--;
            return;
        }
    }
}

void media_client_tick(media_client *c, int64_t now) {
    if (!c->dtls || c->failed) return;
    if (now >= c->next_check) {
        media_client_dgram *d = slot(c);
        if (d) {
            uint8_t txid[12];
            for (int i = 0; i < 12; i++) txid[i] = (uint8_t)xorshift64s(&c->rng);
            char user[600];
            snprintf(user, sizeof user, "%s:%s", c->server_ufrag, c->ufrag);
            d->len = stun_binding_request(d->data, sizeof d->data, txid, user, 0x6e0001ff, c->rng, true,
                                          c->server_pwd, strlen(c->server_pwd));
            if (d->len == 0) c->nout--;
        }
        c->next_check = now + (c->checked ? 2500 : 500);
    }
    if (c->checked && media_dtls_state(c->dtls) == DTLS_HANDSHAKING) {
        int64_t t = media_dtls_timeout_ms(c->dtls);
        if (t == 0) media_dtls_kick(c->dtls);
        flush_dtls(c);
    }
}

void media_client_recv(media_client *c, int64_t now, uint8_t *b, size_t n,
                       void (*on_rtp)(void *ctx, const media_client_rtp *r), void *ctx) {
    pkt_kind k = pkt_classify(b, n);
    if (k == PKT_STUN) {
        stun_msg m;
        if (stun_decode(b, n, &m, NULL) != 0 || m.type != STUN_BINDING_SUCCESS ||
            !stun_integrity_ok(b, n, &m, c->server_pwd, strlen(c->server_pwd)))
            return;
        if (!c->checked) {
            c->checked = true;
            c->next_check = now + 2500;
            media_dtls_kick(c->dtls); /* ClientHello */
            flush_dtls(c);
        }
    } else if (k == PKT_DTLS && c->dtls) {
        media_dtls_recv(c->dtls, b, n);
        flush_dtls(c);
        if (media_dtls_state(c->dtls) == DTLS_CONNECTED && !c->srtp) {
            dtls_srtp_keys keys;
            if (media_dtls_keys(c->dtls, &keys)) c->srtp = srtp_session_new(&keys);
            if (!c->srtp) c->failed = true;
        } else if (media_dtls_state(c->dtls) == DTLS_FAILED) {
            c->failed = true;
        }
    } else if (k == PKT_RTCP && c->srtp) {
        if (srtp_session_unprotect_rtcp(c->srtp, b, &n) == 0 && c->on_rtcp)
            rtcp_each_feedback(b, n, c->on_rtcp, c->rtcp_ctx);
    } else if (k == PKT_RTP && c->srtp) {
        if (srtp_session_unprotect(c->srtp, b, &n) != 0) return;
        rtp_header h;
        if (!rtp_parse(b, n, &h) || !on_rtp) return;
        media_client_rtp r = {.ssrc = h.ssrc, .pt = h.pt, .seq = h.seq, .payload = b + h.header_len,
                              .len = h.payload_len};
        on_rtp(ctx, &r);
    }
}

bool media_client_connected(const media_client *c) { return c->srtp != NULL; }
void media_client_on_rtcp(media_client *c, void (*fn)(void *ctx, const rtcp_fb *fb), void *ctx) {
    c->on_rtcp = fn;
    c->rtcp_ctx = ctx;
}
bool media_client_failed(const media_client *c) { return c->failed; }
uint32_t media_client_ssrc(const media_client *c, int kind) { return c->ssrc[kind & 1]; }

void media_client_send(media_client *c, int kind, uint8_t pt, uint16_t seq, uint32_t ts, bool marker,
                       const uint8_t *payload, size_t len) {
    if (!c->srtp || len + 12 + SRTP_TRAILER_MAX > sizeof c->out[0].data) return;
    media_client_dgram *d = slot(c);
    if (!d) return;
    d->data[0] = 0x80;
    d->data[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
    d->data[2] = (uint8_t)(seq >> 8);
    d->data[3] = (uint8_t)seq;
    be32_put(d->data + 4, ts);
    be32_put(d->data + 8, c->ssrc[kind & 1]);
    memcpy(d->data + 12, payload, len);
    d->len = 12 + len;
    if (srtp_session_protect(c->srtp, d->data, &d->len) != 0) c->nout--;
}

void media_client_send_rtcp(media_client *c, const uint8_t *rtcp, size_t len) {
    if (!c->srtp || len + SRTP_TRAILER_MAX + 8 > sizeof c->out[0].data) return;
    media_client_dgram *d = slot(c);
    if (!d) return;
    memcpy(d->data, rtcp, len);
    d->len = len;
    if (srtp_session_protect_rtcp(c->srtp, d->data, &d->len) != 0) c->nout--;
}

int media_client_forwarded(const media_client *c, uint32_t *ssrcs, char (*from)[SDP_ID_MAX], int max) {
    int n = 0;
    for (int i = 2; i < c->offer.n && n < max; i++) {
        const sdp_answer_section *s = &c->offer.s[i];
        if (s->dir != SDP_SENDONLY) continue;
        ssrcs[n] = s->ssrc;
        snprintf(from[n], SDP_ID_MAX, "%s", s->msid_stream);
        n++;
    }
    return n;
}

media_client_dgram *media_client_outbox(media_client *c, uint32_t *n) {
    *n = c->nout;
    return c->out;
}
void media_client_outbox_clear(media_client *c) { c->nout = 0; }
