/* media_io.c - the media plane's socket and timer (see .h). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include "media_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "node_ctx.h"
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

/* The kernel refuses a UDP_SEGMENT message with EIO where the device
 * cannot checksum it (for good), with EINVAL where a segment does not fit
 * the path's MTU (for that message only). */
static bool gso_unsupported(int e) { return e == EIO || e == EOPNOTSUPP || e == ENOPROTOOPT; }

/* Sends d[0 .. n) as the plan groups them: one message per group, with
 * UDP_SEGMENT when it holds several datagrams. A full socket buffer drops
 * what does not fit, as a congested link would; RTP recovers by NACK/PLI. */
static void send_window(media_io *m, const sfu_dgram *d, uint32_t n) {
    send_plan *p = &m->plan;
    send_plan_make(p, d, n, m->gso ? SEND_PLAN_MAX_SEGS : 1);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[MEDIA_IO_TX_WINDOW];
    struct sockaddr_in to[BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl[BATCH];
    for (uint32_t g = 0; g < p->ngroups;) {
        uint32_t k = 0;
        for (; k < BATCH && g + k < p->ngroups; k++) {
            const send_group *grp = &p->groups[g + k];
            for (uint32_t j = 0; j < grp->count; j++) {
                const sfu_dgram *dg = &d[p->idx[grp->first + j]];
                iov[grp->first + j] = (struct iovec){.iov_base = (void *)dg->data, .iov_len = dg->len};
            }
            sockaddr_of(&d[p->idx[grp->first]].to, &to[k]);
            memset(&msgs[k], 0, sizeof msgs[k]);
            struct msghdr *h = &msgs[k].msg_hdr;
            h->msg_name = &to[k];
            h->msg_namelen = sizeof to[k];
            h->msg_iov = &iov[grp->first];
            h->msg_iovlen = grp->count;
            if (grp->count > 1) {
                h->msg_control = ctl[k].buf;
                h->msg_controllen = sizeof ctl[k].buf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(h);
                cm->cmsg_level = SOL_UDP;
                cm->cmsg_type = UDP_SEGMENT;
                cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t seg = (uint16_t)grp->seg;
                memcpy(CMSG_DATA(cm), &seg, sizeof seg);
            }
        }
        int sent = sendmmsg(m->fd, msgs, k, MSG_DONTWAIT);
        if (sent > 0) {
            m->send_messages += (unsigned)sent;
            g += (uint32_t)sent;
            continue;
        }
        int e = errno;
        if (p->groups[g].count > 1 && (e == EINVAL || gso_unsupported(e))) {
            /* What is left of this window goes one datagram per message, in
             * the plan's order (which keeps each address's order). */
            if (gso_unsupported(e)) {
                m->gso = false;
                shoal_log_event(&m->node->log, "media_gso_off", json_pack("{s:s}", "error", strerror(e)));
            }
            uint32_t from = p->groups[g].first;
            p->ngroups = 0;
            for (uint32_t i = from; i < n; i++)
                p->groups[p->ngroups++] = (send_group){.first = i, .count = 1, .seg = (uint32_t)d[p->idx[i]].len};
            g = 0;
            continue;
        }
        m->send_errors += p->groups[g].count; /* skip the message that failed, keep the rest */
        g++;
    }
}

static void flush(media_io *m) {
    uint32_t n;
    sfu_dgram *d = sfu_outbox(m->sfu, &n);
    for (uint32_t at = 0; at < n; at += MEDIA_IO_TX_WINDOW)
        send_window(m, d + at, n - at < MEDIA_IO_TX_WINDOW ? n - at : MEDIA_IO_TX_WINDOW);
    sfu_outbox_clear(m->sfu);
}

/* The SFU's events go to whoever joined each peer. They are copied first:
 * a handler may leave a peer, which runs the SFU again. */
static void handle_events(media_io *m) {
    uint32_t n;
    const sfu_event *ev = sfu_events(m->sfu, &n);
    if (n == 0) return;
    sfu_event *copy = malloc(n * sizeof *copy);
    if (!copy) return;
    memcpy(copy, ev, n * sizeof *copy);
    sfu_events_clear(m->sfu);
    for (uint32_t i = 0; i < n; i++) m->on_event(m->ctx, &copy[i]);
    free(copy);
}

/* The timer at the SFU's next deadline; re-set only when it moved. */
static void arm(media_io *m) {
    int64_t d = sfu_next_deadline(m->sfu);
    if (d == m->tick_at) return;
    m->tick_at = d;
    ev_timer_stop(m->node->loop, &m->tick_w);
    if (d == INT64_MAX) return;
    int64_t now = node_now_ms();
    ev_timer_set(&m->tick_w, d > now ? (double)(d - now) / 1000.0 : 0.0, 0.0);
    ev_timer_start(m->node->loop, &m->tick_w);
}

static void after(media_io *m) {
    flush(m);
    handle_events(m);
    flush(m); /* what leaving peers caused */
    arm(m);
}

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents) {
    media_io *m = w->data;
    (void)loop, (void)revents;
    uint8_t(*bufs)[SFU_DGRAM_MAX] = m->rx;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    int64_t held_since = 0; /* when the oldest copy still in the outbox was queued */
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
        int64_t now = node_now_ms();
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue; /* larger than any media datagram */
            stun_addr a;
            addr_of(&from[i], &a);
            sfu_recv(m->sfu, now, &a, bufs[i], msgs[i].msg_len);
            /* While packets keep arriving their copies gather, so that each
             * receiver's go out in one GSO message; but none waits longer
             * than MEDIA_IO_HOLD_NS for the others to be encrypted. With a
             * backlog in the socket (a full recvmmsg) every packet is late
             * by that queue already: larger batches then drain it sooner. */
            uint32_t queued;
            sfu_outbox(m->sfu, &queued);
            if (queued == 0) continue;
            int64_t t = mono_ns();
            if (!held_since) held_since = t;
            int64_t hold = n == BATCH ? MEDIA_IO_HOLD_BACKLOG_NS : MEDIA_IO_HOLD_NS;
            if (queued >= MEDIA_IO_TX_WINDOW || t - held_since >= hold) {
                flush(m);
                held_since = 0;
            }
        }
        m->rx_datagrams += (unsigned)n;
        /* Waiting for more input pays once several packets arrive within a
         * hold (20,000/s: 8 in 400 µs); below that it would only add delay. */
        if (now - m->rate_ms >= 100) {
            m->linger = (m->rx_datagrams - m->rx_at_rate) * 1000 >= (unsigned long long)MEDIA_IO_LINGER_PPS * (unsigned long long)(now - m->rate_ms);
            m->rx_at_rate = m->rx_datagrams;
            m->rate_ms = now;
        }
        if (n == BATCH) continue;
        /* The socket is drained. Under load, wait (up to the hold) for more
         * rather than send now: the copies then share GSO messages. */
        if (!m->linger || !held_since) break;
        int64_t left = MEDIA_IO_HOLD_NS - (mono_ns() - held_since);
        struct pollfd pf = {.fd = m->fd, .events = POLLIN};
        struct timespec ts = {.tv_sec = 0, .tv_nsec = left};
        if (left <= 0 || ppoll(&pf, 1, &ts, NULL) != 1) break;
    }
    after(m);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    media_io *m = w->data;
    (void)loop, (void)revents;
    m->tick_at = INT64_MAX; /* fired: arm sets it again */
    sfu_tick(m->sfu, node_now_ms());
    after(m);
}

#define PEM_MAX (1u << 20)

/* The DTLS certificate: the configured PEM files, read here (the media core
 * takes bytes), or a self-signed one with a serial from getrandom. */
static media_dtls_ctx *make_dtls(const shoal_config *cfg, char *err, size_t errlen) {
    media_dtls_identity id = {0};
    uint8_t *cert = NULL, *key = NULL;
    size_t clen = 0, klen = 0;
    if (cfg->dtls_cert_file[0]) {
        if (fs_read_file(cfg->dtls_cert_file, PEM_MAX, &cert, &clen) != 0 ||
            (cfg->dtls_key_file[0] && fs_read_file(cfg->dtls_key_file, PEM_MAX, &key, &klen) != 0)) {
            snprintf(err, errlen, "media: cannot read the DTLS certificate %s / key %s: %s", cfg->dtls_cert_file,
                     cfg->dtls_key_file[0] ? cfg->dtls_key_file : "(none)", errno ? strerror(errno) : "missing");
            free(cert);
            free(key);
            return NULL;
        }
        id = (media_dtls_identity){.cert_pem = (const char *)cert, .cert_len = clen, .key_pem = (const char *)key,
                                   .key_len = klen};
    } else if (getrandom(&id.serial, sizeof id.serial, 0) != (ssize_t)sizeof id.serial) {
        id.serial = (uint64_t)node_now_ms();
    }
    char why[200];
    media_dtls_ctx *d = media_dtls_ctx_new(&id, why, sizeof why);
    if (d == NULL)
        snprintf(err, errlen, "media: %s%s%s", why, cfg->dtls_cert_file[0] ? ": " : "", cfg->dtls_cert_file);
    free(cert);
    free(key);
    return d;
}

int media_io_start(media_io *m, node_ctx *node, media_event_fn on_event, void *ctx, char *err, size_t errlen) {
    const shoal_config *cfg = &node->cfg;
    memset(m, 0, sizeof *m);
    m->node = node;
    m->on_event = on_event;
    m->ctx = ctx;
    m->tick_at = INT64_MAX;
    m->rate_ms = node_now_ms(); /* the first input rate is measured from the start */
    m->fd = -1;
    /* The hold is a ppoll deadline of 400 µs; Linux lets a timer of this
     * thread (the node's one loop) fire up to 50 µs late by default. 1 µs:
     * forwarded packets wait for their batch no longer than the hold
     * (bench/media: p50 0.50 instead of 0.56 ms at the same load). */
    prctl(PR_SET_TIMERSLACK, 1000UL);
    if (!srtp_session_library_init()) {
        snprintf(err, errlen, "media: libsrtp2 failed to initialize");
        return -1;
    }
    m->dtls = make_dtls(cfg, err, errlen);
    if (!m->dtls) return -1;
    sfu_config sc = {.cand_ip = cfg->media_address, .cand_port = cfg->media_port};
    m->sfu = sfu_new(&sc, m->dtls);
    m->gso = true;
    m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!m->sfu || m->fd < 0 || send_plan_init(&m->plan, MEDIA_IO_TX_WINDOW) != 0) {
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
    ev_timer_init(&m->tick_w, tick_cb, 0.0, 0.0);
    m->tick_w.data = m;
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
    send_plan_free(&m->plan);
}

int media_io_join(media_io *m, const char *channel_id, const char *connection_id, const sfu_peer_opts *o,
                  void *user, sfu_peer **peer, uint16_t *code, const char **why) {
    uint8_t rnd[32];
    *peer = NULL;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) { /* ICE passwords must not be guessable */
        *code = 1011;
        *why = "MEDIA-NO-RANDOM";
        return -1;
    }
    *peer = sfu_peer_add(m->sfu, node_now_ms(), channel_id, connection_id, o, rnd, user, why);
    if (!*peer) {
        *code = strncmp(*why, "MEDIA-CODEC", 11) == 0 ? 1008 : 1011;
        return -1;
    }
    after(m); /* the offer: its handler finds the peer stored */
    return 0;
}

int media_io_answer(media_io *m, sfu_peer *p, const char *sdp, const char **why) {
    int rc = sfu_peer_answer(m->sfu, p, node_now_ms(), sdp, strlen(sdp), why);
    after(m);
    return rc;
}

void media_io_leave(media_io *m, sfu_peer *p) {
    sfu_peer_remove(m->sfu, p);
    after(m);
}

void media_io_metrics(const media_io *m, FILE *f) {
    const sfu_stats *s = sfu_get_stats(m->sfu);
    static const char *const counters[] = {"bytes_in", "bytes_out", "srtp_failures", "nacks", "retransmits",
                                           "plis", "stun_rejected", "dtls_failures", "send_errors", "send_messages"};
    const unsigned long long values[] = {s->bytes_in, s->bytes_out, s->srtp_fail, s->nacks, s->retransmits,
                                         s->plis, s->stun_bad, s->dtls_fail, m->send_errors, m->send_messages};
    fprintf(f, "# TYPE shoal_media_peers gauge\nshoal_media_peers %u\n", sfu_peer_count(m->sfu));
    fprintf(f, "# TYPE shoal_media_gso gauge\nshoal_media_gso %d\n", m->gso ? 1 : 0);
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
