/* cluster_io.c - the cluster socket of the node core on libev (see .h). */
#define _GNU_SOURCE
#include "cluster_io.h"
#include "node_ctx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum conn_phase { CONN_CONNECTING, CONN_WRITING, CONN_READING, CONN_WAIT_CORE };

struct stream_conn {
    stream_conn *prev, *next;
    cluster_io *io;
    int fd;
    uint64_t id;                 /* != 0: accepted, the core's reply goes here */
    bool outgoing;
    enum conn_phase phase;
    shoal_addr peer;
    ev_io w;
    ev_timer deadline;
    uint8_t hdr[4];
    uint32_t hdr_got;
    uint8_t *rbuf;
    uint32_t rlen, rgot;
    uint8_t *wbuf;
    uint32_t wlen, wsent;
};

static struct sockaddr_in to_sockaddr(shoal_addr a) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(a.ip);
    sa.sin_port = htons(a.port);
    return sa;
}

static shoal_addr from_sockaddr(const struct sockaddr_in *sa) {
    return (shoal_addr){ntohl(sa->sin_addr.s_addr), ntohs(sa->sin_port)};
}

static void drain(cluster_io *io);

/* ---- streams ------------------------------------------------------------ */

static void conn_close(stream_conn *c) {
    cluster_io *io = c->io;
    ev_io_stop(io->loop, &c->w);
    ev_timer_stop(io->loop, &c->deadline);
    close(c->fd);
    if (c->prev) c->prev->next = c->next;
    else io->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    io->nconns--;
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

static void conn_watch(stream_conn *c, int events) {
    ev_io_stop(c->io->loop, &c->w);
    ev_io_set(&c->w, c->fd, events);
    ev_io_start(c->io->loop, &c->w);
}

/* Reads the length prefix, then the payload. Returns 1 when complete, 0 to
 * wait, -1 on error or a frame over the limit. */
static int conn_read(stream_conn *c) {
    while (c->hdr_got < 4) {
        ssize_t n = read(c->fd, c->hdr + c->hdr_got, 4 - c->hdr_got);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->hdr_got += (uint32_t)n;
        if (c->hdr_got == 4) {
            c->rlen = (uint32_t)c->hdr[0] << 24 | (uint32_t)c->hdr[1] << 16 |
                      (uint32_t)c->hdr[2] << 8 | c->hdr[3];
            if (c->rlen == 0 || c->rlen > WIRE_MAX_FRAME) {
                c->io->bad_frames++;
                return -1;
            }
            c->rbuf = malloc(c->rlen);
            if (c->rbuf == NULL) return -1;
        }
    }
    while (c->rgot < c->rlen) {
        ssize_t n = read(c->fd, c->rbuf + c->rgot, c->rlen - c->rgot);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->rgot += (uint32_t)n;
    }
    return 1;
}

static int conn_write(stream_conn *c) {
    while (c->wsent < c->wlen) {
        ssize_t n = send(c->fd, c->wbuf + c->wsent, c->wlen - c->wsent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->wsent += (uint32_t)n;
    }
    return 1;
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents) {
    stream_conn *c = w->data;
    cluster_io *io = c->io;
    (void)loop;
    (void)revents;
    int rc;
    switch (c->phase) {
    case CONN_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) goto fail;
        c->phase = CONN_WRITING;
    } /* fall through */
    case CONN_WRITING:
        rc = conn_write(c);
        if (rc < 0) goto fail;
        if (rc == 0) { conn_watch(c, EV_WRITE); return; }
        if (!c->outgoing) { conn_close(c); return; } /* reply written */
        c->phase = CONN_READING;
        conn_watch(c, EV_READ);
        return;
    case CONN_READING:
        rc = conn_read(c);
        if (rc < 0) goto fail;
        if (rc == 0) return;
        if (c->outgoing) {
            ncore_recv_stream(io->nc, node_now_ms(), c->peer, 0, c->rbuf, c->rlen);
            conn_close(c);
        } else {
            c->phase = CONN_WAIT_CORE;
            ev_io_stop(io->loop, &c->w);
            ncore_recv_stream(io->nc, node_now_ms(), c->peer, c->id, c->rbuf, c->rlen);
            /* the reply, if any, is attached to c by this drain; no reply
             * (bad frame, foreign cluster): close */
            drain(io);
            for (stream_conn *x = io->conns; x; x = x->next)
                if (x == c && c->phase == CONN_WAIT_CORE) { conn_close(c); break; }
        }
        return;
    case CONN_WAIT_CORE: return;
    }
    return;
fail:
    conn_close(c);
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents) {
    (void)loop;
    (void)revents;
    conn_close(t->data);
}

static stream_conn *conn_new(cluster_io *io, int fd, shoal_addr peer, bool outgoing) {
    if (io->nconns >= CLUSTER_IO_MAX_CONNS) {
        io->refused_conns++;
        close(fd);
        return NULL;
    }
    stream_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->io = io;
    c->fd = fd;
    c->peer = peer;
    c->outgoing = outgoing;
    c->id = outgoing ? 0 : ++io->next_conn_id;
    ev_io_init(&c->w, conn_cb, fd, EV_READ);
    c->w.data = c;
    ev_timer_init(&c->deadline, conn_timeout_cb, CLUSTER_IO_STREAM_TIMEOUT, 0);
    c->deadline.data = c;
    ev_timer_start(io->loop, &c->deadline);
    c->next = io->conns;
    if (io->conns) io->conns->prev = c;
    io->conns = c;
    io->nconns++;
    return c;
}

static void open_stream(cluster_io *io, const core_out *o) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct sockaddr_in sa = to_sockaddr(o->addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd);
        return;
    }
    stream_conn *c = conn_new(io, fd, o->addr, true);
    if (c == NULL) return;
    c->wbuf = malloc(o->len);
    if (c->wbuf == NULL) { conn_close(c); return; }
    memcpy(c->wbuf, o->data, o->len);
    c->wlen = o->len;
    c->phase = CONN_CONNECTING;
    conn_watch(c, EV_WRITE);
}

static void reply_stream(cluster_io *io, const core_out *o) {
    for (stream_conn *c = io->conns; c; c = c->next) {
        if (c->id != o->conn_id || c->phase != CONN_WAIT_CORE) continue;
        c->wbuf = malloc(o->len);
        if (c->wbuf == NULL) { conn_close(c); return; }
        memcpy(c->wbuf, o->data, o->len);
        c->wlen = o->len;
        c->phase = CONN_WRITING;
        conn_watch(c, EV_WRITE);
        return;
    }
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents) {
    cluster_io *io = t->data;
    (void)revents;
    ev_io_start(loop, &io->tcp_w);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
    cluster_io *io = w->data;
    (void)loop;
    (void)revents;
    for (;;) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        int fd = accept4(io->tcp_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* the connection stays queued and the listener readable: watched
             * on, the loop would spin; rest 100 ms and try again */
            ev_io_stop(io->loop, &io->tcp_w);
            ev_timer_start(io->loop, &io->accept_pause);
            return;
        }
        if (fd < 0) return;
        stream_conn *c = conn_new(io, fd, from_sockaddr(&sa), false);
        if (c != NULL) {
            c->phase = CONN_READING;
            ev_io_start(io->loop, &c->w);
        }
    }
}

/* ---- datagrams ---------------------------------------------------------- */

static void send_packets(cluster_io *io, const core_out *o, uint32_t n) {
    enum { BATCH = 64 };
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in sa[BATCH];
    uint32_t k = 0;
    for (uint32_t i = 0; i <= n; i++) {
        if (k == BATCH || (i == n && k > 0)) {
            int sent = sendmmsg(io->udp_fd, msgs, k, 0);
            if (sent < (int)k) io->send_errors += k - (uint32_t)(sent > 0 ? sent : 0);
            k = 0;
        }
        if (i == n) break;
        if (o[i].kind != SWIM_OUT_PACKET) continue;
        sa[k] = to_sockaddr(o[i].addr);
        iov[k] = (struct iovec){o[i].data, o[i].len};
        msgs[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &sa[k], .msg_namelen = sizeof sa[k],
                                               .msg_iov = &iov[k], .msg_iovlen = 1}};
        k++;
    }
}

/* The cluster core's events first (serving, roster), then the others.
 * Events are copied out before they are handed over: a handler may call
 * into the node core, which queues more (handled in the next round). */
static bool dispatch_cluster_events(cluster_io *io) {
    uint32_t n;
    const ccore_event *ev = ncore_cluster_events(io->nc, &n);
    if (n == 0) return false;
    ccore_event *copy = malloc(n * sizeof *copy);
    if (copy == NULL) return false; /* kept in the core: handled on the next drain */
    memcpy(copy, ev, n * sizeof *ev);
    ncore_cluster_events_clear(io->nc);
    for (uint32_t i = 0; i < n; i++)
        if (io->on_cluster_event) io->on_cluster_event(io->ctx, &copy[i]);
    free(copy);
    return true;
}

static void dispatch_events(cluster_io *io) {
    for (int round = 0; round < 16; round++) {
        bool any = dispatch_cluster_events(io);
        uint32_t n;
        const ncore_event *ev = ncore_events(io->nc, &n);
        if (n == 0 && !any) return;
        if (n == 0) continue;
        ncore_event *copy = malloc(n * sizeof *copy);
        if (copy == NULL) return; /* kept in the core: handled on the next drain */
        memcpy(copy, ev, n * sizeof *ev);
        ncore_events_clear(io->nc);
        for (uint32_t i = 0; i < n; i++)
            if (io->on_event) io->on_event(io->ctx, &copy[i]);
        free(copy);
    }
}

static void drain(cluster_io *io) {
    dispatch_events(io);
    uint32_t n;
    const core_out *o = outbox_items(ncore_outbox(io->nc), &n);
    send_packets(io, o, n);
    for (uint32_t i = 0; i < n; i++) {
        if (o[i].kind != SWIM_OUT_STREAM) continue;
        if (o[i].conn_id == 0) open_stream(io, &o[i]);
        else reply_stream(io, &o[i]);
    }
    outbox_clear(ncore_outbox(io->nc));
    int64_t now = node_now_ms(), delay = ncore_next_deadline(io->nc, now) - now;
    ev_timer_stop(io->loop, &io->timer);
    ev_timer_set(&io->timer, delay > 0 ? (double)delay / 1000.0 : 0.0, 0.0);
    ev_timer_start(io->loop, &io->timer);
}

/* Every loop iteration, before it blocks; most iterations (media packets,
 * signaling frames) did not touch the node core and cost one flag here. */
static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
    cluster_io *io = w->data;
    (void)loop;
    (void)revents;
    if (ncore_untouched(io->nc)) return;
    drain(io);
}

static void udp_cb(struct ev_loop *loop, ev_io *w, int revents) {
    cluster_io *io = w->data;
    (void)loop;
    (void)revents;
    uint8_t buf[65536];
    /* Drain the socket completely: after a stall, what peers sent (their
     * refutations) must be read before our timers are judged. */
    for (;;) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        ssize_t n = recvfrom(io->udp_fd, buf, sizeof buf, 0, (struct sockaddr *)&sa, &len);
        if (n < 0) break;
        ncore_recv_packet(io->nc, node_now_ms(), from_sockaddr(&sa), buf, (size_t)n);
    }
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents) {
    cluster_io *io = t->data;
    (void)loop;
    (void)revents;
    ncore_tick(io->nc, node_now_ms());
}

static int bind_socket(int type, uint32_t ip, uint16_t port, char *err, size_t errlen) {
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = to_sockaddr((shoal_addr){ip, port});
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        char a[32];
        shoal_addr_format((shoal_addr){ip, port}, a, sizeof a);
        snprintf(err, errlen, "cannot bind %s %s: %s", type == SOCK_DGRAM ? "UDP" : "TCP", a,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cluster_io_start(cluster_io *io, struct ev_loop *loop, node_core *nc, uint32_t ip, uint16_t port,
                     cluster_event_fn on_event, cluster_core_event_fn on_cluster_event, void *ctx, char *err,
                     size_t errlen) {
    memset(io, 0, sizeof *io);
    io->loop = loop;
    io->nc = nc;
    io->on_event = on_event;
    io->on_cluster_event = on_cluster_event;
    io->ctx = ctx;
    io->udp_fd = bind_socket(SOCK_DGRAM, ip, port, err, errlen);
    if (io->udp_fd < 0) return -1;
    io->tcp_fd = bind_socket(SOCK_STREAM, ip, port, err, errlen);
    if (io->tcp_fd < 0 || listen(io->tcp_fd, 128) != 0) {
        close(io->udp_fd);
        if (io->tcp_fd >= 0) close(io->tcp_fd);
        return -1;
    }
    int rcvbuf = 4 << 20; /* room for a burst while we stall */
    setsockopt(io->udp_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    ev_io_init(&io->udp_w, udp_cb, io->udp_fd, EV_READ);
    io->udp_w.data = io;
    ev_set_priority(&io->udp_w, EV_MAXPRI); /* before timers, see udp_cb */
    ev_io_start(loop, &io->udp_w);
    ev_io_init(&io->tcp_w, accept_cb, io->tcp_fd, EV_READ);
    io->tcp_w.data = io;
    ev_io_start(loop, &io->tcp_w);
    ev_timer_init(&io->accept_pause, accept_resume_cb, 0.1, 0.0);
    io->accept_pause.data = io;
    ev_timer_init(&io->timer, timer_cb, 0.0, 0.0);
    io->timer.data = io;
    ev_prepare_init(&io->drain_w, prepare_cb);
    io->drain_w.data = io;
    ev_prepare_start(loop, &io->drain_w);
    return 0;
}

void cluster_io_stop(cluster_io *io) {
    while (io->conns) conn_close(io->conns);
    ev_io_stop(io->loop, &io->udp_w);
    ev_io_stop(io->loop, &io->tcp_w);
    ev_timer_stop(io->loop, &io->accept_pause);
    ev_timer_stop(io->loop, &io->timer);
    ev_prepare_stop(io->loop, &io->drain_w);
    close(io->udp_fd);
    close(io->tcp_fd);
}
