/* media_io.c - the media plane's socket and its ties to signaling. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include "media_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip_io.h"
#include "node.h"
#include "sfu.h"
#include "srtp_session.h"

#define BATCH MEDIA_IO_BATCH

static void addr_of(const struct sockaddr_in *sa, stun_addr *a) {
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->port = ntohs(sa->sin_port);
    memcpy(a->ip, &sa->sin_addr.s_addr, 4);
}

static void sockaddr_of(const stun_addr *a, struct sockaddr_in *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(a->port);
    memcpy(&sa->sin_addr.s_addr, a->ip, 4);
}

/* Sends the SFU's outbox in sendmmsg batches. A full socket buffer drops
 * what does not fit, as a congested link would; RTP recovers by NACK/PLI. */
static void flush(media_io *m) {
    uint32_t n;
    sfu_dgram *d = sfu_outbox(m->sfu, &n);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in to[BATCH];
    for (uint32_t at = 0; at < n;) {
        uint32_t k = 0;
        for (; k < BATCH && at + k < n; k++) {
            sfu_dgram *g = &d[at + k];
            sockaddr_of(&g->to, &to[k]);
            iov[k] = (struct iovec){.iov_base = g->data, .iov_len = g->len};
            memset(&msgs[k], 0, sizeof msgs[k]);
            msgs[k].msg_hdr.msg_name = &to[k];
            msgs[k].msg_hdr.msg_namelen = sizeof to[k];
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int sent = sendmmsg(m->fd, msgs, k, MSG_DONTWAIT);
        if (sent <= 0) { /* skip the datagram that failed, keep the rest */
            m->send_errors++;
            sent = 1;
        }
        at += (uint32_t)sent;
    }
    sfu_outbox_clear(m->sfu);
}

static char *offer_message(sig_conn *c, sfu_peer *p, bool reoffer) {
    json_t *o;
    if (reoffer) {
        o = json_pack("{s:s, s:s}", "type", "re-offer", "sdp", sfu_peer_offer(p));
    } else {
        const sig_connect *cn = sig_session_connect(c->s);
        const char *client_id = cn->client_id[0] ? cn->client_id : c->connection_id;
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "type", "offer", "sdp", sfu_peer_offer(p),
                      "client_id", client_id, "connection_id", c->connection_id, "channel_id", cn->channel_id,
                      "simulcast", 0, "spotlight", 0);
        /* The SDK puts its camera and microphone on these transceivers. */
        if (o && cn->role != SIG_RECVONLY) json_object_set_new(o, "mid", json_pack("{s:s, s:s}", "audio", "0", "video", "1"));
    }
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return t;
}

static void handle_events(media_io *m) {
    uint32_t n;
    const sfu_event *ev = sfu_events(m->sfu, &n);
    if (n == 0) return;
    sfu_event *copy = malloc(n * sizeof *copy);
    if (!copy) return;
    memcpy(copy, ev, n * sizeof *copy);
    sfu_events_clear(m->sfu);
    for (uint32_t i = 0; i < n; i++) {
        sig_conn *c = copy[i].user;
        if (copy[i].peer != c->peer) continue; /* it left while these were handled */
        if (copy[i].type == SFU_EV_OFFER) {
            char *t = offer_message(c, copy[i].peer, copy[i].reoffer);
            if (t) sig_session_send(c->s, t);
            free(t);
            sfu_peer_offer_release(copy[i].peer);
            sig_conn_kick(c);
        } else if (copy[i].type == SFU_EV_CONNECTED) {
            shoal_log_event(&m->node->log, "media_connected",
                            json_pack("{s:s}", "connection_id", c->connection_id));
        } else if (copy[i].type == SFU_EV_ENDED) {
            shoal_log_event(&m->node->log, "media_ended",
                            json_pack("{s:s, s:s}", "connection_id", c->connection_id, "reason", copy[i].reason));
            /* 1011: the server cannot go on with this client's media */
            sig_session_close(c->s, 1011, copy[i].reason);
            sig_conn_pump(c);
        }
    }
    free(copy);
}

static void after(media_io *m) {
    flush(m);
    handle_events(m);
    flush(m); /* what leaving peers caused */
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents) {
    media_io *m = w->data;
    (void)loop, (void)revents;
    uint8_t(*bufs)[SFU_DGRAM_MAX] = m->rx;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    for (int round = 0; round < 16; round++) { /* bounded: other sockets get their turn */
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(m->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        int64_t now = gossip_now_ms();
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue; /* larger than any media datagram */
            stun_addr a;
            addr_of(&from[i], &a);
            sfu_recv(m->sfu, now, &a, bufs[i], msgs[i].msg_len);
            /* Out as soon as a sendmmsg's worth is ready: a packet's copies
             * do not wait for the rest of the batch to be encrypted. */
            uint32_t queued;
            sfu_outbox(m->sfu, &queued);
            if (queued >= 32) flush(m);
        }
        after(m);
        if (n < BATCH) break;
    }
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    media_io *m = w->data;
    (void)loop, (void)revents;
    sfu_tick(m->sfu, gossip_now_ms());
    after(m);
}

int media_io_start(media_io *m, shoal_node *node, char *err, size_t errlen) {
    const shoal_config *cfg = &node->cfg;
    memset(m, 0, sizeof *m);
    m->node = node;
    m->fd = -1;
    if (!srtp_session_library_init()) {
        snprintf(err, errlen, "media: libsrtp2 failed to initialize");
        return -1;
    }
    m->dtls = media_dtls_ctx_new(cfg->dtls_cert_file[0] ? cfg->dtls_cert_file : NULL,
                                 cfg->dtls_key_file[0] ? cfg->dtls_key_file : NULL, err, errlen);
    if (!m->dtls) return -1;
    sfu_config sc = {.cand_ip = cfg->media_address, .cand_port = cfg->media_port};
    m->sfu = sfu_new(&sc, m->dtls);
    m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!m->sfu || m->fd < 0) {
        snprintf(err, errlen, "media: %s", strerror(errno));
        media_io_stop(m);
        return -1;
    }
    int big = 4 << 20;
    setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(m->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->media_port),
                             .sin_addr.s_addr = htonl(cfg->listen_ip)};
    if (bind(m->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "media: cannot bind UDP %s:%u: %s", cfg->listen_address, cfg->media_port,
                 strerror(errno));
        media_io_stop(m);
        return -1;
    }
    ev_io_init(&m->io_w, read_cb, m->fd, EV_READ);
    m->io_w.data = m;
    ev_io_start(node->loop, &m->io_w);
    ev_timer_init(&m->tick_w, tick_cb, 0.1, 0.1);
    m->tick_w.data = m;
    ev_timer_start(node->loop, &m->tick_w);
    return 0;
}

void media_io_stop(media_io *m) {
    if (m->node && m->node->loop) {
        ev_io_stop(m->node->loop, &m->io_w);
        ev_timer_stop(m->node->loop, &m->tick_w);
    }
    sfu_free(m->sfu);
    m->sfu = NULL;
    media_dtls_ctx_free(m->dtls);
    m->dtls = NULL;
    if (m->fd >= 0) close(m->fd);
    m->fd = -1;
}

void media_io_join(media_io *m, sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    uint8_t rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) { /* ICE passwords must not be guessable */
        sig_session_close(c->s, 1011, "MEDIA-NO-RANDOM");
        return;
    }
    sfu_peer_opts o = {.role = (int)cn->role,
                       .audio = cn->audio,
                       .video = cn->video,
                       .video_codec = strcmp(cn->video_codec, "H264") == 0  ? SDP_CODEC_H264
                                      : strcmp(cn->video_codec, "VP8") == 0 ? SDP_CODEC_VP8
                                                                            : -1,
                       /* sora-js-sdk's connect carries the browser's own offer: its codecs */
                       .h264_ok = cn->sdp != NULL && strstr(cn->sdp, "H264/90000") != NULL};
    const char *why = NULL;
    c->peer = sfu_peer_add(m->sfu, gossip_now_ms(), cn->channel_id, c->connection_id, &o, rnd, c, &why);
    if (!c->peer) {
        sig_session_close(c->s, strncmp(why, "MEDIA-CODEC", 11) == 0 ? 1008 : 1011, why);
        return;
    }
    after(m);
}

void media_io_answer(media_io *m, sig_conn *c) {
    bool re = false;
    char *sdp = sig_session_answer_take(c->s, &re);
    if (!sdp) return;
    if (!c->peer) { /* not admitted (or its media ended): nothing to answer */
        free(sdp);
        return;
    }
    const char *why = NULL;
    if (sfu_peer_answer(m->sfu, c->peer, gossip_now_ms(), sdp, strlen(sdp), &why) != 0) {
        char reason[120];
        snprintf(reason, sizeof reason, "MEDIA-BAD-ANSWER %s", why);
        sig_session_close(c->s, 1008, reason);
    }
    free(sdp);
    after(m);
}

void media_io_leave(media_io *m, sig_conn *c) {
    if (!c->peer) return;
    sfu_peer_remove(m->sfu, c->peer);
    c->peer = NULL;
    after(m);
}

void media_io_metrics(const media_io *m, FILE *f) {
    const sfu_stats *s = sfu_get_stats(m->sfu);
    static const char *const counters[] = {"bytes_in", "bytes_out", "srtp_failures", "nacks", "retransmits",
                                           "plis", "stun_rejected", "dtls_failures", "send_errors"};
    const unsigned long long values[] = {s->bytes_in, s->bytes_out, s->srtp_fail, s->nacks, s->retransmits,
                                         s->plis, s->stun_bad, s->dtls_fail, m->send_errors};
    fprintf(f, "# TYPE shoal_media_peers gauge\nshoal_media_peers %u\n", sfu_peer_count(m->sfu));
    fprintf(f, "# TYPE shoal_media_packets_in_total counter\n");
    fprintf(f, "shoal_media_packets_in_total{kind=\"rtp\"} %llu\n", (unsigned long long)s->rtp_in);
    fprintf(f, "shoal_media_packets_in_total{kind=\"rtcp\"} %llu\n", (unsigned long long)s->rtcp_in);
    fprintf(f, "shoal_media_packets_in_total{kind=\"stun\"} %llu\n", (unsigned long long)s->stun_in);
    fprintf(f, "# TYPE shoal_media_packets_out_total counter\n");
    fprintf(f, "shoal_media_packets_out_total{kind=\"rtp\"} %llu\n", (unsigned long long)s->rtp_out);
    fprintf(f, "shoal_media_packets_out_total{kind=\"rtcp\"} %llu\n", (unsigned long long)s->rtcp_out);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        fprintf(f, "# TYPE shoal_media_%s_total counter\nshoal_media_%s_total %llu\n", counters[i], counters[i],
                values[i]);
}
