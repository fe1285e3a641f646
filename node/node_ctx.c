/* node_ctx.c - what the node's client-facing servers share (see .h). */
#include "node_ctx.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <string.h>
#include <time.h>

#define REFUSED_LOG_MS 10000 /* at most one log line per 10 s in a flood */

int64_t node_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Closes sockets accepted when too few descriptors are left (see
 * fd_limit.h): a flood of connections is refused one by one instead of
 * driving accept() into EMFILE, where libwebsockets' loop spins. */
int node_accept_filter(node_ctx *node, int fd, uint32_t headroom) {
    if (fd_limit_accept_ok(&node->fdl, fd, headroom)) return 0;
    node->accept_refused++;
    int64_t now = node_now_ms();
    if (node->accept_refused_logged_ms == 0 || now - node->accept_refused_logged_ms >= REFUSED_LOG_MS) {
        node->accept_refused_logged_ms = now;
        shoal_log_event(&node->log, "accept_refused",
                        json_pack("{s:i, s:I, s:I, s:I}", "fd", fd, "limit", (json_int_t)node->fdl.limit, "headroom",
                                  (json_int_t)headroom, "refused_total", (json_int_t)node->accept_refused));
    }
    return 1;
}

/* No lws idle policy: lws would keep every connection in one sorted timer
 * list and re-sort it on each message (O(connections) per message, most of
 * the CPU at 10k sessions); signaling's own ping/pong times sessions out. */
static const lws_retry_bo_t no_idle_policy = {0};

void node_vhost_info(const node_ctx *node, struct lws_context_creation_info *info) {
    memset(info, 0, sizeof *info);
    info->retry_and_idle_policy = &no_idle_policy;
    info->options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info->iface = node->cfg.listen_address;
    if (node->cfg.tls_cert_file[0] != '\0') {
        info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info->ssl_cert_filepath = node->cfg.tls_cert_file;
        info->ssl_private_key_filepath = node->cfg.tls_key_file;
    }
}
