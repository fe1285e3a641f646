/* webhook.c - asynchronous HTTP(S) POST with a deadline (see .h). */
#include "webhook.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "node_ctx.h"
#include "vec.h"

struct webhook_req {
    node_ctx *node;
    struct lws *wsi;
    webhook_done_fn done;        /* NULL once answered or cancelled */
    void *ctx;
    ev_timer timer;
    char *body;                  /* LWS_PRE + the request body */
    size_t body_len;
    int status;
    char *resp;
    size_t resp_len;
    uint32_t resp_cap;
    bool connecting;             /* inside lws_client_connect_via_info */
    bool gone;                   /* lws is done with the connection */
};

static void answer(webhook_req *r, webhook_result res) {
    if (r->done == NULL) return;
    webhook_done_fn done = r->done;
    r->done = NULL;
    ev_timer_stop(r->node->loop, &r->timer);
    done(r->ctx, res, r->status, r->resp ? r->resp : "", r->resp_len);
}

static void req_free(webhook_req *r) {
    ev_timer_stop(r->node->loop, &r->timer);
    free(r->body);
    free(r->resp);
    free(r);
}

/* lws let go of the connection: answer if not yet, then free. Inside the
 * connect call nothing is answered: webhook_post does that from the loop. */
static void conn_over(webhook_req *r, webhook_result res) {
    r->wsi = NULL;
    if (r->connecting) {
        r->gone = true;
        return;
    }
    answer(r, res);
    req_free(r);
}

static int cb_webhook(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    webhook_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)"application/json",
                                         16, p, end) ||
            lws_add_http_header_content_length(wsi, r->body_len, p, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        lws_client_http_body_pending(wsi, 0);
        if (lws_write(wsi, (unsigned char *)r->body + LWS_PRE, r->body_len, LWS_WRITE_HTTP_FINAL) != (int)r->body_len)
            return -1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        r->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 2048], *px = buf + LWS_PRE;
        int n = (int)sizeof buf - LWS_PRE;
        return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (r->resp_len + len > WEBHOOK_MAX_BODY) return 0; /* the rest is ignored: the answer must be short */
        if (!array_grow(&r->resp, &r->resp_cap, r->resp_len + len + 1, 1)) return -1;
        memcpy(r->resp + r->resp_len, in, len);
        r->resp_len += len;
        r->resp[r->resp_len] = '\0';
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        answer(r, WEBHOOK_OK);
        return -1; /* one request per connection */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (r) conn_over(r, WEBHOOK_UNREACHABLE);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (r) conn_over(r, WEBHOOK_UNREACHABLE);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"webhook", cb_webhook, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int webhook_start(node_ctx *node, char *err, size_t errlen) {
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.vhost_name = "webhook";
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* https:// webhooks, verified against the system CAs */
    node->hook_vhost = lws_create_vhost(node->lws, &info);
    if (node->hook_vhost == NULL) {
        snprintf(err, errlen, "cannot create the webhook client");
        return -1;
    }
    return 0;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    webhook_req *r = w->data;
    (void)loop;
    (void)revents;
    answer(r, WEBHOOK_TIMEOUT);
    if (r->wsi) lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC); /* lws closes it: conn_over frees */
}

static void fail_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    webhook_req *r = w->data;
    (void)loop;
    (void)revents;
    answer(r, WEBHOOK_UNREACHABLE);
    req_free(r);
}

webhook_req *webhook_post(node_ctx *node, const char *url, const char *json, uint32_t timeout_ms,
                          webhook_done_fn done, void *ctx) {
    char u[WIRE_URL_MAX + 1], path[WIRE_URL_MAX + 2];
    const char *prot, *host, *p;
    int port;
    snprintf(u, sizeof u, "%s", url);
    if (lws_parse_uri(u, &prot, &host, &port, &p) != 0) return NULL;
    bool tls = strcmp(prot, "https") == 0;
    if (!tls && strcmp(prot, "http") != 0) return NULL;
    snprintf(path, sizeof path, "/%s", p);
    webhook_req *r = calloc(1, sizeof *r);
    size_t len = strlen(json);
    if (r == NULL || (r->body = malloc(LWS_PRE + len)) == NULL) {
        free(r);
        return NULL;
    }
    memcpy(r->body + LWS_PRE, json, len);
    r->body_len = len;
    r->node = node;
    r->done = done;
    r->ctx = ctx;
    ev_timer_init(&r->timer, timer_cb, (double)timeout_ms / 1000.0, 0.0);
    r->timer.data = r;
    ev_timer_start(node->loop, &r->timer);

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = node->lws;
    ci.vhost = node->hook_vhost;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.method = "POST";
    ci.protocol = protocols[0].name;
    ci.local_protocol_name = protocols[0].name;
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    ci.userdata = r;
    ci.pwsi = &r->wsi;
    r->connecting = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    r->connecting = false;
    if (wsi == NULL || r->gone) {
        /* no connection: answered from the loop, never from inside this call */
        r->wsi = NULL;
        r->gone = true;
        ev_timer_stop(node->loop, &r->timer);
        ev_timer_init(&r->timer, fail_cb, 0.0, 0.0);
        ev_timer_start(node->loop, &r->timer);
    }
    return r;
}

void webhook_cancel(webhook_req *r) {
    if (r == NULL) return;
    r->done = NULL;
    if (r->gone) return; /* fail_cb frees it */
    ev_timer_stop(r->node->loop, &r->timer);
    if (r->wsi) lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC); /* conn_over frees it */
}
