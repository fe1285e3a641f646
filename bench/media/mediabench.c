/* mediabench.c - the media plane's benchmark: a load client that joins one
 * node through signaling (libwebsockets), answers its offers and speaks
 * ICE-lite/DTLS-SRTP with media/client.c, then has S senders stream RTP to
 * S channels of R receivers each. It reports forwarded packets per second,
 * per second of the server's CPU (its process clock), CPU per forwarded
 * packet, and the latency the path adds (send-to-receive, timestamps in
 * the payload; one packet in 16 is decrypted for it, the rest counted).
 * In the same run it measures libsrtp2's own protect rate, the limit of
 * any SRTP forwarder, on the server's core (--limit-cpu) while that idles:
 * the full phase runs in slices, the limit is read before and after each,
 * and the ratio printed is the median of the slices' ratios, each to the
 * mean of its two readings (with how many slices saw the two differ by
 * more than 10%: the machine changed speed meanwhile).
 *
 *   mediabench --url ws://127.0.0.1:5000/signaling --server-pid PID
 *              [--senders 4] [--receivers 8] [--seconds 5] [--rate PPS]
 *              [--payload 1000] [--gro 1] [--rx-wake 0] [--slices 20] [--half-slices 5]
 *              [--limit-cpu CPU] [--json]
 * --rate 0 (default) runs two phases: as fast as the client can send (in
 * --slices slices of --seconds in all), then at half the forwarding load
 * that phase reached (in --half-slices slices, each paced at half the full
 * phase's ratio times the limit read right before it), where the latency
 * is read: over all slices, and over those whose limit held within 10%
 * (the steady figures: a slice in which the machine slowed by a third ran
 * at two thirds of its capacity, not at half). In paced phases the client
 * reads its receivers when it wakes to send, not when their datagrams
 * would wake it (--rx-wake 1: then too): see run_for. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "rtp.h"
#include "srtp_session.h"
#include "vec.h"

#define MAX_CLIENTS 1024
#define LAT_MAX 2000000
#define SAMPLE_EVERY 16
#define MAX_SLICES 100
#define LIMIT_SECS 0.1 /* one reading of libsrtp2's protect rate */
#define WARM_SECS 0.15 /* before each slice: queues fill to the phase's level (~20 ms) */
#define DRAIN_SECS 0.15 /* after each slice: the server's queue (4 MiB) empties (~40 ms) */

typedef struct {
    int idx, channel;
    bool sender;
    struct lws *wsi;
    media_client *mc;
    int fd;
    char *rx;
    size_t rx_len;
    uint32_t rx_cap;
    char *to_send; /* one queued signaling text */
    bool connected_udp, want_connect, want_pong, closed;
    uint16_t seq;
    uint64_t sent, received;
    double due;
} client;

static struct {
    const char *url;
    int server_pid;
    int senders, receivers;
    double seconds;
    double rate;
    int payload;
    int gro;
    int rx_wake;   /* paced phases: the client also wakes for what its receivers get */
    int slices;    /* of the full phase */
    int half_slices;
    int limit_cpu; /* where the limit is read; -1: this client's CPU */
    bool json;
} opt = {NULL, 0, 4, 8, 5.0, 0, 1000, 1, 0, 20, 5, -1, false};

static client C[MAX_CLIENTS];
static int nclients;
static struct lws_context *ctx;
static media_dtls_ctx *dtls;
static double *lat;
static int nlat;
static double *lat_steady; /* the samples of the slices whose limit held */
static int nsteady;
static bool measuring; /* counted and sampled */
static bool streaming;  /* senders send (from the warm-up on) */
static double rate_now; /* packets/s per sender; 0: as fast as the client goes */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
static int64_t now_ms(void) { return (int64_t)(now_s() * 1000.0); }
/* Send times in the payload and the kernel's receive times are both read
 * on CLOCK_REALTIME (the clock SO_TIMESTAMPNS reports), on one machine. */
static uint64_t wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static uint64_t rx_ns; /* when the kernel queued the datagram being handled */

/* The server's CPU time: its process clock (nanoseconds) where the kernel
 * gives it, else /proc/PID/stat (ticks of 10 ms: too coarse for slices). */
static double cpu_s(int pid) {
    clockid_t id;
    struct timespec ts;
    if (clock_getcpuclockid(pid, &id) == 0 && clock_gettime(id, &ts) == 0)
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void queue_text(client *c, char *t) {
    free(c->to_send);
    c->to_send = t;
    if (c->wsi) lws_callback_on_writable(c->wsi);
}

static void flush_udp(client *c) {
    uint32_t n;
    media_client_dgram *d = media_client_outbox(c->mc, &n);
    for (uint32_t i = 0; i < n && c->connected_udp; i++) (void)send(c->fd, d[i].data, d[i].len, MSG_DONTWAIT);
    media_client_outbox_clear(c->mc);
}

static void on_offer(client *c, const char *sdp, bool re) {
    static char answer[65536];
    const char *why = NULL;
    if (media_client_offer(c->mc, sdp, strlen(sdp), answer, sizeof answer, &why) != 0) {
        fprintf(stderr, "mediabench: client %d: bad offer: %s\n", c->idx, why);
        exit(1);
    }
    if (!c->connected_udp) {
        const stun_addr *a = media_client_server(c->mc);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(a->port)};
        memcpy(&sa.sin_addr.s_addr, a->ip, 4);
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            perror("mediabench: connect UDP");
            exit(1);
        }
        c->connected_udp = true;
    }
    json_t *o = json_pack("{s:s, s:s}", "type", re ? "re-answer" : "answer", "sdp", answer);
    queue_text(c, json_dumps(o, JSON_COMPACT));
    json_decref(o);
}

static void on_message(client *c, const char *in, size_t len) {
    json_t *o = json_loadb(in, len, 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *sdp = json_string_value(json_object_get(o, "sdp"));
    if (type && sdp && (strcmp(type, "offer") == 0 || strcmp(type, "re-offer") == 0))
        on_offer(c, sdp, type[0] == 'r');
    else if (type && strcmp(type, "ping") == 0)
        queue_text(c, strdup("{\"type\":\"pong\"}"));
    else if (type && strcmp(type, "redirect") == 0) {
        fprintf(stderr, "mediabench: redirected; point --url at the channel's node (one node)\n");
        exit(1);
    }
    json_decref(o);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    client *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "{\"type\":\"connect\",\"role\":\"%s\",\"channel_id\":\"media-bench-%d\","
                 "\"sora_client\":\"shoal mediabench\",\"audio\":false,\"video\":true,\"sdp\":\"v=0\\r\\n\"}",
                 c->sender ? "sendonly" : "recvonly", c->channel);
        queue_text(c, strdup(msg));
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->to_send) {
            size_t n = strlen(c->to_send);
            unsigned char *buf = malloc(LWS_PRE + n);
            memcpy(buf + LWS_PRE, c->to_send, n);
            lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            free(buf);
            free(c->to_send);
            c->to_send = NULL;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (!array_grow(&c->rx, &c->rx_cap, c->rx_len + len + 1, 1)) return -1;
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi)) {
            c->rx[c->rx_len] = 0;
            on_message(c, c->rx, c->rx_len);
            c->rx_len = 0;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            c->wsi = NULL;
            c->closed = true;
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"mediabench", cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void open_signaling(client *c) {
    char u[512];
    const char *prot, *host, *path;
    int port;
    snprintf(u, sizeof u, "%s", opt.url);
    if (lws_parse_uri(u, &prot, &host, &port, &path)) {
        fprintf(stderr, "mediabench: bad --url\n");
        exit(2);
    }
    char p[520];
    snprintf(p, sizeof p, "/%s", path);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = p;
    ci.host = host;
    ci.origin = host;
    ci.local_protocol_name = "mediabench";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    lws_client_connect_via_info(&ci);
}

static void on_rtp(void *ctx_, const media_client_rtp *r) {
    (void)ctx_;
    if (!measuring || r->len < 10 || nlat >= LAT_MAX) return;
    uint64_t sent;
    memcpy(&sent, r->payload + 2, 8);
    lat[nlat++] = (double)((int64_t)(rx_ns - sent)) / 1e6;
}

/* One datagram that arrived on c's socket: one packet in SAMPLE_EVERY (by
 * sequence number) and every non-RTP datagram go through the client; the
 * rest of the forwarded packets are only counted. */
static void on_datagram(client *c, uint8_t *b, size_t len) {
    if (pkt_classify(b, len) == PKT_RTP && media_client_connected(c->mc)) {
        if (measuring) c->received++;
        uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
        if (seq % SAMPLE_EVERY != 0) return;
    }
    media_client_recv(c->mc, now_ms(), b, len, on_rtp, c);
}

/* Reads what arrived on c's socket. With UDP_GRO (--gro 1) the kernel may
 * hand over several datagrams of one sender in one buffer, cut here by the
 * segment size it reports, as it would otherwise cut them itself: on
 * loopback that receive-side work runs on the sending CPU, the server's,
 * where on a network it would be the receiver's machine. The latency is
 * read at the kernel's receive timestamp (SO_TIMESTAMPNS): what the path
 * through the server adds, not how late this busy client got to it. */
static void read_udp(client *c) {
    enum { B = 32, BUF = 65536 };
    static uint8_t (*bufs)[BUF];
    if (!bufs && !(bufs = malloc((size_t)B * BUF))) return;
    struct mmsghdr m[B];
    struct iovec iov[B];
    union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl[B];
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < B; i++) {
            iov[i] = (struct iovec){bufs[i], BUF};
            memset(&m[i], 0, sizeof m[i]);
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_control = ctl[i].buf;
            m[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
        }
        int n = recvmmsg(c->fd, m, B, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        for (int i = 0; i < n; i++) {
            size_t len = m[i].msg_len, seg = len;
            rx_ns = wall_ns();
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m[i].msg_hdr); cm; cm = CMSG_NXTHDR(&m[i].msg_hdr, cm)) {
                if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
                    int g;
                    memcpy(&g, CMSG_DATA(cm), sizeof g);
                    if (g > 0) seg = (size_t)g;
                } else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                    rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
                }
            }
            for (size_t at = 0; at < len; at += seg) on_datagram(c, bufs[i] + at, len - at < seg ? len - at : seg);
        }
        flush_udp(c);
        if (n < B) return;
    }
}

static void send_media(client *c, double t) {
    static uint8_t payload[1500];
    if (!media_client_connected(c->mc)) return;
    int burst = 0;
    while ((rate_now <= 0 || c->due <= t) && burst < (rate_now > 0 ? 64 : 16)) {
        payload[0] = 0x10; /* VP8 descriptor: start of partition 0 */
        payload[1] = 0x00; /* keyframe bit clear: receivers need no PLI */
        uint64_t ns = wall_ns();
        memcpy(payload + 2, &ns, 8);
        uint16_t seq = c->seq++;
        media_client_send(c->mc, 1, SDP_PT_VP8, seq, (uint32_t)seq * 3000u, true, payload, (size_t)opt.payload);
        flush_udp(c); /* out right after its time stamp: the burst's others do not delay it */
        c->sent++;
        c->due = rate_now > 0 ? c->due + 1.0 / rate_now : t + 1e-9;
        burst++;
    }
    flush_udp(c);
}

/* Services signaling and media for `secs` seconds (or until done() holds). */
static void run_for(double secs, bool (*done)(void)) {
    double end = now_s() + secs;
    struct pollfd pf[MAX_CLIENTS];
    int who[MAX_CLIENTS]; /* the client of each pf[] entry */
    double last_tick = 0;
    while (now_s() < end && !(done && done())) {
        lws_service(ctx, -1);
        double t = now_s();
        if (t - last_tick > 0.01) {
            for (int i = 0; i < nclients; i++) {
                media_client_tick(C[i].mc, (int64_t)(t * 1000));
                flush_udp(&C[i]);
            }
            last_tick = t;
        }
        /* Sleep until the next packet is due rather than spin: a busy load
         * client on the other vCPU makes the hypervisor take the server's
         * away for milliseconds (seen here: 13 gaps over 1 ms in 10 s on a
         * CPU whose sibling spun, 1 when it idled). As fast as it can
         * ("full"), it spins. */
        double wait = 0.001;
        for (int i = 0; i < nclients; i++)
            if (C[i].sender && streaming) {
                send_media(&C[i], t);
                double due = rate_now > 0 ? C[i].due - now_s() : 0;
                if (due < wait) wait = due > 0 ? due : 0;
            }
        /* Paced, the receivers are read when the client wakes to send (at
         * least every millisecond), not woken by what arrives: on loopback
         * each such wake is an interrupt that the server's CPU sends, inside
         * its sendmmsg, which on a network would be the receivers' machines'
         * (--rx-wake 1: wake for them too, as before 2026-12-04). Their
         * latency is read at the kernel's receive time stamp either way. */
        bool rx_by_wake = opt.rx_wake || rate_now <= 0 || !streaming;
        nfds_t npf = 0;
        for (int i = 0; i < nclients; i++)
            if (rx_by_wake || C[i].sender) {
                who[npf] = i;
                pf[npf++] = (struct pollfd){.fd = C[i].fd, .events = POLLIN};
            }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(wait * 1e9)};
        int n = ppoll(pf, npf, &ts, NULL);
        for (nfds_t k = 0; n > 0 && k < npf; k++)
            if (pf[k].revents & POLLIN) read_udp(&C[who[k]]);
        if (!rx_by_wake)
            for (int i = 0; i < nclients; i++)
                if (!C[i].sender) read_udp(&C[i]);
    }
}

static bool all_ready(void) {
    for (int i = 0; i < nclients; i++) {
        if (C[i].closed) {
            fprintf(stderr, "mediabench: client %d's signaling closed\n", i);
            exit(1);
        }
        if (!media_client_connected(C[i].mc)) return false;
        if (!C[i].sender) {
            uint32_t ssrc[4];
            char from[4][SDP_ID_MAX];
            if (media_client_forwarded(C[i].mc, ssrc, from, 4) < 1) return false;
        }
    }
    return true;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* libsrtp2's protect rate for this payload on one core: the limit. */
static double srtp_protect_rate(srtp_profile_id profile, double secs) {
    dtls_srtp_keys k = {.profile = profile, .key_len = 16,
                        .salt_len = profile == SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14};
    for (int i = 0; i < 46; i++) k.local[i] = k.remote[i] = (uint8_t)(i * 13 + 1);
    srtp_session *s = srtp_session_new(&k);
    if (!s) return 0;
    static uint8_t pkt[1600];
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            memset(pkt, 0, 12);
            pkt[0] = 0x80, pkt[1] = 96;
            pkt[2] = (uint8_t)(n >> 8), pkt[3] = (uint8_t)n;
            pkt[11] = 7;
            size_t len = 12 + (size_t)opt.payload;
            srtp_session_protect(s, pkt, &len);
            n++;
        }
        t = now_s();
    } while (t - t0 < secs);
    srtp_session_free(s);
    return (double)n / (t - t0);
}

typedef struct {
    double secs, rate;
} limit_job;

static void *limit_thread(void *arg) {
    limit_job *j = arg;
    j->rate = srtp_protect_rate(SRTP_PROFILE_AEAD_AES_128_GCM, j->secs);
    return NULL;
}

/* One reading of the limit, on --limit-cpu (the server's core) when given,
 * while no load runs: this machine's speed drifts (1 s protect loops here
 * read 0.60 M/s and 1.10 M/s in turn, on both vCPUs at the same moment),
 * and a phase measured in a slow spell against a limit read in a fast one
 * says nothing. So the limit is read right before and right after each
 * measured slice, on the core that forwarded it, never while it does. */
static double read_limit(void) {
    limit_job j = {.secs = LIMIT_SECS};
    if (opt.limit_cpu < 0) return limit_thread(&j), j.rate;
    pthread_attr_t at;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(opt.limit_cpu, &set);
    pthread_t th;
    if (pthread_attr_init(&at) != 0) return 0;
    int e = pthread_attr_setaffinity_np(&at, sizeof set, &set);
    if (e == 0) e = pthread_create(&th, &at, limit_thread, &j);
    pthread_attr_destroy(&at);
    if (e != 0) {
        fprintf(stderr, "mediabench: cannot read the limit on CPU %d: %s\n", opt.limit_cpu, strerror(e));
        exit(1);
    }
    pthread_join(th, NULL);
    return j.rate;
}

/* A slice whose two limit readings differ by more than 10%: the machine
 * changed speed while it ran. One such slice alone cannot be read; of
 * many, the median of their ratios still can. */
static bool drifted(double before, double after) {
    double m = (before + after) / 2;
    return m > 0 && fabs(before - after) / m > 0.10;
}

typedef struct {
    const char *phase;
    double offered_pps, forwarded_pps, server_cpu, per_core, us_per_pkt, p50, p99;
    int samples;
    double load; /* measure()'s load: forwarded packets per second as a share of the limit */
    double p50_steady, p99_steady; /* over the slices whose two limit readings agree */
    int samples_steady, slices_steady;
    double limit_first, limit_last, limit_mean; /* protect rates read around the slices */
    int slices, slices_drifted;
    double ratio, ratio_p25, ratio_p75; /* the slices' ratios: median and quartiles */
} result;

/* The q-quantile of sorted v[0 .. n), interpolated. */
static double quantile(const double *v, int n, double q) {
    double at = q * (n - 1);
    int i = (int)at;
    return i + 1 < n ? v[i] + (at - i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* The q-quantile of v[0 .. n) once sorted (nearest rank below). */
static double pct_of(double *v, int n, double q) {
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[(int)(q * (n - 1))];
}

/* One phase in `slices` slices of opt.seconds / slices each. Each slice:
 * the senders start (a warm-up, not counted), the slice is measured, they
 * stop and the queues drain, and the limit is read. The latency samples of
 * all slices make the phase's percentiles, and those of the slices whose
 * two limit readings agree within 10% its steady percentiles. load > 0:
 * before each slice the senders are paced so that the node forwards
 * load x the limit just read (the machine's speed of the moment), rather
 * than at a fixed rate_now. */
static result measure(const char *phase, int slices, double load) {
    result r = {.phase = phase, .slices = slices, .load = load};
    double secs = 0, cpu = 0, ratios[MAX_SLICES];
    uint64_t sent = 0, recv = 0;
    int nratios = 0;
    nlat = nsteady = 0;
    double before = read_limit(), sum_limit = before;
    r.limit_first = before;
    for (int k = 0; k < slices; k++) {
        if (load > 0) rate_now = load * before / opt.senders / opt.receivers;
        int lat_from = nlat;
        for (int i = 0; i < nclients; i++) C[i].due = now_s();
        streaming = true;
        run_for(WARM_SECS, NULL); /* the send path reaches the phase's rate */
        for (int i = 0; i < nclients; i++) C[i].received = C[i].sent = 0;
        measuring = true;
        double c0 = cpu_s(opt.server_pid), t0 = now_s();
        run_for(opt.seconds / slices, NULL);
        double c1 = cpu_s(opt.server_pid), t1 = now_s();
        measuring = false;
        streaming = false;
        run_for(DRAIN_SECS, NULL); /* the server idles before its core is read */
        uint64_t s_sent = 0, s_recv = 0;
        for (int i = 0; i < nclients; i++) s_sent += C[i].sent, s_recv += C[i].received;
        double after = read_limit();
        sum_limit += after;
        r.slices_drifted += drifted(before, after);
        if (!drifted(before, after)) {
            memcpy(lat_steady + nsteady, lat + lat_from, sizeof *lat * (size_t)(nlat - lat_from));
            nsteady += nlat - lat_from;
            r.slices_steady++;
        }
        if (c1 > c0 && before + after > 0) ratios[nratios++] = (double)s_recv / (c1 - c0) / ((before + after) / 2);
        before = after;
        sent += s_sent, recv += s_recv, secs += t1 - t0, cpu += c1 - c0;
    }
    qsort(ratios, (size_t)nratios, sizeof *ratios, cmp_d);
    r.limit_last = before;
    r.limit_mean = sum_limit / (slices + 1);
    r.offered_pps = (double)sent / secs;
    r.forwarded_pps = (double)recv / secs;
    r.server_cpu = cpu;
    r.per_core = cpu > 0 ? (double)recv / cpu : 0;
    r.us_per_pkt = recv ? cpu * 1e6 / (double)recv : 0;
    r.p50 = pct_of(lat, nlat, 0.50);
    r.p99 = pct_of(lat, nlat, 0.99);
    r.samples = nlat;
    r.p50_steady = pct_of(lat_steady, nsteady, 0.50);
    r.p99_steady = pct_of(lat_steady, nsteady, 0.99);
    r.samples_steady = nsteady;
    /* Over several slices the median stands against the spells of a
     * slower or faster machine; one slice is read only if its limit held. */
    if (nratios > 0 && (slices > 1 || r.slices_drifted == 0)) {
        r.ratio = quantile(ratios, nratios, 0.50);
        r.ratio_p25 = quantile(ratios, nratios, 0.25);
        r.ratio_p75 = quantile(ratios, nratios, 0.75);
    }
    return r;
}

static bool unreadable(const result *r) { return r->ratio <= 0; }

static void print_header(void) {
    printf("# mediabench: %d senders x %d receivers, %d-byte payloads, receivers' UDP_GRO %s, paced receivers read "
           "%s; limit: libsrtp2's AEAD_AES_128_GCM protect rate on %s, read for %.2f s before and after each slice "
           "of a phase; /limit: the median of the slices' ratios\n",
           opt.senders, opt.receivers, opt.payload, opt.gro ? "on" : "off",
           opt.rx_wake ? "when they wake the client" : "when the client wakes to send",
           opt.limit_cpu >= 0 ? "the server's core" : "the client's core", LIMIT_SECS);
    printf("%-10s %10s %12s %9s %14s %9s %8s %8s %7s %10s %7s %7s\n", "phase", "sent/s", "forwarded/s", "srv cpu",
           "fwd/core-s", "us/pkt", "p50 ms", "p99 ms", "samples", "limit/s", "/limit", "slices");
}

static void print_row(const result *r) {
    if (opt.json) {
        printf("{\"phase\":\"%s\",\"senders\":%d,\"receivers_per_sender\":%d,\"payload\":%d,\"client_gro\":%s,"
               "\"client_rx_wake\":%s,"
               "\"offered_pps\":%.0f,\"forwarded_pps\":%.0f,\"server_cpu_s\":%.3f,"
               "\"forwarded_per_core_s\":%.0f,\"server_us_per_forwarded\":%.3f,\"latency_p50_ms\":%.3f,"
               "\"latency_p99_ms\":%.3f,\"latency_samples\":%d,\"srtp_protect_per_s\":%.0f,"
               "\"srtp_protect_before_per_s\":%.0f,\"srtp_protect_after_per_s\":%.0f,\"slices\":%d,"
               "\"slices_drifted\":%d,\"limit_drifted\":%s,\"ratio_to_srtp\":%.3f,\"ratio_slice_p25\":%.3f,"
               "\"ratio_slice_p75\":%.3f,\"load_of_limit\":%.3f,\"slices_steady\":%d,"
               "\"latency_p50_steady_ms\":%.3f,\"latency_p99_steady_ms\":%.3f,\"latency_samples_steady\":%d}\n",
               r->phase, opt.senders, opt.receivers, opt.payload, opt.gro ? "true" : "false",
               opt.rx_wake ? "true" : "false", r->offered_pps,
               r->forwarded_pps, r->server_cpu, r->per_core, r->us_per_pkt, r->p50, r->p99, r->samples,
               r->limit_mean, r->limit_first, r->limit_last, r->slices, r->slices_drifted,
               unreadable(r) ? "true" : "false", r->ratio, r->ratio_p25, r->ratio_p75, r->load, r->slices_steady,
               r->p50_steady, r->p99_steady, r->samples_steady);
    } else {
        printf("%-10s %10.0f %12.0f %9.2f %14.0f %9.3f %8.3f %8.3f %7d %10.0f %7.2f %7d\n", r->phase, r->offered_pps,
               r->forwarded_pps, r->server_cpu, r->per_core, r->us_per_pkt, r->p50, r->p99, r->samples,
               r->limit_mean, r->ratio, r->slices);
        if (r->load > 0)
            printf("# %s: %d slices, each paced at %.3f x the limit read before it; latency over the %d slices "
                   "whose limit held within 10%%: p50 %.3f ms, p99 %.3f ms (%d samples)\n",
                   r->phase, r->slices, r->load, r->slices_steady, r->p50_steady, r->p99_steady, r->samples_steady);
        else if (unreadable(r))
            printf("# %s: the protect rate went from %.0f to %.0f packets/s across the phase: this machine changed "
                   "speed while it ran, so its ratio cannot be read; run again\n",
                   r->phase, r->limit_first, r->limit_last);
        else if (r->slices > 1)
            printf("# %s: ratio per slice: quartiles %.2f, %.2f, %.2f; the limit moved by over 10%% across %d of "
                   "the %d slices\n",
                   r->phase, r->ratio_p25, r->ratio, r->ratio_p75, r->slices_drifted, r->slices);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--url") == 0 && v) opt.url = v, i++;
        else if (strcmp(a, "--server-pid") == 0 && v) opt.server_pid = atoi(v), i++;
        else if (strcmp(a, "--senders") == 0 && v) opt.senders = atoi(v), i++;
        else if (strcmp(a, "--receivers") == 0 && v) opt.receivers = atoi(v), i++;
        else if (strcmp(a, "--seconds") == 0 && v) opt.seconds = atof(v), i++;
        else if (strcmp(a, "--rate") == 0 && v) opt.rate = atof(v), i++;
        else if (strcmp(a, "--payload") == 0 && v) opt.payload = atoi(v), i++;
        else if (strcmp(a, "--gro") == 0 && v) opt.gro = atoi(v) != 0, i++;
        else if (strcmp(a, "--rx-wake") == 0 && v) opt.rx_wake = atoi(v) != 0, i++;
        else if (strcmp(a, "--slices") == 0 && v) opt.slices = atoi(v), i++;
        else if (strcmp(a, "--half-slices") == 0 && v) opt.half_slices = atoi(v), i++;
        else if (strcmp(a, "--limit-cpu") == 0 && v) opt.limit_cpu = atoi(v), i++;
        else if (strcmp(a, "--json") == 0) opt.json = true;
        else {
            fprintf(stderr, "usage: mediabench --url WS_URL --server-pid PID [--senders N] [--receivers N]"
                            " [--seconds S] [--rate PPS] [--payload BYTES] [--gro 0|1] [--rx-wake 0|1] [--slices N]"
                            " [--half-slices N]"
                            " [--limit-cpu CPU] [--json]\n");
            return 2;
        }
    }
    nclients = opt.senders * (opt.receivers + 1);
    if (!opt.url || opt.server_pid <= 0 || opt.senders < 1 || opt.receivers < 1 || nclients > MAX_CLIENTS ||
        opt.payload < 16 || opt.payload > 1200 || opt.slices < 1 || opt.slices > MAX_SLICES ||
        opt.half_slices < 1 || opt.half_slices > MAX_SLICES || opt.seconds <= 0 ||
        opt.limit_cpu >= CPU_SETSIZE) {
        fprintf(stderr, "mediabench: need --url and --server-pid; senders x (receivers+1) <= %d; payload 16..1200;"
                        " slices 1..%d; seconds > 0\n", MAX_CLIENTS, MAX_SLICES);
        return 2;
    }
    lws_set_log_level(LLL_ERR, NULL);
    srtp_session_library_init();
    char err[256];
    dtls = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
    lat = malloc(sizeof *lat * LAT_MAX);
    lat_steady = malloc(sizeof *lat_steady * LAT_MAX);
    if (!dtls || !lat || !lat_steady) {
        fprintf(stderr, "mediabench: %s\n", dtls ? "out of memory" : err);
        return 1;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = 4096;
    ctx = lws_create_context(&info);
    /* Senders first: each receiver's first offer already has its sender. */
    for (int i = 0; i < nclients; i++) {
        client *c = &C[i];
        c->idx = i;
        c->sender = i < opt.senders;
        c->channel = c->sender ? i : (i - opt.senders) % opt.senders;
        c->mc = media_client_new(dtls, 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1), c->sender);
        c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        int big = 8 << 20;
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        if (opt.gro) setsockopt(c->fd, SOL_UDP, UDP_GRO, &opt.gro, sizeof opt.gro);
        int on = 1;
        setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
    for (int i = 0; i < nclients; i++) {
        open_signaling(&C[i]);
        if (i == opt.senders - 1) run_for(1.0, NULL);
    }
    run_for(20.0, all_ready);
    if (!all_ready()) {
        fprintf(stderr, "mediabench: not every client connected (ICE/DTLS) within 20 s\n");
        return 1;
    }
    if (!opt.json) print_header();
    if (opt.rate > 0) {
        rate_now = opt.rate;
        result r = measure("fixed", 1, 0);
        print_row(&r);
    } else {
        rate_now = 0;
        result full = measure("full", opt.slices, 0);
        print_row(&full);
        /* Half the forwarding load the full phase reached: half its ratio
         * to the limit, paced against the limit read before each slice, so
         * that a slice run while the machine is slower is not a heavier
         * load (its speed moves by a third within seconds here). Without a
         * ratio (the full phase's limit moved), half its rate. */
        rate_now = full.forwarded_pps / 2 / opt.receivers / opt.senders;
        result half = measure("half", opt.half_slices, unreadable(&full) ? 0 : full.ratio / 2);
        print_row(&half);
    }
    lws_context_destroy(ctx);
    return 0;
}
