/* signaling_ws.c - the signaling WebSocket server on the node's libev loop
 * (see signaling.h). Bytes and frames only: every decision is the
 * session's (signaling/session.h) or admission's (signaling_admit.c). */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "node_ctx.h"
#include "signaling.h"
#include "vec.h"

#define SIG_PATH "/signaling"
#define RX_CHUNK 2048          /* lws's receive buffer per socket: larger messages come in pieces */
#define CLOSE_SEND_S 5         /* a client that does not read our close frame is cut after this */

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void conn_flush(sig_conn *c);
static void conn_closing(sig_conn *c);

/* After anything happened to c's session: handle its events, let the
 * socket write what is queued, re-arm the timer at the next deadline. */
void sig_conn_pump(sig_conn *c) {
    signaling *sg = c->sg;
    uint32_t n;
    const sig_event *ev = sig_session_events(c->s, &n);
    sig_event copy[4];
    if (n > 4) n = 4;
    memcpy(copy, ev, n * sizeof *copy);
    sig_session_events_clear(c->s);
    for (uint32_t i = 0; i < n; i++) {
        if (copy[i] == SIG_EV_CONNECT) {
            sg->m.connects++;
            adm_on_connect(sg, c);
        } else if (copy[i] == SIG_EV_CLOSED) {
            adm_on_closed(sg, c);
        } else if (copy[i] == SIG_EV_ANSWER) {
            sig_media_answer(sg, c);
        }
    }
    uint16_t code;
    const char *reason;
    if (c->wsi != NULL) {
        conn_flush(c);
        if (sig_session_close_pending(c->s, &code, &reason) || c->write_failed) conn_closing(c);
    }
    ev_timer_stop(sg->node->loop, &c->timer);
    int64_t d = sig_session_next_deadline(c->s);
    if (d != INT64_MAX) {
        int64_t now = node_now_ms();
        ev_timer_set(&c->timer, d > now ? (double)(d - now) / 1000.0 : 0.001, 0.0);
        ev_timer_start(sg->node->loop, &c->timer);
    }
}

/* Something was queued for c from outside its own events (a notify to its
 * channel): send it. If that ended the session (64 messages waiting for a
 * client that does not read), its events are handled on the next loop
 * iteration, not here: the caller is walking the channel's member list,
 * which the CLOSED event changes. (Left to c's own timer, a closed session
 * stayed in its channel until its next ping, 30 s.) */
void sig_conn_kick(sig_conn *c) {
    if (c->wsi != NULL) conn_flush(c);
    uint32_t n;
    sig_session_events(c->s, &n);
    if (n > 0) {
        ev_timer_stop(c->sg->node->loop, &c->timer);
        ev_timer_set(&c->timer, 0.0, 0.0);
        ev_timer_start(c->sg->node->loop, &c->timer);
    }
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    sig_conn *c = w->data;
    (void)loop;
    (void)revents;
    sig_session_tick(c->s, node_now_ms());
    sig_conn_pump(c);
}

static void conn_open(signaling *sg, sig_conn *c, struct lws *wsi) {
    memset(c, 0, sizeof *c);
    c->wsi = wsi;
    c->sg = sg;
    c->s = sig_session_new(&sg->scfg, node_now_ms());
    ev_timer_init(&c->timer, conn_timer_cb, 1.0, 0.0);
    c->timer.data = c;
    c->all_next = sg->all;
    if (sg->all) sg->all->all_prev = c;
    sg->all = c;
    sg->nconns++;
}

static void conn_gone(signaling *sg, sig_conn *c) {
    if (c->sg == NULL) return; /* never opened */
    if (c->s != NULL) {
        sig_session_peer_closed(c->s);
        c->wsi = NULL;
        sig_conn_pump(c); /* the CLOSED event: admission forgets c */
    }
    ev_timer_stop(sg->node->loop, &c->timer);
    if (c->all_prev) c->all_prev->all_next = c->all_next;
    else sg->all = c->all_next;
    if (c->all_next) c->all_next->all_prev = c->all_prev;
    sg->nconns--;
    sig_session_free(c->s);
    free(c->rx);
    memset(c, 0, sizeof *c);
}

/* Send what the session queued, now, while lws holds nothing back for this
 * socket: one send() per message and no round through the event loop.
 * (Asking for a writable callback per message cost two epoll_ctl calls and
 * a wake-up each: 12 epoll_ctl per admission against 7.5 sends.) lws keeps
 * what the kernel does not take and flushes it when the socket drains;
 * messages queued meanwhile wait here for the writable callback, so the
 * order never changes. A failed send cannot close the socket from here
 * (only a callback's -1 does): it is remembered for the next callback. */
static void conn_flush(sig_conn *c) {
    signaling *sg = c->sg;
    uint32_t n;
    while (!c->write_failed && !lws_partial_buffered(c->wsi) && (sig_session_outbox(c->s, &n), n > 0)) {
        char *t = sig_session_out_take(c->s);
        size_t len = strlen(t);
        if (!array_grow(&sg->tx, &sg->tx_cap, LWS_PRE + len, 1)) {
            free(t);
            c->write_failed = true;
            break;
        }
        memcpy(sg->tx + LWS_PRE, t, len);
        free(t);
        if (lws_write(c->wsi, sg->tx + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) c->write_failed = true;
    }
    sig_session_outbox(c->s, &n);
    if (c->write_failed || n > 0) lws_callback_on_writable(c->wsi);
}

/* The session ended: its last messages and the close frame go out when
 * the socket drains, but a client that does not read (zero window) would
 * keep the socket, and what waits for it, for ever: lws cuts it after
 * CLOSE_SEND_S whatever its state. */
static void conn_closing(sig_conn *c) {
    if (!c->closing) {
        c->closing = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_SEND_S);
    }
    lws_callback_on_writable(c->wsi);
}

/* The writable callback: the rest of the queue, then the close frame. */
static int conn_write(sig_conn *c) {
    conn_flush(c);
    if (c->write_failed) return -1;
    uint32_t n;
    sig_session_outbox(c->s, &n);
    uint16_t code;
    const char *reason;
    if (n == 0 && !lws_partial_buffered(c->wsi) && sig_session_close_pending(c->s, &code, &reason)) {
        lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
        sig_session_close_sent(c->s);
        return -1; /* lws sends the close frame and closes */
    }
    return 0;
}

/* A text message, possibly in fragments of RX_CHUNK: put together up to
 * SIG_MESSAGE_MAX + 1 bytes; the session closes anything longer (1009). */
static void conn_receive(sig_conn *c, const char *in, size_t len) {
    bool first = lws_is_first_fragment(c->wsi), final = lws_is_final_fragment(c->wsi);
    int64_t now = node_now_ms();
    if (first && final) {
        sig_session_recv(c->s, now, in, len);
        return;
    }
    if (first) c->rx_len = 0;
    if (c->rx == NULL) {
        c->rx = malloc(SIG_MESSAGE_MAX + 1);
        if (c->rx == NULL) {
            sig_session_close(c->s, 1011, "out of memory");
            return;
        }
    }
    size_t room = SIG_MESSAGE_MAX + 1 - c->rx_len, k = len < room ? len : room;
    memcpy(c->rx + c->rx_len, in, k);
    c->rx_len += (uint32_t)k;
    if (c->rx_len > SIG_MESSAGE_MAX || final) {
        sig_session_recv(c->s, now, c->rx, c->rx_len);
        free(c->rx); /* no buffer is kept between messages: memory per socket stays small */
        c->rx = NULL;
        c->rx_len = 0;
    }
}

static bool path_is_signaling(struct lws *wsi) {
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return false;
    char *q = strchr(uri, '?'); /* sora-js-sdk adds no query; others may */
    if (q) *q = '\0';
    return strcmp(uri, SIG_PATH) == 0;
}

static int cb_signaling(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    sig_conn *c = user;
    signaling *sg = lws_get_vhost_user(lws_get_vhost(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: /* in: the accepted descriptor */
        return node_accept_filter(lws_context_user(lws_get_context(wsi)), (int)(intptr_t)in, /* the node_ctx */
                                  FD_LIMIT_SIGNALING_HEADROOM);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return path_is_signaling(wsi) ? 0 : 1; /* 1: refuse the upgrade */
    case LWS_CALLBACK_HTTP:
        /* a plain HTTP request on the signaling port */
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "WebSocket signaling is at " SIG_PATH);
        return -1;
    case LWS_CALLBACK_ESTABLISHED:
        conn_open(sg, c, wsi);
        if (!adm_on_open(sg, c)) sig_session_close(c->s, 1013, "NODE-FULL: out of memory");
        sig_conn_pump(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c == NULL || c->s == NULL || sig_session_state(c->s) == SIG_CLOSED) return 0;
        if (lws_frame_is_binary(wsi)) sig_session_close(c->s, 1003, "signaling messages are text frames");
        else conn_receive(c, in, len);
        sig_conn_pump(c);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c == NULL || c->s == NULL) return -1;
        return conn_write(c);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return 0; /* lws answers the close; CLOSED follows */
    case LWS_CALLBACK_CLOSED:
        if (c != NULL) conn_gone(sg, c);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* first: what a client without Sec-WebSocket-Protocol gets (Sora's SDKs send none) */
    {"signaling", cb_signaling, sizeof(sig_conn), RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int signaling_start(signaling *sg, node_ctx *node, struct media_io *media, char *err, size_t errlen) {
    memset(sg, 0, sizeof *sg);
    sg->node = node;
    sg->media = media;
    sig_session_config_default(&sg->scfg);
    sg->scfg.ping_stats = node->cfg.signaling_ping_stats; /* {"type":"ping","stats":true}: clients answer with getStats */
    struct lws_context_creation_info info;
    node_vhost_info(node, &info);
    info.port = node->cfg.signaling_port;
    info.protocols = protocols;
    info.vhost_name = "signaling";
    info.user = sg;
    sg->vhost = lws_create_vhost(node->lws, &info);
    if (sg->vhost == NULL) {
        snprintf(err, errlen, "cannot start signaling on %s:%u (address in use, or the TLS files?)",
                 node->cfg.listen_address, node->cfg.signaling_port);
        return -1;
    }
    return 0;
}

void signaling_stop(signaling *sg) {
    if (sg->node == NULL) return;
    free(sg->tx);
    sg->tx = NULL;
}
