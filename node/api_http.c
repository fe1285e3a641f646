/* api_http.c - libwebsockets HTTP glue for the API (logic in actions.c). */
#include "api_http.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "vec.h"

#define TARGET_HEADER "x-shoal-target:"

typedef struct api_session {
    struct lws *wsi;
    uint64_t pending_id;     /* != 0: waiting for this roster proposal */
    int phase;               /* 0 idle, 1 headers to write, 2 body to write */
    char target[64];
    char *body;              /* request body, at most API_MAX_BODY */
    size_t body_len;
    uint32_t body_cap;
    bool too_large;
    api_reply reply;
    unsigned char *out;      /* LWS_PRE + reply body */
    size_t out_len;
} api_session;

/* Requests waiting for a roster change to commit (few: operator actions). */
#define MAX_PENDING 64
static api_session *pending[MAX_PENDING];

static void pending_remove(api_session *ps) {
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i] == ps) pending[i] = NULL;
}

static void session_free(api_session *ps) {
    pending_remove(ps);
    free(ps->body);
    free(ps->reply.body);
    free(ps->out);
    memset(ps, 0, sizeof *ps);
}

/* Queues the reply: headers, then the body, each when writable. A reply
 * with status 0 waits for its proposal (api_http_proposal_done). */
static int respond(struct lws *wsi, api_session *ps, api_reply r) {
    if (r.status == 0) {
        for (int i = 0; i < MAX_PENDING; i++)
            if (pending[i] == NULL) {
                pending[i] = ps;
                ps->pending_id = r.pending_id;
                ps->wsi = wsi;
                lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 30);
                return 0;
            }
        r.status = 503;
        r.content_type = "application/json";
        r.body = strdup("{\"error\":\"BUSY\",\"message\":\"too many roster changes waiting\"}");
    }
    ps->reply = r;
    const char *body = r.body ? r.body : "";
    size_t len = strlen(body);
    ps->out = malloc(LWS_PRE + len + 1);
    if (ps->out == NULL) return 1;
    memcpy(ps->out + LWS_PRE, body, len);
    ps->out_len = len;
    ps->phase = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

void api_http_proposal_done(shoal_node *node, uint64_t id, const char *error) {
    for (int i = 0; i < MAX_PENDING; i++) {
        api_session *ps = pending[i];
        if (ps == NULL || ps->pending_id != id) continue;
        pending[i] = NULL;
        ps->pending_id = 0;
        lws_set_timeout(ps->wsi, NO_PENDING_TIMEOUT, 0);
        if (respond(ps->wsi, ps, actions_proposal_reply(node, error)) != 0)
            lws_set_timeout(ps->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static int write_pending(struct lws *wsi, api_session *ps) {
    if (ps->phase == 1) {
        unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
        if (lws_add_http_common_headers(wsi, (unsigned)ps->reply.status, ps->reply.content_type,
                                        ps->out_len, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        ps->phase = 2;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (ps->phase != 2) return 0;
    if (lws_write(wsi, ps->out + LWS_PRE, ps->out_len, LWS_WRITE_HTTP_FINAL) != (int)ps->out_len) return 1;
    session_free(ps);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len) {
    api_session *ps = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: /* in: the accepted descriptor; the context's user is the node_ctx */
        return node_accept_filter(lws_context_user(lws_get_context(wsi)), (int)(intptr_t)in, FD_LIMIT_API_HEADROOM);
    default: break;
    }
    shoal_node *node = lws_get_vhost_user(lws_get_vhost(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *path = in;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
            if (strcmp(path, "/") != 0)
                return respond(wsi, ps, actions_get(node, "/404"));
            int tl = lws_hdr_custom_length(wsi, TARGET_HEADER, (int)strlen(TARGET_HEADER));
            if (tl > 0 && tl < (int)sizeof ps->target)
                lws_hdr_custom_copy(wsi, ps->target, sizeof ps->target, TARGET_HEADER,
                                    (int)strlen(TARGET_HEADER));
            return 0; /* the body follows */
        }
        return respond(wsi, ps, actions_get(node, path));
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (ps->too_large || ps->body_len + len > API_MAX_BODY) {
            ps->too_large = true;
            return 0;
        }
        if (!array_grow(&ps->body, &ps->body_cap, ps->body_len + len + 1, 1)) return 1;
        memcpy(ps->body + ps->body_len, in, len);
        ps->body_len += len;
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (ps->too_large) {
            api_reply r = {.status = 413, .content_type = "application/json"};
            r.body = strdup("{\"error\":\"BODY-TOO-LARGE\",\"message\":\"at most 65536 bytes\"}");
            return respond(wsi, ps, r);
        }
        return respond(wsi, ps, actions_post(node, ps->target, ps->body, ps->body_len));
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_pending(wsi, ps);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (ps != NULL) session_free(ps); /* NULL: a TLS connection closed before its request */
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", cb_http, sizeof(api_session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}, /* terminator */
};

static void lws_log_emit(int level, const char *line) {
    fprintf(stderr, "lws[%d]: %s", level, line);
}

int api_http_start(shoal_node *node, char *err, size_t errlen) {
    lws_set_log_level(LLL_ERR, lws_log_emit);
    /* one lws context on the node's libev loop; the API and signaling are
     * its two vhosts (two ports) */
    struct lws_context_creation_info info;
    node_vhost_info(&node->ctx, &info);
    void *foreign_loops[1] = {node->ctx.loop};
    info.foreign_loops = foreign_loops;
    /* SSL initialized always: an https:// auth webhook needs it even
     * without tls_cert_file */
    info.options |= LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = &node->ctx; /* what every vhost's accept filter needs */
    node->ctx.lws = lws_create_context(&info);
    if (node->ctx.lws == NULL) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        return -1;
    }
    node_vhost_info(&node->ctx, &info);
    info.user = node; /* the API reads every part of the node */
    info.port = node->ctx.cfg.api_port;
    info.protocols = protocols;
    info.vhost_name = "api";
    if (lws_create_vhost(node->ctx.lws, &info) == NULL) {
        snprintf(err, errlen, "cannot start the HTTP API on %s:%u (address in use, or the TLS files?)",
                 node->ctx.cfg.listen_address, node->ctx.cfg.api_port);
        return -1;
    }
    return 0;
}

void api_http_stop(shoal_node *node) {
    if (node->ctx.lws) lws_context_destroy(node->ctx.lws);
    node->ctx.lws = NULL;
}
